/*
 * CNI plugin latency as a runtime sees it: the wall time of one `tortie` (bin/tortie-cni.js)
 * process from spawn to exit, ADD and DEL, against the embedded SQLite datastore, in a lab host
 * namespace (test/helpers/agent-lab.ts) with a pod namespace per pod. Target: p50 ADD ≤ 100 ms.
 *
 *   node --import tsx bench/cni.ts [--sequential 100] [--rounds 10] [--concurrency 10] [--traced 30]
 *        [--warmup 5] [--out bench/results/<date>-cni.json]
 *
 * The timing loop runs in a worker process inside the host namespace (this file with --worker), so
 * a measured run is exactly fork+exec of the plugin from a process already in the node's namespace,
 * as containerd does — no `ip netns exec` (which remounts /sys) in the numbers.
 *
 * Phases: `--sequential` pods ADDed one after the other, then DELeted one after the other; then
 * `--rounds` rounds of `--concurrency` ADDs started together (each timed on its own), and the same
 * for DEL. Then a breakdown: `--traced` sequential ADD/DEL with TORTIE_CNI_TRACE=1 (the plugin
 * prints when it reached each step, ms since its process started), bare `node -e 0`, and VERSION
 * (node start-up plus loading the bundle). Needs `npm run build` first.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cniEnv } from '../test/helpers/cni.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(HERE);
const PLUGIN = join(ROOT, 'bin', 'tortie-cni.js');

interface Run {
  ms: number;
  code: number;
  out: string;
  trace?: Record<string, number>;
}
interface Phase {
  name: string;
  command: 'ADD' | 'DEL' | 'VERSION' | 'NODE';
  pods: { containerId: string; netns: string; pod: string }[];
  concurrency: number;
  trace?: boolean;
}
interface Job {
  conf: Record<string, unknown>;
  phases: Phase[];
}

// ---------------------------------------------------------------------------------------------
// Worker (inside the host namespace): runs the phases, prints the timings as one JSON document.

function runOnce(command: Phase['command'], conf: Record<string, unknown>, p: Phase['pods'][number], trace: boolean): Promise<Run> {
  const args = { IgnoreUnknown: '1', K8S_POD_NAMESPACE: 'default', K8S_POD_NAME: p.pod, K8S_POD_INFRA_CONTAINER_ID: p.containerId };
  const env: NodeJS.ProcessEnv = {
    ...cniEnv(command, { containerId: p.containerId, netns: p.netns, args }, [dirname(PLUGIN)]),
    ...(trace ? { TORTIE_CNI_TRACE: '1' } : {}),
  };
  const argv = command === 'NODE' ? [process.execPath, '-e', '0'] : [PLUGIN];
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.once('error', reject);
    child.once('close', (code) => {
      const ms = performance.now() - t0;
      const line = err.split('\n').find((l) => l.startsWith('{"trace"'));
      resolve({ ms, code: code ?? 1, out: out + err, ...(line ? { trace: (JSON.parse(line) as { trace: Record<string, number> }).trace } : {}) });
    });
    child.stdin.end(command === 'NODE' ? '' : JSON.stringify(command === 'VERSION' ? { cniVersion: conf.cniVersion } : conf));
  });
}

async function worker(): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const job = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Job;
  const results: Record<string, Run[]> = {};
  for (const ph of job.phases) {
    const runs: Run[] = [];
    for (let i = 0; i < ph.pods.length; i += ph.concurrency) {
      runs.push(...(await Promise.all(ph.pods.slice(i, i + ph.concurrency).map((p) => runOnce(ph.command, job.conf, p, ph.trace ?? false)))));
    }
    const bad = runs.find((r) => r.code !== 0);
    if (bad) throw new Error(`${ph.name}: a ${ph.command} failed: ${bad.out}`);
    results[ph.name] = runs.map((r) => ({ ...r, out: '' }));
  }
  process.stdout.write(JSON.stringify(results) + '\n');
}

// ---------------------------------------------------------------------------------------------
// Harness

/** Nearest-rank percentile. */
function pct(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil((p / 100) * s.length) - 1)]!;
}

