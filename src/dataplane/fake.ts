/**
 * An in-memory kernel implementing the Netlink, Sysctl and Nft ports, for unit tests (no root, no
 * namespace). It keeps links, addresses, routes, neighbours, FDB entries, sysctls and nft tables,
 * and logs every mutation in `ops` (`route replace 10.0.0.0/24 via …`) so a test can assert
 * exactly what an apply did — or that it touched nothing.
 *
 * It enforces the kernel rules that are cheap to check and that a reconciler can get wrong:
 *  - a route's device must exist and be up (ENODEV / ENETDOWN);
 *  - `onlink` needs a device and a gateway (EINVAL);
 *  - a gateway without `onlink` must lie in a connected prefix (an address on an up link, or a
 *    device route), on the given device if one is given (ENETUNREACH);
 *  - routes have a key (table, dst, metric): add on a taken key is EEXIST, replace overwrites
 *    whatever holds the key — whoever owns it, as the kernel does — and delete needs a match;
 *  - taking a link down or deleting it drops its routes and neighbours (deleting drops its FDB
 *    and addresses too), changing its MAC drops its neighbours; connected routes exist only while
 *    the link is up;
 *  - one VXLAN device per (VNI, port); FDB entries only on VXLAN devices;
 *  - `tunl0` exists only when `ipip` is supported, and cannot be deleted;
 *  - nft: `delete table` of a missing table fails the whole script; scripts are atomic.
 */
import { IP, Prefix } from '../net/index.js';
import { DataplaneError, type DataplaneErrorCode } from './errors.js';
import { describeRoute, type Address, type Family, type FdbEntry, type Link, type LinkChange, type Neighbor, type Netlink, type Nft, type Route, type RouteOp, type Sysctl, type VxlanSpec } from './port.js';

export interface FakeKernelOptions {
  /** The kernel can make tunl0 (default true). */
  ipip?: boolean;
  /** nft accepts `masquerade fully-random` (default true). */
  fullyRandom?: boolean;
  /** Initial sysctls (path → value); ip_forward starts at 0. */
  sysctls?: Record<string, string>;
  /** Route mutations can be done synchronously (`routeNow`), as with tortie's netlink addon (default true). */
  syncRoutes?: boolean;
}

function fail(code: DataplaneErrorCode, op: string, why: string): never {
  throw new DataplaneError(code, op, `${op}: ${why}`);
}

const familyOf = (s: string): Family => (s.includes(':') ? 6 : 4);
const defaultMetric = (f: Family): number => (f === 6 ? 1024 : 0);
const routeKey = (r: Route): string =>
  `${r.table ?? 254}|${Prefix.parse(r.dst).toString()}|${r.metric || defaultMetric(familyOf(r.dst))}`;
const clone = <T>(x: T): T => structuredClone(x);

export class FakeKernel implements Netlink, Sysctl, Nft {
  /** Every mutation, in order, in `ip`-like words. */
  readonly ops: string[] = [];
  private readonly links = new Map<string, Link>();
  private nextIndex = 1;
  private addresses: Address[] = [];
  private routes: Route[] = [];
  private neighbors: Neighbor[] = [];
  private fdb: FdbEntry[] = [];
  private readonly sysctls: Map<string, string>;
  private tables = new Map<string, string>();
  private readonly ipip: boolean;
  private readonly fullyRandom: boolean;
  private readonly syncRoutes: boolean;
  closed = false;

  constructor(opts: FakeKernelOptions = {}) {
    this.ipip = opts.ipip ?? true;
    this.fullyRandom = opts.fullyRandom ?? true;
    this.syncRoutes = opts.syncRoutes ?? true;
    this.sysctls = new Map(Object.entries({ 'net/ipv4/ip_forward': '0', 'net/ipv6/conf/all/forwarding': '0', ...opts.sysctls }));
    this.addLink({ name: 'lo', kind: 'device', mtu: 65536, up: true });
  }

  // ---------------------------------------------------------------------------------------------
  // Test helpers: set up "the world" without logging ops.

  /** Adds an interface as if something else (the OS, the CNI plugin) had made it. */
  addLink(l: Partial<Link> & { name: string }): Link {
    const link: Link = { index: this.nextIndex++, kind: 'veth', mtu: 1500, up: true, operUp: l.up ?? true, ...l };
    this.links.set(link.name, link);
    return clone(link);
  }

