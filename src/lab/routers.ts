/**
 * Running the lab's routers and reading them back, whichever daemon plays them: BIRD 2 (one
 * `bird`, read with `birdc` over its control socket) or FRR (zebra, staticd when there are static
 * routes, bgpd when there are peers; read with `vtysh --vty_socket … json`). build.ts starts
 * them, `lab up` and `lab status` read their sessions and routes in one shape (router.ts).
 *
 * FRR without systemd or watchfrr (lab-recipe.md §3.2): each daemon is started by hand in the
 * router's namespace with its own config (-f), pid file (-i), the zserv socket they share (-z),
 * the vty socket directory (--vty_socket, where vtysh finds them) and no TCP vty (-P 0).
 * Tricky bits:
 *  - the daemons drop to user frr (`-u root` is refused: "not part of vty group"), so the
 *    router's directory belongs to frr, and every directory above it must let frr through;
 *  - FRR keeps a crash-log directory /var/tmp/frr/<daemon>.<pid> that it removes only on a
 *    clean exit: it is recorded with the process (state.ts removes it after a crash), and the
 *    one a dry run (-C) leaves is removed at once;
 *  - the dry run exits 0 even for a line it rejects; the complaint ("… on config line N") is
 *    what tells.
 */
import { chmodSync, chownSync, existsSync, rmSync, statSync, writeFileSync, type Stats } from 'node:fs';
import { dirname, join } from 'node:path';
import { birdRoutes, birdSessions, protocolName, renderBird2 } from './bird.js';
import { frrDaemons, parseFrrBgpRoutes, parseFrrNeighbors, parseFrrRib, renderFrr } from './frr.js';
import type { RouterRoute, RouterSession, SegCidr } from './router.js';
import { isAlive, type StateNode, type StateProcess } from './state.js';
import { LabError, poll, run, runAsync, spawnDetached, tail } from './sys.js';
import type { LabRouter } from './topology.js';

export const BIRD_BIN = process.env.BIRD2_BIN ?? '/usr/sbin/bird';
export const BIRDC_BIN = process.env.BIRDC2_BIN ?? '/usr/sbin/birdc';
export const FRR_DIR = process.env.FRR_DIR ?? '/usr/lib/frr';
export const VTYSH_BIN = process.env.VTYSH_BIN ?? '/usr/bin/vtysh';
const FRR_CRASH_DIR = '/var/tmp/frr';
const READY_MS = 10_000;

/** The unix sockets a router's daemons create in its directory (their paths must fit sockaddr_un). */
export function routerSockets(r: LabRouter, rdir: string): string[] {
  if (r.kind === 'bird2') return [join(rdir, 'bird.ctl')];
  return [join(rdir, 'zserv.api'), ...frrDaemons(r).map((d) => join(rdir, `${d}.vty`))];
}

export interface RouterStart {
  r: LabRouter;
  lab: string;
  /** The lab's directory, and the router's own below it (created). */
  dir: string;
  rdir: string;
  netns: string;
  segCidr: SegCidr;
  /** Records a started process in the lab's state (called the moment it exists). */
  record(p: StateProcess): void;
  signal?: AbortSignal | undefined;
}

/** What a router's state node needs to be read back. */
export type RouterNode = Required<Pick<StateNode, 'daemon' | 'socket' | 'log' | 'peers'>>;

/** Writes the router's configuration, starts its daemon(s), resolves when they answer. */
export function startRouter(o: RouterStart): Promise<RouterNode> {
  return o.r.kind === 'bird2' ? startBird(o) : startFrr(o);
}

async function startBird(o: RouterStart): Promise<RouterNode> {
  const { r, rdir } = o;
  const conf = join(rdir, 'bird.conf');
  writeFileSync(conf, renderBird2(r, o.lab, o.segCidr));
  const parse = run([BIRD_BIN, '-p', '-c', conf], { check: false });
  if (parse.status !== 0) throw new LabError(`BIRD rejects the configuration for router ${r.name} (${conf}): ${parse.stderr.trim()}`);
  const sock = join(rdir, 'bird.ctl');
  const log = join(rdir, 'bird.log');
  const proc = spawnDetached(o.netns, [BIRD_BIN, '-f', '-c', conf, '-s', sock, '-P', join(rdir, 'bird.pid')], log, `bird ${r.name}`);
  o.record(proc);
  await poll(async () => alive(proc, log, r) && existsSync(sock) && (await runAsync([BIRDC_BIN, '-s', sock, 'show', 'status'])).status === 0, {
    timeoutMs: READY_MS,
    signal: o.signal,
    failure: () => `BIRD on router ${r.name} did not start:\n${tail(log)}`,
  });
  return { daemon: 'bird2', socket: sock, log, peers: r.peers.map((p) => ({ protocol: protocolName(p.address), address: p.address, ...(p.host ? { name: p.host } : {}) })) };
}

/** Throws when the process already exited (so waiting for it stops at once). */
function alive(p: StateProcess, log: string, r: LabRouter): true {
  if (!isAlive(p)) throw new LabError(`${p.role.split(' ')[0]} on router ${r.name} exited; the end of ${log}:\n${tail(log)}`);
  return true;
}

