import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { p4, type PathAttributes, type Prefix4 } from '../types.js';
import { formatAttributes } from './attributes.js';
import { decodeMessage } from './message.js';
import type { UpdateMessage, WireContext } from './model.js';
import { decodeUpdate } from './update.js';
import { encodeEndOfRib, encodeUpdate, encodeUpdates } from './update-encode.js';
import { pathAttributes, prefix4, prefix6 } from './testing/arbitraries.js';
import { attr, cat, ip4, ip6, message, pfx4, pfx6, segment, u16, u32, update } from './testing/bytes.js';

const as4: WireContext = { fourOctetAs: true };
const as2: WireContext = { fourOctetAs: false };

function decoded(m: Uint8Array, ctx: WireContext): UpdateMessage {
  const d = decodeMessage(m, ctx);
  assert.equal(d.type, 'update', JSON.stringify(d, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)));
  return d as UpdateMessage;
}

const P = (text: string): Prefix4 => {
  const [a, l] = text.split('/');
  const [w, x, y, z] = ip4(a!);
  return p4(((w! << 24) | (x! << 16) | (y! << 8) | z!) >>> 0, Number(l));
};

const v4list = ['10.0.0.0/8', '10.1.0.0/16', '10.1.2.0/24', '10.1.2.3/32', '0.0.0.0/0', '10.1.2.128/25', '192.168.0.0/23'];

const richAttrs: PathAttributes = {
  origin: 0,
  asPath: [
    { type: 2, asns: [65001, 4200000000] },
    { type: 1, asns: [65002, 65003] },
  ],
  nextHop: '192.0.2.1',
  med: 100,
  localPref: 200,
  atomicAggregate: true,
  aggregator: { asn: 65001, address: '10.0.0.1' },
  communities: [65001 * 65536 + 1, 0xffffff01],
  originatorId: '10.9.9.9',
  clusterList: ['10.8.8.8', '10.7.7.7'],
  extCommunities: [0x0002fde900000064n],
  largeCommunities: [[4200000000, 1, 2]],
  unknown: [{ flags: 0xe0, type: 99, value: Uint8Array.of(1, 2, 3) }],
};

test('an IPv4 UPDATE with every attribute matches hand-assembled bytes (4-octet AS)', () => {
  const expected = update(
    [],
    cat(
      attr(0x40, 1, [0]),
      attr(0x40, 2, cat(segment(2, [65001, 4200000000]), segment(1, [65002, 65003]))),
      attr(0x40, 3, ip4('192.0.2.1')),
      attr(0x80, 4, u32(100)),
      attr(0x40, 5, u32(200)),
      attr(0x40, 6, []),
      attr(0xc0, 7, cat(u32(65001), ip4('10.0.0.1'))),
      attr(0xc0, 8, cat(u16(65001), u16(1), u32(0xffffff01))),
      attr(0x80, 9, ip4('10.9.9.9')),
      attr(0x80, 10, cat(ip4('10.8.8.8'), ip4('10.7.7.7'))),
      attr(0xc0, 16, [0x00, 0x02, 0xfd, 0xe9, 0, 0, 0, 100]),
      attr(0xc0, 32, cat(u32(4200000000), u32(1), u32(2))),
      attr(0xe0, 99, [1, 2, 3]),
    ),
    cat(...v4list.map(pfx4)),
  );
  const announced = { v4: v4list.map(P), v6: [] };
  assert.deepEqual(encodeUpdate({ announced, attrs: richAttrs }, as4), expected);
  assert.deepEqual(decoded(expected, as4), { type: 'update', withdrawn: { v4: [], v6: [] }, announced, attrs: richAttrs, problems: [] });
  assert.equal(
    formatAttributes(richAttrs),
    'origin IGP, as-path 65001 4200000000 {65002 65003}, next-hop 192.0.2.1, med 100, local-pref 200, atomic-aggregate, ' +
      'aggregator 10.0.0.1 AS65001, communities 65001:1 65535:65281, originator-id 10.9.9.9, cluster-list 10.8.8.8 10.7.7.7, ' +
      'ext-communities 0002fde900000064, large-communities 4200000000:1:2, attr 99 flags 0xe0 010203',
  );
});

