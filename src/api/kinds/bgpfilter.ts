/**
 * BGPFilter (api/pkg/apis/projectcalico/v3/bgpfilter.go; validator.go validateBGPFilterRuleV4/V6
 * and validateBGPFilterOperation). clientv3 adds nothing of its own.
 *
 * Each rule (exportV4, importV4, exportV6, importV6, in that order) is checked field by field
 * — `netv4`/`netv6` on the CIDR, the prefix-length regexes, `oneof` on source and peerType,
 * `bgpFilterInterface`, `matchOperator`, `required` on community values, priority ranges,
 * `required,filterAction` on the action — then each of its operations (nested `required` tags,
 * then "exactly one operation must be set"), then the rule's own struct-level checks
 * (CIDR ⇔ matchOperator, prefixLength needs a CIDR). The CRD then adds its enums, lengths,
 * ranges and three CEL rules per rule; "operations may only be used with action Accept" exists
 * only as CEL.
 *
 * Not reproduced (outside what the framework's CRD layer expresses): `format: cidr` on rule
 * CIDRs (a bare IP passes `netv4` but fails the CRD format), `minProperties`/`maxProperties: 1`
 * on operations (the struct validator's "exactly one operation must be set" still fires), the
 * type error a `null` community/prefix/priority value gets from the OpenAPI layer, and the
 * int32 format range on AS numbers. The CEL validator reports a rule item's three rules
 * together before moving to the next item; here each rule runs over all items in turn.
 */
import type { ErroredField } from '../errors.js';
import type { Resource } from '../meta.js';
import type { CelRule } from '../schema/crd.js';
import { Report } from '../validate/checks.js';
import { asn, int, list, opt, optPtr, str, struct, f } from '../schema/types.js';
import { resourceStruct } from './common.js';
import type { KindDef } from './def.js';
import { goStructDump, isNetV } from './shared-routing.js';

const U16 = '([0-9]|[1-9][0-9]{1,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])';
const U32 =
  '([0-9]|[1-9][0-9]{1,8}|[1-3][0-9]{9}|4[0-1][0-9]{8}|42[0-8][0-9]{7}|429[0-3][0-9]{6}|4294[0-8][0-9]{5}|42949[0-5][0-9]{4}|429496[0-6][0-9]{3}|4294967[0-1][0-9]{2}|42949672[0-8][0-9]|429496729[0-5])';
/** BGPCommunityValue: `aa:nn` (16-bit parts) or `aa:nn:mm` (32-bit parts), at most 32 chars. */
const communityValue = () => str({ go: 'v3.BGPCommunityValue', maxLength: 32, pattern: `^(${U16}:${U16}|${U32}:${U32}:${U32})$` });

const PRIORITY = { minimum: 1, maximum: 2147483646 };

// The CRD marks `value`, `prefix` and `values` required, but Go always marshals them (as null
// when unset), so the key is always present and `required` never fires; the OpenAPI type error a
// null then gets is not reproduced (see above). Hence no 'req' on them.
const operation = struct('BGPFilterOperation', [
  optPtr('addCommunity', struct('BGPFilterAddCommunity', [f('value', communityValue(), 'Value', 'ptr')])),
  optPtr('prependASPath', struct('BGPFilterPrependASPath', [f('prefix', list(asn(), { minItems: 1, maxItems: 10 }), 'Prefix')])),
  optPtr('setPriority', struct('BGPFilterSetPriority', [f('value', int('int', PRIORITY), 'Value', 'ptr')])),
], { minProperties: 1, maxProperties: 1 });

function rule(v: 4 | 6) {
  const maxLen = v === 4 ? 32 : 128;
  return struct(`BGPFilterRuleV${v}`, [
    opt('cidr', str({ maxLength: v === 4 ? 18 : 43, format: 'cidr' }), 'CIDR'),
    optPtr(
      'prefixLength',
      struct(`BGPFilterPrefixLengthV${v}`, [
        optPtr('min', int('int32', { minimum: 0, maximum: maxLen })),
        optPtr('max', int('int32', { minimum: 0, maximum: maxLen })),
      ]),
    ),
    opt('source', str({ go: 'v3.BGPFilterMatchSource', enum: ['RemotePeers'] })),
    opt('interface', str()),
    opt('matchOperator', str({ go: 'v3.BGPFilterMatchOperator', enum: ['Equal', 'NotEqual', 'In', 'NotIn'] })),
    opt('peerType', str({ go: 'v3.BGPFilterPeerType', enum: ['eBGP', 'iBGP'] })),
    optPtr('communities', struct('BGPFilterCommunityMatch', [f('values', list(communityValue(), { minItems: 1, maxItems: 1, go: '[]v3.BGPCommunityValue' }), 'Values')])),
    opt('asPathPrefix', list(asn()), 'ASPathPrefix'),
    optPtr('priority', int('int', PRIORITY)),
    f('action', str({ go: 'v3.BGPFilterAction', enum: ['Accept', 'Reject'] }), 'Action', 'req'),
    opt('operations', list(operation, { minItems: 1, maxItems: 10, go: '[]v3.BGPFilterOperation' })),
  ]);
}

export const bgpFilterSpec = struct('BGPFilterSpec', [
  opt('exportV4', list(rule(4), { go: '[]v3.BGPFilterRuleV4' }), 'ExportV4'),
  opt('importV4', list(rule(4), { go: '[]v3.BGPFilterRuleV4' }), 'ImportV4'),
  opt('exportV6', list(rule(6), { go: '[]v3.BGPFilterRuleV6' }), 'ExportV6'),
  opt('importV6', list(rule(6), { go: '[]v3.BGPFilterRuleV6' }), 'ImportV6'),
]);

