/**
 * The per-host agent: calico-node's confd + BIRD + the routing half of Felix in one process.
 *
 *   datastore watch ──► snapshot ──► routing.planBgp ──► make-before-break ──► speaker.setPeers / setOriginated
 *                                         │
 *   speaker 'best' events ──► learned ────┴──► routing.planDataplane ──► dataplane.apply (kernel)
 *
 * Everything is desired state: a datastore change (any key under /calico/) schedules one
 * re-read and re-plan (changes arriving together are coalesced); a best-route change schedules
 * one dataplane pass. Passes never overlap: a trigger during a pass runs one more pass after it.
 * Both plans are made by planners (routing.bgpPlanner, routing.dataplanePlanner) that read the
 * resources once: a change of IPAM blocks only — a pod's new block, here or elsewhere — is handed
 * to them as new blocks, and the kernel is told which routes that moved.
 *
 * Restart without loss: a graceful stop (SIGTERM) drops the BGP sessions without NOTIFICATION so
 * peers keep our routes as stale (graceful restart), leaves the kernel routes in place and
 * writes `<run-dir>/graceful-stop.json`. A start that finds that file (younger than the restart
 * time) starts the speaker as a restarting speaker (R bit, selection deferral), and the first
 * dataplane pass waits for the peers' End-of-RIB (bounded) so routes that are still good are
 * never removed and re-added.
 */
import { EventEmitter } from 'node:events';
import type { Client } from '../datastore/client.js';
import { watchKV, type KVWatcher } from '../datastore/watcher.js';
import type { Ipam } from '../ipam/ipam.js';
import { reconcileTunnelAddresses } from '../ipam/tunnel.js';
import type { OriginatedRoute, Speaker, SpeakerOptions, PeerStatus } from '../bgp/speaker.js';
import { bgpPlanner, dataplanePlanner, type BgpPlanner } from '../routing/index.js';
import type { DataplanePlanner } from '../routing/kernel.js';
import type { BgpPlan, DataplanePlan, HostFacts, KernelRoute, LearnedRoute, PlannedPeer, RoutingInput } from '../routing/types.js';
import { VERSION } from '../version.js';
import type { Logger } from './log.js';
import { nodeStatusFor, statusDue } from './nodestatus.js';
import { agentWakeTopics, eventRelevant, vxlanInUse } from './relevance.js';
import { BlockViews, isIpamKey, readSnapshot, sameBlocks, type Snapshot } from './snapshot.js';
import { IpamStore } from '../ipam/store.js';
import type { AgentPeerStatus, AgentStatus } from './status-types.js';
import { PeerTransition, peerKeyOf } from './transition.js';

/** appliedKey after a pass that programmed an updated plan: never equal to a plan's JSON. */
const UPDATED = 'updated';

export interface DataplaneLike {
  /**
   * `resync`: compare everything with the kernel (the periodic drift check), not only what changed.
   * `routes`: the plan is the previous call's except for the routes to these destinations (Dataplane's ApplyOptions).
   */
  apply(plan: DataplanePlan, opts?: { resync?: boolean; routes?: ReadonlyMap<string, Readonly<KernelRoute> | undefined> }): Promise<{ warnings?: string[] } | unknown>;
  close?(): Promise<void> | void;
}

export interface AgentHooks {
  /** A datastore change reached the kernel after `ms`. */
  converged?(ms: number): void;
  datastoreEvents?(n: number): void;
  dataplaneApplied?(ok: boolean): void;
  peersChanged?(peers: AgentPeerStatus[]): void;
  routesChanged?(counts: AgentStatus['routes'], originated: number): void;
  /** A dataplane plan was computed (the pod MTU follows from it). */
  planned?(plan: DataplanePlan, host: HostFacts): void;
}

export interface AgentOptions {
  client: Client;
  ipam: Ipam;
  nodeName: string;
  host: HostFacts;
  log: Logger;
  speakerFactory: (opts: SpeakerOptions) => Speaker;
  /** Undefined: control plane only (no kernel programming). */
  dataplane?: DataplaneLike;
  secret?: RoutingInput['secret'];
  routerIdEnv?: string;
  /** Start as a restarting speaker (graceful restart, RFC 4724 §4.1). */
  restarting?: boolean;
  /** Bound on the first dataplane pass waiting for the peers' routes (default 5 s). */
  initialSyncMs?: number;
  transition?: { maxWaitMs?: number; graceMs?: number };
  now?: () => number;
  hooks?: AgentHooks;
}

