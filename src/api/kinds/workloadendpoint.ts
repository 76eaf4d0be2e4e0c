/**
 * WorkloadEndpoint (libcalico-go/lib/apis/internalapi/workloadendpoint.go — an internal type with
 * no CRD, so no CRD defaults, constraints or CEL; clientv3/workloadendpoint.go; names/
 * workloadendpoint.go; validator.go validateWorkloadEndpointSpec, validateIPNAT,
 * validateWorkloadEndpointPort). Namespaced.
 *
 * clientv3 first derives the name from the spec — `<node>-<orchestrator>-<id>-<endpoint>` with
 * `-` doubled inside each part, where id is the pod (k8s), the containerID (cni), the
 * orchestrator again (libnetwork) or the workload — assigning it when metadata.name is empty and
 * refusing a different one. After validation it adds the labels
 * `projectcalico.org/namespace` and `projectcalico.org/orchestrator` (not validated).
 *
 * Go would panic (nil pointer) on some invalid inputs — an ipNetwork that is not a CIDR, a bad
 * gateway, a NAT with a bad internalIP — right after reporting the field error; tortie reports
 * the field errors and carries on.
 */
import { MAC, Prefix } from '../../net/index.js';
import type { ErroredField } from '../errors.js';
import { goStringLess } from '../schema/canonical.js';
import type { Resource } from '../meta.js';
import { f, int, list, opt, optPtr, str, struct } from '../schema/types.js';
import { Report, isIPv4, isIPv6, isName } from '../validate/checks.js';
import { resourceStruct } from './common.js';
import type { KindDef } from './def.js';
import { protocolSupportsPorts, uint8OrString, type NumOrStr } from './numorstring.js';
import { checkProtocol, isCidrTag, isIPTag, isInterfaceTag, isNetTag, isPortName } from './policy-common.js';

const ipNAT = struct('IPNAT', [f('internalIP', str(), 'InternalIP'), f('externalIP', str(), 'ExternalIP')]);

const workloadEndpointPort = struct('WorkloadEndpointPort', [
  f('name', str(), 'Name'),
  f('protocol', uint8OrString, 'Protocol'),
  f('port', int('uint16'), 'Port'),
  f('hostPort', int('uint16'), 'HostPort'),
  f('hostIP', str(), 'HostIP'),
]);

const qosControls = struct('QoSControls', [
  ...['ingressBandwidth', 'ingressBurst', 'ingressPeakrate', 'ingressMinburst', 'egressBandwidth', 'egressBurst', 'egressPeakrate', 'egressMinburst']
    .concat(['ingressPacketRate', 'ingressPacketBurst', 'egressPacketRate', 'egressPacketBurst', 'ingressMaxConnections', 'egressMaxConnections'])
    .map((n) => opt(n, int('int64'))),
  optPtr('dscp', uint8OrString, 'DSCP'),
]);

export const workloadEndpointSpec = struct('WorkloadEndpointSpec', [
  opt('orchestrator', str()),
  opt('workload', str()),
  opt('node', str()),
  opt('containerID', str(), 'ContainerID'),
  opt('pod', str()),
  opt('endpoint', str()),
  opt('serviceAccountName', str()),
  opt('ipNetworks', list(str()), 'IPNetworks'),
  opt('ipNATs', list(ipNAT, { go: '[]internalapi.IPNAT' }), 'IPNATs'),
  opt('ipv4Gateway', str(), 'IPv4Gateway'),
  opt('ipv6Gateway', str(), 'IPv6Gateway'),
  opt('profiles', list(str())),
  opt('interfaceName', str()),
  opt('mac', str(), 'MAC'),
  opt('ports', list(workloadEndpointPort, { go: '[]internalapi.WorkloadEndpointPort' })),
  opt('allowSpoofedSourcePrefixes', list(str())),
  optPtr('qosControls', qosControls, 'QoSControls'),
]);

interface PortV {
  name?: string;
  protocol?: NumOrStr;
  port?: number;
  hostPort?: number;
  hostIP?: string;
}
interface Spec {
  orchestrator?: string;
  workload?: string;
  node?: string;
  containerID?: string;
  pod?: string;
  endpoint?: string;
  serviceAccountName?: string;
  ipNetworks?: string[];
  ipNATs?: { internalIP?: string; externalIP?: string }[];
  ipv4Gateway?: string;
  ipv6Gateway?: string;
  profiles?: string[];
  interfaceName?: string;
  mac?: string;
  ports?: PortV[];
  allowSpoofedSourcePrefixes?: string[];
}

