/**
 * Go's number formatting, as the YAML and JSON printers need it:
 * - `formatFloatG`: strconv.FormatFloat(f, 'g', -1, 64|32) — shortest digits, %e when the
 *   exponent is < -4 or >= 6 (not 21 as in JavaScript), exponent with at least two digits.
 * - `jsonNumberText`: encoding/json's float64 encoding ('f' unless |x| < 1e-6 or >= 1e21,
 *   then 'e' with "e-07" cleaned to "e-7"); it equals JavaScript's String(x) except for -0.
 * - `yamlNumberText`: what sigs.k8s.io/yaml prints for a number. JSONToYAML re-reads the JSON
 *   text with go-yaml, so "12" is an int, "1e+21" or "1.5" a float64 printed with 'g', and an
 *   integer beyond uint64 becomes a float (18446744073709551616 → 1.8446744073709552e+19).
 *
 * Tricky: the shortest float32 digits for FormatFloat(…, 32) are found by trying precisions
 * 1..9; this can differ from Go's shortest-in-interval search at powers of two (see report).
 */

import { JsonValueError } from './errors.js';
import { goParseInt, goParseUint } from './resolve.js';

interface Digits { neg: boolean; digits: string; dp: number } // value = 0.digits × 10^dp

function shortestDigits(x: number, bits: 32 | 64): Digits {
  const neg = x < 0 || Object.is(x, -0);
  const a = Math.abs(x);
  if (a === 0) return { neg, digits: '', dp: 0 };
  let e: string;
  if (bits === 64) {
    e = a.toExponential();
  } else {
    const f = Math.fround(a);
    e = f.toExponential(8);
    for (let p = 1; p <= 9; p++) {
      const cand = f.toExponential(p - 1);
      if (Math.fround(Number(cand)) === f) { e = cand; break; }
    }
  }
  const m = /^(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(e);
  if (!m) throw new Error(`unexpected exponent form ${e}`);
  const digits = ((m[1] ?? '') + (m[2] ?? '')).replace(/0+$/, '') || '0';
  return { neg, digits, dp: Number(m[3]) + 1 };
}

function fmtE(d: Digits): string {
  let s = d.neg ? '-' : '';
  s += d.digits[0] ?? '0';
  if (d.digits.length > 1) s += '.' + d.digits.slice(1);
  const exp = d.digits.length === 0 ? 0 : d.dp - 1;
  const ae = Math.abs(exp);
  return `${s}e${exp < 0 ? '-' : '+'}${ae < 10 ? '0' : ''}${ae}`;
}

function fmtF(d: Digits, prec: number): string {
  let s = d.neg ? '-' : '';
  if (d.dp > 0) {
    const m = Math.min(d.digits.length, d.dp);
    s += d.digits.slice(0, m) + '0'.repeat(d.dp - m);
  } else {
    s += '0';
  }
  if (prec > 0) {
    s += '.';
    for (let i = 1; i <= prec; i++) {
      const j = d.dp + i - 1;
      s += j < 0 || j >= d.digits.length ? '0' : d.digits[j];
    }
  }
  return s;
}

/** strconv.FormatFloat(x, 'g', -1, bits). */
export function formatFloatG(x: number, bits: 32 | 64 = 64): string {
  if (Number.isNaN(x)) return 'NaN';
  const v = bits === 32 ? Math.fround(x) : x;
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  const d = shortestDigits(v, bits);
  const exp = d.dp - 1;
  if (d.digits.length > 0 && (exp < -4 || exp >= 6)) return fmtE(d);
  return fmtF(d, Math.max(d.digits.length - d.dp, 0));
}

/** go-yaml's floatv text: FormatFloat with .inf/-.inf/.nan. */
export function yamlFloatText(x: number, bits: 32 | 64 = 64): string {
  const s = formatFloatG(x, bits);
  return s === '+Inf' ? '.inf' : s === '-Inf' ? '-.inf' : s === 'NaN' ? '.nan' : s;
}

/** encoding/json's text for a float64 (or an integer held in a bigint). */
export function jsonNumberText(x: number | bigint): string {
  if (typeof x === 'bigint') return x.toString();
  if (!Number.isFinite(x)) throw new JsonValueError(`json: unsupported value: ${formatFloatG(x)}`);
  if (Object.is(x, -0)) return '-0';
  return String(x); // JS and Go agree on both the 'f' and the cleaned 'e' forms in these ranges
}

/** What sigs.k8s.io/yaml.Marshal prints for a JSON number. */
export function yamlNumberText(x: number | bigint): string {
  const text = jsonNumberText(x);
  if (/^-?[0-9]+$/.test(text)) {
    const i = goParseInt(text);
    if (i !== null) return i.toString();
    const u = goParseUint(text);
    if (u !== null) return u.toString();
  }
  return yamlFloatText(Number(text));
}
