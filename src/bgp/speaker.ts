/**
 * The speaker: tortie's BGP engine as one object with a declarative edge (STYLE.md 5).
 * `setPeers(list)` and `setOriginated(routes)` take the whole desired set; the speaker diffs and
 * converges — new peers come up, removed peers are closed with Cease/Peer De-configured, changed
 * peers are reset with Cease/Other Configuration Change, unchanged peers are left alone.
 *
 * It wires the session drivers (`session.ts`), the RIB (`rib/`) and the codec (`wire/`):
 *  - received UPDATEs go to the RIB; best-path changes are queued per update group;
 *  - a group is drained ONCE when any member's socket can take data, the batches encoded once
 *    (cached per batch object) and queued to every member (update groups, FRR-style);
 *  - after a peer's initial table has gone out, End-of-RIB per family (RFC 4724 §2);
 *  - graceful restart, helper role (RFC 4724 §4.2): a restarting peer's routes stay as stale
 *    until its End-of-RIB or the restart time, then the rest are swept.
 * Events: 'best' (best-route changes, for the dataplane) and 'peer' (session state changes).
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { networkInterfaces } from 'node:os';
import { IP, Prefix } from '../net/index.js';
import { Rib, type PeerConfig as RibPeerConfig } from './rib/rib.js';
import type { AttrSet } from './rib/attrs.js';
import type { Batch } from './rib/update-group.js';
import type { UpdateGroup } from './rib/update-group.js';
import { LOCAL_PEER } from './rib/peers.js';
import type { StepName } from './rib/decision.js';
import type { DecisionOptions } from './rib/decision.js';
import { Policy, maxPrefixNotificationData, type MaxPrefixConfig, type PolicyDefinition } from './policy.js';
import { Session, type SessionDeps, type SocketLike, type DownInfo } from './session.js';
import { connectReading, readingAccepted } from './socket-read.js';
import type { FsmConfig } from './fsm-types.js';
import { WireError, encodeEndOfRib, encodeRouteRefresh, encodeUpdates, type WireContext } from './wire/index.js';
import { CEASE } from './wire/constants.js';
import { ORIGIN, p4, p4addr, p4len, type Family, type Negotiated, type PathAttributes, type Prefix4, type Prefix6 } from './types.js';
import { v4Format } from '../net/index.js';
import { BgpConfigError } from './errors.js';
import { connectMd5, md5Available, nativeDup, serverFd, setListenerKey } from './tcp-md5.js';

export type NextHopMode = 'auto' | 'self' | 'keep';

export interface PeerSpec {
  address: string;
  port?: number;
  asNumber: number;
  /** Our AS on this session (BGPPeer localASNumber); default the speaker's. */
  localAs?: number;
  localAddress?: string;
  passive?: boolean;
  routeReflectorClient?: boolean;
  nextHopMode?: NextHopMode;
  /** Seconds; 0 disables keepalives. Default 90. */
  holdTime?: number;
  keepaliveTime?: number;
  gracefulRestart?: { restartTime: number } | false;
  password?: string;
  families?: Family[];
  import?: PolicyDefinition;
  export?: PolicyDefinition;
  maxPrefixes?: MaxPrefixConfig;
  /** BIRD `allow local as N`: accept routes with our AS in the path up to N times. */
  allowLocalAs?: number;
  name?: string;
}

export interface OriginatedRoute {
  /** `10.244.1.0/26`, `fd00:1::/64` */
  prefix: string;
  /** Default: our address on each session. */
  nextHop?: string;
  /** `65000:100`, a number, or a well-known name (`no-export`, `no-advertise`). */
  communities?: (string | number)[];
  /** `asn:data1:data2` */
  largeCommunities?: string[];
  med?: number;
  localPref?: number;
}

export interface SpeakerOptions {
  routerId: string;
  asNumber: number;
  /** Where to accept connections; `false` for none. Default 0.0.0.0:179. */
  listen?: { address?: string; port?: number } | false;
  /** Route reflector cluster id (RFC 4456); default the router id when we have clients. */
  clusterId?: string;
  /** Graceful restart we advertise (RFC 4724). Default: restart time 120 s. */
  gracefulRestart?: { restartTime: number } | false;
  /**
   * We are restarting with forwarding preserved (RFC 4724 §4.1, restarting speaker): the R bit is
   * set, and our UPDATEs and End-of-RIB are held until the peers that come back have sent their
   * End-of-RIB — selection deferral — bounded: peers still down after `graceMs` (default 3 s) are
   * not waited for, and the whole wait ends after `deferralMs` (default 30 s) whatever happens.
   */
  restarting?: boolean | { graceMs?: number; deferralMs?: number };
  decision?: DecisionOptions;
  deps?: Partial<SpeakerDeps>;
}

export interface SpeakerDeps extends SessionDeps {
  listen(opts: { address: string; port: number }, onConnection: (s: net.Socket) => void): Promise<Listener>;
  /** The CIDR of the local interface holding `address` (`10.0.0.1/24`), if any: the subnet shared with a directly connected peer. */
  interfaceSubnet?(address: string): string | undefined;
}

export interface Listener {
  /** Stops listening; resolves once the port is free again (a new speaker may bind it at once). */
  close(): void | Promise<void>;
  port: number;
  /** Sets or (with '') removes a peer's TCP MD5 key on the listening socket. */
  setKey?(peer: string, key: string): void;
}

export interface PeerStatus {
  address: string;
  port: number;
  name?: string;
  asNumber: number;
  localAs: number;
  state: string;
  /** ms since epoch when the state was entered. */
  since: number;
  established: boolean;
  lastError?: string;
  prefixes: { received: number; accepted: number; advertised: number };
  negotiated?: Negotiated;
  routeReflectorClient: boolean;
  /** Families whose End-of-RIB the peer has sent since its session came up (its initial table is in). */
  eorReceived: Family[];
}

