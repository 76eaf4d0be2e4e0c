/**
 * GlobalNetworkPolicy (api/pkg/apis/projectcalico/v3/globalnetworkpolicy.go;
 * clientv3/globalnetworkpolicy.go; api/pkg/defaults; validator.go validateGlobalNetworkPolicy /
 * validateGlobalNetworkPolicySpec). Cluster-scoped.
 *
 * Same pipeline as NetworkPolicy (see networkpolicy.ts): defaults (types, tier label), the
 * ObjectMeta validator, field tags and Rule validators, then validateGlobalNetworkPolicy (name
 * `label` or `label.label`, labels/annotations again, spec rules), then the CRD: `tier` default,
 * enums, the Rule CEL rules and four spec CEL rules repeating the preDNAT/doNotTrack checks.
 *
 * Go quirks kept: the ServiceAccountSelector and NamespaceSelector `global()` errors print the
 * policy's Selector as their value; the spec checks say "egress rules" where NetworkPolicy says
 * "egress rule". The PreDNAT+Egress value (a []Rule dump with pointers) is left out.
 */
import type { ErroredField } from '../errors.js';
import type { Resource } from '../meta.js';
import { bool, opt, str, struct } from '../schema/types.js';
import { Report } from '../validate/checks.js';
import { checkObjectMeta } from '../validate/meta.js';
import { resourceStruct } from './common.js';
import type { KindDef } from './def.js';
import {
  GLOBAL_SELECTOR_ENT_RULE,
  checkDuplicateTypes,
  checkPerformanceHints,
  checkPolicyHead,
  httpDump,
  performanceHints,
  policyHead,
  preparePolicy,
  ruleCel,
  servicesDump,
  type PolicySpecV,
} from './policy-common.js';

export const globalNetworkPolicySpec = struct('GlobalNetworkPolicySpec', [
  ...policyHead,
  opt('doNotTrack', bool()),
  opt('preDNAT', bool(), 'PreDNAT'),
  opt('applyOnForward', bool()),
  opt('serviceAccountSelector', str()),
  opt('namespaceSelector', str()),
  performanceHints,
]);

function structChecks(r: Resource): ErroredField[] {
  const s = (r.spec ?? {}) as PolicySpecV;
  const rep = new Report();
  checkPolicyHead(s, rep);
  rep.selector('ServiceAccountSelector', s.serviceAccountSelector);
  rep.selector('NamespaceSelector', s.namespaceSelector);
  checkPerformanceHints(s.performanceHints, rep);
  // validateGlobalNetworkPolicy
  checkObjectMeta(r, 'globalNetworkPolicy', rep);
  const dnt = !!s.doNotTrack;
  const preDNAT = !!s.preDNAT;
  if (dnt && preDNAT) rep.field('PolicySpec.PreDNAT', true, 'PreDNAT and DoNotTrack cannot both be true, for a given PolicySpec');
  if (preDNAT && s.egress?.length) rep.field('PolicySpec.Egress', undefined, 'PreDNAT PolicySpec cannot have any Egress rules');
  if (preDNAT) {
    for (const t of s.types ?? []) if (t === 'Egress') rep.field('PolicySpec.Types', s.types, "PreDNAT PolicySpec cannot have 'egress' Type");
  }
  if (!s.applyOnForward && (dnt || preDNAT)) {
    rep.field('PolicySpec.ApplyOnForward', false, 'ApplyOnForward must be true if either PreDNAT or DoNotTrack is true, for a given PolicySpec');
  }
  checkDuplicateTypes(s.types, 'GlobalNetworkPolicySpec.Types', rep);
  for (const rl of s.egress ?? []) {
    if (rl.source?.services) rep.field('Services', servicesDump(rl.source.services), 'not allowed in egress rule source');
    if (rl.http) rep.field('HTTP', httpDump(rl.http), 'not allowed in egress rules');
  }
  for (const rl of s.ingress ?? []) {
    if (rl.destination?.services) rep.field('Services', servicesDump(rl.destination.services), 'not allowed in ingress rule destination');
  }
  for (const rl of s.egress ?? []) {
    if (rl.destination?.services && !rl.destination.services.namespace) rep.field('Namespace', '', 'must specify a namespace');
  }
  for (const rl of s.ingress ?? []) {
    if (rl.source?.services && !rl.source.services.namespace) rep.field('Namespace', '', 'must specify a namespace');
  }
  const sel = s.selector ?? '';
  if (sel.includes('global()')) rep.field('GlobalNetworkPolicySpec.Selector', sel, GLOBAL_SELECTOR_ENT_RULE);
  if (s.serviceAccountSelector?.includes('global()')) rep.field('GlobalNetworkPolicySpec.ServiceAccountSelector', sel, GLOBAL_SELECTOR_ENT_RULE);
  if (s.namespaceSelector?.includes('global()')) rep.field('GlobalNetworkPolicySpec.NamespaceSelector', sel, GLOBAL_SELECTOR_ENT_RULE);
  return rep.fields;
}

const on = (s: Record<string, unknown>, k: string) => s[k] === true;

export const GlobalNetworkPolicyDef: KindDef = {
  kind: 'GlobalNetworkPolicy',
  schema: resourceStruct('GlobalNetworkPolicy', globalNetworkPolicySpec),
  // metav1.ObjectMeta's validator; the policy name rule runs in structChecks, where Go runs it.
  nameRule: 'subdomain',
  prepare: (r) => preparePolicy(r, globalNetworkPolicySpec),
  structChecks,
  cel: [
    { path: 'spec', message: 'preDNAT and doNotTrack cannot both be true', valid: (s) => !(on(s, 'doNotTrack') && on(s, 'preDNAT')) },
    {
      path: 'spec',
      message: 'preDNAT policy cannot have any egress rules',
      valid: (s) => !on(s, 'preDNAT') || !Array.isArray(s.egress) || s.egress.length === 0,
    },
    {
      path: 'spec',
      message: "preDNAT policy cannot have 'Egress' type",
      valid: (s) => !on(s, 'preDNAT') || !Array.isArray(s.types) || !s.types.includes('Egress'),
    },
    {
      path: 'spec',
      message: 'applyOnForward must be true if either preDNAT or doNotTrack is true',
      valid: (s) => on(s, 'applyOnForward') || (!on(s, 'doNotTrack') && !on(s, 'preDNAT')),
    },
    ...ruleCel('ingress'),
    ...ruleCel('egress'),
  ],
};
