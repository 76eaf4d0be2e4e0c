/**
 * What calico-node does before it routes anything (`node/pkg/lifecycle/startup/startup.go`):
 * register or refresh this host's Node, create the default BGPConfiguration and IP pools when
 * absent (with the environment knobs of calico-compat.md §1.11), and allocate tunnel addresses
 * (§4.5). Every step is idempotent; a second agent start changes nothing.
 */
import { randomBytes } from 'node:crypto';
import type { Client } from '../datastore/client.js';
import { isDatastoreError } from '../datastore/errors.js';
import { API_VERSION, type Resource } from '../api/meta.js';
import type { Logger } from './log.js';

export interface NodeIdentity {
  name: string;
  /** `10.0.0.1/24` or undefined when the node has no IPv4 address. */
  ipv4?: string;
  ipv6?: string;
  /** From `--as` / env `AS`; undefined leaves the node on the global AS. */
  asNumber?: number;
}

export class StartupError extends Error {
  readonly code = 'STARTUP' as const;
}

async function getOrUndefined(client: Client, kind: 'Node' | 'BGPConfiguration' | 'IPPool', name: string): Promise<Resource | undefined> {
  try {
    return await client.get({ kind, name });
  } catch (e) {
    if (isDatastoreError(e, 'NOT_FOUND')) return undefined;
    throw e;
  }
}

/** Creates the Node or updates its BGP addresses / AS; labels, tunnel addresses and the RR cluster id are kept. */
export async function ensureNode(client: Client, id: NodeIdentity): Promise<Resource> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const cur = await getOrUndefined(client, 'Node', id.name);
    const spec = structuredClone((cur?.spec ?? {}) as Record<string, unknown>);
    const bgp = { ...((spec.bgp ?? {}) as Record<string, unknown>) };
    if (id.ipv4) bgp.ipv4Address = id.ipv4;
    else delete bgp.ipv4Address;
    if (id.ipv6) bgp.ipv6Address = id.ipv6;
    else delete bgp.ipv6Address;
    if (id.asNumber !== undefined) bgp.asNumber = id.asNumber;
    if (Object.keys(bgp).length) spec.bgp = bgp;
    else delete spec.bgp;
    try {
      if (!cur) {
        return await client.create({
          apiVersion: API_VERSION,
          kind: 'Node',
          metadata: { name: id.name, labels: { 'kubernetes.io/hostname': id.name } },
          spec,
        });
      }
      if (JSON.stringify(spec) === JSON.stringify(cur.spec ?? {})) return cur;
      return await client.update({ ...cur, spec });
    } catch (e) {
      if (isDatastoreError(e, 'UPDATE_CONFLICT') || isDatastoreError(e, 'ALREADY_EXISTS')) continue;
      throw e;
    }
  }
  throw new StartupError(`could not register Node ${id.name}: it kept changing under us`);
}

/** Calico's `CALICO_IPV4POOL_IPIP` / `_VXLAN` values. */
export function encapMode(env: string | undefined, what: string): 'Never' | 'Always' | 'CrossSubnet' {
  const v = (env ?? '').trim().toLowerCase();
  if (v === '' || v === 'off' || v === 'never' || v === 'false') return 'Never';
  if (v === 'always' || v === 'true') return 'Always';
  if (v === 'crosssubnet' || v === 'cross-subnet') return 'CrossSubnet';
  throw new StartupError(`invalid ${what} value ${JSON.stringify(env)}: expected Always, CrossSubnet or Never`);
}

function boolEnv(env: string | undefined, dflt: boolean, what: string): boolean {
  if (env === undefined || env === '') return dflt;
  const v = env.trim().toLowerCase();
  if (v === 'true' || v === '1' || v === 'yes') return true;
  if (v === 'false' || v === '0' || v === 'no') return false;
  throw new StartupError(`invalid ${what} value ${JSON.stringify(env)}: expected true or false`);
}

/** A random ULA /48 (`fdxx:xxxx:xxxx::/48`), as Calico picks for the default IPv6 pool. */
export function randomUla48(rand: (n: number) => Buffer = randomBytes): string {
  const b = rand(5);
  const h = (i: number) => b[i]!.toString(16).padStart(2, '0');
  return `fd${h(0)}:${h(1)}${h(2)}:${h(3)}${h(4)}::/48`;
}

