/*
 * Session rules on the way in and out of the RIB (RFC 4271 §9.1.1-§9.1.3, RFC 4456, RFC 1997).
 *
 * Import (per UPDATE, before interning): `checkImport` drops routes that loop — our AS in the AS_PATH more than
 * `allowOwnAs` times (BIRD `allow local as N`, Calico numAllowedLocalASNumbers), ORIGINATOR_ID equal to our
 * router id or our cluster id in CLUSTER_LIST (RFC 4456 §8) — and strips what an eBGP peer must not set
 * (LOCAL_PREF, RFC 4271 §5.1.5; ORIGINATOR_ID / CLUSTER_LIST, iBGP-only).
 *
 * Export (per best route, once per update group): `Exporter.export` decides whether the group gets the route and
 * with which attributes:
 *   1. scope: NO_ADVERTISE → nobody; NO_EXPORT(_SUBCONFED) → no eBGP peer; iBGP-learned → iBGP only when
 *      reflecting (RFC 4456 §6: client routes to clients and non-clients, non-client routes to clients only);
 *   2. the group's export policy (policy.ts), which sees the route as it is in the Loc-RIB;
 *   3. rewriting: to eBGP strip confederation segments and prepend our AS, next hop self (modes auto/self; `keep` keeps it), drop LOCAL_PREF,
 *      ORIGINATOR_ID and CLUSTER_LIST, drop MED unless the route is ours, the policy set it, or `sendMed`; to iBGP
 *      add LOCAL_PREF when missing, next hop kept (auto/keep) or self, and when reflecting set ORIGINATOR_ID (if
 *      absent) and prepend our cluster id to CLUSTER_LIST (RFC 4456 §8).
 * Step 3 is cached per (attribute set, group, kind of source) in the AttrTable, so exporting one set to many
 * peers and many prefixes allocates once. "Never back to the sender" is per member, handled by the update group.
 */

import { v4Contains, v4Format, v4Mask, v4Parse } from '../../net/v4.js';
import type { Policy, PolicyContext } from '../policy.js';
import type { Family, PathAttributes, Prefix4, Prefix6 } from '../types.js';
import { AS_PATH_SEGMENT } from '../types.js';
import { WK, type AttrSet, type AttrTable } from './attrs.js';
import type { PeerInfo } from './peers.js';

export type NextHopMode = 'auto' | 'self' | 'keep';

export interface ImportProfile {
  localAs: number;
  /** Our BGP identifier (dotted quad). */
  routerId: string;
  /** Our RFC 4456 cluster id; defaults to the router id. */
  clusterId?: string;
  /** How many times our own AS may appear in a received AS_PATH (default 0). */
  allowOwnAs?: number;
}

export type ImportVerdict =
  | { readonly ok: true; readonly attrs: PathAttributes }
  | { readonly ok: false; readonly reason: 'as-loop' | 'originator-loop' | 'cluster-loop' };

/** Loop checks and eBGP stripping for one received attribute set (RFC 4271 §9.1.2, RFC 4456 §8). */
export function checkImport(from: PeerInfo, attrs: PathAttributes, p: ImportProfile): ImportVerdict {
  let own = 0;
  for (const seg of attrs.asPath) for (const asn of seg.asns) if (asn === p.localAs) own++;
  if (own > (p.allowOwnAs ?? 0)) return { ok: false, reason: 'as-loop' };
  if (from.kind === 'ebgp') {
    if (attrs.localPref === undefined && attrs.originatorId === undefined && attrs.clusterList === undefined) {
      return { ok: true, attrs };
    }
    const { localPref: _lp, originatorId: _oid, clusterList: _cl, ...rest } = attrs;
    return { ok: true, attrs: rest };
  }
  if (attrs.originatorId !== undefined && attrs.originatorId === p.routerId) return { ok: false, reason: 'originator-loop' };
  if (attrs.clusterList?.includes(p.clusterId ?? p.routerId)) return { ok: false, reason: 'cluster-loop' };
  return { ok: true, attrs };
}

/** What makes two peers' exports identical: peers with equal profiles share an update group. */
export interface ExportProfile {
  /** Session type of the receiving peer. */
  kind: 'ibgp' | 'ebgp';
  /** The receiving peer is our route-reflector client. */
  rrClient: boolean;
  localAs: number;
  routerId: string;
  /** Defaults to the router id. */
  clusterId?: string;
  nextHop: NextHopMode;
  /** Our address on the session, for next hop self (IPv4 routes). */
  localAddress4?: string;
  /**
   * The IPv4 subnet we share with the peer (our interface's, when the peer is inside it). Towards an
   * eBGP peer in `auto` mode, a route whose next hop is inside it keeps that next hop (a "third-party"
   * next hop, RFC 4271 §5.1.3; BIRD's default), so the peer forwards straight to the host that owns
   * the route instead of through us.
   */
  sharedSubnet4?: string;
  /** Our addresses on the session, for next hop self (IPv6 routes, RFC 2545 §3). */
  localAddress6?: { global: string; linkLocal?: string };
  /** eBGP: keep MED on routes learned from iBGP / other ASes (otherwise only ours or policy-set MEDs go out). */
  sendMed?: boolean;
  /** LOCAL_PREF added towards iBGP when a route has none (RFC 4271 §5.1.5). Default 100. */
  defaultLocalPref?: number;
  /** Encoding facts: not used here but part of the group identity. */
  fourOctetAs: boolean;
  families: readonly Family[];
  /** Export policy; its `id` is part of the group key. */
  policy?: Policy;
}

