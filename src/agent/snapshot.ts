/**
 * Reads what routing needs from the datastore: the routing resources and the IPAM blocks with
 * their affinities. The agent re-reads after every batch of datastore changes (coalesced):
 * clusters hold tens to a few thousand of these objects, a read is a few milliseconds, and a
 * fresh snapshot is never out of step the way an incrementally patched cache can be.
 *
 * What a read decodes again is another matter: a block is a JSON document with an entry per
 * address, and decoding (and copying) every block of the cluster on every read was most of a
 * re-read's time and garbage — on the path between a pod's new block and its UPDATE. `BlockViews`
 * keeps what routing takes from each block (and each affinity's state) by key and revision, so a read
 * decodes only what was written since the last one. The read itself still returns every block and
 * affinity, so nothing goes stale.
 *
 * A pod's new block is IPAM writes only (affinity, block, address): after such changes the agent
 * passes its last snapshot as `reuse` and only the IPAM keys are read again — the nodes, pools and BGP
 * resources, unchanged, are not read and decoded once more on that path.
 */
import type { Client } from '../datastore/client.js';
import { resourcePrefix } from '../datastore/keys.js';
import type { KVPair, ReadReq } from '../datastore/kv.js';
import { decodeBlock } from '../ipam/block.js';
import { AFFINITY_PREFIXES, IpamStore, blockPrefix, type AffinityState } from '../ipam/store.js';
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

/** Block views (and host affinity states) by key, each with the revision it was decoded at. */
export class BlockViews {
  private byKey = new Map<string, { revision: string; view: BlockView }>();
  /** `<host>|<cidr>` and state of each host affinity; null for another owner type or a key that is not one. */
  private affinities = new Map<string, { revision: string; hostCidr: string | null; state: AffinityState }>();

  /**
   * The state of every host affinity among `pairs` (affinity prefixes), by `<host>|<cidr>`, decoding (through
   * `store`, which throws for an unreadable one) only those new or changed since the last call; the others
   * are forgotten.
   */
  affinityStates(store: IpamStore, pairs: readonly KVPair[]): Map<string, AffinityState> {
    const next = new Map<string, { revision: string; hostCidr: string | null; state: AffinityState }>();
    const out = new Map<string, AffinityState>();
    for (const p of pairs) {
      let e = this.affinities.get(p.key);
      if (e?.revision !== p.revision) {
        const a = store.affinitiesFrom([p])[0]?.value;
        if (!a) continue; // not an affinity key
        e = { revision: p.revision, hostCidr: a.owner.type === 'host' ? `${a.owner.name}|${a.cidr.toString()}` : null, state: a.state };
      }
      next.set(p.key, e);
      if (e.hostCidr !== null) out.set(e.hostCidr, e.state);
    }
    this.affinities = next;
    return out;
  }

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

/** What a `reuse` re-read reads: the IPAM blocks and the block affinities. */
const IPAM_PREFIXES: readonly string[] = [blockPrefix(), ...AFFINITY_PREFIXES];

export async function readSnapshot(client: Client, store: IpamStore = new IpamStore(client.kv), views: BlockViews = new BlockViews(), reuse?: Snapshot): Promise<Snapshot> {
  // One read of everything (readMany: one SQLite transaction, one etcd request), so the snapshot is of one
  // revision: eight separate lists were eight transactions on the path between a pod's new block and its UPDATE,
  // and a write landing between two of them could pair a block with an affinity of another moment.
  const ipamReqs: ReadReq[] = IPAM_PREFIXES.map((prefix) => ({ prefix }));
  const reqs: ReadReq[] = reuse ? ipamReqs : [...SNAPSHOT_KINDS.map((k) => ({ prefix: resourcePrefix(k) })), ...ipamReqs];
  const { results } = await client.kv.readMany(reqs);
  const ipam = results.slice(reuse ? 0 : SNAPSHOT_KINDS.length);
  const blocks = store.blockPairsFrom(ipam[0]!);
  const state = views.affinityStates(store, ipam.slice(1).flat());
  const infos: BlockInfo[] = views.of(blocks).map((v) => {
    const info: BlockInfo = { cidr: v.cidr, allocations: v.allocations };
    if (v.host) {
      info.affinityHost = v.host;
      const st = state.get(`${v.host}|${v.cidr}`);
      if (st) info.affinityState = st;
    }
    return info;
  });
  if (reuse) return { ...reuse, blocks: infos };
  const [nodes, bgpConfigurations, bgpPeers, bgpFilters, ipPools, felixConfigurations] = SNAPSHOT_KINDS.map((k, i) => client.store.fromPairs(k, results[i]!));
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

/** Whether a datastore key is an IPAM block or block affinity (what `readSnapshot`'s `reuse` re-reads). */
export function isIpamKey(key: string): boolean {
  return IPAM_PREFIXES.some((p) => key.startsWith(p));
}

/** Whether two snapshots' blocks say the same to routing: CIDR, affinity host and state, other nodes' addresses. */
export function sameBlocks(a: readonly BlockInfo[], b: readonly BlockInfo[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.cidr !== y.cidr || x.affinityHost !== y.affinityHost || x.affinityState !== y.affinityState) return false;
    if (x.allocations === y.allocations) continue;
    if (x.allocations.length !== y.allocations.length) return false;
    for (let j = 0; j < x.allocations.length; j++) {
      if (x.allocations[j]!.ip !== y.allocations[j]!.ip || x.allocations[j]!.node !== y.allocations[j]!.node) return false;
    }
  }
  return true;
}
