/*
 * Ingest benchmark: one feeder session sends N unique IPv4 prefixes into tortie, BIRD 2, FRR (bgpd -Z) and GoBGP
 * in turn, each in its own namespace, with the same pre-encoded feeder (bench/feeder.ts) and the same done
 * detection: the target's own count of accepted routes from the feeder reaches N.
 *
 *   node --import tsx bench/bgp-ingest.ts [--targets tortie,bird2,frr,gobgp] [--loads 100k,1m,mix] [--runs 3]
 *        [--feeder-runs 3] [--no-feeder] [--profile] [--tortie-node-flags=--max-semi-space-size=2]
 *        [--quiet-wait 120] [--retries 3] [--timeout 120] [--out bench/results/<date>-ingest.json]
 *
 * Needs root, iproute2, bird2, frr, gobgpd (test/helpers/daemons.ts starts them). Per run: two fresh namespaces
 * joined by a veth pair (feeder 10.201.0.10/24, AS 65010 — target 10.201.0.1/24, AS 64512, eBGP); the target
 * starts (the feeder is a passive peer there, export: own routes only, no FIB); the feeder connects, exchanges
 * OPEN/KEEPALIVE, then writes the whole stream in one go. t0 = just before that write. The harness polls the
 * target's count (BIRD `show protocols all` "Routes: N imported", FRR `show bgp summary json` pfxRcd, GoBGP
 * `gobgp -j neighbor` (list form) accepted, tortie `status()` accepted via the driver's stdin), every elapsed/40 (5–500 ms,
 * so the poll costs little and the error is ≤ 2.5 %); done = the first reply showing N. Peak RSS = VmHWM of the
 * target's processes 1 s after done. tortie runs as its own process (bench/tortie-driver.ts bundled with esbuild,
 * plain `node`, default heap flags plus --expose-gc, used only after the measurement) so its RSS is measured alone.
 *
 * Noise: before each run the harness waits (--quiet-wait s) until the host is idle, and a run during which other
 * processes used more than 10 % of the machine is repeated (--retries). --profile runs tortie under --cpu-prof:
 * the profile goes to $TMPDIR/tortie-bench-profiles/, its summary (mapped to src/ lines) into the results.
 *
 * The feeder alone is measured into a sink (bench/feeder.ts sink: frames, counts NLRI, discards) over the same
 * veth; it must be clearly faster than BIRD, or the benchmark would measure the feeder.
 *
 * Ctrl-C removes the namespaces and processes (test/helpers/netns.ts also has an exit guard and a watchdog).
 */

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDaemon, daemonSkipReason, daemonVersion, type DaemonHandle } from '../test/helpers/daemons.js';
import { cleanupAll, createNetns, createVethPair, skipReason } from '../test/helpers/netns.js';
import { ForeignCpu, JsonProc, arg, bundle, gitRev, waitQuiet, installSignalCleanup, machine, median, now, procCpuSeconds, procMemory, round, sleep, runBench } from './common.js';
import { tortieNodeFlags } from '../src/lab/node-flags.js';
import { summarizeProfile, type ProfileSummary } from './cpuprofile.js';
import { ingestTables } from './report.js';
import { FEEDER_AS, buildFeed, type FeedKind, type FeedMeta } from './feeder.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(HERE);
const TARGET_ADDR = '10.201.0.1';
const FEEDER_ADDR = '10.201.0.10';
const TARGET_AS = 64512;

type Target = 'tortie' | 'bird2' | 'frr' | 'gobgp';
const ALL_TARGETS: Target[] = ['tortie', 'bird2', 'frr', 'gobgp'];

const targets = (arg('targets', ALL_TARGETS.join(','))!.split(',') as Target[]).filter((t) => ALL_TARGETS.includes(t));
const loads = arg('loads', '100k,1m,mix')!.split(',') as FeedKind[];
const runs = Number(arg('runs', '3'));
const feederRuns = Number(arg('feeder-runs', '3'));
const timeoutMs = Number(arg('timeout', '120')) * 1000;
const profile = arg('profile') === 'true';
// Before each run, wait up to this long for the host to be idle (another session's tests on a 2-core machine).
const quietWaitMs = Number(arg('quiet-wait', '120')) * 1000;
const retries = Number(arg('retries', '3'));
// bin/tortie.js's own flags unless --tortie-node-flags replaces them ("" for node's defaults).
const tortieFlags = (arg('tortie-node-flags') ?? tortieNodeFlags().join(' ')).split(' ').filter(Boolean);
const date = new Date().toISOString().slice(0, 10);
const outFile = arg('out', join(ROOT, 'bench', 'results', `${date}-ingest.json`))!;