interface SpeakerIdentity {
  routerId: string;
  asNumber: number;
  listen: string;
  clusterId: string;
}

/**
 * How often the kernel is compared with the desired state when nothing changes (ms, on average): Felix's
 * routeRefreshInterval default. Each comparison dumps links and routes and runs `nft` twice; at 30 s, 50
 * agents on one machine did that 1.7 times a second and it showed in the convergence tails.
 */
export const DATAPLANE_CHECK_MS = 90_000;

/** How often the status writer looks while a CalicoNodeStatus asks about this node (updatePeriodSeconds ≥ 1). */
export const STATUS_ACTIVE_MS = 1000;
/** How often it looks for one while none does: a new CalicoNodeStatus is filled in within this much. */
export const STATUS_IDLE_MS = 5000;

export class Agent extends EventEmitter {
  private speaker: Speaker | undefined;
  private speakerId: SpeakerIdentity | undefined;
  private watcher: KVWatcher | undefined;
  private snapshot: Snapshot | undefined;
  private plan: BgpPlan | undefined;
  private readonly learned = new Map<string, LearnedRoute>();
  /** The kernel plan's datastore part for the current snapshot; learned routes go on top (routing.dataplanePlanner). */
  private planner: DataplanePlanner | undefined;
  /** The BGP plan's resource part for the current snapshot's resources; the blocks go on top (routing.bgpPlanner). */
  private bgpPlanner: BgpPlanner | undefined;
  /**
   * Learned prefixes changed since the last dataplane pass, when that pass planned from the same planner and
   * succeeded: the next pass updates the plan by them and tells the dataplane which routes moved. Undefined:
   * the next pass plans in full (new snapshot, failed pass, speaker restarted).
   */
  private dirty: Set<string> | undefined;
  private readonly transition: PeerTransition;
  private readonly now: () => number;
  private readonly startedAt: number;
  private stopped = false;
  private warned = new Set<string>();
  private tunnelKey = '';
  private recheckTimer: NodeJS.Timeout | undefined;
  private dataplaneReady: boolean;
  private readonly readyTimer: NodeJS.Timeout | undefined;
  private lastDataplane: DataplanePlan | undefined;
  private lastConvergenceMs: number | undefined;
  /** Oldest datastore change not yet programmed (ms since epoch). */
  private pendingChangeAt: number | undefined;
  private readonly resyncLoop: Serial;
  private readonly dataplaneLoop: Serial;
  private statusTimer: NodeJS.Timeout | undefined;
  /** The IPAM store the snapshot reads affinities and blocks through. */
  private readonly ipamStore: IpamStore;
  /** Decoded blocks kept between re-reads (snapshot.ts). */
  private readonly blockViews = new BlockViews();
  /**
   * Whether every change since the last re-read was to IPAM blocks or affinities (a pod's new block): the next
   * re-read then reads only those and keeps the snapshot's resources. Undefined: no change seen since.
   */
  private onlyIpamChanged: boolean | undefined;
  /** The peers last handed to the speaker, by key, with their JSON. */
  private appliedPeers = new Map<string, { json: string; peer: PlannedPeer }>();
  private lastReconfiguredAt: number;

  constructor(readonly opts: AgentOptions) {
    super();
    this.now = opts.now ?? Date.now;
    this.startedAt = this.now();
    this.ipamStore = new IpamStore(opts.client.kv);
    this.lastReconfiguredAt = this.startedAt;
    this.transition = new PeerTransition({ now: this.now, ...(opts.transition ?? {}) });
    this.resyncLoop = new Serial(() => this.resync(), (e) => this.fail('resync', e));
    // A pass starts as soon as the code that triggered it is done — the UPDATE that changed the best routes,
    // all of them — not after every other socket ready at the same time: the second reflector's copy of a
    // route, read in the same turn of the event loop, waits for the kernel rather than the other way round.
    // (Unless the change is being sent on as well: see the speaker's 'best' listener.)
    this.dataplaneLoop = new Serial(() => this.program(), (e) => this.fail('dataplane', e), 'microtask');
    this.dataplaneReady = !opts.dataplane;
    if (opts.dataplane) {
      this.readyTimer = setTimeout(() => this.markReady('initial sync time bound reached'), opts.initialSyncMs ?? 5000);
      this.readyTimer.unref();
    }
  }

