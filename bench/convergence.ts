/*
 * Route convergence in a cluster (lab issue, acceptance 7): time from "a pod on host H needs a new block" to the
 * block's route being in EVERY other host's kernel table, p50 / p99 / max, for 10, 25 and 50 hosts, as a full
 * node-to-node mesh and with two route reflectors (every other host a client of both) — tortie's agent
 * (`tortie node run`, the built CLI) on every host, then the same topology with BIRD 2 on every host configured
 * the way Calico's confd configures it (calico-compat §5).
 *
 *   npm run build && node --import tsx bench/convergence.ts [--sizes 10,25,50] [--topologies mesh,rr]
 *        [--targets tortie,bird2] [--runs 30] [--warmup 3] [--gap 300] [--out bench/results/<date>-convergence.json]
 *
 * --runs = measured triggers per configuration (size × topology × target), origins round-robin over the hosts
 * (mesh) or over the reflector clients (rr); --warmup triggers come first and are reported apart ("cold"):
 * right after start a Node agent's code is still being compiled by V8 — at 50 hosts, with a trigger every
 * ~0.5 s, TurboFan was still a fifth of the agents' CPU after 20 triggers — so the measured triggers are the
 * steady state a long-running cluster sees, and the warm-up ones what the first pods after a restart see.
 * Daemon CPU is counted over the measured triggers only.
 *
 * Hosts: one namespace each on one bridge (10.210.0.<i+1>/24, eth0), AS 64512, pool 10.240.0.0/16 with /26
 * blocks, no encapsulation, natOutgoing off. Before the measurement every host owns one full block (64
 * addresses assigned through IPAM; BIRD: its static blackhole), so every kernel table holds the other N−1
 * blocks and every RIB N routes, as in a running cluster.
 *
 * Trigger ("a pod whose address needs a new block"), the same datastore work for both targets: the CNI
 * plugin's `ipam.autoAssign({num4: 1, hostname: H})` in this process on a SQLite datastore — H's block is full,
 * so IPAM claims a new block (one transaction: the affinity, confirmed, and the block with the address). t0 =
 * just before the call. Then:
 *  - tortie: the agents see the writes through their datastore watch, H's agent originates the block, the others
 *    program it.
 *  - BIRD: what confd does in Calico — once H's block affinity is confirmed (a pending one counts as absent),
 *    H's bird_aggr.cfg gets `route <block> blackhole;` plus the block's rule in calico_aggr(), then
 *    `birdc configure`. "confd" is a hook on the datastore's writes, so the reload starts the moment the
 *    affinity commits, while IPAM goes on to assign the address; Calico's watch latency, template rendering and
 *    `bird -p -c` are not measured (BIRD keeps that head start).
 *    (Until 2026-11-22 BIRD's t0 was the `birdc configure` call itself, without the IPAM writes a pod's
 *    creation makes in Calico too; results files before that measured BIRD that way.)
 * Withdrawal afterwards: the address released and the block affinity released (BIRD: reloaded when the
 * affinity key is deleted).
 *
 * Measured: one `ip -ts monitor route` per host namespace, started before the daemons. iproute2 stamps each
 * netlink message with the wall clock when it reads it (µs resolution); t0 is this process's wall clock (same
 * clock). Precision: the monitor's read happens as soon as it is scheduled — on a loaded 2-core machine that can
 * lag the kernel change by the scheduling delay (typically < 1 ms, more under load), so figures are upper
 * bounds by that much. Nothing polls the kernel. Per trigger:
 *  - origin  = the new block's blackhole in H's own kernel (tortie: the agent saw the change, re-planned,
 *              handed the route to its speaker and programmed the kernel; BIRD: the reloaded static route
 *              exported to the kernel) — the "originated" side of the split;
 *  - first / all = the route (via H) in the first / last of the other N−1 kernels; `all` is the convergence time;
 *  - withdraw = from the withdrawal trigger until it is gone from every other kernel.
 * p50 / p99 by linear interpolation over the measured triggers (with 30 samples p99 sits between the two
 * largest), max separately.
 *
 * Also recorded per configuration: set-up time (daemons started → every session Established and every kernel
 * holding the N−1 blocks), summed and per-daemon RSS, the daemons' CPU while idle and during the measurement,
 * and CPU used by other processes on the machine meanwhile (another session's tests would distort it).
 *
 * Cleanup: every namespace is `t<pid>-cv…` from test/helpers/netns.ts (deleted with whatever runs inside, also
 * on Ctrl-C and through its watchdog after kill -9); the monitors and daemons are additionally stopped by PID.
 */

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { API_VERSION } from '../src/api/meta.js';
import { Client } from '../src/datastore/client.js';
import { SqliteBackend } from '../src/datastore/sqlite.js';
import { Ipam } from '../src/ipam/ipam.js';
import { Prefix } from '../src/net/index.js';
import type { KVBackend, TxnOp } from '../src/datastore/kv.js';
import { IpamStore, parseAffinityKey } from '../src/ipam/store.js';
import { BINARIES, daemonSkipReason, daemonVersion } from '../test/helpers/daemons.js';
import { cleanupAll, createNetns, createSegment, makeTempDir, run, skipReason, IP_BIN, type Netns, type TrackedProcess } from '../test/helpers/netns.js';
import { ForeignCpu, arg, gitRev, installSignalCleanup, machine, now, procCpuPrecise, procMemory, round, sleep, runBench } from './common.js';
import { tortieNodeFlags } from '../src/lab/node-flags.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(HERE);
const ASN = 64512;
const CLUSTER_ID = '244.0.0.1';
const POOL = '10.240.0.0/16';
const NET = '10.210.0';

