/**
 * SQLite backend: the embedded default datastore. One file, shared safely by every tortie
 * process on the host (CLI, agent, CNI plugin), with the same semantics as etcd (see `kv.ts`).
 *
 * Schema (PRAGMA user_version = 1):
 *   meta(name, value)   'revision': the global revision; 'compacted': history at or below it is gone
 *   kv(key, value, mod_rev, create_rev)                         the present
 *   changes(rev, key, op, value, create_rev, prev_value, prev_mod_rev, prev_create_rev, topics)
 *                                                               one row per revision: the history
 *   (`topics`: the change's wake topics as `,a,b,`, NULL when the writer named none — a file made
 *   before the column existed gains it when opened; writers that do not know it leave it NULL.)
 * The change log feeds watches and snapshot reads at older revisions (the present with the newer
 * changes undone). It is trimmed to `historyLimit` revisions; older reads give CompactedError.
 *
 * Concurrency between processes: WAL mode (readers never wait for the writer), and every write
 * is a BEGIN IMMEDIATE transaction, which takes the file's write lock before reading, so the
 * read-check-write of create/update/delete is atomic across processes and the revision counter
 * can never be handed out twice.
 *
 * Tricky:
 *  - better-sqlite3 is synchronous. SQLite's own busy handler therefore waits only briefly
 *    (SYNC_BUSY_MS, blocking); beyond that a busy call is retried asynchronously with back-off
 *    until `busyTimeoutMs`, then fails with UnavailableError. The event loop (BGP timers!) never
 *    stalls for long behind another process's write.
 *  - Watches see writes of other processes through the `-wal` file: every commit writes to it, and
 *    a change (fs.watch, inotify) wakes the poller, which reads the global revision and, only
 *    when it moved, each stream's `rev > last` range of the change log. A local write wakes it
 *    too. The poll stays as the safety net — every `watchedPollMs` (1 s) while the file is
 *    watched, so a missed event only costs latency; every `pollMs` (20 ms) when it cannot be
 *    watched. (A 20 ms poll in every agent of a 50-node cluster was 0.27 CPU cores doing nothing;
 *    at 250 ms, each agent's poll still read the change log after nearly every pod block written
 *    anywhere, and each poll woke a process whose caches the others had long evicted.)
 *  - A commit's last write to the `-wal` file comes just BEFORE SQLite publishes the commit (in the
 *    `-shm` index, which inotify does not see): a woken watcher can read before it is visible and
 *    then hear nothing more. A wake-up that finds no new revision therefore looks again
 *    RECHECK_MS later (2, 10, 50 ms) — without it a lone write (a block claimed in one transaction)
 *    waited for the poll whenever the writer was preempted between the two steps.
 *  - Wake topics (wake.ts): a write also names the topics of what it changed and, after the commit,
 *    touches `<db>-wake/<topic>` (a utimes: IN_ATTRIB). A watch opened with `{wake: topics}` is
 *    woken by those files instead of the `-wal` file, so a commit wakes only the watches it concerns;
 *    the file is touched after the commit is visible, so no re-check is needed there. A watch
 *    without topics (any other consumer) keeps watching `-wal`. The same topics, recorded in the
 *    change row, also filter what such a watch reads: a change none of whose topics it wants is
 *    left out (a row without topics is always read). Every agent used to read, and parse, every
 *    block written anywhere in the cluster at its next poll.
 *  - `reopen()` swaps the connection in place: streams opened on the old one fail with
 *    UnavailableError and the resilient watcher (which holds this object) reopens on the new one.
 *  - Keys compare as SQLite TEXT (bytes of UTF-8), which is etcd's order too.
 */
