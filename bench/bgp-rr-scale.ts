/*
 * Route-reflector scale benchmark, the shape of a big Calico cluster: one reflector, 1,000 iBGP clients (a load
 * generator in a second namespace with 1,000 addresses on one veth, bench/rr-loadgen.ts), clients started 50 at
 * a time, each announcing one /26. Reflectors: tortie (bench/tortie-driver.ts, its own node process), then BIRD 2
 * (test/helpers/daemons.ts config: one `protocol bgp` per client with `rr client; rr cluster id`, the shape
 * calico/node's confd generates for a reflector).
 *
 *   node --import tsx bench/bgp-rr-scale.ts [--targets tortie,bird2] [--clients 1000] [--batch 50] [--pace 100,0]
 *        [--runs 3] [--profile] [--tortie-node-flags=…] [--quiet-wait 120] [--retries 3]
 *        [--out bench/results/<date>-rr-scale.json]
 *
 * Two ways to start the clients (--pace): 100 = a batch of 50 every 100 ms whatever the state of the earlier ones
 * (2 s to start all); 0 = a batch starts when every session of the previous one is Established (measures the
 * reflector's set-up latency batch after batch).
 *
 * Reported per run: time from the first client connect until all sessions are Established; time from the
 * announcements (all clients send their UPDATE at once, 1 s after the last session came up) until every client
 * holds the other 999 /26s; the reflector's peak RSS (VmHWM) and CPU time. Reflector at 10.202.0.1/16, clients
 * from 10.202.10.1, AS 64512, cluster id 244.0.0.1, hold time 90 s, reflector peers passive, no FIB. The
 * reflector's namespace gets permanent neighbour entries for the client addresses: 1,000 ARP entries would hit
 * the kernel's global gc_thresh3 (1,024), which cannot be raised from inside a namespace.
 *
 * tortie runs with bin/tortie.js's node flags (--tortie-node-flags replaces them). Noise handling and --profile
 * as in bench/bgp-ingest.ts.
 */

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDaemon, daemonSkipReason, daemonVersion } from '../test/helpers/daemons.js';
import { cleanupAll, createNetns, createVethPair, run, skipReason, IP_BIN, type Netns } from '../test/helpers/netns.js';
import { ForeignCpu, JsonProc, arg, bundle, gitRev, procCpuSplit, waitQuiet, installSignalCleanup, intToIp4, ip4ToInt, machine, median, procCpuSeconds, procMemory, round, sleep, runBench } from './common.js';
import { tortieNodeFlags } from '../src/lab/node-flags.js';
import { summarizeProfile, type ProfileSummary } from './cpuprofile.js';
import { rrTables } from './report.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(HERE);
const RR_ADDR = '10.202.0.1';
const LG_ADDR = '10.202.0.2';
const FIRST = '10.202.10.1';
const ASN = 64512;
const CLUSTER_ID = '244.0.0.1';

type Target = 'tortie' | 'bird2';
const targets = (arg('targets', 'tortie,bird2')!.split(',') as Target[]).filter((t) => t === 'tortie' || t === 'bird2');
const N = Number(arg('clients', '1000'));
const BATCH = Number(arg('batch', '50'));
// Batches of clients start every PACE ms ('paced'), or each when the previous one is Established ('serial').
const PACES = arg('pace', '100,0')!.split(',').map(Number);
const runs = Number(arg('runs', '3'));
const profile = arg('profile') === 'true';
// Before each run, wait up to this long for the host to be idle (another session's tests on a 2-core machine).
const quietWaitMs = Number(arg('quiet-wait', '120')) * 1000;
const retries = Number(arg('retries', '3'));
// bin/tortie.js's own flags unless --tortie-node-flags replaces them ("" for node's defaults).
const tortieFlags = (arg('tortie-node-flags') ?? tortieNodeFlags().join(' ')).split(' ').filter(Boolean);
const date = new Date().toISOString().slice(0, 10);
const outFile = arg('out', join(ROOT, 'bench', 'results', `${date}-rr-scale.json`))!;