test('towards a 2-octet peer: AS_TRANS in AS_PATH and AGGREGATOR, AS4_PATH and AS4_AGGREGATOR added (RFC 6793 §4.2.2)', () => {
  const attrs: PathAttributes = {
    origin: 2,
    asPath: [
      { type: 3, asns: [65010] },
      { type: 2, asns: [65001, 4200000000, 65002] },
      { type: 1, asns: [4200000001, 65003] },
    ],
    nextHop: '192.0.2.1',
    aggregator: { asn: 4200000002, address: '10.0.0.2' },
  };
  const expected = update(
    [],
    cat(
      attr(0x40, 1, [2]),
      attr(0x40, 2, cat(segment(3, [65010], 2), segment(2, [65001, 23456, 65002], 2), segment(1, [23456, 65003], 2))),
      attr(0x40, 3, ip4('192.0.2.1')),
      attr(0xc0, 7, cat(u16(23456), ip4('10.0.0.2'))),
      attr(0xc0, 17, cat(segment(2, [65001, 4200000000, 65002]), segment(1, [4200000001, 65003]))),
      attr(0xc0, 18, cat(u32(4200000002), ip4('10.0.0.2'))),
    ),
    pfx4('10.0.0.0/8'),
  );
  const announced = { v4: [P('10.0.0.0/8')], v6: [] };
  assert.deepEqual(encodeUpdate({ announced, attrs }, as2), expected);
  assert.deepEqual(decoded(expected, as2).attrs, attrs);
  // Without 4-octet ASNs, no AS4_* attributes at all.
  const small: PathAttributes = { origin: 0, asPath: [{ type: 2, asns: [65001] }], nextHop: '192.0.2.1', aggregator: { asn: 65001, address: '10.0.0.2' } };
  assert.deepEqual(
    encodeUpdate({ announced, attrs: small }, as2),
    update([], cat(attr(0x40, 1, [0]), attr(0x40, 2, segment(2, [65001], 2)), attr(0x40, 3, ip4('192.0.2.1')), attr(0xc0, 7, cat(u16(65001), ip4('10.0.0.2')))), pfx4('10.0.0.0/8')),
  );
});

test('an IPv6 UPDATE: MP_REACH_NLRI first with global and link-local next hop, no NEXT_HOP', () => {
  const v6 = ['2001:db8::/32', '2001:db8:1:2::/64', '::/0', '2001:db8::1/128', '2001:db8:8000::/33'];
  const attrs: PathAttributes = { origin: 0, asPath: [], localPref: 100, mpNextHop: { global: '2001:db8::1', linkLocal: 'fe80::1' } };
  const mpValue = cat(u16(2), [1], [32], ip6('2001:db8::1'), ip6('fe80::1'), [0], ...v6.map(pfx6));
  const expected = update([], cat(attr(0x80, 14, mpValue), attr(0x40, 1, [0]), attr(0x40, 2, []), attr(0x40, 5, u32(100))), []);
  assert.deepEqual(encodeUpdate({ announced: { v6 }, attrs: { ...attrs, nextHop: '192.0.2.1' } }, as4), expected);
  assert.deepEqual(decoded(expected, as4), { type: 'update', withdrawn: { v4: [], v6: [] }, announced: { v4: [], v6 }, attrs, problems: [] });
});

test('an IPv6 next hop of 16 octets; a zero link-local counts as absent', () => {
  const attrs: PathAttributes = { origin: 0, asPath: [], mpNextHop: { global: '2001:db8::1' } };
  const m16 = update([], cat(attr(0x80, 14, cat(u16(2), [1], [16], ip6('2001:db8::1'), [0], pfx6('2001:db8::/32'))), attr(0x40, 1, [0]), attr(0x40, 2, [])), []);
  assert.deepEqual(encodeUpdate({ announced: { v6: ['2001:db8::/32'] }, attrs }, as4), m16);
  const m32 = update([], cat(attr(0x80, 14, cat(u16(2), [1], [32], ip6('2001:db8::1'), ip6('::'), [0], pfx6('2001:db8::/32'))), attr(0x40, 1, [0]), attr(0x40, 2, [])), []);
  assert.deepEqual(decoded(m32, as4).attrs, attrs);
});

