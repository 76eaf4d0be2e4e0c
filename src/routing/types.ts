/**
 * The routing room's contract: what the agent hands in (resources + IPAM facts about the cluster
 * + this node's name) and what comes out (the BGP speaker's desired configuration, and the kernel
 * state the dataplane must converge to). Everything here is plain data; `plan.ts` computes it
 * with pure functions (calico-compat.md §5, §6). No I/O.
 */
import type { Resource } from '../api/meta.js';
import type { OriginatedRoute, PeerSpec } from '../bgp/speaker.js';

/** One IPAM block as the agent sees it (from `/calico/ipam/v2/assignment/...` and the affinity keys). */
export interface BlockInfo {
  /** `10.244.1.0/26` */
  cidr: string;
  /** The node the block is affine to (`host:<node>`), or undefined for none / virtual owners. */
  affinityHost?: string;
  /** The affinity record's state for that host; undefined when the affinity record is missing (legacy: treat as confirmed). */
  affinityState?: 'confirmed' | 'pending' | 'pendingDeletion';
  /** Addresses allocated in the block and the node that asked for them (allocation attribute `node`), when known. */
  allocations: { ip: string; node?: string }[];
}

export interface RoutingInput {
  /** This node's name (Node resource name). */
  nodeName: string;
  nodes: readonly Resource[];
  bgpConfigurations: readonly Resource[];
  bgpPeers: readonly Resource[];
  bgpFilters: readonly Resource[];
  ipPools: readonly Resource[];
  /** FelixConfiguration resources (`default`, `node.<name>`): vxlanVNI, vxlanPort, MTUs, natOutgoing options. */
  felixConfigurations?: readonly Resource[];
  blocks: readonly BlockInfo[];
  /**
   * BGP passwords: there are no Kubernetes secrets, so a `secretKeyRef {name, key}` resolves to
   * the file `<secretsDir>/<name>/<key>` or the environment variable `TORTIE_SECRET_<NAME>_<KEY>`
   * (upper-cased, non-alphanumerics as `_`). The agent passes a resolver doing exactly that.
   */
  secret?: (ref: { name: string; key: string }) => string | undefined;
  /** CALICO_ROUTER_ID (an IPv4 address or `hash`). */
  routerIdEnv?: string;
}

/** Protocol names as Calico's BIRD config names them: `Mesh_10_0_0_2`, `Node_10_0_0_9_port_1179`, `Global_…`. */
export type PeerType = 'Mesh' | 'Node' | 'Global';

export interface PlannedPeer extends PeerSpec {
  /** Calico's protocol name (also `PeerSpec.name`). */
  name: string;
  type: PeerType;
  /** The remote side's Calico node name when the peer is one of ours. */
  calicoNode?: string;
  /** BGPPeer ttlSecurity hops (GTSM), when set; the speaker may not enforce it yet. */
  ttlSecurity?: number;
  /** BGPPeer reachableBy: the gateway of a static host route to the peer (bird_aggr.cfg), which the dataplane installs. */
  reachableBy?: string;
}

export interface BgpPlan {
  /** False when this node has no IPv4 (and no IPv6) address: BGP is off (`# IPv4 disabled on this node.`). */
  enabled: boolean;
  routerId: string;
  asNumber: number;
  /** `listen bgp [address <nodeIP>] port <p>`: address only with bindMode NodeIP. */
  listen: { address?: string; port: number };
  /** Set when this node is a route reflector. */
  clusterId?: string;
  peers: PlannedPeer[];
  /** Own confirmed blocks, /32s of borrowed addresses, service CIDRs, with prefix-advertisement communities. */
  originated: OriginatedRoute[];
  /** Human-readable warnings (e.g. `node host-a has no BGP peers: …`). */
  warnings: string[];
}

/** A best route the speaker selected (from `Speaker` 'best' events / `routes()`). */
export interface LearnedRoute {
  prefix: string;
  nextHop: string;
  /** The peer it came from; `local` for our own. */
  from: string;
}

/** A route the dataplane owns in the main table (protocol = TORTIE_ROUTE_PROTO). */
export interface KernelRoute {
  /** Canonical CIDR. */
  dst: string;
  type: 'unicast' | 'blackhole';
  /** Next hop (unicast). */
  gateway?: string;
  /** Output device; undefined = let the kernel resolve the gateway. */
  dev?: string;
  onlink?: boolean;
}

export interface VxlanPeer {
  nodeName: string;
  /** The remote VTEP's tunnel address (`ipv4VXLANTunnelAddr`). */
  tunnelIP: string;
  /** The remote VTEP's MAC (explicit or derived: 0x66 + first 5 bytes of SHA-1(nodename)). */
  mac: string;
  /** The remote node's IPv4 address (FDB dst). */
  nodeIP: string;
}

export interface VxlanDevice {
  name: 'vxlan.calico';
  vni: number;
  port: number;
  mac: string;
  /** Our parent-interface IP (`local`). */
  localIP: string;
  /** Our parent interface name. */
  parent: string;
  /** Our tunnel address, as a /32 on the device. */
  address: string;
  mtu: number;
  peers: VxlanPeer[];
}

export interface IpipDevice {
  name: 'tunl0';
  address: string;
  mtu: number;
}

export interface NatPlan {
  /** Pool CIDRs with natOutgoing (source side). */
  masquerade: string[];
  /** Every pool CIDR (destinations that are not masqueraded). */
  pools: string[];
}

export interface DataplanePlan {
  routes: KernelRoute[];
  vxlan?: VxlanDevice;
  ipip?: IpipDevice;
  nat: NatPlan;
}

/** Facts about this host the kernel plan needs (from interface autodetection). */
export interface HostFacts {
  /** The interface carrying the node's IPv4 address (VXLAN parent, direct routes). */
  iface: string;
  /** Host MTU (§6.6). */
  mtu: number;
}
