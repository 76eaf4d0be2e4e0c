/*
 * One update group: a shared Adj-RIB-Out (RFC 4271 §3.2, §9.2; FRR update-groups; BIRD bgp_fire_tx / STYLE.md 6).
 *
 * Peers whose export is the same function of the Loc-RIB (same policy, session type, RR-client flag, next-hop mode
 * and local address, AS width, families — see export.ts `groupKey`) share ONE UpdateGroup. The speaker computes
 * the outgoing attributes once per group and `enqueue`s them; the group keeps, per prefix:
 *   - what it has sent (`out`: AttrSet id + source peer), i.e. the group's Adj-RIB-Out, and
 *   - the latest wanted state not yet sent (`pend`), coalesced: a prefix that flaps twice before the socket drains
 *     is sent once; announce-then-withdraw before a drain sends nothing.
 * `drain(maxBytes)` turns pending changes into batches — withdrawals first, then one batch per outgoing attribute
 * set — and records them as sent. The codec packs each batch into UPDATEs; the same batch objects go to every
 * member, so their encoding can be shared (cache it by batch object).
 *
 * Per-member differences: a route is never sent back to the peer it came from (RFC 4271 §9.1.3 practice; FRR
 * only manages this for single-peer groups). The group stores the source peer of each prefix, so a member's view
 * is "the group's Adj-RIB-Out minus the prefixes it sourced". A drain lists, for the few members whose view
 * changes differently, which prefixes to skip and which extra withdrawals to send (the source became this member
 * while it held the prefix from someone else); `Drained.for(peer)` applies that and returns the shared batch
 * objects untouched for every other member.
 *
 * `fork` makes the subgroups adj-out.ts uses for late joiners, route refresh and peers that change policy.
 *
 * Memory: per prefix a PrefixIndex entry plus out/pend attr (int32 ×2), out/pend source (uint16 ×2) and a flag
 * byte: 27.3 B per IPv4 prefix measured at 1M /32s; the dirty queue adds 4 B per pending prefix while a burst
 * lasts. Batches hold AttrSets without a reference of their own: encode them before the AttrTable's next
 * `collect()`.
 */

import type { Prefix4, Prefix6 } from '../types.js';
import type { AttrSet, AttrTable } from './attrs.js';
import { growI32, growU16, growU8, Prefix4Index, Prefix6Index, type PrefixIndex } from './prefix-index.js';

export interface Batch<P> {
  /** The outgoing attribute set; null for a batch of withdrawals. */
  readonly attrs: AttrSet | null;
  readonly prefixes: readonly P[];
}

/** How one member's view of a drain differs from the shared batches. */
export interface MemberView<P> {
  /** Per shared batch, prefixes this member must not be sent (it is their source, or never had them). */
  readonly skip: Map<Batch<P>, Set<P>>;
  /** Withdrawals only this member needs. */
  readonly withdraw: P[];
}

export class Drained<P> {
  constructor(
    /** Withdrawals first (if any), then one batch per attribute set. */
    readonly batches: Batch<P>[],
    /** Estimated UPDATE bytes. */
    readonly bytes: number,
    /** Members whose batches differ; all others get `batches` as is. */
    readonly except: ReadonlyMap<number, MemberView<P>>,
  ) {}

  get empty(): boolean {
    return this.batches.length === 0 && this.except.size === 0;
  }

  /** The batches for one member: the shared objects where its view agrees, filtered copies where not. */
  for(peer: number): Batch<P>[] {
    const v = this.except.get(peer);
    if (v === undefined) return this.batches;
    const out: Batch<P>[] = [];
    const first = this.batches[0];
    let withdrawn: P[] = v.withdraw;
    let rest = this.batches;
    if (first !== undefined && first.attrs === null) {
      const skip = v.skip.get(first);
      const kept = skip === undefined ? first.prefixes : first.prefixes.filter((p) => !skip.has(p));
      withdrawn = kept.concat(v.withdraw);
      rest = this.batches.slice(1);
      if (v.withdraw.length === 0 && kept === first.prefixes) out.push(first);
      else if (withdrawn.length > 0) out.push({ attrs: null, prefixes: withdrawn });
    } else if (withdrawn.length > 0) out.push({ attrs: null, prefixes: withdrawn });
    for (const b of rest) {
      const skip = v.skip.get(b);
      if (skip === undefined) out.push(b);
      else {
        const kept = b.prefixes.filter((p) => !skip.has(p));
        if (kept.length > 0) out.push({ attrs: b.attrs, prefixes: kept });
      }
    }
    return out;
  }
}