/** names.CalculateWorkloadEndpointName(false), or Calico's error. */
export function workloadEndpointName(s: Spec): { name: string } | { error: ErroredField } {
  const seg = (value: string | undefined, field: string) => ({ value: value ?? '', field });
  const node = seg(s.node, 'node');
  if (!node.value) return { error: { name: 'node', reason: 'field should be assigned' } };
  const orch = seg(s.orchestrator, 'orchestrator');
  const id =
    orch.value === 'k8s' ? seg(s.pod, 'pod') : orch.value === 'cni' ? seg(s.containerID, 'containerID') : orch.value === 'libnetwork' ? orch : seg(s.workload, 'workload');
  const parts: string[] = [];
  for (const { value, field } of [node, orch, id, seg(s.endpoint, 'endpoint')]) {
    if (!value) return { error: { name: field, value, reason: 'field should be assigned' } };
    if (value.startsWith('-')) return { error: { name: field, value, reason: "field must not begin with a '-'" } };
    if (value.endsWith('-')) return { error: { name: field, value, reason: "field must not end with a '-'" } };
    parts.push(value.replaceAll('-', '--'));
  }
  return { name: parts.join('-') };
}

function prepare(r: Resource): ErroredField[] {
  const s = (r.spec ??= {}) as Spec;
  for (const p of s.ports ?? []) p.protocol ??= 0;
  const expected = workloadEndpointName(s);
  if ('error' in expected) return [expected.error];
  if (!r.metadata.name) r.metadata.name = expected.name;
  else if (r.metadata.name !== expected.name) {
    return [
      {
        name: 'Name',
        value: r.metadata.name,
        reason: `the WorkloadEndpoint name does not match the primary identifiers assigned in the Spec: expected name ${expected.name}`,
      },
    ];
  }
  return [];
}

const CONTAINER_ID = /^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/;

function cidrOrIP(s: string) {
  if (s === '') return { ip: undefined, prefix: undefined };
  try {
    return Prefix.parseCIDROrIP(s);
  } catch {
    return undefined;
  }
}

function structChecks(r: Resource): ErroredField[] {
  const s = (r.spec ?? {}) as Spec;
  const rep = new Report();
  const nameTag = (go: string, v: string | undefined) => v && !isName(v) && rep.tag(go, v, 'name');
  nameTag('Orchestrator', s.orchestrator);
  nameTag('Workload', s.workload);
  nameTag('Node', s.node);
  if (s.containerID && !CONTAINER_ID.test(s.containerID)) rep.tag('ContainerID', s.containerID, 'containerID');
  nameTag('Pod', s.pod);
  nameTag('Endpoint', s.endpoint);
  nameTag('ServiceAccountName', s.serviceAccountName);
  (s.ipNetworks ?? []).forEach((n, i) => isNetTag(n) || rep.tag(`IPNetworks[${i}]`, n, 'net'));
  for (const nat of s.ipNATs ?? []) {
    const internal = nat.internalIP ?? '';
    const external = nat.externalIP ?? '';
    if (internal && !isIPTag(internal)) rep.tag('InternalIP', internal, 'ip');
    if (external && !isIPTag(external)) rep.tag('ExternalIP', external, 'ip');
    // validateIPNAT (Go reports both parse failures as InternalIP, with the external value).
    const iip = cidrOrIP(internal);
    const eip = cidrOrIP(external);
    if (!iip) rep.field('InternalIP', external, 'invalid IP address');
    if (!eip) rep.field('InternalIP', external, 'invalid IP address');
    if (iip && eip && (iip.ip?.version ?? 0) !== (eip.ip?.version ?? 0)) rep.field('ExternalIP', external, 'mismatched IP versions');
  }
  if (s.ipv4Gateway && !isIPv4(s.ipv4Gateway)) rep.tag('IPv4Gateway', s.ipv4Gateway, 'ipv4');
  if (s.ipv6Gateway && !isIPv6(s.ipv6Gateway)) rep.tag('IPv6Gateway', s.ipv6Gateway, 'ipv6');
  (s.profiles ?? []).forEach((p, i) => isName(p) || rep.tag(`Profiles[${i}]`, p, 'name'));
  if (!isInterfaceTag(s.interfaceName ?? '')) rep.tag('InterfaceName', s.interfaceName ?? '', 'interface');
  if (s.mac && !MAC.tryParse(s.mac)) rep.tag('MAC', s.mac, 'mac');
  for (const p of s.ports ?? []) {
    const name = p.name ?? '';
    if (name && !isPortName(name)) rep.tag('Name', name, 'portName');
    const proto = p.protocol ?? 0;
    checkProtocol(proto, rep);
    if (!p.port) rep.tag('Port', p.port ?? 0, 'gt');
    if (p.hostIP && !isNetTag(p.hostIP)) rep.tag('HostIP', p.hostIP, 'net');
    if (!protocolSupportsPorts(proto)) rep.field('WorkloadEndpointPort.Protocol', proto, 'WorkloadEndpointPort protocol does not support ports.');
    if (!name && !p.hostPort) rep.field('WorkloadEndpointPort.Name', '', 'WorkloadEndpointPort name must not be empty if no HostPort is specified');
  }
  (s.allowSpoofedSourcePrefixes ?? []).forEach((c, i) => isCidrTag(c) || rep.tag(`AllowSpoofedSourcePrefixes[${i}]`, c, 'cidr'));
  validateSpec(s, rep);
  return rep.fields;
}

