/**
 * What NetworkPolicy and GlobalNetworkPolicy share (api/pkg/apis/projectcalico/v3/policy_common.go;
 * validator.go validateRule, validateEntityRule, validateICMPFields, validateHTTPRule,
 * validatePort, validateProtocol, validateRuleMetadata; api/pkg/defaults; the Rule CEL rules).
 *
 * Tricky bits:
 *  - `source` / `destination` are non-pointer structs tagged `omitzero`: Go drops them from the
 *    output only when *zero* — an explicit `nets: []` or `services: {}` keeps `source: {}`.
 *    The schema models them as pointers and `dropZeroEntityRules` removes zero ones.
 *  - go-playground walks a Rule depth-first: each field's tags, nested structs' own validators
 *    where they sit (Protocol, ICMP, EntityRule with its Ports, HTTP, Metadata), then
 *    validateRule. Names are Go's bare field names (`Selector`, `Nets[0]`, `Protocol` — also for
 *    NotProtocol, which reuses validateProtocol).
 *  - Protocol comparisons are Go struct equality: HTTP rules need the *string* `TCP`, ICMP
 *    fields the string `ICMP`/`ICMPv6` (6 or 1 do not count), while the CEL rule accepts 6.
 *  - `nets` must be real CIDRs for validateRule (net.ParseCIDR) although the `net` tag accepts a
 *    bare IP: `10.0.0.1` is reported as `Source.Nets = '10.0.0.1' (invalid CIDR)`.
 *  - Values Go prints from pointers to structs with pointer fields (ICMP) would be addresses;
 *    those are left out. Pointer-free dumps (`&{svc ns}`, HTTP matches) are reproduced.
 */
import { Prefix } from '../../net/index.js';
import { TokenKind, tokenize } from '../../selector/tokenizer.js';
import type { ErroredField } from '../errors.js';
import type { Resource } from '../meta.js';
import type { CelRule } from '../schema/crd.js';
import { f, float, int, list, map, opt, optPtr, str, struct, type StructTy } from '../schema/types.js';
import { Report, isCIDROrIP, isIP, isInterfaceName, isMaskedNet, isName } from '../validate/checks.js';
import { qualifiedNameErrors } from '../validate/meta.js';
import {
  allPortsNamed,
  port,
  portParts,
  protocolProblem,
  protocolSupportsPorts,
  uint8OrString,
  type NumOrStr,
} from './numorstring.js';

// ---------------------------------------------------------------------------------------------
// Schema (Go declaration order).

export const icmpFields = struct('ICMPFields', [
  optPtr('type', int('int', { minimum: 0, maximum: 254 })),
  optPtr('code', int('int', { minimum: 0, maximum: 255 })),
]);

const httpPath = struct('HTTPPath', [opt('exact', str({ maxLength: 1024 })), opt('prefix', str({ maxLength: 1024 }))]);

export const httpMatch = struct('HTTPMatch', [opt('methods', list(str(), { maxItems: 20 })), opt('paths', list(httpPath, { maxItems: 20 }))]);

const serviceMatch = struct('ServiceMatch', [opt('name', str()), opt('namespace', str())]);

const serviceAccountMatch = struct('ServiceAccountMatch', [opt('names', list(str())), opt('selector', str())]);

const ports = list(port, { go: '[]numorstring.Port' });

export const entityRule = struct('EntityRule', [
  opt('nets', list(str())),
  opt('selector', str()),
  opt('namespaceSelector', str()),
  optPtr('services', serviceMatch),
  opt('ports', ports),
  opt('notNets', list(str())),
  opt('notSelector', str()),
  opt('notPorts', ports),
  optPtr('serviceAccounts', serviceAccountMatch),
]);

const ruleMetadata = struct('RuleMetadata', [opt('annotations', map(str()))]);

export const ACTIONS = ['Allow', 'Deny', 'Log', 'Pass'] as const;

