/**
 * Wake topics: which watchers a committed change concerns. etcd filters watches on the server; a
 * SQLite file has no server, and every commit used to wake every agent's watch (inotify on the
 * shared `-wal` file) — 50 agents woken, each reading the change, for a block that concerned one of
 * them, and that one waiting its turn for the CPU. So a writer names, per key written, the topics
 * the change belongs to, and after the commit touches one small file per topic
 * (`<db>-wake/<topic>`); a watch that says which topics it wants (`KVBackend.watch(…, {wake})`)
 * is woken by those files only, and reads only the changes of its topics: the writer records them
 * in the change row too (a row without topics, from a writer of another version, is read by every
 * watch). It polls every second in any case, so a missed wake-up only costs latency.
 *
 * Topics of the `/calico/` keyspace, from what an agent needs (agent/relevance.ts decides with the
 * same function, so what wakes an agent and what it acts on cannot disagree):
 *  - `routing`: resources that shape routing (nodes, pools, BGP kinds, Felix and IPAM configuration,
 *    any kind or key not known here);
 *  - `node.<name>`: that node's block affinities; a block affine to it before or after the change, or
 *    in which it holds an address before or after;
 *  - `blocks`: a block whose owner or whose borrowed addresses changed (VXLAN programs routes to
 *    every node's blocks and borrowed addresses);
 *  - `other`: handles, status reports, endpoints, policies, virtual affinities — nothing routes by them.
 */
import { createHash } from 'node:crypto';

export const WAKE_ROUTING = 'routing';
export const WAKE_BLOCKS = 'blocks';
export const WAKE_OTHER = 'other';
export const wakeNode = (node: string): string => `node.${node}`;

const RESOURCE_OTHER = /^\/calico\/resources\/v3\/projectcalico\.org\/(caliconodestatuses|clusterinformations|workloadendpoints|networkpolicies|globalnetworkpolicies|hostendpoints|kubecontrollersconfigurations|profiles|globalnetworksets|networksets|tiers)\//;
const AFFINITY = /^\/calico\/ipam\/v2\/(host|virtual)\/([^/]+)\//;
const BLOCK = /^\/calico\/ipam\/v2\/assignment\/ipv[46]\/block\//;

interface BlockView {
  /** The affine host ('' for none). */
  host: string;
  /** Ordinal:node of every allocation made for a node other than the block's host. */
  borrowed: string;
  /** Every node that holds an address in the block. */
  holders: Set<string>;
}

/** undefined: no value; null: not a block we can read. */
function blockView(text: string | undefined): BlockView | undefined | null {
  if (text === undefined) return undefined;
  let b: { affinity?: unknown; allocations?: unknown; attributes?: unknown };
  try {
    b = JSON.parse(text) as typeof b;
  } catch {
    return null;
  }
  if (!b || typeof b !== 'object') return null;
  const affinity = typeof b.affinity === 'string' ? b.affinity : '';
  const host = affinity.startsWith('host:') ? affinity.slice(5) : '';
  const holders = new Set<string>();
  const borrowed: string[] = [];
  const attrs = Array.isArray(b.attributes) ? (b.attributes as { secondary?: { node?: unknown } }[]) : [];
  const allocs = Array.isArray(b.allocations) ? (b.allocations as unknown[]) : [];
  allocs.forEach((idx, ord) => {
    if (typeof idx !== 'number') return;
    const node = attrs[idx]?.secondary?.node;
    const n = typeof node === 'string' ? node : '';
    if (n) holders.add(n);
    if (n !== host) borrowed.push(`${ord}:${n}`);
  });
  return { host, borrowed: borrowed.join(','), holders };
}

/** The topics a change of `key` from `before` to `after` (undefined: absent) belongs to. */
export function wakeTopics(key: string, before: string | undefined, after: string | undefined): string[] {
  if (key.startsWith('/calico/resources/')) return [RESOURCE_OTHER.test(key) ? WAKE_OTHER : WAKE_ROUTING];
  if (!key.startsWith('/calico/ipam/')) return [WAKE_ROUTING]; // anything else under /calico/ (or outside it): be safe
  if (key.startsWith('/calico/ipam/v2/handle/')) return [WAKE_OTHER];
  const aff = AFFINITY.exec(key);
  if (aff) return [aff[1] === 'host' ? wakeNode(aff[2]!) : WAKE_OTHER];
  if (!BLOCK.test(key)) return [WAKE_ROUTING]; // IPAM configuration and anything new
  const old = blockView(before);
  const now = blockView(after);
  if (old === null || now === null) return [WAKE_ROUTING]; // unreadable: let a full read judge it
  const nodes = new Set<string>();
  for (const v of [old, now]) {
    if (!v) continue;
    if (v.host) nodes.add(v.host);
    for (const h of v.holders) nodes.add(h);
  }
  const topics = [...nodes].map(wakeNode);
  if (old?.host !== now?.host || old?.borrowed !== now?.borrowed) topics.push(WAKE_BLOCKS);
  return topics.length ? topics : [WAKE_OTHER];
}

/**
 * The file name of a topic in the wake directory: the topic itself when it is a plain file name,
 * otherwise (odd characters, too long for a name) a digest of it.
 */
export function wakeFileName(topic: string): string {
  return /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$/.test(topic) ? topic : `~${createHash('sha256').update(topic).digest('hex')}`;
}