interface Run {
  seconds: number;
  peakRssBytes: number;
  baseRssBytes: number;
  cpuSeconds?: number;
  polls: number;
  sendSeconds: number;
  /** Host idle share just before the run (1 = both CPUs idle), after waiting for quiet. */
  hostIdleBefore: number;
  /** Host busy CPU-seconds from the session coming up until done, all processes. */
  hostBusyCpuSeconds: number;
  /** The part of it used by processes other than the target, the feeder and this harness (with its polls). */
  foreignCpuSeconds: number;
  /** Others used more than 10 % of the machine during the run: the run is repeated (up to --retries times). */
  noisy: boolean;
  /** Attempts this run took (noisy attempts are discarded). */
  attempts?: number;
  /** tortie: V8 heap / external / ArrayBuffer bytes 1 s after done (where the RSS goes). */
  memoryAfter?: Record<string, number>;
  /** tortie: the same after a full GC (taken after the RSS reading): what stays live. */
  memoryAfterGc?: Record<string, number>;
  profile?: ProfileSummary;
  error?: string;
}

function log(s: string): void {
  process.stderr.write(s + '\n');
}

let driverPath = '';

async function lanPair(tag: string): Promise<{ fd: ReturnType<typeof createNetns>; tg: ReturnType<typeof createNetns> }> {
  const fd = createNetns(`${tag}-fd`);
  const tg = createNetns(`${tag}-tg`);
  createVethPair({ ns: tg, ifname: 'eth0', addresses: [`${TARGET_ADDR}/24`] }, { ns: fd, ifname: 'eth0', addresses: [`${FEEDER_ADDR}/24`] });
  return { fd, tg };
}

function feederProc(ns: string, file: string): JsonProc {
  return new JsonProc(
    'feeder',
    ['node', '--import', 'tsx', join(HERE, 'feeder.ts'), 'send', '--file', file, '--connect', `${TARGET_ADDR}:179`, '--local', FEEDER_ADDR, '--as', String(FEEDER_AS)],
    { netns: ns },
  );
}

/** Feeder into a sink: seconds from the first UPDATE written to the last prefix counted at the sink. */
async function feederAlone(feed: { file: string; meta: FeedMeta }, i: number): Promise<number> {
  const { fd, tg } = await lanPair(`fa${i}`);
  try {
    const sink = new JsonProc('sink', ['node', '--import', 'tsx', join(HERE, 'feeder.ts'), 'sink', '--listen', `${TARGET_ADDR}:179`, '--expect', String(feed.meta.prefixes)], {
      netns: tg.name,
    });
    await sink.waitEvent('listening', 20_000);
    const feeder = feederProc(fd.name, feed.file);
    const sent = await feeder.waitEvent('sent', 60_000);
    const done = await sink.waitEvent('done', 60_000);
    await feeder.stop();
    await sink.stop();
    return ((done.t as number) - (sent.t0 as number)) / 1000;
  } finally {
    await fd.delete();
    await tg.delete();
  }
}

interface Handle {
  pids: number[];
  count(): Promise<number>;
  stop(): Promise<void>;
  /** tortie only: the driver's process.memoryUsage() split (after a full GC when `gc`). */
  memory?(gc?: boolean): Promise<Record<string, number>>;
}

