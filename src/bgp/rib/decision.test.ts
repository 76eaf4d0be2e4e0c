import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { AS_PATH_SEGMENT, ORIGIN, type PathAttributes } from '../types.js';
import { AttrTable } from './attrs.js';
import { compare, decisionContext, selectBest, STEPS, type DecisionOptions, type Path, type StepName } from './decision.js';
import { PeerTable, type PeerInfo } from './peers.js';

const SEQ = AS_PATH_SEGMENT.SEQUENCE;
const table = new AttrTable();
const peers = new PeerTable({ asn: 65000, routerId: '10.0.0.1' });

function peer(kind: 'ibgp' | 'ebgp', routerId: string, address: string, asn = kind === 'ibgp' ? 65000 : 65001): PeerInfo {
  return peers.add({ kind, asn, routerId, address });
}

function path(p: PeerInfo, a: Partial<PathAttributes> = {}): Path {
  return { peer: p, attrs: table.intern({ origin: ORIGIN.IGP, asPath: [{ type: SEQ, asns: [65001] }], ...a }) };
}

const i1 = peer('ibgp', '1.1.1.1', '192.0.2.1');
const i2 = peer('ibgp', '2.2.2.2', '192.0.2.2');
const e1 = peer('ebgp', '3.3.3.3', '192.0.2.3');
const e2 = peer('ebgp', '4.4.4.4', '192.0.2.4', 65002);
const v6 = peer('ibgp', '1.1.1.1', '2001:db8::1');
const local = peers.local;

interface Case {
  name: string;
  step: StepName;
  better: Path;
  worse: Path;
  opts?: DecisionOptions;
}

const cases: Case[] = [
  { name: 'higher LOCAL_PREF', step: 'local-pref', better: path(i1, { localPref: 200 }), worse: path(i2, { localPref: 100 }) },
  {
    name: 'eBGP route gets the default LOCAL_PREF',
    step: 'local-pref',
    better: path(e1),
    worse: path(i1, { localPref: 90 }),
  },
  {
    name: 'defaultLocalPref option',
    step: 'local-pref',
    better: path(i1, { localPref: 90 }),
    worse: path(e1),
    opts: { defaultLocalPref: 80 },
  },
  { name: 'locally originated', step: 'local-origin', better: path(local, { asPath: [] }), worse: path(i1, { asPath: [] }) },
  {
    name: 'shorter AS_PATH',
    step: 'as-path',
    better: path(i1, { asPath: [{ type: SEQ, asns: [65001] }] }),
    worse: path(i2, { asPath: [{ type: SEQ, asns: [65001, 65002] }] }),
  },
  {
    name: 'AS_SET counts one',
    step: 'as-path',
    better: path(i2, { asPath: [{ type: SEQ, asns: [65001] }, { type: AS_PATH_SEGMENT.SET, asns: [1, 2, 3, 4] }] }),
    worse: path(i1, { asPath: [{ type: SEQ, asns: [65001, 65002, 65003] }] }),
  },
  {
    name: 'confederation segments count zero',
    step: 'as-path',
    better: path(i2, { asPath: [{ type: AS_PATH_SEGMENT.CONFED_SEQUENCE, asns: [9, 9, 9] }, { type: SEQ, asns: [65001] }] }),
    worse: path(i1, { asPath: [{ type: SEQ, asns: [65001, 65002] }] }),
  },
  { name: 'lower ORIGIN', step: 'origin', better: path(i2, { origin: ORIGIN.IGP }), worse: path(i1, { origin: ORIGIN.EGP }) },
  { name: 'EGP before INCOMPLETE', step: 'origin', better: path(i2, { origin: ORIGIN.EGP }), worse: path(i1, { origin: ORIGIN.INCOMPLETE }) },
  { name: 'lower MED, same neighbour AS', step: 'med', better: path(i2, { med: 10 }), worse: path(i1, { med: 20 }) },
  { name: 'missing MED is 0', step: 'med', better: path(i2), worse: path(i1, { med: 1 }) },
  {
    name: 'missing MED as worst',
    step: 'med',
    better: path(i2, { med: 4000 }),
    worse: path(i1),
    opts: { medMissingAsWorst: true },
  },
  {
    name: 'MED across neighbour ASes with alwaysCompareMed',
    step: 'med',
    better: path(i2, { med: 10, asPath: [{ type: SEQ, asns: [65009] }] }),
    worse: path(i1, { med: 20 }),
    opts: { alwaysCompareMed: true },
  },
  {
    name: 'MED not compared across neighbour ASes',
    step: 'router-id',
    better: path(i1, { med: 20 }),
    worse: path(i2, { med: 10, asPath: [{ type: SEQ, asns: [65009] }] }),
  },
  { name: 'eBGP over iBGP', step: 'ebgp-over-ibgp', better: path(e2), worse: path(i1, { localPref: 100 }) },
  {
    name: 'lower IGP cost',
    step: 'igp-cost',
    better: path(i2),
    worse: path(i1),
    opts: { igpCost: (p) => (p.peer === i1 ? 20 : 10) },
  },
  { name: 'lower BGP identifier', step: 'router-id', better: path(i1), worse: path(i2) },
  {
    name: 'ORIGINATOR_ID stands in for the router id',
    step: 'router-id',
    better: path(i2),
    worse: path(i1, { originatorId: '9.9.9.9' }),
  },
  {
    name: 'shorter CLUSTER_LIST',
    step: 'cluster-list',
    better: path(i2, { originatorId: '5.5.5.5', clusterList: ['7.7.7.7'] }),
    worse: path(i1, { originatorId: '5.5.5.5', clusterList: ['7.7.7.7', '8.8.8.8'] }),
  },
  {
    name: 'lower peer address',
    step: 'peer-address',
    better: path(i1, { originatorId: '5.5.5.5' }),
    worse: path(i2, { originatorId: '5.5.5.5' }),
  },
  { name: 'IPv4 peer address before IPv6', step: 'peer-address', better: path(i1), worse: path(v6) },
];

