/**
 * What a kind is, beyond its name: its schema and the checks that run before it is stored, in
 * the order libcalico-go runs them (clientv3 `validateAndSetDefaults` → go-playground struct
 * validation → CRD defaults/constraints/CEL → clientv3 post-checks).
 */
import type { ErroredField } from '../errors.js';
import type { KindName } from '../kinds.js';
import type { Resource } from '../meta.js';
import type { CelRule } from '../schema/crd.js';
import type { StructTy } from '../schema/types.js';

export type WriteOp = 'create' | 'update';

/** What the clientv3 layer may consult: the stored state (read through the datastore). */
export interface ClientContext {
  list(kind: KindName): Promise<Resource[]>;
  /** CIDRs of existing IPAM blocks of an IP version (IPPool block-size conflicts). */
  blockCIDRs(version: 4 | 6): Promise<string[]>;
}

export interface KindDef {
  kind: KindName;
  /** The whole object: TypeMeta, ObjectMeta, spec (and status). */
  schema: StructTy;
  /** Which metadata.name rule applies (libcalico-go validateObjectMeta and kind-specific ones). */
  nameRule?: 'subdomain' | 'networkPolicy' | 'globalNetworkPolicy';
  /**
   * clientv3's own defaulting and checks before the validator (may mutate `r`). Returning
   * errors stops the write there, as libcalico-go returns early.
   */
  prepare?(r: Resource, op: WriteOp, old: Resource | undefined, ctx: ClientContext): Promise<ErroredField[]> | ErroredField[];
  /** go-playground field tags and struct-level validators over the spec, in Go's order. */
  structChecks?(r: Resource): ErroredField[];
  /** CEL rules from the CRD. */
  cel?: readonly CelRule[];
  /** clientv3 checks after the validator (e.g. default-only BGPConfiguration fields). */
  post?(r: Resource, op: WriteOp, ctx: ClientContext): Promise<ErroredField[]> | ErroredField[];
}
