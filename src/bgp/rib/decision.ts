/*
 * The BGP decision process (RFC 4271 §9.1.2), as an ordered list of small comparators that can say which step
 * decided (GoBGP internal/pkg/table/destination.go; STYLE.md 7).
 *
 * Steps, in order:
 *   local-pref      highest LOCAL_PREF (absent ⇒ `defaultLocalPref`; import strips it from eBGP routes)   §9.1.1
 *   local-origin    a locally originated route first                                             (de facto)
 *   as-path         shortest AS_PATH (AS_SET counts 1, confederation segments 0)         §9.1.2.2 a, RFC 5065
 *   origin          lowest ORIGIN (IGP < EGP < INCOMPLETE)                                        §9.1.2.2 b
 *   med             lowest MED, only between routes from the same neighbour AS unless
 *                   `alwaysCompareMed`; absent MED is 0 unless `medMissingAsWorst`                §9.1.2.2 c
 *   ebgp-over-ibgp  a route learned by eBGP over one learned by iBGP                              §9.1.2.2 d
 *   igp-cost        lowest IGP cost to the next hop (hook; equal by default)                      §9.1.2.2 e
 *   router-id       lowest BGP identifier of the advertiser; ORIGINATOR_ID stands in for it
 *                   when present                                                         §9.1.2.2 f, RFC 4456 §9
 *   cluster-list    shortest CLUSTER_LIST (inserted between f and g)                               RFC 4456 §9
 *   peer-address    lowest peer address                                                           §9.1.2.2 g
 *
 * Tricky: the MED step is not a total order (routes from different neighbour ASes are incomparable), so picking the
 * best with pairwise "is a better than b" depends on the order candidates are looked at (the reason for Cisco's
 * "deterministic-med"). `selectBest` therefore does what §9.1.2.2 says: step by step, it removes every candidate
 * that some other remaining candidate beats, and reports the step at which one candidate was left. The pairwise
 * `compare` is for display ("why did a beat b") and for total-order callers.
 */

import type { AttrSet } from './attrs.js';
import type { PeerInfo } from './peers.js';

export interface Path {
  readonly peer: PeerInfo;
  readonly attrs: AttrSet;
}

export interface DecisionOptions {
  /** LOCAL_PREF assumed for a route that carries none (eBGP-learned, or local). Default 100. */
  defaultLocalPref?: number;
  /** Compare MED between routes from different neighbour ASes too (Cisco `always-compare-med`). */
  alwaysCompareMed?: boolean;
  /** A missing MED is the worst (2^32-1) rather than the best (0, RFC 4271 §9.1.2.2 c). */
  medMissingAsWorst?: boolean;
  /** Skip the AS_PATH length step (BIRD `ignore as path`). */
  ignoreAsPathLength?: boolean;
  /** IGP cost to the route's next hop; lower wins. Default: all equal. */
  igpCost?: (path: Path) => number;
}

export interface DecisionContext {
  readonly defaultLocalPref: number;
  readonly alwaysCompareMed: boolean;
  readonly medMissingAsWorst: boolean;
  readonly ignoreAsPathLength: boolean;
  readonly igpCost: ((path: Path) => number) | undefined;
}

export function decisionContext(opts: DecisionOptions = {}): DecisionContext {
  return Object.freeze({
    defaultLocalPref: opts.defaultLocalPref ?? 100,
    alwaysCompareMed: opts.alwaysCompareMed ?? false,
    medMissingAsWorst: opts.medMissingAsWorst ?? false,
    ignoreAsPathLength: opts.ignoreAsPathLength ?? false,
    igpCost: opts.igpCost,
  });
}

/** Negative when `a` is better, positive when `b` is, 0 when this step cannot tell them apart. */
export type Comparator = (a: Path, b: Path, ctx: DecisionContext) => number;

export const STEP_NAMES = [
  'only-path',
  'local-pref',
  'local-origin',
  'as-path',
  'origin',
  'med',
  'ebgp-over-ibgp',
  'igp-cost',
  'router-id',
  'cluster-list',
  'peer-address',
  'tie',
] as const;
export type StepName = (typeof STEP_NAMES)[number];
/** A step name as a small number (what the Loc-RIB stores per prefix). */
export const STEP_CODE: Readonly<Record<StepName, number>> = Object.freeze(
  Object.fromEntries(STEP_NAMES.map((n, i) => [n, i])) as Record<StepName, number>,
);

