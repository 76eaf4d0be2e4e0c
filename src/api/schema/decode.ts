/**
 * Strict decoding of a parsed YAML/JSON document into a resource, the way calicoctl does it:
 * sigs.k8s.io/yaml turns YAML into JSON (coercing numbers and booleans to strings where the Go
 * field is a string), then Go's encoding/json decodes it with DisallowUnknownFields.
 *
 * Observable consequences reproduced here:
 *  - an unknown field is `json: unknown field "x"`;
 *  - sigs.k8s.io/yaml builds a Go map for every mapping and json.Marshal writes map keys sorted,
 *    so keys are decoded in byte order, not document order;
 *  - encoding/json *saves* the first type mismatch or unknown field and carries on, but an error
 *    from a custom UnmarshalJSON (ASNumber, metav1.Duration, metav1.Time, numorstring) is
 *    returned at once: that one wins, else the first saved error;
 *  - field names match case-insensitively with Go's fold (exact match first), the canonical
 *    name is kept; two spellings of one field both decode, the later (in key order) winning,
 *    structs and maps merging;
 *  - null leaves a value field as it was but clears a pointer, slice, map or interface;
 *  - `labels: {rr: true}` stores "true", `version: 1.10` stores "1.1" (float32 formatting);
 *  - type mismatches read `json: cannot unmarshal string into Go struct field IPPoolSpec.spec.blockSize of type int`;
 *  - ASNumber takes a number or a string (plain or asdot), Duration a Go duration string.
 * Every error carries the JSON path and the source position so the CLI can point at it.
 */
import type { Pos, YNode } from '../yaml/read.js';
import { goStructName, goTypeName, type Field, type IntGoType, type StructTy, type Ty } from './types.js';
import { DurationError, TimeParseError, formatGoDuration, parseGoDuration, parseGoRFC3339 } from './gofmt.js';
import { goStringOfScalar } from '../yaml/gostring.js';

export class DecodeError extends Error {
  readonly code = 'DECODE' as const;
  constructor(
    message: string,
    /** JSON path of the offending value, e.g. `spec.blockSize` or `spec.foo` for an unknown field. */
    readonly path: string,
    readonly pos?: Pos,
  ) {
    super(message);
  }
}

interface Ctx {
  /** Go type name of the innermost struct being decoded. */
  struct: string;
  /** JSON field names from the top (Go's errorContext.FieldStack). */
  stack: string[];
  /** encoding/json's savedError: the first type mismatch or unknown field. */
  saved: { err?: DecodeError };
}

/** Returned for a value Go skips after saving an error (the field is left as it was). */
const SKIP: unique symbol = Symbol('skip');

function save(ctx: Ctx, err: DecodeError): typeof SKIP {
  ctx.saved.err ??= err;
  return SKIP;
}

const jsonKind = (n: YNode): string => {
  if (n.kind === 'map') return 'object';
  if (n.kind === 'seq') return 'array';
  const v = n.value;
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return 'number';
  return 'null';
};

function typeError(n: YNode, ty: Ty, ctx: Ctx, detail?: string): DecodeError {
  const what = detail ?? jsonKind(n);
  const where = ctx.stack.length ? `Go struct field ${ctx.struct}.${ctx.stack.join('.')}` : `Go value`;
  return new DecodeError(`json: cannot unmarshal ${what} into ${where} of type ${goTypeName(ty)}`, ctx.stack.join('.'), n.pos);
}

const isNull = (n: YNode | null | undefined): boolean => !n || (n.kind === 'scalar' && n.value === null);

/** Decodes a document node against a struct type. Absent/null yields `undefined`. */
export function decodeStruct(node: YNode | null, ty: StructTy, topName = goStructName(ty)): Record<string, unknown> | undefined {
  const ctx: Ctx = { struct: topName, stack: [], saved: {} };
  const v = isNull(node) ? undefined : decodeValue(node!, ty, ctx, undefined);
  if (ctx.saved.err) throw ctx.saved.err;
  return v === SKIP ? undefined : (v as Record<string, unknown> | undefined);
}

/**
 * encoding/json's field fold (appendFoldedName): ASCII letters upper-cased, any other rune
 * mapped through unicode.ToUpper(unicode.ToLower(r)) — so "\u017f" folds like "s" and "\u212a"
 * like "k". JS has full case mappings; where one gives several code points we keep Go's
 * simple mapping (the first code point for lower-casing, the rune itself for upper-casing).
 */