async function startFrr(o: RouterStart): Promise<RouterNode> {
  const { r, rdir } = o;
  const daemons = frrDaemons(r);
  for (const d of daemons) if (!existsSync(join(FRR_DIR, d))) throw new LabError(`router ${r.name} is an FRR router, and ${join(FRR_DIR, d)} is missing (apt-get install frr)`);
  openForFrr(o.dir, rdir, frrUser());
  const confs = renderFrr(r, o.lab, o.segCidr);
  for (const d of daemons) {
    const conf = join(rdir, `${d}.conf`);
    writeFileSync(conf, confs[d]!);
    // Dry run (-C): it exits 0 whatever it thinks of the file, and leaves a crash-log dir.
    const check = run([join(FRR_DIR, d), '-C', '-f', conf], { check: false });
    if (check.pid) rmSync(join(FRR_CRASH_DIR, `${d}.${check.pid}`), { recursive: true, force: true });
    const complaints = `${check.stdout}\n${check.stderr}`.split('\n').filter((l) => /config line \d+/.test(l));
    if (check.status !== 0 || complaints.length) throw new LabError(`FRR ${d} rejects the configuration for router ${r.name} (${conf}): ${complaints.join('\n') || check.stderr.trim()}`);
  }
  const zserv = join(rdir, 'zserv.api');
  const log = (d: string) => join(rdir, `${d}.log`);
  for (const d of daemons) {
    const argv = [join(FRR_DIR, d), '-f', join(rdir, `${d}.conf`), '-i', join(rdir, `${d}.pid`), '-z', zserv, '--vty_socket', rdir, '-P', '0'];
    const proc = spawnDetached(o.netns, argv, log(d), `${d} ${r.name}`);
    // `ip netns exec` execs the daemon: this PID is the one in FRR's crash-log dir name.
    proc.leftovers = [join(FRR_CRASH_DIR, `${d}.${proc.pid}`)];
    o.record(proc);
    // The others connect to zebra: start them once its socket is there.
    const ready = d === 'zebra' ? [zserv, join(rdir, 'zebra.vty')] : [join(rdir, `${d}.vty`)];
    await poll(() => alive(proc, log(d), r) && ready.every((f) => existsSync(f)), {
      timeoutMs: READY_MS,
      signal: o.signal,
      failure: () => `FRR ${d} on router ${r.name} did not start:\n${tail(log(d))}`,
    });
  }
  return { daemon: 'frr', socket: rdir, log: log(daemons.at(-1)!), peers: r.peers.map((p) => ({ address: p.address, ...(p.host ? { name: p.host } : {}) })) };
}

function frrUser(): { uid: number; gid: number } {
  const uid = run(['id', '-u', 'frr'], { check: false });
  const gid = run(['id', '-g', 'frr'], { check: false });
  if (uid.status !== 0 || gid.status !== 0) throw new LabError('FRR routers need the user frr, which the frr package creates (apt-get install frr)');
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/**
 * FRR's daemons run as user frr: the router's directory becomes theirs, the lab's own directory
 * lets others through (not list it, as a 0711 one; mkdtemp makes 0700), and every directory
 * above must already let them through.
 */
function openForFrr(labDir: string, rdir: string, who: { uid: number; gid: number }): void {
  const through = (s: Stats): boolean => !!(s.mode & 0o001 || (s.uid === who.uid && s.mode & 0o100) || (s.gid === who.gid && s.mode & 0o010));
  const own = statSync(labDir);
  if (!through(own)) chmodSync(labDir, (own.mode & 0o7777) | 0o001);
  for (let d = dirname(labDir); ; d = dirname(d)) {
    if (!through(statSync(d))) throw new LabError(`FRR's daemons run as user frr, and ${d} does not let it through to ${rdir}: choose a --dir elsewhere (the default /var/run/tortie/lab, or /tmp)`);
    if (d === dirname(d)) break;
  }
  chownSync(rdir, who.uid, who.gid);
}

async function birdc(n: StateNode, ...cmd: string[]): Promise<string> {
  const r = await runAsync([BIRDC_BIN, '-s', n.socket!, ...cmd], { timeoutMs: 5000 });
  if (r.status !== 0) throw new Error(`birdc: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

async function vtysh(n: StateNode, cmd: string): Promise<string> {
  const r = await runAsync([VTYSH_BIN, '--vty_socket', n.socket!, '-c', cmd], { timeoutMs: 5000 });
  if (r.status !== 0) throw new Error(`vtysh -c '${cmd}': ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

/** A router's BGP sessions (none for an FRR router without peers: it runs no bgpd). */
export async function routerSessions(n: StateNode): Promise<RouterSession[]> {
  if (n.daemon !== 'frr') return birdSessions(await birdc(n, 'show', 'protocols'));
  return n.peers?.length ? parseFrrNeighbors(await vtysh(n, 'show bgp neighbors json')) : [];
}

/** A router's routes: every path learned from its peers, and its static routes. */
export async function routerRoutes(n: StateNode): Promise<RouterRoute[]> {
  if (n.daemon !== 'frr') return birdRoutes(await birdc(n, 'show', 'route'));
  const bgp = n.peers?.length ? parseFrrBgpRoutes(await vtysh(n, 'show bgp ipv4 unicast json')) : [];
  return [...bgp, ...parseFrrRib(await vtysh(n, 'show ip route static json'))];
}
