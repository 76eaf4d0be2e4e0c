/**
 * Which BGP sessions this node has (calico-compat.md §5.2, §5.3), following confd v3.32:
 * `client.go updatePeersV1` (which BGPPeers become peerings for which node) and
 * `bgp_processor.go` (mesh, names, passive, route-reflector and per-peer fields).
 *
 * Order of emission matters because the first peering for a key wins:
 *   1. global BGPPeers (no node, no nodeSelector), then node-specific ones — a node-specific
 *      peering is dropped when a global one to the same ip:port exists;
 *   2. then the automatic reverse peerings (unless reversePeering: Manual).
 * Calico iterates Go maps here, so "first" is random among conflicting BGPPeers; we iterate
 * BGPPeers and nodes sorted by name, so the answer is at least stable.
 *
 * Quirks kept from confd, on purpose:
 *  - Mesh sessions: we are passive when OUR IP string sorts before THEIRS (string compare).
 *  - Explicit `peerIP` peers never carry the remote node's rr_cluster_id, so on a route
 *    reflector a peerIP session to another RR of the same AS is an `rr client` — only
 *    peerSelector / reverse peerings know the remote cluster id.
 *  - Only `peerIP` peers whose IP is some node's IP are "calico nodes" for passivity, and only
 *    Global ones are made passive (when the remote IP string is greater than ours).
 *  - peerSelector / reverse peerings ignore localASNumber and numAllowedLocalASNumbers.
 *  - keepOriginalNextHop only counts when nextHopMode is unset, and only towards eBGP.
 *  - A peer name gets `_port_<p>` whenever a port is known (explicit, or inherited from a
 *    configured listenPort — even 179), while the dedupe key treats 179 like "no port".
 */
import type { Resource } from '../api/meta.js';
import { IP, parseIPPort } from '../net/index.js';
import type { PlannedPeer, PeerType } from './types.js';
import type { PolicySource } from './exports.js';
import { BGP_PORT, durationSeconds, nodeAs, nodeIP, nodeListenPort, parseAs, type Facts, type Fam, type NodeFacts, type SecretRef, Selectors } from './facts.js';

export type SecretResolver = ((ref: SecretRef) => string | undefined) | undefined;

/** A peering before it is turned into a session (confd's `bgpPeer` JSON). */
interface Candidate {
  fam: Fam;
  ip: string;
  /** 0 = none given (BIRD's 179). */
  port: number;
  asNumber: number;
  localAs?: number;
  rrClusterId: string;
  /** confd `calico_node`: the peerIP is some node's IP (drives passivity of Global peers). */
  isNodeIP: boolean;
  nodeName?: string;
  sourceAddr: string;
  keepNextHop: boolean;
  nextHopMode: string;
  ttlSecurity: number;
  filters: string[];
  allowLocalAs: number;
  reachableBy?: string;
  password?: string;
  restartTime?: number;
  keepaliveTime?: number;
}

interface Ctx {
  f: Facts;
  sel: Selectors;
  secret: SecretResolver;
  policies: PolicySource;
  bgpPeers: readonly Resource[];
}

const specOf = (r: Resource): Record<string, any> => (r.spec ?? {}) as Record<string, any>;
const ipName = (ip: string, fam: Fam) => (fam === 4 ? ip.replaceAll('.', '_') : ip.replaceAll(':', '_'));
/** model.combineIPAndPort: 0 and 179 are the same key. */
const peerKey = (ip: string, port: number) => `${ip}|${port === BGP_PORT ? 0 : port}`;

function nodesMatching(ctx: Ctx, selector: string, owner: string): NodeFacts[] {
  return ctx.f.nodeList.filter((n) => ctx.sel.matches(selector, n.labels, owner));
}

/**
 * confd `nodesWithIPPortAndAS`: nodes whose IP is `ip`, whose AS is `as` (0 ⇒ global), and — when a port is
 * given — whose listen port agrees. The port test is confd's, quirk included: a node-level port equal to `port`
 * still fails when a different global listenPort is set.
 */
function nodesWithIPPortAndAS(f: Facts, ip: string, as: number, port: number): NodeFacts[] {
  const want = as === 0 ? f.globalAs : as;
  return f.nodeList.filter((n) => {
    if (n.ipv4 !== ip && n.ipv6 !== ip) return false;
    if (nodeAs(f, n) !== want) return false;
    if (port !== 0) {
      const np = f.nodeListenPorts.get(n.name);
      if (np !== undefined && np !== port) return false;
      if (f.globalListenPort !== undefined && f.globalListenPort !== port) return false;
    }
    return true;
  });
}

