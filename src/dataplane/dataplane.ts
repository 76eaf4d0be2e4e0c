/**
 * The dataplane: takes the whole desired kernel state (`DataplanePlan`, from routing/) and
 * converges the kernel to it — sysctls, tunnel devices, neighbours/FDB, routes, NAT — changing
 * only what differs. `apply()` is the only method with side effects (STYLE §5).
 *
 * A full pass starts from a fresh listing of the kernel (links, addresses, routes, neighbours,
 * FDB), so it is a resync of those: stale state tortie owns (routes of protocol 93, vxlan.calico,
 * its neighbours and FDB entries) is removed even if it was left by an earlier process, and state
 * it does not own is never touched. The nft tables are the exception: listing them means running
 * `nft`, so after the first apply (which lists) the last rendering applied is remembered and
 * compared; `apply(plan, {resync: true})` lists again.
 *
 * A route-only pass lists nothing: when the last pass was clean (no error, no warning) and the new
 * plan differs from it only in routes — a route learned or withdrawn somewhere in the cluster, the
 * change every host sees for every pod block — the route difference is programmed directly. On
 * every host of a 50-node cluster that is the difference between a few netlink messages and dumps
 * of every link and route. Anything unexpected (an operation failing, a route via an unknown
 * device) falls back to a full pass at once, and a full pass runs at least every FULL_CHECK_MS.
 * The commonest of them — one route learned or withdrawn, nothing else queued — is done before
 * `apply` returns, in one synchronous netlink request where the port can (`routeNow`).
 *
 * Order matters, and is:
 *   1. sysctls (forwarding on before routes attract traffic);
 *   2. desired devices: create/fix vxlan.calico (address, neighbours, FDB) and tunl0 — before the
 *      routes that point at them, and neighbours before routes so the first packet finds its VTEP;
 *   3. routes, from a listing taken after step 2 (a recreated device took its routes with it):
 *      adds and in-place replaces first, deletes last;
 *   4. undesired devices: vxlan.calico deleted, tunl0 stripped — after their routes went in step 3;
 *   5. NAT.
 * Applies are serialised: a call made while one runs waits for it.
 *
 * rp_filter is left alone on vxlan.calico: a decapsulated packet from a remote pod arrives on
 * vxlan.calico, which is also where the route back to that pod's block points, so even strict
 * reverse-path filtering accepts it.
 */
import { normalizeNft, natScript, renderNat, NAT_TABLES, type NatTableId } from './nat.js';
import { ensureIpip, ensureVxlan, removeVxlan, retireIpip } from './devices.js';
import { DataplaneError, MISSING } from './errors.js';
import type { Netlink, Nft, Route, Sysctl } from './port.js';
import { Run, emptyReport, type ApplyReport, type DataplaneLogger } from './report.js';
import { reconcileRoutes, settleRouteOp, singleRouteOp, updateRouteChanges, updateRoutes } from './routes.js';
import type { DataplanePlan, KernelRoute, NatPlan } from './types.js';

/** The plan apart from its routes, as a comparable key (devices, neighbours, FDB, NAT, and whether IPv6 forwarding is needed). */
const restOf = (plan: DataplanePlan): string =>
  JSON.stringify({ ...plan, routes: undefined, v6Routes: plan.routes.some((r) => r.dst.includes(':')) });

export interface DataplaneOptions {
  netlink: Netlink;
  sysctl: Sysctl;
  nft: Nft;
  log?: DataplaneLogger;
  /** Clock for `durationMs` (default performance.now). */
  now?: () => number;
}

export interface ApplyOptions {
  /** Re-read the nft tables instead of trusting the last rendering applied. */
  resync?: boolean;
  /**
   * The caller's word that this plan is the previous apply's plan except for the routes to these
   * destinations (each one's route now, undefined: none): after a clean pass only they are looked at,
   * instead of the whole plan. Without it, or when the last pass was not clean, the plan is compared whole.
   */
  routes?: ReadonlyMap<string, Readonly<KernelRoute> | undefined>;
}

const NO_WARNINGS: ReadonlySet<string> = new Set();

function hasIpv6Key(m: ReadonlyMap<string, unknown>): boolean {
  for (const d of m.keys()) if (d.includes(':')) return true;
  return false;
}

/** How often remembered state is verified against the kernel (ms): Felix's routeRefreshInterval default. */
export const FULL_CHECK_MS = 90_000;

