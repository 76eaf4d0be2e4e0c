/*
 * The RIB of one speaker: the pieces of this folder wired together, with no sockets and no timers.
 *
 *   UPDATE ─► checkImport (loops, eBGP stripping) ─► intern ─► import policy ─► max-prefix ─► Adj-RIB-In(peer)
 *          ─► Loc-RIB (decision) ─► best change ─► per update-group key: Exporter ─► AdjRibOut.enqueue
 *   socket writable ─► drain(group) ─► batches for the codec
 *
 * The speaker owns sessions and timers and calls in: `addPeer`, `peerUp` (joins update groups; a new group gets a
 * full feed from the Loc-RIB), `update` per received UPDATE, `endOfRib`, `peerDown` (graceful restart keeps the
 * routes as stale), `setOriginated` (the declarative set of local routes, STYLE.md 5), `drain`, and `collect()`
 * between messages (frees attribute sets nobody references any more).
 */

import { MaxPrefix, type MaxPrefixConfig, type Policy, type PolicyContext } from '../policy.js';
import type { Family, PathAttributes, Prefix4, Prefix6 } from '../types.js';
import { AdjRibIn } from './adj-in.js';
import { AdjRibOut, type Drained, type UpdateGroup } from './adj-out.js';
import { AttrTable, type AttrSet } from './attrs.js';
import { RibError } from './errors.js';
import type { DecisionOptions } from './decision.js';
import { checkImport, Exporter, groupKey, type ExportProfile, type ImportProfile } from './export.js';
import { LocRib, type BestListener } from './loc-rib.js';
import { LOCAL_PEER, PeerTable, type PeerInfo, type PeerSpec } from './peers.js';

/**
 * A best-path change as the RIB's user hears it, after export has been queued: `sent` says whether it left
 * something to send to a peer (an UPDATE or withdrawal now pending in an update group).
 */
export type RibBestListener<P> = (...args: [...Parameters<BestListener<P>>, sent: boolean]) => void;

export interface RibOptions {
  localAs: number;
  routerId: string;
  clusterId?: string;
  decision?: DecisionOptions;
  /** Hear best-path changes (for kernel programming), after export has been queued. */
  onBestChange4?: RibBestListener<Prefix4>;
  onBestChange6?: RibBestListener<Prefix6>;
}

/** Per-session export settings; the rest of the ExportProfile comes from the RIB and the peer. */
export type PeerExport = Omit<ExportProfile, 'kind' | 'rrClient' | 'localAs' | 'routerId' | 'clusterId' | 'defaultLocalPref'>;

export interface PeerConfig extends PeerSpec {
  allowOwnAs?: number;
  importPolicy?: Policy;
  maxPrefix?: MaxPrefixConfig;
  export: PeerExport;
}

export interface UpdateResult {
  accepted: number;
  /** Refused by import policy, by a loop check, or over a 'reject' max-prefix limit. */
  filtered: number;
  withdrawn: number;
  /** A 'teardown' max-prefix limit was hit: send Cease / Maximum Number of Prefixes Reached and drop the session. */
  teardown: boolean;
}

type P<F extends Family> = F extends 'ipv4' ? Prefix4 : Prefix6;

interface PeerState {
  info: PeerInfo;
  config: PeerConfig;
  importProfile: ImportProfile;
  maxPrefix: Record<Family, MaxPrefix | undefined>;
}

/** One update-group key in use: its exporter and its subgroups (a live view of AdjRibOut's list). */
interface ExportTarget<X extends Prefix4 | Prefix6> {
  key: string;
  exporter: Exporter;
  groups: readonly UpdateGroup<X>[];
}

/** The RIB of one family: Adj-RIBs-In by peer, the Loc-RIB, the Adj-RIB-Out and the exporters in use. */
export class FamilyRib<X extends Prefix4 | Prefix6> {
  readonly adjIn = new Map<number, AdjRibIn<X>>();
  readonly exporters = new Map<string, Exporter>();
  /** Rebuilt on membership changes, so the per-route export loop touches no Map. */
  targets: ExportTarget<X>[] = [];

  constructor(
    readonly family: Family,
    readonly loc: LocRib<X>,
    readonly out: AdjRibOut<X>,
    readonly newAdjIn: () => AdjRibIn<X>,
  ) {}

  retarget(): void {
    this.targets = [];
    for (const [key, exporter] of this.exporters) {
      const groups = this.out.live(key);
      if (groups.length === 0) this.exporters.delete(key);
      else this.targets.push({ key, exporter, groups });
    }
  }

  adj(peer: number): AdjRibIn<X> {
    let a = this.adjIn.get(peer);
    if (a === undefined) this.adjIn.set(peer, (a = this.newAdjIn()));
    return a;
  }
}

