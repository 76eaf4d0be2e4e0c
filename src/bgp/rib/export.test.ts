import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Policy } from '../policy.js';
import { AS_PATH_SEGMENT, ORIGIN, p4, WELL_KNOWN_COMMUNITY, type PathAttributes } from '../types.js';
import { AttrTable } from './attrs.js';
import { checkImport, Exporter, groupKey, type ExportProfile } from './export.js';
import { PeerTable, type PeerInfo } from './peers.js';

const SEQ = AS_PATH_SEGMENT.SEQUENCE;
const LOCAL_AS = 65000;
const peers = new PeerTable({ asn: LOCAL_AS, routerId: '10.0.0.1' });
const client = peers.add({ kind: 'ibgp', asn: LOCAL_AS, routerId: '1.1.1.1', address: '192.0.2.1', rrClient: true });
const nonClient = peers.add({ kind: 'ibgp', asn: LOCAL_AS, routerId: '2.2.2.2', address: '192.0.2.2' });
const ebgp = peers.add({ kind: 'ebgp', asn: 65001, routerId: '3.3.3.3', address: '192.0.2.3' });
const local = peers.local;
const P = p4(0x0a000000, 24);

const learned: PathAttributes = { origin: ORIGIN.IGP, asPath: [{ type: SEQ, asns: [65001] }], nextHop: '192.0.2.3', med: 50, localPref: 120 };

function profile(over: Partial<ExportProfile>): ExportProfile {
  return {
    kind: 'ibgp',
    rrClient: false,
    localAs: LOCAL_AS,
    routerId: '10.0.0.1',
    nextHop: 'auto',
    localAddress4: '192.0.2.254',
    localAddress6: { global: '2001:db8::fe' },
    fourOctetAs: true,
    families: ['ipv4', 'ipv6'],
    ...over,
  };
}

describe('checkImport', () => {
  const imp = { localAs: LOCAL_AS, routerId: '10.0.0.1', clusterId: '10.9.9.9' };

  it('drops routes with our AS in the path, allowing allowOwnAs occurrences (RFC 4271 §9.1.2)', () => {
    const once: PathAttributes = { origin: ORIGIN.IGP, asPath: [{ type: SEQ, asns: [65001, LOCAL_AS, 65002] }] };
    const twice: PathAttributes = { origin: ORIGIN.IGP, asPath: [{ type: SEQ, asns: [LOCAL_AS] }, { type: AS_PATH_SEGMENT.SET, asns: [LOCAL_AS] }] };
    assert.deepEqual(checkImport(ebgp, once, imp), { ok: false, reason: 'as-loop' });
    assert.equal(checkImport(ebgp, once, { ...imp, allowOwnAs: 1 }).ok, true);
    assert.deepEqual(checkImport(ebgp, twice, { ...imp, allowOwnAs: 1 }), { ok: false, reason: 'as-loop' });
    assert.equal(checkImport(ebgp, twice, { ...imp, allowOwnAs: 2 }).ok, true);
  });

  it('drops reflected routes that come back (RFC 4456 §8)', () => {
    assert.deepEqual(checkImport(client, { ...learned, originatorId: '10.0.0.1' }, imp), { ok: false, reason: 'originator-loop' });
    assert.deepEqual(checkImport(nonClient, { ...learned, clusterList: ['1.2.3.4', '10.9.9.9'] }, imp), { ok: false, reason: 'cluster-loop' });
    assert.equal(checkImport(nonClient, { ...learned, originatorId: '1.1.1.1', clusterList: ['1.2.3.4'] }, imp).ok, true);
    // Without a cluster id, our router id is the cluster id.
    assert.equal(checkImport(nonClient, { ...learned, clusterList: ['10.0.0.1'] }, { localAs: LOCAL_AS, routerId: '10.0.0.1' }).ok, false);
  });

  it('strips LOCAL_PREF and the iBGP-only reflection attributes from eBGP routes', () => {
    const v = checkImport(ebgp, { ...learned, originatorId: '9.9.9.9', clusterList: ['9.9.9.9'] }, imp);
    assert.ok(v.ok);
    assert.deepEqual(v.attrs, { origin: ORIGIN.IGP, asPath: [{ type: SEQ, asns: [65001] }], nextHop: '192.0.2.3', med: 50 });
    const i = checkImport(client, learned, imp);
    assert.ok(i.ok && i.attrs === learned, 'iBGP routes untouched');
  });
});