export interface RouteEntry {
  prefix: string;
  family: Family;
  nextHop: string;
  asPath: number[];
  origin: 'IGP' | 'EGP' | 'INCOMPLETE';
  localPref?: number;
  med?: number;
  communities: string[];
  largeCommunities: string[];
  best: boolean;
  /** Peer address, or `local` for our own routes. */
  from: string;
  /** For the best path: which decision step chose it. */
  reason?: StepName;
  /** Kept from a restarting peer (graceful restart) or during an enhanced route refresh. */
  stale?: boolean;
  /** RFC 4456, on reflected routes. */
  originatorId?: string;
  clusterList?: string[];
}

export interface BestEvent {
  family: Family;
  prefix: string;
  kind: 'added' | 'changed' | 'withdrawn';
  /** For added/changed: the best path's next hop and source. */
  nextHop?: string;
  from?: string;
  attrs?: Readonly<PathAttributes>;
  /**
   * The change is also being sent to peers (a route reflected to clients, our own route announced): the tick
   * that writes their UPDATEs is already queued (setImmediate), so a listener that defers its own work with
   * setImmediate runs after the peers have been sent what they wait for.
   */
  sent?: true;
}

interface PeerEntry {
  key: string;
  spec: PeerSpec;
  specJson: string;
  session: Session;
  index: number;
  queue: Buffer[];
  queuedBytes: number;
  eorDone: Set<Family>;
  /** Families being re-sent after the peer's ROUTE-REFRESH with enhanced route refresh: EoRR due (RFC 7313 §4). */
  refreshing: Set<Family>;
  /** The families configured for the peer; `families` is what the current session negotiated. */
  configured: Family[];
  families: Family[];
  staleTimer?: unknown;
  advertised: number;
  /** Families whose End-of-RIB the peer has sent since its session came up. */
  eorReceived: Set<Family>;
}

const DEFAULT_HOLD = 90;
/** Dead attribute sets that make a received UPDATE schedule a collection of its own (otherwise the next tick collects). */
const COLLECT_BATCH = 256;

const defaultDeps: SpeakerDeps = {
  connect: (o) =>
    o.password
      ? connectMd5({ host: o.host, port: o.port, key: o.password, ...(o.localAddress ? { localAddress: o.localAddress } : {}) })
      : connectReading({ host: o.host, port: o.port, ...(o.localAddress ? { localAddress: o.localAddress } : {}) }),
  setTimer: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimer: (h) => clearTimeout(h as NodeJS.Timeout),
  refreshTimer: (h) => void (h as NodeJS.Timeout).refresh(),
  now: () => Date.now(),
  elapsed: () => performance.now(),
  interfaceSubnet: (address) => {
    for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.address === address && a.cidr) return a.cidr;
    return undefined;
  },
  listen: (opts, onConnection) =>
    new Promise((resolve, reject) => {
      // Paused, so that nothing is read before the connection moves to a socket reading through `onread`.
      const dup = nativeDup();
      const server = net.createServer({ pauseOnConnect: true }, (sock) => onConnection(readingAccepted(sock, dup)));
      server.once('error', reject);
      server.listen(opts.port, opts.address, () => {
        server.off('error', reject);
        resolve({
          // The listening socket is released in the loop's close phase, after this call returns:
          // resolve only then, so a speaker started right after `close()` can bind the same port.
          close: () =>
            new Promise<void>((done) => {
              server.close();
              setImmediate(done);
            }),
          port: (server.address() as net.AddressInfo).port,
          setKey: (peer, key) => {
            const fd = serverFd(server);
            if (fd !== undefined) setListenerKey(fd, peer, key);
          },
        });
      });
    }),
};

export class Speaker extends EventEmitter {
  readonly rib: Rib;
  private readonly peers = new Map<string, PeerEntry>();
  /** Compiled policies by definition (see policyFor). */
  private readonly policies = new Map<string, Policy>();
  private readonly byIndex = new Map<number, PeerEntry>();
  private readonly deps: SpeakerDeps;
  private listener: Listener | undefined;
  /** Peer address → TCP MD5 key currently set on the listener. */
  private readonly listenerKeys = new Map<string, string>();
  /** One setImmediate for both of what follows a burst of messages: kicking the sessions, collecting attribute sets. */
  private tickScheduled = false;
  private kickDue = false;
  private collectDue = false;
  private readonly encoded = new WeakMap<Batch<Prefix4 | Prefix6>, { ctx: string; bufs: Buffer[] }>();
  private closed = false;
  /** Restarting speaker: UPDATEs and End-of-RIB held until selection deferral ends. */
  private deferring = false;
  private deferralTimer: unknown;
  private graceTimer: unknown;
  /**
   * Set by the grace timer itself: the grace window is over. Not derived from the clock: a timer
   * may fire when `now() - start` still reads a millisecond short of its delay (node's timers run
   * on a monotonic millisecond clock, Date.now() on another), and a window that looks open when its
   * own timer fires would never be closed by anything else.
   */
  private graceOver = false;
  private readonly graceMs: number;

