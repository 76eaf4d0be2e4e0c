/**
 * go-yaml v2 (go.yaml.in/yaml/v2 v2.4.x, what sigs.k8s.io/yaml v1.6 uses) scalar resolution:
 * which Go value a plain scalar's text becomes, and the two helpers the encoder uses to decide
 * whether a string must be quoted (`isBase60Float`, timestamps).
 *
 * The tricky parts, all reproduced on purpose:
 * - The first character picks the path (`resolveTable`): only `yYnNtTfFoO~` look up the fixed
 *   table (so `tRUE` and `<<` stay strings), only digits/signs try numbers, only `.` tries floats.
 * - Integers go through Go's `strconv.ParseInt(s, 0, 64)` *after every `_` is deleted*:
 *   `0x1F`, `0o17`, `0b101`, `017` (octal) and `+5` are ints; `08` is not an int but then matches
 *   the float regexp and becomes the float 8; values above int64 try uint64, then float.
 * - Floats must match yamlStyleFloat before `ParseFloat`; a value that overflows (`1e400`) is a
 *   string, not infinity. The `.`-led path calls ParseFloat directly (Go syntax, `_` allowed).
 * - Sexagesimal (`1:20`) stays a string when read but is quoted when written.
 * - Timestamps resolve to a timestamp tag (the decoder keeps the text as a string), using the
 *   exact `time.Parse` semantics of the four layouts go-yaml tries — `2019-02-30` is *not* one.
 */

import { ResolveError } from './errors.js';

export const LONG_TAG_PREFIX = 'tag:yaml.org,2002:';
export const TAG = {
  str: `${LONG_TAG_PREFIX}str`,
  bool: `${LONG_TAG_PREFIX}bool`,
  int: `${LONG_TAG_PREFIX}int`,
  float: `${LONG_TAG_PREFIX}float`,
  null: `${LONG_TAG_PREFIX}null`,
  timestamp: `${LONG_TAG_PREFIX}timestamp`,
  binary: `${LONG_TAG_PREFIX}binary`,
  merge: `${LONG_TAG_PREFIX}merge`,
  map: `${LONG_TAG_PREFIX}map`,
  seq: `${LONG_TAG_PREFIX}seq`,
} as const;

/** A Go value as go-yaml's resolve() returns it. `int` covers Go int (64-bit); `uint` is uint64. */
export type Resolved =
  | { kind: 'null' }
  | { kind: 'bool'; value: boolean }
  | { kind: 'int'; value: bigint }
  | { kind: 'uint'; value: bigint }
  | { kind: 'float'; value: number }
  | { kind: 'str'; value: string }
  | { kind: 'timestamp'; value: string };

export { ResolveError };

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const UINT64_MAX = (1n << 64n) - 1n;

const FIXED = new Map<string, Resolved>();
for (const s of ['y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON']) FIXED.set(s, { kind: 'bool', value: true });
for (const s of ['n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF']) FIXED.set(s, { kind: 'bool', value: false });
for (const s of ['', '~', 'null', 'Null', 'NULL']) FIXED.set(s, { kind: 'null' });
for (const s of ['.nan', '.NaN', '.NAN']) FIXED.set(s, { kind: 'float', value: NaN });
for (const s of ['.inf', '.Inf', '.INF', '+.inf', '+.Inf', '+.INF']) FIXED.set(s, { kind: 'float', value: Infinity });
for (const s of ['-.inf', '-.Inf', '-.INF']) FIXED.set(s, { kind: 'float', value: -Infinity });
// go-yaml's table also maps "<<" to !!merge, but '<' has no hint, so that entry is unreachable:
// "<<" resolves to a plain string (merge keys are recognised by the decoder, not here).

/** resolveTable: the hint for a scalar's first byte (0 = definitely a string). */
function hintOf(s: string): string {
  if (s === '') return 'N';
  const c = s[0]!;
  if (c === '+' || c === '-') return 'S';
  if (c >= '0' && c <= '9') return 'D';
  if ('yYnNtTfFoO~'.includes(c)) return 'M';
  if (c === '.') return '.';
  return '';
}

