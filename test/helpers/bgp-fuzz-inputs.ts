/**
 * Inputs for the BGP fuzz rig (bgp-fuzz.ts): a seeded PRNG, the peers the rig plays, valid messages
 * built by hand (src/bgp/wire/testing/bytes.ts, not tortie's encoder) and the mutations applied to
 * them: bit flips, byte sets to boundary values, truncation, header/withdrawn/attribute length
 * edits, byte insertion and deletion, attribute shuffling/duplication/removal, random attribute
 * TLVs, random NLRI and MP_REACH/MP_UNREACH contents, message type changes, and delivery in random
 * chunks or glued to a following message. Structure-aware mutations rebuild the UPDATE with every
 * length right, so most of them get past the framer into the attribute decoders and the RIB.
 */
import { attr, cat, ip4, ip6, message, segment, u16, u32, type Bytes } from '../../src/bgp/wire/testing/bytes.js';

// ---------------------------------------------------------------------------------------------
// Randomness

/** mulberry32: a small seeded PRNG, so a run is replayed by its seed. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(this.s ^ (this.s >>> 15), 1 | this.s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  bytes(n: number): number[] {
    return Array.from({ length: n }, () => this.int(256));
  }
}

// ---------------------------------------------------------------------------------------------
// Peers

export interface PeerProfile {
  name: string;
  address: string;
  as: number;
  fourOctetAs: boolean;
  rrClient?: boolean;
  /** Announce graceful restart (RFC 4724) with this restart time and the N bit (RFC 8538). */
  gr?: number;
  /** Hold time in the peer's OPEN (observers use 0: no timers). */
  hold: number;
}

export const LOCAL_AS = 65000;
export const SPEAKER_ADDRESS = '192.0.2.1';

export const TARGETS: readonly PeerProfile[] = [
  { name: 'ibgp-rrc', address: '192.0.2.2', as: LOCAL_AS, fourOctetAs: true, rrClient: true, hold: 90 },
  { name: 'ebgp-2octet', address: '192.0.2.5', as: 65005, fourOctetAs: false, hold: 90 },
  { name: 'ebgp-gr', address: '192.0.2.6', as: 4200000006, fourOctetAs: true, gr: 120, hold: 90 },
];

export const OBSERVERS: readonly PeerProfile[] = [
  { name: 'obs-ebgp', address: '192.0.2.3', as: 65003, fourOctetAs: true, hold: 0 },
  { name: 'obs-ibgp-rrc', address: '192.0.2.4', as: LOCAL_AS, fourOctetAs: true, rrClient: true, hold: 0 },
  { name: 'obs-ebgp-2octet', address: '192.0.2.7', as: 65007, fourOctetAs: false, hold: 0 },
];

const asSize = (p: PeerProfile): 2 | 4 => (p.fourOctetAs ? 4 : 2);
const routerIdOf = (p: PeerProfile) => `10.1.0.${p.address.split('.')[3]}`;

/** The peer's OPEN, hand-built (RFC 4271 §4.2, RFC 5492). `extra` capabilities are appended. */
export function openFor(p: PeerProfile, extra: Bytes[] = []): Buffer {
  const caps: Bytes[] = [
    [1, 4, ...u16(1), 0, 1],
    [1, 4, ...u16(2), 0, 1],
    [2, 0],
    [70, 0], // enhanced route refresh (RFC 7313)
  ];
  if (p.fourOctetAs) caps.push([65, 4, ...u32(p.as)]);
  if (p.gr !== undefined) caps.push([64, 10, ...u16(0x4000 | p.gr), ...u16(1), 1, 0x80, ...u16(2), 1, 0x80]); // N bit, both families
  caps.push(...extra);
  const params = cat(...caps.map((c) => [2, c.length, ...c]));
  return message(1, [4], u16(p.as > 0xffff ? 23456 : p.as), u16(p.hold), ip4(routerIdOf(p)), [params.length], params);
}

export const KEEPALIVE = message(4);

// ---------------------------------------------------------------------------------------------
// Corpus: valid messages, UPDATEs kept as parts so that structure-aware mutations can rebuild them

