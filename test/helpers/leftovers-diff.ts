/**
 * What a test run left behind: a pure comparison of two snapshots (./leftovers.ts takes them) —
 * the baseline scripts/test.sh writes before the suite and the one test/zz-last/leftovers.check.ts
 * takes after every other test file has exited.
 *
 * A leftover is something in the final snapshot and not in the baseline: a network namespace, an
 * interface or nftables table in the root namespace, a process, or a path (temp dirs, lab and FRR
 * state, podman's libcni cache, cgroups). Processes are told apart by pid AND start time,
 * so a recycled pid is a new process.
 *
 * Tricky: the machine is not ours alone (a benchmark, another engineer's tests, a long-lived
 * daemon). Something new is NOT blamed on this run when it demonstrably belongs to a live process
 * outside it (every test file has exited by then, so nothing of the run is still entitled to exist):
 * - a process whose ancestor chain (up to the reaper that adopts orphans) holds a live process that
 *   is not a test candidate (someone's shell, a benchmark driver), or a different run's marker;
 * - a namespace `t<pid>-…`, a temp dir `tortie-<tag>-<pid>-XXXXXX`, a cgroup `tortie-pm-<pid>-<n>`
 *   or an FRR dir `<daemon>.<pid>` whose pid is alive and foreign (a node process, or the daemon);
 * - a path some foreign process holds open, works in, or names on its command line; a namespace a
 *   foreign process lives in.
 * Without a baseline (the check file run on its own) only tortie-owned names count: namespaces
 * `t<pid>-…` / `tl-…`, temp dirs of the tests, tortie cgroups and processes naming the repository or
 * a test temp dir.
 */
import { basename } from 'node:path';

/** The environment variable scripts/test.sh exports: the baseline's path, and the run's marker. */
export const BASELINE_ENV = 'TORTIE_LEFTOVER_BASELINE';

export interface ProcInfo {
  pid: number;
  ppid: number;
  /** Field 22 of /proc/<pid>/stat (clock ticks after boot). */
  start: string;
  cmd: string[];
  /** The process's TORTIE_LEFTOVER_BASELINE, when its environment has one. */
  marker?: string;
  /** Network namespace inode (`net:[…]`). */
  netns?: string;
  /** cwd and open files under the watched roots. */
  paths?: string[];
}

export interface Snapshot {
  takenAt: string;
  /** Names under /run/netns, with their inode (`net:[…]`) when known. */
  namespaces: Record<string, string>;
  /** Interfaces of the root namespace. */
  interfaces: string[];
  /** nftables tables of the root namespace (`inet filter`). */
  nftTables: string[];
  /** Watched paths and cgroups (see ./leftovers.ts). */
  files: string[];
  processes: ProcInfo[];
}

export interface Context {
  /** This repository's absolute path. */
  repo: string;
  /** Temp dirs the tests use (os.tmpdir() and /tmp). */
  tmpDirs: string[];
  /** This run's marker (the baseline path); undefined without a baseline. */
  marker?: string;
  /** The check itself, its runner and its ancestors: never leftovers, nor their descendants. */
  self: number[];
  /** The process that adopts orphans and its ancestors: where an ancestor walk stops. */
  neutral: number[];
}

export type LeftoverKind = 'namespace' | 'interface' | 'nft' | 'process' | 'path';

export interface Leftover {
  kind: LeftoverKind;
  id: string;
  message: string;
}

/** Temp entries that are not the tests' (bench/, the demo) — everything else `tortie-*` / `tl-*` is. */
const NOT_TEST_TMP = /^tortie-(bench|ingest|rr|prof|demo)-/;
const TEST_TMP = /^(tl-|tortie-)/;
/** Daemons and tools the tests start (argv[0], or the script an interpreter runs). */
const DAEMONS = new Set(['bird', 'bird6', 'birdc', 'bgpd', 'zebra', 'staticd', 'watchfrr', 'mgmtd', 'gobgpd', 'gobgp', 'exabgp', 'etcd', 'conmon', 'podman', 'runc', 'tcpdump', 'busybox', 'sleep']);
const INTERPRETERS = new Set(['node', 'python3', 'python', 'sh', 'bash']);

/** Is a temp dir entry (basename) one the tests make? */
export function isTestTmpName(name: string): boolean {
  return TEST_TMP.test(name) && !NOT_TEST_TMP.test(name);
}

/** The pid a name was tagged with by its owner (netns.ts, cni-runtime.ts, FRR), if any. */
export function ownerPid(kind: LeftoverKind, id: string): number | undefined {
  if (kind === 'namespace') return num(/^t(\d+)-/.exec(id));
  if (id.startsWith('/var/tmp/frr/')) return num(/^\/var\/tmp\/frr\/[a-z]+\.(\d+)(\/|$)/.exec(id));
  // the first component that is `tortie-<tag>-<pid>-XXXXXX` (mkdtemp) or `tortie-pm-<pid>-<n>` (cgroup)
  for (const c of id.split('/')) {
    const m = /^tortie-[A-Za-z0-9-]*?-(\d+)-[A-Za-z0-9]{6}$/.exec(c) ?? /^tortie-pm-(\d+)-\d+$/.exec(c);
    if (m) return num(m);
  }
  return undefined;
}

const num = (m: RegExpExecArray | null): number | undefined => (m ? Number(m[1]) : undefined);

/** Does a path (or an argument) point into a test temp dir, or into the repository? */
function mentionsTestPath(s: string, ctx: Context): boolean {
  if (s.startsWith(ctx.repo + '/')) return true;
  return ctx.tmpDirs.some((t) => s.startsWith(t + '/') && isTestTmpName(s.slice(t.length + 1).split('/')[0]!));
}

