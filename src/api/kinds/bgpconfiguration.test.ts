import { test } from 'node:test';
import assert from 'node:assert/strict';
import { check, stored, error, many, tagFail, openapi } from '../testing/harness.js';
import type { Resource } from '../meta.js';

/** A BGPConfiguration document; `spec` is YAML indented by two spaces under `spec:`. */
const doc = (spec: string, name = 'default') =>
  `apiVersion: projectcalico.org/v3\nkind: BGPConfiguration\nmetadata:\n  name: ${name}\nspec:\n${spec.replace(/^/gm, '  ')}\n`;


test('seed 002: mesh off with the default AS, stored with CRD defaults', async () => {
  const v = await stored(doc('logSeverityScreen: Info\nnodeToNodeMeshEnabled: false\nasNumber: 64512'));
  assert.equal(
    JSON.stringify(v),
    '{"kind":"BGPConfiguration","apiVersion":"projectcalico.org/v3","metadata":{"name":"default","creationTimestamp":null},' +
      '"spec":{"logSeverityScreen":"Info","nodeToNodeMeshEnabled":false,"asNumber":64512,"serviceLoadBalancerAggregation":"Enabled"}}',
  );
});

test('seeds 003/004: AS 63400, key order follows the Go struct, not the file', async () => {
  const v = await stored(doc('asNumber: 63400\nnodeToNodeMeshEnabled: false\nlogSeverityScreen: Info'));
  assert.equal(JSON.stringify(v.spec), '{"logSeverityScreen":"Info","nodeToNodeMeshEnabled":false,"asNumber":63400,"serviceLoadBalancerAggregation":"Enabled"}');
});

test('an empty spec gets logSeverityScreen Info and serviceLoadBalancerAggregation Enabled', async () => {
  const v = await stored(doc('{}'));
  assert.deepEqual(v.spec, { logSeverityScreen: 'Info', serviceLoadBalancerAggregation: 'Enabled' });
});

test('a full object prints every field in Go declaration order', async () => {
  const v = await stored(
    doc(`ipv6NormalRoutePriority: 1024
ipv4NormalRoutePriority: 1024
programClusterRoutes: Disabled
localWorkloadPeeringIPV6: fe80::1
localWorkloadPeeringIPV4: 169.254.0.1
ignoredInterfaces: [eth9, "veth*"]
bindMode: NodeIP
nodeMeshMaxRestartTime: 120s
nodeMeshPassword:
  secretKeyRef:
    name: bgp-secrets
    key: mesh
listenPort: 1179
prefixAdvertisements:
- cidr: 10.0.0.0/24
  communities: [my-community, "300:400"]
communities:
- name: my-community
  value: "100:200"
- name: large
  value: "1:2:3"
serviceLoadBalancerAggregation: Disabled
serviceClusterIPs:
- cidr: 10.96.0.0/12
serviceExternalIPs:
- cidr: 192.0.2.0/24
serviceLoadBalancerIPs:
- cidr: 198.51.100.0/24
asNumber: 64512
nodeToNodeMeshEnabled: true
logSeverityScreen: Debug`),
  );
  assert.equal(
    JSON.stringify(v.spec),
    '{"logSeverityScreen":"Debug","nodeToNodeMeshEnabled":true,"asNumber":64512,' +
      '"serviceLoadBalancerIPs":[{"cidr":"198.51.100.0/24"}],"serviceExternalIPs":[{"cidr":"192.0.2.0/24"}],"serviceClusterIPs":[{"cidr":"10.96.0.0/12"}],' +
      '"serviceLoadBalancerAggregation":"Disabled",' +
      '"communities":[{"name":"my-community","value":"100:200"},{"name":"large","value":"1:2:3"}],' +
      '"prefixAdvertisements":[{"cidr":"10.0.0.0/24","communities":["my-community","300:400"]}],' +
      '"listenPort":1179,"nodeMeshPassword":{"secretKeyRef":{"name":"bgp-secrets","key":"mesh"}},"nodeMeshMaxRestartTime":"2m0s",' +
      '"bindMode":"NodeIP","ignoredInterfaces":["eth9","veth*"],"localWorkloadPeeringIPV4":"169.254.0.1","localWorkloadPeeringIPV6":"fe80::1",' +
      '"programClusterRoutes":"Disabled","ipv4NormalRoutePriority":1024,"ipv6NormalRoutePriority":1024}',
  );
});

test('asNumber in asdot form (quoted) is stored as a plain number', async () => {
  const v = await stored(doc('asNumber: "1.10"'));
  assert.equal((v.spec as { asNumber: number }).asNumber, 65546);
});

