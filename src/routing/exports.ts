/**
 * What this node says over BGP: the routes it originates and the import/export policy of each
 * session — confd's `bird_ipam.cfg` / `bird_aggr.cfg` (calico-compat.md §5.5) as declarative
 * PolicyDefinitions for tortie's speaker.
 *
 * Export policy of every session = the peer's BGPFilter export rules (in order), then
 * `calico_export_to_bgp_peers`, then reject:
 *   1. reject anything inside a pool with disableBGPExport;
 *   2. prefixAdvertisements: add their communities (`continue`, does not decide);
 *   3. calico_aggr: for each confirmed (or state-less) affine block of ours, accept the block
 *      itself and reject anything more specific inside it (pending blocks get no rule);
 *   4. accept service ranges (the `/calico/staticroutes`);
 *   5. route reflectors: accept anything inside the LoadBalancer ranges;
 *   6. accept anything inside any (export-enabled) pool — borrowed /32s and reflected routes;
 *   7. otherwise reject.
 * Not expressible here, and not needed: the iBGP `*.cali`/`*.calico` interface reject (our
 * originated routes never carry an interface) and the krt_metric/priority interplay.
 *
 * Import policy = BGPFilter import rules then accept (v3.32 imports everything else).
 *
 * Policies depend only on (family, filter names), so peers with the same inputs share one
 * PolicyDefinition object: equal content, and one object for the speaker to compile.
 */
import type { Resource } from '../api/meta.js';
import type { OriginatedRoute } from '../bgp/speaker.js';
import { calicoPrefixMatch, type DeclarativeRule, type Operation, type PolicyDefinition, type RuleMatch } from '../bgp/policy.js';
import { IP, Prefix } from '../net/index.js';
import { EXCLUDE_SERVICES_LABEL, byPrefix, isHostLength, parseAs, parseCommunityValue, poolOf, serviceRanges, type Facts, type Fam } from './facts.js';

/** BGPFilter priority p ⇔ bgp_local_pref 2147483647 − p (template_funcs.go BirdIntMaxValue). */
const BIRD_INT_MAX = 2147483647;

const famName = (fam: Fam) => (fam === 4 ? 'ipv4' : 'ipv6');
const inside = (p: Prefix): RuleMatch => ({ prefix: { cidr: p.toString(), exact: false } });

/** One community text (`aa:nn` or `aa:nn:mm`) as a policy operation. */
function communityOp(value: string): Operation | undefined {
  const v = parseCommunityValue(value);
  if (v === undefined) return undefined;
  return typeof v === 'number' ? { addCommunity: v } : { addLargeCommunity: v };
}

/** Whether the node is excluded from service advertisement (label `…/exclude-from-external-load-balancers: "true"`). */
export function servicesExcluded(f: Facts): boolean {
  return f.self?.labels[EXCLUDE_SERVICES_LABEL] === 'true';
}

/** Our affine blocks that calico_aggr aggregates: confirmed, or with no affinity state (legacy). */
function aggregatedBlocks(f: Facts, fam: Fam): Prefix[] {
  return f.blocks
    .filter((b) => b.info.affinityHost === f.me && b.cidr.version === fam)
    .filter((b) => b.info.affinityState === undefined || b.info.affinityState === 'confirmed')
    .map((b) => b.cidr)
    .sort(byPrefix);
}

// ----- BGPFilter -----------------------------------------------------------------------------

type FilterRule = Record<string, any>;

/**
 * One BGPFilter rule as a declarative rule (template_funcs.go filterStatement), or undefined when it
 * cannot be expressed. `interface` and `priority` matches look at kernel facts the speaker does not
 * have; such a rule is dropped (never matches) with a warning.
 */