export interface DecisionStep {
  readonly name: StepName;
  readonly compare: Comparator;
  /** Not a total preorder: some pairs are incomparable (MED across neighbour ASes). */
  readonly partial: boolean;
}

const MED_WORST = 0xffffffff;

function effectiveLocalPref(p: Path, ctx: DecisionContext): number {
  return p.attrs.localPref >= 0 ? p.attrs.localPref : ctx.defaultLocalPref;
}

function medOf(p: Path, ctx: DecisionContext): number {
  return p.attrs.med >= 0 ? p.attrs.med : ctx.medMissingAsWorst ? MED_WORST : 0;
}

function kindRank(p: Path): number {
  return p.peer.kind === 'ibgp' ? 1 : 0;
}

function bgpId(p: Path): number {
  return p.attrs.originatorId !== 0 ? p.attrs.originatorId : p.peer.routerId;
}

export const STEPS: readonly DecisionStep[] = Object.freeze([
  { name: 'local-pref', partial: false, compare: (a, b, ctx) => effectiveLocalPref(b, ctx) - effectiveLocalPref(a, ctx) },
  {
    name: 'local-origin',
    partial: false,
    compare: (a, b) => (a.peer.kind === 'local' ? 0 : 1) - (b.peer.kind === 'local' ? 0 : 1),
  },
  {
    name: 'as-path',
    partial: false,
    compare: (a, b, ctx) => (ctx.ignoreAsPathLength ? 0 : a.attrs.asPathLength - b.attrs.asPathLength),
  },
  { name: 'origin', partial: false, compare: (a, b) => a.attrs.origin - b.attrs.origin },
  {
    name: 'med',
    partial: true,
    compare: (a, b, ctx) =>
      !ctx.alwaysCompareMed && a.attrs.neighborAs !== b.attrs.neighborAs ? 0 : medOf(a, ctx) - medOf(b, ctx),
  },
  { name: 'ebgp-over-ibgp', partial: false, compare: (a, b) => kindRank(a) - kindRank(b) },
  {
    name: 'igp-cost',
    partial: false,
    compare: (a, b, ctx) => (ctx.igpCost === undefined ? 0 : ctx.igpCost(a) - ctx.igpCost(b)),
  },
  { name: 'router-id', partial: false, compare: (a, b) => bgpId(a) - bgpId(b) },
  { name: 'cluster-list', partial: false, compare: (a, b) => a.attrs.clusterListLength - b.attrs.clusterListLength },
  {
    name: 'peer-address',
    partial: false,
    compare: (a, b) => (a.peer.addressKey < b.peer.addressKey ? -1 : a.peer.addressKey > b.peer.addressKey ? 1 : 0),
  },
] satisfies DecisionStep[]);

/** Which of two paths wins, and at which step ('tie' when no step separates them). */
export function compare(a: Path, b: Path, ctx: DecisionContext): { winner: Path; step: StepName } {
  for (const step of STEPS) {
    const c = step.compare(a, b, ctx);
    if (c !== 0) return { winner: c < 0 ? a : b, step: step.name };
  }
  return { winner: a, step: 'tie' };
}

/**
 * The best of `paths` (non-empty) by RFC 4271 §9.1.2.2 elimination, and the step that left it alone:
 * 'only-path' for a single candidate, 'tie' when every step passed with several left (the first is taken).
 */
export function selectBest(paths: readonly Path[], ctx: DecisionContext): { index: number; step: StepName } {
  const n = paths.length;
  if (n <= 1) return { index: n - 1, step: 'only-path' };
  let alive: number[] = [];
  for (let i = 0; i < n; i++) alive.push(i);
  for (const step of STEPS) {
    const cmp = step.compare;
    let keep: number[];
    if (step.partial) {
      keep = alive.filter((i) => !alive.some((j) => j !== i && cmp(paths[j] as Path, paths[i] as Path, ctx) < 0));
      if (keep.length === 0) keep = alive;
    } else {
      let best = alive[0] as number;
      keep = [best];
      for (let k = 1; k < alive.length; k++) {
        const i = alive[k] as number;
        const c = cmp(paths[i] as Path, paths[best] as Path, ctx);
        if (c < 0) {
          best = i;
          keep = [i];
        } else if (c === 0) keep.push(i);
      }
    }
    alive = keep;
    if (alive.length === 1) return { index: alive[0] as number, step: step.name };
  }
  return { index: alive[0] as number, step: 'tie' };
}
