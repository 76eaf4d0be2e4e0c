/*
 * MAC: a hardware address as Go's net.ParseMAC reads it (WorkloadEndpoint.spec.mac is validated that way).
 *
 * Accepted: 6, 8 or 20 bytes (EUI-48, EUI-64, 20-octet InfiniBand) written as hex pairs separated by ':' or '-'
 * ("00:00:5e:00:53:01", "00-00-5E-00-53-01"), or as dot-separated groups of four hex digits
 * ("0000.5e00.5301"). One separator throughout; either case; printed lowercase with ':' like Go's
 * HardwareAddr.String().
 */

import { NetError } from './errors.js';

function hex(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** The byte from two hex digits at s[i], s[i+1]; -1 if either is not a hex digit. */
function byteAt(s: string, i: number): number {
  const a = hex(s.charCodeAt(i));
  const b = hex(s.charCodeAt(i + 1));
  return a < 0 || b < 0 ? -1 : a * 16 + b;
}

function parseBytes(s: string): Uint8Array | undefined {
  if (s.length < 14) return undefined;
  const sep = s[2];
  if (sep === ':' || sep === '-') {
    if ((s.length + 1) % 3 !== 0) return undefined;
    const n = (s.length + 1) / 3;
    if (n !== 6 && n !== 8 && n !== 20) return undefined;
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const x = 3 * i;
      const v = byteAt(s, x);
      if (v < 0 || (i < n - 1 && s[x + 2] !== sep)) return undefined;
      out[i] = v;
    }
    return out;
  }
  if (s[4] === '.') {
    if ((s.length + 1) % 5 !== 0) return undefined;
    const n = (2 * (s.length + 1)) / 5;
    if (n !== 6 && n !== 8 && n !== 20) return undefined;
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 2) {
      const x = (5 * i) / 2;
      const hi = byteAt(s, x);
      const lo = byteAt(s, x + 2);
      if (hi < 0 || lo < 0 || (i < n - 2 && s[x + 4] !== '.')) return undefined;
      out[i] = hi;
      out[i + 1] = lo;
    }
    return out;
  }
  return undefined;
}

export class MAC {
  private readonly b: Uint8Array;

  private constructor(b: Uint8Array) {
    this.b = b;
  }

  /** Throws NetError INVALID_MAC. */
  static parse(s: string): MAC {
    const m = MAC.tryParse(s);
    if (m === undefined) throw new NetError('INVALID_MAC', s, `invalid MAC address: ${JSON.stringify(s)}`);
    return m;
  }

  static tryParse(s: string): MAC | undefined {
    const b = parseBytes(s);
    return b === undefined ? undefined : new MAC(b);
  }

  /** From 6, 8 or 20 bytes (copied). Throws NetError INVALID_MAC otherwise. */
  static fromBytes(bytes: Uint8Array): MAC {
    if (bytes.length !== 6 && bytes.length !== 8 && bytes.length !== 20) {
      throw new NetError('INVALID_MAC', `${bytes.length} bytes`, `a MAC address is 6, 8 or 20 bytes, got ${bytes.length}`);
    }
    return new MAC(Uint8Array.from(bytes));
  }

  toBytes(): Uint8Array {
    return Uint8Array.from(this.b);
  }

  /** Lowercase, colon-separated: "00:00:5e:00:53:01". */
  toString(): string {
    return Array.from(this.b, (x) => x.toString(16).padStart(2, '0')).join(':');
  }

  toJSON(): string {
    return this.toString();
  }

  equals(o: MAC): boolean {
    return this.b.length === o.b.length && this.b.every((x, i) => x === o.b[i]);
  }
}
