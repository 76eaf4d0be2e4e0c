/*
 * Loc-RIB for one family (RFC 4271 §3.2, §9.1.2): per prefix, every candidate path and the best one.
 *
 * Layout per prefix: the best path as (uint16 peer, int32 AttrSet id) plus the deciding step (uint8), in typed-array
 * columns by PrefixIndex id (~23 B per IPv4 prefix). A prefix with a single candidate — the usual case — stores
 * nothing else: that candidate is the best. Only prefixes with two or more candidates get an entry in `multi`, a
 * flat number[] `[peer, attrId, peer, attrId, ...]`. No per-route objects, no closures.
 *
 * `update(prefix, peer, attrs|null)` replaces or removes one peer's candidate and re-runs the decision for that
 * prefix only. When the best path changes (another peer, or other attributes) the listener hears it — positional
 * arguments, no event object — with the deciding step, so the speaker can program the kernel and export, and
 * `tortie bgp routes` can say why a path won. A change of step alone (a worse candidate came or went) is recorded
 * but not announced.
 *
 * The Loc-RIB holds its own reference on every candidate set. Previous sets handed to the listener have been
 * released already and stay valid until the AttrTable's next `collect()`.
 */

import type { Prefix4, Prefix6 } from '../types.js';
import type { AttrSet, AttrTable } from './attrs.js';
import {
  decisionContext,
  selectBest,
  STEP_CODE,
  STEP_NAMES,
  type DecisionContext,
  type DecisionOptions,
  type Path,
  type StepName,
} from './decision.js';
import { NO_PEER, type PeerTable } from './peers.js';
import { growI32, growU16, growU8, Prefix4Index, Prefix6Index, type PrefixIndex } from './prefix-index.js';

export type BestChangeKind = 'added' | 'changed' | 'withdrawn';

/**
 * A best-path change. `peer`/`attrs`/`step` describe the new best (NO_PEER/null/null when withdrawn),
 * `prevPeer`/`prevAttrs` the old one (NO_PEER/null when added).
 */
export type BestListener<P> = (
  prefix: P,
  kind: BestChangeKind,
  peer: number,
  attrs: AttrSet | null,
  step: StepName | null,
  prevPeer: number,
  prevAttrs: AttrSet | null,
) => void;

export interface BestRoute {
  readonly peer: number;
  readonly attrs: AttrSet;
  readonly step: StepName;
}

export interface LocRibOptions<P> {
  attrs: AttrTable;
  peers: PeerTable;
  decision?: DecisionOptions;
  onBestChange?: BestListener<P>;
}

const ONLY = STEP_CODE['only-path'];

export class LocRib<P extends Prefix4 | Prefix6> {
  /** Hears every best-path change; may be set after construction. */
  onBestChange: BestListener<P> | undefined;
  readonly ctx: DecisionContext;
  private readonly table: AttrTable;
  private readonly peers: PeerTable;
  private bestPeer = new Uint16Array(0);
  private bestAttr = new Int32Array(0);
  private step = new Uint8Array(0);
  private readonly multi = new Map<number, number[]>();

  constructor(
    private readonly index: PrefixIndex<P>,
    opts: LocRibOptions<P>,
  ) {
    this.table = opts.attrs;
    this.peers = opts.peers;
    this.ctx = decisionContext(opts.decision);
    this.onBestChange = opts.onBestChange;
  }

  static v4(opts: LocRibOptions<Prefix4>): LocRib<Prefix4> {
    return new LocRib<Prefix4>(new Prefix4Index(), opts);
  }

  static v6(opts: LocRibOptions<Prefix6>): LocRib<Prefix6> {
    return new LocRib<Prefix6>(new Prefix6Index(), opts);
  }

  /** Prefixes with at least one candidate (= prefixes with a best path). */
  get size(): number {
    return this.index.size;
  }

  /** Prefixes with more than one candidate. */
  get multiPath(): number {
    return this.multi.size;
  }

  /** Sets (attrs) or removes (null) `peer`'s candidate for `prefix`, then re-decides that prefix. */
  update(prefix: P, peer: number, attrs: AttrSet | null): void {
    if (attrs === null) {
      this.withdraw(prefix, peer);
      return;
    }
    const a = attrs.id;
    let id = this.index.add(prefix);
    if (id < 0) {
      id = ~id;
      if (id >= this.bestAttr.length) this.grow(this.index.bound);
      this.table.retainId(a);
      this.bestPeer[id] = peer;
      this.bestAttr[id] = a;
      this.step[id] = ONLY;
      this.onBestChange?.(prefix, 'added', peer, attrs, 'only-path', NO_PEER, null);
      return;
    }
    const bp = this.bestPeer[id] as number;
    const ba = this.bestAttr[id] as number;
    let list = this.multi.get(id);
    if (list === undefined) {
      if (bp === peer) {
        if (ba === a) return;
        this.table.retainId(a);
        this.bestAttr[id] = a;
        const old = this.table.get(ba);
        this.table.releaseId(ba);
        this.onBestChange?.(prefix, 'changed', peer, attrs, 'only-path', bp, old);
        return;
      }
      this.table.retainId(a);
      list = [bp, ba, peer, a];
      this.multi.set(id, list);
      this.reselect(prefix, id, list, bp, ba);
      return;
    }
    for (let i = 0; i < list.length; i += 2) {
      if (list[i] !== peer) continue;
      const old = list[i + 1] as number;
      if (old === a) return;
      this.table.retainId(a);
      list[i + 1] = a;
      this.reselect(prefix, id, list, bp, ba);
      this.table.releaseId(old);
      return;
    }
    this.table.retainId(a);
    list.push(peer, a);
    this.reselect(prefix, id, list, bp, ba);
  }