export const rule = struct('Rule', [
  f('action', str({ go: 'v3.Action', enum: ACTIONS }), 'Action'),
  optPtr('ipVersion', int('int', { enum: [4, 6] }), 'IPVersion'),
  optPtr('protocol', uint8OrString),
  optPtr('icmp', icmpFields, 'ICMP'),
  optPtr('notProtocol', uint8OrString),
  optPtr('notICMP', icmpFields, 'NotICMP'),
  // `omitzero` non-pointer structs; see dropZeroEntityRules.
  optPtr('source', entityRule),
  optPtr('destination', entityRule),
  optPtr('http', httpMatch, 'HTTP'),
  optPtr('metadata', ruleMetadata),
]);

const rules = list(rule, { go: '[]v3.Rule' });
const POLICY_TYPES = ['Ingress', 'Egress'] as const;
const PERFORMANCE_HINTS = ['AssumeNeededOnEveryNode'] as const;

/** The fields both policy specs start with: tier … types. */
export const policyHead = [
  opt('tier', str({ default: 'default' })),
  optPtr('order', float()),
  opt('ingress', rules),
  opt('egress', rules),
  opt('selector', str()),
  opt('types', list(str({ go: 'v3.PolicyType', enum: POLICY_TYPES }), { minItems: 1, maxItems: 2, go: '[]v3.PolicyType' })),
];
export const performanceHints = opt('performanceHints', list(str({ go: 'v3.PolicyPerformanceHint', enum: PERFORMANCE_HINTS }), { go: '[]v3.PolicyPerformanceHint' }));

// ---------------------------------------------------------------------------------------------
// Value shapes.

export interface ICMPV {
  type?: number;
  code?: number;
}
export interface EntityRuleV {
  nets?: string[];
  selector?: string;
  namespaceSelector?: string;
  services?: { name?: string; namespace?: string };
  ports?: NumOrStr[];
  notNets?: string[];
  notSelector?: string;
  notPorts?: NumOrStr[];
  serviceAccounts?: { names?: string[]; selector?: string };
}
export interface RuleV {
  action?: string;
  ipVersion?: number;
  protocol?: NumOrStr;
  icmp?: ICMPV;
  notProtocol?: NumOrStr;
  notICMP?: ICMPV;
  source?: EntityRuleV;
  destination?: EntityRuleV;
  http?: { methods?: string[]; paths?: { exact?: string; prefix?: string }[] };
  metadata?: { annotations?: Record<string, string> };
}
export interface PolicySpecV {
  tier?: string;
  order?: number;
  ingress?: RuleV[];
  egress?: RuleV[];
  selector?: string;
  types?: string[];
  serviceAccountSelector?: string;
  namespaceSelector?: string;
  doNotTrack?: boolean;
  preDNAT?: boolean;
  applyOnForward?: boolean;
  performanceHints?: string[];
}

// ---------------------------------------------------------------------------------------------
// Go-side predicates shared by the endpoint and policy kinds.

/** The `net` tag: a strictly masked CIDR or a bare IP ("" passes: Calico parses it as a nil IP). */
export const isNetTag = (s: string): boolean => s === '' || isMaskedNet(s);
/** The `cidr` tag: any CIDR or a bare IP ("" passes). */
export const isCidrTag = (s: string): boolean => s === '' || isCIDROrIP(s);
/** The `ip` tag (net.ParseIP). */
export const isIPTag = (s: string): boolean => isIP(s);
/** The `interface` tag: `*` or a Linux interface name. */
export const isInterfaceTag = (s: string): boolean => s === '*' || isInterfaceName(s);

/** k8s validation.IsValidPortName (the `portName` tag also refuses ""). */
export function isPortName(s: string): boolean {
  return s.length > 0 && s.length <= 15 && /^[-a-z0-9]+$/.test(s) && /[a-z]/.test(s) && !s.includes('--') && !s.startsWith('-') && !s.endsWith('-');
}

/** numorstring.Port's validators: the `portName` tag on PortName, then validatePort. */
export function checkPort(p: NumOrStr, rep: Report): void {
  const { min, max, name } = portParts(p);
  if (name !== '' && !isPortName(name)) rep.tag('PortName', name, 'portName');
  if (min > max) rep.field('Port', max, 'port range invalid');
  if (name !== '') {
    if (min !== 0 || max !== 0) rep.field('Port', name, 'named port invalid, if name is specified, min and max should be 0');
  } else if (min < 1) rep.field('Port', min, 'port range invalid, port number must be between 1 and 65535');
  else if (max < 1) rep.field('Port', max, 'port range invalid, port number must be between 1 and 65535');
}