/** validateWorkloadEndpointSpec. */
function validateSpec(s: Spec, rep: Report): void {
  const networks = s.ipNetworks ?? [];
  for (const n of networks) {
    const p = cidrOrIP(n);
    if (!p) rep.field('IPNetworks', n, 'invalid CIDR');
    else if (p.prefix && p.prefix.length !== p.prefix.bits) rep.field('IPNetworks', networks, 'IP network contains multiple addresses');
  }
  const v4 = cidrOrIP(s.ipv4Gateway ?? '');
  if (!v4) rep.field('IPv4Gateway', s.ipv4Gateway, 'invalid CIDR');
  const v6 = cidrOrIP(s.ipv6Gateway ?? '');
  if (!v6) rep.field('IPv6Gateway', s.ipv6Gateway, 'invalid CIDR');
  if (v4?.prefix && v4.prefix.version !== 4) rep.field('IPv4Gateway', s.ipv4Gateway, 'invalid IPv4 gateway address specified');
  if (v6?.prefix && v6.prefix.version !== 6) rep.field('IPv6Gateway', s.ipv6Gateway, 'invalid IPv6 gateway address specified');
  const nats = s.ipNATs ?? [];
  if (nats.length === 0) return;
  let valid = false;
  for (const nat of nats) {
    const natCidr = cidrOrIP(nat.internalIP ?? '');
    if (!natCidr) rep.field('IPNATs', nat.internalIP, 'invalid InternalIP CIDR');
    valid = false;
    for (const c of networks) {
      const nw = cidrOrIP(c);
      if (!nw) rep.field('IPNetworks', c, 'invalid CIDR');
      if (nw?.prefix && natCidr?.ip && nw.prefix.contains(natCidr.ip)) {
        valid = true;
        break;
      }
    }
    if (!valid) break;
  }
  // Go's value is the []IPNAT dump, `[{internal external}]`.
  if (!valid) rep.field('IPNATs', `[${nats.map((n) => `{${n.internalIP ?? ''} ${n.externalIP ?? ''}}`).join(' ')}]`, 'NAT is not in the endpoint networks');
}

/** updateLabelsForStorage: runs after validation, so these labels are never validated. */
function post(r: Resource): ErroredField[] {
  const labels: Record<string, string> = { ...r.metadata.labels };
  labels['projectcalico.org/namespace'] = r.metadata.namespace ?? '';
  labels['projectcalico.org/orchestrator'] = (r.spec as Spec | undefined)?.orchestrator ?? '';
  r.metadata.labels = Object.fromEntries(Object.entries(labels).sort(([a], [b]) => goStringLess(a, b)));
  return [];
}

export const WorkloadEndpointDef: KindDef = {
  kind: 'WorkloadEndpoint',
  schema: resourceStruct('WorkloadEndpoint', workloadEndpointSpec),
  prepare,
  structChecks,
  post,
};