import Database from 'better-sqlite3';
import { closeSync, mkdirSync, openSync, utimesSync, watch as fsWatch, type FSWatcher } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { AlreadyExistsError, CompactedError, DatastoreError, NotFoundError, UnavailableError, UpdateConflictError, ClosedError } from './errors.js';
import { checkTxnKeys, type KVBackend, type KVEvent, type KVPair, type KVWatchOptions, type KVWatchStream, type ListResult, type ReadReq, type TxnOp } from './kv.js';
import { QueueWatchStream } from './stream.js';
import { wakeFileName, wakeTopics } from './wake.js';

export interface SqliteBackendOptions {
  /** How long a call waits for another process's write lock before UnavailableError (default 5000 ms). */
  busyTimeoutMs?: number;
  /** Revisions of history kept for snapshot reads and watch resumption (default 100,000). */
  historyLimit?: number;
  /** How often watches look for writes by other processes when the `-wal` file is not watched (default 20 ms). */
  pollMs?: number;
  /**
   * Wake watches on changes of the `-wal` file (default true). The poll remains as a safety net,
   * every `watchedPollMs` (default 1 s) while the file watch works.
   */
  watchFile?: boolean;
  watchedPollMs?: number;
  /**
   * The wake topics of a change (default: wake.ts's, for the `/calico/` keyspace); false: touch no
   * wake files. Every process writing to the file should use the same function.
   */
  wakeTopics?: ((key: string, before: string | undefined, after: string | undefined) => readonly string[]) | false;
}

const SCHEMA_VERSION = 1;
/** SQLite's blocking busy wait; longer waits are asynchronous retries. */
const SYNC_BUSY_MS = 20;
/** After a file event that found no new revision, look again this much later (each in turn). */
const RECHECK_MS = [2, 10, 50];
/** Most change rows one stream reads per poll. */
const BATCH_LIMIT = 1000;

interface Row {
  key: string;
  value: string;
  mod_rev: number;
  create_rev: number;
}

interface ChangeRow {
  rev: number;
  key: string;
  op: 'put' | 'delete';
  value: string | null;
  create_rev: number | null;
  prev_value: string | null;
  prev_mod_rev: number | null;
  prev_create_rev: number | null;
  topics: string | null;
}

/** A prefix as an index range: every key starting with `lo` is >= lo and < hi (hi absent: no bound). */
interface Range {
  lo: string;
  hi: string | undefined;
}

interface Stream {
  range: Range;
  /** Wake topics; undefined: woken by any commit (the `-wal` file). */
  wake: Set<string> | undefined;
  from: string;
  last: number;
  queue: QueueWatchStream;
  conn: Conn;
}

/** One open database handle with its prepared statements. */
class Conn {
  readonly db: Database.Database;
  private readonly tx: Database.Transaction<(f: () => unknown) => unknown>;
  private readonly stmts = new Map<string, Database.Statement>();

  constructor(db: Database.Database) {
    this.db = db;
    this.tx = db.transaction((f: () => unknown) => f());
  }

  write<T>(f: () => T): T {
    return this.tx.immediate(f) as T;
  }

  read<T>(f: () => T): T {
    return this.tx.deferred(f) as T;
  }

  stmt(sql: string): Database.Statement {
    let s = this.stmts.get(sql);
    if (!s) this.stmts.set(sql, (s = this.db.prepare(sql)));
    return s;
  }

  /** `sql` with `{KEY}` replaced by the range condition on `key`, and the range's parameters appended. */
  ranged(sql: string, r: Range, ...params: unknown[]): { s: Database.Statement; params: unknown[] } {
    const cond = r.hi === undefined ? 'key >= ?' : 'key >= ? AND key < ?';
    const s = this.stmt(sql.replace('{KEY}', cond));
    return { s, params: r.hi === undefined ? [...params, r.lo] : [...params, r.lo, r.hi] };
  }

  meta(name: 'revision' | 'compacted'): number {
    return this.stmt('SELECT value FROM meta WHERE name = ?').pluck().get(name) as number;
  }

