/**
 * Real BGP daemons for interop tests: BIRD 2, BIRD 1.6, FRR (bgpd + zebra), GoBGP and ExaBGP,
 * each started from a config generated out of a few simple options, inside a network namespace
 * (see netns.ts) or in the root namespace on loopback addresses with explicit ports.
 *
 *   const d = await startDaemon('bird2', { netns: ns, routerId: '10.0.0.1', localAs: 64512,
 *     localAddress: '10.0.0.1', peers: [{ address: '10.0.0.2', asNumber: 64512 }],
 *     originate: [{ prefix: '10.244.1.0/26', communities: ['65000:100'] }] });
 *   await waitFor(async () => (await d.peers()).every((p) => p.established), 15_000);
 *   const routes = await d.routes();   // prefix, nextHop, asPath, localPref, med, communities, fromPeer
 *   await d.stop();
 *
 * Every daemon gets a private temp dir (config, control sockets, pid files, logs); nothing is
 * written to /run, /etc or /var except FRR's own crash-log dir /var/tmp/frr/<daemon>.<pid>,
 * which FRR removes on a clean exit and `stop()` removes after a kill. Processes are tracked by
 * PID through netns.ts (cleanupAll / exit guard / watchdog).
 *
 * How state is read (all from the root namespace — control channels are unix sockets):
 * - BIRD:   `birdc -s <dir>/bird.ctl show route all` / `show protocols all` (text, parsed here);
 * - FRR:    `vtysh --vty_socket <dir> -c 'show bgp <afi> unicast json detail'` / `show bgp neighbors json`;
 * - GoBGP:  gobgpd's gRPC API on a unix socket: `gobgp --target unix://<dir>/gobgp.sock -j global rib`
 *           / `-j neighbor`;
 * - ExaBGP: an API process (a small Python bridge generated into the dir) copies lines written to
 *           <dir>/api.fifo to exabgp and exabgp's JSON events (state changes, parsed updates) to
 *           <dir>/events.jsonl, from which peers()/routes() are rebuilt. `exec()` writes a command.
 *
 * Quirks that shape the API (details next to each config generator below):
 * - GoBGP waits 5–10 s (random) before its FIRST outgoing connection whatever connect-retry says:
 *   make the GoBGP side `passive` (the other daemon connects at once) for fast tests.
 * - Loopback mode (no `netns`): sessions run on 127.0.0.x with explicit ports; FRR and GoBGP
 *   reject 127/8 next hops (FRR even resets the session), so own IPv4 routes default to next hop
 *   = routerId there; give IPv6 routes an explicit nextHop. No FIB is touched in loopback mode.
 * - An explicit `nextHop` on an origination is kept on eBGP too (BIRD `next hop keep`, FRR/GoBGP
 *   outbound policy), unless the peer has nextHopSelf.
 * - FRR on SIGTERM with graceful restart configured closes the session WITHOUT a NOTIFICATION.
 * - BIRD's own routes carry no BGP attributes in `routes()` (they are set by the export filter):
 *   compare attributes on the receiving side.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, closeSync, constants as fsc, existsSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import {
  makeTempDir,
  removeTempDir,
  trackTempDir,
  runAsync,
  skipReason as netnsSkipReason,
  sleep,
  spawnTracked,
  waitFor,
  type Netns,
  type TrackedProcess,
} from './netns.js';

export { waitFor } from './netns.js';

export type DaemonKind = 'bird2' | 'bird16' | 'frr' | 'gobgp' | 'exabgp';
export const DAEMON_KINDS: readonly DaemonKind[] = ['bird2', 'bird16', 'frr', 'gobgp', 'exabgp'];

export interface PeerOptions {
  /** Neighbor address (IPv4 or IPv6). */
  address: string;
  /** Neighbor's BGP port (default 179). */
  port?: number;
  asNumber: number;
  /** Only accept incoming connections. */
  passive?: boolean;
  /** Hold time in seconds (default 9; keepalive = hold/3). */
  holdTime?: number;
  routeReflectorClient?: boolean;
  /** Route reflector cluster id (dotted quad). FRR has one global cluster id: the first one set wins. */
  clusterId?: string;
  nextHopSelf?: boolean;
  gracefulRestart?: { restartTime: number };
  /** TCP MD5 password (RFC 2385). */
  password?: string;
  /**
   * Also exchange IPv6 unicast on this (IPv4) session (MP-BGP). Sessions to an IPv6 neighbor
   * address carry IPv6 unicast only. Needs `localAddress6` (the IPv6 next hop to announce).
   * BIRD 1.6 cannot do this (IPv6 lives in the separate bird6 daemon): use an IPv6 neighbor.
   */
  ipv6?: boolean;
  /** eBGP multihop / iBGP over a non-connected address (set automatically in loopback mode). */
  multihop?: boolean;
}

export interface Origination {
  prefix: string;
  /** Next hop to announce (default: the daemon's own address on the session). */
  nextHop?: string;
  /** Standard communities "asn:value". */
  communities?: string[];
  /** Large communities "global:local1:local2" (not BIRD < 1.6.3; all here support them). */
  largeCommunities?: string[];
  med?: number;
  /** LOCAL_PREF (only sent to iBGP peers). */
  localPref?: number;
}

export interface DaemonOptions {
  /** Namespace to run in. Omit to run in the root namespace (loopback mode: needs listenPort or gets a free one). */
  netns?: Netns;
  routerId: string;
  localAs: number;
  /** Our IPv4 (or IPv6) address: session source address and, in loopback mode, the listen address. */
  localAddress: string;
  /** Our IPv6 address (for IPv6 sessions / the IPv6 next hop on MP-BGP sessions). */
  localAddress6?: string;
  /** BGP listen port (default 179 in a namespace, a free port in loopback mode). */
  listenPort?: number;
  peers: PeerOptions[];
  originate?: Origination[];
  logLevel?: 'debug' | 'info' | 'warn';
  /**
   * Re-advertise routes learned from peers (default: only when some peer is a route-reflector
   * client). Otherwise each daemon announces only its own originations, like Calico's nodes.
   */
  exportLearned?: boolean;
  /** Program the namespace's kernel table (BIRD kernel protocol, FRR zebra). Default true in a namespace, always false in loopback mode. */
  fib?: boolean;
  /** Appended verbatim to the generated config (BIRD/FRR/exabgp text, GoBGP toml). */
  extraConfig?: string;
}

export interface RouteInfo {
  prefix: string;
  nextHop?: string;
  asPath: number[];
  origin?: 'igp' | 'egp' | 'incomplete';
  localPref?: number;
  med?: number;
  communities: string[];
  largeCommunities: string[];
  /** Neighbor address the route was learned from; undefined for the daemon's own routes. */
  fromPeer?: string;
  /** True for the daemon's own (originated) routes. */
  local: boolean;
  /** Selected as best (where the daemon tells). */
  best?: boolean;
  /** Kept as stale during a peer's graceful restart (FRR, GoBGP; BIRD shows it in `show route all` only as a flag we do not parse). */
  stale?: boolean;
}

export type PeerState = 'Idle' | 'Connect' | 'Active' | 'OpenSent' | 'OpenConfirm' | 'Established';

export interface PeerInfo {
  address: string;
  state: PeerState;
  established: boolean;
  asNumber?: number;
  /** Daemon-side name (BIRD protocol name). */
  name?: string;
}

export interface RestartOptions {
  /** Restart as a graceful-restarting speaker (BIRD `-R`, gobgpd `-r`; ignored by FRR/ExaBGP). */
  gracefulRestart?: boolean;
}

export interface DaemonHandle {
  readonly kind: DaemonKind;
  /** PID of the BGP process (bgpd for FRR, the IPv4 bird for BIRD 1.6). Changes on restart. */
  readonly pid: number;
  /** PIDs of all processes of this daemon (FRR zebra, BIRD 1.6's bird6, …). */
  readonly pids: number[];
  readonly dir: string;
  readonly netns?: Netns;
  readonly options: DaemonOptions;
  readonly listenPort: number;
  /** Generated config files by name ('bird.conf', 'bird6.conf', 'bgpd.conf', 'gobgpd.toml', 'exabgp.conf', …). */
  readonly configs: Record<string, string>;
  /** True while all of the daemon's processes run. */
  running(): boolean;
  /** Graceful stop (SIGTERM; SIGKILL after 5 s), removes the temp dir. Idempotent. */
  stop(): Promise<void>;
  /** Sends a signal to every process of the daemon; for TERM/INT/KILL waits until they exited. Dir kept for restart(). */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Stops (SIGTERM) if running, starts again with the same config and dir, re-adds GoBGP routes. */
  restart(opts?: RestartOptions): Promise<void>;
  /** Routes in the daemon's RIB (own and learned), IPv4 and IPv6. */
  routes(): Promise<RouteInfo[]>;
  /** BGP sessions with their FSM state. */
  peers(): Promise<PeerInfo[]>;
  /**
   * Runs a daemon command and returns its output: birdc (BIRD), vtysh (FRR; several commands
   * separated by newlines), the gobgp CLI (GoBGP; args split on spaces), an API command (ExaBGP;
   * written to exabgp, returns '').
   */
  exec(cmd: string): Promise<string>;
  /** The daemon's log output so far. */
  log(): string;
}

