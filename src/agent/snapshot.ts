/**
 * Reads what routing needs from the datastore: the routing resources and the IPAM blocks with
 * their affinities. The agent re-reads after every batch of datastore changes (coalesced):
 * clusters hold tens to a few thousand of these objects, a read is a few milliseconds, and a
 * fresh snapshot is never out of step the way an incrementally patched cache can be.
 *
 * What a read decodes again is another matter: a block is a JSON document with an entry per
 * address, and decoding (and copying) every block of the cluster on every read was most of a
 * re-read's time and garbage — on the path between a pod's new block and its UPDATE. `BlockViews`
 * keeps what routing takes from each block by key and revision, so a read decodes only the blocks
 * written since the last one. The read itself still returns every block, so nothing goes stale.
 */
import type { Client } from '../datastore/client.js';
import { resourcePrefix } from '../datastore/keys.js';
import type { KVPair, ReadReq } from '../datastore/kv.js';
import { decodeBlock } from '../ipam/block.js';
import { AFFINITY_PREFIXES, IpamStore, blockPrefix } from '../ipam/store.js';
import type { BlockInfo, RoutingInput } from '../routing/types.js';

export type Snapshot = Omit<RoutingInput, 'nodeName' | 'secret' | 'routerIdEnv'>;

/** The resource kinds routing reads, in the order of the snapshot's first reads. */
const SNAPSHOT_KINDS = ['Node', 'BGPConfiguration', 'BGPPeer', 'BGPFilter', 'IPPool', 'FelixConfiguration'] as const;

/** What routing takes from one block (frozen: shared between snapshots). */
interface BlockView {
  readonly cidr: string;
  /** The host of a host affinity, '' otherwise. */
  readonly host: string;
  readonly allocations: BlockInfo['allocations'];
}

/** Block views by key, each with the revision it was decoded at. */
export class BlockViews {
  private byKey = new Map<string, { revision: string; view: BlockView }>();

  /** The views of exactly these blocks, decoding those new or changed since the last call; the others are forgotten. */
  of(pairs: readonly KVPair[]): BlockView[] {
    const next = new Map<string, { revision: string; view: BlockView }>();
    for (const p of pairs) {
      const e = this.byKey.get(p.key);
      next.set(p.key, e?.revision === p.revision ? e : { revision: p.revision, view: viewOf(p.value) });
    }
    this.byKey = next;
    return [...next.values()].map((e) => e.view);
  }

  get size(): number {
    return this.byKey.size;
  }
}

function viewOf(text: string): BlockView {
  const b = decodeBlock(text);
  // Only the addresses routing cares about: those held by a node other than the block's host.
  const allocations = b.nonAffineAllocations().map((a) => Object.freeze(a.node ? { ip: a.ip.toString(), node: a.node } : { ip: a.ip.toString() }));
  return Object.freeze({ cidr: b.cidr.toString(), host: b.affinityType() === 'host' ? b.host() : '', allocations: Object.freeze(allocations) as BlockInfo['allocations'] });
}

export async function readSnapshot(client: Client, store: IpamStore = new IpamStore(client.kv), views: BlockViews = new BlockViews()): Promise<Snapshot> {
  // One read of everything (readMany: one SQLite transaction, one etcd request), so the snapshot is of one
  // revision: eight separate lists were eight transactions on the path between a pod's new block and its UPDATE,
  // and a write landing between two of them could pair a block with an affinity of another moment.
  const reqs: ReadReq[] = [...SNAPSHOT_KINDS.map((k) => ({ prefix: resourcePrefix(k) })), { prefix: blockPrefix() }, ...AFFINITY_PREFIXES.map((prefix) => ({ prefix }))];
  const { results } = await client.kv.readMany(reqs);
  const [nodes, bgpConfigurations, bgpPeers, bgpFilters, ipPools, felixConfigurations] = SNAPSHOT_KINDS.map((k, i) => client.store.fromPairs(k, results[i]!));
  const blocks = store.blockPairsFrom(results[SNAPSHOT_KINDS.length]!);
  const affinities = store.affinitiesFrom(results.slice(SNAPSHOT_KINDS.length + 1).flat());
  const state = new Map<string, BlockInfo['affinityState']>();
  for (const a of affinities) if (a.value.owner.type === 'host') state.set(`${a.value.owner.name}|${a.value.cidr.toString()}`, a.value.state);
  const infos: BlockInfo[] = views.of(blocks).map((v) => {
    const info: BlockInfo = { cidr: v.cidr, allocations: v.allocations };
    if (v.host) {
      info.affinityHost = v.host;
      const st = state.get(`${v.host}|${v.cidr}`);
      if (st) info.affinityState = st;
    }
    return info;
  });
  return {
    nodes: nodes!,
    bgpConfigurations: bgpConfigurations!,
    bgpPeers: bgpPeers!,
    bgpFilters: bgpFilters!,
    ipPools: ipPools!,
    felixConfigurations: felixConfigurations!,
    blocks: infos,
  };
}
