/**
 * Network namespaces for integration tests: named namespaces, veth pairs, an "L2 segment" (a
 * bridge living in its own namespace so the root namespace is never touched), addresses, routes,
 * commands run inside a namespace, and long-running processes tracked by PID.
 *
 * Everything created here is registered and removed again:
 * - `cleanupAll()` (call it from `after()`): SIGTERM every tracked process, SIGKILL after a grace
 *   period, then delete every namespace this process created (killing any PID still inside it,
 *   as reported by `ip netns pids`), then remove registered temp dirs;
 * - a `process.on('exit')` guard doing the same synchronously with SIGKILL;
 * - a detached watchdog shell that does it if this process dies without either (SIGKILL, runner
 *   timeout). It reads the state files in `stateDir()` — namespace names, "pid starttime" lines
 *   (a PID is only killed if /proc/<pid>/stat still shows the same start time, so a recycled PID
 *   is never hit), temp dirs.
 *
 * Names are unique per test process: `t<pid>-<tag>` (namespace names are files under /run/netns,
 * so they may be longer than interface names; interface names stay ≤ 15 characters and only need
 * to be unique inside their namespace because both ends of a veth are created directly in their
 * target namespaces).
 *
 * Tricky bits: `ip netns exec` execs the command, so the PID of the spawned `ip` process IS the
 * daemon's PID. IPv6 addresses are added with `nodad` so they are usable at once (no 1–2 s of
 * "tentative"). Everything here is synchronous except process stops: the `ip` calls take a few ms.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const IP_BIN = process.env.IP_BIN ?? '/usr/sbin/ip';

export interface ExecResult {
  stdout: string;
  stderr: string;
  status: number | null;
  signal: NodeJS.Signals | null;
}

export interface RunOptions {
  /** Throw on a non-zero exit (default true). */
  check?: boolean;
  timeoutMs?: number;
  input?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

function describeFailure(argv: string[], r: ExecResult | SpawnSyncReturns<string>, err?: Error): string {
  const why = err ? err.message : `exit ${r.status ?? r.signal}`;
  return `${argv.join(' ')} failed (${why}): ${String(r.stderr ?? '').trim() || String(r.stdout ?? '').trim()}`;
}

/** Runs a command (synchronously) in the root namespace. */
export function run(argv: string[], opts: RunOptions = {}): ExecResult {
  const [cmd, ...args] = argv;
  if (!cmd) throw new Error('run: empty argv');
  const r = spawnSync(cmd, args, {
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 20_000,
    input: opts.input,
    env: opts.env,
    cwd: opts.cwd,
    maxBuffer: 64 * 1024 * 1024,
  });
  const res: ExecResult = { stdout: r.stdout ?? '', stderr: r.stderr ?? '', status: r.status, signal: r.signal };
  if ((opts.check ?? true) && (r.error || r.status !== 0)) throw new Error(describeFailure(argv, res, r.error));
  return res;
}

/** Runs a command without blocking the event loop (e.g. while an in-process BGP speaker must answer). */
export function runAsync(argv: string[], opts: RunOptions = {}): Promise<ExecResult> {
  const [cmd, ...args] = argv;
  if (!cmd) return Promise.reject(new Error('runAsync: empty argv'));
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env, cwd: opts.cwd, stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 20_000);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`${argv.join(' ')}: ${e.message}`));
    });
    child.once('close', (status, signal) => {
      clearTimeout(timer);
      const res: ExecResult = { stdout, stderr, status, signal };
      if ((opts.check ?? true) && status !== 0) reject(new Error(describeFailure(argv, res)));
      else resolve(res);
    });
    if (child.stdin) {
      child.stdin.on('error', () => {
        /* the command exited without reading its input: its status tells */
      });
      child.stdin.end(opts.input);
    }
  });
}

