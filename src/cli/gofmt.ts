/**
 * Go's `fmt` number verbs where calicoctl's output depends on them, exactly: `%.5g` of a count
 * (5 significant digits, exponent with at least two digits: `1.2089e+24`, `1e+05`) and `%.f`
 * (no decimals, ties to even: 62.5 → `62`). JavaScript's toPrecision/toFixed differ on both.
 */

/** `%.5g` of a non-negative or negative integer (counts and capacities, exact as bigint). */
export function goG5(v: bigint | number): string {
  let n = typeof v === 'bigint' ? v : BigInt(Math.trunc(v));
  const neg = n < 0n;
  if (neg) n = -n;
  let digits = n.toString();
  const sign = neg ? '-' : '';
  if (digits.length <= 5) return sign + digits;
  let exp = digits.length - 1;
  // round to 5 significant digits, ties to even on the exact value
  const head = digits.slice(0, 5);
  const rest = digits.slice(5);
  let m = BigInt(head);
  const half = '5' + '0'.repeat(rest.length - 1);
  if (rest > half || (rest === half && m % 2n === 1n)) m += 1n;
  digits = m.toString();
  if (digits.length > 5) {
    exp += 1;
    digits = digits.slice(0, 5);
  }
  if (exp < 5) return sign + digits + '0'.repeat(exp + 1 - digits.length);
  const mant = (digits[0]! + '.' + digits.slice(1)).replace(/\.?0+$/, '');
  return `${sign}${mant}e+${String(exp).padStart(2, '0')}`;
}

/** `%.f`: rounded to an integer, exact ties to even. */
export function goF0(x: number): string {
  const f = Math.floor(x);
  const d = x - f;
  let r: number;
  if (d > 0.5) r = f + 1;
  else if (d < 0.5) r = f;
  else r = f % 2 === 0 ? f : f + 1;
  return Object.is(r, -0) ? '0' : String(r);
}
