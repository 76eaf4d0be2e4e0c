/**
 * create / apply / replace / delete: what calicoctl v3.32 prints, from
 * `calicoctl/calicoctl/commands/{create,apply,replace,delete}.go` and the counting in
 * `commands/common/resources.go` (ExecuteConfigCommand / ExecuteResourceAction /
 * handleNamespace), `resourcemgr/resourcemgr.go` (Apply, Update) and `resourcemgr/clusterinfo.go`.
 *
 * The quirks kept on purpose:
 *  - create/apply/delete record a failure and go on; NumHandled counts successes only, and
 *    "Partial success" is printed only when NumHandled − len(errors) > 0 (successes outnumber
 *    failures), with "the first <successes>" whatever the order;
 *  - replace keeps the last error and still counts the failed item as handled, so a replace that
 *    fails prints "Partial success: replaced the first 1 out of 1 …" (a namespace error, returned
 *    before any object exists, is the one failure not counted);
 *  - apply says `hit error(s):`, create and replace `hit error:`.
 * tortie prints every error on stderr (calicoctl prints a few on stdout) and prefixes a
 * validation error with the resource it concerns.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CliHarness } from './harness.js';

const API = 'apiVersion: projectcalico.org/v3';
const pool = (name: string, cidr: string, extra = '') => `${API}\nkind: IPPool\nmetadata:\n  name: ${name}\nspec:\n  cidr: ${cidr}\n${extra}`;
const peer = (name: string, ip: string) => `${API}\nkind: BGPPeer\nmetadata:\n  name: ${name}\nspec:\n  peerIP: ${ip}\n  asNumber: 64512\n`;
const np = (name: string, ns?: string) => `${API}\nkind: NetworkPolicy\nmetadata:\n  name: ${name}\n${ns ? `  namespace: ${ns}\n` : ''}spec:\n  selector: all()\n`;
const docs = (...d: string[]) => d.join('---\n');
const exists = (id: string) => `resource already exists: ${id} with error: <nil>`;
const missing = (id: string) => `resource does not exist: ${id} with error: <nil>`;

async function names(h: CliHarness, kind: string, extra = ''): Promise<string[]> {
  const l = JSON.parse(await h.ok(`get ${kind} -o json ${extra}`));
  return l.items.map((i: { metadata: { name: string } }) => i.metadata.name);
}

describe('create', () => {
  const h = new CliHarness();
  after(() => h.cleanup());

  it('success: one kind, then mixed kinds', async () => {
    assert.deepEqual(await h.run('create -f -', pool('a', '10.1.0.0/16')), { out: "Successfully created 1 'IPPool' resource(s)\n", err: '', code: 0 });
    assert.deepEqual(await h.run('create -f -', docs(pool('b', '10.2.0.0/16'), pool('c', '10.3.0.0/16'))), {
      out: "Successfully created 2 'IPPool' resource(s)\n",
      err: '',
      code: 0,
    });
    assert.deepEqual(await h.run('create -f -', docs(pool('d', '10.4.0.0/16'), peer('p1', '10.0.0.1'))), {
      out: 'Successfully created 2 resource(s)\n',
      err: '',
      code: 0,
    });
  });

  it('total failure of one resource', async () => {
    assert.deepEqual(await h.run('create -f -', pool('a', '10.1.0.0/16')), {
      out: '',
      err: `failed to create 'IPPool' resource: [${exists('IPPool(a)')}]\n`,
      code: 1,
    });
  });

  it('total failure of several: one kind, then mixed kinds (Go prints the []error as [e1 e2])', async () => {
    assert.deepEqual(await h.run('create -f -', docs(pool('a', '10.1.0.0/16'), pool('b', '10.2.0.0/16'))), {
      out: '',
      err: `failed to create any 'IPPool' resources: [${exists('IPPool(a)')} ${exists('IPPool(b)')}]\n`,
      code: 1,
    });
    assert.deepEqual(await h.run('create -f -', docs(pool('a', '10.1.0.0/16'), peer('p1', '10.0.0.1'))), {
      out: '',
      err: `failed to create any resources: [${exists('IPPool(a)')} ${exists('BGPPeer(p1)')}]\n`,
      code: 1,
    });
  });

  it('invalid resources (test_crud.py test_create_invalid_*): the field, no Partial success', async () => {
    const bad = (n: string) => `${API}\nkind: BGPPeer\nmetadata:\n  name: ${n}\nspec:\n  node: node1\n  peerIP: badpeerIP\n  asNumber: 64514\n`;
    const one = await h.run('create -f -', bad('bgppeer-name1'));
    assert.equal(one.code, 1);
    assert.equal(one.out, '');
    assert.match(one.err, /^failed to create 'BGPPeer' resource: \[BGPPeer\(bgppeer-name1\): error with field PeerIP = 'badpeerIP' \(/);
    const two = await h.run('create -f -', docs(bad('bgppeer-name1'), bad('bgppeer-name2')));
    assert.equal(two.out, '');
    assert.match(two.err, /^failed to create any 'BGPPeer' resources: \[BGPPeer\(bgppeer-name1\): error with field PeerIP = 'badpeerIP' .* BGPPeer\(bgppeer-name2\): error with field PeerIP = 'badpeerIP' /);
    assert.deepEqual(await names(h, 'bgppeer'), ['p1']);
  });

  it('partial success is announced only when successes outnumber failures', async () => {
    // 2 created, 1 failed: announced.
    assert.deepEqual(await h.run('create -f -', docs(pool('e', '10.5.0.0/16'), pool('f', '10.6.0.0/16'), pool('a', '10.1.0.0/16'))), {
      out: "Partial success: created the first 2 out of 3 'IPPool' resources:\n",
      err: `hit error: [${exists('IPPool(a)')}]\n`,
      code: 1,
    });
    // 1 created, 1 failed: NumHandled − len(errors) = 0, no announcement.
    assert.deepEqual(await h.run('create -f -', docs(pool('g', '10.7.0.0/16'), pool('a', '10.1.0.0/16'))), {
      out: '',
      err: `hit error: [${exists('IPPool(a)')}]\n`,
      code: 1,
    });
    // 1 created, 2 failed.
    assert.deepEqual(await h.run('create -f -', docs(pool('a', '10.1.0.0/16'), pool('h', '10.8.0.0/16'), pool('b', '10.2.0.0/16'))), {
      out: '',
      err: `hit error: [${exists('IPPool(a)')} ${exists('IPPool(b)')}]\n`,
      code: 1,
    });
    // "the first N" counts successes even when the failure came first; mixed kinds drop the kind.
    assert.deepEqual(await h.run('create -f -', docs(pool('a', '10.1.0.0/16'), pool('i', '10.9.0.0/16'), peer('p2', '10.0.0.2'))), {
      out: 'Partial success: created the first 2 out of 3 resources:\n',
      err: `hit error: [${exists('IPPool(a)')}]\n`,
      code: 1,
    });
    assert.deepEqual(await names(h, 'ippool'), ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i']);
  });

  it('--skip-exists counts existing resources as created', async () => {
    assert.deepEqual(await h.run('create --skip-exists -f -', docs(pool('a', '10.1.0.0/16'), peer('p1', '10.0.0.1'), pool('j', '10.10.0.0/16'))), {
      out: 'Successfully created 3 resource(s)\n',
      err: '',
      code: 0,
    });
    // An existing resource is skipped, not overwritten.
    assert.equal(JSON.parse(await h.ok('get ippool a -o json')).spec.cidr, '10.1.0.0/16');
    const r = await h.run('create --skip-exists -f -', pool('a', '10.99.0.0/16'));
    assert.deepEqual(r, { out: "Successfully created 1 'IPPool' resource(s)\n", err: '', code: 0 });
    assert.equal(JSON.parse(await h.ok('get ippool a -o json')).spec.cidr, '10.1.0.0/16');
  });

  it('create keeps only name, namespace, labels and annotations of the input metadata', async () => {
    await h.ok(
      'create -f -',
      `${API}\nkind: IPPool\nmetadata:\n  name: k\n  uid: 99a82055-9107-11e9-815b-b82a72dffa9f\n  creationTimestamp: "2019-01-01T00:00:00Z"\n  labels: {a: b}\n  annotations: {c: d}\nspec:\n  cidr: 10.11.0.0/16\n`,
    );
    const md = JSON.parse(await h.ok('get ippool k -o json')).metadata;
    assert.notEqual(md.uid, '99a82055-9107-11e9-815b-b82a72dffa9f');
    assert.notEqual(md.creationTimestamp, '2019-01-01T00:00:00Z');
    assert.deepEqual([md.labels, md.annotations], [{ a: 'b' }, { c: 'd' }]);
  });
});

describe('apply', () => {
  const h = new CliHarness();
  after(() => h.cleanup());

  it('creates, then replaces; counts and wording', async () => {
    assert.equal(await h.ok('apply -f -', pool('a', '10.1.0.0/16')), "Successfully applied 1 'IPPool' resource(s)\n");
    assert.equal(await h.ok('apply -f -', pool('a', '10.1.0.0/16', '  natOutgoing: true\n')), "Successfully applied 1 'IPPool' resource(s)\n");
    assert.equal(JSON.parse(await h.ok('get ippool a -o json')).spec.natOutgoing, true);
    assert.equal(await h.ok('apply -f -', docs(pool('a', '10.1.0.0/16'), peer('p1', '10.0.0.1'))), 'Successfully applied 2 resource(s)\n');
  });

  it('failures: one, many; partial success says "hit error(s)"', async () => {
    const overlap = (n: string, c: string, o: string, oc: string) =>
      `IPPool(${n}): error with field IPPool.Spec.CIDR = '${c}' (IPPool(${n}) CIDR overlaps with IPPool(${o}) CIDR ${oc})`;
    assert.deepEqual(await h.run('apply -f -', pool('b', '10.1.0.0/17')), {
      out: '',
      err: `failed to apply 'IPPool' resource: [${overlap('b', '10.1.0.0/17', 'a', '10.1.0.0/16')}]\n`,
      code: 1,
    });
    assert.deepEqual(await h.run('apply -f -', docs(pool('b', '10.1.0.0/17'), pool('c', '10.1.128.0/17'))), {
      out: '',
      err: `failed to apply any 'IPPool' resources: [${overlap('b', '10.1.0.0/17', 'a', '10.1.0.0/16')} ${overlap('c', '10.1.128.0/17', 'a', '10.1.0.0/16')}]\n`,
      code: 1,
    });
    assert.deepEqual(await h.run('apply -f -', docs(pool('d', '10.4.0.0/16'), pool('e', '10.5.0.0/16'), pool('f', '10.4.0.0/24'))), {
      out: "Partial success: applied the first 2 out of 3 'IPPool' resources:\n",
      err: `hit error(s): [${overlap('f', '10.4.0.0/24', 'd', '10.4.0.0/16')}]\n`,
      code: 1,
    });
    assert.deepEqual(await names(h, 'ippool'), ['a', 'd', 'e']);
  });

  it('an out-of-date resourceVersion is a conflict; without one, apply takes the latest', async () => {
    await h.ok('apply -f -', pool('a', '10.1.0.0/16', '  natOutgoing: true\n'));
    const y = await h.ok('get ippool a -o yaml');
    await h.ok('apply -f -', y.replace('natOutgoing: true', 'natOutgoing: false'));
    assert.deepEqual(await h.run('apply -f -', y), { out: '', err: "failed to apply 'IPPool' resource: [update conflict: IPPool(a)]\n", code: 1 });
    assert.equal(await h.ok('apply -f -', y.replace(/ {2}resourceVersion: "\d+"\n/, '')), "Successfully applied 1 'IPPool' resource(s)\n");
    assert.equal(JSON.parse(await h.ok('get ippool a -o json')).spec.natOutgoing, true);
  });
});

describe('replace', () => {
  const h = new CliHarness();
  after(() => h.cleanup());

  it('success', async () => {
    await h.ok('create -f -', docs(pool('a', '10.1.0.0/16'), pool('b', '10.2.0.0/16')));
    assert.equal(await h.ok('replace -f -', pool('a', '10.1.0.0/16', '  natOutgoing: true\n')), "Successfully replaced 1 'IPPool' resource(s)\n");
    assert.equal(await h.ok('replace -f -', docs(pool('a', '10.1.0.0/16'), pool('b', '10.2.0.0/16'))), "Successfully replaced 2 'IPPool' resource(s)\n");
  });

  it('a failed replace counts as handled: "Partial success: replaced the first 1 out of 1", last error wins, no brackets', async () => {
    assert.deepEqual(await h.run('replace -f -', pool('zz', '10.9.0.0/16')), {
      out: "Partial success: replaced the first 1 out of 1 'IPPool' resources:\n",
      err: `hit error: ${missing('IPPool(zz)')}\n`,
      code: 1,
    });
    assert.deepEqual(await h.run('replace -f -', docs(pool('yy', '10.8.0.0/16'), pool('a', '10.1.0.0/16', '  disabled: true\n'), pool('zz', '10.9.0.0/16'))), {
      out: "Partial success: replaced the first 3 out of 3 'IPPool' resources:\n",
      err: `hit error: ${missing('IPPool(zz)')}\n`,
      code: 1,
    });
    // The one in the middle was replaced; nothing was created.
    assert.equal(JSON.parse(await h.ok('get ippool a -o json')).spec.disabled, true);
    assert.deepEqual(await names(h, 'ippool'), ['a', 'b']);
  });

  it('a namespace error is not counted: "failed to replace"', async () => {
    assert.deepEqual(await h.run('replace -n other -f -', np('p1', 'ns1')), {
      out: '',
      err: "failed to replace 'NetworkPolicy' resource: resource namespace does not match client namespace. ns1 != other\n",
      code: 1,
    });
    assert.deepEqual(await h.run('replace -f -', docs(pool('a', '10.1.0.0/16'), np('p1', 'ns1'))), {
      out: "Partial success: replaced the first 2 out of 2 resources:\n",
      err: `hit error: ${missing('NetworkPolicy(ns1/p1)')}\n`,
      code: 1,
    });
  });

  it('a stale resourceVersion: the conflict names the resource', async () => {
    const y = await h.ok('get ippool b -o yaml');
    await h.ok('replace -f -', pool('b', '10.2.0.0/16', '  natOutgoing: true\n'));
    assert.deepEqual(await h.run('replace -f -', y), {
      out: "Partial success: replaced the first 1 out of 1 'IPPool' resources:\n",
      err: 'hit error: update conflict: IPPool(b)\n',
      code: 1,
    });
    assert.equal(JSON.parse(await h.ok('get ippool b -o json')).spec.natOutgoing, true);
    // The current resourceVersion is accepted.
    const cur = await h.ok('get ippool b -o yaml');
    assert.equal(await h.ok('replace -f -', cur.replace('natOutgoing: true', 'natOutgoing: false')), "Successfully replaced 1 'IPPool' resource(s)\n");
  });
});

describe('delete', () => {
  const h = new CliHarness();
  after(() => h.cleanup());

  it('by kind and names; N is what was deleted', async () => {
    await h.ok('create -f -', docs(pool('a', '10.1.0.0/16'), pool('b', '10.2.0.0/16'), pool('c', '10.3.0.0/16'), peer('p1', '10.0.0.1'), peer('p2', '10.0.0.2')));
    assert.deepEqual(await h.run('delete ippool a b'), { out: "Successfully deleted 2 'IPPool' resource(s)\n", err: '', code: 0 });
    assert.deepEqual(await names(h, 'ippool'), ['c']);
  });

  it('missing names: one "Failed to delete" line each, after the success line; an extra newline ends the message', async () => {
    await h.ok('create -f -', pool('a', '10.1.0.0/16'));
    assert.deepEqual(await h.run('delete ippool a blah c zz'), {
      out: "Successfully deleted 2 'IPPool' resource(s)\n",
      err: `Failed to delete 'IPPool' resource: ${missing('IPPool(blah)')}\nFailed to delete 'IPPool' resource: ${missing('IPPool(zz)')}\n\n`,
      code: 1,
    });
    assert.deepEqual(await h.run('delete ippool x'), { out: '', err: `Failed to delete 'IPPool' resource: ${missing('IPPool(x)')}\n\n`, code: 1 });
  });

  it('test_get_delete_multiple_names: "delete ippool x y z" deletes nothing else', async () => {
    await h.ok('create -f -', docs(pool('a', '10.1.0.0/16'), pool('b', '10.2.0.0/16')));
    const before = await names(h, 'ippool');
    assert.equal((await h.run('delete ippool x y z')).code, 1);
    assert.deepEqual(await names(h, 'ippool'), before);
  });

  it('-s/--skip-not-exists counts missing ones as deleted', async () => {
    assert.deepEqual(await h.run('delete ippool a nope -s'), { out: "Successfully deleted 2 'IPPool' resource(s)\n", err: '', code: 0 });
    assert.deepEqual(await h.run('delete bgppeer nope --skip-not-exists'), { out: "Successfully deleted 1 'BGPPeer' resource(s)\n", err: '', code: 0 });
  });

  it('by file, mixed kinds: no kind in the message', async () => {
    assert.deepEqual(await h.run('delete -f -', docs(pool('b', '10.2.0.0/16'), peer('p1', '10.0.0.1'))), {
      out: 'Successfully deleted 2 resource(s)\n',
      err: '',
      code: 0,
    });
    assert.deepEqual(await h.run('delete -f -', docs(pool('b', '10.2.0.0/16'), peer('p2', '10.0.0.2'))), {
      out: 'Successfully deleted 1 resource(s)\n',
      err: `Failed to delete resource: ${missing('IPPool(b)')}\n\n`,
      code: 1,
    });
    assert.deepEqual(await names(h, 'bgppeer'), []);
  });

  it('a resourceVersion in the file must match', async () => {
    await h.ok('create -f -', pool('v', '10.5.0.0/16'));
    const y = await h.ok('get ippool v -o yaml');
    await h.ok('apply -f -', pool('v', '10.5.0.0/16', '  natOutgoing: true\n'));
    const r = await h.run('delete -f -', y);
    assert.equal(r.code, 1);
    assert.match(r.err, /^Failed to delete 'IPPool' resource: update conflict: IPPool\(v\)\n\n$/);
    assert.deepEqual(await names(h, 'ippool'), ['v']);
  });
});

describe('input: files, directories, stdin, lists, arrays, documents', () => {
  const h = new CliHarness();
  after(() => h.cleanup());

  it('"---" separates documents; a <Kind>List and a YAML array are several resources', async () => {
    assert.equal(await h.ok('create -f -', docs(pool('a', '10.1.0.0/16'), pool('b', '10.2.0.0/16'), pool('c', '10.3.0.0/16'))), "Successfully created 3 'IPPool' resource(s)\n");
    const list = `${API}\nkind: BGPPeerList\nitems:\n- ${API}\n  kind: BGPPeer\n  metadata:\n    name: l1\n  spec:\n    peerIP: 10.0.0.1\n    asNumber: 1\n- metadata:\n    name: l2\n  spec:\n    peerIP: 10.0.0.2\n    asNumber: 2\n`;
    assert.equal(await h.ok('create -f -', list), "Successfully created 2 'BGPPeer' resource(s)\n");
    const arr = `- ${API}\n  kind: BGPPeer\n  metadata:\n    name: y1\n  spec:\n    peerIP: 10.0.0.3\n    asNumber: 3\n- ${API}\n  kind: IPPool\n  metadata:\n    name: y2\n  spec:\n    cidr: 10.4.0.0/16\n`;
    assert.equal(await h.ok('create -f -', arr), 'Successfully created 2 resource(s)\n');
    // JSON, array form.
    const json = JSON.stringify([{ apiVersion: 'projectcalico.org/v3', kind: 'BGPPeer', metadata: { name: 'j1' }, spec: { peerIP: '10.0.0.4', asNumber: 4 } }]);
    assert.equal(await h.ok('create -f -', json), "Successfully created 1 'BGPPeer' resource(s)\n");
    assert.deepEqual(await names(h, 'bgppeer'), ['j1', 'l1', 'l2', 'y1']);
    assert.deepEqual(await names(h, 'ippool'), ['a', 'b', 'c', 'y2']);
  });

  it('a directory: every .yaml/.yml/.json file in it; -R also its subdirectories', async () => {
    const d = join(h.dir, 'manifests');
    mkdirSync(join(d, 'sub'), { recursive: true });
    writeFileSync(join(d, 'a.yaml'), pool('d1', '10.21.0.0/16'));
    writeFileSync(join(d, 'b.json'), JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'd2' }, spec: { cidr: '10.22.0.0/16' } }));
    writeFileSync(join(d, 'c.yml'), peer('d3', '10.0.0.9'));
    writeFileSync(join(d, 'notes.txt'), 'not a manifest');
    writeFileSync(join(d, 'sub', 's.yaml'), pool('d4', '10.24.0.0/16'));
    assert.equal(await h.ok(['create', '-f', d]), 'Successfully created 3 resource(s)\n');
    assert.equal(await h.ok(['create', '-R', '-f', d, '--skip-exists']), 'Successfully created 4 resource(s)\n');
    assert.deepEqual(await names(h, 'ippool'), ['a', 'b', 'c', 'd1', 'd2', 'd4', 'y2']);
    assert.equal(await h.ok(['delete', '--recursive', '-f', d]), 'Successfully deleted 4 resource(s)\n');
  });

  it('empty input: an error naming the file or directory, unless --skip-empty ("No resources specified")', async () => {
    const empty = join(h.dir, 'empty.yaml');
    writeFileSync(empty, '# nothing here\n');
    const dir = join(h.dir, 'emptydir');
    mkdirSync(dir);
    const dirWithEmpty = join(h.dir, 'dirwithempty');
    mkdirSync(dirWithEmpty);
    writeFileSync(join(dirWithEmpty, 'e.yaml'), '');
    for (const verb of ['create', 'apply', 'replace', 'delete']) {
      assert.deepEqual(await h.run(`${verb} -f -`, ''), { out: '', err: 'no resources specified in file -\n', code: 1 }, verb);
      assert.deepEqual(await h.run([verb, '-f', empty]), { out: '', err: `no resources specified in file ${empty}\n`, code: 1 }, verb);
      assert.deepEqual(await h.run([verb, '-f', dir]), { out: '', err: `no resources specified in directory ${dir}\n`, code: 1 }, verb);
      assert.deepEqual(await h.run([verb, '-f', dirWithEmpty]), { out: '', err: `no resources specified in file ${join(dirWithEmpty, 'e.yaml')}\n`, code: 1 }, verb);
      for (const f of ['-', empty, dir, dirWithEmpty]) {
        assert.deepEqual(await h.run([verb, '-f', f, '--skip-empty'], ''), { out: 'No resources specified\n', err: '', code: 0 }, `${verb} ${f}`);
      }
    }
    // An empty list is empty input too.
    assert.deepEqual(await h.run('create -f -', `${API}\nkind: IPPoolList\nitems: []\n`), { out: '', err: 'no resources specified in file -\n', code: 1 });
  });

  it('a missing file', async () => {
    const f = join(h.dir, 'nope.yaml');
    assert.deepEqual(await h.run(['create', '-f', f]), { out: '', err: `failed to execute command: open ${f}: no such file or directory\n`, code: 1 });
  });
});

describe('names and kinds on the command line', () => {
  const h = new CliHarness();
  after(() => h.cleanup());

  it('resource type not supported', async () => {
    assert.deepEqual(await h.run('get somekind somename'), { out: '', err: "failed to get resources: resource type 'somekind' is not supported\n", code: 1 });
    assert.deepEqual(await h.run('get somekind'), { out: '', err: "failed to get resources: resource type 'somekind' is not supported\n", code: 1 });
    assert.deepEqual(await h.run('delete somekind a'), { out: '', err: "resource type 'somekind' is not supported\n", code: 1 });
  });

  it('kinds are case-insensitive and may be plural or short', async () => {
    for (const k of ['IPPool', 'ippools', 'IPPOOLS', 'ipp', 'pools']) assert.equal(await h.ok(`get ${k}`), 'NAME   CIDR   SELECTOR   \n\n', k);
  });

  it('resource name may not be empty (test_empty_name_is_illegal)', async () => {
    assert.deepEqual(await h.run(['get', 'policy', '']), { out: '', err: 'failed to get resources: resource name may not be empty\n', code: 1 });
    assert.deepEqual(await h.run(['get', 'policy', 'x', '', 'y']), { out: '', err: 'failed to get resources: resource name may not be empty\n', code: 1 });
    // delete returns the error as it is (no resources were counted).
    assert.deepEqual(await h.run(['delete', 'policy', 'x', '', 'y']), { out: '', err: 'resource name may not be empty\n', code: 1 });
    assert.deepEqual(await h.run(['delete', 'ippool', '']), { out: '', err: 'resource name may not be empty\n', code: 1 });
  });
});

describe('namespaces: the four errors', () => {
  const h = new CliHarness();
  after(() => h.cleanup());

  it('resources without a namespace go to "default", or to -n', async () => {
    assert.equal(await h.ok('create -f -', np('a')), "Successfully created 1 'NetworkPolicy' resource(s)\n");
    assert.equal(await h.ok('create -n ns1 -f -', np('b')), "Successfully created 1 'NetworkPolicy' resource(s)\n");
    assert.equal(await h.ok('create -n ns2 -f -', np('c', 'ns2')), "Successfully created 1 'NetworkPolicy' resource(s)\n");
    assert.deepEqual(await names(h, 'networkpolicy'), ['a']);
    assert.deepEqual(await names(h, 'networkpolicy', '-n ns1'), ['b']);
    assert.deepEqual(await names(h, 'networkpolicy', '-A'), ['a', 'b', 'c']);
  });

  it('resource namespace does not match client namespace', async () => {
    assert.deepEqual(await h.run('create -n other -f -', np('d', 'ns1')), {
      out: '',
      err: "failed to create 'NetworkPolicy' resource: [resource namespace does not match client namespace. ns1 != other]\n",
      code: 1,
    });
  });

  it('namespace should not be specified for a non-namespaced resource', async () => {
    assert.deepEqual(await h.run('create -f -', `${API}\nkind: IPPool\nmetadata:\n  name: p\n  namespace: x\nspec:\n  cidr: 10.1.0.0/16\n`), {
      out: '',
      err: "failed to create 'IPPool' resource: [namespace should not be specified for a non-namespaced resource. IPPool is not a namespaced resource]\n",
      code: 1,
    });
  });

  it('<Kind> is not namespaced (-n or -A on a cluster-scoped kind)', async () => {
    assert.deepEqual(await h.run('get ippool -n default -o yaml'), { out: 'null\n', err: 'IPPool is not namespaced\n', code: 1 });
    assert.deepEqual(await h.run('get bgppeer --all-namespaces'), { out: '', err: 'BGPPeer is not namespaced\n', code: 1 });
    assert.deepEqual(await h.run('create -n ns1 -f -', pool('p', '10.1.0.0/16')), { out: '', err: "failed to create 'IPPool' resource: [IPPool is not namespaced]\n", code: 1 });
    assert.deepEqual(await h.run('delete ippool p -n ns1'), { out: '', err: "Failed to delete 'IPPool' resource: IPPool is not namespaced\n\n", code: 1 });
  });

  it('cannot use both --namespace and --all-namespaces', async () => {
    assert.deepEqual(await h.run('get networkpolicy -n ns1 -A'), { out: '', err: 'cannot use both --namespace and --all-namespaces flags at the same time\n', code: 1 });
  });

  it('nothing was stored by the failed writes', async () => {
    assert.deepEqual(await names(h, 'networkpolicy', '-A'), ['a', 'b', 'c']);
    assert.deepEqual(await names(h, 'ippool'), []);
  });

  it('get and delete by file use the file namespace, else default', async () => {
    assert.equal(JSON.parse(await h.ok('get -o json -f -', np('b', 'ns1'))).metadata.namespace, 'ns1');
    assert.deepEqual(await h.run('get -f -', np('b')), { out: '', err: 'resource does not exist: NetworkPolicy(default/b) with error: <nil>\n', code: 1 });
    assert.equal(await h.ok('delete -f -', np('a')), "Successfully deleted 1 'NetworkPolicy' resource(s)\n");
    assert.equal(await h.ok('delete networkpolicy b -n ns1'), "Successfully deleted 1 'NetworkPolicy' resource(s)\n");
  });
});

describe('ClusterInformation is read-only', () => {
  const h = new CliHarness();
  after(() => h.cleanup());
  const ci = `${API}\nkind: ClusterInformation\nmetadata:\n  name: default\nspec:\n  calicoVersion: v9.9.9\n`;

  it('create, apply, replace and delete are refused with clusterinfo.go / resourcemgr Apply wording', async () => {
    assert.deepEqual(await h.run('create -f -', ci), {
      out: '',
      err: "failed to create 'ClusterInformation' resource: [operation create or apply is not supported on ClusterInformation]\n",
      code: 1,
    });
    assert.deepEqual(await h.run('apply -f -', ci), {
      out: '',
      err: "failed to apply 'ClusterInformation' resource: [operation apply is not supported on ClusterInformation: resource is readonly]\n",
      code: 1,
    });
    // replace counts its failure as handled, as for any kind.
    assert.deepEqual(await h.run('replace -f -', ci), {
      out: "Partial success: replaced the first 1 out of 1 'ClusterInformation' resources:\n",
      err: 'hit error: operation apply or replace is not supported on ClusterInformation\n',
      code: 1,
    });
    assert.deepEqual(await h.run('delete clusterinformation default'), {
      out: '',
      err: "Failed to delete 'ClusterInformation' resource: operation delete is not supported on ClusterInformation\n\n",
      code: 1,
    });
    const j = JSON.parse(await h.ok('get clusterinfo default -o json'));
    assert.equal(j.spec.calicoVersion, undefined);
  });
});