export interface UpdateParts {
  withdrawn: Bytes;
  attrs: Bytes[];
  nlri: Bytes;
}

/** The UPDATE message of `u`, every length field right. */
export function assemble(u: UpdateParts): Buffer {
  const attrLen = u.attrs.reduce((n, a) => n + a.length, 0);
  const len = 19 + 2 + u.withdrawn.length + 2 + attrLen + u.nlri.length;
  const b = Buffer.alloc(len, 0xff);
  let o = 16;
  const put = (xs: Bytes) => {
    for (const x of xs) b[o++] = x;
  };
  put([...u16(len), 2, ...u16(u.withdrawn.length)]);
  put(u.withdrawn);
  put(u16(attrLen));
  for (const a of u.attrs) put(a);
  put(u.nlri);
  return b;
}

/**
 * NLRI (RFC 4271 §4.3: length octet, then the significant octets), mostly from a pool of prefixes shared
 * by every target so that their routes compete in the decision process: 10.0-3.0-7.0/24, 2001:db8:0-f::/48.
 */
function randomNlri4(rng: Rng, n: number): Bytes {
  const out: Bytes = [];
  for (let k = 0; k < n; k++) {
    if (rng.chance(0.85)) out.push(24, 10, rng.int(4), rng.int(8));
    else {
      const len = rng.range(0, 32);
      out.push(len, ...rng.bytes((len + 7) >>> 3));
    }
  }
  return out;
}

function randomNlri6(rng: Rng, n: number): Bytes {
  const out: Bytes = [];
  for (let k = 0; k < n; k++) {
    if (rng.chance(0.85)) out.push(48, 0x20, 0x01, 0x0d, 0xb8, 0, rng.int(16));
    else {
      const len = rng.range(0, 128);
      out.push(len, ...rng.bytes((len + 7) >>> 3));
    }
  }
  return out;
}

const ORIGIN = (v = 0) => attr(0x40, 1, [v]);
const NEXT_HOP = (a = '192.0.2.9') => attr(0x40, 3, ip4(a));
const mpReach = (afi: number, nh: Bytes, nlri: Bytes) => attr(0x80, 14, cat(u16(afi), [1], [nh.length], nh, [0], nlri));
const mpUnreach = (afi: number, nlri: Bytes) => attr(0x80, 15, cat(u16(afi), [1], nlri));

/** The kinds of valid UPDATE `updateSeed` builds. */
export const UPDATE_KINDS = ['full', 'v6', 'withdraw4', 'withdraw6', 'eor4', 'eor6', 'mp4', 'mp4-v6-next-hop', 'mixed', 'extended-length', 'big', 'long-path'] as const;
export type UpdateKind = (typeof UPDATE_KINDS)[number];

/** Large seeds are built once per peer (from a fixed seed): building them is most of the cost otherwise. */
const bigCache = new Map<string, UpdateParts>();

/** One valid UPDATE for `p` (of `kind`, else a random kind; full and v6 twice as often), fresh NLRI from `rng`. */
/** The attributes every UPDATE of a peer shares, built once per peer. */
interface PeerAttrs {
  first: number;
  path: Bytes;
  ibgpOnly: Bytes[];
  as4: Bytes[];
  aggregator: Bytes;
}
const peerAttrs = new Map<string, PeerAttrs>();

function attrsFor(p: PeerProfile): PeerAttrs {
  let a = peerAttrs.get(p.name);
  if (a) return a;
  const size = asSize(p);
  const first = p.as === LOCAL_AS ? 65010 : p.as > 0xffff && size === 2 ? 23456 : p.as;
  a = {
    first,
    path: attr(0x40, 2, cat(segment(2, [first, 65020, size === 2 ? 23456 : 4200000000], size), segment(1, [65030, 65031], size))),
    ibgpOnly: p.as === LOCAL_AS ? [attr(0x40, 5, u32(120)), attr(0x80, 9, ip4('10.9.9.9')), attr(0x80, 10, ip4('10.8.8.8'))] : [],
    // RFC 6793 §4.2.2: an OLD speaker passes AS4_PATH / AS4_AGGREGATOR on
    as4: size === 2 ? [attr(0xc0, 17, segment(2, [first, 65020, 4200000000])), attr(0xc0, 18, cat(u32(4200000000), ip4('1.2.3.4')))] : [],
    aggregator: attr(0xc0, 7, cat(size === 4 ? u32(4200000000) : u16(23456), ip4('1.2.3.4'))),
  };
  peerAttrs.set(p.name, a);
  return a;
}