/** confd `getNextHopMode`: nextHopMode wins; keepOriginalNextHop only when it is unset. */
function nextHop(s: Record<string, any>): { keepNextHop: boolean; nextHopMode: string } {
  if (typeof s.nextHopMode === 'string') return { keepNextHop: false, nextHopMode: s.nextHopMode };
  return { keepNextHop: s.keepOriginalNextHop === true, nextHopMode: '' };
}

/** confd `setPeerConfigFieldsFromV3Resource`: password, source address, restart and keepalive times. */
function commonFields(ctx: Ctx, bp: Resource, c: Candidate): Candidate {
  const s = specOf(bp);
  const ref = s.password?.secretKeyRef;
  if (ref?.name && ref?.key) {
    const pw = ctx.secret?.({ name: ref.name, key: ref.key });
    if (pw) c.password = pw;
    else ctx.f.warnings.push(`BGPPeer ${bp.metadata.name}: cannot read password secret ${ref.name}/${ref.key}; peering without a password`);
  }
  c.sourceAddr = typeof s.sourceAddress === 'string' && s.sourceAddress !== '' ? s.sourceAddress : 'UseNodeIP';
  const rt = durationSeconds(s.maxRestartTime);
  if (rt !== undefined) c.restartTime = rt;
  const ka = durationSeconds(s.keepaliveTime);
  if (ka !== undefined) c.keepaliveTime = ka;
  return c;
}

/** confd `nodeAsBGPPeers`: a Calico node as the remote end (peerSelector, reverse peerings). */
function nodeAsPeers(ctx: Ctx, n: NodeFacts, fams: readonly Fam[], bp: Resource): Candidate[] {
  const s = specOf(bp);
  const out: Candidate[] = [];
  for (const fam of fams) {
    const ip = nodeIP(n, fam);
    if (!ip) continue;
    const c: Candidate = {
      fam,
      ip,
      port: nodeListenPort(ctx.f, n.name) ?? 0,
      asNumber: nodeAs(ctx.f, n),
      rrClusterId: n.rrClusterId,
      isNodeIP: false,
      nodeName: n.name,
      sourceAddr: 'UseNodeIP',
      ...nextHop(s),
      ttlSecurity: typeof s.ttlSecurity === 'number' ? s.ttlSecurity : 0,
      filters: Array.isArray(s.filters) ? s.filters : [],
      allowLocalAs: 0,
    };
    if (typeof s.reachableBy === 'string' && s.reachableBy !== '') c.reachableBy = s.reachableBy;
    out.push(commonFields(ctx, bp, c));
  }
  return out;
}

/** A BGPPeer with `peerIP` (updatePeersV1's else-branch). */
function peerIPPeer(ctx: Ctx, bp: Resource): Candidate | undefined {
  const s = specOf(bp);
  const f = ctx.f;
  const where = `BGPPeer ${bp.metadata.name}`;
  let parsed;
  try {
    parsed = parseIPPort(String(s.peerIP ?? ''));
  } catch {
    f.warnings.push(`${where}: peerIP ${JSON.stringify(s.peerIP)} is not IP or IP:port; ignored`);
    return undefined;
  }
  const ip = parsed.ip.toString();
  const fam: Fam = parsed.ip.version;
  const as = s.asNumber === undefined ? 0 : (parseAs(s.asNumber) ?? -1);
  if (as <= 0) {
    f.warnings.push(`${where}: peerIP ${ip} needs a valid asNumber; ignored`);
    return undefined;
  }
  let port = parsed.port ?? 0;
  const sameNodes = nodesWithIPPortAndAS(f, ip, as, 0);
  if (port === 0 && sameNodes.length > 0) port = nodeListenPort(f, sameNodes[0]!.name) ?? 0;
  const nodeWithIP = sameNodes[0] ?? f.nodeList.find((n) => n.ipv4 === ip || n.ipv6 === ip);
  const c: Candidate = {
    fam,
    ip,
    port,
    asNumber: as,
    rrClusterId: '',
    isNodeIP: nodeWithIP !== undefined,
    sourceAddr: 'UseNodeIP',
    ...nextHop(s),
    ttlSecurity: typeof s.ttlSecurity === 'number' ? s.ttlSecurity : 0,
    filters: Array.isArray(s.filters) ? s.filters : [],
    allowLocalAs: typeof s.numAllowedLocalASNumbers === 'number' ? s.numAllowedLocalASNumbers : 0,
  };
  if (nodeWithIP) c.nodeName = nodeWithIP.name;
  if (s.localASNumber !== undefined && s.localASNumber !== null) {
    const l = parseAs(s.localASNumber);
    if (l) c.localAs = l;
  }
  if (typeof s.reachableBy === 'string' && s.reachableBy !== '') {
    const gw = IP.tryParse(s.reachableBy);
    if (!gw || gw.version !== fam) {
      f.warnings.push(`${where}: reachableBy ${JSON.stringify(s.reachableBy)} is not an address of the peerIP's family; ignored`);
      return undefined;
    }
    c.reachableBy = s.reachableBy;
  }
  return commonFields(ctx, bp, c);
}

