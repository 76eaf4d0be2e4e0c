/**
 * Reads what routing needs from the datastore: the routing resources and the IPAM blocks with
 * their affinities. The agent re-reads after every batch of datastore changes (coalesced):
 * clusters hold tens to a few thousand of these objects, a read is a few milliseconds, and a
 * fresh snapshot is never out of step the way an incrementally patched cache can be.
 */
import type { Client } from '../datastore/client.js';
import { IpamStore } from '../ipam/store.js';
import type { BlockInfo, RoutingInput } from '../routing/types.js';

export type Snapshot = Omit<RoutingInput, 'nodeName' | 'secret' | 'routerIdEnv'>;

export async function readSnapshot(client: Client, store: IpamStore = new IpamStore(client.kv)): Promise<Snapshot> {
  const [nodes, bgpConfigurations, bgpPeers, bgpFilters, ipPools, felixConfigurations, blocks, affinities] = await Promise.all([
    client.list('Node'),
    client.list('BGPConfiguration'),
    client.list('BGPPeer'),
    client.list('BGPFilter'),
    client.list('IPPool'),
    client.list('FelixConfiguration'),
    store.listBlocks(),
    store.listAffinities(),
  ]);
  const state = new Map<string, BlockInfo['affinityState']>();
  for (const a of affinities) if (a.value.owner.type === 'host') state.set(`${a.value.owner.name}|${a.value.cidr.toString()}`, a.value.state);
  const infos: BlockInfo[] = blocks.map(({ value: b }) => {
    const info: BlockInfo = {
      cidr: b.cidr,
      // Only the addresses routing cares about: those held by a node other than the block's host.
      allocations: b.nonAffineAllocations().map((a) => (a.node ? { ip: a.ip.toString(), node: a.node } : { ip: a.ip.toString() })),
    };
    if (b.affinityType() === 'host') {
      info.affinityHost = b.host();
      const st = state.get(`${b.host()}|${b.cidr}`);
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
