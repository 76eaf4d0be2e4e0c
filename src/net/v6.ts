/*
 * IPv6 text <-> 128-bit bigint.
 *
 * Parsing follows Go's net/netip parseIPv6 (what net.ParseIP has used since Go 1.22), minus zones, which
 * net.ParseIP refuses ("fe80::1%eth0" is not an IP for Calico). Tricky bits, all Go's:
 *  - each group is 1..4 hex digits, either case ("00001::" is refused: five digits);
 *  - "::" stands for at least one zero group, at most once; "1:2:3:4:5:6:7:8::" and "::1:2:3:4:5:6:7:8" are refused,
 *    "1:2:3:4:5:6:7::" is fine (the "::" is one group);
 *  - a dotted IPv4 tail may replace the last two groups only ("::1.2.3.4", "1:2:3:4:5:6:1.2.3.4"), never in the
 *    middle ("::1.2.3.4:5"), and follows the IPv4 rules (no leading zeros);
 *  - no leading or trailing single colon (":1::", "1::2:").
 * Formatting is RFC 5952 as Go prints it: lowercase, no leading zeros in a group, the longest run of two or more
 * zero groups becomes "::" (the first such run on a tie), a single zero group stays "0".
 * Deciding that a value is IPv4-mapped (::ffff:a.b.c.d) and must be shown as IPv4 is the caller's job (ip.ts).
 */

import { v4ParseRange } from './v4.js';

export const V6_MAX = (1n << 128n) - 1n;

const HEX = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) HEX[48 + i] = i;
for (let i = 0; i < 6; i++) {
  HEX[65 + i] = 10 + i;
  HEX[97 + i] = 10 + i;
}

function hexDigit(c: number): number {
  return c < 128 ? (HEX[c] as number) : -1;
}

/** Parses IPv6 text (no zone). Returns the 128-bit value, or undefined when invalid. Never throws. */
export function v6Parse(s: string): bigint | undefined {
  const n = s.length;
  const g = [0, 0, 0, 0, 0, 0, 0, 0];
  let i = 0; // next group to fill
  let ellipsis = -1; // group index where "::" stands
  let p = 0; // read position in s

  if (n >= 2 && s.charCodeAt(0) === 58 && s.charCodeAt(1) === 58) {
    ellipsis = 0;
    p = 2;
    if (p === n) return 0n;
  }

  while (i < 8) {
    const start = p;
    let acc = 0;
    for (; p < n; p++) {
      const d = hexDigit(s.charCodeAt(p));
      if (d < 0) break;
      if (p - start === 4) return undefined; // a fifth hex digit
      acc = acc * 16 + d;
    }
    if (p === start) return undefined; // a group needs at least one digit

    if (p < n && s.charCodeAt(p) === 46 /* . */) {
      // Dotted IPv4 tail: re-read this group as the first IPv4 field.
      if (ellipsis < 0 && i !== 6) return undefined; // must replace exactly the final two groups
      if (i + 2 > 8) return undefined;
      const v4 = v4ParseRange(s, start, n);
      if (v4 < 0) return undefined;
      g[i] = Math.floor(v4 / 65536);
      g[i + 1] = v4 % 65536;
      i += 2;
      p = n;
      break;
    }

    g[i++] = acc;
    if (p === n) break;
    if (s.charCodeAt(p) !== 58 /* : */) return undefined;
    if (p + 1 === n) return undefined; // trailing single colon
    p++;
    if (s.charCodeAt(p) === 58) {
      if (ellipsis >= 0) return undefined; // a second "::"
      ellipsis = i;
      p++;
      if (p === n) break;
    }
  }
  if (p !== n) return undefined; // groups left over after the eighth

  if (i < 8) {
    if (ellipsis < 0) return undefined; // too short
    const shift = 8 - i;
    for (let j = i - 1; j >= ellipsis; j--) g[j + shift] = g[j] as number;
    for (let j = ellipsis; j < ellipsis + shift; j++) g[j] = 0;
  } else if (ellipsis >= 0) {
    return undefined; // "::" must stand for at least one group
  }
  return groupsToBigint(g);
}

function groupsToBigint(g: number[]): bigint {
  const w = (k: number) => BigInt(((g[k] as number) * 65536 + (g[k + 1] as number)) >>> 0);
  return (w(0) << 96n) | (w(2) << 64n) | (w(4) << 32n) | w(6);
}

/** The eight 16-bit groups of a 128-bit value, most significant first. */
export function v6Groups(b: bigint): number[] {
  const g: number[] = new Array<number>(8);
  for (let k = 0; k < 4; k++) {
    const w = Number((b >> BigInt(96 - 32 * k)) & 0xffffffffn);
    g[2 * k] = w >>> 16;
    g[2 * k + 1] = w & 0xffff;
  }
  return g;
}

/** RFC 5952 text of a 128-bit value, as Go prints a non-IPv4-mapped IPv6 address. */
export function v6Format(b: bigint): string {
  const g = v6Groups(b);
  // Longest run of >= 2 zero groups; the first one wins a tie.
  let zs = -1;
  let ze = -1;
  for (let i = 0; i < 8; i++) {
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i >= 2 && j - i > ze - zs) {
      zs = i;
      ze = j;
    }
    if (j > i) i = j;
  }
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i === zs) {
      out += '::';
      i = ze - 1;
      continue;
    }
    if (i > 0 && i !== ze) out += ':';
    out += (g[i] as number).toString(16);
  }
  return out;
}

/** The 128-bit netmask of a /len (len must be an integer in 0..128; checked by callers). */
export function v6Mask(len: number): bigint {
  return len === 0 ? 0n : V6_MAX ^ ((1n << BigInt(128 - len)) - 1n);
}