/** Every explicit peering this node gets, keyed and de-duplicated as updatePeersV1 does. */
function explicitPeerings(ctx: Ctx): { type: PeerType; c: Candidate }[] {
  const f = ctx.f;
  const me = f.me;
  const bgpPeers = [...ctx.bgpPeers].sort((a, b) => {
    const x = a.metadata.name ?? '';
    const y = b.metadata.name ?? '';
    return x < y ? -1 : x > y ? 1 : 0;
  });
  const globalKeys = new Set<string>();
  const nodeKeys = new Set<string>();
  const out: { type: PeerType; c: Candidate }[] = [];
  const emit = (c: Candidate, global: boolean) => {
    const k = peerKey(c.ip, c.port);
    if (global) {
      if (globalKeys.has(k)) return;
      globalKeys.add(k);
    } else {
      if (nodeKeys.has(k) || globalKeys.has(k)) return;
      nodeKeys.add(k);
    }
    out.push({ type: global ? 'Global' : 'Node', c });
  };
  const localNames = (s: Record<string, any>, owner: string): string[] | 'all' =>
    s.nodeSelector ? nodesMatching(ctx, s.nodeSelector, owner).map((n) => n.name) : s.node ? [s.node] : 'all';

  for (const globalPass of [true, false]) {
    for (const bp of bgpPeers) {
      const s = specOf(bp);
      const owner = `BGPPeer ${bp.metadata.name}`;
      if (globalPass !== (!s.nodeSelector && !s.node)) continue;
      if (s.localWorkloadSelector) continue; // local-workload peering: not supported (warned below)
      if (!globalPass) {
        const locals = localNames(s, owner);
        if (locals !== 'all' && !locals.includes(me)) continue;
      }
      const cands = s.peerSelector
        ? nodesMatching(ctx, s.peerSelector, owner).flatMap((n) => nodeAsPeers(ctx, n, [4, 6], bp))
        : [peerIPPeer(ctx, bp)].filter((c): c is Candidate => c !== undefined);
      for (const c of cands) emit(c, globalPass);
    }
  }

  // Reverse peerings: we are on the REMOTE side of the BGPPeer; peer back to its local side.
  for (const bp of bgpPeers) {
    const s = specOf(bp);
    const owner = `BGPPeer ${bp.metadata.name}`;
    if (s.reversePeering === 'Manual' || s.localWorkloadSelector) continue;
    let remote: NodeFacts[];
    let fams: Fam[];
    if (s.peerSelector) {
      remote = nodesMatching(ctx, s.peerSelector, owner);
      fams = [4, 6];
    } else {
      let parsed;
      try {
        parsed = parseIPPort(String(s.peerIP ?? ''));
      } catch {
        continue;
      }
      const as = s.asNumber === undefined ? 0 : (parseAs(s.asNumber) ?? -1);
      remote = as < 0 ? [] : nodesWithIPPortAndAS(f, parsed.ip.toString(), as, parsed.port ?? 0);
      fams = [parsed.ip.version];
    }
    if (!remote.some((n) => n.name === me)) continue;
    const locals = localNames(s, owner);
    const peerNodes = locals === 'all' ? f.nodeList : f.nodeList.filter((n) => locals.includes(n.name));
    for (const n of peerNodes) for (const c of nodeAsPeers(ctx, n, fams, bp)) emit(c, false);
  }
  return out;
}

