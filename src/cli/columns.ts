/**
 * Table columns per kind, as calicoctl's resourcemgr defines them (`calicoctl/resourcemgr/*.go`):
 * the default (`ps`) and `wide` headings, and what each cell shows. Cell rules follow the Go
 * templates exactly — e.g. Node's ASN is the node's AS, else the global AS in parentheses;
 * BGPPeer's NODE is the node, else the selector, else `(global)`; IPPool modes print `Never`
 * when unset.
 */
import type { KindName } from '../api/kinds.js';
import type { Resource } from '../api/meta.js';

export interface TableContext {
  /** `{{config "asnumber"}}`: the default BGPConfiguration's AS, `64512` when unset, `unknown` on error. */
  globalAS: string;
}

type Cell = (r: Resource, ctx: TableContext) => string;

interface KindColumns {
  ps: string[];
  wide: string[];
  cells: Record<string, Cell>;
}

const spec = (r: Resource) => (r.spec ?? {}) as Record<string, any>;
const s = (v: unknown): string => (v === undefined || v === null ? '' : String(v));
/** Go template `{{.X}}` of a bool field: `false` when unset. */
const b = (v: unknown): string => (v === true ? 'true' : 'false');
/** Go template of a *bool/*int: `<nil>` when unset. */
const ptr = (v: unknown): string => (v === undefined || v === null ? '<nil>' : String(v));
const join = (v: unknown, sep = ','): string => (Array.isArray(v) ? v.map(s).join(sep) : '');
const name: Cell = (r) => s(r.metadata.name);
const namespace: Cell = (r) => s(r.metadata.namespace);

/**
 * calicoctl's joinAndTruncate (`commands/common/printer.go`): join; when longer than `max`
 * bytes, keep the first `max - 3` and append `...`, so the cell is exactly `max` long.
 */
export function joinAndTruncate(items: unknown, sep: string, max: number): string {
  const out = join(items, sep);
  if (max <= 0) return out;
  const bytes = Buffer.from(out, 'utf8');
  return bytes.length > max ? `${bytes.subarray(0, max - 3).toString('utf8')}...` : out;
}

/** GlobalNetworkPolicy's heading map; NetworkPolicy's adds NAMESPACE (resourcemgr/*networkpolicy.go). */
const globalPolicyCells: Record<string, Cell> = {
  NAME: name,
  ORDER: (r) => (spec(r).order === undefined ? '<nil>' : s(spec(r).order)),
  SELECTOR: (r) => s(spec(r).selector),
  TIER: (r) => s(spec(r).tier),
};
const policyCells: Record<string, Cell> = { ...globalPolicyCells, NAMESPACE: namespace };