  constructor(readonly options: SpeakerOptions) {
    super();
    this.deps = { ...defaultDeps, ...options.deps };
    // Re-arming works on the handles the default setTimer makes: deps with timers of their own (fake clocks)
    // re-arm only through a refreshTimer of their own, else by clearing and setting.
    if (options.deps?.setTimer && !options.deps.refreshTimer) delete this.deps.refreshTimer;
    // Likewise their clock: timers of their own run on their own now(), not on the real monotonic clock.
    if (options.deps?.setTimer && !options.deps.elapsed) delete this.deps.elapsed;
    const ribOpts: ConstructorParameters<typeof Rib>[0] = {
      localAs: options.asNumber,
      routerId: options.routerId,
      // Nothing is formatted unless someone listens ('best' is for the dataplane). A change that is also sent
      // to peers schedules the tick that sends it before the listeners hear of it (BestEvent.sent); while
      // selection is deferred nothing is sent, and the deferral's end kicks every session.
      onBestChange4: (prefix, kind, peer, attrs, _step, _prevPeer, _prevAttrs, sent) => {
        if (sent && !this.deferring) this.scheduleKick();
        if (this.listenerCount('best') > 0) this.bestChanged('ipv4', prefixText4(prefix), kind, peer, attrs, sent);
      },
      onBestChange6: (prefix, kind, peer, attrs, _step, _prevPeer, _prevAttrs, sent) => {
        if (sent && !this.deferring) this.scheduleKick();
        if (this.listenerCount('best') > 0) this.bestChanged('ipv6', prefix, kind, peer, attrs, sent);
      },
    };
    if (options.clusterId !== undefined) ribOpts.clusterId = options.clusterId;
    if (options.decision !== undefined) ribOpts.decision = options.decision;
    this.rib = new Rib(ribOpts);
    const r = options.restarting;
    this.graceMs = (typeof r === 'object' ? r.graceMs : undefined) ?? 3000;
    if (r && options.gracefulRestart !== false) {
      this.deferring = true;
      const cap = (typeof r === 'object' ? r.deferralMs : undefined) ?? 30_000;
      this.deferralTimer = this.deps.setTimer(() => this.endDeferral('deferral timer'), cap);
      // Once the grace window has passed, peers that are not up are no longer waited for.
      this.graceTimer = this.deps.setTimer(() => {
        this.graceTimer = undefined;
        this.graceOver = true;
        this.checkDeferral();
      }, this.graceMs);
    }
  }

  /** True while a restarting speaker holds its UPDATEs (RFC 4724 §4.1 selection deferral). */
  get deferringSelection(): boolean {
    return this.deferring;
  }

  /**
   * Selection deferral ends when every peer that came back within the grace window and speaks
   * graceful restart has sent End-of-RIB for each family it negotiated (peers that are down or
   * without the capability are not waited for).
   */
  private checkDeferral(): void {
    if (!this.deferring) return;
    const inGrace = !this.graceOver;
    for (const e of this.peers.values()) {
      const n = e.session.negotiated;
      if (!n) {
        if (inGrace) return; // it may still come back
        continue;
      }
      if (!n.gracefulRestart) continue;
      if (e.families.some((f) => !e.eorReceived.has(f))) return;
    }
    this.endDeferral('End-of-RIB from every peer');
  }

  private endDeferral(why: string): void {
    if (!this.deferring) return;
    this.deferring = false;
    this.deps.clearTimer(this.deferralTimer);
    this.deps.clearTimer(this.graceTimer);
    // Sessions set up from now on no longer say they are restarting.
    for (const e of this.peers.values()) {
      const gr = e.session.config.fsm.capabilities?.gracefulRestart;
      if (gr) gr.restarting = false;
    }
    this.deps.log?.('info', 'selection deferral over', { reason: why });
    this.emit('deferralEnd', why);
    this.scheduleKick();
  }

  /** Starts listening (unless `listen: false`). Resolves with the port. */
  async start(): Promise<number | undefined> {
    if (this.options.listen === false) return undefined;
    const address = this.options.listen?.address ?? '0.0.0.0';
    const port = this.options.listen?.port ?? 179;
    this.listener = await this.deps.listen({ address, port }, (s) => this.incoming(s));
    this.syncListenerKeys();
    return this.listener.port;
  }

  /** The whole desired set of peers (declarative). */
  setPeers(specs: readonly PeerSpec[]): void {
    const want = new Map<string, PeerSpec>();
    for (const s of specs) {
      validatePeer(s);
      want.set(peerKey(s), s);
    }
    // New export policies are handed to the RIB together: a change of what this node originates changes every
    // peer's policy at once, and the RIB then re-exports once per update group instead of once per peer.
    const exports: { index: number; policy: Policy | undefined }[] = [];
    for (const [key, entry] of [...this.peers]) {
      const spec = want.get(key);
      if (!spec) {
        this.removePeer(entry, CEASE.PEER_DECONFIGURED);
        continue;
      }
      if (JSON.stringify(normalize(spec)) !== entry.specJson) {
        if (onlyPoliciesDiffer(entry.spec, spec)) {
          this.reconfigurePolicies(entry, spec, exports);
          continue;
        }
        this.removePeer(entry, CEASE.OTHER_CONFIGURATION_CHANGE);
        this.addPeer(spec);
      }
    }
    if (exports.length) {
      this.rib.setExportPolicies(exports);
      this.scheduleKick();
    }
    for (const [key, spec] of want) if (!this.peers.has(key)) this.addPeer(spec);
    this.syncListenerKeys();
  }

  /** The listening socket carries the TCP MD5 key of every peer that has a password. */
  private syncListenerKeys(): void {
    if (!this.listener?.setKey) return;
    const want = new Map<string, string>();
    for (const e of this.peers.values()) if (e.spec.password) want.set(normalizeAddress(e.spec.address), e.spec.password);
    for (const [addr, key] of this.listenerKeys) if (want.get(addr) !== key) this.listener.setKey(addr, '');
    for (const [addr, key] of want) if (this.listenerKeys.get(addr) !== key) this.listener.setKey(addr, key);
    this.listenerKeys.clear();
    for (const [a, k] of want) this.listenerKeys.set(a, k);
  }

  /** The whole set of locally originated routes (declarative): absent ones are withdrawn. */
  setOriginated(routes: readonly OriginatedRoute[]): void {
    const v4 = new Map<Prefix4, PathAttributes>();
    const v6 = new Map<Prefix6, PathAttributes>();
    for (const r of routes) {
      let pfx: Prefix;
      try {
        pfx = Prefix.parse(r.prefix);
      } catch {
        throw new BgpConfigError(`originate: invalid prefix "${r.prefix}"`);
      }
      const attrs: PathAttributes = { origin: ORIGIN.IGP, asPath: [] };
      if (r.nextHop) {
        if (pfx.version === 4) attrs.nextHop = r.nextHop;
        else attrs.mpNextHop = { global: r.nextHop };
      }
      if (r.communities?.length) attrs.communities = r.communities.map((c) => parseCommunity(c, r.prefix));
      if (r.largeCommunities?.length) attrs.largeCommunities = r.largeCommunities.map((c) => parseLargeCommunity(c, r.prefix));
      if (r.med !== undefined) attrs.med = r.med;
      if (r.localPref !== undefined) attrs.localPref = r.localPref;
      if (pfx.version === 4) v4.set(p4(pfx.ip.v4, pfx.length), attrs);
      else v6.set(pfx.toString(), attrs);
    }
    this.rib.setOriginated('ipv4', v4);
    this.rib.setOriginated('ipv6', v6);
    this.scheduleKick();
  }

