import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { AS_PATH_SEGMENT, ORIGIN, WELL_KNOWN_COMMUNITY, type PathAttributes } from '../types.js';
import { AttrTable, attrKey, WK } from './attrs.js';

const SEQ = AS_PATH_SEGMENT.SEQUENCE;
const base: PathAttributes = { origin: ORIGIN.IGP, asPath: [{ type: SEQ, asns: [65001, 65002] }], nextHop: '192.0.2.1' };

const arbAttrs: fc.Arbitrary<PathAttributes> = fc
  .record(
    {
      origin: fc.constantFrom(ORIGIN.IGP, ORIGIN.EGP, ORIGIN.INCOMPLETE),
      asPath: fc.array(
        fc.record({ type: fc.constantFrom(AS_PATH_SEGMENT.SEQUENCE, AS_PATH_SEGMENT.SET), asns: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 }) }),
        { maxLength: 2 },
      ),
      nextHop: fc.constantFrom('192.0.2.1', '192.0.2.12'),
      mpNextHop: fc.record({ global: fc.constantFrom('2001:db8::1', '2001:db8::1c'), linkLocal: fc.constantFrom('fe80::1', 'fe80::1c1') }, { requiredKeys: ['global'] }),
      med: fc.integer({ min: 0, max: 3 }),
      localPref: fc.integer({ min: 99, max: 101 }),
      atomicAggregate: fc.constant(true),
      communities: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }),
      originatorId: fc.constantFrom('1.1.1.1', '1.1.1.11'),
      clusterList: fc.array(fc.constantFrom('1.1.1.1', '2.2.2.2'), { maxLength: 2 }),
      largeCommunities: fc.array(fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })), { maxLength: 2 }),
    },
    { requiredKeys: ['origin', 'asPath'] },
  )
  .map((a) => a as PathAttributes);

describe('AttrTable.intern', () => {
  it('returns one shared, frozen set per distinct attribute set', () => {
    const t = new AttrTable();
    const a = t.intern(base);
    const b = t.intern({ ...base, asPath: [{ type: SEQ, asns: [65001, 65002] }] });
    assert.equal(a, b);
    assert.equal(t.size, 1);
    assert.notEqual(t.intern({ ...base, med: 0 }), a);
    assert.ok(Object.isFrozen(a) && Object.isFrozen(a.attrs) && Object.isFrozen(a.attrs.asPath[0]?.asns));
    assert.throws(() => {
      (a.attrs.asPath[0]?.asns as number[]).push(1);
    });
  });

  it('copies: later changes to the caller’s object do not leak in', () => {
    const t = new AttrTable();
    const mine: PathAttributes = { ...base, communities: [1] };
    const s = t.intern(mine);
    (mine.communities as number[]).push(2);
    assert.deepEqual(s.attrs.communities, [1]);
  });

  it('keys are equal exactly when the attribute sets are (deep) equal', () => {
    fc.assert(
      fc.property(arbAttrs, arbAttrs, (x, y) => {
        const t = new AttrTable();
        const sx = t.intern(x);
        const sy = t.intern(y);
        assert.equal(sx === sy, attrKey(x) === attrKey(y));
        assert.equal(sx === sy, JSON.stringify(sx.attrs) === JSON.stringify(sy.attrs));
      }),
      { numRuns: 3000 },
    );
  });

  it('keys keep adjacent fields apart (text that could run together)', () => {
    const ll = (linkLocal: string): PathAttributes => ({ ...base, mpNextHop: { global: '2001:db8::1', linkLocal } });
    const pairs: [PathAttributes, PathAttributes][] = [
      [{ ...ll('fe80::1'), communities: [1] }, ll('fe80::1c1')],
      [{ ...ll('fe80::1'), clusterList: ['1.1.1.1'] }, { ...ll('fe80::1'), originatorId: '1.1.1.1' }],
      [{ ...base, communities: [12] }, { ...base, communities: [1, 2] }],
      [{ ...base, asPath: [{ type: SEQ, asns: [1, 2] }] }, { ...base, asPath: [{ type: SEQ, asns: [1] }, { type: SEQ, asns: [2] }] }],
      [{ ...base, med: 1 }, { ...base, localPref: 1 }],
    ];
    const t = new AttrTable();
    for (const [x, y] of pairs) assert.notEqual(t.intern(x), t.intern(y), attrKey(x));
  });

  it('precomputes what the decision process and export read', () => {
    const t = new AttrTable();
    const s = t.intern({
      origin: ORIGIN.EGP,
      asPath: [
        { type: AS_PATH_SEGMENT.CONFED_SEQUENCE, asns: [64512, 64513] },
        { type: SEQ, asns: [65001, 65002] },
        { type: AS_PATH_SEGMENT.SET, asns: [7, 8, 9] },
      ],
      nextHop: '10.1.2.3',
      med: 5,
      localPref: 200,
      originatorId: '1.2.3.4',
      clusterList: ['9.9.9.9', '8.8.8.8'],
      communities: [WELL_KNOWN_COMMUNITY.NO_EXPORT, 65000 * 65536 + 1],
    });
    assert.equal(s.asPathLength, 3); // 2 + the set as 1, confed 0
    assert.equal(s.neighborAs, 65001);
    assert.equal(s.firstAs, 65001);
    assert.equal(s.originAs, 0); // ends in an AS_SET
    assert.equal(s.origin, ORIGIN.EGP);
    assert.equal(s.med, 5);
    assert.equal(s.localPref, 200);
    assert.equal(s.originatorId, 0x01020304);
    assert.equal(s.clusterListLength, 2);
    assert.equal(s.nextHop4, 0x0a010203);
    assert.equal(s.wellKnown, WK.NO_EXPORT);
    const empty = t.intern({ origin: ORIGIN.IGP, asPath: [] });
    assert.deepEqual(
      [empty.asPathLength, empty.neighborAs, empty.med, empty.localPref, empty.originatorId, empty.nextHop4],
      [0, 0, -1, -1, 0, -1],
    );
    const set = t.intern({ origin: ORIGIN.IGP, asPath: [{ type: AS_PATH_SEGMENT.SET, asns: [1, 2] }, { type: SEQ, asns: [3] }] });
    assert.equal(set.neighborAs, 0); // starts with an AS_SET: "our own AS" for MED purposes
    assert.equal(set.originAs, 3);
  });
});

