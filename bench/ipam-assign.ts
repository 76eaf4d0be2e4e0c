/*
 * IPAM assignment rate: one process, then eight at once, on the embedded SQLite datastore and on a
 * real etcd (Debian's etcd-server on 127.0.0.1, a fresh data directory per run). Each assignment
 * is one address with its own handle, as the CNI plugin makes one per pod (test/helpers/ipam-worker.ts,
 * the same code path as `tortie ipam assign`). Pool 10.128.0.0/16, /26 blocks.
 *
 *   node --import tsx bench/ipam-assign.ts [--backends sqlite,etcd] [--single 1000] [--per-worker 250]
 *        [--workers 8] [--runs 3] [--out bench/results/<date>-ipam.json]
 *
 * "eight": eight processes start together (a shared start instant), twice: each on its own host
 * (eight nodes' CNI plugins at once), and all on one host (eight pods on one node racing for the
 * same block; 150 each there, as one host may hold at most 20 blocks = 1,280 addresses by
 * default). Rate = all assignments ÷ the slowest process's time. One process: 1,000 (the same
 * 20-block limit).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { API_VERSION } from '../src/api/meta.js';
import { Client } from '../src/datastore/client.js';
import { EtcdBackend } from '../src/datastore/etcd.js';
import type { KVBackend } from '../src/datastore/kv.js';
import { SqliteBackend } from '../src/datastore/sqlite.js';
import { startEtcd, type TestEtcd } from '../test/helpers/etcd.js';
import { LineWorker } from '../test/helpers/line-worker.js';
import { arg, gitRev, machine, median, round, waitQuiet } from './common.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(HERE);
const backends = arg('backends', 'sqlite,etcd')!.split(',');
const single = Number(arg('single', '1000'));
const perWorker = Number(arg('per-worker', '250'));
const nWorkers = Number(arg('workers', '8'));
const ONE_HOST_PER_WORKER = Math.min(perWorker, 150);
const runs = Number(arg('runs', '3'));
const date = new Date().toISOString().slice(0, 10);
const outFile = arg('out', join(ROOT, 'bench', 'results', `${date}-ipam.json`))!;
const worker = join(ROOT, 'test', 'helpers', 'ipam-worker.ts');

interface Target {
  target: string;
  connect(): KVBackend;
  cleanup(): Promise<void>;
}

async function fresh(backend: string): Promise<Target> {
  if (backend === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'tortie-bench-ipam-'));
    const path = join(dir, 'tortie.db');
    return { target: `sqlite:${path}`, connect: () => SqliteBackend.open(path), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const etcd: TestEtcd = await startEtcd();
  return { target: `etcd:${etcd.endpoint}`, connect: () => EtcdBackend.connect([etcd.endpoint]), cleanup: () => etcd.stop() };
}

async function seed(t: Target, nodes: number): Promise<void> {
  const c = new Client(t.connect());
  await c.create({ apiVersion: API_VERSION, kind: 'IPPool', metadata: { name: 'bench' }, spec: { cidr: '10.128.0.0/16' } });
  for (let h = 0; h < nodes; h++) await c.create({ apiVersion: API_VERSION, kind: 'Node', metadata: { name: `host-${h}` }, spec: {} });
  await c.close();
}

/** `count` assignments in each of `procs` processes at once; returns assignments per second. */
async function measure(backend: string, procs: number, count: number, nodes: number): Promise<{ rate: number; seconds: number; perProcessMs: number[] }> {
  const t = await fresh(backend);
  const ws: LineWorker[] = [];
  try {
    await seed(t, nodes);
    for (let i = 0; i < procs; i++) ws.push(new LineWorker(ROOT, worker, [t.target, String(i), String(count), `host-${i % nodes}`], i, 600_000));
    await Promise.all(ws.map((w) => w.next('ready')));
    await waitQuiet(60_000);
    const at = Date.now() + 300;
    for (const w of ws) w.send(`assign ${at}`);
    const res = await Promise.all(ws.map((w) => w.next('assign')));
    const ms = res.map((r) => r.ms as number);
    const all = new Set(res.flatMap((r) => r.ips as string[]));
    if (all.size !== procs * count) throw new Error(`${all.size} distinct addresses for ${procs * count} assignments`);
    const seconds = Math.max(...ms) / 1000;
    return { rate: (procs * count) / seconds, seconds, perProcessMs: ms.map((x) => round(x, 0)) };
  } finally {
    await Promise.all(ws.map((w) => w.exit()));
    for (const w of ws) w.kill();
    await t.cleanup();
  }
}

const results: Record<string, Record<string, unknown>> = {};
for (const b of backends) {
  const one: number[] = [];
  const many: number[] = [];
  const shared: number[] = [];
  const raw: unknown[] = [];
  for (let r = 0; r < runs; r++) {
    const s = await measure(b, 1, single, 1);
    one.push(s.rate);
    console.log(`${b} one process: ${single} assignments in ${s.seconds.toFixed(2)} s = ${s.rate.toFixed(0)}/s`);
    const e = await measure(b, nWorkers, perWorker, nWorkers);
    many.push(e.rate);
    console.log(`${b} ${nWorkers} processes, ${nWorkers} hosts: ${nWorkers * perWorker} assignments in ${e.seconds.toFixed(2)} s = ${e.rate.toFixed(0)}/s (per process ms ${e.perProcessMs.join(', ')})`);
    const o = await measure(b, nWorkers, ONE_HOST_PER_WORKER, 1);
    shared.push(o.rate);
    console.log(`${b} ${nWorkers} processes, one host: ${nWorkers * ONE_HOST_PER_WORKER} assignments in ${o.seconds.toFixed(2)} s = ${o.rate.toFixed(0)}/s (per process ms ${o.perProcessMs.join(', ')})`);
    raw.push({ single: s, eightHosts: e, oneHost: o });
  }
  results[b] = {
    singleRate: round(median(one), 0),
    eightHostsRate: round(median(many), 0),
    oneHostRate: round(median(shared), 0),
    singleRates: one.map((x) => round(x, 0)),
    eightHostsRates: many.map((x) => round(x, 0)),
    oneHostRates: shared.map((x) => round(x, 0)),
    runs: raw,
  };
}

const doc = {
  benchmark: 'ipam-assign',
  date: new Date().toISOString(),
  command: `node --import tsx bench/ipam-assign.ts ${process.argv.slice(2).join(' ')}`.trim(),
  machine: machine(),
  versions: { tortie: gitRev(ROOT), node: process.version },
  setup: { single, perWorker, oneHostPerWorker: ONE_HOST_PER_WORKER, workers: nWorkers, pool: '10.128.0.0/16', blockSize: 26 },
  results,
};
mkdirSync(dirname(outFile), { recursive: true });
writeFileSync(outFile, JSON.stringify(doc, null, 2) + '\n');
console.log(`\n| datastore | one process | ${nWorkers} processes, ${nWorkers} hosts | ${nWorkers} processes, one host |\n|---|---|---|---|`);
for (const b of backends) console.log(`| ${b} | ${results[b]!.singleRate}/s | ${results[b]!.eightHostsRate}/s | ${results[b]!.oneHostRate}/s |`);
console.log(`\nresults: ${outFile}`);
process.exit(0);
