/**
 * `tortie node run`: the agent process. Start-up as calico-node does it (node registration with
 * address autodetection, default BGPConfiguration and pools, tunnel addresses), then the Agent
 * (agent.ts) with the real BGP speaker and kernel dataplane, the status socket and metrics, until
 * SIGTERM/SIGINT (graceful stop) — SIGHUP re-reads the datastore.
 *
 * Options come from the command line or calico-node's environment variables: NODENAME, IP, IP6,
 * IP_AUTODETECTION_METHOD, IP6_AUTODETECTION_METHOD, AS, CALICO_ROUTER_ID, plus the default-pool
 * knobs read by startup.ts. Several agents may run on one machine, one per network namespace,
 * each with its own `--run-dir`.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Speaker } from '../bgp/speaker.js';
import { Client } from '../datastore/client.js';
import { loadDatastoreConfig } from '../datastore/config.js';
import { openBackend } from '../datastore/open.js';
import { Ipam } from '../ipam/ipam.js';
import { detectHostMtu } from '../dataplane/mtu.js';
import { Prefix } from '../net/index.js';
import type { DataplanePlan, HostFacts } from '../routing/types.js';
import { Agent, type AgentHooks, type DataplaneLike } from './agent.js';
import { autodetect, hostAddresses, type Detected } from './autodetect.js';
import { jsonLogger, type Logger, type LogLevel } from './log.js';
import { serveAgent } from './server.js';
import { ensureDefaults, ensureNode, StartupError } from './startup.js';
import { DEFAULT_RUN_DIR } from './status-types.js';

export { DEFAULT_RUN_DIR };

export interface AgentRunOptions {
  name?: string;
  runDir?: string;
  /** `autodetect` (default), `none`, or an address with or without its prefix length. */
  ip?: string;
  /** `none` (default), `autodetect`, or an address. */
  ip6?: string;
  ipAutodetectionMethod?: string;
  ip6AutodetectionMethod?: string;
  as?: string;
  /** 0 disables the metrics endpoint. */
  metricsPort?: number;
  logLevel: LogLevel;
  /** Datastore config file (`-c`); default: the environment / /etc/tortie/tortie.cfg. */
  configPath?: string;
  /** Where BGP passwords live: `<dir>/<secret name>/<key>`. */
  secretsDir?: string;
  /** False: BGP only, no kernel programming. */
  dataplane?: boolean;
  /** Where the agent leaves `nodename` and `mtu` for the CNI plugin (Calico's /var/lib/calico). */
  stateDir?: string;
  env: NodeJS.ProcessEnv;
  /** Log lines (JSON) go here. */
  logWrite: (line: string) => void;
}

export const DEFAULT_SECRETS_DIR = '/etc/tortie/secrets';
export const DEFAULT_STATE_DIR = '/var/lib/tortie';

/** Pod MTU (calico-compat §6.6): the smallest MTU of the encapsulations in use, else the host's. */
export function podMtu(plan: DataplanePlan, host: HostFacts): number {
  const encaps = [plan.vxlan?.mtu, plan.ipip?.mtu].filter((m): m is number => m !== undefined);
  return encaps.length ? Math.min(...encaps) : host.mtu;
}

/** Writes a file only when its content changes (atomically: a CNI plugin may read it at any time). */
function writeIfChanged(path: string, content: string): void {
  try {
    if (readFileSync(path, 'utf8') === content) return;
  } catch {
    /* absent */
  }
  writeFileSync(`${path}.tmp`, content);
  renameSync(`${path}.tmp`, path);
}
export const DEFAULT_METRICS_PORT = 9091;
const STOP_MARKER = 'graceful-stop.json';

/** Resolves a node address option: an explicit address (its prefix length from the interface holding it), autodetection, or none. */
async function nodeAddress(value: string | undefined, method: string | undefined, family: 4 | 6): Promise<Detected | undefined> {
  const v = (value ?? (family === 4 ? 'autodetect' : 'none')).trim();
  if (v === 'none' || v === '') return undefined;
  if (v === 'autodetect') {
    const d = await autodetect(method ?? 'first-found', family);
    if (!d) throw new StartupError(`no IPv${family} address found with autodetection method ${method ?? 'first-found'}`);
    return d;
  }
  const [addr, len] = v.split('/');
  const have = hostAddresses().find((a) => a.address === addr);
  // The prefix length given, else the one of the interface holding the address, else a host route.
  const cidr = `${addr}/${len ?? have?.prefixLength ?? (family === 4 ? 32 : 128)}`;
  const p = Prefix.tryParse(cidr);
  if (!p || p.version !== family) throw new StartupError(`invalid IPv${family} address ${JSON.stringify(v)}`);
  return { iface: have?.iface ?? '', address: addr!, cidr };
}

