/**
 * Reading projectcalico.org/v3 resources into the few facts the routing plan needs — the same
 * reduction confd makes into its `/calico/bgp/v1/...` key cache (calico-compat.md §5.1) and Felix
 * makes into its calculation graph. Everything downstream (`peers.ts`, `exports.ts`, `kernel.ts`)
 * works on these facts, never on raw resources.
 *
 * Tricky bits:
 *  - Only a few BGPConfiguration fields are honoured per node (`node.<name>`): listenPort and
 *    prefixAdvertisements (§1.1; confd `updateBGPConfigCache`). The rest is read from `default`.
 *  - A listenPort of 0 / unset means "not configured": confd then omits the port (BIRD's 179), and
 *    that distinction is visible in peer names (`_port_<p>` appears whenever a port is known).
 *  - Node IPs are kept as canonical strings because Calico compares them as strings (mesh
 *    passivity is a lexicographic compare, §5.2).
 *  - Bad data never throws: it becomes a warning and the offending item is ignored, as confd logs
 *    and skips.
 */
import { createHash } from 'node:crypto';
import type { Resource } from '../api/meta.js';
import { parseGoDuration } from '../api/schema/gofmt.js';
import { IP, Prefix } from '../net/index.js';
import { parseSelector, type Selector } from '../selector/index.js';
import type { BlockInfo, RoutingInput } from './types.js';

export const DEFAULT_AS = 64512;
export const BGP_PORT = 179;
/** Node label that stops a node advertising service ranges (confd `ExcludeServiceAdvertisement`). */
export const EXCLUDE_SERVICES_LABEL = 'node.kubernetes.io/exclude-from-external-load-balancers';

export type EncapMode = 'Always' | 'CrossSubnet' | 'Never';

export interface NodeFacts {
  name: string;
  labels: Record<string, string>;
  /** Canonical IPv4 text of spec.bgp.ipv4Address, and its subnet (CrossSubnet decisions). */
  ipv4?: string;
  ipv4Net?: Prefix;
  ipv6?: string;
  ipv6Net?: Prefix;
  /** The node's own spec.bgp.asNumber; undefined ⇒ the global AS applies. */
  asNumber?: number;
  /** '' unless the node is a route reflector. */
  rrClusterId: string;
  vxlanTunnelAddr?: string;
  /** Explicit spec.vxlanTunnelMACAddr (lower-case); undefined ⇒ derived from the name. */
  vxlanMac?: string;
  ipipTunnelAddr?: string;
}

export interface PoolFacts {
  name: string;
  cidr: Prefix;
  ipipMode: EncapMode;
  vxlanMode: EncapMode;
  natOutgoing: boolean;
  disabled: boolean;
  disableBGPExport: boolean;
}

export interface CommunityRule {
  cidr: Prefix;
  /** Resolved values, sorted and unique as confd's set: `aa:nn` (standard) or `aa:nn:mm` (large). */
  communities: string[];
}

export interface SecretRef {
  name: string;
  key: string;
}

export interface Facts {
  me: string;
  self?: NodeFacts;
  nodes: Map<string, NodeFacts>;
  /** Every node, sorted by name (Calico iterates maps; we iterate in a fixed order). */
  nodeList: NodeFacts[];
  globalAs: number;
  meshEnabled: boolean;
  globalListenPort?: number;
  nodeListenPorts: Map<string, number>;
  bindMode?: string;
  serviceClusterIPs: Prefix[];
  serviceExternalIPs: Prefix[];
  serviceLoadBalancerIPs: Prefix[];
  lbAggregation: boolean;
  communityRules: CommunityRule[];
  meshPassword?: SecretRef;
  meshRestartTime?: number;
  pools: PoolFacts[];
  /** Blocks with a parsed CIDR. */
  blocks: { info: BlockInfo; cidr: Prefix }[];
  felix: (field: string) => unknown;
  warnings: string[];
}

