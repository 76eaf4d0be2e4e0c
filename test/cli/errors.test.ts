/**
 * Bad input and bad command lines. Each bad resource: exit 1, a message on stderr naming the
 * resource and the field, nothing stored for it (checked with a follow-up `get`), and the other
 * resources of the file treated as calicoctl treats them:
 *  - a file that cannot be parsed (YAML syntax, unknown kind, unknown field) is rejected whole
 *    before anything is written (`resourcemgr.CreateResourcesFromFile` parses every document
 *    first), reported as `failed to execute command: …`;
 *  - a resource the datastore refuses (validation) fails alone; the others are written and the
 *    partial-success rules of create.go apply.
 * Messages are calicoctl's: libcalico-go's `error with field …` text (`lib/errors/errors.go`,
 * `lib/clientv3/ippool.go`, `lib/validator/v3/validator.go`) and calicoctl's `massageError`
 * (`calicoctl/calicoctl.go`) for unknown fields. tortie prefixes validation errors with the
 * resource (`IPPool(p1): …`) and adds the location of a file error in parentheses.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { CliHarness } from './harness.js';

const API = 'apiVersion: projectcalico.org/v3';
const pool = (name: string, cidr: string, extra = '') => `${API}\nkind: IPPool\nmetadata:\n  name: ${name}\nspec:\n  cidr: ${cidr}\n${extra}`;
const docs = (...d: string[]) => d.join('---\n');

async function names(h: CliHarness, kind: string): Promise<string[]> {
  const l = JSON.parse(await h.ok(`get ${kind} -o json`));
  return l.items.map((i: { metadata: { name: string } }) => i.metadata.name);
}

describe('bad resources', () => {
  const h = new CliHarness();
  after(() => h.cleanup());

  it('invalid YAML: line and column; the whole file is rejected', async () => {
    const bad = docs(pool('y1', '10.1.0.0/16'), `${API}\nkind: IPPool\nmetadata:\n  name: y2\n  spec: x\n spec:\n`);
    const r = await h.run('create -f -', bad);
    assert.equal(r.code, 1);
    assert.equal(r.out, '');
    assert.match(r.err, /^failed to execute command: error converting YAML to JSON: yaml: line \d+, column \d+: did not find expected key\n$/);
    assert.deepEqual(await names(h, 'ippool'), []);
    // The seeds' blog post: every line after the first indented.
    const r2 = await h.run('apply -f -', `${API}\n  kind: IPPool\n  metadata:\n    name: z\n`);
    assert.equal(r2.code, 1);
    assert.match(r2.err, /^failed to execute command: error converting YAML to JSON: yaml: line 2, column \d+: /);
  });

  it('an unknown kind', async () => {
    const r = await h.run('create -f -', docs(pool('k1', '10.1.0.0/16'), `${API}\nkind: Foo\nmetadata:\n  name: x\n`));
    assert.equal(r.code, 1);
    assert.equal(r.out, '');
    assert.equal(r.err, 'failed to execute command: unknown resource type (Foo) and/or version (projectcalico.org/v3) (line 8, column 1)\n');
    const r2 = await h.run('create -f -', `apiVersion: projectcalico.org/v2\nkind: IPPool\nmetadata:\n  name: x\n`);
    assert.match(r2.err, /^failed to execute command: unknown resource type \(IPPool\) and\/or version \(projectcalico\.org\/v2\)/);
    assert.deepEqual(await names(h, 'ippool'), []);
  });

  it('an unknown field: massageError rewrites the message; tortie adds the resource, path and place', async () => {
    const r = await h.run('create -f -', docs(pool('u1', '10.1.0.0/16'), pool('u2', '10.2.0.0/16', '  natOutgoin: true\n')));
    assert.deepEqual(r, {
      out: '',
      err: 'field in document is not recognized or is in the wrong location: natOutgoin (IPPool(u2), field spec.natOutgoin, line 14, column 3)\n',
      code: 1,
    });
    const r2 = await h.run('apply -f -', `${API}\nkind: BGPPeer\nmetadata:\n  name: x\n  label:\n    a: b\nspec: {}\n`);
    assert.equal(r2.code, 1);
    assert.match(r2.err, /^field in document is not recognized or is in the wrong location: label \(BGPPeer\(x\), field metadata\.label, /);
    assert.deepEqual(await names(h, 'ippool'), []);
    assert.deepEqual(await names(h, 'bgppeer'), []);
  });

  it('a value of the wrong type', async () => {
    const r = await h.run('create -f -', pool('t1', '10.1.0.0/16', '  blockSize: "x"\n'));
    assert.equal(r.code, 1);
    assert.match(r.err, /^failed to execute command: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal string into Go struct field IPPoolSpec\.spec\.blockSize of type int \(IPPool\(t1\), field spec\.blockSize/);
    assert.deepEqual(await names(h, 'ippool'), []);
  });

  it('a bad CIDR (clientv3 ippool.go: IPPool CIDR must be a valid subnet)', async () => {
    const r = await h.run('create -f -', pool('p3', '10.2.0.0/33'));
    assert.deepEqual(r, {
      out: '',
      err: "failed to create 'IPPool' resource: [IPPool(p3): error with field IPPool.Spec.CIDR = '10.2.0.0/33' (IPPool CIDR must be a valid subnet)]\n",
      code: 1,
    });
    assert.deepEqual(await names(h, 'ippool'), []);
  });

  it('IPIP and VXLAN on one pool (clientv3 ippool.go)', async () => {
    const r = await h.run('create -f -', pool('p2', '10.2.0.0/16', '  ipipMode: Always\n  vxlanMode: Always\n'));
    assert.deepEqual(r, {
      out: '',
      err: "failed to create 'IPPool' resource: [IPPool(p2): error with field IPPool.Spec.VXLANMode = 'Always' (Cannot enable both VXLAN and IPIP on the same IPPool)]\n",
      code: 1,
    });
    assert.deepEqual(await names(h, 'ippool'), []);
  });

  it('overlapping pools in one file: the first is created, the second refused; 1 ok / 1 failed prints no Partial line', async () => {
    const r = await h.run('create -f -', docs(pool('o1', '10.1.0.0/16'), pool('o2', '10.1.128.0/17')));
    assert.deepEqual(r, {
      out: '',
      err: "hit error: [IPPool(o2): error with field IPPool.Spec.CIDR = '10.1.128.0/17' (IPPool(o2) CIDR overlaps with IPPool(o1) CIDR 10.1.0.0/16)]\n",
      code: 1,
    });
    assert.deepEqual(await names(h, 'ippool'), ['o1']);
    // Two good, one overlapping in the middle: announced, both good ones stored.
    const r2 = await h.run('create -f -', docs(pool('o3', '10.3.0.0/16'), pool('o4', '10.3.0.0/24'), pool('o5', '10.5.0.0/16')));
    assert.equal(r2.out, "Partial success: created the first 2 out of 3 'IPPool' resources:\n");
    assert.equal(r2.err, "hit error: [IPPool(o4): error with field IPPool.Spec.CIDR = '10.3.0.0/24' (IPPool(o4) CIDR overlaps with IPPool(o3) CIDR 10.3.0.0/16)]\n");
    assert.deepEqual(await names(h, 'ippool'), ['o1', 'o3', 'o5']);
  });

  it('a mesh password with the mesh off (validator.go and the CRD rule)', async () => {
    const r = await h.run(
      'create -f -',
      `${API}\nkind: BGPConfiguration\nmetadata:\n  name: default\nspec:\n  nodeToNodeMeshEnabled: false\n  nodeMeshPassword:\n    secretKeyRef:\n      name: bgp-secrets\n      key: mesh-password\n`,
    );
    assert.equal(r.code, 1);
    assert.equal(r.out, '');
    assert.ok(r.err.startsWith("failed to create 'BGPConfiguration' resource: [BGPConfiguration(default): error with the following fields:\n-  Spec.NodeMeshPassword"), r.err);
    assert.ok(r.err.includes('(spec.NodeMeshPassword cannot be set if spec.NodeToNodeMesh is disabled)\n'), r.err);
    assert.deepEqual(await names(h, 'bgpconfig'), []);
    // With the mesh on it is accepted.
    assert.equal(
      await h.ok(
        'create -f -',
        `${API}\nkind: BGPConfiguration\nmetadata:\n  name: default\nspec:\n  nodeToNodeMeshEnabled: true\n  nodeMeshPassword:\n    secretKeyRef:\n      name: bgp-secrets\n      key: mesh-password\n`,
      ),
      "Successfully created 1 'BGPConfiguration' resource(s)\n",
    );
  });

  it('a selector syntax error fails that resource only', async () => {
    const r = await h.run(
      'create -f -',
      docs(pool('s1', '10.11.0.0/16'), `${API}\nkind: BGPPeer\nmetadata:\n  name: sel\nspec:\n  nodeSelector: has(\n  peerIP: 10.0.0.1\n  asNumber: 1\n`, pool('s2', '10.12.0.0/16')),
    );
    assert.equal(r.code, 1);
    assert.equal(r.out, 'Partial success: created the first 2 out of 3 resources:\n');
    assert.match(r.err, /^hit error: \[BGPPeer\(sel\): error with field NodeSelector = 'has\(' \(Reason: failed to validate Field: NodeSelector because of Tag: selector\b/);
    assert.deepEqual(await names(h, 'bgppeer'), []);
    assert.deepEqual(await names(h, 'ippool'), ['o1', 'o3', 'o5', 's1', 's2']);
  });

  it('the bad resource is not stored by apply or replace either', async () => {
    const r = await h.run('apply -f -', pool('o1', '10.1.0.0/16', '  ipipMode: Always\n  vxlanMode: Always\n'));
    assert.equal(r.code, 1);
    assert.match(r.err, /Cannot enable both VXLAN and IPIP on the same IPPool/);
    const r2 = await h.run('replace -f -', pool('o1', '10.1.0.0/16', '  ipipMode: Always\n  vxlanMode: Always\n'));
    assert.equal(r2.out, "Partial success: replaced the first 1 out of 1 'IPPool' resources:\n");
    assert.match(r2.err, /^hit error: IPPool\(o1\): error with field IPPool\.Spec\.VXLANMode = 'Always' \(Cannot enable both VXLAN and IPIP on the same IPPool\)\n$/);
    const stored = JSON.parse(await h.ok('get ippool o1 -o json'));
    assert.deepEqual([stored.spec.ipipMode, stored.spec.vxlanMode], ['Never', 'Never']);
  });
});

describe('bad command lines', () => {
  const h = new CliHarness();
  after(() => h.cleanup());
  const invalid = (args: string) => `invalid option: 'tortie ${args}'. Use flag '--help' to read about a specific subcommand\n`;

  it('unknown options and wrong arguments: calicoctl\'s message with the binary name tortie', async () => {
    for (const args of [
      'get --foo',
      'get',
      'create ippool',
      'create',
      'apply -f',
      'replace -f a.yaml extra',
      'delete -f a.yaml ippool',
      'get ippool -o',
      'patch node n1',
      'patch node -p {}',
      'label node n1',
      'label node n1 a=b c=d',
      'label node n1 k --remove --overwrite',
      'version extra',
      'version --foo',
      'ipam configure extra',
      'create -f a.yaml --skip-not-exists',
      'delete ippool a --skip-exists',
    ]) {
      assert.deepEqual(await h.run(args), { out: '', err: invalid(args), code: 1 }, args);
    }
  });

  it('a bad global option: the top-level message (capitalised, with a full stop)', async () => {
    assert.deepEqual(await h.run('--foo get ippool'), {
      out: '',
      err: "Invalid option: '--foo get ippool'. Use flag '--help' to read about a specific subcommand.\n",
      code: 1,
    });
  });

  it('an unknown log level', async () => {
    for (const args of ['-l foo get ippool', '--log-level=verbose get ippool']) {
      const level = args.startsWith('-l') ? 'foo' : 'verbose';
      assert.deepEqual(await h.run(args), { out: '', err: `Unknown log level: ${level}, expected one of: \npanic, fatal, error, warn, info, debug.\n`, code: 1 });
    }
    for (const level of ['panic', 'fatal', 'error', 'warn', 'warning', 'info', 'debug', 'trace', 'DEBUG']) {
      assert.equal((await h.run(`--log-level ${level} get ippool`)).code, 0, level);
    }
  });

  it('an unknown command: its name, then the usage', async () => {
    const r = await h.run('frobnicate');
    assert.equal(r.code, 1);
    assert.equal(r.out, '');
    assert.ok(r.err.startsWith('unknown command: "frobnicate"\nUsage:\n  tortie [options] <command> [<args>...]\n'), r.err);
  });

  it('ipam: a subcommand is required; an unknown one prints the ipam usage and succeeds (commands/ipam.go)', async () => {
    assert.deepEqual(await h.run('ipam'), { out: '', err: invalid('ipam'), code: 1 });
    const r = await h.run('ipam frobnicate');
    assert.equal(r.code, 0);
    assert.equal(r.err, '');
    assert.ok(r.out.startsWith('Usage:\n  tortie ipam <command> [<args>...]\n'), r.out);
    assert.ok(r.out.endsWith('\n\n'), 'Println after the usage');
    assert.equal(r.out, `${(await h.run('ipam --help')).out}\n`);
  });

  it('no command: the usage on stderr, exit 1', async () => {
    const r = await h.run([]);
    assert.equal(r.code, 1);
    assert.ok(r.err.startsWith('Usage:\n  tortie [options] <command> [<args>...]\n'), r.err);
  });

  it('--help for every verb: exit 0, usage and examples on stdout', async () => {
    const top = await h.run('--help');
    assert.equal(top.code, 0);
    assert.ok(top.out.startsWith('Usage:\n  tortie [options] <command> [<args>...]\n'));
    for (const verb of ['create', 'apply', 'replace', 'delete', 'get', 'patch', 'label', 'version', 'ipam', 'ipam configure']) {
      for (const flag of ['--help', '-h']) {
        const r = await h.run(`${verb} ${flag}`);
        assert.equal(r.code, 0, `${verb} ${flag}`);
        assert.equal(r.err, '', `${verb} ${flag}`);
        assert.match(r.out, new RegExp(`^Usage:\\n {2}tortie ${verb} `, 'm'), `${verb} ${flag}`);
        if (verb !== 'ipam') assert.match(r.out, /^Examples:\n {2}# .*\n {2}tortie /m, `${verb} ${flag}`);
        assert.match(r.out, /^Options:\n {2}-h --help /m, `${verb} ${flag}`);
      }
    }
    // --help wins over everything else on the line, even a datastore that cannot be used.
    assert.equal((await h.run('get ippool -o nonsense --help')).code, 0);
  });
});
