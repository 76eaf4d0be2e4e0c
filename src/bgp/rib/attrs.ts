/*
 * The intern table of path-attribute sets.
 *
 * A route in tortie is a prefix plus the small integer id of an AttrSet: one frozen object per distinct attribute
 * set, shared by every prefix (and every RIB) that carries it (STYLE.md 8; BIRD's `rta` cache). 1,000,000 /32s
 * from one peer with one set of attributes cost one AttrSet.
 *
 * - `intern(attrs)` normalises and deep-freezes a copy, computes the canonical key (every field tagged and
 *   `|`-separated, so no two different sets share a key), and precomputes the few values the decision process and
 *   export rules read per route (AS_PATH length, neighbour AS, MED, LOCAL_PREF, ORIGINATOR_ID as a number, ...).
 * - Reference counts live in an Int32Array by id (the sets themselves are frozen). Tables that store an id call
 *   `retainId`/`releaseId`. A set whose count drops to 0 is NOT freed at once: it waits for `collect()`, which the
 *   caller runs between messages. So a set may be used without retaining it until the next collect — the window
 *   in which the codec interns, the RIB stores, and export derives.
 * - Derived sets (prepend an AS, next hop self, reflect, ...) go through `derive(set, op, fn)`, cached per (set,
 *   op): exporting one set to 1,000 peers computes and interns the result once. The cache holds no reference
 *   (a cycle A→B→A would never be freed); an entry is valid while its result is still the live set for its id.
 */

import { v4Parse } from '../../net/v4.js';
import type { AsPathSegment, Origin, PathAttributes, UnknownAttribute } from '../types.js';
import { AS_PATH_SEGMENT, WELL_KNOWN_COMMUNITY } from '../types.js';
import { RibError } from './errors.js';

/** Bits of `AttrSet.wellKnown`. */
export const WK = { NO_EXPORT: 1, NO_ADVERTISE: 2, NO_EXPORT_SUBCONFED: 4 } as const;

export class AttrSet {
  /** Index in the intern table; stable while the set is referenced, reused after it is freed. */
  readonly id: number;
  /** Canonical key: equal keys ⇔ equal attribute sets. */
  readonly key: string;
  /** The attributes, deep-frozen. */
  readonly attrs: Readonly<PathAttributes>;
  readonly origin: Origin;
  /** RFC 4271 §9.1.2.2 a): an AS_SET counts 1, confederation segments 0 (RFC 5065 §5.3). */
  readonly asPathLength: number;
  /**
   * RFC 4271 §9.1.2.2 c): the AS the route came from — the first AS of a leading AS_SEQUENCE (confederation
   * segments skipped); 0 ("our own AS") when the path is empty or starts with an AS_SET.
   */
  readonly neighborAs: number;
  /** Leftmost AS (after confederation segments), 0 when none. */
  readonly firstAs: number;
  /** Rightmost AS of a trailing AS_SEQUENCE (the originating AS), 0 when none. */
  readonly originAs: number;
  /** MULTI_EXIT_DISC, -1 when absent. */
  readonly med: number;
  /** LOCAL_PREF, -1 when absent. */
  readonly localPref: number;
  /** ORIGINATOR_ID as a uint32, 0 when absent (0.0.0.0 is not a valid BGP identifier). */
  readonly originatorId: number;
  readonly clusterListLength: number;
  /** NEXT_HOP as a uint32, -1 when absent. */
  readonly nextHop4: number;
  /** WK bits: the well-known communities that restrict export. */
  readonly wellKnown: number;
  /** Estimated encoded size of the attributes in an UPDATE (bytes), for drain budgets. */
  readonly wireSize: number;

