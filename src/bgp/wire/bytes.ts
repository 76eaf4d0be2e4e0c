/*
 * Byte-level helpers shared by the codecs: big-endian reads over Uint8Array (no DataView, no Buffer method
 * dispatch on hot paths), a small growable Writer for the messages that are not on a hot path (OPEN,
 * NOTIFICATION, attribute sets), and address text <-> bytes.
 *
 * Addresses are text in the data model (types.ts). Reading never fails (any 4 or 16 bytes are an address);
 * writing parses text and throws WireError INVALID_ADDRESS, because a bad address there is a local bug.
 */

import { v4Format, v4Parse, v6Format, v6Parse } from '../../net/index.js';
import { WireError } from './errors.js';

export function u16(b: Uint8Array, o: number): number {
  return ((b[o] as number) << 8) | (b[o + 1] as number);
}

export function u32(b: Uint8Array, o: number): number {
  return (((b[o] as number) << 24) | ((b[o + 1] as number) << 16) | ((b[o + 2] as number) << 8) | (b[o + 3] as number)) >>> 0;
}

export function putU16(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 8;
  b[o + 1] = v;
}

export function putU32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = v >>> 16;
  b[o + 2] = v >>> 8;
  b[o + 3] = v;
}

export function ip4Text(b: Uint8Array, o: number): string {
  return v4Format(u32(b, o));
}

export function ip6Value(b: Uint8Array, o: number): bigint {
  let hi = 0n;
  for (let i = 0; i < 16; i += 4) hi = (hi << 32n) | BigInt(u32(b, o + i));
  return hi;
}

export function ip6Text(b: Uint8Array, o: number): string {
  return v6Format(ip6Value(b, o));
}

/** Parses dotted IPv4 text to a uint32; throws WireError INVALID_ADDRESS naming `what`. */
export function parseIp4(text: string, what: string): number {
  const v = v4Parse(text);
  if (v < 0) throw new WireError('INVALID_ADDRESS', `${what}: not an IPv4 address: ${JSON.stringify(text)}`);
  return v;
}

/** Parses IPv6 text to a 128-bit bigint; throws WireError INVALID_ADDRESS naming `what`. */
export function parseIp6(text: string, what: string): bigint {
  const v = v6Parse(text);
  if (v === undefined) throw new WireError('INVALID_ADDRESS', `${what}: not an IPv6 address: ${JSON.stringify(text)}`);
  return v;
}

export function putIp6(b: Uint8Array, o: number, v: bigint): void {
  for (let i = 12; i >= 0; i -= 4) {
    putU32(b, o + i, Number(v & 0xffffffffn));
    v >>= 32n;
  }
}

/** True when `v` is an integer in 0 .. max. */
function isUint(v: unknown, max: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max;
}

export function checkUint(v: unknown, max: number, what: string): number {
  if (!isUint(v, max)) throw new WireError('INVALID_VALUE', `${what}: expected an integer in 0..${max}, got ${String(v)}`);
  return v;
}

/** A growable big-endian writer. `finish()` returns the written bytes as a Buffer sharing the writer's memory. */
export class Writer {
  private buf: Buffer;
  pos = 0;

  constructor(size = 256) {
    this.buf = Buffer.allocUnsafe(size);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  u8(v: number): this {
    this.ensure(1);
    this.buf[this.pos++] = v;
    return this;
  }

  u16(v: number): this {
    this.ensure(2);
    putU16(this.buf, this.pos, v);
    this.pos += 2;
    return this;
  }

  u32(v: number): this {
    this.ensure(4);
    putU32(this.buf, this.pos, v);
    this.pos += 4;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  /** Writes `n` zero bytes and returns their offset, to be patched later (length fields). */
  skip(n: number): number {
    this.ensure(n);
    const at = this.pos;
    this.buf.fill(0, at, at + n);
    this.pos += n;
    return at;
  }

  patchU8(at: number, v: number): void {
    this.buf[at] = v;
  }

  patchU16(at: number, v: number): void {
    putU16(this.buf, at, v);
  }

  /** Removes `n` bytes at `at`, moving the bytes after them back (a length field that turned out shorter). */
  remove(at: number, n: number): void {
    this.buf.copy(this.buf, at, at + n, this.pos);
    this.pos -= n;
  }

  finish(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}
