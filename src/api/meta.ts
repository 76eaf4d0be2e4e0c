/**
 * The shape every projectcalico.org/v3 resource shares: type metadata, Kubernetes-style
 * ObjectMeta, and an opaque `spec` (and `status` for the few kinds that have one).
 *
 * Resources travel through tortie as plain JSON-compatible objects, exactly as they are
 * stored in the datastore and printed by `get -o json`. The per-kind TypeScript interfaces
 * (in `kinds/`) narrow `spec`; nothing here depends on a particular kind.
 */

export const API_GROUP = 'projectcalico.org' as const;
export const API_VERSION = 'projectcalico.org/v3' as const;

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  resourceVersion?: string;
  uid?: string;
  creationTimestamp?: string | null;
  deletionTimestamp?: string | null;
  deletionGracePeriodSeconds?: number | null;
  generation?: number;
  generateName?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: unknown[];
  finalizers?: string[];
  managedFields?: unknown[];
  selfLink?: string;
}

export interface Resource<Spec = Record<string, unknown>, Status = unknown> {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec?: Spec;
  status?: Status;
}

/** Calico's identifier text for a resource in error messages: `Kind(name)` or `Kind(ns/name)`. */
export function resourceId(kind: string, name: string | undefined, namespace?: string): string {
  return namespace ? `${kind}(${namespace}/${name ?? ''})` : `${kind}(${name ?? ''})`;
}

export function idOf(r: Pick<Resource, 'kind' | 'metadata'>): string {
  return resourceId(r.kind, r.metadata.name, r.metadata.namespace);
}

/** Deep copy of a JSON-compatible value. Resources are plain data, so this is exact. */
export function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}
