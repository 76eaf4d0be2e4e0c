/**
 * The kernel state this node converges to — what BIRD's `protocol kernel` / `protocol static` and
 * Felix's route, VXLAN, IPIP and masquerade managers program in Calico v3.32 (calico-compat.md
 * §5.5–5.7, §6.3–6.6). Pure: the dataplane diffs this against the kernel.
 *
 *  - Learned BGP routes pass BIRD's `calico_kernel_programming` filter (§5.6): service ranges are
 *    never programmed; VXLAN pools are Felix's (skipped here, computed from IPAM below); IPIP
 *    Always ⇒ via tunl0 onlink; IPIP CrossSubnet ⇒ tunl0 unless the next hop is in our subnet;
 *    anything else ⇒ a plain route via the next hop.
 *  - Blackholes for our affine blocks, any affinity state, never for host-length blocks
 *    (bird_aggr.cfg's static protocol; Felix's IPAM-block drop routes for VXLAN pools).
 *  - VXLAN routes come from IPAM, as Felix's l3_route_resolver + route_mgr + vxlan_mgr compute them:
 *    a remote block via the owner's VTEP (onlink); a host route for every address allocated by a node
 *    other than the block's owner; CrossSubnet pools with the owner in our subnet go straight to its
 *    node IP on the parent interface. A remote VTEP address that needs its own route (borrowed, or a
 *    host-length block) is a device route on vxlan.calico with no gateway — routing it via itself
 *    would loop; an address inside the owner's own block needs none (the block route covers it).
 *  - Precedence when two sources want one destination: blackhole, then Felix (VXLAN), then BGP —
 *    as BIRD's static routes outrank BGP and Felix owns VXLAN pools.
 */
import type { Resource } from '../api/meta.js';
import { IP, Prefix } from '../net/index.js';
import { NO_POLICIES } from './exports.js';
import { byPrefix, isHostLength, poolOf, readResourceFacts, serviceRanges, vxlanMac, withBlocks, type Facts, type NodeFacts } from './facts.js';
import { planPeers } from './peers.js';
import type { BlockInfo, DataplanePlan, HostFacts, IpipDevice, KernelRoute, LearnedRoute, RoutingInput, VxlanDevice } from './types.js';

export const VXLAN_DEVICE = 'vxlan.calico' as const;
export const IPIP_DEVICE = 'tunl0' as const;
const VXLAN_OVERHEAD = 50; // IPv4 VXLAN (§6.6)
const IPIP_OVERHEAD = 20;

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** A planned route with its parsed destination; `learned`: the learned prefix it comes from. */
interface Entry {
  p: Prefix;
  r: Readonly<KernelRoute>;
  learned?: string;
}

class RouteSet {
  readonly routes = new Map<string, Entry>();
  /** Adds unless the destination is already taken (callers add in precedence order). */
  add(p: Prefix, r: KernelRoute): void {
    if (!this.routes.has(r.dst)) this.routes.set(r.dst, { p, r: Object.freeze(r) });
  }
  has(dst: string): boolean {
    return this.routes.has(dst);
  }
}

const byEntry = (a: Entry, b: Entry): number => byPrefix(a.p, b.p);