export class Rib {
  readonly attrs = new AttrTable();
  readonly peers: PeerTable;
  readonly v4: FamilyRib<Prefix4>;
  readonly v6: FamilyRib<Prefix6>;
  private readonly state = new Map<number, PeerState>();
  private readonly opts: RibOptions;

  constructor(opts: RibOptions) {
    this.opts = opts;
    this.peers = new PeerTable({ asn: opts.localAs, routerId: opts.routerId });
    const base = { attrs: this.attrs, peers: this.peers, ...(opts.decision ? { decision: opts.decision } : {}) };
    this.v4 = new FamilyRib('ipv4', LocRib.v4(base), AdjRibOut.v4(this.attrs), () => AdjRibIn.v4(this.attrs));
    this.v6 = new FamilyRib('ipv6', LocRib.v6(base), AdjRibOut.v6(this.attrs), () => AdjRibIn.v6(this.attrs));
    this.v4.loc.onBestChange = this.exportListener(this.v4, opts.onBestChange4);
    this.v6.loc.onBestChange = this.exportListener(this.v6, opts.onBestChange6);
  }

  family<F extends Family>(f: F): FamilyRib<P<F>> {
    return (f === 'ipv4' ? this.v4 : this.v6) as unknown as FamilyRib<P<F>>;
  }

  addPeer(config: PeerConfig): PeerInfo {
    const info = this.peers.add(config);
    const importProfile: ImportProfile = { localAs: this.opts.localAs, routerId: this.opts.routerId };
    if (this.opts.clusterId !== undefined) importProfile.clusterId = this.opts.clusterId;
    if (config.allowOwnAs !== undefined) importProfile.allowOwnAs = config.allowOwnAs;
    const mp = config.maxPrefix;
    this.state.set(info.index, {
      info,
      config,
      importProfile,
      maxPrefix: { ipv4: mp && new MaxPrefix(mp), ipv6: mp && new MaxPrefix(mp) },
    });
    return info;
  }

  /**
   * Facts learned when the session comes up (negotiated families, 4-octet AS, our address on the
   * connection for next hop self). Call before `peerUp`: they decide the peer's update group.
   */
  configureExport(index: number, patch: Partial<PeerExport>): void {
    Object.assign(this.stateOf(index).config.export, patch);
  }

  /**
   * A new export policy for a peer, without resetting its session (BIRD's soft reconfiguration):
   * an established peer moves to the update group of its new profile, fed the whole Loc-RIB under
   * the new policy; what it was sent and the new policy refuses is withdrawn (`endFeed`), what
   * is unchanged is not sent again. A peer that is down just uses it when it comes up.
   */
  /**
   * New export policies for several peers (the speaker's reconfiguration of a whole peer list): peers are moved
   * first and each new group key is fed once from the Loc-RIB, however many peers moved to it.
   */
  setExportPolicies(changes: readonly { index: number; policy: Policy | undefined }[]): void {
    for (const { index, policy } of changes) {
      const s = this.stateOf(index);
      if (policy) s.config.export.policy = policy;
      else delete s.config.export.policy;
    }
    for (const fr of [this.v4, this.v6] as FamilyRib<Prefix4 | Prefix6>[]) {
      const moves = new Map<number, string>();
      for (const { index } of changes) {
        if (fr.out.groupOf(index) === undefined) continue;
        const profile = this.exportProfile(index);
        const key = groupKey(profile);
        if (!fr.exporters.has(key)) fr.exporters.set(key, new Exporter(profile, this.attrs));
        moves.set(index, key);
      }
      if (moves.size === 0) continue;
      fr.out.moveAll(moves);
      fr.retarget();
      for (const key of new Set(moves.values())) {
        const exporter = fr.exporters.get(key) as Exporter;
        fr.loc.forEachBest((prefix, peer, attrs) => {
          fr.out.enqueue(key, prefix, exporter.export(fr.family, prefix, this.peers.get(peer), attrs), peer);
        });
        fr.out.endFeed(key);
      }
      fr.retarget();
    }
  }

  /** A new import policy: applies to routes received from now on (the caller asks the peer to re-send: ROUTE-REFRESH). */
  setImportPolicy(index: number, policy: Policy | undefined): void {
    const s = this.stateOf(index);
    if (policy) s.config.importPolicy = policy;
    else delete s.config.importPolicy;
  }

  /** The peer's BGP Identifier, learned from its OPEN (decision tie-break, reflection). */
  setRouterId(index: number, routerId: string): void {
    const s = this.stateOf(index);
    if (s.info.kind === 'local') return;
    s.info = this.peers.update(index, { kind: s.info.kind, asn: s.info.asn, routerId, address: s.info.address, rrClient: s.info.rrClient });
  }

