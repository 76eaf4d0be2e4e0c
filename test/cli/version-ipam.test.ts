/**
 * version, the client/cluster version-mismatch guard, and ipam configure, from calicoctl v3.32
 * `commands/version.go`, `commands/common/version_mismatch.go`, `commands/ipam/configure.go`
 * and libcalico-go `ipam.SetIPAMConfig`.
 */
import { describe, it, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CliHarness } from './harness.js';
import { main } from '../../src/cli/main.js';
import { CommandError, memoryIO } from '../../src/cli/io.js';
import { Client } from '../../src/datastore/client.js';
import { SqliteBackend } from '../../src/datastore/sqlite.js';
import { GIT_COMMIT } from '../../src/version.js';

const API = 'apiVersion: projectcalico.org/v3';
const PKG_VERSION = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version as string;
/** buildinfo.Version: the package version with a leading v. */
const CLIENT = `v${PKG_VERSION}`;
// fmt.Println("Client Version:   ", v) — the label, its padding, then Println's space.
const CLIENT_LINES = `Client Version:    ${CLIENT}\nGit commit:        ${GIT_COMMIT}\n`;

/** What an agent does at start-up: record its version and cluster type in ClusterInformation. */
async function agentSets(h: CliHarness, calicoVersion: string, clusterType?: string): Promise<void> {
  const c = new Client(SqliteBackend.open(h.env.SQLITE_PATH!));
  try {
    await c.ensureInitialized({ calicoVersion, ...(clusterType ? { clusterType } : {}) });
  } finally {
    await c.close();
  }
}

describe('version', () => {
  const h = new CliHarness();
  after(() => h.cleanup());

  it('--client: the two client lines only, no datastore needed', async () => {
    const broken = new CliHarness({ DATASTORE_TYPE: 'nonsense' });
    try {
      assert.deepEqual(await broken.run('version --client'), { out: CLIENT_LINES, err: '', code: 0 });
    } finally {
      broken.cleanup();
    }
  });

  it('a datastore nobody has written to has no ClusterInformation: an error after the client lines', async () => {
    assert.deepEqual(await h.run('version'), {
      out: CLIENT_LINES,
      err: 'unable to retrieve Cluster Version or Type: resource does not exist: ClusterInformation(default) with error: <nil>\n',
      code: 1,
    });
  });

  it('after the CLI initialised the datastore, before an agent set anything: unknown', async () => {
    await h.ok('apply -f -', `${API}\nkind: IPPool\nmetadata:\n  name: p\nspec:\n  cidr: 10.1.0.0/16\n`);
    assert.deepEqual(await h.run('version'), {
      out: `${CLIENT_LINES}Cluster Version:   unknown\nCluster Type:      unknown\n`,
      err: '',
      code: 0,
    });
  });

  it('the version and type an agent recorded (no mismatch check for version)', async () => {
    await agentSets(h, 'v3.32.0', 'k8s,bgp');
    assert.deepEqual(await h.run('version'), {
      out: `${CLIENT_LINES}Cluster Version:   v3.32.0\nCluster Type:      k8s,bgp\n`,
      err: '',
      code: 0,
    });
  });

  it('--poll prints only what changed', async () => {
    let n = 0;
    const io = memoryIO({
      env: h.env,
      sleep: async () => {
        n++;
        if (n === 1) await agentSets(h, 'v3.32.1');
        if (n === 3) throw new CommandError('stop polling');
      },
    });
    assert.equal(await main(['version', '--poll=1s'], io), 1);
    assert.equal(io.out(), `${CLIENT_LINES}Cluster Version:   v3.32.0\nCluster Type:      k8s,bgp\nCluster Version:   v3.32.1\n`);
    assert.equal(io.err(), 'stop polling\n');
  });

  it('an unparsable --poll: version.go prints the zero Duration, 0s', async () => {
    assert.deepEqual(await h.run('version --poll=abc'), { out: '', err: 'invalid poll duration specified: 0s\n', code: 1 });
  });

  it('a datastore that cannot be opened: Unable to detect installed Calico version (exit 0)', async () => {
    const bad = new CliHarness();
    try {
      bad.env.SQLITE_PATH = join(bad.dir, 'not-a-dir', 'tortie.db');
      // A regular file where the directory should be.
      writeFileSync(join(bad.dir, 'not-a-dir'), 'x');
      assert.deepEqual(await bad.run('version'), { out: `${CLIENT_LINES}Unable to detect installed Calico version\n`, err: '', code: 0 });
    } finally {
      bad.cleanup();
    }
  });

  it('a config file that does not exist: Error reading config file (LoadClientConfig exits 1)', async () => {
    const f = join(h.dir, 'missing.cfg');
    assert.deepEqual(await h.run(['version', '-c', f]), { out: CLIENT_LINES, err: `Error reading config file: ${f}\n`, code: 1 });
  });

  it('a bad config file: NewClient\'s error is returned as it is (only datastore errors are "Unable to detect")', async () => {
    const f = join(h.dir, 'v1.cfg');
    writeFileSync(f, 'apiVersion: v1\nkind: CalicoAPIConfig\nspec: {}\n');
    assert.deepEqual(await h.run(['version', '-c', f]), {
      out: CLIENT_LINES,
      err: `syntax error in ${f}: invalid config file: unknown APIVersion 'v1'\n`,
      code: 1,
    });
  });
});