  /** Adds an address / route / neighbour / FDB entry without logging it (validity rules still apply). */
  seedAddress(a: Address): Promise<void> {
    return this.quietly(() => this.addAddress(a));
  }
  seedRoute(r: Route): Promise<void> {
    return this.quietly(() => this.addRoute(r));
  }
  seedNeighbor(n: Neighbor): Promise<void> {
    return this.quietly(() => this.replaceNeighbor(n));
  }
  seedFdb(e: { dev: string; mac: string; dst: string }): Promise<void> {
    return this.quietly(() => this.replaceFdb(e));
  }
  seedNftTable(id: string, text: string): void {
    this.tables.set(id, text);
  }

  clearOps(): void {
    this.ops.length = 0;
  }

  link(name: string): Link | undefined {
    const l = this.links.get(name);
    return l && clone(l);
  }

  /** The raw (explicit) routes, without the derived connected ones. */
  routeTable(): Route[] {
    return clone(this.routes);
  }

  nftTable(id: string): string | undefined {
    return this.tables.get(id);
  }

  sysctl(path: string): string | undefined {
    return this.sysctls.get(path);
  }

  private async quietly(fn: () => Promise<void>): Promise<void> {
    const n = this.ops.length;
    try {
      await fn();
    } finally {
      this.ops.length = n;
    }
  }

  private record(op: string): void {
    this.ops.push(op);
  }

  private need(name: string, op: string): Link {
    const l = this.links.get(name);
    if (!l) fail('NO_SUCH_LINK', op, `no interface named ${JSON.stringify(name)}`);
    return l;
  }

  private check(op: string): void {
    if (this.closed) fail('CLOSED', op, 'port closed');
  }

  close(): void {
    this.closed = true;
  }

  // ---------------------------------------------------------------------------------------------
  // Links

  async listLinks(): Promise<Link[]> {
    return [...this.links.values()].map(clone);
  }

  async createVxlan(s: VxlanSpec): Promise<void> {
    const op = `link add ${s.name} type vxlan id ${s.vni} dstport ${s.port} local ${s.local} dev ${s.parent}`;
    this.check(op);
    if (s.name.length > 15) fail('EINVAL', op, 'name too long');
    if (this.links.has(s.name)) fail('EEXIST', op, 'exists');
    const parent = this.need(s.parent, op);
    if (s.vni < 0 || s.vni >= 1 << 24) fail('ERANGE', op, 'VNI out of range');
    for (const l of this.links.values()) {
      if (l.vxlan && l.vxlan.vni === s.vni && l.vxlan.port === s.port) fail('EEXIST', op, 'a VXLAN device with this VNI and port exists');
    }
    this.record(op);
    this.addLink({
      name: s.name,
      kind: 'vxlan',
      mtu: s.mtu ?? parent.mtu - 50,
      up: false,
      operUp: false,
      mac: s.mac ?? `02:00:00:00:00:${(this.nextIndex & 0xff).toString(16).padStart(2, '0')}`,
      vxlan: { vni: s.vni, port: s.port, local: s.local, parentIndex: parent.index, learning: false },
    });
  }

  async createIpip(name: string): Promise<void> {
    const op = `link add ${name} type ipip`;
    this.check(op);
    if (!this.ipip) fail('IPIP_UNSUPPORTED', op, 'this kernel has no IPIP support (fake kernel without ipip)');
    if (this.links.has(name)) return;
    this.record(op);
    this.addLink({ name, kind: 'ipip', mtu: 1480, up: false, operUp: false });
  }

  async setLink(name: string, c: LinkChange): Promise<void> {
    const op = `link set ${name}${c.up === undefined ? '' : c.up ? ' up' : ' down'}${c.mtu ? ` mtu ${c.mtu}` : ''}${c.mac ? ` address ${c.mac}` : ''}`;
    this.check(op);
    const l = this.need(name, op);
    if (c.mtu !== undefined && (c.mtu < 68 || c.mtu > 65535)) fail('EINVAL', op, 'MTU out of range');
    this.record(op);
    if (c.mtu !== undefined) l.mtu = c.mtu;
    if (c.mac !== undefined && c.mac.toLowerCase() !== l.mac) {
      l.mac = c.mac.toLowerCase();
      // NETDEV_CHANGEADDR: the kernel flushes the device's neighbour entries, permanent ones included.
      this.neighbors = this.neighbors.filter((n) => n.dev !== name);
    }
    if (c.up !== undefined) {
      if (l.up && !c.up) this.dropRoutesAndNeighbors(name);
      l.up = c.up;
      l.operUp = c.up;
    }
  }

