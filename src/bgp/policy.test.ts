import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  calicoPrefixMatch,
  CEASE_MAX_PREFIXES,
  MaxPrefix,
  maxPrefixNotificationData,
  Policy,
  type PolicyContext,
  type PrefixMatch,
} from './policy.js';
import { AttrTable, type AttrSet } from './rib/attrs.js';
import { AS_PATH_SEGMENT, ORIGIN, p4, type PathAttributes, type Prefix4 } from './types.js';

const SEQ = AS_PATH_SEGMENT.SEQUENCE;
const t = new AttrTable();
const base: PathAttributes = { origin: ORIGIN.IGP, asPath: [{ type: SEQ, asns: [65001, 65002, 65003] }], nextHop: '192.0.2.1' };
const set = t.intern(base);
const imp4: PolicyContext = { family: 'ipv4', direction: 'import', peerKind: 'ebgp', source: 'bgp' };
const exp6: PolicyContext = { family: 'ipv6', direction: 'export', peerKind: 'ibgp', source: 'local' };
const v4 = (a: string, len: number): Prefix4 => {
  const [w, x, y, z] = a.split('.').map(Number) as [number, number, number, number];
  return p4(((w << 24) | (x << 16) | (y << 8) | z) >>> 0, len);
};

function accepts(match: PrefixMatch, prefix: Prefix4 | string, ctx: PolicyContext = imp4): boolean {
  const p = new Policy({ rules: [{ match: { prefix: match }, action: 'accept' }], defaultAction: 'reject' });
  return p.apply(prefix, set, ctx, t) !== null;
}

describe('prefix matching', () => {
  const cases: [string, PrefixMatch, Prefix4 | string, boolean, PolicyContext?][] = [
    ['in: the CIDR itself', { cidr: '10.0.0.0/8' }, v4('10.0.0.0', 8), true],
    ['in: a more specific', { cidr: '10.0.0.0/8' }, v4('10.1.2.0', 24), true],
    ['in: outside', { cidr: '10.0.0.0/8' }, v4('11.0.0.0', 24), false],
    ['in: less specific', { cidr: '10.0.0.0/8' }, v4('0.0.0.0', 0), false],
    ['length range: inside', { cidr: '10.0.0.0/8', minLength: 16, maxLength: 24 }, v4('10.1.0.0', 16), true],
    ['length range: too long', { cidr: '10.0.0.0/8', minLength: 16, maxLength: 24 }, v4('10.1.2.128', 25), false],
    ['length range: too short', { cidr: '10.0.0.0/8', minLength: 16, maxLength: 24 }, v4('10.0.0.0', 8), false],
    ['min below the CIDR length is clamped', { cidr: '10.0.0.0/8', minLength: 0 }, v4('0.0.0.0', 0), false],
    ['exact: equal', { cidr: '10.1.0.0/16', exact: true }, v4('10.1.0.0', 16), true],
    ['exact: more specific', { cidr: '10.1.0.0/16', exact: true }, v4('10.1.0.0', 24), false],
    ['negated in', { cidr: '10.0.0.0/8', negate: true }, v4('11.0.0.0', 8), true],
    ['negated in, inside', { cidr: '10.0.0.0/8', negate: true }, v4('10.0.0.0', 9), false],
    ['host bits in the CIDR are ignored', { cidr: '10.1.2.3/8' }, v4('10.9.0.0', 16), true],
    ['/0 contains everything', { cidr: '0.0.0.0/0' }, v4('203.0.113.7', 32), true],
    ['v6 in', { cidr: '2001:db8::/32' }, '2001:db8:1::/48', true, exp6],
    ['v6 outside', { cidr: '2001:db8::/32' }, '2001:db9::/48', false, exp6],
    ['v6 exact', { cidr: '2001:db8::/32', exact: true }, '2001:db8::/32', true, exp6],
    ['v6 range', { cidr: '2001:db8::/32', maxLength: 64 }, '2001:db8::1/128', false, exp6],
    ['a v4 rule never matches v6, even negated', { cidr: '10.0.0.0/8', negate: true }, '2001:db8::/32', false, exp6],
  ];
  for (const [name, m, prefix, want, ctx] of cases) {
    it(name, () => assert.equal(accepts(m, prefix, ctx), want));
  }

  it('in-with-range agrees with a brute-force containment check', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 0, max: 32 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 0, max: 32 }),
        fc.integer({ min: 0, max: 32 }),
        (na, nl, pa, pl, max) => {
          const mask = (l: number): number => (l === 0 ? 0 : (0xffffffff << (32 - l)) >>> 0);
          const net = (na & mask(nl)) >>> 0;
          const pre = (pa & mask(pl)) >>> 0;
          const cidr = `${net >>> 24}.${(net >>> 16) & 255}.${(net >>> 8) & 255}.${net & 255}/${nl}`;
          if (max < nl) return;
          const want = pl >= nl && pl <= max && ((pre & mask(nl)) >>> 0) === net;
          assert.equal(accepts({ cidr, maxLength: max }, p4(pre, pl)), want);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('refuses bad CIDRs and empty length ranges', () => {
    assert.throws(() => new Policy({ rules: [{ match: { prefix: { cidr: '10.0.0.0' } }, action: 'accept' }] }), { code: 'BAD_POLICY' });
    assert.throws(() => new Policy({ rules: [{ match: { prefix: { cidr: '10.0.0.0/33' } }, action: 'accept' }] }), { code: 'BAD_POLICY' });
    assert.throws(() => new Policy({ rules: [{ match: { prefix: { cidr: 'zz::/8' } }, action: 'accept' }] }), { code: 'BAD_POLICY' });
    assert.throws(() => new Policy({ rules: [{ match: { prefix: { cidr: '10.0.0.0/16', maxLength: 8 } }, action: 'accept' }] }), {
      code: 'BAD_POLICY',
    });
    assert.throws(() => new Policy({ rules: [{ action: 'reject', operations: [{ setMed: 1 }] }] }), { code: 'BAD_POLICY' });
  });
});

