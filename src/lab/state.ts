/**
 * What a lab made, written to `<lab dir>/state.json` as it is made, so that `tortie lab down`
 * can remove everything after a crash, a Ctrl-C or a reboot of the shell that ran `up`.
 *
 * The rule that matters: a process is only ever signalled when /proc/<pid>/stat still shows the
 * start time recorded when it was spawned. PIDs are recycled; without this check `down` on a lab
 * that died days ago could kill an unrelated process that happens to have the same PID now.
 * Processes found inside one of the lab's own namespaces (`ip netns pids`) are the lab's by
 * construction and are killed without that check.
 *
 * Some daemons leave files outside the lab directory (FRR's crash-log directory
 * /var/tmp/frr/<daemon>.<pid>, removed by FRR itself only on a clean exit): they are recorded
 * with the process and removed once no process has that PID any more.
 *
 * The file is rewritten atomically (temp file + rename): a crash mid-write leaves the old one.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const IP_BIN = process.env.IP_BIN ?? '/usr/sbin/ip';
export const STATE_FILE = 'state.json';
/** Where labs live unless `--dir` says otherwise. */
export const DEFAULT_LAB_ROOT = '/var/run/tortie/lab';

export type NodeKind = 'host' | 'router' | 'vm' | 'pod' | 'gateway' | 'etcd';

/** A place one can `lab exec` into or `lab ping` from/to. */
export interface StateNode {
  name: string;
  kind: NodeKind;
  netns: string;
  /** The main address (a host's, a pod's, a router's first interface). */
  address?: string;
  /** Hosts: the agent's run and state directories and its log. */
  runDir?: string;
  stateDir?: string;
  log?: string;
  /** Routers: the BIRD control socket, or FRR's vty socket directory. Pods: the host they run on. */
  socket?: string;
  host?: string;
  /** Routers: the daemon (absent in labs made before FRR: bird2). */
  daemon?: 'bird2' | 'frr';
  /** Routers: every interface address, the AS, and the BGP neighbours (`protocol`: BIRD's name). */
  addresses?: string[];
  asNumber?: number;
  peers?: { protocol?: string; address: string; name?: string }[];
}

export interface StateProcess {
  pid: number;
  /** Field 22 of /proc/<pid>/stat (clock ticks since boot) when the process was spawned. */
  startTime: string;
  /** `agent host-a`, `bird core-switch`, `bgpd core-switch`, `etcd`. */
  role: string;
  /** Files and directories the process leaves outside the lab directory, removed after it. */
  leftovers?: string[];
}

/** Where the lab's datastore is (absent in labs made before etcd: the SQLite file in the dir). */
export type StateDatastore = { type: 'sqlite'; path: string } | { type: 'etcdv3'; endpoint: string; netns: string };

export interface LabState {
  version: 1;
  name: string;
  dir: string;
  topology?: string;
  createdAt: string;
  /** Set once `up` finished; a lab without it was interrupted. */
  ready?: boolean;
  namespaces: string[];
  processes: StateProcess[];
  nodes: StateNode[];
  datastore?: StateDatastore;
}

export function newState(name: string, dir: string, topology?: string): LabState {
  return { version: 1, name, dir, ...(topology ? { topology } : {}), createdAt: new Date().toISOString(), namespaces: [], processes: [], nodes: [] };
}

/**
 * The environment that points `tortie`, the agents and `tortie apply` at the lab's datastore
 * (an etcd endpoint is only reachable from inside the lab's namespaces).
 */
export function datastoreEnv(st: LabState): NodeJS.ProcessEnv {
  const ds = st.datastore;
  if (ds?.type === 'etcdv3') return { DATASTORE_TYPE: 'etcdv3', ETCD_ENDPOINTS: ds.endpoint };
  return { DATASTORE_TYPE: 'sqlite', SQLITE_PATH: ds?.path ?? join(st.dir, 'tortie.db') };
}

export function statePath(dir: string): string {
  return join(dir, STATE_FILE);
}

export function writeState(st: LabState): void {
  mkdirSync(st.dir, { recursive: true });
  const p = statePath(st.dir);
  writeFileSync(`${p}.tmp`, JSON.stringify(st, null, 2) + '\n');
  renameSync(`${p}.tmp`, p);
}

