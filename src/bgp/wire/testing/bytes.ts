/*
 * An independent byte builder for tests: BGP messages assembled by hand from the RFC layouts, with plain
 * number arrays. It shares NO code with the codec (no Writer, no net/ parsers), so a test comparing encoder
 * output with these bytes checks the encoder against the RFC, not against itself.
 */

export type Bytes = number[];

export const u8 = (n: number): Bytes => [n & 0xff];
export const u16 = (n: number): Bytes => [(n >>> 8) & 0xff, n & 0xff];
export const u32 = (n: number): Bytes => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];

export function cat(...parts: Bytes[]): Bytes {
  return parts.flat();
}

/** Whole message: 16 x 0xff, length (header included), type, body. RFC 4271 §4.1 */
export function message(type: number, ...body: Bytes[]): Buffer {
  const b = body.flat();
  return Buffer.from([...new Array<number>(16).fill(0xff), ...u16(19 + b.length), type, ...b]);
}

/** "a.b.c.d" -> 4 octets, by splitting on dots. */
export function ip4(text: string): Bytes {
  const p = text.split('.').map((x) => parseInt(x, 10));
  if (p.length !== 4) throw new Error(`test builder: bad IPv4 ${text}`);
  return p;
}

/** IPv6 text (with at most one "::", no dotted tail) -> 16 octets. */
export function ip6(text: string): Bytes {
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const hs = head ? head.split(':') : [];
  const ts = tail === undefined ? [] : tail ? tail.split(':') : [];
  const groups = tail === undefined ? hs : [...hs, ...new Array<string>(8 - hs.length - ts.length).fill('0'), ...ts];
  if (groups.length !== 8) throw new Error(`test builder: bad IPv6 ${text}`);
  return groups.flatMap((g) => u16(parseInt(g, 16)));
}

/** "10.1.0.0/16" -> <length, significant octets> (RFC 4271 §4.3). */
export function pfx4(text: string): Bytes {
  const [a, l] = text.split('/');
  const len = Number(l);
  return [len, ...ip4(a!).slice(0, Math.ceil(len / 8))];
}

export function pfx6(text: string): Bytes {
  const [a, l] = text.split('/');
  const len = Number(l);
  return [len, ...ip6(a!).slice(0, Math.ceil(len / 8))];
}

/** A path attribute: flags, type, 1-octet length (2-octet when flags has 0x10), value. RFC 4271 §4.3 */
export function attr(flags: number, type: number, value: Bytes): Bytes {
  return flags & 0x10 ? [flags, type, ...u16(value.length), ...value] : [flags, type, value.length, ...value];
}

/** UPDATE body: withdrawn routes, path attributes, NLRI -- each already encoded. */
export function update(withdrawn: Bytes, attrs: Bytes, nlri: Bytes): Buffer {
  return message(2, u16(withdrawn.length), withdrawn, u16(attrs.length), attrs, nlri);
}

/** AS_PATH segment with 2- or 4-octet ASNs. */
export function segment(type: number, asns: number[], size: 2 | 4 = 4): Bytes {
  return [type, asns.length, ...asns.flatMap((a) => (size === 4 ? u32(a) : u16(a)))];
}

export const hex = (b: Uint8Array | Bytes): string => Buffer.from(b).toString('hex');