/** validateProtocol, reported as `Protocol` whichever field it sits in. */
export function checkProtocol(p: NumOrStr | undefined, rep: Report): void {
  if (p === undefined) return;
  const problem = protocolProblem(p);
  if (problem) rep.field('Protocol', p, problem);
}

/** validateObjectMetaAnnotations (used by validateRuleMetadata). */
export function checkAnnotations(annotations: Record<string, string> | undefined, rep: Report): void {
  if (!annotations) return;
  let total = 0;
  for (const [k, v] of Object.entries(annotations)) {
    for (const e of qualifiedNameErrors(k.toLowerCase())) rep.field('Metadata.Annotations (key)', k, e);
    total += Buffer.byteLength(k) + Buffer.byteLength(v);
  }
  const limit = 256 * 1024;
  if (total > limit) rep.field('Metadata.Annotations (key)', annotations, `total size of annotations is too large by ${total - limit} bytes`);
}

// ---------------------------------------------------------------------------------------------
// Go %v dumps that contain no pointers, so they are deterministic.

export const servicesDump = (s: { name?: string; namespace?: string }): string => `&{${s.name ?? ''} ${s.namespace ?? ''}}`;

export function httpDump(h: NonNullable<RuleV['http']>): string {
  const paths = (h.paths ?? []).map((p) => `{${p.exact ?? ''} ${p.prefix ?? ''}}`);
  return `&{[${(h.methods ?? []).join(' ')}] [${paths.join(' ')}]}`;
}

// ---------------------------------------------------------------------------------------------
// Struct validation of a Rule, in go-playground's order.

const GLOBAL_SELECTOR = 'global()';
export const GLOBAL_SELECTOR_ENT_RULE = `${GLOBAL_SELECTOR} can only be used in an EntityRule namespaceSelector`;
const GLOBAL_SELECTOR_ONLY = `${GLOBAL_SELECTOR} cannot be combined with other selectors`;
const PROTOCOL_PORTS_MSG = 'rules that specify ports must set protocol to TCP or UDP or SCTP';
const PROTOCOL_SINGLE_OR_RANGE_PORTS_MSG = 'rules with numeric port or port range must set protocol to TCP or UDP or SCTP';
const PROTOCOL_ICMP_MSG = 'rules that specify ICMP fields must set protocol to ICMP';
const PROTOCOL_AND_HTTP_MSG = 'rules that specify HTTP fields must set protocol to TCP or empty';

function checkICMP(icmp: ICMPV | undefined, rep: Report): void {
  if (!icmp) return;
  for (const [k, go, max] of [['type', 'Type', 254], ['code', 'Code', 255]] as const) {
    const v = icmp[k];
    if (v === undefined) continue;
    if (v < 0) rep.tag(go, v, 'gte');
    else if (v > max) rep.tag(go, v, 'lte');
  }
  // validateICMPFields; Go's value is the *int (an address).
  if (icmp.code !== undefined && icmp.type === undefined) rep.field('Code', undefined, 'ICMP code specified without an ICMP type');
}

function namespaceSelectorMixesGlobal(sel: string): boolean {
  if (!sel.includes('global(') || sel === GLOBAL_SELECTOR) return false;
  try {
    const tokens = tokenize(sel);
    return tokens.length > 2 || tokens[0]?.kind !== TokenKind.Global;
  } catch {
    return true;
  }
}