type Target = 'tortie' | 'bird2';
type Topology = 'mesh' | 'rr';
const sizes = arg('sizes', '10,25,50')!.split(',').map(Number);
const topologies = arg('topologies', 'mesh,rr')!.split(',') as Topology[];
const targets = arg('targets', 'tortie,bird2')!.split(',') as Target[];
const runs = Number(arg('runs', '30'));
const warmup = Number(arg('warmup', '40'));
const gapMs = Number(arg('gap', '300'));
const triggerTimeoutMs = Number(arg('trigger-timeout', '15')) * 1000;
const setupTimeoutMs = Number(arg('setup-timeout', '180')) * 1000;
const date = new Date().toISOString().slice(0, 10);
const outFile = arg('out', join(ROOT, 'bench', 'results', `${date}-convergence.json`))!;
/** CONV_NODE_FLAGS replaces bin/tortie.js's node flags for the agents (experiments; recorded in the results). */
const tortieFlags = process.env.CONV_NODE_FLAGS !== undefined ? process.env.CONV_NODE_FLAGS.split(/\s+/).filter(Boolean) : tortieNodeFlags();
/** CONV_CPU_PROF=<dir>: every agent writes a V8 CPU profile to <dir>/<host>/ (diagnosis, not measurement). */
const profFlags = (h: { name: string }): string[] =>
  process.env.CONV_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${join(process.env.CONV_CPU_PROF, h.name)}`] : [];

/** CLOCK_MONOTONIC (ms) minus `now()`: both tick together, so one offset converts. */
const monoOffsetMs = Number(process.hrtime.bigint()) / 1e6 - now();

function log(s: string): void {
  process.stderr.write(s + '\n');
}

const hostIp = (i: number) => `${NET}.${i + 1}`;
const name = (i: number) => `h${i}`;

// ---------------------------------------------------------------------------------------------
// Route monitors: `ip -ts monitor route` per namespace

interface RouteEvent {
  t: number;
  deleted: boolean;
  prefix: string;
  blackhole: boolean;
  via?: string;
}

class Monitor {
  readonly events: RouteEvent[] = [];
  private readonly child: ChildProcess;
  private readonly listeners = new Set<() => void>();

  constructor(readonly ns: Netns) {
    this.child = spawn(IP_BIN, ['-n', ns.name, '-ts', 'monitor', 'route'], { stdio: ['ignore', 'pipe', 'ignore'] });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      const m = /^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d+)\] (Deleted )?(blackhole )?(\d+\.\d+\.\d+\.\d+\/\d+)(?: via (\S+))?/.exec(line);
      if (!m) return;
      const t = new Date(m[1]!).getTime() + Number(`0.${m[2]}`) * 1000; // local time, as iproute2 prints it
      this.events.push({ t, deleted: !!m[3], blackhole: !!m[4], prefix: m[5]!, ...(m[6] ? { via: m[6] } : {}) });
      for (const l of this.listeners) l();
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** First event at or after `since` matching `pred`, waiting up to `timeoutMs`. */
  wait(since: number, pred: (e: RouteEvent) => boolean, timeoutMs: number): Promise<RouteEvent | undefined> {
    const find = () => this.events.find((e) => e.t >= since && pred(e));
    const have = find();
    if (have) return Promise.resolve(have);
    return new Promise((resolve) => {
      const l = () => {
        const e = find();
        if (e) done(e);
      };
      const t = setTimeout(() => done(undefined), timeoutMs);
      const done = (e: RouteEvent | undefined) => {
        clearTimeout(t);
        this.listeners.delete(l);
        resolve(e);
      };
      this.listeners.add(l);
    });
  }

  /** Drops events older than `t` (keeps memory flat over many triggers). */
  trim(t: number): void {
    let k = 0;
    while (k < this.events.length && this.events[k]!.t < t) k++;
    this.events.splice(0, k);
  }

  stop(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

// ---------------------------------------------------------------------------------------------
// Cluster: namespaces + monitors, then tortie agents or BIRDs

interface Host {
  i: number;
  name: string;
  ip: string;
  ns: Netns;
  mon: Monitor;
  dir: string;
  proc?: TrackedProcess;
}

/** Peers of host i as Calico computes them: mesh = everyone; rr = clients peer with both reflectors (hosts 0, 1). */
function peersOf(i: number, n: number, topo: Topology): { j: number; rrClient: boolean }[] {
  const out: { j: number; rrClient: boolean }[] = [];
  if (topo === 'mesh') {
    for (let j = 0; j < n; j++) if (j !== i) out.push({ j, rrClient: false });
  } else if (i < 2) {
    for (let j = 0; j < n; j++) if (j !== i) out.push({ j, rrClient: j >= 2 });
  } else {
    out.push({ j: 0, rrClient: false }, { j: 1, rrClient: false });
  }
  return out;
}

interface Driver {
  start(): Promise<void>;
  /** Sessions Established everywhere (the kernels are checked separately). */
  sessionsUp(): Promise<boolean>;
  /** Starts "a pod needing a new block" on host i; resolves with the block once the trigger call returned. */
  trigger(h: Host, k: number): Promise<{ block: string; callMs: number }>;
  withdraw(h: Host, block: string, k: number): Promise<void>;
  pids(): number[];
  stop(): Promise<void>;
}

/**
 * The cluster's datastore as both targets start from: the pool, the BGP configuration, a Node per host (the
 * reflectors labelled, with the cluster id) and the reflector peering; then one full block per host through
 * IPAM, so every kernel holds the other N−1 blocks and a trigger's address needs a new block. (BIRD's hosts
 * do not read it: for them it is the CNI plugin's IPAM, whose writes "confd" watches — see birdDriver.)
 */
async function seedDatastore(c: Client, ipam: Ipam, hosts: Host[], topo: Topology): Promise<void> {
  await c.create({ apiVersion: API_VERSION, kind: 'IPPool', metadata: { name: 'bench' }, spec: { cidr: POOL, blockSize: 26, ipipMode: 'Never', vxlanMode: 'Never', natOutgoing: false, nodeSelector: 'all()' } });
  await c.create({ apiVersion: API_VERSION, kind: 'BGPConfiguration', metadata: { name: 'default' }, spec: { logSeverityScreen: 'Info', nodeToNodeMeshEnabled: topo === 'mesh', asNumber: ASN } });
  for (const h of hosts) {
    const rr = topo === 'rr' && h.i < 2;
    await c.create({
      apiVersion: API_VERSION,
      kind: 'Node',
      metadata: { name: h.name, ...(rr ? { labels: { 'route-reflector': 'true' } } : {}) },
      spec: { bgp: { ipv4Address: `${h.ip}/24`, ...(rr ? { routeReflectorClusterID: CLUSTER_ID } : {}) } },
    });
  }
  if (topo === 'rr') {
    await c.create({ apiVersion: API_VERSION, kind: 'BGPPeer', metadata: { name: 'peer-with-route-reflectors' }, spec: { nodeSelector: 'all()', peerSelector: "route-reflector == 'true'" } });
  }
  for (const h of hosts) {
    const r = await ipam.autoAssign({ num4: 64, hostname: h.name, handle: `pre-${h.name}`, attrs: { node: h.name } });
    if (r.v4.ips.length !== 64) throw new Error(`pre-population of ${h.name}: ${r.v4.ips.length} addresses`);
  }
}

/** "A pod whose address needs a new block" on host `name`, k-th trigger: the CNI plugin's IPAM call. */
async function podAddress(ipam: Ipam, name: string, k: number): Promise<string> {
  const r = await ipam.autoAssign({ num4: 1, hostname: name, handle: `pod-${k}`, attrs: { node: name, pod: `pod-${k}`, namespace: 'default' } });
  const a = r.v4.ips[0];
  if (!a) throw new Error(`no address for pod-${k} on ${name}: ${r.v4.msgs.join('; ')}`);
  return a.block.toString();
}

/** The pod deleted again: its address released, then its (now empty) block's affinity. */
async function podGone(ipam: Ipam, name: string, block: string, k: number): Promise<void> {
  await ipam.releaseByHandle(`pod-${k}`);
  await ipam.releaseBlockAffinity({ type: 'host', name }, Prefix.parse(block), { requireEmpty: true });
}

function tortieDriver(hosts: Host[], topo: Topology, dir: string): Driver {
  const db = join(dir, 'tortie.db');
  const env = { ...process.env, DATASTORE_TYPE: 'sqlite', SQLITE_PATH: db, TORTIE_SKIP_ROOT_CHECK: '1' };
  let client: Client | undefined;
  let ipam: Ipam | undefined;
  const status = (h: Host): Promise<{ bgp: { peers: { bgpState: string }[] } }> =>
    new Promise((resolve, reject) => {
      const s = net.connect(join(h.dir, 'agent.sock'));
      let buf = '';
      s.setEncoding('utf8');
      s.once('connect', () => s.write('{"cmd":"status"}\n'));
      s.on('data', (d: string) => {
        buf += d;
        const nl = buf.indexOf('\n');
        if (nl < 0) return;
        s.destroy();
        const a = JSON.parse(buf.slice(0, nl)) as { ok: boolean; result: never; error?: string };
        if (a.ok) resolve(a.result);
        else reject(new Error(a.error));
      });
      s.once('error', reject);
    });
  return {
    async start() {
      client = new Client(SqliteBackend.open(db));
      ipam = new Ipam(client);
      await seedDatastore(client, ipam, hosts, topo);
      for (const h of hosts) {
        mkdirSync(join(h.dir, 'state'), { recursive: true });
        h.proc = h.ns.spawn(
          [process.execPath, ...tortieFlags, ...profFlags(h), join(ROOT, 'bin', 'tortie.js'), 'node', 'run', '--name', h.name, '--run-dir', h.dir, '--state-dir', join(h.dir, 'state'), '--ip', `${h.ip}/24`, '--metrics-port', '0', '--log-level', process.env.CONV_LOG_LEVEL ?? 'info'],
          { logFile: join(h.dir, 'agent.log'), env, cwd: ROOT },
        );
      }
    },
    async sessionsUp() {
      for (const h of hosts) {
        if (!h.proc?.running()) throw new Error(`agent on ${h.name} exited; see ${join(h.dir, 'agent.log')}`);
        const want = peersOf(h.i, hosts.length, topo).length;
        const st = await status(h).catch(() => undefined);
        if (!st) return false;
        const up = st.bgp.peers.filter((p) => p.bgpState === 'Established').length;
        if (up !== want || st.bgp.peers.length !== want) return false;
      }
      return true;
    },
    async trigger(h, k) {
      const t = now();
      const block = await podAddress(ipam!, h.name, k);
      return { block, callMs: now() - t };
    },
    withdraw: (h, block, k) => podGone(ipam!, h.name, block, k),
    pids: () => hosts.map((h) => h.proc?.pid ?? 0).filter(Boolean),
    async stop() {
      // A CPU profile is written when node exits on its own: SIGTERM (graceful stop) then.
      await Promise.all(hosts.map((h) => h.proc?.stop(process.env.CONV_CPU_PROF ? 'SIGTERM' : 'SIGKILL', 5000)));
      await client?.close();
    },
  };
}

const birdSafe = (ip: string) => ip.replace(/\./g, '_');

function birdAggr(blocks: string[]): string {
  return `# bird_aggr.cfg, as confd renders it (BIRD 2 syntax)
