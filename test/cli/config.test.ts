/**
 * Where the CLI finds its datastore: `-c FILE` (a CalicoAPIConfig), else the environment.
 * Messages from calicoctl v3.32 `commands/clientmgr/client.go` (`Error reading config file:
 * <path>` when the path cannot be stat'ed, printed alone; otherwise `Failed to create Calico API
 * client: <err>`) and libcalico-go `apiconfig/load.go` (LoadClientConfigFromFile wraps every
 * content problem as `syntax error in <file>: …`; parse failures are
 * `failed to parse config as YAML/JSON: …`; then the apiVersion and kind checks).
 * tortie's own: the variables are DATASTORE_TYPE / SQLITE_PATH / ETCD_ENDPOINTS (a `CALICO_`
 * prefix wins), `kubernetes` is refused, errors go to stderr.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CliHarness } from './harness.js';

const API = 'apiVersion: projectcalico.org/v3';
const POOL = `${API}\nkind: IPPool\nmetadata:\n  name: p\nspec:\n  cidr: 10.1.0.0/16\n`;

describe('-c/--config FILE', () => {
  const h = new CliHarness();
  after(() => h.cleanup());
  const cfg = (name: string, text: string) => {
    const f = join(h.dir, name);
    writeFileSync(f, text);
    return f;
  };

  it('a CalicoAPIConfig for sqlite, YAML or JSON', async () => {
    const db = join(h.dir, 'from-file.db');
    const y = cfg('ok.cfg', `${API}\nkind: CalicoAPIConfig\nmetadata:\nspec:\n  datastoreType: sqlite\n  sqlitePath: ${db}\n`);
    assert.equal(await h.ok(['create', '-c', y, '-f', '-'], POOL), "Successfully created 1 'IPPool' resource(s)\n");
    const j = cfg('ok.json', JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'CalicoAPIConfig', metadata: {}, spec: { sqlitePath: db } }));
    assert.equal(await h.ok(['get', 'ippool', '--config', j, '-o', 'custom-columns=NAME']), 'NAME   \np      \n\n');
    // The environment's datastore (the harness's SQLITE_PATH) was not used.
    assert.equal(await h.ok('get ippool'), 'NAME   CIDR   SELECTOR   \n\n');
  });

  it('a path that does not exist: Error reading config file, alone', async () => {
    const f = join(h.dir, 'nope.cfg');
    for (const args of [['get', 'ippool', '-c', f], ['create', '-f', '-', '--config', f], ['ipam', 'configure', '--strictaffinity=true', '-c', f]]) {
      assert.deepEqual(await h.run(args, POOL), { out: '', err: `Error reading config file: ${f}\n`, code: 1 }, args.join(' '));
    }
  });

  it('a path that exists but cannot be read as a file', async () => {
    const d = join(h.dir, 'cfgdir');
    mkdirSync(d);
    assert.deepEqual(await h.run(['get', 'ippool', '-c', d]), { out: '', err: `Failed to create Calico API client: read ${d}: is a directory\n`, code: 1 });
  });

  it('a wrong apiVersion or kind', async () => {
    const v = cfg('v1.cfg', 'apiVersion: v1\nkind: CalicoAPIConfig\nspec: {}\n');
    assert.deepEqual(await h.run(['get', 'ippool', '-c', v]), {
      out: '',
      err: `Failed to create Calico API client: syntax error in ${v}: invalid config file: unknown APIVersion 'v1'\n`,
      code: 1,
    });
    const k = cfg('kind.cfg', `${API}\nkind: Config\nspec: {}\n`);
    assert.deepEqual(await h.run(['get', 'ippool', '-c', k]), {
      out: '',
      err: `Failed to create Calico API client: syntax error in ${k}: invalid config file: expected kind 'CalicoAPIConfig', got 'Config'\n`,
      code: 1,
    });
    const none = cfg('empty.cfg', '');
    assert.deepEqual(await h.run(['get', 'ippool', '-c', none]), {
      out: '',
      err: `Failed to create Calico API client: syntax error in ${none}: invalid config file: unknown APIVersion ''\n`,
      code: 1,
    });
  });

  it('an unknown field (the file is read strictly)', async () => {
    const u = cfg('unknown.cfg', `${API}\nkind: CalicoAPIConfig\nspec:\n  datastoreType: sqlite\n  sqlitepath2: /tmp/x\n`);
    assert.deepEqual(await h.run(['get', 'ippool', '-c', u]), {
      out: '',
      err: `Failed to create Calico API client: syntax error in ${u}: failed to parse config as YAML/JSON: error unmarshaling JSON: while decoding JSON: json: unknown field "sqlitepath2"\n`,
      code: 1,
    });
  });

  it('YAML that does not parse', async () => {
    const b = cfg('bad.cfg', `${API}\n  kind: CalicoAPIConfig\n`);
    const r = await h.run(['get', 'ippool', '-c', b]);
    assert.equal(r.code, 1);
    assert.ok(r.err.startsWith(`Failed to create Calico API client: syntax error in ${b}: failed to parse config as YAML/JSON: error converting YAML to JSON: yaml: line 2`), r.err);
  });

  it('datastore types tortie does not have', async () => {
    const k = cfg('k8s.cfg', `${API}\nkind: CalicoAPIConfig\nspec:\n  datastoreType: kubernetes\n`);
    assert.deepEqual(await h.run(['get', 'ippool', '-c', k]), {
      out: '',
      err: 'Failed to create Calico API client: datastoreType "kubernetes" is not supported by tortie: use "sqlite" (the default) or "etcdv3"\n',
      code: 1,
    });
    const e = cfg('etcd.cfg', `${API}\nkind: CalicoAPIConfig\nspec:\n  datastoreType: etcdv3\n`);
    assert.deepEqual(await h.run(['get', 'ippool', '-c', e]), {
      out: '',
      err: 'Failed to create Calico API client: datastoreType "etcdv3" needs etcdEndpoints (or the ETCD_ENDPOINTS environment variable)\n',
      code: 1,
    });
  });
});

describe('environment variables', () => {
  const dirs: CliHarness[] = [];
  after(() => dirs.forEach((h) => h.cleanup()));
  const harness = (env: NodeJS.ProcessEnv) => {
    const h = new CliHarness(env);
    dirs.push(h);
    return h;
  };

  it('SQLITE_PATH, and CALICO_SQLITE_PATH which wins', async () => {
    const a = harness({});
    const plain = join(a.dir, 'plain.db');
    const prefixed = join(a.dir, 'prefixed.db');
    const onlyPlain = harness({ SQLITE_PATH: plain });
    assert.equal(await onlyPlain.ok('create -f -', POOL), "Successfully created 1 'IPPool' resource(s)\n");
    const both = harness({ SQLITE_PATH: plain, CALICO_SQLITE_PATH: prefixed });
    // The prefixed path is a different, empty datastore.
    assert.equal(await both.ok('get ippool -o custom-columns=NAME'), 'NAME   \n\n');
    assert.equal(await onlyPlain.ok('get ippool -o custom-columns=NAME'), 'NAME   \np      \n\n');
    const onlyPrefixed = harness({ CALICO_SQLITE_PATH: plain });
    assert.equal(await onlyPrefixed.ok('get ippool -o custom-columns=NAME'), 'NAME   \np      \n\n');
  });

  it('DATASTORE_TYPE and CALICO_DATASTORE_TYPE (prefix wins)', async () => {
    const h = harness({ DATASTORE_TYPE: 'kubernetes', CALICO_DATASTORE_TYPE: 'sqlite' });
    assert.equal(await h.ok('get ippool'), 'NAME   CIDR   SELECTOR   \n\n');
    const k = harness({ DATASTORE_TYPE: 'sqlite', CALICO_DATASTORE_TYPE: 'kubernetes' });
    assert.deepEqual(await k.run('get ippool'), {
      out: '',
      err: 'Failed to create Calico API client: datastoreType "kubernetes" is not supported by tortie: use "sqlite" (the default) or "etcdv3"\n',
      code: 1,
    });
  });

  it('an unreachable etcd (ETCD_ENDPOINTS=http://127.0.0.1:1): one line on stderr, soon, no stack trace', async () => {
    const h = harness({ ETCD_ENDPOINTS: 'http://127.0.0.1:1' });
    for (const [args, stdin] of [['get ippool'], ['create -f -', POOL], ['delete ippool p']] as [string, string?][]) {
      const t0 = Date.now();
      const r = await h.run(args, stdin);
      const took = Date.now() - t0;
      assert.equal(r.code, 1, args);
      assert.equal(r.out, '', args);
      // (delete.go ends its per-resource lines with a newline of their own.)
      assert.match(r.err, /^[^\n]*127\.0\.0\.1:1[^\n]*\n\n?$/, `${args}: ${r.err}`);
      assert.ok(took < 20_000, `${args} took ${took} ms`);
    }
  });
});