/** bgp_processor.go `buildPeerFromData`: the session itself, or undefined when it would be to ourselves. */
function toPlanned(ctx: Ctx, type: PeerType, c: Candidate): PlannedPeer | undefined {
  const f = ctx.f;
  const self = f.self!;
  const ourIP = nodeIP(self, c.fam);
  if (!ourIP || c.ip === ourIP) return undefined;
  const ourAs = nodeAs(f, self);
  const effectiveAs = c.localAs ?? ourAs;
  let name = `${type}_${ipName(c.ip, c.fam)}`;
  if (c.port > 0) name += `_port_${c.port}`;
  const p: PlannedPeer = { name, type, address: c.ip, asNumber: c.asNumber, families: [c.fam === 4 ? 'ipv4' : 'ipv6'] };
  if (c.port > 0) p.port = c.port;
  if (c.localAs !== undefined) p.localAs = c.localAs;
  if (c.sourceAddr === 'UseNodeIP') p.localAddress = ourIP;
  if (type === 'Global' && c.isNodeIP && c.ip > ourIP) p.passive = true;
  if (self.rrClusterId && c.asNumber === effectiveAs && c.rrClusterId !== self.rrClusterId) p.routeReflectorClient = true;
  if (c.nextHopMode === 'Self') p.nextHopMode = 'self';
  else if (c.nextHopMode === 'Keep' || (c.keepNextHop && c.asNumber !== effectiveAs)) p.nextHopMode = 'keep';
  if (c.keepaliveTime !== undefined) {
    p.keepaliveTime = c.keepaliveTime;
    p.holdTime = 3 * c.keepaliveTime;
  }
  if (c.restartTime !== undefined) p.gracefulRestart = { restartTime: c.restartTime };
  if (c.password !== undefined) p.password = c.password;
  if (c.allowLocalAs > 0) p.allowLocalAs = c.allowLocalAs;
  if (c.ttlSecurity > 0) p.ttlSecurity = c.ttlSecurity;
  if (c.nodeName !== undefined) p.calicoNode = c.nodeName;
  if (c.reachableBy !== undefined) p.reachableBy = c.reachableBy;
  p.import = ctx.policies.importPolicy(c.fam, c.filters);
  p.export = ctx.policies.exportPolicy(c.fam, c.filters);
  return p;
}

/** bgp_processor.go `processMeshPeers`: the full mesh, unless mesh is off or we are a route reflector. */
function meshPeers(ctx: Ctx): PlannedPeer[] {
  const f = ctx.f;
  const self = f.self!;
  if (!f.meshEnabled || self.rrClusterId) return [];
  let password: string | undefined;
  if (f.meshPassword) {
    password = ctx.secret?.(f.meshPassword);
    if (!password) f.warnings.push(`BGPConfiguration default: cannot read nodeMeshPassword secret ${f.meshPassword.name}/${f.meshPassword.key}; mesh peerings without a password`);
  }
  const out: PlannedPeer[] = [];
  for (const fam of [4, 6] as const) {
    const ourIP = nodeIP(self, fam);
    if (!ourIP) continue;
    for (const n of f.nodeList) {
      const ip = nodeIP(n, fam);
      if (!ip || ip === ourIP || n.rrClusterId) continue;
      const p: PlannedPeer = {
        name: `Mesh_${ipName(ip, fam)}`,
        type: 'Mesh',
        address: ip,
        asNumber: nodeAs(f, n),
        localAddress: ourIP,
        families: [fam === 4 ? 'ipv4' : 'ipv6'],
        calicoNode: n.name,
        import: ctx.policies.importPolicy(fam, []),
        export: ctx.policies.exportPolicy(fam, []),
      };
      const port = nodeListenPort(f, n.name);
      if (port !== undefined) p.port = port;
      if (ourIP < ip) p.passive = true;
      if (password) p.password = password;
      if (f.meshRestartTime !== undefined) p.gracefulRestart = { restartTime: f.meshRestartTime };
      out.push(p);
    }
  }
  return out;
}

/**
 * All sessions of this node, sorted by name as confd sorts them. Two sessions to the same address and
 * port cannot coexist in one speaker: an explicit BGPPeer session wins over a mesh one (BIRD would run
 * both protocols); a warning says so.
 */
export function planPeers(f: Facts, bgpPeers: readonly Resource[], secret: SecretResolver, policies: PolicySource): PlannedPeer[] {
  if (!f.self) return [];
  const ctx: Ctx = { f, sel: new Selectors(f.warnings), secret, policies, bgpPeers };
  for (const bp of bgpPeers) {
    if (specOf(bp).localWorkloadSelector) f.warnings.push(`BGPPeer ${bp.metadata.name}: localWorkloadSelector peering is not supported; ignored`);
  }
  const explicit = explicitPeerings(ctx)
    .map(({ type, c }) => toPlanned(ctx, type, c))
    .filter((p): p is PlannedPeer => p !== undefined);
  const byKey = new Map<string, PlannedPeer>();
  const byName = new Set<string>();
  for (const p of explicit) {
    byKey.set(peerKey(p.address, p.port ?? 0), p);
    byName.add(p.name);
  }
  for (const m of meshPeers(ctx)) {
    const k = peerKey(m.address, m.port ?? 0);
    const other = byKey.get(k);
    if (other) {
      f.warnings.push(`${other.name} and ${m.name} both peer with ${m.address}; keeping ${other.name}`);
      continue;
    }
    if (byName.has(m.name)) continue; // two nodes with one IP: confd would emit one protocol name twice
    byKey.set(k, m);
    byName.add(m.name);
  }
  return [...byKey.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
