/**
 * Which datastore changes can change THIS node's routing. Every agent watches all of `/calico/`,
 * and every pod ADD/DEL anywhere writes an IPAM block (and a new block writes its affinity twice):
 * re-reading and re-planning on each of those made the cost of one pod grow with the cluster —
 * N agents × a full re-read — and delayed the one agent that must act (bench/convergence.ts).
 * Calico's confd watches only `/calico/ipam/v2/host/<this node>/`. Here:
 *  - routing resources (nodes, pools, BGP kinds, Felix configuration): always;
 *  - block affinities: only this node's;
 *  - blocks: those affine to this node (before or after), those holding an address this node
 *    borrowed (its /32 is exported), and — only when VXLAN is in use, where this node programs
 *    routes to every other node's blocks and borrowed addresses itself — any change of a block's
 *    owner or of its borrowed addresses;
 *  - handles, status reports, endpoints, policies: never.
 */
import type { WatchEvent } from '../datastore/watcher.js';

export interface RelevanceContext {
  node: string;
  /** Some pool uses VXLAN (Always or CrossSubnet), or Felix forces it. */
  vxlan: boolean;
}

const RESOURCE_IRRELEVANT = /\/(caliconodestatuses|clusterinformations|workloadendpoints|networkpolicies|globalnetworkpolicies|hostendpoints|kubecontrollersconfigurations|profiles|globalnetworksets|networksets|tiers)\//;
const AFFINITY = /^\/calico\/ipam\/v2\/(host|virtual)\/([^/]+)\//;
const BLOCK = /^\/calico\/ipam\/v2\/assignment\/ipv[46]\/block\//;

interface BlockView {
  affinity: string;
  /** Ordinal → node of allocations made by a node other than the block's host. */
  borrowed: string;
  /** Every node that holds an address in the block. */
  holders: Set<string>;
}

function view(text: string | undefined): BlockView | undefined | null {
  if (text === undefined) return undefined;
  let b: { affinity?: string | null; allocations?: (number | null)[]; attributes?: { secondary?: { node?: string } }[] };
  try {
    b = JSON.parse(text) as typeof b;
  } catch {
    return null; // unreadable: let the full read judge it
  }
  const affinity = b.affinity ?? '';
  const host = affinity.startsWith('host:') ? affinity.slice(5) : '';
  const holders = new Set<string>();
  const borrowed: string[] = [];
  (b.allocations ?? []).forEach((idx, ord) => {
    if (idx === null || idx === undefined) return;
    const node = b.attributes?.[idx]?.secondary?.node ?? '';
    if (node) holders.add(node);
    if (node !== host) borrowed.push(`${ord}:${node}`);
  });
  return { affinity, borrowed: borrowed.join(','), holders };
}

export function eventRelevant(ev: WatchEvent, ctx: RelevanceContext): boolean {
  const key = ev.key;
  if (key.startsWith('/calico/resources/')) return !RESOURCE_IRRELEVANT.test(key);
  if (!key.startsWith('/calico/ipam/')) return true; // anything else under /calico/: be safe
  if (key.startsWith('/calico/ipam/v2/handle/')) return false;
  const aff = AFFINITY.exec(key);
  if (aff) return aff[1] === 'host' && aff[2] === ctx.node;
  if (!BLOCK.test(key)) return true; // IPAM configuration and anything new
  const before = view(ev.old);
  const after = view(ev.new);
  if (before === null || after === null) return true;
  const mine = `host:${ctx.node}`;
  if (before?.affinity === mine || after?.affinity === mine) return true;
  if (before?.holders.has(ctx.node) || after?.holders.has(ctx.node)) return true;
  if (!ctx.vxlan) return false;
  return before?.affinity !== after?.affinity || before?.borrowed !== after?.borrowed;
}

/** Whether the resources in a snapshot put VXLAN in use (pools or FelixConfiguration). */
export function vxlanInUse(pools: readonly { spec?: unknown }[], felix: readonly { spec?: unknown }[] = []): boolean {
  if (felix.some((f) => (f.spec as { vxlanEnabled?: boolean } | undefined)?.vxlanEnabled === true)) return true;
  return pools.some((p) => {
    const s = (p.spec ?? {}) as { vxlanMode?: string; disabled?: boolean };
    return s.vxlanMode === 'Always' || s.vxlanMode === 'CrossSubnet';
  });
}