  private fail(what: string, e: unknown): void {
    this.opts.log('error', `${what} failed: ${(e as Error).message}`, { error: String((e as Error).stack ?? e) });
  }

  /** Reads the datastore, configures BGP and starts watching. */
  async start(): Promise<void> {
    // Woken (on SQLite) only by commits of the topics it acts on; the snapshot may widen them (VXLAN).
    const w = watchKV(this.opts.client.kv, '/calico/', { wake: agentWakeTopics({ node: this.opts.nodeName, vxlan: true }) });
    this.watcher = w;
    await w.ready;
    await this.resync(); // the first pass throws: an agent that cannot configure itself must not run
    void (async () => {
      try {
        for await (const batch of w) {
          if (this.stopped) return;
          this.opts.hooks?.datastoreEvents?.(batch.length);
          const ctx = { node: this.opts.nodeName, vxlan: this.snapshot ? vxlanInUse(this.snapshot.ipPools, this.snapshot.felixConfigurations ?? []) : true };
          let relevant = false;
          let ipamOnly = true;
          for (const ev of batch) {
            if (!eventRelevant(ev, ctx)) continue;
            relevant = true;
            if (!isIpamKey(ev.key)) ipamOnly = false;
          }
          if (!relevant) continue;
          this.onlyIpamChanged = (this.onlyIpamChanged ?? true) && ipamOnly;
          this.pendingChangeAt ??= this.now();
          this.resyncLoop.trigger();
        }
      } catch (e) {
        if (!this.stopped) this.fail('datastore watch', e);
      }
    })();
    this.scheduleStatus(STATUS_ACTIVE_MS);
    // A full dataplane pass at least this often, even when nothing changed (drift repair).
    this.scheduleCheck();
  }

  /** The status writer's next look, `ms` from now (an unref'd timer: it never keeps the process alive). */
  private scheduleStatus(ms: number): void {
    if (this.stopped) return;
    this.statusTimer = setTimeout(() => {
      this.writeNodeStatuses().then(
        (next) => this.scheduleStatus(next),
        (e) => {
          this.fail('CalicoNodeStatus update', e);
          this.scheduleStatus(STATUS_ACTIVE_MS);
        },
      );
    }, ms);
    this.statusTimer.unref();
  }

  /**
   * Refreshes the CalicoNodeStatus resources that ask about this node and are due. Returns when to look again:
   * every second while one asks about this node (the shortest updatePeriodSeconds), every STATUS_IDLE_MS while
   * none does — the list was an idle agent's most frequent read, for a resource most clusters never create.
   */
  async writeNodeStatuses(): Promise<number> {
    if (this.stopped) return STATUS_IDLE_MS;
    const now = new Date(this.now());
    const all = (await this.opts.client.list('CalicoNodeStatus')).items;
    let mine = 0;
    for (const r of all) {
      const spec = (r.spec ?? {}) as { node?: string; classes?: string[]; updatePeriodSeconds?: number };
      if (spec.node !== this.opts.nodeName) continue;
      mine++;
      const last = (r.status as { lastUpdated?: string } | undefined)?.lastUpdated;
      if (!statusDue(spec, last, now)) continue;
      const peers = this.peerStatus();
      const types = new Map(peers.map((p) => [p.address, p.type]));
      const routes = (this.speaker?.routes() ?? []).map((e) => {
        const rf = { prefix: e.prefix, nextHop: e.nextHop, best: e.best, from: e.from } as import('./nodestatus.js').RouteFacts;
        const t = types.get(e.from);
        if (t) rf.peerType = t;
        return rf;
      });
      const status = nodeStatusFor(spec.classes ?? [], {
        now,
        version: VERSION,
        routerId: this.plan?.routerId ?? '',
        enabled: !!this.speaker,
        startedAt: new Date(this.startedAt),
        lastReconfiguredAt: new Date(this.lastReconfiguredAt),
        peers,
        routes,
      });
      try {
        await this.opts.client.update({ ...r, status });
      } catch (e) {
        if ((e as { code?: string }).code !== 'UPDATE_CONFLICT') throw e;
      }
    }
    return mine > 0 ? STATUS_ACTIVE_MS : STATUS_IDLE_MS;
  }