  row(key: string): Row | undefined {
    return this.stmt('SELECT key, value, mod_rev, create_rev FROM kv WHERE key = ?').get(key) as Row | undefined;
  }
}

export class SqliteBackend implements KVBackend {
  readonly type = 'sqlite' as const;
  /** Absolute path of the database file. */
  readonly path: string;
  private readonly busyTimeoutMs: number;
  private readonly historyLimit: number;
  private readonly pollMs: number;
  private readonly watchedPollMs: number;
  private readonly watchFile: boolean;
  private readonly topicsOf: ((key: string, before: string | undefined, after: string | undefined) => readonly string[]) | undefined;
  /** `<db>-wake/`: one file per wake topic. */
  readonly wakeDir: string;
  /** The wake files watched, by topic (for the streams that gave topics). */
  private readonly wakeWatchers = new Map<string, FSWatcher>();
  private conn: Conn | undefined;
  private readonly streams = new Set<Stream>();
  private timer: NodeJS.Timeout | undefined;
  private fileWatcher: FSWatcher | undefined;
  private tickQueued = false;
  /** Index into RECHECK_MS while a file event has not yet shown a new revision. */
  private recheck: number | undefined;
  private recheckTimer: NodeJS.Timeout | undefined;

  private constructor(path: string, opts: SqliteBackendOptions) {
    this.path = resolve(path);
    this.busyTimeoutMs = opts.busyTimeoutMs ?? 5000;
    this.historyLimit = Math.max(1, opts.historyLimit ?? 100_000);
    this.pollMs = Math.max(1, opts.pollMs ?? 20);
    this.watchedPollMs = Math.max(this.pollMs, opts.watchedPollMs ?? 1000);
    this.watchFile = opts.watchFile ?? true;
    this.topicsOf = opts.wakeTopics === false ? undefined : (opts.wakeTopics ?? wakeTopics);
    this.wakeDir = `${this.path}-wake`;
  }

  /**
   * Opens (creating the file and its parent directories if needed) synchronously.
   * Throws UnavailableError naming the path and the reason when the file cannot be used.
   */
  static open(path: string, opts: SqliteBackendOptions = {}): SqliteBackend {
    const b = new SqliteBackend(path, opts);
    b.conn = b.connect();
    return b;
  }

  async get(key: string): Promise<KVPair> {
    const row = await this.run('read', (c) => c.row(key));
    if (!row) throw new NotFoundError(key);
    return pairOf(row);
  }

