/*
 * Import and export policy: ordered rules over a route (prefix + interned attribute set), and max-prefix limits.
 *
 * A Policy is a list of rules tried in order, then a default action. A declarative rule has a match (every given
 * condition must hold), operations applied when it matches, and an action: 'accept' or 'reject' end the
 * evaluation, 'continue' keeps the modified route and goes on to the next rule. A hook rule is a function
 * `(route, ctx, table) => decision` for what the declarative form cannot say.
 *
 * Calico BGPFilter (calico-compat.md §1.3) maps one to one — each BGPFilter rule is a declarative rule:
 *   cidr + matchOperator Equal/NotEqual  → prefix {cidr, exact: true, negate: NotEqual}
 *   cidr + In/NotIn (or any + prefixLength) → prefix {cidr, minLength, maxLength, negate: NotIn}
 *     (`calicoPrefixMatch` does this, with Calico's length defaults: min = cidr length, max = 32/128, clamped)
 *   source RemotePeers → source 'bgp';  peerType eBGP/iBGP → peerType;  communities {values:[v]} → community
 *   asPathPrefix [a, b] → asPathStartsWith [a, b];  action Accept/Reject → action
 *   operations: addCommunity → addCommunity / addLargeCommunity; prependASPath{prefix} → prependAsPath {asns};
 *   several filters on one peer: concatenate their rules, in order. `interface` and `priority` (kernel facts,
 *   not BGP attributes) need a hook.
 *
 * Operations produce interned sets through the AttrTable's derive cache, so a rule that adds a community to a
 * million routes sharing one set allocates one new set. Evaluation itself allocates nothing per route unless a
 * hook does. Compilation errors (bad CIDR, bad length range) throw RibError BAD_POLICY.
 */

import { v4Mask, v4Parse } from '../net/v4.js';
import { v6Mask, v6Parse } from '../net/v6.js';
import { RibError } from './rib/errors.js';
import type { AttrSet, AttrTable } from './rib/attrs.js';
import { AS_PATH_SEGMENT, type Family, type Prefix4, type Prefix6 } from './types.js';

export type PolicyDirection = 'import' | 'export';

export interface PolicyContext {
  family: Family;
  direction: PolicyDirection;
  /** The session the route comes from (import) or goes to (export). */
  peerKind: 'ibgp' | 'ebgp';
  /** Where the route was learned: from a BGP peer, or originated by this speaker. */
  source: 'bgp' | 'local';
}

export interface PrefixMatch {
  /** IPv4 or IPv6 CIDR; a rule for one family never matches the other's prefixes (even negated). */
  cidr: string;
  /** Match the CIDR itself only (default: the CIDR and the prefixes inside it within the length range). */
  exact?: boolean;
  /** Default: the CIDR's length. */
  minLength?: number;
  /** Default: 32 / 128. */
  maxLength?: number;
  negate?: boolean;
}

export interface RuleMatch {
  prefix?: PrefixMatch;
  /** An RFC 1997 community (uint32) or an RFC 8092 large community the route must carry. */
  community?: number | readonly [number, number, number];
  /** The AS_PATH contains this AS. */
  asPathContains?: number;
  /** The AS_PATH begins with these ASes (segments flattened, confederation segments skipped). */
  asPathStartsWith?: readonly number[];
  peerType?: 'ibgp' | 'ebgp';
  source?: 'bgp' | 'local';
  family?: Family;
}

export type Operation =
  | { addCommunity: number }
  | { addLargeCommunity: readonly [number, number, number] }
  /** `asns` end up first in the path, in this order, `times` times over (default once). */
  | { prependAsPath: readonly number[]; times?: number }
  | { setLocalPref: number }
  | { setMed: number };

export type RuleAction = 'accept' | 'reject' | 'continue';

export interface DeclarativeRule {
  match?: RuleMatch;
  operations?: readonly Operation[];
  action: RuleAction;
}

export interface RouteView {
  readonly family: Family;
  readonly prefix: Prefix4 | Prefix6;
  readonly attrs: AttrSet;
}

