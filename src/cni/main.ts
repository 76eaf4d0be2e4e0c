/**
 * The executables: `tortie-cni` (network plugin) and `tortie-ipam` (IPAM plugin), run by a CNI
 * runtime with CNI_* in the environment and the network configuration on stdin. A result (or
 * nothing, for DEL/CHECK/STATUS/GC) goes to stdout with exit status 0; a failure is the spec's
 * error object on stdout with exit status 1. Logs go to `log_file_path` (JSON lines), never to
 * stdout.
 */
import { spawn } from 'node:child_process';
import { existsSync, fstatSync, readSync, writeSync } from 'node:fs';
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Client } from '../datastore/client.js';
import { openBackend } from '../datastore/open.js';
import { Ipam } from '../ipam/ipam.js';
import { addressRequest, datastoreOf, parseNetConf, readInvocation } from './config.js';
import { STEPS, identify, Plugin, toCniError, formatResult, type Step, type PluginDeps } from './plugin.js';
import { CNI_ERROR, CniError, CURRENT_VERSION, type Invocation, type NetConf, type Result } from './types.js';
import { Wiring } from './wiring.js';

export interface Io {
  env: NodeJS.ProcessEnv;
  stdin(): Promise<string>;
  stdout(s: string): void;
}

const LEVELS = { debug: 0, info: 1, warning: 2, error: 3 } as const;

function logger(conf: NetConf | undefined, lines: string[]): PluginDeps['log'] {
  const min = LEVELS[(conf?.log_level?.toLowerCase() === 'warn' ? 'warning' : (conf?.log_level?.toLowerCase() as keyof typeof LEVELS)) ?? 'info'] ?? 1;
  return (level, msg, fields) => {
    if (LEVELS[level] >= min) lines.push(JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }));
  };
}

async function flush(conf: NetConf | undefined, lines: string[]): Promise<void> {
  const file = conf?.log_file_path;
  if (!file || lines.length === 0) return;
  try {
    await mkdir(dirname(file), { recursive: true });
    await appendFile(file, lines.join('\n') + '\n');
  } catch {
    /* logging must never fail a pod */
  }
}

