/**
 * `tortie lab up`: builds a topology (topology.ts) in network namespaces and starts it.
 *
 * Order, and why:
 *  1. bridges (one namespace each, `tl-<lab>-br-<segment>`), then gateways and routers, hosts,
 *     VMs — every host gets a default route, because proxy ARP for a pod's 169.254.1.1 only
 *     answers when the host has a route covering it (lab-recipe.md §7);
 *  2. the etcd, when the datastore is one (etcd.ts), and the routers' daemons (BIRD or FRR,
 *     routers.ts), so the agents find their neighbours listening;
 *  3. the resources, *before* the agents: an agent that starts with the mesh still on and only
 *     later sees `nodeToNodeMeshEnabled: false` would flap sessions — the seeds' "do it late at
 *     night" problem, which a lab should not reproduce by accident. Node documents for the hosts
 *     go first (labels, addresses); the agent's registration keeps labels and the reflector
 *     cluster ID (agent/startup.ts ensureNode);
 *  4. one `tortie node run` per host, from the built dist (bin/tortie.js), like an installed agent;
 *  5. wait until every BGP session is Established (hosts and routers), then the pods, through the
 *     CNI plugin exactly as a runtime calls it.
 *
 * Everything is recorded in state.json *before* it is created, so a failure or Ctrl-C at any
 * point leaves nothing `teardown` does not know about. On failure `buildLab` tears down itself.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { queryAgent } from '../agent/status-client.js';
import type { AgentStatus } from '../agent/status-types.js';
import { IP, Prefix } from '../net/index.js';
import { PACKAGE_ROOT, TORTIE_BIN, tortieNodeFlags } from './node-flags.js';
import { etcdArgv, etcdEndpoint, waitEtcd } from './etcd.js';
import { routerSessions, routerSockets, startRouter } from './routers.js';
import { datastoreEnv, IP_BIN, isAlive, newState, teardown, writeState, type LabState, type StateNode, type StateProcess } from './state.js';
import { addBridge, addNamespace, attach, ipn, LabError, neighbourTableWarning, runAsync, sleep, spawnDetached, tail } from './sys.js';
import { ETCD_NODE, type Topology } from './topology.js';

/** The repository (or installed package) root: src/lab/ and dist/lab/ are both two levels down. */
export { PACKAGE_ROOT };
/** A unix socket path must fit in sockaddr_un (108 bytes with the terminating NUL). */
const MAX_SOCKET_PATH = 107;

export interface BuildOptions {
  topo: Topology;
  /** The lab's name (the topology's, or `--name`). */
  name: string;
  dir: string;
  topologyPath?: string;
  /**
   * `tortie apply -f -` against the lab's datastore (injected: the CLI owns that verb); inside
   * `netns` when the datastore is only reachable from there (etcd).
   */
  apply(yaml: string, env: NodeJS.ProcessEnv, netns?: string): Promise<void>;
  progress(line: string): void;
  signal?: AbortSignal;
  /** How long BGP sessions may take to come up (default 60 s). */
  bgpTimeoutMs?: number;
  /** Leave a lab that failed to come up in place, to look at it (not after Ctrl-C). */
  keepOnError?: boolean;
}

export const nsName = (lab: string, thing: string): string => `tl-${lab}-${thing}`;

/** Why the lab cannot run from this installation, or undefined. */
export function buildMissing(root = PACKAGE_ROOT): string | undefined {
  for (const f of ['dist/cli/bin.js', 'dist/cni/bundle/main.js']) {
    if (!existsSync(join(root, f))) return `tortie lab runs the built agent and CNI plugin, and ${join(root, f)} is missing: run \`npm run build\` in ${root}`;
  }
  return undefined;
}

/** Builds and starts the lab; returns its (ready) state. Tears down what it made on failure. */
export async function buildLab(o: BuildOptions): Promise<LabState> {
  const { topo, name: lab, dir } = o;
  const st = newState(lab, dir, o.topologyPath);
  mkdirSync(dir, { recursive: true });
  writeState(st);
  try {
    await build(o, st);
    st.ready = true;
    writeState(st);
    return st;
  } catch (e) {
    if (o.keepOnError && !o.signal?.aborted) {
      o.progress(`failed: the lab is left as it is for inspection (tortie lab down --dir ${dir})`);
      throw e;
    }
    o.progress(o.signal?.aborted ? 'interrupted: removing the lab…' : 'failed: removing the lab…');
    await teardown(st, { graceMs: 3000 });
    throw e;
  }
}

