/**
 * BGPPeer (api/pkg/apis/projectcalico/v3/bgppeer.go; clientv3/bgppeer.go; validator.go
 * validateBGPPeerSpec). clientv3 first checks that every named BGPFilter exists; then the
 * struct validator (Go field names: `Node`, `PeerIP`, …) and the CRD's CEL rules, which
 * repeat several of the same checks in their own words — calicoctl v3.32 prints both.
 */
import { IP, parseIPPort } from '../../net/index.js';
import type { ErroredField } from '../errors.js';
import type { Resource } from '../meta.js';
import { Report, isIPPort, isName } from '../validate/checks.js';
import { asn, bool, duration, int, list, opt, optPtr, str, struct } from '../schema/types.js';
import { resourceStruct } from './common.js';
import type { ClientContext, KindDef } from './def.js';
import { bgpPassword } from './secret.js';

export const bgpPeerSpec = struct('BGPPeerSpec', [
  opt('node', str({ maxLength: 253 })),
  opt('nodeSelector', str({ maxLength: 4096 })),
  opt('peerIP', str({ maxLength: 64 }), 'PeerIP'),
  opt('asNumber', asn(), 'ASNumber'),
  optPtr('localASNumber', asn(), 'LocalASNumber'),
  opt('peerSelector', str({ maxLength: 4096 })),
  opt('keepOriginalNextHop', bool()),
  optPtr('nextHopMode', str({ go: 'v3.NextHopMode', enum: ['Auto', 'Self', 'Keep'] })),
  optPtr('password', bgpPassword),
  opt('sourceAddress', str({ go: 'v3.SourceAddress', enum: ['UseNodeIP', 'None'] })),
  optPtr('maxRestartTime', duration()),
  optPtr('keepaliveTime', duration()),
  optPtr('numAllowedLocalASNumbers', int('int32')),
  optPtr('ttlSecurity', int('uint8'), 'TTLSecurity'),
  opt('reachableBy', str()),
  opt('filters', list(str())),
  opt('localWorkloadSelector', str({ maxLength: 4096 })),
  // The enum is on both the type and the field, so controller-gen wrote an allOf of the two.
  optPtr('reversePeering', str({ go: 'v3.ReversePeering', allOf: [{ enum: ['Auto', 'Manual'] }, { enum: ['Auto', 'Manual'] }] })),
]);

type Spec = {
  node?: string;
  nodeSelector?: string;
  peerIP?: string;
  asNumber?: number;
  peerSelector?: string;
  keepOriginalNextHop?: boolean;
  nextHopMode?: string;
  sourceAddress?: string;
  reachableBy?: string;
  filters?: string[];
  localWorkloadSelector?: string;
};

async function prepare(r: Resource, _op: unknown, _old: unknown, ctx: ClientContext): Promise<ErroredField[]> {
  const filters = (r.spec as Spec | undefined)?.filters ?? [];
  if (filters.length === 0) return [];
  const have = new Set((await ctx.list('BGPFilter')).map((x) => x.metadata.name));
  const missing = filters.filter((x) => !have.has(x));
  return missing.length ? [{ name: 'BGPPeer.Spec.Filters', value: missing, reason: 'BGPFilter(s) not found' }] : [];
}

/** validator.go validateReachableBy. */
function reachableByProblem(reachableBy: string, peerIP: string): string | undefined {
  if (!reachableBy) return undefined;
  if (!peerIP) return 'ReachablyBy field must be empty when PeerIP is empty';
  const gw = IP.tryParse(reachableBy);
  if (!gw) return 'ReachableBy is invalid address';
  let peer: IP;
  try {
    peer = parseIPPort(peerIP).ip;
  } catch {
    return 'PeerIP is invalid address';
  }
  if (gw.version !== peer.version) return 'ReachableBy and PeerIP address family mismatched';
  return undefined;
}

function structChecks(r: Resource): ErroredField[] {
  const s = (r.spec ?? {}) as Spec;
  const rep = new Report();
  if (s.node && !isName(s.node)) rep.tag('Node', s.node, 'name');
  rep.selector('NodeSelector', s.nodeSelector);
  if (s.peerIP && !isIPPort(s.peerIP)) rep.tag('PeerIP', s.peerIP, 'IP:port');
  rep.selector('PeerSelector', s.peerSelector);
  if (s.sourceAddress && !['UseNodeIP', 'None'].includes(s.sourceAddress)) rep.tag('SourceAddress', s.sourceAddress, 'sourceAddress');
  if (s.reachableBy && !IP.tryParse(s.reachableBy)) rep.tag('ReachableBy', s.reachableBy, 'reachableBy');
  for (const [i, name] of (s.filters ?? []).entries()) if (!isName(name)) rep.tag(`Filters[${i}]`, name, 'name');
  rep.selector('LocalWorkloadSelector', s.localWorkloadSelector);
  // validateBGPPeerSpec
  if (s.node && s.nodeSelector) rep.field('Node', s.node, 'Node field must be empty when NodeSelector is specified');
  if (s.peerIP && s.peerSelector) rep.field('PeerIP', s.peerIP, 'PeerIP field must be empty when PeerSelector is specified');
  if (s.asNumber && s.peerSelector) rep.field('ASNumber', s.asNumber, 'ASNumber field must be empty when PeerSelector is specified');
  if (!s.asNumber && s.localWorkloadSelector) rep.field('ASNumber', s.asNumber ?? 0, 'ASNumber field must NOT be empty when LocalWorkloadSelector is specified');
  if (s.peerIP && s.localWorkloadSelector) rep.field('PeerIP', s.peerIP, 'PeerIP field must be empty when LocalWorkloadSelector is specified');
  if (s.peerSelector && s.localWorkloadSelector) rep.field('PeerSelector', s.peerIP ?? '', 'PeerSelector field must be empty when LocalWorkloadSelector is specified');
  const rb = reachableByProblem(s.reachableBy ?? '', s.peerIP ?? '');
  if (rb) rep.field('ReachableBy', s.reachableBy, rb);
  if (s.keepOriginalNextHop && s.nextHopMode !== undefined) {
    rep.field('KeepOriginalNextHop', s.peerIP ?? '', 'The KeepOriginalNextHop field is deprecated. It must not be set to true when NextHopMode is configured.');
  }
  return rep.fields;
}

const empty = (v: unknown) => v === undefined || v === null || v === '' || v === 0;

export const BGPPeerDef: KindDef = {
  kind: 'BGPPeer',
  schema: resourceStruct('BGPPeer', bgpPeerSpec),
  prepare,
  structChecks,
  cel: [
    { path: 'spec', message: 'node and nodeSelector cannot both be set', valid: (s) => empty(s.node) || empty(s.nodeSelector) },
    { path: 'spec', message: 'peerIP and peerSelector cannot both be set', valid: (s) => empty(s.peerIP) || empty(s.peerSelector) },
    { path: 'spec', message: 'asNumber must be empty when peerSelector is set', valid: (s) => empty(s.peerSelector) || empty(s.asNumber) },
    { path: 'spec', message: 'peerIP must be empty when localWorkloadSelector is set', valid: (s) => empty(s.localWorkloadSelector) || empty(s.peerIP) },
    {
      path: 'spec',
      message: 'peerSelector must be empty when localWorkloadSelector is set',
      valid: (s) => empty(s.localWorkloadSelector) || empty(s.peerSelector),
    },
    { path: 'spec', message: 'asNumber is required when localWorkloadSelector is set', valid: (s) => empty(s.localWorkloadSelector) || !empty(s.asNumber) },
  ],
};