  /** The best path, or undefined when the prefix has no candidate. */
  best(prefix: P): BestRoute | undefined {
    const id = this.index.get(prefix);
    if (id < 0) return undefined;
    return {
      peer: this.bestPeer[id] as number,
      attrs: this.table.get(this.bestAttr[id] as number),
      step: STEP_NAMES[this.step[id] as number] as StepName,
    };
  }

  /** Every candidate of a prefix (best first). */
  candidates(prefix: P): { peer: number; attrs: AttrSet }[] {
    const id = this.index.get(prefix);
    if (id < 0) return [];
    const bp = this.bestPeer[id] as number;
    const out = [{ peer: bp, attrs: this.table.get(this.bestAttr[id] as number) }];
    const list = this.multi.get(id);
    if (list !== undefined) {
      for (let i = 0; i < list.length; i += 2) {
        if (list[i] !== bp) out.push({ peer: list[i] as number, attrs: this.table.get(list[i + 1] as number) });
      }
    }
    return out;
  }

  /** Visits every prefix's best path. */
  forEachBest(fn: (prefix: P, peer: number, attrs: AttrSet, step: StepName) => void): void {
    const n = this.index.bound;
    for (let id = 0; id < n; id++) {
      if (!this.index.live(id)) continue;
      fn(
        this.index.prefix(id),
        this.bestPeer[id] as number,
        this.table.get(this.bestAttr[id] as number),
        STEP_NAMES[this.step[id] as number] as StepName,
      );
    }
  }

  /**
   * Re-runs the decision for every prefix with several candidates (after something the comparators read changed:
   * IGP costs, a peer's router id). Changes are announced as usual.
   */
  recomputeAll(): void {
    for (const [id, list] of this.multi) {
      this.reselect(this.index.prefix(id), id, list, this.bestPeer[id] as number, this.bestAttr[id] as number);
    }
  }

  bytes(): number {
    let multi = 0;
    for (const l of this.multi.values()) multi += 40 + 8 * l.length;
    return this.index.bytes() + this.bestPeer.byteLength + this.bestAttr.byteLength + this.step.byteLength + multi;
  }

  private withdraw(prefix: P, peer: number): void {
    const id = this.index.get(prefix);
    if (id < 0) return;
    const bp = this.bestPeer[id] as number;
    const ba = this.bestAttr[id] as number;
    const list = this.multi.get(id);
    if (list === undefined) {
      if (bp !== peer) return;
      const old = this.table.get(ba);
      this.index.deleteId(id);
      this.table.releaseId(ba);
      this.onBestChange?.(prefix, 'withdrawn', NO_PEER, null, null, bp, old);
      return;
    }
    let i = 0;
    while (i < list.length && list[i] !== peer) i += 2;
    if (i >= list.length) return;
    const oldA = list[i + 1] as number;
    list.splice(i, 2);
    if (list.length === 2) {
      this.multi.delete(id);
      const np = list[0] as number;
      const na = list[1] as number;
      this.bestPeer[id] = np;
      this.bestAttr[id] = na;
      this.step[id] = ONLY;
      if (np !== bp || na !== ba) {
        this.onBestChange?.(prefix, 'changed', np, this.table.get(na), 'only-path', bp, this.table.get(ba));
      }
    } else {
      this.reselect(prefix, id, list, bp, ba);
    }
    this.table.releaseId(oldA);
  }

  private reselect(prefix: P, id: number, list: number[], prevPeer: number, prevAttr: number): void {
    const paths: Path[] = [];
    for (let i = 0; i < list.length; i += 2) {
      paths.push({ peer: this.peers.get(list[i] as number), attrs: this.table.get(list[i + 1] as number) });
    }
    const { index, step } = selectBest(paths, this.ctx);
    const np = list[2 * index] as number;
    const na = list[2 * index + 1] as number;
    this.bestPeer[id] = np;
    this.bestAttr[id] = na;
    this.step[id] = STEP_CODE[step];
    if (np !== prevPeer || na !== prevAttr) {
      this.onBestChange?.(prefix, 'changed', np, this.table.get(na), step, prevPeer, this.table.get(prevAttr));
    }
  }

  private grow(n: number): void {
    this.bestPeer = growU16(this.bestPeer, n);
    this.bestAttr = growI32(this.bestAttr, n);
    this.step = growU8(this.step, n);
  }
}
