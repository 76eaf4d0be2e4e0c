/*
 * Address families carried in MP_REACH_NLRI / MP_UNREACH_NLRI (RFC 4760), one descriptor per family
 * (STYLE 3, BIRD's bgp_af_table): AFI/SAFI, NLRI decoder, next hop decoder and encoder.
 *
 *  - IPv6 unicast: next hop is 16 octets (global) or 32 (global + link-local), RFC 2545 §3. A link-local of
 *    all zeros (some speakers send it) is taken as absent.
 *  - IPv4 unicast normally travels in the classic UPDATE fields; when a peer uses MP_REACH for it anyway, a
 *    4-octet next hop lands in `nextHop`, a 16/32-octet one (RFC 8950) in `mpNextHop`.
 * Families not in the table (VPN, flowspec, ...) are never negotiated by tortie; their NLRI are ignored.
 */

import type { Family, Nlri, PathAttributes } from '../types.js';
import { AFI, SAFI } from './constants.js';
import { ip4Text, ip6Text, parseIp4, parseIp6, putIp6, putU32 } from './bytes.js';
import { decodeV4Prefixes, decodeV6Prefixes } from './nlri.js';
import { WireError } from './errors.js';

export type MpNextHop = NonNullable<PathAttributes['mpNextHop']>;

export interface NextHopValue {
  nextHop?: string;
  mpNextHop?: MpNextHop;
}

export interface FamilyDescriptor {
  family: Family;
  afi: number;
  safi: number;
  /** Appends the NLRI in b[off, end) to `out`; returns undefined, or why they are malformed. */
  decodeNlri(b: Uint8Array, off: number, end: number, out: Nlri): string | undefined;
  /** Reads an MP_REACH next hop of `len` octets; returns it, or why the length is wrong for the family. */
  decodeNextHop(b: Uint8Array, off: number, len: number): NextHopValue | string;
  /** The MP_REACH next hop octets for `attrs`; throws WireError MISSING_ATTRIBUTE when there is none. */
  encodeNextHop(attrs: PathAttributes): Uint8Array;
}

function decodeV6NextHop(b: Uint8Array, off: number, len: number): MpNextHop | string {
  if (len !== 16 && len !== 32) return `next hop length ${len} (IPv6 needs 16 or 32)`;
  const global = ip6Text(b, off);
  if (len === 16) return { global };
  let zero = true;
  for (let i = off + 16; i < off + 32; i++) if (b[i] !== 0) zero = false;
  return zero ? { global } : { global, linkLocal: ip6Text(b, off + 16) };
}

function encodeV6NextHop(nh: MpNextHop | undefined, what: string): Uint8Array {
  if (!nh) throw new WireError('MISSING_ATTRIBUTE', `${what}: IPv6 NLRI need attrs.mpNextHop`);
  const out = Buffer.alloc(nh.linkLocal === undefined ? 16 : 32);
  putIp6(out, 0, parseIp6(nh.global, 'mpNextHop.global'));
  if (nh.linkLocal !== undefined) putIp6(out, 16, parseIp6(nh.linkLocal, 'mpNextHop.linkLocal'));
  return out;
}

export const FAMILY_TABLE: readonly FamilyDescriptor[] = [
  {
    family: 'ipv4',
    afi: AFI.IPV4,
    safi: SAFI.UNICAST,
    decodeNlri: (b, off, end, out) => decodeV4Prefixes(b, off, end, out.v4),
    decodeNextHop(b, off, len) {
      if (len === 4) return { nextHop: ip4Text(b, off) };
      const nh = decodeV6NextHop(b, off, len);
      return typeof nh === 'string' ? `next hop length ${len} (IPv4 needs 4, 16 or 32)` : { mpNextHop: nh };
    },
    encodeNextHop(attrs) {
      if (attrs.nextHop === undefined) return encodeV6NextHop(attrs.mpNextHop, 'MP_REACH_NLRI');
      const out = Buffer.alloc(4);
      putU32(out, 0, parseIp4(attrs.nextHop, 'nextHop'));
      return out;
    },
  },
  {
    family: 'ipv6',
    afi: AFI.IPV6,
    safi: SAFI.UNICAST,
    decodeNlri: (b, off, end, out) => decodeV6Prefixes(b, off, end, out.v6),
    decodeNextHop(b, off, len) {
      const nh = decodeV6NextHop(b, off, len);
      return typeof nh === 'string' ? nh : { mpNextHop: nh };
    },
    encodeNextHop: (attrs) => encodeV6NextHop(attrs.mpNextHop, 'MP_REACH_NLRI'),
  },
];

export function familyByAfiSafi(afi: number, safi: number): FamilyDescriptor | undefined {
  for (const d of FAMILY_TABLE) if (d.afi === afi && d.safi === safi) return d;
  return undefined;
}

export function familyDescriptor(f: Family): FamilyDescriptor {
  return f === 'ipv4' ? FAMILY_TABLE[0]! : FAMILY_TABLE[1]!;
}
