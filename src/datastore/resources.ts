/**
 * The typed resource store: create / update / apply / delete / get / list / watch over
 * projectcalico.org/v3 resources, on any KVBackend.
 *
 * It owns what libcalico-go's `clientv3/resources.go` owns: metadata bookkeeping (uid,
 * creationTimestamp, resourceVersion = the key's mod revision), the Calico key layout, and
 * Calico's error identifiers (`IPPool(name)`). It does not validate specs — that is the
 * client's job (`client.ts`) — so the same store serves the CLI, the agent and IPAM.
 *
 * Stored values are the resource's JSON without `resourceVersion` (the revision is the version).
 * IPAMConfiguration is the exception: Calico keeps it at `/calico/ipam/v2/config` in its
 * backend shape (`strict_affinity`, …), so it is converted on the way in and out.
 */
import { randomUUID } from 'node:crypto';
import { API_VERSION, clone, resourceId, type Resource } from '../api/meta.js';
import { KIND_INFO, type KindName } from '../api/kinds.js';
import { AlreadyExistsError, NotFoundError, UpdateConflictError, ValidationError, isDatastoreError } from './errors.js';
import type { KVBackend, KVPair } from './kv.js';
import { IPAM_CONFIG_KEY, RESOURCE_ROOT, parseResourceKey, resourceKey, resourcePrefix } from './keys.js';
import { watchKV, type KVWatcher, type WatchEventType, type WatchOptions } from './watcher.js';

export interface ResourceRef {
  kind: KindName;
  name: string;
  namespace?: string;
}

export interface ResourceList {
  items: Resource[];
  revision: string;
}

export interface ResourceEvent {
  type: WatchEventType;
  kind: KindName;
  old?: Resource;
  new?: Resource;
  revision: string;
}

export interface ResourceWatcher extends AsyncIterable<ResourceEvent[]> {
  close(): void;
  readonly ready: Promise<void>;
}

export interface ResourceStoreOptions {
  now?: () => Date;
  newUID?: () => string;
}

