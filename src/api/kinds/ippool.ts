/**
 * IPPool (api/pkg/apis/projectcalico/v3/ippool.go; clientv3/ippool.go validateAndSetDefaults).
 *
 * Most of what users hit comes from clientv3, which runs first and returns early: CIDR parsing
 * and normalisation, defaults (nodeSelector all(), blockSize 26/122, allowedUses, modes Never,
 * assignmentMode Automatic), immutable CIDR and blockSize, overlap with other pools (create
 * only), IPIP+VXLAN, IPIP on IPv6, strict masking and link-local ranges. Then the struct
 * validator and the CRD rules, then the block-size conflict with existing IPAM blocks.
 */
import { Prefix } from '../../net/index.js';
import type { ErroredField } from '../errors.js';
import type { Resource } from '../meta.js';
import { Report, isMaskedNet } from '../validate/checks.js';
import { bool, f, int, list, opt, optPtr, str, struct, any } from '../schema/types.js';
import { resourceStruct } from './common.js';
import type { ClientContext, KindDef, WriteOp } from './def.js';

const MODES = ['Never', 'Always', 'CrossSubnet'] as const;

export const ipPoolSpec = struct('IPPoolSpec', [
  f('cidr', str({ maxLength: 48, format: 'cidr' }), 'CIDR'),
  opt('vxlanMode', str({ go: 'v3.VXLANMode', enum: MODES }), 'VXLANMode'),
  opt('ipipMode', str({ go: 'v3.IPIPMode', enum: MODES }), 'IPIPMode'),
  opt('natOutgoing', bool(), 'NATOutgoing'),
  opt('disabled', bool()),
  opt('disableBGPExport', bool(), 'DisableBGPExport'),
  opt('blockSize', int('int', { minimum: 0, maximum: 128 })),
  opt('nodeSelector', str()),
  opt('namespaceSelector', str()),
  opt('allowedUses', list(str({ go: 'v3.IPPoolAllowedUse', enum: ['Workload', 'Tunnel', 'LoadBalancer'] }), { maxItems: 10 })),
  optPtr('assignmentMode', str({ go: 'v3.AssignmentMode', enum: ['Automatic', 'Manual'], default: 'Automatic' })),
]);

export const ipPoolStatus = struct('IPPoolStatus', [opt('conditions', list(any()))]);

type Spec = {
  cidr?: string;
  vxlanMode?: string;
  ipipMode?: string;
  natOutgoing?: boolean;
  disabled?: boolean;
  disableBGPExport?: boolean;
  blockSize?: number;
  nodeSelector?: string;
  namespaceSelector?: string;
  allowedUses?: string[];
  assignmentMode?: string;
};

const cidrField = 'IPPool.Spec.CIDR';

async function prepare(r: Resource, op: WriteOp, old: Resource | undefined, ctx: ClientContext): Promise<ErroredField[]> {
  const s = (r.spec ??= {}) as Spec;
  if (!s.cidr) return [{ name: cidrField, reason: 'IPPool CIDR must be specified' }];
  const parsed = Prefix.tryParseCIDR(s.cidr);
  if (!parsed) return [{ name: cidrField, value: s.cidr, reason: 'IPPool CIDR must be a valid subnet' }];
  const { ip, prefix } = parsed;
  s.cidr = prefix.toString();
  const errs: ErroredField[] = [];
  if (!s.nodeSelector) s.nodeSelector = 'all()';
  const oldSpec = old?.spec as Spec | undefined;
  if (oldSpec && !sameCidr(oldSpec.cidr, s.cidr)) errs.push({ name: cidrField, value: s.cidr, reason: 'IPPool CIDR cannot be modified' });
  if (!s.blockSize) s.blockSize = ip.version === 4 ? 26 : 122;
  if (!s.allowedUses || s.allowedUses.length === 0) s.allowedUses = ['Workload', 'Tunnel'];
  if (oldSpec?.allowedUses?.includes('LoadBalancer') && s.allowedUses.some((u) => u !== 'LoadBalancer')) {
    return [{ name: 'IPPool.Spec.AllowedUses', value: s.allowedUses, reason: 'IPPool allowed use cannot be changed from LoadBalacer to Workload or Tunnel' }];
  }
  if (!s.assignmentMode) s.assignmentMode = 'Automatic';
  if (oldSpec && oldBlockSize(oldSpec) !== s.blockSize) errs.push({ name: 'IPPool.Spec.BlockSize', value: s.blockSize, reason: 'IPPool BlockSize cannot be modified' });
  if (ip.version === 4) {
    if (s.blockSize > 32 || s.blockSize < 20) errs.push({ name: 'IPPool.Spec.BlockSize', value: s.blockSize, reason: 'IPv4 block size must be between 20 and 32' });
  } else if (s.blockSize > 128 || s.blockSize < 116) {
    errs.push({ name: 'IPPool.Spec.BlockSize', value: s.blockSize, reason: 'IPv6 block size must be between 116 and 128' });
  }
  if (!s.disabled && prefix.length > s.blockSize) {
    errs.push({ name: cidrField, value: s.cidr, reason: 'IP pool size is too small for use with Calico IPAM. It must be equal to or greater than the block size.' });
  }
  if (op === 'create') {
    for (const other of await ctx.list('IPPool')) {
      if (other.metadata.name === r.metadata.name) continue;
      const otherCidr = (other.spec as Spec | undefined)?.cidr ?? '';
      const op2 = Prefix.tryParseCIDR(otherCidr);
      if (!op2) continue;
      if (op2.prefix.overlaps(prefix)) {
        errs.push({ name: cidrField, value: s.cidr, reason: `IPPool(${r.metadata.name}) CIDR overlaps with IPPool(${other.metadata.name}) CIDR ${otherCidr}` });
      }
    }
  }
  if (!s.ipipMode) s.ipipMode = 'Never';
  if (!s.vxlanMode) s.vxlanMode = 'Never';
  if (s.vxlanMode !== 'Never' && s.ipipMode !== 'Never') {
    errs.push({ name: 'IPPool.Spec.VXLANMode', value: s.vxlanMode, reason: 'Cannot enable both VXLAN and IPIP on the same IPPool' });
  }
  if (prefix.version === 6 && s.ipipMode !== 'Never') {
    errs.push({ name: 'IPPool.Spec.IPIPMode', value: s.ipipMode, reason: 'IPIP is not supported on an IPv6 IP pool' });
  }
  if (prefix.ip.toString() !== ip.toString()) errs.push({ name: cidrField, value: s.cidr, reason: 'IPPool CIDR is not strictly masked' });
  if (prefix.version === 4 && prefix.overlaps(Prefix.parse('169.254.0.0/16'))) {
    errs.push({ name: cidrField, value: s.cidr, reason: 'IPPool CIDR overlaps with IPv4 Link Local range 169.254.0.0/16' });
  }
  if (prefix.version === 6 && prefix.overlaps(Prefix.parse('fe80::/10'))) {
    errs.push({ name: cidrField, value: s.cidr, reason: 'IPPool CIDR overlaps with IPv6 Link Local range fe80::/10' });
  }
  return errs;
}

