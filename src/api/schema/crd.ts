/**
 * The CRD layer calicoctl v3.32 runs itself in etcd mode (libcalico-go
 * `validator/v3/crd_validation.go`): schema defaults, then OpenAPI constraints, then CEL rules.
 * It works on the canonical (json.Marshal) form, as the apiextensions validator does on
 * `toUnstructured(obj)`. Errors carry the Kubernetes field path (`spec.nextHopMode`) and the
 * Kubernetes detail text (`supported values: "Auto", "Self", "Keep"`), with no value —
 * that is how libcalico-go converts them.
 */
import { Prefix } from '../../net/index.js';
import type { ErroredField } from '../errors.js';
import type { StructTy, Ty } from './types.js';

/** A CEL `x-kubernetes-validations` rule, hand-translated: `valid` returns false on violation. */
export interface CelRule {
  /**
   * Path of the object the rule is attached to (`spec`, `spec.prefixAdvertisements[]`), or ''
   * for a rule on the whole object — libcalico-go then names the error after the kind.
   */
  path: string;
  message: string;
  valid(self: Record<string, unknown>): boolean;
}

/** Fills absent fields that have a CRD default, recursively, in place. */
export function applyCrdDefaults(v: Record<string, unknown>, ty: StructTy): void {
  for (const fd of ty.fields) {
    const cur = v[fd.json];
    if ((cur === undefined || cur === null) && fd.ty.default !== undefined) {
      v[fd.json] = structuredClone(fd.ty.default);
      continue;
    }
    descend(cur, fd.ty);
  }
}

function descend(cur: unknown, ty: Ty): void {
  if (cur === undefined || cur === null) return;
  if (ty.t === 'struct') applyCrdDefaults(cur as Record<string, unknown>, ty);
  else if (ty.t === 'list') for (const x of cur as unknown[]) descend(x, ty.of);
  else if (ty.t === 'map') for (const x of Object.values(cur as Record<string, unknown>)) descend(x, ty.of);
}

/**
 * OpenAPI checks over a canonical value. `path` is the field path of `v`. Details are worded as
 * apiextensions-apiserver words them: kube-openapi's `<path> in body …` for pattern, ranges,
 * lengths and formats; Kubernetes field errors for enums (NotSupported), maxLength (TooLong),
 * maxItems/maxProperties (TooMany) and required fields (an empty detail).
 *
 * The order is kube-openapi's SchemaValidator order for one node: type, allOf, string (only the
 * first failure of maxLength, minLength, pattern), format, number (minimum, maximum), slice
 * (items, then minItems, maxItems), enum, object (minProperties, maxProperties, additional
 * properties, properties, required). Go walks properties and map entries in map order (random);
 * here they go in declaration order and in the (sorted) canonical order of the map.
 * An allOf failure has no field path: libcalico-go names it after the kind (see `<nil>` below).
 */
export function checkCrdConstraints(v: unknown, ty: Ty, path: string, out: ErroredField[] = []): ErroredField[] {
  if (v === undefined || v === null) return out;
  const inBody = (detail: string) => out.push({ name: path, reason: `${path} in body ${detail}` });
  if (ty.allOf?.length) checkAllOf(v, ty, path, out);
  if (typeof v === 'string') {
    const runes = [...v].length;
    if (ty.maxLength !== undefined && runes > ty.maxLength) {
      out.push({ name: path, reason: `may not be more than ${ty.maxLength} ${ty.maxLength === 1 ? 'byte' : 'bytes'}` });
    } else if (ty.minLength !== undefined && runes < ty.minLength) inBody(`should be at least ${ty.minLength} chars long`);
    else if (ty.pattern !== undefined && !compilePattern(ty.pattern).test(v)) inBody(`should match '${ty.pattern}'`);
    if (ty.format === 'cidr' && !isSloppyCIDR(v)) inBody(`must be of type cidr: ${JSON.stringify(v)}`);
  }
  if (typeof v === 'number') {
    if (ty.minimum !== undefined && v < ty.minimum) inBody(`should be greater than or equal to ${ty.minimum}`);
    if (ty.maximum !== undefined && v > ty.maximum) inBody(`should be less than or equal to ${ty.maximum}`);
  }
  if (Array.isArray(v)) {
    if (ty.t === 'list') v.forEach((x, i) => checkCrdConstraints(x, ty.of, `${path}[${i}]`, out));
    if (ty.minItems !== undefined && v.length < ty.minItems) inBody(`should have at least ${ty.minItems} items`);
    if (ty.maxItems !== undefined && v.length > ty.maxItems) {
      out.push({ name: path, reason: `must have at most ${ty.maxItems} ${ty.maxItems === 1 ? 'item' : 'items'}` });
    }
  }
  if (ty.enum && (typeof v === 'string' || typeof v === 'number') && !ty.enum.includes(v)) {
    out.push({ name: path, reason: `supported values: ${ty.enum.map((e) => JSON.stringify(String(e))).join(', ')}` });
  }
  if ((ty.t === 'struct' || ty.t === 'map') && typeof v === 'object' && !Array.isArray(v)) {
    const n = Object.keys(v as object).length;
    if (ty.minProperties !== undefined && n < ty.minProperties) inBody(`should have at least ${ty.minProperties} properties`);
    if (ty.maxProperties !== undefined && n > ty.maxProperties) {
      out.push({ name: path, reason: `must have at most ${ty.maxProperties} ${ty.maxProperties === 1 ? 'item' : 'items'}` });
    }
  }
  if (ty.t === 'map') {
    // additionalProperties: kube-openapi joins the key with a dot.
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) checkCrdConstraints(x, ty.of, `${path}.${k}`, out);
  }
  if (ty.t === 'struct') {
    const o = v as Record<string, unknown>;
    const missing: ErroredField[] = [];
    for (const fd of ty.fields) {
      const child = path ? `${path}.${fd.json}` : fd.json;
      const x = o[fd.json];
      if (x === undefined) {
        if (fd.required) missing.push({ name: child });
        continue;
      }
      if (x === null) {
        // Go marshals a nil slice/map/pointer without omitempty as null; the schema says otherwise.
        const want = openapiType(fd.ty);
        if (want) out.push({ name: child, reason: `${child} in body must be of type ${want}: "null"` });
        continue;
      }
      checkCrdConstraints(x, fd.ty, child, out);
    }
    out.push(...missing);
  }
  return out;
}

