import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Policy } from '../policy.js';
import { AS_PATH_SEGMENT, ORIGIN, p4, type PathAttributes, type Prefix4 } from '../types.js';
import type { Batch } from './adj-out.js';
import { Rib, type PeerConfig, type PeerExport } from './rib.js';

const SEQ = AS_PATH_SEGMENT.SEQUENCE;
const P = (i: number): Prefix4 => p4(0x0a000000 + i * 256, 24);
const exp: PeerExport = { nextHop: 'auto', localAddress4: '192.0.2.254', fourOctetAs: true, families: ['ipv4'] };

function setup() {
  const bestLog: string[] = [];
  const rib = new Rib({
    localAs: 65000,
    routerId: '10.0.0.1',
    onBestChange4: (p, kind, peer, _a, step) => bestLog.push(`${(Math.floor(p / 64) - 0x0a000000) / 256}:${kind}:${peer}:${step}`),
  });
  const add = (c: Partial<PeerConfig> & Pick<PeerConfig, 'kind' | 'routerId' | 'address'>) =>
    rib.addPeer({ asn: c.kind === 'ibgp' ? 65000 : 65001, export: exp, ...c }).index;
  return { rib, add, bestLog };
}

const fromEbgp: PathAttributes = { origin: ORIGIN.IGP, asPath: [{ type: SEQ, asns: [65001] }], nextHop: '192.0.2.3' };
const fromClient: PathAttributes = { origin: ORIGIN.IGP, asPath: [], nextHop: '192.0.2.1', localPref: 100 };

function drainAll(rib: Rib, peer: number): Batch<Prefix4>[] {
  const g = rib.v4.out.groupOf(peer);
  if (g === undefined) return [];
  return rib.drain('ipv4', g).for(peer);
}

function shown(batches: Batch<Prefix4>[]): [string, number[]][] {
  return batches.map((b) => [
    b.attrs === null ? 'W' : (b.attrs.attrs.nextHop ?? ''),
    b.prefixes.map((p) => (Math.floor(p / 64) - 0x0a000000) / 256).sort((x, y) => x - y),
  ]);
}