const STATIC = {
  atomic: attr(0x40, 6, []),
  ext: attr(0xc0, 16, cat(u32(0x00020000 | 0xfde9), u32(1))),
  large: attr(0xc0, 32, cat(u32(65001), u32(1), u32(2))),
  comm7: attr(0xc0, 8, u32(7)),
  nh6ll: cat(ip6('2001:db8::9'), ip6('fe80::9')),
  nh6: ip6('2001:db8::9'),
};

export function updateSeed(p: PeerProfile, rng: Rng, kind?: UpdateKind): UpdateParts {
  const k: UpdateKind = kind ?? (rng.chance(0.3) ? rng.pick(['full', 'v6'] as const) : rng.pick(UPDATE_KINDS));
  const size = asSize(p);
  const { first, path, ibgpOnly, as4, aggregator } = attrsFor(p);
  switch (k) {
    case 'full':
      return {
        withdrawn: randomNlri4(rng, rng.int(3)),
        attrs: [
          ORIGIN(rng.int(3)),
          path,
          NEXT_HOP(),
          attr(0x80, 4, u32(rng.int(1000))),
          ...ibgpOnly,
          STATIC.atomic,
          aggregator,
          attr(0xc0, 8, cat(u32((65001 << 16) | 1), u32(rng.chance(0.1) ? 0xffffff01 : (65001 << 16) | 2))),
          STATIC.ext,
          ...as4,
          STATIC.large,
          attr(0xc0, 99, rng.bytes(rng.int(6))),
        ],
        nlri: randomNlri4(rng, rng.range(1, 4)),
      };
    case 'v6':
      return {
        withdrawn: [],
        attrs: [mpReach(2, STATIC.nh6ll, randomNlri6(rng, rng.range(1, 4))), ORIGIN(), path, ...ibgpOnly, STATIC.comm7],
        nlri: [],
      };
    case 'withdraw4':
      return { withdrawn: randomNlri4(rng, rng.range(1, 5)), attrs: [], nlri: [] };
    case 'withdraw6':
      return { withdrawn: [], attrs: [mpUnreach(2, randomNlri6(rng, rng.range(1, 4)))], nlri: [] };
    case 'eor4':
      return { withdrawn: [], attrs: [], nlri: [] };
    case 'eor6':
      return { withdrawn: [], attrs: [mpUnreach(2, [])], nlri: [] };
    case 'mp4':
      return { withdrawn: [], attrs: [mpReach(1, ip4('192.0.2.9'), randomNlri4(rng, 2)), ORIGIN(), path], nlri: [] };
    case 'mp4-v6-next-hop': // RFC 8950: IPv4 NLRI with an IPv6 next hop
      return { withdrawn: [], attrs: [mpReach(1, STATIC.nh6, randomNlri4(rng, 2)), ORIGIN(), path], nlri: [] };
    case 'mixed':
      return {
        withdrawn: randomNlri4(rng, 1),
        attrs: [mpUnreach(2, randomNlri6(rng, 1)), mpReach(2, STATIC.nh6, randomNlri6(rng, 1)), ORIGIN(), path, NEXT_HOP('192.0.2.10')],
        nlri: randomNlri4(rng, 1),
      };
    case 'extended-length':
      return { withdrawn: [], attrs: [ORIGIN(), attr(0x50, 2, segment(2, [first], size)), NEXT_HOP(), attr(0xd0, 8, u32(9))], nlri: randomNlri4(rng, 1) };
    case 'big':
    case 'long-path': {
      // Close to 4096 octets: what happens when the route is exported with more attributes?
      const key = `${p.name}/${k}`;
      let u = bigCache.get(key);
      if (!u) {
        const r = new Rng(key.length * 7919);
        const attrs =
          k === 'big'
            ? [ORIGIN(), path, NEXT_HOP(), attr(0xd0, 99, r.bytes(r.range(3800, 4040)))]
            : [ORIGIN(), attr(0x50, 2, cat(...Array.from({ length: 14 }, () => segment(2, Array.from({ length: 255 }, () => r.range(1, 65535)), size)))), NEXT_HOP()];
        u = { withdrawn: [], attrs, nlri: [] };
        bigCache.set(key, u);
      }
      return { ...u, nlri: randomNlri4(rng, 1) };
    }
  }
}