// ---------------------------------------------------------------------------------------------
// Binaries and skip reasons

const BIRD16_DIR = process.env.TORTIE_BIRD16_DIR ?? '/opt/bird16/usr/sbin';

export const BINARIES = {
  bird2: { bird: process.env.BIRD2_BIN ?? '/usr/sbin/bird', birdc: process.env.BIRDC2_BIN ?? '/usr/sbin/birdc' },
  bird16: {
    bird: join(BIRD16_DIR, 'bird'),
    birdc: join(BIRD16_DIR, 'birdc'),
    bird6: join(BIRD16_DIR, 'bird6'),
    birdc6: join(BIRD16_DIR, 'birdc6'),
  },
  frr: { bgpd: '/usr/lib/frr/bgpd', zebra: '/usr/lib/frr/zebra', vtysh: '/usr/bin/vtysh' },
  gobgp: { gobgpd: process.env.GOBGPD_BIN ?? '/usr/bin/gobgpd', gobgp: process.env.GOBGP_BIN ?? '/usr/bin/gobgp' },
  exabgp: { exabgp: process.env.EXABGP_BIN ?? '/usr/sbin/exabgp', python3: '/usr/bin/python3' },
} as const;

const INSTALL_HINT: Record<DaemonKind, string> = {
  bird2: 'apt-get install bird2',
  bird16: 'apt-get download bird && dpkg -x bird_*.deb /opt/bird16 (scripts/setup.sh does this)',
  frr: 'apt-get install frr',
  gobgp: 'apt-get install gobgpd',
  exabgp: 'apt-get install exabgp',
};

/** Why `kind` cannot run here (not root, no `ip netns`, binary missing), or undefined. */
export function daemonSkipReason(kind: DaemonKind): string | undefined {
  const ns = netnsSkipReason();
  if (ns) return ns;
  for (const bin of Object.values(BINARIES[kind])) {
    if (!existsSync(bin)) return `${kind}: ${bin} missing (${INSTALL_HINT[kind]})`;
  }
  if (kind === 'frr') {
    try {
      execFileSync('id', ['-u', 'frr'], { stdio: 'ignore' });
    } catch {
      return 'frr: user "frr" missing (the frr package creates it)';
    }
  }
  return undefined;
}

/** The daemon's version string, e.g. "2.0.12", "8.4.4", "3.10.0", "4.2.21". */
export function daemonVersion(kind: DaemonKind): string {
  const out = (bin: string, args: string[]) => {
    const r = spawnSync(bin, args, { encoding: 'utf8' });
    return `${r.stdout ?? ''}${r.stderr ?? ''}`; // BIRD prints its version on stderr
  };
  let text = '';
  switch (kind) {
    case 'bird2':
      text = out(BINARIES.bird2.bird, ['--version']);
      break;
    case 'bird16':
      text = out(BINARIES.bird16.bird, ['--version']);
      break;
    case 'frr':
      text = out(BINARIES.frr.bgpd, ['--version']);
      break;
    case 'gobgp':
      text = out(BINARIES.gobgp.gobgpd, ['--version']);
      break;
    case 'exabgp':
      text = out(BINARIES.exabgp.exabgp, ['--version']);
      break;
  }
  return /(\d+\.\d+(?:\.\d+)?)/.exec(text)?.[1] ?? 'unknown';
}

// ---------------------------------------------------------------------------------------------
// Small address helpers

export function isV6(addr: string): boolean {
  return addr.includes(':');
}

/** Canonical text form of an IPv6 address (RFC 5952 compression, lower case); IPv4 unchanged. */
export function canonicalIp(addr: string): string {
  if (!isV6(addr)) return addr;
  try {
    return new URL(`http://[${addr}]/`).hostname.slice(1, -1);
  } catch {
    return addr.toLowerCase();
  }
}

export function canonicalPrefix(prefix: string): string {
  const [a, len] = prefix.split('/');
  return `${canonicalIp(a!)}/${len}`;
}

/** A TCP port that was free on `host` a moment ago. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

function safeName(addr: string): string {
  return 'p_' + addr.replace(/[^0-9a-zA-Z]/g, '_');
}

function hold(p: PeerOptions): { hold: number; keepalive: number } {
  const h = p.holdTime ?? 9;
  return { hold: h, keepalive: Math.max(1, Math.floor(h / 3)) };
}

function peerFamilies(p: PeerOptions): { v4: boolean; v6: boolean } {
  return isV6(p.address) ? { v4: false, v6: true } : { v4: true, v6: !!p.ipv6 };
}

function sourceFor(opts: DaemonOptions, p: PeerOptions): string {
  if (isV6(p.address)) {
    if (isV6(opts.localAddress)) return opts.localAddress;
    if (!opts.localAddress6) throw new Error(`peer ${p.address} is IPv6: set localAddress6`);
    return opts.localAddress6;
  }
  return opts.localAddress;
}

function commParts(c: string, n: number): number[] {
  const parts = c.split(':').map(Number);
  if (parts.length !== n || parts.some((x) => !Number.isInteger(x) || x < 0)) throw new Error(`bad community ${c}`);
  return parts;
}

const PEER_STATES: Record<string, PeerState> = {
  idle: 'Idle',
  connect: 'Connect',
  active: 'Active',
  opensent: 'OpenSent',
  openconfirm: 'OpenConfirm',
  established: 'Established',
};

function normState(s: string | undefined): PeerState {
  return PEER_STATES[(s ?? '').toLowerCase().replace(/[^a-z]/g, '')] ?? 'Idle';
}

function tail(text: string, lines = 15): string {
  return text.trim().split('\n').slice(-lines).join('\n');
}

// ---------------------------------------------------------------------------------------------
// Generic launcher

interface Proc {
  name: string;
  argv: string[];
  env?: NodeJS.ProcessEnv;
  logFile: string;
  /** Resolves when the process is ready to take commands. */
  ready?: () => Promise<boolean>;
}

interface Impl {
  configs: Record<string, string>;
  procs(restart: RestartOptions): Proc[];
  afterStart?(): Promise<void>;
  routes(): Promise<RouteInfo[]>;
  peers(): Promise<PeerInfo[]>;
  exec(cmd: string): Promise<string>;
  /** Files to remove after the processes are gone (by exact name). */
  leftovers?(pids: number[]): string[];
}

