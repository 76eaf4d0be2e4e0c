/**
 * calicoctl's resource manager (`calicoctl/resourcemgr/resourcemgr.go`): what create, apply,
 * replace, delete and get do to one resource, on top of the client.
 *  - create keeps only name, namespace, labels and annotations of the input metadata;
 *  - apply = create, falling back to replace when the resource exists;
 *  - replace with a resourceVersion checks it is the latest (`resource version 'x' is out of
 *    date …`); without one it reads the stored object, takes its metadata (keeping the input's
 *    labels/annotations) and updates, retrying a conflict up to 5 times a second apart;
 *  - ClusterInformation cannot be written by users.
 */
import type { KindName } from '../api/kinds.js';
import { KIND_INFO } from '../api/kinds.js';
import { clone, resourceId, type ObjectMeta, type Resource } from '../api/meta.js';
import type { Client } from '../datastore/client.js';
import { NotSupportedError, UpdateConflictError, isDatastoreError } from '../datastore/errors.js';

export class ResourceManager {
  constructor(
    readonly client: Client,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  async create(r: Resource): Promise<Resource> {
    if (r.kind === 'ClusterInformation') throw new NotSupportedError('create or apply', 'ClusterInformation');
    return this.client.create(prepareForCreate(r));
  }

  async apply(r: Resource): Promise<Resource> {
    // resourcemgr Apply refuses ClusterInformation before trying Create.
    if (r.kind === 'ClusterInformation') throw new NotSupportedError('apply', 'ClusterInformation', 'resource is readonly');
    const originalRV = r.metadata.resourceVersion;
    const copy = clone(r);
    delete copy.metadata.resourceVersion;
    try {
      return await this.create(copy);
    } catch (e) {
      if (!isDatastoreError(e, 'ALREADY_EXISTS') && !isDatastoreError(e, 'NOT_SUPPORTED')) throw e;
    }
    const again = clone(r);
    if (originalRV) again.metadata.resourceVersion = originalRV;
    return this.replace(again);
  }

  async replace(r: Resource): Promise<Resource> {
    if (r.kind === 'ClusterInformation') throw new NotSupportedError('apply or replace', 'ClusterInformation');
    const rv = r.metadata.resourceVersion;
    const ref = refOf(r);
    if (rv) {
      const cur = await this.client.get(ref);
      if (cur.metadata.resourceVersion !== rv) {
        throw new UpdateConflictError(
          resourceId(r.kind, r.metadata.name, KIND_INFO[ref.kind].namespaced ? r.metadata.namespace : undefined),
          `resource version '${rv}' is out of date (latest: ${cur.metadata.resourceVersion}). Update the resource YAML/JSON in order to make changes`,
        );
      }
      return this.client.update(mergeMetadataForUpdate(cur, r));
    }
    let last: unknown;
    for (let i = 0; i < 5; i++) {
      const cur = await this.client.get(ref);
      try {
        return await this.client.update(mergeMetadataForUpdate(cur, r));
      } catch (e) {
        if (!isDatastoreError(e, 'UPDATE_CONFLICT')) throw e;
        last = e;
        await this.sleep(1000);
      }
    }
    throw new Error(`failed to update the resource: ${(last as Error).message}`);
  }

  async delete(r: Resource): Promise<Resource> {
    if (r.kind === 'ClusterInformation') throw new NotSupportedError('delete', 'ClusterInformation');
    const opts: { revision?: string; uid?: string } = {};
    if (r.metadata.resourceVersion) opts.revision = r.metadata.resourceVersion;
    if (r.metadata.uid) opts.uid = r.metadata.uid;
    return this.client.delete(refOf(r), opts);
  }

  async get(r: Resource): Promise<Resource> {
    return this.client.get(refOf(r));
  }
}

export function refOf(r: Resource): { kind: KindName; name: string; namespace?: string } {
  const kind = r.kind as KindName;
  const ref: { kind: KindName; name: string; namespace?: string } = { kind, name: r.metadata.name ?? '' };
  if (KIND_INFO[kind].namespaced && r.metadata.namespace) ref.namespace = r.metadata.namespace;
  return ref;
}

/** resourcemgr prepareMetadataForCreate: only these metadata fields survive a create. */
function prepareForCreate(r: Resource): Resource {
  const out = clone(r);
  const md: ObjectMeta = { name: r.metadata.name ?? '' };
  if (r.metadata.namespace) md.namespace = r.metadata.namespace;
  if (r.metadata.resourceVersion) md.resourceVersion = r.metadata.resourceVersion;
  if (r.metadata.labels) md.labels = r.metadata.labels;
  if (r.metadata.annotations) md.annotations = r.metadata.annotations;
  out.metadata = md;
  return out;
}

/** resourcemgr mergeMetadataForUpdate: the stored metadata, with the input's labels and annotations. */
function mergeMetadataForUpdate(stored: Resource, input: Resource): Resource {
  const out = clone(input);
  const md = clone(stored.metadata);
  if (input.metadata.labels) md.labels = input.metadata.labels;
  else delete md.labels;
  if (input.metadata.annotations) md.annotations = input.metadata.annotations;
  else delete md.annotations;
  out.metadata = md;
  return out;
}