  /** Re-reads configuration now (SIGHUP). */
  reload(): Promise<void> {
    this.onlyIpamChanged = false;
    this.pendingChangeAt ??= this.now();
    return this.resyncLoop.run();
  }

  private async resync(): Promise<void> {
    if (this.stopped) return;
    const client = this.opts.client;
    const t0 = performance.now();
    const reuse = this.onlyIpamChanged === true ? this.snapshot : undefined;
    this.onlyIpamChanged = undefined;
    let snap = await readSnapshot(client, this.ipamStore, this.blockViews, reuse);
    const t1 = performance.now();
    if (reuse && sameBlocks(reuse.blocks, snap.blocks)) {
      // IPAM writes that change nothing routing reads — a claim's pending affinity before its block exists, an
      // address of this node's own block assigned or released: nothing to plan, configure or program.
      this.snapshot = snap;
      const changeAt = this.pendingChangeAt;
      this.pendingChangeAt = undefined;
      if (changeAt !== undefined) this.opts.hooks?.converged?.(this.now() - changeAt);
      return;
    }
    // IPAM writes only: the resources are the last snapshot's, and only the blocks moved.
    const kept = reuse !== undefined;
    if (!kept) {
      // Tunnel addresses follow the pools and this node's labels (allocateip runs on such changes).
      const me = snap.nodes.find((n) => n.metadata.name === this.opts.nodeName);
      const key = JSON.stringify([snap.ipPools.map((p) => [p.metadata.name, p.spec]), me?.metadata.labels, me?.spec]);
      if (me && key !== this.tunnelKey) {
        const r = await reconcileTunnelAddresses(client, this.opts.ipam, this.opts.nodeName);
        if (r.updated) {
          this.opts.log('info', 'tunnel addresses updated', { addresses: r.addresses });
          snap = await readSnapshot(client, this.ipamStore, this.blockViews);
        }
        const me2 = snap.nodes.find((n) => n.metadata.name === this.opts.nodeName);
        this.tunnelKey = JSON.stringify([snap.ipPools.map((p) => [p.metadata.name, p.spec]), me2?.metadata.labels, me2?.spec]);
      }
      this.watcher?.setWake(agentWakeTopics({ node: this.opts.nodeName, vxlan: vxlanInUse(snap.ipPools, snap.felixConfigurations ?? []) }));
    }
    this.snapshot = snap;
    // The planners keep what the resources decide and take the new blocks; new resources, new planners.
    // (A password file is therefore read again on a configuration change or a reload, not on a pod's block.)
    if (kept && this.planner) this.planner.setBlocks(snap.blocks, this.learned);
    else {
      this.planner = undefined;
      this.dirty = undefined;
    }
    if (!kept || !this.bgpPlanner) this.bgpPlanner = bgpPlanner(this.input());
    const planner = this.bgpPlanner;
    this.lastReconfiguredAt = this.now();
    if (kept && this.speaker && this.plan?.enabled) {
      // This node's blocks moved (a pod's new block, an emptied one released): the routes it originates go to
      // the speaker first, and its sending tick (an immediate) runs before the sessions are planned and the
      // peers reconfigured — ≈1 ms that used to stand between the block and its UPDATE. The peers' export
      // policies name this node's blocks (calico_aggr) and change a tick later; until then the policy in
      // force decides a new block's route as the new one would (inside its pool: accepted), and a withdrawn
      // route needs no policy.
      const early = planner.originated(snap.blocks);
      if (early && !sameOriginated(early, this.plan.originated)) {
        this.speaker.setOriginated(early);
        await new Promise((r) => setImmediate(r));
        if (this.stopped) return;
      }
    }
    const plan = planner(snap.blocks);
    this.plan = plan;
    for (const w of plan.warnings) {
      if (!this.warned.has(w)) this.opts.log('warning', w, { node: this.opts.nodeName });
    }
    this.warned = new Set(plan.warnings);
    const t2 = performance.now();
    await this.configureSpeaker(plan);
    if (this.opts.log.enabled?.('debug') !== false) {
      this.opts.log('debug', 'resync', { ipamOnly: reuse !== undefined, readMs: +(t1 - t0).toFixed(1), planMs: +(t2 - t1).toFixed(1), speakerMs: +(performance.now() - t2).toFixed(1), originated: plan.originated.length });
    }
    // After the speaker's kick (an immediate queued by setOriginated): a block this node now originates goes
    // to the peers, who wait for it, before its blackhole goes into this kernel, where nothing waits for it
    // (the pods' own /32 routes come from the CNI plugin). A learned route keeps the microtask start.
    this.dataplaneLoop.trigger('immediate');
  }