/** Could this process be one a test started? */
export function isCandidate(p: ProcInfo, ctx: Context): boolean {
  if (p.cmd.some((a) => a.split('=').some((part) => mentionsTestPath(part, ctx)))) return true;
  if (ctx.marker === undefined) return false; // without a baseline: tortie-owned only
  if (p.marker === ctx.marker) return true;
  const [a0 = '', a1 = ''] = p.cmd;
  const names = [basename(a0), ...(INTERPRETERS.has(basename(a0)) ? [basename(a1)] : [])];
  if (names.some((n) => DAEMONS.has(n))) return true;
  return basename(a0) === 'ip' && p.cmd.includes('monitor');
}

export type Owner = 'self' | 'ours' | 'foreign';

/** Whose is a live process: the check's own tree, this run's (or nobody's), or someone else's. */
export function ownerOf(p: ProcInfo, procs: Map<number, ProcInfo>, ctx: Context): Owner {
  const neutral = new Set([0, 1, ...ctx.neutral]);
  const chain: ProcInfo[] = [];
  for (let q: ProcInfo | undefined = p; q && !neutral.has(q.pid) && chain.length < 64; q = procs.get(q.ppid)) chain.push(q);
  if (chain.some((q) => ctx.self.includes(q.pid))) return 'self';
  if (ctx.marker !== undefined && chain.some((q) => q.marker === ctx.marker)) return 'ours';
  if (chain.some((q) => q.marker !== undefined)) return 'foreign'; // another run's marker
  return chain.slice(1).every((q) => isCandidate(q, ctx)) ? 'ours' : 'foreign';
}

const key = (p: ProcInfo): string => `${p.pid}:${p.start}`;
const NODE = /(^|\/)node$/;

/** Everything in `current` that is not in `baseline` and not demonstrably someone else's. */
export function findLeftovers(baseline: Snapshot | undefined, current: Snapshot, ctx: Context): Leftover[] {
  const procs = new Map(current.processes.map((p) => [p.pid, p]));
  const owners = new Map(current.processes.map((p) => [p.pid, ownerOf(p, procs, ctx)]));
  const foreign = current.processes.filter((p) => owners.get(p.pid) === 'foreign');
  const out: Leftover[] = [];
  const add = (kind: LeftoverKind, id: string, message: string) => out.push({ kind, id, message });

  /** The live owner a name is tagged with is someone else's (a node process, or FRR's daemon itself). */
  const ownerAlive = (kind: LeftoverKind, id: string): boolean => {
    const pid = ownerPid(kind, id);
    const p = pid === undefined ? undefined : procs.get(pid);
    return !!p && owners.get(p.pid) === 'foreign' && (NODE.test(p.cmd[0] ?? '') || id.startsWith('/var/tmp/frr/'));
  };
  const inUse = (path: string): boolean =>
    foreign.some((p) => [...(p.paths ?? []), ...p.cmd].some((s) => s === path || s.startsWith(path + '/') || s.includes(`=${path}`)));

  const before = {
    ns: new Set(Object.keys(baseline?.namespaces ?? {})),
    ifs: new Set(baseline?.interfaces),
    nft: new Set(baseline?.nftTables),
    files: new Set(baseline?.files),
    procs: new Set(baseline?.processes.map(key)),
  };

  for (const [name, ino] of Object.entries(current.namespaces)) {
    if (before.ns.has(name)) continue;
    if (!baseline && !/^(t\d+-|tl-)/.test(name)) continue;
    if (ownerAlive('namespace', name)) continue;
    if (ino && foreign.some((p) => p.netns === ino)) continue;
    add('namespace', name, `network namespace ${name} (/run/netns/${name})`);
  }
  if (baseline) {
    for (const i of current.interfaces) if (!before.ifs.has(i)) add('interface', i, `interface ${i} in the root namespace`);
    for (const t of current.nftTables) if (!before.nft.has(t)) add('nft', t, `nftables table ${t} in the root namespace`);
  }
  for (const f of current.files) {
    if (before.files.has(f)) continue;
    if (!baseline && !isOwnedPath(f, ctx)) continue;
    if (ownerAlive('path', f) || inUse(f)) continue;
    add('path', f, f);
  }
  for (const p of current.processes) {
    if (before.procs.has(key(p)) || !isCandidate(p, ctx) || owners.get(p.pid) !== 'ours') continue;
    const cmd = p.cmd.join(' ');
    add('process', String(p.pid), `process ${p.pid} (parent ${p.ppid}): ${cmd.length > 300 ? cmd.slice(0, 300) + '…' : cmd}`);
  }
  const order: LeftoverKind[] = ['namespace', 'interface', 'nft', 'process', 'path'];
  return out.sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind) || a.id.localeCompare(b.id, 'en', { numeric: true }));
}

/** Without a baseline, the paths that are tortie's by name: test temp dirs, tortie cgroups. */
function isOwnedPath(f: string, ctx: Context): boolean {
  return f.startsWith('/sys/fs/cgroup/') ? /\/tortie-pm-[^/]*$/.test(f) : mentionsTestPath(f, ctx);
}

/** The failure message: one leftover per line, grouped by kind. */
export function describeLeftovers(list: readonly Leftover[], baselinePath?: string): string {
  const against = baselinePath ? `compared with the baseline ${baselinePath}` : 'no baseline (run on its own): tortie-owned names only';
  return `the test run left ${list.length} thing(s) behind (${against}):\n${list.map((l) => `  - ${l.kind}: ${l.message}`).join('\n')}`;
}