/** The old pool's block size as clientv3 reads it back (convertIpPoolFromStorage defaults 0 to 26/122). */
function oldBlockSize(o: Spec): number {
  if (o.blockSize) return o.blockSize;
  const v = Prefix.tryParseCIDR(o.cidr ?? '')?.ip.version;
  return v === 4 ? 26 : v === 6 ? 122 : 0;
}

function sameCidr(a: string | undefined, b: string): boolean {
  const pa = a ? Prefix.tryParse(a) : undefined;
  const pb = Prefix.tryParse(b);
  return !!pa && !!pb && pa.equals(pb);
}

const enabled = (m: string | undefined) => m === 'Always' || m === 'CrossSubnet';

/** validateIPPoolSpec and the field tags (`net`, `vxlanMode`, `ipIpMode`, `selector`, `assignmentMode`). */
function structChecks(r: Resource): ErroredField[] {
  const s = (r.spec ?? {}) as Spec;
  const rep = new Report();
  const cidr = s.cidr ?? '';
  if (!isMaskedNet(cidr)) rep.tag('CIDR', cidr, 'net');
  if (s.vxlanMode && !MODES.includes(s.vxlanMode as never)) rep.tag('VXLANMode', s.vxlanMode, 'vxlanMode');
  if (s.ipipMode && !MODES.includes(s.ipipMode as never)) rep.tag('IPIPMode', s.ipipMode, 'ipIpMode');
  rep.selector('NodeSelector', s.nodeSelector);
  rep.selector('NamespaceSelector', s.namespaceSelector);
  if (s.assignmentMode && !['Automatic', 'Manual'].includes(s.assignmentMode)) rep.tag('AssignmentMode', s.assignmentMode, 'assignmentMode');
  // Struct level.
  if (cidr === '') rep.field('IPpool.CIDR', '', 'IPPool CIDR must be specified');
  const parsed = Prefix.tryParseCIDR(cidr) ?? safeParseCIDROrIP(cidr);
  if (!parsed) {
    rep.field('IPpool.CIDR', cidr, 'IPPool CIDR must be a valid subnet');
    return rep.fields;
  }
  const { ip, prefix } = parsed;
  const uses = s.allowedUses ?? [];
  const isLB = uses.includes('LoadBalancer');
  if (prefix.version === 6 && s.ipipMode !== 'Never') {
    rep.field('IPpool.IPIPMode', s.ipipMode ?? '', "IPIPMode other than 'Never' is not supported on an IPv6 IP pool");
  }
  if (enabled(s.ipipMode) && enabled(s.vxlanMode)) {
    rep.field('IPpool.IPIPMode', s.ipipMode, 'IPIPMode and VXLANMode cannot be enabled on LoadBalancer IP pool');
  }
  if (isLB && (enabled(s.ipipMode) || enabled(s.vxlanMode))) {
    rep.field('IPpool.IPIPMode', s.ipipMode ?? '', 'Neither IPIPMode nor VXLANMode can be enabled on AllowedUses LoadBalancer IP pool');
  }
  const blockSize = s.blockSize || (ip.version === 4 ? 26 : 122);
  if (!s.disabled && prefix.length > blockSize) {
    rep.field('IPpool.CIDR', cidr, 'IP pool size is too small for use with Calico IPAM. It must be equal to or greater than the block size.');
  }
  if (prefix.ip.toString() !== ip.toString()) rep.field('IPpool.CIDR', cidr, 'IPPool CIDR is not strictly masked');
  if (prefix.version === 4 && prefix.overlaps(Prefix.parse('169.254.0.0/16'))) {
    rep.field('IPpool.CIDR', cidr, 'IPPool CIDR overlaps with IPv4 Link Local range 169.254.0.0/16');
  }
  if (prefix.version === 6 && prefix.overlaps(Prefix.parse('fe80::/10'))) {
    rep.field('IPpool.CIDR', cidr, 'IPPool CIDR overlaps with IPv6 Link Local range fe80::/10');
  }
  for (const u of uses) {
    if (u === 'LoadBalancer') continue;
    if (u === 'Workload' || u === 'Tunnel') {
      if (isLB) rep.field('IPpool.AllowedUses', uses, `LoadBalancer cannot be used at the same time as: ${u}`);
    } else rep.field('IPpool.AllowedUses', uses, `unknown use: ${u}`);
  }
  if (isLB && s.disableBGPExport) rep.field('IPpool.DisableBGPExport', cidr, 'IP Pool with AllowedUse LoadBalancer must have DisableBGPExport set to true');
  if (isLB && s.nodeSelector !== 'all()') rep.field('IPpool.NodeSelector', cidr, 'IP Pool with AllowedUse LoadBalancer must have node selector set to all()');
  if (uses.includes('Tunnel') && s.namespaceSelector) {
    rep.field(
      'IPpool.NamespaceSelector',
      s.namespaceSelector,
      'IP Pool with AllowedUse Tunnel cannot have namespaceSelector specified - tunnel IPs are not namespaced resources',
    );
  }
  if (s.nodeSelector?.includes('global(')) {
    rep.field('IPpool.NodeSelector', s.nodeSelector, 'global() selector is not valid for IPPool nodeSelector - use all() instead');
  }
  if (s.namespaceSelector?.includes('global(')) {
    rep.field('IPpool.NamespaceSelector', s.namespaceSelector, 'global() selector is not valid for IPPool namespaceSelector - use all() instead');
  }
  return rep.fields;
}

