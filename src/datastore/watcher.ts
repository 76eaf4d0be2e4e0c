/**
 * A watch that survives the backend: it resumes from the last revision it delivered after a
 * disconnect (etcd restart, SQLite file reopened), and after compaction it relists and emits
 * the difference, so a consumer never misses a change and never sees one twice.
 *
 * To do that it keeps a cache of every value under the prefix (resources and IPAM objects are
 * few and small). Events carry the old value from that cache, so `old` is always what the
 * consumer last saw, whichever backend is underneath.
 *
 * Starting at a revision the backend has already compacted is the caller's problem: it gets
 * CompactedError and must list again. Everything after the start is handled here.
 */
import { CompactedError, isDatastoreError } from './errors.js';
import type { KVBackend, KVEvent, KVWatchStream } from './kv.js';
import { EventQueue } from './stream.js';

export type WatchEventType = 'added' | 'modified' | 'deleted';

export interface WatchEvent {
  type: WatchEventType;
  key: string;
  /** The value before the change (absent for `added`). */
  old?: string;
  /** The value after the change (absent for `deleted`). */
  new?: string;
  revision: string;
  /** The wake topics its writer named (SQLite), if any. */
  topics?: readonly string[];
}

export interface WatchOptions {
  /** Deliver changes after this revision; default: the current revision (changes from now on). */
  revision?: string;
  /** Reconnect back-off bounds in ms (default 25 → 1000, doubling). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Injected for tests. */
  sleep?: (ms: number) => Promise<void>;
  /** Called on every (re)connection problem, for logs and metrics. */
  onRetry?: (err: unknown, attempt: number) => void;
  /**
   * Wake topics (wake.ts, KVWatchOptions): SQLite wakes the watch only for these and leaves out the
   * changes of other topics, so `old` is then the value this watch last delivered, which need not be
   * the one just before the change.
   */
  wake?: readonly string[];
}

export interface KVWatcher extends AsyncIterable<WatchEvent[]> {
  close(): void;
  /** Resolves once the initial snapshot has been read (or rejects with its error). */
  readonly ready: Promise<void>;
  /** The last revision delivered (or the start revision). */
  readonly revision: string;
  /** Replaces the wake topics (kept across reconnections). */
  setWake(topics: readonly string[] | undefined): void;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function watchKV(kv: KVBackend, prefix: string, opts: WatchOptions = {}): KVWatcher {
  const sleep = opts.sleep ?? defaultSleep;
  const minB = opts.minBackoffMs ?? 25;
  const maxB = opts.maxBackoffMs ?? 1000;
  const cache = new Map<string, string>();
  let lastRev = '0';
  let stream: KVWatchStream | undefined;
  let stopped = false;
  let wake = opts.wake;
  const out = new EventQueue<WatchEvent[]>(() => {
    stopped = true;
    stream?.close();
  });

  let readyResolve!: () => void;
  let readyReject!: (e: unknown) => void;
  const ready = new Promise<void>((res, rej) => {
    readyResolve = res;
    readyReject = rej;
  });
  ready.catch(() => {}); // observed through iteration too

  const translate = (evs: KVEvent[]): WatchEvent[] => {
    const batch: WatchEvent[] = [];
    for (const ev of evs) {
      const old = cache.get(ev.key);
      let we: WatchEvent;
      if (ev.type === 'put') {
        cache.set(ev.key, ev.value!);
        we = old === undefined ? { type: 'added', key: ev.key, new: ev.value!, revision: ev.revision } : { type: 'modified', key: ev.key, old, new: ev.value!, revision: ev.revision };
      } else {
        cache.delete(ev.key);
        const prior = old ?? ev.prevValue;
        we = prior === undefined ? { type: 'deleted', key: ev.key, revision: ev.revision } : { type: 'deleted', key: ev.key, old: prior, revision: ev.revision };
      }
      if (ev.topics) we.topics = ev.topics;
      batch.push(we);
      lastRev = ev.revision;
    }
    return batch;
  };

  /** After compaction: read the present and emit what changed since the cache. */
  const resync = async (): Promise<void> => {
    const { pairs, revision } = await kv.list(prefix);
    const batch: WatchEvent[] = [];
    const seen = new Set<string>();
    for (const p of pairs) {
      seen.add(p.key);
      const old = cache.get(p.key);
      if (old === undefined) batch.push({ type: 'added', key: p.key, new: p.value, revision });
      else if (old !== p.value) batch.push({ type: 'modified', key: p.key, old, new: p.value, revision });
      cache.set(p.key, p.value);
    }
    for (const [key, old] of [...cache]) {
      if (!seen.has(key)) {
        batch.push({ type: 'deleted', key, old, revision });
        cache.delete(key);
      }
    }
    lastRev = revision;
    if (batch.length) out.push(batch);
  };

  const run = async (): Promise<void> => {
    try {
      const snap = await kv.list(prefix, opts.revision !== undefined ? { revision: opts.revision } : {});
      for (const p of snap.pairs) cache.set(p.key, p.value);
      lastRev = snap.revision;
      readyResolve();
    } catch (e) {
      readyReject(e);
      out.fail(e);
      return;
    }
    let attempt = 0;
    let needResync = false;
    while (!stopped) {
      try {
        if (needResync) {
          await resync();
          needResync = false;
        }
        stream = kv.watch(prefix, lastRev, wake ? { wake } : {});
        if (stopped) {
          stream.close();
          break;
        }
        for await (const evs of stream) {
          attempt = 0;
          const batch = translate(evs);
          if (batch.length) out.push(batch);
          if (stopped) break;
        }
        if (stopped) break;
        // The stream ended without an error: treat as a disconnect and resume.
        throw new Error('watch stream ended');
      } catch (e) {
        if (stopped) break;
        if (isDatastoreError(e, 'CLOSED')) {
          // The backend was closed by its owner: nothing to resume.
          out.fail(e);
          return;
        }
        if (e instanceof CompactedError) needResync = true;
        attempt++;
        opts.onRetry?.(e, attempt);
        if (!isDatastoreError(e, 'COMPACTED')) await sleep(Math.min(maxB, minB * 2 ** Math.min(attempt - 1, 10)));
      }
    }
  };
  void run();

  return {
    [Symbol.asyncIterator]: () => out[Symbol.asyncIterator](),
    close: () => out.close(),
    ready,
    get revision() {
      return lastRev;
    },
    setWake(topics) {
      if (topics === wake || (topics && wake && topics.length === wake.length && topics.every((t, i) => t === wake![i]))) return;
      wake = topics;
      stream?.setWake?.(topics);
    },
  };
}
