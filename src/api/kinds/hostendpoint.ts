/**
 * HostEndpoint (api/pkg/apis/projectcalico/v3/hostendpoint.go; clientv3/hostendpoint.go;
 * validator.go validateHostEndpointSpec, validateEndpointPort, validateProtocol). Cluster-scoped.
 *
 * clientv3 does nothing before the validator. Then: field tags (`name` on node and profiles,
 * `interface`, `ip` on expectedIPs, `portName`/`gt=0` on ports with the Protocol and
 * EndpointPort validators), validateHostEndpointSpec (both of its errors are named
 * `InterfaceName` in Go), and the CRD: lengths, port 1–65535, and two CEL rules that repeat the
 * spec checks in their own words.
 *
 * A port's `protocol` is a non-pointer numorstring.Protocol: absent, Go stores and prints 0
 * (which then fails as `protocol number invalid`).
 */
import type { ErroredField } from '../errors.js';
import type { Resource } from '../meta.js';
import { f, int, list, opt, str, struct } from '../schema/types.js';
import { Report, isName } from '../validate/checks.js';
import { resourceStruct } from './common.js';
import type { KindDef } from './def.js';
import { protocolSupportsPorts, uint8OrString, type NumOrStr } from './numorstring.js';
import { checkProtocol, isIPTag, isInterfaceTag, isPortName } from './policy-common.js';

const endpointPort = struct('EndpointPort', [
  f('name', str(), 'Name'),
  f('protocol', uint8OrString, 'Protocol'),
  f('port', int('uint16', { minimum: 1, maximum: 65535 }), 'Port'),
]);

export const hostEndpointSpec = struct('HostEndpointSpec', [
  opt('node', str({ maxLength: 253 })),
  opt('interfaceName', str({ maxLength: 15 })),
  opt('expectedIPs', list(str()), 'ExpectedIPs'),
  opt('profiles', list(str())),
  opt('ports', list(endpointPort, { go: '[]v3.EndpointPort' })),
]);

interface PortV {
  name?: string;
  protocol?: NumOrStr;
  port?: number;
}
interface Spec {
  node?: string;
  interfaceName?: string;
  expectedIPs?: string[];
  profiles?: string[];
  ports?: PortV[];
}

function prepare(r: Resource): ErroredField[] {
  const s = (r.spec ??= {}) as Spec;
  for (const p of s.ports ?? []) p.protocol ??= 0;
  return [];
}

function structChecks(r: Resource): ErroredField[] {
  const s = (r.spec ?? {}) as Spec;
  const rep = new Report();
  if (s.node && !isName(s.node)) rep.tag('Node', s.node, 'name');
  if (s.interfaceName && !isInterfaceTag(s.interfaceName)) rep.tag('InterfaceName', s.interfaceName, 'interface');
  (s.expectedIPs ?? []).forEach((ip, i) => isIPTag(ip) || rep.tag(`ExpectedIPs[${i}]`, ip, 'ip'));
  (s.profiles ?? []).forEach((p, i) => isName(p) || rep.tag(`Profiles[${i}]`, p, 'name'));
  for (const p of s.ports ?? []) {
    const name = p.name ?? '';
    if (!isPortName(name)) rep.tag('Name', name, 'portName');
    const proto = p.protocol ?? 0;
    checkProtocol(proto, rep);
    if (!p.port) rep.tag('Port', p.port ?? 0, 'gt');
    if (!protocolSupportsPorts(proto)) rep.field('EndpointPort.Protocol', proto, 'EndpointPort protocol does not support ports.');
  }
  // validateHostEndpointSpec
  if (!s.interfaceName && !s.expectedIPs?.length) rep.field('InterfaceName', '', 'no interface or expected IPs have been specified');
  if (!s.node) rep.field('InterfaceName', '', 'no node has been specified');
  return rep.fields;
}

const nonEmpty = (v: unknown) => (typeof v === 'string' || Array.isArray(v)) && v.length > 0;

export const HostEndpointDef: KindDef = {
  kind: 'HostEndpoint',
  schema: resourceStruct('HostEndpoint', hostEndpointSpec),
  prepare,
  structChecks,
  cel: [
    {
      path: 'spec',
      message: 'at least one of interfaceName or expectedIPs must be specified',
      valid: (s) => nonEmpty(s.interfaceName) || nonEmpty(s.expectedIPs),
    },
    { path: 'spec', message: 'node must be specified', valid: (s) => nonEmpty(s.node) },
  ],
};
