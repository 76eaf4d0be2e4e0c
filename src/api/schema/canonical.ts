/**
 * Canonical form: the object exactly as Go's json.Marshal would produce it from the typed
 * struct — fields in declaration order, `omitempty` dropping zero values (but never a non-nil
 * pointer, and never a struct), nil slices/maps/pointers without omitempty printed as null,
 * non-pointer scalars without omitempty printed as their zero value.
 *
 * Resources are stored in this form, and `get -o json` prints it as is (Go's key order);
 * `-o yaml` sorts keys as sigs.k8s.io/yaml does. Unknown shapes (`any`) pass through untouched.
 */
import type { StructTy, Ty } from './types.js';

export function canonicalStruct(v: Record<string, unknown> | undefined, ty: StructTy): Record<string, unknown> {
  return canonical(v, ty) as Record<string, unknown>;
}

export function canonical(v: unknown, ty: Ty): unknown {
  switch (ty.t) {
    case 'struct': {
      const src = (v ?? {}) as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const fd of ty.fields) {
        const has = Object.prototype.hasOwnProperty.call(src, fd.json) && src[fd.json] !== undefined;
        const x = src[fd.json];
        if (fd.ptr) {
          if (!has || x === null) {
            if (!fd.omitempty) out[fd.json] = null;
            continue;
          }
          out[fd.json] = canonical(x, fd.ty);
          continue;
        }
        if (fd.ty.t === 'struct') {
          // Go never omits a non-pointer struct, even with omitempty.
          out[fd.json] = canonical(has ? x : undefined, fd.ty);
          continue;
        }
        if (fd.ty.t === 'duration' || fd.ty.t === 'intOrString') {
          // metav1.Duration and the numorstring types are structs too: never omitted, their zero
          // value marshals as "0s" / 0.
          out[fd.json] = has && x !== null ? x : zeroJson(fd.ty);
          continue;
        }
        if (fd.ty.t === 'time') {
          // metav1.Time is a struct: printed even when zero, as null.
          out[fd.json] = has && x ? x : null;
          continue;
        }
        if (!has) {
          if (fd.omitempty) continue;
          out[fd.json] = zeroJson(fd.ty);
          continue;
        }
        const c = canonical(x, fd.ty);
        if (fd.omitempty && isEmpty(c, fd.ty)) continue;
        out[fd.json] = c;
      }
      return out;
    }
    case 'list':
      if (v === undefined || v === null) return null;
      return (v as unknown[]).map((x) => canonical(x, ty.of));
    case 'map': {
      if (v === undefined || v === null) return null;
      const src = v as Record<string, unknown>;
      // Go marshals maps with sorted keys.
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(src).sort(goStringLess)) out[k] = canonical(src[k], ty.of);
      return out;
    }
    case 'any':
      return v === undefined ? null : v;
    default:
      return v === undefined ? zeroJson(ty) : v;
  }
}

/** Byte-order comparison of strings, as Go's sort.Strings does. */
export function goStringLess(a: string, b: string): number {
  const ba = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  return Buffer.compare(ba, bb);
}

function zeroJson(ty: Ty): unknown {
  switch (ty.t) {
    case 'string':
      return '';
    case 'duration':
      return '0s';
    case 'intOrString':
      return 0;
    case 'bool':
      return false;
    case 'int':
    case 'float':
    case 'asn':
      return 0;
    case 'time':
      return null;
    case 'struct':
      return canonical(undefined, ty);
    default:
      return null;
  }
}

/** Go's omitempty test: false, 0, "", nil, and empty slices/maps. */
function isEmpty(v: unknown, ty: Ty): boolean {
  if (v === null || v === undefined) return true;
  // An interface is empty only when nil, whatever it holds.
  if (ty.t === 'any') return false;
  // metav1.Duration is a struct: omitempty never drops it.
  if (ty.t === 'duration') return false;
  if (ty.t === 'intOrString') return false;
  if (typeof v === 'string') return v === '';
  if (typeof v === 'number') return v === 0;
  if (typeof v === 'boolean') return v === false;
  if (Array.isArray(v)) return v.length === 0;
  if (ty.t === 'map') return Object.keys(v as object).length === 0;
  return false;
}
