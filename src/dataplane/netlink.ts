/**
 * The real Netlink port: rtnetlink through the `netlink` npm package (the only file importing it).
 * Translates between tortie's strings and rtnetlink messages, and turns the package's
 * `Error("Request rejected: EEXIST")` into DataplaneError `{code: 'EEXIST'}` (STYLE §12).
 *
 * Tricky bits:
 *  - Interfaces are named in the port but addressed by ifindex on the wire. A name → index cache
 *    is refilled by every `listLinks()` (each apply starts with one) and on a miss; a device
 *    recreated behind our back between two applies costs one failed operation, then the next
 *    apply's listing heals it.
 *  - The kernel's IFLA_LINKINFO / IFLA_INFO_DATA are nested attribute streams the package leaves as
 *    raw Buffers; `ifla.parseInfo` / `ifla.parseVxlan` (and the format twins) do the nesting.
 *  - RTNH_F_ONLINK (4) lives in rtm_flags, which the package models only for the RTM_F_* bits: it
 *    shows up as `flags.__unknown`.
 *  - Deletes send scope NOWHERE (255), which the kernel reads as "any scope" — iproute2 does the same.
 *  - Route add/replace/delete — what every host does for every pod block — are encoded here
 *    (`routeMessage`). Where tortie's addon is built (`native/rtnl.c`) each is one synchronous call
 *    that sends it and reads its ACK on the addon's own socket (`requestNow`): the kernel answers a
 *    route request before the send returns, so a route change needs no second event-loop wake-up.
 *    Without the addon they are matched to their ACK by sequence number on the package's socket
 *    (`acked`). Listings and everything else go through the package's typed requests.
 *  - IPIP: creating `tunl0` needs the ipip module. Without it the kernel answers EOPNOTSUPP
 *    ("Unknown device type"); when /sys/module/ipip is also absent that is IPIP_UNSUPPORTED, a
 *    property of the host rather than a transient failure.
 */
import nl from 'netlink';
import type { RtNetlinkSocket, rt } from 'netlink';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { endianness } from 'node:os';
import { getSystemErrorName } from 'node:util';
import { IP, MAC, v4Format, v6Format } from '../net/index.js';
import { DataplaneError, type DataplaneErrorCode } from './errors.js';
import { describeRoute, type Address, type Family, type FdbEntry, type Link, type LinkChange, type Neighbor, type Netlink, type Route, type RouteOp, type RouteType, type VxlanSpec } from './port.js';

// Netlink message flags (linux/netlink.h).
const NLM_F_REPLACE = 0x100;
const NLM_F_EXCL = 0x200;
const NLM_F_CREATE = 0x400;
// Address families (linux/socket.h).
const AF_INET = 2;
const AF_BRIDGE = 7;
const AF_INET6 = 10;
const IF_OPER_UP = 6; // linux/if.h IF_OPER_*
const RTNH_F_ONLINK = 4; // linux/rtnetlink.h
const RT_SCOPE_NOWHERE = 255;
const MAIN_TABLE = 254;
const TIMEOUT_MS = 10_000;
// linux/netlink.h, linux/rtnetlink.h: what the route requests encode themselves.
const NLM_F_REQUEST = 0x1;
const NLM_F_ACK = 0x4;
const NLMSG_ERROR = 2;
const RTM_NEWROUTE = 24;
const RTM_DELROUTE = 25;
/** Message type, flags and `ip route` verb of each route mutation (as addRoute, replaceRoute, deleteRoute send them). */
const ROUTE_OPS: Record<RouteOp, [number, number, string]> = {
  add: [RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, 'add'],
  replace: [RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, 'replace'],
  delete: [RTM_DELROUTE, 0, 'del'],
};
const RTMSG_LEN = 12;
const RTA_DST = 1;
const RTA_OIF = 4;
const RTA_GATEWAY = 5;
const RTA_PRIORITY = 6;
const RTA_TABLE = 15;
const RT_SCOPE_LINK = 253;

// Netlink speaks the host's byte order.
const LE = endianness() === 'LE';
const put32 = (b: Buffer, v: number, at: number): number => (LE ? b.writeUInt32LE(v, at) : b.writeUInt32BE(v, at));
const put16 = (b: Buffer, v: number, at: number): number => (LE ? b.writeUInt16LE(v, at) : b.writeUInt16BE(v, at));
const getS32 = (b: Buffer, at: number): number => (LE ? b.readInt32LE(at) : b.readInt32BE(at));

