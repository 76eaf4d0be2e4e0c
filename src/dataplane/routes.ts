/**
 * Route reconciler: tortie's routes are exactly the main-table (254) routes with protocol
 * TORTIE_ROUTE_PROTO (93). Each apply lists the kernel's routes (both families), and:
 *  - adds the desired routes that are missing (NLM_F_EXCL: never clobbers a route that appeared
 *    since the listing);
 *  - replaces ours that differ in place (NLM_F_REPLACE — one step, so traffic never sees a gap);
 *  - deletes ours that are not desired, after the adds (a /26 → /25 aggregation adds the /25 first);
 *  - never writes to a (table, dst, metric) slot held by another protocol: the CNI's workload /32s
 *    (proto boot), BIRD's routes (12), the kernel's connected routes. REPLACE would overwrite them
 *    whoever owns them, so such a desired route is skipped with a ROUTE_CONFLICT warning.
 *
 * The route's identity in the kernel is (table, dst, metric) — plus TOS, which nobody here sets.
 * Our routes carry no explicit metric: 0 for IPv4, which the kernel shows as no metric, and 1024
 * for IPv6, the value the kernel fills in. An ours-route at another metric is stale.
 */
import { IP, Prefix } from '../net/index.js';
import { diffByKey, type Diff } from './diff.js';
import { describeRoute, type Family, type Link, type Route, type RouteOp } from './port.js';
import type { Run } from './report.js';
import { TORTIE_ROUTE_PROTO, type KernelRoute } from './types.js';

const MAIN_TABLE = 254;
const defaultMetric = (dst: string): number => (dst.includes(':') ? 1024 : 0);
const keyOf = (r: Route): string => `${r.dst}|${r.metric ?? 0}`;
/** The key of tortie's route to a (canonical) destination: ours always carry the default metric (toKernelRoute). */
const keyOfDst = (dst: string): string => `${dst}|${defaultMetric(dst)}`;

/** The protocol names `ip route` prints, for messages. */
const PROTO_NAMES: Record<number, string> = { 2: 'kernel', 3: 'boot', 4: 'static', 12: 'bird', 16: 'dhcp', 186: 'bgp (FRR)' };

/** A plan route as the kernel will show it, or a reason it cannot be one. */
export function toKernelRoute(r: KernelRoute): Route | string {
  const p = Prefix.tryParse(r.dst);
  if (!p) return `invalid destination ${JSON.stringify(r.dst)}`;
  const dst = p.toString();
  const out: Route = { dst, type: r.type, table: MAIN_TABLE, protocol: TORTIE_ROUTE_PROTO, metric: defaultMetric(dst) };
  if (r.type === 'blackhole') {
    if (r.gateway || r.dev) return `${dst}: a blackhole route has no gateway or device`;
    return out;
  }
  if (r.gateway !== undefined) {
    const gw = IP.tryParse(r.gateway);
    if (!gw) return `${dst}: invalid gateway ${JSON.stringify(r.gateway)}`;
    if (gw.version !== p.version) return `${dst}: gateway ${r.gateway} is of the other address family`;
    out.gateway = gw.toString();
  }
  if (r.dev) out.dev = r.dev;
  if (!out.gateway && !out.dev) return `${dst}: a unicast route needs a gateway or a device`;
  if (r.onlink) {
    if (!out.dev || !out.gateway) return `${dst}: onlink needs both a device and a gateway`;
    out.onlink = true;
  }
  return out;
}

/**
 * toKernelRoute by the plan route's fields: a route-only pass converts the whole plan (every block in the
 * cluster) for one changed route, and parsing was most of the pass. Results are shared, never modified.
 */
const kernelRoutes = new Map<string, Route | string>();
const KERNEL_ROUTES_MAX = 65_536;

function kernelRouteOf(r: KernelRoute): Route | string {
  if (typeof r.dst !== 'string' || (r.gateway !== undefined && typeof r.gateway !== 'string') || (r.dev !== undefined && typeof r.dev !== 'string')) {
    return toKernelRoute(r);
  }
  const key = `${r.type}|${r.dst}|${r.gateway ?? ''}|${r.dev ?? ''}|${r.onlink ? 1 : 0}`;
  let k = kernelRoutes.get(key);
  if (k === undefined) {
    k = toKernelRoute(r);
    if (kernelRoutes.size >= KERNEL_ROUTES_MAX) kernelRoutes.clear();
    kernelRoutes.set(key, k);
  }
  return k;
}

/** The slot key of our route to `dst` in any spelling, or undefined when it does not parse; cached like kernelRouteOf. */
const slotKeys = new Map<string, string | undefined>();

