/**
 * RFC 7606 end to end: a tortie Speaker on loopback and a raw peer (a TCP socket writing hand-built
 * bytes, test/helpers/bgp-raw-peer.ts) that establishes a session, announces valid routes, then sends
 * one malformed UPDATE. What is asserted is what an operator would see, not what the decoder returns
 * (src/bgp/wire/rfc7606.test.ts has the codec-level table):
 *   - treat-as-withdraw: the session stays Established, the malformed UPDATE's prefixes leave the RIB
 *     (`speaker.routes()`), the other routes of the same peer are untouched;
 *   - attribute-discard: the session stays up, the route is installed (with the UPDATE's other
 *     attributes) without the bad attribute;
 *   - session reset: the raw peer receives a NOTIFICATION with the exact code, subcode and data, the
 *     connection is closed, the speaker reports the session down and drops the peer's routes.
 * "Processed" is made observable without sleeping: after the malformed UPDATE the peer sends a valid
 * one for a sentinel prefix; UPDATEs are handled in wire order, so once the sentinel is in the RIB the
 * malformed one has been dealt with.
 * A last test checks reflection: an unknown optional transitive attribute goes on to other peers with
 * the Partial bit set (RFC 4271 §5, §9.1.4), an unknown optional non-transitive one does not.
 */