export async function startDaemon(kind: DaemonKind, opts: DaemonOptions): Promise<DaemonHandle> {
  const skip = daemonSkipReason(kind);
  if (skip) throw new Error(skip);
  const loopback = !opts.netns;
  const listenPort = opts.listenPort ?? (loopback ? await freePort(opts.localAddress) : 179);
  const o: Resolved = { ...opts, listenPort, loopback, fib: !loopback && (opts.fib ?? true) };
  if (loopback) {
    // 127/8 next hops are martians to FRR (session reset with NOTIFICATION 3/8) and GoBGP
    // (treat-as-withdraw): in loopback mode own IPv4 routes default to next hop = router id.
    o.originate = (opts.originate ?? []).map((r) => (r.nextHop || isV6(r.prefix) ? r : { ...r, nextHop: opts.routerId }));
  }
  if (o.peers.length === 0 && kind !== 'gobgp') throw new Error(`${kind}: at least one peer is required`);
  const dir = makeTempDir(kind);
  let impl: Impl;
  switch (kind) {
    case 'bird2':
      impl = birdImpl(o, dir, 2);
      break;
    case 'bird16':
      impl = birdImpl(o, dir, 1);
      break;
    case 'frr':
      impl = frrImpl(o, dir);
      break;
    case 'gobgp':
      impl = gobgpImpl(o, dir);
      break;
    case 'exabgp':
      impl = exabgpImpl(o, dir);
      break;
  }
  for (const [name, text] of Object.entries(impl.configs)) writeFileSync(join(dir, name), text);

  let procs: { p: Proc; tp: TrackedProcess }[] = [];
  let stopped = false;

  const logText = () =>
    procs
      .map(({ p }) => {
        try {
          return `--- ${p.name}\n${readFileSync(p.logFile, 'utf8')}`;
        } catch {
          return '';
        }
      })
      .join('\n');

  const launch = async (r: RestartOptions) => {
    procs = [];
    for (const p of impl.procs(r)) {
      const tp = spawnTracked(p.argv, { netns: opts.netns, logFile: p.logFile, env: p.env ? { ...process.env, ...p.env } : undefined });
      procs.push({ p, tp });
      // Per-PID files the daemon creates outside its dir: removed with the temp dirs, also by the exit guard/watchdog.
      for (const f of impl.leftovers?.([tp.pid]) ?? []) trackTempDir(f);
      if (p.ready) {
        const ready = p.ready;
        try {
          await waitFor(
            async () => {
              if (!tp.running()) throw new Error(`${p.name} exited: ${tail(logText())}`);
              return ready();
            },
            10_000,
            { intervalMs: 25, what: `${kind} ${p.name} ready` },
          );
        } catch (e) {
          await halt('SIGKILL');
          throw new Error(`${kind} did not start: ${(e as Error).message}\n${tail(logText())}`);
        }
      }
    }
    await sleep(50);
    for (const { p, tp } of procs) {
      if (!tp.running()) {
        await halt('SIGKILL');
        throw new Error(`${kind} ${p.name} exited at start: ${tail(logText())}`);
      }
    }
    if (impl.afterStart) await impl.afterStart();
  };

  const halt = async (signal: NodeJS.Signals) => {
    const all = [...procs].reverse(); // bgpd before zebra
    const pids = all.map(({ tp }) => tp.pid);
    for (const { tp } of all) await tp.stop(signal, 5000);
    for (const f of impl.leftovers?.(pids) ?? []) removeTempDir(f);
  };

  try {
    await launch({});
  } catch (e) {
    if (!process.env.TORTIE_KEEP_DAEMON_DIRS) removeTempDir(dir);
    throw e;
  }

  const handle: DaemonHandle = {
    kind,
    get pid() {
      return procs.find(({ p }) => p.name !== 'zebra')?.tp.pid ?? 0;
    },
    get pids() {
      return procs.map(({ tp }) => tp.pid);
    },
    dir,
    netns: opts.netns,
    options: opts,
    listenPort,
    configs: impl.configs,
    running: () => procs.length > 0 && procs.every(({ tp }) => tp.running()),
    async stop() {
      if (stopped) return;
      stopped = true;
      await halt('SIGTERM');
      if (!process.env.TORTIE_KEEP_DAEMON_DIRS) removeTempDir(dir);
    },
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (signal === 'SIGKILL' || signal === 'SIGTERM' || signal === 'SIGINT') {
        await halt(signal);
      } else {
        for (const { tp } of procs) tp.kill(signal);
      }
    },
    async restart(r: RestartOptions = {}) {
      if (stopped) throw new Error(`${kind} was stopped; start a new one`);
      await halt('SIGTERM');
      await launch(r);
    },
    routes: () => impl.routes(),
    peers: () => impl.peers(),
    exec: (cmd) => impl.exec(cmd),
    log: logText,
  };
  return handle;
}

interface Resolved extends DaemonOptions {
  listenPort: number;
  loopback: boolean;
  fib: boolean;
}

function exportLearned(o: DaemonOptions): boolean {
  return o.exportLearned ?? o.peers.some((p) => p.routeReflectorClient);
}

// ---------------------------------------------------------------------------------------------
// BIRD 2 and BIRD 1.6
//
// One `protocol bgp p_<address>` per peer (the name maps back to the address), originations as
// `protocol static` blackhole routes with their attributes set in the export filter (BIRD 1.6's
// static protocol has no per-route attribute blocks), Calico-style export: own routes only.
// Quirks: BIRD 2 iBGP defaults to multihop + recursive next hops — `direct` for on-link peers;
// default timers (connect retry 120 s, error wait 60–300 s) are cut to 1 s; in loopback mode
// `strict bind` (BIRD 2) / `listen bgp address … port …` (1.6) keep BIRD off other addresses, and
// sessions are `multihop` (lo is not a "direct" interface). BIRD 1.6 needs the separate bird6
// daemon (own config + socket) for anything IPv6; both are run and merged here.

function birdFilter(o: Resolved, v6: boolean, staticName: string): string {
  const own = (o.originate ?? []).filter((r) => isV6(r.prefix) === v6);
  const lines: string[] = [];
  for (const r of own) {
    const acts: string[] = [];
    for (const c of r.communities ?? []) acts.push(`bgp_community.add((${commParts(c, 2).join(',')}));`);
    for (const c of r.largeCommunities ?? []) acts.push(`bgp_large_community.add((${commParts(c, 3).join(',')}));`);
    if (r.med !== undefined) acts.push(`bgp_med = ${r.med};`);
    if (r.localPref !== undefined) acts.push(`bgp_local_pref = ${r.localPref};`);
    if (r.nextHop) acts.push(`bgp_next_hop = ${r.nextHop};`);
    if (acts.length) lines.push(`    if net = ${r.prefix} then { ${acts.join(' ')} }`);
  }
  const learned = exportLearned(o) ? `  if source = RTS_BGP then accept;\n` : '';
  return `filter tortie_export_${v6 ? 'v6' : 'v4'} {
  if proto = "${staticName}" then {
${lines.join('\n')}
    accept;
  }
${learned}  reject;
}
`;
}

function birdPeerCommon(o: Resolved, p: PeerOptions, ver: 1 | 2): string[] {
  const { hold: h, keepalive } = hold(p);
  const src = sourceFor(o, p);
  const ibgp = p.asNumber === o.localAs;
  const lines: string[] = [];
  if (ver === 2) lines.push(`local ${src}${o.loopback ? ` port ${o.listenPort}` : ''} as ${o.localAs};`);
  else lines.push(`local ${src} as ${o.localAs};`);
  lines.push(`neighbor ${p.address}${p.port ? ` port ${p.port}` : ''} as ${p.asNumber};`);
  if (o.loopback || p.multihop) lines.push('multihop;');
  else if (ibgp) lines.push('direct;');
  if (o.loopback && ver === 2) lines.push('strict bind on;');
  lines.push('connect delay time 1;', 'connect retry time 1;', 'error wait time 1, 10;');
  lines.push(`hold time ${h};`, `keepalive time ${keepalive};`);
  if (p.passive) lines.push('passive on;');
  if (p.password) lines.push(`password "${p.password}";`);
  if (p.gracefulRestart) lines.push('graceful restart on;', `graceful restart time ${p.gracefulRestart.restartTime};`);
  if (p.routeReflectorClient) lines.push('rr client;');
  if (p.clusterId) lines.push(`rr cluster id ${p.clusterId};`);
  return lines;
}

function bird2Config(o: Resolved): string {
  const log = o.logLevel === 'debug' ? 'all' : o.logLevel === 'warn' ? '{ warning, error, fatal, bug }' : '{ info, remote, warning, error, auth, fatal, bug }';
  const own4 = (o.originate ?? []).filter((r) => !isV6(r.prefix));
  const own6 = (o.originate ?? []).filter((r) => isV6(r.prefix));
  let c = `# generated by tortie test/helpers/daemons.ts (BIRD 2)
log stderr ${log};
router id ${o.routerId};
${o.logLevel === 'debug' ? 'debug protocols all;\n' : ''}
protocol device { scan time 10; }

protocol static own4 {
  ipv4;
${own4.map((r) => `  route ${r.prefix} blackhole;`).join('\n')}
}
protocol static own6 {
  ipv6;
${own6.map((r) => `  route ${r.prefix} blackhole;`).join('\n')}
}
`;
  if (o.fib) {
    c += `
protocol kernel kernel4 { ipv4 { import none; export all; }; learn off; scan time 10; }
protocol kernel kernel6 { ipv6 { import none; export all; }; learn off; scan time 10; }
`;
  }
  c += '\n' + birdFilter(o, false, 'own4') + '\n' + birdFilter(o, true, 'own6');
  for (const p of o.peers) {
    const fam = peerFamilies(p);
    const lines = birdPeerCommon(o, p, 2);
    const nhs = p.nextHopSelf ? ' next hop self;' : '';
    // Explicit next hops of own routes survive eBGP only with `next hop keep`.
    const keep4 = !p.nextHopSelf && own4.some((r) => r.nextHop) ? ' next hop keep;' : '';
    if (fam.v4) lines.push(`ipv4 { import all; export filter tortie_export_v4;${nhs}${keep4} };`);
    if (fam.v6) {
      let nh = nhs || (own6.some((r) => r.nextHop) ? ' next hop keep;' : '');
      if (!isV6(p.address)) {
        if (!o.localAddress6) throw new Error(`bird2: peer ${p.address} has ipv6: set localAddress6 (the IPv6 next hop)`);
        nh = ` next hop address ${o.localAddress6};`;
      }
      lines.push(`ipv6 { import all; export filter tortie_export_v6;${nh} };`);
    }
    c += `\nprotocol bgp ${safeName(p.address)} {\n  ${lines.join('\n  ')}\n}\n`;
  }
  if (o.extraConfig) c += '\n' + o.extraConfig + '\n';
  return c;
}