function slotKeyOf(dst: string): string | undefined {
  if (slotKeys.has(dst)) return slotKeys.get(dst);
  const p = Prefix.tryParse(dst);
  const key = p ? keyOfDst(p.toString()) : undefined;
  if (slotKeys.size >= KERNEL_ROUTES_MAX) slotKeys.clear();
  slotKeys.set(dst, key);
  return key;
}

/** Same forwarding: the kernel fills in `dev` for a gateway route, so it only counts when we asked for one. */
function sameRoute(want: Route, have: Route): boolean {
  return (
    want.type === have.type &&
    (want.gateway ?? '') === (have.gateway ?? '') &&
    !!want.onlink === !!have.onlink &&
    (want.dev === undefined || want.dev === have.dev)
  );
}

/**
 * The plan's routes as the kernel will show them. Invalid ones and ones via a device that does not
 * exist are reported (INVALID_PLAN, NO_SUCH_LINK) and left out.
 */
function desiredRoutes(run: Run, planned: readonly KernelRoute[], linkNames: ReadonlySet<string>): Route[] {
  const desired: Route[] = [];
  const missingDev = new Map<string, number>();
  for (const r of planned) {
    const k = kernelRouteOf(r);
    if (typeof k === 'string') {
      run.error('INVALID_PLAN', `route not programmed: ${k}`);
      continue;
    }
    if (k.dev && !linkNames.has(k.dev)) {
      missingDev.set(k.dev, (missingDev.get(k.dev) ?? 0) + 1);
      continue;
    }
    desired.push(k);
  }
  for (const [dev, n] of missingDev) {
    run.error('NO_SUCH_LINK', `${n} route(s) via ${dev} not programmed: the device does not exist`);
  }
  return desired;
}

/** Adds and in-place replaces first, deletes last (a /26 → /25 aggregation adds the /25 first). */
async function programDiff(run: Run, d: Diff<Route, Route>): Promise<void> {
  const rep = run.report.routes;
  for (const r of d.add) {
    await run.attempt(() => `route add ${describeRoute(r)}`, () => run.netlink.addRoute(r), () => rep.added++);
  }
  for (const { desired: r } of d.change) {
    await run.attempt(() => `route replace ${describeRoute(r)}`, () => run.netlink.replaceRoute(r), () => rep.replaced++);
  }
  for (const r of d.remove) {
    await run.attempt(() => `route del ${describeRoute(r)}`, () => run.netlink.deleteRoute(deletionOf(r)), () => rep.deleted++, { goneIsFine: true });
  }
}

/** The request that deletes our route `r`: that slot, that type, our protocol only. */
const deletionOf = (r: Route): Route => ({ dst: r.dst, type: r.type, table: MAIN_TABLE, protocol: TORTIE_ROUTE_PROTO, metric: r.metric ?? 0 });

/**
 * Lists the kernel's routes and converges tortie's to `planned`. Returns the routes now in place
 * (keyed), for route-only passes after it — or undefined when the kernel could not be read.
 */
export async function reconcileRoutes(run: Run, planned: readonly KernelRoute[], links: readonly Link[]): Promise<Map<string, Route> | undefined> {
  const desired = desiredRoutes(run, planned, new Set(links.map((l) => l.name)));

  const actual: Route[] = [];
  for (const family of [4, 6] as Family[]) {
    const rs = await run.read(`IPv${family} routes`, () => run.netlink.listRoutes(family));
    if (rs === undefined) return undefined; // cannot tell what is ours: change nothing rather than guess
    actual.push(...rs.filter((r) => (r.table ?? MAIN_TABLE) === MAIN_TABLE));
  }
  const ours = actual.filter((r) => r.protocol === TORTIE_ROUTE_PROTO);
  const foreign = new Map<string, Route>();
  for (const r of actual) if (r.protocol !== TORTIE_ROUTE_PROTO) foreign.set(keyOf(r), r);

  const wanted = desired.filter((r) => {
    const f = foreign.get(keyOf(r));
    if (!f) return true;
    const who = PROTO_NAMES[f.protocol] ? `${f.protocol} (${PROTO_NAMES[f.protocol]})` : String(f.protocol);
    run.warn('ROUTE_CONFLICT', `route ${r.dst} not programmed: the main table has a route of protocol ${who} for it (${describeRoute(f)}), which tortie leaves alone`);
    return false;
  });

  await programDiff(run, diffByKey(wanted, ours, keyOf, keyOf, sameRoute));
  return byKey(wanted);
}