/** The update-group key of a profile. */
export function groupKey(p: ExportProfile): string {
  const a6 = p.localAddress6 === undefined ? '' : `${p.localAddress6.global},${p.localAddress6.linkLocal ?? ''}`;
  return [
    p.kind,
    p.rrClient ? 'c' : 'n',
    p.localAs,
    p.routerId,
    p.clusterId ?? '',
    p.nextHop,
    p.localAddress4 ?? '',
    p.sharedSubnet4 ?? '',
    a6,
    p.sendMed === true ? 'm' : '',
    p.defaultLocalPref ?? 100,
    p.fourOctetAs ? '4' : '2',
    [...p.families].sort().join(','),
    p.policy?.id ?? '',
  ].join('|');
}

/** Why a route is not exported (for `explain`). */
export type ExportRefusal = 'no-advertise' | 'no-export' | 'split-horizon' | 'policy';

export class Exporter {
  private shared4: { net: number; len: number } | null | undefined;

  /** Whether an IPv4 next hop is inside the subnet shared with the peer (parsed once per exporter). */
  private inSharedSubnet(nextHop: string): boolean {
    if (this.shared4 === undefined) {
      const [addr, lenText] = (this.profile.sharedSubnet4 ?? '').split('/');
      const n = addr ? v4Parse(addr) : -1;
      const len = Number(lenText);
      this.shared4 = n < 0 || !Number.isInteger(len) || len < 0 || len > 32 ? null : { net: (n & v4Mask(len)) >>> 0, len };
    }
    if (this.shared4 === null) return false;
    const nh = v4Parse(nextHop);
    return nh >= 0 && v4Contains(this.shared4.net, this.shared4.len, nh);
  }

  readonly key: string;
  private readonly op: string;
  private readonly reflectOps: Record<Family, string[]> = { ipv4: [], ipv6: [] };
  private readonly reflectIds: Record<Family, number[]> = { ipv4: [], ipv6: [] };
  private readonly clusterId: string;
  private readonly memo: { attrs: AttrSet | null; src: PeerInfo | null; family: Family; out: AttrSet | null } = {
    attrs: null,
    src: null,
    family: 'ipv4',
    out: null,
  };
  /** Op strings built once (V8 caches a string's hash on the string, so Map lookups with them are cheap). */
  private readonly plainOps: Record<Family, Record<PeerInfo['kind'], string[]>>;

  constructor(
    readonly profile: ExportProfile,
    private readonly table: AttrTable,
  ) {
    this.key = groupKey(profile);
    this.op = 'x' + this.key + '|';
    this.clusterId = profile.clusterId ?? profile.routerId;
    const ops = (f: Family, k: string): string[] => [`${this.op}${f}|${k}`, `${this.op}${f}|${k}|m`];
    this.plainOps = {
      ipv4: { local: ops('ipv4', 'local'), ibgp: ops('ipv4', 'ibgp'), ebgp: ops('ipv4', 'ebgp') },
      ipv6: { local: ops('ipv6', 'local'), ibgp: ops('ipv6', 'ibgp'), ebgp: ops('ipv6', 'ebgp') },
    };
  }

  /** The attributes this group sends for the best route (`src`, `attrs`) of `prefix`, or null. */
  export(family: Family, prefix: Prefix4 | Prefix6, src: PeerInfo, attrs: AttrSet): AttrSet | null {
    // Consecutive routes mostly share source and attributes (one UPDATE, many prefixes): remember the last answer.
    // Without a policy it does not depend on the prefix; the result may have been freed since (collect).
    const memo = this.memo;
    if (memo.attrs === attrs && memo.src === src && memo.family === family && this.profile.policy === undefined) {
      const out = memo.out;
      if (out === null || this.table.isLive(out)) return out;
    }
    const out = this.compute(family, prefix, src, attrs);
    memo.attrs = attrs;
    memo.src = src;
    memo.family = family;
    memo.out = out;
    return out;
  }

  private compute(family: Family, prefix: Prefix4 | Prefix6, src: PeerInfo, attrs: AttrSet): AttrSet | null {
    if (this.refusal(src, attrs) !== undefined) return null;
    let set = attrs;
    let medFromPolicy = false;
    const policy = this.profile.policy;
    if (policy !== undefined) {
      const ctx: PolicyContext = { family, direction: 'export', peerKind: this.profile.kind, source: src.kind === 'local' ? 'local' : 'bgp' };
      const r = policy.evaluate(prefix, attrs, ctx, this.table);
      if (r.attrs === null) return null;
      medFromPolicy = r.medSet;
      set = r.attrs;
    }
    return this.rewrite(family, src, set, medFromPolicy);
  }