/**
 * kube-openapi's allOf: each subschema validates the value (their errors merged, identical
 * messages kept once), then, if any failed, `"<path>" must validate all the schemas (allOf)`
 * (`. None validated` when none passed). That error is not a field error, so apiextensions
 * reports it with a nil path, printed `<nil>` — libcalico-go then puts the kind's name there.
 */
function checkAllOf(v: unknown, ty: Ty, path: string, out: ErroredField[]): void {
  let passed = 0;
  const merged: ErroredField[] = [];
  for (const sub of ty.allOf ?? []) {
    const errs = checkCrdConstraints(v, { ...bareType(ty), ...sub } as Ty, path);
    if (errs.length === 0) passed++;
    for (const e of errs) if (!merged.some((m) => m.name === e.name && m.reason === e.reason)) merged.push(e);
  }
  out.push(...merged);
  if (passed !== (ty.allOf ?? []).length) {
    out.push({ name: '<nil>', reason: `${JSON.stringify(path)} must validate all the schemas (allOf)${passed === 0 ? '. None validated' : ''}` });
  }
}

/** The type of `ty` without its constraints (what an allOf subschema adds them to). */
function bareType(ty: Ty): Ty {
  switch (ty.t) {
    case 'struct':
      return { t: 'struct', go: ty.go, fields: [] };
    case 'list':
      return { t: 'list', of: { t: 'any' } };
    case 'map':
      return { t: 'map', of: { t: 'any' } };
    case 'int':
      return { t: 'int', go: ty.go };
    case 'intOrString':
      return { t: 'intOrString', go: ty.go };
    default:
      return { t: ty.t } as Ty;
  }
}

function openapiType(ty: Ty): string | undefined {
  switch (ty.t) {
    case 'list':
      return 'array';
    case 'map':
    case 'struct':
      return 'object';
    case 'string':
    case 'duration':
      return 'string';
    case 'bool':
      return 'boolean';
    case 'int':
    case 'asn':
      return 'integer';
    case 'float':
      return 'number';
    default:
      return undefined;
  }
}

const patterns = new Map<string, RegExp>();
/** Go RE2 patterns as JS RegExps; a leading `(?i)` (after an optional `^`) becomes the `i` flag. */
function compilePattern(p: string): RegExp {
  let re = patterns.get(p);
  if (!re) {
    const m = /^(\^?)\(\?i\)/.exec(p);
    re = m ? new RegExp(m[1] + p.slice(m[0].length), 'iu') : new RegExp(p, 'u');
    patterns.set(p, re);
  }
  return re;
}

/** k8s netutils.ParseCIDRSloppy: a CIDR whose IPv4 octets may carry leading zeros. */
function isSloppyCIDR(s: string): boolean {
  const slash = s.indexOf('/');
  if (slash < 0) return false;
  const ip = s.slice(0, slash).replace(/(^|\.)0+(\d)/g, '$1$2');
  return Prefix.tryParseCIDR(`${ip}/${s.slice(slash + 1)}`) !== undefined;
}

/**
 * Evaluates CEL rules against the canonical object. Rules on a list path (`a.b[]`) run per item,
 * all of an item's rules before the next item, as the apiextensions validator walks the schema.
 */
export function checkCel(obj: Record<string, unknown>, rules: readonly CelRule[]): ErroredField[] {
  const out: ErroredField[] = [];
  const byPath = new Map<string, CelRule[]>();
  for (const r of rules) byPath.set(r.path, [...(byPath.get(r.path) ?? []), r]);
  for (const [path, group] of byPath) {
    const targets: [string, unknown][] = path === '' ? [[String(obj.kind ?? ''), obj]] : resolve(obj, path);
    for (const [at, self] of targets) {
      if (!self || typeof self !== 'object') continue;
      for (const rule of group) if (!rule.valid(self as Record<string, unknown>)) out.push({ name: at, reason: rule.message });
    }
  }
  return out;
}

function resolve(obj: unknown, path: string): [string, unknown][] {
  let cur: [string, unknown][] = [['', obj]];
  for (const seg of path.split('.')) {
    const isList = seg.endsWith('[]');
    const name = isList ? seg.slice(0, -2) : seg;
    const next: [string, unknown][] = [];
    for (const [p, v] of cur) {
      if (!v || typeof v !== 'object') continue;
      const child = (v as Record<string, unknown>)[name];
      const cp = p ? `${p}.${name}` : name;
      if (child === undefined || child === null) continue;
      if (isList) (child as unknown[]).forEach((x, i) => next.push([`${cp}[${i}]`, x]));
      else next.push([cp, child]);
    }
    cur = next;
  }
  return cur;
}