describe('Exporter: scope (split horizon, reflection, well-known communities)', () => {
  const t = new AttrTable();
  const set = t.intern(learned);
  // [source, target kind, target is client] → exported?
  const matrix: [PeerInfo, 'ibgp' | 'ebgp', boolean, boolean][] = [
    [client, 'ibgp', true, true], // client → clients
    [client, 'ibgp', false, true], // client → non-clients
    [nonClient, 'ibgp', true, true], // non-client → clients
    [nonClient, 'ibgp', false, false], // non-client → non-clients: split horizon (RFC 4271 §9.1.3)
    [ebgp, 'ibgp', false, true],
    [ebgp, 'ibgp', true, true],
    [local, 'ibgp', false, true],
    [client, 'ebgp', false, true],
    [nonClient, 'ebgp', false, true],
    [ebgp, 'ebgp', false, true],
  ];
  for (const [src, kind, rrClient, exported] of matrix) {
    it(`${src.kind}${src.rrClient ? ' client' : ''} → ${kind}${rrClient ? ' client' : ''}: ${exported ? 'sent' : 'not sent'}`, () => {
      const ex = new Exporter(profile({ kind, rrClient }), t);
      assert.equal(ex.export('ipv4', P, src, set) !== null, exported);
    });
  }

  it('NO_ADVERTISE goes nowhere, NO_EXPORT / NO_EXPORT_SUBCONFED not to eBGP (RFC 1997)', () => {
    const noAdv = t.intern({ ...learned, communities: [WELL_KNOWN_COMMUNITY.NO_ADVERTISE] });
    const noExp = t.intern({ ...learned, communities: [WELL_KNOWN_COMMUNITY.NO_EXPORT] });
    const noSub = t.intern({ ...learned, communities: [WELL_KNOWN_COMMUNITY.NO_EXPORT_SUBCONFED] });
    const ib = new Exporter(profile({ rrClient: true }), t);
    const eb = new Exporter(profile({ kind: 'ebgp' }), t);
    assert.equal(ib.export('ipv4', P, ebgp, noAdv), null);
    assert.equal(ib.refusal(ebgp, noAdv), 'no-advertise');
    assert.equal(eb.export('ipv4', P, ebgp, noAdv), null);
    assert.notEqual(ib.export('ipv4', P, ebgp, noExp), null);
    assert.equal(eb.export('ipv4', P, ebgp, noExp), null);
    assert.equal(eb.export('ipv4', P, local, noSub), null);
    assert.equal(eb.refusal(local, noSub), 'no-export');
  });
});

