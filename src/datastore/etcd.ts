/**
 * etcd v3 backend (the `etcd3` package), for clusters that outgrow one machine. The contract in
 * `kv.ts` was modelled on etcd, so this file is mostly translation:
 *   revision        = header.revision / mod_revision, as decimal strings
 *   create          = txn  version(key) == 0        ? put : -
 *   update/delete   = txn  mod_revision(key) == rev ? put/delete(prev_kv) : range(key)
 *                     (without a revision: version(key) > 0); the else-branch read tells
 *                     NotFound from conflict in the same round trip
 *   apply           = put(prev_kv)
 *   list            = range over the prefix, sorted by key, paged, at one pinned revision
 *   watch           = one gRPC Watch stream per KVWatchStream, start_revision = from + 1, prev_kv
 *
 * Tricky:
 *  - We use only the raw RPC clients (`client.kv`, `client.watchClient`), never etcd3's own
 *    watcher: its transparent reconnect would duplicate or drop events behind our back. Instead
 *    a broken stream fails with UnavailableError and `watchKV` reopens it from its last
 *    revision, so resumption is exact by construction.
 *  - etcd3's retry and circuit-breaker policies are switched off: a retried write whose reply
 *    was lost would report AlreadyExists/conflict for its own success, and an open breaker turns
 *    a restarted etcd into seconds of errors. We retry only where the request provably never left
 *    (no connection established), for at most `dialTimeoutMs`; everything else is reported.
 *  - Every unary call has a deadline (`requestTimeoutMs`), so an unreachable etcd is an
 *    UnavailableError in bounded time, with a one-line reason.
 */
import { readFileSync } from 'node:fs';
import { Etcd3, type IEvent, type IKeyValue, type IOptions, type IWatchResponse } from 'etcd3';
import { AlreadyExistsError, CompactedError, ConfigError, DatastoreError, NotFoundError, UnavailableError, UpdateConflictError, ClosedError } from './errors.js';
import { checkTxnKeys, type KVBackend, type KVEvent, type KVPair, type KVWatchStream, type ListResult, type ReadReq, type TxnOp } from './kv.js';
import { QueueWatchStream } from './stream.js';

export interface EtcdBackendOptions {
  /** Deadline of each request (default 5000 ms). */
  requestTimeoutMs?: number;
  /** How long a request keeps trying while no connection can be established (default 2000 ms). */
  dialTimeoutMs?: number;
  username?: string;
  password?: string;
  /** PEM files, as Calico's etcdCACertFile / etcdCertFile / etcdKeyFile. */
  caCertFile?: string;
  certFile?: string;
  keyFile?: string;
}

/** Keys per range page: keeps each reply far below gRPC's 4 MiB message limit. */
const PAGE = 500;
const COMPACTED = 'required revision has been compacted';
const FUTURE = 'required revision is a future revision';

type Policy = NonNullable<NonNullable<IOptions['faultHandling']>['global']>;
/** A policy that just runs the call: no retries, no circuit breaker (see the header). */
const direct = {
  onSuccess: () => ({ dispose() {} }),
  onFailure: () => ({ dispose() {} }),
  execute: async (fn: (ctx: { signal: AbortSignal }) => unknown, signal?: AbortSignal) => fn({ signal: signal ?? new AbortController().signal }),
} as unknown as Policy;

export class EtcdBackend implements KVBackend {
  readonly type = 'etcdv3' as const;
  /** The endpoints, for messages. */
  readonly where: string;
  private readonly client: Etcd3;
  private readonly requestTimeoutMs: number;
  private readonly dialTimeoutMs: number;
  private readonly streams = new Set<QueueWatchStream>();
  private closed = false;