  status(): PeerStatus[] {
    const out: PeerStatus[] = [];
    for (const e of this.peers.values()) {
      const s = e.session;
      const st: PeerStatus = {
        address: e.spec.address,
        port: e.spec.port ?? 179,
        asNumber: e.spec.asNumber,
        localAs: e.spec.localAs ?? this.options.asNumber,
        state: s.state,
        since: s.stateSince,
        established: s.state === 'Established',
        prefixes: this.prefixCounts(e),
        routeReflectorClient: !!e.spec.routeReflectorClient,
        eorReceived: [...e.eorReceived],
      };
      if (e.spec.name) st.name = e.spec.name;
      const n = s.negotiated;
      if (n) st.negotiated = n;
      const le = s.lastError;
      if (le) st.lastError = describeDown(le);
      out.push(st);
    }
    return out;
  }

  /** Routes in the Loc-RIB: every candidate, the best marked. Optionally one prefix. */
  routes(prefix?: string): RouteEntry[] {
    const out: RouteEntry[] = [];
    const add = <X extends Prefix4 | Prefix6>(
      family: Family,
      text: string,
      key: X,
      adjIn: ReadonlyMap<number, { isStale(p: X): boolean }>,
      cands: { peer: number; attrs: AttrSet }[],
      best: { peer: number; step: StepName } | undefined,
    ) => {
      for (const c of cands) {
        const isBest = best !== undefined && best.peer === c.peer;
        const e = this.routeEntry(family, text, c.peer, c.attrs.attrs, isBest);
        if (isBest) e.reason = best.step;
        if (adjIn.get(c.peer)?.isStale(key)) e.stale = true;
        out.push(e);
      }
    };
    const v4 = this.rib.v4;
    const v6 = this.rib.v6;
    if (prefix !== undefined) {
      const pfx = Prefix.parse(prefix);
      if (pfx.version === 4) {
        const k = p4(pfx.ip.v4, pfx.length);
        add('ipv4', pfx.toString(), k, v4.adjIn, v4.loc.candidates(k), v4.loc.best(k));
      } else {
        const k = pfx.toString();
        add('ipv6', k, k, v6.adjIn, v6.loc.candidates(k), v6.loc.best(k));
      }
      return out;
    }
    v4.loc.forEachBest((k) => add('ipv4', prefixText4(k), k, v4.adjIn, v4.loc.candidates(k), v4.loc.best(k)));
    v6.loc.forEachBest((k) => add('ipv6', k, k, v6.adjIn, v6.loc.candidates(k), v6.loc.best(k)));
    return out;
  }

  /**
   * Asks a peer to re-send its routes (ROUTE-REFRESH, RFC 2918): one family, or every family the
   * session negotiated. Returns the families asked for — none when the session is not Established
   * or the peer did not announce the route refresh capability.
   */
  refresh(address: string, family?: Family): Family[] {
    const want = canonicalAddress(address);
    const asked: Family[] = [];
    for (const e of this.peers.values()) {
      if (canonicalAddress(e.spec.address) !== want) continue;
      const n = e.session.negotiated;
      if (!n?.routeRefresh) continue;
      for (const f of family ? [family] : n.families) {
        if (!n.families.includes(f)) continue;
        e.session.requestRefresh(f);
        asked.push(f);
      }
    }
    return asked;
  }

  /**
   * Stops everything. `graceful`: drop the connections without a NOTIFICATION, so peers that
   * negotiated graceful restart keep our routes while we restart (RFC 4724 §4.1).
   */
  async close(opts: { graceful?: boolean } = {}): Promise<void> {
    this.closed = true;
    this.deps.clearTimer(this.deferralTimer);
    this.deps.clearTimer(this.graceTimer);
    for (const e of this.peers.values()) {
      if (e.staleTimer !== undefined) this.deps.clearTimer(e.staleTimer);
      if (opts.graceful) e.session.abandon();
      else e.session.stop();
      e.session.abandon();
    }
    await this.listener?.close();
    this.listener = undefined;
  }

  // -------------------------------------------------------------------------------------------