  async list(prefix: string, opts: { revision?: string } = {}): Promise<ListResult> {
    const range = sqlitePrefixRange(prefix);
    return this.run('read', (c) => {
      const now = c.meta('revision');
      const { s, params } = c.ranged('SELECT key, value, mod_rev, create_rev FROM kv WHERE {KEY} ORDER BY key', range);
      const rows = s.all(...params) as Row[];
      const at = opts.revision === undefined ? now : parseRev(opts.revision);
      if (at >= now) return { pairs: rows.map(pairOf), revision: String(now) };
      const compacted = c.meta('compacted');
      if (at < compacted) throw new CompactedError(String(at), String(compacted));
      // Undo, newest first, every change after `at` under the prefix.
      const view = new Map(rows.map((r) => [r.key, r]));
      const undo = c.ranged('SELECT * FROM changes WHERE rev > ? AND {KEY} ORDER BY rev DESC', range, at);
      for (const ch of undo.s.iterate(...undo.params) as IterableIterator<ChangeRow>) {
        if (ch.prev_value === null) view.delete(ch.key);
        else view.set(ch.key, { key: ch.key, value: ch.prev_value, mod_rev: ch.prev_mod_rev!, create_rev: ch.prev_create_rev! });
      }
      const pairs = [...view.values()].sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key))).map(pairOf);
      return { pairs, revision: String(at) };
    });
  }

  async readMany(reqs: readonly ReadReq[]): Promise<{ results: KVPair[][]; revision: string }> {
    return this.run('read', (c) => {
      const results = reqs.map((r) => {
        if ('key' in r) {
          const row = c.row(r.key);
          return row ? [pairOf(row)] : [];
        }
        const { s, params } = c.ranged('SELECT key, value, mod_rev, create_rev FROM kv WHERE {KEY} ORDER BY key', sqlitePrefixRange(r.prefix));
        return (s.all(...params) as Row[]).map(pairOf);
      });
      return { results, revision: String(c.meta('revision')) };
    });
  }

  create(key: string, value: string): Promise<KVPair> {
    return this.write('create', key, value);
  }

  update(key: string, value: string, revision?: string): Promise<KVPair> {
    return this.write('update', key, value, revision);
  }

  apply(key: string, value: string): Promise<KVPair> {
    return this.write('apply', key, value);
  }

  delete(key: string, revision?: string): Promise<KVPair> {
    return this.write('delete', key, undefined, revision);
  }

  async txn(ops: readonly TxnOp[]): Promise<KVPair[]> {
    checkTxnKeys(ops);
    const topics = new Set<string>();
    const out = await this.run('write', (c) => {
      topics.clear();
      // Every condition first: a failure throws before anything is written (and the
      // transaction rolls back in any case).
      for (const o of ops) this.condition(c.row(o.key), o.op, o.key, o.op === 'create' ? undefined : o.revision);
      return ops.map((o) => this.writeRow(c, o.op, o.key, o.op === 'delete' ? undefined : o.value, undefined, topics));
    });
    this.ring(topics);
    this.kick();
    return out;
  }

  async revision(): Promise<string> {
    return String(await this.run('read', (c) => c.meta('revision')));
  }

  watch(prefix: string, fromRevision: string, opts: KVWatchOptions = {}): KVWatchStream {
    const s = { range: sqlitePrefixRange(prefix), from: fromRevision, wake: opts.wake && new Set(opts.wake) } as Stream;
    s.queue = new QueueWatchStream(() => this.dropStream(s));
    s.queue.setWake = (topics) => {
      s.wake = topics && new Set(topics);
      if (this.streams.has(s)) this.startPolling();
    };
    if (!this.conn) {
      s.queue.fail(this.closedError());
      return s.queue;
    }
    try {
      s.last = parseRev(fromRevision);
    } catch (e) {
      s.queue.fail(e);
      return s.queue;
    }
    s.conn = this.conn;
    this.streams.add(s);
    this.startPolling();
    this.kick();
    return s.queue;
  }

  /**
   * Test and maintenance hook, like `etcdctl compact N`: forget the changes before revision N
   * (N is capped at the current revision). Snapshot reads and watches from before N - 1 then
   * fail with CompactedError.
   */
  async compact(revision: string | number): Promise<void> {
    const n = typeof revision === 'number' ? revision : parseRev(revision);
    await this.run('write', (c) => {
      const upTo = Math.min(n, c.meta('revision')); // like etcd: not beyond the present
      c.stmt('DELETE FROM changes WHERE rev < ?').run(upTo);
      c.stmt("UPDATE meta SET value = max(value, ?) WHERE name = 'compacted'").run(upTo - 1);
    });
    this.kick();
  }

  /**
   * Closes the handle and opens the file again (what a restart of this process would do).
   * Watch streams opened before fail with UnavailableError; later calls use the new handle.
   */
  reopen(): void {
    this.shutdown((q) => q.fail(new UnavailableError(`sqlite datastore at ${this.path}: connection reopened`)));
    this.conn = this.connect();
  }

  async close(): Promise<void> {
    this.shutdown((q) => q.close());
  }

  // ---- internals -------------------------------------------------------------------------

  private connect(): Conn {
    const fail = (reason: string, cause?: unknown) =>
      new UnavailableError(`sqlite datastore at ${this.path} cannot be opened: ${oneLine(reason)}`, { cause });
    try {
      mkdirSync(dirname(this.path), { recursive: true });
      // Ask the OS first: SQLite only says "unable to open database file".
      closeSync(openSync(this.path, 'a'));
    } catch (e) {
      throw fail(osReason(e, this.path), e);
    }
    let db: Database.Database | undefined;
    try {
      db = new Database(this.path, { timeout: this.busyTimeoutMs });
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (mode !== 'wal') throw new Error(`cannot use WAL mode (journal_mode is ${String(mode)})`);
      db.pragma('synchronous = NORMAL');
      const conn = new Conn(db);
      conn.write(() => initSchema(db!));
      db.pragma(`busy_timeout = ${Math.min(SYNC_BUSY_MS, this.busyTimeoutMs)}`);
      return conn;
    } catch (e) {
      db?.close();
      throw fail(e instanceof Error ? e.message : String(e), e);
    }
  }

  private closedError(): ClosedError {
    return new ClosedError(`sqlite datastore at ${this.path} is closed`);
  }

  private shutdown(end: (q: QueueWatchStream) => void): void {
    for (const s of [...this.streams]) end(s.queue);
    this.stopPolling();
    const c = this.conn;
    this.conn = undefined;
    c?.db.close();
  }

  /** Runs `f` in a transaction, retrying asynchronously while another process holds the lock. */
  private async run<T>(mode: 'read' | 'write', f: (c: Conn) => T): Promise<T> {
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      const c = this.conn;
      if (!c) throw this.closedError();
      try {
        return mode === 'write' ? c.write(() => f(c)) : c.read(() => f(c));
      } catch (e) {
        if (e instanceof DatastoreError) throw e;
        if (!isBusy(e)) throw new UnavailableError(`sqlite datastore at ${this.path}: ${oneLine(errText(e))}`, { cause: e });
        if (Date.now() - started >= this.busyTimeoutMs) {
          throw new UnavailableError(`sqlite datastore at ${this.path}: database is locked by another process for more than ${this.busyTimeoutMs} ms`, { cause: e });
        }
        await new Promise((r) => setTimeout(r, Math.min(50, 2 + 2 * attempt)));
      }
    }
  }

  private async write(op: 'create' | 'update' | 'apply' | 'delete', key: string, value: string | undefined, expect?: string): Promise<KVPair> {
    const topics = new Set<string>();
    const result = await this.run('write', (c) => {
      topics.clear();
      return this.writeRow(c, op, key, value, expect, topics);
    });
    this.ring(topics);
    this.kick();
    return result;
  }

  /**
   * After a commit: touches the wake file of every topic it changed. A file that does not exist has
   * no watcher (watchers create theirs); any other failure only costs the watchers latency (they poll).
   */
  private ring(topics: ReadonlySet<string>): void {
    if (topics.size === 0) return;
    const t = Date.now() / 1000;
    for (const topic of topics) {
      try {
        utimesSync(join(this.wakeDir, wakeFileName(topic)), t, t);
      } catch {
        // ENOENT: nobody listens to this topic
      }
    }
  }

  private condition(cur: Row | undefined, op: 'create' | 'update' | 'apply' | 'delete', key: string, expect: string | undefined): void {
    if (op === 'create' && cur) throw new AlreadyExistsError(key);
    if ((op === 'update' || op === 'delete') && !cur) throw new NotFoundError(key);
    if (expect !== undefined && cur && String(cur.mod_rev) !== expect) {
      throw new UpdateConflictError(key, `revision ${expect} is not the stored ${cur.mod_rev}`);
    }
  }

  /** One write inside a transaction: the condition, the next revision, the row and its change-log entry. */
  private writeRow(c: Conn, op: 'create' | 'update' | 'apply' | 'delete', key: string, value: string | undefined, expect: string | undefined, topics: Set<string>): KVPair {
    const cur = c.row(key);
    this.condition(cur, op, key, expect);
    const rev = c.stmt("UPDATE meta SET value = value + 1 WHERE name = 'revision' RETURNING value").pluck().get() as number;
    const log = c.stmt(
      'INSERT INTO changes (rev, key, op, value, create_rev, prev_value, prev_mod_rev, prev_create_rev, topics) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const mine = this.topicsOf?.(key, cur?.value, op === 'delete' ? undefined : value);
    const rowTopics = mine?.length ? `,${mine.join(',')},` : null;
    let out: KVPair;
    if (op === 'delete') {
      c.stmt('DELETE FROM kv WHERE key = ?').run(key);
      log.run(rev, key, 'delete', null, null, cur!.value, cur!.mod_rev, cur!.create_rev, rowTopics);
      out = pairOf(cur!);
    } else {
      const createRev = cur ? cur.create_rev : rev;
      c.stmt(
        'INSERT INTO kv (key, value, mod_rev, create_rev) VALUES (?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, mod_rev = excluded.mod_rev',
      ).run(key, value!, rev, createRev);
      log.run(rev, key, 'put', value!, createRev, cur?.value ?? null, cur?.mod_rev ?? null, cur?.create_rev ?? null, rowTopics);
      out = { key, value: value!, revision: String(rev), createRevision: String(createRev) };
    }
    for (const t of mine ?? []) topics.add(t);
    if (rev > this.historyLimit) {
      const through = rev - this.historyLimit;
      c.stmt('DELETE FROM changes WHERE rev <= ?').run(through);
      c.stmt("UPDATE meta SET value = max(value, ?) WHERE name = 'compacted'").run(through);
    }
    return out;
  }

  // ---- watch polling ---------------------------------------------------------------------

  /**
   * Watches what the open streams need — the `-wal` file if a stream gave no wake topics, the wake
   * file of every topic given — and polls as the safety net: every `watchedPollMs` while all of that
   * is watched, every `pollMs` otherwise. Called again whenever the streams or their topics change.
   */
  private startPolling(): void {
    const needWal = this.watchFile && [...this.streams].some((s) => !s.wake);
    const topics = new Set<string>();
    if (this.watchFile) for (const s of this.streams) for (const t of s.wake ?? []) topics.add(t);
    if (needWal && !this.fileWatcher) {
      try {
        const w = fsWatch(`${this.path}-wal`, { persistent: false }, () => this.fileEvent());
        w.on('error', () => {
          // The watch broke (the file went away): poll fast again.
          w.close();
          if (this.fileWatcher === w) this.fileWatcher = undefined;
          if (this.timer) this.setPoll(this.pollMs);
        });
        this.fileWatcher = w;
      } catch {
        this.fileWatcher = undefined; // no -wal file yet, or no inotify: the poll covers it
      }
    } else if (!needWal && this.fileWatcher) {
      this.fileWatcher.close();
      this.fileWatcher = undefined;
    }
    for (const [t, w] of this.wakeWatchers) {
      if (topics.has(t)) continue;
      w.close();
      this.wakeWatchers.delete(t);
    }
    for (const t of topics) {
      if (this.wakeWatchers.has(t)) continue;
      try {
        const file = join(this.wakeDir, wakeFileName(t));
        mkdirSync(this.wakeDir, { recursive: true });
        closeSync(openSync(file, 'a'));
        const w = fsWatch(file, { persistent: false }, () => this.kick());
        w.on('error', () => {
          w.close();
          if (this.wakeWatchers.get(t) === w) this.wakeWatchers.delete(t);
          if (this.timer) this.setPoll(this.pollMs);
        });
        this.wakeWatchers.set(t, w);
      } catch {
        // the directory cannot be written or watched: the poll covers it
      }
    }
    const watched = this.watchFile && (!needWal || !!this.fileWatcher) && [...topics].every((t) => this.wakeWatchers.has(t));
    this.setPoll(watched ? this.watchedPollMs : this.pollMs);
  }

  /** Ref'd on purpose: an open watch keeps the process alive, as an etcd watch stream does. */
  private setPoll(ms: number): void {
    clearInterval(this.timer);
    this.timer = setInterval(() => this.tick(), ms);
  }

  private stopPolling(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    clearTimeout(this.recheckTimer);
    this.recheckTimer = undefined;
    this.recheck = undefined;
    this.fileWatcher?.close();
    this.fileWatcher = undefined;
    for (const w of this.wakeWatchers.values()) w.close();
    this.wakeWatchers.clear();
  }

  private dropStream(s: Stream): void {
    this.streams.delete(s);
    if (this.streams.size === 0) this.stopPolling();
    else this.startPolling();
  }

  /** The `-wal` file changed: poll now, and again shortly if the commit is not visible yet. */
  private fileEvent(): void {
    this.recheck = 0;
    this.kick();
  }

  /** A wake-up found no new revision: look again after the next RECHECK_MS step, if any is left. */
  private scheduleRecheck(): void {
    if (this.recheck === undefined || this.recheckTimer) return;
    const ms = RECHECK_MS[this.recheck++];
    if (ms === undefined) {
      this.recheck = undefined;
      return;
    }
    this.recheckTimer = setTimeout(() => {
      this.recheckTimer = undefined;
      this.tick();
    }, ms);
  }

  /** Polls soon (coalesced), e.g. right after a local write. */
  private kick(): void {
    if (this.tickQueued || this.streams.size === 0) return;
    this.tickQueued = true;
    setImmediate(() => {
      this.tickQueued = false;
      this.tick();
    });
  }

  private tick(): void {
    const c = this.conn;
    if (!c || this.streams.size === 0) return;
    type Delivery = { s: Stream; events?: KVEvent[]; last?: number; error?: unknown };
    let deliveries: Delivery[];
    let more = false;
    try {
      const head = c.meta('revision'); // cheap: most ticks stop here
      if (![...this.streams].some((s) => s.last < head)) {
        this.scheduleRecheck();
        return;
      }
      this.recheck = undefined;
      deliveries = c.read(() => {
        const now = c.meta('revision');
        const compacted = c.meta('compacted');
        const out: Delivery[] = [];
        for (const s of this.streams) {
          if (s.conn !== c || s.last >= now) continue;
          if (s.last < compacted) {
            out.push({ s, error: new CompactedError(s.from, String(compacted)) });
            continue;
          }
          const q = changesQuery(c, s, now);
          const rows = q.s.all(...q.params) as ChangeRow[];
          const full = rows.length === BATCH_LIMIT;
          if (full) more = true;
          out.push({ s, events: rows.map(toEvent), last: full ? rows[rows.length - 1]!.rev : now });
        }
        return out;
      });
    } catch (e) {
      if (isBusy(e)) return; // next tick
      const err = new UnavailableError(`sqlite datastore at ${this.path}: ${oneLine(errText(e))}`, { cause: e });
      for (const s of [...this.streams]) s.queue.fail(err);
      return;
    }
    for (const d of deliveries) {
      if (d.error) {
        d.s.queue.fail(d.error);
        continue;
      }
      d.s.last = d.last!;
      if (d.events!.length) d.s.queue.push(d.events!);
    }
    if (more) this.kick();
  }
}