const otherCache = new Map<string, Buffer[]>();

/** The peer's plain OPEN. */
export function openOf(p: PeerProfile): Buffer {
  return fixedSeeds(p)[0]!;
}

/** Valid messages other than UPDATE: the three OPENs first. */
export function otherSeeds(p: PeerProfile, rng: Rng): Buffer[] {
  return [...fixedSeeds(p), message(5, u16(rng.int(65536)), [rng.int(256)], [rng.int(256)])];
}

function fixedSeeds(p: PeerProfile): Buffer[] {
  const cached = otherCache.get(p.name);
  if (cached) return cached;
  const shutdown = Buffer.from('maintenance', 'utf8');
  const seeds = [
    openFor(p),
    openFor(p, [[73, 5, 3, 0x61, 0x62, 0x63, 0]]), // FQDN, unknown to tortie's FSM
    openFor({ ...p, gr: 1 }),
    KEEPALIVE,
    message(3, [6, 2, shutdown.length, ...shutdown]),
    message(3, [6, 9, 6, 2]), // Hard Reset carrying Cease/Administrative Shutdown (RFC 8538)
    message(3, [3, 1]),
    message(5, u16(1), [0], [1]),
    message(5, u16(2), [1], [1]), // BoRR (RFC 7313)
    message(5, u16(2), [2], [1]), // EoRR
  ];
  otherCache.set(p.name, seeds);
  return seeds;
}

// ---------------------------------------------------------------------------------------------
// Mutations

const BOUNDARY = [0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 17, 18, 19, 23, 24, 25, 29, 32, 33, 63, 64, 127, 128, 129, 191, 192, 223, 224, 254, 255];
const ATTR_TYPES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 14, 15, 16, 17, 18, 20, 32, 35, 99, 128, 255];
const ATTR_FLAGS = [0x00, 0x10, 0x20, 0x40, 0x50, 0x60, 0x80, 0x90, 0xa0, 0xc0, 0xd0, 0xe0, 0xf0];

/** A random path attribute TLV: well-formed framing, arbitrary flags, type and value. */
function randomAttr(rng: Rng): Bytes {
  const flags = rng.chance(0.8) ? rng.pick(ATTR_FLAGS) : rng.int(256);
  const type = rng.chance(0.8) ? rng.pick(ATTR_TYPES) : rng.int(256);
  const len = rng.chance(0.7) ? rng.pick([0, 1, 2, 3, 4, 5, 6, 8, 12, 16, 24]) : rng.int(rng.chance(0.9) ? 64 : 600);
  return attr(len > 255 ? flags | 0x10 : flags, type, rng.bytes(len));
}

