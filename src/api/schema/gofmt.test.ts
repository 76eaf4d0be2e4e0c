/**
 * Go's time.ParseDuration and Duration.String() (Go 1.25 time/format.go, time/time.go):
 * expected values are what Go prints, derived from those algorithms.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DurationError, formatGoDuration, parseGoDuration } from './gofmt.js';

const roundTrip = (s: string) => formatGoDuration(parseGoDuration(s));
const parseError = (s: string): string => {
  try {
    parseGoDuration(s);
  } catch (e) {
    assert.ok(e instanceof DurationError, `expected a DurationError for ${JSON.stringify(s)}`);
    return e.message;
  }
  assert.fail(`expected ${JSON.stringify(s)} to be refused`);
};

const MAX = (1n << 63n) - 1n;
const MIN = -(1n << 63n);

test('parse: units and their nanosecond values', () => {
  assert.equal(parseGoDuration('1ns'), 1n);
  assert.equal(parseGoDuration('1us'), 1000n);
  assert.equal(parseGoDuration('1\u00b5s'), 1000n); // micro sign
  assert.equal(parseGoDuration('1\u03bcs'), 1000n); // Greek mu
  assert.equal(parseGoDuration('1ms'), 1_000_000n);
  assert.equal(parseGoDuration('1s'), 1_000_000_000n);
  assert.equal(parseGoDuration('1m'), 60_000_000_000n);
  assert.equal(parseGoDuration('1h'), 3_600_000_000_000n);
});

test('parse: signs, zero, fractions, several components', () => {
  assert.equal(parseGoDuration('0'), 0n);
  assert.equal(parseGoDuration('-0'), 0n);
  assert.equal(parseGoDuration('+0'), 0n);
  assert.equal(parseGoDuration('0s'), 0n);
  assert.equal(parseGoDuration('+5s'), 5_000_000_000n);
  assert.equal(parseGoDuration('-1m30s'), -90_000_000_000n);
  assert.equal(parseGoDuration('1.5s'), 1_500_000_000n);
  assert.equal(parseGoDuration('.5s'), 500_000_000n);
  assert.equal(parseGoDuration('1.s'), 1_000_000_000n);
  assert.equal(parseGoDuration('1h1m1s1ms1us1ns'), 3_661_001_001_001n);
  assert.equal(parseGoDuration('1s1s'), 2_000_000_000n);
  assert.equal(parseGoDuration('1.000000001s'), 1_000_000_001n);
  // Fractions beyond nanoseconds are truncated.
  assert.equal(parseGoDuration('1.9999999999s'), 1_999_999_999n);
  assert.equal(parseGoDuration('0.1ns'), 0n);
});

test('parse: fractions use float64 arithmetic and stop accumulating digits near 2^63, as Go does', () => {
  // Go: f=3333333333333333333 (19 digits kept), scale=1e19, v += uint64(float64(f) * (3.6e12 / 1e19)) = 1200000000000.
  assert.equal(parseGoDuration('0.3333333333333333333333h'), 1_200_000_000_000n);
  assert.equal(roundTrip('0.3333333333333333333333h'), '20m0s');
});

test('parse: the int64 limits', () => {
  assert.equal(parseGoDuration('9223372036854775807ns'), MAX);
  assert.equal(parseGoDuration('2562047h47m16.854775807s'), MAX);
  // 1<<63 is accepted only with a minus sign.
  assert.equal(parseGoDuration('-9223372036854775808ns'), MIN);
  assert.equal(parseError('9223372036854775808ns'), 'time: invalid duration "9223372036854775808ns"');
  assert.equal(parseError('2562048h'), 'time: invalid duration "2562048h"');
  assert.equal(parseError('9223372036854775807ns1ns'), 'time: invalid duration "9223372036854775807ns1ns"');
});

test('parse errors: Go messages', () => {
  assert.equal(parseError(''), 'time: invalid duration ""');
  assert.equal(parseError('x'), 'time: invalid duration "x"');
  assert.equal(parseError('-'), 'time: invalid duration "-"');
  assert.equal(parseError('+'), 'time: invalid duration "+"');
  assert.equal(parseError('.s'), 'time: invalid duration ".s"');
  assert.equal(parseError('-.s'), 'time: invalid duration "-.s"');
  // The unit runs to the next digit or '.', so "h-" is the unit here.
  assert.equal(parseError('1h-1m'), 'time: unknown unit "h-" in duration "1h-1m"');
  assert.equal(parseError('1h.'), 'time: invalid duration "1h."');
  assert.equal(parseError('s'), 'time: invalid duration "s"');
  assert.equal(parseError('1'), 'time: missing unit in duration "1"');
  assert.equal(parseError('00'), 'time: missing unit in duration "00"');
  assert.equal(parseError('1.5'), 'time: missing unit in duration "1.5"');
  assert.equal(parseError('1..5s'), 'time: missing unit in duration "1..5s"');
  assert.equal(parseError('1h30'), 'time: missing unit in duration "1h30"');
  assert.equal(parseError('1x'), 'time: unknown unit "x" in duration "1x"');
  assert.equal(parseError('1 s'), 'time: unknown unit " s" in duration "1 s"');
  assert.equal(parseError('1sec'), 'time: unknown unit "sec" in duration "1sec"');
  assert.equal(parseError('1e3s'), 'time: unknown unit "e" in duration "1e3s"');
  assert.equal(parseError('1S'), 'time: unknown unit "S" in duration "1S"');
  assert.equal(parseError('1d'), 'time: unknown unit "d" in duration "1d"');
});

test('parse errors: a leading integer that overflows is "invalid", before the unit is looked at', () => {
  assert.equal(parseError('99999999999999999999'), 'time: invalid duration "99999999999999999999"');
  assert.equal(parseError('99999999999999999999s'), 'time: invalid duration "99999999999999999999s"');
});

test('parse errors: time.quote escapes non-ASCII and control bytes as \\x.., and " and \\', () => {
  assert.equal(parseError('1\u00b5'), 'time: unknown unit "\\xc2\\xb5" in duration "1\\xc2\\xb5"');
  assert.equal(parseError('1\n'), 'time: unknown unit "\\x0a" in duration "1\\x0a"');
  assert.equal(parseError('1"s'), 'time: unknown unit "\\"s" in duration "1\\"s"');
  assert.equal(parseError('1\\s'), 'time: unknown unit "\\\\s" in duration "1\\\\s"');
  assert.equal(parseError('\u00e9'), 'time: invalid duration "\\xc3\\xa9"');
});

test('format: Duration.String()', () => {
  assert.equal(formatGoDuration(0n), '0s');
  assert.equal(formatGoDuration(1n), '1ns');
  assert.equal(formatGoDuration(999n), '999ns');
  assert.equal(formatGoDuration(1000n), '1\u00b5s');
  assert.equal(formatGoDuration(1500n), '1.5\u00b5s');
  assert.equal(formatGoDuration(1_000_000n), '1ms');
  assert.equal(formatGoDuration(1_500_000n), '1.5ms');
  assert.equal(formatGoDuration(999_999_999n), '999.999999ms');
  assert.equal(formatGoDuration(1_000_000_000n), '1s');
  assert.equal(formatGoDuration(1_000_000_001n), '1.000000001s');
  assert.equal(formatGoDuration(60_000_000_000n), '1m0s');
  assert.equal(formatGoDuration(90_000_000_000n), '1m30s');
  assert.equal(formatGoDuration(3_600_000_000_000n), '1h0m0s');
  assert.equal(formatGoDuration(3_661_500_000_000n), '1h1m1.5s');
  assert.equal(formatGoDuration(-1n), '-1ns');
  assert.equal(formatGoDuration(-1500n), '-1.5\u00b5s');
  assert.equal(formatGoDuration(-90_000_000_000n), '-1m30s');
  assert.equal(formatGoDuration(MAX), '2562047h47m16.854775807s');
  assert.equal(formatGoDuration(MIN), '-2562047h47m16.854775808s');
});

test('round trips as metav1.Duration stores them', () => {
  const cases: [string, string][] = [
    ['1h', '1h0m0s'],
    ['60m', '1h0m0s'],
    ['90s', '1m30s'],
    ['1.5s', '1.5s'],
    ['1500ms', '1.5s'],
    ['100ms', '100ms'],
    ['0.1s', '100ms'],
    ['1us', '1\u00b5s'],
    ['1\u00b5s', '1\u00b5s'],
    ['1000ns', '1\u00b5s'],
    ['-1m30s', '-1m30s'],
    ['-90s', '-1m30s'],
    ['1.5h', '1h30m0s'],
    ['120s', '2m0s'],
    ['0', '0s'],
    ['0ms', '0s'],
    ['24h', '24h0m0s'],
  ];
  for (const [input, want] of cases) assert.equal(roundTrip(input), want, input);
});