export function goFoldName(s: string): string {
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c < 0x80) {
      out += c >= 0x61 && c <= 0x7a ? String.fromCharCode(c - 32) : ch;
      continue;
    }
    const lower = [...ch.toLowerCase()][0]!;
    const uppered = [...lower.toUpperCase()];
    out += uppered.length === 1 ? uppered[0]! : lower;
  }
  return out;
}

function findField(fields: readonly Field[], key: string): Field | undefined {
  for (const fd of fields) if (fd.json === key) return fd;
  const folded = goFoldName(key);
  for (const fd of fields) if (goFoldName(fd.json) === folded) return fd;
  return undefined;
}

/** Byte-order comparison, as Go sorts map keys when marshalling. */
function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

const sortedEntries = <T extends { key: string }>(entries: readonly T[]): T[] => [...entries].sort((a, b) => byteOrder(a.key, b.key));

type NullEffect = 'keep' | 'clear' | { zero: unknown };

/**
 * What a JSON null does to a field of type `ty`: Go leaves a value field alone, sets a pointer,
 * slice, map or interface to nil, and hands null to a custom UnmarshalJSON (ASNumber: 0;
 * metav1.Time: zero; metav1.Duration: parses "" and fails).
 */
function nullEffect(ty: Ty, ptr: boolean, node: YNode, ctx: Ctx): NullEffect {
  if (ptr || ty.t === 'list' || ty.t === 'map' || ty.t === 'any' || ty.t === 'time') return 'clear';
  if (ty.t === 'asn') return { zero: 0 };
  if (ty.t === 'duration') throw new DecodeError('time: invalid duration ""', ctx.stack.join('.'), node.pos);
  return 'keep';
}

/** An element of a slice or map starts as Go's zero value; null then applies to it. */
function elementValue(it: YNode, ty: Ty, ctx: Ctx): unknown {
  if (isNull(it)) {
    const eff = nullEffect(ty, false, it, ctx);
    return typeof eff === 'object' ? eff.zero : zeroOf(ty);
  }
  const v = decodeValue(it, ty, ctx, undefined);
  return v === SKIP ? zeroOf(ty) : v;
}

function decodeValue(node: YNode, ty: Ty, ctx: Ctx, existing: unknown): unknown {
  switch (ty.t) {
    case 'struct': {
      if (node.kind !== 'map') return save(ctx, typeError(node, ty, ctx));
      // Go decodes into the struct as it stands (a second spelling of a key merges into it).
      const out: Record<string, unknown> = existing && typeof existing === 'object' ? (existing as Record<string, unknown>) : {};
      for (const { key, keyPos, value } of sortedEntries(node.entries)) {
        const fd = findField(ty.fields, key);
        if (!fd) {
          save(ctx, new DecodeError(`json: unknown field ${JSON.stringify(key)}`, [...ctx.stack, key].join('.'), keyPos));
          continue;
        }
        const sub: Ctx = { struct: goStructName(ty), stack: [...ctx.stack, fd.json], saved: ctx.saved };
        if (isNull(value)) {
          const eff = nullEffect(fd.ty, !!fd.ptr, value, sub);
          if (eff === 'clear') delete out[fd.json];
          else if (typeof eff === 'object') out[fd.json] = eff.zero;
          continue;
        }
        const v = decodeValue(value, fd.ty, sub, out[fd.json]);
        if (v !== SKIP) out[fd.json] = v;
      }
      return out;
    }
    case 'list': {
      if (node.kind !== 'seq') return save(ctx, typeError(node, ty, ctx));
      return node.items.map((it) => elementValue(it, ty.of, ctx));
    }
    case 'map': {
      if (node.kind !== 'map') return save(ctx, typeError(node, ty, ctx));
      // A non-nil map is reused, so a second spelling of the field adds to it.
      const out: Record<string, unknown> = existing && typeof existing === 'object' ? (existing as Record<string, unknown>) : {};
      for (const { key, value } of sortedEntries(node.entries)) out[key] = elementValue(value, ty.of, ctx);
      return out;
    }
    case 'any':
      return plain(node);
    case 'string': {
      if (node.kind !== 'scalar') return save(ctx, typeError(node, ty, ctx));
      const v = goStringOfScalar(node);
      if (v === null) return save(ctx, typeError(node, ty, ctx));
      return v;
    }
    case 'bool': {
      if (node.kind !== 'scalar' || typeof node.value !== 'boolean') return save(ctx, typeError(node, ty, ctx));
      return node.value;
    }
    case 'int': {
      if (node.kind !== 'scalar' || typeof node.value !== 'number') return save(ctx, typeError(node, ty, ctx));
      const big = node.bigint ?? (Number.isInteger(node.value) ? BigInt(node.value) : undefined);
      const [lo, hi] = INT_RANGE[ty.go];
      if (big === undefined || big < lo || big > hi) {
        return save(ctx, typeError(node, ty, ctx, `number ${node.bigint !== undefined ? node.bigint : goJsonNumber(node.value)}`));
      }
      return Number(big);
    }
    case 'float': {
      if (node.kind !== 'scalar' || typeof node.value !== 'number') return save(ctx, typeError(node, ty, ctx));
      return node.value;
    }
    // The cases below are Go types with their own UnmarshalJSON: their errors end the decode at once.
    case 'asn': {
      if (node.kind !== 'scalar') throw typeError(node, { t: 'string' }, ctx);
      const v = node.value;
      if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff && node.bigint === undefined) return v;
      if (typeof v === 'string') {
        const n = parseASNumber(v);
        if (n === undefined) throw new DecodeError(`invalid AS Number format (${v})`, ctx.stack.join('.'), node.pos);
        return n;
      }
      // Neither a uint32 nor a string: Go reports the failed string decode, in the field's context.
      throw typeError(node, { t: 'string' }, ctx);
    }
    case 'intOrString': {
      if (node.kind !== 'scalar' || (typeof node.value !== 'number' && typeof node.value !== 'string')) throw typeError(node, ty, ctx);
      if (!ty.decode) return node.value;
      const r = ty.decode(node.value);
      if (r.ok) return r.value;
      if (r.range) throw typeError(node, ty, ctx, `number ${node.bigint ?? node.raw}`);
      throw new DecodeError(r.message, ctx.stack.join('.'), node.pos);
    }
    case 'duration': {
      if (node.kind !== 'scalar' || typeof node.value !== 'string') throw typeError(node, { t: 'string' }, ctx);
      try {
        return formatGoDuration(parseGoDuration(node.value));
      } catch (e) {
        if (e instanceof DurationError) throw new DecodeError(e.message, ctx.stack.join('.'), node.pos);
        throw e;
      }
    }
    case 'time': {
      // metav1.Time.UnmarshalJSON: a JSON string, time.Parse(time.RFC3339, …); marshalled back in
      // UTC with whole seconds.
      if (node.kind !== 'scalar' || typeof node.value !== 'string') throw typeError(node, { t: 'string' }, ctx);
      try {
        return parseGoRFC3339(node.value);
      } catch (e) {
        if (e instanceof TimeParseError) throw new DecodeError(e.message, ctx.stack.join('.'), node.pos);
        throw e;
      }
    }
  }
}

