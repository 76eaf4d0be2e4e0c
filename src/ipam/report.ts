/**
 * What `ipam show` and `ipam check` compute, as pure functions over what was read: pool and
 * block utilisation (libcalico-go `GetUtilization`, v3.32) and the consistency check (calicoctl
 * `commands/ipam/check.go`). The CLI prints them.
 */
import { IP, Prefix } from '../net/index.js';
import type { Resource } from '../api/meta.js';
import { WINDOWS_RESERVED_HANDLE, sanitizeHandle, type AllocationBlock } from './block.js';
import type { Pool } from './pools.js';
import type { Handle, Versioned } from './store.js';

/** Allocation attribute `type` of addresses an operator assigned (`ipam assign`): in use by definition. */
export const MANUAL_TYPE = 'manual';

export interface BlockUse {
  cidr: Prefix;
  capacity: number;
  /** Free ordinals (`len(unallocated)`). */
  available: number;
}

export interface PoolUse {
  /** undefined for the blocks no pool contains. */
  pool?: Pool;
  cidr?: Prefix;
  blocks: BlockUse[];
}

/**
 * Every pool (as listed: by name), each with the blocks that overlap it, then the blocks no pool
 * holds. Unlike calicoctl, IPv6 blocks outside every pool are listed too (calicoctl drops them).
 */
export function utilization(pools: readonly Pool[], blocks: readonly AllocationBlock[]): PoolUse[] {
  const out: PoolUse[] = pools.map((p) => ({ pool: p, cidr: p.cidr, blocks: [] }));
  const orphans: PoolUse = { blocks: [] };
  for (const b of blocks) {
    const use: BlockUse = { cidr: b.prefix, capacity: b.size, available: b.data.unallocated.length };
    const home = out.find((u) => u.cidr!.overlaps(b.prefix));
    (home ?? orphans).blocks.push(use);
  }
  if (orphans.blocks.length) out.push(orphans);
  return out;
}

// --- ipam check -----------------------------------------------------------------------------

export interface CheckAllocation {
  ip: string;
  handle?: string;
  /** Exact uint64, decimal. */
  sequenceNumber: string;
  pod?: string;
  namespace?: string;
  node?: string;
  type?: string;
  creationTimestamp?: string;
  inUse: boolean;
  borrowed?: boolean;
  owners: string[] | null;
}

export interface CheckInput {
  blocks: readonly AllocationBlock[];
  pools: readonly Pool[];
  nodes: readonly Resource[];
  workloadEndpoints: readonly Resource[];
  handles: readonly Versioned<Handle>[];
}

export interface CheckResult {
  /** Progress lines in calicoctl's order; `show` says whether --show-all-ips / problem lines are on. */
  lines: string[];
  problems: number;
  allocations: Map<string, CheckAllocation[]>;
  leakedHandles: { ID: string; UID: null; Revision: string }[];
}

function normaliseIP(s: string): string | undefined {
  try {
    return Prefix.parseCIDROrIP(s).ip.toString();
  } catch {
    return undefined;
  }
}

function formatAttrs(handle: string | undefined, attrs: Record<string, string> | undefined): string {
  const extra = Object.keys(attrs ?? {})
    .sort()
    .map((k) => `${k}=${attrs![k]}`)
    .join(',');
  return `Main:${handle ?? '<none>'} Extra:${extra}`;
}

/**
 * The check. In use: Node tunnel addresses (IPIP, VXLAN and — unlike calicoctl, which reports
 * them as leaks — IPv6 VXLAN), WorkloadEndpoint addresses, and addresses an operator assigned
 * (`type: manual`). There are no Kubernetes Services to scan.
 */
