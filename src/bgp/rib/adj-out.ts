/*
 * Adj-RIB-Out of one family: every update group, by key (RFC 4271 §3.2; FRR update-groups / subgroups).
 *
 * Peers whose export is the same function of the Loc-RIB share one UpdateGroup (update-group.ts), found by the
 * key export.ts `groupKey` computes. This file keeps membership and the subgroups that let a group serve peers
 * whose view is momentarily different:
 *   - joining late: a peer joining a group that has already sent routes gets its own subgroup, seeded with the
 *     group's wanted state (a full table, no Loc-RIB walk, no policy re-run);
 *   - route refresh (RFC 2918): a subgroup that keeps what the peer was sent and re-sends everything wanted;
 *   - a peer whose key changes: a subgroup that keeps what it was sent, fed under the new key, withdrawing at
 *     `endFeed()` what the new export refuses.
 * Once a subgroup and the main group of its key both have nothing pending, their Adj-RIB-Outs are equal by
 * construction (they got the same `enqueue` stream since the fork) and the subgroup's members move to the main one.
 * Always enqueue through `AdjRibOut.enqueue(key, ...)`, so every subgroup of a key sees the same changes.
 */

import type { Family, Prefix4, Prefix6 } from '../types.js';
import type { AttrSet, AttrTable } from './attrs.js';
import { RibError } from './errors.js';
import { Prefix4Index, Prefix6Index, type PrefixIndex } from './prefix-index.js';
import { prefixBytes4, prefixBytes6, UpdateGroup, type Drained } from './update-group.js';

export { Drained, UpdateGroup, prefixBytes4, prefixBytes6 } from './update-group.js';
export type { Batch, MemberView } from './update-group.js';

/** All update groups of one family. */
export class AdjRibOut<P extends Prefix4 | Prefix6> {
  /** Subgroups by key; the first is the main one. */
  private readonly byKey = new Map<string, UpdateGroup<P>[]>();
  private readonly byPeer = new Map<number, UpdateGroup<P>>();
  private readonly prefixBytes: (p: P) => number;

  constructor(
    private readonly table: AttrTable,
    readonly family: Family,
  ) {
    this.prefixBytes = (family === 'ipv4' ? prefixBytes4 : prefixBytes6) as (p: P) => number;
  }

  static v4(table: AttrTable): AdjRibOut<Prefix4> {
    return new AdjRibOut<Prefix4>(table, 'ipv4');
  }

  static v6(table: AttrTable): AdjRibOut<Prefix6> {
    return new AdjRibOut<Prefix6>(table, 'ipv6');
  }

  /**
   * Adds a peer to the group for `key`. `needsFeed`: the group is new and empty — the caller exports the whole
   * Loc-RIB into it (`enqueue(key, ...)` for every best route). Otherwise the peer gets the table from the group
   * already there.
   */
  join(peer: number, key: string): { group: UpdateGroup<P>; needsFeed: boolean } {
    if (this.byPeer.has(peer)) throw new RibError('ALREADY_MEMBER', `peer ${peer} is already in an update group`);
    const list = this.byKey.get(key);
    if (list === undefined) {
      const g = this.newGroup(key);
      this.byKey.set(key, [g]);
      return { group: this.add(g, peer), needsFeed: true };
    }
    // A subgroup that has sent nothing yet is where a newcomer's view (nothing) already is.
    for (const g of list) if (g.advertised === 0) return { group: this.add(g, peer), needsFeed: false };
    const main = list[0] as UpdateGroup<P>;
    const g = main.fork('join');
    list.push(g);
    return { group: this.add(g, peer), needsFeed: false };
  }

  /** Removes a peer (session down). Its group goes away with its last member. */
  leave(peer: number): void {
    const g = this.byPeer.get(peer);
    if (g === undefined) return;
    this.byPeer.delete(peer);
    g.members.delete(peer);
    if (g.members.size > 0) return;
    const list = this.byKey.get(g.key) as UpdateGroup<P>[];
    list.splice(list.indexOf(g), 1);
    if (list.length === 0) this.byKey.delete(g.key);
    g.dispose();
  }

  /** RFC 2918 route refresh from `peer`: everything it should have is re-sent, in its own subgroup. */
  refresh(peer: number): UpdateGroup<P> | undefined {
    const g = this.byPeer.get(peer);
    if (g === undefined) return undefined;
    const r = g.fork('refresh');
    this.detach(peer, g);
    (this.byKey.get(g.key) ?? this.keyList(g.key)).push(r);
    return this.add(r, peer);
  }

