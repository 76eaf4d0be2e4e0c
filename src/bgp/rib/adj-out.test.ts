import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { AS_PATH_SEGMENT, ORIGIN, p4, type Prefix4 } from '../types.js';
import { AdjRibOut, type Batch, type Drained } from './adj-out.js';
import { AttrTable, type AttrSet } from './attrs.js';

const P = (i: number): Prefix4 => p4(0x0a000000 + i * 256, 24);
const LOCAL = 0;

function setup() {
  const t = new AttrTable();
  const out = AdjRibOut.v4(t);
  const sets = [1, 2, 3].map((m) => t.intern({ origin: ORIGIN.IGP, asPath: [{ type: AS_PATH_SEGMENT.SEQUENCE, asns: [65000] }], med: m }));
  for (const s of sets) t.retain(s); // held by "the Loc-RIB"
  return { t, out, sets: sets as [AttrSet, AttrSet, AttrSet] };
}

/** Batches as plain data: [medOfAttrs | 'W', sorted prefix indexes]. */
function show(batches: readonly Batch<Prefix4>[]): [number | 'W', number[]][] {
  return batches.map((b) => [
    b.attrs === null ? 'W' : (b.attrs.attrs.med as number),
    [...b.prefixes].map((p) => (Math.floor(p / 64) - 0x0a000000) / 256).sort((x, y) => x - y),
  ]);
}

