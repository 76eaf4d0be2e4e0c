/**
 * Node (libcalico-go/lib/apis/internalapi/node.go; validator.go validateNodeSpec). Node is an
 * internal kind: it has no CRD, so in etcd mode nothing but the go-playground validator runs —
 * no defaults, no OpenAPI constraints, no CEL.
 *
 * Field tags, in declaration order: spec.bgp (`cidrv4` on ipv4Address and `cidrv6` on
 * ipv6Address — the node address *with its subnet*, so an unmasked CIDR or a bare IP is fine;
 * `ipv4` on the IPIP tunnel address and on routeReflectorClusterID), the VXLAN tunnel
 * addresses (`ipv4`/`ipv6`) and MACs (`mac`), spec.wireguard (`ipv4`/`ipv6`), then the
 * struct-level "Spec.BGP should not be empty" for `bgp: {}`, then status (`wireguardPublicKey`).
 * orchRefs, addresses and interfaces carry tags on their elements (`net`, `ipType`, `name`) but
 * the lists have no `dive`, so the validator never looks inside them.
 *
 * clientv3's Create also makes sure the datastore is initialised (ClusterInformation) before
 * writing; that is the datastore client's business, not this file's.
 */
import type { ErroredField } from '../errors.js';
import type { Resource } from '../meta.js';
import { Report, isIPv4, isIPv6 } from '../validate/checks.js';
import { asn, f, list, opt, optPtr, str, struct } from '../schema/types.js';
import { resourceStruct } from './common.js';
import type { KindDef } from './def.js';
import { goStructDump, isCIDRv, isMAC, isWireguardKey } from './shared-routing.js';

export const nodeBGPSpec = struct('NodeBGPSpec', [
  optPtr('asNumber', asn(), 'ASNumber'),
  opt('ipv4Address', str(), 'IPv4Address'),
  opt('ipv6Address', str(), 'IPv6Address'),
  opt('ipv4IPIPTunnelAddr', str(), 'IPv4IPIPTunnelAddr'),
  opt('routeReflectorClusterID', str(), 'RouteReflectorClusterID'),
]);

export const nodeSpec = struct('NodeSpec', [
  optPtr('bgp', nodeBGPSpec, 'BGP'),
  opt('ipv4VXLANTunnelAddr', str(), 'IPv4VXLANTunnelAddr'),
  opt('vxlanTunnelMACAddr', str(), 'VXLANTunnelMACAddr'),
  opt('ipv6VXLANTunnelAddr', str(), 'IPv6VXLANTunnelAddr'),
  opt('vxlanTunnelMACAddrV6', str(), 'VXLANTunnelMACAddrV6'),
  opt('orchRefs', list(struct('OrchRef', [opt('nodeName', str()), f('orchestrator', str(), 'Orchestrator')]), { go: '[]internalapi.OrchRef' })),
  optPtr(
    'wireguard',
    struct('NodeWireguardSpec', [opt('interfaceIPv4Address', str(), 'InterfaceIPv4Address'), opt('interfaceIPv6Address', str(), 'InterfaceIPv6Address')]),
  ),
  opt('addresses', list(struct('NodeAddress', [f('address', str(), 'Address'), opt('type', str())]), { go: '[]internalapi.NodeAddress' })),
  opt('interfaces', list(struct('NodeInterface', [opt('name', str()), opt('addresses', list(str()))]), { go: '[]internalapi.NodeInterface' })),
]);

export const nodeStatus = struct('NodeStatus', [
  opt('wireguardPublicKey', str()),
  opt('wireguardPublicKeyV6', str(), 'WireguardPublicKeyV6'),
  opt('podCIDRs', list(str()), 'PodCIDRs'),
]);

type BGP = { asNumber?: number | null; ipv4Address?: string; ipv6Address?: string; ipv4IPIPTunnelAddr?: string; routeReflectorClusterID?: string };
type Spec = {
  bgp?: BGP | null;
  ipv4VXLANTunnelAddr?: string;
  vxlanTunnelMACAddr?: string;
  ipv6VXLANTunnelAddr?: string;
  vxlanTunnelMACAddrV6?: string;
  wireguard?: { interfaceIPv4Address?: string; interfaceIPv6Address?: string } | null;
};
type Status = { wireguardPublicKey?: string; wireguardPublicKeyV6?: string };

function ipTag(rep: Report, goField: string, v: string | undefined, version: 4 | 6): void {
  if (!v) return;
  if (version === 4 ? !isIPv4(v) : !isIPv6(v)) rep.tag(goField, v, `ipv${version}`);
}

function structChecks(r: Resource): ErroredField[] {
  const s = (r.spec ?? {}) as Spec;
  const rep = new Report();
  const bgp = s.bgp ?? undefined;
  if (bgp) {
    if (bgp.ipv4Address && !isCIDRv(bgp.ipv4Address, 4)) rep.tag('IPv4Address', bgp.ipv4Address, 'cidrv4');
    if (bgp.ipv6Address && !isCIDRv(bgp.ipv6Address, 6)) rep.tag('IPv6Address', bgp.ipv6Address, 'cidrv6');
    ipTag(rep, 'IPv4IPIPTunnelAddr', bgp.ipv4IPIPTunnelAddr, 4);
    ipTag(rep, 'RouteReflectorClusterID', bgp.routeReflectorClusterID, 4);
  }
  ipTag(rep, 'IPv4VXLANTunnelAddr', s.ipv4VXLANTunnelAddr, 4);
  if (s.vxlanTunnelMACAddr && !isMAC(s.vxlanTunnelMACAddr)) rep.tag('VXLANTunnelMACAddr', s.vxlanTunnelMACAddr, 'mac');
  ipTag(rep, 'IPv6VXLANTunnelAddr', s.ipv6VXLANTunnelAddr, 6);
  if (s.vxlanTunnelMACAddrV6 && !isMAC(s.vxlanTunnelMACAddrV6)) rep.tag('VXLANTunnelMACAddrV6', s.vxlanTunnelMACAddrV6, 'mac');
  if (s.wireguard) {
    ipTag(rep, 'InterfaceIPv4Address', s.wireguard.interfaceIPv4Address, 4);
    ipTag(rep, 'InterfaceIPv6Address', s.wireguard.interfaceIPv6Address, 6);
  }
  // validateNodeSpec: a present but all-zero bgp. Go prints the *NodeBGPSpec as `&{<nil>    }`.
  if (bgp && (bgp.asNumber === undefined || bgp.asNumber === null) && !bgp.ipv4Address && !bgp.ipv6Address && !bgp.ipv4IPIPTunnelAddr && !bgp.routeReflectorClusterID) {
    rep.field('BGP', goStructDump(['ptr', 'str', 'str', 'str', 'str'], true), 'Spec.BGP should not be empty');
  }
  const st = (r.status ?? {}) as Status;
  if (st.wireguardPublicKey && !isWireguardKey(st.wireguardPublicKey)) rep.tag('WireguardPublicKey', st.wireguardPublicKey, 'wireguardPublicKey');
  if (st.wireguardPublicKeyV6 && !isWireguardKey(st.wireguardPublicKeyV6)) rep.tag('WireguardPublicKeyV6', st.wireguardPublicKeyV6, 'wireguardPublicKey');
  return rep.fields;
}

export const NodeDef: KindDef = {
  kind: 'Node',
  schema: resourceStruct('Node', nodeSpec, [f('status', nodeStatus, 'Status', 'omit')]),
  structChecks,
};