protocol static static_calico {
  ipv4;
${blocks.map((b) => `  route ${b} blackhole;`).join('\n')}
}
function calico_aggr() {
${blocks.map((b) => `  if ( net = ${b} ) then { accept; }\n  if ( net ~ ${b} ) then { reject; }`).join('\n')}
}
`;
}

function birdIpam(): string {
  return `# bird_ipam.cfg
filter calico_export_to_bgp_peers {
  apply_communities();
  calico_aggr();
  if ( net ~ ${POOL} ) then { accept; }
  reject;
}
filter calico_kernel_programming {
  if ( net ~ ${POOL} ) then { accept; }
  accept;
}
`;
}

/** bird.cfg as Calico's template renders it (calico-compat §5.4), in BIRD 2 syntax. */
function birdConf(h: Host, n: number, topo: Topology): string {
  const peers = peersOf(h.i, n, topo)
    .map(({ j, rrClient }) => {
      const ip = hostIp(j);
      // Mesh and Calico-node peers: the side with the smaller IP string is passive (unidirectional sessions).
      const passive = h.ip < ip;
      return `protocol bgp ${topo === 'mesh' ? 'Mesh' : 'Node'}_${birdSafe(ip)} from bgp_template {
  neighbor ${ip} as ${ASN};
  source address ${h.ip};${passive ? '\n  passive on;' : ''}${rrClient ? `\n  rr client;\n  rr cluster id ${CLUSTER_ID};` : ''}
}`;
    })
    .join('\n');
  return `# bird.cfg (Calico's template, BIRD 2 syntax)