export function checkIPAM(input: CheckInput, opts: { showAllIPs?: boolean; showProblemIPs?: boolean } = {}): CheckResult {
  const all = opts.showAllIPs === true;
  const problemsOn = all || opts.showProblemIPs === true;
  const lines: string[] = [];
  const p = (s: string): void => {
    lines.push(s);
  };
  const allocations = new Map<string, CheckAllocation[]>();
  const inUse = new Map<string, string[]>();
  const inUseHandles = new Set<string>();
  const byNode = new Map<string, number>();
  const record = (ip: string, owner: string): void => {
    if (!inUse.has(ip)) inUse.set(ip, []);
    inUse.get(ip)!.push(owner);
    for (const a of allocations.get(ip) ?? []) {
      a.inUse = true;
      a.owners = [...(a.owners ?? []), owner];
    }
  };

  p('Checking IPAM for inconsistencies...');
  p('');
  p('Loading all IPAM blocks...');
  p(`Found ${input.blocks.length} IPAM blocks.`);
  let numAllocs = 0;
  for (const b of input.blocks) {
    p(` IPAM block ${b.cidr} affinity=${b.data.affinity ?? '<none>'}:`);
    const blockHost = b.data.affinity?.startsWith('host:') ? b.data.affinity.slice(5) : '';
    for (const ord of b.allocatedOrdinals()) {
      const ip = b.ip(ord).toString();
      const attr = b.data.attributes[b.data.allocations[ord]!];
      const a: CheckAllocation = { ip, sequenceNumber: b.data.sequenceNumberForAllocation[String(ord)] ?? '0', inUse: false, owners: null };
      let node = blockHost;
      if (attr) {
        if (attr.handle_id !== undefined && attr.handle_id.toLowerCase() === WINDOWS_RESERVED_HANDLE) {
          if (all) p(`  ${ip} belongs to Reserved for Windows`);
          record(ip, 'Reserved for Windows');
        } else if (attr.handle_id !== undefined) {
          a.handle = sanitizeHandle(attr.handle_id);
          inUseHandles.add(a.handle);
        }
        const s = attr.secondary ?? {};
        if (s.node !== undefined) node = s.node;
        if (s.pod !== undefined) a.pod = s.pod;
        if (s.namespace !== undefined) a.namespace = s.namespace;
        if (s.type !== undefined) a.type = s.type;
        if (s.timestamp !== undefined) a.creationTimestamp = s.timestamp;
        if (all) p(`  ${ip} allocated; attrs ${formatAttrs(attr.handle_id, attr.secondary)}`);
      } else if (all) p(`  ${ip} allocated; attrs <missing>`);
      if (node) a.node = node;
      if (node !== blockHost) a.borrowed = true;
      if (!allocations.has(ip)) allocations.set(ip, []);
      allocations.get(ip)!.push(a);
      byNode.set(node, (byNode.get(node) ?? 0) + 1);
      numAllocs++;
      if (a.type === MANUAL_TYPE) record(ip, `Manual(${a.handle ?? '<none>'})`);
    }
  }
  p(`IPAM blocks record ${numAllocs} allocations.`);
  p('');

  p('Loading all IPAM pools...');
  const active = input.pools.filter((x) => !x.disabled);
  for (const pool of active) p(`  ${pool.cidr.toString()}`);
  p(`Found ${active.length} active IP pools.`);
  p('');

  p('Loading all nodes.');
  let tunnels = 0;
  for (const n of input.nodes) {
    const spec = (n.spec ?? {}) as Record<string, any>;
    for (const raw of [spec.ipv4VXLANTunnelAddr, spec.bgp?.ipv4IPIPTunnelAddr, spec.ipv6VXLANTunnelAddr]) {
      if (typeof raw !== 'string' || raw === '') continue;
      const ip = normaliseIP(raw);
      if (!ip) continue;
      const owner = `Node(${n.metadata.name})`;
      if (all) p(`  ${ip} belongs to ${owner}`);
      record(ip, owner);
      tunnels++;
    }
  }
  p(`Found ${tunnels} node tunnel IPs.`);
  p('');

  p('Loading all workload endpoints.');
  let weps = 0;
  for (const w of input.workloadEndpoints) {
    const nets = ((w.spec ?? {}) as { ipNetworks?: string[] }).ipNetworks ?? [];
    for (const raw of nets) {
      const ip = normaliseIP(raw);
      if (!ip) continue;
      const owner = `Workload(${w.metadata.namespace ?? ''}/${w.metadata.name})`;
      if (all) p(`  ${ip} belongs to ${owner}`);
      record(ip, owner);
      weps++;
    }
  }
  p(`Found ${weps} workload IPs.`);
  p(`Workloads and nodes are using ${inUse.size} IPs.`);
  p('');

  p('Loading all handles');
  p('Looking for top (up to 20) nodes by allocations...');
  const ranked = [...byNode].sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0]));
  for (const [node, n] of ranked.slice(0, 20)) p(`  ${node} has ${n} allocations`);
  if (ranked.length) p(`Node with most allocations has ${ranked[0]![1]}; median is ${ranked[Math.floor(ranked.length / 2)]![1]}`);
  p('');

  let problems = 0;
  p('Scanning for IPs that are allocated but not actually in use...');
  let leaked = 0;
  for (const [ip, list] of sortedByIP(allocations)) {
    if (inUse.has(ip)) continue;
    for (const a of list) if (problemsOn) p(`  ${ip} leaked; attrs ${formatAttrs(a.handle, attrsOf(a))}`);
    leaked++;
  }
  p(`Found ${leaked} IPs that are allocated in IPAM but not actually in use.`);
  problems += leaked;
  p('Scanning for IPs that are in use by a workload or node but not allocated in IPAM...');
  let outside = 0;
  let unallocated = 0;
  for (const [ip, owners] of sortedByIP(inUse)) {
    if (problemsOn && owners.length > 1) p(`  ${ip} has multiple owners.`);
    if (allocations.has(ip)) continue;
    const inPool = active.some((x) => x.cidr.contains(IP.parse(ip)));
    for (const o of owners) {
      if (!problemsOn) continue;
      p(inPool ? `  ${ip} in use by ${o} and in active IPAM pool but has no IPAM allocation.` : `  ${ip} in use by ${o} is not in any active IP pool.`);
    }
    if (inPool) unallocated++;
    else outside++;
  }
  p(`Found ${outside} in-use IPs that are not in active IP pools.`);
  p(`Found ${unallocated} in-use IPs that are in active IP pools but have no corresponding IPAM allocation.`);
  problems += outside + unallocated;
  p('');

  p('Scanning for IPAM handles with no matching IPs...');
  const leakedHandles: CheckResult['leakedHandles'] = [];
  const handleIDs = new Set<string>();
  for (const h of input.handles) {
    const id = sanitizeHandle(h.value.id);
    handleIDs.add(id);
    if (inUseHandles.has(id)) continue;
    if (all) p(`  ${id} doesn't have any active IPs.`);
    leakedHandles.push({ ID: h.value.id, UID: null, Revision: h.revision });
  }
  p(`Found ${leakedHandles.length} handles with no matching IPs (and ${input.handles.length - leakedHandles.length} handles with matches).`);
  problems += leakedHandles.length;
  p('Scanning for IPs with missing handle...');
  let missing = 0;
  for (const h of [...inUseHandles].sort()) {
    if (handleIDs.has(h)) continue;
    if (problemsOn) p(`  ${h} is in use in a block but doesn't exist.`);
    missing++;
  }
  p(`Found ${missing} handles mentioned in blocks with no matching handle resource.`);
  p(`Check complete; found ${problems} problems.`);
  return { lines, problems, allocations, leakedHandles };
}

