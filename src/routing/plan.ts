/**
 * The routing plan for one node: pure functions from resources + IPAM facts to
 *  - `planBgp`: the BGP speaker's desired configuration (confd's bird.cfg / bird_ipam.cfg /
 *    bird_aggr.cfg, calico-compat.md §5), and
 *  - `planDataplane`: the kernel state (BIRD's kernel protocol + Felix, §5.6, §6).
 * The pieces live in `facts.ts` (resources → facts), `peers.ts` (sessions), `exports.ts`
 * (policies, originated routes) and `kernel.ts` (routes, devices, NAT).
 *
 * Both families come out of one plan: IPv4 sessions carry IPv4 only and IPv6 sessions IPv6 only,
 * as Calico's separate bird / bird6 daemons do.
 */
import { IP } from '../net/index.js';
import type { PolicyDefinition } from '../bgp/policy.js';
import type { OriginatedRoute } from '../bgp/speaker.js';
import { PolicyBook, originatedRoutes, type PolicySource } from './exports.js';
import { BGP_PORT, hashRouterId, nodeAs, nodeListenPort, readResourceFacts, withBlocks, type Facts, type Fam } from './facts.js';
import { planPeers } from './peers.js';
import type { BgpPlan, BlockInfo, PlannedPeer, RoutingInput } from './types.js';

export { planDataplane, dataplanePlanner } from './kernel.js';
export { vxlanMac, hashRouterId } from './facts.js';

export function planBgp(input: RoutingInput): BgpPlan {
  return bgpPlanner(input)(input.blocks);
}

/**
 * planBgp in two steps, for the agent: everything that depends only on the resources — the router id, the
 * sessions, the selectors they evaluate — is worked out once; the function returned takes the IPAM blocks,
 * which move with every pod block this node gains or loses (they change the routes it originates and the
 * export policies that name its blocks, calico_aggr). `originated` is the first half of that on its own: the
 * routes, without the sessions, for the agent to hand to the speaker before it plans the rest.
 */
export interface BgpPlanner {
  /** (Blocks are not changed in place: the same array as the call before means the same blocks.) */
  (blocks: readonly BlockInfo[]): BgpPlan;
  originated(blocks: readonly BlockInfo[]): OriginatedRoute[] | undefined;
}