  constructor(id: number, key: string, attrs: Readonly<PathAttributes>) {
    this.id = id;
    this.key = key;
    this.attrs = attrs;
    this.origin = attrs.origin;
    let len = 0;
    let neighbor = 0;
    let first = 0;
    let originAs = 0;
    let seenNonConfed = false;
    for (const seg of attrs.asPath) {
      if (seg.type === AS_PATH_SEGMENT.CONFED_SEQUENCE || seg.type === AS_PATH_SEGMENT.CONFED_SET) continue;
      if (!seenNonConfed) {
        seenNonConfed = true;
        first = seg.asns[0] ?? 0;
        if (seg.type === AS_PATH_SEGMENT.SEQUENCE) neighbor = first;
      }
      len += seg.type === AS_PATH_SEGMENT.SET ? 1 : seg.asns.length;
      originAs = seg.type === AS_PATH_SEGMENT.SEQUENCE ? (seg.asns[seg.asns.length - 1] ?? 0) : 0;
    }
    this.asPathLength = len;
    this.neighborAs = neighbor;
    this.firstAs = first;
    this.originAs = originAs;
    this.med = attrs.med ?? -1;
    this.localPref = attrs.localPref ?? -1;
    this.originatorId = attrs.originatorId === undefined ? 0 : Math.max(0, v4Parse(attrs.originatorId));
    this.clusterListLength = attrs.clusterList?.length ?? 0;
    this.nextHop4 = attrs.nextHop === undefined ? -1 : v4Parse(attrs.nextHop);
    let wk = 0;
    for (const c of attrs.communities ?? []) {
      if (c === WELL_KNOWN_COMMUNITY.NO_EXPORT) wk |= WK.NO_EXPORT;
      else if (c === WELL_KNOWN_COMMUNITY.NO_ADVERTISE) wk |= WK.NO_ADVERTISE;
      else if (c === WELL_KNOWN_COMMUNITY.NO_EXPORT_SUBCONFED) wk |= WK.NO_EXPORT_SUBCONFED;
    }
    this.wellKnown = wk;
    this.wireSize = wireSize(attrs);
    Object.freeze(this);
  }
}

function wireSize(a: Readonly<PathAttributes>): number {
  let n = 4; // ORIGIN
  n += 3;
  for (const s of a.asPath) n += 2 + 4 * s.asns.length;
  if (a.nextHop !== undefined) n += 7;
  if (a.mpNextHop !== undefined) n += 8 + (a.mpNextHop.linkLocal === undefined ? 16 : 32);
  if (a.med !== undefined) n += 7;
  if (a.localPref !== undefined) n += 7;
  if (a.atomicAggregate) n += 3;
  if (a.aggregator !== undefined) n += 11;
  if (a.communities !== undefined) n += 4 + 4 * a.communities.length;
  if (a.originatorId !== undefined) n += 7;
  if (a.clusterList !== undefined) n += 4 + 4 * a.clusterList.length;
  if (a.extCommunities !== undefined) n += 4 + 8 * a.extCommunities.length;
  if (a.largeCommunities !== undefined) n += 4 + 12 * a.largeCommunities.length;
  for (const u of a.unknown ?? []) n += 4 + u.value.length;
  return n;
}

function hex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += ((b[i] as number) < 16 ? '0' : '') + (b[i] as number).toString(16);
  return s;
}

/** The canonical key of an attribute set: each present field as `|<tag><value>`. */
export function attrKey(a: Readonly<PathAttributes>): string {
  let k = 'o' + a.origin + '|p';
  for (const s of a.asPath) k += s.type + ':' + s.asns.join(',') + ';';
  if (a.nextHop !== undefined) k += '|n' + a.nextHop;
  if (a.mpNextHop !== undefined) k += '|N' + a.mpNextHop.global + ',' + (a.mpNextHop.linkLocal ?? '');
  if (a.med !== undefined) k += '|m' + a.med;
  if (a.localPref !== undefined) k += '|l' + a.localPref;
  if (a.atomicAggregate) k += '|A';
  if (a.aggregator !== undefined) k += '|g' + a.aggregator.asn + ',' + a.aggregator.address;
  if (a.communities !== undefined) k += '|c' + a.communities.join(',');
  if (a.originatorId !== undefined) k += '|O' + a.originatorId;
  if (a.clusterList !== undefined) k += '|C' + a.clusterList.join(',');
  if (a.extCommunities !== undefined) k += '|x' + a.extCommunities.join(',');
  if (a.largeCommunities !== undefined) k += '|L' + a.largeCommunities.map((t) => t.join(':')).join(',');
  if (a.unknown !== undefined) for (const u of a.unknown) k += '|u' + u.flags + ',' + u.type + ',' + hex(u.value);
  return k;
}

