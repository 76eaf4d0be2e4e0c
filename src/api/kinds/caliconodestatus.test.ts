import { test } from 'node:test';
import assert from 'node:assert/strict';
import { check, stored, error, many, tagFail } from '../testing/harness.js';
import type { Resource } from '../meta.js';

const doc = (spec: string, extra = '', name = 'node1-status') =>
  `apiVersion: projectcalico.org/v3\nkind: CalicoNodeStatus\nmetadata:\n  name: ${name}\nspec:\n${spec.replace(/^/gm, '  ')}\n${extra}`;


const EMPTY_STATUS =
  '{"lastUpdated":null,"agent":{"birdV4":{},"birdV6":{}},' +
  '"bgp":{"numberEstablishedV4":0,"numberNotEstablishedV4":0,"numberEstablishedV6":0,"numberNotEstablishedV6":0},"routes":{}}';

test('a request as a user writes it: status is always printed, zero-valued', async () => {
  const v = await stored(doc('updatePeriodSeconds: 10\nclasses: [Agent, BGP, Routes]\nnode: node1'));
  assert.equal(
    JSON.stringify(v),
    '{"kind":"CalicoNodeStatus","apiVersion":"projectcalico.org/v3","metadata":{"name":"node1-status","creationTimestamp":null},' +
      `"spec":{"node":"node1","classes":["Agent","BGP","Routes"],"updatePeriodSeconds":10},"status":${EMPTY_STATUS}}`,
  );
});

test('a status as calico-node writes it keeps Go field order', async () => {
  const v = await stored(
    doc(
      'node: node1\nclasses: [BGP]\nupdatePeriodSeconds: 0',
      `status:
  routes:
    routesV4:
    - learnedFrom: {peerIP: 172.16.0.13, sourceType: NodeMesh}
      interface: eth0
      gateway: 172.16.0.13
      destination: 10.20.73.64/26
      type: FIB
  bgp:
    peersV4:
    - since: "05:43:51"
      state: Established
      type: NodeMesh
      peerIP: 172.16.0.13
    numberNotEstablishedV6: 0
    numberEstablishedV6: 0
    numberNotEstablishedV4: 0
    numberEstablishedV4: 1
  agent:
    birdV4:
      lastReconfigurationTime: "2024-01-01 10:00:00"
      lastBootTime: "2024-01-01 09:00:00"
      routerID: 172.16.0.10
      version: v0.3.3+birdv1.6.8
      state: Ready
  lastUpdated: "2024-01-01T10:00:05Z"
`,
    ),
  );
  assert.equal(
    JSON.stringify(v.status),
    '{"lastUpdated":"2024-01-01T10:00:05Z","agent":{"birdV4":{"state":"Ready","version":"v0.3.3+birdv1.6.8","routerID":"172.16.0.10",' +
      '"lastBootTime":"2024-01-01 09:00:00","lastReconfigurationTime":"2024-01-01 10:00:00"},"birdV6":{}},' +
      '"bgp":{"numberEstablishedV4":1,"numberNotEstablishedV4":0,"numberEstablishedV6":0,"numberNotEstablishedV6":0,' +
      '"peersV4":[{"peerIP":"172.16.0.13","type":"NodeMesh","state":"Established","since":"05:43:51"}]},' +
      '"routes":{"routesV4":[{"type":"FIB","destination":"10.20.73.64/26","gateway":"172.16.0.13","interface":"eth0",' +
      '"learnedFrom":{"sourceType":"NodeMesh","peerIP":"172.16.0.13"}}]}}',
  );
});

test('node, classes and updatePeriodSeconds are all required (a nil pointer prints <nil>)', async () => {
  assert.equal(
    await error(doc('{}')),
    many(tagFail('Node', '', 'required'), tagFail('Classes', '[]', 'required'), tagFail('UpdatePeriodSeconds', '<nil>', 'required')),
  );
});

test('an empty classes list satisfies required', async () => {
  const v = await stored(doc('node: node1\nclasses: []\nupdatePeriodSeconds: 0'));
  assert.equal(JSON.stringify(v.spec), '{"node":"node1","updatePeriodSeconds":0}');
});

test('node must be a resource name', async () => {
  assert.equal(await error(doc('node: Node_1\nclasses: [BGP]\nupdatePeriodSeconds: 5')), `error with field ${tagFail('Node', 'Node_1', 'name')}`);
});

test('classes must be unique and from the enum', async () => {
  assert.equal(await error(doc('node: n\nclasses: [BGP, BGP]\nupdatePeriodSeconds: 5')), `error with field ${tagFail('Classes', '[BGP BGP]', 'unique')}`);
  assert.equal(await error(doc('node: n\nclasses: [BGP, Peers]\nupdatePeriodSeconds: 5')), 'error with field spec.classes[1] (supported values: "Agent", "BGP", "Routes")');
});

test('updatePeriodSeconds is at most a day', async () => {
  await stored(doc('node: n\nclasses: [BGP]\nupdatePeriodSeconds: 86400'));
  assert.equal(await error(doc('node: n\nclasses: [BGP]\nupdatePeriodSeconds: 86401')), `error with field ${tagFail('UpdatePeriodSeconds', '86401', 'lte')}`);
  assert.equal(
    await error(doc('node: n\nclasses: [BGP]\nupdatePeriodSeconds: -1')),
    'error unmarshaling JSON: while decoding JSON: json: cannot unmarshal number -1 into Go struct field CalicoNodeStatusSpec.spec.updatePeriodSeconds of type uint32',
  );
});

test('peer and route entries are not validated (no dive), but enums still apply through the CRD', async () => {
  await stored(doc('node: n\nclasses: [BGP]\nupdatePeriodSeconds: 5', 'status:\n  bgp:\n    peersV4:\n    - peerIP: not-an-ip\n'));
  assert.equal(
    await error(doc('node: n\nclasses: [BGP]\nupdatePeriodSeconds: 5', 'status:\n  bgp:\n    peersV4:\n    - state: Up\n')),
    'error with field status.bgp.peersV4[0].state (supported values: "Idle", "Connect", "Active", "OpenSent", "OpenConfirm", "Established", "Close")',
  );
});

test('unknown fields are refused', async () => {
  assert.equal(await error(doc('node: n\nclasses: [BGP]\nupdatePeriodSeconds: 5\ninterval: 5')), 'error unmarshaling JSON: while decoding JSON: json: unknown field "interval"');
});
