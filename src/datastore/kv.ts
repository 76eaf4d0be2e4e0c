/**
 * The key/value contract every datastore backend implements (memory, SQLite, etcd v3).
 *
 * It is deliberately etcd-shaped, because etcd is the most constrained of the three and
 * Calico's own key layout lives there:
 *  - one global, monotonically increasing revision; every write gets the next one;
 *  - a pair's `revision` is the revision of its last modification (etcd mod_revision);
 *  - create succeeds only when the key is absent (etcd: version == 0);
 *  - update/delete with a revision succeed only when it equals the stored one (CAS);
 *  - list can read a snapshot at an older revision while history is kept;
 *  - watch streams every change after a revision, in revision order, with the previous value.
 *
 * Revisions are opaque decimal strings to everyone above this file. Values are JSON text:
 * backends never parse them. The typed resource layer (`resources.ts`) and IPAM build on this.
 */

export interface KVPair {
  key: string;
  /** JSON text exactly as stored. */
  value: string;
  /** Revision of the last modification (opaque). */
  revision: string;
  /** Revision at which the key was created (opaque). */
  createRevision: string;
}

export type KVEventType = 'put' | 'delete';

export interface KVEvent {
  type: KVEventType;
  key: string;
  /** New value for `put`; absent for `delete`. */
  value?: string;
  /** Value before this change; absent when the key did not exist. */
  prevValue?: string;
  /** Revision of this change. */
  revision: string;
  /** For `put`: the key's create revision (equal to `revision` when this put created it). */
  createRevision?: string;
  /** The change's wake topics as its writer named them (SQLite; see KVWatchOptions.wake), if it named any. */
  topics?: readonly string[];
}

export interface ListResult {
  pairs: KVPair[];
  /** The revision the snapshot was read at. */
  revision: string;
}

/**
 * A raw change stream. Yields batches of events in revision order, each with a revision
 * greater than the `fromRevision` it was opened with. Ends (throws) with `CompactedError`
 * when that history is gone, or `UnavailableError` when the backend is lost; the resilient
 * watcher in `watcher.ts` handles both. `close()` ends iteration normally.
 */
export interface KVWatchStream extends AsyncIterable<KVEvent[]> {
  close(): void;
  /** Replaces the wake topics given to `watch` (SQLite; backends that filter on a server ignore it). */
  setWake?(topics: readonly string[] | undefined): void;
}

export interface KVWatchOptions {
  /**
   * The topics (datastore/wake.ts) of the changes the consumer acts on. A backend that records them
   * (SQLite) wakes the watch only for commits of these topics and leaves out the changes whose
   * writer named topics but none of these (a change without recorded topics is delivered); one
   * that does not (etcd, memory) delivers every change under the prefix. So the consumer gets every
   * change of its topics and must tolerate, not rely on, the others. Undefined: every change.
   */
  wake?: readonly string[];
}

/** One write of a transaction, with the condition a plain create / update / delete has. */
export type TxnOp =
  | { op: 'create'; key: string; value: string }
  | { op: 'update'; key: string; value: string; revision?: string }
  | { op: 'delete'; key: string; revision?: string };

/** One read of `readMany`: every pair under a prefix, or one key. */
export type ReadReq = { prefix: string } | { key: string };

/** Checks a transaction's keys are distinct (a key once per transaction, as in etcd). */
export function checkTxnKeys(ops: readonly TxnOp[]): void {
  const seen = new Set<string>();
  for (const o of ops) {
    if (seen.has(o.key)) throw new RangeError(`a transaction names ${o.key} twice`);
    seen.add(o.key);
  }
}

export interface KVBackend {
  readonly type: 'memory' | 'sqlite' | 'etcdv3';

  /** Throws NotFoundError (with the raw key as id). */
  get(key: string): Promise<KVPair>;
  /**
   * Pairs whose key starts with `prefix`, sorted by key. `revision` reads an older snapshot
   * (CompactedError if gone); a revision beyond the current one reads the current state, labelled
   * with the current revision.
   */
  list(prefix: string, opts?: { revision?: string }): Promise<ListResult>;
  /**
   * Several reads from one snapshot in one round trip: for each request, the pairs under its
   * prefix sorted by key, or the key's pair (none when absent). Meant for small reads (no paging).
   */
  readMany(reqs: readonly ReadReq[]): Promise<{ results: KVPair[][]; revision: string }>;
  /** Throws AlreadyExistsError when the key exists. */
  create(key: string, value: string): Promise<KVPair>;
  /**
   * Replaces an existing value. With `revision`, only when it equals the stored revision
   * (UpdateConflictError otherwise). NotFoundError when the key is absent.
   */
  update(key: string, value: string, revision?: string): Promise<KVPair>;
  /** Creates or replaces, unconditionally. */
  apply(key: string, value: string): Promise<KVPair>;
  /** Removes the key and returns what it held. With `revision`, CAS as for update. */
  delete(key: string, revision?: string): Promise<KVPair>;
  /**
   * All or nothing: when every op's condition holds, all are applied and their pairs returned in
   * op order (a delete returns what it removed); otherwise nothing changes and the first failing
   * op's error is thrown (AlreadyExists / NotFound / UpdateConflict, naming its key). etcd gives
   * every op one revision; SQLite and memory give them consecutive ones. Keys must be distinct.
   */
  txn(ops: readonly TxnOp[]): Promise<KVPair[]>;
  /** The datastore's current revision. */
  revision(): Promise<string>;
  /** Changes under `prefix` after `fromRevision`. */
  watch(prefix: string, fromRevision: string, opts?: KVWatchOptions): KVWatchStream;
  /** Drops history before `revision`, as `etcdctl compact` does (tests and maintenance). */
  compact?(revision: string): Promise<void>;
  /** After close every call fails with ClosedError and open watches end with it. */
  close(): Promise<void>;
}

/** Revisions are decimal strings; only datastore internals compare them. */
export function revNum(rev: string): bigint {
  return BigInt(rev);
}
