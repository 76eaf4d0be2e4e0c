/*
 * RFC 7606 error handling: a table of malformed UPDATEs (built by hand) with the outcome each must get, and a
 * fuzz property: random mutations of valid messages never make any decoder throw.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { p4 } from '../types.js';
import { decodeCapabilities } from './capabilities.js';
import { WireError } from './errors.js';
import { Framer } from './framer.js';
import { decodeMessage, decodeRouteRefresh, encodeRouteRefresh } from './message.js';
import type { UpdateMessage, WireContext } from './model.js';
import { decodeNotification, encodeNotification } from './notification.js';
import { decodeOpen, encodeOpen } from './open.js';
import { decodeUpdate } from './update.js';
import { encodeEndOfRib, encodeUpdate } from './update-encode.js';
import { attr, cat, ip4, ip6, pfx4, pfx6, segment, u16, u32, update, type Bytes } from './testing/bytes.js';

const ibgp: WireContext = { fourOctetAs: true };
const ebgp: WireContext = { fourOctetAs: true, ebgp: true };
const as2: WireContext = { fourOctetAs: false };

const ORIGIN = attr(0x40, 1, [0]);
const PATH = attr(0x40, 2, segment(2, [65001]));
const PATH2 = attr(0x40, 2, segment(2, [65001], 2));
const NH = attr(0x40, 3, ip4('192.0.2.1'));
const NLRI = pfx4('10.0.0.0/8');
const TEN = p4(0x0a000000, 8);
const mpReach = (nlri: Bytes = pfx6('2001:db8::/32'), nh: Bytes = ip6('2001:db8::1')) => attr(0x80, 14, cat(u16(2), [1], [nh.length], nh, [0], nlri));

/** ORIGIN, AS_PATH, NEXT_HOP, then `extra`, and 10.0.0.0/8. */
const std = (...extra: Bytes[]) => update([], cat(ORIGIN, PATH, NH, ...extra), NLRI);
/** The same with `replace` standing for one of the three. */
const withAttrs = (...attrs: Bytes[]) => update([], cat(...attrs), NLRI);

type Expect = 'ok' | [handling: 'attribute-discard' | 'treat-as-withdraw' | 'session-reset', code: number, subcode: number, data?: Bytes];

interface Case {
  name: string;
  msg: Buffer;
  ctx?: WireContext;
  expect: Expect;
  /** Extra checks on the decoded UPDATE. */
  check?: (u: UpdateMessage) => void;
}