function apply_communities() {
}
include "${join(h.dir, 'bird_aggr.cfg')}";
include "${join(h.dir, 'bird_ipam.cfg')}";
router id ${h.ip};
protocol kernel {
  learn;
  persist;
  scan time 2;
  ipv4 { import all; export filter calico_kernel_programming; };
  graceful restart;
  merge paths on;
}
protocol device { debug { states }; scan time 2; }
protocol direct { debug { states }; ipv4; interface -"cali*", -"kube-ipvs*", "*"; }
template bgp bgp_template {
  debug { states };
  description "Connection to BGP peer";
  local as ${ASN};
  ipv4 { gateway recursive; import all; export filter calico_export_to_bgp_peers; add paths on; };
  graceful restart;
  connect delay time 2;
  connect retry time 5;
  error wait time 5,30;
}
${peers}
`;
}

/**
 * The KV backend `kv`, reporting every committed write of a host's block affinity
 * (`/calico/ipam/v2/host/<node>/ipv4/block/<cidr>`): the host, the block and the state written ('deleted' when
 * the key went). What confd watches for bird_aggr.cfg.
 */
function onAffinityWrites(kv: KVBackend, seen: (host: string, cidr: string, state: string) => void): KVBackend {
  const store = new IpamStore(kv);
  const report = (key: string, value: string | undefined) => {
    const k = parseAffinityKey(key);
    if (!k || k.owner.type !== 'host') return;
    let state = 'deleted';
    if (value !== undefined) {
      try {
        state = store.affinitiesFrom([{ key, value, revision: '0', createRevision: '0' }])[0]!.value.state; // IPAM's own decoding
      } catch {
        state = 'unreadable';
      }
    }
    seen(k.owner.name, k.cidr.toString(), state);
  };
  return new Proxy(kv, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target) as unknown;
      if (typeof v !== 'function') return v;
      const f = v as (...args: unknown[]) => Promise<unknown>;
      if (prop === 'create' || prop === 'update' || prop === 'apply') {
        return async (key: string, value: string, ...rest: unknown[]) => {
          const r = await f.call(target, key, value, ...rest);
          report(key, value);
          return r;
        };
      }
      if (prop === 'delete') {
        return async (key: string, ...rest: unknown[]) => {
          const r = await f.call(target, key, ...rest);
          report(key, undefined);
          return r;
        };
      }
      if (prop === 'txn') {
        return async (ops: readonly TxnOp[]) => {
          const r = await f.call(target, ops);
          for (const o of ops) report(o.key, o.op === 'delete' ? undefined : o.value);
          return r;
        };
      }
      return f.bind(target);
    },
  });
}

/**
 * BIRD on every host, with the datastore side of a pod's creation as in Calico: the CNI plugin's IPAM call
 * (the same writes as tortie's trigger, on a SQLite file no daemon reads), and confd acting on this host's
 * block affinities — a confirmed one becomes `route <block> blackhole;` plus its calico_aggr() rule, a deleted
 * one goes (a pending affinity counts as absent: confd/pkg/backends/calico/client.go), then `birdc configure`.
 * "confd" here reacts the moment the affinity write commits; Calico's own watch, template rendering and
 * `bird -p` check are not measured (BIRD keeps that head start).
 */
function birdDriver(hosts: Host[], topo: Topology, dir: string): Driver {
  const blocks = new Map<string, string[]>(hosts.map((h) => [h.name, []]));
  const byName = new Map(hosts.map((h) => [h.name, h]));
  let client: Client | undefined;
  let ipam: Ipam | undefined;
  let live = false;
  /** Per host, its reloads in order (the last one settles after every earlier one). */
  const reloads = new Map<string, Promise<void>>();
  const birdc = (h: Host, ...cmd: string[]) => spawnSync(BINARIES.bird2.birdc, ['-s', join(h.dir, 'bird.ctl'), ...cmd], { encoding: 'utf8', timeout: 20_000 });
  const configure = (h: Host) =>
    new Promise<void>((resolve, reject) => {
      const c = spawn(BINARIES.bird2.birdc, ['-s', join(h.dir, 'bird.ctl'), 'configure'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      c.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
      c.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
      c.once('close', (code) => (code === 0 && /Reconfigured|Reconfiguration in progress/.test(out) ? resolve() : reject(new Error(`birdc configure on ${h.name}: ${out.trim()}`))));
    });
  /** confd: a host's set of confirmed affine blocks changed ⇒ bird_aggr.cfg rewritten and BIRD reloaded. */
  const confd = (host: string, cidr: string, state: string) => {
    const list = blocks.get(host);
    const h = byName.get(host);
    if (!list || !h) return;
    const want = state === 'confirmed' || state === 'pendingDeletion';
    if (want === list.includes(cidr)) return;
    if (want) list.push(cidr);
    else list.splice(list.indexOf(cidr), 1);
    if (!live) return;
    writeFileSync(join(h.dir, 'bird_aggr.cfg'), birdAggr(list));
    const prev = reloads.get(host) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(() => configure(h));
    next.catch(() => undefined); // awaited (and its error reported) by the trigger or withdrawal
    reloads.set(host, next);
  };
  /** The reloads the last IPAM call on `h` caused; fails if `block` did not come or go as it should. */
  const settled = async (h: Host, block: string, present: boolean) => {
    await reloads.get(h.name);
    if (blocks.get(h.name)!.includes(block) !== present) throw new Error(`${h.name}: block ${block} ${present ? 'never confirmed' : 'still affine'} after the IPAM call`);
  };
  return {
    async start() {
      client = new Client(onAffinityWrites(SqliteBackend.open(join(dir, 'ipam.db')), confd));
      ipam = new Ipam(client);
      await seedDatastore(client, ipam, hosts, topo);
      live = true;
      for (const h of hosts) {
        writeFileSync(join(h.dir, 'bird_aggr.cfg'), birdAggr(blocks.get(h.name)!));
        writeFileSync(join(h.dir, 'bird_ipam.cfg'), birdIpam());
        writeFileSync(join(h.dir, 'bird.conf'), birdConf(h, hosts.length, topo));
        const p = spawnSync(BINARIES.bird2.bird, ['-p', '-c', join(h.dir, 'bird.conf')], { encoding: 'utf8' });
        if (p.status !== 0) throw new Error(`bird -p on ${h.name}: ${p.stderr}`);
      }
      for (const h of hosts) {
        h.proc = h.ns.spawn([BINARIES.bird2.bird, '-f', '-c', join(h.dir, 'bird.conf'), '-s', join(h.dir, 'bird.ctl'), '-P', join(h.dir, 'bird.pid')], { logFile: join(h.dir, 'bird.log') });
      }
    },
    async sessionsUp() {
      for (const h of hosts) {
        if (!h.proc?.running()) throw new Error(`bird on ${h.name} exited; see ${join(h.dir, 'bird.log')}`);
        const r = birdc(h, 'show', 'protocols');
        const up = (r.stdout.match(/^\S+\s+BGP\s+.*Established/gm) ?? []).length;
        if (up !== peersOf(h.i, hosts.length, topo).length) return false;
      }
      return true;
    },
    async trigger(h, k) {
      const t = now();
      const block = await podAddress(ipam!, h.name, k);
      await settled(h, block, true);
      return { block, callMs: now() - t };
    },
    async withdraw(h, block, k) {
      await podGone(ipam!, h.name, block, k);
      await settled(h, block, false);
    },
    pids: () => hosts.map((h) => h.proc?.pid ?? 0).filter(Boolean),
    async stop() {
      await Promise.all(hosts.map((h) => h.proc?.stop('SIGKILL', 5000)));
      await client?.close();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// One configuration

interface Trigger {
  origin: string;
  block: string;
  /** The trigger call itself (tortie: IPAM autoAssign; BIRD: birdc configure returning). */
  callMs: number;
  /** The block's blackhole in the origin's own kernel. */
  originMs?: number;
  firstMs?: number;
  allMs?: number;
  /** Host that was last. */
  slowest?: string;
  withdrawAllMs?: number;
  missing?: string[];
  /** CONV_TRACE=1: the trigger's start (wall-clock ms) and each other host's arrival, to line up with a packet capture. */
  t0?: number;
  /** CONV_TRACE: t0 on CLOCK_MONOTONIC (ms), to line triggers up with perf or pcap timestamps. */
  t0Mono?: number;
  hostMs?: Record<string, number>;
}

interface Stats {
  n: number;
  p50: number;
  p99: number;
  max: number;
  min: number;
  mean: number;
}

function stats(xs: (number | undefined)[]): Stats | undefined {
  const s = xs.filter((x): x is number => x !== undefined && Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return undefined;
  const q = (p: number) => {
    const pos = (s.length - 1) * p;
    const lo = Math.floor(pos);
    const hi = Math.ceil(pos);
    return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
  };
  return { n: s.length, p50: round(q(0.5), 1), p99: round(q(0.99), 1), max: round(s[s.length - 1]!, 1), min: round(s[0]!, 1), mean: round(s.reduce((a, b) => a + b, 0) / s.length, 1) };
}

interface ConfigResult {
  target: Target;
  topology: Topology;
  hosts: number;
  setupSeconds?: number;
  rss?: { totalBytes: number; perDaemonMedianBytes: number; perDaemonMaxBytes: number };
  /** Daemons' CPU (all of them, CPU-seconds per second) over 3 s of idle before the triggers. */
  idleCpuCores?: number;
  /** Daemons' CPU-seconds over the measured triggers, and the measurement's wall time. */
  measureCpuSeconds?: number;
  /**
   * Daemon CPU per trigger (announce + withdraw, with the idle share), from the threads' schedstat (ns): all
   * together, the median daemon, the busiest; with reflectors also the median client (a host that only
   * receives, apart from its own triggers).
   */
  cpuPerTriggerMs?: { total: number; median: number; max: number; maxHost: string; clientMedian?: number; byHost?: Record<string, number> };
  measureWallSeconds?: number;
  foreignCpuSeconds?: number;
  noisy?: boolean;
  convergence?: { all?: Stats; first?: Stats; origin?: Stats; propagation?: Stats; call?: Stats; withdrawAll?: Stats };
  /** The warm-up triggers, the first after the daemons started (a Node agent's code is still being JIT-compiled). */
  cold?: { all?: Stats; origin?: Stats };
  failures: number;
  triggers: Trigger[];
  warmupTriggers: Trigger[];
  error?: string;
}

let configNo = 0;

async function measureConfig(target: Target, topo: Topology, n: number): Promise<ConfigResult> {
  const tag = `cv${configNo++}`;
  const res: ConfigResult = { target, topology: topo, hosts: n, failures: 0, triggers: [], warmupTriggers: [] };
  const dir = makeTempDir(`bench-${tag}`);
  const hosts: Host[] = [];
  let driver: Driver | undefined;
  const seg = createSegment(`${tag}-lan`);
  try {
    for (let i = 0; i < n; i++) {
      const ns = createNetns(`${tag}-${name(i)}`, { forwarding: true });
      seg.attach(ns, [`${hostIp(i)}/24`]);
      const hdir = join(dir, name(i));
      mkdirSync(hdir, { recursive: true });
      hosts.push({ i, name: name(i), ip: hostIp(i), ns, mon: new Monitor(ns), dir: hdir });
    }
    // Permanent neighbour entries for every other host: the kernel's ARP table is one table for all namespaces,
    // and its gc_thresh3 (1,024 dynamic entries, settable only in the root namespace) is smaller than a 50-host
    // mesh's 2,450 — "neighbor table overflow" then breaks sessions at random. Permanent entries are exempt.
    const macs = hosts.map((h) => (JSON.parse(h.ns.ip('-j', 'link', 'show', 'eth0')) as { address: string }[])[0]!.address);
    for (const h of hosts) {
      const lines = hosts.filter((x) => x !== h).map((x) => `neigh replace ${x.ip} lladdr ${macs[x.i]} dev eth0 nud permanent`);
      run([IP_BIN, '-n', h.ns.name, '-batch', '-'], { input: lines.join('\n') + '\n' });
    }
    await sleep(200); // monitors subscribed
    driver = target === 'tortie' ? tortieDriver(hosts, topo, dir) : birdDriver(hosts, topo, dir);
    const tStart = now();
    await driver.start();
    // Ready: sessions up everywhere and every kernel holding the other N−1 blocks.
    const deadline = Date.now() + setupTimeoutMs;
    for (;;) {
      let ok = await driver.sessionsUp();
      if (ok) {
        for (const h of hosts) {
          const rs = JSON.parse(h.ns.ip('-j', 'route', 'show', 'root', POOL)) as { dst: string; gateway?: string }[];
          if (rs.filter((r) => r.gateway).length !== n - 1) {
            ok = false;
            break;
          }
        }
      }
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`not converged after ${setupTimeoutMs / 1000} s`);
      await sleep(500);
    }
    res.setupSeconds = round((now() - tStart) / 1000, 2);
    const mems = driver.pids().map((p) => procMemory(p)?.rss ?? 0).sort((a, b) => a - b);
    res.rss = { totalBytes: mems.reduce((a, b) => a + b, 0), perDaemonMedianBytes: mems[mems.length >> 1]!, perDaemonMaxBytes: mems[mems.length - 1]! };
    await sleep(2000); // let start-up work (GC, status timers) settle
    const cpuA = driver.pids().reduce((s, p) => s + (procCpuPrecise(p) ?? 0), 0);
    await sleep(3000);
    res.idleCpuCores = round((driver.pids().reduce((s, p) => s + (procCpuPrecise(p) ?? 0), 0) - cpuA) / 3, 4);
    log(`  ${target} ${topo} ${n}: ready in ${res.setupSeconds} s, RSS ${(res.rss.totalBytes / 1e6).toFixed(0)} MB total (${(res.rss.perDaemonMedianBytes / 1e6).toFixed(1)} MB median), idle CPU ${res.idleCpuCores} cores`);

    // CONV_QUIET_LAST=1: the last host is never an origin (profile a pure receiver).
    const origins = (topo === 'mesh' ? hosts : hosts.slice(2)).slice(0, process.env.CONV_QUIET_LAST ? -1 : undefined);
    const foreign = new ForeignCpu([...driver.pids(), ...hosts.map((h) => h.mon.pid ?? 0)]);
    const pids = driver.pids();
    let perPid0 = pids.map((p) => procCpuPrecise(p) ?? 0);
    let cpu0 = perPid0.reduce((a, b) => a + b, 0);
    let wall0 = now();
    for (let k = 0; k < warmup + runs; k++) {
      if (k === warmup) {
        // CPU and wall time count the measured triggers only (the warm-up ones are JIT time, mostly).
        perPid0 = pids.map((p) => procCpuPrecise(p) ?? 0);
        cpu0 = perPid0.reduce((a, b) => a + b, 0);
        wall0 = now();
      }
      const h = origins[(k * 7) % origins.length]!; // spread consecutive origins over the cluster
      const others = hosts.filter((x) => x !== h);
      const t0 = now();
      const { block, callMs } = await driver.trigger(h, k);
      const added = (e: RouteEvent) => e.prefix === block && !e.deleted;
      const [originEv, ...evs] = await Promise.all([
        h.mon.wait(t0, (e) => added(e) && e.blackhole, triggerTimeoutMs),
        ...others.map((x) => x.mon.wait(t0, (e) => added(e) && !e.blackhole && e.via === h.ip, triggerTimeoutMs)),
      ]);
      const tr: Trigger = { origin: h.name, block, callMs: round(callMs, 2) };
      if (originEv) tr.originMs = round(originEv.t - t0, 2);
      const missing = others.filter((_, i) => !evs[i]).map((x) => x.name);
      if (missing.length) {
        tr.missing = missing;
      } else {
        const ts = evs.map((e) => e!.t - t0);
        const last = ts.indexOf(Math.max(...ts));
        tr.firstMs = round(Math.min(...ts), 2);
        tr.allMs = round(ts[last]!, 2);
        tr.slowest = others[last]!.name;
        if (process.env.CONV_TRACE) {
          tr.t0 = round(t0, 3);
          tr.t0Mono = round(t0 + monoOffsetMs, 3);
          tr.hostMs = Object.fromEntries(others.map((x, i) => [x.name, round(ts[i]!, 2)]));
        }
      }
      const t1 = now();
      await driver.withdraw(h, block, k);
      const gone = await Promise.all(others.map((x) => x.mon.wait(t1, (e) => e.prefix === block && e.deleted, triggerTimeoutMs)));
      if (gone.every(Boolean)) tr.withdrawAllMs = round(Math.max(...gone.map((e) => e!.t - t1)), 2);
      if (k >= warmup) {
        res.triggers.push(tr);
        if (tr.allMs === undefined) res.failures++;
      } else res.warmupTriggers.push(tr);
      if (process.env.CONV_VERBOSE || tr.allMs === undefined) {
        log(`    ${k < warmup ? 'warmup' : `#${k - warmup + 1}`} ${h.name} ${block}: call ${tr.callMs} ms, origin ${tr.originMs ?? '-'} ms, first ${tr.firstMs ?? '-'}, all ${tr.allMs ?? `MISSING on ${missing.length}: ${missing.slice(0, 5).join(',')}`} ms (slowest ${tr.slowest ?? '-'}), withdrawn ${tr.withdrawAllMs ?? '-'} ms`);
      }
      for (const x of hosts) x.mon.trim(t0);
      await sleep(gapMs);
    }
    const fc = foreign.end();
    res.measureCpuSeconds = round(driver.pids().reduce((s, p) => s + (procCpuPrecise(p) ?? 0), 0) - cpu0, 2);
    // CPU of each daemon per trigger (announce + withdraw, idle included), by host: who does the work.
    const per = pids.map((p, i) => ((procCpuPrecise(p) ?? perPid0[i]!) - perPid0[i]!) * 1000 / runs);
    const mid = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
    const sorted = [...per].sort((a, b) => a - b);
    const maxAt = per.indexOf(sorted[sorted.length - 1]!);
    res.cpuPerTriggerMs = { total: round(per.reduce((a, b) => a + b, 0), 1), median: round(mid(per), 3), max: round(sorted[sorted.length - 1]!, 2), maxHost: hosts[maxAt]?.name ?? '' };
    // The reflectors are the first two hosts (see the topology set-up).
    if (topo === 'rr') res.cpuPerTriggerMs.clientMedian = round(mid(per.slice(2)), 3);
    res.cpuPerTriggerMs.byHost = Object.fromEntries(hosts.map((h, i) => [h.name, round(per[i] ?? 0, 3)]));
    const clients = res.cpuPerTriggerMs.clientMedian !== undefined ? `, client median ${res.cpuPerTriggerMs.clientMedian} ms` : '';
    log(`  ${target} ${topo} ${n}: CPU per trigger (announce + withdraw): ${res.cpuPerTriggerMs.total} ms in all, per daemon median ${res.cpuPerTriggerMs.median} ms${clients}, max ${res.cpuPerTriggerMs.max} ms (${res.cpuPerTriggerMs.maxHost})`);
    res.measureWallSeconds = round((now() - wall0) / 1000, 2);
    res.foreignCpuSeconds = fc.foreignCpuSeconds;
    res.noisy = fc.noisy;
    const ok = res.triggers;
    res.convergence = {
      all: stats(ok.map((t) => t.allMs)),
      first: stats(ok.map((t) => t.firstMs)),
      origin: stats(ok.map((t) => t.originMs)),
      propagation: stats(ok.map((t) => (t.allMs !== undefined && t.originMs !== undefined ? t.allMs - t.originMs : undefined))),
      call: stats(ok.map((t) => t.callMs)),
      withdrawAll: stats(ok.map((t) => t.withdrawAllMs)),
    };
    res.cold = { all: stats(res.warmupTriggers.map((t) => t.allMs)), origin: stats(res.warmupTriggers.map((t) => t.originMs)) };
    const a = res.convergence.all;
    log(`  ${target} ${topo} ${n}: all p50 ${a?.p50} ms, p99 ${a?.p99} ms, max ${a?.max} ms; origin p50 ${res.convergence.origin?.p50} ms; withdraw p50 ${res.convergence.withdrawAll?.p50} ms; failures ${res.failures}; foreign CPU ${fc.foreignCpuSeconds} s${fc.noisy ? ' (NOISY)' : ''}`);
    if (res.cold.all) log(`  ${target} ${topo} ${n}: the ${warmup} warm-up triggers (cold): all p50 ${res.cold.all.p50} ms, p99 ${res.cold.all.p99} ms, max ${res.cold.all.max} ms`);
  } catch (e) {
    res.error = (e as Error).message;
    log(`  ${target} ${topo} ${n}: FAILED ${res.error}`);
    for (const h of hosts.slice(0, 3)) {
      const f = join(h.dir, target === 'tortie' ? 'agent.log' : 'bird.log');
      const r = spawnSync('tail', ['-n', '5', f], { encoding: 'utf8' });
      if (r.stdout) log(`    ${h.name}: ${r.stdout.trim().split('\n').join('\n      ')}`);
    }
  } finally {
    await driver?.stop().catch(() => undefined);
    if (process.env.CONV_KEEP_LOGS) {
      // CONV_KEEP_LOGS=<dir>: the configuration's directory (logs, configs) is copied there.
      const keep = `${process.env.CONV_KEEP_LOGS}/${tag}-${target}-${topo}-${n}`;
      mkdirSync(process.env.CONV_KEEP_LOGS, { recursive: true });
      spawnSync('cp', ['-r', dir, keep]);
      log(`    logs copied to ${keep}`);
    }
    for (const h of hosts) h.mon.stop();
    await Promise.all(hosts.map((h) => h.ns.delete(1000)));
    await seg.delete();
  }
  return res;
}

function fmt(x: number | undefined): string {
  return x === undefined ? '–' : x < 10 ? x.toFixed(1) : x.toFixed(0);
}

function table(results: ConfigResult[]): string {
  const lines = [
    '| hosts | topology | tortie p50 | tortie p99 | tortie max | BIRD 2 p50 | BIRD 2 p99 | BIRD 2 max | p99 tortie/BIRD | tortie origin p50 / propagation p50 | BIRD origin p50 / propagation p50 | warm-up (cold) p99 tortie / BIRD |',
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|---|---|---|',
  ];
  for (const n of sizes) {
    for (const topo of topologies) {
      const t = results.find((r) => r.hosts === n && r.topology === topo && r.target === 'tortie');
      const b = results.find((r) => r.hosts === n && r.topology === topo && r.target === 'bird2');
      if (!t && !b) continue;
      const tc = t?.convergence;
      const bc = b?.convergence;
      const ratio = tc?.all && bc?.all ? (tc.all.p99 / bc.all.p99).toFixed(2) : '–';
      const cell = (r?: ConfigResult, k: 'p50' | 'p99' | 'max' = 'p50') => (r?.error ? 'failed' : fmt(r?.convergence?.all?.[k]));
      lines.push(
        `| ${n} | ${topo === 'mesh' ? 'full mesh' : '2 reflectors'} | ${cell(t)} | ${cell(t, 'p99')} | ${cell(t, 'max')} | ${cell(b)} | ${cell(b, 'p99')} | ${cell(b, 'max')} | ${ratio} | ${fmt(tc?.origin?.p50)} / ${fmt(tc?.propagation?.p50)} | ${fmt(bc?.origin?.p50)} / ${fmt(bc?.propagation?.p50)} | ${fmt(t?.cold?.all?.p99)} / ${fmt(b?.cold?.all?.p99)} |`,
      );
    }
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const skip = skipReason() ?? (targets.includes('bird2') ? daemonSkipReason('bird2') : undefined);
  if (skip) throw new Error(skip);
  installSignalCleanup();
  const results: ConfigResult[] = [];
  const t0 = Date.now();
  const write = () => {
    const doc = {
      benchmark: 'convergence',
      date: new Date().toISOString(),
      command: `node --import tsx bench/convergence.ts ${process.argv.slice(2).join(' ')}`.trim(),
      machine: machine(),
      versions: { tortie: gitRev(ROOT), node: process.version, ...(targets.includes('bird2') ? { bird2: daemonVersion('bird2') } : {}) },
      setup: {
        tortieNodeFlags: tortieFlags,
        runsPerConfig: runs,
        warmup,
        gapMs,
        asn: ASN,
        clusterId: CLUSTER_ID,
        pool: POOL,
        blockSize: 26,
        hostNet: `${NET}.0/24`,
        reflectors: 'hosts h0, h1 (cluster id 244.0.0.1); origins = the clients',
        units: 'milliseconds from the trigger',
      },
      totalSeconds: round((Date.now() - t0) / 1000, 1),
      results,
    };
    mkdirSync(dirname(outFile), { recursive: true });
    writeFileSync(outFile, JSON.stringify(doc, null, 2) + '\n');
  };
  for (const n of sizes) {
    for (const topo of topologies) {
      for (const target of targets) {
        log(`\n== ${n} hosts, ${topo}, ${target}`);
        results.push(await measureConfig(target, topo, n));
        write();
        await sleep(1000);
      }
    }
  }
  write();
  log(`\nwrote ${outFile} (${round((Date.now() - t0) / 1000, 0)} s)\n`);
  console.log(table(results));
}

runBench(main, () => cleanupAll(1000));