test('withdrawals: IPv4 in Withdrawn Routes, IPv6 in MP_UNREACH_NLRI', () => {
  assert.deepEqual(encodeUpdate({ withdrawn: { v4: v4list.map(P) } }, as4), update(cat(...v4list.map(pfx4)), [], []));
  const v6 = ['2001:db8::/32', '2001:db8:1::/48'];
  const expected = update([], attr(0x80, 15, cat(u16(2), [1], ...v6.map(pfx6))), []);
  assert.deepEqual(encodeUpdate({ withdrawn: { v6 } }, as4), expected);
  assert.deepEqual(decoded(expected, as4), { type: 'update', withdrawn: { v4: [], v6 }, announced: { v4: [], v6: [] }, problems: [] });
});

test('End-of-RIB: an empty UPDATE for IPv4, an empty MP_UNREACH_NLRI for IPv6 (RFC 4724 §2)', () => {
  const eor4 = update([], [], []);
  const eor6 = update([], attr(0x80, 15, cat(u16(2), [1])), []);
  assert.deepEqual(encodeEndOfRib('ipv4'), eor4);
  assert.deepEqual(encodeEndOfRib('ipv6'), eor6);
  assert.equal(decoded(eor4, as4).endOfRib, 'ipv4');
  assert.equal(decoded(eor6, as4).endOfRib, 'ipv6');
  assert.equal(decoded(update([], attr(0x80, 15, cat(u16(1), [1])), []), as4).endOfRib, 'ipv4');
  // Not markers: an MP_UNREACH with NLRI, or with other attributes beside it, or an unknown family.
  assert.equal(decoded(update([], attr(0x80, 15, cat(u16(2), [1], pfx6('::/0'))), []), as4).endOfRib, undefined);
  assert.equal(decoded(update([], cat(attr(0x80, 15, cat(u16(2), [1])), attr(0xc0, 99, [])), []), as4).endOfRib, undefined);
  assert.equal(decoded(update([], attr(0x80, 15, cat(u16(2), [128])), []), as4).endOfRib, undefined);
  assert.equal(decoded(update(pfx4('10.0.0.0/8'), [], []), as4).endOfRib, undefined);
});

test('IPv4 NLRI and withdrawn routes round-trip; host bits are masked on receipt', () => {
  fc.assert(
    fc.property(fc.array(prefix4, { maxLength: 300 }), fc.array(prefix4, { maxLength: 300 }), (w, a) => {
      const attrs: PathAttributes = { origin: 0, asPath: [], nextHop: '192.0.2.1' };
      const d = decoded(encodeUpdate({ withdrawn: { v4: w }, announced: { v4: a }, attrs: a.length ? attrs : undefined }, { fourOctetAs: true, extendedMessage: true }), as4ext);
      assert.deepEqual(d.withdrawn.v4, w);
      assert.deepEqual(d.announced.v4, a);
    }),
    { numRuns: 200 },
  );
  const m = update([], cat(attr(0x40, 1, [0]), attr(0x40, 2, []), attr(0x40, 3, ip4('192.0.2.1'))), [23, 10, 1, 3, 9, 0xff, 0xff, 0, 8, 0xee]);
  assert.deepEqual(decoded(m, as4).announced.v4, [P('10.1.2.0/23'), P('255.128.0.0/9'), P('0.0.0.0/0'), P('238.0.0.0/8')]);
});

const as4ext: WireContext = { fourOctetAs: true, extendedMessage: true };

test('IPv6 NLRI round-trip in MP_REACH_NLRI and MP_UNREACH_NLRI', () => {
  fc.assert(
    fc.property(fc.array(prefix6, { maxLength: 100 }), fc.array(prefix6, { minLength: 1, maxLength: 100 }), (w, a) => {
      const attrs: PathAttributes = { origin: 0, asPath: [], mpNextHop: { global: '2001:db8::1' } };
      const d = decoded(encodeUpdate({ withdrawn: { v6: w }, announced: { v6: a }, attrs }, as4ext), as4ext);
      assert.deepEqual(d.withdrawn.v6, w);
      assert.deepEqual(d.announced.v6, a);
      assert.deepEqual(d.attrs, attrs);
    }),
    { numRuns: 200 },
  );
});