  /** Forgets a peer: its routes are withdrawn and its index freed. */
  removePeer(index: number): void {
    this.peerDown(index);
    this.state.delete(index);
    this.peers.remove(index);
  }

  /** The export profile of a peer for update-group purposes. */
  exportProfile(index: number): ExportProfile {
    const s = this.stateOf(index);
    const p: ExportProfile = {
      ...s.config.export,
      kind: s.info.kind === 'ebgp' ? 'ebgp' : 'ibgp',
      rrClient: s.info.rrClient,
      localAs: this.opts.localAs,
      routerId: this.opts.routerId,
      defaultLocalPref: this.opts.decision?.defaultLocalPref ?? 100,
    };
    if (this.opts.clusterId !== undefined) p.clusterId = this.opts.clusterId;
    return p;
  }

  /** Session established: join the update group of each negotiated family (feeding a new group). */
  peerUp(index: number): void {
    const profile = this.exportProfile(index);
    for (const f of profile.families) this.joinGroup(this.family(f), index, profile);
  }

  /**
   * Session down. With `gracefulRestart` (RFC 4724 §4.2, we are the helper) the peer's routes stay, flagged
   * stale, until `endOfRib` (End-of-RIB, or the restart/stale timer the speaker runs); otherwise they are
   * withdrawn now.
   */
  peerDown(index: number, opts: { gracefulRestart?: boolean } = {}): void {
    const s = this.state.get(index);
    if (s === undefined) return;
    for (const fr of [this.v4, this.v6] as FamilyRib<Prefix4 | Prefix6>[]) {
      fr.out.leave(index);
      fr.retarget();
      const adj = fr.adjIn.get(index);
      if (adj === undefined) continue;
      if (opts.gracefulRestart === true) adj.markStale();
      else {
        adj.clear((prefix, prev) => prev !== null && fr.loc.update(prefix, index, null));
        fr.adjIn.delete(index);
      }
      s.maxPrefix[fr.family]?.reset();
    }
  }

  /** One received UPDATE for one family. */
  update<F extends Family>(
    index: number,
    family: F,
    announced: readonly P<F>[],
    attrs: PathAttributes | null,
    withdrawn: readonly P<F>[] = [],
  ): UpdateResult {
    const s = this.stateOf(index);
    const fr = this.family(family);
    const adj = fr.adj(index);
    const res: UpdateResult = { accepted: 0, filtered: 0, withdrawn: 0, teardown: false };
    for (const p of withdrawn) {
      const prev = adj.remove(p);
      if (prev === undefined) continue;
      res.withdrawn++;
      if (prev !== null) fr.loc.update(p, index, null);
    }
    if (announced.length === 0 || attrs === null) return res;
    const verdict = checkImport(s.info, attrs, s.importProfile);
    const set = verdict.ok ? this.attrs.intern(verdict.attrs) : null;
    const policy = s.config.importPolicy;
    const mp = s.maxPrefix[family];
    const ctx: PolicyContext = { family, direction: 'import', peerKind: s.info.kind === 'ebgp' ? 'ebgp' : 'ibgp', source: 'bgp' };
    for (const p of announced) {
      let acc: AttrSet | null = set;
      if (acc !== null && policy !== undefined) acc = policy.apply(p, acc, ctx, this.attrs);
      if (acc !== null && mp !== undefined && !adj.get(p)) {
        const v = mp.admit(adj.accepted);
        if (v === 'teardown') {
          res.teardown = true;
          return res;
        }
        if (v === 'reject') acc = null;
      }
      const prev = adj.set(p, acc);
      if (acc === null) res.filtered++;
      else res.accepted++;
      if (prev !== acc) fr.loc.update(p, index, acc);
    }
    return res;
  }

  /**
   * Enhanced route refresh (RFC 7313 §4) Beginning-of-RIB-Refresh from the peer: its routes go stale until the
   * End-of-RIB-Refresh (`endOfRib`).
   */
  beginRouteRefresh(index: number, family: Family): number {
    return this.family(family).adjIn.get(index)?.markStale() ?? 0;
  }

  /**
   * End-of-RIB (RFC 4724 §2), End-of-RIB-Refresh (RFC 7313), the restart or stale timer firing, or a restarted
   * peer that no longer preserves forwarding for the family: stale routes not re-advertised are withdrawn.
   */
  endOfRib(index: number, family: Family): number {
    const fr = this.family(family) as FamilyRib<Prefix4 | Prefix6>;
    const adj = fr.adjIn.get(index);
    if (adj === undefined) return 0;
    return adj.sweepStale((prefix, prev) => prev !== null && fr.loc.update(prefix, index, null));
  }

