/*
 * UPDATE encoding.
 *
 *  - `encodeUpdates(attrs, prefixes, ctx)`: the sender's path. All prefixes share one attribute set (or are all
 *    withdrawn when attrs is undefined). The attributes are encoded ONCE, then copied into each message, and
 *    each message takes as many prefixes as fit 4096 (or 65535) octets: as few UPDATEs as possible. Every
 *    message carries one NLRI-bearing field only, MP_REACH/MP_UNREACH first (RFC 7606 §5.1). IPv4 goes in the
 *    classic fields, IPv6 in MP_REACH_NLRI / MP_UNREACH_NLRI (RFC 4760, RFC 2545). No per-prefix allocation.
 *  - `encodeUpdate(u, ctx)`: exactly one message from the same shape `decodeUpdate` returns; throws WireError
 *    TOO_LARGE when it does not fit. Mixed fields are allowed here (tests, replays).
 *  - `encodeEndOfRib(family)`: RFC 4724 §2 markers.
 */

import type { Family, PathAttributes, Prefix4 } from '../types.js';
import { ATTR, ATTR_FLAG, HEADER_LENGTH, MSG } from './constants.js';
import { Writer, putU16 } from './bytes.js';
import { encodeAttributes, writeAttr } from './attributes.js';
import { WireError } from './errors.js';
import { familyDescriptor } from './family.js';
import { maxLength, writeHeader } from './header.js';
import type { NlriInput, WireContext } from './model.js';
import { type V6Prefix, checkV4Prefix, parseV6Prefix, v4PrefixSize, v6PrefixSize, writeV4Prefix, writeV6Prefix } from './nlri.js';

const O = ATTR_FLAG.OPTIONAL;
const FIXED = HEADER_LENGTH + 4; // header, withdrawn routes length, total path attribute length

export interface UpdateInput {
  withdrawn?: NlriInput;
  announced?: NlriInput;
  attrs?: PathAttributes;
}

function writeMpUnreach(w: Writer, family: Family, v6: readonly V6Prefix[], v4: readonly Prefix4[]): void {
  const d = familyDescriptor(family);
  writeAttr(w, O, ATTR.MP_UNREACH_NLRI, (w) => {
    w.u16(d.afi).u8(d.safi);
    writeNlri(w, v6, v4);
  });
}

function writeMpReach(w: Writer, attrs: PathAttributes, v6: readonly V6Prefix[]): void {
  const d = familyDescriptor('ipv6');
  const nh = d.encodeNextHop(attrs);
  writeAttr(w, O, ATTR.MP_REACH_NLRI, (w) => {
    w.u16(d.afi).u8(d.safi).u8(nh.length).bytes(nh).u8(0);
    writeNlri(w, v6, []);
  });
}

function writeNlri(w: Writer, v6: readonly V6Prefix[], v4: readonly Prefix4[]): void {
  let n = 0;
  for (const p of v6) n += v6PrefixSize(p);
  for (const p of v4) n += v4PrefixSize(p);
  const at = w.skip(n);
  const b = w.finish();
  let o = at;
  for (const p of v6) o = writeV6Prefix(b, o, p);
  for (const p of v4) o = writeV4Prefix(b, o, p);
}

/** One UPDATE holding everything in `u`. Throws WireError (TOO_LARGE, MISSING_ATTRIBUTE, INVALID_*). */
export function encodeUpdate(u: UpdateInput, ctx: WireContext): Buffer {
  const wv4 = u.withdrawn?.v4 ?? [];
  const wv6 = (u.withdrawn?.v6 ?? []).map(parseV6Prefix);
  const av4 = u.announced?.v4 ?? [];
  const av6 = (u.announced?.v6 ?? []).map(parseV6Prefix);
  wv4.forEach(checkV4Prefix);
  av4.forEach(checkV4Prefix);
  const attrs = u.attrs;
  if ((av4.length > 0 || av6.length > 0) && attrs === undefined) {
    throw new WireError('MISSING_ATTRIBUTE', 'announced prefixes need attrs');
  }
  if (av4.length > 0 && attrs?.nextHop === undefined) throw new WireError('MISSING_ATTRIBUTE', 'IPv4 NLRI need attrs.nextHop');
  const w = new Writer(512);
  w.skip(HEADER_LENGTH);
  const wLenAt = w.skip(2);
  writeNlri(w, [], wv4);
  w.patchU16(wLenAt, w.pos - wLenAt - 2);
  const aLenAt = w.skip(2);
  if (wv6.length > 0) writeMpUnreach(w, 'ipv6', wv6, []);
  if (av6.length > 0) writeMpReach(w, attrs!, av6);
  if (attrs !== undefined) encodeAttributes(attrs, w, { ctx, nextHop: av4.length > 0 || av6.length === 0 });
  w.patchU16(aLenAt, w.pos - aLenAt - 2);
  writeNlri(w, [], av4);
  const m = w.finish();
  if (m.length > maxLength(ctx)) throw new WireError('TOO_LARGE', `UPDATE of ${m.length} octets exceeds ${maxLength(ctx)}`);
  writeHeader(m, m.length, MSG.UPDATE);
  return Buffer.from(m); // exact size, not the writer's spare capacity
}