const NONE = -2; // pendAttr: nothing pending (−1 = withdrawal pending, ≥ 0 = announcement pending)
const FORCE = 1; // resend even when equal to what was sent (route refresh)
const UNCONFIRMED = 2; // a feed is running and has not re-enqueued this prefix yet
const HEADER = 23; // UPDATE header + withdrawn-length + attributes-length

export function prefixBytes4(p: Prefix4): number {
  return 1 + ((p - Math.floor(p / 64) * 64 + 7) >> 3);
}

export function prefixBytes6(p: Prefix6): number {
  return 1 + ((Number(p.slice(p.lastIndexOf('/') + 1)) + 7) >> 3);
}

export class UpdateGroup<P extends Prefix4 | Prefix6> {
  /** Peer indexes of the members. */
  readonly members = new Set<number>();
  private outAttr = new Int32Array(0);
  private outSrc = new Uint16Array(0);
  private pendAttr = new Int32Array(0);
  private pendSrc = new Uint16Array(0);
  private flags = new Uint8Array(0);
  private dirty = new Int32Array(16);
  private dirtyLen = 0;
  private outCount = 0;
  private feeding = false;
  /**
   * The group's only member's own routes were left out of it (rib.ts: no export work for a group whose only
   * member is the route's source — it would never be sent them). Its Adj-RIB-Out is then that member's view,
   * not the key's: the RIB must complete it (`Rib.joinGroup`) before another peer shares it.
   */
  lacksSourceRoutes = false;

  constructor(
    readonly key: string,
    private readonly table: AttrTable,
    private readonly index: PrefixIndex<P>,
    private readonly prefixBytes: (p: P) => number,
  ) {}

  /** Prefixes with a change waiting to be drained. */
  get pending(): number {
    return this.dirtyLen;
  }

  /** Prefixes the group has sent and not withdrawn. */
  get advertised(): number {
    return this.outCount;
  }

  /** True between beginFeed() and endFeed(). */
  get isFeeding(): boolean {
    return this.feeding;
  }

  /**
   * The wanted outgoing state of one prefix: `attrs` to announce (from source peer `src`), or null to withdraw
   * (a no-op unless the group sent it or has it pending). Returns whether a change is now pending for the prefix
   * (false: nothing to send, the group's peers already have what is wanted).
   */
  enqueue(prefix: P, attrs: AttrSet | null, src: number): boolean {
    let id: number;
    if (attrs === null) {
      id = this.index.get(prefix);
      if (id < 0) return false;
    } else {
      id = this.index.add(prefix);
      if (id < 0) {
        id = ~id;
        if (id >= this.outAttr.length) this.grow(this.index.bound);
        this.outAttr[id] = -1;
        this.outSrc[id] = 0;
        this.pendAttr[id] = NONE;
        this.flags[id] = 0;
      }
    }
    const f = this.flags[id] as number;
    if (f & UNCONFIRMED) this.flags[id] = f & ~UNCONFIRMED;
    const na = attrs === null ? -1 : attrs.id;
    const old = this.pendAttr[id] as number;
    if (na >= 0) this.table.retainId(na);
    if (old === NONE) {
      // Nothing pending and nothing would change: stay out of the queue.
      if (na === this.outAttr[id] && (na < 0 || (src === this.outSrc[id] && !(f & FORCE)))) {
        if (na >= 0) this.table.releaseId(na);
        return false;
      }
      this.push(id);
    } else if (old >= 0) this.table.releaseId(old);
    this.pendAttr[id] = na;
    this.pendSrc[id] = src;
    return true;
  }

