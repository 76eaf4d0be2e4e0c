/*
 * Shared pieces of the BGP benchmarks (bench/bgp-ingest.ts, bench/bgp-rr-scale.ts): a minimal BGP peer on raw
 * bytes (OPEN / KEEPALIVE / framing / counting NLRI) for the feeder, the sink and the RR load generator, child
 * processes that talk JSON lines, peak RSS from /proc, medians, and a Ctrl-C handler that removes every
 * namespace and process the run created (test/helpers/netns.ts does the bookkeeping).
 *
 * The raw peer deliberately does not use tortie's codec on the receive path: the feeder, the sink and the load
 * generator must not share tortie's speed (or bugs) with the thing they measure. Only OPEN is built with
 * `encodeOpen`, once per session.
 */

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { encodeOpen } from '../src/bgp/wire/index.js';
import { cleanupAll, IP_BIN } from '../test/helpers/netns.js';

export const MSG_OPEN = 1;
export const MSG_UPDATE = 2;
export const MSG_NOTIFICATION = 3;
export const MSG_KEEPALIVE = 4;

/** Wall-clock milliseconds (fractional), comparable between processes on this machine. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

export const KEEPALIVE = (() => {
  const b = Buffer.alloc(19, 0xff);
  b.writeUInt16BE(19, 16);
  b[18] = MSG_KEEPALIVE;
  return b;
})();

/** End-of-RIB for IPv4 unicast: an UPDATE with nothing in it (RFC 4724 §2). */
export const EOR_V4 = (() => {
  const b = Buffer.alloc(23, 0xff);
  b.writeUInt16BE(23, 16);
  b[18] = MSG_UPDATE;
  b.writeUInt32BE(0, 19);
  return b;
})();

/** An OPEN for IPv4 unicast with 4-octet AS (and route refresh, which every daemon here expects). */
export function openMessage(asn: number, holdTime: number, routerId: string): Buffer {
  return encodeOpen({
    myAs: asn,
    holdTime,
    routerId,
    capabilities: [{ kind: 'multiprotocol', afi: 1, safi: 1 }, { kind: 'route-refresh' }, { kind: 'four-octet-as', asn }],
  });
}

export function ip4ToInt(a: string): number {
  const p = a.split('.').map(Number);
  return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
}

export function intToIp4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/**
 * Splits a TCP byte stream into BGP messages. `onMessage(type, buf, start, end)` gets the whole message
 * (header included) as a range of `buf`, valid only during the call. No copy unless a message straddles chunks.
 */
export class RawFramer {
  private pending: Buffer | undefined;

  constructor(private readonly onMessage: (type: number, buf: Buffer, start: number, end: number) => void) {}

  push(chunk: Buffer): void {
    let buf = chunk;
    if (this.pending) {
      buf = Buffer.concat([this.pending, chunk]);
      this.pending = undefined;
    }
    let o = 0;
    const n = buf.length;
    while (n - o >= 19) {
      const len = buf.readUInt16BE(o + 16);
      if (len < 19 || len > 65535) throw new Error(`bad BGP message length ${len}`);
      if (n - o < len) break;
      this.onMessage(buf[o + 18]!, buf, o, o + len);
      o += len;
    }
    if (o < n) this.pending = Buffer.from(buf.subarray(o));
  }
}

/**
 * IPv4 prefixes in the classic fields of an UPDATE (range of `buf`): calls `each(addr, len, withdrawn)` per
 * prefix. MP_REACH/MP_UNREACH are not looked at (every session here is IPv4 unicast only).
 */
export function forEachV4Prefix(buf: Buffer, start: number, end: number, each: (addr: number, len: number, withdrawn: boolean) => void): void {
  let o = start + 19;
  const wlen = buf.readUInt16BE(o);
  o += 2;
  const wend = o + wlen;
  while (o < wend) o = readPrefix(buf, o, each, true);
  const alen = buf.readUInt16BE(o);
  o += 2 + alen;
  while (o < end) o = readPrefix(buf, o, each, false);
}

function readPrefix(buf: Buffer, o: number, each: (addr: number, len: number, withdrawn: boolean) => void, w: boolean): number {
  const len = buf[o]!;
  const bytes = (len + 7) >> 3;
  let a = 0;
  for (let i = 0; i < 4; i++) a = a * 256 + (i < bytes ? buf[o + 1 + i]! : 0);
  each(a, len, w);
  return o + 1 + bytes;
}

/** Number of IPv4 NLRI (announced) and withdrawn prefixes in an UPDATE, without materialising them. */
export function countV4(buf: Buffer, start: number, end: number): { announced: number; withdrawn: number } {
  let o = start + 19;
  const wlen = buf.readUInt16BE(o);
  o += 2;
  const wend = o + wlen;
  let withdrawn = 0;
  while (o < wend) {
    o += 1 + ((buf[o]! + 7) >> 3);
    withdrawn++;
  }
  const alen = buf.readUInt16BE(o);
  o += 2 + alen;
  let announced = 0;
  while (o < end) {
    o += 1 + ((buf[o]! + 7) >> 3);
    announced++;
  }
  return { announced, withdrawn };
}