function parseAs(s: string | undefined): number | undefined {
  if (s === undefined || s === '') return undefined;
  const m = /^(\d+)(?:\.(\d+))?$/.exec(s.trim());
  const n = m ? (m[2] !== undefined ? Number(m[1]) * 65536 + Number(m[2]) : Number(m[1])) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > 4294967295 || (m?.[2] !== undefined && (Number(m[1]) > 65535 || Number(m[2]) > 65535))) {
    throw new StartupError(`invalid AS number ${JSON.stringify(s)}: expected 0–4294967295 or asdot X.Y`);
  }
  return n;
}

/** BGP passwords: no Kubernetes secrets here, so a file under the secrets dir or an environment variable. */
export function secretResolver(dir: string, env: NodeJS.ProcessEnv): (ref: { name: string; key: string }) => string | undefined {
  return ({ name, key }) => {
    const envName = `TORTIE_SECRET_${name}_${key}`.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
    if (env[envName] !== undefined) return env[envName];
    if (/[/\\]|^\.\.?$/.test(name) || /[/\\]|^\.\.?$/.test(key)) return undefined;
    const f = join(dir, name, key);
    try {
      return readFileSync(f, 'utf8').replace(/\r?\n$/, '');
    } catch {
      return undefined;
    }
  };
}

/** Host MTU (calico-compat §6.6): the interfaces' MTU and state from sysfs, the choice is the dataplane's rule. */
function hostMtu(): number {
  const links: { name: string; mtu: number; operUp: boolean }[] = [];
  for (const name of new Set(hostAddresses().map((x) => x.iface))) {
    try {
      const state = readFileSync(`/sys/class/net/${name}/operstate`, 'utf8').trim();
      links.push({ name, mtu: Number(readFileSync(`/sys/class/net/${name}/mtu`, 'utf8')), operUp: state === 'up' || state === 'unknown' });
    } catch {
      /* interface went away */
    }
  }
  return detectHostMtu(links);
}

async function openClient(configPath: string | undefined, env: NodeJS.ProcessEnv): Promise<Client> {
  const cfg = loadDatastoreConfig({ ...(configPath !== undefined ? { configPath } : {}), env });
  return new Client(await openBackend(cfg));
}