/** 'continue' passes; `{accept}` / `{continue}` carry a modified set (interned through `table`). */
export type HookDecision = RuleAction | { accept: AttrSet } | { continue: AttrSet };
export type PolicyHook = (route: RouteView, ctx: PolicyContext, table: AttrTable) => HookDecision;

export interface HookRule {
  hook: PolicyHook;
}

export type PolicyRule = DeclarativeRule | HookRule;

export interface PolicyDefinition {
  name?: string;
  rules: readonly PolicyRule[];
  /** When no rule accepts or rejects. Default 'accept'. */
  defaultAction?: 'accept' | 'reject';
}

/** What `evaluate` decided and which rule decided it (-1: the default action). */
export interface PolicyResult {
  readonly attrs: AttrSet | null;
  readonly rule: number;
  /** A rule set the MED (export keeps such a MED towards eBGP, like BIRD's filter-set attributes). */
  readonly medSet: boolean;
}

interface CompiledPrefix {
  family: Family;
  exact: boolean;
  negate: boolean;
  len: number;
  min: number;
  max: number;
  net4: number;
  net6: bigint;
}

interface CompiledRule {
  hook?: PolicyHook;
  match?: RuleMatch;
  prefix?: CompiledPrefix;
  ops: { setsMed: boolean; apply: (s: AttrSet, t: AttrTable) => AttrSet }[];
  action: RuleAction;
}

let serial = 0; // identity of Policy objects, for update-group keys

function bad(msg: string): never {
  throw new RibError('BAD_POLICY', msg);
}

function compilePrefix(m: PrefixMatch): CompiledPrefix {
  const slash = m.cidr.indexOf('/');
  if (slash < 0) bad(`prefix match needs a CIDR, got ${m.cidr}`);
  const addr = m.cidr.slice(0, slash);
  const len = Number(m.cidr.slice(slash + 1));
  const v4 = v4Parse(addr);
  const family: Family = v4 >= 0 ? 'ipv4' : 'ipv6';
  const bits = family === 'ipv4' ? 32 : 128;
  if (!Number.isInteger(len) || len < 0 || len > bits) bad(`bad prefix length in ${m.cidr}`);
  let net4 = 0;
  let net6 = 0n;
  if (family === 'ipv4') net4 = (v4 & v4Mask(len)) >>> 0;
  else {
    const v6 = v6Parse(addr);
    if (v6 === undefined) bad(`not a CIDR: ${m.cidr}`);
    net6 = v6 & v6Mask(len);
  }
  const min = Math.max(len, m.minLength ?? len);
  const max = Math.min(bits, m.maxLength ?? bits);
  if (min > max) bad(`empty length range ${min}..${max} for ${m.cidr}`);
  return { family, exact: m.exact === true, negate: m.negate === true, len, min, max, net4, net6 };
}

function compileOp(o: Operation): { setsMed: boolean; apply: (s: AttrSet, t: AttrTable) => AttrSet } {
  if ('addCommunity' in o) return { setsMed: false, apply: (s, t) => t.addCommunities(s, [o.addCommunity]) };
  if ('addLargeCommunity' in o) {
    return { setsMed: false, apply: (s, t) => t.addLargeCommunities(s, [o.addLargeCommunity]) };
  }
  if ('prependAsPath' in o) {
    const asns = o.prependAsPath.slice();
    const times = o.times ?? 1;
    if (asns.length === 0 || times < 1) bad('prependAsPath needs at least one AS, once or more');
    const block: number[] = [];
    for (let i = 0; i < times; i++) block.push(...asns);
    const key = `pp${block.join(',')}`;
    return {
      setsMed: false,
      apply: (s, t) =>
        t.derive(s, key, (a) => {
          const head = a.asPath[0];
          if (head !== undefined && head.type === AS_PATH_SEGMENT.SEQUENCE && head.asns.length + block.length <= 255) {
            return { ...a, asPath: [{ type: AS_PATH_SEGMENT.SEQUENCE, asns: [...block, ...head.asns] }, ...a.asPath.slice(1)] };
          }
          return { ...a, asPath: [{ type: AS_PATH_SEGMENT.SEQUENCE, asns: block }, ...a.asPath] };
        }),
    };
  }
  if ('setLocalPref' in o) return { setsMed: false, apply: (s, t) => t.setLocalPref(s, o.setLocalPref) };
  if ('setMed' in o) return { setsMed: true, apply: (s, t) => t.setMed(s, o.setMed) };
  return bad('unknown operation');
}