function initSchema(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version === SCHEMA_VERSION) {
    // Files made before the change log recorded wake topics (same schema version: older tortie
    // processes sharing the file keep working, and their rows have none).
    const cols = db.prepare("SELECT name FROM pragma_table_info('changes')").pluck().all() as string[];
    if (!cols.includes('topics')) db.exec('ALTER TABLE changes ADD COLUMN topics TEXT');
    return;
  }
  if (version !== 0) throw new Error(`unknown schema version ${version} (this tortie knows ${SCHEMA_VERSION})`);
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[];
  if (tables.length > 0) throw new Error(`not a tortie datastore (it has tables: ${tables.join(', ')})`);
  db.exec(`
    CREATE TABLE meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
    INSERT INTO meta (name, value) VALUES ('revision', 0), ('compacted', 0);
    CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL, mod_rev INTEGER NOT NULL, create_rev INTEGER NOT NULL) WITHOUT ROWID;
    CREATE TABLE changes (
      rev INTEGER PRIMARY KEY, key TEXT NOT NULL, op TEXT NOT NULL CHECK (op IN ('put', 'delete')),
      value TEXT, create_rev INTEGER, prev_value TEXT, prev_mod_rev INTEGER, prev_create_rev INTEGER, topics TEXT
    );
    PRAGMA user_version = ${SCHEMA_VERSION};
  `);
}