  private input(): RoutingInput {
    const i: RoutingInput = { nodeName: this.opts.nodeName, ...this.snapshot! };
    if (this.opts.secret) i.secret = this.opts.secret;
    if (this.opts.routerIdEnv) i.routerIdEnv = this.opts.routerIdEnv;
    return i;
  }

  private async configureSpeaker(plan: BgpPlan): Promise<void> {
    const id: SpeakerIdentity = {
      routerId: plan.routerId,
      asNumber: plan.asNumber,
      listen: `${plan.listen.address ?? ''}|${plan.listen.port}`,
      clusterId: plan.clusterId ?? '',
    };
    if (!plan.enabled) {
      if (this.speaker) await this.closeSpeaker('BGP disabled on this node (no IPv4 or IPv6 address)');
      return;
    }
    if (this.speaker && JSON.stringify(id) !== JSON.stringify(this.speakerId)) {
      await this.closeSpeaker('router id, AS, listen address or cluster id changed');
    }
    if (!this.speaker) {
      const so: SpeakerOptions = {
        routerId: plan.routerId,
        asNumber: plan.asNumber,
        listen: { address: plan.listen.address ?? '::', port: plan.listen.port },
      };
      if (plan.clusterId) so.clusterId = plan.clusterId;
      if (this.opts.restarting) so.restarting = { graceMs: 3000, deferralMs: 10_000 };
      const sp = this.opts.speakerFactory(so);
      sp.on('best', (ev: { prefix: string; kind: string; nextHop?: string; from?: string; sent?: true }) => {
        const before = this.learned.get(ev.prefix);
        if (ev.kind === 'withdrawn') {
          if (!before) return;
          this.learned.delete(ev.prefix);
        } else {
          const now = { prefix: ev.prefix, nextHop: ev.nextHop ?? '', from: ev.from ?? '' };
          this.learned.set(ev.prefix, now);
          // The kernel plan depends on a learned route's prefix, next hop and whether it is our own, not on
          // the peer: the second reflector's copy (the best path moving to it) changes nothing to program.
          if (before && before.nextHop === now.nextHop && (before.from === 'local') === (now.from === 'local')) return;
        }
        this.dirty?.add(ev.prefix);
        // This node's own route that the speaker also sends is planned after those UPDATEs are written (the
        // speaker's tick is queued first): it puts nothing in this node's kernel, the peers need it. A
        // route learned from a peer — a reflector's too, which it also reflects — goes to the kernel first, as
        // BIRD does: after its fan-out a reflector would wait for a core behind every client it just woke.
        this.dataplaneLoop.trigger(ev.sent && ev.from === 'local' ? 'immediate' : undefined);
      });
      sp.on('peer', (ev: { address: string; state: string }) => {
        this.opts.log('info', `BGP peer ${ev.address} is ${ev.state}`, { peer: ev.address, state: ev.state });
        this.scheduleRecheck(0);
        this.opts.hooks?.peersChanged?.(this.peerStatus());
      });
      sp.on('deferralEnd', () => this.markReady('peers sent their routes'));
      try {
        await sp.start();
      } catch (e) {
        await sp.close();
        throw new Error(`cannot listen for BGP on ${plan.listen.address ?? '*'} port ${plan.listen.port}: ${(e as Error).message}`);
      }
      this.speaker = sp;
      this.speakerId = id;
      this.opts.log('info', 'BGP speaker started', { routerId: plan.routerId, as: plan.asNumber, port: plan.listen.port, clusterId: plan.clusterId });
    }
    this.applyPeers();
    this.speaker.setOriginated(plan.originated);
  }