async function build(o: BuildOptions, st: LabState): Promise<void> {
  const { topo, name: lab, dir } = o;
  const signal = o.signal;
  const check = (): void => signal?.throwIfAborted();
  const ns = (thing: string): string => nsName(lab, thing);
  const track = (n: string): string => {
    st.namespaces.push(n);
    writeState(st);
    return n;
  };
  const node = (n: StateNode): void => {
    st.nodes.push(n);
    writeState(st);
  };
  const record = (p: StateProcess): StateProcess => {
    st.processes.push(p);
    writeState(st);
    return p;
  };
  const ports = new Map<string, number>();
  const plug = (into: string, ifname: string, cidr: string, bridge: string): void => {
    const n = ports.get(bridge) ?? 0;
    ports.set(bridge, n + 1);
    attach(into, ifname, cidr, ns(`br-${bridge}`), `p${n}`);
  };
  const cidrOf = new Map<string, Prefix>();
  for (const s of topo.segments) cidrOf.set(s.name, Prefix.parse(s.cidr));
  for (const r of topo.routers) for (const s of r.subnets) cidrOf.set(s.name, Prefix.parse(s.cidr));
  const len = (bridge: string): number => cidrOf.get(bridge)!.length;
  for (const h of topo.hosts) socketFits(join(dir, h.name, 'run', 'agent.sock'));
  for (const r of topo.routers) routerSockets(r, join(dir, r.name)).forEach(socketFits);

  o.progress(`building lab ${lab} in ${dir}`);
  const arp = neighbourTableWarning();
  if (arp) o.progress(`warning: ${arp}`);
  for (const b of cidrOf.keys()) addBridge(track(ns(`br-${b}`)));
  for (const s of topo.segments) {
    if (s.gatewayRouter) continue;
    const gw = track(ns(`gw-${s.name}`));
    addNamespace(gw, true);
    plug(gw, 'eth0', `${s.gateway}/${s.prefixLength}`, s.name);
    node({ name: `gw-${s.name}`, kind: 'gateway', netns: gw, address: s.gateway });
  }
  check();

  // etcd starts first and is health-waited before the resources: it takes about a second.
  let etcdReady: Promise<void> | undefined;
  const ds = topo.datastore;
  if (ds.type === 'etcd') {
    const ens = track(ns(ETCD_NODE));
    addNamespace(ens, false);
    const seg = topo.segments.find((s) => s.name === ds.segment)!;
    plug(ens, 'eth0', `${ds.address}/${seg.prefixLength}`, seg.name);
    ipn(ens, 'route', 'add', 'default', 'via', seg.gateway);
    const edir = join(dir, 'etcd');
    mkdirSync(edir, { recursive: true });
    const log = join(edir, 'etcd.log');
    const proc = record(spawnDetached(ens, etcdArgv(`tl-${lab}`, ds.address, edir), log, 'etcd'));
    st.datastore = { type: 'etcdv3', endpoint: etcdEndpoint(ds.address), netns: ens };
    node({ name: ETCD_NODE, kind: 'etcd', netns: ens, address: ds.address, log });
    etcdReady = waitEtcd(ens, proc, log, signal);
    etcdReady.catch(() => undefined); // awaited below; a failure meanwhile must not go unhandled
  } else {
    st.datastore = { type: 'sqlite', path: join(dir, 'tortie.db') };
    writeState(st);
  }

  const segCidr = (seg: string) => ({ contains: (ip: string) => cidrOf.get(seg)!.contains(IP.parse(ip)) });
  for (const r of topo.routers) {
    const rns = track(ns(r.name));
    addNamespace(rns, true);
    r.interfaces.forEach((x, i) => plug(rns, `eth${i}`, `${x.address}/${len(x.segment)}`, x.segment));
    r.subnets.forEach((s, i) => plug(rns, `sub${i}`, `${s.address}/${s.prefixLength}`, s.name));
    const rdir = join(dir, r.name);
    mkdirSync(rdir, { recursive: true });
    const started = await startRouter({ r, lab, dir, rdir, netns: rns, segCidr, record, signal });
    const addresses = [...r.interfaces.map((x) => x.address), ...r.subnets.map((x) => x.address)];
    node({ name: r.name, kind: 'router', netns: rns, address: r.interfaces[0]!.address, ...started, addresses, asNumber: r.asNumber });
  }
  check();

  for (const h of topo.hosts) {
    const hns = track(ns(h.name));
    addNamespace(hns, true);
    const seg = topo.segments.find((s) => s.name === h.segment)!;
    plug(hns, 'eth0', `${h.address}/${seg.prefixLength}`, seg.name);
    ipn(hns, 'route', 'add', 'default', 'via', seg.gateway);
    const hdir = join(dir, h.name);
    mkdirSync(join(hdir, 'run'), { recursive: true });
    mkdirSync(join(hdir, 'state'), { recursive: true });
    node({ name: h.name, kind: 'host', netns: hns, address: h.address, runDir: join(hdir, 'run'), stateDir: join(hdir, 'state'), log: join(hdir, 'agent.log') });
  }
  for (const v of topo.vms) {
    const vns = track(ns(v.name));
    addNamespace(vns, false);
    plug(vns, 'eth0', `${v.address}/${len(v.subnet)}`, v.subnet);
    ipn(vns, 'route', 'add', 'default', 'via', v.gateway);
    node({ name: v.name, kind: 'vm', netns: vns, address: v.address });
  }
  check();

  if (etcdReady) {
    o.progress(`waiting for etcd (${datastoreEnv(st).ETCD_ENDPOINTS})…`);
    await etcdReady;
  }
  o.progress('applying resources…');
  const env = datastoreEnv(st);
  const applyNs = st.datastore?.type === 'etcdv3' ? st.datastore.netns : undefined;
  await o.apply(hostNodes(topo), env, applyNs);
  if (topo.resources.trim()) await o.apply(topo.resources, env, applyNs);
  check();

  const agent = TORTIE_BIN;
  const nodeFlags = tortieNodeFlags();
  for (const h of topo.hosts) {
    const n = st.nodes.find((x) => x.name === h.name)!;
    const seg = topo.segments.find((s) => s.name === h.segment)!;
    const argv = [process.execPath, ...nodeFlags, agent, 'node', 'run', '--name', h.name, '--run-dir', n.runDir!, '--state-dir', n.stateDir!];
    argv.push('--metrics-port', '0', '--ip', `${h.address}/${seg.prefixLength}`, ...(h.as !== undefined ? ['--as', String(h.as)] : []));
    record(spawnDetached(n.netns, argv, n.log!, `agent ${h.name}`, { ...process.env, ...env, ...topo.agentEnv }));
  }
  await waitAgents(st, topo, o);
  o.progress('waiting for BGP sessions…');
  await waitSessions(st, topo, o.bgpTimeoutMs ?? 60_000, signal);
  o.progress('BGP sessions Established');

  for (const p of topo.pods) {
    const pns = track(ns(p.name));
    addNamespace(pns, false);
    const address = await addPod(st, p, pns, signal);
    node({ name: p.name, kind: 'pod', netns: pns, address, host: p.host });
    o.progress(`pod ${p.name} on ${p.host}: ${address}`);
  }
}