/** Why namespace tests cannot run here, or undefined when they can. */
export function skipReason(): string | undefined {
  if (process.platform !== 'linux') return `network namespaces need Linux (this is ${process.platform})`;
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'network namespaces need root (run the tests as root)';
  if (!existsSync(IP_BIN)) return `iproute2 not installed (${IP_BIN} missing; apt-get install iproute2)`;
  const r = spawnSync(IP_BIN, ['netns', 'list'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return `\`ip netns\` does not work here: ${r.error?.message ?? r.stderr.trim()}`;
  return undefined;
}

/** Same as `skipReason`, under a more specific name for callers that import several helpers. */
export const netnsSkipReason = skipReason;

/** A name unique to this test process: `t<pid>-<tag>` (tag: letters, digits, '-'). */
export function uniqueName(tag: string): string {
  if (!/^[A-Za-z0-9-]+$/.test(tag)) throw new Error(`bad name tag ${JSON.stringify(tag)}`);
  return `t${process.pid}-${tag}`;
}

// ---------------------------------------------------------------------------------------------
// Registry, exit guard and watchdog

const namespaces = new Set<string>();
const processes = new Set<TrackedProcess>();
const tempDirs = new Set<string>();
let state: string | undefined;
let watchdog: ChildProcess | undefined;

/** Directory with this process's state files (read by the watchdog). Created on first use. */
export function stateDir(): string {
  if (!state) {
    state = mkdtempSync(join(tmpdir(), `tortie-netns-${process.pid}-`));
    writeFileSync(join(state, 'netns'), '');
    writeFileSync(join(state, 'pids'), '');
    writeFileSync(join(state, 'dirs'), '');
    startWatchdog(state);
  }
  return state;
}

function rewriteState(): void {
  if (!state) return;
  writeFileSync(join(state, 'netns'), [...namespaces].map((n) => n + '\n').join(''));
  writeFileSync(
    join(state, 'pids'),
    [...processes].filter((p) => p.running()).map((p) => `${p.pid} ${p.startTime}\n`).join(''),
  );
  writeFileSync(join(state, 'dirs'), [...tempDirs].map((d) => d + '\n').join(''));
}

function startWatchdog(dir: string): void {
  const me = process.pid;
  // Runs in its own process group; when this process is gone, kills what is left and removes it.
  const script = `
me=${me}; d='${dir}'
while kill -0 $me 2>/dev/null && [ -d "$d" ]; do sleep 1; done
[ -d "$d" ] || exit 0
while read -r pid st; do
  [ -n "$pid" ] || continue
  cur=$(cut -d' ' -f22 /proc/$pid/stat 2>/dev/null) && [ "$cur" = "$st" ] && kill -9 $pid 2>/dev/null
done < "$d/pids"
while read -r ns; do
  [ -n "$ns" ] || continue
  for p in $(${IP_BIN} netns pids "$ns" 2>/dev/null); do kill -9 $p 2>/dev/null; done
  ${IP_BIN} netns del "$ns" 2>/dev/null
done < "$d/netns"
while read -r t; do [ -n "$t" ] && rm -rf "$t"; done < "$d/dirs"
rm -rf "$d"`;
  watchdog = spawn('/bin/sh', ['-c', script], { stdio: 'ignore', detached: true });
  watchdog.unref();
}

function procStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may contain spaces: count fields after the closing parenthesis.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19]; // field 22 overall
  } catch {
    return undefined;
  }
}

