/*
 * Path attributes: one descriptor per attribute type (STYLE 3, BIRD's bgp_attr_table). A row says what the
 * Optional/Transitive flags must be, how a flags conflict is handled (RFC 7606 §3 c), how to decode the value
 * into the UPDATE's decode state (returning an RFC 7606 failure instead of throwing), how to encode it from
 * PathAttributes, and how to print it. A new attribute is a new row.
 *
 * The walk over the attribute section (framing, duplicates, unknown attributes, the strongest outcome) is in
 * update.ts; this file knows single attributes. Handling per RFC 7606 §7 (and RFC 6793 §6, RFC 7607, RFC 8092 §6):
 *   ORIGIN        length != 1 or value > 2                      treat-as-withdraw
 *   AS_PATH       malformed segments, AS 0, confed from eBGP     treat-as-withdraw
 *   NEXT_HOP      length != 4, or 0/8, 224/3 when IPv4 NLRI     treat-as-withdraw (also a 4-octet MP_REACH next hop)
 *   MED           length != 4                                   treat-as-withdraw
 *   LOCAL_PREF    from eBGP: discard; length != 4               treat-as-withdraw
 *   ATOMIC_AGGR   length != 0                                   attribute-discard
 *   AGGREGATOR    length != 6/8, AS 0                           attribute-discard
 *   COMMUNITIES   length not a non-zero multiple of 4           treat-as-withdraw
 *   ORIGINATOR_ID from eBGP: discard; length != 4               treat-as-withdraw
 *   CLUSTER_LIST  from eBGP: discard; not n*4, n > 0            treat-as-withdraw
 *   MP_REACH/UNREACH  any malformation, wrong flags             session-reset (NLRI cannot be located)
 *   EXT_COMMUNITIES   not a non-zero multiple of 8              treat-as-withdraw
 *   AS4_PATH/AS4_AGGREGATOR  malformed, AS 0, from a 4-octet peer   attribute-discard
 *   LARGE_COMMUNITY   not a non-zero multiple of 12             treat-as-withdraw (duplicates removed)
 */

import type { AsPathSegment, Family, Nlri, Origin, PathAttributes } from '../types.js';
import { AS_TRANS, ATTR, ATTR_FLAG, UPDATE_ERR as E } from './constants.js';
import { Writer, checkUint, ip4Text, parseIp4, u16, u32 } from './bytes.js';
import { as4PathOf, asPathSize, decodeAsPath, formatAsPath, hasAsZero, isConfed, needsAs4, writeAsPath } from './aspath.js';
import { WireError, type Handling } from './errors.js';
import { type MpNextHop, familyByAfiSafi } from './family.js';
import type { WireContext } from './model.js';

const O = ATTR_FLAG.OPTIONAL;
const T = ATTR_FLAG.TRANSITIVE;

/** Why an attribute value is malformed, and what to do about it. */
export interface AttrFailure {
  subcode: number;
  handling: Handling;
  reason: string;
}

/** Everything the attribute decoders of one UPDATE fill in. */
export interface AttrDecodeState {
  ctx: WireContext;
  /** The classic NLRI field is not empty (NEXT_HOP's value is checked only then). */
  classicNlri: boolean;
  attrs: Partial<PathAttributes>;
  as4Path?: readonly AsPathSegment[];
  as4Aggregator?: { asn: number; address: string };
  /** A 4-octet next hop from an IPv4 MP_REACH_NLRI. */
  mpV4NextHop?: string;
  withdrawn: Nlri;
  announced: Nlri;
  /** An MP_REACH_NLRI of a known family was decoded. */
  mpReach: boolean;
  /** The family of an MP_UNREACH_NLRI with no NLRI (End-of-RIB candidate). */
  mpUnreachEmpty?: Family;
}

export interface AttrEncodeState {
  ctx: WireContext;
  /** Write NEXT_HOP (false for an UPDATE carrying only MP NLRI, RFC 4760 §3). */
  nextHop: boolean;
}

