/** Every kind's definition, by name. */
import type { KindName } from '../kinds.js';
import type { KindDef } from './def.js';
import { BGPPeerDef } from './bgppeer.js';
import { IPPoolDef } from './ippool.js';
import { BGPConfigurationDef } from './bgpconfiguration.js';
import { BGPFilterDef } from './bgpfilter.js';
import { IPReservationDef } from './ipreservation.js';
import { IPAMConfigurationDef } from './ipamconfiguration.js';
import { NodeDef } from './node.js';
import { ClusterInformationDef } from './clusterinformation.js';
import { CalicoNodeStatusDef } from './caliconodestatus.js';
import { FelixConfigurationDef } from './felixconfiguration.js';
import { HostEndpointDef } from './hostendpoint.js';
import { WorkloadEndpointDef } from './workloadendpoint.js';
import { NetworkPolicyDef } from './networkpolicy.js';
import { GlobalNetworkPolicyDef } from './globalnetworkpolicy.js';

export const KIND_DEFS: Record<KindName, KindDef> = {
  IPPool: IPPoolDef,
  BGPPeer: BGPPeerDef,
  BGPConfiguration: BGPConfigurationDef,
  BGPFilter: BGPFilterDef,
  IPReservation: IPReservationDef,
  IPAMConfiguration: IPAMConfigurationDef,
  Node: NodeDef,
  ClusterInformation: ClusterInformationDef,
  CalicoNodeStatus: CalicoNodeStatusDef,
  FelixConfiguration: FelixConfigurationDef,
  HostEndpoint: HostEndpointDef,
  WorkloadEndpoint: WorkloadEndpointDef,
  NetworkPolicy: NetworkPolicyDef,
  GlobalNetworkPolicy: GlobalNetworkPolicyDef,
} as Record<KindName, KindDef>;
