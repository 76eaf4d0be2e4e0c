/*
 * IP: one IPv4 or IPv6 address as an immutable value.
 *
 * An IPv4 address holds a uint32 number, an IPv6 address a 128-bit bigint; nothing else (no byte arrays), so an
 * IP is two fields. The rules are those of Go's net package, which Calico (libcalico-go/lib/net) wraps:
 *  - Text is accepted as by net.ParseIP: the first '.' or ':' decides the family (see v4.ts, v6.ts); zones,
 *    whitespace, brackets, ports and CIDR suffixes are refused.
 *  - IPv4-mapped IPv6 IS IPv4. Go's IP.To4() is non-nil for ::ffff:a.b.c.d, Calico's Version() then says 4 and
 *    String() prints "a.b.c.d". So "::ffff:1.2.3.4", fromV6(0xffff01020304n) and 16 bytes ::ffff:1.2.3.4 all give
 *    the IPv4 address 1.2.3.4, and no IP of version 6 ever holds a value inside ::ffff:0:0/96. This also holds for
 *    arithmetic: an IPv6 address plus an offset that lands in that block becomes IPv4 (Go's IncrementIP does
 *    the same), and from there on it is IPv4 (overflowing at 255.255.255.255).
 *  - IPv4-compatible "::1.2.3.4" is plain IPv6 and prints "::102:304", as in Go.
 * Ordering: every IPv4 address sorts before every IPv6 address; within a family, numerically.
 */

import { NetError } from './errors.js';
import { v4Format, v4Parse } from './v4.js';
import { V6_MAX, v6Format, v6Parse } from './v6.js';

export type IPVersion = 4 | 6;

const MAPPED_TAG = 0xffffn; // bits 32..47 of an IPv4-mapped address; bits 48..127 are zero
const MAPPED_BASE = 0xffff00000000n;

/** True when the 128-bit value lies in ::ffff:0:0/96. */
export function isV4Mapped(b: bigint): boolean {
  return b >> 32n === MAPPED_TAG;
}

/**
 * Reads address text the way Go's netip.ParseAddr does, zones refused: a number for dotted IPv4 text, a bigint
 * for colon (IPv6) text -- which may be IPv4-mapped; callers that care about the written family (ParseCIDR's
 * bit length) need that distinction. Undefined when invalid.
 */
export function parseAddrText(s: string): number | bigint | undefined {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46 /* . */) {
      const v = v4Parse(s);
      return v < 0 ? undefined : v;
    }
    if (c === 58 /* : */) return s.includes('%') ? undefined : v6Parse(s);
    if (c === 37 /* % */) return undefined;
  }
  return undefined;
}

export class IP {
  readonly version: IPVersion;
  /** uint32 number when version 4, bigint when version 6. */
  private readonly n: number | bigint;

  private constructor(version: IPVersion, n: number | bigint) {
    this.version = version;
    this.n = n;
  }

  /** Parses like Go's net.ParseIP. Throws NetError INVALID_IP. */
  static parse(s: string): IP {
    const ip = IP.tryParse(s);
    if (ip === undefined) throw new NetError('INVALID_IP', s, `invalid IP address: ${JSON.stringify(s)}`);
    return ip;
  }

  /** As `parse`, but undefined instead of an exception. */
  static tryParse(s: string): IP | undefined {
    const v = parseAddrText(s);
    if (v === undefined) return undefined;
    return typeof v === 'number' ? new IP(4, v) : IP.fromV6(v);
  }