function bird16Config(o: Resolved, v6: boolean): string {
  const log = o.logLevel === 'debug' ? 'all' : o.logLevel === 'warn' ? '{ warning, error, fatal, bug }' : '{ info, remote, warning, error, auth, fatal, bug }';
  const own = (o.originate ?? []).filter((r) => isV6(r.prefix) === v6);
  const listenAddr = v6 ? (isV6(o.localAddress) ? o.localAddress : o.localAddress6) : o.localAddress;
  let c = `# generated by tortie test/helpers/daemons.ts (BIRD 1.6, ${v6 ? 'bird6' : 'bird'})
log stderr ${log};
router id ${o.routerId};
${o.loopback ? `listen bgp address ${listenAddr} port ${o.listenPort};\n` : o.listenPort !== 179 ? `listen bgp port ${o.listenPort};\n` : ''}${o.logLevel === 'debug' ? 'debug protocols all;\n' : ''}
protocol device { scan time 10; }

protocol static own {
${own.map((r) => `  route ${r.prefix} blackhole;`).join('\n')}
}
`;
  if (o.fib) c += `\nprotocol kernel { export all; learn off; scan time 10; }\n`;
  c += '\n' + birdFilter(o, v6, 'own');
  for (const p of o.peers.filter((q) => isV6(q.address) === v6)) {
    if (!v6 && p.ipv6) throw new Error('bird16: BIRD 1.6 cannot carry IPv6 on an IPv4 session (bird6 is separate): add an IPv6 neighbor instead');
    const lines = birdPeerCommon(o, p, 1);
    lines.push('import all;', `export filter tortie_export_${v6 ? 'v6' : 'v4'};`);
    if (p.nextHopSelf) lines.push('next hop self;');
    else if (own.some((r) => r.nextHop)) lines.push('next hop keep;');
    c += `\nprotocol bgp ${safeName(p.address)} {\n  ${lines.join('\n  ')}\n}\n`;
  }
  if (o.extraConfig) c += '\n' + o.extraConfig + '\n';
  return c;
}

/** Parses `birdc show route all` (BIRD 1.6 and 2). */
export function parseBirdRoutes(text: string, nameToPeer: (proto: string) => string | undefined): RouteInfo[] {
  const out: RouteInfo[] = [];
  let cur: RouteInfo | undefined;
  let prefix = '';
  for (const raw of text.split('\n')) {
    if (!raw.trim() || /^BIRD \d/.test(raw) || /^Table /.test(raw) || /^\d{4} /.test(raw)) continue;
    const head = /^(\S+)?\s+(.*?)\[(\S+)\s+([^\]]*)\](\s*\*)?/.exec(raw);
    if (head && !raw.startsWith('\t')) {
      if (head[1]) prefix = head[1];
      const proto = head[3]!;
      const from = /from (\S+)/.exec(head[4]!)?.[1];
      const peer = nameToPeer(proto);
      cur = {
        prefix: canonicalPrefix(prefix),
        asPath: [],
        communities: [],
        largeCommunities: [],
        local: !peer && !from,
        best: !!head[5],
      };
      if (peer || from) cur.fromPeer = canonicalIp(peer ?? from!);
      const via = /via (\S+)/.exec(head[2]!);
      if (via) cur.nextHop = canonicalIp(via[1]!);
      out.push(cur);
      continue;
    }
    if (!cur) continue;
    const line = raw.trim();
    const via = /^via (\S+)/.exec(line);
    if (via && !cur.nextHop) cur.nextHop = canonicalIp(via[1]!);
    const attr = /^BGP\.(\w+):\s*(.*)$/.exec(line);
    if (!attr) continue;
    const [, key, val] = attr as unknown as [string, string, string];
    switch (key) {
      case 'origin':
        cur.origin = val.toLowerCase() as RouteInfo['origin'];
        break;
      case 'as_path':
        cur.asPath = (val.match(/\d+/g) ?? []).map(Number);
        break;
      case 'next_hop':
        if (val.trim()) cur.nextHop = canonicalIp(val.trim().split(/\s+/)[0]!);
        break;
      case 'med':
        cur.med = Number(val);
        break;
      case 'local_pref':
        cur.localPref = Number(val);
        break;
      case 'community':
        cur.communities = [...val.matchAll(/\((\d+),\s*(\d+)\)/g)].map((m) => `${m[1]}:${m[2]}`);
        break;
      case 'large_community':
        cur.largeCommunities = [...val.matchAll(/\((\d+),\s*(\d+),\s*(\d+)\)/g)].map((m) => `${m[1]}:${m[2]}:${m[3]}`);
        break;
    }
  }
  return out;
}

/** Parses `birdc show protocols all` (BIRD 1.6 and 2): BGP protocols only. */
export function parseBirdProtocols(text: string): PeerInfo[] {
  const out: PeerInfo[] = [];
  let cur: (PeerInfo & { bgp: boolean; protoState: string; info: string }) | undefined;
  const flush = () => {
    if (cur?.bgp && cur.address) {
      const { bgp: _b, protoState: _p, info: _i, ...rest } = cur;
      out.push(rest);
    }
  };
  for (const raw of text.split('\n')) {
    if (!raw.trim() || /^BIRD \d/.test(raw) || /^Name\s+Proto/.test(raw)) continue;
    if (!/^\s/.test(raw)) {
      flush();
      const cols = raw.trim().split(/\s+/);
      const bgp = cols[1] === 'BGP';
      // Name Proto Table State Since [Info…]; "Since" may be "2024-01-01 10:00:00" (two columns).
      const infoStart = /^\d\d:\d\d/.test(cols[5] ?? '') ? 6 : 5;
      const info = cols.slice(infoStart).join(' ');
      cur = { address: '', state: normState(cols[0] && info.split(' ')[0]), established: false, name: cols[0]!, bgp, protoState: cols[3] ?? '', info };
      continue;
    }
    if (!cur) continue;
    const line = raw.trim();
    let m: RegExpExecArray | null;
    if ((m = /^BGP state:\s*(\S+)/.exec(line))) cur.state = normState(m[1]);
    else if ((m = /^Neighbor address:\s*(\S+)/.exec(line))) cur.address = canonicalIp(m[1]!.replace(/%.*$/, ''));
    else if ((m = /^Neighbor AS:\s*(\d+)/.exec(line))) cur.asNumber = Number(m[1]);
  }
  flush();
  for (const p of out) p.established = p.state === 'Established';
  return out;
}

function birdImpl(o: Resolved, dir: string, ver: 1 | 2): Impl {
  const configs: Record<string, string> = {};
  const names = new Map<string, string>();
  for (const p of o.peers) names.set(safeName(p.address), canonicalIp(p.address));
  const instances: { tag: string; bird: string; birdc: string; conf: string; sock: string }[] = [];
  if (ver === 2) {
    configs['bird.conf'] = bird2Config(o);
    instances.push({ tag: 'bird', bird: BINARIES.bird2.bird, birdc: BINARIES.bird2.birdc, conf: 'bird.conf', sock: join(dir, 'bird.ctl') });
  } else {
    const want6 = o.peers.some((p) => isV6(p.address)) || (o.originate ?? []).some((r) => isV6(r.prefix));
    const want4 = o.peers.some((p) => !isV6(p.address)) || !want6;
    if (want4) {
      configs['bird.conf'] = bird16Config(o, false);
      instances.push({ tag: 'bird', bird: BINARIES.bird16.bird, birdc: BINARIES.bird16.birdc, conf: 'bird.conf', sock: join(dir, 'bird.ctl') });
    }
    if (want6) {
      configs['bird6.conf'] = bird16Config(o, true);
      instances.push({ tag: 'bird6', bird: BINARIES.bird16.bird6, birdc: BINARIES.bird16.birdc6, conf: 'bird6.conf', sock: join(dir, 'bird6.ctl') });
    }
  }
  const birdc = async (i: (typeof instances)[number], args: string[]) => (await runAsync([i.birdc, '-s', i.sock, ...args], { timeoutMs: 10_000 })).stdout;
  return {
    configs,
    procs: (r) =>
      instances.map((i) => ({
        name: i.tag,
        argv: [i.bird, '-f', ...(r.gracefulRestart ? ['-R'] : []), '-c', join(dir, i.conf), '-s', i.sock, '-P', join(dir, `${i.tag}.pid`)],
        logFile: join(dir, `${i.tag}.log`),
        ready: async () => existsSync(i.sock) && (await runAsync([i.birdc, '-s', i.sock, 'show', 'status'], { check: false })).status === 0,
      })),
    async routes() {
      const all: RouteInfo[] = [];
      for (const i of instances) all.push(...parseBirdRoutes(await birdc(i, ['show', 'route', 'all']), (n) => names.get(n)));
      return all;
    },
    async peers() {
      const all: PeerInfo[] = [];
      for (const i of instances) all.push(...parseBirdProtocols(await birdc(i, ['show', 'protocols', 'all'])));
      return all;
    },
    async exec(cmd) {
      // "bird6: show route" sends a command to BIRD 1.6's bird6 instead of bird.
      const m = /^bird6:\s*(.*)$/s.exec(cmd);
      const i = m ? instances.find((x) => x.tag === 'bird6') : instances[0];
      if (!i) throw new Error('no bird6 instance');
      return birdc(i, (m ? m[1]! : cmd).trim().split(/\s+/));
    },
  };
}