function prefixMatches(c: CompiledPrefix, family: Family, prefix: Prefix4 | Prefix6): boolean {
  if (family !== c.family) return false;
  let hit: boolean;
  if (family === 'ipv4') {
    const p = prefix as Prefix4;
    const addr = Math.floor(p / 64);
    const len = p - addr * 64;
    hit = c.exact
      ? len === c.len && addr === c.net4
      : len >= c.min && len <= c.max && (c.len === 0 || ((addr & v4Mask(c.len)) >>> 0) === c.net4);
  } else {
    const s = prefix as Prefix6;
    const slash = s.lastIndexOf('/');
    const len = Number(s.slice(slash + 1));
    const v = v6Parse(s.slice(0, slash));
    if (v === undefined) return false;
    hit = c.exact ? len === c.len && v === c.net6 : len >= c.min && len <= c.max && (v & v6Mask(c.len)) === c.net6;
  }
  return hit !== c.negate;
}

function flatPathStartsWith(attrs: AttrSet, asns: readonly number[]): boolean {
  let k = 0;
  for (const seg of attrs.attrs.asPath) {
    if (seg.type === AS_PATH_SEGMENT.CONFED_SEQUENCE || seg.type === AS_PATH_SEGMENT.CONFED_SET) continue;
    for (const asn of seg.asns) {
      if (k === asns.length) return true;
      if (asn !== asns[k]) return false;
      k++;
    }
  }
  return k === asns.length;
}

function matches(r: CompiledRule, route: RouteView, ctx: PolicyContext): boolean {
  const m = r.match;
  if (m === undefined) return true;
  if (m.family !== undefined && m.family !== route.family) return false;
  if (m.peerType !== undefined && m.peerType !== ctx.peerKind) return false;
  if (m.source !== undefined && m.source !== ctx.source) return false;
  if (r.prefix !== undefined && !prefixMatches(r.prefix, route.family, route.prefix)) return false;
  const a = route.attrs.attrs;
  if (m.community !== undefined) {
    const c = m.community;
    if (typeof c === 'number') {
      if (!(a.communities ?? []).includes(c)) return false;
    } else if (!(a.largeCommunities ?? []).some((l) => l[0] === c[0] && l[1] === c[1] && l[2] === c[2])) return false;
  }
  if (m.asPathContains !== undefined && !a.asPath.some((s) => s.asns.includes(m.asPathContains as number))) return false;
  if (m.asPathStartsWith !== undefined && !flatPathStartsWith(route.attrs, m.asPathStartsWith)) return false;
  return true;
}

export class Policy {
  /** Identity for update-group keys: two peers share a group only with the same Policy object. */
  readonly id: string;
  readonly name: string;
  private readonly rules: CompiledRule[];
  private readonly defaultAction: 'accept' | 'reject';

  constructor(def: PolicyDefinition) {
    this.name = def.name ?? 'policy';
    this.id = `${this.name}#${++serial}`;
    this.defaultAction = def.defaultAction ?? 'accept';
    this.rules = def.rules.map((r): CompiledRule => {
      if ('hook' in r) return { hook: r.hook, ops: [], action: 'continue' };
      const c: CompiledRule = { ops: (r.operations ?? []).map(compileOp), action: r.action };
      if (r.match !== undefined) c.match = r.match;
      if (r.match?.prefix !== undefined) c.prefix = compilePrefix(r.match.prefix);
      if (r.action === 'reject' && c.ops.length > 0) bad('operations are only allowed with accept or continue');
      return c;
    });
  }

  /** The route's attributes after policy, or null when rejected. */
  apply(prefix: Prefix4 | Prefix6, attrs: AttrSet, ctx: PolicyContext, table: AttrTable): AttrSet | null {
    return this.evaluate(prefix, attrs, ctx, table).attrs;
  }