  private constructor(endpoints: string[], opts: EtcdBackendOptions) {
    this.where = endpoints.join(',');
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 5000;
    this.dialTimeoutMs = opts.dialTimeoutMs ?? 2000;
    const options: IOptions = {
      hosts: endpoints,
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + this.requestTimeoutMs }),
      faultHandling: { host: () => direct, global: direct },
      grpcOptions: {
        'grpc.initial_reconnect_backoff_ms': 100,
        'grpc.max_reconnect_backoff_ms': 2000,
        // Detect a silently dead peer under an open watch (etcd allows pings every 5 s).
        'grpc.keepalive_time_ms': 30_000,
        'grpc.keepalive_timeout_ms': 10_000,
        // A watch catching up sends up to 1000 revisions (with prev_kv) in one message.
        'grpc.max_receive_message_length': -1,
      },
    };
    if (opts.username) options.auth = { username: opts.username, password: opts.password ?? '' };
    if (opts.caCertFile || opts.certFile || opts.keyFile) {
      const read = (what: string, f: string | undefined) => {
        if (!f) return undefined;
        try {
          return readFileSync(f);
        } catch (e) {
          throw new ConfigError(`cannot read etcd ${what} ${f}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { cause: e });
        }
      };
      options.credentials = {
        rootCertificate: read('CA certificate file', opts.caCertFile) as Buffer, // undefined: the system roots
        privateKey: read('key file', opts.keyFile),
        certChain: read('certificate file', opts.certFile),
      };
    }
    try {
      this.client = new Etcd3(options);
    } catch (e) {
      throw new ConfigError(`invalid etcd configuration for ${this.where}: ${oneLine(messageOf(e))}`, { cause: e });
    }
  }

  /**
   * Creates the client without any I/O (an unreachable etcd shows on the first call, as an
   * UnavailableError). Endpoints are `http(s)://host:port`; ConfigError when they are not.
   */
  static connect(endpoints: string[], opts: EtcdBackendOptions = {}): EtcdBackend {
    if (endpoints.length === 0) throw new ConfigError('no etcd endpoints given');
    const norm = endpoints.map((e) => {
      let u: URL;
      try {
        u = new URL(e.trim());
      } catch {
        throw new ConfigError(`invalid etcd endpoint "${e}": expected http://host:port or https://host:port`);
      }
      if ((u.protocol !== 'http:' && u.protocol !== 'https:') || !u.hostname || (u.pathname !== '/' && u.pathname !== '')) {
        throw new ConfigError(`invalid etcd endpoint "${e}": expected http://host:port or https://host:port`);
      }
      return `${u.protocol}//${u.hostname}:${u.port || '2379'}`;
    });
    return new EtcdBackend(norm, opts);
  }

  async get(key: string): Promise<KVPair> {
    const res = await this.call(() => this.client.kv.range({ key: Buffer.from(key) }));
    const kv = res.kvs[0];
    if (!kv) throw new NotFoundError(key);
    return pairOf(kv);
  }

  async list(prefix: string, opts: { revision?: string } = {}): Promise<ListResult> {
    const [from, end] = etcdPrefixRange(prefix);
    let rev = opts.revision;
    const pairs: KVPair[] = [];
    for (let start = from; ; ) {
      let res;
      try {
        res = await this.call(() =>
          this.client.kv.range({ key: start, range_end: end, revision: rev ?? 0, limit: PAGE, sort_order: 'Ascend', sort_target: 'Key' }),
        );
      } catch (e) {
        if (rev !== undefined && e instanceof UnavailableError && messageOf(e.cause).includes(COMPACTED)) throw new CompactedError(rev);
        // A snapshot "in the future" is the present (as on the other backends).
        if (rev !== undefined && pairs.length === 0 && e instanceof UnavailableError && messageOf(e.cause).includes(FUTURE)) {
          rev = undefined;
          continue;
        }
        throw e;
      }
      rev ??= res.header.revision;
      for (const kv of res.kvs) pairs.push(pairOf(kv));
      if (!res.more || res.kvs.length === 0) break;
      start = Buffer.concat([res.kvs[res.kvs.length - 1]!.key, Buffer.from([0])]);
    }
    return { pairs, revision: rev! };
  }

  async readMany(reqs: readonly ReadReq[]): Promise<{ results: KVPair[][]; revision: string }> {
    // A transaction without conditions is one request and one snapshot for every range.
    const res = await this.call(() =>
      this.client.kv.txn({
        compare: [],
        success: reqs.map((r) => {
          if ('key' in r) return { request_range: { key: Buffer.from(r.key) } };
          const [key, range_end] = etcdPrefixRange(r.prefix);
          return { request_range: { key, range_end, sort_order: 'Ascend' as const, sort_target: 'Key' as const } };
        }),
      }),
    );
    return { results: reqs.map((_, i) => (res.responses[i]?.response_range?.kvs ?? []).map(pairOf)), revision: res.header.revision };
  }

  async create(key: string, value: string): Promise<KVPair> {
    const k = Buffer.from(key);
    const res = await this.call(() =>
      this.client.kv.txn({
        compare: [{ key: k, target: 'Version', result: 'Equal', version: 0 }],
        success: [{ request_put: { key: k, value: Buffer.from(value) } }],
      }),
    );
    if (!res.succeeded) throw new AlreadyExistsError(key);
    return { key, value, revision: res.header.revision, createRevision: res.header.revision };
  }

  async update(key: string, value: string, revision?: string): Promise<KVPair> {
    const k = Buffer.from(key);
    const res = await this.call(() =>
      this.client.kv.txn({
        compare: [guard(k, revision)],
        success: [{ request_put: { key: k, value: Buffer.from(value), prev_kv: true } }],
        failure: [{ request_range: { key: k } }],
      }),
    );
    if (!res.succeeded) throw this.refused(key, revision, res.responses[0]?.response_range?.kvs[0]);
    const prev = res.responses[0]?.response_put?.prev_kv;
    return { key, value, revision: res.header.revision, createRevision: present(prev) ? prev.create_revision : res.header.revision };
  }

  async apply(key: string, value: string): Promise<KVPair> {
    const res = await this.call(() => this.client.kv.put({ key: Buffer.from(key), value: Buffer.from(value), prev_kv: true }));
    return { key, value, revision: res.header.revision, createRevision: present(res.prev_kv) ? res.prev_kv.create_revision : res.header.revision };
  }

  async delete(key: string, revision?: string): Promise<KVPair> {
    const k = Buffer.from(key);
    const res = await this.call(() =>
      this.client.kv.txn({
        compare: [guard(k, revision)],
        success: [{ request_delete_range: { key: k, prev_kv: true } }],
        failure: [{ request_range: { key: k } }],
      }),
    );
    if (!res.succeeded) throw this.refused(key, revision, res.responses[0]?.response_range?.kvs[0]);
    const prev = res.responses[0]?.response_delete_range?.prev_kvs[0];
    // Deleted by someone else between compare and delete cannot happen: a txn is atomic.
    if (!present(prev)) throw new NotFoundError(key);
    return pairOf(prev);
  }

  async txn(ops: readonly TxnOp[]): Promise<KVPair[]> {
    checkTxnKeys(ops);
    const keys = ops.map((o) => Buffer.from(o.key));
    const res = await this.call(() =>
      this.client.kv.txn({
        compare: ops.map((o, i) => (o.op === 'create' ? { key: keys[i]!, target: 'Version' as const, result: 'Equal' as const, version: 0 } : guard(keys[i]!, o.revision))),
        success: ops.map((o, i) =>
          o.op === 'delete'
            ? { request_delete_range: { key: keys[i]!, prev_kv: true } }
            : { request_put: { key: keys[i]!, value: Buffer.from(o.value), prev_kv: true } },
        ),
        // On failure, read every key to name the first condition that did not hold.
        failure: keys.map((k) => ({ request_range: { key: k } })),
      }),
    );
    if (!res.succeeded) {
      for (let i = 0; i < ops.length; i++) {
        const o = ops[i]!;
        const cur = res.responses[i]?.response_range?.kvs[0];
        if (o.op === 'create') {
          if (present(cur)) throw new AlreadyExistsError(o.key);
        } else if (!present(cur) || (o.revision !== undefined && cur.mod_revision !== o.revision)) throw this.refused(o.key, o.revision, cur);
      }
      throw new UpdateConflictError(ops[0]?.key ?? '', 'the transaction lost a race; read again');
    }
    return ops.map((o, i) => {
      if (o.op === 'delete') {
        const prev = res.responses[i]?.response_delete_range?.prev_kvs[0];
        if (!present(prev)) throw new NotFoundError(o.key);
        return pairOf(prev);
      }
      const prev = res.responses[i]?.response_put?.prev_kv;
      return { key: o.key, value: o.value, revision: res.header.revision, createRevision: present(prev) ? prev.create_revision : res.header.revision };
    });
  }

  async revision(): Promise<string> {
    const res = await this.call(() => this.client.kv.range({ key: Buffer.from([0]), count_only: true }));
    return res.header.revision;
  }

  watch(prefix: string, fromRevision: string): KVWatchStream {
    type Call = Awaited<ReturnType<Etcd3['watchClient']['watch']>>;
    let call: Call | undefined;
    const q: QueueWatchStream = new QueueWatchStream(() => {
      this.streams.delete(q);
      call?.cancel();
    });
    if (this.closed) {
      q.fail(this.closedError());
      return q;
    }
    let start: bigint;
    try {
      start = BigInt(fromRevision) + 1n;
    } catch {
      q.fail(new UnavailableError(`etcd watch: invalid revision "${fromRevision}"`));
      return q;
    }
    this.streams.add(q);
    const [key, end] = etcdPrefixRange(prefix);
    this.client.watchClient.watch().then(
      (stream) => {
        if (q.closed) {
          stream.cancel();
          return;
        }
        call = stream;
        stream.on('data', (res: IWatchResponse) => {
          if (res.canceled) {
            const err =
              res.compact_revision && res.compact_revision !== '0'
                ? new CompactedError(fromRevision, res.compact_revision)
                : new UnavailableError(`etcd unavailable at ${this.where}: watch on ${prefix} cancelled: ${this.reason(res.cancel_reason || 'no reason given')}`);
            q.fail(err);
            return;
          }
          if (res.events.length > 0) q.push(res.events.map(toEvent));
        });
        stream.on('error', (e: unknown) => q.fail(this.wrap(e)));
        stream.on('end', () => q.fail(new UnavailableError(`etcd unavailable at ${this.where}: watch stream ended`)));
        stream.write({ create_request: { key, range_end: end, start_revision: start.toString(), prev_kv: true } });
      },
      (e: unknown) => q.fail(this.wrap(e)),
    );
    return q;
  }

  /**
   * Like `etcdctl compact N`: forget history before revision N (physically, so that watches and
   * reads from before it fail at once). Compacting an already compacted revision is a no-op.
   */
  async compact(revision: string): Promise<void> {
    try {
      await this.call(() => this.client.kv.compact({ revision, physical: true }));
    } catch (e) {
      if (e instanceof UnavailableError && messageOf(e.cause).includes(COMPACTED)) return;
      throw e;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const q of [...this.streams]) q.close();
    this.client.close();
  }

  // ---- internals -------------------------------------------------------------------------

  /** Runs one unary call; retries only while the request cannot have been sent. */
  private async call<T>(f: () => Promise<T>): Promise<T> {
    if (this.closed) throw this.closedError();
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      try {
        return await f();
      } catch (e) {
        const delay = Math.min(400, 50 * 2 ** attempt);
        if (!this.closed && notSent(e) && Date.now() - started + delay < this.dialTimeoutMs) {
          await new Promise((r) => setTimeout(r, delay));
          continue;
        }
        throw this.wrap(e);
      }
    }
  }

  private refused(key: string, revision: string | undefined, current: IKeyValue | undefined): DatastoreError {
    if (!present(current)) return new NotFoundError(key);
    return new UpdateConflictError(key, `revision ${revision} is not the stored ${current.mod_revision}`);
  }

  private closedError(): ClosedError {
    return new ClosedError(`etcd client for ${this.where} is closed`);
  }

  /** Any failure of the client or the connection, as one line. The original stays as `cause`. */
  private wrap(e: unknown): DatastoreError {
    if (e instanceof DatastoreError) return e;
    if (this.closed) return this.closedError();
    return new UnavailableError(`etcd unavailable at ${this.where}: ${this.reason(messageOf(e))}`, { cause: e });
  }

  /** gRPC's and etcd's wording → a short reason. */
  private reason(msg: string): string {
    let r: string;
    if (/ECONNREFUSED/.test(msg)) r = 'connection refused';
    else if (/DEADLINE_EXCEEDED|Deadline exceeded/i.test(msg)) r = `no answer within ${this.requestTimeoutMs} ms`;
    else if (/ETIMEDOUT/.test(msg)) r = 'connection timed out';
    else if (/EHOSTUNREACH/.test(msg)) r = 'host unreachable';
    else if (/ENETUNREACH/.test(msg)) r = 'network unreachable';
    else if (/ENOTFOUND|EAI_AGAIN|Name resolution failed/.test(msg)) r = 'cannot resolve the host name';
    else if (/ECONNRESET|Connection dropped|Connection closed|GOAWAY/i.test(msg)) r = 'connection lost';
    else if (/authentication failed|invalid auth token|permission denied|user name is empty|UNAUTHENTICATED/i.test(msg)) r = `access refused: ${stripGrpc(msg)}`;
    else if (/SSL|TLS|certificate/i.test(msg)) r = `TLS failure: ${stripGrpc(msg)}`;
    else r = stripGrpc(msg);
    return oneLine(r);
  }
}

/** etcd's compare for "exists, and has this mod revision when one is given". */
function guard(key: Buffer, revision: string | undefined) {
  return revision === undefined
    ? { key, target: 'Version' as const, result: 'Greater' as const, version: 0 }
    : { key, target: 'Mod' as const, result: 'Equal' as const, mod_revision: revision };
}

/** etcd's prefix range: [prefix, prefix with its last byte below 0xff incremented); '' is every key. */
export function etcdPrefixRange(prefix: string): [Buffer, Buffer] {
  const start = Buffer.from(prefix);
  for (let i = start.length - 1; i >= 0; i--) {
    if (start[i]! < 0xff) {
      const end = Buffer.from(start.subarray(0, i + 1));
      end[i]!++;
      return [start, end];
    }
  }
  return [start.length ? start : Buffer.from([0]), Buffer.from([0])];
}

function present(kv: IKeyValue | null | undefined): kv is IKeyValue {
  return !!kv && !!kv.create_revision && kv.create_revision !== '0';
}

function pairOf(kv: IKeyValue): KVPair {
  return { key: kv.key.toString(), value: kv.value.toString(), revision: kv.mod_revision, createRevision: kv.create_revision };
}

function toEvent(ev: IEvent): KVEvent {
  const put = String(ev.type).toLowerCase() === 'put';
  const out: KVEvent = { type: put ? 'put' : 'delete', key: ev.kv.key.toString(), revision: ev.kv.mod_revision };
  if (put) {
    out.value = ev.kv.value.toString();
    out.createRevision = ev.kv.create_revision;
  }
  if (present(ev.prev_kv)) out.prevValue = ev.prev_kv.value.toString();
  return out;
}

/** True when gRPC failed before sending: no connection, so retrying cannot apply a write twice. */
function notSent(e: unknown): boolean {
  const m = messageOf(e);
  return /UNAVAILABLE/.test(m) && /No connection established|Channel closed before call started/.test(m);
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** `14 UNAVAILABLE: foo` → `foo`; `etcdserver: x` → `x`. */
function stripGrpc(m: string): string {
  return m
    .replace(/^\w*Error:\s*/, '')
    .replace(/^\d+ [A-Z_]+:\s*/, '')
    .replace(/^rpc error: code = \w+ desc = /, '')
    .replace(/^etcdserver:\s*/, '');
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}
