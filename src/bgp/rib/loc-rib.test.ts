import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { AS_PATH_SEGMENT, ORIGIN, p4, type Prefix4 } from '../types.js';
import { AttrTable, type AttrSet } from './attrs.js';
import { decisionContext, selectBest, type StepName } from './decision.js';
import { LocRib, type BestChangeKind } from './loc-rib.js';
import { NO_PEER, PeerTable } from './peers.js';

const SEQ = AS_PATH_SEGMENT.SEQUENCE;

function setup() {
  const attrs = new AttrTable();
  const peers = new PeerTable({ asn: 65000, routerId: '10.0.0.1' });
  const ids = [
    peers.add({ kind: 'ibgp', asn: 65000, routerId: '1.1.1.1', address: '192.0.2.1' }).index,
    peers.add({ kind: 'ibgp', asn: 65000, routerId: '2.2.2.2', address: '192.0.2.2' }).index,
    peers.add({ kind: 'ebgp', asn: 65001, routerId: '3.3.3.3', address: '192.0.2.3' }).index,
    peers.add({ kind: 'ebgp', asn: 65002, routerId: '4.4.4.4', address: '192.0.2.4' }).index,
  ];
  const events: [Prefix4, BestChangeKind, number, AttrSet | null, StepName | null, number, AttrSet | null][] = [];
  const loc = LocRib.v4({ attrs, peers, onBestChange: (...e) => events.push(e) });
  const set = (lp: number, path: number[] = [65001], med?: number): AttrSet =>
    attrs.intern({ origin: ORIGIN.IGP, asPath: [{ type: SEQ, asns: path }], localPref: lp, ...(med === undefined ? {} : { med }) });
  return { attrs, peers, ids, events, loc, set };
}

const P = p4(0x0a000000, 24);