async function startTarget(target: Target, tg: ReturnType<typeof createNetns>, profDir?: string): Promise<Handle> {
  if (target === 'tortie') {
    const dir = mkdtempSync(join(tmpdir(), 'tortie-ingest-'));
    const cfg = join(dir, 'config.json');
    writeFileSync(
      cfg,
      JSON.stringify({
        routerId: TARGET_ADDR,
        asNumber: TARGET_AS,
        listen: { address: TARGET_ADDR, port: 179 },
        peers: [
          {
            address: FEEDER_ADDR,
            asNumber: FEEDER_AS,
            passive: true,
            holdTime: 180,
            families: ['ipv4'],
            // Like the daemons' configs: export own routes only.
            export: { rules: [{ match: { source: 'local' }, action: 'accept' }], defaultAction: 'reject' },
          },
        ],
      }),
    );
    // --expose-gc only lets the harness ask for a full GC after the measurement (retained vs garbage).
    const flags = ['--expose-gc', ...tortieFlags, ...(profDir ? ['--cpu-prof', '--cpu-prof-dir', profDir] : [])];
    const p = new JsonProc('tortie', ['node', ...flags, driverPath, cfg], { netns: tg.name });
    await p.waitEvent('listening', 20_000);
    return {
      pids: [p.pid],
      count: async () => (await p.request('status', timeoutMs)).accepted as number,
      stop: async () => {
        await p.stop(10_000);
        rmSync(dir, { recursive: true, force: true });
      },
      memory: async (gc?: boolean) => {
        const st = await p.request(gc ? 'gc' : 'status', timeoutMs);
        return { rss: st.rss as number, heapTotal: st.heapTotal as number, heapUsed: st.heapUsed as number, external: st.external as number, arrayBuffers: st.arrayBuffers as number };
      },
    };
  }
  const d: DaemonHandle = await startDaemon(target, {
    netns: tg,
    routerId: TARGET_ADDR,
    localAs: TARGET_AS,
    localAddress: TARGET_ADDR,
    peers: [{ address: FEEDER_ADDR, asNumber: FEEDER_AS, passive: true, holdTime: 180 }],
    fib: false,
    logLevel: 'warn',
  });
  const count = async (): Promise<number> => {
    switch (target) {
      case 'bird2': {
        const out = await d.exec(`show protocols all p_${FEEDER_ADDR.replace(/\./g, '_')}`);
        return Number(/Routes:\s+(\d+) imported/.exec(out)?.[1] ?? 0);
      }
      case 'frr': {
        const j = JSON.parse(await d.exec('show bgp summary json')) as { ipv4Unicast?: { peers?: Record<string, { pfxRcd?: number }> } };
        return j.ipv4Unicast?.peers?.[FEEDER_ADDR]?.pfxRcd ?? 0;
      }
      case 'gobgp': {
        // The list form: `gobgp neighbor <addr>` asks for advertised counts too (EnableAdvertised), which makes
        // gobgpd run its export policy over the whole table on every poll.
        type P = { conf?: { neighbor_address?: string }; afi_safis?: { state?: { accepted?: number } }[]; state?: { adj_table?: { accepted?: number } } };
        const list = JSON.parse(await d.exec('-j neighbor')) as P[];
        const j = list.find((p) => p.conf?.neighbor_address === FEEDER_ADDR) ?? {};
        const fromAfi = (j.afi_safis ?? []).reduce((s, a) => s + (a.state?.accepted ?? 0), 0);
        return fromAfi || (j.state?.adj_table?.accepted ?? 0);
      }
      default:
        throw new Error(target);
    }
  };
  return { pids: d.pids, count, stop: () => d.stop() };
}

