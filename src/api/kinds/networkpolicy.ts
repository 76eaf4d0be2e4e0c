/**
 * NetworkPolicy (api/pkg/apis/projectcalico/v3/networkpolicy.go; clientv3/networkpolicy.go;
 * api/pkg/defaults; validator.go validateNetworkPolicy / validateNetworkPolicySpec). Namespaced.
 *
 * Order of checks, as calicoctl v3.32 runs them in etcd mode:
 *  1. clientv3 + defaults.Default: numorstring decoding (ports, protocols), `types` defaulted
 *     from the rules present, label `projectcalico.org/tier: <tier or default>`;
 *  2. go-playground: metav1.ObjectMeta's own validator (the generic subdomain name rule, run by
 *     the pipeline), the spec's field tags and every Rule's validators, then validateNetworkPolicy
 *     — the policy name rule (label, `a.b`, or `knp.default.`/`ossg.default.` + subdomain),
 *     labels and annotations *again*, then the spec rules below;
 *  3. the CRD: `tier` defaults to `default`, enums and sizes, the Rule CEL rules.
 * So a bad name or label is reported twice, once per Go validator, as calicoctl does.
 *
 * v3.32 keeps the name as written (no `default.` prefix) and checks that the Tier exists on
 * Create; tortie has no Tier kind yet, so that lookup is not made.
 */
import type { ErroredField } from '../errors.js';
import type { Resource } from '../meta.js';
import { opt, str, struct } from '../schema/types.js';
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

export const networkPolicySpec = struct('NetworkPolicySpec', [...policyHead, opt('serviceAccountSelector', str()), performanceHints]);

function structChecks(r: Resource): ErroredField[] {
  const s = (r.spec ?? {}) as PolicySpecV;
  const rep = new Report();
  checkPolicyHead(s, rep);
  rep.selector('ServiceAccountSelector', s.serviceAccountSelector);
  checkPerformanceHints(s.performanceHints, rep);
  // validateNetworkPolicy
  checkObjectMeta(r, 'networkPolicy', rep);
  checkDuplicateTypes(s.types, 'NetworkPolicySpec.Types', rep);
  for (const rl of s.egress ?? []) {
    if (rl.source?.services) rep.field('Services', servicesDump(rl.source.services), 'not allowed in egress rule source');
    if (rl.http) rep.field('HTTP', httpDump(rl.http), 'not allowed in egress rule');
  }
  for (const rl of s.ingress ?? []) {
    if (rl.destination?.services) rep.field('Services', servicesDump(rl.destination.services), 'not allowed in ingress rule destination');
  }
  if (s.selector?.includes('global()')) rep.field('NetworkPolicySpec.Selector', s.selector, GLOBAL_SELECTOR_ENT_RULE);
  if (s.serviceAccountSelector?.includes('global()')) {
    rep.field('NetworkPolicySpec.ServiceAccountSelector', s.serviceAccountSelector, GLOBAL_SELECTOR_ENT_RULE);
  }
  return rep.fields;
}

export const NetworkPolicyDef: KindDef = {
  kind: 'NetworkPolicy',
  schema: resourceStruct('NetworkPolicy', networkPolicySpec),
  // metav1.ObjectMeta's validator; the policy name rule runs in structChecks, where Go runs it.
  nameRule: 'subdomain',
  prepare: (r) => preparePolicy(r, networkPolicySpec),
  structChecks,
  cel: [...ruleCel('ingress'), ...ruleCel('egress')],
};
