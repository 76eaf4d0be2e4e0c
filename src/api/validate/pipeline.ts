/**
 * The checks a resource passes before it is stored, in libcalico-go's order:
 *  1. the kind's clientv3 `prepare` (defaults, datastore-dependent checks) — errors stop here;
 *  2. the struct validator: metadata name/labels/annotations, then the kind's field tags and
 *     struct-level rules;
 *  3. the CRD layer on the canonical form: defaults, OpenAPI constraints, CEL rules;
 *  4. the kind's clientv3 `post` checks.
 * What comes out is the canonical object to store (Go's json.Marshal shape, defaults applied).
 */
import { ValidationError } from '../errors.js';
import type { ClientContext, KindDef, WriteOp } from '../kinds/def.js';
import { clone, type Resource } from '../meta.js';
import { canonicalStruct } from '../schema/canonical.js';
import { applyCrdDefaults, checkCel, checkCrdConstraints } from '../schema/crd.js';
import type { StructTy } from '../schema/types.js';
import { Report } from './checks.js';
import { checkObjectMeta } from './meta.js';

export async function validateForWrite(def: KindDef, input: Resource, op: WriteOp, old: Resource | undefined, ctx: ClientContext): Promise<Resource> {
  const r = clone(input);
  r.spec ??= {};
  const early = def.prepare ? await def.prepare(r, op, old, ctx) : [];
  if (early.length) throw new ValidationError(early);

  const rep = new Report();
  checkObjectMeta(r, def.nameRule ?? 'subdomain', rep);
  if (def.structChecks) rep.add(def.structChecks(r));

  let obj = canonicalStruct(r as unknown as Record<string, unknown>, def.schema);
  applyCrdDefaults(obj, crdPart(def.schema));
  obj = canonicalStruct(obj, def.schema);
  for (const fd of def.schema.fields) {
    if (fd.json !== 'spec' && fd.json !== 'status') continue;
    // A CRD error without a field path (allOf) is named after the kind (crd_validation.go resolveKind).
    const errs = checkCrdConstraints(obj[fd.json], fd.ty, fd.json).map((e) => (e.name === '<nil>' || e.name === '' ? { ...e, name: String(obj.kind || def.kind) } : e));
    rep.add(errs);
  }
  if (def.cel) rep.add(checkCel(obj, def.cel));
  if (rep.fields.length) throw new ValidationError(rep.fields);

  const out = obj as unknown as Resource;
  const late = def.post ? await def.post(out, op, ctx) : [];
  if (late.length) throw new ValidationError(late);
  return out;
}

/** Defaults apply to spec and status only (metadata is not part of the CRD schema's defaults). */
function crdPart(schema: StructTy): StructTy {
  return { ...schema, fields: schema.fields.filter((f) => f.json === 'spec' || f.json === 'status') };
}