describe('version mismatch guard', () => {
  const h = new CliHarness();
  const mismatch = `version mismatch.\nClient Version:   ${CLIENT}\nCluster Version:  9.8.7\nUse --allow-version-mismatch to override`;
  before(async () => {
    await h.ok('create -f -', `${API}\nkind: Node\nmetadata:\n  name: n1\nspec: {}\n`);
    // The cluster version is compared and printed without its leading v and -suffix.
    await agentSets(h, 'v9.8.7-rc1');
  });
  after(() => h.cleanup());

  it('every datastore command refuses, in its own wrapping', async () => {
    const pool = `${API}\nkind: IPPool\nmetadata:\n  name: p\nspec:\n  cidr: 10.1.0.0/16\n`;
    const cases: [string, string | undefined, string][] = [
      ['get ippool', undefined, `failed to get resources: ${mismatch}`],
      ['create -f -', pool, mismatch],
      ['apply -f -', pool, mismatch],
      ['replace -f -', pool, mismatch],
      ['delete node n1', undefined, mismatch],
      ['patch node n1 -p {}', undefined, mismatch],
      ['label node n1 a=b', undefined, `failed to get node n1, error ${mismatch}`],
      ['ipam configure --strictaffinity=true', undefined, mismatch],
    ];
    for (const [cmd, stdin, err] of cases) {
      assert.deepEqual(await h.run(cmd, stdin), { out: '', err: `${err}\n`, code: 1 }, cmd);
    }
    // Nothing was written.
    assert.equal(JSON.parse(await h.ok('get ippool -o json --allow-version-mismatch')).items.length, 0);
    assert.equal(JSON.parse(await h.ok('get node n1 -o json --allow-version-mismatch')).metadata.labels, undefined);
  });

  it('--allow-version-mismatch, on the command or before it', async () => {
    assert.equal(await h.ok('get node --allow-version-mismatch'), 'NAME   \nn1     \n\n');
    assert.equal(await h.ok('--allow-version-mismatch get node'), 'NAME   \nn1     \n\n');
    assert.equal(await h.ok('--allow-version-mismatch label node n1 a=b'), 'Successfully set label a on node n1\n');
  });

  it('version itself is not checked', async () => {
    assert.deepEqual(await h.run('version'), { out: `${CLIENT_LINES}Cluster Version:   v9.8.7-rc1\nCluster Type:      unknown\n`, err: '', code: 0 });
  });

  it('the same version, with a v or a -suffix, is no mismatch', async () => {
    await agentSets(h, `${PKG_VERSION}-calico.1`);
    assert.equal(await h.ok('get node'), 'NAME   \nn1     \n\n');
    await agentSets(h, CLIENT);
    assert.equal(await h.ok('get node'), 'NAME   \nn1     \n\n');
  });
});