  async deleteLink(name: string): Promise<void> {
    const op = `link del ${name}`;
    this.check(op);
    const l = this.need(name, op);
    if (l.kind === 'ipip' && name === 'tunl0') fail('EOPNOTSUPP', op, 'the IPIP fallback device cannot be deleted');
    this.record(op);
    this.links.delete(name);
    this.dropRoutesAndNeighbors(name);
    this.addresses = this.addresses.filter((a) => a.dev !== name);
    this.fdb = this.fdb.filter((e) => e.dev !== name);
  }

  private dropRoutesAndNeighbors(dev: string): void {
    this.routes = this.routes.filter((r) => r.dev !== dev);
    this.neighbors = this.neighbors.filter((n) => n.dev !== dev);
  }

  // ---------------------------------------------------------------------------------------------
  // Addresses

  async listAddresses(dev: string): Promise<Address[]> {
    this.need(dev, `addr show dev ${dev}`);
    return this.addresses.filter((a) => a.dev === dev).map(clone);
  }

  async addAddress(a: Address): Promise<void> {
    const op = `addr add ${a.cidr} dev ${a.dev}`;
    this.check(op);
    this.need(a.dev, op);
    const ip = Prefix.parseCIDR(a.cidr).ip;
    if (this.addresses.some((x) => x.dev === a.dev && Prefix.parseCIDR(x.cidr).ip.equals(ip))) fail('EEXIST', op, 'address exists');
    this.record(op);
    this.addresses.push({ ...a });
  }

  async delAddress(a: Address): Promise<void> {
    const op = `addr del ${a.cidr} dev ${a.dev}`;
    this.check(op);
    const i = this.addresses.findIndex((x) => x.dev === a.dev && x.cidr === a.cidr);
    if (i < 0) fail('EADDRNOTAVAIL', op, 'no such address');
    this.record(op);
    this.addresses.splice(i, 1);
  }

  // ---------------------------------------------------------------------------------------------
  // Routes

  /** Connected routes the kernel derives from addresses on up links (proto kernel, scope link). */
  private connected(family: Family): Route[] {
    const out: Route[] = [];
    for (const a of this.addresses) {
      const { prefix } = Prefix.parseCIDR(a.cidr);
      if (prefix.version !== family || prefix.length === prefix.bits || !this.links.get(a.dev)?.up) continue;
      out.push({ dst: prefix.toString(), type: 'unicast', table: 254, protocol: 2, dev: a.dev, scope: 'link', metric: family === 6 ? 256 : 0 });
    }
    return out;
  }

  async listRoutes(family: Family): Promise<Route[]> {
    return [...this.routes.filter((r) => familyOf(r.dst) === family), ...this.connected(family)].map(clone);
  }

  private validate(r: Route, op: string): Route {
    const dst = Prefix.tryParse(r.dst);
    if (!dst) fail('EINVAL', op, 'bad destination');
    const out: Route = { ...r, dst: dst.toString(), table: r.table ?? 254, metric: r.metric || defaultMetric(dst.version) };
    if (r.type !== 'unicast') {
      if (r.gateway || r.dev) fail('EINVAL', op, `a ${r.type} route has no next hop`);
      return { ...out, scope: 'universe' };
    }
    if (!r.gateway && !r.dev) fail('EINVAL', op, 'no next hop');
    if (r.dev) {
      const l = this.links.get(r.dev);
      if (!l) fail('ENODEV', op, `no device ${r.dev}`);
      if (!l.up) fail('ENETDOWN', op, 'Nexthop device is not up');
    }
    if (r.onlink && (!r.dev || !r.gateway)) fail('EINVAL', op, 'onlink needs a device and a gateway');
    if (r.gateway) {
      const gw = IP.parse(r.gateway);
      if (this.addresses.some((a) => Prefix.parseCIDR(a.cidr).ip.equals(gw))) fail('EINVAL', op, 'Nexthop has invalid gateway');
      if (!r.onlink) {
        const via = [...this.routes, ...this.connected(dst.version)].find(
          (c) => c.type === 'unicast' && !c.gateway && c.dev && (c.table ?? 254) === 254 && Prefix.parse(c.dst).contains(gw) && (!r.dev || c.dev === r.dev),
        );
        if (!via) fail('ENETUNREACH', op, `gateway ${r.gateway} is not on a connected network`);
        out.dev = via.dev;
      }
    }
    out.scope = r.gateway ? 'universe' : 'link';
    return out;
  }

