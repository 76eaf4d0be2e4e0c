/**
 * BGPConfiguration (api/pkg/apis/projectcalico/v3/bgpconfig.go; clientv3/bgpconfig.go;
 * validator.go validateBGPConfigurationSpec).
 *
 * Order of checks, as calicoctl v3.32 runs them in etcd mode:
 *  1. go-playground field tags (`logLevel`, `net` on service CIDRs, `required,name` on
 *     communities, `ignoredInterface`, `ipv4`/`ipv6`, route-priority ranges);
 *  2. validateBGPConfigurationSpec: community values (16-bit `aa:nn`, 32-bit `aa:nn:mm`),
 *     communities without prefixAdvertisements, prefixAdvertisement CIDRs and community
 *     references, nodeMeshPassword / nodeMeshMaxRestartTime with the mesh disabled;
 *  3. the CRD: defaults (`logSeverityScreen: Info`, `serviceLoadBalancerAggregation: Enabled`),
 *     enums and ranges, and two CEL rules that repeat step 2's mesh checks in their own words —
 *     so a password with the mesh off is reported twice, Go's wording first;
 *  4. clientv3 ValidateDefaultOnlyFields: fields only the `default` object may set.
 *
 * Not reproduced (the framework's CRD layer has no way to express them): the CRD pattern
 * `^(?i)(Trace|Debug|Info|Warning|Error|Fatal)?$` on logSeverityScreen (a JS RegExp cannot take
 * an inline `(?i)`; the case-sensitive `logLevel` tag already rejects every value it would) and
 * `format: cidr` on the service and prefix CIDRs (a bare IP passes the `net` tag but fails it).
 */
import type { ErroredField } from '../errors.js';
import type { Resource } from '../meta.js';
import { Report, isIPv4, isIPv6, isIgnoredInterface, isLogLevel, isMaskedNet, isName } from '../validate/checks.js';
import { asn, bool, duration, f, int, list, opt, optPtr, str, struct } from '../schema/types.js';
import { Prefix } from '../../net/index.js';
import { resourceStruct } from './common.js';
import type { KindDef } from './def.js';
import { bgpPassword } from './secret.js';

const cidrBlock = (go: string) => struct(go, [opt('cidr', str({ format: 'cidr' }), 'CIDR')]);

const community = struct('Community', [
  opt('name', str()),
  opt('value', str({ pattern: '^(\\d+):(\\d+)$|^(\\d+):(\\d+):(\\d+)$' })),
]);

const prefixAdvertisement = struct('PrefixAdvertisement', [opt('cidr', str({ format: 'cidr' }), 'CIDR'), opt('communities', list(str()))]);

const ROUTE_PRIORITY = { minimum: 1, maximum: 2147483646 };

export const bgpConfigurationSpec = struct('BGPConfigurationSpec', [
  opt('logSeverityScreen', str({ default: 'Info', pattern: '^(?i)(Trace|Debug|Info|Warning|Error|Fatal)?$' })),
  optPtr('nodeToNodeMeshEnabled', bool()),
  optPtr('asNumber', asn(), 'ASNumber'),
  opt('serviceLoadBalancerIPs', list(cidrBlock('ServiceLoadBalancerIPBlock'), { go: '[]v3.ServiceLoadBalancerIPBlock' }), 'ServiceLoadBalancerIPs'),
  opt('serviceExternalIPs', list(cidrBlock('ServiceExternalIPBlock'), { go: '[]v3.ServiceExternalIPBlock' }), 'ServiceExternalIPs'),
  opt('serviceClusterIPs', list(cidrBlock('ServiceClusterIPBlock'), { go: '[]v3.ServiceClusterIPBlock' }), 'ServiceClusterIPs'),
  optPtr(
    'serviceLoadBalancerAggregation',
    str({ go: 'v3.ServiceLoadBalancerAggregation', enum: ['Enabled', 'Disabled'], default: 'Enabled' }),
  ),
  opt('communities', list(community, { go: '[]v3.Community' })),
  opt('prefixAdvertisements', list(prefixAdvertisement, { go: '[]v3.PrefixAdvertisement' })),
  opt('listenPort', int('uint16', { minimum: 1, maximum: 65535 })),
  optPtr('nodeMeshPassword', bgpPassword),
  optPtr('nodeMeshMaxRestartTime', duration()),
  optPtr('bindMode', str({ go: 'v3.BindMode', enum: ['None', 'NodeIP'] })),
  opt('ignoredInterfaces', list(str())),
  opt('localWorkloadPeeringIPV4', str(), 'LocalWorkloadPeeringIPV4'),
  opt('localWorkloadPeeringIPV6', str(), 'LocalWorkloadPeeringIPV6'),
  optPtr('programClusterRoutes', str({ enum: ['Enabled', 'Disabled'] })),
  optPtr('ipv4NormalRoutePriority', int('int', ROUTE_PRIORITY), 'IPv4NormalRoutePriority'),
  optPtr('ipv6NormalRoutePriority', int('int', ROUTE_PRIORITY), 'IPv6NormalRoutePriority'),
]);