describe('ipam configure', () => {
  const h = new CliHarness();
  after(() => h.cleanup());
  const cfg = async () => JSON.parse(await h.ok('get ipamconfig default -o json')).spec;

  it('at least one option; an empty value counts as absent', async () => {
    for (const args of ['ipam configure', 'ipam configure --strictaffinity=', 'ipam configure --max-blocks-per-host=']) {
      assert.deepEqual(await h.run(args), { out: '', err: 'at least one configuration option must be specified\n', code: 1 }, args);
    }
  });

  it('bad values', async () => {
    assert.deepEqual(await h.run('ipam configure --strictaffinity=yes'), { out: '', err: 'invalid value. Use true or false to set strictaffinity\n', code: 1 });
    assert.deepEqual(await h.run('ipam configure --max-blocks-per-host=many'), { out: '', err: 'invalid value for maxblockhost. Use a valid number\n', code: 1 });
    assert.deepEqual(await h.run('ipam configure --max-blocks-per-host=1.5'), { out: '', err: 'invalid value for maxblockhost. Use a valid number\n', code: 1 });
    assert.deepEqual(await h.run('ipam configure --kubevirt-ip-persistence=enabled'), {
      out: '',
      err: 'invalid value for --kubevirt-ip-persistence. Use Enabled or Disabled\n',
      code: 1,
    });
  });

  it('MaxBlocksPerHost needs StrictAffinity (SetIPAMConfig)', async () => {
    assert.deepEqual(await h.run('ipam configure --max-blocks-per-host=5'), { out: '', err: 'error: MaxBlocksPerHost requires StrictAffinity to be enabled\n', code: 1 });
  });

  it('strconv.ParseBool spellings, one line per option set, in order', async () => {
    assert.deepEqual(await h.run('ipam configure --strictaffinity=T'), { out: 'Successfully set StrictAffinity to: true\n', err: '', code: 0 });
    assert.equal((await cfg()).strictAffinity, true);
    assert.deepEqual(await h.run('ipam configure --kubevirt-ip-persistence=Disabled --max-blocks-per-host=+4 --strictaffinity=TRUE'), {
      out: 'Successfully set StrictAffinity to: true\nSuccessfully set MaxBlocksPerHost to: 4\nSuccessfully set KubeVirtVMAddressPersistence to: Disabled\n',
      err: '',
      code: 0,
    });
    const c = await cfg();
    assert.deepEqual([c.strictAffinity, c.maxBlocksPerHost, c.kubeVirtVMAddressPersistence], [true, 4, 'Disabled']);
    // Turning StrictAffinity off with MaxBlocksPerHost still set is refused.
    assert.deepEqual(await h.run('ipam configure --strictaffinity=0'), { out: '', err: 'error: MaxBlocksPerHost requires StrictAffinity to be enabled\n', code: 1 });
    assert.deepEqual(await h.run('ipam configure --strictaffinity=false --max-blocks-per-host=0'), {
      out: 'Successfully set StrictAffinity to: false\nSuccessfully set MaxBlocksPerHost to: 0\n',
      err: '',
      code: 0,
    });
    assert.equal((await cfg()).strictAffinity, false);
  });

  it("Cannot disable 'StrictAffinity' and 'AutoAllocateBlocks' at the same time: reachable once autoAllocateBlocks is false", async () => {
    // ipam configure cannot change AutoAllocateBlocks; the stored configuration can.
    await h.ok('apply -f -', `${API}\nkind: IPAMConfiguration\nmetadata:\n  name: default\nspec:\n  strictAffinity: true\n  autoAllocateBlocks: false\n`);
    assert.deepEqual(await h.run('ipam configure --strictaffinity=false'), {
      out: '',
      err: "error: Cannot disable 'StrictAffinity' and 'AutoAllocateBlocks' at the same time\n",
      code: 1,
    });
    assert.equal((await cfg()).strictAffinity, true);
  });
});
