/**
 * The acceptance item: several processes updating the same resource at once, on SQLite and on
 * etcd. One wins each round, the others get an update conflict and retry; nothing is lost or
 * corrupted. Workers are real Node processes (`test/helpers/datastore-worker.ts`), started
 * together behind a barrier so their writes overlap.
 *
 * CAS phase: every worker does INCREMENTS read-modify-write cycles on one FelixConfiguration
 * (counter +1, append "<id>:<n>" to a log). Afterwards the counter is exactly WORKERS × INCREMENTS,
 * the log holds every worker's markers once and in its order, a watcher in this process saw every
 * intermediate counter value once and in order, and the stored resourceVersion is the newest one a
 * worker was given. Apply phase: every worker applies one BGPConfiguration (absent at first, so
 * the creates race too) APPLIES times; the result is exactly one worker's last apply, with one uid.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EtcdBackend } from '../../src/datastore/etcd.js';
import type { KVBackend } from '../../src/datastore/kv.js';
import { resourceKey } from '../../src/datastore/keys.js';
import { ResourceStore } from '../../src/datastore/resources.js';
import { SqliteBackend } from '../../src/datastore/sqlite.js';
import { watchKV, type WatchEvent } from '../../src/datastore/watcher.js';
import { etcdSkipReason, startEtcd, type TestEtcd } from '../helpers/etcd.js';
import { LineWorker } from '../helpers/line-worker.js';

const WORKERS = 4;
const INCREMENTS = 100;
const APPLIES = 40;
const PHASE_TIMEOUT_MS = 60_000;

const root = resolve(fileURLToPath(import.meta.url), '../../..');
const workerScript = join(root, 'test/helpers/datastore-worker.ts');

function contend(name: string, target: () => string, connect: () => KVBackend): void {
  describe(`${WORKERS} processes on one resource: ${name}`, () => {
    let workers: LineWorker[] = [];
    let kv: KVBackend;
    let store: ResourceStore;

    before(async () => {
      kv = connect();
      store = new ResourceStore(kv);
      workers = Array.from({ length: WORKERS }, (_, i) => new LineWorker(root, workerScript, [target(), String(i), String(INCREMENTS), String(APPLIES)], i, PHASE_TIMEOUT_MS));
      await Promise.all(workers.map((w) => w.next('ready')));
    });
    after(async () => {
      await Promise.all(workers.map((w) => w.exit()));
      for (const w of workers) {
        w.kill();
      }
      await kv?.close();
    });

    it('CAS updates: conflicts happen and are retried, no increment is lost', async () => {
      const created = await store.create({
        apiVersion: 'projectcalico.org/v3',
        kind: 'FelixConfiguration',
        metadata: { name: 'contended', annotations: { 'test/counter': '0' } },
        spec: { logSeverityScreen: 'Info' },
      });
      const watcher = watchKV(kv, resourceKey('FelixConfiguration', 'contended'), { revision: created.metadata.resourceVersion! });
      const seen: number[] = [];
      const watched = (async () => {
        for await (const batch of watcher) {
          for (const ev of batch as WatchEvent[]) seen.push(Number(JSON.parse(ev.new!).metadata.annotations['test/counter']));
          if (seen.length >= WORKERS * INCREMENTS) return;
        }
      })();
      try {
        const t0 = Date.now() + 200;
        const at = t0; // a common start moment: the workers' writes overlap
        for (const w of workers) w.send(`cas ${at}`);
        const results = await Promise.all(workers.map((w) => w.next('cas')));
        const took = Date.now() - t0;

        const total = WORKERS * INCREMENTS;
        const final = await store.get({ kind: 'FelixConfiguration', name: 'contended' });
        const ann = final.metadata.annotations!;
        assert.equal(ann['test/counter'], String(total), 'every increment is in the final object');
        const log = ann['test/log']!.split(',');
        assert.equal(log.length, total);
        for (let id = 0; id < WORKERS; id++) {
          const mine = log.filter((e) => e.startsWith(`${id}:`)).map((e) => Number(e.split(':')[1]));
          assert.deepEqual(mine, Array.from({ length: INCREMENTS }, (_, i) => i + 1), `worker ${id}'s markers, once each, in order`);
        }
        assert.equal(final.metadata.uid, created.metadata.uid);

        const conflicts = results.reduce((s, r) => s + (r.conflicts as number), 0);
        assert.ok(conflicts > 0, 'with overlapping writers some CAS attempts must lose');

        // The stored revision is the newest a worker got back, and a fresh connection agrees.
        const newest = results.map((r) => BigInt(r.lastRV as string)).reduce((a, b) => (a > b ? a : b));
        assert.equal(final.metadata.resourceVersion, String(newest));
        const fresh = connect();
        try {
          const raw = await fresh.get(resourceKey('FelixConfiguration', 'contended'));
          assert.equal(raw.revision, final.metadata.resourceVersion);
          assert.equal(raw.createRevision, created.metadata.resourceVersion);
          assert.equal(JSON.parse(raw.value).metadata.annotations['test/counter'], String(total));
        } finally {
          await fresh.close();
        }

        // Another process's watcher saw every state once, in order.
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([watched, new Promise((_, rej) => (timer = setTimeout(() => rej(new Error(`watch saw ${seen.length} of ${total}`)), 15_000)))]);
        clearTimeout(timer);
        assert.deepEqual(seen, Array.from({ length: total }, (_, i) => i + 1));
        console.log(`# ${name}: ${total} CAS increments by ${WORKERS} processes in ${took} ms, ${conflicts} conflicts retried`);
      } finally {
        watcher.close();
      }
    });

    it('concurrent apply (racing creates, then replaces): the result is exactly one writer’s last apply', async () => {
      const at = Date.now() + 200;
      for (const w of workers) w.send(`apply ${at}`);
      const results = await Promise.all(workers.map((w) => w.next('apply')));
      const final = await store.get({ kind: 'BGPConfiguration', name: 'contended' });
      const owner = Number(final.metadata.annotations!['test/owner']);
      assert.ok(owner >= 0 && owner < WORKERS);
      assert.equal(final.metadata.annotations!['test/seq'], String(APPLIES - 1), 'the last write is some worker’s last apply');
      assert.deepEqual(final.spec, { asNumber: 64512 + owner, logSeverityScreen: 'Info' }, 'spec and annotations come from the same apply');
      // One object all along: every apply result had the uid and creationTimestamp of the first create.
      const uids = new Set(results.flatMap((r) => r.uids as string[]));
      assert.equal(uids.size, 1, `uids seen: ${[...uids].join(' ')}`);
      assert.equal([...uids][0], `${final.metadata.uid}@${final.metadata.creationTimestamp}`);
      const raw = await kv.get(resourceKey('BGPConfiguration', 'contended'));
      assert.equal(raw.revision, final.metadata.resourceVersion);
      assert.doesNotThrow(() => JSON.parse(raw.value));
    });
  });
}

describe('datastore under concurrent processes', () => {
  describe('sqlite', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tortie-procs-'));
    const path = join(dir, 'tortie.db');
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
    after(() => rmSync(dir, { recursive: true, force: true }));
    contend('sqlite', () => `sqlite:${path}`, () => SqliteBackend.open(path));
  });

  const skip = etcdSkipReason();
  describe('etcd', { skip: skip ?? false }, () => {
    let etcd: TestEtcd | undefined;
    before(async () => {
      etcd = await startEtcd();
    });
    after(async () => {
      await etcd?.stop();
    });
    contend('etcd', () => `etcd:${etcd!.endpoint}`, () => EtcdBackend.connect([etcd!.endpoint]));
  });
});