function syncCleanup(): void {
  for (const p of processes) p.killGroupSync('SIGKILL');
  for (const ns of namespaces) {
    killNamespacePidsSync(ns, 'SIGKILL');
    spawnSync(IP_BIN, ['netns', 'del', ns]);
  }
  namespaces.clear();
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
  tempDirs.clear();
  processes.clear();
  if (state) rmSync(state, { recursive: true, force: true });
  state = undefined;
  if (watchdog?.pid) {
    try {
      process.kill(-watchdog.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}
process.on('exit', syncCleanup);

function killNamespacePidsSync(ns: string, signal: NodeJS.Signals): number {
  const r = spawnSync(IP_BIN, ['netns', 'pids', ns], { encoding: 'utf8' });
  let n = 0;
  for (const s of (r.stdout ?? '').split(/\s+/)) {
    const pid = Number(s);
    if (!pid) continue;
    try {
      process.kill(pid, signal);
      n++;
    } catch {
      /* gone */
    }
  }
  return n;
}

/** Registers a temp dir to remove in cleanupAll / on exit. */
export function trackTempDir(dir: string): void {
  stateDir();
  tempDirs.add(dir);
  rewriteState();
}

/** Removes a temp dir now and forgets it. */
export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
  rewriteState();
}

/** mkdtemp under the OS temp dir, named with the test PID, removed by cleanupAll. */
export function makeTempDir(tag: string): string {
  const d = mkdtempSync(join(tmpdir(), `tortie-${tag}-${process.pid}-`));
  trackTempDir(d);
  return d;
}

// ---------------------------------------------------------------------------------------------
// Processes

export interface SpawnOptions {
  /** Namespace to run in (via `ip netns exec`); omit for the root namespace. */
  netns?: Netns | string;
  /** stdout+stderr go here (appended); default: discarded. */
  logFile?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Keep stdin as a pipe (child.stdin) instead of /dev/null. */
  stdinPipe?: boolean;
}

/**
 * A long-running process started by `spawnTracked`. It leads its own process group, so `kill`
 * also reaches its children (e.g. exabgp's API helper) — only processes this test started.
 */
export class TrackedProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly startTime: string;
  readonly argv: string[];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private done = false;

  constructor(child: ChildProcess, argv: string[]) {
    if (!child.pid) throw new Error(`could not start ${argv.join(' ')}`);
    this.child = child;
    this.pid = child.pid;
    this.argv = argv;
    this.startTime = procStartTime(this.pid) ?? '?';
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.done = true;
        processes.delete(this);
        rewriteState();
        resolve({ code, signal });
      });
    });
  }

  running(): boolean {
    return !this.done && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Sends a signal to the process (and its process group). */
  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (!this.running()) return;
    try {
      process.kill(-this.pid, signal);
    } catch {
      try {
        process.kill(this.pid, signal);
      } catch {
        /* gone */
      }
    }
  }

  killGroupSync(signal: NodeJS.Signals): void {
    this.kill(signal);
  }

  /** SIGTERM (or `signal`), SIGKILL after `graceMs`; resolves when the process has exited. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000): Promise<void> {
    if (!this.running()) return;
    this.kill(signal);
    const timer = setTimeout(() => this.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
    // The group may still hold children that ignored the signal.
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      /* none left */
    }
  }
}

/** Spawns a long-running process (optionally inside a namespace) and tracks it until it exits. */
export function spawnTracked(argv: string[], opts: SpawnOptions = {}): TrackedProcess {
  stateDir();
  const nsName = typeof opts.netns === 'string' ? opts.netns : opts.netns?.name;
  const full = nsName ? [IP_BIN, 'netns', 'exec', nsName, ...argv] : argv;
  const [cmd, ...args] = full;
  let out: number | 'ignore' = 'ignore';
  if (opts.logFile) out = openSync(opts.logFile, 'a');
  const child = spawn(cmd!, args, {
    stdio: [opts.stdinPipe ? 'pipe' : 'ignore', out, out],
    env: opts.env,
    cwd: opts.cwd,
    detached: true,
  });
  if (typeof out === 'number') closeSync(out);
  child.unref();
  const tp = new TrackedProcess(child, full);
  processes.add(tp);
  rewriteState();
  return tp;
}

// ---------------------------------------------------------------------------------------------
// Namespaces

export class Netns {
  readonly name: string;
  private deleted = false;

  constructor(name: string) {
    this.name = name;
  }

  /** `ip -n <ns> args…`; returns stdout. */
  ip(...args: string[]): string {
    return run([IP_BIN, '-n', this.name, ...args]).stdout;
  }