// ----- small parsers -------------------------------------------------------------------------

/** numorstring.ASNumber: a number, a plain decimal string, or asdot `X.Y` (16 bits each). */
export function parseAs(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 && v <= 0xffffffff ? v : undefined;
  if (typeof v !== 'string') return undefined;
  if (/^\d+$/.test(v)) {
    const n = Number(v);
    return n <= 0xffffffff ? n : undefined;
  }
  const m = /^(\d+)\.(\d+)$/.exec(v);
  if (!m) return undefined;
  const hi = Number(m[1]);
  const lo = Number(m[2]);
  return hi <= 0xffff && lo <= 0xffff ? hi * 65536 + lo : undefined;
}

/** A Go duration string as whole seconds, rounded like confd's `math.Round(d.Seconds())`. */
export function durationSeconds(v: unknown): number | undefined {
  if (typeof v !== 'string') return undefined;
  try {
    return Math.round(Number(parseGoDuration(v)) / 1e9);
  } catch {
    return undefined;
  }
}

/** `10.0.0.1/24` ⇒ the canonical IP and its subnet; a bare IP ⇒ host-length subnet. */
function parseAddrCidr(s: unknown): { ip: string; net: Prefix } | undefined {
  if (typeof s !== 'string' || s === '') return undefined;
  try {
    const parts = Prefix.parseCIDROrIP(s);
    return { ip: parts.ip.toString(), net: parts.prefix };
  } catch {
    return undefined;
  }
}

function canonicalIP(s: unknown): string | undefined {
  if (typeof s !== 'string' || s === '') return undefined;
  // Tunnel addresses are bare IPs, but tolerate a CIDR form.
  return IP.tryParse(s)?.toString() ?? Prefix.tryParseCIDR(s)?.ip.toString();
}

const STD_COMMUNITY = /^(\d+):(\d+)$/;
const LARGE_COMMUNITY = /^(\d+):(\d+):(\d+)$/;

/** `aa:nn` ⇒ uint32 (16 bits each), `aa:nn:mm` ⇒ a large community (32 bits each); undefined if malformed. */
export function parseCommunityValue(s: string): number | [number, number, number] | undefined {
  let m = STD_COMMUNITY.exec(s);
  if (m) {
    const a = Number(m[1]);
    const b = Number(m[2]);
    return a <= 0xffff && b <= 0xffff ? (a * 65536 + b) >>> 0 : undefined;
  }
  m = LARGE_COMMUNITY.exec(s);
  if (m) {
    const t: [number, number, number] = [Number(m[1]), Number(m[2]), Number(m[3])];
    return t.every((x) => x <= 0xffffffff) ? t : undefined;
  }
  return undefined;
}

