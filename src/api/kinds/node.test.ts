import { test } from 'node:test';
import assert from 'node:assert/strict';
import { check, stored, error, one, many, tagFail } from '../testing/harness.js';
import type { Resource } from '../meta.js';

const doc = (spec: string, extra = '', name = 'node1') =>
  `apiVersion: projectcalico.org/v3\nkind: Node\nmetadata:\n  name: ${name}\nspec:\n${spec.replace(/^/gm, '  ')}\n${extra}`;


// Seed 004: an exported node, made a route reflector (label + cluster ID).
const SEED_004 = `apiVersion: projectcalico.org/v3
kind: Node
metadata:
  annotations:
    projectcalico.org/kube-labels: '{"beta.kubernetes.io/arch":"amd64","beta.kubernetes.io/os":"linux","kubernetes.io/hostname":"d13.node","node-role.kubernetes.io/k8s-master":"true"}'
  creationTimestamp: 2019-06-17T13:55:44Z
  labels:
    beta.kubernetes.io/arch: amd64
    beta.kubernetes.io/os: linux
    kubernetes.io/hostname: d13.node
    node-role.kubernetes.io/k8s-master: "true"
    route-reflector: "true" # 增加 lable
  name: d13.node
  resourceVersion: "61822269"
  uid: 9a1897e0-9107-11e9-bc1c-90b11c53d1e3
spec:
  bgp:
    ipv4Address: 172.16.0.13/19
    ipv4IPIPTunnelAddr: 10.20.73.82
    routeReflectorClusterID: 172.16.20.1 # 添加集群 ID
  orchRefs:
  - nodeName: d13.node
    orchestrator: k8s
`;

test('seed 004: the route-reflector node applies and prints in Go order, with an empty status', async () => {
  const v = await stored(SEED_004);
  assert.equal(
    JSON.stringify(v),
    '{"kind":"Node","apiVersion":"projectcalico.org/v3","metadata":{"name":"d13.node","uid":"9a1897e0-9107-11e9-bc1c-90b11c53d1e3",' +
      '"resourceVersion":"61822269","creationTimestamp":"2019-06-17T13:55:44Z",' +
      '"labels":{"beta.kubernetes.io/arch":"amd64","beta.kubernetes.io/os":"linux","kubernetes.io/hostname":"d13.node","node-role.kubernetes.io/k8s-master":"true","route-reflector":"true"},' +
      '"annotations":{"projectcalico.org/kube-labels":"{\\"beta.kubernetes.io/arch\\":\\"amd64\\",\\"beta.kubernetes.io/os\\":\\"linux\\",\\"kubernetes.io/hostname\\":\\"d13.node\\",\\"node-role.kubernetes.io/k8s-master\\":\\"true\\"}"}},' +
      '"spec":{"bgp":{"ipv4Address":"172.16.0.13/19","ipv4IPIPTunnelAddr":"10.20.73.82","routeReflectorClusterID":"172.16.20.1"},' +
      '"orchRefs":[{"nodeName":"d13.node","orchestrator":"k8s"}]},"status":{}}',
  );
});

test('seed 000: an unquoted boolean label value is stored as the string "true"', async () => {
  const v = await stored(
    'apiVersion: projectcalico.org/v3\nkind: Node\nmetadata:\n  name: master\n  labels:\n    i-am-a-route-reflector: true\nspec:\n  bgp:\n    ipv4Address: 192.168.83.10/24\n    routeReflectorClusterID: 224.0.0.1\n',
  );
  assert.deepEqual(v.metadata.labels, { 'i-am-a-route-reflector': 'true' });
});