interface Run {
  sessionsUpSeconds: number;
  convergeSeconds: number;
  peakRssBytes: number;
  baseRssBytes: number;
  cpuSeconds: number;
  /** Reflector CPU from the announcements until converged. */
  convergeCpuSeconds: number;
  /** Load generator CPU over the same span: it must stay well under the converge time. */
  loadgenConvergeCpuSeconds: number;
  /** User / system split of the converge CPU (reflector's main process, load generator). */
  convergeCpuSplit?: { reflector?: { user: number; sys: number }; loadgen?: { user: number; sys: number } };
  /** Host idle share just before the run (1 = both CPUs idle), after waiting for quiet. */
  hostIdleBefore: number;
  /** Host busy CPU-seconds over the converge span, all processes. */
  hostBusyConvergeCpuSeconds: number;
  /** CPU used by processes other than the reflector, the load generator and this harness, per phase. */
  foreignCpuSeconds: { sessionsUp: number; converge: number };
  /** Others used more than 10 % of the machine in a phase: the run is repeated (up to --retries times). */
  noisy: boolean;
  attempts?: number;
  retries: number;
  lostSessions: number;
  /** Reflector RSS 1 s after the last session came up, before the announcements. */
  rssEstablishedBytes: number;
  /** tortie: process.memoryUsage() after start (1,000 peers configured, none up), 1 s after all sessions are
   *  up, and the sample with the largest RSS while converging (every 100 ms). */
  memoryIdle?: Record<string, number>;
  memoryEstablished?: Record<string, number>;
  memoryAtPeak?: Record<string, number>;
  /** tortie: after converged + 1 s and a full GC (taken after the RSS reading): what stays live. */
  memoryAfterGc?: Record<string, number>;
  /** Seconds from the first connect until each batch was all Established. */
  batches: number[];
  /** Per batch, the slowest session's set-up steps in ms (TCP connect, OPEN back, KEEPALIVE back). */
  slowest: unknown[];
  profile?: ProfileSummary;
  error?: string;
}

function log(s: string): void {
  process.stderr.write(s + '\n');
}

const clientAddr = (i: number): string => intToIp4(ip4ToInt(FIRST) + i);

function topology(i: number): { rr: Netns; lg: Netns } {
  const rr = createNetns(`rr${i}-rr`);
  const lg = createNetns(`rr${i}-lg`);
  createVethPair({ ns: rr, ifname: 'eth0', addresses: [`${RR_ADDR}/16`] }, { ns: lg, ifname: 'eth0', addresses: [`${LG_ADDR}/16`] });
  const lgMac = (JSON.parse(lg.ip('-j', 'link', 'show', 'eth0')) as { address: string }[])[0]!.address;
  const addrs: string[] = [];
  const neigh: string[] = [];
  for (let k = 0; k < N; k++) {
    addrs.push(`address add ${clientAddr(k)}/16 dev eth0`);
    neigh.push(`neigh replace ${clientAddr(k)} lladdr ${lgMac} dev eth0 nud permanent`);
  }
  run([IP_BIN, '-n', lg.name, '-batch', '-'], { input: addrs.join('\n') + '\n' });
  run([IP_BIN, '-n', rr.name, '-batch', '-'], { input: neigh.join('\n') + '\n' });
  return { rr, lg };
}

let driverPath = '';

interface Reflector {
  pids: number[];
  stop(): Promise<void>;
  /** tortie only: process.memoryUsage() of the driver (after a full GC when `gc`). */
  memory?(gc?: boolean): Promise<Record<string, number>>;
}