function socketFits(path: string): void {
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH) throw new LabError(`the socket path ${path} is too long for a unix socket (at most ${MAX_SOCKET_PATH} bytes): use a shorter --dir`);
}

/** Node documents for the hosts: their labels and addresses, in place before any agent runs. */
export function hostNodes(topo: Topology): string {
  return topo.hosts
    .map((h) => {
      const seg = topo.segments.find((s) => s.name === h.segment)!;
      const labels = { 'kubernetes.io/hostname': h.name, ...h.labels };
      const bgp = { ipv4Address: `${h.address}/${seg.prefixLength}`, ...(h.as !== undefined ? { asNumber: h.as } : {}) };
      // JSON is YAML: no quoting pitfalls with label values such as "true".
      return JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: h.name, labels }, spec: { bgp } });
    })
    .join('\n---\n');
}

async function agentStatus(runDir: string): Promise<AgentStatus | undefined> {
  try {
    return (await queryAgent(runDir, { cmd: 'status' }, 1500)) as AgentStatus;
  } catch {
    return undefined;
  }
}

async function waitAgents(st: LabState, topo: Topology, o: BuildOptions): Promise<void> {
  const deadline = Date.now() + 30_000;
  let shown = -1;
  for (;;) {
    let up = 0;
    for (const h of topo.hosts) {
      const n = st.nodes.find((x) => x.name === h.name)!;
      const proc = st.processes.find((p) => p.role === `agent ${h.name}`)!;
      if (!isAlive(proc)) throw new LabError(`the agent on ${h.name} exited; the end of ${n.log}:\n${tail(n.log)}`);
      if (await agentStatus(n.runDir!)) up++;
    }
    if (up !== shown) o.progress(`starting agents… ${up}/${topo.hosts.length} up`);
    shown = up;
    if (up === topo.hosts.length) return;
    if (Date.now() > deadline) throw new LabError(`agents did not start within 30 s (${up}/${topo.hosts.length} up); logs in ${st.dir}/<host>/agent.log`);
    await sleep(100, o.signal);
  }
}