async function runOnce(target: Target, feed: { file: string; meta: FeedMeta }, i: number): Promise<Run> {
  const { fd, tg } = await lanPair(`${target.slice(0, 2)}${i}`);
  const profDir = profile && target === 'tortie' ? mkdtempSync(join(tmpdir(), 'tortie-prof-')) : undefined;
  let h: Handle | undefined;
  let feeder: JsonProc | undefined;
  try {
    const hostIdleBefore = await waitQuiet(quietWaitMs);
    h = await startTarget(target, tg, profDir);
    await sleep(200);
    const baseRss = h.pids.reduce((s, pid) => s + (procMemory(pid)?.rss ?? 0), 0);
    const cpu0 = h.pids.reduce((s, pid) => s + (procCpuSeconds(pid) ?? 0), 0);
    feeder = feederProc(fd.name, feed.file);
    const est = await feeder.waitEvent('established', 30_000);
    const tEst = est.t as number;
    const foreign = new ForeignCpu([...h.pids, feeder.pid]);
    const N = feed.meta.prefixes;
    let polls = 0;
    let tDone = 0;
    for (;;) {
      const c = await h.count();
      polls++;
      const t = now();
      if (c >= N) {
        tDone = t;
        break;
      }
      if (t - tEst > timeoutMs) throw new Error(`${target}: only ${c} of ${N} routes after ${timeoutMs / 1000} s`);
      await sleep(Math.min(500, Math.max(5, (t - tEst) / 40)));
    }
    const fc = foreign.end();
    const sent = await feeder.waitEvent('sent', 10_000);
    await sleep(1000);
    const mem = h.pids.map((pid) => procMemory(pid));
    const memoryAfter = h.memory ? await h.memory() : undefined;
    const memoryAfterGc = h.memory ? await h.memory(true) : undefined;
    const cpu1 = h.pids.reduce((s, pid) => s + (procCpuSeconds(pid) ?? 0), 0);
    const r: Run = {
      seconds: round((tDone - (sent.t0 as number)) / 1000, 4),
      peakRssBytes: mem.reduce((s, m) => s + (m?.hwm ?? 0), 0),
      baseRssBytes: baseRss,
      cpuSeconds: round(cpu1 - cpu0, 2),
      polls,
      sendSeconds: round(((sent.t1 as number) - (sent.t0 as number)) / 1000, 4),
      hostIdleBefore,
      ...fc,
      ...(memoryAfter ? { memoryAfter } : {}),
      ...(memoryAfterGc ? { memoryAfterGc } : {}),
    };
    // The target first: stopping the feeder first would make the target withdraw every route (work outside the
    // measurement that would also fill a --cpu-prof profile).
    await h.stop();
    h = undefined;
    await feeder.stop();
    if (profDir) {
      const f = readdirSync(profDir).find((x) => x.endsWith('.cpuprofile'));
      if (f) {
        // The full profile stays in the temp dir (MBs; open it in Chrome DevTools); its summary goes into the results.
        const dest = join(tmpdir(), 'tortie-bench-profiles');
        mkdirSync(dest, { recursive: true });
        const to = join(dest, `${date}-ingest-${feed.meta.kind}-run${i}.cpuprofile`);
        execFileSync('cp', [join(profDir, f), to]);
        r.profile = summarizeProfile(to, 20);
        log(`  CPU profile: ${to}`);
      }
    }
    return r;
  } finally {
    await h?.stop();
    await feeder?.stop();
    await fd.delete();
    await tg.delete();
  }
}

const MB = 1e6;

