/*
 * Prefix: a network (address + length) with its address masked, as Go's *net.IPNet returned by ParseCIDR.
 *
 * Parsing is Go's net.ParseCIDR (Go >= 1.22), which Calico's ParseCIDR / ParseCIDROrIP wrap. Tricky bits:
 *  - A "/" is required; the address part follows net.ParseIP (no zone); the length is Go's dtoi: ASCII digits
 *    only, no sign, *leading zeros allowed* ("10.0.0.0/024" is 10.0.0.0/24), at most the written family's bits.
 *  - The bit length comes from how the address was *written*: "::ffff:10.0.0.0/104" is a 128-bit CIDR, but its
 *    network is IPv4-mapped, so Go prints and matches it as 10.0.0.0/8 -- and so do we: it IS 10.0.0.0/8.
 *    With a length below 96 the mapping bits are masked away: "::ffff:10.0.0.1/64" gives the IP 10.0.0.1 (IPv4)
 *    and the network ::/64 (IPv6). Families differ; that is Go's answer too.
 *  - parseCIDR returns the unmasked IP too, so callers can tell "10.0.0.1/24" (not strictly masked) apart.
 *  - Families never mix: an IPv6 prefix never contains, covers or overlaps anything IPv4 (Go's IPNet.Contains
 *    compares lengths first). Since ::ffff:0:0/96 is IPv4 (ip.ts), an IPv6 prefix that covers that block
 *    (::/n with n <= 80, ::fffe:0:0/95, ...) has addresses (nth, last) and subnets that come out as IPv4 and
 *    are not "inside" it. Nothing sensible (IPAM pools, BGP routes) lives there.
 * IPv4 arithmetic stays in numbers; IPv6 uses bigint.
 */

import { NetError } from './errors.js';
import { IP, isV4Mapped, parseAddrText } from './ip.js';
import type { IPVersion } from './ip.js';
import { v4Mask } from './v4.js';
import { v6Mask } from './v6.js';

/** Go's dtoi on s[start..]: the decimal value, or -1 (empty, a non-digit, or >= 0xFFFFFF). */
function parseLength(s: string, start: number): number {
  if (start >= s.length) return -1;
  let n = 0;
  for (let i = start; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    n = n * 10 + (c - 48);
    if (n >= 0xffffff) return -1;
  }
  return n;
}

function checkLength(length: number, bits: number): void {
  if (!Number.isInteger(length) || length < 0 || length > bits) {
    throw new NetError('INVALID_PREFIX_LENGTH', length, `prefix length must be an integer in 0..${bits}, got ${length}`);
  }
}

/** Offset `i` (number or bigint) as a bigint, checking 0 <= i < size. */
function checkIndex(p: Prefix, i: number | bigint): bigint {
  if (typeof i === 'number' && !Number.isSafeInteger(i)) {
    throw new NetError('OUT_OF_RANGE', i, `index must be a safe integer, got ${i}`);
  }
  const b = BigInt(i);
  if (b < 0n || b >= p.size()) throw new NetError('OUT_OF_RANGE', i, `index ${i} is outside ${p.toString()}`);
  return b;
}

export interface CIDRParts {
  /** The address as written (unmasked). */
  ip: IP;
  /** The network. */
  prefix: Prefix;
}

export class Prefix {
  /** The network address (host bits zero). */
  readonly ip: IP;
  readonly length: number;

  private constructor(ip: IP, length: number) {
    this.ip = ip;
    this.length = length;
  }

  /** `ip` masked to `length`. Throws NetError INVALID_PREFIX_LENGTH unless 0..32 (IPv4) / 0..128 (IPv6). */
  static of(ip: IP, length: number): Prefix {
    checkLength(length, ip.bits);
    if (ip.version === 4) {
      const net = (ip.v4 & v4Mask(length)) >>> 0;
      return new Prefix(net === ip.v4 ? ip : IP.fromV4(net), length);
    }
    const net = ip.v6 & v6Mask(length);
    return new Prefix(net === ip.v6 ? ip : IP.fromV6(net), length); // never mapped: see the module comment
  }

  /** A 128-bit network value and length, IPv4 when it lies in ::ffff:0:0/96 (Go's IPNet.String view). */
  private static fromV6Value(value: bigint, length: number): Prefix {
    const net = value & v6Mask(length);
    if (length >= 96 && isV4Mapped(net)) return new Prefix(IP.fromV6(net), length - 96);
    return new Prefix(IP.fromV6(net), length);
  }

  /** Go's ParseCIDR, keeping the network. Throws NetError INVALID_CIDR. */
  static parse(s: string): Prefix {
    return Prefix.parseCIDR(s).prefix;
  }

  /** As `parse`, but undefined instead of an exception. */
  static tryParse(s: string): Prefix | undefined {
    return Prefix.tryParseCIDR(s)?.prefix;
  }

  /** Go's ParseCIDR: the address as written and the network. Throws NetError INVALID_CIDR. */
  static parseCIDR(s: string): CIDRParts {
    const r = Prefix.tryParseCIDR(s);
    if (r === undefined) throw new NetError('INVALID_CIDR', s, `invalid CIDR address: ${JSON.stringify(s)}`);
    return r;
  }