describe('Rib', () => {
  it('route reflector: two clients share a group; a client route reaches the other client reflected, not its sender', () => {
    const { rib, add } = setup();
    const c1 = add({ kind: 'ibgp', routerId: '1.1.1.1', address: '192.0.2.1', rrClient: true });
    const c2 = add({ kind: 'ibgp', routerId: '2.2.2.2', address: '192.0.2.2', rrClient: true });
    rib.peerUp(c1);
    rib.peerUp(c2);
    const g = rib.v4.out.groupOf(c1);
    assert.equal(rib.v4.out.groupOf(c2), g);
    rib.update(c1, 'ipv4', [P(1)], fromClient);
    rib.collect();
    const d = rib.drain('ipv4', g!);
    assert.deepEqual(shown(d.for(c1)), []);
    const [b] = d.for(c2);
    assert.equal(b?.attrs?.attrs.originatorId, '1.1.1.1');
    assert.deepEqual(b?.attrs?.attrs.clusterList, ['10.0.0.1']);
    assert.equal(b?.attrs?.attrs.nextHop, '192.0.2.1');
  });

  it('an eBGP route reaches every member of the iBGP group in one shared batch', () => {
    const { rib, add } = setup();
    const e = add({ kind: 'ebgp', routerId: '3.3.3.3', address: '192.0.2.3' });
    const i1 = add({ kind: 'ibgp', routerId: '1.1.1.1', address: '192.0.2.1' });
    const i2 = add({ kind: 'ibgp', routerId: '2.2.2.2', address: '192.0.2.2' });
    rib.peerUp(i1);
    rib.peerUp(i2);
    rib.peerUp(e);
    const res = rib.update(e, 'ipv4', [P(1), P(2)], fromEbgp);
    assert.deepEqual(res, { accepted: 2, filtered: 0, withdrawn: 0, teardown: false });
    const g = rib.v4.out.groupOf(i1)!;
    const d = rib.drain('ipv4', g);
    assert.equal(d.batches.length, 1);
    assert.equal(d.for(i1), d.for(i2));
    assert.equal(d.batches[0]?.attrs?.localPref, 100);
    assert.equal(drainAll(rib, e).length, 0, 'not sent back to the eBGP sender');
  });

  it('graceful restart: routes survive the session as stale; End-of-RIB withdraws the ones not re-sent', () => {
    const { rib, add, bestLog } = setup();
    const e = add({ kind: 'ebgp', routerId: '3.3.3.3', address: '192.0.2.3' });
    const i1 = add({ kind: 'ibgp', routerId: '1.1.1.1', address: '192.0.2.1' });
    rib.peerUp(i1);
    rib.peerUp(e);
    rib.update(e, 'ipv4', [P(1), P(2), P(3)], fromEbgp);
    drainAll(rib, i1);
    bestLog.length = 0;
    rib.peerDown(e, { gracefulRestart: true });
    assert.equal(rib.v4.loc.size, 3, 'forwarding kept');
    assert.equal(rib.v4.adjIn.get(e)?.stale, 3);
    assert.deepEqual(bestLog, []);
    rib.peerUp(e);
    rib.update(e, 'ipv4', [P(1)], fromEbgp);
    rib.update(e, 'ipv4', [P(2)], { ...fromEbgp, med: 5 });
    assert.equal(rib.endOfRib(e, 'ipv4'), 1);
    assert.deepEqual(bestLog, ['2:changed:1:only-path', '3:withdrawn:65535:null']);
    assert.equal(rib.v4.loc.size, 2);
    assert.deepEqual(shown(drainAll(rib, i1)), [
      ['W', [3]],
      ['192.0.2.3', [2]],
    ]);
  });

  it('enhanced route refresh: routes not re-sent between BoRR and EoRR are withdrawn (RFC 7313)', () => {
    const { rib, add } = setup();
    const e = add({ kind: 'ebgp', routerId: '3.3.3.3', address: '192.0.2.3' });
    rib.update(e, 'ipv4', [P(1), P(2)], fromEbgp);
    assert.equal(rib.beginRouteRefresh(e, 'ipv4'), 2);
    rib.update(e, 'ipv4', [P(2)], fromEbgp);
    assert.equal(rib.endOfRib(e, 'ipv4'), 1);
    assert.equal(rib.v4.loc.best(P(1)), undefined);
    assert.equal(rib.v4.loc.best(P(2))?.peer, e);
  });

  it('without graceful restart a session down withdraws its routes and frees their sets', () => {
    const { rib, add } = setup();
    const e = add({ kind: 'ebgp', routerId: '3.3.3.3', address: '192.0.2.3' });
    const i1 = add({ kind: 'ibgp', routerId: '1.1.1.1', address: '192.0.2.1' });
    rib.peerUp(i1);
    rib.update(e, 'ipv4', [P(1), P(2)], fromEbgp);
    drainAll(rib, i1);
    rib.peerDown(e);
    assert.equal(rib.v4.loc.size, 0);
    assert.deepEqual(shown(drainAll(rib, i1)), [['W', [1, 2]]]);
    rib.peerDown(i1);
    rib.collect();
    assert.equal(rib.attrs.size, 0, 'no attribute set leaked');
  });

  it('import policy, loop checks and max-prefix (reject) store refused routes as filtered', () => {
    const { rib, add } = setup();
    const importPolicy = new Policy({ rules: [{ match: { prefix: { cidr: '10.0.9.0/24', exact: true } }, action: 'reject' }] });
    const e = add({ kind: 'ebgp', routerId: '3.3.3.3', address: '192.0.2.3', importPolicy, maxPrefix: { limit: 3, action: 'reject' } });
    assert.deepEqual(rib.update(e, 'ipv4', [P(9), P(1)], fromEbgp), { accepted: 1, filtered: 1, withdrawn: 0, teardown: false });
    const loop = { ...fromEbgp, asPath: [{ type: SEQ, asns: [65001, 65000] }] };
    assert.deepEqual(rib.update(e, 'ipv4', [P(2)], loop), { accepted: 0, filtered: 1, withdrawn: 0, teardown: false });
    assert.deepEqual(rib.update(e, 'ipv4', [P(3), P(4), P(5), P(1)], fromEbgp), { accepted: 3, filtered: 1, withdrawn: 0, teardown: false });
    const adj = rib.v4.adjIn.get(e)!;
    assert.deepEqual([adj.received, adj.accepted], [6, 3]);
    assert.equal(adj.get(P(5)), null, 'the fourth prefix is over the limit');
    assert.equal(rib.v4.loc.size, 3);
    assert.deepEqual(rib.update(e, 'ipv4', [], null, [P(1), P(9)]), { accepted: 0, filtered: 0, withdrawn: 2, teardown: false });
    assert.equal(rib.v4.loc.size, 2);
  });

  it('max-prefix teardown stops the update and says so', () => {
    const { rib, add } = setup();
    const e = add({ kind: 'ebgp', routerId: '3.3.3.3', address: '192.0.2.3', maxPrefix: { limit: 2, action: 'teardown' } });
    const r = rib.update(e, 'ipv4', [P(1), P(2), P(3)], fromEbgp);
    assert.equal(r.teardown, true);
    assert.equal(r.accepted, 2);
    assert.equal(rib.v4.loc.size, 2);
  });

  it('a peer that comes up late gets the whole table; route refresh re-sends it', () => {
    const { rib, add } = setup();
    const e = add({ kind: 'ebgp', routerId: '3.3.3.3', address: '192.0.2.3' });
    const i1 = add({ kind: 'ibgp', routerId: '1.1.1.1', address: '192.0.2.1' });
    const i2 = add({ kind: 'ibgp', routerId: '2.2.2.2', address: '192.0.2.2' });
    rib.update(e, 'ipv4', [P(1), P(2)], fromEbgp);
    rib.peerUp(i1); // new group: fed from the Loc-RIB
    assert.deepEqual(shown(drainAll(rib, i1)), [['192.0.2.3', [1, 2]]]);
    rib.peerUp(i2); // existing group that has sent: its own subgroup
    assert.notEqual(rib.v4.out.groupOf(i2), rib.v4.out.groupOf(i1));
    assert.deepEqual(shown(drainAll(rib, i2)), [['192.0.2.3', [1, 2]]]);
    assert.equal(rib.v4.out.groupOf(i2), rib.v4.out.groupOf(i1), 'merged');
    rib.refresh(i2, 'ipv4');
    assert.deepEqual(shown(drainAll(rib, i2)), [['192.0.2.3', [1, 2]]]);
    rib.update(e, 'ipv4', [P(3)], fromEbgp);
    const g = rib.v4.out.groupOf(i1)!;
    const d = rib.drain('ipv4', g);
    assert.equal(d.for(i1), d.for(i2));
  });

  it('route reflector: a client that comes up after another client sent its routes gets them (the sender was alone in its group)', () => {
    // Seen in the interop test: GoBGP's route arrived while it was the only client up; FRR and BIRD,
    // Established a moment later, never got it. While the sender is its group's only member the
    // route is not exported into the group (it would never be sent back to its source): a later
    // member must still get it, and its withdrawal.
    const { rib, add } = setup();
    const c1 = add({ kind: 'ibgp', routerId: '1.1.1.1', address: '192.0.2.1', rrClient: true });
    const c2 = add({ kind: 'ibgp', routerId: '2.2.2.2', address: '192.0.2.2', rrClient: true });
    const c3 = add({ kind: 'ibgp', routerId: '3.3.3.3', address: '192.0.2.3', rrClient: true });
    const sorted = (b: Batch<Prefix4>[]) => shown(b).sort((x, y) => x[0].localeCompare(y[0]));
    rib.setOriginated('ipv4', new Map([[P(9), { origin: ORIGIN.IGP, asPath: [] }]]));
    rib.peerUp(c1);
    assert.deepEqual(shown(drainAll(rib, c1)), [['192.0.2.254', [9]]]);
    rib.update(c1, 'ipv4', [P(1)], fromClient); // c1 alone in its group
    assert.deepEqual(shown(drainAll(rib, c1)), []);
    rib.peerUp(c2);
    const got = drainAll(rib, c2);
    assert.deepEqual(sorted(got), [['192.0.2.1', [1]], ['192.0.2.254', [9]]], 'the whole table, the other client\'s route included');
    assert.equal(got.find((b) => b.attrs?.attrs.nextHop === '192.0.2.1')?.attrs?.attrs.originatorId, '1.1.1.1');
    assert.deepEqual(shown(drainAll(rib, c1)), [], 'never sent back to its source');
    assert.equal(rib.v4.out.groupOf(c2), rib.v4.out.groupOf(c1), 'merged');
    // A route while a late joiner's subgroup is still apart, then the merge: withdrawals reach everyone.
    rib.peerUp(c3);
    rib.update(c1, 'ipv4', [P(2)], fromClient);
    assert.deepEqual(sorted(drainAll(rib, c3)), [['192.0.2.1', [1, 2]], ['192.0.2.254', [9]]]);
    const d = rib.drain('ipv4', rib.v4.out.groupOf(c1)!);
    assert.deepEqual(shown(d.for(c1)), []);
    assert.deepEqual(shown(d.for(c2)), [['192.0.2.1', [2]]]);
    assert.equal(rib.v4.out.groupOf(c3), rib.v4.out.groupOf(c1), 'merged');
    rib.update(c1, 'ipv4', [], null, [P(1), P(2)]);
    const w = rib.drain('ipv4', rib.v4.out.groupOf(c1)!);
    for (const c of [c2, c3]) assert.deepEqual(shown(w.for(c)), [['W', [1, 2]]], `withdrawals reach peer ${c}`);
    assert.deepEqual(shown(w.for(c1)), []);
  });

  it('originated routes are a declarative set', () => {
    const { rib, add, bestLog } = setup();
    const i1 = add({ kind: 'ibgp', routerId: '1.1.1.1', address: '192.0.2.1' });
    rib.peerUp(i1);
    const own: PathAttributes = { origin: ORIGIN.IGP, asPath: [] };
    rib.setOriginated('ipv4', new Map([[P(1), own], [P(2), own]]));
    rib.setOriginated('ipv4', new Map([[P(2), own], [P(3), own]]));
    assert.deepEqual(bestLog, ['1:added:0:only-path', '2:added:0:only-path', '1:withdrawn:65535:null', '3:added:0:only-path']);
    assert.deepEqual(shown(drainAll(rib, i1)), [['192.0.2.254', [2, 3]]]);
    rib.setOriginated('ipv6', new Map([['2001:db8::/48', { origin: ORIGIN.IGP, asPath: [], mpNextHop: { global: '2001:db8::1' } }]]));
    assert.equal(rib.v6.loc.best('2001:db8::/48')?.peer, 0);
  });

  it('a new export policy for many peers at once: one re-export per group, not per peer, and one group after', () => {
    const { rib, add } = setup();
    const peers = Array.from({ length: 20 }, (_, i) => add({ kind: 'ibgp', routerId: `1.1.1.${i + 1}`, address: `192.0.2.${i + 1}` }));
    for (const p of peers) rib.peerUp(p);
    const own: PathAttributes = { origin: ORIGIN.IGP, asPath: [] };
    rib.setOriginated('ipv4', new Map(Array.from({ length: 10 }, (_, i) => [P(i), own])));
    drainAll(rib, peers[0]!);
    let calls = 0;
    const policy = new Policy({
      rules: [{ hook: (r) => (calls++, r.prefix === P(3) ? 'reject' : 'continue') }],
    });
    rib.setExportPolicies(peers.map((index) => ({ index, policy })));
    assert.equal(calls, 10, 'each best route through the new policy once');
    const g = rib.v4.out.groupOf(peers[0]!)!;
    for (const p of peers) assert.equal(rib.v4.out.groupOf(p), g, `peer ${p} moved with the others`);
    const d = rib.drain('ipv4', g);
    assert.deepEqual(shown(d.for(peers[0]!)), [['W', [3]]]);
    for (const p of peers) assert.equal(d.for(p), d.batches, 'the same batch objects for every member');
  });

  it('refuses unknown peers', () => {
    const { rib } = setup();
    assert.throws(() => rib.update(42, 'ipv4', [P(1)], fromEbgp), { code: 'UNKNOWN_PEER' });
  });
});