function convertRule(rule: FilterRule, fam: Fam, where: string, warnings: string[]): DeclarativeRule | undefined {
  const match: RuleMatch = { family: famName(fam) };
  if (rule.cidr) {
    const cidr = Prefix.tryParse(String(rule.cidr));
    const op = rule.matchOperator;
    if (!cidr || cidr.version !== fam || !['Equal', 'NotEqual', 'In', 'NotIn'].includes(op)) {
      warnings.push(`${where}: rule with cidr ${JSON.stringify(rule.cidr)} / matchOperator ${JSON.stringify(op)} ignored`);
      return undefined;
    }
    const pl = rule.prefixLength as { min?: number; max?: number } | undefined;
    const min = Math.max(cidr.length, pl?.min ?? cidr.length);
    const max = Math.min(cidr.bits, pl?.max ?? cidr.bits);
    if (min > max) {
      warnings.push(`${where}: rule with empty prefixLength range ${min}..${max} for ${cidr} ignored`);
      return undefined;
    }
    match.prefix = calicoPrefixMatch(cidr.toString(), op, pl);
  }
  if (rule.source === 'RemotePeers') match.source = 'bgp';
  if (rule.peerType === 'eBGP') match.peerType = 'ebgp';
  else if (rule.peerType === 'iBGP') match.peerType = 'ibgp';
  const cv = rule.communities?.values?.[0];
  if (cv !== undefined) {
    const c = parseCommunityValue(String(cv));
    if (c === undefined) {
      warnings.push(`${where}: rule with bad community ${JSON.stringify(cv)} ignored`);
      return undefined;
    }
    match.community = c;
  }
  if (Array.isArray(rule.asPathPrefix) && rule.asPathPrefix.length > 0) {
    const asns = rule.asPathPrefix.map(parseAs);
    if (asns.some((a: number | undefined) => a === undefined)) {
      warnings.push(`${where}: rule with bad asPathPrefix ignored`);
      return undefined;
    }
    match.asPathStartsWith = asns as number[];
  }
  if (rule.interface || rule.priority !== undefined) {
    warnings.push(`${where}: rule matching ${rule.interface ? `interface ${JSON.stringify(rule.interface)}` : `priority ${rule.priority}`} is not supported by tortie's speaker; rule ignored`);
    return undefined;
  }
  if (rule.action !== 'Accept' && rule.action !== 'Reject') {
    warnings.push(`${where}: rule with action ${JSON.stringify(rule.action)} ignored`);
    return undefined;
  }
  const out: DeclarativeRule = { match, action: rule.action === 'Accept' ? 'accept' : 'reject' };
  if (out.action === 'accept' && Array.isArray(rule.operations) && rule.operations.length > 0) {
    const ops: Operation[] = [];
    for (const o of rule.operations as Record<string, any>[]) {
      if (o.addCommunity) {
        const op = communityOp(String(o.addCommunity.value ?? ''));
        if (op) ops.push(op);
        else warnings.push(`${where}: addCommunity ${JSON.stringify(o.addCommunity.value)} ignored`);
      } else if (o.prependASPath?.prefix?.length) {
        const asns = (o.prependASPath.prefix as unknown[]).map(parseAs);
        if (asns.every((a) => a !== undefined)) ops.push({ prependAsPath: asns as number[] });
        else warnings.push(`${where}: prependASPath with a bad AS ignored`);
      } else if (typeof o.setPriority?.value === 'number') {
        ops.push({ setLocalPref: BIRD_INT_MAX - o.setPriority.value });
      }
    }
    if (ops.length > 0) out.operations = ops;
  }
  return out;
}

// ----- the book of policies ------------------------------------------------------------------

export interface PolicySource {
  exportPolicy(fam: Fam, filters: readonly string[]): PolicyDefinition;
  importPolicy(fam: Fam, filters: readonly string[]): PolicyDefinition;
}

export class PolicyBook implements PolicySource {
  private readonly filters: Map<string, Resource>;
  private readonly memo = new Map<string, PolicyDefinition>();
  private readonly calico = new Map<Fam, DeclarativeRule[]>();

  constructor(
    private readonly f: Facts,
    bgpFilters: readonly Resource[],
  ) {
    this.filters = new Map(bgpFilters.map((r) => [r.metadata.name ?? '', r]));
  }

  exportPolicy(fam: Fam, filters: readonly string[]): PolicyDefinition {
    return this.get('export', fam, filters);
  }

  importPolicy(fam: Fam, filters: readonly string[]): PolicyDefinition {
    return this.get('import', fam, filters);
  }

  private get(dir: 'import' | 'export', fam: Fam, filters: readonly string[]): PolicyDefinition {
    const key = `${dir}-v${fam}${filters.length ? `:${filters.join(',')}` : ''}`;
    let def = this.memo.get(key);
    if (def) return def;
    const rules: DeclarativeRule[] = this.filterRules(dir, fam, filters);
    if (dir === 'export') rules.push(...this.calicoExport(fam));
    def = { name: key, rules, defaultAction: dir === 'export' ? 'reject' : 'accept' };
    this.memo.set(key, def);
    return def;
  }

