import { test } from 'node:test';
import assert from 'node:assert/strict';
import { check, stored, error, many, tagFail, openapi } from '../testing/harness.js';
import type { Resource } from '../meta.js';

const doc = (spec: string, name = 'node1-eth0') =>
  `apiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata:\n  name: ${name}\n  labels: {role: edge}\nspec:\n${spec.replace(/^/gm, '  ')}\n`;


test('a host endpoint is stored in Go field order; ports print name, protocol, port', async () => {
  const v = await stored(
    doc(`ports:
- port: 9090
  name: metrics
  protocol: TCP
- {name: dns, protocol: "17", port: 53}
profiles: [kns.default, edge]
expectedIPs: [192.168.0.1, "fd00::1"]
node: node1
interfaceName: eth0`),
  );
  assert.equal(
    JSON.stringify(v),
    '{"kind":"HostEndpoint","apiVersion":"projectcalico.org/v3","metadata":{"name":"node1-eth0","creationTimestamp":null,"labels":{"role":"edge"}},' +
      '"spec":{"node":"node1","interfaceName":"eth0","expectedIPs":["192.168.0.1","fd00::1"],"profiles":["kns.default","edge"],' +
      '"ports":[{"name":"metrics","protocol":"TCP","port":9090},{"name":"dns","protocol":17,"port":53}]}}',
  );
});

test('interfaceName "*" or expected IPs alone are enough', async () => {
  await stored(doc('node: node1\ninterfaceName: "*"'));
  assert.deepEqual((await stored(doc('node: node1\nexpectedIPs: [10.0.0.1]'))).spec, { node: 'node1', expectedIPs: ['10.0.0.1'] });
});

test('no node and no interface: Go names both InterfaceName, then the CRD rules', async () => {
  assert.equal(
    await error(doc('profiles: [p]')),
    many(
      "InterfaceName = '' (no interface or expected IPs have been specified)",
      "InterfaceName = '' (no node has been specified)",
      'spec (at least one of interfaceName or expectedIPs must be specified)',
      'spec (node must be specified)',
    ),
  );
});

test('field tags: node and profiles are names, interface names ≤ 15, expected IPs are IPs', async () => {
  assert.equal(
    await error(doc('node: Node_1\ninterfaceName: a-very-long-iface0\nexpectedIPs: [10.0.0.0/24]\nprofiles: [UPPER]')),
    many(
      tagFail('Node', 'Node_1', 'name'),
      tagFail('InterfaceName', 'a-very-long-iface0', 'interface'),
      tagFail('ExpectedIPs[0]', '10.0.0.0/24', 'ip'),
      tagFail('Profiles[0]', 'UPPER', 'name'),
      'spec.interfaceName (may not be more than 15 bytes)',
    ),
  );
});

test('ports: a port name, a protocol with ports, a port number 1–65535', async () => {
  assert.equal(
    await error(doc('node: n\ninterfaceName: eth0\nports:\n- {name: Web, protocol: ICMP, port: 0}\n- {port: 80}')),
    many(
      tagFail('Name', 'Web', 'portName'),
      tagFail('Port', '0', 'gt'),
      "EndpointPort.Protocol = 'ICMP' (EndpointPort protocol does not support ports.)",
      tagFail('Name', '', 'portName'),
      // The protocol left out is numorstring's zero value, the number 0.
      "Protocol = '0' (protocol number invalid)",
      "EndpointPort.Protocol = '0' (EndpointPort protocol does not support ports.)",
      openapi('spec.ports[0].port', 'should be greater than or equal to 1'),
    ),
  );
});

test('a port number given as a string is a decode error (port is a plain uint16)', async () => {
  assert.equal(
    await error(doc('node: n\ninterfaceName: eth0\nports: [{name: a, protocol: TCP, port: "80"}]')),
    'error unmarshaling JSON: while decoding JSON: json: cannot unmarshal string into Go struct field EndpointPort.spec.ports.port of type uint16',
  );
});

test('unknown fields are refused', async () => {
  assert.equal(await error(doc('node: n\ninterface: eth0')), 'error unmarshaling JSON: while decoding JSON: json: unknown field "interface"');
  assert.equal(await error(doc('node: n\ninterfaceName: eth0\nports: [{name: a, protocol: TCP, port: 80, hostPort: 80}]')), 'error unmarshaling JSON: while decoding JSON: json: unknown field "hostPort"');
});
