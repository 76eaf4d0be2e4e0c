/*
 * NLRI fields: <length, prefix> tuples (RFC 4271 §4.3; RFC 4760 §5 for IPv6, RFC 2545).
 *
 * IPv4 is the hot path (STYLE 8): a tight loop straight from bytes into packed numbers (`p4`: addr * 64 + len),
 * no object or string per prefix. IPv6 prefixes become canonical text (types.ts Prefix6).
 * Trailing bits beyond the prefix length are ignored on receipt (RFC 4271 §4.3 "irrelevant") and masked away,
 * so every decoded prefix is canonical. Decoders return an error reason instead of throwing; the caller turns it
 * into the right NOTIFICATION (Invalid Network Field for the classic fields, Optional Attribute Error inside
 * MP_REACH/MP_UNREACH -- RFC 7606 §5.3: both end the session, since the NLRI cannot be found reliably).
 */

import type { Prefix4, Prefix6 } from '../types.js';
import { v6Format, v6Mask } from '../../net/index.js';
import { ip6Value, parseIp6, putIp6 } from './bytes.js';
import { WireError } from './errors.js';

/** MASK4[len]: the netmask of a /len as an int32 (sign bit and all). */
const MASK4 = new Int32Array(33);
for (let l = 1; l <= 32; l++) MASK4[l] = (0xffffffff << (32 - l)) | 0;

/** Appends the IPv4 prefixes in b[off, end) to `out`. Returns undefined, or why the field is malformed. */
export function decodeV4Prefixes(b: Uint8Array, off: number, end: number, out: Prefix4[]): string | undefined {
  let i = off;
  while (i < end) {
    const len = b[i]!;
    if (len > 32) return `IPv4 prefix length ${len} > 32 at offset ${i - off}`;
    const nb = (len + 7) >>> 3;
    if (i + 1 + nb > end) return `IPv4 prefix /${len} overruns the field at offset ${i - off}`;
    let a: number;
    switch (nb) {
      case 4:
        a = (b[i + 1]! << 24) | (b[i + 2]! << 16) | (b[i + 3]! << 8) | b[i + 4]!;
        break;
      case 3:
        a = (b[i + 1]! << 24) | (b[i + 2]! << 16) | (b[i + 3]! << 8);
        break;
      case 2:
        a = (b[i + 1]! << 24) | (b[i + 2]! << 16);
        break;
      case 1:
        a = b[i + 1]! << 24;
        break;
      default:
        a = 0;
    }
    out.push(((a & MASK4[len]!) >>> 0) * 64 + len);
    i += 1 + nb;
  }
  return undefined;
}

/** Encoded size of a packed IPv4 prefix: length octet + significant address octets. */
export function v4PrefixSize(p: Prefix4): number {
  return 1 + (((p % 64) + 7) >>> 3);
}

/** Checks a packed IPv4 prefix from local callers; throws WireError INVALID_PREFIX. */
export function checkV4Prefix(p: Prefix4): void {
  if (!Number.isInteger(p) || p < 0 || p % 64 > 32 || p >= 2 ** 38) {
    throw new WireError('INVALID_PREFIX', `not a packed IPv4 prefix (addr * 64 + len): ${p}`);
  }
}

/** Writes a packed IPv4 prefix at b[o]; returns the offset after it. Host bits are masked away. */
export function writeV4Prefix(b: Uint8Array, o: number, p: Prefix4): number {
  const len = p % 64;
  const a = (p - len) / 64 & MASK4[len]!;
  b[o++] = len;
  if (len > 0) b[o++] = a >>> 24;
  if (len > 8) b[o++] = a >>> 16;
  if (len > 16) b[o++] = a >>> 8;
  if (len > 24) b[o++] = a;
  return o;
}

const scratch6 = new Uint8Array(16);

/** Appends the IPv6 prefixes in b[off, end) to `out` as canonical text. Undefined, or why it is malformed. */
export function decodeV6Prefixes(b: Uint8Array, off: number, end: number, out: Prefix6[]): string | undefined {
  let i = off;
  while (i < end) {
    const len = b[i]!;
    if (len > 128) return `IPv6 prefix length ${len} > 128 at offset ${i - off}`;
    const nb = (len + 7) >>> 3;
    if (i + 1 + nb > end) return `IPv6 prefix /${len} overruns the field at offset ${i - off}`;
    scratch6.fill(0);
    scratch6.set(b.subarray(i + 1, i + 1 + nb));
    out.push(`${v6Format(ip6Value(scratch6, 0) & v6Mask(len))}/${len}`);
    i += 1 + nb;
  }
  return undefined;
}

/** An IPv6 prefix parsed from text, masked. */
export interface V6Prefix {
  value: bigint;
  len: number;
}

/** Parses "addr/len" (IPv6); throws WireError INVALID_PREFIX. */
export function parseV6Prefix(text: string): V6Prefix {
  const slash = text.indexOf('/');
  const lenText = slash < 0 ? '' : text.slice(slash + 1);
  const len = /^\d{1,3}$/.test(lenText) ? Number(lenText) : -1;
  if (len < 0 || len > 128) throw new WireError('INVALID_PREFIX', `not an IPv6 prefix: ${JSON.stringify(text)}`);
  const value = parseIp6(text.slice(0, slash), 'IPv6 prefix');
  return { value: value & v6Mask(len), len };
}

export function v6PrefixSize(p: V6Prefix): number {
  return 1 + ((p.len + 7) >>> 3);
}

/** Writes an IPv6 prefix at b[o]; returns the offset after it. */
export function writeV6Prefix(b: Uint8Array, o: number, p: V6Prefix): number {
  b[o++] = p.len;
  const nb = (p.len + 7) >>> 3;
  putIp6(scratch6, 0, p.value);
  b.set(scratch6.subarray(0, nb), o);
  return o + nb;
}