export class Dataplane {
  private readonly opts: DataplaneOptions;
  private readonly log: DataplaneLogger;
  private readonly now: () => number;
  /** Normalised text of each tortie nft table as last applied or listed (undefined = absent); unset until the first apply. */
  private natApplied: Map<NatTableId, string | undefined> | undefined;
  /** Cleared once nft has refused `masquerade fully-random` and accepted the same script without it. */
  private fullyRandom = true;
  private queue: Promise<unknown> = Promise.resolve();
  /** Warnings of the previous apply: not repeated in `report.warnings` (they stay in `issues`). */
  private knownWarnings: ReadonlySet<string> = NO_WARNINGS;
  private closed = false;

  constructor(opts: DataplaneOptions) {
    this.opts = opts;
    this.log = opts.log ?? Object.assign(() => {}, { enabled: () => false });
    this.now = opts.now ?? (() => performance.now());
  }

  /** Converges the kernel to `plan`. Never throws for a failed kernel operation: see `report.errors`. */
  apply(plan: DataplanePlan, opts: ApplyOptions = {}): Promise<ApplyReport> {
    if (this.closed) return Promise.reject(new DataplaneError('CLOSED', 'apply', 'the dataplane is closed'));
    if (this.queued === 0 && opts.routes !== undefined) {
      const done = this.routeNow(opts);
      if (done) return Promise.resolve(done);
    }
    this.queued++;
    const next = this.queue.then(() => this.applyNow(plan, opts));
    this.queue = next.catch(() => undefined).then(() => void this.queued--);
    return next;
  }

  /** Applies queued or running. */
  private queued = 0;

  /**
   * The commonest pass done before apply returns: nothing queued, a clean pass before, and the named changes
   * one operation on one route (a route learned or withdrawn somewhere in the cluster) that the port does
   * synchronously (tortie's netlink addon). The same operation, bookkeeping and report as the route-only pass
   * below, without its promises, reconciler context and diff — each a cost every host pays for every pod block,
   * in a process that wakes for it cold. Anything else, or a failure, and undefined: the general pass runs (it
   * tries a failed operation again, reports it and falls over to a full pass, as before). With debug logging on
   * the general pass runs too (it writes a line per operation).
   */
  private routeNow(given: ApplyOptions): ApplyReport | undefined {
    const settled = this.settled;
    const hint = given.routes;
    const nl = this.opts.netlink;
    if (!settled || !hint || !nl.routeNow || hasIpv6Key(hint)) return undefined;
    if (this.log.enabled?.('debug') !== false) return undefined;
    const t0 = this.now();
    if (this.resyncDue(given, t0)) return undefined;
    const op = singleRouteOp(hint, settled.routes, settled.links);
    if (op === undefined) return undefined;
    const report = emptyReport();
    if (op !== null) {
      const err = nl.routeNow(op.op, op.route);
      if (err === false) return undefined; // nothing was sent
      if (err === undefined) {
        report.changes++;
        report.routes[op.op === 'add' ? 'added' : op.op === 'replace' ? 'replaced' : 'deleted']++;
      } else if (!(op.op === 'delete' && MISSING.includes(err.code))) return undefined; // (a route already gone is what a delete wants)
      settleRouteOp(settled.routes, op);
    }
    this.knownWarnings = NO_WARNINGS;
    report.durationMs = Math.round((this.now() - t0) * 1000) / 1000;
    report.pass = 'route-only';
    return report;
  }

  /** Closes the netlink socket. Kernel state stays as it is (routes keep forwarding across restarts). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.opts.netlink.close();
  }

  /** When state remembered between passes (sysctls, nft) was last checked against the kernel. */
  private lastFullCheck = -Infinity;

  /** Whether a pass starting at `t0` compares everything with the kernel: asked for, or FULL_CHECK_MS since the last. */
  private resyncDue(given: ApplyOptions, t0: number): boolean {
    return given.resync === true || t0 - this.lastFullCheck >= FULL_CHECK_MS;
  }

