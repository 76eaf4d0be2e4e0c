import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, openSync, readSync, closeSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// Test only: an independent connection to hold the write lock and read pragmas.
import Database from 'better-sqlite3';
import { SqliteBackend, sqlitePrefixRange } from './sqlite.js';
import type { KVEvent } from './kv.js';
import { runContractSuite } from './testing/contract.js';

// Every temp dir is removed in cleanup, and on exit too when a test failed half-way.
const dirs = new Set<string>();
process.on('exit', () => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tortie-sqlite-'));
  dirs.add(d);
  return d;
}
function removeDir(d: string): void {
  rmSync(d, { recursive: true, force: true });
  dirs.delete(d);
}

runContractSuite('sqlite', async () => {
  const dir = tempDir();
  const path = join(dir, 'nested', 'tortie.db'); // parent directories are created
  const kv = SqliteBackend.open(path, { pollMs: 10 });
  const others: SqliteBackend[] = [];
  return {
    kv,
    // A restart of this process's handle: the same object reopens the file, its watch streams drop.
    async restart() {
      kv.reopen();
    },
    async compact(revision: string) {
      await kv.compact(revision);
    },
    async connectAgain() {
      const o = SqliteBackend.open(path, { pollMs: 10 });
      others.push(o);
      return o;
    },
    async cleanup() {
      await kv.close();
      for (const o of others) await o.close();
      removeDir(dir);
    },
  };
});

/** Collects `n` events from a raw stream within `ms`, or fails. */
async function take(s: AsyncIterable<KVEvent[]>, n: number, ms = 3000): Promise<KVEvent[]> {
  const it = s[Symbol.asyncIterator]();
  const got: KVEvent[] = [];
  const deadline = Date.now() + ms;
  while (got.length < n) {
    let timer: NodeJS.Timeout | undefined;
    const r = await Promise.race([
      it.next(),
      new Promise<'timeout'>((res) => (timer = setTimeout(() => res('timeout'), Math.max(0, deadline - Date.now())))),
    ]);
    clearTimeout(timer);
    if (r === 'timeout') throw new Error(`timed out after ${got.length} of ${n} events`);
    if (r.done) throw new Error('stream ended');
    got.push(...r.value);
  }
  return got;
}