/** EntityRule: field tags, Services, Ports, ServiceAccounts, then validateEntityRule. */
function checkEntityRule(e: EntityRuleV | undefined, rep: Report): void {
  if (!e) return;
  (e.nets ?? []).forEach((n, i) => isNetTag(n) || rep.tag(`Nets[${i}]`, n, 'net'));
  rep.selector('Selector', e.selector);
  rep.selector('NamespaceSelector', e.namespaceSelector);
  if (e.services) {
    if (e.services.name && !isName(e.services.name)) rep.tag('Name', e.services.name, 'name');
    if (e.services.namespace && !isName(e.services.namespace)) rep.tag('Namespace', e.services.namespace, 'name');
  }
  for (const p of e.ports ?? []) checkPort(p, rep);
  (e.notNets ?? []).forEach((n, i) => isNetTag(n) || rep.tag(`NotNets[${i}]`, n, 'net'));
  rep.selector('NotSelector', e.notSelector);
  for (const p of e.notPorts ?? []) checkPort(p, rep);
  if (e.serviceAccounts) rep.selector('Selector', e.serviceAccounts.selector);

  if (e.selector?.includes(GLOBAL_SELECTOR)) rep.field('Selector field', e.selector, GLOBAL_SELECTOR_ENT_RULE);
  if (e.namespaceSelector && namespaceSelectorMixesGlobal(e.namespaceSelector)) {
    rep.field('NamespaceSelector field', e.namespaceSelector, GLOBAL_SELECTOR_ONLY);
  }
  if (e.services) {
    const dump = servicesDump(e.services);
    if (!e.services.name) rep.field('Services field', dump, 'must specify a service name');
    if (e.namespaceSelector) rep.field('Services field', dump, 'cannot specify NamespaceSelector and Services on the same rule');
    if (e.selector || e.notSelector) rep.field('Services field', dump, 'cannot specify Selector/NotSelector and Services on the same rule');
    if (e.serviceAccounts) rep.field('Services field', dump, 'cannot specify ServiceAccounts and Services on the same rule');
    if (e.nets?.length || e.notNets?.length) rep.field('Services field', dump, 'cannot specify Nets/NotNets and Services on the same rule');
  }
}