describe('update groups', () => {
  it('peers with one key share a group and one set of batch objects', () => {
    const { out, sets } = setup();
    const a = out.join(10, 'k');
    const b = out.join(11, 'k');
    assert.equal(a.group, b.group);
    assert.equal(a.needsFeed, true);
    assert.equal(b.needsFeed, false);
    assert.notEqual(out.join(12, 'other').group, a.group);
    out.enqueue('k', P(1), sets[0], LOCAL);
    out.enqueue('k', P(2), sets[0], LOCAL);
    out.enqueue('k', P(3), sets[1], LOCAL);
    const d = out.drain(a.group);
    assert.deepEqual(show(d.batches), [
      [1, [1, 2]],
      [2, [3]],
    ]);
    assert.equal(d.for(10), d.batches);
    assert.equal(d.for(11), d.batches, 'the very same objects: encode once');
  });

  it('coalesces flaps: the last state before a drain is sent once', () => {
    const { out, sets } = setup();
    const { group } = out.join(10, 'k');
    out.enqueue('k', P(1), sets[0], LOCAL);
    out.enqueue('k', P(1), sets[1], LOCAL);
    out.enqueue('k', P(1), sets[0], LOCAL);
    out.enqueue('k', P(2), sets[0], LOCAL);
    out.enqueue('k', P(2), null, LOCAL); // announced and withdrawn before the drain: nothing at all
    assert.deepEqual(show(out.drain(group).batches), [[1, [1]]]);
    out.enqueue('k', P(1), sets[1], LOCAL);
    out.enqueue('k', P(1), sets[0], LOCAL); // back to what was sent: nothing
    out.enqueue('k', P(1), null, LOCAL);
    out.enqueue('k', P(1), sets[0], LOCAL); // withdrawn and back: nothing
    assert.equal(out.drain(group).empty, true);
    out.enqueue('k', P(1), null, LOCAL);
    out.enqueue('k', P(1), null, LOCAL);
    assert.deepEqual(show(out.drain(group).batches), [['W', [1]]]);
    assert.equal(group.advertised, 0);
  });

  it('withdraws only what was sent', () => {
    const { out, sets } = setup();
    const { group } = out.join(10, 'k');
    out.enqueue('k', P(7), null, LOCAL); // never sent (e.g. refused by export policy all along)
    assert.equal(group.pending, 0);
    assert.equal(out.drain(group).empty, true);
    out.enqueue('k', P(1), sets[0], LOCAL);
    out.drain(group);
    out.enqueue('k', P(1), null, LOCAL);
    out.enqueue('k', P(7), null, LOCAL);
    assert.deepEqual(show(out.drain(group).batches), [['W', [1]]]);
  });

  it('never sends a route back to its source member, nor its withdrawal', () => {
    const { out, sets } = setup();
    const { group } = out.join(10, 'k');
    out.join(11, 'k');
    out.enqueue('k', P(1), sets[0], 10); // learned from member 10
    out.enqueue('k', P(2), sets[0], LOCAL);
    let d = out.drain(group);
    assert.deepEqual(show(d.for(11)), [[1, [1, 2]]]);
    assert.deepEqual(show(d.for(10)), [[1, [2]]]);
    assert.equal(group.sentTo(10, P(1)), undefined);
    assert.equal(group.sentTo(11, P(1)), sets[0]);
    // The best path moves to another source: 10 now gets it; then back to 10: 10 gets a withdrawal.
    out.enqueue('k', P(1), sets[1], 12);
    d = out.drain(group);
    assert.deepEqual(show(d.for(10)), [[2, [1]]]);
    assert.deepEqual(show(d.for(11)), [[2, [1]]]);
    out.enqueue('k', P(1), sets[0], 10);
    d = out.drain(group);
    assert.deepEqual(show(d.for(10)), [['W', [1]]]);
    assert.deepEqual(show(d.for(11)), [[1, [1]]]);
    // Withdrawn while 10 is the source: 10 never had it, so no withdrawal for 10.
    out.enqueue('k', P(1), null, 10);
    out.enqueue('k', P(2), null, LOCAL);
    d = out.drain(group);
    assert.deepEqual(show(d.for(10)), [['W', [2]]]);
    assert.deepEqual(show(d.for(11)), [['W', [1, 2]]]);
  });

  it('a late joiner gets the full table in its own subgroup, then merges', () => {
    const { out, sets } = setup();
    const main = out.join(10, 'k').group;
    for (let i = 0; i < 5; i++) out.enqueue('k', P(i), sets[i % 2] as AttrSet, i === 4 ? 11 : LOCAL);
    out.drain(main);
    out.enqueue('k', P(0), null, LOCAL); // pending in main when 11 joins
    const late = out.join(11, 'k');
    assert.equal(late.needsFeed, false);
    assert.notEqual(late.group, main);
    assert.equal(out.groups('k').length, 2);
    // A change after the join reaches both.
    out.enqueue('k', P(1), sets[2], LOCAL);
    const d = out.drain(late.group);
    assert.deepEqual(
      show(d.for(11)).sort((x, y) => Number(x[0]) - Number(y[0])),
      [
        [1, [2]],
        [2, [3]],
        [3, [1]],
      ],
      'everything wanted now except P0 (withdrawn) and P4 (its own)',
    );
    assert.equal(out.groupOf(11), late.group, 'main still has pending changes: no merge yet');
    assert.deepEqual(show(out.drain(main).batches), [
      ['W', [0]],
      [3, [1]],
    ]);
    assert.equal(out.groupOf(11), main, 'merged once both are drained');
    assert.equal(out.groups('k').length, 1);
    out.enqueue('k', P(2), sets[2], LOCAL);
    const d2 = out.drain(main);
    assert.equal(d2.for(11), d2.batches);
    assert.deepEqual(show(d2.batches), [[3, [2]]]);
  });

  it('a joiner while nothing has been sent rides along in the main group', () => {
    const { out, sets } = setup();
    const a = out.join(10, 'k');
    out.enqueue('k', P(1), sets[0], LOCAL);
    const b = out.join(11, 'k');
    assert.equal(b.group, a.group);
    assert.deepEqual(show(out.drain(a.group).for(11)), [[1, [1]]]);
  });

  it('drains by budget; what is left keeps coalescing', () => {
    const { out, sets } = setup();
    const { group } = out.join(10, 'k');
    for (let i = 0; i < 100; i++) out.enqueue('k', P(i), sets[0], LOCAL);
    const d = out.drain(group, 100);
    assert.ok(d.bytes >= 100 && d.bytes < 200, `${d.bytes}`);
    const first = d.batches[0]?.prefixes.length ?? 0;
    assert.ok(first > 0 && first < 100);
    out.enqueue('k', P(99), sets[1], LOCAL);
    out.enqueue('k', P(98), null, LOCAL); // pending, never sent: vanishes
    const rest = out.drain(group);
    const shown = show(rest.batches);
    assert.deepEqual(shown[1], [2, [99]]);
    assert.equal((shown[0]?.[1] as number[]).length, 100 - first - 2);
    assert.equal(group.advertised, 99);
  });

  it('route refresh re-sends the member its whole view, then merges back', () => {
    const { out, sets } = setup();
    const main = out.join(10, 'k').group;
    out.join(11, 'k');
    out.enqueue('k', P(1), sets[0], LOCAL);
    out.enqueue('k', P(2), sets[1], 11);
    out.drain(main);
    const r = out.refresh(11);
    assert.ok(r !== undefined && r !== main);
    const d = out.drain(r);
    assert.deepEqual(show(d.for(11)), [[1, [1]]], 'not its own route');
    assert.equal(out.groupOf(11), main);
  });

  it('moving a peer to another key keeps what it was sent and withdraws what the new export refuses', () => {
    const { out, sets } = setup();
    const main = out.join(10, 'k').group;
    for (let i = 0; i < 3; i++) out.enqueue('k', P(i), sets[0], LOCAL);
    out.drain(main);
    out.moveAll(new Map([[10, 'k2']]));
    const moved = out.groupOf(10)!;
    assert.equal(moved.isFeeding, true);
    // The feed under the new policy: P0 unchanged, P1 changed, P2 refused.
    out.enqueue('k2', P(0), sets[0], LOCAL);
    out.enqueue('k2', P(1), sets[1], LOCAL);
    out.endFeed('k2');
    assert.deepEqual(show(out.drain(moved).for(10)), [
      ['W', [2]],
      [2, [1]],
    ]);
    assert.equal(out.groups('k').length, 0, 'the old group went with its last member');
  });

  it('moving several members at once: one subgroup per old group and target key, fed once', () => {
    const { out, sets } = setup();
    const main = out.join(10, 'k').group;
    out.join(11, 'k');
    out.join(12, 'k');
    out.join(13, 'k');
    for (let i = 0; i < 3; i++) out.enqueue('k', P(i), sets[0], LOCAL);
    out.drain(main);
    out.moveAll(new Map([[10, 'k2'], [11, 'k2'], [12, 'k2'], [13, 'k3']]));
    assert.equal(out.groups('k2').length, 1, 'the three that went to k2 went together');
    assert.equal(out.groups('k3').length, 1);
    assert.equal(out.groups('k').length, 0, 'the old group went with its last member');
    const moved = out.groupOf(10)!;
    assert.equal(out.groupOf(11), moved);
    assert.equal(out.groupOf(12), moved);
    out.enqueue('k2', P(0), sets[0], LOCAL);
    out.enqueue('k2', P(1), sets[1], LOCAL);
    out.endFeed('k2');
    const d = out.drain(moved);
    assert.deepEqual(show(d.for(10)), [
      ['W', [2]],
      [2, [1]],
    ]);
    assert.equal(d.for(12), d.batches);
  });

  it('a feed under way continues in a late joiner’s subgroup', () => {
    const { out, sets } = setup();
    const main = out.join(10, 'k').group;
    for (let i = 0; i < 3; i++) out.enqueue('k', P(i), sets[0], LOCAL);
    out.drain(main);
    out.beginFeed('k'); // the export policy changed: re-export everything
    out.enqueue('k', P(0), sets[0], LOCAL);
    const late = out.join(11, 'k').group;
    out.enqueue('k', P(1), sets[1], LOCAL);
    out.endFeed('k'); // P2 was not exported again
    assert.deepEqual(show(out.drain(late).for(11)), [
      [1, [0]],
      [2, [1]],
    ]);
    assert.deepEqual(show(out.drain(main).for(10)), [
      ['W', [2]],
      [2, [1]],
    ]);
    assert.equal(out.groupOf(11), main);
  });

  it('leaving releases every reference', () => {
    const { t, out, sets } = setup();
    const { group } = out.join(10, 'k');
    for (let i = 0; i < 10; i++) out.enqueue('k', P(i), sets[i % 3] as AttrSet, LOCAL);
    out.drain(group, 30);
    out.leave(10);
    for (const s of sets) assert.equal(t.refCount(s), 1);
    assert.deepEqual(out.groups(), []);
  });

  it('refuses a peer that is already a member', () => {
    const { out } = setup();
    out.join(10, 'k');
    assert.throws(() => out.join(10, 'k2'), { code: 'ALREADY_MEMBER' });
  });
});

