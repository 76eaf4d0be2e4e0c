/**
 * What `tortie lab up` prints at the end, `tortie lab status`, `tortie lab exec` and
 * `tortie lab ping`. Everything is read live: agents over their status sockets, routers with
 * `birdc` or `vtysh` (lab/routers.ts); the state file only says where to look.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { AgentStatus } from '../../agent/status-types.js';
import { agentStatus } from '../../lab/build.js';
import type { RouterSession } from '../../lab/router.js';
import { routerRoutes, routerSessions } from '../../lab/routers.js';
import { datastoreEnv, DEFAULT_LAB_ROOT, IP_BIN, isAlive, namespaceExists, type LabState, type StateNode } from '../../lab/state.js';
import { runAsync } from '../../lab/sys.js';
import { invalidOption, parseArgs, str } from '../args.js';
import { LAB_HELP } from '../help.js';
import { CommandError, type IO } from '../io.js';
import { tabwrite } from '../tabwriter.js';

type Locate = (p: { opts: Map<string, unknown> }, positional?: string) => LabState;

const of = (st: LabState, kind: StateNode['kind']): StateNode[] => st.nodes.filter((n) => n.kind === kind);

/** `--dir <dir>` when the lab is not where its name alone finds it. */
function where(st: LabState): string {
  return st.dir === join(DEFAULT_LAB_ROOT, st.name) ? st.name : `--dir ${st.dir}`;
}

function role(s: AgentStatus | undefined): string {
  if (!s) return 'agent not answering';
  return s.bgp.clusterId ? `route reflector (cluster ${s.bgp.clusterId})` : 'node';
}

async function statuses(st: LabState): Promise<Map<string, AgentStatus | undefined>> {
  const hosts = of(st, 'host');
  const all = await Promise.all(hosts.map((h) => agentStatus(h.runDir!)));
  return new Map(hosts.map((h, i) => [h.name, all[i]]));
}

/** `Datastore: …`: the SQLite file, or the lab's etcd and whether it runs. */
function datastoreLine(st: LabState): string {
  const ds = st.datastore;
  if (ds?.type !== 'etcdv3') return `Datastore: sqlite ${datastoreEnv(st).SQLITE_PATH}\n`;
  const running = st.processes.some((p) => p.role === 'etcd' && isAlive(p));
  return `Datastore: etcd ${ds.endpoint} (node etcd, namespace ${ds.netns}, ${running ? 'running' : 'stopped'})\n`;
}

function routersTable(st: LabState, sessions: Map<string, RouterSession[] | Error>): string {
  const rows = of(st, 'router').map((r) => {
    const p = sessions.get(r.name);
    const up = p instanceof Error ? `failed: ${p.message}` : `${p?.filter((x) => x.established).length ?? 0}/${r.peers?.length ?? 0} Established`;
    return [r.name, r.daemon ?? 'bird2', String(r.asNumber ?? ''), (r.addresses ?? []).join(', '), up];
  });
  return rows.length ? tabwrite([['ROUTER', 'KIND', 'AS', 'ADDRESSES', 'SESSIONS'], ...rows]) : '';
}

function vmsTable(st: LabState): string {
  const rows = of(st, 'vm').map((v) => [v.name, v.address ?? '']);
  return rows.length ? tabwrite([['VM', 'ADDRESS'], ...rows]) : '';
}

function podsTable(st: LabState): string {
  const rows = of(st, 'pod').map((p) => [p.name, p.address ?? '', p.host ?? '']);
  return rows.length ? tabwrite([['POD', 'ADDRESS', 'HOST'], ...rows]) : '';
}

async function allSessions(st: LabState): Promise<Map<string, RouterSession[] | Error>> {
  const out = new Map<string, RouterSession[] | Error>();
  for (const r of of(st, 'router')) out.set(r.name, await routerSessions(r).catch((e: Error) => e));
  return out;
}

/** The end of `lab up`: what was built and how to explore it. */
export async function renderSummary(st: LabState): Promise<string> {
  const ss = await statuses(st);
  const hosts = of(st, 'host').map((h) => [h.name, h.address ?? '', role(ss.get(h.name)), String(ss.get(h.name)?.bgp.peers.length ?? '?')]);
  const parts = [`Lab ${st.name} is up (${st.dir}).\n${datastoreLine(st)}`, tabwrite([['HOST', 'ADDRESS', 'ROLE', 'BGP PEERS'], ...hosts])];
  for (const t of [routersTable(st, await allSessions(st)), vmsTable(st), podsTable(st)]) if (t) parts.push(t);
  const w = where(st);
  const from = of(st, 'vm')[0] ?? of(st, 'host')[0]!;
  const to = of(st, 'pod')[0] ?? of(st, 'host').at(-1)!;
  const at = st.dir === join(DEFAULT_LAB_ROOT, st.name) ? '' : ` --dir ${st.dir}`;
  parts.push(
    `Explore:
  tortie lab status ${w}
  tortie lab ping${at} ${from.name} ${to.name}
  tortie lab exec${at} ${of(st, 'host')[0]!.name} -- ip route
  tortie node status --run-dir ${of(st, 'host')[0]!.runDir}
  tortie lab down ${w}
`,
  );
  return parts.join('\n');
}