/** The package's NetlinkSocket as `acked` uses it: raw send, and replies matched by sequence number. */
interface AckSocket {
  generateSeq(): number;
  makeRef(seq: number, cb: (err: Error | null, msgs: { type: number; data: Buffer }[]) => void): number;
  dropRef(seq: number): void;
  send(type: number, data: Buffer, options: { seq: number; flags: number; localPort: number }, cb: (e?: Error) => void): number;
}

interface Pending {
  deadline: number;
  fail(e: DataplaneError): void;
}

/** A negative errno from the kernel's NLMSG_ERROR as DataplaneError (EEXIST, ESRCH, ENETUNREACH, …). */
function errnoError(op: string, errno: number): DataplaneError {
  let code: string;
  try {
    code = getSystemErrorName(errno);
  } catch {
    code = 'EIO';
  }
  return new DataplaneError(code as DataplaneErrorCode, op, `${op}: ${code}`);
}

const ROUTE_TYPES: Record<string, RouteType> = {
  UNICAST: 'unicast',
  BLACKHOLE: 'blackhole',
  UNREACHABLE: 'unreachable',
  PROHIBIT: 'prohibit',
  LOCAL: 'local',
  BROADCAST: 'broadcast',
  ANYCAST: 'anycast',
  MULTICAST: 'multicast',
  THROW: 'throw',
};
/** RouteType → the kernel's RTN_* number: ROUTE_TYPES read back through the package's enum; 'other' is RTN_UNSPEC, which only a delete may send (any type matches). */
const RTN_TYPES = new Map<RouteType, number>([
  ...Object.entries(ROUTE_TYPES).map(([name, t]) => [t, nl.rt.RouteType[name as keyof typeof nl.rt.RouteType]] as [RouteType, number]),
  ['other', 0],
]);
const SCOPES: Record<string, Route['scope']> = { UNIVERSE: 'universe', SITE: 'site', LINK: 'link', HOST: 'host', NOWHERE: 'nowhere' };