export function bgpPlanner(input: Omit<RoutingInput, 'blocks'>): BgpPlanner {
  const base = readResourceFacts(input);
  const why = bgpOff(base, input.nodeName);
  if (why !== undefined) {
    const off = (blocks: readonly BlockInfo[]): BgpPlan => ({
      enabled: false,
      routerId: '',
      asNumber: base.self ? nodeAs(base, base.self) : base.globalAs,
      listen: { port: BGP_PORT },
      peers: [],
      originated: [],
      warnings: unique([...withBlocks(base, blocks).warnings, why]),
    });
    return Object.assign(off, { originated: () => undefined });
  }
  const self = base.self!; // bgpOff found it

  // Router id (§5.2): CALICO_ROUTER_ID, `hash` ⇒ derived from the name, else the node's IPv4.
  let routerId: string;
  const env = input.routerIdEnv;
  if (env === 'hash') routerId = hashRouterId(input.nodeName);
  else if (env && IP.tryParse(env)?.version === 4) routerId = env;
  else {
    if (env) base.warnings.push(`CALICO_ROUTER_ID ${JSON.stringify(env)} is not an IPv4 address; ignored`);
    if (self.ipv4) routerId = self.ipv4;
    else {
      // BIRD needs a 4-octet id even for IPv6; Calico then requires CALICO_ROUTER_ID=hash.
      routerId = hashRouterId(input.nodeName);
      base.warnings.push(`node ${input.nodeName} has no IPv4 address: router id ${routerId} derived from the node name (as CALICO_ROUTER_ID=hash)`);
    }
  }

  const listen: BgpPlan['listen'] = { port: nodeListenPort(base, input.nodeName) ?? BGP_PORT };
  if (base.bindMode === 'NodeIP') listen.address = (self.ipv4 ?? self.ipv6)!;

  // The sessions with stand-ins for their policies, which the blocks decide: each call puts in its own.
  const slots = new PolicySlots();
  const sessions = planPeers(base, input.bgpPeers, input.secret, slots);
  if (sessions.length === 0) {
    const others = base.nodeList.filter((n) => n.name !== base.me && (n.ipv4 || n.ipv6));
    if (!base.meshEnabled) base.warnings.push(`node ${base.me} has no BGP peers: the node-to-node mesh is off and no BGPPeer selects it`);
    else if (self.rrClusterId) base.warnings.push(`node ${base.me} has no BGP peers: it is a route reflector (not in the mesh) and no BGPPeer selects it`);
    else if (others.length > 0) base.warnings.push(`node ${base.me} has no BGP peers: every other node is a route reflector and no BGPPeer selects it`);
  }

  // The agent asks for the originated routes of a set of blocks, then for the plan of the same set: worked out once.
  let last: { blocks: readonly BlockInfo[]; routes: OriginatedRoute[] } | undefined;
  const originated = (blocks: readonly BlockInfo[], f?: Facts): OriginatedRoute[] => {
    if (last?.blocks !== blocks) last = { blocks, routes: originatedRoutes(f ?? withBlocks(base, blocks)) };
    return last.routes;
  };
  const plan = (blocks: readonly BlockInfo[]): BgpPlan => {
    const f = withBlocks(base, blocks);
    const book = new PolicyBook(f, input.bgpFilters);
    const p: BgpPlan = {
      enabled: true,
      routerId,
      asNumber: nodeAs(f, self),
      listen: { ...listen },
      peers: sessions.map((s) => slots.bind(s, book)),
      originated: originated(blocks, f),
      warnings: [],
    };
    if (self.rrClusterId) p.clusterId = self.rrClusterId;
    p.warnings = unique(f.warnings);
    return p;
  };
  return Object.assign(plan, { originated: (blocks: readonly BlockInfo[]) => originated(blocks) });
}

/** Stand-in policies that remember what they stand for (family, filters), and a session with the real ones. */
class PolicySlots implements PolicySource {
  private readonly slots = new Map<PolicyDefinition, { dir: 'import' | 'export'; fam: Fam; filters: readonly string[] }>();

  importPolicy(fam: Fam, filters: readonly string[]): PolicyDefinition {
    return this.slot('import', fam, filters);
  }

  exportPolicy(fam: Fam, filters: readonly string[]): PolicyDefinition {
    return this.slot('export', fam, filters);
  }

  private slot(dir: 'import' | 'export', fam: Fam, filters: readonly string[]): PolicyDefinition {
    const def: PolicyDefinition = { rules: [] };
    this.slots.set(def, { dir, fam, filters: [...filters] });
    return def;
  }

  bind(peer: PlannedPeer, book: PolicySource): PlannedPeer {
    const out = { ...peer };
    const real = (def: PolicyDefinition | undefined) => {
      const s = def && this.slots.get(def);
      if (!s) return def;
      return s.dir === 'import' ? book.importPolicy(s.fam, s.filters) : book.exportPolicy(s.fam, s.filters);
    };
    // Import first, as planPeers asks: a missing BGPFilter's warning comes out in the same order.
    const imp = real(peer.import);
    const exp = real(peer.export);
    if (imp) out.import = imp;
    if (exp) out.export = exp;
    return out;
  }
}

/** Why BGP is off on this node (it is missing, or has no address), or undefined when it is on. */
function bgpOff(f: Facts, nodeName: string): string | undefined {
  if (!f.self) return `node ${nodeName} not found: BGP is off`;
  if (!f.self.ipv4 && !f.self.ipv6) return `node ${nodeName} has no IPv4 or IPv6 address: BGP is off`;
  return undefined;
}

function unique(list: string[]): string[] {
  return [...new Set(list)];
}