test('asNumber written as a YAML float is a decode error', async () => {
  assert.equal(
    await error(doc('asNumber: 1.10')),
    'error unmarshaling JSON: while decoding JSON: json: cannot unmarshal number into Go struct field BGPConfigurationSpec.spec.asNumber of type string',
  );
});

test('asNumber written as a YAML float is refused', async () => {
  assert.match(await error(doc('asNumber: 1.10')), /^error unmarshaling JSON: while decoding JSON: json: cannot unmarshal number into Go .* of type string$/);
});

test('an unknown field is refused at decode time', async () => {
  assert.equal(await error(doc('x: 1')), 'error unmarshaling JSON: while decoding JSON: json: unknown field "x"');
  assert.equal(await error(doc('communities:\n- name: a\n  value: "1:2"\n  colour: red')), 'error unmarshaling JSON: while decoding JSON: json: unknown field "colour"');
});

test('listenPort beyond uint16 is a decode error', async () => {
  assert.equal(
    await error(doc('listenPort: 70000')),
    'error unmarshaling JSON: while decoding JSON: json: cannot unmarshal number 70000 into Go struct field BGPConfigurationSpec.spec.listenPort of type uint16',
  );
});

test('logSeverityScreen must be spelled exactly (the logLevel tag is case-sensitive)', async () => {
  assert.equal(await error(doc('logSeverityScreen: info')), `error with field ${tagFail('LogSeverityScreen', 'info', 'logLevel')}`);
});

test('an unknown log level also breaks the case-insensitive CRD pattern', async () => {
  assert.equal(
    await error(doc('logSeverityScreen: loud')),
    many(tagFail('LogSeverityScreen', 'loud', 'logLevel'), openapi('spec.logSeverityScreen', "should match '^(?i)(Trace|Debug|Info|Warning|Error|Fatal)?$'")),
  );
});

test('service CIDRs must be strictly masked (net tag)', async () => {
  assert.equal(
    await error(doc('serviceClusterIPs:\n- cidr: 10.96.0.1/12\nserviceExternalIPs:\n- cidr: 192.0.2.1/24')),
    many(tagFail('CIDR', '192.0.2.1/24', 'net'), tagFail('CIDR', '10.96.0.1/12', 'net')),
  );
});

test('a bare IP passes the net tag but fails the CRD cidr format', async () => {
  assert.equal(
    await error(doc('serviceClusterIPs:\n- cidr: 10.96.0.1')),
    'error with field spec.serviceClusterIPs[0].cidr (spec.serviceClusterIPs[0].cidr in body must be of type cidr: "10.96.0.1")',
  );
});

test('community names are required and must be names; values are required', async () => {
  const pa = 'prefixAdvertisements:\n- cidr: 10.0.0.0/24\n  communities: ["1:1"]\n';
  assert.equal(await error(doc(`${pa}communities:\n- name: Bad_Name\n  value: "1:2"`)), `error with field ${tagFail('Name', 'Bad_Name', 'name')}`);
  assert.equal(
    await error(doc(`${pa}communities:\n- value: "1:2"\n- name: b`)),
    many(
      tagFail('Name', '', 'required'),
      tagFail('Value', '', 'required'),
      "Spec.Communities[].Value = '' (invalid community value or format used.)",
    ),
  );
});

test('standard communities take 16-bit parts, large communities 32-bit parts', async () => {
  const pa = 'prefixAdvertisements:\n- cidr: 10.0.0.0/24\n  communities: [a]\n';
  assert.equal(
    await error(doc(`${pa}communities:\n- name: a\n  value: "65536:70000"`)),
    many(
      "Spec.Communities[].Value = '65536:70000' (invalid community value, expected 16 bit value)",
      "Spec.Communities[].Value = '65536:70000' (invalid community value, expected 16 bit value)",
    ),
  );
  assert.equal(
    await error(doc(`${pa}communities:\n- name: a\n  value: "4294967296:1:1"`)),
    "error with field Spec.Communities[].Value = '4294967296:1:1' (invalid community value, expected 32 bit value)",
  );
  await stored(doc(`${pa}communities:\n- name: a\n  value: "65535:65535"\n- name: b\n  value: "4294967295:0:1"`));
});

