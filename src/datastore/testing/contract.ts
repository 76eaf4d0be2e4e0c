/**
 * The datastore contract suite: every backend (memory, SQLite, etcd) must pass all of it.
 * Each backend's test file calls `runContractSuite` with a factory for fresh, empty instances.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { KVBackend, KVEvent } from '../kv.js';
import { ResourceStore, type ResourceEvent } from '../resources.js';
import { watchKV, type WatchEvent } from '../watcher.js';
import type { Resource } from '../../api/meta.js';

export interface BackendHarness {
  kv: KVBackend;
  /** Make the backend go away and come back (process restart / reconnect); open watchers must survive. */
  restart?(): Promise<void>;
  /** Drop history before `revision` (etcd compaction). */
  compact?(revision: string): Promise<void>;
  /** A second, independent connection to the same data (another process's view). */
  connectAgain?(): Promise<KVBackend>;
  cleanup(): Promise<void>;
}

const pool = (name: string, cidr: string): Resource => ({
  apiVersion: 'projectcalico.org/v3',
  kind: 'IPPool',
  metadata: { name },
  spec: { cidr },
});

/** Resolves to `it.next()` or to `fallback` after `ms`, without leaving a timer behind. */
async function nextWithin<T, F>(it: AsyncIterator<T>, ms: number, fallback: F): Promise<IteratorResult<T> | F> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([it.next(), new Promise<F>((res) => (timer = setTimeout(() => res(fallback), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

async function collect<T>(it: AsyncIterator<T[]>, n: number, timeoutMs = 5000): Promise<T[]> {
  const got: T[] = [];
  const deadline = Date.now() + timeoutMs;
  while (got.length < n) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`timed out waiting for ${n} events, got ${got.length}: ${JSON.stringify(got)}`);
    const r = await nextWithin(it, left, 'timeout' as const);
    if (r === 'timeout') continue;
    if (r.done) throw new Error(`stream ended after ${got.length} events`);
    got.push(...r.value);
  }
  return got;
}

/** Waits briefly and asserts nothing more arrives. */
async function expectQuiet<T>(it: AsyncIterator<T[]>, ms = 300): Promise<void> {
  const r = await nextWithin(it, ms, 'quiet' as const);
  assert.equal(r, 'quiet', `unexpected extra events: ${JSON.stringify(r)}`);
}

export function runContractSuite(name: string, make: () => Promise<BackendHarness>): void {
  describe(`datastore contract: ${name}`, () => {
    let h: BackendHarness;
    let kv: KVBackend;
    let n = 0;
    // Every test uses its own key space so the suite can share one backend instance.
    const ns = () => `/t${++n}-${process.pid}/`;

    before(async () => {
      h = await make();
      kv = h.kv;
    });
    after(async () => {
      await h?.cleanup();
    });

    describe('key/value', () => {
      it('create then get returns the value with its revisions; a second create is AlreadyExists', async () => {
        const p = ns();
        const a = await kv.create(`${p}a`, '{"v":1}');
        assert.equal(a.key, `${p}a`);
        assert.equal(a.value, '{"v":1}');
        assert.equal(a.revision, a.createRevision);
        assert.deepEqual(await kv.get(`${p}a`), a);
        await assert.rejects(kv.create(`${p}a`, '{"v":2}'), { code: 'ALREADY_EXISTS' });
        assert.equal((await kv.get(`${p}a`)).value, '{"v":1}');
      });

      it('get of a missing key is NotFound', async () => {
        await assert.rejects(kv.get(`${ns()}missing`), { code: 'NOT_FOUND' });
      });

      it('update is compare-and-swap on the mod revision', async () => {
        const p = ns();
        const a = await kv.create(`${p}a`, '1');
        const b = await kv.update(`${p}a`, '2', a.revision);
        assert.ok(BigInt(b.revision) > BigInt(a.revision), 'revision increases');
        assert.equal(b.createRevision, a.createRevision);
        await assert.rejects(kv.update(`${p}a`, '3', a.revision), { code: 'UPDATE_CONFLICT' });
        assert.equal((await kv.get(`${p}a`)).value, '2');
        const c = await kv.update(`${p}a`, '4');
        assert.equal(c.value, '4');
        await assert.rejects(kv.update(`${p}missing`, '1'), { code: 'NOT_FOUND' });
        await assert.rejects(kv.update(`${p}missing`, '1', '1'), (e: { code: string }) => e.code === 'NOT_FOUND' || e.code === 'UPDATE_CONFLICT');
      });

      it('apply creates or replaces', async () => {
        const p = ns();
        const a = await kv.apply(`${p}a`, '1');
        const b = await kv.apply(`${p}a`, '2');
        assert.equal(b.value, '2');
        assert.equal(b.createRevision, a.createRevision);
        assert.ok(BigInt(b.revision) > BigInt(a.revision));
      });

      it('delete returns the old pair, honours the revision and is NotFound afterwards', async () => {
        const p = ns();
        const a = await kv.create(`${p}a`, '1');
        await kv.update(`${p}a`, '2');
        await assert.rejects(kv.delete(`${p}a`, a.revision), { code: 'UPDATE_CONFLICT' });
        const cur = await kv.get(`${p}a`);
        const d = await kv.delete(`${p}a`, cur.revision);
        assert.equal(d.value, '2');
        await assert.rejects(kv.get(`${p}a`), { code: 'NOT_FOUND' });
        await assert.rejects(kv.delete(`${p}a`), { code: 'NOT_FOUND' });
        // A deleted key can be created again, with a new create revision.
        const again = await kv.create(`${p}a`, '3');
        assert.ok(BigInt(again.createRevision) > BigInt(a.createRevision));
      });

      it('list returns the prefix sorted by key, at a revision no older than the writes', async () => {
        const p = ns();
        await kv.create(`${p}b`, '2');
        await kv.create(`${p}a`, '1');
        await kv.create(`${p}c/x`, '3');
        await kv.create(`${p.slice(0, -1)}x`, 'outside');
        const before = await kv.revision();
        const { pairs, revision } = await kv.list(p);
        assert.deepEqual(pairs.map((x) => x.key), [`${p}a`, `${p}b`, `${p}c/x`]);
        assert.ok(BigInt(revision) >= BigInt(before));
      });

      it('list at an older revision reads that snapshot', async () => {
        const p = ns();
        await kv.create(`${p}a`, '1');
        const r1 = await kv.revision();
        await kv.update(`${p}a`, '2');
        await kv.create(`${p}b`, '3');
        await kv.delete(`${p}a`);
        const old = await kv.list(p, { revision: r1 });
        assert.deepEqual(old.pairs.map((x) => [x.key, x.value]), [[`${p}a`, '1']]);
        const now = await kv.list(p);
        assert.deepEqual(now.pairs.map((x) => [x.key, x.value]), [[`${p}b`, '3']]);
      });

      it('revisions are global and strictly increasing across keys', async () => {
        const p = ns();
        const revs: bigint[] = [];
        for (let i = 0; i < 5; i++) revs.push(BigInt((await kv.create(`${p}${i}`, String(i))).revision));
        for (let i = 1; i < revs.length; i++) assert.ok(revs[i]! > revs[i - 1]!);
        assert.ok(BigInt(await kv.revision()) >= revs[4]!);
      });

      it('concurrent CAS increments never lose an update', async () => {
        const p = ns();
        await kv.create(`${p}counter`, '0');
        const workers = 8;
        const perWorker = 15;
        let conflicts = 0;
        await Promise.all(
          Array.from({ length: workers }, async () => {
            for (let i = 0; i < perWorker; i++) {
              for (;;) {
                const cur = await kv.get(`${p}counter`);
                try {
                  await kv.update(`${p}counter`, String(Number(cur.value) + 1), cur.revision);
                  break;
                } catch (e) {
                  if ((e as { code?: string }).code !== 'UPDATE_CONFLICT') throw e;
                  conflicts++;
                }
              }
            }
          }),
        );
        assert.equal((await kv.get(`${p}counter`)).value, String(workers * perWorker));
        assert.ok(conflicts >= 0);
      });

      it('txn applies every op or none; the first failing condition is the error', async () => {
        const p = ns();
        const a = await kv.create(`${p}a`, 'a0');
        const b = await kv.create(`${p}b`, 'b0');
        const snapshot = async () => (await kv.list(p)).pairs.map((x) => [x.key.slice(p.length), x.value, x.revision]);
        const before = await snapshot();
        const failing: [Parameters<KVBackend['txn']>[0], string, string][] = [
          [[{ op: 'update', key: `${p}a`, value: 'a1', revision: a.revision }, { op: 'create', key: `${p}b`, value: 'x' }], 'ALREADY_EXISTS', `${p}b`],
          [[{ op: 'create', key: `${p}c`, value: 'c' }, { op: 'update', key: `${p}b`, value: 'b1', revision: a.revision }], 'UPDATE_CONFLICT', `${p}b`],
          [[{ op: 'create', key: `${p}c`, value: 'c' }, { op: 'delete', key: `${p}nope` }], 'NOT_FOUND', `${p}nope`],
          [[{ op: 'update', key: `${p}nope`, value: 'n' }], 'NOT_FOUND', `${p}nope`],
        ];
        for (const [ops, code, key] of failing) {
          await assert.rejects(kv.txn(ops), (e: { code?: string; message?: string }) => e.code === code && String(e.message).includes(key));
          assert.deepEqual(await snapshot(), before, `nothing written by a failed ${code} txn`);
        }
        await assert.rejects(kv.txn([{ op: 'create', key: `${p}d`, value: '1' }, { op: 'delete', key: `${p}d` }]), /names .*d twice/);

        const out = await kv.txn([
          { op: 'update', key: `${p}a`, value: 'a1', revision: a.revision },
          { op: 'create', key: `${p}c`, value: 'c0' },
          { op: 'delete', key: `${p}b`, revision: b.revision },
        ]);
        assert.deepEqual(
          out.map((x) => [x.key.slice(p.length), x.value]),
          [
            ['a', 'a1'],
            ['c', 'c0'],
            ['b', 'b0'],
          ],
        );
        assert.ok(BigInt(out[0]!.revision) > BigInt(b.revision));
        assert.equal(out[1]!.createRevision, out[1]!.revision);
        assert.equal(out[0]!.createRevision, a.createRevision);
        assert.deepEqual((await snapshot()).map((x) => x.slice(0, 2)), [
          ['a', 'a1'],
          ['c', 'c0'],
        ]);
        assert.equal((await kv.get(`${p}a`)).revision, out[0]!.revision);
      });

      it('readMany: prefixes and keys from one snapshot', async () => {
        const p = ns();
        await kv.create(`${p}a/2`, 'two');
        await kv.create(`${p}a/1`, 'one');
        await kv.create(`${p}ab`, 'ab');
        const last = await kv.create(`${p}b`, 'b');
        const { results, revision } = await kv.readMany([{ prefix: `${p}a/` }, { key: `${p}b` }, { key: `${p}missing` }, { prefix: `${p}none/` }, { key: `${p}a` }]);
        assert.deepEqual(
          results.map((r) => r.map((x) => [x.key.slice(p.length), x.value])),
          [
            [
              ['a/1', 'one'],
              ['a/2', 'two'],
            ],
            [['b', 'b']],
            [],
            [],
            [],
          ],
        );
        assert.equal(results[1]![0]!.revision, last.revision);
        assert.ok(BigInt(revision) >= BigInt(last.revision));
        assert.deepEqual(await kv.readMany([]), { results: [], revision: await kv.revision() });
      });

      it('txn: concurrent transfers between two keys keep their sum', async () => {
        const p = ns();
        await kv.create(`${p}x`, '100');
        await kv.create(`${p}y`, '100');
        await Promise.all(
          Array.from({ length: 6 }, async (_, w) => {
            for (let i = 0; i < 10; i++) {
              for (;;) {
                const [x, y] = await Promise.all([kv.get(`${p}x`), kv.get(`${p}y`)]);
                const d = w % 2 === 0 ? 1 : -1;
                try {
                  await kv.txn([
                    { op: 'update', key: `${p}x`, value: String(Number(x.value) - d), revision: x.revision },
                    { op: 'update', key: `${p}y`, value: String(Number(y.value) + d), revision: y.revision },
                  ]);
                  break;
                } catch (e) {
                  if ((e as { code?: string }).code !== 'UPDATE_CONFLICT') throw e;
                }
              }
            }
          }),
        );
        const [x, y] = await Promise.all([kv.get(`${p}x`), kv.get(`${p}y`)]);
        assert.equal(Number(x.value) + Number(y.value), 200);
        assert.equal(x.value, '100');
      });
    });

    describe('raw watch', () => {
      it('streams puts and deletes after a revision, in order, with previous values', async () => {
        const p = ns();
        await kv.create(`${p}a`, '1');
        const from = await kv.revision();
        const s = kv.watch(p, from);
        const it = s[Symbol.asyncIterator]();
        await kv.update(`${p}a`, '2');
        await kv.create(`${p}b`, '3');
        await kv.delete(`${p}a`);
        await kv.create(`${p.slice(0, -1)}-other`, 'x');
        const evs = (await collect<KVEvent>(it, 3)).map((e) => [e.type, e.key, e.value, e.prevValue]);
        assert.deepEqual(evs, [
          ['put', `${p}a`, '2', '1'],
          ['put', `${p}b`, '3', undefined],
          ['delete', `${p}a`, undefined, '2'],
        ]);
        s.close();
      });

      it('replays history when opened at an older revision', async () => {
        const p = ns();
        const r0 = await kv.revision();
        await kv.create(`${p}a`, '1');
        await kv.create(`${p}b`, '2');
        const s = kv.watch(p, r0);
        const evs = await collect<KVEvent>(s[Symbol.asyncIterator](), 2);
        assert.deepEqual(evs.map((e) => e.key), [`${p}a`, `${p}b`]);
        assert.ok(BigInt(evs[0]!.revision) < BigInt(evs[1]!.revision));
        s.close();
      });
    });

    describe('resilient watcher', () => {
      it('delivers added / modified / deleted with old and new values', async () => {
        const p = ns();
        await kv.create(`${p}pre`, '0');
        const w = watchKV(kv, p);
        await w.ready;
        const it = w[Symbol.asyncIterator]();
        await kv.update(`${p}pre`, '1');
        await kv.create(`${p}x`, 'a');
        await kv.delete(`${p}pre`);
        const evs = (await collect<WatchEvent>(it, 3)).map((e) => [e.type, e.key, e.old, e.new]);
        assert.deepEqual(evs, [
          ['modified', `${p}pre`, '0', '1'],
          ['added', `${p}x`, undefined, 'a'],
          ['deleted', `${p}pre`, '1', undefined],
        ]);
        w.close();
      });

      it('starts from a given revision', async () => {
        const p = ns();
        const r0 = await kv.revision();
        await kv.create(`${p}a`, '1');
        const w = watchKV(kv, p, { revision: r0 });
        const evs = await collect<WatchEvent>(w[Symbol.asyncIterator](), 1);
        assert.deepEqual(evs.map((e) => [e.type, e.key]), [['added', `${p}a`]]);
        w.close();
      });

      it('survives a backend restart without missing or repeating events', async (t) => {
        if (!h.restart) return t.skip('this backend has no restart');
        const p = ns();
        const w = watchKV(kv, p, { minBackoffMs: 20, maxBackoffMs: 200 });
        await w.ready;
        const it = w[Symbol.asyncIterator]();
        await kv.create(`${p}1`, 'a');
        await collect<WatchEvent>(it, 1);
        await h.restart();
        kv = h.kv;
        // Written by another connection while the watcher may still be reconnecting.
        const writer = h.connectAgain ? await h.connectAgain() : kv;
        await writer.create(`${p}2`, 'b');
        await writer.update(`${p}1`, 'a2');
        await writer.delete(`${p}2`);
        const evs = (await collect<WatchEvent>(it, 3, 15000)).map((e) => [e.type, e.key, e.old, e.new]);
        assert.deepEqual(evs, [
          ['added', `${p}2`, undefined, 'b'],
          ['modified', `${p}1`, 'a', 'a2'],
          ['deleted', `${p}2`, 'b', undefined],
        ]);
        await expectQuiet(it);
        if (writer !== kv) await writer.close();
        w.close();
      });

      it('relists after compaction and emits only the difference', async (t) => {
        if (!h.compact || !h.restart) return t.skip('this backend cannot compact and disconnect');
        const p = ns();
        await kv.create(`${p}keep`, 'k');
        await kv.create(`${p}change`, '1');
        await kv.create(`${p}gone`, 'g');
        const w = watchKV(kv, p, { minBackoffMs: 20, maxBackoffMs: 200 });
        await w.ready;
        const it = w[Symbol.asyncIterator]();
        // Take the watcher offline, change things, compact the history away, bring it back.
        await h.restart();
        kv = h.kv;
        await kv.update(`${p}change`, '2');
        await kv.update(`${p}change`, '3');
        await kv.delete(`${p}gone`);
        await kv.create(`${p}new`, 'n');
        await kv.create(`${p.slice(0, -1)}-pad`, 'x');
        await h.compact(await kv.revision());
        const evs = (await collect<WatchEvent>(it, 3, 15000)).map((e) => [e.type, e.key, e.old, e.new]);
        evs.sort((a, b) => String(a[1]).localeCompare(String(b[1])));
        // Either the watcher caught the changes before compaction (4 events, `change` twice) or
        // it relisted (3 events): both are correct, as long as the final state is exact.
        const state = new Map<string, string>([[`${p}keep`, 'k'], [`${p}change`, '1'], [`${p}gone`, 'g']]);
        const all = [...evs];
        const more = await nextWithin(it, 500, undefined);
        if (more && !more.done) all.push(...more.value.map((e) => [e.type, e.key, e.old, e.new]));
        for (const [type, key, , nv] of all) {
          if (type === 'deleted') state.delete(String(key));
          else state.set(String(key), String(nv));
        }
        assert.deepEqual([...state].sort(), [[`${p}change`, '3'], [`${p}keep`, 'k'], [`${p}new`, 'n']]);
        w.close();
      });
    });

    describe('typed resources', () => {
      let store: ResourceStore;
      before(() => {
        store = new ResourceStore(kv, { now: () => new Date('2026-11-21T10:00:00.123Z'), newUID: () => `uid-${++n}` });
      });
      const unique = () => `p${++n}-${process.pid}`;

      it('create sets uid, creationTimestamp and resourceVersion', async () => {
        const name = unique();
        const r = await store.create(pool(name, '10.1.0.0/16'));
        assert.equal(r.metadata.name, name);
        assert.match(r.metadata.uid!, /^uid-/);
        assert.equal(r.metadata.creationTimestamp, '2026-11-21T10:00:00Z');
        assert.match(r.metadata.resourceVersion!, /^\d+$/);
        const g = await store.get({ kind: 'IPPool', name });
        assert.deepEqual(g, r);
        const raw = JSON.parse((await kv.get(`/calico/resources/v3/projectcalico.org/ippools/${name}`)).value);
        assert.equal(raw.metadata.resourceVersion, undefined, 'revision is not stored in the value');
        assert.equal(raw.spec.cidr, '10.1.0.0/16');
      });

      it('create refuses a resourceVersion and an existing name, with Calico messages', async () => {
        const name = unique();
        await assert.rejects(store.create({ ...pool(name, '10.2.0.0/16'), metadata: { name, resourceVersion: '5' } }), {
          code: 'VALIDATION',
          message: "error with field Metadata.ResourceVersion = '5' (field must not be set for a Create request)",
        });
        await store.create(pool(name, '10.2.0.0/16'));
        await assert.rejects(store.create(pool(name, '10.2.0.0/16')), {
          code: 'ALREADY_EXISTS',
          message: `resource already exists: IPPool(${name}) with error: <nil>`,
        });
      });

      it('update is CAS on resourceVersion; a stale one is an update conflict', async () => {
        const name = unique();
        const r1 = await store.create(pool(name, '10.3.0.0/16'));
        const r2 = await store.update({ ...r1, spec: { cidr: '10.3.0.0/16', natOutgoing: true } });
        assert.notEqual(r2.metadata.resourceVersion, r1.metadata.resourceVersion);
        assert.equal(r2.metadata.uid, r1.metadata.uid);
        await assert.rejects(store.update({ ...r1, spec: { cidr: '10.3.0.0/16' } }), {
          code: 'UPDATE_CONFLICT',
          message: `update conflict: IPPool(${name})`,
        });
        await assert.rejects(store.update(pool(name, '10.3.0.0/16')), { code: 'VALIDATION' });
        assert.deepEqual((await store.get({ kind: 'IPPool', name })).spec, { cidr: '10.3.0.0/16', natOutgoing: true });
      });

      it('apply creates, then replaces keeping uid and creationTimestamp', async () => {
        const name = unique();
        const a = await store.apply(pool(name, '10.4.0.0/16'));
        const b = await store.apply({ ...pool(name, '10.4.0.0/16'), spec: { cidr: '10.4.0.0/16', disabled: true } });
        assert.equal(b.metadata.uid, a.metadata.uid);
        assert.equal(b.metadata.creationTimestamp, a.metadata.creationTimestamp);
        assert.deepEqual(b.spec, { cidr: '10.4.0.0/16', disabled: true });
      });

      it('get and delete of a missing resource use Calico identifiers', async () => {
        await assert.rejects(store.get({ kind: 'IPPool', name: 'nope' }), {
          code: 'NOT_FOUND',
          message: 'resource does not exist: IPPool(nope) with error: <nil>',
        });
        await assert.rejects(store.delete({ kind: 'WorkloadEndpoint', name: 'w', namespace: 'ns1' }), {
          code: 'NOT_FOUND',
          message: 'resource does not exist: WorkloadEndpoint(ns1/w) with error: <nil>',
        });
      });

      it('delete honours resourceVersion and returns the deleted object', async () => {
        const name = unique();
        const r1 = await store.create(pool(name, '10.5.0.0/16'));
        await store.update({ ...r1, spec: { cidr: '10.5.0.0/16', disabled: true } });
        await assert.rejects(store.delete({ kind: 'IPPool', name }, { revision: r1.metadata.resourceVersion! }), { code: 'UPDATE_CONFLICT' });
        const d = await store.delete({ kind: 'IPPool', name });
        assert.deepEqual(d.spec, { cidr: '10.5.0.0/16', disabled: true });
        await assert.rejects(store.get({ kind: 'IPPool', name }), { code: 'NOT_FOUND' });
      });

      it('lists by kind and by namespace', async () => {
        const wep = (ns: string, name: string): Resource => ({
          apiVersion: 'projectcalico.org/v3',
          kind: 'WorkloadEndpoint',
          metadata: { name, namespace: ns },
          spec: { node: 'n1' },
        });
        const nsA = `ns-a-${unique()}`;
        const nsB = `ns-b-${unique()}`;
        await store.create(wep(nsA, 'w1'));
        await store.create(wep(nsB, 'w2'));
        await store.create(wep(nsA, 'w3'));
        const a = await store.list('WorkloadEndpoint', { namespace: nsA });
        assert.deepEqual(a.items.map((r) => r.metadata.name), ['w1', 'w3']);
        const all = await store.list('WorkloadEndpoint');
        const names = all.items.filter((r) => [nsA, nsB].includes(r.metadata.namespace!)).map((r) => `${r.metadata.namespace}/${r.metadata.name}`);
        assert.deepEqual(names.sort(), [`${nsA}/w1`, `${nsA}/w3`, `${nsB}/w2`].sort());
        await assert.rejects(store.create({ ...wep('', 'x'), metadata: { name: 'x' } }), { code: 'VALIDATION' });
      });

      it('IPAMConfiguration lives at /calico/ipam/v2/config in Calico backend shape', async () => {
        const r = await store.apply({
          apiVersion: 'projectcalico.org/v3',
          kind: 'IPAMConfiguration',
          metadata: { name: 'default' },
          spec: { strictAffinity: true, autoAllocateBlocks: true, maxBlocksPerHost: 7 },
        });
        assert.deepEqual(JSON.parse((await kv.get('/calico/ipam/v2/config')).value), {
          strict_affinity: true,
          auto_allocate_blocks: true,
          maxBlocksPerHost: 7,
        });
        assert.deepEqual(r.spec, { strictAffinity: true, autoAllocateBlocks: true, maxBlocksPerHost: 7 });
        const l = await store.list('IPAMConfiguration');
        assert.equal(l.items.length, 1);
        await store.delete({ kind: 'IPAMConfiguration', name: 'default' });
      });

      it('watch yields typed events with old and new resources', async () => {
        const name = unique();
        const w = store.watch('IPPool');
        await w.ready;
        const it = w[Symbol.asyncIterator]();
        const c = await store.create(pool(name, '10.6.0.0/16'));
        await store.update({ ...c, spec: { cidr: '10.6.0.0/16', natOutgoing: true } });
        await store.delete({ kind: 'IPPool', name });
        const evs = (await collect<ResourceEvent>(it, 3)).filter((e) => (e.new ?? e.old)!.metadata.name === name);
        assert.deepEqual(
          evs.map((e) => [e.type, e.kind, e.old?.spec, e.new?.spec]),
          [
            ['added', 'IPPool', undefined, { cidr: '10.6.0.0/16' }],
            ['modified', 'IPPool', { cidr: '10.6.0.0/16' }, { cidr: '10.6.0.0/16', natOutgoing: true }],
            ['deleted', 'IPPool', { cidr: '10.6.0.0/16', natOutgoing: true }, undefined],
          ],
        );
        assert.equal(evs[1]!.new!.metadata.resourceVersion, evs[1]!.revision);
        w.close();
      });
    });
  });
}
