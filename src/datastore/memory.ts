/**
 * In-memory KV backend: the reference implementation of the contract in `kv.ts`, used by unit
 * tests everywhere. It keeps a bounded history of changes so that snapshot reads at an older
 * revision and watches from an older revision work exactly as on etcd, including compaction
 * (`historyLimit`), and it can simulate losing the connection (`disconnectWatchers`).
 */
import { AlreadyExistsError, ClosedError, CompactedError, NotFoundError, UnavailableError, UpdateConflictError } from './errors.js';
import { checkTxnKeys, type KVBackend, type KVEvent, type KVPair, type KVWatchStream, type ListResult, type ReadReq, type TxnOp } from './kv.js';
import { QueueWatchStream } from './stream.js';

interface Change {
  rev: number;
  key: string;
  prev?: KVPair;
  next?: KVPair;
}

export interface MemoryBackendOptions {
  /** How many changes to keep for snapshot reads and watch resumption (default 10,000). */
  historyLimit?: number;
}

export class MemoryBackend implements KVBackend {
  readonly type = 'memory' as const;
  private data = new Map<string, KVPair>();
  private rev = 0;
  private history: Change[] = [];
  private watchers = new Set<{ prefix: string; stream: QueueWatchStream }>();
  private readonly historyLimit: number;

  constructor(opts: MemoryBackendOptions = {}) {
    this.historyLimit = opts.historyLimit ?? 10_000;
  }

  async get(key: string): Promise<KVPair> {
    this.check();
    const p = this.data.get(key);
    if (!p) throw new NotFoundError(key);
    return { ...p };
  }

  async list(prefix: string, opts: { revision?: string } = {}): Promise<ListResult> {
    this.check();
    let view: Map<string, KVPair> = this.data;
    let at = this.rev;
    if (opts.revision !== undefined) {
      at = Math.min(Number(opts.revision), this.rev);
      if (at < this.rev) {
        if (at < this.compactedThrough) throw new CompactedError(opts.revision, String(this.compactedThrough));
        view = new Map(this.data);
        for (let i = this.history.length - 1; i >= 0 && this.history[i]!.rev > at; i--) {
          const c = this.history[i]!;
          if (c.prev) view.set(c.key, c.prev);
          else view.delete(c.key);
        }
      }
    }
    const pairs = [...view.values()].filter((p) => p.key.startsWith(prefix)).map((p) => ({ ...p }));
    pairs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return { pairs, revision: String(at) };
  }

  async readMany(reqs: readonly ReadReq[]): Promise<{ results: KVPair[][]; revision: string }> {
    this.check();
    const results = reqs.map((r) => {
      if ('key' in r) {
        const p = this.data.get(r.key);
        return p ? [{ ...p }] : [];
      }
      return [...this.data.values()]
        .filter((p) => p.key.startsWith(r.prefix))
        .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
        .map((p) => ({ ...p }));
    });
    return { results, revision: String(this.rev) };
  }

  async create(key: string, value: string): Promise<KVPair> {
    return (await this.txn([{ op: 'create', key, value }]))[0]!;
  }

  async update(key: string, value: string, revision?: string): Promise<KVPair> {
    return (await this.txn([{ op: 'update', key, value, ...(revision !== undefined ? { revision } : {}) }]))[0]!;
  }

  async apply(key: string, value: string): Promise<KVPair> {
    this.check();
    return this.write(key, value);
  }

  async delete(key: string, revision?: string): Promise<KVPair> {
    return (await this.txn([{ op: 'delete', key, ...(revision !== undefined ? { revision } : {}) }]))[0]!;
  }

  async txn(ops: readonly TxnOp[]): Promise<KVPair[]> {
    this.check();
    checkTxnKeys(ops);
    for (const o of ops) {
      const cur = this.data.get(o.key);
      if (o.op === 'create') {
        if (cur) throw new AlreadyExistsError(o.key);
        continue;
      }
      if (!cur) throw new NotFoundError(o.key);
      if (o.revision !== undefined && o.revision !== cur.revision) {
        throw new UpdateConflictError(o.key, `revision ${o.revision} is not the stored ${cur.revision}`);
      }
    }
    return ops.map((o) => {
      if (o.op !== 'delete') return this.write(o.key, o.value);
      const cur = this.data.get(o.key)!;
      const rev = ++this.rev;
      this.data.delete(o.key);
      this.record({ rev, key: o.key, prev: cur });
      return { ...cur };
    });
  }

  async revision(): Promise<string> {
    this.check();
    return String(this.rev);
  }

  watch(prefix: string, fromRevision: string): KVWatchStream {
    const from = Number(fromRevision);
    const entry = { prefix, stream: undefined as unknown as QueueWatchStream };
    entry.stream = new QueueWatchStream(() => this.watchers.delete(entry));
    if (this.closed) {
      entry.stream.fail(new ClosedError('memory datastore is closed'));
      return entry.stream;
    }
    if (from < this.compactedThrough) {
      entry.stream.fail(new CompactedError(fromRevision, String(this.compactedThrough)));
      return entry.stream;
    }
    const backlog = this.history.filter((c) => c.rev > from && c.key.startsWith(prefix)).map(toEvent);
    if (backlog.length) entry.stream.push(backlog);
    this.watchers.add(entry);
    return entry.stream;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of [...this.watchers]) w.stream.fail(new ClosedError('memory datastore is closed'));
  }
  private closed = false;
  private check(): void {
    if (this.closed) throw new ClosedError('memory datastore is closed');
  }

  /** Test hook: every open watch fails as if the connection dropped. */
  disconnectWatchers(): void {
    for (const w of [...this.watchers]) w.stream.fail(new UnavailableError('memory datastore: connection lost (simulated)'));
  }

  /**
   * Test hook, like `etcdctl compact N`: forget the changes before revision N. Snapshot reads
   * and watches from a revision before N - 1 then fail with CompactedError.
   */
  async compact(revision: string | number): Promise<void> {
    this.compactSync(Number(revision));
  }

  private compactSync(revision: number): void {
    this.history = this.history.filter((c) => c.rev >= revision);
    this.compactedThrough = Math.max(this.compactedThrough, revision - 1);
  }
  /** Every change with a revision above this is still in `history`. */
  private compactedThrough = 0;

  private write(key: string, value: string): KVPair {
    const rev = ++this.rev;
    const prev = this.data.get(key);
    const next: KVPair = { key, value, revision: String(rev), createRevision: prev ? prev.createRevision : String(rev) };
    this.data.set(key, next);
    this.record({ rev, key, ...(prev ? { prev } : {}), next });
    return { ...next };
  }

  private record(c: Change): void {
    this.history.push(c);
    if (this.history.length > this.historyLimit) {
      const dropped = this.history.splice(0, this.history.length - this.historyLimit);
      this.compactedThrough = Math.max(this.compactedThrough, dropped[dropped.length - 1]!.rev);
    }
    const ev = toEvent(c);
    for (const w of this.watchers) if (c.key.startsWith(w.prefix)) w.stream.push([ev]);
  }
}

function toEvent(c: Change): KVEvent {
  const ev: KVEvent = { type: c.next ? 'put' : 'delete', key: c.key, revision: String(c.rev) };
  if (c.next) {
    ev.value = c.next.value;
    ev.createRevision = c.next.createRevision;
  }
  if (c.prev) ev.prevValue = c.prev.value;
  return ev;
}