const INT_RANGE: Record<IntGoType, [bigint, bigint]> = {
  int: [-(1n << 63n), (1n << 63n) - 1n],
  int64: [-(1n << 63n), (1n << 63n) - 1n],
  int32: [-(1n << 31n), (1n << 31n) - 1n],
  uint8: [0n, 255n],
  uint16: [0n, 65535n],
  uint32: [0n, 0xffffffffn],
  uint64: [0n, (1n << 64n) - 1n],
};

/**
 * A number as json.Marshal wrote it into the JSON that encoding/json then reads (the text Go puts
 * in `cannot unmarshal number <text>`): shortest form, exponent only below 1e-6 or from 1e21 —
 * the same thresholds as JavaScript's Number#toString.
 */
function goJsonNumber(v: number): string {
  return String(v);
}

/** numorstring.ASNumberFromString: plain uint32 or asdot `X.Y` (16-bit each). */
export function parseASNumber(s: string): number | undefined {
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    return n <= 0xffffffff ? n : undefined;
  }
  const parts = s.split('.');
  if (parts.length !== 2 || !/^\d+$/.test(parts[0]!) || !/^\d+$/.test(parts[1]!)) return undefined;
  const hi = Number(parts[0]);
  const lo = Number(parts[1]);
  if (hi > 0xffff || lo > 0xffff) return undefined;
  return hi * 65536 + lo;
}

/** Go's zero value for an element of a list or map when the YAML gave null. */
function zeroOf(ty: Ty): unknown {
  switch (ty.t) {
    case 'string':
      return '';
    case 'duration':
      return '0s';
    case 'bool':
      return false;
    case 'int':
    case 'float':
    case 'asn':
      return 0;
    case 'struct':
      return {};
    default:
      return null;
  }
}

function plain(n: YNode): unknown {
  if (n.kind === 'map') return Object.fromEntries(n.entries.map((e) => [e.key, plain(e.value)]));
  if (n.kind === 'seq') return n.items.map(plain);
  return n.bigint !== undefined ? Number(n.bigint) : n.value;
}