/**
 * A route-only pass, without listing anything: moves the kernel from `before` — the routes a
 * clean pass left in place (every one programmed, no foreign route in their slots) — to
 * `planned`. A new route is added with NLM_F_EXCL, so a route another protocol put in its slot
 * since makes the add fail rather than be clobbered. Returns the routes now in place, or
 * undefined when this pass cannot settle it (a route invalid or via an unknown device, a failed
 * operation): the caller then runs a full pass, which lists the kernel and says what is wrong.
 */
export async function updateRoutes(
  run: Run,
  planned: readonly KernelRoute[],
  before: ReadonlyMap<string, Route>,
  linkNames: ReadonlySet<string>,
): Promise<Map<string, Route> | undefined> {
  const desired = desiredRoutes(run, planned, linkNames);
  if (!run.report.ok) return undefined;
  await programDiff(run, diffByKey(desired, before.values(), keyOf, keyOf, sameRoute));
  if (!run.report.ok) return undefined;
  return byKey(desired);
}

/**
 * updateRoutes for a plan that differs from the one `before` came from only in the routes to the
 * destinations of `changes` (each one's route now, undefined: none): the same operations, found by
 * looking at those destinations only. Updates `before` in place and returns it, or undefined as
 * updateRoutes does (the caller then runs a full pass, from a fresh listing).
 */
export async function updateRouteChanges(
  run: Run,
  changes: ReadonlyMap<string, Readonly<KernelRoute> | undefined>,
  before: Map<string, Route>,
  linkNames: ReadonlySet<string>,
): Promise<Map<string, Route> | undefined> {
  const named: KernelRoute[] = [];
  for (const r of changes.values()) if (r !== undefined) named.push(r);
  const desired = desiredRoutes(run, named, linkNames);
  if (!run.report.ok) return undefined;
  // What is in place for the named destinations (a destination that does not parse was never programmed).
  const actual: Route[] = [];
  for (const dst of changes.keys()) {
    const key = slotKeyOf(dst);
    const have = key !== undefined ? before.get(key) : undefined;
    if (have) actual.push(have);
  }
  const d = diffByKey(desired, actual, keyOf, keyOf, sameRoute);
  await programDiff(run, d);
  if (!run.report.ok) return undefined;
  for (const r of d.remove) before.delete(keyOf(r));
  for (const r of d.add) before.set(keyOf(r), r);
  for (const { desired: r } of d.change) before.set(keyOf(r), r);
  return before;
}

/** Keyed as the kernel keys them; of duplicates the first wins, as in diffByKey. */
function byKey(routes: readonly Route[]): Map<string, Route> {
  const m = new Map<string, Route>();
  for (const r of routes) if (!m.has(keyOf(r))) m.set(keyOf(r), r);
  return m;
}

/** One mutation of tortie's routes: what to send, and the slot of `before` it settles. */
export interface SingleRouteOp {
  op: RouteOp;
  route: Route;
  key: string;
}

/**
 * What updateRouteChanges would do for `changes` when that is at most one operation, decided without doing it: the
 * operation, or null when nothing needs doing. Undefined when it is anything else — several operations, an invalid
 * route, a device that does not exist — which updateRouteChanges does and reports. One route learned or withdrawn
 * somewhere in the cluster, what every host does for every pod block, is one operation.
 */
export function singleRouteOp(changes: ReadonlyMap<string, Readonly<KernelRoute> | undefined>, before: ReadonlyMap<string, Route>, linkNames: ReadonlySet<string>): SingleRouteOp | null | undefined {
  let found: SingleRouteOp | null = null;
  for (const [dst, r] of changes) {
    const key = slotKeyOf(dst);
    if (key === undefined) return undefined;
    const have = before.get(key);
    let op: SingleRouteOp | null = null;
    if (r === undefined) {
      if (have) op = { op: 'delete', route: deletionOf(have), key };
    } else {
      const want = kernelRouteOf(r);
      if (typeof want === 'string' || keyOf(want) !== key || (want.dev !== undefined && !linkNames.has(want.dev))) return undefined;
      if (!have || !sameRoute(want, have)) op = { op: have ? 'replace' : 'add', route: want, key };
    }
    if (op === null) continue;
    if (found !== null) return undefined;
    found = op;
  }
  return found;
}

/** `before` (the routes in place, keyed) after `op` was done, as updateRouteChanges leaves it. */
export function settleRouteOp(before: Map<string, Route>, op: SingleRouteOp): void {
  if (op.op === 'delete') before.delete(op.key);
  else before.set(op.key, op.route);
}