/** metav1.Time's JSON form: RFC 3339, seconds, UTC. */
export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export class ResourceStore {
  private readonly now: () => Date;
  private readonly newUID: () => string;

  constructor(
    readonly kv: KVBackend,
    opts: ResourceStoreOptions = {},
  ) {
    this.now = opts.now ?? (() => new Date());
    this.newUID = opts.newUID ?? randomUUID;
  }

  async create(res: Resource): Promise<Resource> {
    const r = this.prepare(res);
    const md = r.metadata;
    if (!md.name) {
      throw new ValidationError([{ name: 'Metadata.Name', value: '', reason: 'field must be set for a Create request' }]);
    }
    if (md.resourceVersion) {
      throw new ValidationError([{ name: 'Metadata.ResourceVersion', value: md.resourceVersion, reason: 'field must not be set for a Create request' }]);
    }
    if (!md.creationTimestamp) md.creationTimestamp = rfc3339(this.now());
    if (!md.uid) md.uid = this.newUID();
    const ref = refOf(r);
    try {
      return this.decode(ref.kind, await this.kv.create(this.key(ref), this.encode(r)));
    } catch (e) {
      throw this.identify(e, ref);
    }
  }

  /** Compare-and-swap on `metadata.resourceVersion`, which is required. */
  async update(res: Resource): Promise<Resource> {
    const r = this.prepare(res);
    const rv = r.metadata.resourceVersion;
    if (!rv) {
      throw new ValidationError([{ name: 'Metadata.ResourceVersion', value: '', reason: 'field must be set for an Update request' }]);
    }
    const ref = refOf(r);
    try {
      return this.decode(ref.kind, await this.kv.update(this.key(ref), this.encode(r), rv));
    } catch (e) {
      throw this.identify(e, ref);
    }
  }

  /**
   * Create or replace without a revision check. An existing object keeps its uid and
   * creationTimestamp unless the input sets them.
   */
  async apply(res: Resource): Promise<Resource> {
    const ref = refOf(res);
    for (let attempt = 0; ; attempt++) {
      const r = this.prepare(res);
      delete r.metadata.resourceVersion;
      let existing: Resource | undefined;
      try {
        existing = await this.get(ref);
      } catch (e) {
        if (!isDatastoreError(e, 'NOT_FOUND')) throw e;
      }
      try {
        if (!existing) {
          r.metadata.creationTimestamp ||= rfc3339(this.now());
          r.metadata.uid ||= this.newUID();
          return this.decode(ref.kind, await this.kv.create(this.key(ref), this.encode(r)));
        }
        r.metadata.creationTimestamp ||= existing.metadata.creationTimestamp ?? null;
        r.metadata.uid ||= existing.metadata.uid;
        return this.decode(ref.kind, await this.kv.update(this.key(ref), this.encode(r), existing.metadata.resourceVersion));
      } catch (e) {
        // Lost a race with another writer: read again and retry (bounded).
        if ((isDatastoreError(e, 'ALREADY_EXISTS') || isDatastoreError(e, 'UPDATE_CONFLICT') || isDatastoreError(e, 'NOT_FOUND')) && attempt < 20) continue;
        throw this.identify(e, ref);
      }
    }
  }

  async delete(ref: ResourceRef, opts: { revision?: string; uid?: string } = {}): Promise<Resource> {
    try {
      if (opts.uid) {
        const cur = await this.get(ref);
        if (cur.metadata.uid !== opts.uid) throw new UpdateConflictError(resourceId(ref.kind, ref.name, ref.namespace), `uid ${opts.uid} does not match`);
      }
      return this.decode(ref.kind, await this.kv.delete(this.key(ref), opts.revision || undefined));
    } catch (e) {
      throw this.identify(e, ref);
    }
  }

  async get(ref: ResourceRef): Promise<Resource> {
    try {
      const pair = await this.kv.get(this.key(ref));
      return this.decode(ref.kind, pair);
    } catch (e) {
      throw this.identify(e, ref);
    }
  }

  /** All objects of a kind (optionally one namespace), sorted as the key space sorts. */
  async list(kind: KindName, opts: { namespace?: string; revision?: string } = {}): Promise<ResourceList> {
    const ns = KIND_INFO[kind].namespaced ? opts.namespace : undefined;
    const prefix = resourcePrefix(kind, ns);
    const { pairs, revision } = await this.kv.list(prefix, opts.revision ? { revision: opts.revision } : {});
    return { items: this.fromPairs(kind, pairs), revision };
  }

  /** The resources of `kind` among pairs read from its prefix (`kv.readMany`), as `list` returns them. */
  fromPairs(kind: KindName, pairs: readonly KVPair[]): Resource[] {
    const items: Resource[] = [];
    for (const p of pairs) {
      if (kind === 'IPAMConfiguration' ? p.key !== IPAM_CONFIG_KEY : !parseResourceKey(p.key)) continue;
      items.push(this.decode(kind, p));
    }
    return items;
  }

  /** Changes to one kind, or to every v3 resource kind when `kind` is undefined. */
  watch(kind: KindName | undefined, opts: WatchOptions = {}): ResourceWatcher {
    const prefix = kind ? resourcePrefix(kind) : RESOURCE_ROOT;
    const w: KVWatcher = watchKV(this.kv, prefix, opts);
    const self = this;
    return {
      ready: w.ready,
      close: () => w.close(),
      async *[Symbol.asyncIterator]() {
        for await (const batch of w) {
          const out: ResourceEvent[] = [];
          for (const ev of batch) {
            const ref = parseResourceKey(ev.key);
            if (!ref) continue;
            const e: ResourceEvent = { type: ev.type, kind: ref.kind, revision: ev.revision };
            if (ev.old !== undefined) e.old = self.decode(ref.kind, { key: ev.key, value: ev.old, revision: ev.revision, createRevision: '' }, false);
            if (ev.new !== undefined) e.new = self.decode(ref.kind, { key: ev.key, value: ev.new, revision: ev.revision, createRevision: '' });
            out.push(e);
          }
          if (out.length) yield out;
        }
      },
    };
  }

  private key(ref: ResourceRef): string {
    return resourceKey(ref.kind, ref.name, ref.namespace);
  }

  private prepare(res: Resource): Resource {
    const r = clone(res);
    r.apiVersion = r.apiVersion || API_VERSION;
    r.metadata = r.metadata ?? {};
    return r;
  }

  private encode(r: Resource): string {
    const copy = clone(r);
    delete copy.metadata.resourceVersion;
    if (copy.kind === 'IPAMConfiguration') return JSON.stringify(ipamConfigToBackend(copy));
    return JSON.stringify(copy);
  }

  /** `withRevision` false for `old` values in watch events, whose revision is not known here. */
  private decode(kind: KindName, pair: KVPair, withRevision = true): Resource {
    const r: Resource = kind === 'IPAMConfiguration' ? ipamConfigFromBackend(pair.value) : (JSON.parse(pair.value) as Resource);
    if (withRevision) r.metadata.resourceVersion = pair.revision;
    return r;
  }

  private identify(e: unknown, ref: ResourceRef): unknown {
    const id = resourceId(ref.kind, ref.name, KIND_INFO[ref.kind].namespaced ? ref.namespace : undefined);
    if (e instanceof NotFoundError && e.id !== id) return new NotFoundError(id, { cause: e });
    if (e instanceof AlreadyExistsError && e.id !== id) return new AlreadyExistsError(id, { cause: e });
    if (e instanceof UpdateConflictError && e.id !== id) return new UpdateConflictError(id, e.detail, { cause: e });
    return e;
  }
}