/** Runs another plugin from CNI_PATH (a delegated IPAM). */
function runDelegate(type: string, inv: Invocation, stdin: string, env: NodeJS.ProcessEnv): Promise<Result> {
  const bin = inv.path.map((d) => join(d, type)).find((p) => existsSync(p));
  if (!bin) return Promise.reject(new CniError(CNI_ERROR.INVALID_CONFIG, `IPAM plugin ${type} not found in CNI_PATH (${inv.path.join(':')})`));
  return new Promise((resolve, reject) => {
    const child = spawn(bin, [], { env: { ...env, CNI_COMMAND: inv.command }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.once('error', (e) => reject(new CniError(CNI_ERROR.IO_FAILURE, `running ${bin}: ${e.message}`)));
    child.once('close', (code) => {
      if (code === 0) return resolve((out.trim() ? JSON.parse(out) : { cniVersion: CURRENT_VERSION }) as Result);
      let err: { code?: number; msg?: string } = {};
      try {
        err = JSON.parse(out) as typeof err;
      } catch {
        /* not JSON */
      }
      reject(new CniError(err.code ?? CNI_ERROR.IO_FAILURE, `IPAM plugin ${type}: ${err.msg ?? out.trim()}`));
    });
    child.stdin.end(stdin);
  });
}

/**
 * Not for production — no runtime sets these:
 *  - TORTIE_CNI_FAULT=<step> (one of STEPS) makes ADD fail there, `pause-<step>` makes it stall
 *    there for TORTIE_CNI_FAULT_PAUSE_MS (default 10 s) so a test can kill it mid-ADD
 *    (test/e2e/cni-faults.test.ts);
 *  - TORTIE_CNI_TRACE=1 records when each step was reached (ms since the process started) and
 *    prints them as one JSON line on stderr at exit (bench/cni.ts).
 * Unset, they cost two environment lookups.
 */
function stepHook(env: NodeJS.ProcessEnv, trace: Trace | undefined): PluginDeps['step'] {
  const spec = env.TORTIE_CNI_FAULT;
  if (!spec && !trace) return undefined;
  const pause = spec?.startsWith('pause-') ?? false;
  const at = spec ? ((pause ? spec.slice('pause-'.length) : spec) as Step) : undefined;
  if (at && !STEPS.includes(at)) throw new CniError(CNI_ERROR.INVALID_ENV, `TORTIE_CNI_FAULT "${spec}" is not one of ${STEPS.map((s) => `${s}, pause-${s}`).join(', ')}`);
  return async (step) => {
    trace?.mark(step);
    if (step !== at) return;
    if (!pause) throw new CniError(CNI_ERROR.IO_FAILURE, `injected fault at ${step} (TORTIE_CNI_FAULT)`);
    await new Promise((r) => setTimeout(r, Number(env.TORTIE_CNI_FAULT_PAUSE_MS ?? 10_000)));
  };
}

/** Milliseconds since the process started (performance.timeOrigin) at each named point. */
class Trace {
  /** Node's own start-up ends at `node-bootstrap`; from there to `main` is loading the bundle. */
  readonly marks: Record<string, number> = { 'node-bootstrap': Math.round(performance.nodeTiming.bootstrapComplete * 10) / 10 };
  mark(name: string): void {
    this.marks[name] = Math.round(performance.now() * 10) / 10;
  }
}

function depsFor(conf: NetConf, io: Io, lines: string[], opened: Client[], trace: Trace | undefined): PluginDeps {
  let client: Promise<Client> | undefined;
  const step = stepHook(io.env, trace);
  return {
    ...(step ? { step } : {}),
    client: () =>
      (client ??= (async () => {
        const c = new Client(await openBackend(datastoreOf(conf, io.env)));
        opened.push(c);
        trace?.mark('datastore-open');
        return c;
      })().catch((e: unknown) => {
        throw new CniError(CNI_ERROR.TRY_AGAIN_LATER, `cannot open the datastore: ${(e as Error).message}`);
      })),
    ipam: (c) => new Ipam(c),
    wiring: new Wiring(),
    delegateIpam: (type, inv, stdin) => runDelegate(type, inv, stdin, io.env),
    log: logger(conf, lines),
  };
}

function errorJson(conf: NetConf | undefined, e: CniError): string {
  return JSON.stringify({ cniVersion: conf?.cniVersion ?? CURRENT_VERSION, code: e.cniCode, msg: e.message, ...(e.details ? { details: e.details } : {}) });
}

/** `tortie-cni`. Returns the exit status. */
export async function cniMain(io: Io, which: 'network' | 'ipam' = 'network'): Promise<number> {
  let conf: NetConf | undefined;
  const lines: string[] = [];
  const opened: Client[] = [];
  const trace = io.env.TORTIE_CNI_TRACE ? new Trace() : undefined;
  trace?.mark('main');
  try {
    const inv = readInvocation(io.env);
    const stdin = await io.stdin();
    trace?.mark('stdin');
    if (inv.command === 'VERSION' && stdin.trim() === '') {
      io.stdout(JSON.stringify(new Plugin(undefined as unknown as PluginDeps).version(undefined)));
      return 0;
    }
    conf = parseNetConf(stdin, inv.command);
    const deps = depsFor(conf, io, lines, opened, trace);
    const plugin = new Plugin(deps);
    switch (inv.command) {
      case 'VERSION':
        io.stdout(JSON.stringify(plugin.version(conf)));
        break;
      case 'ADD':
        io.stdout(JSON.stringify(which === 'network' ? await plugin.add(conf, inv, stdin) : await ipamAdd(conf, inv, deps)));
        break;
      case 'DEL':
        if (which === 'network') await plugin.del(conf, inv);
        else await (deps.ipam(await deps.client())).releaseByHandle(identify(conf, inv).handle);
        break;
      case 'CHECK':
        if (which === 'network') await plugin.check(conf, inv);
        else await ipamCheck(conf, inv, deps);
        break;
      case 'STATUS':
        await plugin.status();
        break;
      case 'GC':
        await plugin.gc(conf);
        break;
    }
    return 0;
  } catch (e) {
    const ce = toCniError(e);
    lines.push(JSON.stringify({ time: new Date().toISOString(), level: 'error', msg: ce.message, code: ce.cniCode }));
    io.stdout(errorJson(conf, ce));
    return 1;
  } finally {
    trace?.mark('done');
    for (const c of opened) await c.close().catch(() => undefined);
    await flush(conf, lines);
    if (trace) {
      trace.mark('closed');
      process.stderr.write(JSON.stringify({ trace: trace.marks }) + '\n');
    }
  }
}

/** `tortie-ipam` ADD: addresses only (for other network plugins). */
async function ipamAdd(conf: NetConf, inv: Invocation, deps: PluginDeps): Promise<Result> {
  const id = identify(conf, inv);
  const ipam = deps.ipam(await deps.client());
  const req = addressRequest(conf, inv);
  const attrs = { node: id.node, namespace: id.namespace, ...(id.pod ? { pod: id.pod } : {}), timestamp: new Date().toISOString() };
  await ipam.releaseByHandle(id.handle); // a retried ADD
  try {
    let ips;
    if (req.ips.length) {
      for (const ip of req.ips) await ipam.assignIP({ ip, handle: id.handle, attrs, hostname: id.node });
      ips = req.ips;
    } else {
      const r = await ipam.autoAssign({ num4: req.v4 ? 1 : 0, num6: req.v6 ? 1 : 0, handle: id.handle, attrs, hostname: id.node, ...(req.pools4 ? { pools4: req.pools4 } : {}), ...(req.pools6 ? { pools6: req.pools6 } : {}) });
      for (const a of [r.v4, r.v6]) {
        if (a.ips.length < a.requested) throw new CniError(CNI_ERROR.IO_FAILURE, `failed to assign an IPv${a.version} address: ${a.error?.message ?? (a.msgs.join('; ') || 'no address available')}`);
      }
      ips = [...r.v4.ips, ...r.v6.ips].map((x) => x.ip);
    }
    return formatResult(conf, { ips: ips.map((ip) => ({ address: `${ip}/${ip.version === 4 ? 32 : 128}` })), routes: [], dns: {} });
  } catch (e) {
    await ipam.releaseByHandle(id.handle).catch(() => undefined);
    throw e;
  }
}

async function ipamCheck(conf: NetConf, inv: Invocation, deps: PluginDeps): Promise<void> {
  const id = identify(conf, inv);
  const held = (await deps.ipam(await deps.client()).ipsByHandle(id.handle)).map(String);
  for (const ip of conf.prevResult?.ips ?? []) {
    const a = ip.address.replace(/\/\d+$/, '');
    if (!held.includes(a)) throw new CniError(CNI_ERROR.IO_FAILURE, `CHECK: ${a} is not allocated to ${id.handle}`);
  }
  if (held.length === 0) throw new CniError(CNI_ERROR.UNKNOWN_CONTAINER, `no addresses for ${id.handle}`);
}

export function processIo(): Io {
  return {
    env: process.env,
    stdin: async () => {
      // One blocking read to EOF: `process.stdin` would first build a stream (loading `net`),
      // ≈4 ms of every invocation. The stream stays the fallback for a non-blocking pipe (EAGAIN).
      let fd0;
      try {
        fd0 = fstatSync(0);
      } catch {
        return ''; // no stdin at all
      }
      if (fd0.isCharacterDevice()) return ''; // a terminal (or /dev/null): no configuration
      const chunks: Buffer[] = [];
      const buf = Buffer.allocUnsafe(64 * 1024);
      try {
        for (let n; (n = readSync(0, buf)) > 0; ) chunks.push(Buffer.from(buf.subarray(0, n)));
        return Buffer.concat(chunks).toString('utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      }
      for await (const c of process.stdin) chunks.push(c as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
    // Likewise a direct write (`process.stdout` costs ≈2.5 ms to set up); the stream only if the pipe is full.
    stdout: (s) => {
      const b = Buffer.from(s + '\n');
      let off = 0;
      try {
        while (off < b.length) off += writeSync(1, b, off);
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      }
      process.stdout.write(b.subarray(off));
    },
  };
}