export function shortTag(tag: string): string {
  return tag.startsWith(LONG_TAG_PREFIX) ? `!!${tag.slice(LONG_TAG_PREFIX.length)}` : tag;
}

function tagOf(r: Resolved): string {
  switch (r.kind) {
    case 'null': return TAG.null;
    case 'bool': return TAG.bool;
    case 'int': case 'uint': return TAG.int;
    case 'float': return TAG.float;
    case 'str': return TAG.str;
    case 'timestamp': return TAG.timestamp;
  }
}

const RESOLVABLE = new Set<string>(['', TAG.str, TAG.bool, TAG.int, TAG.float, TAG.null, TAG.timestamp]);

/**
 * go-yaml v2 `resolve(tag, in)`. `tag` is '' for an untagged plain scalar, else the long tag.
 * Returns null for tags go-yaml does not resolve (custom tags, !!binary): the caller keeps the text.
 */
export function goResolve(tag: string, input: string): Resolved | null {
  if (!RESOLVABLE.has(tag)) return null;
  const out = resolveInner(tag, input);
  if (tag === '' || tag === TAG.str) return out;
  const rtag = tagOf(out);
  if (rtag === tag) return out;
  // !!float accepts an int (Go int/int64, not uint64) and converts it.
  if (tag === TAG.float && out.kind === 'int') return { kind: 'float', value: Number(out.value) };
  throw new ResolveError(`cannot decode ${shortTag(rtag)} \`${input}\` as a ${shortTag(tag)}`);
}

function resolveInner(tag: string, input: string): Resolved {
  const hint = hintOf(input);
  if (hint === '' || tag === TAG.str) return { kind: 'str', value: input };
  const fixed = FIXED.get(input);
  if (fixed) return fixed;
  if (hint === '.') {
    const f = goParseFloat(input);
    if (f !== null) return { kind: 'float', value: f };
  } else if (hint === 'D' || hint === 'S') {
    if ((tag === '' || tag === TAG.timestamp) && isGoYamlTimestamp(input)) return { kind: 'timestamp', value: input };
    const plain = input.replaceAll('_', '');
    const i = goParseInt(plain);
    if (i !== null) return { kind: 'int', value: i };
    const u = goParseUint(plain);
    if (u !== null) return { kind: 'uint', value: u };
    if (YAML_STYLE_FLOAT.test(plain)) {
      const f = goParseFloat(plain);
      if (f !== null) return { kind: 'float', value: f };
    }
    // go-yaml's explicit 0b/-0b branches are already covered by ParseInt's base prefix.
  }
  return { kind: 'str', value: input };
}

const YAML_STYLE_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;

/** strconv.ParseUint(s, 0, 64) for input without underscores; null on any error. */
export function goParseUint(s: string): bigint | null {
  if (s === '') return null;
  let base = 10;
  let digits = s;
  if (s[0] === '0') {
    const p = s.length >= 3 ? s[1]!.toLowerCase() : '';
    if (p === 'b') { base = 2; digits = s.slice(2); }
    else if (p === 'o') { base = 8; digits = s.slice(2); }
    else if (p === 'x') { base = 16; digits = s.slice(2); }
    else { base = 8; digits = s.slice(1); }
  }
  let n = 0n;
  const b = BigInt(base);
  for (const ch of digits) {
    const c = ch.toLowerCase();
    let d: number;
    if (c >= '0' && c <= '9') d = c.charCodeAt(0) - 48;
    else if (c >= 'a' && c <= 'z') d = c.charCodeAt(0) - 87;
    else return null;
    if (d >= base) return null;
    n = n * b + BigInt(d);
    if (n > UINT64_MAX) return null;
  }
  return n;
}

