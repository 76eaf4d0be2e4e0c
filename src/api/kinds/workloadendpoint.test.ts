import { test } from 'node:test';
import assert from 'node:assert/strict';
import { check, stored, error, one, many, tagFail } from '../testing/harness.js';
import type { Resource } from '../meta.js';
import { workloadEndpointName } from './workloadendpoint.js';

const doc = (spec: string, name?: string) =>
  `apiVersion: projectcalico.org/v3\nkind: WorkloadEndpoint\nmetadata:\n${name ? `  name: ${name}\n` : ''}  namespace: default\n  labels: {app: web}\nspec:\n${spec.replace(/^/gm, '  ')}\n`;
const K8S = 'orchestrator: k8s\nnode: node-1\npod: web-5d4f\nendpoint: eth0\ninterfaceName: cali0ef24b1e2c7';


test('a Kubernetes pod endpoint: name derived, Go field order, storage labels added', async () => {
  const v = await stored(
    doc(`${K8S}
qosControls: {egressBandwidth: 1000000, dscp: AF11}
allowSpoofedSourcePrefixes: [10.9.0.0/16]
ports:
- {name: http, protocol: TCP, port: 8080}
- {protocol: UDP, port: 53, hostPort: 5353, hostIP: 192.168.1.10}
mac: "ee:ee:ee:ee:ee:ee"
profiles: [kns.default, ksa.default.web]
ipv4Gateway: 169.254.1.1
ipNATs: [{internalIP: 10.244.1.7, externalIP: 203.0.113.7}]
ipNetworks: [10.244.1.7/32, "fd00:10:244::7/128"]
serviceAccountName: web
containerID: 4b2e7c9a1f
`),
  );
  assert.equal(
    JSON.stringify(v),
    '{"kind":"WorkloadEndpoint","apiVersion":"projectcalico.org/v3","metadata":{"name":"node--1-k8s-web--5d4f-eth0","namespace":"default","creationTimestamp":null,' +
      '"labels":{"app":"web","projectcalico.org/namespace":"default","projectcalico.org/orchestrator":"k8s"}},' +
      '"spec":{"orchestrator":"k8s","node":"node-1","containerID":"4b2e7c9a1f","pod":"web-5d4f","endpoint":"eth0","serviceAccountName":"web",' +
      '"ipNetworks":["10.244.1.7/32","fd00:10:244::7/128"],"ipNATs":[{"internalIP":"10.244.1.7","externalIP":"203.0.113.7"}],"ipv4Gateway":"169.254.1.1",' +
      '"profiles":["kns.default","ksa.default.web"],"interfaceName":"cali0ef24b1e2c7","mac":"ee:ee:ee:ee:ee:ee",' +
      '"ports":[{"name":"http","protocol":"TCP","port":8080,"hostPort":0,"hostIP":""},{"name":"","protocol":"UDP","port":53,"hostPort":5353,"hostIP":"192.168.1.10"}],' +
      '"allowSpoofedSourcePrefixes":["10.9.0.0/16"],"qosControls":{"egressBandwidth":1000000,"dscp":"AF11"}}}',
  );
});

test('the name must match the one derived from the spec', async () => {
  await stored(doc(K8S, 'node--1-k8s-web--5d4f-eth0'));
  assert.equal(
    await error(doc(K8S, 'node-1-k8s-web-5d4f-eth0')),
    one(
      "Name = 'node-1-k8s-web-5d4f-eth0' (the WorkloadEndpoint name does not match the primary identifiers assigned in the Spec: expected name node--1-k8s-web--5d4f-eth0)",
    ),
  );
});

test('the derived name uses the pod, containerID, orchestrator or workload', () => {
  assert.deepEqual(workloadEndpointName({ node: 'n', orchestrator: 'k8s', pod: 'p', endpoint: 'e' }), { name: 'n-k8s-p-e' });
  assert.deepEqual(workloadEndpointName({ node: 'n', orchestrator: 'cni', containerID: 'abc-1', endpoint: 'e' }), { name: 'n-cni-abc--1-e' });
  assert.deepEqual(workloadEndpointName({ node: 'n', orchestrator: 'libnetwork', endpoint: 'e' }), { name: 'n-libnetwork-libnetwork-e' });
  assert.deepEqual(workloadEndpointName({ node: 'n', orchestrator: 'openstack', workload: 'vm-1', endpoint: 'tap0' }), { name: 'n-openstack-vm--1-tap0' });
});

test('missing or dash-edged identifiers stop the write before validation', async () => {
  assert.equal(await error(doc('orchestrator: k8s\npod: p\nendpoint: eth0')), 'error with field node (field should be assigned)');
  assert.equal(await error(doc('orchestrator: k8s\nnode: n\nendpoint: eth0')), "error with field pod = '' (field should be assigned)");
  assert.equal(await error(doc('orchestrator: k8s\nnode: n\npod: p-\nendpoint: eth0')), "error with field pod = 'p-' (field must not end with a '-')");
});

test('interfaceName is required (the interface tag has no omitempty)', async () => {
  assert.equal(
    await error(doc('orchestrator: k8s\nnode: n\npod: p\nendpoint: eth0')),
    one(tagFail('InterfaceName', '', 'interface')),
  );
});

test('networks must be single addresses; NATs inside them; gateways of the right family', async () => {
  assert.equal(
    await error(doc(`${K8S}\nipNetworks: [10.0.0.0/24]\nipNATs: [{internalIP: 10.1.0.1, externalIP: "fd00::1"}]\nipv4Gateway: "fd00::1"\nmac: zz`)),
    many(
      "ExternalIP = 'fd00::1' (mismatched IP versions)",
      tagFail('IPv4Gateway', 'fd00::1', 'ipv4'),
      tagFail('MAC', 'zz', 'mac'),
      "IPNetworks = '[10.0.0.0/24]' (IP network contains multiple addresses)",
      "IPv4Gateway = 'fd00::1' (invalid IPv4 gateway address specified)",
      "IPNATs = '[{10.1.0.1 fd00::1}]' (NAT is not in the endpoint networks)",
    ),
  );
});

test('ports: a name or a host port; a protocol with ports; a port number', async () => {
  assert.equal(
    await error(doc(`${K8S}\nports: [{protocol: ICMP, port: 0}, {name: Web, protocol: TCP, port: 80, hostIP: 10.0.0.1/24}]`)),
    many(
      tagFail('Port', '0', 'gt'),
      "WorkloadEndpointPort.Protocol = 'ICMP' (WorkloadEndpointPort protocol does not support ports.)",
      "WorkloadEndpointPort.Name = '' (WorkloadEndpointPort name must not be empty if no HostPort is specified)",
      tagFail('Name', 'Web', 'portName'),
      tagFail('HostIP', '10.0.0.1/24', 'net'),
    ),
  );
});

test('there is no CRD: no defaults, no length limits beyond the Go tags', async () => {
  const v = await stored(doc(`${K8S}\nprofiles: [${'p'.repeat(300)}]`));
  assert.deepEqual((v.spec as { profiles: string[] }).profiles, ['p'.repeat(300)]);
});

test('unknown fields are refused', async () => {
  assert.equal(await error(doc(`${K8S}\nipNetwork: [10.0.0.1/32]`)), 'error unmarshaling JSON: while decoding JSON: json: unknown field "ipNetwork"');
  assert.equal(await error(doc(`${K8S}\nqosControls: {ingressBandwith: 1}`)), 'error unmarshaling JSON: while decoding JSON: json: unknown field "ingressBandwith"');
});