  private async closeSpeaker(why: string): Promise<void> {
    const sp = this.speaker!;
    this.speaker = undefined;
    this.speakerId = undefined;
    this.learned.clear();
    this.dirty = undefined;
    this.opts.log('info', `restarting the BGP speaker: ${why}`);
    await sp.close();
  }

  /** Peers through make-before-break; re-run on peer events and on a timer while a change is in flight. */
  private applyPeers(): void {
    const sp = this.speaker;
    if (!sp || !this.plan) return;
    const byKey = new Map(sp.status().map((s) => [peerKeyOf(s), s]));
    const res = this.transition.update(this.plan.peers, (k) => {
      const s = byKey.get(k);
      if (!s) return undefined;
      const fams = s.negotiated?.families ?? [];
      return { established: s.established, routesIn: s.established && fams.every((f) => s.eorReceived.includes(f)) };
    });
    if (res.lingering.length) {
      this.opts.log('info', 'keeping removed peers until the new peers have delivered their routes', { lingering: res.lingering, waitingFor: res.waitingFor });
    }
    const before = this.appliedPeers;
    this.appliedPeers = new Map(res.peers.map((p) => [peerKeyOf(p), { json: JSON.stringify(p), peer: p }]));
    // (An origin's export policies change with every block it gains or loses: whether anything else changed is
    // the same comparison without them, made from the peers kept, not by parsing their JSON again.)
    const bare = (p: PlannedPeer) => JSON.stringify({ ...p, import: undefined, export: undefined });
    for (const [k, now] of this.appliedPeers) {
      const old = before.get(k);
      if (old === undefined) this.opts.log('info', `BGP peer ${k} configured`, { peer: k });
      else if (old.json !== now.json) {
        if (bare(old.peer) === bare(now.peer)) this.opts.log('debug', `BGP peer ${k}: policies updated in place`, { peer: k });
        else this.opts.log('info', `BGP peer ${k} reconfigured: its session restarts`, { peer: k, before: JSON.parse(old.json), after: JSON.parse(now.json) });
      }
    }
    for (const k of before.keys()) if (!this.appliedPeers.has(k)) this.opts.log('info', `BGP peer ${k} removed`, { peer: k });
    sp.setPeers(res.peers);
    if (res.recheckMs !== undefined) this.scheduleRecheck(res.recheckMs);
    if (!this.dataplaneReady && this.initialSyncDone(sp.status())) this.markReady('every peer sent End-of-RIB');
  }

  private scheduleRecheck(ms: number): void {
    if (this.recheckTimer || this.stopped) return;
    this.recheckTimer = setTimeout(() => {
      this.recheckTimer = undefined;
      this.applyPeers();
    }, ms);
    this.recheckTimer.unref();
  }

  private initialSyncDone(st: PeerStatus[]): boolean {
    if (this.speaker?.deferringSelection) return false;
    return st.every((s) => s.established && (s.negotiated?.families ?? []).every((f) => s.eorReceived.includes(f)));
  }

  private markReady(why: string): void {
    if (this.dataplaneReady) return;
    this.dataplaneReady = true;
    if (this.readyTimer) clearTimeout(this.readyTimer);
    this.opts.log('info', `programming the kernel: ${why}`);
    this.dataplaneLoop.trigger();
  }