test('every spec and status field, in Go order; asdot AS numbers become plain numbers', async () => {
  const v = await stored(
    doc(
      `interfaces:
- addresses: [10.0.0.5]
  name: eth0
addresses:
- type: InternalIP
  address: 10.0.0.5
wireguard:
  interfaceIPv6Address: fd00::5
  interfaceIPv4Address: 10.254.0.5
orchRefs:
- orchestrator: k8s
vxlanTunnelMACAddrV6: 66:cd:4e:7f:3a:02
ipv6VXLANTunnelAddr: fd00:10::1
vxlanTunnelMACAddr: 66:cd:4e:7f:3a:01
ipv4VXLANTunnelAddr: 10.244.0.1
bgp:
  routeReflectorClusterID: 244.0.0.1
  ipv4IPIPTunnelAddr: 10.244.0.2
  ipv6Address: fd00::5/64
  ipv4Address: 10.0.0.5
  asNumber: "1.10"`,
      'status:\n  podCIDRs: [10.244.0.0/24]\n  wireguardPublicKeyV6: AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE=\n  wireguardPublicKey: jNzV8nDWBmO7S6uPmT+eFnKrIb+n3tyTCRcmB8rbnkU=\n',
    ),
  );
  assert.equal(
    JSON.stringify({ spec: v.spec, status: v.status }),
    '{"spec":{"bgp":{"asNumber":65546,"ipv4Address":"10.0.0.5","ipv6Address":"fd00::5/64","ipv4IPIPTunnelAddr":"10.244.0.2","routeReflectorClusterID":"244.0.0.1"},' +
      '"ipv4VXLANTunnelAddr":"10.244.0.1","vxlanTunnelMACAddr":"66:cd:4e:7f:3a:01","ipv6VXLANTunnelAddr":"fd00:10::1","vxlanTunnelMACAddrV6":"66:cd:4e:7f:3a:02",' +
      '"orchRefs":[{"orchestrator":"k8s"}],"wireguard":{"interfaceIPv4Address":"10.254.0.5","interfaceIPv6Address":"fd00::5"},' +
      '"addresses":[{"address":"10.0.0.5","type":"InternalIP"}],"interfaces":[{"name":"eth0","addresses":["10.0.0.5"]}]},' +
      '"status":{"wireguardPublicKey":"jNzV8nDWBmO7S6uPmT+eFnKrIb+n3tyTCRcmB8rbnkU=","wireguardPublicKeyV6":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE=","podCIDRs":["10.244.0.0/24"]}}',
  );
});

test('orchRefs always carry orchestrator (no omitempty)', async () => {
  const v = await stored(doc('orchRefs:\n- nodeName: n1'));
  assert.equal(JSON.stringify(v.spec), '{"orchRefs":[{"nodeName":"n1","orchestrator":""}]}');
});

test('bgp: {} is refused; Go prints the empty *NodeBGPSpec as &{<nil>    }', async () => {
  assert.equal(await error(doc('bgp: {}')), one("BGP = '&{<nil>    }' (Spec.BGP should not be empty)"));
  await stored(doc('bgp: {asNumber: 0}'));
});

test('ipv4Address / ipv6Address are CIDRs or IPs of their family, mask not enforced', async () => {
  await stored(doc('bgp:\n  ipv4Address: 172.16.0.13/19\n  ipv6Address: fd00::13/64'));
  assert.equal(
    await error(doc('bgp:\n  ipv4Address: fd00::13/64\n  ipv6Address: 172.16.0.13/19')),
    many(tagFail('IPv4Address', 'fd00::13/64', 'cidrv4'), tagFail('IPv6Address', '172.16.0.13/19', 'cidrv6')),
  );
  assert.equal(await error(doc('bgp:\n  ipv4Address: 172.16.0.13/33')), one(tagFail('IPv4Address', '172.16.0.13/33', 'cidrv4')));
});

test('the IPIP tunnel address and the route-reflector cluster ID are plain IPv4 addresses', async () => {
  assert.equal(
    await error(doc('bgp:\n  ipv4Address: 10.0.0.1/24\n  ipv4IPIPTunnelAddr: 10.244.0.1/32\n  routeReflectorClusterID: fd00::1')),
    many(tagFail('IPv4IPIPTunnelAddr', '10.244.0.1/32', 'ipv4'), tagFail('RouteReflectorClusterID', 'fd00::1', 'ipv4')),
  );
});

