/**
 * The ports the dataplane talks to the kernel through, in tortie's terms: interfaces by name,
 * addresses and prefixes as strings (`10.244.1.0/26`, `fd00::1`), MACs as `aa:bb:cc:dd:ee:ff`.
 * Nothing here knows about netlink messages; `netlink.ts` translates, `fake.ts` keeps the same
 * state in memory.
 *
 * Contract shared by both implementations (the reconcilers rely on it):
 *  - list* calls have no side effects and return fresh objects the caller may keep;
 *  - mutations either happen completely or throw a DataplaneError (kernel errno as the code);
 *  - `replace*` are idempotent (NLM_F_CREATE|NLM_F_REPLACE: one atomic step, never a delete +
 *    add, so a changed route never leaves a gap), `add*` fail with EEXIST when the key is taken;
 *  - deleting something that is already gone throws a "missing" code (ENOENT/ESRCH/…): the
 *    caller decides whether that matters.
 */

import type { DataplaneError } from './errors.js';

export type Family = 4 | 6;

/** A route mutation, for `Netlink.routeNow`. */
export type RouteOp = 'add' | 'replace' | 'delete';

export interface VxlanInfo {
  vni: number;
  /** UDP destination port. */
  port: number;
  /** Source address (`local`), when set. */
  local?: string;
  /** ifindex of the parent device (`dev`), when set. */
  parentIndex?: number;
  learning: boolean;
}

export interface Link {
  index: number;
  name: string;
  /** rtnetlink IFLA_INFO_KIND (`vxlan`, `ipip`, `veth`, `bridge`, …); `device` when there is none (physical NICs, lo). */
  kind: string;
  mtu: number;
  /** Administratively up (IFF_UP). */
  up: boolean;
  /** RFC 2863 operational state UP (what felix's host-MTU scan looks at). */
  operUp: boolean;
  mac?: string;
  vxlan?: VxlanInfo;
}

export interface VxlanSpec {
  name: string;
  vni: number;
  port: number;
  /** Source address of the encapsulated packets (our parent-interface IP). */
  local: string;
  /** Parent interface name. */
  parent: string;
  mac?: string;
  mtu?: number;
}

export interface LinkChange {
  mtu?: number;
  up?: boolean;
  mac?: string;
}

export interface Address {
  dev: string;
  /** Address with its prefix length, host bits kept: `192.168.1.10/24`, `10.244.1.0/32`. */
  cidr: string;
}

export type RouteType =
  | 'unicast'
  | 'blackhole'
  | 'unreachable'
  | 'prohibit'
  | 'local'
  | 'broadcast'
  | 'anycast'
  | 'multicast'
  | 'throw'
  | 'other';

export interface Route {
  /** Canonical CIDR of the destination (`0.0.0.0/0` for a default route). */
  dst: string;
  type: RouteType;
  /** Routing table id (254 = main). Default 254 on writes. */
  table?: number;
  /** rtm_protocol (2 kernel, 3 boot, 4 static, 12 bird, 93 tortie). */
  protocol: number;
  gateway?: string;
  /** Output device name. */
  dev?: string;
  /** RTNH_F_ONLINK: the gateway is on the device's link even though no prefix says so. */
  onlink?: boolean;
  /** RTA_PRIORITY. Unset = 0 for IPv4; the kernel makes it 1024 for IPv6. */
  metric?: number;
  /** rtm_scope, as listed (writes derive it from the type: link for device routes, else universe). */
  scope?: 'universe' | 'site' | 'link' | 'host' | 'nowhere';
}

export interface Neighbor {
  dev: string;
  ip: string;
  mac?: string;
  /** NUD_PERMANENT: never expires, never re-resolved. */
  permanent: boolean;
}

export interface FdbEntry {
  dev: string;
  mac: string;
  /** The VXLAN remote (NDA_DST), when the entry has one. */
  dst?: string;
  permanent: boolean;
  /** NTF_SELF: the entry lives in the device's own table (vxlan), not a bridge master's. */
  self: boolean;
}