async function startReflector(target: Target, rr: Netns, profDir?: string): Promise<Reflector> {
  const peers = Array.from({ length: N }, (_, k) => clientAddr(k));
  if (target === 'tortie') {
    const dir = mkdtempSync(join(tmpdir(), 'tortie-rr-'));
    const cfg = join(dir, 'config.json');
    writeFileSync(
      cfg,
      JSON.stringify({
        routerId: RR_ADDR,
        asNumber: ASN,
        clusterId: CLUSTER_ID,
        listen: { address: RR_ADDR, port: 179 },
        peers: peers.map((address) => ({ address, asNumber: ASN, passive: true, routeReflectorClient: true, holdTime: 90, families: ['ipv4'] })),
      }),
    );
    // --expose-gc only lets the harness ask for a full GC after the measurement (retained vs garbage).
    const flags = ['--expose-gc', ...tortieFlags, ...(profDir ? ['--cpu-prof', '--cpu-prof-dir', profDir] : [])];
    const p = new JsonProc('tortie', ['node', ...flags, driverPath, cfg], { netns: rr.name });
    await p.waitEvent('listening', 30_000);
    return {
      pids: [p.pid],
      stop: async () => {
        await p.stop(10_000);
        rmSync(dir, { recursive: true, force: true });
      },
      memory: async (gc?: boolean) => {
        const st = await p.request(gc ? 'gc' : 'status', 30_000);
        return { rss: st.rss as number, heapTotal: st.heapTotal as number, heapUsed: st.heapUsed as number, external: st.external as number, arrayBuffers: st.arrayBuffers as number };
      },
    };
  }
  const d = await startDaemon('bird2', {
    netns: rr,
    routerId: RR_ADDR,
    localAs: ASN,
    localAddress: RR_ADDR,
    peers: peers.map((address) => ({ address, asNumber: ASN, passive: true, routeReflectorClient: true, clusterId: CLUSTER_ID, holdTime: 90 })),
    fib: false,
    logLevel: 'warn',
  });
  return { pids: d.pids, stop: () => d.stop() };
}

async function runOnce(target: Target, pace: number, i: number): Promise<Run> {
  const { rr, lg } = topology(i);
  const profDir = profile && target === 'tortie' ? mkdtempSync(join(tmpdir(), 'tortie-prof-')) : undefined;
  let refl: Reflector | undefined;
  let gen: JsonProc | undefined;
  try {
    const hostIdleBefore = await waitQuiet(quietWaitMs);
    refl = await startReflector(target, rr, profDir);
    await sleep(300);
    const baseRss = refl.pids.reduce((s, p) => s + (procMemory(p)?.rss ?? 0), 0);
    const memoryIdle = refl.memory ? await refl.memory() : undefined;
    const cpu0 = refl.pids.reduce((s, p) => s + (procCpuSeconds(p) ?? 0), 0);
    gen = new JsonProc(
      'loadgen',
      ['node', '--import', 'tsx', join(HERE, 'rr-loadgen.ts'), '--rr', RR_ADDR, '--first', FIRST, '--clients', String(N), '--batch', String(BATCH), '--pace', String(pace), '--as', String(ASN)],
      { netns: lg.name },
    );
    await gen.waitEvent('ready', 20_000);
    const foreignUp = new ForeignCpu([...refl.pids, gen.pid]);
    gen.send(JSON.stringify({ cmd: 'start' }));
    const up = await gen.waitEvent('established', 120_000);
    const fcUp = foreignUp.end();
    await sleep(1000);
    const memoryEstablished = refl.memory ? await refl.memory() : undefined;
    const rssEstablished = refl.pids.reduce((s, p) => s + (procMemory(p)?.rss ?? 0), 0);
    const genCpu0 = procCpuSeconds(gen.pid) ?? 0;
    const genSplit0 = procCpuSplit(gen.pid);
    const reflSplit0 = procCpuSplit(refl.pids[0]!);
    const foreignConv = new ForeignCpu([...refl.pids, gen.pid]);
    const cpuAnn = refl.pids.reduce((s, p) => s + (procCpuSeconds(p) ?? 0), 0);
    gen.send(JSON.stringify({ cmd: 'announce' }));
    // tortie: sample the driver's memory split while it converges; keep the sample with the largest RSS.
    let peakSample: Record<string, number> | undefined;
    let sampling = !!refl.memory;
    const sampler = (async () => {
      while (sampling && refl?.memory) {
        const m = await refl.memory().catch(() => undefined);
        if (m && (!peakSample || m.rss! > peakSample.rss!)) peakSample = m;
        await sleep(100);
      }
    })();
    const conv = await gen.waitEvent('converged', 120_000);
    const fcConv = foreignConv.end();
    sampling = false;
    await sampler;
    const genCpu = round((procCpuSeconds(gen.pid) ?? 0) - genCpu0, 2);
    const genSplit1 = procCpuSplit(gen.pid);
    const reflSplit1 = procCpuSplit(refl.pids[0]!);
    const split = (a?: { user: number; sys: number }, b?: { user: number; sys: number }) =>
      a && b ? { user: round(b.user - a.user, 2), sys: round(b.sys - a.sys, 2) } : undefined;
    const convCpu = round(refl.pids.reduce((s, p) => s + (procCpuSeconds(p) ?? 0), 0) - cpuAnn, 2);
    await sleep(1000);
    const memoryAfterGc = refl.memory ? await refl.memory(true) : undefined;
    const r: Run = {
      sessionsUpSeconds: round(((up.t as number) - (up.tStart as number)) / 1000, 3),
      convergeSeconds: round(((conv.t as number) - (conv.tAnnounced as number)) / 1000, 3),
      peakRssBytes: refl.pids.reduce((s, p) => s + (procMemory(p)?.hwm ?? 0), 0),
      baseRssBytes: baseRss,
      cpuSeconds: round(refl.pids.reduce((s, p) => s + (procCpuSeconds(p) ?? 0), 0) - cpu0, 2),
      convergeCpuSeconds: convCpu,
      loadgenConvergeCpuSeconds: genCpu,
      convergeCpuSplit: { reflector: split(reflSplit0, reflSplit1), loadgen: split(genSplit0, genSplit1) },
      hostIdleBefore,
      hostBusyConvergeCpuSeconds: fcConv.hostBusyCpuSeconds,
      foreignCpuSeconds: { sessionsUp: fcUp.foreignCpuSeconds, converge: fcConv.foreignCpuSeconds },
      noisy: fcUp.noisy || fcConv.noisy,
      retries: up.retries as number,
      lostSessions: gen.events.filter((e) => e.event === 'lost').length,
      rssEstablishedBytes: rssEstablished,
      ...(memoryIdle ? { memoryIdle } : {}),
      ...(memoryEstablished ? { memoryEstablished } : {}),
      ...(peakSample ? { memoryAtPeak: peakSample } : {}),
      ...(memoryAfterGc ? { memoryAfterGc } : {}),
      batches: gen.events.filter((e) => e.event === 'batch').map((e) => round(((e.t as number) - (up.tStart as number)) / 1000, 3)),
      slowest: gen.events.filter((e) => e.event === 'batch').map((e) => e.slowest),
    };
    await refl.stop();
    refl = undefined;
    await gen.stop();
    if (profDir) {
      const f = readdirSync(profDir).find((x) => x.endsWith('.cpuprofile'));
      if (f) {
        // The full profile stays in the temp dir (MBs; open it in Chrome DevTools); its summary goes into the results.
        const dest = join(tmpdir(), 'tortie-bench-profiles');
        mkdirSync(dest, { recursive: true });
        const to = join(dest, `${date}-rr-scale-run${i}.cpuprofile`);
        execFileSync('cp', [join(profDir, f), to]);
        r.profile = summarizeProfile(to, 20);
        log(`  CPU profile: ${to}`);
      }
    }
    return r;
  } finally {
    await refl?.stop();
    await gen?.stop();
    await rr.delete();
    await lg.delete();
  }
}