describe('decision process: each step decides its crafted pair', () => {
  for (const c of cases) {
    it(`${c.name} → ${c.step}`, () => {
      const ctx = decisionContext(c.opts);
      for (const [a, b] of [
        [c.better, c.worse],
        [c.worse, c.better],
      ] as const) {
        const r = compare(a, b, ctx);
        assert.equal(r.winner, c.better);
        assert.equal(r.step, c.step);
        const s = selectBest([a, b], ctx);
        assert.equal([a, b][s.index], c.better);
        assert.equal(s.step, c.step);
      }
    });
  }

  it('reports only-path for one candidate and tie for indistinguishable ones', () => {
    const ctx = decisionContext();
    const p = path(i1);
    assert.deepEqual(selectBest([p], ctx), { index: 0, step: 'only-path' });
    assert.equal(compare(p, { ...p }, ctx).step, 'tie');
    assert.deepEqual(selectBest([p, { ...p }], ctx), { index: 0, step: 'tie' });
  });

  it('lists the steps in RFC order', () => {
    assert.deepEqual(
      STEPS.map((s) => s.name),
      ['local-pref', 'local-origin', 'as-path', 'origin', 'med', 'ebgp-over-ibgp', 'igp-cost', 'router-id', 'cluster-list', 'peer-address'],
    );
  });

  it('MED elimination is per neighbour AS, whatever the order (RFC 4271 §9.1.2.2 c)', () => {
    // A (via AS 65001, MED 5) beats B (via AS 65001, MED 10); C (via AS 65002) is comparable with neither on MED.
    // A pairwise scan B, C, A keeps B over C (router id), then A over B (MED): A. Elimination removes B first and
    // lets the router id decide between A and C: C, in every order.
    const e3 = peer('ebgp', '1.1.1.1', '192.0.2.5');
    const a = path(e2, { med: 5 }); // router id 4.4.4.4
    const b = path(e3, { med: 10 }); // 1.1.1.1
    const c = path(e1, { med: 0, asPath: [{ type: SEQ, asns: [65002] }] }); // 3.3.3.3
    const ctx = decisionContext();
    let naive = b;
    for (const p of [c, a]) naive = compare(naive, p, ctx).winner;
    assert.equal(naive, a, 'the pairwise scan is order dependent');
    for (const order of [
      [a, b, c],
      [b, c, a],
      [c, a, b],
      [c, b, a],
    ]) {
      const s = selectBest(order, ctx);
      assert.equal(order[s.index], c);
      assert.equal(s.step, 'router-id');
    }
  });
});

// --- properties ---

const routerIds = ['1.1.1.1', '2.2.2.2', '3.3.3.3', '9.9.9.9'];
const propPeers = [
  local,
  ...['ibgp', 'ebgp'].flatMap((k, ki) =>
    [0, 1, 2].map((i) => peer(k as 'ibgp' | 'ebgp', routerIds[(i + ki) % 4] as string, `198.51.100.${10 * ki + i + 1}`)),
  ),
];

const arbAttrs = fc.record({
  origin: fc.constantFrom(ORIGIN.IGP, ORIGIN.EGP, ORIGIN.INCOMPLETE),
  asPath: fc.array(fc.constantFrom(65001, 65002, 65003), { minLength: 0, maxLength: 3 }),
  med: fc.option(fc.constantFrom(0, 10, 20), { nil: undefined }),
  localPref: fc.option(fc.constantFrom(90, 100, 110), { nil: undefined }),
  originatorId: fc.option(fc.constantFrom(...routerIds), { nil: undefined }),
  clusterLen: fc.integer({ min: 0, max: 2 }),
});