  /**
   * Moves several peers at once (one policy change for a whole cluster's peers). Members of one group that go
   * to the same key move together, in ONE subgroup, so the caller's feed of that key reaches one subgroup per
   * old group instead of one per peer — moving them one by one fed k subgroups k times over. Each new subgroup
   * starts from what its peers were sent and is fed by the caller: `enqueue(newKey, ...)` for every best route,
   * then `endFeed(newKey)` withdraws whatever the new export no longer sends. A peer in no group just joins.
   */
  moveAll(moves: ReadonlyMap<number, string>): void {
    const together = new Map<UpdateGroup<P>, Map<string, number[]>>();
    for (const [peer, key] of moves) {
      const g = this.byPeer.get(peer);
      if (g === undefined) {
        this.join(peer, key);
        continue;
      }
      let byKey = together.get(g);
      if (byKey === undefined) together.set(g, (byKey = new Map()));
      const peers = byKey.get(key);
      if (peers === undefined) byKey.set(key, [peer]);
      else peers.push(peer);
    }
    for (const [g, byKey] of together) {
      for (const [key, peers] of byKey) {
        const m = g.fork('move', key);
        this.keyList(key).push(m);
        m.beginFeed();
        for (const peer of peers) {
          this.detach(peer, g);
          this.add(m, peer);
        }
      }
    }
  }

  /** Starts a full feed of `key` (after its export policy changed): see UpdateGroup.beginFeed. */
  beginFeed(key: string): void {
    for (const g of this.byKey.get(key) ?? []) g.beginFeed();
  }

  /** Ends the feed in every subgroup of `key` that runs one: what was not enqueued again is withdrawn. */
  endFeed(key: string): void {
    for (const g of this.byKey.get(key) ?? []) g.endFeed();
  }

  /** Hands one prefix's wanted outgoing state to every subgroup of `key`. */
  enqueue(key: string, prefix: P, attrs: AttrSet | null, src: number): void {
    const list = this.byKey.get(key);
    if (list === undefined) return;
    for (const g of list) g.enqueue(prefix, attrs, src);
  }

  /** Drains one group, then merges subgroups of its key that are in sync. */
  drain(group: UpdateGroup<P>, maxBytes = Infinity): Drained<P> {
    const d = group.drain(maxBytes);
    this.tryMerge(group.key);
    return d;
  }

  groupOf(peer: number): UpdateGroup<P> | undefined {
    return this.byPeer.get(peer);
  }

  /** Keys that have at least one group. */
  keys(): IterableIterator<string> {
    return this.byKey.keys();
  }

  /**
   * The live list of subgroups of `key` (mutated in place as subgroups come and go; replaced only when the key
   * disappears and comes back — re-read it after join/leave/refresh/move). Empty when the key has no group.
   */
  live(key: string): readonly UpdateGroup<P>[] {
    return this.byKey.get(key) ?? [];
  }

  groups(key?: string): UpdateGroup<P>[] {
    if (key !== undefined) return (this.byKey.get(key) ?? []).slice();
    return [...this.byKey.values()].flat();
  }

  bytes(): number {
    let n = 0;
    for (const g of this.groups()) n += g.bytes();
    return n;
  }

  private tryMerge(key: string): void {
    const list = this.byKey.get(key);
    if (list === undefined || list.length < 2) return;
    const main = list[0] as UpdateGroup<P>;
    if (main.pending !== 0 || main.isFeeding) return;
    for (let i = list.length - 1; i >= 1; i--) {
      const g = list[i] as UpdateGroup<P>;
      if (g.pending !== 0 || g.isFeeding) continue;
      for (const m of g.members) {
        main.members.add(m);
        this.byPeer.set(m, main);
      }
      g.members.clear();
      list.splice(i, 1);
      g.dispose();
    }
  }

  private detach(peer: number, g: UpdateGroup<P>): void {
    this.byPeer.delete(peer);
    g.members.delete(peer);
    if (g.members.size > 0) return;
    const list = this.byKey.get(g.key) as UpdateGroup<P>[];
    list.splice(list.indexOf(g), 1);
    if (list.length === 0) this.byKey.delete(g.key);
    g.dispose();
  }

  private keyList(key: string): UpdateGroup<P>[] {
    let list = this.byKey.get(key);
    if (list === undefined) this.byKey.set(key, (list = []));
    return list;
  }

  private newGroup(key: string): UpdateGroup<P> {
    const index = (this.family === 'ipv4' ? new Prefix4Index() : new Prefix6Index()) as unknown as PrefixIndex<P>;
    return new UpdateGroup<P>(key, this.table, index, this.prefixBytes);
  }

  private add(g: UpdateGroup<P>, peer: number): UpdateGroup<P> {
    g.members.add(peer);
    this.byPeer.set(peer, g);
    return g;
  }
}
