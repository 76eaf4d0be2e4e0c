/**
 * The lab's topology file: what `tortie lab up` builds (docs/lab.md has the reference).
 *
 *   name, segments (L2 bridges), hosts (one agent each), routers (BIRD 2 or FRR, with their own
 *   subnets), vms (behind a router), datastore (SQLite, or an etcd the lab starts), resources
 *   (projectcalico YAML), pods, agentEnv
 *
 * `parseTopology` turns YAML into a checked `Topology` with every default filled in, or throws a
 * `TopologyError` whose message starts with the path of the offending field (`hosts[1].address:
 * …`). Unknown fields are errors too: a typo such as `adress` must not silently build a host
 * without an address. Everything is IPv4 for now.
 *
 * Names end up in namespace names (`tl-<lab>-<thing>`, files under /run/netns), so they are
 * DNS-label-like; interface names are generated (eth0, eth1, p3…)
 * and never derived from user names, so the 15-character limit cannot bite.
 */
import { parseDocument, toPlain } from '../api/yaml/index.js';
import { IP, Prefix } from '../net/index.js';

export interface LabSegment {
  name: string;
  cidr: string;
  prefixLength: number;
  /** The hosts' default gateway on this segment. */
  gateway: string;
  /** The router holding `gateway`, or undefined when a plain gateway namespace holds it. */
  gatewayRouter?: string;
}

export interface LabHost {
  name: string;
  segment: string;
  address: string;
  labels: Record<string, string>;
  as?: number;
}

export interface LabPeer {
  /** The host this peer is (undefined for a bare address). */
  host?: string;
  address: string;
  asNumber: number;
}

export const ROUTER_KINDS = ['bird2', 'frr'] as const;
export type RouterKind = (typeof ROUTER_KINDS)[number];

export interface LabRouter {
  name: string;
  /** The daemon playing the router: BIRD 2 (bird.ts) or FRR (frr.ts); both behave alike (router.ts). */
  kind: RouterKind;
  asNumber: number;
  interfaces: { segment: string; address: string }[];
  peers: LabPeer[];
  subnets: { name: string; cidr: string; prefixLength: number; address: string }[];
  /** Static routes (BIRD `protocol static`, FRR staticd; into the router's kernel): `via` is on-link. */
  staticRoutes?: { cidr: string; via: string }[];
  /** false: `lab up` does not wait for this router's sessions (peerings configured later). */
  awaitSessions?: boolean;
}

export interface LabVm {
  name: string;
  subnet: string;
  address: string;
  /** The owning router's address on the subnet: the VM's default gateway. */
  gateway: string;
  router: string;
}

export interface LabPod {
  name: string;
  host: string;
  namespace: string;
}

/**
 * Where the cluster's resources live: the lab directory's SQLite file, or an etcd the lab starts
 * in a namespace of its own (`tl-<lab>-etcd`, node name `etcd`) at `address` on `segment`.
 */
export type LabDatastore = { type: 'sqlite' } | { type: 'etcd'; segment: string; address: string };

/** The etcd datastore's node (and namespace) name: reserved when the lab runs one. */
export const ETCD_NODE = 'etcd';

export interface Topology {
  name: string;
  segments: LabSegment[];
  hosts: LabHost[];
  routers: LabRouter[];
  vms: LabVm[];
  datastore: LabDatastore;
  resources: string;
  pods: LabPod[];
  agentEnv: Record<string, string>;
}

export class TopologyError extends Error {
  readonly code = 'TOPOLOGY' as const;
  constructor(
    /** The field's path, e.g. `hosts[1].address`. */
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'TopologyError';
  }
}

/** Calico's default AS number: a peer of a host that sets no `as` speaks this one. */
export const DEFAULT_CLUSTER_AS = 64512;

/** Lab names are short: they prefix every namespace name and must leave room for the thing. */
const LAB_NAME = /^[a-z0-9]([a-z0-9-]{0,18}[a-z0-9])?$/;
/** Node, segment and pod names (like Kubernetes node names, but short). */
const THING_NAME = /^[a-z0-9]([a-z0-9.-]{0,38}[a-z0-9])?$/;
/** The builder's own namespaces are `tl-<lab>-br-<segment>` and `tl-<lab>-gw-<segment>`. */
const RESERVED = /^(br|gw)-/;

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function obj(v: unknown, at: string, allowed: readonly string[]): Obj {
  if (!isObj(v)) throw new TopologyError(at, `expected a mapping, got ${describe(v)}`);
  for (const k of Object.keys(v)) if (!allowed.includes(k)) throw new TopologyError(at ? `${at}.${k}` : k, `unknown field (expected one of ${allowed.join(', ')})`);
  return v;
}

