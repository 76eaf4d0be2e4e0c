/**
 * A cluster of tortie agents in network namespaces, for the agent's acceptance tests.
 *
 *   const lab = await AgentLab.create('mesh', [{ name: 'host-a', cidr: '10.31.0.1/24' }, …]);
 *   await lab.apply(yaml);                       // `tortie apply -f -` against the lab's SQLite datastore
 *   lab.startAgent(lab.host('host-a'));          // `tortie node run` inside host-a's namespace
 *   const pod = await lab.addPod('host-a', 'p1'); // an address from IPAM, wired like Calico's CNI does
 *   await lab.ping(pod, other.ip);
 *   const cp = lab.continuousPing(pod, other.ip); … const r = await cp.stop(); // r.lost
 *
 * Hosts share one L2 segment (a bridge in its own namespace) plus a "gateway" namespace on it
 * (`.254`): every host has a default route through it — real hosts have one, and proxy ARP for a
 * pod's 169.254.1.1 only answers when the host has a route covering it. Pods are namespaces with
 * `eth0` ↔ host-side `cali<11 hex>` (veth), the pod address as /32, `169.254.1.1 dev eth0 scope
 * link` and a default route through it; the host side has proxy_arp and a /32 route to the pod
 * (protocol boot, as Calico's CNI programs). Every namespace and process is removed by
 * `cleanupAll()` (netns.ts), also when a test fails.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/main.js';
import { memoryIO } from '../../src/cli/io.js';
import { Client } from '../../src/datastore/client.js';
import { openBackend } from '../../src/datastore/open.js';
import { Ipam } from '../../src/ipam/ipam.js';
import type { AgentStatus } from '../../src/agent/status-types.js';
import { createNetns, createSegment, makeTempDir, type Netns, type Segment, type TrackedProcess, waitFor } from './netns.js';

const HERE = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(HERE, '..', '..');

export interface HostSpec {
  name: string;
  /** `10.31.0.1/24` on eth0. */
  cidr: string;
  /** Another segment (CrossSubnet tests): hosts on different segments reach each other through `router`. */
  segment?: string;
}

export interface LabHost {
  name: string;
  ns: Netns;
  ip: string;
  cidr: string;
  runDir: string;
  logFile: string;
  agent?: TrackedProcess;
}

export interface Pod {
  name: string;
  host: LabHost;
  ns: Netns;
  ip: string;
  hostIf: string;
}

export class AgentLab {
  readonly hosts: LabHost[] = [];
  readonly pods: Pod[] = [];
  readonly segments = new Map<string, { seg: Segment; gw: Netns; prefix: string }>();
  private client?: Client;

  private constructor(
    readonly tag: string,
    readonly dir: string,
  ) {}

  get dbPath(): string {
    return join(this.dir, 'tortie.db');
  }

  get env(): NodeJS.ProcessEnv {
    return { ...process.env, DATASTORE_TYPE: 'sqlite', SQLITE_PATH: this.dbPath, TORTIE_SKIP_ROOT_CHECK: '1' };
  }

  /**
   * Hosts on one or more segments. Each segment `s` gets a gateway namespace at `.254` of the
   * first host's subnet; with several segments the gateways are one router namespace joined to
   * all of them (hosts on different subnets route through it).
   */
  static async create(tag: string, hosts: HostSpec[]): Promise<AgentLab> {
    const lab = new AgentLab(tag, makeTempDir(`lab-${tag}`));
    const bySeg = new Map<string, HostSpec[]>();
    for (const h of hosts) bySeg.set(h.segment ?? 'lan', [...(bySeg.get(h.segment ?? 'lan') ?? []), h]);
    const router = createNetns(`${tag}-gw`, { forwarding: true });
    let n = 0;
    for (const [segName, members] of bySeg) {
      const seg = createSegment(`${tag}-${segName}`);
      const [addr, len] = members[0]!.cidr.split('/');
      const prefix = addr!.split('.').slice(0, 3).join('.');
      seg.attach(router, [`${prefix}.254/${len}`], `gw${n++}`);
      lab.segments.set(segName, { seg, gw: router, prefix });
      for (const h of members) {
        const ns = createNetns(`${tag}-${h.name}`, { forwarding: true });
        seg.attach(ns, [h.cidr]);
        ns.ip('route', 'add', 'default', 'via', `${prefix}.254`);
        const runDir = join(lab.dir, h.name);
        lab.hosts.push({ name: h.name, ns, ip: h.cidr.split('/')[0]!, cidr: h.cidr, runDir, logFile: join(lab.dir, `${h.name}.log`) });
      }
    }
    return lab;
  }