const cases: Case[] = [
  // §7.1 ORIGIN
  { name: 'ORIGIN of length 2', msg: withAttrs(attr(0x40, 1, [0, 0]), PATH, NH), expect: ['treat-as-withdraw', 3, 5, [0x40, 1, 2, 0, 0]] },
  { name: 'ORIGIN of length 0', msg: withAttrs(attr(0x40, 1, []), PATH, NH), expect: ['treat-as-withdraw', 3, 5] },
  { name: 'ORIGIN value 3', msg: withAttrs(attr(0x40, 1, [3]), PATH, NH), expect: ['treat-as-withdraw', 3, 6, [0x40, 1, 1, 3]] },
  { name: 'ORIGIN flagged optional (§3 c)', msg: withAttrs(attr(0xc0, 1, [0]), PATH, NH), expect: ['treat-as-withdraw', 3, 4] },
  { name: 'ORIGIN flagged non-transitive (§3 c)', msg: withAttrs(attr(0x00, 1, [0]), PATH, NH), expect: ['treat-as-withdraw', 3, 4] },
  { name: 'ORIGIN with Partial and extended length set is fine', msg: withAttrs(attr(0x70, 1, [1]), PATH, NH), expect: 'ok', check: (u) => assert.equal(u.attrs?.origin, 1) },
  // §7.2 AS_PATH
  { name: 'AS_PATH segment type 0', msg: withAttrs(ORIGIN, attr(0x40, 2, segment(0, [1])), NH), expect: ['treat-as-withdraw', 3, 11] },
  { name: 'AS_PATH segment type 5', msg: withAttrs(ORIGIN, attr(0x40, 2, segment(5, [1])), NH), expect: ['treat-as-withdraw', 3, 11] },
  { name: 'AS_PATH zero-length segment', msg: withAttrs(ORIGIN, attr(0x40, 2, [2, 0]), NH), expect: ['treat-as-withdraw', 3, 11] },
  { name: 'AS_PATH segment overrun', msg: withAttrs(ORIGIN, attr(0x40, 2, [2, 3, ...u32(1), ...u32(2)]), NH), expect: ['treat-as-withdraw', 3, 11] },
  { name: 'AS_PATH segment header underrun (one trailing octet)', msg: withAttrs(ORIGIN, attr(0x40, 2, [...segment(2, [1]), 2]), NH), expect: ['treat-as-withdraw', 3, 11] },
  { name: 'AS_PATH with AS 0 (RFC 7607)', msg: withAttrs(ORIGIN, attr(0x40, 2, segment(2, [65001, 0])), NH), expect: ['treat-as-withdraw', 3, 11] },
  { name: 'AS_PATH 2-octet, odd length', ctx: as2, msg: withAttrs(ORIGIN, attr(0x40, 2, [2, 1, 0xfd]), NH), expect: ['treat-as-withdraw', 3, 11] },
  { name: 'AS_PATH written with 4-octet ASNs to a 2-octet session reads as AS 0', ctx: as2, msg: withAttrs(ORIGIN, attr(0x40, 2, [2, 2, ...u32(65001)]), NH), expect: ['treat-as-withdraw', 3, 11] },
  { name: 'AS_PATH with confederation segments from eBGP (RFC 5065 §5)', ctx: ebgp, msg: withAttrs(ORIGIN, attr(0x40, 2, cat(segment(3, [65010]), segment(2, [65001]))), NH), expect: ['treat-as-withdraw', 3, 11] },
  { name: 'AS_PATH with confederation segments from iBGP', msg: withAttrs(ORIGIN, attr(0x40, 2, cat(segment(3, [65010]), segment(4, [65011, 65012]), segment(2, [65001]))), NH), expect: 'ok' },
  { name: 'AS_PATH flagged optional', msg: withAttrs(ORIGIN, attr(0xc0, 2, segment(2, [65001])), NH), expect: ['treat-as-withdraw', 3, 4] },
  // §7.3 NEXT_HOP
  { name: 'NEXT_HOP of length 5', msg: withAttrs(ORIGIN, PATH, attr(0x40, 3, [192, 0, 2, 1, 0])), expect: ['treat-as-withdraw', 3, 5] },
  { name: 'NEXT_HOP 0.0.0.0', msg: withAttrs(ORIGIN, PATH, attr(0x40, 3, ip4('0.0.0.0'))), expect: ['treat-as-withdraw', 3, 8, [0x40, 3, 4, 0, 0, 0, 0]] },
  { name: 'NEXT_HOP 0.1.2.3', msg: withAttrs(ORIGIN, PATH, attr(0x40, 3, ip4('0.1.2.3'))), expect: ['treat-as-withdraw', 3, 8] },
  { name: 'NEXT_HOP 224.0.0.5 (multicast)', msg: withAttrs(ORIGIN, PATH, attr(0x40, 3, ip4('224.0.0.5'))), expect: ['treat-as-withdraw', 3, 8] },
  { name: 'NEXT_HOP 255.255.255.255', msg: withAttrs(ORIGIN, PATH, attr(0x40, 3, ip4('255.255.255.255'))), expect: ['treat-as-withdraw', 3, 8] },
  { name: 'NEXT_HOP 223.255.255.254 is a host', msg: withAttrs(ORIGIN, PATH, attr(0x40, 3, ip4('223.255.255.254'))), expect: 'ok' },
  // §7.4 MULTI_EXIT_DISC
  { name: 'MED of length 3', msg: std(attr(0x80, 4, [0, 0, 1])), expect: ['treat-as-withdraw', 3, 5] },
  { name: 'MED flagged well-known', msg: std(attr(0x40, 4, u32(1))), expect: ['treat-as-withdraw', 3, 4] },
  // §7.5 LOCAL_PREF
  { name: 'LOCAL_PREF of length 2 from iBGP', msg: std(attr(0x40, 5, [0, 1])), expect: ['treat-as-withdraw', 3, 5] },
  { name: 'LOCAL_PREF of any length from eBGP is discarded', ctx: ebgp, msg: std(attr(0x40, 5, [0, 1])), expect: ['attribute-discard', 3, 1], check: (u) => assert.equal(u.attrs?.localPref, undefined) },
  { name: 'LOCAL_PREF from eBGP is discarded unread, wrong flags and all', ctx: ebgp, msg: std(attr(0xc0, 5, [0])), expect: ['attribute-discard', 3, 1] },
  // §7.6 ATOMIC_AGGREGATE
  { name: 'ATOMIC_AGGREGATE of length 1', msg: std(attr(0x40, 6, [1])), expect: ['attribute-discard', 3, 5], check: (u) => assert.equal(u.attrs?.atomicAggregate, undefined) },
  // §7.7 AGGREGATOR
  { name: 'AGGREGATOR of length 6 on a 4-octet session', msg: std(attr(0xc0, 7, cat(u16(65001), ip4('1.1.1.1')))), expect: ['attribute-discard', 3, 5], check: (u) => assert.equal(u.attrs?.aggregator, undefined) },
  { name: 'AGGREGATOR of length 8 on a 2-octet session', ctx: as2, msg: withAttrs(ORIGIN, PATH2, NH, attr(0xc0, 7, cat(u32(65001), ip4('1.1.1.1')))), expect: ['attribute-discard', 3, 5] },
  { name: 'AGGREGATOR with AS 0 (RFC 7607)', msg: std(attr(0xc0, 7, cat(u32(0), ip4('1.1.1.1')))), expect: ['attribute-discard', 3, 9] },
  { name: 'AGGREGATOR flagged well-known', msg: std(attr(0x40, 7, cat(u32(1), ip4('1.1.1.1')))), expect: ['treat-as-withdraw', 3, 4] },
  // §7.8 COMMUNITIES
  { name: 'COMMUNITIES of length 0', msg: std(attr(0xc0, 8, [])), expect: ['treat-as-withdraw', 3, 5] },
  { name: 'COMMUNITIES of length 5', msg: std(attr(0xc0, 8, [0, 0, 0, 1, 2])), expect: ['treat-as-withdraw', 3, 5] },
  // §7.9 ORIGINATOR_ID
  { name: 'ORIGINATOR_ID of length 5', msg: std(attr(0x80, 9, [1, 1, 1, 1, 1])), expect: ['treat-as-withdraw', 3, 5] },
  { name: 'ORIGINATOR_ID from eBGP is discarded', ctx: ebgp, msg: std(attr(0x80, 9, ip4('1.1.1.1'))), expect: ['attribute-discard', 3, 1] },
  // §7.10 CLUSTER_LIST
  { name: 'CLUSTER_LIST of length 0', msg: std(attr(0x80, 10, [])), expect: ['treat-as-withdraw', 3, 5] },
  { name: 'CLUSTER_LIST of length 6', msg: std(attr(0x80, 10, [1, 1, 1, 1, 2, 2])), expect: ['treat-as-withdraw', 3, 5] },
  { name: 'CLUSTER_LIST from eBGP is discarded', ctx: ebgp, msg: std(attr(0x80, 10, [1, 1, 1, 1, 2, 2])), expect: ['attribute-discard', 3, 1] },
  // §7.11 MP_REACH_NLRI, §5.3
  { name: 'MP_REACH_NLRI of length 4', msg: std(attr(0x80, 14, [0, 2, 1, 0])), expect: ['session-reset', 3, 9] },
  { name: 'MP_REACH_NLRI next hop overruns', msg: std(attr(0x80, 14, [0, 2, 1, 16, ...ip6('::1').slice(0, 10)])), expect: ['session-reset', 3, 9] },
  { name: 'MP_REACH_NLRI IPv6 next hop of 8 octets', msg: std(attr(0x80, 14, [0, 2, 1, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0])), expect: ['session-reset', 3, 9] },
  { name: 'MP_REACH_NLRI IPv6 prefix length 129', msg: std(mpReach([129, ...new Array<number>(17).fill(0)])), expect: ['session-reset', 3, 9] },
  { name: 'MP_REACH_NLRI last prefix overruns', msg: std(mpReach([64, 0x20, 0x01])), expect: ['session-reset', 3, 9] },
  { name: 'MP_REACH_NLRI flagged transitive', msg: std(attr(0xc0, 14, cat(u16(2), [1], [16], ip6('::1'), [0]))), expect: ['session-reset', 3, 4] },
  // Found by test/integration/bgp-fuzz.test.ts: the martian was installed and sent on to iBGP peers in NEXT_HOP.
  { name: 'MP_REACH_NLRI IPv4 next hop 0.4.2.9 (martian)', msg: update([], cat(attr(0x80, 14, cat(u16(1), [1], [4], ip4('0.4.2.9'), [0], NLRI)), ORIGIN, PATH), []), expect: ['treat-as-withdraw', 3, 8], check: (u) => assert.deepEqual(u.announced.v4, [TEN]) },
  { name: 'MP_REACH_NLRI IPv4 next hop 224.0.0.1 (multicast)', msg: update([], cat(attr(0x80, 14, cat(u16(1), [1], [4], ip4('224.0.0.1'), [0], NLRI)), ORIGIN, PATH), []), expect: ['treat-as-withdraw', 3, 8] },
  { name: 'MP_REACH_NLRI IPv4 next hop 192.0.2.7 is a host', msg: update([], cat(attr(0x80, 14, cat(u16(1), [1], [4], ip4('192.0.2.7'), [0], NLRI)), ORIGIN, PATH), []), expect: 'ok', check: (u) => assert.equal(u.attrs?.nextHop, '192.0.2.7') },
  { name: 'MP_REACH_NLRI of an unknown family is ignored', msg: std(attr(0x80, 14, cat(u16(1), [128], [4], ip4('1.1.1.1'), [0], [1, 2, 3]))), expect: ['attribute-discard', 3, 9] },
  { name: 'MP_REACH_NLRI twice (§3 g)', msg: std(mpReach(), mpReach()), expect: ['session-reset', 3, 1] },
  // §7.12 MP_UNREACH_NLRI
  { name: 'MP_UNREACH_NLRI of length 2', msg: std(attr(0x80, 15, [0, 2])), expect: ['session-reset', 3, 9] },
  { name: 'MP_UNREACH_NLRI prefix overruns', msg: std(attr(0x80, 15, cat(u16(2), [1], [48, 0x20]))), expect: ['session-reset', 3, 9] },
  { name: 'MP_UNREACH_NLRI flagged transitive', msg: std(attr(0xc0, 15, cat(u16(2), [1]))), expect: ['session-reset', 3, 4] },
  { name: 'MP_UNREACH_NLRI twice (§3 g)', msg: std(attr(0x80, 15, cat(u16(2), [1])), attr(0x80, 15, cat(u16(2), [1]))), expect: ['session-reset', 3, 1] },
  // §7.14 EXTENDED_COMMUNITIES
  { name: 'EXTENDED_COMMUNITIES of length 0', msg: std(attr(0xc0, 16, [])), expect: ['treat-as-withdraw', 3, 5] },
  { name: 'EXTENDED_COMMUNITIES of length 12', msg: std(attr(0xc0, 16, new Array<number>(12).fill(1))), expect: ['treat-as-withdraw', 3, 5] },
  // RFC 6793 §6: AS4_PATH, AS4_AGGREGATOR
  { name: 'AS4_PATH malformed', ctx: as2, msg: withAttrs(ORIGIN, PATH2, NH, attr(0xc0, 17, [2, 2, ...u32(1)])), expect: ['attribute-discard', 3, 11], check: (u) => assert.deepEqual(u.attrs?.asPath, [{ type: 2, asns: [65001] }]) },
  { name: 'AS4_PATH with AS 0', ctx: as2, msg: withAttrs(ORIGIN, PATH2, NH, attr(0xc0, 17, segment(2, [0]))), expect: ['attribute-discard', 3, 11] },
  { name: 'AS4_PATH flagged well-known', ctx: as2, msg: withAttrs(ORIGIN, PATH2, NH, attr(0x40, 17, segment(2, [7]))), expect: ['attribute-discard', 3, 4], check: (u) => assert.deepEqual(u.attrs?.asPath, [{ type: 2, asns: [65001] }]) },
  { name: 'AS4_PATH confederation segments are removed', ctx: as2, msg: withAttrs(ORIGIN, PATH2, NH, attr(0xc0, 17, cat(segment(3, [7]), segment(2, [4200000000])))), expect: ['attribute-discard', 3, 11], check: (u) => assert.deepEqual(u.attrs?.asPath, [{ type: 2, asns: [4200000000] }]) },
  { name: 'AS4_PATH from a 4-octet peer is ignored', msg: std(attr(0xc0, 17, segment(2, [7]))), expect: ['attribute-discard', 3, 1], check: (u) => assert.deepEqual(u.attrs?.asPath, [{ type: 2, asns: [65001] }]) },
  { name: 'AS4_AGGREGATOR of length 6', ctx: as2, msg: withAttrs(ORIGIN, PATH2, NH, attr(0xc0, 7, cat(u16(23456), ip4('1.1.1.1'))), attr(0xc0, 18, cat(u16(7), ip4('1.1.1.1')))), expect: ['attribute-discard', 3, 5], check: (u) => assert.deepEqual(u.attrs?.aggregator, { asn: 23456, address: '1.1.1.1' }) },
  { name: 'AS4_AGGREGATOR from a 4-octet peer is ignored', msg: std(attr(0xc0, 18, cat(u32(7), ip4('1.1.1.1')))), expect: ['attribute-discard', 3, 1] },
  // RFC 8092 §6 LARGE_COMMUNITY
  { name: 'LARGE_COMMUNITY of length 0', msg: std(attr(0xc0, 32, [])), expect: ['treat-as-withdraw', 3, 5] },
  { name: 'LARGE_COMMUNITY of length 13', msg: std(attr(0xc0, 32, new Array<number>(13).fill(1))), expect: ['treat-as-withdraw', 3, 5] },
  { name: 'LARGE_COMMUNITY flagged non-transitive', msg: std(attr(0x80, 32, new Array<number>(12).fill(1))), expect: ['treat-as-withdraw', 3, 4] },
  { name: 'LARGE_COMMUNITY duplicates are removed (RFC 8092 §5)', msg: std(attr(0xc0, 32, cat(u32(1), u32(2), u32(3), u32(1), u32(2), u32(3), u32(4), u32(5), u32(6)))), expect: 'ok', check: (u) => assert.deepEqual(u.attrs?.largeCommunities, [[1, 2, 3], [4, 5, 6]]) },
  // Unknown attributes (RFC 4271 §5, §6.3)
  { name: 'unknown well-known attribute', msg: std(attr(0x40, 99, [1])), expect: ['session-reset', 3, 2, [0x40, 99, 1, 1]] },
  { name: 'unknown optional non-transitive attribute is dropped quietly', msg: std(attr(0x80, 99, [1])), expect: 'ok', check: (u) => assert.equal(u.attrs?.unknown, undefined) },
  // §3 g duplicates
  { name: 'duplicate ORIGIN: the first wins, even when the second is malformed', msg: withAttrs(attr(0x40, 1, [2]), attr(0x40, 1, [9, 9]), PATH, NH), expect: ['attribute-discard', 3, 1], check: (u) => assert.equal(u.attrs?.origin, 2) },
  { name: 'duplicate unknown attribute', msg: std(attr(0xc0, 99, [1]), attr(0xc0, 99, [2])), expect: ['attribute-discard', 3, 1], check: (u) => assert.deepEqual(u.attrs?.unknown?.map((x) => [...x.value]), [[1]]) },
  // §4 attribute length fields
  { name: 'last attribute overruns the attributes', msg: update([], cat(ORIGIN, PATH, NH, [0x80, 4, 9, 0, 0, 0, 1]), NLRI), expect: ['treat-as-withdraw', 3, 5, [0x80, 4, 9, 0, 0, 0, 1]] },
  { name: 'two octets left where an attribute header belongs', msg: update([], cat(ORIGIN, PATH, NH, [0x80, 4]), NLRI), expect: ['treat-as-withdraw', 3, 1] },
  { name: 'three octets left with the extended length bit', msg: update([], cat(ORIGIN, PATH, NH, [0x90, 4, 0]), NLRI), expect: ['treat-as-withdraw', 3, 1] },
  // §3 d missing well-known mandatory attributes
  { name: 'missing ORIGIN', msg: withAttrs(PATH, NH), expect: ['treat-as-withdraw', 3, 3, [1]] },
  { name: 'missing AS_PATH', msg: withAttrs(ORIGIN, NH), expect: ['treat-as-withdraw', 3, 3, [2]] },
  { name: 'missing NEXT_HOP with IPv4 NLRI', msg: withAttrs(ORIGIN, PATH), expect: ['treat-as-withdraw', 3, 3, [3]] },
  { name: 'no NEXT_HOP needed with only MP NLRI', msg: update([], cat(mpReach(), ORIGIN, PATH), []), expect: 'ok' },
  { name: 'missing ORIGIN with only MP NLRI', msg: update([], cat(mpReach(), PATH), []), expect: ['treat-as-withdraw', 3, 3, [1]], check: (u) => assert.deepEqual(u.announced.v6, ['2001:db8::/32']) },
  // §3 b, §5.3 the message's own length fields and NLRI fields
  { name: 'Withdrawn Routes Length overruns', msg: Buffer.from([...new Array<number>(16).fill(0xff), 0, 25, 2, 0, 9, 0, 0, 0, 0]), expect: ['session-reset', 3, 1] },
  { name: 'Total Path Attribute Length overruns', msg: Buffer.from([...new Array<number>(16).fill(0xff), 0, 25, 2, 0, 0, 0, 9, 0, 0]), expect: ['session-reset', 3, 1] },
  { name: 'NLRI prefix length 33', msg: update([], cat(ORIGIN, PATH, NH), [33, 1, 2, 3, 4, 5]), expect: ['session-reset', 3, 10] },
  { name: 'NLRI last prefix overruns', msg: update([], cat(ORIGIN, PATH, NH), [24, 10, 0]), expect: ['session-reset', 3, 10] },
  { name: 'Withdrawn Routes prefix overruns', msg: update([16, 10], [], []), expect: ['session-reset', 3, 10] },
  // §5.2 no reachable NLRI
  { name: 'withdraw-only UPDATE with a malformed ORIGIN: session reset', msg: update(pfx4('10.0.0.0/8'), attr(0x40, 1, [7]), []), expect: ['session-reset', 3, 6] },
  { name: 'attributes without NLRI and a framing error: session reset', msg: update([], cat(ORIGIN, [0x40, 2, 9]), []), expect: ['session-reset', 3, 5] },
  { name: 'withdraw-only UPDATE with a discardable error stays', msg: update(pfx4('10.0.0.0/8'), attr(0x40, 6, [1]), []), expect: ['attribute-discard', 3, 5] },
  { name: 'MP_UNREACH only, with a malformed attribute after it: session reset', msg: update([], cat(attr(0x80, 15, cat(u16(2), [1], pfx6('2001:db8::/32'))), attr(0xc0, 8, [1])), []), expect: ['session-reset', 3, 5] },
  // §3 h strongest wins; treat-as-withdraw still yields every NLRI
  {
    name: 'discard + treat-as-withdraw = treat-as-withdraw, NLRI of both kinds kept',
    msg: update(pfx4('11.0.0.0/8'), cat(attr(0x40, 6, [1]), attr(0x40, 1, [0, 0]), PATH, NH, mpReach(), attr(0x80, 15, cat(u16(2), [1], pfx6('2001:db8:1::/48')))), NLRI),
    expect: ['treat-as-withdraw', 3, 5],
    check: (u) => {
      assert.deepEqual(u.announced, { v4: [TEN], v6: ['2001:db8::/32'] });
      assert.deepEqual(u.withdrawn, { v4: [p4(0x0b000000, 8)], v6: ['2001:db8:1::/48'] });
      assert.equal(u.problems.length, 2);
    },
  },
  { name: 'treat-as-withdraw + session reset = session reset', msg: std(attr(0x80, 4, [1]), attr(0x40, 99, [])), expect: ['session-reset', 3, 2] },
];