/** The state in `dir`, or undefined when there is none. Throws when the file is unreadable. */
export function readState(dir: string): LabState | undefined {
  const p = statePath(dir);
  if (!existsSync(p)) return undefined;
  const st = JSON.parse(readFileSync(p, 'utf8')) as LabState;
  if (st?.version !== 1 || !Array.isArray(st.namespaces) || !Array.isArray(st.processes)) throw new Error(`${p} is not a tortie lab state file`);
  st.nodes ??= [];
  return st;
}

/**
 * Field 22 of /proc/<pid>/stat, or undefined when there is no such process — or only its
 * zombie: the lab's daemons outlive `lab up` and are re-parented to PID 1, which on a machine
 * without an init (containers, CI) never reaps them, so a killed daemon stays a zombie forever.
 */
export function procStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: count from the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (rest[0] === 'Z' || rest[0] === 'X') return undefined;
    return rest[19];
  } catch {
    return undefined;
  }
}

/** Side effects of process handling, injectable so the recycled-PID rule is testable. */
export interface ProcPort {
  startTime(pid: number): string | undefined;
  kill(pid: number, signal: NodeJS.Signals): void;
}

export const realProcs: ProcPort = {
  startTime: procStartTime,
  kill: (pid, signal) => {
    try {
      process.kill(pid, signal);
    } catch {
      /* gone meanwhile */
    }
  },
};

/** True when the recorded process still runs: same PID *and* same start time. */
export function isAlive(p: StateProcess, procs: ProcPort = realProcs): boolean {
  const now = procs.startTime(p.pid);
  return now !== undefined && now === p.startTime;
}

/** Signals the process if (and only if) it is still the one recorded. Returns whether it did. */
export function signalRecorded(p: StateProcess, signal: NodeJS.Signals, procs: ProcPort = realProcs): boolean {
  if (!isAlive(p, procs)) return false;
  procs.kill(p.pid, signal);
  return true;
}

/** The recorded processes that still run. */
export function liveProcesses(st: LabState, procs: ProcPort = realProcs): StateProcess[] {
  return st.processes.filter((p) => isAlive(p, procs));
}

/** SIGTERM every live recorded process, SIGKILL what is left after `graceMs`. */
export async function stopProcesses(list: readonly StateProcess[], graceMs = 5000, procs: ProcPort = realProcs): Promise<void> {
  let left = list.filter((p) => signalRecorded(p, 'SIGTERM', procs));
  const deadline = Date.now() + graceMs;
  while (left.length && Date.now() < deadline) {
    await sleep(50);
    left = left.filter((p) => isAlive(p, procs));
  }
  for (const p of left) signalRecorded(p, 'SIGKILL', procs);
  const hard = Date.now() + 2000;
  while (left.some((p) => isAlive(p, procs)) && Date.now() < hard) await sleep(20);
}

/**
 * Removes what the processes left outside the lab directory — only for a PID no process has any
 * more: a live process with a recycled PID may be another daemon with a directory of that name.
 */
export function removeLeftovers(list: readonly StateProcess[], procs: ProcPort = realProcs): void {
  for (const p of list) {
    if (!p.leftovers?.length || procs.startTime(p.pid) !== undefined) continue;
    for (const f of p.leftovers) rmSync(f, { recursive: true, force: true });
  }
}

export function namespaceExists(ns: string): boolean {
  return existsSync(`/run/netns/${ns}`);
}

/** Kills whatever still runs in the namespace (a `lab exec` shell, a ping) and deletes it. */
export function deleteNamespace(ns: string): void {
  if (!namespaceExists(ns)) return;
  const r = spawnSync(IP_BIN, ['netns', 'pids', ns], { encoding: 'utf8' });
  for (const s of (r.stdout ?? '').split(/\s+/)) {
    const pid = Number(s);
    if (pid > 0) realProcs.kill(pid, 'SIGKILL');
  }
  spawnSync(IP_BIN, ['netns', 'del', ns]);
}

/**
 * Removes everything the state lists: processes (TERM, then KILL), namespaces (which takes the
 * veths, bridges and routes with them), then the lab directory. Safe to run twice.
 */
export async function teardown(st: LabState, opts: { graceMs?: number; keepDir?: boolean } = {}, procs: ProcPort = realProcs): Promise<void> {
  await stopProcesses(st.processes, opts.graceMs ?? 5000, procs);
  removeLeftovers(st.processes, procs);
  // Pods and VMs before hosts and routers, bridges last: nothing depends on the order for
  // correctness, but fewer links flap while the rest goes away.
  for (const ns of [...st.namespaces].reverse()) deleteNamespace(ns);
  if (!opts.keepDir) rmSync(st.dir, { recursive: true, force: true });
}