for (const fourOctet of [true, false]) {
  for (const [v4, v6] of [
    [true, false],
    [false, true],
    [true, true],
  ] as const) {
    test(`path attributes round-trip: ${fourOctet ? '4' : '2'}-octet AS, ${v4 ? 'IPv4' : ''}${v4 && v6 ? '+' : ''}${v6 ? 'IPv6' : ''} NLRI`, () => {
      const ctx: WireContext = { fourOctetAs: fourOctet, extendedMessage: true };
      fc.assert(
        fc.property(pathAttributes({ v4, v6, fourOctet }), (attrs) => {
          const announced = { v4: v4 ? [P('10.0.0.0/8')] : [], v6: v6 ? ['2001:db8::/32'] : [] };
          const d = decoded(encodeUpdate({ announced, attrs }, ctx), ctx);
          assert.deepEqual(d.problems, []);
          assert.deepEqual(d.attrs, attrs);
          assert.deepEqual(d.announced, announced);
        }),
        { numRuns: 300 },
      );
    });
  }
}

test('AS paths longer than 255 ASNs are split into segments', () => {
  const asns = Array.from({ length: 300 }, (_, i) => 64512 + i);
  const attrs: PathAttributes = { origin: 0, asPath: [{ type: 2, asns }], nextHop: '192.0.2.1' };
  const m = encodeUpdate({ announced: { v4: [P('10.0.0.0/8')] }, attrs }, as4);
  const expected = update([], cat(attr(0x40, 1, [0]), attr(0x50, 2, cat(segment(2, asns.slice(0, 255)), segment(2, asns.slice(255)))), attr(0x40, 3, ip4('192.0.2.1'))), pfx4('10.0.0.0/8'));
  assert.deepEqual(m, expected);
  assert.deepEqual(decoded(m, as4).attrs?.asPath, [
    { type: 2, asns: asns.slice(0, 255) },
    { type: 2, asns: asns.slice(255) },
  ]);
});

// RFC 6793 §4.2.3, from a 2-octet peer.
const base2 = (...extra: number[][]) => update([], cat(attr(0x40, 1, [0]), ...extra, attr(0x40, 3, ip4('192.0.2.1'))), pfx4('10.0.0.0/8'));

test('AS4_PATH merge: the leading extra ASNs of AS_PATH are kept, AS4_PATH appended', () => {
  const m = base2(attr(0x40, 2, segment(2, [65001, 23456, 23456], 2)), attr(0xc0, 17, segment(2, [4200000000, 4200000001])));
  assert.deepEqual(decoded(m, as2).attrs?.asPath, [
    { type: 2, asns: [65001] },
    { type: 2, asns: [4200000000, 4200000001] },
  ]);
});

test('AS4_PATH merge: AS_SET counts one, confederation segments none and stay in front, a SEQUENCE may be cut', () => {
  const m = base2(
    attr(0x40, 2, cat(segment(3, [65100], 2), segment(2, [65001, 65002, 23456], 2), segment(1, [23456, 65003], 2))),
    attr(0xc0, 17, cat(segment(2, [4200000000]), segment(1, [4200000001, 65003]))),
  );
  assert.deepEqual(decoded(m, as2).attrs?.asPath, [
    { type: 3, asns: [65100] },
    { type: 2, asns: [65001, 65002] },
    { type: 2, asns: [4200000000] },
    { type: 1, asns: [4200000001, 65003] },
  ]);
});

test('AS4_PATH longer than AS_PATH is ignored', () => {
  const m = base2(attr(0x40, 2, segment(2, [23456], 2)), attr(0xc0, 17, segment(2, [4200000000, 4200000001])));
  assert.deepEqual(decoded(m, as2).attrs?.asPath, [{ type: 2, asns: [23456] }]);
});