/** Felix's deterministic VTEP MAC: 0x66 ('f') then the first 5 bytes of SHA-1(nodename) (§6.4). */
export function vxlanMac(nodeName: string): string {
  const sha = createHash('sha1').update(nodeName, 'utf8').digest();
  return [0x66, ...sha.subarray(0, 5)].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** confd `HashToIPv4`: first 4 bytes of SHA-256(nodename), a first octet above 223 lowered by 32. */
export function hashRouterId(nodeName: string): string {
  const h = createHash('sha256').update(nodeName, 'utf8').digest();
  const a = h[0]! > 223 ? h[0]! - 32 : h[0]!;
  return `${a}.${h[1]}.${h[2]}.${h[3]}`;
}

const spec = (r: Resource | undefined): Record<string, any> => (r?.spec ?? {}) as Record<string, any>;
const byName = (list: readonly Resource[] | undefined, name: string) => list?.find((r) => r.metadata.name === name);

// ----- selectors ---------------------------------------------------------------------------

/** Selector evaluation with a per-plan parse cache; an invalid selector matches nothing (and warns once). */
export class Selectors {
  private cache = new Map<string, Selector | null>();
  constructor(private readonly warnings: string[]) {}

  matches(text: string, labels: Record<string, string>, owner: string): boolean {
    let sel = this.cache.get(text);
    if (sel === undefined) {
      try {
        sel = parseSelector(text);
      } catch (err) {
        this.warnings.push(`${owner}: invalid selector ${JSON.stringify(text)}: ${(err as Error).message}`);
        sel = null;
      }
      this.cache.set(text, sel);
    }
    return sel !== null && sel.evaluate(labels);
  }
}

// ----- the reduction -----------------------------------------------------------------------

function readNode(r: Resource, warnings: string[]): NodeFacts {
  const s = spec(r);
  const bgp = (s.bgp ?? {}) as Record<string, unknown>;
  const name = r.metadata.name ?? '';
  const n: NodeFacts = { name, labels: r.metadata.labels ?? {}, rrClusterId: typeof bgp.routeReflectorClusterID === 'string' ? bgp.routeReflectorClusterID : '' };
  const v4 = parseAddrCidr(bgp.ipv4Address);
  if (v4 && v4.net.version === 4) {
    n.ipv4 = v4.ip;
    n.ipv4Net = v4.net;
  } else if (bgp.ipv4Address) warnings.push(`Node ${name}: ignoring bad spec.bgp.ipv4Address ${JSON.stringify(bgp.ipv4Address)}`);
  const v6 = parseAddrCidr(bgp.ipv6Address);
  if (v6 && v6.net.version === 6) {
    n.ipv6 = v6.ip;
    n.ipv6Net = v6.net;
  } else if (bgp.ipv6Address) warnings.push(`Node ${name}: ignoring bad spec.bgp.ipv6Address ${JSON.stringify(bgp.ipv6Address)}`);
  if (bgp.asNumber !== undefined && bgp.asNumber !== null) {
    const as = parseAs(bgp.asNumber);
    if (as === undefined || as === 0) warnings.push(`Node ${name}: ignoring bad spec.bgp.asNumber ${JSON.stringify(bgp.asNumber)}`);
    else n.asNumber = as;
  }
  const vx = canonicalIP(s.ipv4VXLANTunnelAddr);
  if (vx) n.vxlanTunnelAddr = vx;
  if (typeof s.vxlanTunnelMACAddr === 'string' && s.vxlanTunnelMACAddr !== '') n.vxlanMac = s.vxlanTunnelMACAddr.toLowerCase();
  const ipip = canonicalIP(bgp.ipv4IPIPTunnelAddr);
  if (ipip) n.ipipTunnelAddr = ipip;
  return n;
}

function readPool(r: Resource, warnings: string[]): PoolFacts | undefined {
  const s = spec(r);
  const cidr = typeof s.cidr === 'string' ? Prefix.tryParse(s.cidr) : undefined;
  if (!cidr) {
    warnings.push(`IPPool ${r.metadata.name}: ignoring pool with bad cidr ${JSON.stringify(s.cidr)}`);
    return undefined;
  }
  const mode = (v: unknown): EncapMode => (v === 'Always' || v === 'CrossSubnet' ? v : 'Never');
  return {
    name: r.metadata.name ?? '',
    cidr,
    ipipMode: mode(s.ipipMode),
    vxlanMode: mode(s.vxlanMode),
    natOutgoing: s.natOutgoing === true,
    disabled: s.disabled === true,
    disableBGPExport: s.disableBGPExport === true,
  };
}

function cidrList(v: unknown, owner: string, field: string, warnings: string[]): Prefix[] {
  const out: Prefix[] = [];
  if (!Array.isArray(v)) return out;
  for (const item of v) {
    const c = (item as { cidr?: unknown })?.cidr;
    if (typeof c !== 'string' || c === '') continue; // the CRD allows an empty cidr; confd skips it
    const p = Prefix.tryParse(c);
    if (p) out.push(p);
    else warnings.push(`${owner}: ignoring bad ${field} cidr ${JSON.stringify(c)}`);
  }
  return out;
}

/** confd `getPrefixAdvertisementsKVPair`: names resolve through the same resource's `communities`. */
function readCommunityRules(cfg: Resource, warnings: string[]): CommunityRule[] {
  const s = spec(cfg);
  const defined = new Map<string, string>();
  for (const c of (s.communities ?? []) as { name?: string; value?: string }[]) if (c?.name && c.value) defined.set(c.name, c.value);
  const rules: CommunityRule[] = [];
  for (const adv of (s.prefixAdvertisements ?? []) as { cidr?: string; communities?: string[] }[]) {
    const cidr = typeof adv?.cidr === 'string' && adv.cidr !== '' ? Prefix.tryParse(adv.cidr) : undefined;
    if (!cidr) {
      if (adv?.cidr) warnings.push(`BGPConfiguration ${cfg.metadata.name}: ignoring prefixAdvertisement with bad cidr ${JSON.stringify(adv.cidr)}`);
      continue;
    }
    const set = new Set<string>();
    for (const c of adv.communities ?? []) {
      const value = parseCommunityValue(c) !== undefined ? c : defined.get(c);
      if (value !== undefined && parseCommunityValue(value) !== undefined) set.add(value);
      else warnings.push(`BGPConfiguration ${cfg.metadata.name}: community ${JSON.stringify(c)} is neither a value nor a defined name`);
    }
    if (set.size > 0) rules.push({ cidr, communities: [...set].sort() });
  }
  return rules;
}

/** The facts of an input: its resources' (readResourceFacts) with its IPAM blocks (withBlocks). */
export function readFacts(input: RoutingInput): Facts {
  return withBlocks(readResourceFacts(input), input.blocks);
}

/**
 * The facts of everything but the IPAM blocks (`blocks` is empty): what a pod's new block elsewhere, or here,
 * leaves as it was, so planners read it once per set of resources (withBlocks adds the blocks).
 */
export function readResourceFacts(input: Omit<RoutingInput, 'blocks'>): Facts {
  const warnings: string[] = [];
  const nodeList = input.nodes
    .filter((r) => r.metadata.name)
    .map((r) => readNode(r, warnings))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const nodes = new Map(nodeList.map((n) => [n.name, n]));

  const global = byName(input.bgpConfigurations, 'default');
  const g = spec(global);
  const globalAsParsed = g.asNumber === undefined || g.asNumber === null ? undefined : parseAs(g.asNumber);
  if (g.asNumber !== undefined && g.asNumber !== null && !globalAsParsed) warnings.push(`BGPConfiguration default: ignoring bad asNumber ${JSON.stringify(g.asNumber)}`);

  const nodeListenPorts = new Map<string, number>();
  for (const c of input.bgpConfigurations) {
    const name = c.metadata.name ?? '';
    const port = spec(c).listenPort;
    if (name.startsWith('node.') && typeof port === 'number' && port > 0) nodeListenPorts.set(name.slice(5), port);
  }

  // prefixAdvertisements: `node.<me>` when it sets the field (even to []), else `default` (confd processCommunityRules).
  const mine = byName(input.bgpConfigurations, `node.${input.nodeName}`);
  const advSource = mine && spec(mine).prefixAdvertisements != null ? mine : global;

  const meshPw = g.nodeMeshPassword?.secretKeyRef;
  const facts: Facts = {
    me: input.nodeName,
    nodes,
    nodeList,
    globalAs: globalAsParsed || DEFAULT_AS,
    meshEnabled: g.nodeToNodeMeshEnabled !== false,
    nodeListenPorts,
    serviceClusterIPs: cidrList(g.serviceClusterIPs, 'BGPConfiguration default', 'serviceClusterIPs', warnings),
    serviceExternalIPs: cidrList(g.serviceExternalIPs, 'BGPConfiguration default', 'serviceExternalIPs', warnings),
    serviceLoadBalancerIPs: cidrList(g.serviceLoadBalancerIPs, 'BGPConfiguration default', 'serviceLoadBalancerIPs', warnings),
    lbAggregation: g.serviceLoadBalancerAggregation !== 'Disabled',
    communityRules: advSource ? readCommunityRules(advSource, warnings) : [],
    pools: input.ipPools.map((p) => readPool(p, warnings)).filter((p): p is PoolFacts => p !== undefined),
    blocks: [],
    felix: (field) => {
      // FelixConfiguration `node.<name>` overrides `default`, field by field.
      const v = spec(byName(input.felixConfigurations, `node.${input.nodeName}`))[field];
      return v ?? spec(byName(input.felixConfigurations, 'default'))[field];
    },
    warnings,
  };
  const self = nodes.get(input.nodeName);
  if (self) facts.self = self;
  if (typeof g.listenPort === 'number' && g.listenPort > 0) facts.globalListenPort = g.listenPort;
  if (typeof g.bindMode === 'string') facts.bindMode = g.bindMode;
  if (meshPw?.name && meshPw?.key) facts.meshPassword = { name: meshPw.name, key: meshPw.key };
  const rt = durationSeconds(g.nodeMeshMaxRestartTime);
  if (rt !== undefined) facts.meshRestartTime = rt;
  else if (g.nodeMeshMaxRestartTime != null) warnings.push(`BGPConfiguration default: ignoring bad nodeMeshMaxRestartTime ${JSON.stringify(g.nodeMeshMaxRestartTime)}`);

  return facts;
}

/**
 * `base` (read without blocks) with these IPAM blocks: a new Facts that shares base's node, pool and
 * configuration facts (nothing downstream changes them) and has warnings of its own, base's first.
 */
export function withBlocks(base: Facts, blocks: readonly BlockInfo[]): Facts {
  const f: Facts = { ...base, blocks: [], warnings: [...base.warnings] };
  for (const b of blocks) {
    const cidr = Prefix.tryParse(b.cidr);
    if (cidr) f.blocks.push({ info: b, cidr });
    else f.warnings.push(`IPAM block ${JSON.stringify(b.cidr)}: bad CIDR, ignored`);
  }
  return f;
}

// ----- derived lookups ---------------------------------------------------------------------

export type Fam = 4 | 6;

export function nodeIP(n: NodeFacts | undefined, fam: Fam): string | undefined {
  return fam === 4 ? n?.ipv4 : n?.ipv6;
}

export function nodeAs(f: Facts, n: NodeFacts): number {
  return n.asNumber ?? f.globalAs;
}

/** The node's configured listen port (node-level, else global), or undefined when none is set. */
export function nodeListenPort(f: Facts, name: string): number | undefined {
  return f.nodeListenPorts.get(name) ?? f.globalListenPort;
}

/** The pool whose CIDR contains `p` (pools never overlap, §1.4). */
export function poolOf(f: Facts, p: Prefix): PoolFacts | undefined {
  return f.pools.find((pool) => pool.cidr.containsPrefix(p));
}

/**
 * Service ranges every node advertises (confd `updateGlobalRoutes`): all serviceClusterIPs, the non-single-IP
 * serviceExternalIPs, and the non-single-IP serviceLoadBalancerIPs when aggregation is Enabled. These are also the
 * `rejectcidrs`: never programmed into the kernel from BGP.
 */
export function serviceRanges(f: Facts): Prefix[] {
  const single = (p: Prefix) => p.length === p.bits;
  return [
    ...f.serviceClusterIPs,
    ...f.serviceExternalIPs.filter((p) => !single(p)),
    ...(f.lbAggregation ? f.serviceLoadBalancerIPs.filter((p) => !single(p)) : []),
  ];
}

export function isHostLength(p: Prefix): boolean {
  return p.length === p.bits;
}

export function byPrefix(a: Prefix, b: Prefix): number {
  return a.compare(b);
}