async function main(): Promise<void> {
  const skip = skipReason() ?? (targets.includes('bird2') ? daemonSkipReason('bird2') : undefined);
  if (skip) throw new Error(skip);
  installSignalCleanup();
  driverPath = await bundle(join(HERE, 'tortie-driver.ts'), 'tortie-driver');
  type Median = { sessionsUpSeconds: number; convergeSeconds: number; peakRssBytes: number; cpuSeconds: number };
  const results: Record<string, Record<string, { runs: Run[]; median: Median }>> = {};
  const ratios: Record<string, { sessionsUp: number; converge: number; rss: number }> = {};
  for (const pace of PACES) {
    const mode = pace === 0 ? 'serial' : `paced-${pace}ms`;
    log(`\n== ${N} clients, batches of ${BATCH}, ${pace === 0 ? 'each batch after the previous one is Established' : `one batch every ${pace} ms`}`);
    const byTarget: Record<string, { runs: Run[]; median: Median }> = {};
    for (const target of targets) {
      const rs: Run[] = [];
      for (let i = 0; i < runs; i++) {
        try {
          let r = await runOnce(target, pace, i);
          for (let a = 2; r.noisy && a <= retries + 1; a++) {
            log(`${target} run ${i + 1}: other processes used ${JSON.stringify(r.foreignCpuSeconds)} CPU-s meanwhile; again`);
            r = await runOnce(target, pace, i);
            r.attempts = a;
          }
          rs.push(r);
          log(
            `${target.padEnd(6)} run ${i + 1}: sessions up ${r.sessionsUpSeconds.toFixed(2)} s, converged ${r.convergeSeconds.toFixed(2)} s, peak RSS ${(r.peakRssBytes / 1e6).toFixed(1)} MB (idle ${(r.baseRssBytes / 1e6).toFixed(1)}, sessions up ${(r.rssEstablishedBytes / 1e6).toFixed(1)} MB), CPU ${r.cpuSeconds} s (converge ${r.convergeCpuSeconds} s; load generator ${r.loadgenConvergeCpuSeconds} s; host ${r.hostBusyConvergeCpuSeconds} s), host idle before ${Math.round(r.hostIdleBefore * 100)} %, foreign CPU ${r.foreignCpuSeconds.sessionsUp}/${r.foreignCpuSeconds.converge} s${r.noisy ? ' (NOISY)' : ''}, retries ${r.retries}, lost ${r.lostSessions}`,
          );
          log(`  converge CPU user/sys: ${JSON.stringify(r.convergeCpuSplit)}`);
          if (process.env.RR_VERBOSE) log(`  batches done at: ${r.batches.join(' ')}\n  slowest per batch: ${JSON.stringify(r.slowest)}`);
          if (r.profile) log(`  profile: busy ${r.profile.busyMs} ms, GC ${r.profile.gcMs} ms; top: ${r.profile.top.slice(0, 6).map((e) => `${e.fn} ${e.pctOfBusy}%`).join(', ')}`);
        } catch (e) {
          log(`${target} run ${i + 1}: FAILED ${(e as Error).message}`);
          rs.push({ sessionsUpSeconds: NaN, convergeSeconds: NaN, peakRssBytes: NaN, baseRssBytes: NaN, cpuSeconds: NaN, convergeCpuSeconds: NaN, loadgenConvergeCpuSeconds: NaN, hostIdleBefore: NaN, hostBusyConvergeCpuSeconds: NaN, foreignCpuSeconds: { sessionsUp: NaN, converge: NaN }, noisy: false, retries: 0, lostSessions: 0, rssEstablishedBytes: NaN, batches: [], slowest: [], error: (e as Error).message });
        }
      }
      const ok = rs.filter((r) => !r.error);
      byTarget[target] = {
        runs: rs,
        median: {
          sessionsUpSeconds: round(median(ok.map((r) => r.sessionsUpSeconds)), 3),
          convergeSeconds: round(median(ok.map((r) => r.convergeSeconds)), 3),
          peakRssBytes: median(ok.map((r) => r.peakRssBytes)),
          cpuSeconds: round(median(ok.map((r) => r.cpuSeconds)), 2),
        },
      };
    }
    results[mode] = byTarget;
    const t = byTarget.tortie?.median;
    const b = byTarget.bird2?.median;
    if (t && b) {
      ratios[mode] = {
        sessionsUp: round(t.sessionsUpSeconds / b.sessionsUpSeconds, 2),
        converge: round(t.convergeSeconds / b.convergeSeconds, 2),
        rss: round(t.peakRssBytes / b.peakRssBytes, 2),
      };
    }
  }
  const doc = {
    benchmark: 'bgp-rr-scale',
    date: new Date().toISOString(),
    command: `node --import tsx bench/bgp-rr-scale.ts ${process.argv.slice(2).join(' ')}`.trim(),
    machine: machine(),
    versions: { tortie: gitRev(ROOT), node: process.version, ...(targets.includes('bird2') ? { bird2: daemonVersion('bird2') } : {}) },
    setup: { tortieNodeFlags: tortieFlags, clients: N, batch: BATCH, paces: PACES, asn: ASN, clusterId: CLUSTER_ID, holdTime: 90, prefixPerClient: '/26' },
    results,
    ratios: Object.fromEntries(Object.entries(ratios).map(([k, v]) => [k, { 'tortie/bird2': v }])),
  };
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, JSON.stringify(doc, null, 2) + '\n');
  log(`\nwrote ${outFile}\n`);
  console.log(rrTables(doc as unknown as Parameters<typeof rrTables>[0]));
}

runBench(main, () => cleanupAll(1000));