  static tryParseCIDR(s: string): CIDRParts | undefined {
    const slash = s.indexOf('/');
    if (slash < 0) return undefined;
    const addr = parseAddrText(s.slice(0, slash));
    if (addr === undefined) return undefined;
    const length = parseLength(s, slash + 1);
    if (typeof addr === 'number') {
      if (length < 0 || length > 32) return undefined;
      const ip = IP.fromV4(addr);
      return { ip, prefix: Prefix.of(ip, length) };
    }
    if (length < 0 || length > 128) return undefined;
    return { ip: IP.fromV6(addr), prefix: Prefix.fromV6Value(addr, length) };
  }

  /**
   * Calico's ParseCIDROrIP: a CIDR as `parseCIDR`, else a bare IP as a /32 or /128. Throws NetError INVALID_CIDR.
   * (Calico returns a nil IP and no error for ""; we refuse it.)
   */
  static parseCIDROrIP(s: string): CIDRParts {
    const r = Prefix.tryParseCIDR(s);
    if (r !== undefined) return r;
    const ip = IP.tryParse(s);
    if (ip !== undefined) return { ip, prefix: new Prefix(ip, ip.bits) };
    throw new NetError('INVALID_CIDR', s, `invalid CIDR or IP address: ${JSON.stringify(s)}`);
  }

  get version(): IPVersion {
    return this.ip.version;
  }

  /** 32 or 128. */
  get bits(): 32 | 128 {
    return this.ip.bits;
  }

  /** Go's IPNet.String(): "10.0.0.0/24", "2001:db8::/32". */
  toString(): string {
    return `${this.ip.toString()}/${this.length}`;
  }

  toJSON(): string {
    return this.toString();
  }

  contains(ip: IP): boolean {
    if (ip.version !== this.ip.version) return false;
    if (ip.version === 4) return (ip.v4 & v4Mask(this.length)) >>> 0 === this.ip.v4;
    return (ip.v6 & v6Mask(this.length)) === this.ip.v6;
  }

  /** True when every address of `p` is in this prefix (a prefix contains itself). */
  containsPrefix(p: Prefix): boolean {
    return p.length >= this.length && this.contains(p.ip);
  }

  /** True when the two share an address; same-family prefixes overlap iff one contains the other. */
  overlaps(p: Prefix): boolean {
    return this.contains(p.ip) || p.contains(this.ip);
  }

  /** Number of addresses: 2^(bits - length). */
  size(): bigint {
    return 1n << BigInt(this.bits - this.length);
  }

  first(): IP {
    return this.ip;
  }

  last(): IP {
    return this.nth(this.size() - 1n);
  }

  /** The i-th address (0 = the network address). Throws NetError OUT_OF_RANGE unless 0 <= i < size(). */
  nth(i: number | bigint): IP {
    const b = checkIndex(this, i);
    return this.ip.version === 4 ? IP.fromV4(this.ip.v4 + Number(b)) : IP.fromV6(this.ip.v6 + b);
  }

  /**
   * The offset of `ip` from the network address (IPAM's ordinal inside a block). Throws NetError OUT_OF_RANGE
   * when `ip` is not in this prefix, or when the offset exceeds Number.MAX_SAFE_INTEGER.
   */
  ordinalOf(ip: IP): number {
    if (!this.contains(ip)) throw new NetError('OUT_OF_RANGE', ip.toString(), `${ip.toString()} is not in ${this.toString()}`);
    if (ip.version === 4) return ip.v4 - this.ip.v4;
    const d = ip.v6 - this.ip.v6;
    if (d > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new NetError('OUT_OF_RANGE', ip.toString(), `offset of ${ip.toString()} in ${this.toString()} is too large`);
    }
    return Number(d);
  }

  equals(p: Prefix): boolean {
    return this.length === p.length && this.ip.equals(p.ip);
  }

  /** By family (IPv4 first), then network address, then length (shorter first). */
  compare(p: Prefix): number {
    return this.ip.compare(p.ip) || this.length - p.length;
  }

  /**
   * The subnets of length `newLength` that partition this prefix, in address order, generated lazily (an IPv4 /8
   * has 262144 /26 blocks). Throws NetError INVALID_PREFIX_LENGTH (at the call) unless length <= newLength <= bits.
   */
  subnets(newLength: number): Iterable<Prefix> {
    checkLength(newLength, this.bits);
    if (newLength < this.length) {
      throw new NetError('INVALID_PREFIX_LENGTH', newLength, `subnet length ${newLength} is shorter than ${this.toString()}`);
    }
    return this.ip.version === 4 ? this.subnets4(newLength) : this.subnets6(newLength);
  }

  private *subnets4(newLength: number): Generator<Prefix, void, undefined> {
    const count = 2 ** (newLength - this.length);
    const step = 2 ** (32 - newLength);
    const base = this.ip.v4;
    for (let k = 0; k < count; k++) yield new Prefix(IP.fromV4(base + k * step), newLength);
  }

  private *subnets6(newLength: number): Generator<Prefix, void, undefined> {
    const count = 1n << BigInt(newLength - this.length);
    const step = 1n << BigInt(128 - newLength);
    const base = this.ip.v6;
    for (let k = 0n; k < count; k++) yield Prefix.fromV6Value(base + k * step, newLength);
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `Prefix(${this.toString()})`;
  }
}