/** Mutations that keep the UPDATE's framing right (lengths recomputed), so decoding goes deep. */
function mutateParts(u: UpdateParts, rng: Rng, size: 2 | 4): UpdateParts {
  const m: UpdateParts = { withdrawn: u.withdrawn, attrs: [...u.attrs], nlri: u.nlri }; // attributes copied before an edit
  const n = rng.range(1, 3);
  for (let k = 0; k < n; k++) {
    switch (rng.int(11)) {
      case 0: // shuffle
        for (let i = m.attrs.length - 1; i > 0; i--) {
          const j = rng.int(i + 1);
          [m.attrs[i], m.attrs[j]] = [m.attrs[j]!, m.attrs[i]!];
        }
        break;
      case 1: // duplicate one
        if (m.attrs.length) m.attrs.splice(rng.int(m.attrs.length + 1), 0, [...rng.pick(m.attrs)]);
        break;
      case 2: // drop one
        if (m.attrs.length) m.attrs.splice(rng.int(m.attrs.length), 1);
        break;
      case 3: // random TLV
        m.attrs.splice(rng.int(m.attrs.length + 1), 0, randomAttr(rng));
        break;
      case 4: {
        // one attribute's flags, or its length octet(s), or a value octet
        if (!m.attrs.length) break;
        const i = rng.int(m.attrs.length);
        const a = [...m.attrs[i]!];
        m.attrs[i] = a;
        const at = rng.chance(0.3) ? 0 : rng.chance(0.5) ? 2 : rng.int(a.length);
        a[at] = rng.chance(0.5) ? rng.pick(BOUNDARY) : rng.int(256);
        break;
      }
      case 5: {
        // one attribute's value replaced by random bytes of a nearby length
        if (!m.attrs.length) break;
        const i = rng.int(m.attrs.length);
        const a = m.attrs[i]!;
        const ext = (a[0]! & 0x10) !== 0;
        const len = Math.max(0, a.length - (ext ? 4 : 3) + rng.range(-4, 4));
        m.attrs[i] = attr(a[0]! & ~0x10, a[1]!, rng.bytes(len));
        break;
      }
      case 6: // random NLRI (sometimes with impossible prefix lengths)
        m.nlri = rng.chance(0.7) ? randomNlri4(rng, rng.range(0, 6)) : [rng.pick(BOUNDARY), ...rng.bytes(rng.int(6))];
        break;
      case 7: // random withdrawn routes
        m.withdrawn = rng.chance(0.7) ? randomNlri4(rng, rng.range(0, 6)) : [rng.pick(BOUNDARY), ...rng.bytes(rng.int(6))];
        break;
      case 8: // MP_REACH / MP_UNREACH with random contents
        m.attrs.splice(
          rng.int(m.attrs.length + 1),
          0,
          rng.chance(0.5)
            ? mpReach(rng.pick([1, 2, rng.int(65536)]), rng.bytes(rng.pick([0, 4, 8, 12, 16, 24, 32, 33])), rng.chance(0.5) ? randomNlri6(rng, rng.range(0, 3)) : rng.bytes(rng.int(20)))
            : mpUnreach(rng.pick([1, 2, rng.int(65536)]), rng.chance(0.5) ? randomNlri6(rng, rng.range(0, 3)) : rng.bytes(rng.int(20))),
        );
        break;
      case 9: {
        // AS_PATH (or, from a 2-octet peer, AS4_PATH) rebuilt from random segments: SET, SEQUENCE, CONFED_*,
        // undefined types, AS 0, AS_TRANS
        const as4 = size === 2 && rng.chance(0.3);
        const width = as4 ? 4 : size;
        const segs: Bytes[] = [];
        for (let n = rng.range(0, 4); n > 0; n--) {
          const type = rng.chance(0.9) ? rng.range(1, 4) : rng.pick([0, 5, 255]);
          const count = rng.chance(0.95) ? rng.range(1, 6) : rng.pick([0, 255]);
          const asns = Array.from({ length: count }, () => (rng.chance(0.9) ? rng.range(1, width === 2 ? 65535 : 4294967295) : rng.pick([0, 23456, 65000])));
          segs.push(segment(type, asns, width));
        }
        const type = as4 ? 17 : 2;
        const tlv = attr(as4 ? 0xc0 : 0x40, type, cat(...segs));
        const at = m.attrs.findIndex((a) => a[1] === type);
        if (at >= 0) m.attrs[at] = tlv;
        else m.attrs.splice(rng.int(m.attrs.length + 1), 0, tlv);
        break;
      }
      default: {
        // extended-length form of an attribute (same value)
        if (!m.attrs.length) break;
        const i = rng.int(m.attrs.length);
        const a = m.attrs[i]!;
        if (a[0]! & 0x10) break;
        m.attrs[i] = [a[0]! | 0x10, a[1]!, 0, a[2]!, ...a.slice(3)];
      }
    }
  }
  return m;
}

