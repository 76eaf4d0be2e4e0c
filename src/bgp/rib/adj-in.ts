/*
 * Adj-RIB-In of one peer for one family (RFC 4271 §3.2): what the peer advertised, after import policy.
 *
 * Per prefix it keeps one int32 (the id of the accepted AttrSet, or -1 when the route was received but refused by
 * import policy — kept so counts stay right and a later withdraw is recognised) and one flag byte (stale). Pre-policy
 * attributes are not kept: re-running import policy asks the peer for a route refresh (RFC 2918 / RFC 7313), as
 * BIRD does without `import table`. Layout: a PrefixIndex plus two typed-array columns (~19 B per IPv4 route).
 *
 * Graceful restart, helper side (RFC 4724 §4.2): when the peer's session drops and it had announced the
 * capability, `markStale()` flags every route; re-advertised routes lose the flag; `sweepStale()` at End-of-RIB
 * (or when the restart/stale timer — owned by the caller — fires) removes the rest. Enhanced route refresh
 * (RFC 7313 §4) uses the same pair between BoRR and EoRR.
 *
 * The caller owns what happens next: `set`/`remove`/`sweepStale` report the previous accepted set so the Loc-RIB
 * is only told about real changes. Sets returned here have already been released; they stay valid until the
 * AttrTable's next `collect()`.
 */

import type { Prefix4, Prefix6 } from '../types.js';
import type { AttrSet, AttrTable } from './attrs.js';
import { growI32, growU8, Prefix4Index, Prefix6Index, type PrefixIndex } from './prefix-index.js';

const STALE = 1;
const FILTERED = -1;

export class AdjRibIn<P extends Prefix4 | Prefix6> {
  private attr = new Int32Array(0);
  private flags = new Uint8Array(0);
  private acceptedCount = 0;
  private staleCount = 0;

  constructor(
    private readonly table: AttrTable,
    private readonly index: PrefixIndex<P>,
  ) {}

  static v4(table: AttrTable): AdjRibIn<Prefix4> {
    return new AdjRibIn<Prefix4>(table, new Prefix4Index());
  }

  static v6(table: AttrTable): AdjRibIn<Prefix6> {
    return new AdjRibIn<Prefix6>(table, new Prefix6Index());
  }

  /** Prefixes received (accepted or filtered). */
  get received(): number {
    return this.index.size;
  }

  /** Prefixes accepted by import policy. */
  get accepted(): number {
    return this.acceptedCount;
  }

  /** Prefixes still flagged stale. */
  get stale(): number {
    return this.staleCount;
  }

  /**
   * Stores an advertisement: `attrs` is the accepted set, or null when import policy refused the route. A
   * re-advertisement replaces the previous one and clears the stale flag. Returns the previously accepted set
   * (null when there was none or it had been filtered); compare with `attrs` to see whether anything changed.
   */
  set(prefix: P, attrs: AttrSet | null): AttrSet | null {
    let id = this.index.add(prefix);
    let prev = FILTERED;
    if (id < 0) {
      id = ~id;
      if (id >= this.attr.length) this.grow(this.index.bound);
      this.flags[id] = 0;
    } else {
      prev = this.attr[id] as number;
      if (this.flags[id] === STALE) {
        this.flags[id] = 0;
        this.staleCount--;
      }
    }
    const next = attrs === null ? FILTERED : attrs.id;
    this.attr[id] = next;
    if (next === prev) return attrs;
    if (next !== FILTERED) {
      this.table.retainId(next);
      this.acceptedCount++;
    }
    if (prev === FILTERED) return null;
    const old = this.table.get(prev);
    this.table.releaseId(prev);
    this.acceptedCount--;
    return old;
  }

  /**
   * Removes a withdrawn prefix. Returns the accepted set it had, null when it had been filtered, undefined when
   * the peer never advertised it.
   */
  remove(prefix: P): AttrSet | null | undefined {
    const id = this.index.get(prefix);
    if (id < 0) return undefined;
    return this.removeId(id);
  }

  /** The accepted set, null when filtered, undefined when absent. */
  get(prefix: P): AttrSet | null | undefined {
    const id = this.index.get(prefix);
    if (id < 0) return undefined;
    const a = this.attr[id] as number;
    return a === FILTERED ? null : this.table.get(a);
  }

  isStale(prefix: P): boolean {
    const id = this.index.get(prefix);
    return id >= 0 && this.flags[id] === STALE;
  }

  /** RFC 4724 §4.2: the peer restarted; keep its routes but flag all of them stale. Returns how many. */
  markStale(): number {
    const n = this.index.bound;
    for (let id = 0; id < n; id++) if (this.index.live(id)) this.flags[id] = STALE;
    this.staleCount = this.index.size;
    return this.staleCount;
  }

  /**
   * Removes every route still stale (End-of-RIB received, or the stale timer fired). `onRemoved` hears each
   * removed prefix with the accepted set it had (null if filtered). Returns how many were removed.
   */
  sweepStale(onRemoved?: (prefix: P, prev: AttrSet | null) => void): number {
    if (this.staleCount === 0) return 0;
    let removed = 0;
    const n = this.index.bound;
    for (let id = 0; id < n; id++) {
      if (this.flags[id] !== STALE || !this.index.live(id)) continue;
      const prefix = this.index.prefix(id);
      const prev = this.removeId(id);
      removed++;
      onRemoved?.(prefix, prev);
    }
    return removed;
  }

  /** Session gone without graceful restart: removes everything, reporting each prefix like `sweepStale`. */
  clear(onRemoved?: (prefix: P, prev: AttrSet | null) => void): number {
    let removed = 0;
    const n = this.index.bound;
    for (let id = 0; id < n; id++) {
      if (!this.index.live(id)) continue;
      const prefix = this.index.prefix(id);
      const prev = this.removeId(id);
      removed++;
      onRemoved?.(prefix, prev);
    }
    this.index.clear();
    return removed;
  }

  /** Visits every received prefix: its accepted set (null if filtered) and stale flag. */
  forEach(fn: (prefix: P, attrs: AttrSet | null, stale: boolean) => void): void {
    const n = this.index.bound;
    for (let id = 0; id < n; id++) {
      if (!this.index.live(id)) continue;
      const a = this.attr[id] as number;
      fn(this.index.prefix(id), a === FILTERED ? null : this.table.get(a), this.flags[id] === STALE);
    }
  }

  /** Bytes held by this table's arrays (index included). */
  bytes(): number {
    return this.index.bytes() + this.attr.byteLength + this.flags.byteLength;
  }

  private removeId(id: number): AttrSet | null {
    const a = this.attr[id] as number;
    if (this.flags[id] === STALE) this.staleCount--;
    this.flags[id] = 0;
    this.index.deleteId(id);
    if (a === FILTERED) return null;
    const old = this.table.get(a);
    this.table.releaseId(a);
    this.acceptedCount--;
    return old;
  }

  private grow(n: number): void {
    this.attr = growI32(this.attr, n);
    this.flags = growU8(this.flags, n);
  }
}