test('a community value in neither form fails the validator and the CRD pattern', async () => {
  assert.equal(
    await error(doc('prefixAdvertisements:\n- cidr: 10.0.0.0/24\n  communities: [a]\ncommunities:\n- name: a\n  value: "1:2:3:4"')),
    many("Spec.Communities[].Value = '1:2:3:4' (invalid community value or format used.)", openapi('spec.communities[0].value', "should match '^(\\d+):(\\d+)$|^(\\d+):(\\d+):(\\d+)$'")),
  );
});

test('communities without prefixAdvertisements are refused, listing them as Go prints the slice', async () => {
  assert.equal(
    await error(doc('communities:\n- name: a\n  value: "100:200"\n- name: b\n  value: "1:2:3"')),
    "error with field Spec.Communities[] = '[{a 100:200} {b 1:2:3}]' (communities are defined but not used in Spec.PrefixAdvertisement[].)",
  );
});

test('prefixAdvertisements need a CIDR and a communities list', async () => {
  assert.equal(
    await error(doc('prefixAdvertisements:\n- communities: []\n- cidr: 10.0.0.0/24')),
    many(tagFail('CIDR', '', 'required'), tagFail('Communities', '[]', 'required'), "Spec.PrefixAdvertisement[].CIDR = '' (invalid CIDR value.)"),
  );
  assert.equal(
    await error(doc('prefixAdvertisements:\n- cidr: 10.0.0.1/24\n  communities: []')),
    `error with field ${tagFail('CIDR', '10.0.0.1/24', 'net')}`,
  );
});

test('prefixAdvertisement communities must be literal values or defined names', async () => {
  assert.equal(
    await error(doc('communities:\n- name: known\n  value: "1:1"\nprefixAdvertisements:\n- cidr: 10.0.0.0/24\n  communities: [known, unknown, "2:2", "70000:1"]')),
    many(
      "Spec.PrefixAdvertisement[].Communities[] = 'unknown' (community used is invalid or not defined.)",
      "Spec.PrefixAdvertisement[].Communities[] = '70000:1' (invalid community value, expected 16 bit value)",
    ),
  );
});

test('ignoredInterfaces: each entry is named with its index; a lone * is refused', async () => {
  assert.equal(
    await error(doc('ignoredInterfaces: [eth0, "*", "this-name-is-far-too-long"]')),
    many(tagFail('IgnoredInterfaces[1]', '*', 'ignoredInterface'), tagFail('IgnoredInterfaces[2]', 'this-name-is-far-too-long', 'ignoredInterface')),
  );
});

test('local workload peering addresses must be of their family', async () => {
  assert.equal(
    await error(doc('localWorkloadPeeringIPV4: fe80::1\nlocalWorkloadPeeringIPV6: 169.254.0.1')),
    many(tagFail('LocalWorkloadPeeringIPV4', 'fe80::1', 'ipv4'), tagFail('LocalWorkloadPeeringIPV6', '169.254.0.1', 'ipv6')),
  );
});

test('route priorities outside 1..2147483646 fail the tag and the CRD range', async () => {
  assert.equal(
    await error(doc('ipv4NormalRoutePriority: 0\nipv6NormalRoutePriority: 2147483647')),
    many(
      tagFail('IPv4NormalRoutePriority', '0', 'gte'),
      tagFail('IPv6NormalRoutePriority', '2147483647', 'lte'),
      openapi('spec.ipv4NormalRoutePriority', 'should be greater than or equal to 1'),
      openapi('spec.ipv6NormalRoutePriority', 'should be less than or equal to 2147483646'),
    ),
  );
});

test('route priorities: the go-playground tags fire', async () => {
  const e = await error(doc('ipv4NormalRoutePriority: 0\nipv6NormalRoutePriority: 2147483647'));
  assert.ok(e.startsWith(`error with the following fields:\n-  ${tagFail('IPv4NormalRoutePriority', '0', 'gte')}\n-  ${tagFail('IPv6NormalRoutePriority', '2147483647', 'lte')}\n`), e);
});

test('nodeMeshPassword with the mesh off: the validator and the CEL rule both report it, in that order', async () => {
  assert.equal(
    await error(doc('nodeToNodeMeshEnabled: false\nnodeMeshPassword:\n  secretKeyRef:\n    name: s\n    key: k')),
    many(
      'Spec.NodeMeshPassword (spec.NodeMeshPassword cannot be set if spec.NodeToNodeMesh is disabled)',
      'spec (nodeMeshPassword cannot be set when nodeToNodeMeshEnabled is false)',
    ),
  );
});