// ---------------------------------------------------------------------------------------------
// FRR (zebra + bgpd, no watchfrr/systemd)
//
// Runs as the default user `frr` (the temp dir is chowned to it; `-u root` fails with
// "privs_init: user(root) is not part of vty group"). Per-daemon config files (-f), pid files
// (-i), zserv socket (-z) and vty sockets (--vty_socket) all in the temp dir; `-P 0` disables the
// TCP vty (port 2601/2605 would collide between instances in loopback mode). In loopback mode or
// with fib:false, bgpd runs with `-Z` (no zebra; next hops count as reachable) and `-l <addr>`.
// FRR ≥7.4 refuses eBGP routes without policy: `no bgp ebgp-requires-policy`; `no bgp network
// import-check` announces `network` prefixes without a RIB route. On SIGTERM with graceful
// restart configured, bgpd closes the TCP session WITHOUT a NOTIFICATION (peers keep stale routes).

function frrImpl(o: Resolved, dir: string): Impl {
  const uid = Number(execFileSync('id', ['-u', 'frr'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'frr'], { encoding: 'utf8' }).trim());
  chownSync(dir, uid, gid);
  const level = o.logLevel === 'debug' ? 'debugging' : o.logLevel === 'warn' ? 'warnings' : 'informational';
  const own = o.originate ?? [];
  const learned = exportLearned(o);
  let c = `! generated by tortie test/helpers/daemons.ts (FRR bgpd)
hostname tortie-bgpd
log stdout ${level}
${o.logLevel === 'debug' ? 'debug bgp neighbor-events\ndebug bgp updates\n' : ''}!
`;
  own.forEach((r, i) => {
    c += `route-map TORTIE-ORIG-${i} permit 10\n`;
    if (r.communities?.length) c += ` set community ${r.communities.join(' ')}\n`;
    if (r.largeCommunities?.length) c += ` set large-community ${r.largeCommunities.join(' ')}\n`;
    if (r.med !== undefined) c += ` set metric ${r.med}\n`;
    if (r.localPref !== undefined) c += ` set local-preference ${r.localPref}\n`;
    if (r.nextHop) c += isV6(r.nextHop) ? ` set ipv6 next-hop global ${r.nextHop}\n` : ` set ip next-hop ${r.nextHop}\n`;
    c += 'exit\n!\n';
  });
  // Outbound policy per family: explicit next hops of own routes (eBGP would rewrite them to
  // self otherwise), then own routes only (or everything when exporting learned routes).
  for (const v6 of [false, true]) {
    const ip = v6 ? 'ipv6' : 'ip';
    const fam = v6 ? 6 : 4;
    own.forEach((r, i) => {
      if (isV6(r.prefix) !== v6 || !r.nextHop) return;
      c += `${ip} prefix-list TORTIE-P${i} seq 5 permit ${r.prefix}\n`;
      c += `route-map TORTIE-OUT${fam} permit ${10 + i}\n match ${ip} address prefix-list TORTIE-P${i}\n`;
      c += v6 ? ` set ipv6 next-hop global ${r.nextHop}\nexit\n` : ` set ip next-hop ${r.nextHop}\nexit\n`;
    });
    if (learned) {
      c += `route-map TORTIE-OUT${fam} permit 60000\nexit\n!\n`;
    } else {
      own.filter((r) => isV6(r.prefix) === v6).forEach((r, i) => (c += `${ip} prefix-list TORTIE-OWN${fam} seq ${(i + 1) * 5} permit ${r.prefix}\n`));
      c += `${ip} prefix-list TORTIE-OWN${fam} seq 60000 deny any\n`;
      c += `route-map TORTIE-OUT${fam} permit 60000\n match ${ip} address prefix-list TORTIE-OWN${fam}\nexit\n!\n`;
    }
  }
  c += `router bgp ${o.localAs}\n bgp router-id ${o.routerId}\n no bgp ebgp-requires-policy\n no bgp network import-check\n no bgp default ipv4-unicast\n coalesce-time 100\n`;
  const cluster = o.peers.find((p) => p.clusterId)?.clusterId;
  if (cluster) c += ` bgp cluster-id ${cluster}\n`;
  const gr = o.peers.find((p) => p.gracefulRestart)?.gracefulRestart;
  if (gr) c += ` bgp graceful-restart restart-time ${gr.restartTime}\n`;
  for (const p of o.peers) {
    const { hold: h, keepalive } = hold(p);
    const a = p.address;
    c += ` neighbor ${a} remote-as ${p.asNumber}\n`;
    if (p.port) c += ` neighbor ${a} port ${p.port}\n`;
    c += ` neighbor ${a} timers ${keepalive} ${h}\n neighbor ${a} timers connect 1\n neighbor ${a} advertisement-interval 0\n`;
    c += ` neighbor ${a} update-source ${sourceFor(o, p)}\n`;
    if (p.passive) c += ` neighbor ${a} passive\n`;
    if (p.password) c += ` neighbor ${a} password ${p.password}\n`;
    if (p.gracefulRestart) c += ` neighbor ${a} graceful-restart\n`;
    if ((o.loopback || p.multihop) && p.asNumber !== o.localAs) c += ` neighbor ${a} ebgp-multihop 2\n`;
  }
  for (const v6 of [false, true]) {
    const peers = o.peers.filter((p) => (v6 ? peerFamilies(p).v6 : peerFamilies(p).v4));
    const nets = own.map((r, i) => ({ r, i })).filter(({ r }) => isV6(r.prefix) === v6);
    if (peers.length === 0 && nets.length === 0) continue;
    c += ` !\n address-family ${v6 ? 'ipv6' : 'ipv4'} unicast\n`;
    for (const { r, i } of nets) c += `  network ${r.prefix} route-map TORTIE-ORIG-${i}\n`;
    for (const p of peers) {
      c += `  neighbor ${p.address} activate\n`;
      if (p.routeReflectorClient) c += `  neighbor ${p.address} route-reflector-client\n`;
      if (p.nextHopSelf) c += `  neighbor ${p.address} next-hop-self\n`;
      c += `  neighbor ${p.address} route-map TORTIE-OUT${v6 ? 6 : 4} out\n`;
    }
    c += ' exit-address-family\n';
  }
  c += '!\n';
  if (o.extraConfig) c += o.extraConfig + '\n';
  const zebraConf = `! generated by tortie test/helpers/daemons.ts (FRR zebra)\nhostname tortie-zebra\nlog stdout ${level}\n!\n`;
  const configs: Record<string, string> = { 'bgpd.conf': c };
  if (o.fib) configs['zebra.conf'] = zebraConf;
  const zserv = join(dir, 'zserv.api');
  const vtysh = async (cmds: string[]) =>
    (await runAsync([BINARIES.frr.vtysh, '--vty_socket', dir, ...cmds.flatMap((x) => ['-c', x])], { timeoutMs: 10_000 })).stdout;
  const fileReady = (f: string) => async () => existsSync(f);
  return {
    configs,
    procs: () => {
      const list: Proc[] = [];
      if (o.fib) {
        list.push({
          name: 'zebra',
          argv: [BINARIES.frr.zebra, '-f', join(dir, 'zebra.conf'), '-i', join(dir, 'zebra.pid'), '-z', zserv, '--vty_socket', dir, '-P', '0'],
          logFile: join(dir, 'zebra.log'),
          ready: fileReady(zserv),
        });
      }
      const bgpArgs = [BINARIES.frr.bgpd, '-f', join(dir, 'bgpd.conf'), '-i', join(dir, 'bgpd.pid'), '--vty_socket', dir, '-P', '0', '-p', String(o.listenPort)];
      if (o.fib) bgpArgs.push('-z', zserv);
      else bgpArgs.push('-Z');
      if (o.loopback) bgpArgs.push('-l', o.localAddress, ...(o.localAddress6 ? ['-l', o.localAddress6] : []));
      list.push({ name: 'bgpd', argv: bgpArgs, logFile: join(dir, 'bgpd.log'), ready: fileReady(join(dir, 'bgpd.vty')) });
      return list;
    },
    async routes() {
      const out: RouteInfo[] = [];
      for (const afi of ['ipv4', 'ipv6']) {
        const text = await vtysh([`show bgp ${afi} unicast json detail`]);
        const j = JSON.parse(text || '{}') as { routes?: Record<string, FrrPath[]> };
        for (const [prefix, arr] of Object.entries(j.routes ?? {})) {
          for (const path of arr) {
            if (!path.nexthops && !path.aspath) continue; // the {prefix, version} header entry
            const local = !!path.local || !!path.sourced || path.peer?.peerId === '0.0.0.0' || path.peer?.peerId === '::';
            const r: RouteInfo = {
              prefix: canonicalPrefix(prefix),
              asPath: (path.aspath?.segments ?? []).flatMap((s) => s.list ?? []),
              origin: path.origin?.toLowerCase() as RouteInfo['origin'],
              communities: path.community?.list ?? [],
              largeCommunities: path.largeCommunity?.list ?? [],
              local,
              best: !!path.bestpath?.overall,
            };
            if (path.stale) r.stale = true;
            if (path.metric !== undefined) r.med = path.metric;
            if (path.locPrf !== undefined) r.localPref = path.locPrf;
            const nh = path.nexthops?.find((n) => n.scope !== 'link-local') ?? path.nexthops?.[0];
            if (nh?.ip) r.nextHop = canonicalIp(nh.ip);
            if (!local && path.peer?.peerId) r.fromPeer = canonicalIp(path.peer.peerId);
            out.push(r);
          }
        }
      }
      return out;
    },
    async peers() {
      const j = JSON.parse((await vtysh(['show bgp neighbors json'])) || '{}') as Record<string, { bgpState?: string; remoteAs?: number }>;
      return Object.entries(j).map(([address, v]) => {
        const state = normState(v.bgpState);
        return { address: canonicalIp(address), state, established: state === 'Established', asNumber: v.remoteAs };
      });
    },
    exec: (cmd) => vtysh(cmd.split('\n').filter((x) => x.trim())),
    leftovers: (pids) => pids.flatMap((pid) => [`/var/tmp/frr/bgpd.${pid}`, `/var/tmp/frr/zebra.${pid}`]),
  };
}