  private addPeer(spec: PeerSpec): void {
    const key = peerKey(spec);
    const localAs = spec.localAs ?? this.options.asNumber;
    const kind = spec.asNumber === localAs ? 'ibgp' : 'ebgp';
    const families = spec.families ?? [familyOf(spec.address)];
    const ribPeer: RibPeerConfig = {
      kind,
      asn: spec.asNumber,
      routerId: '0.0.0.0',
      address: spec.address,
      rrClient: !!spec.routeReflectorClient,
      export: {
        nextHop: spec.nextHopMode ?? 'auto',
        fourOctetAs: true,
        families,
        ...(spec.export ? { policy: this.policyFor(spec.export) } : {}),
      },
    };
    if (spec.import) ribPeer.importPolicy = this.policyFor(spec.import);
    if (spec.maxPrefixes) ribPeer.maxPrefix = spec.maxPrefixes;
    if (spec.allowLocalAs !== undefined) ribPeer.allowOwnAs = spec.allowLocalAs;
    const info = this.rib.addPeer(ribPeer);
    const gr = spec.gracefulRestart === false ? false : this.options.gracefulRestart === false ? false : (spec.gracefulRestart ?? this.options.gracefulRestart ?? { restartTime: 120 });
    const fsm: FsmConfig = {
      localAs,
      routerId: this.options.routerId,
      peerAs: spec.asNumber,
      holdTime: spec.holdTime ?? DEFAULT_HOLD,
      passive: !!spec.passive,
      capabilities: {
        families,
        routeRefresh: true,
        enhancedRouteRefresh: true,
        ...(gr
          ? {
              gracefulRestart: {
                restartTime: gr.restartTime,
                restarting: this.deferring,
                notification: true,
                families: families.map((family) => ({ family, forwardingPreserved: true })),
              },
            }
          : {}),
      },
    };
    if (spec.keepaliveTime !== undefined) fsm.keepaliveTime = spec.keepaliveTime;
    const entry: PeerEntry = {
      key,
      spec,
      specJson: JSON.stringify(normalize(spec)),
      index: info.index,
      queue: [],
      queuedBytes: 0,
      eorDone: new Set(),
      refreshing: new Set(),
      configured: families,
      families,
      advertised: 0,
      eorReceived: new Set(),
      session: undefined as unknown as Session,
    };
    entry.session = new Session(
      {
        address: spec.address,
        port: spec.port ?? 179,
        ...(spec.localAddress ? { localAddress: spec.localAddress } : {}),
        ...(spec.password ? { password: spec.password } : {}),
        fsm,
        seed: hashSeed(key + this.options.routerId),
      },
      this.deps,
      {
        established: (_s, n) => this.established(entry, n),
        down: (_s, info) => this.down(entry, info),
        update: (_s, u) => this.received(entry, u),
        routeRefresh: (_s, rr) => this.refreshRequested(entry, rr),
        stateChange: (_s, state) => this.emit('peer', { address: spec.address, port: spec.port ?? 179, state }),
        pull: (_s, budget) => this.pull(entry, budget),
      },
    );
    this.peers.set(key, entry);
    this.byIndex.set(info.index, entry);
    entry.session.start();
  }

  /**
   * Policies changed, nothing else: no session reset (BIRD reconfigures filters in place). A new
   * export policy re-evaluates what the peer is sent (only differences go out); a new import
   * policy asks the peer to send its routes again (ROUTE-REFRESH, RFC 2918) so they pass the new
   * policy — a peer without route refresh is reset, the only way to see its routes again.
   */
  private reconfigurePolicies(entry: PeerEntry, spec: PeerSpec, exports: { index: number; policy: Policy | undefined }[]): void {
    const exportChanged = JSON.stringify(spec.export ?? null) !== JSON.stringify(entry.spec.export ?? null) || hasHooks(spec.export);
    const importChanged = JSON.stringify(spec.import ?? null) !== JSON.stringify(entry.spec.import ?? null) || hasHooks(spec.import);
    entry.spec = spec;
    entry.specJson = JSON.stringify(normalize(spec));
    if (exportChanged) exports.push({ index: entry.index, policy: spec.export ? this.policyFor(spec.export) : undefined });
    if (importChanged) {
      this.rib.setImportPolicy(entry.index, spec.import ? this.policyFor(spec.import) : undefined);
      const n = entry.session.negotiated;
      if (entry.session.state === 'Established' && n) {
        if (n.routeRefresh) for (const f of n.families) entry.session.requestRefresh(f);
        else {
          this.removePeer(entry, CEASE.OTHER_CONFIGURATION_CHANGE);
          this.addPeer(spec);
        }
      }
    }
  }

  /**
   * One Policy object per distinct declarative definition, so peers with equal policies share an
   * update group (the group key holds the policy's id). Definitions with hooks are never shared.
   */
  private policyFor(def: PolicyDefinition): Policy {
    if (hasHooks(def)) return new Policy(def);
    const key = JSON.stringify(def);
    let p = this.policies.get(key);
    if (!p) {
      p = new Policy(def);
      this.policies.set(key, p);
      // Definitions no peer uses any more are dropped now and then, so the cache stays small.
      if (this.policies.size > 4 * (this.peers.size + 8)) this.prunePolicies();
    }
    return p;
  }

  private prunePolicies(): void {
    const used = new Set<string>();
    for (const e of this.peers.values()) for (const d of [e.spec.import, e.spec.export]) if (d && !hasHooks(d)) used.add(JSON.stringify(d));
    for (const k of this.policies.keys()) if (!used.has(k)) this.policies.delete(k);
  }

  private removePeer(entry: PeerEntry, subcode: number): void {
    entry.session.stop({ subcode });
    entry.session.abandon();
    if (entry.staleTimer !== undefined) this.deps.clearTimer(entry.staleTimer);
    this.rib.removePeer(entry.index);
    this.peers.delete(entry.key);
    this.byIndex.delete(entry.index);
    this.scheduleKick();
  }

  private incoming(socket: net.Socket): void {
    const addr = normalizeAddress(socket.remoteAddress ?? '');
    for (const e of this.peers.values()) {
      if (normalizeAddress(e.spec.address) === addr && e.session.acceptIncoming(socket as unknown as SocketLike)) return;
    }
    socket.destroy();
  }

  private established(entry: PeerEntry, n: Negotiated): void {
    entry.queue = [];
    entry.queuedBytes = 0;
    entry.eorDone.clear();
    entry.refreshing.clear();
    entry.advertised = 0;
    entry.families = entry.configured.filter((f) => n.families.includes(f));
    entry.eorReceived.clear();
    if (entry.staleTimer !== undefined) {
      // RFC 4724 §4.2: the restarting peer is back. Its stale routes survive only for the families
      // its new capability says forwarding was preserved for (F bit); the others go now.
      const kept = (n.gracefulRestart?.families ?? []).filter((f) => f.forwardingPreserved).map((f) => f.family);
      for (const f of ['ipv4', 'ipv6'] as Family[]) if (!kept.includes(f)) this.rib.endOfRib(entry.index, f);
      if (kept.length === 0) {
        this.deps.clearTimer(entry.staleTimer);
        entry.staleTimer = undefined;
      }
      this.scheduleKick();
    }
    if (this.rib.peers.get(entry.index)) {
      this.rib.setRouterId(entry.index, n.peerRouterId);
      const local = normalizeAddress(entry.spec.localAddress ?? entry.session.localAddress ?? '');
      const patch: Partial<RibPeerConfig['export']> = { families: entry.families, fourOctetAs: n.fourOctetAs };
      if (local) {
        if (familyOf(local) === 'ipv4') {
          patch.localAddress4 = local;
          // A directly connected peer (inside our interface's subnet) can take third-party next hops.
          const cidr = this.deps.interfaceSubnet?.(local);
          const pfx = cidr ? Prefix.tryParse(cidr) : undefined;
          const peerIp = IP.tryParse(normalizeAddress(entry.spec.address));
          // (Re-)set on every session: the address, and so the subnet, may differ from the last one.
          Object.assign(patch, { sharedSubnet4: pfx && peerIp && pfx.contains(peerIp) ? pfx.toString() : undefined });
        } else patch.localAddress6 = { global: local };
      }
      this.rib.configureExport(entry.index, patch);
    }
    this.rib.peerUp(entry.index);
  }