for (const c of cases) {
  const what = c.expect === 'ok' ? 'accepted' : `${c.expect[0]} ${c.expect[1]}/${c.expect[2]}`;
  test(`RFC 7606: ${c.name} -> ${what}`, () => {
    const ctx = c.ctx ?? ibgp;
    const d = decodeMessage(c.msg, ctx);
    const u: UpdateMessage | undefined = d.type === 'update' ? d : d.type === 'error' ? d.update : undefined;
    if (c.expect === 'ok') {
      assert.equal(d.type, 'update', JSON.stringify(d, (_k, v) => (typeof v === 'bigint' ? `${v}` : v)));
      assert.deepEqual(u!.problems, []);
      assert.ok(u!.attrs);
    } else {
      const [handling, code, subcode, data] = c.expect;
      if (handling === 'session-reset') {
        assert.equal(d.type, 'error');
        if (d.type !== 'error') return;
        assert.deepEqual([d.error.handling, d.error.code, d.error.subcode], [handling, code, subcode], d.error.reason);
        if (data) assert.deepEqual([...d.error.data], data);
      } else {
        assert.equal(d.type, 'update', JSON.stringify(d));
        const p = handling === 'attribute-discard' ? u!.problems[0] : u!.error;
        assert.ok(p, 'a problem');
        assert.deepEqual([p.handling, p.code, p.subcode], [handling, code, subcode], p.reason);
        if (data) assert.deepEqual([...p.data], data);
        if (handling === 'treat-as-withdraw') {
          assert.equal(u!.attrs, undefined, 'no attributes to install');
          assert.ok(u!.announced.v4.length + u!.announced.v6.length > 0, 'NLRI still extracted');
        } else {
          assert.equal(u!.error, undefined);
          if (u!.announced.v4.length + u!.announced.v6.length > 0) assert.ok(u!.attrs, 'the rest of the UPDATE is used');
        }
      }
    }
    if (c.check && u) c.check(u);
  });
}

