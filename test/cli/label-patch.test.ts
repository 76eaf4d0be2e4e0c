/**
 * patch and label, from calicoctl v3.32 `commands/patch.go`, `commands/label.go` and
 * resourcemgr `Patch` (strategic merge onto the stored object; its errors wrapped as
 * `performing strategic merge patch: …`, `creating resource from patched data: …`,
 * `updating existing resource: …`; a patch that is not a JSON object is apimachinery's
 * `mergepatch.ErrBadJSONDoc`, "invalid JSON document").
 * label echoes `<KIND>` as typed; tortie adds `: <cause>` after "label not changed".
 */
import { describe, it, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { CliHarness } from './harness.js';

const API = 'apiVersion: projectcalico.org/v3';
const NODE = `${API}\nkind: Node\nmetadata:\n  name: node-0\n  labels:\n    a: "1"\nspec:\n  bgp:\n    ipv4Address: 10.0.0.1/24\n`;

describe('patch', () => {
  const h = new CliHarness();
  before(async () => {
    await h.ok('create -f -', NODE);
  });
  after(() => h.cleanup());
  const node = async () => JSON.parse(await h.ok('get node node-0 -o json'));

  it("the docs' example: make a node a route reflector (-p, --patch, --patch=)", async () => {
    assert.deepEqual(await h.run(['patch', 'node', 'node-0', '-p', '{"spec":{"bgp": {"routeReflectorClusterID": "224.0.0.1"}}}']), {
      out: "Successfully patched 1 'Node' resource\n",
      err: '',
      code: 0,
    });
    const n = await node();
    assert.deepEqual(n.spec.bgp, { ipv4Address: '10.0.0.1/24', routeReflectorClusterID: '224.0.0.1' });
    assert.deepEqual(n.metadata.labels, { a: '1' });
    assert.equal(await h.ok(['patch', 'nodes', 'node-0', '--patch', '{"spec":{"bgp": {"routeReflectorClusterID": "224.0.0.2"}}}']), "Successfully patched 1 'Node' resource\n");
    assert.equal(await h.ok(['patch', 'node', 'node-0', '--patch={"spec":{"bgp": {"routeReflectorClusterID": "224.0.0.3"}}}', '--type', 'strategic']), "Successfully patched 1 'Node' resource\n");
    assert.equal((await node()).spec.bgp.routeReflectorClusterID, '224.0.0.3');
    // --type is parsed but never read (v3.32 always does a strategic merge), whatever its value.
    for (const t of ['json', 'merge', 'banana']) {
      assert.equal(await h.ok(['patch', 'node', 'node-0', '-t', t, '-p', `{"spec":{"bgp": {"routeReflectorClusterID": "224.0.0.4"}}}`]), "Successfully patched 1 'Node' resource\n", t);
    }
  });

  it('labels merge with the stored ones; null removes a field', async () => {
    assert.equal(await h.ok(['patch', 'node', 'node-0', '-p', '{"metadata":{"labels":{"b":"2"}}}']), "Successfully patched 1 'Node' resource\n");
    assert.deepEqual((await node()).metadata.labels, { a: '1', b: '2' });
    assert.equal(await h.ok(['patch', 'node', 'node-0', '-p', '{"spec":{"bgp":{"routeReflectorClusterID":null}}}']), "Successfully patched 1 'Node' resource\n");
    assert.deepEqual((await node()).spec.bgp, { ipv4Address: '10.0.0.1/24' });
  });

  it('invalid JSON, or JSON that is not an object: invalid JSON document', async () => {
    const before = await node();
    for (const p of ['{"spec":', 'not json', '[1]', '"x"', '12']) {
      assert.deepEqual(await h.run(['patch', 'node', 'node-0', '-p', p]), { out: '', err: 'hit error: performing strategic merge patch: invalid JSON document\n', code: 1 }, p);
    }
    assert.deepEqual(await node(), before);
  });

  it('a patch that makes the resource invalid is refused and nothing changes', async () => {
    const before = await node();
    const r = await h.run(['patch', 'node', 'node-0', '-p', '{"spec":{"bgp":{"ipv4Address":"banana"}}}']);
    assert.equal(r.code, 1);
    assert.equal(r.out, '');
    assert.match(r.err, /^hit error: updating existing resource: error with field IPv4Address = 'banana' \(/);
    const r2 = await h.run(['patch', 'node', 'node-0', '-p', '{"spec":{"bgpp":{}}}']);
    assert.equal(r2.code, 1);
    assert.match(r2.err, /^field in document is not recognized or is in the wrong location: bgpp \(Node\(node-0\), field spec\.bgpp/);
    assert.deepEqual(await node(), before);
  });

  it('a missing resource, an unknown kind, an empty name', async () => {
    assert.deepEqual(await h.run(['patch', 'node', 'nope', '-p', '{}']), { out: '', err: 'hit error: resource does not exist: Node(nope) with error: <nil>\n', code: 1 });
    // The resource is read before the patch is parsed.
    assert.deepEqual(await h.run(['patch', 'node', 'nope', '-p', 'not json']), { out: '', err: 'hit error: resource does not exist: Node(nope) with error: <nil>\n', code: 1 });
    assert.deepEqual(await h.run(['patch', 'foo', 'x', '-p', '{}']), { out: '', err: "resource type 'foo' is not supported\n", code: 1 });
    assert.deepEqual(await h.run(['patch', 'node', '', '-p', '{}']), { out: '', err: 'resource name may not be empty\n', code: 1 });
  });

  it('a namespaced resource with -n; ClusterInformation is read-only', async () => {
    await h.ok('create -f -', `${API}\nkind: NetworkPolicy\nmetadata:\n  name: p1\n  namespace: ns1\nspec:\n  selector: all()\n`);
    assert.equal(await h.ok(['patch', 'networkpolicy', 'p1', '-n', 'ns1', '-p', '{"spec":{"order":5}}']), "Successfully patched 1 'NetworkPolicy' resource\n");
    assert.equal(JSON.parse(await h.ok('get networkpolicy p1 -n ns1 -o json')).spec.order, 5);
    assert.deepEqual(await h.run(['patch', 'networkpolicy', 'p1', '-p', '{}']), {
      out: '',
      err: 'hit error: resource does not exist: NetworkPolicy(default/p1) with error: <nil>\n',
      code: 1,
    });
    assert.deepEqual(await h.run(['patch', 'clusterinformation', 'default', '-p', '{"spec":{"calicoVersion":"v1"}}']), {
      out: '',
      err: 'hit error: updating existing resource: operation apply or replace is not supported on ClusterInformation\n',
      code: 1,
    });
  });
});

describe('label', () => {
  const h = new CliHarness();
  before(async () => {
    await h.ok('create -f -', NODE);
  });
  after(() => h.cleanup());
  const labels = async () => JSON.parse(await h.ok('get node node-0 -o json')).metadata.labels;

  it('set, update (same value), overwrite, remove; the kind as typed', async () => {
    assert.deepEqual(await h.run('label nodes node-0 cluster=backend'), { out: 'Successfully set label cluster on nodes node-0\n', err: '', code: 0 });
    assert.deepEqual(await labels(), { a: '1', cluster: 'backend' });
    // The same value again is an update, even without --overwrite.
    assert.deepEqual(await h.run('label NODE node-0 cluster=backend'), { out: 'Successfully updated label cluster on NODE node-0\n', err: '', code: 0 });
    assert.deepEqual(await h.run('label no node-0 cluster=frontend --overwrite'), { out: 'Successfully updated label cluster on no node-0\n', err: '', code: 0 });
    assert.deepEqual(await labels(), { a: '1', cluster: 'frontend' });
    assert.deepEqual(await h.run('label node node-0 cluster --remove'), { out: 'Successfully removed label cluster from node node-0\n', err: '', code: 0 });
    assert.deepEqual(await labels(), { a: '1' });
    // An empty value is a value.
    assert.equal(await h.ok('label node node-0 empty='), 'Successfully set label empty on node node-0\n');
    assert.deepEqual(await labels(), { a: '1', empty: '' });
  });

  it('a different value without --overwrite', async () => {
    assert.deepEqual(await h.run('label node node-0 a=2'), {
      out: '',
      err: "failed to update label of node node-0, key a is already present. please use '--overwrite' to set a new value\n",
      code: 1,
    });
    assert.equal((await labels()).a, '1');
  });

  it('removing a key that is not there', async () => {
    assert.deepEqual(await h.run('label node node-0 nope --remove'), { out: '', err: 'cannot remove label of node node-0, key nope does not exist\n', code: 1 });
    // docopt binds "k=v" to <key> when --remove is given.
    assert.deepEqual(await h.run('label node node-0 a=1 --remove'), { out: '', err: 'cannot remove label of node node-0, key a=1 does not exist\n', code: 1 });
  });

  it('invalid label: not key=value', async () => {
    assert.deepEqual(await h.run('label node node-0 justakey'), { out: '', err: 'invalid label justakey\n', code: 1 });
    assert.deepEqual(await h.run('label node node-0 a=b=c'), { out: '', err: 'invalid label a=b=c\n', code: 1 });
  });

  it('missing resource, unknown kind, empty name', async () => {
    assert.deepEqual(await h.run('label nodes nope k=v'), { out: '', err: 'nodes nope not found\n', code: 1 });
    assert.deepEqual(await h.run('label foo x k=v'), { out: '', err: "failed to get foo x, error resource type 'foo' is not supported\n", code: 1 });
    assert.deepEqual(await h.run(['label', 'node', '', 'k=v']), { out: '', err: 'failed to get node , error resource name may not be empty\n', code: 1 });
  });

  it('an update the datastore refuses: "label not changed" and, in tortie, why', async () => {
    const r = await h.run(['label', 'node', 'node-0', 'bad key!=v']);
    assert.equal(r.code, 1);
    assert.match(r.err, /^failed to update node node-0, label not changed: error with field Metadata\.Labels.*'bad key!'/);
    assert.deepEqual(await labels(), { a: '1', empty: '' });
  });

  it('a namespaced resource (the help example: label workloadendpoints … --namespace=default app=web)', async () => {
    await h.ok(
      'create -f -',
      `${API}\nkind: WorkloadEndpoint\nmetadata:\n  name: node1-k8s-nginx-eth0\n  namespace: ns1\nspec:\n  node: node1\n  orchestrator: k8s\n  pod: nginx\n  endpoint: eth0\n  interfaceName: cali0\n`,
    );
    assert.equal(await h.ok('label workloadendpoints node1-k8s-nginx-eth0 --namespace=ns1 app=web'), 'Successfully set label app on workloadendpoints node1-k8s-nginx-eth0\n');
    assert.equal(JSON.parse(await h.ok('get wep node1-k8s-nginx-eth0 -n ns1 -o json')).metadata.labels.app, 'web');
    assert.deepEqual(await h.run('label wep node1-k8s-nginx-eth0 app=web'), { out: '', err: 'wep node1-k8s-nginx-eth0 not found\n', code: 1 });
  });
});