describe('reference counting', () => {
  it('frees a set at collect() once nobody holds it, and reuses its id', () => {
    const t = new AttrTable();
    const s = t.intern(base);
    t.retain(s);
    t.retain(s);
    assert.equal(t.collect(), 0);
    t.release(s);
    assert.equal(t.collect(), 0);
    assert.equal(t.refCount(s), 1);
    t.release(s);
    assert.equal(t.isLive(s), true, 'not freed before collect');
    assert.equal(t.collect(), 1);
    assert.equal(t.isLive(s), false);
    assert.equal(t.size, 0);
    assert.throws(() => t.get(s.id), { code: 'FREED_ATTR_SET' });
    const again = t.intern(base);
    assert.notEqual(again, s);
    assert.equal(again.id, s.id);
  });

  it('a set revived before collect survives it', () => {
    const t = new AttrTable();
    const s = t.intern(base);
    t.retain(s);
    t.release(s);
    t.retain(s);
    assert.equal(t.collect(), 0);
    assert.equal(t.isLive(s), true);
  });

  it('an interned set nobody retains goes at the next collect', () => {
    const t = new AttrTable();
    const s = t.intern(base);
    assert.equal(t.collect(), 1);
    assert.equal(t.isLive(s), false);
  });

  it('refuses a release without a retain', () => {
    const t = new AttrTable();
    const s = t.intern(base);
    assert.throws(() => t.release(s), { code: 'REFCOUNT' });
  });
});

describe('derived sets', () => {
  it('are interned and cached per (set, operation)', () => {
    const t = new AttrTable();
    const s = t.intern(base);
    const p = t.prependAs(s, 65000);
    assert.deepEqual(p.attrs.asPath, [{ type: SEQ, asns: [65000, 65001, 65002] }]);
    assert.equal(t.prependAs(s, 65000), p);
    assert.equal(t.intern(p.attrs), p);
    assert.deepEqual(t.prependAs(s, 65000, 3).attrs.asPath[0]?.asns, [65000, 65000, 65000, 65001, 65002]);
    assert.deepEqual(t.prependAs(t.intern({ origin: 0, asPath: [{ type: AS_PATH_SEGMENT.SET, asns: [1] }] }), 9).attrs.asPath, [
      { type: SEQ, asns: [9] },
      { type: AS_PATH_SEGMENT.SET, asns: [1] },
    ]);
  });

  it('setNextHop, setLocalPref, setMed, addCommunities, reflect', () => {
    const t = new AttrTable();
    const s = t.intern({ ...base, med: 7 });
    assert.equal(t.setNextHop(s, '10.0.0.1').attrs.nextHop, '10.0.0.1');
    assert.deepEqual(t.setNextHop(s, undefined, { global: '2001:db8::1' }).attrs.mpNextHop, { global: '2001:db8::1' });
    assert.equal(t.setLocalPref(s, 300).localPref, 300);
    assert.equal(t.setLocalPref(t.setLocalPref(s, 300), undefined), s);
    assert.equal(t.setMed(s, undefined).med, -1);
    assert.equal(t.setMed(s, 7), s, 'no-op returns the same set');
    const c = t.addCommunities(s, [1, 2]);
    assert.deepEqual(c.attrs.communities, [1, 2]);
    assert.equal(t.addCommunities(c, [2]), c);
    const r = t.reflect(s, '1.1.1.1', '9.9.9.9');
    assert.equal(r.attrs.originatorId, '1.1.1.1');
    assert.deepEqual(r.attrs.clusterList, ['9.9.9.9']);
    const rr = t.reflect(r, '2.2.2.2', '8.8.8.8');
    assert.equal(rr.attrs.originatorId, '1.1.1.1', 'ORIGINATOR_ID is kept once set');
    assert.deepEqual(rr.attrs.clusterList, ['8.8.8.8', '9.9.9.9']);
  });

  it('a cached result that was freed is derived again, not returned stale', () => {
    const t = new AttrTable();
    const s = t.intern(base);
    t.retain(s);
    const p = t.prependAs(s, 65000);
    assert.equal(t.collect(), 1); // p: nobody holds it
    assert.equal(t.isLive(p), false);
    const p2 = t.prependAs(s, 65000);
    assert.notEqual(p2, p);
    assert.equal(t.isLive(p2), true);
    assert.deepEqual(p2.attrs, p.attrs);
  });

  it('a derive cycle (A → B → A) does not keep either alive', () => {
    const t = new AttrTable();
    const a = t.intern(base);
    const b = t.setMed(a, 5);
    assert.equal(t.setMed(b, undefined), a);
    assert.equal(t.collect(), 2);
    assert.equal(t.size, 0);
  });
});