async function main(): Promise<void> {
  const skip = skipReason();
  if (skip) throw new Error(skip);
  for (const t of targets) if (t !== 'tortie' && daemonSkipReason(t)) throw new Error(daemonSkipReason(t));
  installSignalCleanup();
  driverPath = await bundle(join(HERE, 'tortie-driver.ts'), 'tortie-driver');
  const versions: Record<string, string> = { tortie: gitRev(ROOT), node: process.version };
  for (const t of targets) if (t !== 'tortie') versions[t] = daemonVersion(t);

  const feeds: Record<string, FeedMeta> = {};
  const feederAloneRes: Record<string, { runs: number[]; medianSeconds: number; prefixesPerSecond: number }> = {};
  const results: Record<string, Record<string, { runs: Run[]; median: { seconds: number; peakRssBytes: number; bytesPerRoute: number; cpuSeconds: number } }>> = {};

  for (const load of loads) {
    const feed = buildFeed(load, FEEDER_ADDR);
    feeds[load] = feed.meta;
    log(`\n== ${load}: ${feed.meta.prefixes} prefixes, ${feed.meta.messages} UPDATEs, ${(feed.meta.bytes / MB).toFixed(1)} MB, ${feed.meta.attrSets} attribute sets`);
    if (arg('no-feeder') !== 'true' && feederRuns > 0) {
      const fr: number[] = [];
      for (let i = 0; i < feederRuns; i++) fr.push(await feederAlone(feed, i));
      const m = median(fr);
      feederAloneRes[load] = { runs: fr.map((x) => round(x, 4)), medianSeconds: round(m, 4), prefixesPerSecond: Math.round(feed.meta.prefixes / m) };
      log(`feeder alone (into a sink): ${fr.map((x) => x.toFixed(3)).join(', ')} s → median ${m.toFixed(3)} s`);
    }
    results[load] = {};
    for (const target of targets) {
      const rs: Run[] = [];
      for (let i = 0; i < runs; i++) {
        try {
          let r = await runOnce(target, feed, i);
          for (let a = 2; r.noisy && a <= retries + 1; a++) {
            log(`${target} ${load} run ${i + 1}: other processes used ${r.foreignCpuSeconds} CPU-s meanwhile; again`);
            r = await runOnce(target, feed, i);
            r.attempts = a;
          }
          rs.push(r);
          log(`${target.padEnd(6)} ${load} run ${i + 1}: ${r.seconds.toFixed(3)} s, peak RSS ${(r.peakRssBytes / MB).toFixed(1)} MB (idle ${(r.baseRssBytes / MB).toFixed(1)} MB), CPU ${r.cpuSeconds} s, ${r.polls} polls, host idle before ${Math.round(r.hostIdleBefore * 100)} %, foreign CPU ${r.foreignCpuSeconds} s${r.noisy ? ' (NOISY)' : ''}`);
          if (r.profile) {
            log(`  profile: busy ${r.profile.busyMs} ms, GC ${r.profile.gcMs} ms; top: ${r.profile.top.slice(0, 6).map((e) => `${e.fn} ${e.pctOfBusy}%`).join(', ')}`);
          }
        } catch (e) {
          log(`${target} ${load} run ${i + 1}: FAILED ${(e as Error).message}`);
          rs.push({ seconds: NaN, peakRssBytes: NaN, baseRssBytes: NaN, polls: 0, sendSeconds: NaN, hostIdleBefore: NaN, hostBusyCpuSeconds: NaN, foreignCpuSeconds: NaN, noisy: false, error: (e as Error).message });
        }
      }
      const ok = rs.filter((r) => !r.error);
      const med = {
        seconds: round(median(ok.map((r) => r.seconds)), 4),
        peakRssBytes: median(ok.map((r) => r.peakRssBytes)),
        bytesPerRoute: Math.round(median(ok.map((r) => r.peakRssBytes)) / feed.meta.prefixes),
        cpuSeconds: round(median(ok.map((r) => r.cpuSeconds ?? NaN)), 2),
      };
      results[load]![target] = { runs: rs, median: med };
    }
  }

  const ratios: Record<string, Record<string, { time: number; rss: number }>> = {};
  for (const load of loads) {
    const t = results[load]!.tortie?.median;
    if (!t) continue;
    ratios[load] = {};
    for (const other of targets.filter((x) => x !== 'tortie')) {
      const o = results[load]![other]!.median;
      ratios[load]![`tortie/${other}`] = { time: round(t.seconds / o.seconds, 2), rss: round(t.peakRssBytes / o.peakRssBytes, 2) };
    }
  }

  const doc = {
    benchmark: 'bgp-ingest',
    date: new Date().toISOString(),
    command: `node --import tsx bench/bgp-ingest.ts ${process.argv.slice(2).join(' ')}`.trim(),
    machine: machine(),
    versions,
    tortieNodeFlags: tortieFlags,
    method:
      'One feeder session (pre-encoded UPDATE stream, one write) over a veth into the target in its own namespace; t0 = first UPDATE written; done = first poll of the target\'s own accepted-route count showing N (poll every elapsed/40, 5–500 ms); peak RSS = VmHWM of the target process(es) 1 s after done. tortie = Speaker in its own node process (esbuild bundle, with bin/tortie.js\'s V8 flags unless --tortie-node-flags). Export to the feeder: own routes only; no FIB.',
    feeds,
    feederAlone: feederAloneRes,
    results,
    ratios,
  };
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, JSON.stringify(doc, null, 2) + '\n');
  log(`\nwrote ${outFile}\n`);
  console.log(ingestTables(doc as unknown as Parameters<typeof ingestTables>[0]));
}

runBench(main, () => cleanupAll(1000));