  private async program(): Promise<void> {
    if (this.stopped || !this.snapshot || !this.opts.dataplane || !this.dataplaneReady) return;
    const changeAt = this.pendingChangeAt;
    this.pendingChangeAt = undefined;
    const check = this.checkDue;
    this.checkDue = false;
    const t0 = performance.now();
    const changed = this.dirty;
    this.dirty = new Set();
    // Learned routes moved since a successful pass (a pod block came or went somewhere in the cluster):
    // the plan is updated by them and the dataplane told which routes to look at.
    const u = !check && changed && this.planner && this.appliedKey !== '' ? this.planner.update(this.learned, changed) : undefined;
    this.planner ??= dataplanePlanner(this.input(), this.opts.host);
    const plan = u?.plan ?? this.planner(this.learned.values());
    const t1 = performance.now();
    this.lastDataplane = plan;
    this.opts.hooks?.planned?.(plan, this.opts.host);
    // The same desired state as the last successful pass: nothing to do. The kernel is still
    // compared with it every DATAPLANE_CHECK_MS (a resync pass), so drift is repaired.
    const key = u ? UPDATED : JSON.stringify(plan);
    if ((u ? u.changes.size === 0 : key === this.appliedKey) && !check) {
      if (changeAt !== undefined) {
        this.lastConvergenceMs = this.now() - changeAt;
        this.opts.hooks?.converged?.(this.lastConvergenceMs);
      }
      return;
    }
    try {
      const rep = (await this.opts.dataplane.apply(plan, check ? { resync: true } : u ? { routes: u.changes } : {})) as { warnings?: string[]; errors?: string[]; ok?: boolean; changes?: number; pass?: string } | undefined;
      if (this.opts.log.enabled?.('debug') !== false) {
        this.opts.log('debug', 'dataplane pass', { pass: rep?.pass, planMs: +(t1 - t0).toFixed(1), applyMs: +(performance.now() - t1).toFixed(1), changes: rep?.changes, routes: plan.routes.length });
      }
      for (const w of rep?.warnings ?? []) this.opts.log('warning', w);
      if (rep?.ok === false) {
        // Some kernel operations failed: the rest is in place; try the whole plan again shortly.
        this.opts.log('error', 'some kernel changes failed; retrying in 1 s', { errors: rep.errors });
        this.opts.hooks?.dataplaneApplied?.(false);
        this.appliedKey = '';
        this.dirty = undefined;
        this.scheduleRetry();
        return;
      }
      this.appliedKey = key;
      this.opts.hooks?.dataplaneApplied?.(true);
    } catch (e) {
      this.appliedKey = '';
      this.dirty = undefined;
      this.opts.hooks?.dataplaneApplied?.(false);
      throw e;
    }
    if (changeAt !== undefined) {
      this.lastConvergenceMs = this.now() - changeAt;
      this.opts.hooks?.converged?.(this.lastConvergenceMs);
    }
    this.opts.hooks?.routesChanged?.(this.routeCounts(), this.plan?.originated.length ?? 0);
    this.emit('programmed', plan);
  }

  private retryTimer: NodeJS.Timeout | undefined;
  /** The plan of the last successful pass as JSON, UPDATED after an updated plan, '' after a failure (see program). */
  private appliedKey = '';
  /** The periodic check is due: the next pass is a resync even if the plan did not change. */
  private checkDue = false;
  private checkTimer: NodeJS.Timeout | undefined;

  /**
   * The periodic full comparison with the kernel, 45–135 s apart (90 s on average): agents started together (a
   * node pool booting, a lab) must not all dump their kernels in the same second for ever after.
   */
  private scheduleCheck(): void {
    if (this.stopped) return;
    this.checkTimer = setTimeout(() => {
      this.checkDue = true;
      this.dataplaneLoop.trigger();
      this.scheduleCheck();
    }, DATAPLANE_CHECK_MS * (0.5 + Math.random()));
    this.checkTimer.unref();
  }