/** Byte-level mutations of a whole message; the header length is fixed up afterwards unless `keepLength`. */
function mutateBytes(src: Buffer, rng: Rng): Buffer {
  let b = Buffer.from(src); // a copy: seeds are shared
  const n = rng.range(1, 4);
  const pos = () => (b.length <= 19 || rng.chance(0.03) ? rng.int(b.length + 1) : 19 + rng.int(b.length - 18));
  for (let k = 0; k < n; k++) {
    switch (rng.int(8)) {
      case 0: {
        const at = pos();
        if (at < b.length) b[at] = b[at]! ^ (1 << rng.int(8));
        break;
      }
      case 1: {
        const at = pos();
        if (at < b.length) b[at] = rng.pick(BOUNDARY);
        break;
      }
      case 2:
        b = b.subarray(0, pos());
        break;
      case 3: {
        const at = pos();
        b = Buffer.concat([b.subarray(0, at), Buffer.from(rng.bytes(rng.range(1, 16))), b.subarray(at)]);
        break;
      }
      case 4: {
        const at = pos();
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + rng.range(1, 16))]);
        break;
      }
      case 5: {
        // a 2-octet length field of the body (withdrawn routes length, total path attribute length, ...)
        const at = 19 + rng.int(Math.max(1, b.length - 20));
        const v = rng.chance(0.5) ? rng.pick(BOUNDARY) : rng.int(65536);
        if (at + 1 < b.length) b.writeUInt16BE(v, at);
        break;
      }
      case 6:
        if (b.length > 18) b[18] = rng.chance(0.8) ? rng.range(0, 6) : rng.int(256);
        break;
      default: {
        // splice in a slice of itself (repeats a structure)
        const from = rng.int(b.length);
        const at = pos();
        b = Buffer.concat([b.subarray(0, at), b.subarray(from, from + rng.range(1, 24)), b.subarray(at)]);
      }
    }
  }
  const fix = rng.next();
  if (b.length >= 18 && b.length <= 0xffff) {
    if (fix < 0.85) b.writeUInt16BE(b.length, 16);
    else if (fix < 0.95) b.writeUInt16BE(rng.pick([0, 18, 19, 20, 22, 23, 28, 29, 4095, 4096, 4097, 65535, b.length - 1, b.length + 1]) & 0xffff, 16);
  }
  return b;
}

/**
 * One fuzz input: a mutated message, delivered in one or more chunks, sometimes followed by a valid one.
 * `preferOpen` (for sessions in OpenSent / OpenConfirm): mostly OPEN, KEEPALIVE, NOTIFICATION.
 */
export function fuzzInput(p: PeerProfile, rng: Rng, preferOpen: boolean): Buffer[] {
  let msg: Buffer;
  if (rng.chance(preferOpen ? 0.2 : 0.8)) {
    const parts = updateSeed(p, rng);
    const structural = rng.chance(0.75);
    const u = structural ? mutateParts(parts, rng, asSize(p)) : parts;
    msg = assemble(u);
    if (!structural || rng.chance(0.2)) msg = mutateBytes(msg, rng);
  } else {
    const seeds = otherSeeds(p, rng);
    msg = mutateBytes(preferOpen && rng.chance(0.6) ? seeds[rng.int(3)]! : rng.pick(seeds), rng);
  }
  let stream = msg;
  const glue = rng.next();
  if (glue < 0.1) stream = Buffer.concat([msg, KEEPALIVE]);
  else if (glue < 0.15) stream = Buffer.concat([msg, assemble(updateSeed(p, rng))]);
  if (stream.length < 2 || rng.chance(0.75)) return [stream];
  const cuts = [...new Set(Array.from({ length: rng.range(1, 4) }, () => rng.range(1, stream.length - 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let at = 0;
  for (const c of cuts) {
    out.push(stream.subarray(at, c));
    at = c;
  }
  out.push(stream.subarray(at));
  return out;
}