/** A normalised, deep-frozen copy: absent fields are left out (never `undefined` values). */
function freezeCopy(a: Readonly<PathAttributes>): Readonly<PathAttributes> {
  const out: PathAttributes = {
    origin: a.origin,
    asPath: Object.freeze(
      a.asPath.map((s): AsPathSegment => Object.freeze({ type: s.type, asns: Object.freeze(s.asns.slice()) })),
    ),
  };
  if (a.nextHop !== undefined) out.nextHop = a.nextHop;
  if (a.mpNextHop !== undefined) {
    out.mpNextHop = Object.freeze(
      a.mpNextHop.linkLocal === undefined
        ? { global: a.mpNextHop.global }
        : { global: a.mpNextHop.global, linkLocal: a.mpNextHop.linkLocal },
    );
  }
  if (a.med !== undefined) out.med = a.med;
  if (a.localPref !== undefined) out.localPref = a.localPref;
  if (a.atomicAggregate) out.atomicAggregate = true;
  if (a.aggregator !== undefined) out.aggregator = Object.freeze({ ...a.aggregator });
  if (a.communities !== undefined) out.communities = Object.freeze(a.communities.slice());
  if (a.originatorId !== undefined) out.originatorId = a.originatorId;
  if (a.clusterList !== undefined) out.clusterList = Object.freeze(a.clusterList.slice());
  if (a.extCommunities !== undefined) out.extCommunities = Object.freeze(a.extCommunities.slice());
  if (a.largeCommunities !== undefined) {
    out.largeCommunities = Object.freeze(a.largeCommunities.map((t) => Object.freeze([t[0], t[1], t[2]] as const)));
  }
  if (a.unknown !== undefined) {
    out.unknown = Object.freeze(
      a.unknown.map((u): UnknownAttribute => Object.freeze({ flags: u.flags, type: u.type, value: u.value.slice() })),
    );
  }
  return Object.freeze(out);
}

export class AttrTable {
  private readonly byKey = new Map<string, AttrSet>();
  private sets: (AttrSet | undefined)[] = [];
  private refs = new Int32Array(64);
  private readonly freeIds: number[] = [];
  /** Ids whose count reached 0 since the last collect (may contain duplicates and since-revived sets). */
  private zero: number[] = [];
  private derived: (Map<string, AttrSet> | undefined)[] = [];

  /** Distinct live sets. */
  get size(): number {
    return this.byKey.size;
  }

  /**
   * The shared set equal to `attrs` (interned on first sight). The result is NOT retained: store its id with
   * `retainId`, or use it only until the next `collect()`.
   */
  intern(attrs: Readonly<PathAttributes>): AttrSet {
    const key = attrKey(attrs);
    const found = this.byKey.get(key);
    if (found !== undefined) return found;
    const id = this.freeIds.length > 0 ? (this.freeIds.pop() as number) : this.sets.length;
    const set = new AttrSet(id, key, freezeCopy(attrs));
    this.sets[id] = set;
    if (id >= this.refs.length) {
      const r = new Int32Array(this.refs.length * 2);
      r.set(this.refs);
      this.refs = r;
    }
    this.refs[id] = 0;
    this.zero.push(id);
    this.byKey.set(key, set);
    return set;
  }

  /** The live set with this id. */
  get(id: number): AttrSet {
    const s = this.sets[id];
    if (s === undefined) throw new RibError('FREED_ATTR_SET', `attribute set ${id} is not live`);
    return s;
  }

  /** True while `set` is the live set of its id (not freed). */
  isLive(set: AttrSet): boolean {
    return this.sets[set.id] === set;
  }

  retainId(id: number): void {
    this.refs[id] = (this.refs[id] as number) + 1;
  }

  releaseId(id: number): void {
    const n = (this.refs[id] as number) - 1;
    this.refs[id] = n;
    if (n === 0) this.zero.push(id);
    else if (n < 0) {
      this.refs[id] = 0;
      throw new RibError('REFCOUNT', `attribute set ${id} released more often than retained`);
    }
  }

  retain(set: AttrSet): void {
    this.retainId(set.id);
  }

  release(set: AttrSet): void {
    this.releaseId(set.id);
  }

  refCount(set: AttrSet): number {
    return this.sets[set.id] === set ? (this.refs[set.id] as number) : 0;
  }

  /** Sets that may be free at the next collect (an upper bound: some may have been retained again since). */
  get collectable(): number {
    return this.zero.length;
  }

  /** Frees every set whose count is 0. Returns how many were freed. */
  collect(): number {
    let freed = 0;
    const zero = this.zero;
    this.zero = [];
    for (const id of zero) {
      const s = this.sets[id];
      if (s === undefined || this.refs[id] !== 0) continue;
      this.byKey.delete(s.key);
      this.sets[id] = undefined;
      this.derived[id] = undefined;
      this.freeIds.push(id);
      freed++;
    }
    return freed;
  }

  /**
   * `fn(set.attrs)` interned, cached per (set, op). `op` must name the transformation completely (include every
   * parameter), since the cache trusts it. Not retained, like `intern`.
   */
  derive(set: AttrSet, op: string, fn: (a: Readonly<PathAttributes>) => PathAttributes): AttrSet {
    const hit = this.lookupDerived(set, op);
    if (hit !== undefined) return hit;
    const out = this.intern(fn(set.attrs));
    let cache = this.derived[set.id];
    if (cache === undefined) this.derived[set.id] = cache = new Map();
    cache.set(op, out);
    return out;
  }