  private scheduleRetry(): void {
    if (this.retryTimer || this.stopped) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.dataplaneLoop.trigger();
    }, 1000);
    this.retryTimer.unref();
  }

  private routeCounts(): AgentStatus['routes'] {
    const c = { bgp: 0, vxlan: 0, blackhole: 0 };
    for (const r of this.lastDataplane?.routes ?? []) {
      if (r.type === 'blackhole') c.blackhole++;
      else if (r.dev === 'vxlan.calico') c.vxlan++;
      else c.bgp++;
    }
    return c;
  }

  peerStatus(): AgentPeerStatus[] {
    const sp = this.speaker;
    if (!sp) return [];
    const planned = new Map<string, PlannedPeer>((this.plan?.peers ?? []).map((p) => [peerKeyOf(p), p]));
    return sp.status().map((s) => {
      const p = planned.get(peerKeyOf(s));
      const name = s.name ?? p?.name ?? `Node_${s.address.replace(/[.:]/g, '_')}`;
      const type = (p?.type ?? (/^(Mesh|Node|Global)_/.exec(name)?.[1] as AgentPeerStatus['type'] | undefined) ?? 'Node') as AgentPeerStatus['type'];
      const st: AgentPeerStatus = {
        name,
        type,
        address: s.address,
        port: s.port,
        family: s.address.includes(':') ? 'ipv6' : 'ipv4',
        asNumber: s.asNumber,
        state: s.established ? 'up' : p ? 'start' : 'down',
        bgpState: s.state,
        since: s.since,
        info: s.established || !s.lastError ? s.state : `${s.state} ${s.lastError}`,
        prefixes: s.prefixes,
      };
      if (s.lastError) st.lastError = s.lastError;
      return st;
    });
  }

  status(): AgentStatus {
    const st: AgentStatus = {
      node: this.opts.nodeName,
      version: VERSION,
      pid: process.pid,
      startedAt: this.startedAt,
      bgp: {
        enabled: this.plan?.enabled ?? false,
        routerId: this.plan?.routerId ?? '',
        asNumber: this.plan?.asNumber ?? 0,
        peers: this.peerStatus(),
      },
      routes: this.routeCounts(),
      warnings: this.plan?.warnings ?? [],
    };
    if (this.plan?.clusterId) st.bgp.clusterId = this.plan.clusterId;
    if (this.lastConvergenceMs !== undefined) st.lastConvergenceMs = this.lastConvergenceMs;
    return st;
  }

  routes(prefix?: string): unknown {
    return this.speaker?.routes(prefix) ?? [];
  }

  /** The last kernel plan (tests, `tortie node status -o json` extensions). */
  get dataplanePlan(): DataplanePlan | undefined {
    return this.lastDataplane;
  }

  /**
   * Stops. `graceful` (SIGTERM): sessions dropped without NOTIFICATION so peers keep our routes
   * (graceful restart) and the kernel is left as it is, so forwarding continues while we are away.
   */
  async stop(opts: { graceful?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.recheckTimer) clearTimeout(this.recheckTimer);
    if (this.readyTimer) clearTimeout(this.readyTimer);
    if (this.statusTimer) clearTimeout(this.statusTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.checkTimer) clearTimeout(this.checkTimer);
    this.watcher?.close();
    await this.resyncLoop.idle();
    await this.dataplaneLoop.idle();
    if (this.speaker) await this.speaker.close({ graceful: opts.graceful ?? false });
    this.speaker = undefined;
    await this.opts.dataplane?.close?.();
  }
}

/**
 * Runs `fn` one at a time: `trigger()` during a run asks for exactly one more run after it.
 * `run()` waits for a run that starts after the call. Triggers made together coalesce into one run:
 * with `coalesce` 'immediate', those of the same turn of the event loop (every callback ready in it);
 * with 'microtask', those of the same piece of synchronous code.
 */
export class Serial {
  private running: Promise<void> | undefined;
  private again = false;
  private waiters: (() => void)[] = [];

  constructor(
    private readonly fn: () => Promise<void>,
    private readonly onError: (e: unknown) => void,
    private readonly coalesce: 'immediate' | 'microtask' = 'immediate',
  ) {}

  /**
   * Runs fn soon (again, if it is running now). `after: 'immediate'` starts a run that is not already
   * under way after the callbacks queued so far (setImmediate), whatever the coalescing mode.
   */
  trigger(after?: 'immediate'): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop(after ?? this.coalesce);
  }

  run(): Promise<void> {
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.trigger();
    });
  }

  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async loop(start: 'immediate' | 'microtask'): Promise<void> {
    // Let the triggers made together coalesce into this run.
    if (start === 'immediate') await new Promise((r) => setImmediate(r));
    else await Promise.resolve();
    try {
      do {
        this.again = false;
        const waiting = this.waiters;
        this.waiters = [];
        try {
          await this.fn();
        } catch (e) {
          this.onError(e);
        }
        for (const w of waiting) w();
      } while (this.again || this.waiters.length);
    } finally {
      this.running = undefined;
    }
  }
}

/** Whether two lists of originated routes say the same, in order (both come out of routing's originatedRoutes, sorted). */
function sameOriginated(a: readonly OriginatedRoute[], b: readonly OriginatedRoute[]): boolean {
  return a.length === b.length && a.every((r, i) => JSON.stringify(r) === JSON.stringify(b[i]));
}
