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

const TWO63 = 1n << 63n;

export class DurationError extends Error {
  readonly code = 'INVALID_DURATION' as const;
}

/**
 * Go's time.quote (used in time's error messages): double quotes, `"` and `\` escaped, and every
 * byte of a non-ASCII or control character written as `\xNN` (not strconv.Quote's escapes).
 */
export function goTimeQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c >= 0x80 || c < 0x20) {
      for (const b of Buffer.from(ch, 'utf8')) out += `\\x${b.toString(16).padStart(2, '0')}`;
    } else {
      if (ch === '"' || ch === '\\') out += '\\';
      out += ch;
    }
  }
  return out + '"';
}

const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';

/**
 * time.ParseDuration, step for step: returns nanoseconds, or throws with Go's message. Like Go,
 * the integer part is accumulated in a uint64 (overflow is "invalid"), the fraction keeps the
 * digits that fit and is scaled with float64 arithmetic, and 1<<63 ns is only valid negated.
 */
export function parseGoDuration(s: string): bigint {
  const orig = s;
  const invalid = () => new DurationError(`time: invalid duration ${goTimeQuote(orig)}`);
  let d = 0n;
  let neg = false;
  if (s !== '' && (s[0] === '-' || s[0] === '+')) {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0n;
  if (s === '') throw invalid();
  while (s !== '') {
    if (!(s[0] === '.' || isDigit(s[0]))) throw invalid();
    // leadingInt
    let v = 0n;
    let i = 0;
    for (; i < s.length && isDigit(s[i]); i++) {
      if (v > TWO63 / 10n) throw invalid();
      v = v * 10n + BigInt(s.charCodeAt(i) - 48);
      if (v > TWO63) throw invalid();
    }
    const pre = i > 0;
    s = s.slice(i);
    // leadingFraction
    let f = 0n;
    let scale = 1;
    let post = false;
    if (s !== '' && s[0] === '.') {
      s = s.slice(1);
      let j = 0;
      let overflow = false;
      for (; j < s.length && isDigit(s[j]); j++) {
        if (overflow) continue;
        if (f > (TWO63 - 1n) / 10n) {
          overflow = true;
          continue;
        }
        const y = f * 10n + BigInt(s.charCodeAt(j) - 48);
        if (y > TWO63) {
          overflow = true;
          continue;
        }
        f = y;
        scale *= 10;
      }
      post = j > 0;
      s = s.slice(j);
    }
    if (!pre && !post) throw invalid();
    // The unit: everything up to the next '.' or digit.
    let k = 0;
    while (k < s.length && s[k] !== '.' && !isDigit(s[k])) k++;
    if (k === 0) throw new DurationError(`time: missing unit in duration ${goTimeQuote(orig)}`);
    const u = s.slice(0, k);
    s = s.slice(k);
    const unit = UNIT_NS[u];
    if (unit === undefined) throw new DurationError(`time: unknown unit ${goTimeQuote(u)} in duration ${goTimeQuote(orig)}`);
    if (v > TWO63 / unit) throw invalid();
    v *= unit;
    if (f > 0n) {
      // float64 is what Go uses here, so fractions round as Go's do.
      v += BigInt(Math.trunc(Number(f) * (Number(unit) / scale)));
      if (v > TWO63) throw invalid();
    }
    d += v;
    if (d > TWO63) throw invalid();
  }
  if (neg) return -d;
  if (d > TWO63 - 1n) throw invalid();
  return d;
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

export class TimeParseError extends Error {
  readonly code = 'INVALID_TIME' as const;
}

const RFC3339 = '2006-01-02T15:04:05Z07:00';

/** The layout of time.RFC3339 as Go's nextStdChunk cuts it: literal prefixes and std elements. */
const RFC3339_CHUNKS: readonly [prefix: string, std: string][] = [
  ['', '2006'],
  ['-', '01'],
  ['-', '02'],
  ['T', '15'],
  [':', '04'],
  [':', '05'],
  ['', 'Z07:00'],
];

/** getnum: one or two digits (exactly two when `fixed`). */
function getnum(s: string, fixed: boolean): [number, string] | undefined {
  if (!isDigit(s[0])) return undefined;
  if (!isDigit(s[1])) return fixed ? undefined : [s.charCodeAt(0) - 48, s.slice(1)];
  return [(s.charCodeAt(0) - 48) * 10 + (s.charCodeAt(1) - 48), s.slice(2)];
}

const daysIn = (month: number, year: number): number =>
  month === 2 ? (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28) : [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;

/** Go's appendInt(b, x, width): zero-padded to `width` digits, a leading '-' for negatives. */
const padInt = (x: number, width: number) => (x < 0 ? '-' : '') + String(Math.abs(x)).padStart(width, '0');

/**
 * time.Parse(time.RFC3339, s) as metav1.Time.UnmarshalJSON calls it, then MarshalJSON's
 * `t.UTC().Format(time.RFC3339)`: returns the normalised UTC string (fractional seconds dropped),
 * or throws TimeParseError with Go's ParseError text. Go's general parser is used for errors
 * (and is lenient in the same places: a one-digit hour, `,` before fractional seconds).
 */
export function parseGoRFC3339(value: string): string {
  const avalue = value;
  const cannot = (layoutElem: string, valueElem: string) =>
    new TimeParseError(`parsing time ${goTimeQuote(avalue)} as ${goTimeQuote(RFC3339)}: cannot parse ${goTimeQuote(valueElem)} as ${goTimeQuote(layoutElem)}`);
  const outOfRange = (what: string) => new TimeParseError(`parsing time ${goTimeQuote(avalue)}: ${what} out of range`);
  let year = 0;
  let month = 0;
  let day = 0;
  let hour = 0;
  let min = 0;
  let sec = 0;
  let offset = 0;
  for (const [prefix, std] of RFC3339_CHUNKS) {
    // skip(value, prefix)
    for (const c of prefix) {
      if (value === '' || value[0] !== c) throw cannot(prefix, value);
      value = value.slice(1);
    }
    const hold = value;
    let ok = true;
    let range = '';
    switch (std) {
      case '2006':
        if (value.length < 4 || !isDigit(value[0]) || !/^\d{4}/.test(value)) ok = false;
        else [year, value] = [Number(value.slice(0, 4)), value.slice(4)];
        break;
      case '01': {
        const r = getnum(value, true);
        if (!r) ok = false;
        else {
          [month, value] = r;
          if (month <= 0 || month > 12) range = 'month';
        }
        break;
      }
      case '02': {
        const r = getnum(value, true);
        if (!r) ok = false;
        else [day, value] = r;
        break;
      }
      case '15': {
        const r = getnum(value, false);
        if (!r) ok = false;
        else [hour, value] = r;
        if (hour >= 24) range = 'hour';
        break;
      }
      case '04': {
        const r = getnum(value, true);
        if (!r) ok = false;
        else [min, value] = r;
        if (min >= 60) range = 'minute';
        break;
      }
      case '05': {
        const r = getnum(value, true);
        if (!r) {
          ok = false;
          break;
        }
        [sec, value] = r;
        if (sec >= 60) {
          range = 'second';
          break;
        }
        // A fractional second the layout does not mention is accepted (and dropped here).
        if (value.length >= 2 && (value[0] === '.' || value[0] === ',') && isDigit(value[1])) {
          let n = 2;
          while (n < value.length && isDigit(value[n])) n++;
          value = value.slice(n);
        }
        break;
      }
      case 'Z07:00': {
        if (value.length >= 1 && value[0] === 'Z') {
          value = value.slice(1);
          break;
        }
        if (value.length < 6 || value[3] !== ':') {
          ok = false;
          break;
        }
        const [sign, hh, mm] = [value[0], value.slice(1, 3), value.slice(4, 6)];
        value = value.slice(6);
        const hr = getnum(hh, true);
        const mn = hr ? getnum(mm, true) : undefined;
        if (!hr || !mn) {
          ok = false;
          break;
        }
        if (hr[0] > 24) range = 'time zone offset hour';
        if (mn[0] > 60) range = 'time zone offset minute';
        offset = (hr[0] * 60 + mn[0]) * 60;
        if (sign === '-') offset = -offset;
        else if (sign !== '+') ok = false;
        break;
      }
    }
    if (range) throw outOfRange(range);
    if (!ok) throw cannot(std, hold);
  }
  if (value !== '') throw new TimeParseError(`parsing time ${goTimeQuote(avalue)}: extra text: ${goTimeQuote(value)}`);
  if (day < 1 || day > daysIn(month, year)) throw outOfRange('day');
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, min, sec, 0);
  const t = new Date(d.getTime() - offset * 1000);
  const p2 = (n: number) => String(n).padStart(2, '0');
  return `${padInt(t.getUTCFullYear(), 4)}-${p2(t.getUTCMonth() + 1)}-${p2(t.getUTCDate())}T${p2(t.getUTCHours())}:${p2(t.getUTCMinutes())}:${p2(t.getUTCSeconds())}Z`;
}