function refOf(r: Resource): ResourceRef {
  const kind = r.kind as KindName;
  if (!KIND_INFO[kind]) throw new ValidationError([{ name: 'Kind', value: r.kind, reason: 'unknown resource kind' }]);
  const ref: ResourceRef = { kind, name: r.metadata?.name ?? '' };
  if (r.metadata?.namespace) ref.namespace = r.metadata.namespace;
  if (KIND_INFO[kind].namespaced && !ref.namespace) {
    throw new ValidationError([{ name: 'Metadata.Namespace', reason: 'namespace is not specified on namespaced resource' }]);
  }
  return ref;
}

/** libcalico-go model.IPAMConfig, the value at /calico/ipam/v2/config. */
interface BackendIPAMConfig {
  strict_affinity?: boolean;
  auto_allocate_blocks?: boolean;
  maxBlocksPerHost?: number;
  kubeVirtVMAddressPersistence?: string;
}

function ipamConfigToBackend(r: Resource): BackendIPAMConfig {
  const s = (r.spec ?? {}) as Record<string, unknown>;
  const out: BackendIPAMConfig = {};
  if (s.strictAffinity) out.strict_affinity = true;
  if (s.autoAllocateBlocks) out.auto_allocate_blocks = true;
  if (typeof s.maxBlocksPerHost === 'number' && s.maxBlocksPerHost) out.maxBlocksPerHost = s.maxBlocksPerHost;
  if (typeof s.kubeVirtVMAddressPersistence === 'string') out.kubeVirtVMAddressPersistence = s.kubeVirtVMAddressPersistence;
  return out;
}

function ipamConfigFromBackend(value: string): Resource {
  const b = JSON.parse(value) as BackendIPAMConfig;
  const spec: Record<string, unknown> = {
    strictAffinity: b.strict_affinity ?? false,
    autoAllocateBlocks: b.auto_allocate_blocks ?? false,
  };
  if (b.maxBlocksPerHost) spec.maxBlocksPerHost = b.maxBlocksPerHost;
  if (b.kubeVirtVMAddressPersistence) spec.kubeVirtVMAddressPersistence = b.kubeVirtVMAddressPersistence;
  return { apiVersion: API_VERSION, kind: 'IPAMConfiguration', metadata: { name: 'default', creationTimestamp: null }, spec };
}