type Operation = {
  addCommunity?: { value?: string | null } | null;
  prependASPath?: { prefix?: number[] | null } | null;
  setPriority?: { value?: number | null } | null;
};
type Rule = {
  cidr?: string;
  prefixLength?: { min?: number | null; max?: number | null } | null;
  source?: string;
  interface?: string;
  matchOperator?: string;
  peerType?: string;
  communities?: { values?: string[] | null } | null;
  priority?: number | null;
  action?: string;
  operations?: Operation[];
};

const isSet = (v: unknown) => v !== undefined && v !== null;
const prefixLengthRe = { 4: /^([0-9]|[12][0-9]|3[0-2])$/, 6: /^([0-9]|[1-9][0-9]|1[0-1][0-9]|12[0-8])$/ };
const bgpFilterInterfaceRe = /^[a-zA-Z0-9_.*-]{1,15}$/;

function rangeTags(rep: Report, goField: string, v: number): void {
  if (v < 1) rep.tag(goField, v, 'gte');
  else if (v > 2147483646) rep.tag(goField, v, 'lte');
}

function checkOperation(op: Operation, rep: Report): void {
  if (isSet(op.addCommunity) && !isSet(op.addCommunity!.value)) rep.tag('Value', null, 'required');
  if (isSet(op.prependASPath) && !isSet(op.prependASPath!.prefix)) rep.tag('Prefix', [], 'required');
  if (isSet(op.setPriority)) {
    const v = op.setPriority!.value;
    if (!isSet(v)) rep.tag('Value', null, 'required');
    else rangeTags(rep, 'Value', v!);
  }
  const count = [op.addCommunity, op.prependASPath, op.setPriority].filter(isSet).length;
  if (count !== 1) {
    // `%v` of the operation struct: deterministic only when all three pointers are nil.
    rep.field('BGPFilterOperation', count === 0 ? goStructDump(['ptr', 'ptr', 'ptr']) : undefined, 'exactly one operation must be set');
  }
}

function checkRule(r: Rule, v: 4 | 6, rep: Report): void {
  const cidr = r.cidr ?? '';
  const op = r.matchOperator ?? '';
  const tag = `bgpFilterPrefixLengthV${v}`;
  if (cidr && !isNetV(cidr, v)) rep.tag('CIDR', cidr, `netv${v}`);
  if (isSet(r.prefixLength)) {
    const { min, max } = r.prefixLength!;
    if (isSet(min) && !prefixLengthRe[v].test(String(min))) rep.tag('Min', min, tag);
    if (isSet(max) && !prefixLengthRe[v].test(String(max))) rep.tag('Max', max, tag);
  }
  if (r.source && r.source !== 'RemotePeers') rep.tag('Source', r.source, 'oneof');
  if (r.interface && r.interface !== '*' && !bgpFilterInterfaceRe.test(r.interface)) rep.tag('Interface', r.interface, 'bgpFilterInterface');
  if (op && !/^(Equal|In|NotEqual|NotIn)$/.test(op)) rep.tag('MatchOperator', op, 'matchOperator');
  if (r.peerType && r.peerType !== 'eBGP' && r.peerType !== 'iBGP') rep.tag('PeerType', r.peerType, 'oneof');
  if (isSet(r.communities) && !isSet(r.communities!.values)) rep.tag('Values', [], 'required');
  if (isSet(r.priority)) rangeTags(rep, 'Priority', r.priority!);
  if (!r.action) rep.tag('Action', '', 'required');
  else if (!/^(Accept|Reject)$/.test(r.action)) rep.tag('Action', r.action, 'filterAction');
  for (const o of r.operations ?? []) checkOperation(o, rep);
  // validateBGPFilterRule
  if (cidr && !op) rep.field('CIDR', cidr, 'MatchOperator cannot be empty when CIDR is not');
  if (!cidr && op) rep.field('MatchOperator', op, 'CIDR cannot be empty when MatchOperator is not');
  if (!cidr && isSet(r.prefixLength)) {
    // `%v` of the prefix-length struct: deterministic only when min and max are both unset.
    const pl = r.prefixLength!;
    rep.field('PrefixLength', !isSet(pl.min) && !isSet(pl.max) ? goStructDump(['ptr', 'ptr']) : undefined, 'CIDR cannot be empty when PrefixLength is not');
  }
}

function structChecks(r: Resource): ErroredField[] {
  const s = (r.spec ?? {}) as Record<string, Rule[] | undefined>;
  const rep = new Report();
  for (const [field, v] of [['exportV4', 4], ['importV4', 4], ['exportV6', 6], ['importV6', 6]] as const) {
    for (const x of s[field] ?? []) checkRule(x, v, rep);
  }
  return rep.fields;
}

const nonEmpty = (v: unknown) => typeof v === 'string' && v.length > 0;

function ruleCel(list: string): CelRule[] {
  const path = `spec.${list}[]`;
  return [
    { path, message: 'cidr and matchOperator must both be set or both be empty', valid: (x) => nonEmpty(x.cidr) === nonEmpty(x.matchOperator) },
    { path, message: 'cidr is required when prefixLength is set', valid: (x) => !isSet(x.prefixLength) || nonEmpty(x.cidr) },
    {
      path,
      message: 'operations may only be used with action Accept',
      valid: (x) => !Array.isArray(x.operations) || x.operations.length === 0 || x.action === 'Accept',
    },
  ];
}

export const BGPFilterDef: KindDef = {
  kind: 'BGPFilter',
  schema: resourceStruct('BGPFilter', bgpFilterSpec),
  structChecks,
  cel: ['exportV4', 'importV4', 'exportV6', 'importV6'].flatMap(ruleCel),
};