export const COLUMNS: Record<KindName, KindColumns> = {
  BGPConfiguration: {
    ps: ['NAME', 'LOGSEVERITY', 'MESHENABLED', 'ASNUMBER'],
    wide: ['NAME', 'LOGSEVERITY', 'MESHENABLED', 'ASNUMBER'],
    cells: {
      NAME: name,
      LOGSEVERITY: (r) => s(spec(r).logSeverityScreen),
      MESHENABLED: (r) => (typeof spec(r).nodeToNodeMeshEnabled === 'boolean' ? String(spec(r).nodeToNodeMeshEnabled) : '-'),
      ASNUMBER: (r) => (spec(r).asNumber !== undefined && spec(r).asNumber !== null ? String(spec(r).asNumber) : '-'),
    },
  },
  BGPPeer: {
    ps: ['NAME', 'PEERIP', 'NODE', 'ASN'],
    wide: ['NAME', 'PEERIP', 'NODE', 'ASN'],
    cells: {
      NAME: name,
      PEERIP: (r) => s(spec(r).peerIP),
      NODE: (r) => s(spec(r).node) || s(spec(r).nodeSelector) || '(global)',
      ASN: (r) => s(spec(r).asNumber ?? 0),
    },
  },
  BGPFilter: {
    ps: ['NAME', 'NUMEXPORTV4', 'NUMIMPORTV4', 'NUMEXPORTV6', 'NUMIMPORTV6'],
    wide: ['NAME', 'NUMEXPORTV4', 'NUMIMPORTV4', 'NUMEXPORTV6', 'NUMIMPORTV6'],
    cells: {
      NAME: name,
      NUMEXPORTV4: (r) => String((spec(r).exportV4 ?? []).length),
      NUMIMPORTV4: (r) => String((spec(r).importV4 ?? []).length),
      NUMEXPORTV6: (r) => String((spec(r).exportV6 ?? []).length),
      NUMIMPORTV6: (r) => String((spec(r).importV6 ?? []).length),
    },
  },
  IPPool: {
    ps: ['NAME', 'CIDR', 'SELECTOR'],
    wide: ['NAME', 'CIDR', 'NAT', 'IPIPMODE', 'VXLANMODE', 'DISABLED', 'DISABLEBGPEXPORT', 'SELECTOR', 'ASSIGNMENTMODE'],
    cells: {
      NAME: name,
      CIDR: (r) => s(spec(r).cidr),
      NAT: (r) => b(spec(r).natOutgoing),
      IPIPMODE: (r) => s(spec(r).ipipMode) || 'Never',
      VXLANMODE: (r) => s(spec(r).vxlanMode) || 'Never',
      DISABLED: (r) => b(spec(r).disabled),
      DISABLEBGPEXPORT: (r) => b(spec(r).disableBGPExport),
      SELECTOR: (r) => s(spec(r).nodeSelector),
      ASSIGNMENTMODE: (r) => ptr(spec(r).assignmentMode),
    },
  },
  IPReservation: {
    ps: ['NAME'],
    wide: ['NAME', 'CIDRS'],
    cells: { NAME: name, CIDRS: (r) => joinAndTruncate(spec(r).reservedCIDRs, ',', 80) },
  },
  IPAMConfiguration: {
    ps: ['NAME', 'STRICTAFFINITY', 'AUTOALLOCATEBLOCKS'],
    wide: ['NAME', 'STRICTAFFINITY', 'AUTOALLOCATEBLOCKS', 'MAXBLOCKSPERHOST'],
    cells: {
      NAME: name,
      STRICTAFFINITY: (r) => b(spec(r).strictAffinity),
      AUTOALLOCATEBLOCKS: (r) => b(spec(r).autoAllocateBlocks),
      MAXBLOCKSPERHOST: (r) => s(spec(r).maxBlocksPerHost ?? 0),
    },
  },
  Node: {
    ps: ['NAME'],
    wide: ['NAME', 'ASN', 'IPV4', 'IPV6'],
    cells: {
      NAME: name,
      ASN: (r, ctx) => {
        const bgp = spec(r).bgp;
        if (!bgp) return '';
        // `{{if .Spec.BGP.ASNumber}}` tests the pointer: an explicit 0 is printed as 0.
        return bgp.asNumber !== undefined && bgp.asNumber !== null ? String(bgp.asNumber) : `(${ctx.globalAS})`;
      },
      IPV4: (r) => s(spec(r).bgp?.ipv4Address),
      IPV6: (r) => s(spec(r).bgp?.ipv6Address),
    },
  },
  FelixConfiguration: { ps: ['NAME'], wide: ['NAME'], cells: { NAME: name } },
  HostEndpoint: {
    ps: ['NAME', 'NODE'],
    wide: ['NAME', 'NODE', 'INTERFACE', 'IPS', 'PROFILES'],
    cells: {
      NAME: name,
      NODE: (r) => s(spec(r).node),
      INTERFACE: (r) => s(spec(r).interfaceName),
      IPS: (r) => join(spec(r).expectedIPs),
      PROFILES: (r) => join(spec(r).profiles),
    },
  },
  WorkloadEndpoint: {
    ps: ['WORKLOAD', 'NODE', 'NETWORKS', 'INTERFACE'],
    wide: ['NAME', 'WORKLOAD', 'NODE', 'NETWORKS', 'INTERFACE', 'PROFILES', 'NATS'],
    cells: {
      NAME: name,
      NAMESPACE: namespace,
      NODE: (r) => s(spec(r).node),
      ORCHESTRATOR: (r) => s(spec(r).orchestrator),
      WORKLOAD: (r) => s(spec(r).workload) || s(spec(r).pod),
      NETWORKS: (r) => join(spec(r).ipNetworks),
      NATS: (r) => join((spec(r).ipNATs ?? []).map((n: { internalIP?: string; externalIP?: string }) => `{${s(n.internalIP)} ${s(n.externalIP)}}`)),
      PROFILES: (r) => join(spec(r).profiles),
      INTERFACE: (r) => s(spec(r).interfaceName),
    },
  },
  NetworkPolicy: { ps: ['NAME', 'TIER'], wide: ['NAME', 'TIER', 'ORDER', 'SELECTOR'], cells: policyCells },
  GlobalNetworkPolicy: { ps: ['NAME', 'TIER'], wide: ['NAME', 'TIER', 'ORDER', 'SELECTOR'], cells: globalPolicyCells },
  CalicoNodeStatus: {
    ps: ['NAME', 'NODE'],
    wide: ['NAME', 'NODE', 'CLASSES'],
    cells: { NAME: name, NODE: (r) => s(spec(r).node), CLASSES: (r) => join(spec(r).classes) },
  },
  ClusterInformation: {
    ps: ['NAME', 'CLUSTERGUID', 'CLUSTERTYPE', 'CALICOVERSION', 'DATASTOREREADY'],
    wide: ['NAME', 'CLUSTERGUID', 'CLUSTERTYPE', 'CALICOVERSION', 'DATASTOREREADY'],
    cells: {
      NAME: name,
      CLUSTERGUID: (r) => s(spec(r).clusterGUID),
      CLUSTERTYPE: (r) => s(spec(r).clusterType),
      CALICOVERSION: (r) => s(spec(r).calicoVersion),
      DATASTOREREADY: (r) => ptr(spec(r).datastoreReady),
    },
  },
};

export function isNamespacedColumns(kind: KindName): boolean {
  return 'NAMESPACE' in COLUMNS[kind].cells;
}
