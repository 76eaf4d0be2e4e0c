/**
 * Strict decoding of a parsed YAML/JSON document into a resource, the way calicoctl does it:
 * sigs.k8s.io/yaml turns YAML into JSON (coercing numbers and booleans to strings where the Go
 * field is a string), then Go's encoding/json decodes it with DisallowUnknownFields.
 *
 * Observable consequences reproduced here:
 *  - an unknown field is `json: unknown field "x"`; the first error in document order wins;
 *  - field names match case-insensitively (`CIDR:` fills `cidr`), the canonical name is kept;
 *  - `labels: {rr: true}` stores "true", `version: 1.10` stores "1.1" (float32 formatting);
 *  - type mismatches read `json: cannot unmarshal string into Go struct field IPPoolSpec.spec.blockSize of type int`;
 *  - ASNumber takes a number or a string (plain or asdot), Duration a Go duration string.
 * Every error carries the JSON path and the source position so the CLI can point at it.
 */
import type { Pos, YNode } from '../yaml/read.js';
import { goTypeName, type Field, type IntGoType, type StructTy, type Ty } from './types.js';
import { DurationError, formatGoDuration, parseGoDuration } from './gofmt.js';
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
export function decodeStruct(node: YNode | null, ty: StructTy, topName = ty.go): Record<string, unknown> | undefined {
  return decodeValue(node, ty, { struct: topName, stack: [] }) as Record<string, unknown> | undefined;
}

function findField(fields: readonly Field[], key: string): Field | undefined {
  let fold: Field | undefined;
  const lower = key.toLowerCase();
  for (const fd of fields) {
    if (fd.json === key) return fd;
    if (!fold && fd.json.toLowerCase() === lower) fold = fd;
  }
  return fold;
}

function decodeValue(n: YNode | null, ty: Ty, ctx: Ctx): unknown {
  if (isNull(n)) return ty.t === 'any' ? null : undefined;
  const node = n!;
  switch (ty.t) {
    case 'struct': {
      if (node.kind !== 'map') throw typeError(node, ty, ctx);
      const out: Record<string, unknown> = {};
      for (const { key, keyPos, value } of node.entries) {
        const fd = findField(ty.fields, key);
        if (!fd) {
          throw new DecodeError(`json: unknown field ${JSON.stringify(key)}`, [...ctx.stack, key].join('.'), keyPos);
        }
        const v = decodeValue(value, fd.ty, { struct: ty.go, stack: [...ctx.stack, fd.json] });
        if (v === undefined) delete out[fd.json];
        else out[fd.json] = v;
      }
      return out;
    }
    case 'list': {
      if (node.kind !== 'seq') throw typeError(node, ty, ctx);
      return node.items.map((it) => {
        const v = decodeValue(it, ty.of, ctx);
        return v === undefined ? zeroOf(ty.of) : v;
      });
    }
    case 'map': {
      if (node.kind !== 'map') throw typeError(node, ty, ctx);
      const out: Record<string, unknown> = {};
      for (const { key, value } of node.entries) {
        const v = decodeValue(value, ty.of, ctx);
        out[key] = v === undefined ? zeroOf(ty.of) : v;
      }
      return out;
    }
    case 'any':
      return plain(node);
    case 'string': {
      if (node.kind !== 'scalar') throw typeError(node, ty, ctx);
      const v = goStringOfScalar(node);
      if (v === null) throw typeError(node, ty, ctx);
      return v;
    }
    case 'bool': {
      if (node.kind !== 'scalar' || typeof node.value !== 'boolean') throw typeError(node, ty, ctx);
      return node.value;
    }
    case 'int': {
      if (node.kind !== 'scalar' || typeof node.value !== 'number') throw typeError(node, ty, ctx);
      const big = node.bigint ?? (Number.isInteger(node.value) ? BigInt(node.value) : undefined);
      const [lo, hi] = INT_RANGE[ty.go];
      if (big === undefined || big < lo || big > hi || /[.eE]/.test(node.raw) && !Number.isInteger(node.value)) {
        throw typeError(node, ty, ctx, `number ${node.bigint !== undefined ? node.bigint : goNumber(node.value)}`);
      }
      return Number(big);
    }
    case 'float': {
      if (node.kind !== 'scalar' || typeof node.value !== 'number') throw typeError(node, ty, ctx);
      return node.value;
    }
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
      if (node.kind !== 'scalar' || typeof node.value !== 'string') throw typeError(node, ty, ctx);
      const t = Date.parse(node.value);
      if (Number.isNaN(t) || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(node.value)) {
        throw new DecodeError(
          `parsing time ${JSON.stringify(node.value)} as "2006-01-02T15:04:05Z07:00": cannot parse ${JSON.stringify(node.value)} as "2006"`,
          ctx.stack.join('.'),
          node.pos,
        );
      }
      // metav1.Time keeps whole seconds and marshals in UTC.
      return new Date(Math.floor(t / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
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

/** Go prints JSON numbers in errors as they were written; for YAML-resolved floats use %v. */
function goNumber(v: number): string {
  return Number.isInteger(v) ? String(v) : String(v);
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
    case 'duration':
      return '';
    case 'bool':
      return false;
    case 'int':
    case 'float':
    case 'asn':
      return 0;
    case 'struct':
    case 'map':
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