/** strconv.ParseInt(s, 0, 64) for input without underscores; null on any error. */
export function goParseInt(s: string): bigint | null {
  if (s === '') return null;
  let neg = false;
  let rest = s;
  if (s[0] === '+') rest = s.slice(1);
  else if (s[0] === '-') { neg = true; rest = s.slice(1); }
  const u = goParseUint(rest);
  if (u === null) return null;
  const v = neg ? -u : u;
  return v < INT64_MIN || v > INT64_MAX ? null : v;
}

/** strconv's underscoreOK: `_` only between digits (or after a base prefix). */
function underscoreOK(str: string): boolean {
  let s = str;
  let saw = '^';
  let i = 0;
  if (s.length >= 1 && (s[0] === '-' || s[0] === '+')) s = s.slice(1);
  let hex = false;
  if (s.length >= 2 && s[0] === '0' && 'box'.includes(s[1]!.toLowerCase())) {
    i = 2;
    saw = '0';
    hex = s[1]!.toLowerCase() === 'x';
  }
  for (; i < s.length; i++) {
    const c = s[i]!;
    if ((c >= '0' && c <= '9') || (hex && c.toLowerCase() >= 'a' && c.toLowerCase() <= 'f')) { saw = '0'; continue; }
    if (c === '_') {
      if (saw !== '0') return false;
      saw = '_';
      continue;
    }
    if (saw === '_') return false;
    saw = '!';
  }
  return saw !== '_';
}

/**
 * strconv.ParseFloat(s, 64) restricted to decimal syntax (the only syntax either go-yaml call
 * site can reach): optional sign, digits with at most one '.', optional exponent, `_` per Go
 * rules. Overflow is an error (null), underflow gives 0 — as in Go.
 */
export function goParseFloat(s: string): number | null {
  let i = 0;
  let underscores = false;
  if (s[i] === '+' || s[i] === '-') i++;
  let sawdot = false;
  let sawdigits = false;
  for (; i < s.length; i++) {
    const c = s[i]!;
    if (c === '_') { underscores = true; continue; }
    if (c === '.') { if (sawdot) break; sawdot = true; continue; }
    if (c >= '0' && c <= '9') { sawdigits = true; continue; }
    break;
  }
  if (!sawdigits) return null;
  if (i < s.length && (s[i] === 'e' || s[i] === 'E')) {
    i++;
    if (i >= s.length) return null;
    if (s[i] === '+' || s[i] === '-') i++;
    if (i >= s.length || s[i]! < '0' || s[i]! > '9') return null;
    for (; i < s.length && ((s[i]! >= '0' && s[i]! <= '9') || s[i] === '_'); i++) if (s[i] === '_') underscores = true;
  }
  if (i !== s.length) return null;
  if (underscores && !underscoreOK(s)) return null;
  const v = Number(s.replaceAll('_', ''));
  return Number.isFinite(v) ? v : null;
}

const BASE60_FLOAT = /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$/;

/** encode.go isBase60Float: such strings are written quoted for YAML 1.1 parsers' sake. */
export function isBase60Float(s: string): boolean {
  if (s === '') return false;
  const c = s[0]!;
  if (!(c === '+' || c === '-' || (c >= '0' && c <= '9')) || !s.includes(':')) return false;
  return BASE60_FLOAT.test(s);
}

// ---------------------------------------------------------------------------------------------
// Timestamps: go-yaml's parseTimestamp = quick check, then Go time.Parse with four layouts.

type Layout = ReadonlyArray<string>;
// Each layout as a sequence of Go time-format chunks: literal text or a std code.
const LAYOUTS: Layout[] = [
  ['Y', '-', 'M', '-', 'D', 'T', 'h', ':', 'm', ':', 's', 'F', 'Z'], // 2006-1-2T15:4:5.999999999Z07:00
  ['Y', '-', 'M', '-', 'D', 't', 'h', ':', 'm', ':', 's', 'F', 'Z'], // 2006-1-2t15:4:5.999999999Z07:00
  ['Y', '-', 'M', '-', 'D', ' ', 'h', ':', 'm', ':', 's', 'F'], // 2006-1-2 15:4:5.999999999
  ['Y', '-', 'M', '-', 'D'], // 2006-1-2
];