interface FrrPath {
  aspath?: { segments?: { type?: string; list?: number[] }[] };
  origin?: string;
  metric?: number;
  locPrf?: number;
  local?: boolean;
  sourced?: boolean;
  bestpath?: { overall?: boolean };
  stale?: boolean;
  community?: { list?: string[] };
  largeCommunity?: { list?: string[] };
  nexthops?: { ip?: string; scope?: string }[];
  peer?: { peerId?: string };
}

// ---------------------------------------------------------------------------------------------
// GoBGP
//
// gobgpd's gRPC API listens on a unix socket in the temp dir (`--api-hosts unix://…`), so the
// `gobgp --target unix://…` CLI works from the root namespace and instances never collide.
// Originations are added after start with `gobgp global rib add` (and again after restart()).
// GoBGP never writes the kernel FIB (its zebra client panics with bookworm's FRR 8.4 — see the lab
// recipe), so `fib` is ignored. `idle-hold-time-after-reset` defaults to 30 s: set to 1 s.
// Export policy like Calico's: only own prefixes (default-export-policy reject-route).

function tomlStr(s: string): string {
  return JSON.stringify(s);
}

function gobgpConfig(o: Resolved): string {
  const learned = exportLearned(o);
  const own = o.originate ?? [];
  const locals = [o.localAddress, ...(o.localAddress6 && o.localAddress6 !== o.localAddress ? [o.localAddress6] : [])];
  let t = `# generated by tortie test/helpers/daemons.ts (GoBGP)
[global.config]
  as = ${o.localAs}
  router-id = ${tomlStr(o.routerId)}
  port = ${o.listenPort}
${o.loopback ? `  local-address-list = [${locals.map(tomlStr).join(', ')}]\n` : ''}`;
  const nhs = o.peers.filter((p) => p.nextHopSelf);
  const stmts: string[] = [];
  if (nhs.length) {
    t += `
[[defined-sets.neighbor-sets]]
  neighbor-set-name = "nhs-peers"
  neighbor-info-list = [${nhs.map((p) => tomlStr(p.address)).join(', ')}]
`;
    stmts.push(`  [[policy-definitions.statements]]
    name = "next-hop-self"
    [policy-definitions.statements.conditions.match-neighbor-set]
      neighbor-set = "nhs-peers"
    [policy-definitions.statements.actions.bgp-actions]
      set-next-hop = "self"
    [policy-definitions.statements.actions]
      route-disposition = "${learned ? 'accept-route' : 'none'}"
`);
  }
  own.forEach((r, i) => {
    if (!r.nextHop) return;
    t += `
[[defined-sets.prefix-sets]]
  prefix-set-name = "nh${i}"
  [[defined-sets.prefix-sets.prefix-list]]
    ip-prefix = ${tomlStr(r.prefix)}
`;
    stmts.unshift(`  [[policy-definitions.statements]]
    name = "nh${i}"
    [policy-definitions.statements.conditions.match-prefix-set]
      prefix-set = "nh${i}"
    [policy-definitions.statements.actions.bgp-actions]
      set-next-hop = ${tomlStr(r.nextHop)}
    [policy-definitions.statements.actions]
      route-disposition = "accept-route"
`);
  });
  if (!learned) {
    for (const v6 of [false, true]) {
      const ps = own.filter((r) => isV6(r.prefix) === v6);
      if (!ps.length) continue;
      t += `
[[defined-sets.prefix-sets]]
  prefix-set-name = "own${v6 ? 6 : 4}"
${ps.map((r) => `  [[defined-sets.prefix-sets.prefix-list]]\n    ip-prefix = ${tomlStr(r.prefix)}`).join('\n')}
`;
      stmts.push(`  [[policy-definitions.statements]]
    name = "own${v6 ? 6 : 4}"
    [policy-definitions.statements.conditions.match-prefix-set]
      prefix-set = "own${v6 ? 6 : 4}"
    [policy-definitions.statements.actions]
      route-disposition = "accept-route"
`);
    }
  }
  if (stmts.length || !learned) {
    t += `
[global.apply-policy.config]
  export-policy-list = [${stmts.length ? '"tortie-export"' : ''}]
  default-export-policy = "${learned ? 'accept-route' : 'reject-route'}"
`;
  }
  if (stmts.length) t += `\n[[policy-definitions]]\n  name = "tortie-export"\n${stmts.join('')}`;
  for (const p of o.peers) {
    const { hold: h, keepalive } = hold(p);
    const fam = peerFamilies(p);
    t += `
[[neighbors]]
  [neighbors.config]
    neighbor-address = ${tomlStr(p.address)}
    peer-as = ${p.asNumber}
${p.password ? `    auth-password = ${tomlStr(p.password)}\n` : ''}  [neighbors.timers.config]
    connect-retry = 1
    hold-time = ${h}
    keepalive-interval = ${keepalive}
    idle-hold-time-after-reset = 1
  [neighbors.transport.config]
    local-address = ${tomlStr(sourceFor(o, p))}
${p.port ? `    remote-port = ${p.port}\n` : ''}${p.passive ? '    passive-mode = true\n' : ''}`;
    if ((o.loopback || p.multihop) && p.asNumber !== o.localAs) t += `  [neighbors.ebgp-multihop.config]\n    enabled = true\n    multihop-ttl = 2\n`;
    if (p.routeReflectorClient) {
      t += `  [neighbors.route-reflector.config]\n    route-reflector-client = true\n    route-reflector-cluster-id = ${tomlStr(p.clusterId ?? o.routerId)}\n`;
    }
    if (p.gracefulRestart) t += `  [neighbors.graceful-restart.config]\n    enabled = true\n    restart-time = ${p.gracefulRestart.restartTime}\n`;
    for (const [on, name] of [
      [fam.v4, 'ipv4-unicast'],
      [fam.v6, 'ipv6-unicast'],
    ] as const) {
      if (!on) continue;
      t += `  [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]\n      afi-safi-name = "${name}"\n`;
      if (p.gracefulRestart) t += `    [neighbors.afi-safis.mp-graceful-restart.config]\n      enabled = true\n`;
    }
  }
  if (o.extraConfig) t += '\n' + o.extraConfig + '\n';
  return t;
}