function pairOf(r: Row): KVPair {
  return { key: r.key, value: r.value, revision: String(r.mod_rev), createRevision: String(r.create_rev) };
}

function toEvent(r: ChangeRow): KVEvent {
  const ev: KVEvent = { type: r.op, key: r.key, revision: String(r.rev) };
  if (r.op === 'put') {
    ev.value = r.value!;
    ev.createRevision = String(r.create_rev);
  }
  if (r.prev_value !== null) ev.prevValue = r.prev_value;
  if (r.topics) ev.topics = r.topics.slice(1, -1).split(',');
  return ev;
}

/**
 * The next rows of a stream's change log after `s.last`, through `now`: all of them, or for a
 * stream with wake topics those without recorded topics and those with one of its own (the
 * statement is prepared once per number of topics).
 */
function changesQuery(c: Conn, s: Stream, now: number): { s: Database.Statement; params: unknown[] } {
  const wake = s.wake ? [...s.wake] : [];
  const cond = wake.length ? ` AND (topics IS NULL${' OR instr(topics, ?) > 0'.repeat(wake.length)})` : '';
  // The LIMIT is written into the statement, not bound: SQLite's planner reads a bound LIMIT's value, so
  // binding one marks the statement expired and every poll compiled it again (a fifth of a client's SQLite time).
  const q = c.ranged(`SELECT * FROM changes WHERE rev > ? AND rev <= ? AND {KEY}${cond} ORDER BY rev LIMIT ${BATCH_LIMIT}`, s.range, s.last, now);
  return { s: q.s, params: [...q.params, ...wake.map((t) => `,${t},`)] };
}