/** The End-of-RIB marker for `family` (RFC 4724 §2). */
export function encodeEndOfRib(family: Family): Buffer {
  if (family === 'ipv4') return encodeUpdate({}, { fourOctetAs: true });
  const w = new Writer(32);
  w.skip(HEADER_LENGTH);
  w.u16(0);
  const at = w.skip(2);
  writeMpUnreach(w, family, [], []);
  w.patchU16(at, w.pos - at - 2);
  const m = Buffer.from(w.finish());
  writeHeader(m, m.length, MSG.UPDATE);
  return m;
}

/**
 * As few UPDATEs as possible announcing `prefixes` with `attrs`, or withdrawing them when attrs is undefined.
 * IPv4 messages come first, then IPv6. Throws WireError when the attributes alone leave no room for a prefix.
 */
export function encodeUpdates(attrs: PathAttributes | undefined, prefixes: NlriInput, ctx: WireContext): Buffer[] {
  const max = maxLength(ctx);
  const out: Buffer[] = [];
  const v4 = prefixes.v4 ?? [];
  const v6 = (prefixes.v6 ?? []).map(parseV6Prefix);
  if (attrs === undefined) {
    if (v4.length > 0) packV4(out, v4, EMPTY, true, max);
    if (v6.length > 0) packV6(out, v6, undefined, EMPTY, max);
    return out;
  }
  if (v4.length > 0) {
    if (attrs.nextHop === undefined) throw new WireError('MISSING_ATTRIBUTE', 'IPv4 NLRI need attrs.nextHop');
    packV4(out, v4, attributeBlock(attrs, ctx, true), false, max);
  }
  if (v6.length > 0) {
    const d = familyDescriptor('ipv6');
    packV6(out, v6, { afi: d.afi, safi: d.safi, nh: d.encodeNextHop(attrs) }, attributeBlock(attrs, ctx, false), max);
  }
  return out;
}

const EMPTY = Buffer.alloc(0);

function attributeBlock(attrs: PathAttributes, ctx: WireContext, nextHop: boolean): Buffer {
  const w = new Writer(256);
  encodeAttributes(attrs, w, { ctx, nextHop });
  return Buffer.from(w.finish());
}

/** IPv4 prefixes in the classic NLRI field (or Withdrawn Routes when `withdraw`), `attrs` copied in each. */
function packV4(out: Buffer[], v4: readonly Prefix4[], attrs: Buffer, withdraw: boolean, max: number): void {
  const base = FIXED + attrs.length;
  const n = v4.length;
  let i = 0;
  while (i < n) {
    let size = base;
    let j = i;
    for (; j < n; j++) {
      const p = v4[j]!;
      const len = p % 64;
      if (!(len <= 32 && p >= 0 && p < 2 ** 38 && Number.isInteger(p))) checkV4Prefix(p);
      const s = 1 + ((len + 7) >>> 3);
      if (size + s > max) break;
      size += s;
    }
    if (j === i) throw new WireError('TOO_LARGE', `path attributes of ${attrs.length} octets leave no room for a prefix in ${max}`);
    const m = Buffer.allocUnsafe(size);
    writeHeader(m, size, MSG.UPDATE);
    const nlriLen = size - base;
    putU16(m, 19, withdraw ? nlriLen : 0);
    let o = withdraw ? 21 + nlriLen : 21;
    putU16(m, o, attrs.length);
    attrs.copy(m, o + 2);
    o = withdraw ? 21 : o + 2 + attrs.length;
    for (let k = i; k < j; k++) o = writeV4Prefix(m, o, v4[k]!);
    out.push(m);
    i = j;
  }
}

/**
 * IPv6 prefixes in MP_REACH_NLRI (reach given) or MP_UNREACH_NLRI, the MP attribute first, then `attrs`.
 * The MP attribute's header is sized for its real length (3 octets up to 255, else 4).
 */
function packV6(
  out: Buffer[],
  v6: readonly V6Prefix[],
  reach: { afi: number; safi: number; nh: Uint8Array } | undefined,
  attrs: Buffer,
  max: number,
): void {
  const d = familyDescriptor('ipv6');
  const mpFixed = reach ? 5 + reach.nh.length : 3; // AFI, SAFI (+ next hop length, next hop, reserved)
  const base = FIXED + attrs.length + 4 + mpFixed; // assume the 4-octet attribute header while packing
  const n = v6.length;
  let i = 0;
  while (i < n) {
    let size = base;
    let j = i;
    for (; j < n; j++) {
      const s = v6PrefixSize(v6[j]!);
      if (size + s > max) break;
      size += s;
    }
    if (j === i) throw new WireError('TOO_LARGE', `path attributes of ${attrs.length} octets leave no room for a prefix in ${max}`);
    const w = new Writer(size);
    w.skip(HEADER_LENGTH);
    w.u16(0);
    const at = w.skip(2);
    const batch = v6.slice(i, j);
    writeAttr(w, O, reach ? ATTR.MP_REACH_NLRI : ATTR.MP_UNREACH_NLRI, (w) => {
      w.u16(d.afi).u8(d.safi);
      if (reach) w.u8(reach.nh.length).bytes(reach.nh).u8(0);
      writeNlri(w, batch, []);
    });
    w.bytes(attrs);
    w.patchU16(at, w.pos - at - 2);
    const m = w.finish();
    writeHeader(m, m.length, MSG.UPDATE);
    out.push(m);
    i = j;
  }
}