function safeParseCIDROrIP(s: string) {
  try {
    return Prefix.parseCIDROrIP(s);
  } catch {
    return undefined;
  }
}

type Self = Record<string, unknown>;
const sz = (v: unknown) => (typeof v === 'string' || Array.isArray(v) ? v.length : 0);
const uses = (s: Self) => (Array.isArray(s.allowedUses) ? (s.allowedUses as string[]) : []);
const off = (m: unknown) => m === undefined || sz(m) === 0 || m === 'Never';

async function post(r: Resource, op: WriteOp, ctx: ClientContext): Promise<ErroredField[]> {
  // Only ipPools.Create looks at existing blocks (Update and UnsafeCreate do not).
  if (op !== 'create') return [];
  const s = r.spec as Spec;
  const prefix = Prefix.parse(s.cidr!);
  for (const b of await ctx.blockCIDRs(prefix.version)) {
    const bp = Prefix.tryParse(b);
    if (bp && bp.length !== s.blockSize && bp.overlaps(prefix)) {
      return [{ name: 'IPPool.Spec.BlockSize', value: s.blockSize, reason: 'IPPool blocksSize conflicts with existing allocations that use a different blockSize' }];
    }
  }
  return [];
}

export const IPPoolDef: KindDef = {
  kind: 'IPPool',
  schema: resourceStruct('IPPool', ipPoolSpec, [optPtr('status', ipPoolStatus)]),
  prepare,
  structChecks,
  cel: [
    { path: 'spec', message: 'ipipMode and vxlanMode cannot both be enabled', valid: (s) => off(s.ipipMode) || off(s.vxlanMode) },
    {
      path: 'spec',
      message: 'LoadBalancer IP pool cannot have IPIP or VXLAN enabled',
      valid: (s) => !uses(s).includes('LoadBalancer') || (off(s.ipipMode) && off(s.vxlanMode)),
    },
    {
      path: 'spec',
      message: 'LoadBalancer cannot be combined with Workload or Tunnel allowed uses',
      valid: (s) => !uses(s).includes('LoadBalancer') || !uses(s).some((u) => u === 'Workload' || u === 'Tunnel'),
    },
    { path: 'spec', message: 'IPIP is not supported on IPv6 pools', valid: (s) => !String(s.cidr ?? '').includes(':') || off(s.ipipMode) },
  ],
  post,
};