  /** The gateway/router namespace (also the "outside world" for NAT tests). */
  get gateway(): Netns {
    return [...this.segments.values()][0]!.gw;
  }

  host(name: string): LabHost {
    const h = this.hosts.find((x) => x.name === name);
    if (!h) throw new Error(`no host ${name}`);
    return h;
  }

  async datastore(): Promise<Client> {
    this.client ??= new Client(await openBackend({ datastoreType: 'sqlite', sqlitePath: this.dbPath, etcdEndpoints: [] }));
    return this.client;
  }

  /** `tortie <args>` in-process against the lab datastore; throws with stderr on failure. */
  async tortie(args: string[], stdin = ''): Promise<string> {
    const io = memoryIO({ stdin, env: this.env });
    const code = await main(args, io);
    if (code !== 0) throw new Error(`tortie ${args.join(' ')} failed (${code}): ${io.err()}`);
    return io.out();
  }

  apply(yaml: string): Promise<string> {
    return this.tortie(['apply', '-f', '-'], yaml);
  }

  /** Starts `tortie node run` in the host's namespace. */
  startAgent(h: LabHost, extraArgs: string[] = [], env: NodeJS.ProcessEnv = {}): TrackedProcess {
    const argv = [process.execPath, '--import', 'tsx', join(REPO, 'src/cli/bin.ts'), 'node', 'run', '--name', h.name, '--run-dir', h.runDir, '--state-dir', this.stateDir(h), ...extraArgs];
    h.agent = h.ns.spawn(argv, { logFile: h.logFile, env: { ...this.env, ...env }, cwd: REPO });
    return h.agent;
  }

  /** The agent's state dir (`nodename`, `mtu` for the CNI plugin). */
  stateDir(h: LabHost): string {
    return join(h.runDir, 'state');
  }

  async stopAgent(h: LabHost, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await h.agent?.stop(signal, 5000);
  }