/** Runs the agent until a stop signal. Throws StartupError (and datastore errors) when it cannot start. */
export async function runAgent(o: AgentRunOptions, deps: { makeDataplane?: (log: Logger) => Promise<DataplaneLike>; hooks?: AgentHooks } = {}): Promise<void> {
  const env = o.env;
  const log = jsonLogger(o.logWrite, o.logLevel);
  const name = o.name || env.NODENAME || env.HOSTNAME || hostname();
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name) || name.length > 253) {
    throw new StartupError(`invalid node name ${JSON.stringify(name)}: a lowercase RFC 1123 subdomain (letters, digits, '-', '.') is required`);
  }
  const runDir = o.runDir ?? DEFAULT_RUN_DIR;
  mkdirSync(runDir, { recursive: true });
  const v4 = await nodeAddress(o.ip ?? env.IP, o.ipAutodetectionMethod ?? env.IP_AUTODETECTION_METHOD, 4);
  const v6 = await nodeAddress(o.ip6 ?? env.IP6, o.ip6AutodetectionMethod ?? env.IP6_AUTODETECTION_METHOD, 6);
  const asNumber = parseAs(o.as ?? env.AS);
  log('info', 'starting', { node: name, ipv4: v4?.cidr, ipv6: v6?.cidr, as: asNumber, runDir });

  const client = await openClient(o.configPath, env);
  let agent: Agent | undefined;
  let server: { close(): void } | undefined;
  let metrics: { close(): void } | undefined;
  try {
    await client.ensureInitialized({ clusterType: 'tortie,bgp' });
    const id = { name, ...(v4 ? { ipv4: v4.cidr } : {}), ...(v6 ? { ipv6: v6.cidr } : {}), ...(asNumber !== undefined ? { asNumber } : {}) };
    await ensureNode(client, id);
    await ensureDefaults(client, id, env, log);
    const stateDir = o.stateDir ?? env.TORTIE_STATE_DIR ?? DEFAULT_STATE_DIR;
    mkdirSync(stateDir, { recursive: true });
    writeIfChanged(join(stateDir, 'nodename'), name);

    // A graceful stop shortly before: come back as a restarting speaker (RFC 4724) and keep the kernel routes.
    const marker = join(runDir, STOP_MARKER);
    let restarting = false;
    if (existsSync(marker)) {
      try {
        const m = JSON.parse(readFileSync(marker, 'utf8')) as { stoppedAt?: number; node?: string };
        restarting = m.node === name && typeof m.stoppedAt === 'number' && Date.now() - m.stoppedAt < 120_000;
      } catch {
        /* unreadable marker: a normal start */
      }
      rmSync(marker, { force: true });
    }

    const dataplane = o.dataplane === false ? undefined : await (deps.makeDataplane ?? defaultDataplane)(log);
    let lastMtu: string | undefined;
    const metricsPort = o.metricsPort ?? (env.TORTIE_METRICS_PORT ? Number(env.TORTIE_METRICS_PORT) : DEFAULT_METRICS_PORT);
    const m = metricsPort > 0 ? await startMetrics(metricsPort) : undefined;
    metrics = m;
    agent = new Agent({
      client,
      ipam: new Ipam(client),
      nodeName: name,
      host: { iface: v4?.iface ?? v6?.iface ?? '', mtu: hostMtu() },
      log,
      speakerFactory: (so) => new Speaker(so),
      ...(dataplane ? { dataplane } : {}),
      secret: secretResolver(o.secretsDir ?? env.TORTIE_SECRETS_DIR ?? DEFAULT_SECRETS_DIR, env),
      ...(env.CALICO_ROUTER_ID ? { routerIdEnv: env.CALICO_ROUTER_ID } : {}),
      restarting,
      hooks: {
        ...(m?.hooks ?? {}),
        // Every dataplane pass plans; the file is only looked at when the MTU moved.
        planned: (plan, host) => {
          const mtu = `${podMtu(plan, host)}`;
          if (mtu === lastMtu) return;
          writeIfChanged(join(stateDir, 'mtu'), mtu);
          lastMtu = mtu;
        },
        ...(deps.hooks ?? {}),
      },
    });
    await agent.start();
    server = await serveAgent(runDir, agent);
    log('info', 'agent running', { node: name, restarting, socket: join(runDir, 'agent.sock'), metricsPort: m?.port });

    const a = agent;
    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        process.off('SIGTERM', onTerm);
        process.off('SIGINT', onInt);
        process.off('SIGHUP', onHup);
        log('info', 'stopping', { signal });
        void a.stop({ graceful: true }).then(() => {
          writeFileSync(marker, JSON.stringify({ stoppedAt: Date.now(), node: name }));
          resolve();
        });
      };
      const onTerm = () => stop('SIGTERM');
      const onInt = () => stop('SIGINT');
      const onHup = () => {
        log('info', 'SIGHUP: re-reading the datastore');
        void a.reload();
      };
      process.on('SIGTERM', onTerm);
      process.on('SIGINT', onInt);
      process.on('SIGHUP', onHup);
    });
  } finally {
    server?.close();
    metrics?.close();
    await agent?.stop({ graceful: true });
    await client.close();
  }
}

/** The real kernel dataplane (rtnetlink, nftables, /proc/sys). */
async function defaultDataplane(log: Logger): Promise<DataplaneLike> {
  return (await import('../dataplane/index.js')).createKernelDataplane(log);
}

/** Prometheus metrics on 127.0.0.1:<port>, fed by the agent's hooks. */
async function startMetrics(port: number): Promise<{ port: number; close(): void; hooks: AgentHooks }> {
  const { agentMetrics, serveMetrics } = await import('./metrics.js');
  const m = agentMetrics();
  const server = await serveMetrics({ port }, m.registry);
  return {
    port: server.port,
    close: () => void server.close(),
    hooks: {
      converged: (ms) => m.convergence.observe(ms / 1000),
      datastoreEvents: (n) => m.datastoreEvents.inc({}, n),
      dataplaneApplied: (ok) => m.dataplaneApply.inc({ result: ok ? 'ok' : 'error' }),
      peersChanged: (peers) => m.setPeerStates(peers),
      routesChanged: (c, originated) => m.setRoutes({ ...c, originated }),
    },
  };
}