// ---- fuzz ----

const corpus: Buffer[] = [
  encodeOpen({
    myAs: 4200000000,
    holdTime: 90,
    routerId: '10.0.0.1',
    capabilities: [
      { kind: 'multiprotocol', afi: 1, safi: 1 },
      { kind: 'multiprotocol', afi: 2, safi: 1 },
      { kind: 'route-refresh' },
      { kind: 'graceful-restart', restarting: true, notification: true, restartTime: 120, families: [{ afi: 1, safi: 1, forwardingPreserved: true }] },
      { kind: 'four-octet-as', asn: 4200000000 },
      { kind: 'unknown', code: 73, value: Uint8Array.of(1, 0x61, 0) },
    ],
  }),
  encodeOpen({ myAs: 65001, holdTime: 3, routerId: '1.1.1.1', capabilities: Array.from({ length: 70 }, (_, i) => ({ kind: 'multiprotocol' as const, afi: i, safi: 1 })) }),
  encodeUpdate(
    {
      withdrawn: { v4: [p4(0x0b000000, 8), p4(0x0c010000, 16)] },
      announced: { v4: [TEN, p4(0x0a010203, 32), p4(0, 0)] },
      attrs: {
        origin: 1,
        asPath: [{ type: 2, asns: [65001, 4200000000] }, { type: 1, asns: [1, 2] }],
        nextHop: '192.0.2.1',
        med: 1,
        localPref: 100,
        atomicAggregate: true,
        aggregator: { asn: 4200000000, address: '1.2.3.4' },
        communities: [1, 2],
        originatorId: '1.1.1.1',
        clusterList: ['2.2.2.2'],
        extCommunities: [5n],
        largeCommunities: [[1, 2, 3]],
        unknown: [{ flags: 0xe0, type: 99, value: Uint8Array.of(1) }],
      },
    },
    ibgp,
  ),
  encodeUpdate(
    {
      announced: { v4: [TEN] },
      attrs: { origin: 0, asPath: [{ type: 3, asns: [65010] }, { type: 2, asns: [65001, 4200000000] }], nextHop: '192.0.2.1', aggregator: { asn: 4200000001, address: '1.2.3.4' } },
    },
    as2,
  ),
  encodeUpdate(
    {
      withdrawn: { v6: ['2001:db8:1::/48'] },
      announced: { v6: ['2001:db8::/32', '::/0', '2001:db8::1/128'] },
      attrs: { origin: 0, asPath: [], localPref: 100, mpNextHop: { global: '2001:db8::1', linkLocal: 'fe80::1' } },
    },
    ibgp,
  ),
  encodeEndOfRib('ipv4'),
  encodeEndOfRib('ipv6'),
  encodeNotification({ code: 6, subcode: 2, shutdownCommunication: 'maintenance' }),
  encodeNotification({ code: 6, subcode: 9, hardReset: { code: 4, subcode: 0 } }),
  encodeRouteRefresh('ipv6', 1),
  Buffer.from([...new Array<number>(16).fill(0xff), 0, 19, 4]),
];