/**
 * Until every session is Established, twice in a row (an agent lists its peers as soon as it has
 * read the datastore, and a second look catches a session that drops right after its OPEN).
 * A host with no peer at all only counts as done when nothing is expected to peer with it.
 */
async function waitSessions(st: LabState, topo: Topology, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let good = 0;
  for (;;) {
    const laggards: string[] = [];
    for (const h of topo.hosts) {
      const n = st.nodes.find((x) => x.name === h.name)!;
      const s = await agentStatus(n.runDir!);
      const peers = s?.bgp.peers ?? [];
      const down = peers.filter((p) => p.bgpState !== 'Established');
      const lonely = topo.hosts.length === 1 && !topo.routers.some((r) => r.peers.some((p) => p.host === h.name));
      if (!s) laggards.push(`${h.name} (agent not answering)`);
      else if (down.length) laggards.push(`${h.name} (${down.map((p) => `${p.address} ${p.info || p.bgpState}`).join(', ')})`);
      else if (!peers.length && !lonely) laggards.push(`${h.name} (no BGP peers)`);
    }
    for (const r of topo.routers) {
      if (r.awaitSessions === false) continue;
      const n = st.nodes.find((x) => x.name === r.name)!;
      const sessions = await routerSessions(n).catch(() => []);
      const down = r.peers.filter((p) => !sessions.find((x) => x.address === p.address)?.established);
      if (down.length) laggards.push(`${r.name} (${down.map((p) => `${p.host ?? p.address} ${sessions.find((x) => x.address === p.address)?.info ?? 'unknown'}`).join(', ')})`);
    }
    good = laggards.length ? 0 : good + 1;
    if (good >= 2) return;
    if (Date.now() > deadline) {
      const arp = neighbourTableWarning();
      throw new LabError(`BGP sessions not Established after ${Math.round(timeoutMs / 1000)} s: ${laggards.join('; ')}${arp ? `\n(${arp})` : ''}`);
    }
    await sleep(250, signal);
  }
}

/** One pod through the CNI plugin, as a runtime calls it (docs/cni.md); returns its address. */
async function addPod(st: LabState, p: Topology['pods'][number], podNs: string, signal?: AbortSignal): Promise<string> {
  signal?.throwIfAborted();
  const host = st.nodes.find((x) => x.name === p.host)!;
  const containerId = `${st.name}-${p.name}`;
  const conf = {
    cniVersion: '1.0.0',
    name: 'k8s-pod-network',
    type: 'tortie',
    ...cniDatastore(st),
    nodename_file: join(host.stateDir!, 'nodename'),
    mtu_file: join(host.stateDir!, 'mtu'),
    log_level: 'info',
    log_file_path: join(st.dir, 'cni.log'),
    ipam: { type: 'tortie-ipam', assign_ipv4: 'true' },
  };
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    CNI_COMMAND: 'ADD',
    CNI_CONTAINERID: containerId,
    CNI_NETNS: `/run/netns/${podNs}`,
    CNI_IFNAME: 'eth0',
    CNI_PATH: '/opt/cni/bin:/usr/lib/cni',
    CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=${p.namespace};K8S_POD_NAME=${p.name};K8S_POD_INFRA_CONTAINER_ID=${containerId}`,
  };
  const plugin = join(PACKAGE_ROOT, 'bin', 'tortie-cni.js');
  const r = await runAsync([IP_BIN, 'netns', 'exec', host.netns, process.execPath, plugin], { input: JSON.stringify(conf), env });
  let res: { ips?: { address: string }[]; msg?: string; details?: string } | undefined;
  try {
    res = JSON.parse(r.stdout) as typeof res;
  } catch {
    res = undefined;
  }
  const addr = res?.ips?.[0]?.address;
  if (r.status !== 0 || !addr) throw new LabError(`the CNI plugin failed to add pod ${p.name} on ${p.host} (exit ${r.status}): ${res?.msg ?? ''} ${res?.details ?? ''} ${r.stderr.trim()}`.trim());
  return addr.split('/')[0]!;
}

/** The datastore in the CNI configuration's words (`datastore_type`, …), as a runtime's conflist has it. */
function cniDatastore(st: LabState): Record<string, string> {
  const env = datastoreEnv(st);
  return env.DATASTORE_TYPE === 'etcdv3' ? { datastore_type: 'etcdv3', etcd_endpoints: env.ETCD_ENDPOINTS! } : { datastore_type: 'sqlite', sqlite_path: env.SQLITE_PATH! };
}

/** Exported for `lab status`: an agent's status, undefined when it does not answer. */
export { agentStatus };