  /** From a uint32 (an integer in 0..2^32-1; a signed int32 must be passed through `>>> 0` first). */
  static fromV4(n: number): IP {
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) {
      throw new NetError('OUT_OF_RANGE', n, `IPv4 value must be an integer in 0..2^32-1, got ${n}`);
    }
    return new IP(4, n);
  }

  /** From a 128-bit value (0..2^128-1). A value in ::ffff:0:0/96 gives the IPv4 address. */
  static fromV6(b: bigint): IP {
    if (b < 0n || b > V6_MAX) throw new NetError('OUT_OF_RANGE', b, `IPv6 value must be in 0..2^128-1, got ${b}`);
    if (isV4Mapped(b)) return new IP(4, Number(b & 0xffffffffn));
    return new IP(6, b);
  }

  /** From 4 bytes (IPv4) or 16 bytes (IPv6; IPv4-mapped gives IPv4), network order. Throws INVALID_IP. */
  static fromBytes(bytes: Uint8Array): IP {
    if (bytes.length === 4) {
      const [a, b, c, d] = bytes as unknown as [number, number, number, number];
      return new IP(4, ((a << 24) | (b << 16) | (c << 8) | d) >>> 0);
    }
    if (bytes.length === 16) {
      let b = 0n;
      for (const x of bytes) b = (b << 8n) | BigInt(x);
      return IP.fromV6(b);
    }
    throw new NetError('INVALID_IP', `${bytes.length} bytes`, `an IP address is 4 or 16 bytes, got ${bytes.length}`);
  }

  /** The uint32 value. Throws NetError VERSION_MISMATCH for an IPv6 address. */
  get v4(): number {
    if (typeof this.n !== 'number') {
      throw new NetError('VERSION_MISMATCH', this.toString(), `${this.toString()} is not an IPv4 address`);
    }
    return this.n;
  }

  /** The 128-bit value; for an IPv4 address, its IPv4-mapped form ::ffff:a.b.c.d. */
  get v6(): bigint {
    return typeof this.n === 'bigint' ? this.n : MAPPED_BASE | BigInt(this.n);
  }

  /** 32 or 128. */
  get bits(): 32 | 128 {
    return this.version === 4 ? 32 : 128;
  }

  /** Go's IP.String(): dotted quad for IPv4 (mapped included), RFC 5952 for IPv6. */
  toString(): string {
    return typeof this.n === 'number' ? v4Format(this.n) : v6Format(this.n);
  }

  toJSON(): string {
    return this.toString();
  }

  /** 4 bytes for IPv4, 16 for IPv6, network order. A fresh array each call. */
  toBytes(): Uint8Array {
    if (typeof this.n === 'number') {
      const n = this.n;
      return Uint8Array.of(n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);
    }
    const out = new Uint8Array(16);
    let b = this.n;
    for (let i = 15; i >= 0; i--) {
      out[i] = Number(b & 0xffn);
      b >>= 8n;
    }
    return out;
  }

  equals(o: IP): boolean {
    return this.version === o.version && this.n === o.n;
  }

  /** Negative, zero or positive. IPv4 sorts before IPv6. */
  compare(o: IP): number {
    if (this.version !== o.version) return this.version - o.version;
    return this.n < o.n ? -1 : this.n > o.n ? 1 : 0;
  }

  /**
   * This address plus `delta` (may be negative), within the same family. Throws NetError OUT_OF_RANGE when the
   * result leaves 0.0.0.0..255.255.255.255 or ::..ffff:...:ffff, or when a number delta is not a safe integer.
   * An IPv6 result inside ::ffff:0:0/96 is IPv4 (see the module comment).
   */
  add(delta: number | bigint): IP {
    if (typeof delta === 'number' && !Number.isSafeInteger(delta)) {
      throw new NetError('OUT_OF_RANGE', delta, `offset must be a safe integer, got ${delta}`);
    }
    if (typeof this.n === 'number') {
      const r = typeof delta === 'number' ? this.n + delta : BigInt(this.n) + delta;
      if (r < 0 || r > 0xffffffff) {
        throw new NetError('OUT_OF_RANGE', String(delta), `${this.toString()} + ${delta} is outside IPv4`);
      }
      return new IP(4, Number(r));
    }
    const r = this.n + BigInt(delta);
    if (r < 0n || r > V6_MAX) {
      throw new NetError('OUT_OF_RANGE', String(delta), `${this.toString()} + ${delta} is outside IPv6`);
    }
    return IP.fromV6(r);
  }

  /** 0.0.0.0 or ::. */
  isUnspecified(): boolean {
    return typeof this.n === 'number' ? this.n === 0 : this.n === 0n;
  }

  /** 127.0.0.0/8 or ::1. */
  isLoopback(): boolean {
    return typeof this.n === 'number' ? this.n >>> 24 === 127 : this.n === 1n;
  }

  /** 169.254.0.0/16 or fe80::/10 (Go's IsLinkLocalUnicast). */
  isLinkLocalUnicast(): boolean {
    return typeof this.n === 'number' ? this.n >>> 16 === 0xa9fe : this.n >> 118n === 0x3fan;
  }

  /** 224.0.0.0/4 or ff00::/8. */
  isMulticast(): boolean {
    return typeof this.n === 'number' ? this.n >>> 28 === 0xe : this.n >> 120n === 0xffn;
  }

  /** RFC 1918 (10/8, 172.16/12, 192.168/16) or RFC 4193 fc00::/7 (Go's IsPrivate). */
  isPrivate(): boolean {
    if (typeof this.n === 'bigint') return this.n >> 121n === 0x7en;
    const n = this.n;
    return n >>> 24 === 10 || n >>> 20 === 0xac1 || n >>> 16 === 0xc0a8;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `IP(${this.toString()})`;
  }
}