/** `tortie lab status`: hosts, sessions, pods, routers and what they learned. */
export async function labStatus(st: LabState): Promise<string> {
  const ss = await statuses(st);
  const nameOf = new Map(st.nodes.filter((n) => n.address).map((n) => [n.address!, n.name]));
  const alive = (role: string): boolean => st.processes.some((p) => p.role === role && isAlive(p));
  const parts = [`Lab ${st.name} (${st.dir})${st.ready ? '' : ' — not fully built (interrupted?)'}\n${datastoreLine(st)}`];
  parts.push(
    tabwrite([
      ['HOST', 'ADDRESS', 'AGENT', 'ROLE'],
      ...of(st, 'host').map((h) => [h.name, h.address ?? '', alive(`agent ${h.name}`) ? 'running' : 'stopped', role(ss.get(h.name))]),
    ]),
  );
  const sessions = of(st, 'host').flatMap((h) =>
    (ss.get(h.name)?.bgp.peers ?? []).map((p) => [h.name, p.address, nameOf.get(p.address) ?? '', p.type, p.state, p.info || p.bgpState]),
  );
  if (sessions.length) parts.push(tabwrite([['HOST', 'PEER ADDRESS', 'PEER', 'TYPE', 'STATE', 'INFO'], ...sessions]));
  const pods = podsTable(st);
  if (pods) parts.push(pods);
  const vms = vmsTable(st);
  if (vms) parts.push(vms);
  for (const r of of(st, 'router')) {
    let sessions: Awaited<ReturnType<typeof routerSessions>>;
    let routes: Awaited<ReturnType<typeof routerRoutes>>;
    try {
      sessions = await routerSessions(r);
      routes = await routerRoutes(r);
    } catch (e) {
      parts.push(`ROUTER ${r.name}: ${(e as Error).message}\n`);
      continue;
    }
    const peerName = (address: string): string => r.peers?.find((x) => x.address === address)?.name ?? nameOf.get(address) ?? address;
    if (sessions.length) {
      parts.push(tabwrite([[`ROUTER ${r.name} PEER`, 'ADDRESS', 'STATE', 'INFO'], ...sessions.map((x) => [peerName(x.address), x.address, x.state, x.info])]));
    }
    parts.push(
      tabwrite([
        [`ROUTER ${r.name} ROUTE`, 'NEXT HOP', 'FROM', 'BEST'],
        ...routes.map((x) => [x.prefix, x.nextHop ?? '', peerName(x.from), x.best ? '*' : '']),
      ]),
    );
  }
  return parts.join('\n');
}

function findNode(st: LabState, name: string): StateNode {
  const n = st.nodes.find((x) => x.name === name);
  if (!n) throw new CommandError(`lab ${st.name} has no ${name} (hosts, routers, VMs, pods: ${st.nodes.filter((x) => x.kind !== 'gateway').map((x) => x.name).join(', ')})`);
  if (!namespaceExists(n.netns)) throw new CommandError(`${name}'s namespace ${n.netns} is gone: the lab was removed (tortie lab up again)`);
  return n;
}

const LOCATE_OPTS = [
  { long: 'name', value: true },
  { long: 'dir', value: true },
];

/** `tortie lab exec NODE -- CMD…`: the command's own stdio and exit status. */
export async function labExec(args: string[], io: IO, locate: Locate): Promise<number | void> {
  const p = parseArgs(args.slice(2), LOCATE_OPTS, args);
  if (p.help) return void io.stdout.write(LAB_HELP);
  if (!p.pos.length) throw invalidOption(args);
  const st = locate(p);
  const n = findNode(st, p.pos[0]!);
  const cmd = p.pos.length > 1 ? p.pos.slice(1) : [process.env.SHELL || '/bin/sh'];
  return new Promise((resolve, reject) => {
    // With the lab's datastore in the environment: `tortie get nodes` inside works as it is.
    const child = spawn(IP_BIN, ['netns', 'exec', n.netns, ...cmd], { stdio: 'inherit', env: { ...process.env, ...datastoreEnv(st) } });
    child.once('error', (e) => reject(new CommandError(`cannot run ${cmd[0]} in ${n.name}: ${e.message}`)));
    child.once('close', (code, signal) => resolve(code ?? (signal ? 128 + 9 : 1)));
  });
}

/** `tortie lab ping A B`: pings from A's namespace to B (a node name or an address). */
export async function labPing(args: string[], io: IO, locate: Locate): Promise<number> {
  const p = parseArgs(args.slice(2), [...LOCATE_OPTS, { long: 'count', short: 'c', value: true }], args);
  if (p.help) {
    io.stdout.write(LAB_HELP);
    return 0;
  }
  if (p.pos.length !== 2) throw invalidOption(args);
  const st = locate(p);
  const from = findNode(st, p.pos[0]!);
  const target = p.pos[1]!;
  const to = /^\d+\.\d+\.\d+\.\d+$/.test(target) ? target : findNode(st, target).address;
  if (!to) throw new CommandError(`${target} has no address`);
  const count = str(p, 'count') ?? '3';
  if (!/^\d+$/.test(count) || count === '0') throw new CommandError(`invalid --count ${count}`);
  const r = await runAsync([IP_BIN, 'netns', 'exec', from.netns, 'ping', '-n', '-c', count, '-i', '0.2', '-W', '2', to], { timeoutMs: 10_000 + Number(count) * 3000 });
  io.stdout.write(r.stdout);
  if (r.stderr) io.stderr.write(r.stderr);
  return r.status === 0 ? 0 : 1;
}