const ctxs: WireContext[] = [ibgp, ebgp, as2, { fourOctetAs: true, extendedMessage: true }];

type Mutation = { kind: 'flip'; at: number; bit: number } | { kind: 'truncate'; at: number } | { kind: 'set'; at: number; value: number } | { kind: 'insert'; at: number; bytes: number[] } | { kind: 'delete'; at: number; n: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  // Length fields: any octet set to a value near a boundary.
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.constantFrom(0, 1, 2, 3, 4, 5, 8, 12, 16, 32, 33, 127, 128, 129, 254, 255) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 8 }) }),
);

function mutate(src: Buffer, ms: Mutation[], fixLength: boolean): Buffer {
  let b = [...src];
  for (const m of ms) {
    // Keep most mutations out of the marker, where they would all end the same way.
    const at = b.length <= 16 ? m.at % (b.length + 1) : 16 + (m.at % (b.length - 15));
    switch (m.kind) {
      case 'flip':
        if (at < b.length) b[at] = b[at]! ^ (1 << m.bit);
        break;
      case 'truncate':
        b = b.slice(0, at);
        break;
      case 'set':
        if (at < b.length) b[at] = m.value;
        break;
      case 'insert':
        b.splice(at, 0, ...m.bytes);
        break;
      case 'delete':
        b.splice(at, m.n);
        break;
    }
  }
  if (fixLength && b.length >= 18) {
    b[16] = (b.length >>> 8) & 0xff;
    b[17] = b.length & 0xff;
  }
  return Buffer.from(b);
}