/** Peak and current RSS of a process in bytes (VmHWM / VmRSS), or undefined when it is gone. */
export function procMemory(pid: number): { hwm: number; rss: number } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN) * 1024;
    return { hwm: kb('VmHWM'), rss: kb('VmRSS') };
  } catch {
    return undefined;
  }
}

/** User and system CPU seconds a process has used so far. */
export function procCpuSplit(pid: number): { user: number; sys: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { user: Number(f[11]) / 100, sys: Number(f[12]) / 100 };
  } catch {
    return undefined;
  }
}

/** CPU time (user + system, seconds) a process has used so far. */
export function procCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return undefined;
  }
}

/**
 * A process's CPU time in seconds with nanosecond resolution: the sum of its threads' run time from
 * /proc/<pid>/task/<tid>/schedstat (the scheduler's own accounting), where /proc/<pid>/stat counts whole
 * 10 ms ticks. Threads that have exited are not counted (a daemon's threads live as long as it does).
 * Falls back to procCpuSeconds where schedstat is missing.
 */
export function procCpuPrecise(pid: number): number | undefined {
  try {
    let ns = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        // the thread exited meanwhile
      }
    }
    return ns / 1e9;
  } catch {
    return procCpuSeconds(pid);
  }
}

export function median(xs: readonly number[]): number {
  const s = [...xs].filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** `--name value` / `--name=value` / `--flag` parsing; returns the value, 'true' for a bare flag, or the default. */
export function arg(name: string, def?: string): string | undefined {
  const eq = process.argv.find((a) => a.startsWith(`--${name}=`));
  if (eq) return eq.slice(name.length + 3);
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return def;
  const v = process.argv[i + 1];
  return v === undefined || v.startsWith('--') ? 'true' : v;
}

/**
 * A child process (normally `ip netns exec <ns> …`) whose stdout is JSON lines. Lines with `event` are kept
 * for `waitEvent`; `request()` writes a line to stdin and resolves with the next line carrying the same `id`.
 */
export class JsonProc {
  readonly child: ChildProcess;
  readonly events: Record<string, unknown>[] = [];
  private readonly waiters: { pred: (e: Record<string, unknown>) => boolean; resolve: (e: Record<string, unknown>) => void }[] = [];
  private readonly replies = new Map<number, (e: Record<string, unknown>) => void>();
  private nextId = 1;
  stderr = '';
  exited: Promise<number | null>;

  constructor(
    readonly name: string,
    argv: string[],
    opts: { netns?: string; env?: NodeJS.ProcessEnv } = {},
  ) {
    const full = opts.netns ? [IP_BIN, 'netns', 'exec', opts.netns, ...argv] : argv;
    // cwd = the repository, so `node --import tsx` resolves tsx from its node_modules.
    const cwd = new URL('..', import.meta.url).pathname;
    this.child = spawn(full[0]!, full.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env, cwd });
    this.child.stdin!.on('error', () => {});
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      this.stderr += d;
      if (this.stderr.length > 20000) this.stderr = this.stderr.slice(-10000);
    });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      let e: Record<string, unknown>;
      try {
        e = JSON.parse(line) as Record<string, unknown>;
      } catch {
        this.stderr += `[stdout] ${line}\n`;
        return;
      }
      if (typeof e.id === 'number' && this.replies.has(e.id)) {
        const r = this.replies.get(e.id)!;
        this.replies.delete(e.id);
        r(e);
        return;
      }
      this.events.push(e);
      for (const w of [...this.waiters]) {
        if (w.pred(e)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(e);
        }
      }
    });
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  get pid(): number {
    return this.child.pid!;
  }

  send(line: string): void {
    this.child.stdin!.write(line + '\n');
  }

  request(cmd: string, timeoutMs = 30_000): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.replies.delete(id);
        reject(new Error(`${this.name}: no reply to ${cmd} within ${timeoutMs} ms; stderr: ${this.stderr.slice(-2000)}`));
      }, timeoutMs);
      this.replies.set(id, (e) => {
        clearTimeout(t);
        resolve(e);
      });
      this.send(JSON.stringify({ id, cmd }));
    });
  }

  waitEvent(event: string, timeoutMs: number, pred: (e: Record<string, unknown>) => boolean = () => true): Promise<Record<string, unknown>> {
    const have = this.events.find((e) => e.event === event && pred(e));
    if (have) return Promise.resolve(have);
    return new Promise((resolve, reject) => {
      const w = {
        pred: (e: Record<string, unknown>) => e.event === event && pred(e),
        resolve: (e: Record<string, unknown>) => {
          clearTimeout(t);
          clearInterval(dead);
          resolve(e);
        },
      };
      const fail = (why: string) => {
        clearTimeout(t);
        clearInterval(dead);
        const i = this.waiters.indexOf(w);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new Error(`${this.name}: ${why} waiting for "${event}"; stderr: ${this.stderr.slice(-2000)}`));
      };
      const t = setTimeout(() => fail(`timed out after ${timeoutMs} ms`), timeoutMs);
      const dead = setInterval(() => {
        if (this.child.exitCode !== null || this.child.signalCode !== null) fail(`exited (${this.child.exitCode ?? this.child.signalCode})`);
      }, 100);
      this.waiters.push(w);
    });
  }

  /** SIGTERM, SIGKILL after graceMs; resolves when gone. */
  async stop(graceMs = 5000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(t);
  }
}