interface GobgpPath {
  nlri?: { prefix?: string };
  best?: boolean;
  attrs?: { type: number; value?: unknown; as_paths?: { type?: number; asns?: number[] }[]; nexthop?: string; metric?: number; communities?: number[] }[];
  'neighbor-ip'?: string;
  'source-id'?: string;
  stale?: boolean;
}

function gobgpImpl(o: Resolved, dir: string): Impl {
  const sock = join(dir, 'gobgp.sock');
  const target = `unix://${sock}`;
  const cli = async (args: string[], check = true) =>
    (await runAsync([BINARIES.gobgp.gobgp, '--target', target, ...args], { timeoutMs: 10_000, check })).stdout;
  const level = o.logLevel === 'debug' ? 'debug' : o.logLevel === 'warn' ? 'warn' : 'info';
  return {
    configs: { 'gobgpd.toml': gobgpConfig(o) },
    procs: (r) => {
      // A killed gobgpd leaves its API socket behind, and a new one cannot bind it ("address already in use").
      rmSync(sock, { force: true });
      return [
        {
          name: 'gobgpd',
          argv: [
            BINARIES.gobgp.gobgpd, '-f', join(dir, 'gobgpd.toml'), '-p', '-l', level, '--api-hosts', target, '--pprof-disable',
            ...(r.gracefulRestart ? ['-r'] : []),
          ],
          logFile: join(dir, 'gobgpd.log'),
          ready: async () => existsSync(sock) && (await runAsync([BINARIES.gobgp.gobgp, '--target', target, 'global'], { check: false })).status === 0,
        },
      ];
    },
    async afterStart() {
      for (const r of o.originate ?? []) {
        const v6 = isV6(r.prefix);
        const args = ['global', 'rib', 'add', '-a', v6 ? 'ipv6' : 'ipv4', r.prefix, 'origin', 'igp'];
        const nh = r.nextHop ?? (v6 ? (isV6(o.localAddress) ? o.localAddress : o.localAddress6) : undefined);
        if (nh) args.push('nexthop', nh);
        if (r.communities?.length) args.push('community', r.communities.join(','));
        if (r.largeCommunities?.length) args.push('large-community', r.largeCommunities.join(','));
        if (r.med !== undefined) args.push('med', String(r.med));
        if (r.localPref !== undefined) args.push('local-pref', String(r.localPref));
        await cli(args);
      }
    },
    async routes() {
      const out: RouteInfo[] = [];
      for (const afi of ['ipv4', 'ipv6']) {
        const j = JSON.parse((await cli(['-j', 'global', 'rib', '-a', afi])) || '{}') as Record<string, GobgpPath[]> | null;
        for (const [prefix, paths] of Object.entries(j ?? {})) {
          for (const p of paths) {
            const r: RouteInfo = { prefix: canonicalPrefix(prefix), asPath: [], communities: [], largeCommunities: [], local: !p['neighbor-ip'], best: !!p.best };
            for (const a of p.attrs ?? []) {
              switch (a.type) {
                case 1:
                  r.origin = (['igp', 'egp', 'incomplete'] as const)[a.value as number];
                  break;
                case 2:
                  r.asPath = (a.as_paths ?? []).flatMap((s) => s.asns ?? []);
                  break;
                case 3:
                case 14:
                  if (a.nexthop && !r.nextHop) r.nextHop = canonicalIp(a.nexthop);
                  break;
                case 4:
                  r.med = a.metric;
                  break;
                case 5:
                  r.localPref = a.value as number;
                  break;
                case 8:
                  r.communities = (a.communities ?? []).map((c) => `${c >>> 16}:${c & 0xffff}`);
                  break;
                case 32:
                  r.largeCommunities = ((a.value as { ASN: number; LocalData1: number; LocalData2: number }[]) ?? []).map(
                    (l) => `${l.ASN}:${l.LocalData1}:${l.LocalData2}`,
                  );
                  break;
              }
            }
            if (p['neighbor-ip']) r.fromPeer = canonicalIp(p['neighbor-ip']);
            if (p.stale) r.stale = true;
            out.push(r);
          }
        }
      }
      return out;
    },
    async peers() {
      const j = JSON.parse((await cli(['-j', 'neighbor'])) || '[]') as {
        conf?: { neighbor_address?: string; peer_asn?: number };
        state?: { session_state?: number | string; neighbor_address?: string; peer_asn?: number };
      }[];
      const states: PeerState[] = ['Idle', 'Idle', 'Connect', 'Active', 'OpenSent', 'OpenConfirm', 'Established'];
      return (j ?? []).map((n) => {
        const s = n.state?.session_state;
        const state = typeof s === 'number' ? (states[s] ?? 'Idle') : normState(s);
        return {
          address: canonicalIp(n.conf?.neighbor_address ?? n.state?.neighbor_address ?? ''),
          state,
          established: state === 'Established',
          asNumber: n.conf?.peer_asn ?? n.state?.peer_asn,
        };
      });
    },
    exec: (cmd) => cli(cmd.trim().split(/\s+/)),
  };
}

// ---------------------------------------------------------------------------------------------
// ExaBGP 4.2
//
// Env settings (lab recipe §4): run as root without dropping privileges (exabgp.daemon.user=root,
// exabgp.daemon.drop=false), no CLI named pipes (exabgp.api.cli=false — exabgpcli only finds
// pipes in fixed system dirs), no per-command ack. ExaBGP listens only when told: per neighbor
// `listen <port>` on its local-address (passive peers, or every peer in loopback mode);
// `connect <port>` sets the remote port. No route-reflector support (throws). Originations are
// `static { route … }` in the neighbor blocks; more can be sent with exec('announce route …').

const EXABGP_BRIDGE = `#!/usr/bin/python3
# tortie test harness: exabgp API process. Lines written to FIFO go to exabgp (stdout);
# exabgp's JSON events (stdin) are appended to EVENTS. Exits when exabgp closes stdin.
import os, sys, threading
fifo, events = sys.argv[1], sys.argv[2]
def pump():
    fd = os.open(fifo, os.O_RDWR)   # RDWR: never sees EOF when a writer goes away
    with os.fdopen(fd, 'r') as f:
        for line in f:
            sys.stdout.write(line if line.endswith('\\n') else line + '\\n')
            sys.stdout.flush()
threading.Thread(target=pump, daemon=True).start()
with open(events, 'a', buffering=1) as out:
    for line in sys.stdin:
        out.write(line)
`;

function exabgpConfig(o: Resolved, dir: string): string {
  let c = `# generated by tortie test/helpers/daemons.ts (ExaBGP)
process tortie-api {
    run ${BINARIES.exabgp.python3} ${join(dir, 'api-bridge.py')} ${join(dir, 'api.fifo')} ${join(dir, 'events.jsonl')};
    encoder json;
}
`;
  for (const p of o.peers) {
    if (p.routeReflectorClient || p.clusterId) throw new Error('exabgp: route reflection is not supported');
    const { hold: h } = hold(p);
    const fam = peerFamilies(p);
    const src = sourceFor(o, p);
    c += `
neighbor ${p.address} {
    router-id ${o.routerId};
    local-address ${src};
    local-as ${o.localAs};
    peer-as ${p.asNumber};
    hold-time ${h};
${p.passive ? '    passive true;\n' : ''}${p.passive || o.loopback || o.listenPort !== 179 ? `    listen ${o.listenPort};\n` : ''}${p.port ? `    connect ${p.port};\n` : ''}${p.password ? `    md5-password "${p.password}";\n` : ''}${(o.loopback || p.multihop) && p.asNumber !== o.localAs ? '    outgoing-ttl 2;\n' : ''}    capability {
        asn4 enable;
        route-refresh enable;
${p.gracefulRestart ? `        graceful-restart ${p.gracefulRestart.restartTime};\n` : ''}    }
    family {
${fam.v4 ? '        ipv4 unicast;\n' : ''}${fam.v6 ? '        ipv6 unicast;\n' : ''}    }
    api {
        processes [ tortie-api ];
        neighbor-changes;
        receive { parsed; update; }
    }
`;
    const routes = (o.originate ?? []).filter((r) => (isV6(r.prefix) ? fam.v6 : fam.v4));
    if (routes.length) {
      c += '    static {\n';
      for (const r of routes) {
        let nh = r.nextHop ?? 'self';
        if (isV6(r.prefix) && !r.nextHop && !isV6(src)) {
          if (!o.localAddress6) throw new Error(`exabgp: IPv6 route ${r.prefix} on an IPv4 session needs nextHop or localAddress6`);
          nh = o.localAddress6;
        }
        let line = `        route ${r.prefix} next-hop ${nh} origin igp`;
        if (r.communities?.length) line += ` community [ ${r.communities.join(' ')} ]`;
        if (r.largeCommunities?.length) line += ` large-community [ ${r.largeCommunities.join(' ')} ]`;
        if (r.med !== undefined) line += ` med ${r.med}`;
        if (r.localPref !== undefined && p.asNumber === o.localAs) line += ` local-preference ${r.localPref}`;
        c += line + ';\n';
      }
      c += '    }\n';
    }
    c += '}\n';
  }
  if (o.extraConfig) c += '\n' + o.extraConfig + '\n';
  return c;
}