type ArbAttrs = typeof arbAttrs extends fc.Arbitrary<infer T> ? T : never;

function mkPath(pi: number, a: ArbAttrs): Path {
  const attrs: PathAttributes = {
    origin: a.origin,
    asPath: a.asPath.length > 0 ? [{ type: SEQ, asns: a.asPath }] : [],
  };
  if (a.med !== undefined) attrs.med = a.med;
  if (a.localPref !== undefined) attrs.localPref = a.localPref;
  if (a.originatorId !== undefined) attrs.originatorId = a.originatorId;
  if (a.clusterLen > 0) attrs.clusterList = ['7.7.7.7', '8.8.8.8'].slice(0, a.clusterLen);
  return { peer: propPeers[pi] as PeerInfo, attrs: table.intern(attrs) };
}

/** RFC 4271 §9.1.2.2 written out as filters over the whole candidate set, independently of STEPS. */
function bruteForce(paths: Path[], o: DecisionOptions): Path {
  const lp = (p: Path): number => (p.attrs.localPref >= 0 ? p.attrs.localPref : (o.defaultLocalPref ?? 100));
  const med = (p: Path): number => (p.attrs.med >= 0 ? p.attrs.med : o.medMissingAsWorst ? 2 ** 32 - 1 : 0);
  const id = (p: Path): number => (p.attrs.originatorId !== 0 ? p.attrs.originatorId : p.peer.routerId);
  const keepMin = (xs: Path[], f: (p: Path) => number): Path[] => {
    const m = Math.min(...xs.map(f));
    return xs.filter((p) => f(p) === m);
  };
  let s = keepMin(paths, (p) => -lp(p));
  if (s.some((p) => p.peer.kind === 'local')) s = s.filter((p) => p.peer.kind === 'local');
  s = keepMin(s, (p) => p.attrs.asPathLength);
  s = keepMin(s, (p) => p.attrs.origin);
  s = s.filter(
    (p) => !s.some((q) => (o.alwaysCompareMed || q.attrs.neighborAs === p.attrs.neighborAs) && med(q) < med(p)),
  );
  if (s.some((p) => p.peer.kind === 'ebgp')) s = s.filter((p) => p.peer.kind !== 'ibgp');
  s = keepMin(s, id);
  s = keepMin(s, (p) => p.attrs.clusterListLength);
  const addr = [...s].sort((x, y) => (x.peer.addressKey < y.peer.addressKey ? -1 : 1))[0] as Path;
  return addr;
}

describe('decision process properties', () => {
  const arbCands = fc.uniqueArray(fc.tuple(fc.integer({ min: 0, max: propPeers.length - 1 }), arbAttrs), {
    minLength: 1,
    maxLength: 6,
    selector: (t) => t[0],
  });
  const arbOpts = fc.record({ alwaysCompareMed: fc.boolean(), medMissingAsWorst: fc.boolean() });

  it('selectBest equals a brute-force RFC pick over all candidates', () => {
    fc.assert(
      fc.property(arbCands, arbOpts, (cands, opts) => {
        const paths = cands.map(([pi, a]) => mkPath(pi, a));
        const s = selectBest(paths, decisionContext(opts));
        assert.equal(paths[s.index], bruteForce(paths, opts));
      }),
      { numRuns: 2000 },
    );
  });

  it('the winner does not depend on the order of the candidates', () => {
    fc.assert(
      fc.property(arbCands, arbOpts, fc.integer(), (cands, opts, seed) => {
        const paths = cands.map(([pi, a]) => mkPath(pi, a));
        const shuffled = [...paths].sort((x, y) => ((x.peer.index * 7919 + seed) % 13) - ((y.peer.index * 7919 + seed) % 13));
        const ctx = decisionContext(opts);
        assert.equal(shuffled[selectBest(shuffled, ctx).index], paths[selectBest(paths, ctx).index]);
      }),
      { numRuns: 1000 },
    );
  });

  it('with alwaysCompareMed the winner beats every other candidate pairwise, at the reported step or earlier', () => {
    fc.assert(
      fc.property(arbCands, (cands) => {
        const paths = cands.map(([pi, a]) => mkPath(pi, a));
        const ctx = decisionContext({ alwaysCompareMed: true });
        const s = selectBest(paths, ctx);
        const w = paths[s.index] as Path;
        const order = STEPS.map((x) => x.name as string);
        for (const p of paths) {
          if (p === w) continue;
          const r = compare(w, p, ctx);
          assert.equal(r.winner, w);
          if (s.step !== 'only-path') assert.ok(order.indexOf(r.step) <= order.indexOf(s.step), `${r.step} after ${s.step}`);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
