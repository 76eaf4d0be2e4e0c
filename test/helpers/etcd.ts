/**
 * A throwaway etcd for integration tests: `/usr/bin/etcd` (or $ETCD_BIN) on 127.0.0.1 with free
 * random ports and a mkdtemp data dir, `--log-level warn`, healthy before `startEtcd` resolves.
 *
 * Cleanup is by PID, never by name: `stop()` (call it from `after()`), a `process.on('exit')`
 * guard, and a tiny watchdog shell that kills etcd if this process dies without either (SIGKILL,
 * a runner timeout). The data dir and log go away with `stop()` or the exit guard.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ETCD_BIN = process.env.ETCD_BIN ?? '/usr/bin/etcd';
export const ETCDCTL_BIN = process.env.ETCDCTL_BIN ?? '/usr/bin/etcdctl';

/** Why etcd tests cannot run here, or undefined when they can. */
export function etcdSkipReason(): string | undefined {
  if (!existsSync(ETCD_BIN)) return `etcd not installed at ${ETCD_BIN} (set ETCD_BIN)`;
  if (!existsSync(ETCDCTL_BIN)) return `etcdctl not installed at ${ETCDCTL_BIN} (set ETCDCTL_BIN)`;
  return undefined;
}

export interface TestEtcd {
  endpoint: string;
  /** PID of the running etcd (changes on restart). */
  readonly pid: number;
  dataDir: string;
  /** Graceful stop (SIGTERM, SIGKILL after 5 s), then removes the data dir. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL etcd, keeping the data dir (start it again with `restart`). */
  kill9(): Promise<void>;
  /** Stops etcd if running and starts it again on the same data dir and ports; resolves when healthy. */
  restart(): Promise<void>;
  /** Runs etcdctl against this etcd; returns stdout, throws with stderr on failure. */
  etcdctl(...args: string[]): string;
}

const live = new Set<{ kill(): void }>();
process.on('exit', () => {
  for (const l of [...live]) l.kill();
});

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', () => r()));
}

export async function startEtcd(opts: { healthTimeoutMs?: number } = {}): Promise<TestEtcd> {
  const skip = etcdSkipReason();
  if (skip) throw new Error(skip);
  const base = mkdtempSync(join(tmpdir(), 'tortie-etcd-'));
  const dataDir = join(base, 'data');
  const logFile = join(base, 'etcd.log');
  const clientPort = await freePort();
  let peerPort = await freePort();
  while (peerPort === clientPort) peerPort = await freePort();
  const endpoint = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const args = [
    '--name', 'tortie-test', '--data-dir', dataDir,
    '--listen-client-urls', endpoint, '--advertise-client-urls', endpoint,
    '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer,
    '--initial-cluster', `tortie-test=${peer}`,
    '--log-level', 'warn', '--logger', 'zap',
  ];

  let child: ChildProcess | undefined;
  let watchdog: ChildProcess | undefined;
  let removed = false;

  /** The watchdog leads its own process group (detached): kill the group, its `sleep` too. */
  const killWatchdog = () => {
    if (watchdog?.pid && watchdog.exitCode === null && watchdog.signalCode === null) {
      try {
        process.kill(-watchdog.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  };
  const killNow = () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    killWatchdog();
  };
  const guard = {
    kill() {
      killNow();
      if (!removed) rmSync(base, { recursive: true, force: true });
    },
  };
  live.add(guard);

  const launch = async () => {
    const log = openSync(logFile, 'a');
    child = spawn(ETCD_BIN, args, { stdio: ['ignore', log, log] });
    closeSync(log);
    const c = child;
    const pid = c.pid!;
    // Kills etcd and removes its dir when this process is gone (checked every second); ends when etcd ends.
    const me = process.pid;
    const script = `while kill -0 ${me} 2>/dev/null && kill -0 ${pid} 2>/dev/null; do sleep 1; done; kill -0 ${me} 2>/dev/null || { kill -9 ${pid} 2>/dev/null; sleep 0.5; rm -rf '${base}'; }`;
    watchdog = spawn('/bin/sh', ['-c', script], {
      stdio: 'ignore',
      detached: true,
    });
    watchdog.unref();
    const deadline = Date.now() + (opts.healthTimeoutMs ?? 15_000);
    for (;;) {
      if (c.exitCode !== null || c.signalCode !== null) {
        throw new Error(`etcd exited (${c.exitCode ?? c.signalCode}) before it was healthy: ${tail(logFile)}`);
      }
      try {
        const res = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(1000) });
        const body = (await res.json()) as { health?: string };
        if (body.health === 'true') return;
      } catch {
        /* not up yet */
      }
      if (Date.now() > deadline) {
        killNow();
        throw new Error(`etcd not healthy at ${endpoint} after ${opts.healthTimeoutMs ?? 15_000} ms: ${tail(logFile)}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  const halt = async (signal: NodeJS.Signals) => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const done = exited(c);
    process.kill(c.pid!, signal);
    const timer = setTimeout(() => {
      try {
        process.kill(c.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, 5000);
    await done;
    clearTimeout(timer);
    killWatchdog();
  };

  try {
    await launch();
  } catch (e) {
    guard.kill();
    live.delete(guard);
    throw e;
  }

  return {
    endpoint,
    get pid() {
      return child!.pid!;
    },
    dataDir,
    async stop() {
      await halt('SIGTERM');
      rmSync(base, { recursive: true, force: true });
      removed = true;
      live.delete(guard);
    },
    async kill9() {
      await halt('SIGKILL');
    },
    async restart() {
      await halt('SIGTERM');
      await launch();
    },
    etcdctl(...a: string[]) {
      const r = spawnSync(ETCDCTL_BIN, ['--endpoints', endpoint, ...a], { encoding: 'utf8', timeout: 10_000 });
      if (r.status !== 0) throw new Error(`etcdctl ${a.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr || r.error?.message}`);
      return r.stdout;
    },
  };
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-5).join(' | ');
  } catch {
    return '(no log)';
  }
}