interface ExaEvent {
  type?: string;
  neighbor?: {
    address?: { local?: string; peer?: string };
    asn?: { peer?: number };
    state?: string;
    message?: {
      update?: {
        attribute?: {
          origin?: string;
          'as-path'?: number[] | Record<string, { element?: string; value?: number[] }>;
          med?: number;
          'local-preference'?: number;
          community?: [number, number][];
          'large-community'?: [number, number, number][];
        };
        announce?: Record<string, Record<string, ({ nlri?: string } | string)[]>>;
        withdraw?: Record<string, ({ nlri?: string } | string)[]>;
      };
    };
  };
}

function exabgpImpl(o: Resolved, dir: string): Impl {
  const fifo = join(dir, 'api.fifo');
  const events = join(dir, 'events.jsonl');
  writeFileSync(join(dir, 'api-bridge.py'), EXABGP_BRIDGE, { mode: 0o755 });
  execFileSync('mkfifo', [fifo]);
  const level = o.logLevel === 'debug' ? 'DEBUG' : o.logLevel === 'warn' ? 'WARNING' : 'INFO';
  const env: NodeJS.ProcessEnv = {
    'exabgp.daemon.user': 'root',
    'exabgp.daemon.drop': 'false',
    'exabgp.daemon.daemonize': 'false',
    'exabgp.api.cli': 'false',
    'exabgp.api.ack': 'false',
    'exabgp.log.level': level,
    'exabgp.log.destination': 'stdout',
    'exabgp.tcp.bind': '',
    'exabgp.tcp.delay': '0',
    ...(o.logLevel === 'debug' ? { 'exabgp.log.all': 'true' } : {}),
  };
  const readEvents = (): ExaEvent[] => {
    let text = '';
    try {
      text = readFileSync(events, 'utf8');
    } catch {
      return [];
    }
    const out: ExaEvent[] = [];
    for (const line of text.split('\n')) {
      if (!line.trim().startsWith('{')) continue;
      try {
        out.push(JSON.parse(line) as ExaEvent);
      } catch {
        /* partial line */
      }
    }
    return out;
  };
  return {
    configs: { 'exabgp.conf': exabgpConfig(o, dir) },
    procs: () => {
      // A (re)start begins with no sessions: drop the previous run's events (a killed exabgp
      // never reported its sessions down).
      writeFileSync(events, '');
      return [
        {
          name: 'exabgp',
          argv: [BINARIES.exabgp.exabgp, join(dir, 'exabgp.conf')],
          env,
          logFile: join(dir, 'exabgp.log'),
          ready: async () => {
            // The bridge opens the FIFO for reading once exabgp started it.
            try {
              closeSync(openSync(fifo, fsc.O_WRONLY | fsc.O_NONBLOCK));
              return true;
            } catch {
              return false;
            }
          },
        },
      ];
    },
    async routes() {
      // Adj-RIB-In rebuilt from the parsed-update events; a session going down clears its routes.
      const rib = new Map<string, RouteInfo>();
      for (const e of readEvents()) {
        const peer = e.neighbor?.address?.peer;
        if (!peer) continue;
        if (e.type === 'state' && e.neighbor?.state === 'down') {
          for (const k of [...rib.keys()]) if (k.startsWith(`${peer} `)) rib.delete(k);
          continue;
        }
        const u = e.neighbor?.message?.update;
        if (e.type !== 'update' || !u) continue;
        for (const list of Object.values(u.withdraw ?? {})) {
          for (const n of list) rib.delete(`${peer} ${canonicalPrefix(typeof n === 'string' ? n : n.nlri ?? '')}`);
        }
        const a = u.attribute ?? {};
        let asPath: number[] = [];
        const ap = a['as-path'];
        if (Array.isArray(ap)) asPath = ap;
        else if (ap) asPath = Object.values(ap).flatMap((s) => s.value ?? []);
        for (const byNh of Object.values(u.announce ?? {})) {
          for (const [nh, list] of Object.entries(byNh)) {
            for (const n of list) {
              const prefix = canonicalPrefix(typeof n === 'string' ? n : n.nlri ?? '');
              const r: RouteInfo = {
                prefix,
                nextHop: canonicalIp(nh),
                asPath,
                origin: a.origin as RouteInfo['origin'],
                communities: (a.community ?? []).map(([x, y]) => `${x}:${y}`),
                largeCommunities: (a['large-community'] ?? []).map(([x, y, z]) => `${x}:${y}:${z}`),
                fromPeer: canonicalIp(peer),
                local: false,
              };
              if (a.med !== undefined) r.med = a.med;
              if (a['local-preference'] !== undefined) r.localPref = a['local-preference'];
              rib.set(`${peer} ${prefix}`, r);
            }
          }
        }
      }
      const own: RouteInfo[] = (o.originate ?? []).map((r) => ({
        prefix: canonicalPrefix(r.prefix),
        nextHop: r.nextHop,
        asPath: [],
        origin: 'igp',
        communities: r.communities ?? [],
        largeCommunities: r.largeCommunities ?? [],
        med: r.med,
        localPref: r.localPref,
        local: true,
      }));
      return [...own, ...rib.values()];
    },
    async peers() {
      const st = new Map<string, PeerState>();
      for (const p of o.peers) st.set(canonicalIp(p.address), 'Idle');
      for (const e of readEvents()) {
        const peer = e.neighbor?.address?.peer;
        if (!peer || e.type !== 'state') continue;
        const s = e.neighbor?.state;
        st.set(canonicalIp(peer), s === 'up' ? 'Established' : s === 'connected' ? 'OpenSent' : 'Idle');
      }
      return o.peers.map((p) => {
        const state = st.get(canonicalIp(p.address)) ?? 'Idle';
        return { address: canonicalIp(p.address), state, established: state === 'Established', asNumber: p.asNumber };
      });
    },
    async exec(cmd) {
      const fd = openSync(fifo, fsc.O_WRONLY | fsc.O_NONBLOCK);
      try {
        writeSync(fd, cmd.endsWith('\n') ? cmd : cmd + '\n');
      } finally {
        closeSync(fd);
      }
      return '';
    },
  };
}

/** Waits until every configured peer (or the given addresses) is Established on `d`. */
export async function waitEstablished(d: DaemonHandle, timeoutMs = 20_000, addresses?: string[]): Promise<PeerInfo[]> {
  const want = (addresses ?? d.options.peers.map((p) => p.address)).map(canonicalIp);
  return waitFor(
    async () => {
      const ps = await d.peers();
      const ok = want.every((a) => ps.some((p) => p.address === a && p.established));
      if (!ok) throw new Error(`${d.kind} peers: ${ps.map((p) => `${p.address}=${p.state}`).join(', ') || 'none'}`);
      return ps;
    },
    timeoutMs,
    { what: `${d.kind} sessions Established`, intervalMs: 100 },
  );
}

/** Waits until `d` has a learned route for `prefix` (optionally from `fromPeer`) and returns it. */
export async function waitRoute(d: DaemonHandle, prefix: string, timeoutMs = 20_000, fromPeer?: string): Promise<RouteInfo> {
  const want = canonicalPrefix(prefix);
  return waitFor(
    async () =>
      (await d.routes()).find((r) => r.prefix === want && !r.local && (!fromPeer || r.fromPeer === canonicalIp(fromPeer))),
    timeoutMs,
    { what: `${d.kind} route ${prefix}`, intervalMs: 100 },
  );
}