test('VXLAN tunnel addresses and MACs', async () => {
  assert.equal(
    await error(doc('ipv4VXLANTunnelAddr: fd00::1\nvxlanTunnelMACAddr: 66:cd:4e:7f:3a\nipv6VXLANTunnelAddr: 10.0.0.1\nvxlanTunnelMACAddrV6: zz:cd:4e:7f:3a:01')),
    many(
      tagFail('IPv4VXLANTunnelAddr', 'fd00::1', 'ipv4'),
      tagFail('VXLANTunnelMACAddr', '66:cd:4e:7f:3a', 'mac'),
      tagFail('IPv6VXLANTunnelAddr', '10.0.0.1', 'ipv6'),
      tagFail('VXLANTunnelMACAddrV6', 'zz:cd:4e:7f:3a:01', 'mac'),
    ),
  );
  await stored(doc('vxlanTunnelMACAddr: 66-CD-4E-7F-3A-01\nvxlanTunnelMACAddrV6: 66cd.4e7f.3a01'));
});

test('wireguard interface addresses and public keys', async () => {
  assert.equal(
    await error(doc('wireguard:\n  interfaceIPv4Address: fd00::1\n  interfaceIPv6Address: 10.0.0.1', 'status:\n  wireguardPublicKey: not-a-key\n  wireguardPublicKeyV6: AAAA\n')),
    many(
      tagFail('InterfaceIPv4Address', 'fd00::1', 'ipv4'),
      tagFail('InterfaceIPv6Address', '10.0.0.1', 'ipv6'),
      tagFail('WireguardPublicKey', 'not-a-key', 'wireguardPublicKey'),
      tagFail('WireguardPublicKeyV6', 'AAAA', 'wireguardPublicKey'),
    ),
  );
});

test('error order: bgp fields, VXLAN, wireguard, the empty-bgp check, then status', async () => {
  assert.equal(
    await error(doc('bgp:\n  ipv4Address: bad\nipv4VXLANTunnelAddr: bad\nwireguard: {interfaceIPv4Address: bad}', 'status:\n  wireguardPublicKey: bad\n')),
    many(
      tagFail('IPv4Address', 'bad', 'cidrv4'),
      tagFail('IPv4VXLANTunnelAddr', 'bad', 'ipv4'),
      tagFail('InterfaceIPv4Address', 'bad', 'ipv4'),
      tagFail('WireguardPublicKey', 'bad', 'wireguardPublicKey'),
    ),
  );
  assert.equal(
    await error(doc('bgp: {}\nvxlanTunnelMACAddr: bad', 'status:\n  wireguardPublicKeyV6: bad\n')),
    many(tagFail('VXLANTunnelMACAddr', 'bad', 'mac'), "BGP = '&{<nil>    }' (Spec.BGP should not be empty)", tagFail('WireguardPublicKeyV6', 'bad', 'wireguardPublicKey')),
  );
});

test('addresses and interfaces entries are not validated: the lists have no dive', async () => {
  await stored(doc('addresses:\n- address: not-an-ip\n  type: PublicIP\ninterfaces:\n- name: Not_A_Name'));
});

test('Node has no CRD: no defaults, no OpenAPI checks', async () => {
  const v = await stored(doc('{}'));
  assert.equal(JSON.stringify({ spec: v.spec, status: v.status }), '{"spec":{},"status":{}}');
});

test('decode errors', async () => {
  assert.equal(await error(doc('bgp:\n  ipv4Addr: 10.0.0.1/24')), 'error unmarshaling JSON: while decoding JSON: json: unknown field "ipv4Addr"');
  assert.equal(
    await error(doc('orchRefs: k8s')),
    'error unmarshaling JSON: while decoding JSON: json: cannot unmarshal string into Go struct field NodeSpec.spec.orchRefs of type []internalapi.OrchRef',
  );
});
