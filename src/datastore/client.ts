/**
 * The client: libcalico-go's clientv3 for tortie. Every write goes through the kind's checks
 * (`api/validate/pipeline.ts`) before the store sees it, so nothing invalid is ever stored
 * and a failed write leaves nothing behind. Reads and watches go straight to the store.
 *
 * Kind-specific behaviour that needs the datastore lives here too: IPPool deletion disables
 * the pool first (so IPAM stops allocating from it) and lets IPAM release its blocks, `ensureInitialized` creates the
 * ClusterInformation singleton as calicoctl does before any write.
 */
import { randomUUID } from 'node:crypto';
import { KIND_DEFS } from '../api/kinds/index.js';
import type { ClientContext, WriteOp } from '../api/kinds/def.js';
import { KIND_INFO, type KindName } from '../api/kinds.js';
import { API_VERSION, type Resource } from '../api/meta.js';
import { validateForWrite } from '../api/validate/pipeline.js';
import { isDatastoreError } from './errors.js';
import type { KVBackend } from './kv.js';
import { ResourceStore, type ResourceList, type ResourceRef, type ResourceStoreOptions, type ResourceWatcher } from './resources.js';
import type { WatchOptions } from './watcher.js';

/** Where IPAM blocks live (`/calico/ipam/v2/assignment/ipv4/block/10.0.0.0-26`). */
export const IPAM_BLOCK_PREFIX = (v: 4 | 6) => `/calico/ipam/v2/assignment/ipv${v}/block/`;

export class Client {
  readonly store: ResourceStore;
  /**
   * Called while an IPPool is deleted, after it is disabled and before it goes: IPAM releases
   * the pool's block affinities here (libcalico-go `ippools.Delete` → `ReleasePoolAffinities`).
   * Injected by whoever wires IPAM in (the CLI), since the datastore does not know IPAM.
   */
  poolDeleting?: (cidr: string, wasEnabled: boolean) => Promise<void>;

  constructor(
    readonly kv: KVBackend,
    opts: ResourceStoreOptions = {},
  ) {
    this.store = new ResourceStore(kv, opts);
  }

  private readonly ctx: ClientContext = {
    list: async (kind: KindName) => (await this.store.list(kind)).items,
    blockCIDRs: async (v: 4 | 6) => {
      const { pairs } = await this.kv.list(IPAM_BLOCK_PREFIX(v));
      return pairs.map((p) => p.key.slice(IPAM_BLOCK_PREFIX(v).length).replace(/-(\d+)$/, '/$1'));
    },
  };

  /** Validates (with defaults) as a create or update would, without writing. */
  async validate(r: Resource, op: WriteOp, old?: Resource): Promise<Resource> {
    return validateForWrite(KIND_DEFS[r.kind as KindName], r, op, old, this.ctx);
  }

  async create(r: Resource): Promise<Resource> {
    const v = await this.validate(r, 'create');
    return this.store.create(v);
  }

  /** Update with compare-and-swap on `metadata.resourceVersion`. */
  async update(r: Resource): Promise<Resource> {
    const old = await this.store.get(refOf(r));
    const v = await this.validate(r, 'update', old);
    return this.store.update(v);
  }

  async delete(ref: ResourceRef, opts: { revision?: string; uid?: string } = {}): Promise<Resource> {
    if (ref.kind === 'IPPool') {
      // clientv3 disables the pool first so that no new addresses come from it while it goes.
      const cur = await this.store.get(ref);
      if (opts.revision && opts.revision !== cur.metadata.resourceVersion) return this.store.delete(ref, opts);
      const spec = (cur.spec ?? {}) as Record<string, unknown>;
      let latest = cur;
      if (!spec.disabled) latest = await this.store.update({ ...cur, spec: { ...spec, disabled: true } });
      if (this.poolDeleting && typeof spec.cidr === 'string') await this.poolDeleting(spec.cidr, !spec.disabled);
      return this.store.delete(ref, { revision: latest.metadata.resourceVersion! });
    }
    return this.store.delete(ref, opts);
  }

  get(ref: ResourceRef): Promise<Resource> {
    return this.store.get(ref);
  }

  list(kind: KindName, opts: { namespace?: string; revision?: string } = {}): Promise<ResourceList> {
    return this.store.list(kind, opts);
  }

  watch(kind: KindName | undefined, opts: WatchOptions = {}): ResourceWatcher {
    return this.store.watch(kind, opts);
  }

  /**
   * calicoctl's EnsureInitialized: the ClusterInformation singleton exists, with a cluster GUID
   * and datastoreReady set. `calicoVersion`/`clusterType` are filled by the agent, not the CLI.
   */
  async ensureInitialized(opts: { calicoVersion?: string; clusterType?: string } = {}): Promise<void> {
    for (let attempt = 0; attempt < 10; attempt++) {
      let info: Resource;
      try {
        info = await this.store.get({ kind: 'ClusterInformation', name: 'default' });
      } catch (e) {
        if (!isDatastoreError(e, 'NOT_FOUND')) throw e;
        const spec: Record<string, unknown> = { clusterGUID: randomUUID().replace(/-/g, ''), datastoreReady: true };
        if (opts.calicoVersion) spec.calicoVersion = opts.calicoVersion;
        if (opts.clusterType) spec.clusterType = opts.clusterType;
        try {
          await this.store.create({ apiVersion: API_VERSION, kind: 'ClusterInformation', metadata: { name: 'default' }, spec });
          return;
        } catch (e2) {
          if (isDatastoreError(e2, 'ALREADY_EXISTS')) continue;
          throw e2;
        }
      }
      const spec = { ...((info.spec ?? {}) as Record<string, unknown>) };
      let changed = false;
      if (opts.calicoVersion && spec.calicoVersion !== opts.calicoVersion) [spec.calicoVersion, changed] = [opts.calicoVersion, true];
      if (!spec.clusterGUID) [spec.clusterGUID, changed] = [randomUUID().replace(/-/g, ''), true];
      if (spec.datastoreReady === undefined || spec.datastoreReady === null) [spec.datastoreReady, changed] = [true, true];
      if (opts.clusterType) {
        const have = String(spec.clusterType ?? '').split(',').filter(Boolean);
        const add = opts.clusterType.split(',').filter((t) => t && !have.includes(t));
        if (add.length) [spec.clusterType, changed] = [[...have, ...add].join(','), true];
      }
      if (!changed) return;
      try {
        await this.store.update({ ...info, spec });
        return;
      } catch (e) {
        if (!isDatastoreError(e, 'UPDATE_CONFLICT')) throw e;
      }
    }
  }

  async close(): Promise<void> {
    await this.kv.close();
  }
}

export function refOf(r: Resource): ResourceRef {
  const ref: ResourceRef = { kind: r.kind as KindName, name: r.metadata?.name ?? '' };
  if (KIND_INFO[ref.kind]?.namespaced && r.metadata?.namespace) ref.namespace = r.metadata.namespace;
  return ref;
}
