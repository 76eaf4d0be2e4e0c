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
import { PolicyBook, originatedRoutes } from './exports.js';
import { BGP_PORT, hashRouterId, nodeAs, nodeListenPort, readFacts, type Facts } from './facts.js';
import { planPeers } from './peers.js';
import type { OriginatedRoute } from '../bgp/speaker.js';
import type { BgpPlan, RoutingInput } from './types.js';

export { planDataplane, dataplanePlanner } from './kernel.js';
export { vxlanMac, hashRouterId } from './facts.js';

export function planBgp(input: RoutingInput): BgpPlan {
  const f = readFacts(input);
  const why = bgpOff(f, input.nodeName);
  if (why !== undefined) {
    return {
      enabled: false,
      routerId: '',
      asNumber: f.self ? nodeAs(f, f.self) : f.globalAs,
      listen: { port: BGP_PORT },
      peers: [],
      originated: [],
      warnings: unique([...f.warnings, why]),
    };
  }
  const self = f.self!; // bgpOff found it

  // Router id (§5.2): CALICO_ROUTER_ID, `hash` ⇒ derived from the name, else the node's IPv4.
  let routerId: string;
  const env = input.routerIdEnv;
  if (env === 'hash') routerId = hashRouterId(input.nodeName);
  else if (env && IP.tryParse(env)?.version === 4) routerId = env;
  else {
    if (env) f.warnings.push(`CALICO_ROUTER_ID ${JSON.stringify(env)} is not an IPv4 address; ignored`);
    if (self.ipv4) routerId = self.ipv4;
    else {
      // BIRD needs a 4-octet id even for IPv6; Calico then requires CALICO_ROUTER_ID=hash.
      routerId = hashRouterId(input.nodeName);
      f.warnings.push(`node ${input.nodeName} has no IPv4 address: router id ${routerId} derived from the node name (as CALICO_ROUTER_ID=hash)`);
    }
  }

  const listen: BgpPlan['listen'] = { port: nodeListenPort(f, input.nodeName) ?? BGP_PORT };
  if (f.bindMode === 'NodeIP') listen.address = (self.ipv4 ?? self.ipv6)!;

  const peers = planPeers(f, input.bgpPeers, input.secret, new PolicyBook(f, input.bgpFilters));
  if (peers.length === 0) {
    const others = f.nodeList.filter((n) => n.name !== f.me && (n.ipv4 || n.ipv6));
    if (!f.meshEnabled) f.warnings.push(`node ${f.me} has no BGP peers: the node-to-node mesh is off and no BGPPeer selects it`);
    else if (self.rrClusterId) f.warnings.push(`node ${f.me} has no BGP peers: it is a route reflector (not in the mesh) and no BGPPeer selects it`);
    else if (others.length > 0) f.warnings.push(`node ${f.me} has no BGP peers: every other node is a route reflector and no BGPPeer selects it`);
  }

  const plan: BgpPlan = {
    enabled: true,
    routerId,
    asNumber: nodeAs(f, self),
    listen,
    peers,
    originated: originatedRoutes(f),
    warnings: [],
  };
  if (self.rrClusterId) plan.clusterId = self.rrClusterId;
  plan.warnings = unique(f.warnings);
  return plan;
}

/**
 * The routes `planBgp` would originate, without planning the sessions: for a change that can move only these
 * (a pod's new block), so the agent can hand them to the speaker before it plans the rest. Undefined when BGP
 * would be off (the node missing or without an address).
 */
export function planOriginated(input: RoutingInput): OriginatedRoute[] | undefined {
  const f = readFacts(input);
  return bgpOff(f, input.nodeName) === undefined ? originatedRoutes(f) : undefined;
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