  /** Runs a command inside the namespace (synchronously). */
  exec(argv: string[], opts: RunOptions = {}): ExecResult {
    return run([IP_BIN, 'netns', 'exec', this.name, ...argv], opts);
  }

  /** Runs a command inside the namespace without blocking the event loop. */
  execAsync(argv: string[], opts: RunOptions = {}): Promise<ExecResult> {
    return runAsync([IP_BIN, 'netns', 'exec', this.name, ...argv], opts);
  }

  /** Starts a long-running process inside the namespace, tracked by PID. */
  spawn(argv: string[], opts: Omit<SpawnOptions, 'netns'> = {}): TrackedProcess {
    return spawnTracked(argv, { ...opts, netns: this });
  }

  /** Adds an address (CIDR, v4 or v6) to an interface. IPv6 is added with `nodad`. */
  addAddress(ifname: string, cidr: string): void {
    const v6 = cidr.includes(':');
    this.ip(...(v6 ? ['-6'] : []), 'addr', 'add', cidr, 'dev', ifname, ...(v6 ? ['nodad'] : []));
  }

  /** `ip route add <spec…>` in the namespace, e.g. addRoute('blackhole', '10.0.0.0/24'). */
  addRoute(...spec: string[]): void {
    const v6 = spec.some((s) => /^[0-9a-f:]+:[0-9a-f:]*(\/\d+)?$/i.test(s));
    this.ip(...(v6 ? ['-6'] : []), 'route', 'add', ...spec);
  }

  /** Sets a sysctl inside the namespace (net.* sysctls are per namespace). */
  sysctl(key: string, value: string | number): void {
    this.exec(['sysctl', '-qw', `${key}=${value}`]);
  }

  /** PIDs of every process inside the namespace. */
  pids(): number[] {
    const r = run([IP_BIN, 'netns', 'pids', this.name], { check: false });
    return r.stdout.split(/\s+/).filter(Boolean).map(Number);
  }

  exists(): boolean {
    return existsSync(`/run/netns/${this.name}`);
  }

  /** Kills what runs inside (TERM, then KILL after graceMs) and deletes the namespace. Idempotent. */
  async delete(graceMs = 2000): Promise<void> {
    if (this.deleted) return;
    for (const p of processes) {
      if (p.argv[1] === 'netns' && p.argv[3] === this.name) await p.stop('SIGTERM', graceMs);
    }
    if (killNamespacePidsSync(this.name, 'SIGTERM') > 0) {
      const deadline = Date.now() + graceMs;
      while (this.pids().length > 0 && Date.now() < deadline) await sleep(50);
      killNamespacePidsSync(this.name, 'SIGKILL');
      while (this.pids().length > 0 && Date.now() < deadline + 2000) await sleep(20);
    }
    run([IP_BIN, 'netns', 'del', this.name], { check: false });
    this.deleted = true;
    namespaces.delete(this.name);
    rewriteState();
  }
}

/**
 * Creates namespace `t<pid>-<tag>` with `lo` up (IPv4 forwarding on when `forwarding`).
 * Fails if it already exists (a leftover would hide bugs).
 */
export function createNetns(tag: string, opts: { forwarding?: boolean } = {}): Netns {
  const name = uniqueName(tag);
  stateDir();
  namespaces.add(name); // register first: a half-made namespace is still cleaned up
  rewriteState();
  run([IP_BIN, 'netns', 'add', name]);
  const ns = new Netns(name);
  ns.ip('link', 'set', 'lo', 'up');
  if (opts.forwarding) {
    ns.sysctl('net.ipv4.ip_forward', 1);
    ns.sysctl('net.ipv6.conf.all.forwarding', 1);
  }
  return ns;
}

export interface VethEnd {
  ns: Netns;
  ifname: string;
  /** CIDRs to assign (v4 and/or v6). */
  addresses?: string[];
}