describe('other matches', () => {
  const one = (match: object, attrs: AttrSet = set, ctx: PolicyContext = imp4): boolean =>
    new Policy({ rules: [{ match, action: 'accept' }], defaultAction: 'reject' }).apply(v4('10.0.0.0', 8), attrs, ctx, t) !== null;
  const withComm = t.intern({ ...base, communities: [65000 * 65536 + 100], largeCommunities: [[65000, 1, 2]] });

  it('community (standard and large)', () => {
    assert.equal(one({ community: 65000 * 65536 + 100 }, withComm), true);
    assert.equal(one({ community: 65000 * 65536 + 101 }, withComm), false);
    assert.equal(one({ community: [65000, 1, 2] }, withComm), true);
    assert.equal(one({ community: [65000, 1, 3] }, withComm), false);
    assert.equal(one({ community: 65000 * 65536 + 100 }), false);
  });

  it('AS path contains / starts with', () => {
    assert.equal(one({ asPathContains: 65002 }), true);
    assert.equal(one({ asPathContains: 65009 }), false);
    assert.equal(one({ asPathStartsWith: [65001] }), true);
    assert.equal(one({ asPathStartsWith: [65001, 65002] }), true);
    assert.equal(one({ asPathStartsWith: [65002] }), false);
    assert.equal(one({ asPathStartsWith: [65001, 65002, 65003, 65004] }), false);
    const confed = t.intern({ ...base, asPath: [{ type: AS_PATH_SEGMENT.CONFED_SEQUENCE, asns: [64512] }, ...base.asPath] });
    assert.equal(one({ asPathStartsWith: [65001] }, confed), true);
  });

  it('peer type, source and family', () => {
    assert.equal(one({ peerType: 'ebgp' }), true);
    assert.equal(one({ peerType: 'ibgp' }), false);
    assert.equal(one({ source: 'bgp' }), true);
    assert.equal(one({ source: 'local' }), false);
    assert.equal(one({ family: 'ipv6' }), false);
    assert.equal(one({ peerType: 'ebgp', source: 'local' }), false, 'all conditions must hold');
  });
});

