/**
 * The datastore contract against a real etcd (started and removed by the test), plus what only
 * a real etcd can show: Calico's key layout as etcdctl sees it, revisions equal to etcd's
 * mod_revision, unreachable and restarted servers, compaction done by etcd itself.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { EtcdBackend, etcdPrefixRange } from '../../src/datastore/etcd.js';
import type { KVBackend, KVEvent } from '../../src/datastore/kv.js';
import { ResourceStore } from '../../src/datastore/resources.js';
import { runContractSuite } from '../../src/datastore/testing/contract.js';
import { watchKV, type WatchEvent } from '../../src/datastore/watcher.js';
import { etcdSkipReason, startEtcd, type TestEtcd } from '../helpers/etcd.js';

const skip = etcdSkipReason();

async function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function take<T>(it: AsyncIterator<T[]>, n: number, ms = 10_000): Promise<T[]> {
  const got: T[] = [];
  const deadline = Date.now() + ms;
  while (got.length < n) {
    let timer: NodeJS.Timeout | undefined;
    const r = await Promise.race([
      it.next(),
      new Promise<'timeout'>((res) => (timer = setTimeout(() => res('timeout'), Math.max(0, deadline - Date.now())))),
    ]);
    clearTimeout(timer);
    if (r === 'timeout') throw new Error(`timed out after ${got.length} of ${n} events: ${JSON.stringify(got)}`);
    if (r.done) throw new Error(`stream ended after ${got.length} events`);
    got.push(...r.value);
  }
  return got;
}

describe('etcd datastore', { skip: skip ?? false }, () => {
  let etcd: TestEtcd;
  before(async () => {
    etcd = await startEtcd();
  });
  after(async () => {
    await etcd?.stop();
  });

  runContractSuite('etcd', async () => {
    const kv = EtcdBackend.connect([etcd.endpoint]);
    const others: KVBackend[] = [];
    return {
      kv,
      // A real restart: the etcd process stops and starts again on the same data and ports;
      // the same client object reconnects.
      async restart() {
        await etcd.restart();
      },
      async compact(revision: string) {
        await kv.compact(revision);
      },
      async connectAgain() {
        const o = EtcdBackend.connect([etcd.endpoint]);
        others.push(o);
        return o;
      },
      async cleanup() {
        await kv.close();
        for (const o of others) await o.close();
      },
    };
  });

  describe('etcd specifics', () => {
    let kv: EtcdBackend;
    before(() => {
      kv = EtcdBackend.connect([etcd.endpoint]);
    });
    after(async () => {
      await kv?.close();
    });

    it('resources land at Calico key paths, as etcdctl sees them, with etcd mod_revision as resourceVersion', async () => {
      const store = new ResourceStore(kv);
      const r = await store.create({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'etcdctl-pool' }, spec: { cidr: '10.9.0.0/16' } });
      const key = '/calico/resources/v3/projectcalico.org/ippools/etcdctl-pool';
      const out = etcd.etcdctl('get', '--prefix', '/calico/resources/v3/projectcalico.org/ippools/').trim().split('\n');
      assert.equal(out[0], key);
      const stored = JSON.parse(out[1]!);
      assert.deepEqual(stored.spec, { cidr: '10.9.0.0/16' });
      assert.equal(stored.kind, 'IPPool');
      assert.equal(stored.metadata.resourceVersion, undefined);
      const json = JSON.parse(etcd.etcdctl('get', key, '-w', 'json')) as { kvs: { mod_revision: number }[] };
      assert.equal(String(json.kvs[0]!.mod_revision), r.metadata.resourceVersion);
      // And the other way: what Calico (here etcdctl) writes, tortie reads.
      etcd.etcdctl('put', '/calico/resources/v3/projectcalico.org/ippools/from-calico', '{"kind":"IPPool","apiVersion":"projectcalico.org/v3","metadata":{"name":"from-calico"},"spec":{"cidr":"10.10.0.0/16"}}');
      const g = await store.get({ kind: 'IPPool', name: 'from-calico' });
      assert.deepEqual(g.spec, { cidr: '10.10.0.0/16' });
      await store.delete({ kind: 'IPPool', name: 'from-calico' });
      assert.equal(etcd.etcdctl('get', '/calico/resources/v3/projectcalico.org/ippools/from-calico'), '');
    });

    it('an unreachable endpoint is UnavailableError within 5 s, with a one-line message', async () => {
      const port = await closedPort();
      const dead = EtcdBackend.connect([`http://127.0.0.1:${port}`]);
      try {
        const t0 = Date.now();
        await assert.rejects(dead.get('/calico/x'), { code: 'UNAVAILABLE', message: `etcd unavailable at http://127.0.0.1:${port}: connection refused` });
        const took = Date.now() - t0;
        assert.ok(took < 5000, `took ${took} ms`);
        // A watch on it fails the same way (the resilient watcher would retry).
        const s = dead.watch('/calico/', '0');
        await assert.rejects(async () => {
          for await (const _ of s) void _;
        }, (e: Error & { code?: string }) => e.code === 'UNAVAILABLE' && !e.message.includes('\n'));
      } finally {
        await dead.close();
      }
    });

    it('rejects malformed endpoints with ConfigError, and a closed client with ClosedError', async () => {
      assert.throws(() => EtcdBackend.connect([]), { code: 'CONFIG' });
      assert.throws(() => EtcdBackend.connect(['127.0.0.1:2379']), { code: 'CONFIG' });
      assert.throws(() => EtcdBackend.connect(['ftp://h:1']), { code: 'CONFIG' });
      assert.throws(() => EtcdBackend.connect(['http://a:1', 'https://b:2']), { code: 'CONFIG' });
      assert.throws(() => EtcdBackend.connect([etcd.endpoint], { caCertFile: '/nonexistent/ca.pem' }), { code: 'CONFIG' });
      const c = EtcdBackend.connect([`${etcd.endpoint}/`]);
      assert.ok((await c.revision()).match(/^\d+$/));
      await c.close();
      await assert.rejects(c.get('/x'), { code: 'CLOSED', message: `etcd client for ${etcd.endpoint} is closed` });
    });

    it('compaction by etcd: older snapshots and watches are CompactedError', async () => {
      await kv.apply('/cmp/a', '1');
      const r1 = await kv.revision();
      await kv.apply('/cmp/a', '2');
      await kv.apply('/cmp/a', '3');
      const r3 = await kv.revision();
      etcd.etcdctl('compact', r3, '--physical');
      await assert.rejects(kv.list('/cmp/', { revision: r1 }), { code: 'COMPACTED' });
      const s = kv.watch('/cmp/', r1);
      await assert.rejects(async () => {
        for await (const _ of s) void _;
      }, { code: 'COMPACTED' });
      assert.deepEqual((await kv.list('/cmp/', { revision: r3 })).pairs.map((p) => p.value), ['3']);
      await kv.compact(r3); // again: a no-op
    });

    it('list pages through more keys than one range reply, at one revision', async () => {
      const n = 1234;
      await Promise.all(Array.from({ length: n }, (_, i) => kv.create(`/many/${String(i).padStart(5, '0')}`, String(i))));
      const rev = await kv.revision();
      await kv.apply('/many/zzzzz', 'later');
      const l = await kv.list('/many/', { revision: rev });
      assert.equal(l.pairs.length, n);
      assert.equal(l.revision, rev);
      assert.deepEqual(l.pairs.map((p) => p.value), Array.from({ length: n }, (_, i) => String(i)));
      assert.equal((await kv.list('/many/')).pairs.length, n + 1);
    });

    it('kill -9 of etcd: calls fail fast, watches resume exactly after it is back, the same client works again', async () => {
      const p = '/kill9/';
      await kv.create(`${p}a`, '1');
      const w = watchKV(kv, p, { minBackoffMs: 20, maxBackoffMs: 200 });
      const raw = kv.watch(p, await kv.revision());
      try {
        await w.ready;
        const it = w[Symbol.asyncIterator]();
        const rawEnd = (async () => {
          for await (const _ of raw) void _;
        })().then(
          () => new Error('raw stream ended without an error'),
          (e: unknown) => e,
        );
        await etcd.kill9();
        assert.equal(((await rawEnd) as { code?: string }).code, 'UNAVAILABLE');
        const t0 = Date.now();
        await assert.rejects(kv.get(`${p}a`), { code: 'UNAVAILABLE' });
        assert.ok(Date.now() - t0 < 5000);
        await etcd.restart();
        await kv.update(`${p}a`, '2');
        await kv.create(`${p}b`, '3');
        const evs = (await take<WatchEvent>(it, 2)).map((e) => [e.type, e.key, e.old, e.new]);
        assert.deepEqual(evs, [
          ['modified', `${p}a`, '1', '2'],
          ['added', `${p}b`, undefined, '3'],
        ]);
      } finally {
        w.close();
        raw.close();
        await etcd.restart(); // leave a running etcd for the next test, whatever happened
      }
    });

    it('password auth (a second etcd with auth enabled): right credentials work, wrong or none are one-line UnavailableError', async () => {
      const sec = await startEtcd();
      const clients: EtcdBackend[] = [];
      const open = (o: { username?: string; password?: string }) => {
        const c = EtcdBackend.connect([sec.endpoint], o);
        clients.push(c);
        return c;
      };
      try {
        sec.etcdctl('user', 'add', 'root:secret');
        sec.etcdctl('auth', 'enable');
        const ok = open({ username: 'root', password: 'secret' });
        const a = await ok.create('/calico/a', '1');
        assert.equal((await ok.get('/calico/a')).revision, a.revision);
        const evs = await take<KVEvent>(ok.watch('/calico/', '0')[Symbol.asyncIterator](), 1);
        assert.equal(evs[0]!.key, '/calico/a');
        await assert.rejects(open({ username: 'root', password: 'nope' }).get('/calico/a'), {
          code: 'UNAVAILABLE',
          message: `etcd unavailable at ${sec.endpoint}: access refused: authentication failed, invalid user ID or password`,
        });
        await assert.rejects(open({}).get('/calico/a'), { code: 'UNAVAILABLE', message: `etcd unavailable at ${sec.endpoint}: access refused: user name is empty` });
        const w = open({}).watch('/calico/', '0');
        await assert.rejects(async () => {
          for await (const _ of w) void _;
        }, { code: 'UNAVAILABLE', message: `etcd unavailable at ${sec.endpoint}: watch on /calico/ cancelled: access refused: user name is empty` });
      } finally {
        for (const c of clients) await c.close();
        await sec.stop();
      }
    });

    it('prefix ranges are etcd\'s (last byte below 0xff incremented; empty prefix = every key)', () => {
      const hex = (r: [Buffer, Buffer]) => r.map((b) => b.toString('hex'));
      assert.deepEqual(hex(etcdPrefixRange('/calico/')), [Buffer.from('/calico/').toString('hex'), Buffer.from('/calico0').toString('hex')]);
      assert.deepEqual(hex(etcdPrefixRange('')), ['00', '00']);
      assert.deepEqual(hex(etcdPrefixRange('a\u00ff')), ['61c3bf', '61c3c0']);
    });

    it('raw watch batches carry etcd revisions and previous values', async () => {
      const p = '/raw/';
      const from = await kv.revision();
      const s = kv.watch(p, from);
      const a = await kv.create(`${p}x`, 'v1');
      const b = await kv.update(`${p}x`, 'v2', a.revision);
      const d = await kv.delete(`${p}x`, b.revision);
      assert.equal(d.value, 'v2');
      const evs = await take<KVEvent>(s[Symbol.asyncIterator](), 3);
      assert.deepEqual(evs, [
        { type: 'put', key: `${p}x`, value: 'v1', revision: a.revision, createRevision: a.revision },
        { type: 'put', key: `${p}x`, value: 'v2', prevValue: 'v1', revision: b.revision, createRevision: a.revision },
        { type: 'delete', key: `${p}x`, prevValue: 'v2', revision: String(BigInt(b.revision) + 1n) },
      ]);
      s.close();
    });
  });
});