/** The default BGPConfiguration and pools (`ensureDefaultBGPConfigExists`, `configureIPPools`). */
export async function ensureDefaults(client: Client, id: NodeIdentity, env: NodeJS.ProcessEnv, log: Logger): Promise<void> {
  if (!(await getOrUndefined(client, 'BGPConfiguration', 'default'))) {
    const spec: Record<string, unknown> = {};
    const svc = env.CALICO_ADVERTISE_CLUSTER_IPS;
    if (svc) spec.serviceClusterIPs = svc.split(',').map((cidr) => ({ cidr: cidr.trim() }));
    await createIfAbsent(client, { apiVersion: API_VERSION, kind: 'BGPConfiguration', metadata: { name: 'default' }, spec }, log);
  }
  if (boolEnv(env.NO_DEFAULT_POOLS, false, 'NO_DEFAULT_POOLS')) return;
  const pools = (await client.list('IPPool')).items;
  const has = (v: 4 | 6) => pools.some((p) => String((p.spec as { cidr?: string }).cidr ?? '').includes(v === 4 ? '.' : ':'));
  if (!has(4) && id.ipv4 !== undefined) {
    const spec: Record<string, unknown> = {
      cidr: env.CALICO_IPV4POOL_CIDR || '192.168.0.0/16',
      blockSize: env.CALICO_IPV4POOL_BLOCK_SIZE ? Number(env.CALICO_IPV4POOL_BLOCK_SIZE) : 26,
      ipipMode: encapMode(env.CALICO_IPV4POOL_IPIP, 'CALICO_IPV4POOL_IPIP'),
      vxlanMode: encapMode(env.CALICO_IPV4POOL_VXLAN, 'CALICO_IPV4POOL_VXLAN'),
      natOutgoing: boolEnv(env.CALICO_IPV4POOL_NAT_OUTGOING, true, 'CALICO_IPV4POOL_NAT_OUTGOING'),
      nodeSelector: env.CALICO_IPV4POOL_NODE_SELECTOR || 'all()',
    };
    if (env.CALICO_IPV4POOL_BLOCK_SIZE && !Number.isInteger(spec.blockSize)) {
      throw new StartupError(`invalid CALICO_IPV4POOL_BLOCK_SIZE ${JSON.stringify(env.CALICO_IPV4POOL_BLOCK_SIZE)}: expected an integer`);
    }
    if (boolEnv(env.CALICO_IPV4POOL_DISABLE_BGP_EXPORT, false, 'CALICO_IPV4POOL_DISABLE_BGP_EXPORT')) spec.disableBGPExport = true;
    await createIfAbsent(client, { apiVersion: API_VERSION, kind: 'IPPool', metadata: { name: 'default-ipv4-ippool' }, spec }, log);
  }
  if (!has(6) && id.ipv6 !== undefined) {
    const spec: Record<string, unknown> = {
      cidr: env.CALICO_IPV6POOL_CIDR || randomUla48(),
      blockSize: env.CALICO_IPV6POOL_BLOCK_SIZE ? Number(env.CALICO_IPV6POOL_BLOCK_SIZE) : 122,
      ipipMode: 'Never',
      vxlanMode: encapMode(env.CALICO_IPV6POOL_VXLAN, 'CALICO_IPV6POOL_VXLAN'),
      natOutgoing: boolEnv(env.CALICO_IPV6POOL_NAT_OUTGOING, false, 'CALICO_IPV6POOL_NAT_OUTGOING'),
      nodeSelector: env.CALICO_IPV6POOL_NODE_SELECTOR || 'all()',
    };
    await createIfAbsent(client, { apiVersion: API_VERSION, kind: 'IPPool', metadata: { name: 'default-ipv6-ippool' }, spec }, log);
  }
}

async function createIfAbsent(client: Client, r: Resource, log: Logger): Promise<void> {
  try {
    await client.create(r);
    log('info', `created the default ${r.kind} ${r.metadata.name}`, { kind: r.kind, name: r.metadata.name, spec: r.spec });
  } catch (e) {
    if (isDatastoreError(e, 'ALREADY_EXISTS')) return; // another node was first
    throw new StartupError(`could not create ${r.kind} ${r.metadata.name}: ${(e as Error).message}`, { cause: e });
  }
}