function attrsOf(a: CheckAllocation): Record<string, string> {
  const o: Record<string, string> = {};
  if (a.namespace !== undefined) o.namespace = a.namespace;
  if (a.node !== undefined) o.node = a.node;
  if (a.pod !== undefined) o.pod = a.pod;
  if (a.creationTimestamp !== undefined) o.timestamp = a.creationTimestamp;
  if (a.type !== undefined) o.type = a.type;
  return o;
}

function sortedByIP<T>(m: Map<string, T>): [string, T][] {
  return [...m].sort((x, y) => IP.parse(x[0]).compare(IP.parse(y[0])));
}

/** The `-o` report: calicoctl's JSON (`MarshalIndent`, two spaces, no final newline), sequence numbers exact. */
export function checkReportJSON(r: CheckResult, meta: { version: string; clusterGUID: string; datastoreLocked: boolean; clusterInformationRevision: string; clusterType: string }): string {
  const allocs: Record<string, unknown[]> = {};
  for (const ip of [...r.allocations.keys()].sort()) {
    allocs[ip] = r.allocations.get(ip)!.map((a) => ({
      ip: a.ip,
      ...(a.handle ? { handle: a.handle } : {}),
      sequenceNumber: `\u0000${a.sequenceNumber}\u0000`,
      ...(a.pod ? { pod: a.pod } : {}),
      ...(a.namespace ? { namespace: a.namespace } : {}),
      ...(a.node ? { node: a.node } : {}),
      ...(a.type ? { type: a.type } : {}),
      ...(a.creationTimestamp ? { creationTimestamp: a.creationTimestamp } : {}),
      inUse: a.inUse,
      ...(a.borrowed ? { borrowed: true } : {}),
      owners: a.owners,
    }));
  }
  const doc = { ...meta, allocations: allocs, ...(r.leakedHandles.length ? { leakedHandles: r.leakedHandles } : {}) };
  return JSON.stringify(doc, null, 2)
    .replace(/"\\u0000(\d+)\\u0000"/g, '$1')
    .replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
}