const isDigitAt = (s: string, i: number): boolean => i < s.length && s[i]! >= '0' && s[i]! <= '9';

/** time.getnum(s, false): one or two digits. */
function getnum(s: string): [number, string] | null {
  if (!isDigitAt(s, 0)) return null;
  if (!isDigitAt(s, 1)) return [s.charCodeAt(0) - 48, s.slice(1)];
  return [(s.charCodeAt(0) - 48) * 10 + (s.charCodeAt(1) - 48), s.slice(2)];
}

/** time.skip: literal layout text; a space matches one or more spaces (or the end). */
function skipLiteral(value: string, lit: string): string | null {
  let v = value;
  let p = lit;
  while (p.length > 0) {
    if (p[0] === ' ') {
      if (v.length > 0 && v[0] !== ' ') return null;
      p = p.replace(/^ +/, '');
      v = v.replace(/^ +/, '');
      continue;
    }
    if (v.length === 0 || v[0] !== p[0]) return null;
    p = p.slice(1);
    v = v.slice(1);
  }
  return v;
}

function daysIn(month: number, year: number): number {
  if (month === 2) return (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)) ? 29 : 28;
  return [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
}

function parseWithLayout(layout: Layout, input: string): boolean {
  let v = input;
  let year = 0;
  let month = -1;
  let day = -1;
  for (const chunk of layout) {
    switch (chunk) {
      case 'Y': {
        if (v.length < 4 || !/^[0-9]{4}/.test(v)) return false;
        year = Number(v.slice(0, 4));
        v = v.slice(4);
        break;
      }
      case 'M': case 'D': case 'h': case 'm': case 's': {
        const r = getnum(v);
        if (!r) return false;
        const [n, rest] = r;
        v = rest;
        if (chunk === 'M') { if (n <= 0 || n > 12) return false; month = n; }
        else if (chunk === 'D') day = n;
        else if (chunk === 'h') { if (n >= 24) return false; }
        else if (n >= 60) return false;
        break;
      }
      case 'F': {
        // stdFracSecond9: optional; '.' or ',' followed by any number of digits.
        if (v.length < 2 || (v[0] !== '.' && v[0] !== ',') || !isDigitAt(v, 1)) break;
        let i = 1;
        while (isDigitAt(v, i)) i++;
        v = v.slice(i);
        break;
      }
      case 'Z': {
        // stdISO8601ColonTZ: "Z", or ±hh:mm.
        if (v.length >= 1 && v[0] === 'Z') { v = v.slice(1); break; }
        if (v.length < 6 || v[3] !== ':') return false;
        const sign = v[0];
        const hh = v.slice(1, 3);
        const mm = v.slice(4, 6);
        if (!/^[0-9]{2}$/.test(hh) || !/^[0-9]{2}$/.test(mm)) return false;
        if (Number(hh) > 24 || Number(mm) > 60) return false;
        if (sign !== '+' && sign !== '-') return false;
        v = v.slice(6);
        break;
      }
      default: {
        const rest = skipLiteral(v, chunk);
        if (rest === null) return false;
        v = rest;
      }
    }
  }
  if (v.length !== 0) return false;
  if (month < 0) month = 1;
  if (day < 0) day = 1;
  return day >= 1 && day <= daysIn(month, year);
}

/** go-yaml parseTimestamp: does `s` resolve to !!timestamp? */
export function isGoYamlTimestamp(s: string): boolean {
  let i = 0;
  while (i < s.length && s[i]! >= '0' && s[i]! <= '9') i++;
  if (i !== 4 || i === s.length || s[i] !== '-') return false;
  return LAYOUTS.some((l) => parseWithLayout(l, s));
}

/** Would go-yaml's encoder write this string without quotes? (stringv's canUsePlain) */
export function resolvesToString(s: string): boolean {
  const r = resolveInner('', s);
  return r.kind === 'str' && !isBase60Float(s);
}