describe('rules, operations and hooks', () => {
  it('first terminal match wins; continue carries changes on; default applies', () => {
    const p = new Policy({
      rules: [
        { match: { prefix: { cidr: '10.0.0.0/8' } }, action: 'continue', operations: [{ addCommunity: 7 }] },
        { match: { prefix: { cidr: '10.1.0.0/16' } }, action: 'reject' },
        { match: { prefix: { cidr: '10.0.0.0/8' } }, action: 'accept', operations: [{ setLocalPref: 300 }] },
      ],
      defaultAction: 'reject',
    });
    const r1 = p.evaluate(v4('10.2.0.0', 16), set, imp4, t);
    assert.equal(r1.rule, 2);
    assert.deepEqual(r1.attrs?.attrs.communities, [7]);
    assert.equal(r1.attrs?.localPref, 300);
    assert.deepEqual(p.evaluate(v4('10.1.0.0', 24), set, imp4, t), { attrs: null, rule: 1, medSet: false });
    assert.deepEqual(p.evaluate(v4('11.0.0.0', 8), set, imp4, t), { attrs: null, rule: -1, medSet: false });
    assert.equal(new Policy({ rules: [] }).apply(v4('11.0.0.0', 8), set, imp4, t), set, 'default accept');
  });

  it('operations: prepend (Calico order), MED, large community; results are interned and shared', () => {
    const p = new Policy({
      rules: [
        {
          action: 'accept',
          operations: [{ prependAsPath: [64999, 64998], times: 2 }, { setMed: 40 }, { addLargeCommunity: [1, 2, 3] }],
        },
      ],
    });
    const r = p.evaluate(v4('10.0.0.0', 8), set, imp4, t);
    assert.deepEqual(r.attrs?.attrs.asPath, [{ type: SEQ, asns: [64999, 64998, 64999, 64998, 65001, 65002, 65003] }]);
    assert.equal(r.attrs?.med, 40);
    assert.equal(r.medSet, true);
    assert.deepEqual(r.attrs?.attrs.largeCommunities, [[1, 2, 3]]);
    const size = t.size;
    assert.equal(p.apply(v4('10.9.0.0', 16), set, imp4, t), r.attrs, 'same input set, same output set');
    assert.equal(t.size, size);
  });

  it('hooks decide, modify, or pass', () => {
    const seen: string[] = [];
    const p = new Policy({
      rules: [
        {
          hook: (route, ctx, table) => {
            seen.push(`${ctx.direction}/${route.family}`);
            if (route.prefix === v4('10.0.0.0', 8)) return 'reject';
            if (route.prefix === v4('10.1.0.0', 16)) return { continue: table.setLocalPref(route.attrs, 50) };
            if (route.prefix === v4('10.2.0.0', 16)) return { accept: table.setMed(route.attrs, 9) };
            return 'continue';
          },
        },
        { match: { prefix: { cidr: '10.1.0.0/16' } }, action: 'accept' },
      ],
      defaultAction: 'reject',
    });
    assert.equal(p.apply(v4('10.0.0.0', 8), set, imp4, t), null);
    assert.equal(p.apply(v4('10.1.0.0', 16), set, imp4, t)?.localPref, 50);
    const r = p.evaluate(v4('10.2.0.0', 16), set, imp4, t);
    assert.deepEqual([r.attrs?.med, r.rule, r.medSet], [9, 0, true]);
    assert.equal(p.apply(v4('10.3.0.0', 16), set, imp4, t), null);
    assert.deepEqual(seen, ['import/ipv4', 'import/ipv4', 'import/ipv4', 'import/ipv4']);
  });

  it('each Policy object has its own identity (update-group keys)', () => {
    const a = new Policy({ name: 'x', rules: [] });
    const b = new Policy({ name: 'x', rules: [] });
    assert.notEqual(a.id, b.id);
    assert.ok(a.id.startsWith('x#'));
  });
});