/** The package reports the kernel's errno only inside the message text; this is the one place that reads it. */
function wrap(op: string, e: unknown): DataplaneError {
  if (e instanceof DataplaneError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  const m = /Request rejected: (E[A-Z0-9]+)/.exec(msg);
  const code = (m?.[1] ?? 'EIO') as DataplaneErrorCode;
  return new DataplaneError(code, op, `${op}: ${m ? code : msg}`, { cause: e });
}

function addrBytes(s: string): Buffer {
  const ip = IP.parse(s);
  return Buffer.from(ip.toBytes());
}

function familyOf(s: string): number {
  return s.includes(':') ? AF_INET6 : AF_INET;
}

function formatAddr(b: Buffer): string {
  if (b.length === 4) return v4Format(b.readUInt32BE(0));
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  return v6Format(v);
}

function formatMac(b: Buffer | undefined): string | undefined {
  return b && b.length === 6 ? MAC.fromBytes(b).toString() : undefined;
}

/** StreamData (what the package's format* functions return) → one Buffer, for attributes it keeps raw. */
function toBuffer(data: Parameters<InstanceType<typeof nl.AttrStream>['emit']>[0]): Buffer {
  const s = new nl.AttrStream();
  s.emit(data);
  return Buffer.concat(s.bufs);
}

export interface KernelNetlinkOptions {
  /** Request timeout (default 10 s). */
  timeoutMs?: number;
  /**
   * Route add/replace/delete as one synchronous request-and-ACK through tortie's native addon
   * (`native/rtnl.c`) where it is built (default true); false, or without the addon, through the
   * package's socket and the event loop.
   */
  syncRoutes?: boolean;
}

/** tortie's rtnetlink addon (`native/rtnl.c`): a request and its ACK in one call. */
interface RtnlAddon {
  open(): number;
  /** 0 for an ACK, else the kernel's positive errno (ETIMEDOUT when no answer came). */
  request(fd: number, message: Buffer): number;
  close(fd: number): void;
}

let rtnlAddon: RtnlAddon | null | undefined;

/** The addon, or null when it is not built (then route requests take the event-loop path). */
function loadRtnl(): RtnlAddon | null {
  if (rtnlAddon === undefined) {
    try {
      rtnlAddon = createRequire(import.meta.url)('tortie-native/rtnl.cjs') as RtnlAddon;
    } catch {
      rtnlAddon = null;
    }
  }
  return rtnlAddon;
}

const NLMSG_HDRLEN = 16;

export class KernelNetlink implements Netlink {
  private readonly sock: RtNetlinkSocket;
  private readonly indexByName = new Map<string, number>();
  private readonly nameByIndex = new Map<number, string>();
  private readonly timeout: number;
  private closed = false;
  /** The addon's socket for synchronous route requests: opened on first use, -1 when unavailable. */
  private syncFd: number | undefined;
  private syncSeq = 0;

  constructor(opts: KernelNetlinkOptions = {}) {
    this.sock = nl.createRtNetlink();
    this.timeout = opts.timeoutMs ?? TIMEOUT_MS;
    if (opts.syncRoutes === false) this.syncFd = -1;
  }

  /** Whether route requests go through the native addon's synchronous socket. */
  get syncRoutes(): boolean {
    return this.syncSocket() >= 0;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.syncFd !== undefined && this.syncFd >= 0) rtnlAddon?.close(this.syncFd);
    for (const p of [...this.inflight.values()]) p.fail(new DataplaneError('CLOSED', 'netlink', 'netlink: port closed with a request in flight'));
    if (this.sweepTimer !== undefined) clearTimeout(this.sweepTimer);
    this.sock.socket.close();
  }

  /** Runs one request, mapping failures to DataplaneError. */
  private async call<T>(op: string, fn: () => Promise<T>): Promise<T> {
    if (this.closed) throw new DataplaneError('CLOSED', op, `${op}: netlink port is closed`);
    try {
      return await fn();
    } catch (e) {
      throw wrap(op, e);
    }
  }

  private port: number | undefined;

  private localPort(): number {
    this.port ??= this.sock.socket.address().port;
    return this.port;
  }

  /** `localPort` given: the library otherwise asks the kernel for it (getsockname) on every request. */
  private opts(flags = 0): { flags: number; timeout: number; localPort: number } {
    return { flags, timeout: this.timeout, localPort: this.localPort() };
  }

  private remember(index: number, name: string): void {
    this.indexByName.set(name, index);
    this.nameByIndex.set(index, name);
  }

  private forget(name: string): void {
    const i = this.indexByName.get(name);
    this.indexByName.delete(name);
    if (i !== undefined) this.nameByIndex.delete(i);
  }

  private async indexOf(name: string, op: string): Promise<number> {
    const cached = this.indexByName.get(name);
    if (cached !== undefined) return cached;
    try {
      const [m] = await this.sock.getLink({}, { ifname: name }, this.opts());
      if (m?.data.index) {
        this.remember(m.data.index, name);
        return m.data.index;
      }
    } catch (e) {
      const w = wrap(op, e);
      if (w.code !== 'ENODEV') throw w;
    }
    throw new DataplaneError('NO_SUCH_LINK', op, `${op}: no interface named ${JSON.stringify(name)}`);
  }

  // ---------------------------------------------------------------------------------------------
  // Links

  async listLinks(): Promise<Link[]> {
    const msgs = await this.call('link show', () => this.sock.getLinks(undefined, undefined, this.opts()));
    this.indexByName.clear();
    this.nameByIndex.clear();
    const out: Link[] = [];
    for (const m of msgs) {
      const name = m.attrs.ifname;
      const index = m.data.index;
      if (name === undefined || index === undefined) continue;
      this.remember(index, name);
      const info = m.attrs.linkinfo ? nl.ifla.parseInfo(m.attrs.linkinfo) : undefined;
      const link: Link = {
        index,
        name,
        kind: info?.kind ?? 'device',
        mtu: m.attrs.mtu ?? 0,
        up: !!m.data.flags?.up,
        operUp: m.attrs.operstate === IF_OPER_UP,
      };
      const mac = formatMac(m.attrs.address);
      if (mac) link.mac = mac;
      if (info?.kind === 'vxlan' && info.data) {
        const v = nl.ifla.parseVxlan(info.data);
        link.vxlan = { vni: v.id ?? 0, port: v.port ? v.port.readUInt16BE(0) : 0, learning: !!v.learning };
        const local = v.local ?? v.local6;
        if (local && local.some((x) => x !== 0)) link.vxlan.local = formatAddr(local);
        if (v.link) link.vxlan.parentIndex = v.link;
      }
      out.push(link);
    }
    return out;
  }

  async createVxlan(spec: VxlanSpec): Promise<void> {
    const op = `link add ${spec.name} type vxlan id ${spec.vni}`;
    const parent = await this.indexOf(spec.parent, op);
    const v6 = spec.local.includes(':');
    const data = toBuffer(
      nl.ifla.formatVxlan({
        id: spec.vni,
        port: Buffer.from([spec.port >> 8, spec.port & 0xff]), // big-endian on the wire
        ...(v6 ? { local6: addrBytes(spec.local) } : { local: addrBytes(spec.local) }),
        link: parent,
        learning: 0,
      }),
    );
    const attrs: Parameters<RtNetlinkSocket['newLink']>[1] = {
      ifname: spec.name,
      linkinfo: toBuffer(nl.ifla.formatInfo({ kind: 'vxlan', data })),
    };
    if (spec.mtu) attrs.mtu = spec.mtu;
    if (spec.mac) attrs.address = Buffer.from(MAC.parse(spec.mac).toBytes());
    await this.call(op, () => this.sock.newLink({}, attrs, this.opts(NLM_F_CREATE | NLM_F_EXCL)));
    this.forget(spec.name);
  }

  async createIpip(name: string): Promise<void> {
    const op = `link add ${name} type ipip`;
    try {
      await this.indexOf(name, op);
      return; // the module made its fallback device already
    } catch (e) {
      if (!(e instanceof DataplaneError && e.code === 'NO_SUCH_LINK')) throw e;
    }
    try {
      const linkinfo = toBuffer(nl.ifla.formatInfo({ kind: 'ipip' }));
      await this.call(op, () => this.sock.newLink({}, { ifname: name, linkinfo }, this.opts(NLM_F_CREATE | NLM_F_EXCL)));
    } catch (e) {
      const w = wrap(op, e);
      // EOPNOTSUPP = "Unknown device type": no ipip driver, and the kernel could not load one.
      if (['EOPNOTSUPP', 'ENOTSUP'].includes(w.code) && !existsSync('/sys/module/ipip')) {
        throw new DataplaneError(
          'IPIP_UNSUPPORTED',
          op,
          `this kernel has no IPIP support (creating ${name} failed with ${w.code} and /sys/module/ipip does not exist; ` +
            'load the ipip module, or use VXLAN or no encapsulation)',
          { cause: w },
        );
      }
      if (w.code !== 'EEXIST') throw w;
    }
  }

  async setLink(name: string, change: LinkChange): Promise<void> {
    const op = `link set ${name}${change.up === undefined ? '' : change.up ? ' up' : ' down'}${change.mtu ? ` mtu ${change.mtu}` : ''}${change.mac ? ` address ${change.mac}` : ''}`;
    const index = await this.indexOf(name, op);
    const data: rt.Link = { index };
    if (change.up !== undefined) {
      data.flags = change.up ? { up: true } : {};
      data.change = { up: true };
    }
    const attrs: Parameters<RtNetlinkSocket['setLink']>[1] = {};
    if (change.mtu !== undefined) attrs.mtu = change.mtu;
    if (change.mac !== undefined) attrs.address = Buffer.from(MAC.parse(change.mac).toBytes());
    await this.call(op, () => this.sock.setLink(data, attrs, this.opts()));
  }

  async deleteLink(name: string): Promise<void> {
    const op = `link del ${name}`;
    const index = await this.indexOf(name, op);
    await this.call(op, () => this.sock.delLink({ index }, {}, this.opts()));
    this.forget(name);
  }

  // ---------------------------------------------------------------------------------------------
  // Addresses

  async listAddresses(dev: string): Promise<Address[]> {
    const op = `addr show dev ${dev}`;
    const index = await this.indexOf(dev, op);
    const msgs = await this.call(op, () => this.sock.getAddresses(undefined, undefined, this.opts()));
    const out: Address[] = [];
    for (const m of msgs) {
      if (m.data.index !== index) continue;
      const a = m.attrs.local ?? m.attrs.address; // IFA_LOCAL is the interface's own address
      if (a) out.push({ dev, cidr: `${formatAddr(a)}/${m.data.prefixlen ?? 0}` });
    }
    return out;
  }

  private addrMsg(addr: Address, index: number): [rt.Address, rt.AddressAttrs] {
    const [ip, len] = addr.cidr.split('/');
    const b = addrBytes(ip ?? '');
    const family = familyOf(ip ?? '');
    return [
      { family, prefixlen: Number(len ?? (family === AF_INET ? 32 : 128)), index },
      family === AF_INET ? { local: b, address: b } : { address: b, flags: { nodad: true } },
    ];
  }

  async addAddress(addr: Address): Promise<void> {
    const op = `addr add ${addr.cidr} dev ${addr.dev}`;
    const [data, attrs] = this.addrMsg(addr, await this.indexOf(addr.dev, op));
    await this.call(op, () => this.sock.newAddress(data, attrs, this.opts(NLM_F_CREATE | NLM_F_EXCL)));
  }

  async delAddress(addr: Address): Promise<void> {
    const op = `addr del ${addr.cidr} dev ${addr.dev}`;
    const [data, attrs] = this.addrMsg(addr, await this.indexOf(addr.dev, op));
    await this.call(op, () => this.sock.delAddress(data, attrs, this.opts()));
  }

  // ---------------------------------------------------------------------------------------------
  // Routes

  async listRoutes(family: Family): Promise<Route[]> {
    const af = family === 4 ? AF_INET : AF_INET6;
    let msgs: rt.RouteMessage[];
    try {
      msgs = await this.call(`route show (IPv${family})`, () => this.sock.getRoutes({ family: af }, undefined, this.opts()));
    } catch (e) {
      // A kernel booted with ipv6.disable=1 has no IPv6 routing at all: nothing of ours can be there.
      if (family === 6 && e instanceof DataplaneError && e.code === 'EAFNOSUPPORT') return [];
      throw e;
    }
    await this.listLinks(); // fresh ifindex → name for `oif`
    const out: Route[] = [];
    for (const m of msgs) {
      const d = m.data;
      if (d.family !== af || d.flags?.cloned) continue; // cached clones are not routes anyone added
      const len = d.dstLen ?? 0;
      const dstAddr = m.attrs.dst ? formatAddr(m.attrs.dst) : family === 4 ? '0.0.0.0' : '::';
      const protocol = typeof d.protocol === 'number' ? d.protocol : nl.rt.RouteProtocol[d.protocol ?? 'REDIRECT'] ?? 0;
      const typeName = typeof d.type === 'number' ? nl.rt.RouteType[d.type] : d.type;
      const scopeName = typeof d.scope === 'number' ? nl.rt.RouteScope[d.scope] : d.scope;
      const r: Route = {
        dst: `${dstAddr}/${len}`,
        type: ROUTE_TYPES[typeName ?? ''] ?? 'other',
        table: m.attrs.table ?? d.table ?? 0,
        protocol,
        metric: m.attrs.priority ?? 0,
      };
      const scope = SCOPES[scopeName ?? ''];
      if (scope) r.scope = scope;
      if (m.attrs.gateway) r.gateway = formatAddr(m.attrs.gateway);
      if (m.attrs.oif !== undefined) {
        const name = this.nameByIndex.get(m.attrs.oif);
        if (name !== undefined) r.dev = name;
      }
      if (((d.flags?.__unknown ?? 0) & RTNH_F_ONLINK) !== 0) r.onlink = true;
      out.push(r);
    }
    return out;
  }

  /**
   * RTM_NEWROUTE / RTM_DELROUTE message: room for the netlink header (filled by `requestNow`; `acked` sends
   * the rest through the package, which adds its own), then the body (struct rtmsg + attributes), encoded
   * here rather than through the package's generic structs: route changes are what every host does for
   * every pod block in the cluster.
   */
  private routeMessage(route: Route, forDelete: boolean, oif: number | undefined): Buffer {
    const slash = route.dst.indexOf('/');
    const ip = slash < 0 ? route.dst : route.dst.slice(0, slash);
    const len = slash < 0 ? NaN : Number(route.dst.slice(slash + 1));
    const dst = IP.parse(ip);
    const bits = dst.bits;
    if (!Number.isInteger(len) || len < 0 || len > bits) throw new DataplaneError('INVALID_PLAN', 'route', `route ${route.dst}: not a prefix`);
    const addrLen = bits / 8;
    const table = route.table ?? MAIN_TABLE;
    const type = RTN_TYPES.get(route.type);
    if (type === undefined || (type === 0 && !forDelete)) throw new DataplaneError('INVALID_PLAN', 'route', `route ${route.dst}: unknown type ${String(route.type)}`);
    const gateway = !forDelete && route.gateway ? IP.parse(route.gateway) : undefined;
    const attrLen = (n: number) => 4 + ((n + 3) & ~3);
    let size = RTMSG_LEN + attrLen(4); // RTA_TABLE
    if (len > 0) size += attrLen(addrLen);
    if (route.metric) size += attrLen(4);
    if (gateway) size += attrLen(gateway.bits / 8);
    if (oif !== undefined) size += attrLen(4);
    const msg = Buffer.alloc(NLMSG_HDRLEN + size);
    const b = msg.subarray(NLMSG_HDRLEN);
    b[0] = bits === 32 ? AF_INET : AF_INET6;
    b[1] = len;
    b[4] = table < 256 ? table : 252; // RT_TABLE_COMPAT: the real id goes in RTA_TABLE
    b[5] = route.protocol;
    // A device route (no gateway) is scope link; everything else universe. Deletes: any scope.
    b[6] = forDelete ? RT_SCOPE_NOWHERE : route.type === 'unicast' && !route.gateway ? RT_SCOPE_LINK : 0;
    b[7] = type;
    if (route.onlink && !forDelete) put32(b, RTNH_F_ONLINK, 8);
    let at = RTMSG_LEN;
    const attr = (kind: number, n: number): number => {
      put16(b, 4 + n, at);
      put16(b, kind, at + 2);
      const data = at + 4;
      at += attrLen(n);
      return data;
    };
    put32(b, table, attr(RTA_TABLE, 4));
    if (len > 0) b.set(dst.toBytes(), attr(RTA_DST, addrLen));
    if (route.metric) put32(b, route.metric, attr(RTA_PRIORITY, 4));
    if (gateway) b.set(gateway.toBytes(), attr(RTA_GATEWAY, gateway.bits / 8));
    if (oif !== undefined) put32(b, oif, attr(RTA_OIF, 4));
    return msg;
  }

  /**
   * One request answered by an ACK or an error: sent and matched by sequence number on the package's socket,
   * without its promise chain, per-request timer and reply parsing (a third of a route change's cost).
   */
  private acked(type: number, flags: number, body: Buffer, op: string): Promise<void> {
    if (this.closed) return Promise.reject(new DataplaneError('CLOSED', op, `${op}: netlink port is closed`));
    const s = this.sock.socket as unknown as AckSocket;
    return new Promise<void>((resolve, reject) => {
      const seq = s.generateSeq();
      const pending: Pending = { deadline: performance.now() + this.timeout, fail: (e) => settle(e) };
      const settle = (e: DataplaneError | undefined): void => {
        if (!this.inflight.delete(seq)) return;
        s.dropRef(seq);
        if (e) reject(e);
        else resolve();
      };
      try {
        s.makeRef(seq, (err, msgs) => {
          if (err) return settle(wrap(op, err));
          const m = msgs[0];
          if (m === undefined || m.type !== NLMSG_ERROR || m.data.length < 4) return settle(new DataplaneError('EIO', op, `${op}: unexpected reply`));
          const errno = getS32(m.data, 0);
          if (errno === 0) return settle(undefined);
          settle(errnoError(op, errno));
        });
      } catch (e) {
        reject(wrap(op, e));
        return;
      }
      this.inflight.set(seq, pending);
      this.armSweep();
      try {
        s.send(type, body, { seq, flags: flags | NLM_F_REQUEST | NLM_F_ACK, localPort: this.localPort() }, (e) => {
          if (e) settle(wrap(op, e));
        });
      } catch (e) {
        settle(wrap(op, e));
      }
    });
  }

  private syncSocket(): number {
    if (this.syncFd === undefined) {
      const addon = loadRtnl();
      try {
        this.syncFd = addon ? addon.open() : -1;
      } catch {
        this.syncFd = -1;
      }
    }
    return this.syncFd;
  }

  /**
   * One request and its ACK in a single call through the addon: the kernel handles a route request
   * inside the send and queues the answer before it returns, so nothing waits on the event loop.
   * `msg` is a `routeMessage`, whose header this fills in. Undefined when it was done, its error when it
   * failed, false when the addon is not available (nothing was sent).
   */
  private requestNow(type: number, flags: number, msg: Buffer, op: () => string): DataplaneError | undefined | false {
    const fd = this.syncSocket();
    if (fd < 0) return false;
    put32(msg, msg.length, 0);
    put16(msg, type, 4);
    put16(msg, flags | NLM_F_REQUEST | NLM_F_ACK, 6);
    this.syncSeq = (this.syncSeq + 1) >>> 0;
    put32(msg, this.syncSeq, 8);
    put32(msg, 0, 12);
    try {
      const errno = rtnlAddon!.request(fd, msg);
      return errno === 0 ? undefined : errnoError(op(), -errno);
    } catch (e) {
      return wrap(op(), e);
    }
  }

  /** Requests sent by `acked` and not answered yet, by sequence number. */
  private readonly inflight = new Map<number, Pending>();
  private sweepTimer: NodeJS.Timeout | undefined;

  /** One timer for every request in flight (not one each): fails those past their deadline. */
  private armSweep(): void {
    if (this.sweepTimer !== undefined) return;
    this.sweepTimer = setTimeout(() => {
      this.sweepTimer = undefined;
      const t = performance.now();
      for (const p of [...this.inflight.values()]) if (p.deadline <= t) p.fail(new DataplaneError('ETIMEDOUT', 'netlink', `netlink: no answer within ${this.timeout} ms`));
      if (this.inflight.size > 0) this.armSweep();
    }, Math.min(this.timeout, 1000));
    this.sweepTimer.unref();
  }

  /**
   * A route change. With the addon and the device's index known, synchronous up to the returned
   * promise, and the operation's text (for errors) is only built when something fails.
   */
  private route(route: Route, type: number, flags: number, verb: string): Promise<void> {
    if (type === RTM_DELROUTE || !route.dev) return this.sendRoute(route, type, flags, verb, undefined);
    const oif = this.indexByName.get(route.dev);
    if (oif !== undefined) return this.sendRoute(route, type, flags, verb, oif);
    // The device's index must be asked for first.
    return this.indexOf(route.dev, `route ${verb} ${describeRoute(route)}`).then((i) => this.sendRoute(route, type, flags, verb, i));
  }

  private sendRoute(route: Route, type: number, flags: number, verb: string, oif: number | undefined): Promise<void> {
    const describe = (): string => `route ${verb} ${describeRoute(route)}`;
    let msg: Buffer;
    try {
      msg = this.routeMessage(route, type === RTM_DELROUTE, oif);
    } catch (e) {
      const op = describe();
      return Promise.reject(e instanceof DataplaneError ? new DataplaneError(e.code, op, `${op}: ${e.message}`) : wrap(op, e));
    }
    if (this.closed) {
      const op = describe();
      return Promise.reject(new DataplaneError('CLOSED', op, `${op}: netlink port is closed`));
    }
    const now = this.requestNow(type, flags, msg, describe);
    if (now === false) return this.acked(type, flags, msg.subarray(NLMSG_HDRLEN), describe());
    return now === undefined ? Promise.resolve() : Promise.reject(now);
  }

  addRoute(route: Route): Promise<void> {
    return this.route(route, ...ROUTE_OPS.add);
  }

  replaceRoute(route: Route): Promise<void> {
    return this.route(route, ...ROUTE_OPS.replace);
  }

  deleteRoute(route: Route): Promise<void> {
    return this.route(route, ...ROUTE_OPS.delete);
  }

  routeNow(op: RouteOp, route: Route): DataplaneError | undefined | false {
    if (this.closed) return false;
    const [type, flags, verb] = ROUTE_OPS[op];
    let oif: number | undefined;
    if (type !== RTM_DELROUTE && route.dev) {
      oif = this.indexByName.get(route.dev);
      if (oif === undefined) return false; // its index must be asked for first
    }
    let msg: Buffer;
    try {
      msg = this.routeMessage(route, type === RTM_DELROUTE, oif);
    } catch {
      return false; // not a route the kernel can be sent: the promise-returning method says why
    }
    return this.requestNow(type, flags, msg, () => `route ${verb} ${describeRoute(route)}`);
  }

  // ---------------------------------------------------------------------------------------------
  // Neighbours and FDB

  async listNeighbors(dev: string): Promise<Neighbor[]> {
    const op = `neigh show dev ${dev}`;
    const index = await this.indexOf(dev, op);
    const out: Neighbor[] = [];
    for (const family of [AF_INET, AF_INET6]) {
      const msgs = await this.call(op, () => this.sock.getNeighbors({ family }, undefined, this.opts()));
      for (const m of msgs) {
        if (m.data.ifindex !== index || m.data.family !== family || !m.attrs.dst) continue;
        const n: Neighbor = { dev, ip: formatAddr(m.attrs.dst), permanent: !!m.data.state?.permanent };
        const mac = formatMac(m.attrs.lladdr);
        if (mac) n.mac = mac;
        out.push(n);
      }
    }
    return out;
  }

  async replaceNeighbor(n: Neighbor): Promise<void> {
    const op = `neigh replace ${n.ip} lladdr ${n.mac} dev ${n.dev}${n.permanent ? ' permanent' : ''}`;
    const ifindex = await this.indexOf(n.dev, op);
    const attrs: rt.NeighborAttrs = { dst: addrBytes(n.ip) };
    if (n.mac) attrs.lladdr = Buffer.from(MAC.parse(n.mac).toBytes());
    const state: rt.NeighborState = n.permanent ? { permanent: true } : { reachable: true };
    await this.call(op, () =>
      this.sock.newNeighbor({ family: familyOf(n.ip), ifindex, state }, attrs, this.opts(NLM_F_CREATE | NLM_F_REPLACE)),
    );
  }

  async deleteNeighbor(n: { dev: string; ip: string }): Promise<void> {
    const op = `neigh del ${n.ip} dev ${n.dev}`;
    const ifindex = await this.indexOf(n.dev, op);
    await this.call(op, () => this.sock.delNeighbor({ family: familyOf(n.ip), ifindex }, { dst: addrBytes(n.ip) }, this.opts()));
  }

  async listFdb(dev: string): Promise<FdbEntry[]> {
    const op = `fdb show dev ${dev}`;
    const index = await this.indexOf(dev, op);
    const msgs = await this.call(op, () => this.sock.getNeighbors({ family: AF_BRIDGE }, undefined, this.opts()));
    const out: FdbEntry[] = [];
    for (const m of msgs) {
      if (m.data.ifindex !== index) continue;
      const mac = formatMac(m.attrs.lladdr);
      if (!mac) continue;
      const e: FdbEntry = { dev, mac, permanent: !!m.data.state?.permanent, self: !!m.data.flags?.self };
      if (m.attrs.dst) e.dst = formatAddr(m.attrs.dst);
      out.push(e);
    }
    return out;
  }

  async replaceFdb(e: { dev: string; mac: string; dst: string }): Promise<void> {
    const op = `fdb replace ${e.mac} dst ${e.dst} dev ${e.dev} self permanent`;
    const ifindex = await this.indexOf(e.dev, op);
    await this.call(op, () =>
      this.sock.newNeighbor(
        { family: AF_BRIDGE, ifindex, state: { permanent: true }, flags: { self: true } },
        { lladdr: Buffer.from(MAC.parse(e.mac).toBytes()), dst: addrBytes(e.dst) },
        this.opts(NLM_F_CREATE | NLM_F_REPLACE),
      ),
    );
  }

  async deleteFdb(e: { dev: string; mac: string; dst?: string }): Promise<void> {
    const op = `fdb del ${e.mac}${e.dst ? ` dst ${e.dst}` : ''} dev ${e.dev} self`;
    const ifindex = await this.indexOf(e.dev, op);
    const attrs: rt.NeighborAttrs = { lladdr: Buffer.from(MAC.parse(e.mac).toBytes()) };
    if (e.dst) attrs.dst = addrBytes(e.dst);
    await this.call(op, () => this.sock.delNeighbor({ family: AF_BRIDGE, ifindex, flags: { self: true } }, attrs, this.opts()));
  }
}
