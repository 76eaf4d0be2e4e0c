/**
 * Schema pieces every kind shares: TypeMeta, metav1.ObjectMeta, and the helper that assembles a
 * kind's top-level struct from its spec (and status).
 */
import { any, f, int, list, map, opt, optPtr, str, struct, time, type Field, type StructTy, type Ty } from '../schema/types.js';

export const objectMeta = struct('v1.ObjectMeta', [
  opt('name', str()),
  opt('generateName', str()),
  opt('namespace', str()),
  opt('selfLink', str(), 'SelfLink'),
  opt('uid', str(), 'UID'),
  opt('resourceVersion', str()),
  opt('generation', int('int64')),
  f('creationTimestamp', time(), 'CreationTimestamp', 'omit'),
  optPtr('deletionTimestamp', time()),
  optPtr('deletionGracePeriodSeconds', int('int64')),
  opt('labels', map(str())),
  opt('annotations', map(str())),
  opt('ownerReferences', list(any())),
  opt('finalizers', list(str())),
  opt('managedFields', list(any())),
]);

export function resourceStruct(kind: string, spec: StructTy, extra: Field[] = []): StructTy {
  return struct(kind, [
    opt('kind', str()),
    opt('apiVersion', str(), 'APIVersion'),
    f('metadata', objectMeta, 'ObjectMeta', 'omit'),
    f('spec', spec, 'Spec', 'omit'),
    ...extra,
  ]);
}

/** The `<Kind>List` wrapper. Items are decoded against the kind's own struct. */
export function listStruct(kind: string, item: Ty): StructTy {
  return struct(`${kind}List`, [
    opt('kind', str()),
    opt('apiVersion', str(), 'APIVersion'),
    f('metadata', struct('v1.ListMeta', [opt('selfLink', str()), opt('resourceVersion', str()), opt('continue', str()), optPtr('remainingItemCount', int('int64'))]), 'ListMeta', 'omit'),
    f('items', list(item), 'Items'),
  ]);
}