  async addRoute(r: Route): Promise<void> {
    this.addRouteNow(r);
  }

  async replaceRoute(r: Route): Promise<void> {
    this.replaceRouteNow(r);
  }

  async deleteRoute(r: Route): Promise<void> {
    this.deleteRouteNow(r);
  }

  /** Every route mutation is synchronous here; `syncRoutes: false` makes the fake a port that has no routeNow path. */
  routeNow(op: RouteOp, r: Route): DataplaneError | undefined | false {
    if (!this.syncRoutes) return false;
    try {
      if (op === 'add') this.addRouteNow(r);
      else if (op === 'replace') this.replaceRouteNow(r);
      else this.deleteRouteNow(r);
      return undefined;
    } catch (e) {
      if (e instanceof DataplaneError) return e;
      throw e;
    }
  }

  private addRouteNow(r: Route): void {
    const op = `route add ${describeRoute(r)}`;
    this.check(op);
    const v = this.validate(r, op);
    if (this.routes.some((x) => routeKey(x) === routeKey(v))) fail('EEXIST', op, 'route exists');
    this.record(op);
    this.routes.push(v);
  }

  private replaceRouteNow(r: Route): void {
    const op = `route replace ${describeRoute(r)}`;
    this.check(op);
    const v = this.validate(r, op);
    this.record(op);
    const i = this.routes.findIndex((x) => routeKey(x) === routeKey(v));
    if (i >= 0) this.routes[i] = v;
    else this.routes.push(v);
  }

  private deleteRouteNow(r: Route): void {
    const op = `route del ${describeRoute(r)}`;
    this.check(op);
    const key = routeKey(r);
    const i = this.routes.findIndex((x) => routeKey(x) === key && x.type === r.type && (!r.protocol || x.protocol === r.protocol));
    if (i < 0) fail('ESRCH', op, 'No such process');
    this.record(op);
    this.routes.splice(i, 1);
  }

  // ---------------------------------------------------------------------------------------------
  // Neighbours and FDB

  async listNeighbors(dev: string): Promise<Neighbor[]> {
    this.need(dev, `neigh show dev ${dev}`);
    return this.neighbors.filter((n) => n.dev === dev).map(clone);
  }

  async replaceNeighbor(n: Neighbor): Promise<void> {
    const op = `neigh replace ${n.ip} lladdr ${n.mac} dev ${n.dev}${n.permanent ? ' permanent' : ''}`;
    this.check(op);
    this.need(n.dev, op);
    if (n.permanent && !n.mac) fail('EINVAL', op, 'a permanent entry needs a link-layer address');
    this.record(op);
    const ip = IP.parse(n.ip).toString();
    this.neighbors = this.neighbors.filter((x) => !(x.dev === n.dev && x.ip === ip));
    this.neighbors.push({ ...n, ip, ...(n.mac ? { mac: n.mac.toLowerCase() } : {}) });
  }

  async deleteNeighbor(n: { dev: string; ip: string }): Promise<void> {
    const op = `neigh del ${n.ip} dev ${n.dev}`;
    this.check(op);
    const i = this.neighbors.findIndex((x) => x.dev === n.dev && x.ip === n.ip);
    if (i < 0) fail('ENOENT', op, 'no such neighbour');
    this.record(op);
    this.neighbors.splice(i, 1);
  }

  async listFdb(dev: string): Promise<FdbEntry[]> {
    this.need(dev, `fdb show dev ${dev}`);
    return this.fdb.filter((e) => e.dev === dev).map(clone);
  }