  private down(entry: PeerEntry, info: DownInfo): void {
    // The FSM is already in Idle and has forgotten the session: what it negotiated comes with `info`.
    const n = info.negotiated;
    // RFC 4724 §4.2: only the families in the peer's graceful-restart capability are retained; a
    // peer that announced the capability without families (GR-aware only, e.g. BIRD's default)
    // keeps nothing.
    const kept = info.graceful && n?.gracefulRestart ? n.gracefulRestart.families.map((f) => f.family) : [];
    const gr = kept.length > 0;
    this.rib.peerDown(entry.index, { gracefulRestart: gr });
    if (gr) for (const f of ['ipv4', 'ipv6'] as Family[]) if (!kept.includes(f)) this.rib.endOfRib(entry.index, f);
    entry.queue = [];
    entry.queuedBytes = 0;
    if (gr) {
      // Helper role: keep the peer's routes as stale for at most its restart time.
      const ms = (n!.gracefulRestart!.restartTime || 120) * 1000;
      if (entry.staleTimer !== undefined) this.deps.clearTimer(entry.staleTimer);
      entry.staleTimer = this.deps.setTimer(() => {
        entry.staleTimer = undefined;
        for (const f of ['ipv4', 'ipv6'] as Family[]) this.rib.endOfRib(entry.index, f);
        this.scheduleKick();
      }, ms);
    }
    this.scheduleKick();
    if (this.deferring) this.checkDeferral();
  }

  private received(entry: PeerEntry, u: import('./wire/index.js').UpdateMessage): void {
    const i = entry.index;
    if (u.endOfRib) {
      this.rib.endOfRib(i, u.endOfRib);
      this.staleDone(entry);
      entry.eorReceived.add(u.endOfRib);
      if (this.deferring) this.checkDeferral();
    } else if (u.error?.handling === 'treat-as-withdraw' || !u.attrs) {
      // RFC 7606 treat-as-withdraw: the announced prefixes are withdrawn too.
      const w4 = u.withdrawn.v4.concat(u.announced.v4);
      const w6 = u.withdrawn.v6.concat(u.announced.v6);
      if (w4.length) this.rib.update(i, 'ipv4', [], null, w4);
      if (w6.length) this.rib.update(i, 'ipv6', [], null, w6);
    } else {
      if (u.announced.v4.length || u.withdrawn.v4.length) {
        const r = this.rib.update(i, 'ipv4', u.announced.v4, u.attrs, u.withdrawn.v4);
        if (r.teardown) return this.maxPrefixReached(entry, 'ipv4');
      }
      if (u.announced.v6.length || u.withdrawn.v6.length) {
        const r = this.rib.update(i, 'ipv6', u.announced.v6, u.attrs, u.withdrawn.v6);
        if (r.teardown) return this.maxPrefixReached(entry, 'ipv6');
      }
    }
    // The tick that sends is scheduled by the RIB's listener when a change left something to send (`sent`): a
    // reflector client hears every route twice and sends none of them back, and a tick per UPDATE to find that
    // out was a wake-up of its own. Attribute sets are collected in batches (a few hundred dead sets at most
    // wait), or with the next tick that runs anyway.
    if (this.rib.collectable >= COLLECT_BATCH) this.scheduleCollect();
    else if (this.tickScheduled) this.collectDue = true;
  }

  private staleDone(entry: PeerEntry): void {
    if (entry.staleTimer === undefined) return;
    this.deps.clearTimer(entry.staleTimer);
    entry.staleTimer = undefined;
    for (const f of ['ipv4', 'ipv6'] as Family[]) this.rib.endOfRib(entry.index, f);
  }

  private maxPrefixReached(entry: PeerEntry, family: Family): void {
    const limit = entry.spec.maxPrefixes?.limit ?? 0;
    entry.session.reset({ subcode: CEASE.MAX_PREFIXES_REACHED, data: maxPrefixNotificationData(family === 'ipv4' ? 1 : 2, 1, limit) });
  }

  private refreshRequested(entry: PeerEntry, rr: import('./wire/index.js').RouteRefreshMessage): void {
    const family = rr.family;
    if (!family) return;
    if (rr.subtype === 1) this.rib.beginRouteRefresh(entry.index, family);
    else if (rr.subtype === 2) this.rib.endOfRib(entry.index, family);
    else {
      if (!entry.families.includes(family)) return;
      // RFC 7313 §4: with enhanced route refresh the re-sent table sits between BoRR and EoRR
      // (the EoRR goes out from `pull` once everything queued before it has left).
      if (entry.session.negotiated?.enhancedRouteRefresh) {
        entry.session.sendRefreshMarker(family, 1);
        entry.refreshing.add(family);
      } else entry.eorDone.delete(family);
      this.rib.refresh(entry.index, family);
      this.scheduleKick();
    }
  }