type Community = { name?: string; value?: string };
type Spec = {
  logSeverityScreen?: string;
  nodeToNodeMeshEnabled?: boolean | null;
  asNumber?: number | null;
  serviceLoadBalancerIPs?: { cidr?: string }[];
  serviceExternalIPs?: { cidr?: string }[];
  serviceClusterIPs?: { cidr?: string }[];
  communities?: Community[];
  prefixAdvertisements?: { cidr?: string; communities?: string[] }[];
  nodeMeshPassword?: unknown;
  nodeMeshMaxRestartTime?: unknown;
  ignoredInterfaces?: string[];
  localWorkloadPeeringIPV4?: string;
  localWorkloadPeeringIPV6?: string;
  ipv4NormalRoutePriority?: number | null;
  ipv6NormalRoutePriority?: number | null;
};

const isSet = (v: unknown) => v !== undefined && v !== null;

/** Go's `%v` of []Community: `[{name value} {name value}]`. */
const communitiesDump = (cs: Community[]) => `[${cs.map((c) => `{${c.name ?? ''} ${c.value ?? ''}}`).join(' ')}]`;

/**
 * validator.go isValidCommunity + validateCommunityValue: `aa:nn` needs 16-bit parts, `aa:nn:mm`
 * 32-bit parts (one error per part that does not fit); anything else is not a community value.
 */
function isValidCommunity(value: string, fieldName: string, rep: Report): boolean {
  let bits: number;
  if (/^(\d+):(\d+)$/.test(value)) bits = 16;
  else if (/^(\d+):(\d+):(\d+)$/.test(value)) bits = 32;
  else return false;
  const max = bits === 16 ? 0xffffn : 0xffffffffn;
  for (const part of value.match(/\d+/g) ?? []) {
    if (BigInt(part) > max) rep.field(fieldName, value, `invalid community value, expected ${bits} bit value`);
  }
  return true;
}

function priorityTags(rep: Report, goField: string, v: number | null | undefined): void {
  if (v === undefined || v === null) return;
  if (v < 1) rep.tag(goField, v, 'gte');
  else if (v > 2147483646) rep.tag(goField, v, 'lte');
}