import { describe, it, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { Speaker, type PeerSpec } from '../../src/bgp/speaker.js';
import { LOCAL_PEER } from '../../src/bgp/rib/peers.js';
import { p4, type PathAttributes } from '../../src/bgp/types.js';
import { attr, cat, ip4, ip6, message, pfx4, pfx6, segment, u16, u32, update, type Bytes } from '../../src/bgp/wire/testing/bytes.js';
import { RawBgpPeer } from '../helpers/bgp-raw-peer.js';

const LOCAL_AS = 65000;
const SPEAKER = '127.0.0.1';
const PEER = '127.0.0.2';

const VICTIM = '10.1.0.0/24';
const BYSTANDER = '10.2.0.0/24';
const SENTINEL = '10.9.9.0/24';
const V6_VICTIM = '2001:db8:1::/48';
const V6_BYSTANDER = '2001:db8:2::/48';
const COMMUNITY = (65001 << 16) | 100;

type Profile = 'ibgp' | 'ebgp' | 'ebgp-2octet';
const PROFILES: Record<Profile, { as: number; fourOctetAs: boolean; path: Bytes }> = {
  ibgp: { as: LOCAL_AS, fourOctetAs: true, path: attr(0x40, 2, segment(2, [65001])) },
  ebgp: { as: 65001, fourOctetAs: true, path: attr(0x40, 2, segment(2, [65001])) },
  // An OLD speaker (RFC 6793 §4): 2-octet ASNs in AS_PATH, AS4_PATH for the 4-octet ones.
  'ebgp-2octet': { as: 65002, fourOctetAs: false, path: attr(0x40, 2, segment(2, [65002, 23456], 2)) },
};

const ORIGIN = attr(0x40, 1, [0]);
const NH = attr(0x40, 3, ip4('192.0.2.1'));
const COMM = attr(0xc0, 8, u32(COMMUNITY));
const mpReach6 = (nlri: Bytes, nh: Bytes = ip6('2001:db8::1')): Bytes => attr(0x80, 14, cat(u16(2), [1], [nh.length], nh, [0], nlri));

interface Lab {
  speaker: Speaker;
  peer: RawBgpPeer;
  profile: Profile;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function until<T>(f: () => T | undefined | false, what: string, ms = 5000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const has = (s: Speaker, prefix: string) => s.routes().some((r) => r.prefix === prefix && r.from === PEER);

/** The attributes tortie installed for `prefix` from its one BGP peer (straight from the Loc-RIB). */
function installed(s: Speaker, prefix: string): Readonly<PathAttributes> | undefined {
  const [addr, len] = prefix.split('/');
  const cands = prefix.includes(':')
    ? s.rib.v6.loc.candidates(prefix)
    : s.rib.v4.loc.candidates(p4(addr!.split('.').reduce((a, x) => a * 256 + Number(x), 0), Number(len)));
  return cands.find((c) => c.peer !== LOCAL_PEER)?.attrs.attrs;
}

async function newSpeaker(): Promise<{ speaker: Speaker; port: number }> {
  const speaker = new Speaker({ routerId: '10.0.0.1', asNumber: LOCAL_AS, listen: { address: SPEAKER, port: 0 }, gracefulRestart: false });
  cleanups.push(() => speaker.close());
  const port = (await speaker.start())!;
  return { speaker, port };
}

async function rawPeer(o: Parameters<typeof RawBgpPeer.connect>[0]): Promise<RawBgpPeer> {
  const peer = await RawBgpPeer.connect(o);
  cleanups.push(() => peer.close());
  return peer;
}

/** A speaker with one passive peer (the raw peer), Established, holding VICTIM, BYSTANDER and their IPv6 twins. */
async function lab(profile: Profile = 'ibgp'): Promise<Lab> {
  const p = PROFILES[profile];
  const { speaker, port } = await newSpeaker();
  const spec: PeerSpec = { address: PEER, asNumber: p.as, passive: true, families: ['ipv4', 'ipv6'] };
  speaker.setPeers([spec]);
  const peer = await rawPeer({ host: SPEAKER, port, localAddress: PEER, asNumber: p.as, routerId: '10.0.0.2', fourOctetAs: p.fourOctetAs });
  const l = { speaker, peer, profile };
  await peer.established();
  await until(() => speaker.status()[0]?.established, 'Established');
  peer.send(update([], cat(ORIGIN, p.path, NH, COMM), cat(pfx4(VICTIM), pfx4(BYSTANDER))));
  peer.send(update([], cat(mpReach6(cat(pfx6(V6_VICTIM), pfx6(V6_BYSTANDER))), ORIGIN, p.path, COMM), []));
  await until(() => [VICTIM, BYSTANDER, V6_VICTIM, V6_BYSTANDER].every((x) => has(speaker, x)), 'the valid routes');
  return l;
}

/** Sends the sentinel and waits for it: everything sent before has been processed. */
async function processed(l: Lab): Promise<void> {
  l.peer.send(update([], cat(ORIGIN, PROFILES[l.profile].path, NH), pfx4(SENTINEL)));
  await until(() => has(l.speaker, SENTINEL), 'the sentinel route');
}

type Outcome =
  | { kind: 'treat-as-withdraw'; withdrawn: string[] }
  | { kind: 'attribute-discard'; route: string; check: (a: Readonly<PathAttributes>) => void }
  | { kind: 'session-reset'; code: number; subcode: number; data: Bytes };

interface Case {
  name: string;
  /** Where the rule is. */
  rfc: string;
  profile?: Profile;
  /** The malformed message (built per profile: its AS_PATH must suit the session). */
  msg: (path: Bytes) => Buffer;
  outcome: Outcome;
}

/** An UPDATE announcing VICTIM with these attributes. */
const victim = (...attrs: Bytes[]) => update([], cat(...attrs), pfx4(VICTIM));
const withdraw4: Outcome = { kind: 'treat-as-withdraw', withdrawn: [VICTIM] };
const reset = (subcode: number, data: Bytes = []): Outcome => ({ kind: 'session-reset', code: 3, subcode, data });
const MED77 = attr(0x80, 4, u32(77));
const BAD_NH_MP_REACH = attr(0x80, 14, cat(u16(2), [1], [8], [1, 2, 3, 4, 5, 6, 7, 8], [0], pfx6(V6_VICTIM)));
const TRANSITIVE_MP_REACH = attr(0xc0, 14, cat(u16(2), [1], [16], ip6('2001:db8::1'), [0], pfx6(V6_VICTIM)));

const cases: Case[] = [
  // ---- treat-as-withdraw ----
  { name: 'ORIGIN value 3', rfc: 'RFC 7606 §7.1', msg: (P) => victim(attr(0x40, 1, [3]), P, NH), outcome: withdraw4 },
  { name: 'ORIGIN of length 2', rfc: 'RFC 7606 §7.1', msg: (P) => victim(attr(0x40, 1, [0, 0]), P, NH), outcome: withdraw4 },
  { name: 'AS_PATH segment of type 5', rfc: 'RFC 7606 §7.2', msg: () => victim(ORIGIN, attr(0x40, 2, segment(5, [65001])), NH), outcome: withdraw4 },
  { name: 'AS_PATH segment overrunning the attribute', rfc: 'RFC 7606 §7.2', msg: () => victim(ORIGIN, attr(0x40, 2, [2, 3, ...u32(65001)]), NH), outcome: withdraw4 },
  { name: 'NEXT_HOP of length 5', rfc: 'RFC 7606 §7.3', msg: (P) => victim(ORIGIN, P, attr(0x40, 3, [192, 0, 2, 1, 0])), outcome: withdraw4 },
  { name: 'NEXT_HOP 0.0.0.0 (martian)', rfc: 'RFC 7606 §7.3, RFC 4271 §6.3', msg: (P) => victim(ORIGIN, P, attr(0x40, 3, ip4('0.0.0.0'))), outcome: withdraw4 },
  { name: 'NEXT_HOP 224.0.0.1 (multicast)', rfc: 'RFC 7606 §7.3, RFC 4271 §6.3', msg: (P) => victim(ORIGIN, P, attr(0x40, 3, ip4('224.0.0.1'))), outcome: withdraw4 },
  { name: 'MULTI_EXIT_DISC of length 3', rfc: 'RFC 7606 §7.4', msg: (P) => victim(ORIGIN, P, NH, attr(0x80, 4, [0, 0, 1])), outcome: withdraw4 },
  { name: 'LOCAL_PREF of length 2 from iBGP', rfc: 'RFC 7606 §7.5', msg: (P) => victim(ORIGIN, P, NH, attr(0x40, 5, [0, 100])), outcome: withdraw4 },
  { name: 'COMMUNITIES of length 5 (not a multiple of 4)', rfc: 'RFC 7606 §7.8', msg: (P) => victim(ORIGIN, P, NH, attr(0xc0, 8, [0, 0, 0, 1, 2])), outcome: withdraw4 },
  { name: 'ORIGINATOR_ID of length 5', rfc: 'RFC 7606 §7.9', msg: (P) => victim(ORIGIN, P, NH, attr(0x80, 9, [1, 1, 1, 1, 1])), outcome: withdraw4 },
  { name: 'CLUSTER_LIST of length 6', rfc: 'RFC 7606 §7.10', msg: (P) => victim(ORIGIN, P, NH, attr(0x80, 10, [1, 1, 1, 1, 2, 2])), outcome: withdraw4 },
  { name: 'EXTENDED_COMMUNITIES of length 12', rfc: 'RFC 7606 §7.14', msg: (P) => victim(ORIGIN, P, NH, attr(0xc0, 16, new Array<number>(12).fill(1))), outcome: withdraw4 },
  { name: 'LARGE_COMMUNITY of length 13', rfc: 'RFC 8092 §6', msg: (P) => victim(ORIGIN, P, NH, attr(0xc0, 32, new Array<number>(13).fill(1))), outcome: withdraw4 },
  { name: 'attribute flags wrong: ORIGIN flagged optional', rfc: 'RFC 7606 §3 c', msg: (P) => victim(attr(0xc0, 1, [0]), P, NH), outcome: withdraw4 },
  { name: 'missing well-known ORIGIN with NLRI', rfc: 'RFC 7606 §3 d', msg: (P) => victim(P, NH), outcome: withdraw4 },
  { name: 'missing well-known NEXT_HOP with IPv4 NLRI', rfc: 'RFC 7606 §3 d', msg: (P) => victim(ORIGIN, P), outcome: withdraw4 },
  {
    name: 'attribute length overrunning the path attribute section',
    rfc: 'RFC 7606 §4',
    msg: (P) => update([], cat(ORIGIN, P, NH, [0xc0, 8, 9, 0, 0, 0, 1]), pfx4(VICTIM)),
    outcome: withdraw4,
  },
  {
    name: 'MP_REACH_NLRI for IPv4 with a martian next hop',
    rfc: 'RFC 4271 §6.3, RFC 7606 §7.3',
    msg: (P) => update([], cat(attr(0x80, 14, cat(u16(1), [1], [4], ip4('0.4.2.9'), [0], pfx4(VICTIM))), ORIGIN, P), []),
    outcome: withdraw4,
  },
  {
    name: 'COMMUNITIES of length 5 with MP_REACH_NLRI: the IPv6 prefixes are withdrawn',
    rfc: 'RFC 7606 §7.8, §5.3',
    msg: (P) => update([], cat(mpReach6(pfx6(V6_VICTIM)), ORIGIN, P, attr(0xc0, 8, [0, 0, 0, 1, 2])), []),
    outcome: { kind: 'treat-as-withdraw', withdrawn: [V6_VICTIM] },
  },
  // ---- attribute-discard ----
  {
    name: 'duplicate COMMUNITIES: the later copy is discarded',
    rfc: 'RFC 7606 §3 g',
    msg: (P) => victim(ORIGIN, P, NH, MED77, attr(0xc0, 8, u32(7)), attr(0xc0, 8, u32(8))),
    outcome: { kind: 'attribute-discard', route: VICTIM, check: (a) => assert.deepEqual([a.med, a.communities], [77, [7]]) },
  },
  {
    name: 'AGGREGATOR of length 6 on a 4-octet session',
    rfc: 'RFC 7606 §7.7',
    msg: (P) => victim(ORIGIN, P, NH, MED77, attr(0xc0, 7, cat(u16(65001), ip4('1.1.1.1')))),
    outcome: { kind: 'attribute-discard', route: VICTIM, check: (a) => assert.deepEqual([a.med, a.aggregator], [77, undefined]) },
  },
  {
    name: 'ATOMIC_AGGREGATE of length 1',
    rfc: 'RFC 7606 §7.6',
    msg: (P) => victim(ORIGIN, P, NH, MED77, attr(0x40, 6, [1])),
    outcome: { kind: 'attribute-discard', route: VICTIM, check: (a) => assert.deepEqual([a.med, a.atomicAggregate], [77, undefined]) },
  },
  {
    name: 'AS4_PATH malformed, from a 2-octet peer',
    rfc: 'RFC 6793 §6, RFC 7606 §7',
    profile: 'ebgp-2octet',
    msg: (P) => victim(ORIGIN, P, NH, MED77, attr(0xc0, 17, [2, 2, ...u32(4200000001)])),
    outcome: { kind: 'attribute-discard', route: VICTIM, check: (a) => assert.deepEqual([a.med, a.asPath], [77, [{ type: 2, asns: [65002, 23456] }]]) },
  },
  {
    name: 'LOCAL_PREF from an eBGP peer',
    rfc: 'RFC 7606 §7.5',
    profile: 'ebgp',
    msg: (P) => victim(ORIGIN, P, NH, MED77, attr(0x40, 5, u32(500))),
    outcome: { kind: 'attribute-discard', route: VICTIM, check: (a) => assert.deepEqual([a.med, a.localPref], [77, undefined]) },
  },
  {
    name: 'unknown optional transitive attribute: kept, Partial bit set',
    rfc: 'RFC 4271 §5, §9.1.4',
    msg: (P) => victim(ORIGIN, P, NH, MED77, attr(0xc0, 99, [1, 2, 3])),
    outcome: {
      kind: 'attribute-discard',
      route: VICTIM,
      check: (a) => assert.deepEqual([a.med, a.unknown?.map((x) => [x.flags, x.type, [...x.value]])], [77, [[0xe0, 99, [1, 2, 3]]]]),
    },
  },
  {
    name: 'unknown optional non-transitive attribute: quietly ignored',
    rfc: 'RFC 4271 §5',
    msg: (P) => victim(ORIGIN, P, NH, MED77, attr(0x80, 100, [1])),
    outcome: { kind: 'attribute-discard', route: VICTIM, check: (a) => assert.deepEqual([a.med, a.unknown], [77, undefined]) },
  },
  // ---- session reset ----
  {
    name: 'duplicate MP_REACH_NLRI',
    rfc: 'RFC 7606 §3 g',
    msg: (P) => update([], cat(mpReach6(pfx6(V6_VICTIM)), mpReach6(pfx6(V6_VICTIM)), ORIGIN, P), []),
    outcome: reset(1),
  },
  {
    name: 'MP_REACH_NLRI with an IPv6 next hop of 8 octets',
    rfc: 'RFC 7606 §7.11, RFC 4760 §7',
    msg: (P) => update([], cat(BAD_NH_MP_REACH, ORIGIN, P), []),
    // Optional Attribute Error; the data is the attribute (RFC 4271 §6.3).
    outcome: reset(9, BAD_NH_MP_REACH),
  },
  { name: 'NLRI prefix length 33', rfc: 'RFC 7606 §5.3, RFC 4271 §6.3', msg: (P) => update([], cat(ORIGIN, P, NH), [33, 10, 1, 0, 0, 0]), outcome: reset(10) },
  {
    name: 'Withdrawn Routes Length overrunning the message',
    rfc: 'RFC 7606 §3 b, RFC 4271 §6.3',
    msg: () => message(2, [0, 9, 24, 10, 1, 0, 0, 0]),
    outcome: reset(1),
  },
  {
    name: 'Total Path Attribute Length overrunning the message',
    rfc: 'RFC 7606 §4, RFC 4271 §6.3',
    msg: () => message(2, [0, 0, 0, 9, ...ORIGIN, 0]),
    outcome: reset(1),
  },
  {
    name: 'unrecognized well-known attribute',
    rfc: 'RFC 4271 §6.3 (unchanged by RFC 7606)',
    msg: (P) => victim(ORIGIN, P, NH, attr(0x40, 99, [7])),
    outcome: reset(2, [0x40, 99, 1, 7]),
  },
  {
    name: 'MP_REACH_NLRI flagged transitive',
    rfc: 'RFC 7606 §3 c, §5.3',
    msg: (P) => update([], cat(TRANSITIVE_MP_REACH, ORIGIN, P), []),
    outcome: reset(4, TRANSITIVE_MP_REACH),
  },
  {
    name: 'malformed ORIGIN in an UPDATE without reachable NLRI',
    rfc: 'RFC 7606 §5.2',
    msg: () => update(pfx4(BYSTANDER), attr(0x40, 1, [7]), []),
    outcome: reset(6, [0x40, 1, 1, 7]),
  },
];

describe('RFC 7606 at the session: a raw peer sends malformed UPDATEs to a tortie speaker', () => {
  for (const c of cases) {
    const o = c.outcome;
    const what = o.kind === 'session-reset' ? `session reset, NOTIFICATION ${o.code}/${o.subcode}` : o.kind;
    it(`${c.name} (${c.rfc}) -> ${what}`, async () => {
      const l = await lab(c.profile);
      const { speaker, peer } = l;
      const before = installed(speaker, BYSTANDER);
      peer.send(c.msg(PROFILES[l.profile].path));
      if (o.kind === 'session-reset') {
        const r = await peer.waitFor((m) => m.raw[18] === 3, 5000, 'NOTIFICATION');
        assert.deepEqual([r.raw[19], r.raw[20], [...r.raw.subarray(21)]], [o.code, o.subcode, o.data]);
        assert.equal(peer.notifications().length, 1);
        await peer.whenClosed();
        const st = await until(() => speaker.status().find((s) => !s.established), 'the session to go down');
        assert.match(st.lastError ?? '', new RegExp(`notificationSent: notification ${o.code}/${o.subcode}`));
        assert.deepEqual(speaker.routes().filter((r) => r.from === PEER), [], 'the peer routes are gone');
        return;
      }
      await processed(l);
      assert.equal(speaker.status()[0]!.state, 'Established');
      assert.equal(peer.closed, false);
      assert.deepEqual(peer.notifications(), []);
      if (o.kind === 'treat-as-withdraw') {
        for (const x of o.withdrawn) assert.equal(has(speaker, x), false, `${x} withdrawn`);
        for (const x of [VICTIM, BYSTANDER, V6_VICTIM, V6_BYSTANDER].filter((y) => !o.withdrawn.includes(y))) {
          assert.ok(has(speaker, x), `${x} untouched`);
        }
      } else {
        const a = installed(speaker, o.route);
        assert.ok(a, `${o.route} installed`);
        o.check(a);
        for (const x of [BYSTANDER, V6_VICTIM, V6_BYSTANDER]) assert.ok(has(speaker, x), `${x} untouched`);
      }
      assert.equal(installed(speaker, BYSTANDER), before, 'the bystander keeps its attribute set');
      assert.deepEqual(speaker.routes(BYSTANDER)[0]!.communities, ['65001:100']);
    });
  }
});

describe('unknown attributes on the way out', () => {
  it('a reflector passes an unknown optional transitive attribute on with Partial set, and drops a non-transitive one', async () => {
    const { speaker, port } = await newSpeaker();
    const client = (address: string): PeerSpec => ({ address, asNumber: LOCAL_AS, passive: true, routeReflectorClient: true, families: ['ipv4'] });
    speaker.setPeers([client('127.0.0.2'), client('127.0.0.3'), { address: '127.0.0.4', asNumber: 65010, passive: true, families: ['ipv4'] }]);
    const connect = (localAddress: string, asNumber: number, routerId: string) =>
      rawPeer({ host: SPEAKER, port, localAddress, asNumber, routerId, families: ['ipv4'] });
    const a = await connect('127.0.0.2', LOCAL_AS, '10.0.0.2');
    const b = await connect('127.0.0.3', LOCAL_AS, '10.0.0.3');
    const e = await connect('127.0.0.4', 65010, '10.0.0.4');
    await Promise.all([a.established(), b.established(), e.established()]);
    await until(() => speaker.status().every((s) => s.established), 'three sessions');
    a.send(update([], cat(ORIGIN, attr(0x40, 2, segment(2, [65001])), NH, attr(0xc0, 99, [1, 2, 3]), attr(0x80, 100, [4, 5])), pfx4('10.5.0.0/24')));
    for (const [peer, name] of [[b, 'reflected to the other client'], [e, 'sent to the eBGP peer']] as const) {
      const m = await peer.waitFor((r) => r.decoded.type === 'UPDATE' && 'nlri' in r.decoded && r.decoded.nlri.includes('10.5.0.0/24'), 5000, name);
      const attrs = m.decoded.type === 'UPDATE' && 'attributes' in m.decoded ? m.decoded.attributes : [];
      const x = attrs.find((t) => t.type === 99);
      assert.ok(x, `${name}: attribute 99 present`);
      assert.deepEqual([x.flags, x.partial, x.value], ['0xe0', true, '010203'], name);
      assert.equal(attrs.find((t) => t.type === 100), undefined, `${name}: the non-transitive attribute is not passed on`);
      if (peer === b) {
        assert.deepEqual(attrs.find((t) => t.type === 9)?.value, '10.0.0.2', 'ORIGINATOR_ID (RFC 4456 §8)');
        assert.deepEqual(attrs.find((t) => t.type === 10)?.value, ['10.0.0.1'], 'CLUSTER_LIST (RFC 4456 §8)');
      }
    }
  });
});