  /** The next bytes for `entry`'s socket: its queue, else a fresh drain of its update groups. */
  private pull(entry: PeerEntry, budget: number): Buffer[] {
    // hasWork is the same question asked ahead: the tick skips kicking a session it answers no for.
    if (this.deferring || !this.hasWork(entry)) return [];
    if (entry.queue.length === 0) {
      for (const family of entry.families) {
        const group = this.rib.groupOf(entry.index, family) as UpdateGroup<Prefix4 | Prefix6> | undefined;
        if (!group) continue;
        if (group.pending > 0) this.drainGroup(family, group, budget);
        if (entry.queue.length) break;
      }
    }
    if (entry.queue.length === 0) {
      // Everything queued for this peer has gone out: End-of-RIB for each family, once per session;
      // End-of-RIB-Refresh for each family re-sent after an enhanced route refresh.
      for (const family of entry.families) {
        if (entry.eorDone.has(family)) continue;
        entry.eorDone.add(family);
        entry.queue.push(encodeEndOfRib(family));
      }
      for (const family of entry.refreshing) entry.queue.push(encodeRouteRefresh(family, 2));
      entry.refreshing.clear();
    }
    const out: Buffer[] = [];
    let bytes = 0;
    while (entry.queue.length && bytes < budget) {
      const b = entry.queue.shift()!;
      out.push(b);
      bytes += b.length;
    }
    entry.queuedBytes -= bytes;
    if (entry.queuedBytes < 0) entry.queuedBytes = 0;
    return out;
  }

  /** Drains a group once and queues the encoded UPDATEs to every member. */
  private drainGroup(family: Family, group: UpdateGroup<Prefix4 | Prefix6>, budget: number): void {
    // Members first: draining a subgroup (late joiner, route refresh) may merge it into its key's main
    // group, which takes its members — the batches below are still theirs.
    const members = [...group.members];
    const d = this.rib.drain(family as 'ipv4', group as UpdateGroup<Prefix4>, budget);
    if (d.empty) return;
    for (const member of members) {
      const e = this.byIndex.get(member);
      if (!e || e.session.state !== 'Established') continue;
      const ctx = e.session.wireContext();
      const ctxKey = `${ctx.fourOctetAs ? 4 : 2}${ctx.extendedMessage ? 'x' : ''}`;
      for (const batch of d.for(member)) {
        let enc = this.encoded.get(batch);
        if (!enc || enc.ctx !== ctxKey) {
          enc = { ctx: ctxKey, bufs: encodeBatch(family, batch, ctx) };
          this.encoded.set(batch, enc);
        }
        for (const b of enc.bufs) {
          e.queue.push(b);
          e.queuedBytes += b.length;
        }
        if (batch.attrs) e.advertised += batch.prefixes.length;
      }
      if (e !== undefined) this.scheduleKick();
    }
  }

  private prefixCounts(e: PeerEntry): { received: number; accepted: number; advertised: number } {
    let received = 0;
    let accepted = 0;
    for (const fr of [this.rib.v4, this.rib.v6]) {
      const adj = fr.adjIn.get(e.index) as { received: number; accepted: number } | undefined;
      if (adj) {
        received += adj.received;
        accepted += adj.accepted;
      }
    }
    let advertised = 0;
    for (const f of e.families) {
      const g = this.rib.groupOf(e.index, f) as { advertised: number } | undefined;
      if (g) advertised += g.advertised;
    }
    return { received, accepted, advertised };
  }

  private bestChanged(family: Family, prefix: string, kind: 'added' | 'changed' | 'withdrawn', peer: number, attrs: AttrSet | null, sent: boolean): void {
    if (this.listenerCount('best') === 0) return;
    const ev: BestEvent = { family, prefix, kind };
    if (sent) ev.sent = true;
    if (attrs) {
      ev.attrs = attrs.attrs;
      const nh = family === 'ipv4' ? attrs.attrs.nextHop : attrs.attrs.mpNextHop?.global;
      if (nh) ev.nextHop = nh;
      ev.from = peer === LOCAL_PEER ? 'local' : (this.byIndex.get(peer)?.spec.address ?? String(peer));
    }
    this.emit('best', ev);
  }

  private routeEntry(family: Family, prefix: string, peer: number, a: Readonly<PathAttributes>, best: boolean): RouteEntry {
    const asPath: number[] = [];
    for (const seg of a.asPath) asPath.push(...seg.asns);
    const e: RouteEntry = {
      prefix,
      family,
      nextHop: (family === 'ipv4' ? a.nextHop : a.mpNextHop?.global) ?? '',
      asPath,
      origin: (['IGP', 'EGP', 'INCOMPLETE'] as const)[a.origin]!,
      communities: (a.communities ?? []).map((c) => `${Math.floor(c / 65536)}:${c % 65536}`),
      largeCommunities: (a.largeCommunities ?? []).map((c) => c.join(':')),
      best,
      from: peer === LOCAL_PEER ? 'local' : (this.byIndex.get(peer)?.spec.address ?? String(peer)),
    };
    if (a.localPref !== undefined) e.localPref = a.localPref;
    if (a.med !== undefined) e.med = a.med;
    if (a.originatorId !== undefined) e.originatorId = a.originatorId;
    if (a.clusterList !== undefined) e.clusterList = [...a.clusterList];
    return e;
  }

  /** Kicks every established session once per tick (after UPDATEs arrive or routes change). */
  private scheduleKick(): void {
    if (this.closed) return;
    this.kickDue = true;
    this.scheduleTick();
  }

  private scheduleTick(): void {
    if (this.tickScheduled) return;
    this.tickScheduled = true;
    setImmediate(() => {
      this.tickScheduled = false;
      if (this.kickDue) {
        this.kickDue = false;
        // pull sends nothing until selection runs, which kicks again
        if (!this.deferring && !this.closed) {
          for (const e of this.peers.values()) if (e.session.state === 'Established' && this.hasWork(e)) e.session.kick();
        }
      }
      if (this.collectDue) {
        this.collectDue = false;
        this.rib.collect();
      }
    });
  }