test('AS4_AGGREGATOR replaces an AS_TRANS AGGREGATOR; with any other AGGREGATOR both AS4_* are ignored', () => {
  const path = attr(0x40, 2, segment(2, [23456], 2));
  const as4path = attr(0xc0, 17, segment(2, [4200000000]));
  const agg = (asn: number) => attr(0xc0, 7, cat(u16(asn), ip4('10.0.0.1')));
  const agg4 = attr(0xc0, 18, cat(u32(4200000009), ip4('10.0.0.9')));
  const ok = decoded(base2(path, agg(23456), as4path, agg4), as2);
  assert.deepEqual(ok.attrs?.aggregator, { asn: 4200000009, address: '10.0.0.9' });
  assert.deepEqual(ok.attrs?.asPath, [{ type: 2, asns: [4200000000] }]);
  const old = decoded(base2(path, agg(65001), as4path, agg4), as2);
  assert.deepEqual(old.attrs?.aggregator, { asn: 65001, address: '10.0.0.1' });
  assert.deepEqual(old.attrs?.asPath, [{ type: 2, asns: [23456] }]);
  assert.equal(old.problems.length, 1);
  assert.equal(old.problems[0]!.handling, 'attribute-discard');
  const alone = decoded(base2(path, agg4), as2);
  assert.equal(alone.attrs?.aggregator, undefined);
});

test('from an external peer, LOCAL_PREF, ORIGINATOR_ID and CLUSTER_LIST are discarded', () => {
  const attrs: PathAttributes = { origin: 0, asPath: [{ type: 2, asns: [65001] }], nextHop: '192.0.2.1', localPref: 5, originatorId: '1.1.1.1', clusterList: ['2.2.2.2'], med: 7 };
  const m = encodeUpdate({ announced: { v4: [P('10.0.0.0/8')] }, attrs }, as4);
  const d = decoded(m, { fourOctetAs: true, ebgp: true });
  assert.deepEqual(d.attrs, { origin: 0, asPath: [{ type: 2, asns: [65001] }], nextHop: '192.0.2.1', med: 7 });
  assert.deepEqual(d.problems.map((p) => [p.handling, p.attrType]), [['attribute-discard', 5], ['attribute-discard', 9], ['attribute-discard', 10]]);
  assert.equal(d.error, undefined);
});

test('unknown attributes: optional transitive kept with Partial set, optional non-transitive dropped', () => {
  const m = update([], cat(attr(0x40, 1, [0]), attr(0x40, 2, []), attr(0x40, 3, ip4('192.0.2.1')), attr(0xc0, 40, [9]), attr(0x80, 41, [8]), attr(0xd0, 42, new Array<number>(300).fill(7))), pfx4('10.0.0.0/8'));
  const d = decoded(m, as4);
  assert.deepEqual(d.attrs?.unknown, [
    { flags: 0xe0, type: 40, value: Uint8Array.of(9) },
    { flags: 0xe0, type: 42, value: new Uint8Array(300).fill(7) },
  ]);
  const again = encodeUpdate({ announced: d.announced, attrs: d.attrs! }, as4);
  assert.deepEqual(again, update([], cat(attr(0x40, 1, [0]), attr(0x40, 2, []), attr(0x40, 3, ip4('192.0.2.1')), attr(0xe0, 40, [9]), attr(0xf0, 42, new Array<number>(300).fill(7))), pfx4('10.0.0.0/8')));
});

test('an unknown optional transitive attribute is passed on with the Partial bit set (RFC 4271 §5)', () => {
  const attrs: PathAttributes = { origin: 0, asPath: [], nextHop: '192.0.2.1', unknown: [{ flags: 0xc0, type: 77, value: Uint8Array.of(5) }, { flags: 0x80, type: 78, value: Uint8Array.of(6) }] };
  assert.deepEqual(
    encodeUpdate({ announced: { v4: [P('10.0.0.0/8')] }, attrs }, as4),
    update([], cat(attr(0x40, 1, [0]), attr(0x40, 2, []), attr(0x40, 3, ip4('192.0.2.1')), attr(0xe0, 77, [5]), attr(0x80, 78, [6])), pfx4('10.0.0.0/8')),
  );
});