describe('sqlite backend specifics', () => {
  const dir = tempDir();
  after(() => removeDir(dir));
  let k = 0;
  const file = () => join(dir, `db${++k}.sqlite`);

  it('uses WAL mode (file header says so, and SQLite agrees)', async () => {
    const path = file();
    const kv = SqliteBackend.open(path);
    try {
      await kv.create('/a', '1');
      const fd = openSync(path, 'r');
      const header = Buffer.alloc(20);
      readSync(fd, header, 0, 20, 0);
      closeSync(fd);
      assert.equal(header.subarray(0, 15).toString(), 'SQLite format 3');
      assert.deepEqual([header[18], header[19]], [2, 2], 'read/write format 2 = WAL');
      assert.ok(existsSync(`${path}-wal`));
      const raw = new Database(path, { readonly: true });
      assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
      raw.close();
    } finally {
      await kv.close();
    }
  });

  it('data and revisions persist across reopen and across a new backend object', async () => {
    const path = file();
    const kv = SqliteBackend.open(path);
    const a = await kv.create('/calico/x', '{"v":1}');
    await kv.update('/calico/x', '{"v":2}', a.revision);
    const rev = await kv.revision();
    kv.reopen();
    assert.equal((await kv.get('/calico/x')).value, '{"v":2}');
    await kv.close();
    await assert.rejects(kv.get('/calico/x'), { code: 'CLOSED', message: `sqlite datastore at ${path} is closed` });
    const again = SqliteBackend.open(path);
    try {
      assert.equal(await again.revision(), rev);
      const p = await again.get('/calico/x');
      assert.deepEqual([p.value, p.createRevision, p.revision], ['{"v":2}', a.revision, rev]);
      const old = await again.list('/calico/', { revision: a.revision });
      assert.deepEqual(old.pairs.map((x) => x.value), ['{"v":1}']);
    } finally {
      await again.close();
    }
  });

  it('a second backend on the same file sees the writes and gets the watch events of the first', async () => {
    const path = file();
    const a = SqliteBackend.open(path, { pollMs: 10 });
    const b = SqliteBackend.open(path, { pollMs: 10 });
    try {
      const from = await b.revision();
      const s = b.watch('/w/', from);
      const t0 = Date.now();
      const c = await a.create('/w/1', 'x');
      await a.update('/w/1', 'y', c.revision);
      await a.delete('/w/1');
      const evs = await take(s, 3);
      const latency = Date.now() - t0;
      assert.deepEqual(
        evs.map((e) => [e.type, e.key, e.value, e.prevValue]),
        [
          ['put', '/w/1', 'x', undefined],
          ['put', '/w/1', 'y', 'x'],
          ['delete', '/w/1', undefined, 'y'],
        ],
      );
      assert.ok(latency < 1000, `events arrived after ${latency} ms`);
      assert.equal(await b.revision(), await a.revision());
      // And CAS across connections: b's stale revision loses against a's write.
      const p = await b.create('/w/2', '1');
      await a.update('/w/2', '2', p.revision);
      await assert.rejects(b.update('/w/2', '3', p.revision), { code: 'UPDATE_CONFLICT' });
      s.close();
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("another process's write wakes a watch through the -wal file, not the poll; without the file watch the poll still finds it", async () => {
    const path = file();
    const writer = SqliteBackend.open(path);
    // Polls far apart: an event arriving quickly came through the file watch.
    const watched = SqliteBackend.open(path, { pollMs: 5000, watchedPollMs: 5000 });
    const polled = SqliteBackend.open(path, { pollMs: 30, watchFile: false });
    try {
      const sw = watched.watch('/w/', await watched.revision());
      const sp = polled.watch('/w/', await polled.revision());
      await new Promise((r) => setTimeout(r, 50)); // both streams polling
      const t0 = Date.now();
      await writer.create('/w/1', 'x');
      const [ew] = await take(sw, 1);
      const viaFile = Date.now() - t0;
      const [ep] = await take(sp, 1);
      assert.equal(ew!.key, '/w/1');
      assert.equal(ep!.key, '/w/1');
      assert.ok(viaFile < 1000, `the file watch took ${viaFile} ms`);
      sw.close();
      sp.close();
    } finally {
      await writer.close();
      await watched.close();
      await polled.close();
    }
  });

  it('a watch with wake topics is woken only by commits of those topics and reads only their changes, and those without recorded topics', async () => {
    const path = file();
    const writer = SqliteBackend.open(path);
    // Polls far apart: whatever arrives quickly came through a wake file.
    const watcher = SqliteBackend.open(path, { pollMs: 5000, watchedPollMs: 5000 });
    try {
      // Nobody listens yet: writers create no wake files.
      await writer.create('/calico/ipam/v2/handle/h0', '{}');
      assert.equal(existsSync(writer.wakeDir), false);
      const s = watcher.watch('/calico/', await watcher.revision(), { wake: ['node.a'] });
      await new Promise((r) => setTimeout(r, 50));
      await writer.create('/calico/ipam/v2/handle/h1', '{}'); // topic 'other': not woken
      await assert.rejects(take(s, 1, 400), /timed out after 0 of 1/);
      const t0 = Date.now();
      await writer.txn([{ op: 'create', key: '/calico/ipam/v2/host/a/ipv4/block/10.0.0.0-26', value: '{"state":"confirmed"}' }]);
      const evs = await take(s, 1, 1500);
      assert.ok(Date.now() - t0 < 1500);
      // The handle's change (topic 'other') is left out; the event carries its writer's topics.
      assert.deepEqual(evs.map((e) => [e.key, e.topics]), [['/calico/ipam/v2/host/a/ipv4/block/10.0.0.0-26', ['node.a']]]);
      await assert.rejects(take(s, 1, 300), /timed out after 0 of 1/);
      // Topics can change on an open stream.
      s.setWake!(['other']);
      await writer.create('/calico/ipam/v2/handle/h2', '{}');
      assert.deepEqual((await take(s, 1, 1500)).map((e) => [e.key, e.topics]), [['/calico/ipam/v2/handle/h2', ['other']]]);
      // A writer that names no topics wakes nobody, and its change (no topics recorded) is read by every
      // watch, at the next wake-up; so is a delete, with its topics.
      const mute = SqliteBackend.open(path, { wakeTopics: false });
      await mute.create('/calico/ipam/v2/handle/h3', '{}');
      await mute.close();
      await assert.rejects(take(s, 1, 400), /timed out after 0 of 1/);
      await writer.delete('/calico/ipam/v2/handle/h2');
      const last = await take(s, 2, 1500);
      assert.deepEqual(last.map((e) => `${e.type} ${e.key}`), ['put /calico/ipam/v2/handle/h3', 'delete /calico/ipam/v2/handle/h2']);
      assert.equal(last[0]!.topics, undefined);
      assert.deepEqual(last[1]!.topics, ['other']);
      s.close();
      // A watch without topics reads everything.
      const all = watcher.watch('/calico/', '0');
      assert.deepEqual((await take(all, 6, 1500)).map((e) => e.key.split('/').pop()), ['h0', 'h1', '10.0.0.0-26', 'h2', 'h3', 'h2']);
      all.close();
    } finally {
      await writer.close();
      await watcher.close();
    }
  });

  it('a file made before the change log had topics gains the column; its old rows reach every watch', async () => {
    const path = file();
    const old = new Database(path);
    old.pragma('journal_mode = WAL');
    old.exec(`
      CREATE TABLE meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
      INSERT INTO meta (name, value) VALUES ('revision', 1), ('compacted', 0);
      CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL, mod_rev INTEGER NOT NULL, create_rev INTEGER NOT NULL) WITHOUT ROWID;
      CREATE TABLE changes (
        rev INTEGER PRIMARY KEY, key TEXT NOT NULL, op TEXT NOT NULL CHECK (op IN ('put', 'delete')),
        value TEXT, create_rev INTEGER, prev_value TEXT, prev_mod_rev INTEGER, prev_create_rev INTEGER
      );
      INSERT INTO kv VALUES ('/calico/ipam/v2/handle/old', '{}', 1, 1);
      INSERT INTO changes (rev, key, op, value, create_rev) VALUES (1, '/calico/ipam/v2/handle/old', 'put', '{}', 1);
      PRAGMA user_version = 1;
    `);
    old.close();
    const kv = SqliteBackend.open(path, { pollMs: 10 });
    try {
      const check = new Database(path, { readonly: true });
      const cols = check.prepare("SELECT name FROM pragma_table_info('changes')").pluck().all();
      check.close();
      assert.ok(cols.includes('topics'), String(cols));
      const s = kv.watch('/calico/', '0', { wake: ['node.a'] });
      await kv.create('/calico/ipam/v2/handle/new', '{}'); // topic 'other': left out
      await kv.create('/calico/ipam/v2/host/a/ipv4/block/10.0.0.0-26', '{}');
      assert.deepEqual((await take(s, 2)).map((e) => e.key.split('/').pop()), ['old', '10.0.0.0-26']);
      s.close();
    } finally {
      await kv.close();
    }
    // Opening it again leaves it as it is.
    const again = SqliteBackend.open(path);
    assert.deepEqual((await again.list('/calico/')).pairs.map((p) => p.key.split('/').pop()), ['new', 'old', '10.0.0.0-26']); // key order: handle/… before host/…
    await again.close();
  });

  it('a file event that comes before the commit is visible is followed up: the write arrives without another event or the poll', async () => {
    const path = file();
    const writer = SqliteBackend.open(path);
    // No file watch and a poll far away: only the follow-up of the (simulated) event can find the write.
    const reader = SqliteBackend.open(path, { pollMs: 10_000, watchFile: false });
    try {
      const s = reader.watch('/w/', await reader.revision());
      await new Promise((r) => setTimeout(r, 20));
      const t0 = Date.now();
      // inotify saw the commit's last -wal write; SQLite publishes the commit only afterwards.
      (reader as unknown as { fileEvent(): void }).fileEvent();
      await new Promise((r) => setImmediate(r)); // that wake-up's read found nothing new
      await writer.create('/w/late', 'x'); // now the commit is visible, and no event follows
      const [e] = await take(s, 1);
      assert.equal(e!.key, '/w/late');
      const ms = Date.now() - t0;
      assert.ok(ms < 1000, `the follow-up took ${ms} ms`);
      s.close();
    } finally {
      await writer.close();
      await reader.close();
    }
  });

  it('trims history beyond historyLimit: older snapshots and watches are CompactedError', async () => {
    const kv = SqliteBackend.open(file(), { historyLimit: 3 });
    try {
      for (let i = 0; i < 6; i++) await kv.apply('/k', String(i));
      await assert.rejects(kv.list('/', { revision: '1' }), { code: 'COMPACTED' });
      const s = kv.watch('/', '1');
      await assert.rejects(async () => {
        for await (const _ of s) void _;
      }, { code: 'COMPACTED' });
      const ok = await kv.list('/', { revision: '4' });
      assert.equal(ok.pairs[0]!.value, '3');
      // A watch inside the kept history replays it.
      const evs = await take(kv.watch('/', '4'), 2);
      assert.deepEqual(evs.map((e) => e.value), ['4', '5']);
      // compact() drops more, like etcdctl compact.
      await kv.compact('6');
      await assert.rejects(kv.list('/', { revision: '4' }), { code: 'COMPACTED' });
      assert.equal((await kv.list('/', { revision: '5' })).pairs[0]!.value, '4');
    } finally {
      await kv.close();
    }
  });

  it('a path that cannot be opened is UnavailableError with the path and the OS reason on one line', () => {
    const blocker = join(dir, 'a-file');
    writeFileSync(blocker, 'not a directory');
    const under = join(blocker, 'sub', 'tortie.db');
    assert.throws(() => SqliteBackend.open(under), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'UNAVAILABLE');
      assert.ok(e.message.startsWith(`sqlite datastore at ${under} cannot be opened: not a directory (ENOTDIR)`), e.message);
      assert.ok(!e.message.includes('\n'));
      return true;
    });
    const isDir = join(dir, 'a-dir');
    mkdirSync(isDir);
    assert.throws(() => SqliteBackend.open(isDir), {
      code: 'UNAVAILABLE',
      message: `sqlite datastore at ${isDir} cannot be opened: illegal operation on a directory (EISDIR)`,
    });
    const junk = join(dir, 'junk.db');
    writeFileSync(junk, 'x'.repeat(4096));
    assert.throws(() => SqliteBackend.open(junk), { code: 'UNAVAILABLE', message: `sqlite datastore at ${junk} cannot be opened: file is not a database` });
  });

  it('refuses a SQLite file that is not a tortie datastore', () => {
    const path = file();
    const raw = new Database(path);
    raw.exec('CREATE TABLE other (x)');
    raw.close();
    assert.throws(() => SqliteBackend.open(path), { code: 'UNAVAILABLE', message: `sqlite datastore at ${path} cannot be opened: not a tortie datastore (it has tables: other)` });
  });

  it('waits for another writer without blocking the event loop, then gives up with UnavailableError', async () => {
    const path = file();
    const kv = SqliteBackend.open(path, { busyTimeoutMs: 300 });
    const raw = new Database(path);
    try {
      await kv.create('/x', '0');
      raw.exec('BEGIN IMMEDIATE'); // another process holds the write lock
      let ticks = 0;
      const ticker = setInterval(() => ticks++, 10);
      const t0 = Date.now();
      await assert.rejects(kv.update('/x', '1'), {
        code: 'UNAVAILABLE',
        message: `sqlite datastore at ${path}: database is locked by another process for more than 300 ms`,
      });
      clearInterval(ticker);
      const took = Date.now() - t0;
      assert.ok(took >= 300 && took < 2000, `gave up after ${took} ms`);
      assert.ok(ticks >= 10, `event loop ran ${ticks} timer ticks while waiting`);
      // Reads still work while the lock is held (WAL), and a write succeeds once it is released.
      assert.equal((await kv.get('/x')).value, '0');
      const pending = kv.update('/x', '2');
      setTimeout(() => raw.exec('COMMIT'), 50);
      assert.equal((await pending).value, '2');
    } finally {
      if (raw.inTransaction) raw.exec('ROLLBACK');
      raw.close();
      await kv.close();
    }
  });

  it('streams opened before reopen() fail with UnavailableError; new ones use the new handle', async () => {
    const kv = SqliteBackend.open(file(), { pollMs: 10 });
    try {
      const s = kv.watch('/', await kv.revision());
      kv.reopen();
      await assert.rejects(async () => {
        for await (const _ of s) void _;
      }, { code: 'UNAVAILABLE' });
      const s2 = kv.watch('/', await kv.revision());
      await kv.create('/after', '1');
      assert.deepEqual((await take(s2, 1)).map((e) => e.key), ['/after']);
      s2.close();
    } finally {
      await kv.close();
    }
  });

  it('a large backlog arrives complete and in order, in bounded batches', async () => {
    const kv = SqliteBackend.open(file());
    try {
      const from = await kv.revision();
      for (let i = 0; i < 2500; i++) await kv.apply(`/b/${i % 7}`, String(i));
      const evs = await take(kv.watch('/b/', from), 2500, 10_000);
      assert.equal(evs.length, 2500);
      assert.deepEqual(evs.map((e) => e.value), Array.from({ length: 2500 }, (_, i) => String(i)));
    } finally {
      await kv.close();
    }
  });

  it('the statements a poll runs bind no LIMIT (SQLite compiles a statement with a bound LIMIT again each time it runs)', async () => {
    const path = file();
    const writer = SqliteBackend.open(path);
    const watcher = SqliteBackend.open(path, { pollMs: 5000, watchedPollMs: 5000 });
    try {
      const s = watcher.watch('/calico/', await watcher.revision(), { wake: ['node.a'] });
      const all = watcher.watch('/calico/', await watcher.revision());
      await writer.txn([{ op: 'create', key: '/calico/ipam/v2/host/a/ipv4/block/10.0.0.0-26', value: '{}' }]);
      await take(s, 1, 1500);
      await take(all, 1, 1500);
      // The prepared statements the watching connection has cached: the change-log queries are among them.
      const sql = [...(watcher as unknown as { conn: { stmts: Map<string, unknown> } }).conn.stmts.keys()];
      assert.ok(sql.some((q) => q.includes('FROM changes')), sql.join('\n'));
      assert.deepEqual(sql.filter((q) => /LIMIT\s+\?/i.test(q)), []);
      s.close();
      all.close();
    } finally {
      await writer.close();
      await watcher.close();
    }
  });

  it('prefix ranges bound exactly the keys that start with the prefix', () => {
    assert.deepEqual(sqlitePrefixRange('/calico/'), { lo: '/calico/', hi: '/calico0' });
    assert.deepEqual(sqlitePrefixRange(''), { lo: '', hi: undefined });
    assert.deepEqual(sqlitePrefixRange('a\u{10ffff}'), { lo: 'a\u{10ffff}', hi: 'b' });
    assert.deepEqual(sqlitePrefixRange('\u{d7ff}'), { lo: '\u{d7ff}', hi: '\u{e000}' });
  });
});