/** Where `e` goes in `order` (sorted by byEntry): its index if present, else where it would be inserted. */
function search(order: readonly Entry[], e: Entry): number {
  let lo = 0;
  let hi = order.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (byEntry(order[mid]!, e) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Our own addresses: a learned route whose next hop is one of them is not programmed. */
function ownAddresses(self: NodeFacts): Set<string> {
  return new Set([self.ipv4, self.ipv6, self.vxlanTunnelAddr, self.ipipTunnelAddr].filter((a): a is string => !!a));
}

function blackholes(f: Facts, out: RouteSet): void {
  for (const { info, cidr } of f.blocks) {
    if (info.affinityHost !== f.me || isHostLength(cidr)) continue;
    out.add(cidr, { dst: cidr.toString(), type: 'blackhole' });
  }
}

/**
 * BIRD's `calico_kernel_programming` export filter (§5.6), one learned route at a time: a function
 * of the facts that changes only when they do.
 */
function learnedFilter(f: Facts, host: HostFacts): (l: LearnedRoute) => Entry | null {
  const self = f.self!;
  const own = ownAddresses(self);
  const reject = serviceRanges(f);
  const decide = (l: LearnedRoute): { p: Prefix; r: KernelRoute } | null => {
    const p = Prefix.tryParse(l.prefix);
    const nh = IP.tryParse(l.nextHop);
    if (!p || !nh || own.has(nh.toString())) return null;
    if (reject.some((r) => r.containsPrefix(p))) return null;
    const dst = p.toString();
    const gateway = nh.toString();
    const pool = poolOf(f, p);
    if (pool && pool.vxlanMode !== 'Never') return null; // Felix programs VXLAN pools
    // BIRD only sets krt_tunnel when it knows our subnet (confd omits the pool statements otherwise).
    if (pool && p.version === 4 && self.ipv4Net && pool.ipipMode !== 'Never') {
      const sameSubnet = pool.ipipMode === 'CrossSubnet' && self.ipv4Net.contains(nh);
      return { p, r: sameSubnet ? { dst, type: 'unicast', gateway, dev: host.iface } : { dst, type: 'unicast', gateway, dev: IPIP_DEVICE, onlink: true } };
    }
    return { p, r: { dst, type: 'unicast', gateway } };
  };
  // The verdict depends on (prefix, next hop) and the facts only: every pass re-plans every learned route, so
  // each is judged once per snapshot (parsing and pool lookups were most of a pass at 50 routes).
  const memo = new Map<string, Entry | null>();
  return (l) => {
    if (l.from === 'local') return null;
    const key = `${l.prefix} ${l.nextHop}`;
    let v = memo.get(key);
    if (v === undefined) {
      const d = decide(l);
      // Frozen: plans share it (one route object per verdict, not a copy per pass).
      v = d && { p: d.p, r: Object.freeze(d.r), learned: l.prefix };
      if (memo.size >= LEARNED_MEMO_MAX) memo.clear();
      memo.set(key, v);
    }
    return v;
  };
}

/** Bound on the learned-route verdicts one planner keeps (a route table far beyond a cluster's blocks). */
const LEARNED_MEMO_MAX = 65_536;

/** Felix's VXLAN enablement: FelixConfiguration vxlanEnabled, else any IPv4 pool with VXLAN (encapsulation_resolver.go). */
function vxlanWanted(f: Facts): boolean {
  const forced = f.felix('vxlanEnabled');
  if (typeof forced === 'boolean') return forced;
  return f.pools.some((p) => p.cidr.version === 4 && p.vxlanMode !== 'Never');
}

function ipipWanted(f: Facts): boolean {
  const forced = f.felix('ipipEnabled');
  if (typeof forced === 'boolean') return forced;
  return f.pools.some((p) => p.cidr.version === 4 && p.ipipMode !== 'Never');
}

function vxlanDevice(f: Facts, host: HostFacts): VxlanDevice | undefined {
  const self = f.self!;
  if (!vxlanWanted(f) || !self.vxlanTunnelAddr || !self.ipv4) return undefined;
  return {
    name: VXLAN_DEVICE,
    vni: num(f.felix('vxlanVNI')) ?? 4096,
    port: num(f.felix('vxlanPort')) ?? 4789,
    mac: self.vxlanMac ?? vxlanMac(f.me),
    localIP: self.ipv4,
    parent: host.iface,
    address: self.vxlanTunnelAddr,
    mtu: num(f.felix('vxlanMTU')) || host.mtu - VXLAN_OVERHEAD,
    // vxlan_resolver.go: a VTEP needs both the tunnel address and the node's IPv4 (the FDB destination).
    peers: f.nodeList
      .filter((n) => n.name !== f.me && n.vxlanTunnelAddr && n.ipv4)
      .map((n) => ({ nodeName: n.name, tunnelIP: n.vxlanTunnelAddr!, mac: n.vxlanMac ?? vxlanMac(n.name), nodeIP: n.ipv4! })),
  };
}

/** Felix's VXLAN routes from IPAM (l3_route_resolver.go flush + route_mgr.go + vxlan_mgr.go tunnelRoute). */
function vxlanRoutes(f: Facts, host: HostFacts, out: RouteSet): void {
  const self = f.self!;
  const route = (dst: Prefix, owner: string, crossSubnet: boolean) => {
    const n = f.nodes.get(owner);
    const d = dst.toString();
    // noEncapRoute first: CrossSubnet pool and the owner's IP inside our subnet (needs only its node IP).
    if (crossSubnet && n?.ipv4 && self.ipv4Net) {
      const nodeAddr = IP.parse(n.ipv4);
      if (self.ipv4Net.contains(nodeAddr)) {
        out.add(dst, { dst: d, type: 'unicast', gateway: n.ipv4, dev: host.iface, onlink: true });
        return;
      }
    }
    if (!n?.vxlanTunnelAddr || !n.ipv4) return; // no VTEP known for the owner: Felix has no route either
    if (isHostLength(dst) && dst.ip.toString() === n.vxlanTunnelAddr) {
      out.add(dst, { dst: d, type: 'unicast', dev: VXLAN_DEVICE }); // remote tunnel / borrowed tunnel IP
      return;
    }
    out.add(dst, { dst: d, type: 'unicast', gateway: n.vxlanTunnelAddr, dev: VXLAN_DEVICE, onlink: true });
  };
  for (const { info, cidr } of f.blocks) {
    const pool = poolOf(f, cidr);
    if (!pool || cidr.version !== 4 || pool.vxlanMode === 'Never') continue;
    const cross = pool.vxlanMode === 'CrossSubnet';
    if (info.affinityHost && info.affinityHost !== f.me) route(cidr, info.affinityHost, cross);
    // model.AllocationBlock.NonAffineAllocations: allocations whose node is not the block's owner.
    for (const a of info.allocations) {
      if (!a.node || a.node === info.affinityHost || a.node === f.me) continue;
      const ip = IP.tryParse(a.ip);
      if (!ip || !cidr.contains(ip)) continue;
      route(Prefix.of(ip, ip.bits), a.node, cross);
    }
  }
}

function ipipDevice(f: Facts, host: HostFacts): IpipDevice | undefined {
  const self = f.self!;
  if (!ipipWanted(f) || !self.ipipTunnelAddr) return undefined;
  return { name: IPIP_DEVICE, address: self.ipipTunnelAddr, mtu: num(f.felix('ipipMTU')) || host.mtu - IPIP_OVERHEAD };
}

/** bird_aggr.cfg: `route <peerIP>/32 via <reachableBy>;` for each of our peers with reachableBy. */
function reachableByRoutes(f: Facts, bgpPeers: readonly Resource[], out: RouteSet): void {
  for (const p of planPeers(f, bgpPeers, undefined, NO_POLICIES)) {
    if (!p.reachableBy) continue;
    const ip = IP.parse(p.address);
    const dst = Prefix.of(ip, ip.bits);
    out.add(dst, { dst: dst.toString(), type: 'unicast', gateway: IP.parse(p.reachableBy).toString() });
  }
}

export function planDataplane(input: RoutingInput, learned: readonly LearnedRoute[], host: HostFacts): DataplanePlan {
  return dataplanePlanner(input, host)(learned);
}

/**
 * The agent's kernel planner (dataplanePlanner): the whole plan from every learned route, and `update`, the
 * same plan after only some learned prefixes changed — what every host does for every pod block in the
 * cluster, in time proportional to the change rather than to the cluster.
 */
export interface DataplanePlanner {
  (learned: Iterable<LearnedRoute>): DataplanePlan;
  /**
   * The plan after the learned routes of `changed` prefixes moved (`learned` holds every learned route by
   * prefix), relative to the plan of the previous call, and the destinations whose route differs (undefined:
   * no route any more) — those of `setBlocks` since then included. Undefined when it cannot tell — no
   * previous call, or a prefix not in canonical form — and the caller plans in full.
   */
  update(learned: ReadonlyMap<string, LearnedRoute>, changed: Iterable<string>): { plan: DataplanePlan; changes: Map<string, Readonly<KernelRoute> | undefined> } | undefined;
  /**
   * The IPAM blocks are now these, nothing else in the input changed (a pod's block came or went, here or
   * elsewhere): the routes they decide — blackholes, VXLAN routes — are worked out again, and the next call
   * plans with them; the next `update` reports the destinations they moved. `learned` as for `update`.
   */
  setBlocks(blocks: readonly BlockInfo[], learned: ReadonlyMap<string, LearnedRoute>): void;
}

/**
 * planDataplane in two steps, for the agent: everything that depends only on the datastore (facts,
 * blackholes, VXLAN, reachableBy routes, NAT) is worked out once; the function returned adds the
 * learned routes. A route learned somewhere in the cluster — what every host sees for every pod
 * block — then costs the filter and a sort, not a re-read of every node, pool, block and peering;
 * and through `update`, a lookup and an insertion. A new block (`setBlocks`) re-reads the blocks only.
 * Plans share their route objects, which are frozen.
 */
export function dataplanePlanner(input: RoutingInput, host: HostFacts): DataplanePlanner {
  const resources = readResourceFacts(input);
  const f = withBlocks(resources, input.blocks);
  const byCidr = (a: { cidr: Prefix }, b: { cidr: Prefix }) => byPrefix(a.cidr, b.cidr);
  const pools = [...f.pools].sort(byCidr);
  // Felix masquerades every pool with natOutgoing — disabled ones too (a draining pool still has workloads).
  const nat = { masquerade: pools.filter((p) => p.natOutgoing).map((p) => p.cidr.toString()), pools: pools.map((p) => p.cidr.toString()) };
  if (!f.self) {
    const empty = () => ({ routes: [], nat: { masquerade: [...nat.masquerade], pools: [...nat.pools] } });
    return Object.assign(empty, { update: () => ({ plan: empty(), changes: new Map<string, KernelRoute | undefined>() }), setBlocks: () => {} });
  }

  const vxlan = vxlanDevice(f, host);
  const reachable = new RouteSet();
  reachableByRoutes(f, input.bgpPeers, reachable);
  // The routes the datastore decides, in precedence order: blackholes, VXLAN (both from the blocks), reachableBy.
  const baseOf = (fb: Facts): RouteSet => {
    const out = new RouteSet();
    blackholes(fb, out);
    if (vxlan) vxlanRoutes(fb, host, out);
    for (const e of reachable.routes.values()) out.add(e.p, e.r);
    return out;
  };
  let base = baseOf(f);
  const ipip = ipipDevice(f, host);
  const filter = learnedFilter(f, host);
  // Fresh containers each time (a caller may keep or change a plan without touching the next one); the
  // route objects in them are shared and frozen.
  const planOf = (order: readonly Entry[]): DataplanePlan => {
    const plan: DataplanePlan = { routes: order.map((e) => e.r as KernelRoute), nat: { masquerade: [...nat.masquerade], pools: [...nat.pools] } };
    if (vxlan) plan.vxlan = { ...vxlan, peers: vxlan.peers.map((p) => ({ ...p })) };
    if (ipip) plan.ipip = { ...ipip };
    return plan;
  };
  // The previous call's result: routes by destination (each learned one keyed by its own prefix, which `update`
  // checks), and the same sorted. Undefined until a full plan, and after `update` met what it cannot do.
  let byDst: Map<string, Entry> | undefined;
  let order: Entry[] = [];
  // Destinations setBlocks moved since the previous call.
  let moved = new Map<string, Readonly<KernelRoute> | undefined>();
  // Whether every learned route the last full plan accepted is keyed by its route's destination, as the
  // speaker's are: setBlocks finds the learned route to a destination by that key.
  let canonical = true;
  const full = (learned: Iterable<LearnedRoute>): DataplanePlan => {
    moved = new Map();
    canonical = true;
    byDst = new Map(base.routes);
    for (const l of learned) {
      const e = filter(l);
      if (!e) continue;
      if (e.r.dst !== l.prefix) canonical = false;
      if (!byDst.has(e.r.dst)) byDst.set(e.r.dst, e);
    }
    order = [...byDst.values()].sort(byEntry);
    return planOf(order);
  };
  const fail = (): undefined => {
    byDst = undefined;
    return undefined;
  };
  /** Puts `e` (undefined: nothing) at `dst` in the plan; false when the plan does not hold what it should. */
  const place = (dst: string, had: Entry | undefined, e: Entry | undefined): boolean => {
    if (had) {
      const i = search(order, had);
      if (order[i] !== had) return false;
      order.splice(i, 1);
    }
    if (e) {
      byDst!.set(dst, e);
      order.splice(search(order, e), 0, e);
    } else byDst!.delete(dst);
    return true;
  };
  const update: DataplanePlanner['update'] = (learned, changed) => {
    if (byDst === undefined) return undefined;
    const changes = moved;
    moved = new Map();
    for (const prefix of changed) {
      const l = learned.get(prefix);
      const e = l ? filter(l) : null;
      const had = byDst.get(prefix);
      // Another spelling of one destination: only a full plan says which of them wins.
      if ((e && e.r.dst !== prefix) || (had?.learned !== undefined && had.learned !== prefix)) return fail();
      if (had && had.learned === undefined) continue; // a blackhole, VXLAN or reachableBy route outranks it
      if (had === undefined ? e === null : e !== null && had.r === e.r) continue; // nothing differs
      if (!place(prefix, had, e ?? undefined)) return fail();
      changes.set(prefix, e?.r);
    }
    return { plan: planOf(order), changes };
  };
  const setBlocks: DataplanePlanner['setBlocks'] = (blocks, learned) => {
    const before = base;
    base = baseOf(withBlocks(resources, blocks));
    for (const [dst, e] of base.routes) {
      const old = before.routes.get(dst);
      // The same route as before keeps its object (plans share them; `update` compares them by identity).
      if (old && sameRoute(old.r, e.r)) base.routes.set(dst, old);
    }
    if (byDst === undefined) return; // the next call plans in full, with the new routes
    if (!canonical) {
      fail();
      return;
    }
    for (const dst of new Set([...before.routes.keys(), ...base.routes.keys()])) {
      const now = base.routes.get(dst);
      if (now !== undefined && now === before.routes.get(dst)) continue;
      // No datastore route here any more: the learned route to it, if any, takes the place.
      const l = now ? undefined : learned.get(dst);
      const e = now ?? (l ? filter(l) : null) ?? undefined;
      if (e && e.r.dst !== dst) {
        fail();
        return;
      }
      const had = byDst.get(dst);
      if (had === e) continue;
      if (!place(dst, had, e)) {
        fail();
        return;
      }
      moved.set(dst, e?.r);
    }
  };
  return Object.assign(full, { update, setBlocks });
}

/** Whether two planned routes say the same (every field). */
function sameRoute(a: Readonly<KernelRoute>, b: Readonly<KernelRoute>): boolean {
  const ka = Object.keys(a) as (keyof KernelRoute)[];
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}