  private async applyNow(plan: DataplanePlan, given: ApplyOptions): Promise<ApplyReport> {
    const t0 = this.now();
    // What passes remember instead of re-reading is checked again at least every 90 s, so a change
    // made behind tortie's back (ip_forward reset, the nft table edited, a route deleted) is repaired.
    const resync = this.resyncDue(given, t0);
    if (resync) this.lastFullCheck = t0;

    // Only routes changed since a clean pass (the common case: a route learned or withdrawn
    // somewhere in the cluster): program the difference without listing anything — and when the
    // caller says which destinations changed, without comparing the rest of the plan either.
    const settled = this.settled;
    this.settled = undefined;
    const hint = given.routes;
    // (An IPv6 route may turn IPv6 forwarding on: such a change takes the whole comparison below.)
    const useHint = hint !== undefined && !hasIpv6Key(hint);
    if (!resync && settled && useHint) {
      const run = this.newRun();
      const routes = await updateRouteChanges(run, hint, settled.routes, settled.links);
      if (routes) {
        this.settled = routes === settled.routes ? settled : { ...settled, routes };
        return this.finish(run, t0, 'route-only');
      }
      this.log('debug', 'route-only pass could not finish: running a full pass', { errors: run.report.errors });
    }
    const rest = restOf(plan);
    if (!resync && settled && !useHint && settled.rest === rest) {
      const run = this.newRun();
      const routes = await updateRoutes(run, plan.routes, settled.routes, settled.links);
      if (routes) {
        this.settled = { ...settled, routes };
        return this.finish(run, t0, 'route-only');
      }
      this.log('debug', 'route-only pass could not finish: running a full pass', { errors: run.report.errors });
    }

    const run = this.newRun();
    const nl = run.netlink;
    await this.sysctls(run, plan, resync);

    let routes: Map<string, Route> | undefined;
    let linkNames: Set<string> | undefined;
    const links = await run.read('links', () => nl.listLinks());
    if (links) {
      const d = run.report.devices;
      const before = d.created + d.updated + d.deleted;
      if (plan.vxlan) await ensureVxlan(run, links, plan.vxlan);
      if (plan.ipip) await ensureIpip(run, links, plan.ipip);
      // Read the links again only when a device was made or changed (indexes, MTUs).
      const after = d.created + d.updated + d.deleted === before ? links : await run.read('links', () => nl.listLinks());
      if (after) {
        routes = await reconcileRoutes(run, plan.routes, after);
        if (!plan.vxlan) await removeVxlan(run, after);
        if (!plan.ipip) await retireIpip(run, after);
        linkNames = new Set(after.map((l) => l.name));
      }
    }

    await this.nat(run, plan.nat, resync);

    // A pass without a single issue is one a route-only pass may start from: every planned route
    // is in the kernel, none was skipped for a conflict, the devices and NAT are as planned.
    if (routes && linkNames && run.report.issues.length === 0) this.settled = { rest, routes, links: linkNames };
    return this.finish(run, t0, 'full');
  }

  private newRun(): Run {
    return new Run(this.opts.netlink, this.opts.sysctl, this.opts.nft, this.log, this.knownWarnings);
  }

  private finish(run: Run, t0: number, pass: 'full' | 'route-only'): ApplyReport {
    const r = run.report;
    this.knownWarnings = r.issues.length === 0 ? NO_WARNINGS : new Set(r.issues.filter((i) => i.severity === 'warning').map((i) => i.message));
    r.durationMs = Math.round((this.now() - t0) * 1000) / 1000;
    r.pass = pass;
    // A route-only pass is the everyday "a block came or went somewhere" (every host, every pod block): a line
    // per pass at info was a tenth of an idle agent's CPU per route (JSON, clock, write). Full passes that
    // changed something, and any pass with a problem, stay at info.
    const level = !r.ok || r.warnings.length > 0 || (r.changes > 0 && pass === 'full') ? 'info' : 'debug';
    if (level === 'debug' && this.log.enabled?.('debug') === false) return r;
    this.log(level, `dataplane applied: ${r.changes} change(s), ${r.errors.length} error(s), ${r.warnings.length} warning(s)`, {
      pass,
      routes: r.routes,
      neighbors: r.neighbors,
      fdb: r.fdb,
      devices: r.devices,
      durationMs: r.durationMs,
    });
    return r;
  }

  /**
   * What the last clean full pass (or route-only passes after it) left: the plan apart from its
   * routes, the routes in place, the link names. Undefined after any pass with an issue.
   */
  private settled: { rest: string; routes: Map<string, Route>; links: Set<string> } | undefined;

  /** Sysctls found or set right by an earlier pass: not read again until a resync. */
  private readonly sysctlsOk = new Set<string>();