  /** The named filters' rules for one direction and family, in order (the plan de-duplicates warnings). */
  private filterRules(dir: 'import' | 'export', fam: Fam, names: readonly string[]): DeclarativeRule[] {
    const out: DeclarativeRule[] = [];
    for (const name of names) {
      const filter = this.filters.get(name);
      if (!filter) {
        this.f.warnings.push(`BGPFilter ${name} not found; ignored`);
        continue;
      }
      const list = ((filter.spec as Record<string, unknown> | undefined)?.[`${dir}V${fam}`] ?? []) as FilterRule[];
      list.forEach((rule, i) => {
        const r = convertRule(rule, fam, `BGPFilter ${name} ${dir}V${fam}[${i}]`, this.f.warnings);
        if (r) out.push(r);
      });
    }
    return out;
  }

  /** calico_export_to_bgp_peers for one family (see the module comment for the order). */
  private calicoExport(fam: Fam): DeclarativeRule[] {
    const cached = this.calico.get(fam);
    if (cached) return cached;
    const f = this.f;
    const rules: DeclarativeRule[] = [];
    const pools = f.pools.filter((p) => p.cidr.version === fam).sort((a, b) => byPrefix(a.cidr, b.cidr));
    for (const p of pools) if (p.disableBGPExport) rules.push({ match: inside(p.cidr), action: 'reject' });
    for (const adv of f.communityRules) {
      if (adv.cidr.version !== fam) continue;
      const ops = adv.communities.map(communityOp).filter((o): o is Operation => o !== undefined);
      if (ops.length) rules.push({ match: inside(adv.cidr), operations: ops, action: 'continue' });
    }
    for (const b of aggregatedBlocks(f, fam)) {
      rules.push({ match: { prefix: { cidr: b.toString(), exact: true } }, action: 'accept' });
      rules.push({ match: inside(b), action: 'reject' });
    }
    if (!servicesExcluded(f)) for (const s of serviceRanges(f)) if (s.version === fam) rules.push({ match: inside(s), action: 'accept' });
    if (f.self?.rrClusterId) for (const lb of f.serviceLoadBalancerIPs) if (lb.version === fam) rules.push({ match: inside(lb), action: 'accept' });
    for (const p of pools) if (!p.disableBGPExport) rules.push({ match: inside(p.cidr), action: 'accept' });
    this.calico.set(fam, rules);
    return rules;
  }
}

/** A PolicySource for callers that only need the peer list (no policies). */
export const NO_POLICIES: PolicySource = {
  exportPolicy: () => ({ rules: [], defaultAction: 'reject' }),
  importPolicy: () => ({ rules: [] }),
};

// ----- originated routes ----------------------------------------------------------------------

/**
 * The routes this node puts into BGP (what BIRD's static protocol and kernel learning feed in):
 *  - our confirmed / state-less affine blocks (not host-length ones unless something is allocated
 *    in them), outside disableBGPExport pools;
 *  - a host route for each address WE allocated inside a block affine to another node (or to no
 *    node): borrowed IPs, which BIRD learns from Felix's `cali*` kernel routes;
 *  - the service ranges, unless this node is excluded from service advertisement.
 * Each carries the communities of every prefixAdvertisement whose CIDR contains it.
 */
export function originatedRoutes(f: Facts): OriginatedRoute[] {
  const out = new Map<string, Prefix>();
  const exportable = (p: Prefix) => {
    const pool = poolOf(f, p);
    return pool !== undefined && !pool.disableBGPExport;
  };
  for (const fam of [4, 6] as const) {
    for (const b of aggregatedBlocks(f, fam)) {
      if (isHostLength(b) && !f.blocks.some((x) => x.cidr.equals(b) && x.info.allocations.length > 0)) continue;
      if (poolOf(f, b)?.disableBGPExport) continue;
      out.set(b.toString(), b);
    }
  }
  for (const { info, cidr } of f.blocks) {
    if (info.affinityHost === f.me) continue;
    for (const a of info.allocations) {
      if (a.node !== f.me) continue;
      const ip = IP.tryParse(a.ip);
      if (!ip || !cidr.contains(ip)) continue;
      const host = Prefix.of(ip, ip.bits);
      if (exportable(host)) out.set(host.toString(), host);
    }
  }
  if (!servicesExcluded(f)) for (const s of serviceRanges(f)) out.set(s.toString(), s);

  return [...out.values()].sort(byPrefix).map((p) => {
    const r: OriginatedRoute = { prefix: p.toString() };
    const std: string[] = [];
    const large: string[] = [];
    for (const adv of f.communityRules) {
      if (!adv.cidr.containsPrefix(p)) continue;
      for (const c of adv.communities) {
        const list = typeof parseCommunityValue(c) === 'number' ? std : large;
        if (!list.includes(c)) list.push(c);
      }
    }
    if (std.length) r.communities = std;
    if (large.length) r.largeCommunities = large;
    return r;
  });
}