  /**
   * Cuts pending changes into batches (stopping once the estimate reaches `maxBytes`; the rest stays pending and
   * keeps coalescing) and records them as sent.
   */
  drain(maxBytes = Infinity): Drained<P> {
    const table = this.table;
    const index = this.index;
    const withdrawn: P[] = [];
    const groups = new Map<number, P[]>();
    // member → (attr id | -1 for the withdrawal batch) → prefixes to skip; member → extra withdrawals
    let skips: Map<number, Map<number, Set<P>>> | undefined;
    let extra: Map<number, P[]> | undefined;
    const skip = (m: number, a: number, p: P): void => {
      skips ??= new Map();
      let byAttr = skips.get(m);
      if (byAttr === undefined) skips.set(m, (byAttr = new Map()));
      let set = byAttr.get(a);
      if (set === undefined) byAttr.set(a, (set = new Set()));
      set.add(p);
    };
    let bytes = 0;
    let i = 0;
    for (; i < this.dirtyLen && bytes < maxBytes; i++) {
      const id = this.dirty[i] as number;
      const a = this.pendAttr[id] as number;
      const s = this.pendSrc[id] as number;
      this.pendAttr[id] = NONE;
      const oa = this.outAttr[id] as number;
      const os = this.outSrc[id] as number;
      const f = this.flags[id] as number;
      this.flags[id] = f & ~FORCE;
      if (a === oa && (a < 0 || (s === os && !(f & FORCE)))) {
        if (a >= 0) table.releaseId(a); // the pending reference; `out` keeps its own
        else index.deleteId(id); // neither sent nor wanted
        continue;
      }
      const prefix = index.prefix(id);
      if (a < 0) {
        if (withdrawn.length === 0) bytes += HEADER;
        withdrawn.push(prefix);
        bytes += this.prefixBytes(prefix);
        if (this.members.has(os)) skip(os, -1, prefix); // it never had it
        this.outAttr[id] = -1;
        this.outCount--;
        table.releaseId(oa);
        index.deleteId(id);
      } else {
        let list = groups.get(a);
        if (list === undefined) {
          groups.set(a, (list = []));
          bytes += HEADER + table.get(a).wireSize;
        }
        list.push(prefix);
        bytes += this.prefixBytes(prefix);
        if (this.members.has(s)) {
          skip(s, a, prefix);
          if (oa >= 0 && os !== s) {
            extra ??= new Map();
            let w = extra.get(s);
            if (w === undefined) extra.set(s, (w = []));
            w.push(prefix);
          }
        }
        this.outAttr[id] = a; // the pending reference moves to `out`
        this.outSrc[id] = s;
        if (oa >= 0) table.releaseId(oa);
        else this.outCount++;
      }
    }
    this.dirty.copyWithin(0, i, this.dirtyLen);
    this.dirtyLen -= i;
    if (this.dirtyLen === 0 && this.dirty.length > 4096) this.dirty = new Int32Array(16); // a burst is over

    const batches: Batch<P>[] = [];
    const byAttr = new Map<number, Batch<P>>();
    if (withdrawn.length > 0) {
      const b: Batch<P> = { attrs: null, prefixes: withdrawn };
      batches.push(b);
      byAttr.set(-1, b);
    }
    for (const [a, prefixes] of groups) {
      const b: Batch<P> = { attrs: table.get(a), prefixes };
      batches.push(b);
      byAttr.set(a, b);
    }
    const except = new Map<number, MemberView<P>>();
    for (const [m, sk] of skips ?? []) {
      const view: MemberView<P> = { skip: new Map(), withdraw: [] };
      for (const [a, set] of sk) view.skip.set(byAttr.get(a) as Batch<P>, set);
      except.set(m, view);
    }
    for (const [m, w] of extra ?? []) {
      let view = except.get(m);
      if (view === undefined) except.set(m, (view = { skip: new Map(), withdraw: [] }));
      view.withdraw.push(...w);
    }
    return new Drained(batches, bytes, except);
  }

  /** What member `peer` has been sent for `prefix` (undefined: nothing, or it is the route's source). */
  sentTo(peer: number, prefix: P): AttrSet | undefined {
    if (!this.members.has(peer)) return undefined;
    const id = this.index.get(prefix);
    if (id < 0) return undefined;
    const a = this.outAttr[id] as number;
    if (a < 0 || this.outSrc[id] === peer) return undefined;
    return this.table.get(a);
  }

  /** Visits the group's Adj-RIB-Out (what it has sent). */
  forEachAdvertised(fn: (prefix: P, attrs: AttrSet, src: number) => void): void {
    const n = this.index.bound;
    for (let id = 0; id < n; id++) {
      if (!this.index.live(id)) continue;
      const a = this.outAttr[id] as number;
      if (a >= 0) fn(this.index.prefix(id), this.table.get(a), this.outSrc[id] as number);
    }
  }

  /**
   * Starts a full feed (after a policy change, or for a peer moved from another group): every prefix not
   * enqueued again before `endFeed()` is withdrawn then.
   */
  beginFeed(): void {
    this.feeding = true;
    const n = this.index.bound;
    for (let id = 0; id < n; id++) if (this.index.live(id)) this.flags[id] = (this.flags[id] as number) | UNCONFIRMED;
  }

