/**
 * The `tortie` CNI network plugin (Calico's `calico` binary): ADD, DEL, CHECK, VERSION, STATUS
 * and GC over IPAM, the WorkloadEndpoint records and the pod wiring.
 *
 * ADD is all or nothing: the addresses (IPAM handle `<network>.<containerID>`), the veth pair and
 * the WorkloadEndpoint are undone in reverse order when a later step fails, so a failed ADD leaves
 * nothing behind. A repeated ADD for the same container replaces what a previous attempt left.
 * DEL is idempotent: a container, namespace, interface or allocation that is already gone is
 * success. IPAM runs in-process when the configuration names tortie's (or Calico's) IPAM; any
 * other IPAM plugin (host-local, …) is run from CNI_PATH as the spec describes.
 */
import { createHash } from 'node:crypto';
import type { Client } from '../datastore/client.js';
import { isDatastoreError } from '../datastore/errors.js';
import { API_VERSION, type Resource } from '../api/meta.js';
import { workloadEndpointName } from '../api/kinds/workloadendpoint.js';
import type { Ipam } from '../ipam/ipam.js';
import { IP } from '../net/index.js';
import { addressRequest, nodeName, podMtu, versionLess } from './config.js';
import { CNI_ERROR, CniError, CURRENT_VERSION, SUPPORTED_VERSIONS, type Invocation, type NetConf, type Result } from './types.js';
import { GATEWAY4, HOST_LINK_LOCAL6, HOST_MAC, randomMac, type Wiring } from './wiring.js';

export interface PluginDeps {
  /** Opens the datastore (lazily: VERSION never needs it). */
  client(): Promise<Client>;
  ipam(client: Client): Ipam;
  wiring: Wiring;
  /** Runs a delegated IPAM plugin (another `ipam.type`): returns its parsed result. */
  delegateIpam?(type: string, inv: Invocation, stdin: string): Promise<Result>;
  log(level: 'debug' | 'info' | 'warning' | 'error', msg: string, fields?: Record<string, unknown>): void;
  now?(): Date;
  /**
   * Called at the named points of ADD. Not for production: main.ts wires it to the test-only
   * fault injection (TORTIE_CNI_FAULT: fail or stall an ADD after the address and the veth exist)
   * and to the benchmark's timing trace (TORTIE_CNI_TRACE).
   */
  step?(step: Step): Promise<void>;
}

/** The points of ADD where `step` is called, in order. */
export const STEPS = ['after-cleanup', 'after-ipam', 'after-wiring', 'before-wep'] as const;
export type Step = (typeof STEPS)[number];

const IN_PROCESS_IPAM = new Set(['tortie-ipam', 'calico-ipam']);

export interface PodIdentity {
  node: string;
  orchestrator: 'k8s' | 'cni';
  namespace: string;
  pod?: string;
  hostIf: string;
  handle: string;
  wepName: string;
}

/** Calico's host-side veth name: `cali` + 11 hex of SHA-1("<namespace>.<pod>"); for plain CNI, of the container ID. */
export function vethName(namespace: string, pod: string | undefined, containerId: string): string {
  const key = pod ? `${namespace}.${pod}` : containerId;
  return 'cali' + createHash('sha1').update(key).digest('hex').slice(0, 11);
}

export function identify(conf: NetConf, inv: Invocation): PodIdentity {
  const node = nodeName(conf);
  const pod = inv.args.K8S_POD_NAME || undefined;
  const namespace = inv.args.K8S_POD_NAMESPACE || 'default';
  const orchestrator = pod ? 'k8s' : 'cni';
  const spec = { node, orchestrator, containerID: inv.containerId, endpoint: inv.ifname, ...(pod ? { pod } : {}) };
  const n = workloadEndpointName(spec);
  if ('error' in n) throw new CniError(CNI_ERROR.INVALID_CONFIG, `cannot name the WorkloadEndpoint: ${n.error.name} ${n.error.reason}`);
  return { node, orchestrator, namespace, ...(pod ? { pod } : {}), hostIf: vethName(namespace, pod, inv.containerId), handle: `${conf.name}.${inv.containerId}`, wepName: n.name };
}