  /**
   * Whether `pull` would return anything for `e`: a reflector client hears every route twice and sends none of
   * them back, so most kicks after an UPDATE found nothing — and went through the session's pump to learn it.
   */
  private hasWork(e: PeerEntry): boolean {
    if (e.queue.length > 0 || e.refreshing.size > 0) return true;
    for (const family of e.families) {
      if (!e.eorDone.has(family)) return true;
      const group = this.rib.groupOf(e.index, family) as UpdateGroup<Prefix4 | Prefix6> | undefined;
      if (group !== undefined && group.pending > 0) return true;
    }
    return false;
  }

  private scheduleCollect(): void {
    this.collectDue = true;
    this.scheduleTick();
  }
}

function encodeBatch(family: Family, batch: Batch<Prefix4 | Prefix6>, ctx: WireContext): Buffer[] {
  const prefixes = family === 'ipv4' ? { v4: batch.prefixes as Prefix4[] } : { v6: batch.prefixes as Prefix6[] };
  if (!batch.attrs) return encodeUpdates(undefined, prefixes, ctx);
  try {
    return encodeUpdates(batch.attrs.attrs as PathAttributes, prefixes, ctx);
  } catch (e) {
    // Attributes that cannot go out: a peer's UPDATE near the size limit grows on export (AS prepended,
    // LOCAL_PREF, CLUSTER_LIST, AS4_PATH added) past 4096 octets. Withdraw the prefixes at this peer
    // rather than leave it an older version of the route (BIRD does the same); never throw into the
    // session's drain, which runs from the event loop.
    if (!(e instanceof WireError)) throw e;
    return encodeUpdates(undefined, prefixes, ctx);
  }
}

function prefixText4(p: Prefix4): string {
  return `${v4Format(p4addr(p))}/${p4len(p)}`;
}

function peerKey(s: PeerSpec): string {
  return `${normalizeAddress(s.address)}|${s.port ?? 179}`;
}

function normalizeAddress(a: string): string {
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

/** One text per address (IPv6 compressed, IPv4-mapped unmapped); the input when it does not parse. */
function canonicalAddress(a: string): string {
  return IP.tryParse(normalizeAddress(a))?.toString() ?? a;
}

function familyOf(address: string): Family {
  return address.includes(':') ? 'ipv6' : 'ipv4';
}

function hasHooks(def: PolicyDefinition | undefined): boolean {
  return !!def && def.rules.some((r) => 'hook' in r);
}

/** True when two specs of one peer differ in their import/export policies only. */
function onlyPoliciesDiffer(a: PeerSpec, b: PeerSpec): boolean {
  const strip = (s: PeerSpec) => {
    const { import: _i, export: _e, ...rest } = normalize(s) as PeerSpec;
    void _i;
    void _e;
    return JSON.stringify(rest);
  };
  return strip(a) === strip(b);
}

/** A stable view of a spec for change detection (policies compared by content). */
function normalize(s: PeerSpec): unknown {
  return { ...s, address: normalizeAddress(s.address) };
}

function validatePeer(s: PeerSpec): void {
  const where = `peer ${s.address}`;
  try {
    Prefix.parseCIDROrIP(s.address);
  } catch {
    throw new BgpConfigError(`${where}: invalid address`);
  }
  if (!Number.isInteger(s.asNumber) || s.asNumber < 1 || s.asNumber > 0xffffffff) throw new BgpConfigError(`${where}: invalid asNumber ${s.asNumber}`);
  if (s.port !== undefined && (!Number.isInteger(s.port) || s.port < 1 || s.port > 65535)) throw new BgpConfigError(`${where}: invalid port ${s.port}`);
  if (s.holdTime !== undefined && s.holdTime !== 0 && (s.holdTime < 3 || s.holdTime > 65535)) {
    throw new BgpConfigError(`${where}: holdTime must be 0 or 3..65535 seconds`);
  }
  if (s.password !== undefined) {
    if (s.password.length === 0 || Buffer.byteLength(s.password) > 80) throw new BgpConfigError(`${where}: password must be 1 to 80 bytes (TCP MD5 key)`);
    if (!md5Available()) throw new BgpConfigError(`${where}: password needs tortie's TCP MD5 support, which is not built (run scripts/setup.sh)`);
  }
}

const WELL_KNOWN: Record<string, number> = {
  'no-export': 0xffffff01,
  'no-advertise': 0xffffff02,
  'no-export-subconfed': 0xffffff03,
  'graceful-shutdown': 0xffff0000,
  blackhole: 0xffff029a,
};

export function parseCommunity(c: string | number, where: string): number {
  if (typeof c === 'number') {
    if (Number.isInteger(c) && c >= 0 && c <= 0xffffffff) return c;
  } else {
    const wk = WELL_KNOWN[c.toLowerCase()];
    if (wk !== undefined) return wk;
    const m = /^(\d+):(\d+)$/.exec(c);
    if (m && Number(m[1]) <= 0xffff && Number(m[2]) <= 0xffff) return Number(m[1]) * 65536 + Number(m[2]);
  }
  throw new BgpConfigError(`originate ${where}: invalid community "${c}" (expected aa:nn with 16-bit parts)`);
}

export function parseLargeCommunity(c: string, where: string): [number, number, number] {
  const m = /^(\d+):(\d+):(\d+)$/.exec(c);
  if (m && [m[1], m[2], m[3]].every((x) => Number(x) <= 0xffffffff)) return [Number(m[1]), Number(m[2]), Number(m[3])];
  throw new BgpConfigError(`originate ${where}: invalid large community "${c}" (expected aa:bb:cc with 32-bit parts)`);
}

function hashSeed(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

function describeDown(d: DownInfo): string {
  const n = d.notification;
  let base = d.reason;
  if (n) {
    // RFC 8538 §3: a Hard Reset carries the real code and subcode in its first two data bytes.
    if (n.code === 6 && n.subcode === CEASE.HARD_RESET && n.data && n.data.length >= 2) {
      base = `${d.reason}: notification ${n.data[0]}/${n.data[1]} (hard reset)`;
    } else base = `${d.reason}: notification ${n.code}/${n.subcode}`;
  }
  return d.message ? `${base} (${d.message})` : base;
}
