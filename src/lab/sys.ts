/**
 * The lab's contact with the system: `ip` (namespaces, veths, bridges, addresses, routes),
 * commands run inside a namespace, and detached daemons whose PID and start time go into the
 * lab's state (state.ts) the moment they exist.
 *
 * `ip netns exec` execs the command, so the PID of the spawned `ip` process is the daemon's own
 * PID (and its /proc start time does not change at exec). Daemons are started detached in their
 * own process group with stdio on a log file: they outlive `tortie lab up`, and a Ctrl-C in the
 * terminal (sent to the foreground process group) does not reach them — the lab's cleanup does.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { IP_BIN, procStartTime, type StateProcess } from './state.js';

export class LabError extends Error {
  readonly code = 'LAB' as const;
}

export interface Result {
  stdout: string;
  stderr: string;
  status: number | null;
  /** `run` only: the command's PID (gone by the time it returns). */
  pid?: number;
}

/** Runs a command (synchronously); throws a LabError with its stderr unless `check` is false. */
export function run(argv: readonly string[], opts: { check?: boolean; input?: string; timeoutMs?: number } = {}): Result {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', input: opts.input, timeout: opts.timeoutMs ?? 20_000, maxBuffer: 64 << 20 });
  const res = { stdout: r.stdout ?? '', stderr: r.stderr ?? '', status: r.status, pid: r.pid };
  if ((opts.check ?? true) && (r.error || r.status !== 0)) {
    throw new LabError(`${argv.join(' ')} failed (${r.error?.message ?? `exit ${r.status ?? r.signal}`}): ${res.stderr.trim() || res.stdout.trim()}`);
  }
  return res;
}

/** Runs a command without blocking the event loop (Ctrl-C must still be heard). */
export function runAsync(argv: readonly string[], opts: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(new LabError(`${argv[0]}: ${e.message}`));
    });
    child.once('close', (status) => {
      clearTimeout(timer);
      resolve({ stdout, stderr, status });
    });
    child.stdin.on('error', () => {
      /* exited without reading its input: the status tells */
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** `ip -n <ns> args…`. */
export function ipn(ns: string, ...args: string[]): string {
  return run([IP_BIN, '-n', ns, ...args]).stdout;
}

export function execIn(ns: string, argv: readonly string[], opts: { check?: boolean } = {}): Result {
  return run([IP_BIN, 'netns', 'exec', ns, ...argv], opts);
}

/** Creates the namespace with `lo` up (and IPv4 forwarding when it routes). */
export function addNamespace(ns: string, forwarding: boolean): void {
  const r = run([IP_BIN, 'netns', 'add', ns], { check: false });
  if (r.status !== 0) {
    if (/exists/i.test(r.stderr)) throw new LabError(`network namespace ${ns} already exists: another lab with this name is running (tortie lab down, or choose another --name)`);
    throw new LabError(`ip netns add ${ns} failed: ${r.stderr.trim()}`);
  }
  ipn(ns, 'link', 'set', 'lo', 'up');
  if (forwarding) execIn(ns, ['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
}

/** A bridge `br0` in its own namespace: the root namespace is never touched. */
export function addBridge(ns: string): void {
  addNamespace(ns, false);
  ipn(ns, 'link', 'add', 'br0', 'type', 'bridge');
  // No STP and no forwarding delay: ports forward at once.
  ipn(ns, 'link', 'set', 'br0', 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0');
  ipn(ns, 'link', 'set', 'br0', 'up');
}

/**
 * Plugs `ns` into the bridge in `bridgeNs` with a veth (`ifname` in ns, `port` on the bridge),
 * both ends created directly in their namespaces, and gives it `cidr`.
 */
export function attach(ns: string, ifname: string, cidr: string, bridgeNs: string, port: string): void {
  for (const n of [ifname, port]) if (n.length > 15) throw new LabError(`interface name too long: ${n}`);
  run([IP_BIN, 'link', 'add', ifname, 'netns', ns, 'type', 'veth', 'peer', 'name', port, 'netns', bridgeNs]);
  ipn(bridgeNs, 'link', 'set', port, 'master', 'br0');
  ipn(bridgeNs, 'link', 'set', port, 'up');
  ipn(ns, 'addr', 'add', cidr, 'dev', ifname);
  ipn(ns, 'link', 'set', ifname, 'up');
}

/** Starts `argv` inside `ns`, detached, output appended to `logFile`; returns the state record. */
export function spawnDetached(ns: string, argv: readonly string[], logFile: string, role: string, env: NodeJS.ProcessEnv = process.env): StateProcess {
  const out = openSync(logFile, 'a');
  try {
    const child = spawn(IP_BIN, ['netns', 'exec', ns, ...argv], { stdio: ['ignore', out, out], env, detached: true });
    child.on('error', () => {
      /* reported through the log and the readiness wait */
    });
    child.unref();
    if (!child.pid) throw new LabError(`could not start ${argv.join(' ')} in ${ns}`);
    return { pid: child.pid, startTime: procStartTime(child.pid) ?? '?', role };
  } finally {
    closeSync(out);
  }
}

/** The last `n` lines of a log file, for error messages. */
export function tail(file: string | undefined, n = 15): string {
  if (!file) return '';
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-n).join('\n');
  } catch {
    return '';
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Polls `done` every `intervalMs` until it is true; after `timeoutMs` throws a LabError with
 * `failure()`'s text. `done` may throw (a daemon that exited) to stop at once.
 */
export async function poll(done: () => boolean | Promise<boolean>, o: { timeoutMs: number; intervalMs?: number; signal?: AbortSignal | undefined; failure: () => string }): Promise<void> {
  const deadline = Date.now() + o.timeoutMs;
  for (;;) {
    if (await done()) return;
    if (Date.now() > deadline) throw new LabError(o.failure());
    await sleep(o.intervalMs ?? 50, o.signal);
  }
}

/**
 * A warning when the kernel's IPv4 neighbour (ARP) table is nearly full. The table and its
 * limit (net.ipv4.neigh.default.gc_thresh3, 1024 by default) are shared by *all* network
 * namespaces: a big benchmark or another lab can fill it, and then new neighbours fail with
 * ENOBUFS ("No buffer space available") — BGP sessions hang in Connect with no other clue.
 */
export function neighbourTableWarning(): string | undefined {
  try {
    const entries = parseInt(readFileSync('/proc/net/stat/arp_cache', 'utf8').split('\n')[1]!.trim().split(/\s+/)[0]!, 16);
    const max = Number(readFileSync('/proc/sys/net/ipv4/neigh/default/gc_thresh3', 'utf8').trim());
    if (!(entries >= max * 0.8)) return undefined;
    return `the kernel's ARP table, shared by every network namespace, holds ${entries} of ${max} entries (other labs or tests?): new neighbours may fail with "No buffer space available"; raise it with sysctl -w net.ipv4.neigh.default.gc_thresh3=${max * 4}`;
  } catch {
    return undefined;
  }
}