test('IPv4 NLRI in MP_REACH_NLRI take its 4-octet next hop; NEXT_HOP is ignored when only MP NLRI are present', () => {
  const m = update([], cat(attr(0x80, 14, cat(u16(1), [1], [4], ip4('192.0.2.7'), [0], pfx4('10.0.0.0/8'))), attr(0x40, 1, [0]), attr(0x40, 2, []), attr(0x40, 3, ip4('192.0.2.1'))), []);
  const d = decoded(m, as4);
  assert.deepEqual(d.announced.v4, [P('10.0.0.0/8')]);
  assert.deepEqual(d.attrs, { origin: 0, asPath: [], nextHop: '192.0.2.7' });
  const v6 = update([], cat(attr(0x80, 14, cat(u16(2), [1], [16], ip6('2001:db8::1'), [0], pfx6('2001:db8::/32'))), attr(0x40, 1, [0]), attr(0x40, 2, []), attr(0x40, 3, ip4('192.0.2.1'))), []);
  assert.equal(decoded(v6, as4).attrs?.nextHop, undefined);
});

// ---- encodeUpdates: packing ----

function packingHolds(msgs: Buffer[], attrs: PathAttributes | undefined, prefixes: { v4?: Prefix4[]; v6?: string[] }, ctx: WireContext): void {
  const max = ctx.extendedMessage ? 65535 : 4096;
  const got = { v4: [] as Prefix4[], v6: [] as string[] };
  let prev: { family: 'v4' | 'v6'; len: number } | undefined;
  for (const m of msgs) {
    assert.ok(m.length <= max, `message of ${m.length}`);
    const d = decoded(m, ctx);
    assert.equal(d.error, undefined);
    const list = attrs ? d.announced : d.withdrawn;
    if (attrs) {
      const expected = { ...attrs };
      if (list.v4.length === 0) delete expected.nextHop; // MP-only: NEXT_HOP not sent (RFC 4760 §3)
      else delete expected.mpNextHop; // classic only: no MP_REACH_NLRI
      assert.deepEqual(d.attrs, expected);
    }
    assert.ok((list.v4.length === 0) !== (list.v6.length === 0), 'one family per message');
    const family = list.v4.length ? 'v4' : 'v6';
    // Maximal packing: the previous message of the same family had no room for this one's first prefix.
    if (prev && prev.family === family) {
      const first = family === 'v4' ? 1 + (((list.v4[0]! % 64) + 7) >> 3) : 1 + ((Number(list.v6[0]!.split('/')[1]) + 7) >> 3);
      assert.ok(prev.len + first > max - (family === 'v6' ? 1 : 0), `message of ${prev.len} could have taken ${first} more`);
    }
    prev = { family, len: m.length };
    got.v4.push(...list.v4);
    got.v6.push(...list.v6);
  }
  assert.deepEqual(got, { v4: prefixes.v4 ?? [], v6: prefixes.v6 ?? [] });
}

test('encodeUpdates packs 1000 /32s into as few 4096-octet UPDATEs as possible', () => {
  const attrs = richAttrs;
  const v4 = Array.from({ length: 1000 }, (_, i) => p4(0x0a000000 + i, 32));
  const msgs = encodeUpdates({ ...attrs, mpNextHop: { global: '2001:db8::1' } }, { v4 }, as4);
  const attrLen = encodeUpdate({ announced: { v4: [] }, attrs }, as4).length - 23;
  const perMsg = Math.floor((4096 - 23 - attrLen) / 5);
  assert.equal(msgs.length, Math.ceil(1000 / perMsg));
  packingHolds(msgs, { ...attrs, mpNextHop: { global: '2001:db8::1' } }, { v4 }, as4);
});