function list(v: unknown, at: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new TopologyError(at, `expected a list, got ${describe(v)}`);
  return v;
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}

function name(v: unknown, at: string, re = THING_NAME): string {
  if (typeof v !== 'string' || !re.test(v)) {
    const max = re === LAB_NAME ? 20 : 40;
    throw new TopologyError(at, `${describe(v)} is not a valid name (lower-case letters, digits${re === LAB_NAME ? ' and -' : ', - and .'}, at most ${max} characters, starting and ending with a letter or digit)`);
  }
  return v;
}

function asn(v: unknown, at: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 4294967295) throw new TopologyError(at, `${describe(v)} is not an AS number (1–4294967295)`);
  return v;
}

function ipv4(v: unknown, at: string): IP {
  const ip = typeof v === 'string' ? IP.tryParse(v) : undefined;
  if (!ip || ip.bits !== 32) throw new TopologyError(at, `${describe(v)} is not an IPv4 address (write it without a prefix length)`);
  return ip;
}

function cidr4(v: unknown, at: string): Prefix {
  const p = typeof v === 'string' ? Prefix.tryParse(v) : undefined;
  if (!p || p.bits !== 32) throw new TopologyError(at, `${describe(v)} is not an IPv4 CIDR such as 192.168.83.0/24`);
  if (p.length > 30) throw new TopologyError(at, `${v} is too small for a segment (at most /30)`);
  if (p.toString() !== v) throw new TopologyError(at, `${v} has host bits set: write ${p.toString()}`);
  return p;
}

/** An address usable by a member of `p`: inside it, neither the network nor the broadcast address. */
function inside(ip: IP, p: Prefix, at: string): string {
  const s = ip.toString();
  if (!p.contains(ip)) throw new TopologyError(at, `${s} is not in ${p.toString()}`);
  const first = p.ip.v4 >>> 0;
  const last = (first + 2 ** (32 - p.length) - 1) >>> 0;
  if (ip.v4 >>> 0 === first || ip.v4 >>> 0 === last) throw new TopologyError(at, `${s} is the network or broadcast address of ${p.toString()}`);
  return s;
}

/** The highest usable address of `p` nobody uses (`taken`), or undefined. */
function freeAddress(p: Prefix, taken: ReadonlyMap<string, string> | undefined): string | undefined {
  const first = p.ip.v4 >>> 0;
  for (let a = (first + 2 ** (32 - p.length) - 2) >>> 0; a > first; a--) {
    const s = IP.fromV4(a).toString();
    if (!taken?.has(s)) return s;
  }
  return undefined;
}

function stringMap(v: unknown, at: string): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (!isObj(v)) throw new TopologyError(at, `expected a mapping of names to values, got ${describe(v)}`);
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) {
    // YAML turns `true` and `1` into non-strings; labels and environment values are strings.
    if (typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean') out[k] = String(x);
    else throw new TopologyError(`${at}.${k}`, `expected a string, got ${describe(x)}`);
  }
  return out;
}

/** Parses and checks a topology file's text (`source` names it in YAML syntax errors). */
export function parseTopology(text: string, source = 'topology'): Topology {
  let doc: unknown;
  try {
    doc = toPlain(parseDocument(text));
  } catch (e) {
    throw new TopologyError(source, `not valid YAML: ${(e as Error).message}`);
  }
  return checkTopology(doc);
}