  /**
   * The whole set of locally originated routes of a family (declarative: what is absent is withdrawn).
   * Attributes typically carry ORIGIN IGP, an empty AS_PATH and our next hop.
   */
  setOriginated<F extends Family>(family: F, routes: ReadonlyMap<P<F>, PathAttributes>): void {
    const fr = this.family(family);
    const adj = fr.adj(LOCAL_PEER);
    const gone: P<F>[] = [];
    adj.forEach((prefix) => {
      if (!routes.has(prefix)) gone.push(prefix);
    });
    for (const p of gone) if (adj.remove(p)) fr.loc.update(p, LOCAL_PEER, null);
    for (const [p, a] of routes) {
      const set = this.attrs.intern(a);
      const prev = adj.set(p, set);
      if (prev !== set) fr.loc.update(p, LOCAL_PEER, set);
    }
  }

  groupOf(index: number, family: Family): UpdateGroup<Prefix4> | UpdateGroup<Prefix6> | undefined {
    return family === 'ipv4' ? this.v4.out.groupOf(index) : this.v6.out.groupOf(index);
  }

  /** Batches for a group (shared by its members; `Drained.for(peer)` gives one member's list). */
  drain<F extends Family>(family: F, group: UpdateGroup<P<F>>, maxBytes = Infinity): Drained<P<F>> {
    return this.family(family).out.drain(group, maxBytes);
  }

  /** RFC 2918 route refresh received from a peer: re-send it everything. */
  refresh(index: number, family: Family): void {
    const fr = this.family(family);
    fr.out.refresh(index);
    fr.retarget();
  }

  /** Frees attribute sets no longer referenced. Call between messages. */
  collect(): number {
    return this.attrs.collect();
  }

  /** What a `collect()` now could free at most (attribute sets whose count dropped to 0 since the last one). */
  get collectable(): number {
    return this.attrs.collectable;
  }

  private stateOf(index: number): PeerState {
    const s = this.state.get(index);
    if (s === undefined) throw new RibError('UNKNOWN_PEER', `no peer with index ${index}`);
    return s;
  }

  private joinGroup<X extends Prefix4 | Prefix6>(fr: FamilyRib<X>, index: number, profile: ExportProfile): void {
    const key = groupKey(profile);
    let ex = fr.exporters.get(key);
    if (ex === undefined) fr.exporters.set(key, (ex = new Exporter(profile, this.attrs)));
    const exporter = ex;
    // A group that left out its only member's own routes (exportListener) gets them now: the newcomer
    // shares or forks it, and must be sent them (and later their withdrawals).
    for (const g of fr.out.live(key)) {
      if (!g.lacksSourceRoutes) continue;
      g.lacksSourceRoutes = false;
      fr.loc.forEachBest((prefix, peer, attrs) => {
        if (g.members.has(peer)) g.enqueue(prefix, exporter.export(fr.family, prefix, this.peers.get(peer), attrs), peer);
      });
    }
    const { group, needsFeed } = fr.out.join(index, key);
    fr.retarget();
    if (!needsFeed) return;
    fr.loc.forEachBest((prefix, peer, attrs) => {
      group.enqueue(prefix, exporter.export(fr.family, prefix, this.peers.get(peer), attrs), peer);
    });
  }

  private exportListener<X extends Prefix4 | Prefix6>(fr: FamilyRib<X>, user: RibBestListener<X> | undefined): BestListener<X> {
    return (prefix, kind, peer, attrs, step, prevPeer, prevAttrs) => {
      const targets = fr.targets;
      let sent = false;
      if (targets.length > 0) {
        const src = attrs === null ? undefined : this.peers.get(peer);
        for (let t = 0; t < targets.length; t++) {
          const target = targets[t] as ExportTarget<X>;
          let out: AttrSet | null | undefined;
          const groups = target.groups;
          for (let g = 0; g < groups.length; g++) {
            const group = groups[g] as UpdateGroup<X>;
            // A group whose only member is the route's source never gets it (it never leaves the
            // index either): enqueueing null withdraws what it may have been sent, and costs
            // nothing for a prefix it never had — the common case of a feeding peer. The group
            // is then flagged: a peer joining later gets these routes from `joinGroup`. Only
            // while the key has a single group — subgroups of a key must see the same changes
            // to be merged (adj-out.ts), and a subgroup is short-lived anyway.
            if (attrs !== null && groups.length === 1 && group.members.size === 1 && group.members.has(peer)) {
              if (group.enqueue(prefix, null, peer)) sent = true;
              group.lacksSourceRoutes = true;
              continue;
            }
            if (out === undefined) out = src === undefined || attrs === null ? null : target.exporter.export(fr.family, prefix, src, attrs);
            if (group.enqueue(prefix, out, peer)) sent = true;
          }
        }
      }
      user?.(prefix, kind, peer, attrs, step, prevPeer, prevAttrs, sent);
    };
  }
}