  /** Why `export` would refuse before policy (undefined when the scope rules let it through). */
  refusal(src: PeerInfo, attrs: AttrSet): ExportRefusal | undefined {
    if (attrs.wellKnown & WK.NO_ADVERTISE) return 'no-advertise'; // RFC 1997
    const p = this.profile;
    if (p.kind === 'ebgp') {
      if (attrs.wellKnown & (WK.NO_EXPORT | WK.NO_EXPORT_SUBCONFED)) return 'no-export'; // RFC 1997
      return undefined;
    }
    // iBGP target: RFC 4271 §9.1.3 split horizon, relaxed by RFC 4456 §6 reflection.
    if (src.kind === 'ibgp' && !src.rrClient && !p.rrClient) return 'split-horizon';
    return undefined;
  }

  private rewrite(family: Family, src: PeerInfo, set: AttrSet, medFromPolicy: boolean): AttrSet {
    const p = this.profile;
    const reflect = p.kind === 'ibgp' && src.kind === 'ibgp';
    let op: string;
    if (reflect) {
      // One op string per source peer, built once: the ORIGINATOR_ID it adds is that peer's router id.
      const cached = this.reflectOps[family][src.index];
      if (cached !== undefined && this.reflectIds[family][src.index] === src.routerId) {
        op = cached;
      } else {
        op = this.op + family + '|r|' + src.routerId;
        this.reflectOps[family][src.index] = op;
        this.reflectIds[family][src.index] = src.routerId;
      }
    } else {
      op = this.plainOps[family][src.kind][medFromPolicy ? 1 : 0] as string;
    }
    const hit = this.table.lookupDerived(set, op);
    if (hit !== undefined) return hit;
    return this.table.derive(set, op, (a) => this.rewriteAttrs(family, src, a, reflect, medFromPolicy));
  }

  private rewriteAttrs(
    family: Family,
    src: PeerInfo,
    a: Readonly<PathAttributes>,
    reflect: boolean,
    medFromPolicy: boolean,
  ): PathAttributes {
    const p = this.profile;
    const out: PathAttributes = { ...a };
    const thirdParty = p.kind === 'ebgp' && p.nextHop === 'auto' && family === 'ipv4' && a.nextHop !== undefined && this.inSharedSubnet(a.nextHop);
    const self = p.nextHop === 'self' || (p.kind === 'ebgp' && p.nextHop === 'auto' && !thirdParty);
    const hasNextHop = family === 'ipv4' ? a.nextHop !== undefined : a.mpNextHop !== undefined;
    if (self || !hasNextHop) {
      if (family === 'ipv4' && p.localAddress4 !== undefined) out.nextHop = p.localAddress4;
      if (family === 'ipv6' && p.localAddress6 !== undefined) out.mpNextHop = { ...p.localAddress6 };
    }
    if (out.mpNextHop === a.mpNextHop && a.mpNextHop?.linkLocal !== undefined) {
      // A next hop passed on unchanged loses its link-local part (RFC 2545 §3: only for peers on that link,
      // which only the router owning the address can tell; FRR does the same). Reflected to FRR, it was refused.
      out.mpNextHop = { global: a.mpNextHop.global };
    }
    if (p.kind === 'ebgp') {
      // RFC 5065 §5.3: confederation segments (legal from iBGP) never leave for an external peer, who would
      // find the AS_PATH malformed (RFC 7606 §7.2). tortie is in no confederation: strip them all.
      const path = a.asPath.some((s) => s.type === AS_PATH_SEGMENT.CONFED_SEQUENCE || s.type === AS_PATH_SEGMENT.CONFED_SET)
        ? a.asPath.filter((s) => s.type !== AS_PATH_SEGMENT.CONFED_SEQUENCE && s.type !== AS_PATH_SEGMENT.CONFED_SET)
        : a.asPath;
      const head = path[0];
      out.asPath =
        head !== undefined && head.type === AS_PATH_SEGMENT.SEQUENCE && head.asns.length < 255
          ? [{ type: AS_PATH_SEGMENT.SEQUENCE, asns: [p.localAs, ...head.asns] }, ...path.slice(1)]
          : [{ type: AS_PATH_SEGMENT.SEQUENCE, asns: [p.localAs] }, ...path];
      delete out.localPref;
      delete out.originatorId;
      delete out.clusterList;
      if (!(src.kind === 'local' || medFromPolicy || p.sendMed === true)) delete out.med; // RFC 4271 §5.1.4
      return out;
    }
    if (out.localPref === undefined) out.localPref = p.defaultLocalPref ?? 100;
    if (reflect) {
      out.originatorId = a.originatorId ?? v4Format(src.routerId); // RFC 4456 §8
      out.clusterList = [this.clusterId, ...(a.clusterList ?? [])];
    }
    return out;
  }
}