/** The result in the configuration's version (0.3.x/0.4.0 IPs carry `version`). */
export function formatResult(conf: NetConf, r: Omit<Result, 'cniVersion'>): Result {
  const old = versionLess(conf.cniVersion, '1.0.0');
  return {
    cniVersion: conf.cniVersion,
    ...r,
    ips: (r.ips ?? []).map((ip) => (old ? { ...ip, version: ip.address.includes(':') ? '6' : '4' } : ip)),
  };
}

export class Plugin {
  constructor(private readonly deps: PluginDeps) {}

  version(conf: NetConf | undefined): Record<string, unknown> {
    return { cniVersion: conf?.cniVersion ?? CURRENT_VERSION, supportedVersions: [...SUPPORTED_VERSIONS] };
  }

  async add(conf: NetConf, inv: Invocation, stdin: string): Promise<Result> {
    const id = identify(conf, inv);
    const client = await this.deps.client();
    const ipam = this.deps.ipam(client);
    // A previous attempt for this container (a retried ADD): start from nothing.
    await this.cleanup(client, ipam, id, conf, inv, true);
    await this.deps.step?.('after-cleanup');
    const undo: (() => Promise<unknown>)[] = [];
    try {
      const ips = await this.assign(conf, inv, id, ipam, stdin, undo);
      await this.deps.step?.('after-ipam');
      const mac = randomMac();
      undo.push(() => this.deps.wiring.remove(id.hostIf));
      await this.deps.wiring.add({ netns: inv.netns, ifname: inv.ifname, hostIf: id.hostIf, mtu: podMtu(conf), ips, containerMac: mac });
      await this.deps.step?.('after-wiring');
      const wep: Resource = {
        apiVersion: API_VERSION,
        kind: 'WorkloadEndpoint',
        metadata: { name: id.wepName, namespace: id.namespace },
        spec: {
          orchestrator: id.orchestrator,
          node: id.node,
          containerID: inv.containerId,
          ...(id.pod ? { pod: id.pod } : {}),
          endpoint: inv.ifname,
          ipNetworks: ips.map((ip) => `${ip}/${ip.version === 4 ? 32 : 128}`),
          profiles: id.orchestrator === 'k8s' ? [`kns.${id.namespace}`] : [`net.${conf.name}`],
          interfaceName: id.hostIf,
          mac,
        },
      };
      await this.deps.step?.('before-wep');
      await client.create(wep);
      undo.push(() => client.delete({ kind: 'WorkloadEndpoint', name: id.wepName, namespace: id.namespace }));
      this.deps.log('info', 'pod attached', { container: inv.containerId, pod: id.pod, namespace: id.namespace, ips: ips.map(String), hostIf: id.hostIf });
      const has4 = ips.some((ip) => ip.version === 4);
      return formatResult(conf, {
        interfaces: [{ name: id.hostIf, mac: HOST_MAC }, { name: inv.ifname, mac, sandbox: inv.netns }],
        ips: ips.map((ip) => ({ address: `${ip}/${ip.version === 4 ? 32 : 128}`, gateway: ip.version === 4 ? GATEWAY4 : HOST_LINK_LOCAL6, interface: 1 })),
        routes: [...(has4 ? [{ dst: '0.0.0.0/0', gw: GATEWAY4 }] : []), ...(ips.some((ip) => ip.version === 6) ? [{ dst: '::/0', gw: HOST_LINK_LOCAL6 }] : [])],
        dns: {},
      });
    } catch (e) {
      this.deps.log('error', 'ADD failed: undoing what was done', { container: inv.containerId, error: (e as Error).message });
      for (const u of undo.reverse()) {
        try {
          await u();
        } catch (e2) {
          this.deps.log('error', 'rollback step failed', { error: (e2 as Error).message });
        }
      }
      throw toCniError(e);
    }
  }