export interface AttrDescriptor {
  type: number;
  name: string;
  /** The Optional and Transitive bits this attribute must carry. */
  flags: number;
  /** RFC 7606 §3 c: treat-as-withdraw unless the attribute's own rules say otherwise. */
  onFlagsError: Handling;
  /** Discarded unread when received from an external peer, or from a 4-octet AS peer (before any check). */
  ignoredFrom?: 'external' | 'four-octet';
  /** Decodes the value b[off, off+len) into `st`. Returns undefined on success; a failure means the
   *  attribute was not applied, except for attribute-discard notes that say what was dropped from it. */
  decode(b: Uint8Array, off: number, len: number, st: AttrDecodeState): AttrFailure | undefined;
  /** Writes the whole attribute (header and value) when `a` has it. Throws WireError on bad values. */
  encode(a: PathAttributes, w: Writer, st: AttrEncodeState): void;
  /** One log item, e.g. "med 10", or undefined when `a` has no such attribute. */
  format(a: PathAttributes): string | undefined;
}

const fail = (subcode: number, handling: Handling, reason: string): AttrFailure => ({ subcode, handling, reason });
const withdraw = (subcode: number, reason: string): AttrFailure => fail(subcode, 'treat-as-withdraw', reason);
const discard = (subcode: number, reason: string): AttrFailure => fail(subcode, 'attribute-discard', reason);
const lengthFail = (name: string, len: number, handling: Handling = 'treat-as-withdraw'): AttrFailure =>
  fail(E.ATTRIBUTE_LENGTH_ERROR, handling, `${name} of length ${len}`);

/** Writes flags, type and length around `body`, choosing the 1- or 2-octet length form afterwards. */
export function writeAttr(w: Writer, flags: number, type: number, body: (w: Writer) => void): void {
  const at = w.skip(4);
  body(w);
  const len = w.pos - at - 4;
  if (len > 0xffff) throw new WireError('TOO_LARGE', `attribute ${type} of ${len} octets`);
  if (len > 255) {
    w.patchU8(at, flags | ATTR_FLAG.EXTENDED_LENGTH);
    w.patchU8(at + 1, type);
    w.patchU16(at + 2, len);
  } else {
    w.patchU8(at, flags & ~ATTR_FLAG.EXTENDED_LENGTH);
    w.patchU8(at + 1, type);
    w.patchU8(at + 2, len);
    w.remove(at + 3, 1);
  }
}

/** RFC 4271 §6.3 "valid IP host address": not 0.0.0.0/8, not multicast or reserved (224.0.0.0/3). */
function badNextHop(v: number): boolean {
  const first = v >>> 24;
  return first === 0 || first >= 224;
}

function u32List(b: Uint8Array, off: number, len: number): number[] {
  const out = new Array<number>(len >>> 2);
  for (let i = 0; i < out.length; i++) out[i] = u32(b, off + 4 * i);
  return out;
}

function decodeAggregator(b: Uint8Array, off: number, len: number, asSize: 2 | 4): { asn: number; address: string } | AttrFailure {
  if (len !== asSize + 4) return lengthFail(`AGGREGATOR (${asSize}-octet AS)`, len, 'attribute-discard');
  const asn = asSize === 4 ? u32(b, off) : u16(b, off);
  if (asn === 0) return discard(E.OPTIONAL_ATTRIBUTE_ERROR, 'AGGREGATOR with AS 0 (RFC 7607)');
  return { asn, address: ip4Text(b, off + asSize) };
}

const ORIGIN_NAMES = ['IGP', 'EGP', 'incomplete'];