/** Checks a plain (already parsed) topology and fills the defaults. */
export function checkTopology(doc: unknown): Topology {
  const top = obj(doc, '', ['name', 'segments', 'hosts', 'routers', 'vms', 'datastore', 'resources', 'pods', 'agentEnv']);
  const labName = name(top.name, 'name', LAB_NAME);

  // Every bridge (segment or router subnet) and every namespace-owning thing needs a unique name.
  const bridges = new Map<string, { cidr: Prefix; at: string }>();
  const things = new Map<string, string>();
  const claimThing = (n: string, at: string): void => {
    if (RESERVED.test(n)) throw new TopologyError(at, `${n}: names starting with br- or gw- are reserved for the lab's own namespaces`);
    const prev = things.get(n);
    if (prev) throw new TopologyError(at, `${n} is already used by ${prev} (host, router, VM and pod names share one namespace)`);
    things.set(n, at);
  };
  // The datastore first: an etcd takes the name `etcd` (its namespace) before anything else can.
  const ds = top.datastore === undefined ? { type: 'sqlite' } : obj(top.datastore, 'datastore', ['type', 'segment', 'address']);
  const dsType = ds.type === 'etcdv3' ? 'etcd' : ds.type;
  if (dsType !== 'sqlite' && dsType !== 'etcd') throw new TopologyError('datastore.type', `${describe(ds.type)} is not a datastore type (sqlite, etcd)`);
  if (dsType === 'sqlite') {
    for (const k of ['segment', 'address']) if (ds[k] !== undefined) throw new TopologyError(`datastore.${k}`, 'only an etcd datastore has one (the SQLite file is in the lab directory)');
  } else things.set(ETCD_NODE, 'the etcd datastore');
  // Addresses in use per bridge, so two members never share one.
  const used = new Map<string, Map<string, string>>();
  const claimAddr = (bridge: string, addr: string, at: string): void => {
    const m = used.get(bridge) ?? new Map<string, string>();
    used.set(bridge, m);
    const prev = m.get(addr);
    if (prev) throw new TopologyError(at, `${addr} is already used by ${prev}`);
    m.set(addr, at);
  };

  const segs = list(top.segments, 'segments').map((raw, i) => {
    const at = `segments[${i}]`;
    const s = obj(raw, at, ['name', 'cidr', 'gateway']);
    const n = name(s.name, `${at}.name`);
    if (bridges.has(n)) throw new TopologyError(`${at}.name`, `${n} is already a segment or subnet`);
    const c = cidr4(s.cidr, `${at}.cidr`);
    bridges.set(n, { cidr: c, at });
    const gw = s.gateway === undefined ? undefined : inside(ipv4(s.gateway, `${at}.gateway`), c, `${at}.gateway`);
    return { name: n, cidr: c, gw };
  });
  if (segs.length === 0) throw new TopologyError('segments', 'at least one segment is needed');
  const segByName = new Map(segs.map((s) => [s.name, s]));
  const segment = (v: unknown, at: string) => {
    const s = typeof v === 'string' ? segByName.get(v) : undefined;
    if (!s) throw new TopologyError(at, `${describe(v)} is not one of the segments (${[...segByName.keys()].join(', ')})`);
    return s;
  };

  const hosts: LabHost[] = list(top.hosts, 'hosts').map((raw, i) => {
    const at = `hosts[${i}]`;
    const h = obj(raw, at, ['name', 'segment', 'address', 'labels', 'as']);
    const n = name(h.name, `${at}.name`);
    claimThing(n, at);
    const s = segment(h.segment, `${at}.segment`);
    const address = inside(ipv4(h.address, `${at}.address`), s.cidr, `${at}.address`);
    claimAddr(s.name, address, `${at}.address`);
    const host: LabHost = { name: n, segment: s.name, address, labels: stringMap(h.labels, `${at}.labels`) };
    if (h.as !== undefined) host.as = asn(h.as, `${at}.as`);
    return host;
  });
  if (hosts.length === 0) throw new TopologyError('hosts', 'at least one host is needed');
  const hostByName = new Map(hosts.map((h) => [h.name, h]));

  const routers: LabRouter[] = list(top.routers, 'routers').map((raw, i) => {
    const at = `routers[${i}]`;
    const r = obj(raw, at, ['name', 'kind', 'asNumber', 'interfaces', 'peers', 'peerHosts', 'subnets', 'staticRoutes', 'awaitSessions']);
    const n = name(r.name, `${at}.name`);
    claimThing(n, at);
    const kind = ROUTER_KINDS.find((k) => k === r.kind);
    if (!kind) throw new TopologyError(`${at}.kind`, `${describe(r.kind)} is not a router kind (${ROUTER_KINDS.join(', ')})`);
    const asNumber = asn(r.asNumber, `${at}.asNumber`);
    const interfaces = list(r.interfaces, `${at}.interfaces`).map((ri, j) => {
      const iat = `${at}.interfaces[${j}]`;
      const x = obj(ri, iat, ['segment', 'address']);
      const s = segment(x.segment, `${iat}.segment`);
      const address = inside(ipv4(x.address, `${iat}.address`), s.cidr, `${iat}.address`);
      claimAddr(s.name, address, `${iat}.address`);
      return { segment: s.name, address };
    });
    if (interfaces.length === 0) throw new TopologyError(`${at}.interfaces`, 'a router needs at least one interface on a segment');
    if (new Set(interfaces.map((x) => x.segment)).size !== interfaces.length) throw new TopologyError(`${at}.interfaces`, 'one interface per segment');
    const subnets = list(r.subnets, `${at}.subnets`).map((rs, j) => {
      const sat = `${at}.subnets[${j}]`;
      const x = obj(rs, sat, ['name', 'cidr', 'address']);
      const sn = name(x.name, `${sat}.name`);
      if (bridges.has(sn)) throw new TopologyError(`${sat}.name`, `${sn} is already a segment or subnet`);
      const c = cidr4(x.cidr, `${sat}.cidr`);
      bridges.set(sn, { cidr: c, at: sat });
      const address = inside(ipv4(x.address, `${sat}.address`), c, `${sat}.address`);
      claimAddr(sn, address, `${sat}.address`);
      return { name: sn, cidr: c.toString(), prefixLength: c.length, address };
    });
    const peers: LabPeer[] = list(r.peers, `${at}.peers`).map((rp, j) => {
      const pat = `${at}.peers[${j}]`;
      const x = obj(rp, pat, ['host', 'address', 'asNumber']);
      if ((x.host === undefined) === (x.address === undefined)) throw new TopologyError(pat, 'give either host or address');
      let host: LabHost | undefined;
      if (x.host !== undefined) {
        host = typeof x.host === 'string' ? hostByName.get(x.host) : undefined;
        if (!host) throw new TopologyError(`${pat}.host`, `${describe(x.host)} is not one of the hosts`);
      }
      const address = host ? host.address : ipv4(x.address, `${pat}.address`).toString();
      const as = x.asNumber === undefined ? (host?.as ?? DEFAULT_CLUSTER_AS) : asn(x.asNumber, `${pat}.asNumber`);
      return { ...(host ? { host: host.name } : {}), address, asNumber: as };
    });
    if (r.peerHosts !== undefined) {
      if (r.peerHosts !== 'all') throw new TopologyError(`${at}.peerHosts`, `${describe(r.peerHosts)}: the only value is "all"`);
      for (const h of hosts) if (!peers.some((p) => p.address === h.address)) peers.push({ host: h.name, address: h.address, asNumber: h.as ?? DEFAULT_CLUSTER_AS });
    }
    // A session needs a local address on the peer's link (the lab has no IGP for multihop sessions).
    peers.forEach((p, j) => {
      const ok = interfaces.some((x) => segByName.get(x.segment)!.cidr.contains(IP.parse(p.address)));
      if (!ok) throw new TopologyError(`${at}.peers[${j}]`, `${p.address} is not on any of the router's segments`);
    });
    if (new Set(peers.map((p) => p.address)).size !== peers.length) throw new TopologyError(`${at}.peers`, 'a peer address is listed twice');
    // Static routes: a next hop on one of the router's own links (segments or subnets).
    const links = [...interfaces.map((x) => segByName.get(x.segment)!.cidr), ...subnets.map((x) => Prefix.parse(x.cidr))];
    const staticRoutes = list(r.staticRoutes, `${at}.staticRoutes`).map((rs, j) => {
      const sat = `${at}.staticRoutes[${j}]`;
      const x = obj(rs, sat, ['cidr', 'via']);
      const c = typeof x.cidr === 'string' ? Prefix.tryParse(x.cidr) : undefined;
      if (!c || c.bits !== 32) throw new TopologyError(`${sat}.cidr`, `${describe(x.cidr)} is not an IPv4 CIDR such as 10.20.0.0/16`);
      if (c.toString() !== x.cidr) throw new TopologyError(`${sat}.cidr`, `${String(x.cidr)} has host bits set: write ${c.toString()}`);
      const via = ipv4(x.via, `${sat}.via`);
      if (!links.some((l) => l.contains(via))) throw new TopologyError(`${sat}.via`, `${via.toString()} is not on any of the router's segments or subnets`);
      return { cidr: c.toString(), via: via.toString() };
    });
    if (r.awaitSessions !== undefined && typeof r.awaitSessions !== 'boolean') throw new TopologyError(`${at}.awaitSessions`, `${describe(r.awaitSessions)}: true or false`);
    return {
      name: n,
      kind,
      asNumber,
      interfaces,
      peers,
      subnets,
      ...(staticRoutes.length ? { staticRoutes } : {}),
      ...(r.awaitSessions === false ? { awaitSessions: false } : {}),
    };
  });

  // Each segment's gateway: the given address (on a router if one holds it), else the first
  // router interface on the segment, else the last usable address on a plain gateway namespace.
  const segments: LabSegment[] = segs.map((s, i) => {
    const onSeg = routers.flatMap((r) => r.interfaces.filter((x) => x.segment === s.name).map((x) => ({ router: r.name, address: x.address })));
    let gateway = s.gw;
    let gatewayRouter: string | undefined;
    if (gateway === undefined) {
      if (onSeg[0]) [gateway, gatewayRouter] = [onSeg[0].address, onSeg[0].router];
      else gateway = IP.fromV4((s.cidr.ip.v4 + 2 ** (32 - s.cidr.length) - 2) >>> 0).toString();
    } else gatewayRouter = onSeg.find((x) => x.address === gateway)?.router;
    if (!gatewayRouter) claimAddr(s.name, gateway, `segments[${i}].gateway`);
    return { name: s.name, cidr: s.cidr.toString(), prefixLength: s.cidr.length, gateway, ...(gatewayRouter ? { gatewayRouter } : {}) };
  });

  let datastore: LabDatastore = { type: 'sqlite' };
  if (dsType === 'etcd') {
    const s = ds.segment === undefined ? segs[0]! : segment(ds.segment, 'datastore.segment');
    let address: string;
    if (ds.address !== undefined) address = inside(ipv4(ds.address, 'datastore.address'), s.cidr, 'datastore.address');
    else {
      const free = freeAddress(s.cidr, used.get(s.name));
      if (!free) throw new TopologyError('datastore', `no free address left on segment ${s.name} for etcd: give datastore.segment or datastore.address`);
      address = free;
    }
    claimAddr(s.name, address, 'datastore.address');
    datastore = { type: 'etcd', segment: s.name, address };
  }

  const subnetOwner = new Map(routers.flatMap((r) => r.subnets.map((s) => [s.name, { r, s }] as const)));
  const vms: LabVm[] = list(top.vms, 'vms').map((raw, i) => {
    const at = `vms[${i}]`;
    const v = obj(raw, at, ['name', 'subnet', 'address']);
    const n = name(v.name, `${at}.name`);
    claimThing(n, at);
    const own = typeof v.subnet === 'string' ? subnetOwner.get(v.subnet) : undefined;
    if (!own) throw new TopologyError(`${at}.subnet`, `${describe(v.subnet)} is not a router's subnet (${[...subnetOwner.keys()].join(', ') || 'none defined'})`);
    const address = inside(ipv4(v.address, `${at}.address`), Prefix.parse(own.s.cidr), `${at}.address`);
    claimAddr(own.s.name, address, `${at}.address`);
    return { name: n, subnet: own.s.name, address, gateway: own.s.address, router: own.r.name };
  });

  if (top.resources !== undefined && top.resources !== null && typeof top.resources !== 'string') {
    throw new TopologyError('resources', 'expected a block of projectcalico.org/v3 YAML (write `resources: |` and indent the documents)');
  }

  const pods: LabPod[] = list(top.pods, 'pods').map((raw, i) => {
    const at = `pods[${i}]`;
    const p = obj(raw, at, ['name', 'host', 'namespace']);
    const n = name(p.name, `${at}.name`);
    claimThing(n, at);
    if (typeof p.host !== 'string' || !hostByName.has(p.host)) throw new TopologyError(`${at}.host`, `${describe(p.host)} is not one of the hosts`);
    const ns = p.namespace === undefined ? 'default' : name(p.namespace, `${at}.namespace`);
    return { name: n, host: p.host, namespace: ns };
  });

  return {
    name: labName,
    segments,
    hosts,
    routers,
    vms,
    datastore,
    resources: typeof top.resources === 'string' ? top.resources : '',
    pods,
    agentEnv: stringMap(top.agentEnv, 'agentEnv'),
  };
}

/** Checks a lab name given on the command line (`--name`). */
export function checkLabName(v: string): string {
  return name(v, '--name', LAB_NAME);
}