function structChecks(r: Resource): ErroredField[] {
  const s = (r.spec ?? {}) as Spec;
  const rep = new Report();
  // Field tags, in declaration order.
  if (s.logSeverityScreen && !isLogLevel(s.logSeverityScreen)) rep.tag('LogSeverityScreen', s.logSeverityScreen, 'logLevel');
  for (const blocks of [s.serviceLoadBalancerIPs, s.serviceExternalIPs, s.serviceClusterIPs]) {
    for (const b of blocks ?? []) if (b.cidr && !isMaskedNet(b.cidr)) rep.tag('CIDR', b.cidr, 'net');
  }
  for (const c of s.communities ?? []) {
    if (!c.name) rep.tag('Name', '', 'required');
    else if (!isName(c.name)) rep.tag('Name', c.name, 'name');
    if (!c.value) rep.tag('Value', '', 'required');
  }
  for (const pa of s.prefixAdvertisements ?? []) {
    if (!pa.cidr) rep.tag('CIDR', '', 'required');
    else if (!isMaskedNet(pa.cidr)) rep.tag('CIDR', pa.cidr, 'net');
    // `required` on a slice only refuses nil: an empty list passes.
    if (pa.communities === undefined || pa.communities === null) rep.tag('Communities', [], 'required');
  }
  (s.ignoredInterfaces ?? []).forEach((name, i) => {
    if (!isIgnoredInterface(name)) rep.tag(`IgnoredInterfaces[${i}]`, name, 'ignoredInterface');
  });
  if (s.localWorkloadPeeringIPV4 && !isIPv4(s.localWorkloadPeeringIPV4)) rep.tag('LocalWorkloadPeeringIPV4', s.localWorkloadPeeringIPV4, 'ipv4');
  if (s.localWorkloadPeeringIPV6 && !isIPv6(s.localWorkloadPeeringIPV6)) rep.tag('LocalWorkloadPeeringIPV6', s.localWorkloadPeeringIPV6, 'ipv6');
  priorityTags(rep, 'IPv4NormalRoutePriority', s.ipv4NormalRoutePriority);
  priorityTags(rep, 'IPv6NormalRoutePriority', s.ipv6NormalRoutePriority);

  // validateBGPConfigurationSpec.
  const communities = s.communities ?? [];
  for (const c of communities) {
    const v = c.value ?? '';
    if (!isValidCommunity(v, 'Spec.Communities[].Value', rep)) rep.field('Spec.Communities[].Value', v, 'invalid community value or format used.');
  }
  if ((s.prefixAdvertisements ?? []).length === 0 && communities.length !== 0) {
    rep.field('Spec.Communities[]', communitiesDump(communities), 'communities are defined but not used in Spec.PrefixAdvertisement[].');
  }
  for (const pa of s.prefixAdvertisements ?? []) {
    const cidr = pa.cidr ?? '';
    let parsed = true;
    try {
      Prefix.parseCIDROrIP(cidr);
    } catch {
      parsed = false;
    }
    if (!parsed) rep.field('Spec.PrefixAdvertisement[].CIDR', cidr, 'invalid CIDR value.');
    for (const v of pa.communities ?? []) {
      if (!isValidCommunity(v, 'Spec.PrefixAdvertisement[].Communities[]', rep) && !communities.some((c) => (c.name ?? '') === v)) {
        rep.field('Spec.PrefixAdvertisement[].Communities[]', v, 'community used is invalid or not defined.');
      }
    }
  }
  // Calico reports the whole spec struct as the value (`%v` with pointers): left out here.
  const meshOff = s.nodeToNodeMeshEnabled === false;
  if (isSet(s.nodeMeshPassword) && meshOff) {
    rep.field('Spec.NodeMeshPassword', undefined, 'spec.NodeMeshPassword cannot be set if spec.NodeToNodeMesh is disabled');
  }
  if (isSet(s.nodeMeshMaxRestartTime) && meshOff) {
    rep.field('Spec.NodeMeshMaxRestartTime', undefined, 'spec.NodeMeshMaxRestartTime cannot be set if spec.NodeToNodeMesh is disabled');
  }
  return rep.fields;
}

/** clientv3 ValidateDefaultOnlyFields: the global-only settings, refused on `node.<x>` objects. */
function post(r: Resource): ErroredField[] {
  if (r.metadata.name === 'default') return [];
  const s = (r.spec ?? {}) as Spec;
  const errs: ErroredField[] = [];
  const refuse = (field: string, json: string) =>
    errs.push({ name: `BGPConfiguration.Spec.${field}`, reason: `Cannot set ${json} on a non default BGP Configuration.` });
  if (isSet(s.nodeToNodeMeshEnabled)) refuse('NodeToNodeMeshEnabled', 'nodeToNodeMeshEnabled');
  if (isSet(s.asNumber)) refuse('ASNumber', 'ASNumber');
  if ((s.serviceLoadBalancerIPs ?? []).length > 0) refuse('ServiceLoadBalancerIPs', 'ServiceLoadBalancerIPs');
  if ((s.serviceExternalIPs ?? []).length > 0) refuse('ServiceExternalIPs', 'ServiceExternalIPs');
  if ((s.serviceClusterIPs ?? []).length > 0) refuse('ServiceClusterIPs', 'ServiceClusterIPs');
  if (isSet(s.nodeMeshPassword)) refuse('NodeMeshPassword', 'nodeMeshPassword');
  if (isSet(s.nodeMeshMaxRestartTime)) refuse('NodeMeshMaxRestartTime', 'nodeMeshMaxRestartTime');
  return errs;
}

/** CEL `has(x) && x == false`: the mesh is explicitly off. */
const meshExplicitlyOff = (s: Record<string, unknown>) => s.nodeToNodeMeshEnabled === false;

export const BGPConfigurationDef: KindDef = {
  kind: 'BGPConfiguration',
  schema: resourceStruct('BGPConfiguration', bgpConfigurationSpec),
  structChecks,
  cel: [
    {
      path: 'spec',
      message: 'nodeMeshPassword cannot be set when nodeToNodeMeshEnabled is false',
      valid: (s) => !isSet(s.nodeMeshPassword) || !meshExplicitlyOff(s),
    },
    {
      path: 'spec',
      message: 'nodeMeshMaxRestartTime cannot be set when nodeToNodeMeshEnabled is false',
      valid: (s) => !isSet(s.nodeMeshMaxRestartTime) || !meshExplicitlyOff(s),
    },
  ],
  post,
};