export const ATTRIBUTES: readonly AttrDescriptor[] = [
  {
    type: ATTR.ORIGIN,
    name: 'ORIGIN',
    flags: T,
    onFlagsError: 'treat-as-withdraw',
    decode(b, off, len, st) {
      if (len !== 1) return lengthFail('ORIGIN', len);
      const v = b[off]!;
      if (v > 2) return withdraw(E.INVALID_ORIGIN_ATTRIBUTE, `ORIGIN value ${v}`);
      st.attrs.origin = v as Origin;
      return undefined;
    },
    encode(a, w) {
      writeAttr(w, T, ATTR.ORIGIN, (w) => w.u8(checkUint(a.origin, 2, 'origin')));
    },
    format: (a) => `origin ${ORIGIN_NAMES[a.origin] ?? a.origin}`,
  },
  {
    type: ATTR.AS_PATH,
    name: 'AS_PATH',
    flags: T,
    onFlagsError: 'treat-as-withdraw',
    decode(b, off, len, st) {
      const segs = decodeAsPath(b, off, len, st.ctx.fourOctetAs ? 4 : 2);
      if (typeof segs === 'string') return withdraw(E.MALFORMED_AS_PATH, `AS_PATH: ${segs}`);
      if (hasAsZero(segs)) return withdraw(E.MALFORMED_AS_PATH, 'AS_PATH contains AS 0 (RFC 7607)');
      if (st.ctx.ebgp && segs.some((s) => isConfed(s.type))) {
        return withdraw(E.MALFORMED_AS_PATH, 'AS_PATH with confederation segments from an external peer (RFC 5065 §5)');
      }
      st.attrs.asPath = segs;
      return undefined;
    },
    encode(a, w, st) {
      for (const s of a.asPath) for (const x of s.asns) checkUint(x, 0xffffffff, 'asPath ASN');
      writeAttr(w, T, ATTR.AS_PATH, (w) => writeAsPath(w, a.asPath, st.ctx.fourOctetAs ? 4 : 2));
    },
    format: (a) => `as-path ${formatAsPath(a.asPath)}`.trimEnd(),
  },
  {
    type: ATTR.NEXT_HOP,
    name: 'NEXT_HOP',
    flags: T,
    onFlagsError: 'treat-as-withdraw',
    decode(b, off, len, st) {
      if (len !== 4) return lengthFail('NEXT_HOP', len);
      const v = u32(b, off);
      if (st.classicNlri && badNextHop(v)) {
        return withdraw(E.INVALID_NEXT_HOP_ATTRIBUTE, `NEXT_HOP ${ip4Text(b, off)} is not a host address`);
      }
      st.attrs.nextHop = ip4Text(b, off);
      return undefined;
    },
    encode(a, w, st) {
      if (a.nextHop === undefined || !st.nextHop) return;
      const v = parseIp4(a.nextHop, 'nextHop');
      writeAttr(w, T, ATTR.NEXT_HOP, (w) => w.u32(v));
    },
    format: (a) => (a.nextHop === undefined ? undefined : `next-hop ${a.nextHop}`),
  },
  {
    type: ATTR.MULTI_EXIT_DISC,
    name: 'MULTI_EXIT_DISC',
    flags: O,
    onFlagsError: 'treat-as-withdraw',
    decode(b, off, len, st) {
      if (len !== 4) return lengthFail('MULTI_EXIT_DISC', len);
      st.attrs.med = u32(b, off);
      return undefined;
    },
    encode(a, w) {
      if (a.med === undefined) return;
      const v = checkUint(a.med, 0xffffffff, 'med');
      writeAttr(w, O, ATTR.MULTI_EXIT_DISC, (w) => w.u32(v));
    },
    format: (a) => (a.med === undefined ? undefined : `med ${a.med}`),
  },
  {
    type: ATTR.LOCAL_PREF,
    name: 'LOCAL_PREF',
    ignoredFrom: 'external', // RFC 7606 §7.5, RFC 4271 §5.1.5
    flags: T,
    onFlagsError: 'treat-as-withdraw',
    decode(b, off, len, st) {
      if (len !== 4) return lengthFail('LOCAL_PREF', len);
      st.attrs.localPref = u32(b, off);
      return undefined;
    },
    encode(a, w) {
      if (a.localPref === undefined) return;
      const v = checkUint(a.localPref, 0xffffffff, 'localPref');
      writeAttr(w, T, ATTR.LOCAL_PREF, (w) => w.u32(v));
    },
    format: (a) => (a.localPref === undefined ? undefined : `local-pref ${a.localPref}`),
  },
  {
    type: ATTR.ATOMIC_AGGREGATE,
    name: 'ATOMIC_AGGREGATE',
    flags: T,
    onFlagsError: 'treat-as-withdraw',
    decode(_b, _off, len, st) {
      if (len !== 0) return lengthFail('ATOMIC_AGGREGATE', len, 'attribute-discard'); // RFC 7606 §7.6
      st.attrs.atomicAggregate = true;
      return undefined;
    },
    encode(a, w) {
      if (a.atomicAggregate) writeAttr(w, T, ATTR.ATOMIC_AGGREGATE, () => {});
    },
    format: (a) => (a.atomicAggregate ? 'atomic-aggregate' : undefined),
  },
  {
    type: ATTR.AGGREGATOR,
    name: 'AGGREGATOR',
    flags: O | T,
    onFlagsError: 'treat-as-withdraw',
    decode(b, off, len, st) {
      const v = decodeAggregator(b, off, len, st.ctx.fourOctetAs ? 4 : 2); // RFC 7606 §7.7
      if ('reason' in v) return v;
      st.attrs.aggregator = v;
      return undefined;
    },
    encode(a, w, st) {
      const ag = a.aggregator;
      if (ag === undefined) return;
      const asn = checkUint(ag.asn, 0xffffffff, 'aggregator.asn');
      const addr = parseIp4(ag.address, 'aggregator.address');
      writeAttr(w, O | T, ATTR.AGGREGATOR, (w) => {
        if (st.ctx.fourOctetAs) w.u32(asn);
        else w.u16(asn > 0xffff ? AS_TRANS : asn);
        w.u32(addr);
      });
    },
    format: (a) => (a.aggregator === undefined ? undefined : `aggregator ${a.aggregator.address} AS${a.aggregator.asn}`),
  },
  {
    type: ATTR.COMMUNITIES,
    name: 'COMMUNITIES',
    flags: O | T,
    onFlagsError: 'treat-as-withdraw',
    decode(b, off, len, st) {
      if (len === 0 || len % 4 !== 0) return lengthFail('COMMUNITIES', len); // RFC 7606 §7.8
      st.attrs.communities = u32List(b, off, len);
      return undefined;
    },
    encode(a, w) {
      const c = a.communities;
      if (c === undefined || c.length === 0) return;
      writeAttr(w, O | T, ATTR.COMMUNITIES, (w) => {
        for (const x of c) w.u32(checkUint(x, 0xffffffff, 'community'));
      });
    },
    format: (a) =>
      a.communities === undefined ? undefined : `communities ${a.communities.map((c) => `${c >>> 16}:${c & 0xffff}`).join(' ')}`,
  },
  {
    type: ATTR.ORIGINATOR_ID,
    name: 'ORIGINATOR_ID',
    ignoredFrom: 'external', // RFC 7606 §7.9
    flags: O,
    onFlagsError: 'treat-as-withdraw',
    decode(b, off, len, st) {
      if (len !== 4) return lengthFail('ORIGINATOR_ID', len);
      st.attrs.originatorId = ip4Text(b, off);
      return undefined;
    },
    encode(a, w) {
      if (a.originatorId === undefined) return;
      const v = parseIp4(a.originatorId, 'originatorId');
      writeAttr(w, O, ATTR.ORIGINATOR_ID, (w) => w.u32(v));
    },
    format: (a) => (a.originatorId === undefined ? undefined : `originator-id ${a.originatorId}`),
  },
  {
    type: ATTR.CLUSTER_LIST,
    name: 'CLUSTER_LIST',
    ignoredFrom: 'external', // RFC 7606 §7.10
    flags: O,
    onFlagsError: 'treat-as-withdraw',
    decode(b, off, len, st) {
      if (len === 0 || len % 4 !== 0) return lengthFail('CLUSTER_LIST', len);
      const ids = new Array<string>(len >>> 2);
      for (let i = 0; i < ids.length; i++) ids[i] = ip4Text(b, off + 4 * i);
      st.attrs.clusterList = ids;
      return undefined;
    },
    encode(a, w) {
      const c = a.clusterList;
      if (c === undefined || c.length === 0) return;
      const ids = c.map((x) => parseIp4(x, 'clusterList'));
      writeAttr(w, O, ATTR.CLUSTER_LIST, (w) => ids.forEach((x) => w.u32(x)));
    },
    format: (a) => (a.clusterList === undefined ? undefined : `cluster-list ${a.clusterList.join(' ')}`),
  },
  {
    type: ATTR.MP_REACH_NLRI,
    name: 'MP_REACH_NLRI',
    flags: O,
    onFlagsError: 'session-reset', // RFC 7606 §5.3: the NLRI cannot be trusted
    decode(b, off, len, st) {
      // AFI(2) SAFI(1) next hop length(1) next hop, reserved(1), NLRI. RFC 4760 §3, RFC 7606 §7.11.
      if (len < 5) return mpFail(`MP_REACH_NLRI of length ${len} (min 5)`);
      const afi = u16(b, off);
      const safi = b[off + 2]!;
      const nhLen = b[off + 3]!;
      if (5 + nhLen > len) return mpFail(`MP_REACH_NLRI next hop of ${nhLen} octets overruns the attribute`);
      const fam = familyByAfiSafi(afi, safi);
      if (fam === undefined) return discard(E.OPTIONAL_ATTRIBUTE_ERROR, `MP_REACH_NLRI for AFI ${afi} SAFI ${safi} ignored`);
      const nh = fam.decodeNextHop(b, off + 4, nhLen);
      if (typeof nh === 'string') return mpFail(`MP_REACH_NLRI: ${nh}`);
      const before = st.announced.v4.length;
      const bad = fam.decodeNlri(b, off + 5 + nhLen, off + len, st.announced);
      if (bad !== undefined) return mpFail(`MP_REACH_NLRI: ${bad}`);
      // An IPv4 next hop gets NEXT_HOP's semantic check (RFC 4271 §6.3): without it a martian next hop
      // carried here was installed and passed on to iBGP peers in NEXT_HOP, where it is malformed.
      if (nh.nextHop !== undefined && st.announced.v4.length > before && badNextHop(u32(b, off + 4))) {
        return withdraw(E.INVALID_NEXT_HOP_ATTRIBUTE, `MP_REACH_NLRI next hop ${nh.nextHop} is not a host address`);
      }
      if (nh.mpNextHop) st.attrs.mpNextHop = nh.mpNextHop;
      if (nh.nextHop !== undefined) st.mpV4NextHop = nh.nextHop;
      st.mpReach = true;
      return undefined;
    },
    encode() {}, // written first by the UPDATE encoder: it carries NLRI
    format: (a) => (a.mpNextHop === undefined ? undefined : `mp-next-hop ${formatMpNextHop(a.mpNextHop)}`),
  },
  {
    type: ATTR.MP_UNREACH_NLRI,
    name: 'MP_UNREACH_NLRI',
    flags: O,
    onFlagsError: 'session-reset',
    decode(b, off, len, st) {
      // AFI(2) SAFI(1) withdrawn NLRI. RFC 4760 §4, RFC 7606 §7.12.
      if (len < 3) return mpFail(`MP_UNREACH_NLRI of length ${len} (min 3)`);
      const afi = u16(b, off);
      const safi = b[off + 2]!;
      const fam = familyByAfiSafi(afi, safi);
      if (fam === undefined) return discard(E.OPTIONAL_ATTRIBUTE_ERROR, `MP_UNREACH_NLRI for AFI ${afi} SAFI ${safi} ignored`);
      const bad = fam.decodeNlri(b, off + 3, off + len, st.withdrawn);
      if (bad !== undefined) return mpFail(`MP_UNREACH_NLRI: ${bad}`);
      if (len === 3) st.mpUnreachEmpty = fam.family;
      return undefined;
    },
    encode() {},
    format: () => undefined,
  },
  {
    type: ATTR.EXTENDED_COMMUNITIES,
    name: 'EXTENDED_COMMUNITIES',
    flags: O | T,
    onFlagsError: 'treat-as-withdraw',
    decode(b, off, len, st) {
      if (len === 0 || len % 8 !== 0) return lengthFail('EXTENDED_COMMUNITIES', len); // RFC 7606 §7.14
      const out = new Array<bigint>(len >>> 3);
      for (let i = 0; i < out.length; i++) out[i] = (BigInt(u32(b, off + 8 * i)) << 32n) | BigInt(u32(b, off + 8 * i + 4));
      st.attrs.extCommunities = out;
      return undefined;
    },
    encode(a, w) {
      const c = a.extCommunities;
      if (c === undefined || c.length === 0) return;
      for (const x of c) {
        if (typeof x !== 'bigint' || x < 0n || x >= 1n << 64n) {
          throw new WireError('INVALID_VALUE', `extCommunity: not a uint64: ${String(x)}`);
        }
      }
      writeAttr(w, O | T, ATTR.EXTENDED_COMMUNITIES, (w) => {
        for (const x of c) w.u32(Number(x >> 32n)).u32(Number(x & 0xffffffffn));
      });
    },
    format: (a) =>
      a.extCommunities === undefined
        ? undefined
        : `ext-communities ${a.extCommunities.map((x) => x.toString(16).padStart(16, '0')).join(' ')}`,
  },
  {
    type: ATTR.AS4_PATH,
    name: 'AS4_PATH',
    ignoredFrom: 'four-octet', // RFC 6793 §3: only between OLD and NEW speakers
    flags: O | T,
    onFlagsError: 'attribute-discard', // RFC 6793 §6: a bad AS4_PATH is discarded
    decode(b, off, len, st) {
      const segs = decodeAsPath(b, off, len, 4);
      if (typeof segs === 'string') return discard(E.MALFORMED_AS_PATH, `AS4_PATH: ${segs}`);
      if (hasAsZero(segs)) return discard(E.MALFORMED_AS_PATH, 'AS4_PATH contains AS 0 (RFC 7607)');
      const clean = as4PathOf(segs);
      st.as4Path = clean;
      if (clean.length !== segs.length) {
        return discard(E.MALFORMED_AS_PATH, 'confederation segments removed from AS4_PATH (RFC 6793 §6)');
      }
      return undefined;
    },
    encode(a, w, st) {
      if (st.ctx.fourOctetAs || !needsAs4(a.asPath)) return;
      const p = as4PathOf(a.asPath);
      if (asPathSize(p, 4) === 0) return;
      writeAttr(w, O | T, ATTR.AS4_PATH, (w) => writeAsPath(w, p, 4));
    },
    format: () => undefined, // merged into AS_PATH
  },
  {
    type: ATTR.AS4_AGGREGATOR,
    name: 'AS4_AGGREGATOR',
    ignoredFrom: 'four-octet',
    flags: O | T,
    onFlagsError: 'attribute-discard',
    decode(b, off, len, st) {
      const v = decodeAggregator(b, off, len, 4);
      if ('reason' in v) return { ...v, reason: `AS4_${v.reason}` };
      st.as4Aggregator = v;
      return undefined;
    },
    encode(a, w, st) {
      const ag = a.aggregator;
      if (st.ctx.fourOctetAs || ag === undefined || ag.asn <= 0xffff) return;
      const addr = parseIp4(ag.address, 'aggregator.address');
      writeAttr(w, O | T, ATTR.AS4_AGGREGATOR, (w) => w.u32(ag.asn).u32(addr));
    },
    format: () => undefined, // merged into AGGREGATOR
  },
  {
    type: ATTR.LARGE_COMMUNITY,
    name: 'LARGE_COMMUNITY',
    flags: O | T,
    onFlagsError: 'treat-as-withdraw',
    decode(b, off, len, st) {
      if (len === 0 || len % 12 !== 0) return lengthFail('LARGE_COMMUNITY', len); // RFC 8092 §6
      const out: (readonly [number, number, number])[] = [];
      const seen = new Set<string>();
      for (let i = off; i < off + len; i += 12) {
        const c = [u32(b, i), u32(b, i + 4), u32(b, i + 8)] as const;
        const k = `${c[0]}:${c[1]}:${c[2]}`;
        if (seen.has(k)) continue; // RFC 8092 §5: duplicates SHOULD be removed
        seen.add(k);
        out.push(c);
      }
      st.attrs.largeCommunities = out;
      return undefined;
    },
    encode(a, w) {
      const c = a.largeCommunities;
      if (c === undefined || c.length === 0) return;
      writeAttr(w, O | T, ATTR.LARGE_COMMUNITY, (w) => {
        for (const [g, l1, l2] of c) {
          for (const x of [g, l1, l2]) w.u32(checkUint(x, 0xffffffff, 'largeCommunity'));
        }
      });
    },
    format: (a) =>
      a.largeCommunities === undefined ? undefined : `large-communities ${a.largeCommunities.map((c) => c.join(':')).join(' ')}`,
  },
];

