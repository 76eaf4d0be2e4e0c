/**
 * Test builders for the routing plan: terse constructors for the v3 resources it reads, and a
 * policy evaluator that runs a planned PolicyDefinition through the real `Policy` class, so tests
 * assert on decisions (accepted? which communities?) rather than on rule lists.
 */
import type { Resource } from '../api/meta.js';
import { Policy, type PolicyDefinition } from '../bgp/policy.js';
import { AttrTable } from '../bgp/rib/attrs.js';
import { ORIGIN, p4, type Prefix4 } from '../bgp/types.js';
import { v4Parse } from '../net/index.js';
import type { BlockInfo, RoutingInput } from './types.js';

const res = (kind: string, name: string, spec: Record<string, unknown>, labels?: Record<string, string>): Resource => ({
  apiVersion: 'projectcalico.org/v3',
  kind,
  metadata: labels ? { name, labels } : { name },
  spec,
});

export interface NodeOpts {
  ip?: string;
  ip6?: string;
  as?: number | string;
  rr?: string;
  labels?: Record<string, string>;
  vxlan?: string;
  mac?: string;
  ipip?: string;
}

export function node(name: string, o: NodeOpts = {}): Resource {
  const bgp: Record<string, unknown> = {};
  if (o.ip) bgp.ipv4Address = o.ip;
  if (o.ip6) bgp.ipv6Address = o.ip6;
  if (o.as !== undefined) bgp.asNumber = o.as;
  if (o.rr) bgp.routeReflectorClusterID = o.rr;
  if (o.ipip) bgp.ipv4IPIPTunnelAddr = o.ipip;
  const spec: Record<string, unknown> = Object.keys(bgp).length ? { bgp } : {};
  if (o.vxlan) spec.ipv4VXLANTunnelAddr = o.vxlan;
  if (o.mac) spec.vxlanTunnelMACAddr = o.mac;
  return res('Node', name, spec, o.labels);
}

export const bgpConfig = (name: string, spec: Record<string, unknown>) => res('BGPConfiguration', name, spec);
export const bgpPeer = (name: string, spec: Record<string, unknown>) => res('BGPPeer', name, spec);
export const bgpFilter = (name: string, spec: Record<string, unknown>) => res('BGPFilter', name, spec);
export const ipPool = (name: string, spec: Record<string, unknown>) => res('IPPool', name, spec);
export const felixConfig = (name: string, spec: Record<string, unknown>) => res('FelixConfiguration', name, spec);

export function block(cidr: string, affinityHost?: string, o: Partial<BlockInfo> = {}): BlockInfo {
  const b: BlockInfo = { cidr, allocations: o.allocations ?? [] };
  if (affinityHost) b.affinityHost = affinityHost;
  if (o.affinityState) b.affinityState = o.affinityState;
  return b;
}

export function input(nodeName: string, o: Partial<RoutingInput> = {}): RoutingInput {
  return { nodeName, nodes: [], bgpConfigurations: [], bgpPeers: [], bgpFilters: [], ipPools: [], blocks: [], ...o };
}

const table = new AttrTable();

function toPrefix(cidr: string): Prefix4 | string {
  const [a, len] = cidr.split('/') as [string, string];
  const v = v4Parse(a);
  return v >= 0 ? p4(v, Number(len)) : cidr;
}

export interface Decision {
  accepted: boolean;
  communities: number[];
  largeCommunities: [number, number, number][];
  localPref?: number;
  asPath: number[];
}

/** Runs `def` on one route. Defaults: export towards an iBGP peer, a locally originated route. */
export function decide(
  def: PolicyDefinition,
  cidr: string,
  o: { direction?: 'import' | 'export'; peerKind?: 'ibgp' | 'ebgp'; source?: 'bgp' | 'local'; communities?: number[]; asPath?: number[] } = {},
): Decision {
  const family = cidr.includes(':') ? 'ipv6' : 'ipv4';
  const attrs = table.intern({
    origin: ORIGIN.IGP,
    asPath: o.asPath ? [{ type: 2, asns: o.asPath }] : [],
    nextHop: family === 'ipv4' ? '192.0.2.1' : '2001:db8::1',
    ...(o.communities ? { communities: o.communities } : {}),
  });
  const r = new Policy(def).apply(toPrefix(cidr), attrs, { family, direction: o.direction ?? 'export', peerKind: o.peerKind ?? 'ibgp', source: o.source ?? 'local' }, table);
  const d: Decision = {
    accepted: r !== null,
    communities: [...(r?.attrs.communities ?? [])],
    largeCommunities: (r?.attrs.largeCommunities ?? []).map((l) => [l[0], l[1], l[2]] as [number, number, number]),
    asPath: (r?.attrs.asPath ?? []).flatMap((s) => [...s.asns]),
  };
  if (r?.attrs.localPref !== undefined) d.localPref = r.attrs.localPref;
  return d;
}

/** `aa:nn` as the uint32 the policy carries. */
export const community = (a: number, n: number) => (a * 65536 + n) >>> 0;