async function harness(): Promise<void> {
  const { AgentLab } = await import('../test/helpers/agent-lab.js');
  const { cleanupAll, createNetns, IP_BIN } = await import('../test/helpers/netns.js');
  const { arg, gitRev, installSignalCleanup, machine, median, round, waitQuiet } = await import('./common.js');
  const sequential = Number(arg('sequential', '100'));
  const rounds = Number(arg('rounds', '10'));
  const concurrency = Number(arg('concurrency', '10'));
  const traced = Number(arg('traced', '30'));
  const warmup = Number(arg('warmup', '5'));
  const date = new Date().toISOString().slice(0, 10);
  const outFile = arg('out', join(ROOT, 'bench', 'results', `${date}-cni.json`))!;
  if (!existsSync(join(ROOT, 'dist', 'cni', 'bundle', 'main.js'))) throw new Error('dist/ is not built: npm run build');
  installSignalCleanup();

  const lab = await AgentLab.create('cnib', [{ name: 'bench-host', cidr: '10.60.0.1/24' }]);
  try {
    await lab.apply(`apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: bench
spec:
  cidr: 10.61.0.0/16
  blockSize: 26
---
apiVersion: projectcalico.org/v3
kind: Node
metadata:
  name: bench-host
spec:
  bgp:
    ipv4Address: 10.60.0.1/24
`);
    // Calico's defaults: log at info to a file.
    const conf = { cniVersion: '1.0.0', name: 'k8s-pod-network', type: 'tortie', datastore_type: 'sqlite', sqlite_path: lab.dbPath, nodename: 'bench-host', mtu: 1450, log_level: 'info', log_file_path: join(lab.dir, 'cni.log'), ipam: { type: 'tortie-ipam' } };
    const nPods = Math.max(sequential, rounds * concurrency, traced, warmup);
    const pods = Array.from({ length: nPods }, (_, i) => ({ containerId: `bench${String(i).padStart(4, '0')}`, netns: `/run/netns/${createNetns(`cnib-p${i}`).name}`, pod: `bench-${i}` }));
    const h = lab.host('bench-host');
    const both = (name: string, ps: typeof pods, c: number, trace = false): Phase[] => [
      { name: `${name}-add`, command: 'ADD', pods: ps, concurrency: c, trace },
      { name: `${name}-del`, command: 'DEL', pods: ps, concurrency: c, trace },
    ];
    const phases: Phase[] = [
      ...both('warmup', pods.slice(0, warmup), 1),
      ...both('sequential', pods.slice(0, sequential), 1),
      ...both('concurrent', pods.slice(0, rounds * concurrency), concurrency),
      ...both('traced', pods.slice(0, traced), 1, true),
      { name: 'node', command: 'NODE', pods: pods.slice(0, traced), concurrency: 1 },
      { name: 'version', command: 'VERSION', pods: pods.slice(0, traced), concurrency: 1, trace: true },
    ];
    const idle = await waitQuiet(60_000);
    const t0 = Date.now();
    const results = await new Promise<Record<string, Run[]>>((resolve, reject) => {
      const child = spawn(IP_BIN, ['netns', 'exec', h.ns.name, process.execPath, '--import', 'tsx', fileURLToPath(import.meta.url), '--worker'], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      child.once('close', (code) => (code === 0 ? resolve(JSON.parse(out) as Record<string, Run[]>) : reject(new Error(`worker exited ${code}`))));
      child.stdin.end(JSON.stringify({ conf, phases } satisfies Job));
    });
    const elapsed = (Date.now() - t0) / 1000;
    if (/cali/.test(h.ns.ip('link'))) throw new Error('cali interfaces left after the DELs');
    const check = await lab.tortie(['ipam', 'check']);
    if (!/found 0 problems/.test(check)) throw new Error(`ipam check after the run: ${check}`);

    const stats = (runs: Run[]) => {
      const ms = runs.map((r) => r.ms);
      return { n: ms.length, p50: round(pct(ms, 50), 1), p99: round(pct(ms, 99), 1), min: round(Math.min(...ms), 1), max: round(Math.max(...ms), 1) };
    };
    const summary: Record<string, ReturnType<typeof stats>> = {};
    for (const k of ['sequential-add', 'sequential-del', 'concurrent-add', 'concurrent-del', 'traced-add', 'traced-del', 'node', 'version']) summary[k] = stats(results[k]!);

    // Breakdown: median of each step-to-step interval over the traced runs.
    const spans = (runs: Run[], points: string[]) => {
      const out: Record<string, number> = {};
      const at = (r: Run, p: string) => (p === 'start' ? 0 : p === 'exit' ? r.ms : r.trace![p]!);
      const seq = ['start', ...points, 'exit'];
      for (let i = 1; i < seq.length; i++) out[`${seq[i - 1]} → ${seq[i]}`] = round(median(runs.map((r) => at(r, seq[i]!) - at(r, seq[i - 1]!))), 1);
      return out;
    };
    const breakdown = {
      add: spans(results['traced-add']!, ['node-bootstrap', 'main', 'stdin', 'datastore-open', 'after-cleanup', 'after-ipam', 'after-wiring', 'before-wep', 'done', 'closed']),
      del: spans(results['traced-del']!, ['node-bootstrap', 'main', 'stdin', 'datastore-open', 'done', 'closed']),
      version: spans(results.version!, ['node-bootstrap', 'main', 'done', 'closed']),
    };

    const doc = {
      benchmark: 'cni',
      date: new Date().toISOString(),
      command: `node --import tsx bench/cni.ts ${process.argv.slice(2).join(' ')}`.trim(),
      machine: machine(),
      versions: { tortie: gitRev(ROOT), node: process.version },
      setup: { sequential, rounds, concurrency, traced, warmup, datastore: 'sqlite', pool: '10.61.0.0/16', blockSize: 26, idleBefore: idle, elapsedSeconds: round(elapsed, 1) },
      target: { p50AddMs: 100 },
      summary,
      breakdown,
      runsMs: Object.fromEntries(Object.entries(results).map(([k, v]) => [k, v.map((r) => round(r.ms, 1))])),
    };
    mkdirSync(dirname(outFile), { recursive: true });
    writeFileSync(outFile, JSON.stringify(doc, null, 2) + '\n');

    const row = (label: string, k: string) => `| ${label} | ${summary[k]!.p50} ms | ${summary[k]!.p99} ms | ${summary[k]!.min}–${summary[k]!.max} ms |`;
    console.log('\n| run | p50 | p99 | min–max |\n|---|---|---|---|');
    console.log(row(`ADD, sequential (${sequential})`, 'sequential-add'));
    console.log(row(`DEL, sequential (${sequential})`, 'sequential-del'));
    console.log(row(`ADD, ${concurrency} at once (${rounds} × ${concurrency})`, 'concurrent-add'));
    console.log(row(`DEL, ${concurrency} at once (${rounds} × ${concurrency})`, 'concurrent-del'));
    console.log(row('`node -e 0`', 'node'));
    console.log(row('VERSION', 'version'));
    console.log(`\np50 ADD ${summary['sequential-add']!.p50} ms: target ≤ 100 ms ${summary['sequential-add']!.p50 <= 100 ? 'met' : 'MISSED'}`);
    for (const [what, b] of Object.entries(breakdown)) {
      console.log(`\n${what} (median of ${traced} traced runs, ms):`);
      for (const [k, v] of Object.entries(b)) console.log(`  ${k.padEnd(34)} ${v}`);
    }
    console.log(`\nresults: ${outFile}`);
  } finally {
    await lab.close();
    await cleanupAll();
  }
}

if (process.argv.includes('--worker')) await worker();
else await harness();
process.exit(0);