function mpFail(reason: string): AttrFailure {
  return fail(E.OPTIONAL_ATTRIBUTE_ERROR, 'session-reset', reason); // RFC 4760 §7, RFC 7606 §7.11
}

function formatMpNextHop(nh: MpNextHop): string {
  return nh.linkLocal === undefined ? nh.global : `${nh.global} ${nh.linkLocal}`;
}

/** ATTRIBUTE_BY_TYPE[type]: the descriptor, or undefined for attributes tortie does not know. */
export const ATTRIBUTE_BY_TYPE: readonly (AttrDescriptor | undefined)[] = (() => {
  const t = new Array<AttrDescriptor | undefined>(256).fill(undefined);
  for (const d of ATTRIBUTES) t[d.type] = d;
  return t;
})();

/**
 * Writes every path attribute of `a` except MP_REACH/MP_UNREACH, in ascending type order (RFC 4271 §5),
 * unknown optional transitive attributes included with the Partial bit set (RFC 4271 §5). Unknown attributes
 * whose type tortie knows are skipped: the decoded field is the truth.
 */
export function encodeAttributes(a: PathAttributes, w: Writer, st: AttrEncodeState): void {
  const unknown = (a.unknown ?? []).filter((u) => ATTRIBUTE_BY_TYPE[u.type] === undefined).sort((x, y) => x.type - y.type);
  let k = 0;
  for (const d of ATTRIBUTES) {
    for (; k < unknown.length && unknown[k]!.type < d.type; k++) writeUnknown(w, unknown[k]!);
    d.encode(a, w, st);
  }
  for (; k < unknown.length; k++) writeUnknown(w, unknown[k]!);
}

function writeUnknown(w: Writer, u: NonNullable<PathAttributes['unknown']>[number]): void {
  let flags = checkUint(u.flags, 255, 'unknown attribute flags');
  if ((flags & (O | T)) === (O | T)) flags |= ATTR_FLAG.PARTIAL;
  writeAttr(w, flags, checkUint(u.type, 255, 'unknown attribute type'), (w) => w.bytes(u.value));
}

/** A one-line description of `a` for logs. */
export function formatAttributes(a: PathAttributes): string {
  const parts: string[] = [];
  for (const d of ATTRIBUTES) {
    const s = d.format(a);
    if (s !== undefined) parts.push(s);
  }
  for (const u of a.unknown ?? []) {
    parts.push(`attr ${u.type} flags 0x${u.flags.toString(16)} ${Buffer.from(u.value).toString('hex')}`);
  }
  return parts.join(', ');
}