/** Creates a veth pair with each end directly in its namespace, assigns addresses, sets both up. */
export function createVethPair(a: VethEnd, b: VethEnd): void {
  for (const e of [a, b]) if (e.ifname.length > 15) throw new Error(`interface name too long: ${e.ifname}`);
  run([IP_BIN, 'link', 'add', a.ifname, 'netns', a.ns.name, 'type', 'veth', 'peer', 'name', b.ifname, 'netns', b.ns.name]);
  for (const e of [a, b]) {
    for (const c of e.addresses ?? []) e.ns.addAddress(e.ifname, c);
    e.ns.ip('link', 'set', e.ifname, 'up');
  }
}

export interface SegmentMember {
  ns: Netns;
  ifname: string;
  addresses: string[];
}

/**
 * An L2 segment: bridge `br0` in its own namespace; each `attach` adds a veth from a host
 * namespace (`ifname`, default eth0) to the bridge (port `p<n>`).
 */
export class Segment {
  readonly bridge: Netns;
  readonly members: SegmentMember[] = [];

  constructor(bridge: Netns) {
    this.bridge = bridge;
  }

  attach(ns: Netns, addresses: string[], ifname = 'eth0'): SegmentMember {
    const port = `p${this.members.length}`;
    createVethPair({ ns, ifname, addresses }, { ns: this.bridge, ifname: port });
    this.bridge.ip('link', 'set', port, 'master', 'br0');
    const m = { ns, ifname, addresses };
    this.members.push(m);
    return m;
  }

  async delete(): Promise<void> {
    await this.bridge.delete();
  }
}

export function createSegment(tag: string): Segment {
  const bridge = createNetns(tag);
  bridge.ip('link', 'add', 'br0', 'type', 'bridge');
  // No STP / forwarding delay: ports forward at once.
  bridge.ip('link', 'set', 'br0', 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0');
  bridge.ip('link', 'set', 'br0', 'up');
  return new Segment(bridge);
}

/**
 * Convenience: a segment plus one host namespace per entry, each with its addresses on eth0
 * (forwarding on). Returns the host namespaces in order.
 */
export function createLan(tag: string, hosts: { tag: string; addresses: string[] }[]): { segment: Segment; hosts: Netns[] } {
  const segment = createSegment(`${tag}-lan`);
  const nss: Netns[] = [];
  for (const h of hosts) {
    const ns = createNetns(`${tag}-${h.tag}`, { forwarding: true });
    segment.attach(ns, h.addresses);
    nss.push(ns);
  }
  return { segment, hosts: nss };
}

/** Stops every tracked process (TERM, KILL after graceMs), deletes every namespace and temp dir. */
export async function cleanupAll(grace: number | unknown = 3000): Promise<void> {
  // Also usable as a hook directly (`after(cleanupAll)`): node:test passes its context first.
  const graceMs = typeof grace === 'number' ? grace : 3000;
  await Promise.all([...processes].map((p) => p.stop('SIGTERM', graceMs)));
  for (const name of [...namespaces]) await new Netns(name).delete(graceMs);
  for (const d of [...tempDirs]) removeTempDir(d);
}

/** Names of the namespaces this process has created and not yet deleted. */
export function liveNamespaces(): string[] {
  return [...namespaces];
}

/** PIDs of the tracked processes still running. */
export function livePids(): number[] {
  return [...processes].filter((p) => p.running()).map((p) => p.pid);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Polls `predicate` every `intervalMs` until it returns a truthy value (returned) or `timeoutMs`
 * passes (throws, with `what` and the last value/error in the message). Errors thrown by the
 * predicate count as "not yet".
 */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  timeoutMs = 10_000,
  opts: { intervalMs?: number; what?: string } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await predicate();
      if (v) return v as NonNullable<T>;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() >= deadline) {
      const detail = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${opts.what ?? 'condition'} (last: ${detail})`);
    }
    await sleep(opts.intervalMs ?? 100);
  }
}