describe('LocRib', () => {
  it('announces added / changed / withdrawn best paths with the deciding step', () => {
    const { ids, events, loc, set } = setup();
    const [a, b] = ids as [number, number];
    const low = set(100);
    const high = set(200);
    loc.update(P, a, low);
    assert.deepEqual(events.pop(), [P, 'added', a, low, 'only-path', NO_PEER, null]);
    loc.update(P, b, high);
    assert.deepEqual(events.pop(), [P, 'changed', b, high, 'local-pref', a, low]);
    assert.deepEqual(loc.best(P), { peer: b, attrs: high, step: 'local-pref' });
    loc.update(P, b, null);
    assert.deepEqual(events.pop(), [P, 'changed', a, low, 'only-path', b, high]);
    loc.update(P, a, null);
    assert.deepEqual(events.pop(), [P, 'withdrawn', NO_PEER, null, null, a, low]);
    assert.equal(loc.best(P), undefined);
    assert.equal(loc.size, 0);
    assert.equal(events.length, 0);
  });

  it('stays quiet when the best path does not change', () => {
    const { ids, events, loc, set } = setup();
    const [a, b] = ids as [number, number];
    loc.update(P, a, set(200));
    events.length = 0;
    loc.update(P, a, set(200)); // same set again
    loc.update(P, b, set(100)); // a worse candidate arrives
    loc.update(P, b, set(150)); // and changes
    loc.update(P, b, null); // and goes
    loc.update(P, ids[2] as number, null); // a withdrawal for a peer with no candidate
    loc.update(p4(0x0b000000, 8), a, null); // for an unknown prefix
    assert.deepEqual(events, []);
    assert.equal(loc.best(P)?.step, 'only-path');
  });

  it('records the step that decides while several candidates remain', () => {
    const { ids, loc, set } = setup();
    const [a, b, e1] = ids as [number, number, number];
    loc.update(P, a, set(100));
    loc.update(P, b, set(100));
    assert.equal(loc.best(P)?.step, 'router-id');
    assert.equal(loc.best(P)?.peer, a);
    loc.update(P, e1, set(100, [65001, 65003])); // out at as-path; router id still decides between a and b
    assert.deepEqual([loc.best(P)?.peer, loc.best(P)?.step], [a, 'router-id']);
    loc.update(P, e1, set(100, [])); // now the shortest path
    assert.deepEqual([loc.best(P)?.peer, loc.best(P)?.step], [e1, 'as-path']);
    loc.update(P, e1, set(100, [65001, 65003]));
    assert.deepEqual(
      loc.candidates(P).map((c) => c.peer),
      [a, b, e1],
    );
    assert.equal(loc.best(P)?.peer, a);
  });

  it('holds one reference per candidate and releases them all', () => {
    const { attrs, ids, loc, set } = setup();
    const s = set(100);
    for (const id of ids) loc.update(P, id, s);
    assert.equal(attrs.refCount(s), 4);
    for (const id of ids) loc.update(P, id, null);
    assert.equal(attrs.refCount(s), 0);
    assert.equal(loc.multiPath, 0);
  });

  it('incremental updates equal a from-scratch decision, and the event stream replays to the table', () => {
    const arbOp = fc.record({
      prefix: fc.integer({ min: 0, max: 5 }),
      peer: fc.integer({ min: 0, max: 4 }), // 0 = local
      attr: fc.integer({ min: -1, max: 5 }), // -1 = withdraw
    });
    fc.assert(
      fc.property(fc.array(arbOp, { maxLength: 150 }), fc.boolean(), (ops, alwaysCompareMed) => {
        const { attrs, peers, ids, events, set } = setup();
        const loc = LocRib.v4({ attrs, peers, decision: { alwaysCompareMed }, onBestChange: (...e) => events.push(e) });
        const allPeers = [0, ...ids];
        const palette = [set(100), set(100, [65002]), set(200), set(100, [65001], 5), set(100, [65001], 1), set(100, [65002], 0)];
        const model = new Map<Prefix4, Map<number, AttrSet>>();
        for (const o of ops) {
          const prefix = p4(0x0a000000 + o.prefix * 256, 24);
          const peer = allPeers[o.peer] as number;
          const a = o.attr < 0 ? null : (palette[o.attr] as AttrSet);
          loc.update(prefix, peer, a);
          let m = model.get(prefix);
          if (m === undefined) model.set(prefix, (m = new Map()));
          if (a === null) m.delete(peer);
          else m.set(peer, a);
        }
        // From scratch: a fresh Loc-RIB fed the final candidates, and the decision over the model directly.
        const fresh = LocRib.v4({ attrs, peers, decision: { alwaysCompareMed } });
        const ctx = decisionContext({ alwaysCompareMed });
        const kernel = new Map<Prefix4, [number, AttrSet]>();
        for (const [prefix, kind, peer, a, , prevPeer, prevA] of events) {
          const had = kernel.get(prefix);
          if (kind === 'added') assert.equal(had, undefined);
          else assert.deepEqual(had, [prevPeer, prevA], 'previous path in the event is what was announced before');
          if (kind === 'withdrawn') kernel.delete(prefix);
          else kernel.set(prefix, [peer, a as AttrSet]);
        }
        for (const [prefix, m] of model) {
          for (const [peer, a] of m) fresh.update(prefix, peer, a);
          const got = loc.best(prefix);
          if (m.size === 0) {
            assert.equal(got, undefined);
            assert.equal(kernel.has(prefix), false);
            continue;
          }
          assert.deepEqual(got, fresh.best(prefix));
          const paths = [...m].map(([peer, a]) => ({ peer: peers.get(peer), attrs: a }));
          const s = selectBest(paths, ctx);
          assert.equal(got?.peer, paths[s.index]?.peer.index);
          assert.equal(got?.attrs, paths[s.index]?.attrs);
          assert.equal(got?.step, s.step);
          assert.deepEqual(kernel.get(prefix), [got?.peer, got?.attrs]);
        }
        let total = 0;
        for (const m of model.values()) total += m.size;
        const refs = palette.reduce((n, s) => n + attrs.refCount(s), 0);
        assert.equal(refs, 2 * total, 'one reference per candidate in each of the two Loc-RIBs');
      }),
      { numRuns: 500 },
    );
  });
});