  /** As `apply`, also naming the deciding rule (for `tortie bgp routes --explain`). */
  evaluate(prefix: Prefix4 | Prefix6, attrs: AttrSet, ctx: PolicyContext, table: AttrTable): PolicyResult {
    let cur = attrs;
    let medSet = false;
    for (let i = 0; i < this.rules.length; i++) {
      const r = this.rules[i] as CompiledRule;
      if (r.hook !== undefined) {
        const d = r.hook({ family: ctx.family, prefix, attrs: cur }, ctx, table);
        if (d === 'accept') return { attrs: cur, rule: i, medSet };
        if (d === 'reject') return { attrs: null, rule: i, medSet };
        if (d === 'continue') continue;
        const next = 'accept' in d ? d.accept : d.continue;
        medSet ||= next.med !== cur.med;
        cur = next;
        if ('accept' in d) return { attrs: cur, rule: i, medSet };
        continue;
      }
      if (!matches(r, { family: ctx.family, prefix, attrs: cur }, ctx)) continue;
      if (r.action === 'reject') return { attrs: null, rule: i, medSet };
      for (const o of r.ops) {
        cur = o.apply(cur, table);
        medSet ||= o.setsMed;
      }
      if (r.action === 'accept') return { attrs: cur, rule: i, medSet };
    }
    return { attrs: this.defaultAction === 'accept' ? cur : null, rule: -1, medSet };
  }
}

/** Calico's cidr + matchOperator (+ prefixLength) as a PrefixMatch (template_funcs.go filterMatchCIDR). */
export function calicoPrefixMatch(
  cidr: string,
  operator: 'Equal' | 'NotEqual' | 'In' | 'NotIn',
  prefixLength?: { min?: number; max?: number },
): PrefixMatch {
  const negate = operator === 'NotEqual' || operator === 'NotIn';
  const exact = (operator === 'Equal' || operator === 'NotEqual') && prefixLength === undefined;
  const m: PrefixMatch = { cidr, exact, negate };
  if (prefixLength?.min !== undefined) m.minLength = prefixLength.min;
  if (prefixLength?.max !== undefined) m.maxLength = prefixLength.max;
  return m;
}

// --- max-prefix (RFC 4486 §4) ---

export interface MaxPrefixConfig {
  /** Most prefixes accepted from the peer (per family). */
  limit: number;
  /** Over the limit: refuse further prefixes, or tear the session down (Cease / Maximum Number of Prefixes Reached). */
  action: 'reject' | 'teardown';
  /** Fraction of the limit (0..1) at which `admit` first reports 'warn'. */
  warnAt?: number;
}

export type MaxPrefixVerdict = 'accept' | 'warn' | 'reject' | 'teardown';

export class MaxPrefix {
  private warned = false;

  constructor(readonly config: MaxPrefixConfig) {
    if (!(config.limit >= 0)) bad('max-prefix limit must be ≥ 0');
  }

  /**
   * May one more NEW prefix be accepted when `count` are already? 'warn' (once, when crossing `warnAt`) also
   * means accept. Replacements of existing prefixes do not count: do not ask for them.
   */
  admit(count: number): MaxPrefixVerdict {
    if (count >= this.config.limit) return this.config.action;
    if (!this.warned && this.config.warnAt !== undefined && count + 1 >= this.config.limit * this.config.warnAt) {
      this.warned = true;
      return 'warn';
    }
    return 'accept';
  }

  /** Re-arms the warning (the count fell back, or the session restarted). */
  reset(): void {
    this.warned = false;
  }
}

/** RFC 4486 §4: Cease, subcode 1, data = AFI (2) + SAFI (1) + the limit (4). */
export const CEASE_MAX_PREFIXES = { code: 6, subcode: 1 } as const;

export function maxPrefixNotificationData(afi: number, safi: number, limit: number): Uint8Array {
  const d = new Uint8Array(7);
  const v = new DataView(d.buffer);
  v.setUint16(0, afi);
  v.setUint8(2, safi);
  v.setUint32(3, limit >>> 0);
  return d;
}
