/**
 * Go formatting rules that leak into what users see: Duration parsing and printing
 * (metav1.Duration round-trips through time.Duration.String()).
 */

const UNIT_NS: Record<string, bigint> = {
  ns: 1n,
  us: 1000n,
  'µs': 1000n,
  'μs': 1000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

const MAX_DURATION = (1n << 63n) - 1n;

export class DurationError extends Error {
  readonly code = 'INVALID_DURATION' as const;
}

/** time.ParseDuration: returns nanoseconds, or throws with Go's message. */
export function parseGoDuration(s: string): bigint {
  const orig = s;
  const quoted = JSON.stringify(orig);
  let neg = false;
  if (s.startsWith('-') || s.startsWith('+')) {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0n;
  if (s === '') throw new DurationError(`time: invalid duration ${quoted}`);
  let total = 0n;
  while (s !== '') {
    // Integer part, optional fraction.
    const m = /^(\d*)(\.(\d*))?/.exec(s)!;
    const intPart = m[1]!;
    const frac = m[3] ?? '';
    if (intPart === '' && frac === '' ) throw new DurationError(`time: invalid duration ${quoted}`);
    if (intPart === '' && m[2] === undefined) throw new DurationError(`time: invalid duration ${quoted}`);
    s = s.slice(m[0].length);
    const u = /^[^\d.]+/.exec(s);
    if (!u) throw new DurationError(`time: missing unit in duration ${quoted}`);
    const unit = UNIT_NS[u[0]];
    if (unit === undefined) throw new DurationError(`time: unknown unit ${JSON.stringify(u[0])} in duration ${quoted}`);
    s = s.slice(u[0].length);
    let v = BigInt(intPart || '0') * unit;
    if (frac) {
      // Fraction scaled by the unit, truncated to nanoseconds (Go rounds down too).
      const scale = 10n ** BigInt(frac.length);
      v += (BigInt(frac) * unit) / scale;
    }
    total += v;
    if (total > MAX_DURATION) throw new DurationError(`time: invalid duration ${quoted}`);
  }
  return neg ? -total : total;
}

/** time.Duration.String(). */
export function formatGoDuration(ns: bigint): string {
  if (ns === 0n) return '0s';
  const neg = ns < 0n;
  let u = neg ? -ns : ns;
  let out: string;
  if (u < 1_000_000_000n) {
    // Sub-second: ns, µs or ms with a fraction.
    let unit: string;
    let div: bigint;
    if (u < 1000n) return `${neg ? '-' : ''}${u}ns`;
    else if (u < 1_000_000n) [unit, div] = ['µs', 1000n];
    else [unit, div] = ['ms', 1_000_000n];
    out = fixed(u, div) + unit;
  } else {
    const h = u / 3_600_000_000_000n;
    u -= h * 3_600_000_000_000n;
    const m = u / 60_000_000_000n;
    u -= m * 60_000_000_000n;
    out = fixed(u, 1_000_000_000n) + 's';
    if (h > 0n) out = `${h}h${m}m${out}`;
    else if (m > 0n) out = `${m}m${out}`;
  }
  return (neg ? '-' : '') + out;
}

function fixed(v: bigint, div: bigint): string {
  const whole = v / div;
  let frac = (v % div).toString().padStart(div.toString().length - 1, '0').replace(/0+$/, '');
  return frac ? `${whole}.${frac}` : `${whole}`;
}