test('fuzz: 20,000 mutated messages never make a decoder throw', () => {
  let errors = 0;
  let updates = 0;
  fc.assert(
    fc.property(fc.nat(corpus.length - 1), fc.array(mutation, { minLength: 1, maxLength: 4 }), fc.boolean(), fc.nat(ctxs.length - 1), (k, ms, keepLength, c) => {
      const m = mutate(corpus[k]!, ms, !keepLength);
      const ctx = ctxs[c]!;
      const d = decodeMessage(m, ctx);
      assert.ok(['open', 'update', 'notification', 'keepalive', 'route-refresh', 'error'].includes(d.type));
      if (d.type === 'error') {
        errors++;
        assert.equal(d.error.handling, 'session-reset');
        assert.ok(Number.isInteger(d.error.code) && d.error.code >= 1 && d.error.code <= 7, `code ${d.error.code}`);
        assert.ok(d.error.data instanceof Uint8Array);
      }
      if (d.type === 'update') {
        updates++;
        reencodes(d, ctx);
      }
      // Every decoder alone, whatever the type octet says, and the framer.
      decodeUpdate(m, ctx);
      decodeOpen(m);
      decodeNotification(m);
      decodeRouteRefresh(m, ctx);
      decodeCapabilities(m, 0, m.length, []);
      const f = new Framer(65535);
      f.feed(m.subarray(0, m.length >> 1));
      f.feed(m.subarray(m.length >> 1));
    }),
    { numRuns: Number(process.env.FUZZ_RUNS ?? 20000) },
  );
  assert.ok(errors > 1000 && updates > 1000, `errors ${errors}, updates ${updates}`);
});

/** A usable decoded UPDATE (4-octet session) encodes again and decodes to the same thing. */
function reencodes(u: UpdateMessage, ctx: WireContext): void {
  if (u.error !== undefined || !ctx.fourOctetAs) return;
  const input = { withdrawn: u.withdrawn, announced: u.announced, ...(u.attrs ? { attrs: u.attrs } : {}) };
  let again: Buffer;
  try {
    again = encodeUpdate(input, { ...ctx, extendedMessage: true });
  } catch (e) {
    // IPv4 NLRI from an MP_REACH with an IPv6 next hop (RFC 8950), or NLRI whose attributes were dropped.
    assert.ok(e instanceof WireError && e.code === 'MISSING_ATTRIBUTE', String(e));
    return;
  }
  const d = decodeUpdate(again, { ...ctx, extendedMessage: true });
  assert.deepEqual([d.withdrawn, d.announced, d.attrs], [u.withdrawn, u.announced, u.attrs]);
}