/** validateHTTPRule. */
function checkHTTP(h: RuleV['http'], rep: Report): void {
  if (!h) return;
  const methods = h.methods ?? [];
  if (new Set(methods).size !== methods.length) rep.field('Methods', methods, `Invalid methods (duplicates): [${methods.join(' ')}]`);
  const paths = h.paths ?? [];
  for (const p of paths) {
    const exact = p.exact ?? '';
    const prefix = p.prefix ?? '';
    let problem: string | undefined;
    if (exact !== '' && prefix !== '') problem = "Invalid path match. Both 'exact' and 'prefix' are set";
    else if (exact === '' && prefix === '') problem = "Invalid path match. Either 'exact' or 'prefix' must be set";
    else {
      const v = exact || prefix;
      if (!v.startsWith('/') || /[? #]/.test(v)) problem = `Invalid path ${v}. (must start with \`/\` and not contain \`?\` or \`#\``;
    }
    if (problem) {
      rep.field('Paths', `[${paths.map((x) => `{${x.exact ?? ''} ${x.prefix ?? ''}}`).join(' ')}]`, problem);
      break;
    }
  }
}

const isProto = (p: NumOrStr | undefined, name: string) => p === name;

/** A Rule: its fields' validators in declaration order, then validateRule. */
export function checkRule(r: RuleV, rep: Report): void {
  if (!/^(Allow|Deny|Log|Pass)$/.test(r.action ?? '')) rep.tag('Action', r.action ?? '', 'action');
  if (r.ipVersion !== undefined && r.ipVersion !== 4 && r.ipVersion !== 6) rep.tag('IPVersion', r.ipVersion, 'ipVersion');
  checkProtocol(r.protocol, rep);
  checkICMP(r.icmp, rep);
  checkProtocol(r.notProtocol, rep);
  checkICMP(r.notICMP, rep);
  checkEntityRule(r.source, rep);
  checkEntityRule(r.destination, rep);
  checkHTTP(r.http, rep);
  checkAnnotations(r.metadata?.annotations, rep);
  validateRule(r, rep);
}

function validateRule(r: RuleV, rep: Report): void {
  const src = r.source ?? {};
  const dst = r.destination ?? {};
  const portLists = [
    ['Source.Ports', src.ports],
    ['Source.NotPorts', src.notPorts],
    ['Destination.Ports', dst.ports],
    ['Destination.NotPorts', dst.notPorts],
  ] as const;
  if (r.protocol === undefined) {
    for (const [name, ps] of portLists) if (!allPortsNamed(ps)) rep.field(name, ps ?? [], PROTOCOL_SINGLE_OR_RANGE_PORTS_MSG);
  } else if (!protocolSupportsPorts(r.protocol)) {
    for (const [name, ps] of portLists) if (ps?.length) rep.field(name, ps, PROTOCOL_PORTS_MSG);
  }
  if (r.http && r.protocol !== undefined && !isProto(r.protocol, 'TCP')) rep.field('Protocol', r.protocol, PROTOCOL_AND_HTTP_MSG);
  // Go's value for these is the *ICMPFields: `<nil>` when unset, else an address (left out).
  const icmpValue = r.icmp ? undefined : null;
  if (r.icmp && !isProto(r.protocol, 'ICMP') && !isProto(r.protocol, 'ICMPv6')) rep.field('ICMP', undefined, PROTOCOL_ICMP_MSG);
  if (isProto(r.protocol, 'ICMP') || isProto(r.notProtocol, 'ICMP')) {
    if (r.ipVersion !== undefined && r.ipVersion !== 4) rep.field('IPVersion', icmpValue, "must set ipversion to '4' with protocol icmp");
  }
  if (isProto(r.protocol, 'ICMPv6') || isProto(r.notProtocol, 'ICMPv6')) {
    if (r.ipVersion !== undefined && r.ipVersion !== 6) rep.field('IPVersion', icmpValue, "must set ipversion to '6' with protocol icmpv6");
  }

  let seenV4 = false;
  let seenV6 = false;
  const scanNets = (nets: string[] | undefined, fieldName: string) => {
    let v4 = false;
    let v6 = false;
    const negated = fieldName.endsWith('.NotNets');
    for (const n of nets ?? []) {
      const parsed = Prefix.tryParseCIDR(n);
      if (!parsed) {
        rep.field(fieldName, n, 'invalid CIDR');
        continue;
      }
      const { prefix } = parsed;
      v4 ||= prefix.version === 4;
      v6 ||= prefix.version === 6;
      if (negated && ((prefix.version === 4 && n === '0.0.0.0/0') || (prefix.version === 6 && prefix.length === 0))) {
        rep.field(fieldName, n, 'catch-all CIDR in negation creates logical contradiction (matches no traffic)');
      }
    }
    // Go reports Source.Nets as the value whichever list it is scanning.
    if (r.ipVersion !== undefined && ((v4 && r.ipVersion !== 4) || (v6 && r.ipVersion !== 6))) {
      rep.field(fieldName, src.nets ?? [], "rule IP version doesn't match CIDR version");
    }
    if ((v4 && seenV6) || (v6 && seenV4) || (v4 && v6)) rep.field(fieldName, nets ?? [], 'rule contains both IPv4 and IPv6 CIDRs');
    seenV4 ||= v4;
    seenV6 ||= v6;
  };
  scanNets(src.nets, 'Source.Nets');
  scanNets(src.notNets, 'Source.NotNets');
  scanNets(dst.nets, 'Destination.Nets');
  scanNets(dst.notNets, 'Destination.NotNets');

  if (r.action !== 'Allow' && r.http) rep.field('HTTP', httpDump(r.http), 'only valid for Allow rules');
  if (dst.services && dst.ports?.length) rep.field('Destination.Ports', dst.ports, 'cannot specify ports with a service selector');
  if (dst.services && dst.notPorts?.length) rep.field('Destination.NotPorts', dst.notPorts, 'cannot specify notports with a service selector');
}

/** The spec fields' tags both policy kinds share, in order: tier … types (rules included). */
export function checkPolicyHead(s: PolicySpecV, rep: Report): void {
  if (s.tier && !isName(s.tier)) rep.tag('Tier', s.tier, 'name');
  for (const r of s.ingress ?? []) checkRule(r, rep);
  for (const r of s.egress ?? []) checkRule(r, rep);
  rep.selector('Selector', s.selector);
  (s.types ?? []).forEach((t, i) => (t === 'Ingress' || t === 'Egress') || rep.tag(`Types[${i}]`, t, 'policyType'));
}

/** The `omitempty,unique,dive,oneof=AssumeNeededOnEveryNode` tag on PerformanceHints. */
export function checkPerformanceHints(hints: string[] | undefined, rep: Report): void {
  if (!hints?.length) return;
  if (new Set(hints).size !== hints.length) {
    rep.tag('PerformanceHints', hints, 'unique');
    return;
  }
  hints.forEach((h, i) => h === 'AssumeNeededOnEveryNode' || rep.tag(`PerformanceHints[${i}]`, h, 'oneof'));
}

/** The duplicate-type check both spec validators open with. */
export function checkDuplicateTypes(types: string[] | undefined, name: string, rep: Report): void {
  const seen = new Set<string>();
  for (const t of types ?? []) {
    if (seen.has(t)) rep.field(name, types, `'${t}' type specified more than once`);
    else seen.add(t);
  }
}

// ---------------------------------------------------------------------------------------------
// clientv3 + api/pkg/defaults, before validation.

/** An EntityRule Go's omitzero would drop: every field unset or "". */
function isZeroEntityRule(e: unknown): boolean {
  return !!e && typeof e === 'object' && Object.values(e).every((v) => v === undefined || v === null || v === '');
}

export function dropZeroEntityRules(r: RuleV): void {
  if (isZeroEntityRule(r.source)) delete r.source;
  if (isZeroEntityRule(r.destination)) delete r.destination;
}

export const LABEL_TIER = 'projectcalico.org/tier';

/**
 * What NetworkPolicy/GlobalNetworkPolicy Create and Update do before the validator: the
 * numorstring decode rules, omitzero, then defaults.Default — `types` from the rules present and
 * the `projectcalico.org/tier` label. (Create also requires the Tier to exist; tortie has no
 * Tier kind yet, so that lookup is not made.)
 */
export function preparePolicy(r: Resource, specTy: StructTy): ErroredField[] {
  const s = (r.spec ??= {}) as PolicySpecV;
  for (const rl of [...(s.ingress ?? []), ...(s.egress ?? [])]) dropZeroEntityRules(rl);
  if (!s.types?.length) {
    if (!s.egress?.length) s.types = ['Ingress'];
    else if (!s.ingress?.length) s.types = ['Egress'];
    else s.types = ['Ingress', 'Egress'];
  }
  const labels = (r.metadata.labels ??= {});
  labels[LABEL_TIER] = s.tier || 'default';
  return [];
}

// ---------------------------------------------------------------------------------------------
// The Rule CEL rules (policy_common.go XValidation markers).

type Obj = Record<string, unknown>;
const has = (o: unknown, k: string): boolean => !!o && typeof o === 'object' && (o as Obj)[k] !== undefined && (o as Obj)[k] !== null;
const size = (v: unknown): number => (Array.isArray(v) ? v.length : typeof v === 'string' ? v.length : 0);

/** CEL rules for the rules in `spec.<list>` (and their ICMP fields). */
export function ruleCel(list: 'ingress' | 'egress'): CelRule[] {
  const p = `spec.${list}[]`;
  return [
    {
      path: p,
      message: 'rules with HTTP match must have protocol TCP or unset',
      valid: (s) => !has(s, 'http') || !has(s, 'protocol') || s.protocol === 'TCP' || s.protocol === 6,
    },
    { path: p, message: 'HTTP match is only valid on Allow rules', valid: (s) => s.action === 'Allow' || !has(s, 'http') },
    {
      path: p,
      message: 'ports and notPorts cannot be specified with services',
      valid: (s) => {
        const d = s.destination as Obj | undefined;
        return !has(s, 'destination') || !has(d, 'services') || ((!has(d, 'ports') || size(d!.ports) === 0) && (!has(d, 'notPorts') || size(d!.notPorts) === 0));
      },
    },
    ...(['icmp', 'notICMP'] as const).map((k) => ({
      path: `${p}.${k}`,
      message: 'ICMP code specified without an ICMP type',
      valid: (s: Obj) => !has(s, 'code') || has(s, 'type'),
    })),
  ];
}