describe('Exporter: rewriting', () => {
  it('reflection sets ORIGINATOR_ID when absent and prepends our cluster id (RFC 4456 §8)', () => {
    const t = new AttrTable();
    const ex = new Exporter(profile({ rrClient: true, clusterId: '10.9.9.9' }), t);
    const out = ex.export('ipv4', P, client, t.intern(learned));
    assert.equal(out?.attrs.originatorId, '1.1.1.1');
    assert.deepEqual(out?.attrs.clusterList, ['10.9.9.9']);
    assert.equal(out?.attrs.nextHop, '192.0.2.3', 'iBGP auto keeps the next hop');
    assert.equal(out?.attrs.localPref, 120);
    assert.equal(out?.attrs.med, 50);
    const again = ex.export('ipv4', P, nonClient, t.intern({ ...learned, originatorId: '7.7.7.7', clusterList: ['10.8.8.8'] }));
    assert.equal(again?.attrs.originatorId, '7.7.7.7');
    assert.deepEqual(again?.attrs.clusterList, ['10.9.9.9', '10.8.8.8']);
    const noCluster = new Exporter(profile({ rrClient: true }), t).export('ipv4', P, client, t.intern(learned));
    assert.deepEqual(noCluster?.attrs.clusterList, ['10.0.0.1'], 'cluster id defaults to the router id');
  });

  it('eBGP-learned routes to iBGP are not reflected: no ORIGINATOR_ID / CLUSTER_LIST; LOCAL_PREF added', () => {
    const t = new AttrTable();
    const { localPref: _drop, ...noLp } = learned;
    const out = new Exporter(profile({}), t).export('ipv4', P, ebgp, t.intern(noLp));
    assert.equal(out?.attrs.originatorId, undefined);
    assert.equal(out?.attrs.clusterList, undefined);
    assert.equal(out?.attrs.localPref, 100);
    assert.equal(new Exporter(profile({ defaultLocalPref: 70 }), t).export('ipv4', P, ebgp, t.intern(noLp))?.attrs.localPref, 70);
  });

  it('to eBGP: prepend our AS, next hop self, no LOCAL_PREF / MED / reflection attributes', () => {
    const t = new AttrTable();
    const ex = new Exporter(profile({ kind: 'ebgp' }), t);
    const out = ex.export('ipv4', P, client, t.intern({ ...learned, originatorId: '1.1.1.1', clusterList: ['10.9.9.9'] }));
    assert.deepEqual(out?.attrs, {
      origin: ORIGIN.IGP,
      asPath: [{ type: SEQ, asns: [LOCAL_AS, 65001] }],
      nextHop: '192.0.2.254',
    });
    const v6 = ex.export('ipv6', '2001:db8::/48', ebgp, t.intern({ origin: ORIGIN.IGP, asPath: [], mpNextHop: { global: '2001:db8::3' } }));
    assert.deepEqual(v6?.attrs.mpNextHop, { global: '2001:db8::fe' });
    assert.deepEqual(v6?.attrs.asPath, [{ type: SEQ, asns: [LOCAL_AS] }]);
  });

  it('to eBGP: confederation segments from an iBGP route are stripped before the prepend (RFC 5065 §5.3)', () => {
    // Found by test/integration/bgp-fuzz.test.ts: tortie sent [SEQ 65000][CONFED_SEQ 65010] to an eBGP peer.
    const t = new AttrTable();
    const ex = new Exporter(profile({ kind: 'ebgp' }), t);
    const CSEQ = AS_PATH_SEGMENT.CONFED_SEQUENCE;
    const confedFirst = ex.export('ipv4', P, client, t.intern({ ...learned, asPath: [{ type: CSEQ, asns: [65010] }, { type: SEQ, asns: [65001] }] }));
    assert.deepEqual(confedFirst?.attrs.asPath, [{ type: SEQ, asns: [LOCAL_AS, 65001] }]);
    const confedOnly = ex.export('ipv4', P, client, t.intern({ ...learned, asPath: [{ type: CSEQ, asns: [65010] }, { type: AS_PATH_SEGMENT.CONFED_SET, asns: [65011, 65012] }] }));
    assert.deepEqual(confedOnly?.attrs.asPath, [{ type: SEQ, asns: [LOCAL_AS] }]);
    const toIbgp = new Exporter(profile({ rrClient: true }), t).export('ipv4', P, client, t.intern({ ...learned, asPath: [{ type: CSEQ, asns: [65010] }] }));
    assert.deepEqual(toIbgp?.attrs.asPath, [{ type: CSEQ, asns: [65010] }], 'kept towards iBGP');
  });

  it('to eBGP: MED kept for our own routes, with sendMed, or when the export policy set it', () => {
    const t = new AttrTable();
    const set = t.intern(learned);
    assert.equal(new Exporter(profile({ kind: 'ebgp' }), t).export('ipv4', P, local, set)?.med, 50);
    assert.equal(new Exporter(profile({ kind: 'ebgp', sendMed: true }), t).export('ipv4', P, ebgp, set)?.med, 50);
    const policy = new Policy({ rules: [{ action: 'accept', operations: [{ setMed: 7 }] }] });
    assert.equal(new Exporter(profile({ kind: 'ebgp', policy }), t).export('ipv4', P, ebgp, set)?.med, 7);
  });

  it('next-hop modes: self and keep', () => {
    const t = new AttrTable();
    const set = t.intern(learned);
    assert.equal(new Exporter(profile({ nextHop: 'self' }), t).export('ipv4', P, ebgp, set)?.attrs.nextHop, '192.0.2.254');
    assert.equal(new Exporter(profile({ kind: 'ebgp', nextHop: 'keep' }), t).export('ipv4', P, ebgp, set)?.attrs.nextHop, '192.0.2.3');
    const mine = t.intern({ origin: ORIGIN.IGP, asPath: [] });
    assert.equal(new Exporter(profile({ nextHop: 'keep' }), t).export('ipv4', P, local, mine)?.attrs.nextHop, '192.0.2.254', 'a route without a next hop gets ours');
  });

  it('to a directly connected eBGP peer in auto mode, a next hop on the shared subnet is kept (third-party, as BIRD does)', () => {
    const t = new AttrTable();
    const fromMesh = t.intern({ origin: ORIGIN.IGP, asPath: [], nextHop: '192.0.2.7', localPref: 100 });
    const elsewhere = t.intern({ origin: ORIGIN.IGP, asPath: [], nextHop: '198.51.100.7', localPref: 100 });
    const shared = profile({ kind: 'ebgp', sharedSubnet4: '192.0.2.0/24' });
    assert.equal(new Exporter(shared, t).export('ipv4', P, nonClient, fromMesh)?.attrs.nextHop, '192.0.2.7', 'third-party next hop');
    assert.equal(new Exporter(shared, t).export('ipv4', P, nonClient, elsewhere)?.attrs.nextHop, '192.0.2.254', 'not on the subnet: self');
    assert.equal(new Exporter(profile({ kind: 'ebgp' }), t).export('ipv4', P, nonClient, fromMesh)?.attrs.nextHop, '192.0.2.254', 'no shared subnet known: self');
    assert.equal(new Exporter({ ...shared, nextHop: 'self' }, t).export('ipv4', P, nonClient, fromMesh)?.attrs.nextHop, '192.0.2.254', 'next hop self wins');
    assert.notEqual(groupKey(shared), groupKey(profile({ kind: 'ebgp' })), 'the subnet is part of the update group');
  });

  it('export policy runs before the session rules and can refuse', () => {
    const t = new AttrTable();
    const policy = new Policy({ rules: [{ match: { prefix: { cidr: '10.0.0.0/8' } }, action: 'reject' }], defaultAction: 'accept' });
    const ex = new Exporter(profile({ kind: 'ebgp', policy }), t);
    assert.equal(ex.export('ipv4', P, ebgp, t.intern(learned)), null);
    assert.notEqual(ex.export('ipv4', p4(0xc0a80000, 16), ebgp, t.intern(learned)), null);
  });

  it('computes one outgoing set per (set, group, kind of source), shared across prefixes and exporters of a key', () => {
    const t = new AttrTable();
    const set = t.intern(learned);
    const ex = new Exporter(profile({ kind: 'ebgp' }), t);
    const a = ex.export('ipv4', P, ebgp, set);
    const before = t.size;
    assert.equal(ex.export('ipv4', p4(0x0b000000, 24), ebgp, set), a);
    assert.equal(new Exporter(profile({ kind: 'ebgp' }), t).export('ipv4', P, ebgp, set), a);
    assert.equal(t.size, before);
    // Reflection depends on the source's router id: two sources, two sets.
    const r = new Exporter(profile({ rrClient: true }), t);
    const c2 = peers.add({ kind: 'ibgp', asn: LOCAL_AS, routerId: '5.5.5.5', address: '192.0.2.5', rrClient: true });
    assert.notEqual(r.export('ipv4', P, client, set), r.export('ipv4', P, c2, set));
  });

  it('group keys differ exactly when the export differs', () => {
    const base = profile({});
    assert.equal(groupKey(base), groupKey(profile({ families: ['ipv6', 'ipv4'] })));
    for (const over of [
      { kind: 'ebgp' as const },
      { rrClient: true },
      { nextHop: 'self' as const },
      { localAddress4: '192.0.2.253' },
      { fourOctetAs: false },
      { families: ['ipv4' as const] },
      { sendMed: true },
      { policy: new Policy({ rules: [] }) },
      { clusterId: '1.2.3.4' },
    ]) {
      assert.notEqual(groupKey(profile(over)), groupKey(base), JSON.stringify(Object.keys(over)));
    }
  });
});