/** Ctrl-C / SIGTERM: remove every namespace and process of this run, then exit. */
export function installSignalCleanup(): void {
  let busy = false;
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      if (busy) process.exit(130);
      busy = true;
      console.error(`\n${sig}: cleaning up namespaces and processes…`);
      cleanupAll(1000).finally(() => process.exit(130));
    });
  }
}

/** Machine facts for the results file. */
export function machine(): Record<string, unknown> {
  const cpu = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1];
  const mem = Number(/MemTotal:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0) * 1024;
  let kernel = '';
  try {
    kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  } catch {
    /* not Linux */
  }
  return { cpus: readFileSync('/proc/cpuinfo', 'utf8').match(/^processor/gm)?.length, cpu, memoryBytes: mem, kernel, node: process.version };
}

/**
 * Bundles a bench entry point (e.g. bench/tortie-driver.ts) with esbuild into one ESM file under the OS temp
 * dir and returns its path: the measured process then runs on plain `node`, as a built tortie would, without
 * tsx's loader thread in its RSS.
 */
export async function bundle(entry: string, name: string): Promise<string> {
  const { build } = await import('esbuild');
  const { mkdirSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = join(tmpdir(), 'tortie-bench-build');
  mkdirSync(dir, { recursive: true });
  const outfile = join(dir, `${name}.mjs`);
  await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile, sourcemap: 'linked', logLevel: 'error' });
  return outfile;
}

/** Short commit of the repository at `root`, with "+dirty-src" when src/ has uncommitted changes. */
export function gitRev(root: string): string {
  try {
    const rev = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', 'src'], { cwd: root, encoding: 'utf8' }).trim() ? '+dirty-src' : '';
    return rev + dirty;
  } catch {
    return 'unknown';
  }
}

/** Host CPU counters from /proc/stat: busy and total jiffies over all CPUs. */
export function hostCpu(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((s, x) => s + x, 0);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  return { busy: total - idle, total };
}

/**
 * Waits (up to maxMs) until the host has been nearly idle for 0.5 s: other work on a 2-core machine (a test run
 * in another session) would be measured too. Returns the idle share of the last sample (1 = all CPUs idle).
 */
export async function waitQuiet(maxMs: number, minIdle = 0.9): Promise<number> {
  const end = Date.now() + maxMs;
  for (;;) {
    const a = hostCpu();
    await sleep(500);
    const b = hostCpu();
    const idle = 1 - (b.busy - a.busy) / Math.max(1, b.total - a.total);
    if (idle >= minIdle || Date.now() >= end) return round(idle, 3);
  }
}

/** CPU seconds of this process plus its reaped children (utime, stime, cutime, cstime). */
export function selfCpuSeconds(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / 100;
}

/**
 * CPU used by processes that are not part of the measurement, over a window: host busy time minus the CPU of
 * `pids` (target, feeder or load generator) and of this harness with its reaped children (poll commands).
 */
export class ForeignCpu {
  private readonly host0 = hostCpu();
  private readonly self0 = selfCpuSeconds();
  private readonly pids0: number[];
  private readonly t0 = Date.now();

  constructor(private readonly pids: number[]) {
    this.pids0 = pids.map((p) => procCpuSeconds(p) ?? 0);
  }

  /** { foreign, host, window } in seconds; `noisy` when others used more than 10 % of the machine (and > 50 ms). */
  end(): { foreignCpuSeconds: number; hostBusyCpuSeconds: number; noisy: boolean } {
    const host = (hostCpu().busy - this.host0.busy) / 100;
    const ours = this.pids.reduce((s, p, i) => s + ((procCpuSeconds(p) ?? this.pids0[i]!) - this.pids0[i]!), 0) + (selfCpuSeconds() - this.self0);
    const foreign = Math.max(0, host - ours);
    const window = (Date.now() - this.t0) / 1000;
    const cpus = readFileSync('/proc/cpuinfo', 'utf8').match(/^processor/gm)?.length ?? 1;
    return { foreignCpuSeconds: round(foreign, 2), hostBusyCpuSeconds: round(host, 2), noisy: foreign > Math.max(0.05, 0.1 * cpus * window) };
  }
}


/**
 * Runs a bench's `main`, then `cleanup` (namespaces, processes) whatever happens. Daemons are spawned
 * detached and unref'd (test/helpers/netns.ts): without a handle of our own the event loop could run dry
 * while we wait for one of them, and node would quit in the middle of a run — so one is held until the end.
 */
export function runBench(main: () => Promise<void>, cleanup: () => Promise<unknown>): void {
  const keepAlive = setInterval(() => {}, 1 << 30);
  main()
    .catch((e) => {
      process.stderr.write(`FAILED: ${(e as Error).stack ?? e}\n`);
      process.exitCode = 1;
    })
    .finally(() => cleanup().finally(() => clearInterval(keepAlive)));
}