  endFeed(): void {
    if (!this.feeding) return;
    this.feeding = false;
    const n = this.index.bound;
    for (let id = 0; id < n; id++) {
      if (!this.index.live(id) || !((this.flags[id] as number) & UNCONFIRMED)) continue;
      this.flags[id] = (this.flags[id] as number) & ~UNCONFIRMED;
      this.enqueue(this.index.prefix(id), null, 0);
    }
  }

  /**
   * A new group with the same key for peers that joined late (`mode` 'join': nothing sent yet, the wanted state
   * pending), that asked for a route refresh ('refresh': what was sent kept, everything wanted re-sent), or that
   * moved here from another group ('move': what was sent kept, nothing pending; the caller feeds it).
   */
  fork(mode: 'join' | 'refresh' | 'move', key = this.key): UpdateGroup<P> {
    const g = new UpdateGroup<P>(key, this.table, this.emptyIndex(), this.prefixBytes);
    if (mode !== 'move') g.feeding = this.feeding; // a feed under way continues in the copy
    if (mode === 'refresh') g.lacksSourceRoutes = this.lacksSourceRoutes; // same member, same view
    const n = this.index.bound;
    for (let id = 0; id < n; id++) {
      if (!this.index.live(id)) continue;
      const prefix = this.index.prefix(id);
      const oa = this.outAttr[id] as number;
      const pa = this.pendAttr[id] as number;
      if (mode !== 'join' && oa >= 0) g.setOut(prefix, oa, this.outSrc[id] as number);
      if (mode === 'move') continue;
      const wa = pa === NONE ? oa : pa;
      const ws = pa === NONE ? (this.outSrc[id] as number) : (this.pendSrc[id] as number);
      if (wa >= 0) {
        if (mode === 'refresh') g.mark(prefix, FORCE);
        g.enqueue(prefix, this.table.get(wa), ws);
      } else if (mode === 'refresh') g.enqueue(prefix, null, 0);
      if ((this.flags[id] as number) & UNCONFIRMED) g.mark(prefix, UNCONFIRMED);
    }
    return g;
  }

  /** Releases every reference the group holds; the group must not be used afterwards. */
  dispose(): void {
    const n = this.index.bound;
    for (let id = 0; id < n; id++) {
      if (!this.index.live(id)) continue;
      const oa = this.outAttr[id] as number;
      const pa = this.pendAttr[id] as number;
      if (oa >= 0) this.table.releaseId(oa);
      if (pa >= 0) this.table.releaseId(pa);
    }
    this.index.clear();
    this.dirtyLen = 0;
    this.outCount = 0;
    this.members.clear();
  }

  bytes(): number {
    return (
      this.index.bytes() +
      this.outAttr.byteLength +
      this.outSrc.byteLength +
      this.pendAttr.byteLength +
      this.pendSrc.byteLength +
      this.flags.byteLength +
      this.dirty.byteLength
    );
  }

  private setOut(prefix: P, a: number, src: number): void {
    let id = this.index.add(prefix);
    if (id < 0) {
      id = ~id;
      if (id >= this.outAttr.length) this.grow(this.index.bound);
      this.pendAttr[id] = NONE;
      this.flags[id] = 0;
      this.outCount++;
    }
    this.table.retainId(a);
    this.outAttr[id] = a;
    this.outSrc[id] = src;
  }

  private mark(prefix: P, flag: number): void {
    const id = this.index.get(prefix);
    if (id >= 0) this.flags[id] = (this.flags[id] as number) | flag;
  }

  private emptyIndex(): PrefixIndex<P> {
    return (this.index instanceof Prefix4Index ? new Prefix4Index() : new Prefix6Index()) as unknown as PrefixIndex<P>;
  }

  private push(id: number): void {
    if (this.dirtyLen === this.dirty.length) this.dirty = growI32(this.dirty, this.dirtyLen + 1);
    this.dirty[this.dirtyLen++] = id;
  }

  private grow(n: number): void {
    this.outAttr = growI32(this.outAttr, n);
    this.outSrc = growU16(this.outSrc, n);
    this.pendAttr = growI32(this.pendAttr, n, NONE);
    this.pendSrc = growU16(this.pendSrc, n);
    this.flags = growU8(this.flags, n);
  }
}