  log(h: LabHost): string {
    try {
      return readFileSync(h.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  /** One request to the host's agent socket. */
  query<T = unknown>(h: LabHost, req: Record<string, unknown>): Promise<T> {
    return new Promise((resolve, reject) => {
      const s = net.connect(join(h.runDir, 'agent.sock'));
      let buf = '';
      s.setEncoding('utf8');
      s.once('connect', () => s.write(JSON.stringify(req) + '\n'));
      s.on('data', (d: string) => {
        buf += d;
        const nl = buf.indexOf('\n');
        if (nl < 0) return;
        s.destroy();
        const a = JSON.parse(buf.slice(0, nl)) as { ok: boolean; result?: T; error?: string };
        if (a.ok) resolve(a.result as T);
        else reject(new Error(a.error));
      });
      s.once('error', reject);
      s.once('close', () => reject(new Error(`the agent on ${h.name} closed its socket without answering ${JSON.stringify(req)}`)));
    });
  }

  status(h: LabHost): Promise<AgentStatus> {
    return this.query<AgentStatus>(h, { cmd: 'status' });
  }

  async waitRunning(h: LabHost, timeoutMs = 20_000): Promise<AgentStatus> {
    return waitFor(
      async () => {
        if (h.agent && !h.agent.running()) throw new Error(`agent on ${h.name} exited: ${this.log(h).slice(-2000)}`);
        return this.status(h);
      },
      timeoutMs,
      { what: `agent on ${h.name}` },
    );
  }

  /** Waits until the host has `n` Established peers. */
  async waitEstablished(h: LabHost, n: number, timeoutMs = 20_000): Promise<AgentStatus> {
    let seen = 'no status yet';
    try {
      return await waitFor(
        async () => {
          const s = await this.status(h);
          seen = JSON.stringify(s.bgp.peers.map((p) => `${p.name}=${p.bgpState}${p.lastError ? ` (${p.lastError})` : ''}`));
          const up = s.bgp.peers.filter((p) => p.bgpState === 'Established').length;
          return up === n && s.bgp.peers.length === n ? s : undefined;
        },
        timeoutMs,
        { what: `${n} Established peers on ${h.name}` },
      );
    } catch (e) {
      throw new Error(`${(e as Error).message}; peers: ${seen}`);
    }
  }

  /** Kernel routes of the host (`ip -j route`), main table. */
  routes(h: LabHost): { dst: string; gateway?: string; dev?: string; protocol?: string; type?: string; flags?: string[] }[] {
    return JSON.parse(h.ns.ip('-j', 'route', 'show', 'table', 'main')) as ReturnType<AgentLab['routes']>;
  }

  /** A pod on `hostName` with an IPAM address (handle `pod-<name>`), wired as Calico's CNI does. */
  async addPod(hostName: string, name: string, ip?: string): Promise<Pod> {
    const h = this.host(hostName);
    const ipam = new Ipam(await this.datastore());
    let addr = ip;
    if (!addr) {
      const r = await ipam.autoAssign({ num4: 1, hostname: h.name, handle: `pod-${name}`, attrs: { node: h.name, pod: name, namespace: 'default' } });
      addr = r.v4.ips[0]?.ip.toString();
      if (!addr) throw new Error(`IPAM gave no address for pod ${name}: ${r.v4.error?.message ?? r.v4.msgs.join("; ")}`);
    }
    const ns = createNetns(`${this.tag}-${name}`);
    const hostIf = 'cali' + createHash('sha1').update(`default.${name}`).digest('hex').slice(0, 11);
    // veth created in the host namespace, the peer moved into the pod namespace.
    h.ns.ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns.name);
    h.ns.ip('link', 'set', hostIf, 'address', 'ee:ee:ee:ee:ee:ee', 'up');
    h.ns.sysctl(`net.ipv4.conf.${hostIf}.proxy_arp`, 1);
    h.ns.sysctl(`net.ipv4.neigh.${hostIf}.proxy_delay`, 0);
    h.ns.sysctl(`net.ipv4.conf.${hostIf}.forwarding`, 1);
    ns.ip('link', 'set', 'eth0', 'up');
    ns.ip('addr', 'add', `${addr}/32`, 'dev', 'eth0');
    ns.ip('route', 'add', '169.254.1.1', 'dev', 'eth0', 'scope', 'link');
    ns.ip('route', 'add', 'default', 'via', '169.254.1.1', 'dev', 'eth0');
    h.ns.ip('route', 'add', `${addr}/32`, 'dev', hostIf, 'scope', 'link', 'proto', 'boot');
    const pod = { name, host: h, ns, ip: addr, hostIf };
    this.pods.push(pod);
    return pod;
  }

  /** `count` pings (0.1 s apart); true when every one is answered. */
  async ping(from: Pod | Netns, to: string, count = 3): Promise<boolean> {
    const ns = 'ns' in from ? from.ns : from;
    const r = await ns.execAsync(['ping', '-n', '-q', '-c', String(count), '-i', '0.1', '-W', '1', to], { check: false, timeoutMs: 20_000 });
    return r.status === 0 && new RegExp(`${count} received`).test(r.stdout);
  }

  /** Waits until pings get through. */
  async waitPing(from: Pod | Netns, to: string, timeoutMs = 20_000): Promise<void> {
    await waitFor(() => this.ping(from, to, 1), timeoutMs, { what: `ping ${to}`, intervalMs: 200 });
  }

  /**
   * A ping every `intervalMs` until `stop()`. Loss is counted from the sequence numbers answered
   * (`ping -O` prints each reply), ignoring the last two still in flight when stopped.
   */
  continuousPing(from: Pod, to: string, intervalMs = 20): { stop(): Promise<{ sent: number; received: number; lost: number; missing: number[] }> } {
    const logFile = join(this.dir, `ping-${from.name}-${to}-${Date.now()}.log`);
    const proc = from.ns.spawn(['ping', '-n', '-O', '-i', String(intervalMs / 1000), '-W', '1', to], { logFile });
    return {
      stop: async () => {
        await proc.stop('SIGINT', 3000);
        const text = readFileSync(logFile, 'utf8');
        const got = new Set<number>();
        for (const m of text.matchAll(/bytes from .*icmp_seq=(\d+)/g)) got.add(Number(m[1]));
        const tx = Number(/(\d+) packets transmitted/.exec(text)?.[1] ?? 0);
        const missing: number[] = [];
        for (let s = 1; s <= tx - 2; s++) if (!got.has(s)) missing.push(s);
        return { sent: tx, received: got.size, lost: missing.length, missing };
      },
    };
  }

  async close(): Promise<void> {
    await this.client?.close();
  }
}

