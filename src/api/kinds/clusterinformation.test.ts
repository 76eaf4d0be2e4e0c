import { test } from 'node:test';
import assert from 'node:assert/strict';
import { check } from '../testing/harness.js';

const doc = (spec: string, name = 'default') =>
  `apiVersion: projectcalico.org/v3\nkind: ClusterInformation\nmetadata:\n  name: ${name}\nspec:\n${spec.replace(/^/gm, '  ')}\n`;

test('every field, in Go order; datastoreReady false is kept (pointer)', async () => {
  const r = await check(doc('variant: Calico\ndatastoreReady: false\ncalicoVersion: v3.32.0\nclusterType: k8s,bgp,kubeadm\nclusterGUID: 0a1b2c3d4e5f'));
  if (!r.ok) assert.fail(r.error);
  assert.equal(
    JSON.stringify(r.value),
    '{"kind":"ClusterInformation","apiVersion":"projectcalico.org/v3","metadata":{"name":"default","creationTimestamp":null},' +
      '"spec":{"clusterGUID":"0a1b2c3d4e5f","clusterType":"k8s,bgp,kubeadm","calicoVersion":"v3.32.0","datastoreReady":false,"variant":"Calico"}}',
  );
});

test('an empty spec stays empty (no CRD defaults)', async () => {
  const r = await check(doc('{}'));
  if (!r.ok) assert.fail(r.error);
  assert.deepEqual(r.value.spec, {});
});

test('clientv3 refuses other names on create only, with a bare message', async () => {
  const c = await check(doc('datastoreReady: true', 'other'));
  assert.equal(c.ok, false);
  assert.equal((c as { error: string }).error, 'Cannot create a Cluster Information resource with a name other than "default"');
  const u = await check(doc('datastoreReady: true', 'other'), { op: 'update' });
  assert.equal(u.ok, true);
});

test('decode errors', async () => {
  const r = await check(doc('ready: true'));
  assert.equal((r as { error: string }).error, 'error unmarshaling JSON: while decoding JSON: json: unknown field "ready"');
  const t = await check(doc('datastoreReady: "yes"'));
  assert.equal(
    (t as { error: string }).error,
    'error unmarshaling JSON: while decoding JSON: json: cannot unmarshal string into Go struct field ClusterInformationSpec.spec.datastoreReady of type bool',
  );
});