  private async assign(conf: NetConf, inv: Invocation, id: PodIdentity, ipam: Ipam, stdin: string, undo: (() => Promise<unknown>)[]): Promise<IP[]> {
    const type = conf.ipam?.type ?? 'tortie-ipam';
    if (!IN_PROCESS_IPAM.has(type)) {
      if (!this.deps.delegateIpam) throw new CniError(CNI_ERROR.INVALID_CONFIG, `IPAM plugin ${type} cannot be run here`);
      const r = await this.deps.delegateIpam(type, { ...inv, command: 'ADD' }, stdin);
      undo.push(() => this.deps.delegateIpam!(type, { ...inv, command: 'DEL' }, stdin));
      return (r.ips ?? []).map((x) => IP.parse(x.address.replace(/\/\d+$/, '')));
    }
    const req = addressRequest(conf, inv);
    const attrs = { node: id.node, namespace: id.namespace, ...(id.pod ? { pod: id.pod } : {}), timestamp: (this.deps.now?.() ?? new Date()).toISOString() };
    undo.push(() => ipam.releaseByHandle(id.handle));
    if (req.ips.length) {
      for (const ip of req.ips) await ipam.assignIP({ ip, handle: id.handle, attrs, hostname: id.node });
      return req.ips;
    }
    const r = await ipam.autoAssign({
      num4: req.v4 ? 1 : 0,
      num6: req.v6 ? 1 : 0,
      handle: id.handle,
      attrs,
      hostname: id.node,
      ...(req.pools4 ? { pools4: req.pools4 } : {}),
      ...(req.pools6 ? { pools6: req.pools6 } : {}),
    });
    for (const a of [r.v4, r.v6]) {
      if (a.ips.length < a.requested) {
        const why = a.error?.message ?? (a.msgs.join('; ') || 'no address available');
        throw new CniError(a.error ? CNI_ERROR.TRY_AGAIN_LATER : CNI_ERROR.IO_FAILURE, `failed to assign an IPv${a.version} address: ${why}`);
      }
    }
    return [...r.v4.ips, ...r.v6.ips].map((x) => x.ip);
  }

  /**
   * Releases the handle, deletes the endpoint and the host veth; each part may already be gone.
   * A Kubernetes endpoint is named by pod, not container, and the veth name too: a DEL for an old
   * sandbox of a pod that already runs in a new one (kubelet sends those late) must release only
   * the old container's addresses (the handle has the container ID) and leave the endpoint and
   * the veth, which are the new sandbox's — Calico does the same ("CNI_CONTAINERID does not
   * match WorkloadEndpoint ContainerID, don't delete WEP"). An ADD (`quiet`) takes them over.
   */
  private async cleanup(client: Client, ipam: Ipam, id: PodIdentity, conf: NetConf, inv: Invocation, quiet: boolean): Promise<void> {
    let hostIf: string | undefined = id.hostIf;
    try {
      const wep = await client.get({ kind: 'WorkloadEndpoint', name: id.wepName, namespace: id.namespace });
      const spec = (wep.spec ?? {}) as { interfaceName?: string; containerID?: string };
      if (!quiet && spec.containerID && spec.containerID !== inv.containerId) {
        this.deps.log('warning', "CNI_CONTAINERID does not match the WorkloadEndpoint's containerID: not deleting the endpoint or its veth", { container: inv.containerId, endpointContainer: spec.containerID });
        hostIf = undefined;
      } else {
        hostIf = spec.interfaceName || hostIf;
        await client.delete({ kind: 'WorkloadEndpoint', name: id.wepName, namespace: id.namespace });
      }
    } catch (e) {
      if (!isDatastoreError(e, 'NOT_FOUND')) throw e;
    }
    // The kernel takes 15–45 ms to tear a veth down (RCU grace periods, docs/benchmarks.md): the
    // address release, which does not depend on it, runs meanwhile.
    const unwire = hostIf ? this.deps.wiring.remove(hostIf) : undefined;
    const type = conf.ipam?.type ?? 'tortie-ipam';
    const release = async () => {
      if (IN_PROCESS_IPAM.has(type)) await ipam.releaseByHandle(id.handle);
      else if (!quiet && this.deps.delegateIpam) await this.deps.delegateIpam(type, { ...inv, command: 'DEL' }, JSON.stringify(conf));
    };
    await Promise.all([release(), unwire]);
  }

  async del(conf: NetConf, inv: Invocation): Promise<void> {
    const id = identify(conf, inv);
    const client = await this.deps.client();
    try {
      await this.cleanup(client, this.deps.ipam(client), id, conf, inv, false);
    } catch (e) {
      throw toCniError(e);
    }
    this.deps.log('info', 'pod detached', { container: inv.containerId, pod: id.pod, namespace: id.namespace });
  }