test('encodeUpdates: random prefixes, attributes and sizes always decode back, maximally packed', () => {
  fc.assert(
    fc.property(
      pathAttributes({ v4: true, v6: true, fourOctet: true }),
      fc.array(prefix4, { maxLength: 3000 }),
      fc.array(prefix6, { maxLength: 400 }),
      fc.boolean(),
      fc.boolean(),
      (attrs, v4, v6, ext, withdraw) => {
        const ctx: WireContext = { fourOctetAs: true, extendedMessage: ext };
        const a = withdraw ? undefined : attrs;
        packingHolds(encodeUpdates(a, { v4, v6 }, ctx), a, { v4, v6 }, ctx);
      },
    ),
    { numRuns: 60 },
  );
});

test('encodeUpdates with 65535-octet messages fits about 13,000 /32s per UPDATE', () => {
  const v4 = Array.from({ length: 100000 }, (_, i) => p4(0x0a000000 + i, 32));
  const attrs: PathAttributes = { origin: 0, asPath: [], nextHop: '192.0.2.1' };
  const msgs = encodeUpdates(attrs, { v4 }, as4ext);
  assert.equal(msgs.length, Math.ceil(100000 / Math.floor((65535 - 23 - 18) / 5)));
  packingHolds(msgs, attrs, { v4 }, as4ext);
});

test('encoders refuse what cannot be sent', () => {
  const attrs: PathAttributes = { origin: 0, asPath: [], nextHop: '192.0.2.1' };
  assert.throws(() => encodeUpdate({ announced: { v4: [P('10.0.0.0/8')] } }, as4), { code: 'MISSING_ATTRIBUTE' });
  assert.throws(() => encodeUpdate({ announced: { v4: [P('10.0.0.0/8')] }, attrs: { origin: 0, asPath: [] } }, as4), { code: 'MISSING_ATTRIBUTE' });
  assert.throws(() => encodeUpdate({ announced: { v6: ['2001:db8::/32'] }, attrs }, as4), { code: 'MISSING_ATTRIBUTE' });
  assert.throws(() => encodeUpdates({ origin: 0, asPath: [] }, { v4: [P('10.0.0.0/8')] }, as4), { code: 'MISSING_ATTRIBUTE' });
  assert.throws(() => encodeUpdate({ withdrawn: { v4: [33] } }, as4), { code: 'INVALID_PREFIX' });
  assert.throws(() => encodeUpdates(undefined, { v4: [0.5] }, as4), { code: 'INVALID_PREFIX' });
  assert.throws(() => encodeUpdate({ withdrawn: { v6: ['2001:db8::/129'] } }, as4), { code: 'INVALID_PREFIX' });
  assert.throws(() => encodeUpdate({ withdrawn: { v6: ['10.0.0.0/8'] } }, as4), { code: 'INVALID_ADDRESS' });
  assert.throws(() => encodeUpdate({ announced: { v4: [P('10.0.0.0/8')] }, attrs: { ...attrs, nextHop: 'x' } }, as4), { code: 'INVALID_ADDRESS' });
  assert.throws(() => encodeUpdate({ announced: { v4: [P('10.0.0.0/8')] }, attrs: { ...attrs, med: -1 } }, as4), { code: 'INVALID_VALUE' });
  assert.throws(() => encodeUpdate({ announced: { v4: [P('10.0.0.0/8')] }, attrs: { ...attrs, extCommunities: [1n << 64n] } }, as4), { code: 'INVALID_VALUE' });
  const huge: PathAttributes = { ...attrs, communities: new Array<number>(1100).fill(1) };
  assert.throws(() => encodeUpdate({ announced: { v4: [P('10.0.0.0/8')] }, attrs: huge }, as4), { code: 'TOO_LARGE' });
  assert.throws(() => encodeUpdates(huge, { v4: [P('10.0.0.0/8')] }, as4), { code: 'TOO_LARGE' });
  assert.equal(encodeUpdates(huge, { v4: [P('10.0.0.0/8')] }, as4ext).length, 1);
});

test('decodeUpdate works on a message given directly, and a too-short one is Bad Message Length', () => {
  const d = decodeUpdate(message(2, u16(0)), as4);
  assert.deepEqual([d.error?.code, d.error?.subcode, d.error?.handling], [1, 2, 'session-reset']);
});
