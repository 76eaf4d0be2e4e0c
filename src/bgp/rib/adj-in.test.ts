import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { AS_PATH_SEGMENT, ORIGIN, p4, type Prefix4 } from '../types.js';
import { AdjRibIn } from './adj-in.js';
import { AttrTable, type AttrSet } from './attrs.js';

const mk = (t: AttrTable, med: number): AttrSet =>
  t.intern({ origin: ORIGIN.IGP, asPath: [{ type: AS_PATH_SEGMENT.SEQUENCE, asns: [65001] }], med });
const P = (i: number): Prefix4 => p4(0x0a000000 + i * 256, 24);

describe('AdjRibIn', () => {
  it('stores, replaces and removes routes, reporting the previous accepted set', () => {
    const t = new AttrTable();
    const a = mk(t, 1);
    const b = mk(t, 2);
    const adj = AdjRibIn.v4(t);
    assert.equal(adj.set(P(1), a), null);
    assert.equal(adj.set(P(1), a), a, 'same again: previous is the same set');
    assert.equal(adj.set(P(1), b), a);
    assert.equal(adj.get(P(1)), b);
    assert.equal(t.refCount(a), 0);
    assert.equal(t.refCount(b), 1);
    assert.equal(adj.remove(P(1)), b);
    assert.equal(adj.remove(P(1)), undefined);
    assert.equal(adj.get(P(1)), undefined);
    assert.equal(t.refCount(b), 0);
    assert.equal(adj.received, 0);
  });

  it('counts received and accepted; filtered routes are kept as null', () => {
    const t = new AttrTable();
    const a = mk(t, 1);
    const adj = AdjRibIn.v4(t);
    adj.set(P(1), a);
    adj.set(P(2), null);
    adj.set(P(3), a);
    assert.deepEqual([adj.received, adj.accepted], [3, 2]);
    assert.equal(adj.get(P(2)), null);
    assert.equal(adj.set(P(3), null), a, 'now filtered: the accepted set is reported gone');
    assert.deepEqual([adj.received, adj.accepted], [3, 1]);
    assert.equal(adj.remove(P(2)), null);
    assert.deepEqual([adj.received, adj.accepted], [2, 1]);
    assert.equal(t.refCount(a), 1);
  });

  it('graceful restart: markStale, refresh clears the flag, sweepStale removes the rest (RFC 4724 §4.2)', () => {
    const t = new AttrTable();
    const a = mk(t, 1);
    const b = mk(t, 2);
    const adj = AdjRibIn.v4(t);
    for (let i = 0; i < 5; i++) adj.set(P(i), i === 4 ? null : a);
    assert.equal(adj.markStale(), 5);
    assert.equal(adj.stale, 5);
    assert.ok(adj.isStale(P(0)));
    adj.set(P(0), a); // re-advertised unchanged
    adj.set(P(1), b); // re-advertised changed
    assert.equal(adj.stale, 3);
    assert.equal(adj.isStale(P(0)), false);
    const removed: [Prefix4, AttrSet | null][] = [];
    assert.equal(
      adj.sweepStale((p, prev) => removed.push([p, prev])),
      3,
    );
    assert.deepEqual(
      removed.sort((x, y) => x[0] - y[0]),
      [
        [P(2), a],
        [P(3), a],
        [P(4), null],
      ],
    );
    assert.deepEqual([adj.received, adj.accepted, adj.stale], [2, 2, 0]);
    assert.equal(adj.get(P(1)), b);
    assert.equal(adj.sweepStale(), 0);
    assert.equal(t.refCount(a), 1);
  });

  it('a withdrawn stale route is no longer counted stale', () => {
    const t = new AttrTable();
    const adj = AdjRibIn.v4(t);
    adj.set(P(1), mk(t, 1));
    adj.set(P(2), mk(t, 1));
    adj.markStale();
    adj.remove(P(1));
    assert.equal(adj.stale, 1);
    assert.equal(adj.sweepStale(), 1);
    assert.equal(adj.received, 0);
  });

  it('clear() removes everything and releases every reference', () => {
    const t = new AttrTable();
    const a = mk(t, 1);
    const adj = AdjRibIn.v4(t);
    for (let i = 0; i < 100; i++) adj.set(P(i), i % 10 === 0 ? null : a);
    let n = 0;
    assert.equal(
      adj.clear((_p, prev) => {
        if (prev !== null) n++;
      }),
      100,
    );
    assert.equal(n, 90);
    assert.equal(t.refCount(a), 0);
    assert.deepEqual([adj.received, adj.accepted], [0, 0]);
    adj.set(P(1), a);
    assert.equal(adj.get(P(1)), a, 'usable after clear');
  });

  it('IPv6 works the same', () => {
    const t = new AttrTable();
    const a = mk(t, 1);
    const adj = AdjRibIn.v6(t);
    adj.set('2001:db8::/48', a);
    adj.set('2001:db8:1::/48', null);
    assert.equal(adj.get('2001:db8::/48'), a);
    assert.deepEqual([adj.received, adj.accepted], [2, 1]);
    adj.markStale();
    assert.equal(adj.sweepStale(), 2);
  });

  it('matches a Map model under random operations', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({ op: fc.constant('set' as const), i: fc.integer({ min: 0, max: 30 }), v: fc.integer({ min: -1, max: 2 }) }),
            fc.record({ op: fc.constant('remove' as const), i: fc.integer({ min: 0, max: 30 }) }),
            fc.record({ op: fc.constantFrom('stale' as const, 'sweep' as const) }),
          ),
          { maxLength: 200 },
        ),
        (ops) => {
          const t = new AttrTable();
          const sets = [mk(t, 0), mk(t, 1), mk(t, 2)];
          const adj = AdjRibIn.v4(t);
          const model = new Map<Prefix4, { v: number; stale: boolean }>();
          for (const o of ops) {
            if (o.op === 'set') {
              adj.set(P(o.i), o.v < 0 ? null : (sets[o.v] as AttrSet));
              model.set(P(o.i), { v: o.v, stale: false });
            } else if (o.op === 'remove') {
              adj.remove(P(o.i));
              model.delete(P(o.i));
            } else if (o.op === 'stale') {
              adj.markStale();
              for (const e of model.values()) e.stale = true;
            } else {
              adj.sweepStale();
              for (const [k, e] of [...model]) if (e.stale) model.delete(k);
            }
          }
          const seen = new Map<Prefix4, { v: number; stale: boolean }>();
          adj.forEach((p, a, stale) => seen.set(p, { v: a === null ? -1 : sets.indexOf(a), stale }));
          assert.deepEqual(seen, model);
          assert.equal(adj.received, model.size);
          assert.equal(adj.accepted, [...model.values()].filter((e) => e.v >= 0).length);
          assert.equal(adj.stale, [...model.values()].filter((e) => e.stale).length);
          for (const [i, s] of sets.entries()) {
            assert.equal(t.refCount(s), [...model.values()].filter((e) => e.v === i).length);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
