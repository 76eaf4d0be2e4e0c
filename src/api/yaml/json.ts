/**
 * `emitJson`: Go's json.MarshalIndent(v, "", "  ") text for a value whose object keys are already
 * in the wanted order (Go sorts map keys and keeps struct field order; callers decide).
 *
 * Go specifics reproduced: HTML-safe escaping (`<` `>` `&` as \u003c \u003e \u0026), U+2028 and
 * U+2029 escaped, \b \f \n \r \t short escapes (Go ≥ 1.22) and \u00XX (lower-case hex) for other
 * control characters, DEL left as is, lone surrogates as \ufffd (Go's replacement of invalid
 * UTF-8), `[]`/`{}` for empty collections, floats as encoding/json prints float64 (1e+21, 1e-7,
 * -0), NaN/±Inf refused. No trailing newline.
 */

import { JsonValueError } from './errors.js';
import { jsonNumberText } from './gonum.js';

export { JsonValueError };

const SHORT: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** encoding/json's string encoding with escapeHTML. */
export function goJsonQuote(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    const c = s.charCodeAt(i);
    const short = SHORT[ch];
    if (short !== undefined) out += short;
    else if (c < 0x20 || ch === '<' || ch === '>' || ch === '&' || c === 0x2028 || c === 0x2029) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && s.charCodeAt(i + 1) >= 0xdc00 && s.charCodeAt(i + 1) <= 0xdfff) { out += ch + s[i + 1]; i++; }
    else if (c >= 0xd800 && c <= 0xdfff) out += '\\ufffd';
    else out += ch;
  }
  return out + '"';
}

function encode(v: unknown, indent: string): string {
  if (v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function') {
    v = (v as { toJSON: () => unknown }).toJSON();
  }
  if (v === null || v === undefined) return 'null';
  switch (typeof v) {
    case 'boolean': return v ? 'true' : 'false';
    case 'number': case 'bigint': return jsonNumberText(v);
    case 'string': return goJsonQuote(v);
    case 'object': {
      const inner = indent + '  ';
      if (Array.isArray(v)) {
        if (v.length === 0) return '[]';
        return `[\n${v.map((x) => inner + encode(x, inner)).join(',\n')}\n${indent}]`;
      }
      const obj = v as Record<string, unknown>;
      const keys = Object.keys(obj).filter((k) => obj[k] !== undefined && typeof obj[k] !== 'function');
      if (keys.length === 0) return '{}';
      return `{\n${keys.map((k) => `${inner}${goJsonQuote(k)}: ${encode(obj[k], inner)}`).join(',\n')}\n${indent}}`;
    }
    default:
      throw new JsonValueError(`json: unsupported type: ${typeof v}`);
  }
}

/** json.MarshalIndent(v, "", "  ") with keys in insertion order; no trailing newline. */
export function emitJson(value: unknown): string {
  return encode(value, '');
}
