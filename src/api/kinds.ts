/**
 * The projectcalico.org/v3 kinds tortie knows: their names, plurals (the etcd key segment),
 * the aliases calicoctl accepts on the command line, and their scope.
 *
 * Per-kind schemas, defaults, validation and table columns hang off these names elsewhere
 * (`schemas/`, `../cli/columns.ts`); this table is the one place that says what a kind *is*.
 */

export const KINDS = [
  'BGPConfiguration',
  'BGPPeer',
  'BGPFilter',
  'IPPool',
  'IPReservation',
  'IPAMConfiguration',
  'Node',
  'FelixConfiguration',
  'HostEndpoint',
  'WorkloadEndpoint',
  'NetworkPolicy',
  'GlobalNetworkPolicy',
  'CalicoNodeStatus',
  'ClusterInformation',
] as const;

export type KindName = (typeof KINDS)[number];

export interface KindInfo {
  kind: KindName;
  listKind: string;
  /** Lower-case plural: the key segment in `/calico/resources/v3/projectcalico.org/<plural>/…`. */
  plural: string;
  /** Names accepted for `<KIND>` on the command line, case-insensitively (calicoctl's resourcemgr). */
  aliases: readonly string[];
  namespaced: boolean;
  /** Users may read but not write it (ClusterInformation). */
  readOnly?: boolean;
  /** Only this name is allowed (IPAMConfiguration, ClusterInformation: `default`). */
  singleton?: string;
}

const info = (
  kind: KindName,
  plural: string,
  aliases: string[],
  extra: Partial<Pick<KindInfo, 'namespaced' | 'readOnly' | 'singleton'>> = {},
): KindInfo => ({ kind, listKind: `${kind}List`, plural, aliases, namespaced: false, ...extra });

export const KIND_INFO: Readonly<Record<KindName, KindInfo>> = {
  BGPConfiguration: info('BGPConfiguration', 'bgpconfigurations', ['bgpconfiguration', 'bgpconfigurations', 'bgpconfig', 'bgpconfigs']),
  BGPPeer: info('BGPPeer', 'bgppeers', ['bgppeer', 'bgppeers', 'bgpp', 'bgpps', 'bp', 'bps']),
  BGPFilter: info('BGPFilter', 'bgpfilters', ['bgpfilter', 'bgpfilters', 'bgpf', 'bgpfs', 'bf', 'bfs']),
  IPPool: info('IPPool', 'ippools', ['ippool', 'ippools', 'ipp', 'ipps', 'pool', 'pools']),
  IPReservation: info('IPReservation', 'ipreservations', ['ipreservation', 'ipreservations', 'reservation', 'reservations']),
  IPAMConfiguration: info('IPAMConfiguration', 'ipamconfigurations', ['ipamconfiguration', 'ipamconfigurations', 'ipamconfig', 'ipamconfigs'], {
    singleton: 'default',
  }),
  Node: info('Node', 'nodes', ['node', 'nodes', 'no', 'nos']),
  FelixConfiguration: info('FelixConfiguration', 'felixconfigurations', ['felixconfiguration', 'felixconfigurations', 'felixconfig', 'felixconfigs']),
  HostEndpoint: info('HostEndpoint', 'hostendpoints', ['hostendpoint', 'hostendpoints', 'hep', 'heps']),
  WorkloadEndpoint: info('WorkloadEndpoint', 'workloadendpoints', ['workloadendpoint', 'workloadendpoints', 'wep', 'weps'], { namespaced: true }),
  NetworkPolicy: info('NetworkPolicy', 'networkpolicies', ['networkpolicy', 'networkpolicies', 'policy', 'np', 'policies', 'pol', 'pols'], {
    namespaced: true,
  }),
  GlobalNetworkPolicy: info('GlobalNetworkPolicy', 'globalnetworkpolicies', ['globalnetworkpolicy', 'globalnetworkpolicies', 'gnp', 'gnps']),
  CalicoNodeStatus: info('CalicoNodeStatus', 'caliconodestatuses', ['caliconodestatus', 'caliconodestatuses', 'nodestatus', 'nodestatuses']),
  ClusterInformation: info('ClusterInformation', 'clusterinformations', ['clusterinformation', 'clusterinformations', 'clusterinfo', 'clusterinfos'], {
    readOnly: true,
    singleton: 'default',
  }),
};

export function isKindName(k: string): k is KindName {
  return Object.prototype.hasOwnProperty.call(KIND_INFO, k);
}

/** `<KIND>` as typed on the command line → kind, or undefined (`resource type 'x' is not supported`). */
export function kindFromAlias(alias: string): KindName | undefined {
  const a = alias.toLowerCase();
  for (const k of KINDS) if (KIND_INFO[k].aliases.includes(a)) return k;
  return undefined;
}

/** `IPPoolList` → `IPPool`. */
export function kindFromListKind(listKind: string): KindName | undefined {
  for (const k of KINDS) if (KIND_INFO[k].listKind === listKind) return k;
  return undefined;
}
