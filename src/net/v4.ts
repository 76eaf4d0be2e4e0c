/*
 * IPv4 as plain numbers: the hot-path helpers.
 *
 * An IPv4 address here is a uint32 held in a JS number (0 .. 2^32-1), never an object, so that the BGP engine can
 * keep millions of prefixes as (number, length) pairs. Tricky bits:
 *  - JS bitwise operators yield *signed* int32; every result that leaves this file goes through `>>> 0`.
 *  - Shifts are taken mod 32, so `x << 32` is `x`: the /0 mask is special-cased.
 *  - The dotted-quad grammar is Go's (net/netip parseIPv4Fields, used by net.ParseIP since Go 1.17 / 1.22):
 *    exactly four decimal fields, each 0..255, no leading zeros ("010.0.0.1" and "00.1.2.3" are refused, "0" is
 *    fine), no signs, no spaces, no other characters. There is no "1.2.3" shorthand and no hex or octal.
 *  - The same field parser reads the dotted tail of an IPv6 address ("::ffff:1.2.3.4"), hence `v4ParseRange`.
 */

import { NetError } from './errors.js';

/**
 * Parses a dotted quad. Returns the address as a uint32, or **-1** when `s` is not a valid IPv4 address (this
 * function never throws: it sits on hot paths; use `IP.parse` for an error with a code).
 */
export function v4Parse(s: string): number {
  return v4ParseRange(s, 0, s.length);
}

/** As `v4Parse`, over `s[start, end)`. Returns -1 when invalid. */
export function v4ParseRange(s: string, start: number, end: number): number {
  let acc = 0; // the fields already closed by a dot
  let val = 0; // the field being read
  let digits = 0; // digits in the field being read
  let dots = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (digits === 1 && val === 0) return -1; // leading zero
      val = val * 10 + (c - 48);
      if (val > 255) return -1;
      digits++;
    } else if (c === 46 /* . */) {
      if (digits === 0 || dots === 3) return -1; // empty field, or a fifth field
      acc = acc * 256 + val;
      dots++;
      val = 0;
      digits = 0;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0) return -1;
  return acc * 256 + val; // plain arithmetic: stays unsigned
}

/**
 * Formats a uint32 as a dotted quad. `n` is taken modulo 2^32 (`n >>> 0`), so a signed int32 from a bitwise
 * expression prints as the address it denotes; pass integers only.
 */
export function v4Format(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** The uint32 netmask of a /len. Throws NetError INVALID_PREFIX_LENGTH unless len is an integer in 0..32. */
export function v4Mask(len: number): number {
  if (!Number.isInteger(len) || len < 0 || len > 32) {
    throw new NetError('INVALID_PREFIX_LENGTH', len, `IPv4 prefix length must be an integer in 0..32, got ${len}`);
  }
  return len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
}

/** True when uint32 `addr` lies in the network (uint32 `net`, length `len`). `net` must be masked. */
export function v4Contains(net: number, len: number, addr: number): boolean {
  return len === 0 || (addr & (0xffffffff << (32 - len))) >>> 0 === net;
}