describe('Exporter: IPv6 link-local next hops (RFC 2545 §3)', () => {
  // Found by test/integration/bgp-interop-rr.test.ts: tortie reflected BIRD's global + link-local next hop
  // to FRR, which refused the MP_REACH_NLRI ("sent a v6 LL next-hop") and reset the session (3/10).
  const withLL: PathAttributes = { origin: ORIGIN.IGP, asPath: [], mpNextHop: { global: '2001:db8::1', linkLocal: 'fe80::1' }, localPref: 100 };

  it('a next hop passed on unchanged (reflection, iBGP, eBGP keep) loses its link-local part', () => {
    const t = new AttrTable();
    const set = t.intern(withLL);
    const reflected = new Exporter(profile({ rrClient: true }), t).export('ipv6', '2001:db8:1::/64', client, set);
    assert.deepEqual(reflected?.attrs.mpNextHop, { global: '2001:db8::1' });
    const ibgp = new Exporter(profile({}), t).export('ipv6', '2001:db8:1::/64', ebgp, set);
    assert.deepEqual(ibgp?.attrs.mpNextHop, { global: '2001:db8::1' });
    const keep = new Exporter(profile({ kind: 'ebgp', nextHop: 'keep' }), t).export('ipv6', '2001:db8:1::/64', ebgp, set);
    assert.deepEqual(keep?.attrs.mpNextHop, { global: '2001:db8::1' });
  });

  it('our own next hop (next hop self) is sent as configured, link-local included', () => {
    const t = new AttrTable();
    const ours = { global: '2001:db8::fe', linkLocal: 'fe80::fe' };
    const out = new Exporter(profile({ kind: 'ebgp', localAddress6: ours }), t).export('ipv6', '2001:db8:1::/64', client, t.intern(withLL));
    assert.deepEqual(out?.attrs.mpNextHop, ours);
  });
});
