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
import type { KVPair } from '../datastore/kv.js';
import { decodeBlock } from '../ipam/block.js';
import { IpamStore } from '../ipam/store.js';
import type { BlockInfo, RoutingInput } from '../routing/types.js';

export type Snapshot = Omit<RoutingInput, 'nodeName' | 'secret' | 'routerIdEnv'>;

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
  const [nodes, bgpConfigurations, bgpPeers, bgpFilters, ipPools, felixConfigurations, blocks, affinities] = await Promise.all([
    client.list('Node'),
    client.list('BGPConfiguration'),
    client.list('BGPPeer'),
    client.list('BGPFilter'),
    client.list('IPPool'),
    client.list('FelixConfiguration'),
    store.listBlockPairs(),
    store.listAffinities(),
  ]);
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
    nodes: nodes.items,
    bgpConfigurations: bgpConfigurations.items,
    bgpPeers: bgpPeers.items,
    bgpFilters: bgpFilters.items,
    ipPools: ipPools.items,
    felixConfigurations: felixConfigurations.items,
    blocks: infos,
  };
}