  /** IPv4 forwarding always; IPv6 forwarding when the plan has IPv6 pools or routes. */
  private async sysctls(run: Run, plan: DataplanePlan, resync: boolean): Promise<void> {
    if (resync) this.sysctlsOk.clear();
    const want: [string, string][] = [['net/ipv4/ip_forward', '1']];
    const v6 = plan.nat.pools.some((c) => c.includes(':')) || plan.routes.some((r) => r.dst.includes(':'));
    if (v6) want.push(['net/ipv6/conf/all/forwarding', '1']);
    for (const [path, value] of want) {
      if (this.sysctlsOk.has(`${path}=${value}`)) continue;
      const have = await run.read(`sysctl ${path}`, () => run.sysctl.read(path));
      if (have === value) {
        this.sysctlsOk.add(`${path}=${value}`);
        continue;
      }
      if (have === undefined) {
        run.warn('SYSCTL_MISSING', `/proc/sys/${path} does not exist (is ${path.includes('ipv6') ? 'IPv6' : 'IPv4'} disabled?)`);
        continue;
      }
      if (await run.attempt(`sysctl ${path}=${value}`, () => run.sysctl.write(path, value), () => run.report.sysctls++)) this.sysctlsOk.add(`${path}=${value}`);
    }
  }

  private async nat(run: Run, nat: NatPlan, resync: boolean): Promise<void> {
    if (!this.natApplied || resync) {
      const listed = await this.listNat(run, nat);
      if (!listed) return;
      this.natApplied = listed;
    }
    const applied = this.natApplied;
    const render = () => renderNat(nat, { fullyRandom: this.fullyRandom });
    const { invalid } = render();
    for (const c of invalid) run.error('INVALID_PLAN', `NAT: invalid pool CIDR ${JSON.stringify(c)} left out`);

    const changesOf = (tables: Map<NatTableId, string | undefined>) => {
      const changes = new Map<NatTableId, string | undefined>();
      for (const [id, text] of tables) {
        if ((text === undefined ? undefined : normalizeNft(text)) !== applied.get(id)) changes.set(id, text);
      }
      return changes;
    };
    let changes = changesOf(render().tables);
    if (changes.size === 0) return;
    try {
      await this.runNft(run, changes);
    } catch (e) {
      if (!(e instanceof DataplaneError)) throw e;
      let failure = e;
      if (this.fullyRandom && natScript(changes).includes('fully-random')) {
        // Try once without fully-random: if that passes, fully-random was the problem (an old
        // kernel or nft); if it fails too, the problem is elsewhere and fully-random stays.
        this.fullyRandom = false;
        changes = changesOf(render().tables);
        try {
          await this.runNft(run, changes);
          run.warn('NO_FULLY_RANDOM', `nft refused "masquerade fully-random" (${e.message}); masquerading without it`);
          return;
        } catch (e2) {
          if (!(e2 instanceof DataplaneError)) throw e2;
          this.fullyRandom = true;
          failure = e2;
        }
      }
      // The transaction failed as a whole: the kernel still has what we last knew.
      run.error(failure.code, `NAT tables not updated: ${failure.message}`);
    }
  }

  /** One nft transaction; on success the new texts become "applied". */
  private async runNft(run: Run, changes: Map<NatTableId, string | undefined>): Promise<void> {
    if (changes.size === 0) return;
    await run.nft.run(natScript(changes));
    for (const [id, text] of changes) this.natApplied!.set(id, text === undefined ? undefined : normalizeNft(text));
    run.report.changes++;
    run.report.natTables += changes.size;
    this.log('debug', 'nft tables replaced', { tables: [...changes.keys()] });
  }

  /** What the kernel has now (normalised), or undefined when nft cannot tell us. */
  private async listNat(run: Run, nat: NatPlan): Promise<Map<NatTableId, string | undefined> | undefined> {
    const listed = new Map<NatTableId, string | undefined>();
    for (const id of NAT_TABLES) {
      try {
        const text = await run.nft.list(id);
        listed.set(id, text === undefined ? undefined : normalizeNft(text));
      } catch (e) {
        if (!(e instanceof DataplaneError)) throw e;
        if (nat.masquerade.length === 0) {
          // Nothing to masquerade and no working nft (often: not installed): there is no table of
          // ours to clean up either. Say so once and stop asking.
          run.warn(e.code, `nftables unavailable (${e.message}); no NAT rules needed, none checked`);
          return new Map(NAT_TABLES.map((t) => [t, undefined]));
        }
        run.error(e.code, `NAT not applied: cannot list nft table ${id}: ${e.message}`);
        return undefined;
      }
    }
    return listed;
  }
}