describe('Calico BGPFilter mapping', () => {
  it('matchOperator and prefixLength as BIRD renders them', () => {
    const m = (op: 'Equal' | 'NotEqual' | 'In' | 'NotIn', prefix: Prefix4, pl?: { min?: number; max?: number }): boolean =>
      accepts(calicoPrefixMatch('10.1.0.0/16', op, pl), prefix);
    assert.equal(m('Equal', v4('10.1.0.0', 16)), true);
    assert.equal(m('Equal', v4('10.1.1.0', 24)), false);
    assert.equal(m('NotEqual', v4('10.1.1.0', 24)), true);
    assert.equal(m('NotEqual', v4('10.1.0.0', 16)), false);
    assert.equal(m('In', v4('10.1.1.0', 24)), true);
    assert.equal(m('NotIn', v4('10.1.1.0', 24)), false);
    assert.equal(m('NotIn', v4('10.2.0.0', 16)), true);
    assert.equal(m('In', v4('10.1.1.0', 24), { max: 20 }), false);
    assert.equal(m('In', v4('10.1.0.0', 16), { min: 20 }), false);
    assert.equal(m('In', v4('10.1.16.0', 20), { min: 20, max: 24 }), true);
  });

  it('a BGPFilter export rule list: reject a range, accept with operations, default behaviour', () => {
    // exportV4: [{cidr 10.2.0.0/16 In, action Reject}, {cidr 10.0.0.0/8 In, action Accept, operations: [addCommunity 65000:1, prependASPath [65000]]}]
    const p = new Policy({
      name: 'bgpfilter-my-filter-export-v4',
      rules: [
        { match: { prefix: calicoPrefixMatch('10.2.0.0/16', 'In') }, action: 'reject' },
        {
          match: { prefix: calicoPrefixMatch('10.0.0.0/8', 'In') },
          action: 'accept',
          operations: [{ addCommunity: 65000 * 65536 + 1 }, { prependAsPath: [65000] }],
        },
      ],
      defaultAction: 'accept',
    });
    const ctx: PolicyContext = { family: 'ipv4', direction: 'export', peerKind: 'ebgp', source: 'local' };
    assert.equal(p.apply(v4('10.2.3.0', 24), set, ctx, t), null);
    const r = p.apply(v4('10.3.0.0', 26), set, ctx, t);
    assert.deepEqual(r?.attrs.communities, [65000 * 65536 + 1]);
    assert.equal(r?.attrs.asPath[0]?.asns[0], 65000);
    assert.equal(p.apply(v4('192.168.0.0', 16), set, ctx, t), set);
  });
});

describe('max-prefix', () => {
  it('accepts up to the limit, then rejects or asks for teardown', () => {
    const r = new MaxPrefix({ limit: 3, action: 'reject' });
    assert.deepEqual([0, 1, 2, 3, 4].map((n) => r.admit(n)), ['accept', 'accept', 'accept', 'reject', 'reject']);
    const td = new MaxPrefix({ limit: 2, action: 'teardown' });
    assert.equal(td.admit(1), 'accept');
    assert.equal(td.admit(2), 'teardown');
  });

  it('warns once when crossing the warning threshold', () => {
    const m = new MaxPrefix({ limit: 10, action: 'reject', warnAt: 0.8 });
    const v = Array.from({ length: 10 }, (_, n) => m.admit(n));
    assert.deepEqual(v, ['accept', 'accept', 'accept', 'accept', 'accept', 'accept', 'accept', 'warn', 'accept', 'accept']);
    m.reset();
    assert.equal(m.admit(8), 'warn');
  });

  it('builds the Cease / Maximum Number of Prefixes Reached data (RFC 4486 §4)', () => {
    assert.deepEqual(CEASE_MAX_PREFIXES, { code: 6, subcode: 1 });
    assert.deepEqual([...maxPrefixNotificationData(1, 1, 1000)], [0, 1, 1, 0, 0, 0x03, 0xe8]);
    assert.deepEqual([...maxPrefixNotificationData(2, 1, 0x01020304)], [0, 2, 1, 1, 2, 3, 4]);
  });
});