  async replaceFdb(e: { dev: string; mac: string; dst: string }): Promise<void> {
    const op = `fdb replace ${e.mac} dst ${e.dst} dev ${e.dev} self permanent`;
    this.check(op);
    if (this.need(e.dev, op).kind !== 'vxlan') fail('EOPNOTSUPP', op, 'not a VXLAN device');
    this.record(op);
    const mac = e.mac.toLowerCase();
    const i = this.fdb.findIndex((x) => x.dev === e.dev && x.mac === mac);
    const entry: FdbEntry = { dev: e.dev, mac, dst: e.dst, permanent: true, self: true };
    if (i >= 0) this.fdb[i] = entry; // NLM_F_REPLACE swaps the remote of the existing entry
    else this.fdb.push(entry);
  }

  async deleteFdb(e: { dev: string; mac: string; dst?: string }): Promise<void> {
    const op = `fdb del ${e.mac}${e.dst ? ` dst ${e.dst}` : ''} dev ${e.dev} self`;
    this.check(op);
    const i = this.fdb.findIndex((x) => x.dev === e.dev && x.mac === e.mac.toLowerCase() && (!e.dst || x.dst === e.dst));
    if (i < 0) fail('ENOENT', op, 'no such FDB entry');
    this.record(op);
    this.fdb.splice(i, 1);
  }

  // ---------------------------------------------------------------------------------------------
  // Sysctl

  async read(path: string): Promise<string | undefined> {
    return this.sysctls.get(path);
  }

  async write(path: string, value: string): Promise<void> {
    this.record(`sysctl ${path}=${value}`);
    this.sysctls.set(path, value);
  }

  // ---------------------------------------------------------------------------------------------
  // Nft: the subset of the language the NAT reconciler writes — `table F N`, `delete table F N`,
  // `flush table F N` and `table F N { … }` blocks — applied atomically.

  async run(script: string): Promise<void> {
    const op = 'nft -f -';
    this.check(op);
    if (!this.fullyRandom && /\bfully-random\b/.test(script)) fail('NFT_FAILED', op, 'Error: syntax error, unexpected fully-random');
    const tables = new Map(this.tables);
    const text = script.replace(/#.*$/gm, '');
    let i = 0;
    while (i < text.length) {
      const rest = text.slice(i);
      const m = /^\s*(delete table|flush table|add table|table)\s+(ip6?|inet)\s+([\w-]+)\s*(\{)?/.exec(rest);
      if (!m) {
        if (rest.trim() === '') break;
        fail('NFT_FAILED', op, `fake nft cannot parse: ${rest.trim().split('\n')[0]}`);
      }
      const [whole, verb, fam, name, brace] = m;
      const id = `${fam} ${name}`;
      i += whole.length;
      if (verb === 'delete table') {
        if (!tables.has(id)) fail('NFT_FAILED', op, `Error: Could not process rule: No such file or directory (delete table ${id})`);
        tables.delete(id);
      } else if (verb === 'flush table') {
        if (!tables.has(id)) fail('NFT_FAILED', op, `Error: No such file or directory (flush table ${id})`);
        tables.set(id, `table ${id} {\n}\n`);
      } else if (!brace) {
        if (!tables.has(id)) tables.set(id, `table ${id} {\n}\n`);
      } else {
        let depth = 1;
        let j = i;
        for (; j < text.length && depth > 0; j++) depth += text[j] === '{' ? 1 : text[j] === '}' ? -1 : 0;
        if (depth !== 0) fail('NFT_FAILED', op, 'unbalanced braces');
        const body = text.slice(i, j - 1).trim();
        const old = tables.get(id);
        // Real nft would merge into a non-empty table (duplicating rules): the reason for "delete table" first.
        if (old !== undefined && /\{\s*\S/.test(old) && body !== '') fail('NFT_FAILED', op, `fake nft: table ${id} is not empty; real nft would merge`);
        tables.set(id, `table ${id} {\n${body}\n}\n`);
        i = j;
      }
    }
    this.record(`${op}\n${script}`);
    this.tables = tables;
  }

  async list(table: string): Promise<string | undefined> {
    return this.tables.get(table);
  }
}