  async check(conf: NetConf, inv: Invocation): Promise<void> {
    const id = identify(conf, inv);
    const client = await this.deps.client();
    let wep: Resource;
    try {
      wep = await client.get({ kind: 'WorkloadEndpoint', name: id.wepName, namespace: id.namespace });
    } catch (e) {
      if (isDatastoreError(e, 'NOT_FOUND')) throw new CniError(CNI_ERROR.UNKNOWN_CONTAINER, `no WorkloadEndpoint ${id.wepName} for container ${inv.containerId}`);
      throw toCniError(e);
    }
    const nets = ((wep.spec ?? {}) as { ipNetworks?: string[] }).ipNetworks ?? [];
    const ips = nets.map((n) => IP.parse(n.replace(/\/\d+$/, '')));
    const prev = conf.prevResult?.ips?.map((x) => x.address.replace(/\/\d+$/, '')) ?? [];
    for (const p of prev) if (!ips.some((ip) => ip.toString() === p)) throw new CniError(CNI_ERROR.IO_FAILURE, `CHECK: prevResult address ${p} is not the endpoint's (${nets.join(', ')})`);
    const ipam = this.deps.ipam(client);
    const held = (await ipam.ipsByHandle(id.handle)).map(String);
    for (const ip of ips) if (!held.includes(ip.toString())) throw new CniError(CNI_ERROR.IO_FAILURE, `CHECK: ${ip} is not allocated to ${id.handle}`);
    await this.deps.wiring.check({ netns: inv.netns, ifname: inv.ifname, hostIf: id.hostIf, ips });
  }

  /** STATUS: ready when the datastore answers and a pool can give addresses. */
  async status(): Promise<void> {
    let pools;
    try {
      const client = await this.deps.client();
      pools = (await client.list('IPPool')).items;
    } catch (e) {
      throw new CniError(CNI_ERROR.NOT_AVAILABLE, `the datastore is not available: ${(e as Error).message}`);
    }
    if (!pools.some((p) => !(p.spec as { disabled?: boolean }).disabled)) throw new CniError(CNI_ERROR.NOT_AVAILABLE, 'no enabled IP pool: pods cannot get addresses');
  }

  /** GC: releases this network's allocations (and endpoints, veths) of containers the runtime no longer knows. */
  async gc(conf: NetConf): Promise<string[]> {
    const valid = new Set((conf['cni.dev/valid-attachments'] ?? []).map((a) => a.containerID));
    const client = await this.deps.client();
    const ipam = this.deps.ipam(client);
    const node = nodeName(conf);
    const prefix = `${conf.name}.`;
    const freed: string[] = [];
    for (const h of await ipam.store.listHandles()) {
      const handle = h.value.id;
      if (!handle.startsWith(prefix)) continue;
      const containerId = handle.slice(prefix.length);
      if (valid.has(containerId)) continue;
      // Only this node's: the allocation attributes name the node.
      const ips = await ipam.ipsByHandle(handle);
      const mine = await Promise.all(ips.map(async (ip) => (await ipam.assignment(ip))?.attrs.secondary?.node === node));
      if (ips.length && !mine.every(Boolean)) continue;
      for (const w of (await client.list('WorkloadEndpoint')).items) {
        const s = (w.spec ?? {}) as { containerID?: string; node?: string; interfaceName?: string };
        if (s.containerID !== containerId || s.node !== node) continue;
        if (s.interfaceName) await this.deps.wiring.remove(s.interfaceName);
        await client.delete({ kind: 'WorkloadEndpoint', name: w.metadata.name!, namespace: w.metadata.namespace! }).catch(() => undefined);
      }
      await ipam.releaseByHandle(handle);
      freed.push(containerId);
    }
    if (freed.length) this.deps.log('info', 'GC released stale attachments', { containers: freed });
    return freed;
  }
}

export function toCniError(e: unknown): CniError {
  if (e instanceof CniError) return e;
  if (isDatastoreError(e, 'UNAVAILABLE') || isDatastoreError(e, 'CLOSED')) return new CniError(CNI_ERROR.TRY_AGAIN_LATER, `the datastore is not available: ${(e as Error).message}`);
  const code = (e as { code?: string }).code;
  if (code === 'VALIDATION') return new CniError(CNI_ERROR.INVALID_CONFIG, (e as Error).message);
  return new CniError(CNI_ERROR.IO_FAILURE, (e as Error).message ?? String(e));
}