/** Keys starting with `prefix` are exactly those in [prefix, prefix with its last code point + 1). */
export function sqlitePrefixRange(prefix: string): Range {
  const cps = [...prefix];
  while (cps.length > 0) {
    const last = cps.pop()!.codePointAt(0)!;
    if (last < 0x10ffff) {
      cps.push(String.fromCodePoint(last + 1 === 0xd800 ? 0xe000 : last + 1));
      return { lo: prefix, hi: cps.join('') };
    }
  }
  return { lo: prefix, hi: undefined };
}

function parseRev(rev: string): number {
  if (!/^\d{1,15}$/.test(rev)) throw new UnavailableError(`sqlite datastore: invalid revision "${rev}"`);
  return Number(rev);
}

function isBusy(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

function errText(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return typeof code === 'string' && code.startsWith('SQLITE_') ? `${e.message} (${code})` : e.message;
  }
  return String(e);
}

/** `EACCES: permission denied, open '/x'` → `permission denied (EACCES)`. */
function osReason(e: unknown, path: string): string {
  const err = e as NodeJS.ErrnoException;
  if (err?.code && typeof err.message === 'string') {
    const m = /^[A-Z]+: ([^,]+)/.exec(err.message);
    const where = err.path && resolve(err.path) !== path ? ` at ${err.path}` : '';
    return `${m ? m[1] : err.message} (${err.code})${where}`;
  }
  return errText(e);
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}