  /** The cached result of `derive(set, op, ...)`, if any (lets hot paths skip building the closure). */
  lookupDerived(set: AttrSet, op: string): AttrSet | undefined {
    const hit = this.derived[set.id]?.get(op);
    return hit !== undefined && this.sets[hit.id] === hit ? hit : undefined;
  }

  // --- the derivations export and policy need; each one cached ---

  /** Prepends `asn` `times` times to the leading AS_SEQUENCE (a new one if the path starts otherwise). */
  prependAs(set: AttrSet, asn: number, times = 1): AttrSet {
    if (times <= 0) return set;
    return this.derive(set, `pa${asn}x${times}`, (a) => ({ ...a, asPath: prependPath(a.asPath, asn, times) }));
  }

  /** Sets NEXT_HOP (IPv4 routes) and/or the MP_REACH next hop (IPv6 routes); undefined leaves one as is. */
  setNextHop(set: AttrSet, v4: string | undefined, v6?: { global: string; linkLocal?: string }): AttrSet {
    const op = `nh${v4 ?? ''}/${v6?.global ?? ''}/${v6?.linkLocal ?? ''}`;
    return this.derive(set, op, (a) => {
      const out: PathAttributes = { ...a };
      if (v4 !== undefined) out.nextHop = v4;
      if (v6 !== undefined) out.mpNextHop = v6;
      return out;
    });
  }

  setLocalPref(set: AttrSet, v: number | undefined): AttrSet {
    if ((v ?? -1) === set.localPref) return set;
    return this.derive(set, `lp${v ?? '-'}`, (a) => {
      const { localPref: _drop, ...rest } = a;
      return v === undefined ? rest : { ...rest, localPref: v };
    });
  }

  setMed(set: AttrSet, v: number | undefined): AttrSet {
    if ((v ?? -1) === set.med) return set;
    return this.derive(set, `md${v ?? '-'}`, (a) => {
      const { med: _drop, ...rest } = a;
      return v === undefined ? rest : { ...rest, med: v };
    });
  }

  /** Adds RFC 1997 communities not already present (appended, in order). */
  addCommunities(set: AttrSet, values: readonly number[]): AttrSet {
    const have = set.attrs.communities ?? [];
    if (values.every((v) => have.includes(v))) return set;
    return this.derive(set, `ac${values.join(',')}`, (a) => {
      const list = (a.communities ?? []).slice();
      for (const v of values) if (!list.includes(v)) list.push(v);
      return { ...a, communities: list };
    });
  }

  /** Adds RFC 8092 large communities not already present. */
  addLargeCommunities(set: AttrSet, values: readonly (readonly [number, number, number])[]): AttrSet {
    const have = set.attrs.largeCommunities ?? [];
    const same = (x: readonly number[], y: readonly number[]): boolean => x[0] === y[0] && x[1] === y[1] && x[2] === y[2];
    if (values.every((v) => have.some((h) => same(h, v)))) return set;
    return this.derive(set, `aL${values.map((v) => v.join(':')).join(',')}`, (a) => {
      const list = (a.largeCommunities ?? []).slice();
      for (const v of values) if (!list.some((h) => same(h, v))) list.push(v);
      return { ...a, largeCommunities: list };
    });
  }

  /**
   * RFC 4456 §8 reflection: ORIGINATOR_ID set to `originatorId` when absent, `clusterId` prepended to
   * CLUSTER_LIST.
   */
  reflect(set: AttrSet, originatorId: string, clusterId: string): AttrSet {
    return this.derive(set, `rr${originatorId}/${clusterId}`, (a) => ({
      ...a,
      originatorId: a.originatorId ?? originatorId,
      clusterList: [clusterId, ...(a.clusterList ?? [])],
    }));
  }

  /** Bytes held by the table's own arrays (not counting the sets). */
  bytes(): number {
    return this.refs.byteLength + this.sets.length * 8;
  }
}

/** `path` with `asn` prepended `times` times (RFC 4271 §5.1.2). */
export function prependPath(path: readonly AsPathSegment[], asn: number, times: number): AsPathSegment[] {
  const add: number[] = new Array<number>(times).fill(asn);
  const head = path[0];
  if (head !== undefined && head.type === AS_PATH_SEGMENT.SEQUENCE && head.asns.length + times <= 255) {
    return [{ type: AS_PATH_SEGMENT.SEQUENCE, asns: [...add, ...head.asns] }, ...path.slice(1)];
  }
  return [{ type: AS_PATH_SEGMENT.SEQUENCE, asns: add }, ...path];
}