test('nodeMeshMaxRestartTime with the mesh off: both reports', async () => {
  assert.equal(
    await error(doc('nodeToNodeMeshEnabled: false\nnodeMeshMaxRestartTime: 90s')),
    many(
      'Spec.NodeMeshMaxRestartTime (spec.NodeMeshMaxRestartTime cannot be set if spec.NodeToNodeMesh is disabled)',
      'spec (nodeMeshMaxRestartTime cannot be set when nodeToNodeMeshEnabled is false)',
    ),
  );
});

test('mesh settings are fine when the mesh is on or unset; the secret name defaults to empty', async () => {
  const v = await stored(doc('nodeMeshPassword:\n  secretKeyRef:\n    key: k\nnodeMeshMaxRestartTime: 1m30s'));
  assert.equal(JSON.stringify(v.spec), '{"logSeverityScreen":"Info","serviceLoadBalancerAggregation":"Enabled","nodeMeshPassword":{"secretKeyRef":{"key":"k"}},"nodeMeshMaxRestartTime":"1m30s"}');
  await stored(doc('nodeToNodeMeshEnabled: true\nnodeMeshMaxRestartTime: 90s'));
});

test('default-only fields are refused on a per-node configuration, after validation', async () => {
  assert.equal(
    await error(
      doc(
        `nodeToNodeMeshEnabled: true
asNumber: 65000
serviceLoadBalancerIPs: [{cidr: 198.51.100.0/24}]
serviceExternalIPs: [{cidr: 192.0.2.0/24}]
serviceClusterIPs: [{cidr: 10.96.0.0/12}]
nodeMeshPassword: {secretKeyRef: {key: k}}
nodeMeshMaxRestartTime: 90s`,
        'node.node1',
      ),
    ),
    many(
      'BGPConfiguration.Spec.NodeToNodeMeshEnabled (Cannot set nodeToNodeMeshEnabled on a non default BGP Configuration.)',
      'BGPConfiguration.Spec.ASNumber (Cannot set ASNumber on a non default BGP Configuration.)',
      'BGPConfiguration.Spec.ServiceLoadBalancerIPs (Cannot set ServiceLoadBalancerIPs on a non default BGP Configuration.)',
      'BGPConfiguration.Spec.ServiceExternalIPs (Cannot set ServiceExternalIPs on a non default BGP Configuration.)',
      'BGPConfiguration.Spec.ServiceClusterIPs (Cannot set ServiceClusterIPs on a non default BGP Configuration.)',
      'BGPConfiguration.Spec.NodeMeshPassword (Cannot set nodeMeshPassword on a non default BGP Configuration.)',
      'BGPConfiguration.Spec.NodeMeshMaxRestartTime (Cannot set nodeMeshMaxRestartTime on a non default BGP Configuration.)',
    ),
  );
  assert.equal(
    await error(doc('asNumber: 65000', 'node.node1'), { op: 'update' }),
    'error with field BGPConfiguration.Spec.ASNumber (Cannot set ASNumber on a non default BGP Configuration.)',
  );
  // Validation errors come first and stop the write before the default-only check.
  assert.equal(await error(doc('asNumber: 65000\nignoredInterfaces: ["*"]', 'node.node1')), `error with field ${tagFail('IgnoredInterfaces[0]', '*', 'ignoredInterface')}`);
});

test('per-node configurations may set the per-node fields', async () => {
  const v = await stored(doc('listenPort: 1790\nlogSeverityScreen: Debug\nserviceClusterIPs: []\nprefixAdvertisements:\n- cidr: 10.0.0.0/24\n  communities: ["1:1"]', 'node.node1'));
  assert.equal(JSON.stringify(v.spec), '{"logSeverityScreen":"Debug","serviceLoadBalancerAggregation":"Enabled","prefixAdvertisements":[{"cidr":"10.0.0.0/24","communities":["1:1"]}],"listenPort":1790}');
});

test('enums come from the CRD', async () => {
  assert.equal(
    await error(doc('bindMode: All\nprogramClusterRoutes: Maybe\nserviceLoadBalancerAggregation: Off')),
    many(
      'spec.serviceLoadBalancerAggregation (supported values: "Enabled", "Disabled")',
      'spec.bindMode (supported values: "None", "NodeIP")',
      'spec.programClusterRoutes (supported values: "Enabled", "Disabled")',
    ),
  );
});

test('the object name follows the subdomain rule', async () => {
  assert.equal(
    await error(doc('{}', 'Node_1')),
    "error with field Metadata.Name = 'Node_1' (name must consist of lower case alphanumeric characters, '-' or '.' (regex: [a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*))",
  );
});