/** rtnetlink, the way the reconcilers need it. */
export interface Netlink {
  listLinks(): Promise<Link[]>;
  /** Creates a VXLAN device (learning off), down. EEXIST if the name is taken. */
  createVxlan(spec: VxlanSpec): Promise<void>;
  /**
   * Makes sure the IPIP fallback device `name` (tunl0) exists. Throws DataplaneError
   * IPIP_UNSUPPORTED when the kernel has no ipip support.
   */
  createIpip(name: string): Promise<void>;
  setLink(name: string, change: LinkChange): Promise<void>;
  deleteLink(name: string): Promise<void>;

  listAddresses(dev: string): Promise<Address[]>;
  addAddress(addr: Address): Promise<void>;
  delAddress(addr: Address): Promise<void>;

  /** Every route of the family in every table (callers filter by table and protocol). */
  listRoutes(family: Family): Promise<Route[]>;
  /** NLM_F_CREATE|NLM_F_EXCL. */
  addRoute(route: Route): Promise<void>;
  /** NLM_F_CREATE|NLM_F_REPLACE: replaces the route with the same (table, dst, metric) in one step. */
  replaceRoute(route: Route): Promise<void>;
  /** Deletes the route with this table, dst, metric, type and protocol (protocol 0 = any). */
  deleteRoute(route: Route): Promise<void>;
  /**
   * addRoute, replaceRoute or deleteRoute done before returning, where the port can do that (tortie's netlink
   * addon, the device's index known): undefined when it was done, its error when it failed, false when it cannot
   * be done this way (nothing was sent; the promise-returning method can). Optional.
   */
  routeNow?(op: RouteOp, route: Route): DataplaneError | undefined | false;

  listNeighbors(dev: string): Promise<Neighbor[]>;
  replaceNeighbor(n: Neighbor): Promise<void>;
  deleteNeighbor(n: { dev: string; ip: string }): Promise<void>;

  /** The device's own forwarding database (AF_BRIDGE, NTF_SELF). */
  listFdb(dev: string): Promise<FdbEntry[]>;
  /** A permanent `<mac> dst <dst> dev <dev> self` entry, replacing the remote of an existing one. */
  replaceFdb(e: { dev: string; mac: string; dst: string }): Promise<void>;
  /** Deletes the entry (only the remote `dst` when given). */
  deleteFdb(e: { dev: string; mac: string; dst?: string }): Promise<void>;

  close(): void;
}

/** /proc/sys, by path relative to it with `/` separators (`net/ipv4/ip_forward`): dotted names are ambiguous for `vxlan.calico`. */
export interface Sysctl {
  /** The value without the trailing newline, or undefined when the file does not exist. */
  read(path: string): Promise<string | undefined>;
  write(path: string, value: string): Promise<void>;
}

/** nftables through `nft`. */
export interface Nft {
  /** Feeds `script` to `nft -f -`: one transaction, all or nothing. Throws NFT_FAILED. */
  run(script: string): Promise<void>;
  /** `nft list table <table>` (table = `ip tortie`), or undefined when there is no such table. */
  list(table: string): Promise<string | undefined>;
}

/** `ip route`-like text for logs, errors and the fake's operation log. */
export function describeRoute(r: Route): string {
  const parts = [r.type === 'unicast' ? '' : `${r.type} `, r.dst];
  if (r.gateway) parts.push(` via ${r.gateway}`);
  if (r.dev) parts.push(` dev ${r.dev}`);
  if (r.onlink) parts.push(' onlink');
  parts.push(` proto ${r.protocol}`);
  if (r.metric) parts.push(` metric ${r.metric}`);
  if (r.table !== undefined && r.table !== 254) parts.push(` table ${r.table}`);
  return parts.join('');
}