describe('update group properties', () => {
  type Op =
    | { op: 'enqueue'; prefix: number; attr: number; src: number }
    | { op: 'drain'; budget: number }
    | { op: 'join' | 'leave' | 'refresh'; peer: number }
    | { op: 'refeed'; keep: number; attr: number };
  const arbOp: fc.Arbitrary<Op> = fc.oneof(
    { weight: 6, arbitrary: fc.record({ op: fc.constant('enqueue' as const), prefix: fc.integer({ min: 0, max: 7 }), attr: fc.integer({ min: -1, max: 2 }), src: fc.integer({ min: 0, max: 4 }) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('drain' as const), budget: fc.constantFrom(30, 60, Infinity) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constantFrom('join' as const, 'leave' as const, 'refresh' as const), peer: fc.integer({ min: 1, max: 4 }) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('refeed' as const), keep: fc.integer({ min: 0, max: 255 }), attr: fc.integer({ min: 0, max: 2 }) }) },
  );

  it('every member ends with exactly the wanted routes it did not source, and is never sent a withdrawal for a route it lacks', () => {
    fc.assert(
      fc.property(fc.array(arbOp, { maxLength: 120 }), (ops) => {
        const { t, out, sets } = setup();
        const wanted = new Map<Prefix4, { attrs: AttrSet; src: number }>();
        const tables = new Map<number, Map<Prefix4, AttrSet>>(); // what each member has received
        const apply = (d: Drained<Prefix4>, members: Iterable<number>): void => {
          for (const m of members) {
            const tab = tables.get(m) as Map<Prefix4, AttrSet>;
            for (const b of d.for(m)) {
              for (const p of b.prefixes) {
                if (b.attrs === null) {
                  assert.ok(tab.has(p), `member ${m} withdrawn a prefix it does not have`);
                  tab.delete(p);
                } else tab.set(p, b.attrs);
              }
            }
          }
        };
        const drainAll = (budget: number): void => {
          for (const g of out.groups()) {
            const members = [...g.members];
            apply(out.drain(g, budget), members);
          }
        };
        for (const o of ops) {
          if (o.op === 'enqueue') {
            const a = o.attr < 0 ? null : (sets[o.attr] as AttrSet);
            out.enqueue('k', P(o.prefix), a, o.src);
            // A feed keeps the group in step with `wanted` whether or not anyone is a member.
            if (a === null) wanted.delete(P(o.prefix));
            else wanted.set(P(o.prefix), { attrs: a, src: o.src });
          } else if (o.op === 'drain') drainAll(o.budget);
          else if (o.op === 'refeed') {
            // A policy change: the whole table exported again; prefixes whose bit in `keep` is 0 are now refused.
            out.beginFeed('k');
            for (const [p, w] of [...wanted]) {
              const i = (Math.floor(p / 64) - 0x0a000000) / 256;
              if ((o.keep >> i) & 1) {
                const a = i % 2 === 0 ? (sets[o.attr] as AttrSet) : w.attrs;
                out.enqueue('k', p, a, w.src);
                wanted.set(p, { attrs: a, src: w.src });
              } else wanted.delete(p);
            }
            out.endFeed('k');
          }
          else if (o.op === 'join') {
            if (tables.has(o.peer)) continue;
            const { needsFeed } = out.join(o.peer, 'k');
            tables.set(o.peer, new Map());
            if (needsFeed) for (const [p, w] of wanted) out.enqueue('k', p, w.attrs, w.src);
          } else if (o.op === 'leave') {
            out.leave(o.peer);
            tables.delete(o.peer);
          } else out.refresh(o.peer);
        }
        for (let i = 0; i < 5 && out.groups().some((g) => g.pending > 0); i++) drainAll(Infinity);
        drainAll(Infinity); // lets subgroups merge
        for (const [m, tab] of tables) {
          const expect = new Map([...wanted].filter(([, w]) => w.src !== m).map(([p, w]) => [p, w.attrs]));
          assert.deepEqual(tab, expect, `member ${m}`);
          for (const [p, a] of expect) assert.equal(out.groupOf(m)?.sentTo(m, p), a);
        }
        assert.ok(out.groups('k').length <= 1, 'in-sync subgroups merged');
        for (const [m] of tables) out.leave(m);
        for (const s of sets) assert.equal(t.refCount(s), 1, 'all group references released');
      }),
      { numRuns: 500 },
    );
  });
});
