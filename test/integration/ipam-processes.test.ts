/**
 * IPAM acceptance under contention, on SQLite and on a real etcd: 8 processes × 200 one-address
 * assignments at once, 4 processes per host on 2 hosts, so processes race for the same blocks and
 * the same block claims. Every address is handed out once (1,600 distinct), `ipam check` finds 0
 * problems, `ipam show` counts exactly 1,600 in use, and releasing everything (again 8 processes
 * at once) leaves every block's addresses free and no handle behind.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/main.js';
import { memoryIO } from '../../src/cli/io.js';
import { API_VERSION } from '../../src/api/meta.js';
import { Client } from '../../src/datastore/client.js';
import { EtcdBackend } from '../../src/datastore/etcd.js';
import type { KVBackend } from '../../src/datastore/kv.js';
import { SqliteBackend } from '../../src/datastore/sqlite.js';
import { IpamStore } from '../../src/ipam/store.js';
import { etcdSkipReason, startEtcd, type TestEtcd } from '../helpers/etcd.js';
import { LineWorker } from '../helpers/line-worker.js';

const WORKERS = 8;
const PER_WORKER = 200;
const HOSTS = 2;
const POOL = '10.128.0.0/20';

const root = resolve(fileURLToPath(import.meta.url), '../../..');
const workerScript = join(root, 'test/helpers/ipam-worker.ts');

async function cli(env: NodeJS.ProcessEnv, args: string[]): Promise<string> {
  const io = memoryIO({ env });
  const code = await main(args, io);
  assert.equal(code, 0, `tortie ${args.join(' ')}: ${io.err()}`);
  return io.out();
}

function contend(name: string, setup: () => Promise<{ target: string; env: NodeJS.ProcessEnv; connect: () => KVBackend; cleanup: () => Promise<void> }>): void {
  describe(`IPAM: ${WORKERS} processes × ${PER_WORKER} assignments at once: ${name}`, () => {
    let workers: LineWorker[] = [];
    let ctx: Awaited<ReturnType<typeof setup>>;
    let client: Client;

    before(async () => {
      ctx = await setup();
      client = new Client(ctx.connect());
      await client.create({ apiVersion: API_VERSION, kind: 'IPPool', metadata: { name: 'pool' }, spec: { cidr: POOL } });
      for (let h = 0; h < HOSTS; h++) await client.create({ apiVersion: API_VERSION, kind: 'Node', metadata: { name: `host-${h}` }, spec: {} });
      workers = Array.from({ length: WORKERS }, (_, i) => new LineWorker(root, workerScript, [ctx.target, String(i), String(PER_WORKER), `host-${i % HOSTS}`], i, 180_000));
      await Promise.all(workers.map((w) => w.next('ready')));
    });
    after(async () => {
      await Promise.all(workers.map((w) => w.exit()));
      for (const w of workers) w.kill();
      await client?.close();
      await ctx?.cleanup();
    });

    it('1,600 distinct addresses, 0 problems, totals match; releasing all frees every block', async () => {
      const at = Date.now() + 300;
      for (const w of workers) w.send(`assign ${at}`);
      const results = await Promise.all(workers.map((w) => w.next('assign')));
      const all = results.flatMap((r) => r.ips as string[]);
      assert.equal(all.length, WORKERS * PER_WORKER);
      assert.equal(new Set(all).size, WORKERS * PER_WORKER, 'no address handed out twice');

      // the datastore agrees: every allocation once, under the handle that asked for it
      const store = new IpamStore(client.kv);
      const blocks = await store.listBlocks(4);
      const allocated = blocks.reduce((n, b) => n + b.value.numAllocated(), 0);
      assert.equal(allocated, WORKERS * PER_WORKER);
      const handles = await store.listHandles();
      assert.equal(handles.length, WORKERS * PER_WORKER);
      assert.ok(handles.every((h) => Object.values(h.value.block).reduce((a, b) => a + b, 0) === 1));
      // blocks: only the hosts' own, at most what 800 addresses need per host plus the claims lost in races
      for (const b of blocks) assert.match(b.value.data.affinity ?? '', /^host:host-[01]$/);
      assert.ok(blocks.length >= 2 * Math.ceil((WORKERS / HOSTS) * PER_WORKER / 64));

      const check = await cli(ctx.env, ['ipam', 'check']);
      assert.ok(check.endsWith('Check complete; found 0 problems.\n'), check);
      assert.match(check, new RegExp(`IPAM blocks record ${WORKERS * PER_WORKER} allocations\\.`));
      const show = await cli(ctx.env, ['ipam', 'show']);
      assert.match(show, /\| IP Pool  \| 10\.128\.0\.0\/20 \|      4096 \| 1600 \(39%\) \| 2496 \(61%\) \|/);

      const at2 = Date.now() + 300;
      for (const w of workers) w.send(`release ${at2}`);
      const rel = await Promise.all(workers.map((w) => w.next('release')));
      assert.equal(rel.reduce((n, r) => n + (r.released as number), 0), WORKERS * PER_WORKER);
      const after = await store.listBlocks(4);
      for (const b of after) assert.equal(b.value.numFree(), b.value.size, `${b.value.cidr} is all free`);
      assert.deepEqual(await store.listHandles(), []);
      assert.match(await cli(ctx.env, ['ipam', 'show']), /\| IP Pool  \| 10\.128\.0\.0\/20 \|      4096 \| 0 \(0%\)     \| 4096 \(100%\) \|/);
      assert.ok((await cli(ctx.env, ['ipam', 'check'])).endsWith('Check complete; found 0 problems.\n'));
    });
  });
}

contend('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tortie-ipam-'));
  const path = join(dir, 'tortie.db');
  return {
    target: `sqlite:${path}`,
    env: { SQLITE_PATH: path },
    connect: () => SqliteBackend.open(path),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

const etcdSkip = etcdSkipReason();
if (etcdSkip) {
  describe('IPAM contention: etcd', () => {
    it('etcd', { skip: etcdSkip }, () => {});
  });
} else {
  let etcd: TestEtcd | undefined;
  contend('etcd', async () => {
    etcd = await startEtcd();
    const e = etcd;
    return {
      target: `etcd:${e.endpoint}`,
      env: { DATASTORE_TYPE: 'etcdv3', ETCD_ENDPOINTS: e.endpoint },
      connect: () => EtcdBackend.connect([e.endpoint]),
      cleanup: () => e.stop(),
    };
  });
}
