/**
 * The BGP engine's shared data model: address families, prefixes, path attributes and the
 * decoded messages the codec hands to sessions. Everything here is plain data so that the
 * codec, the FSM, the RIB and the speaker can each be tested alone.
 *
 * Memory is a feature (STYLE.md 8): an IPv4 prefix is ONE JS number, `addr * 64 + len`
 * (exact: < 2^38), never an object; IPv6 prefixes (few in a Calico cluster) are canonical text.
 * Path attribute sets are interned by the RIB and shared by every prefix that carries them.
 */

export const AFI = { IPV4: 1, IPV6: 2 } as const; // RFC 4760 §5, IANA address family numbers
export const SAFI = { UNICAST: 1 } as const; // RFC 4760 §6

export type Family = 'ipv4' | 'ipv6'; // unicast only
export const FAMILIES: readonly Family[] = ['ipv4', 'ipv6'];

/** IPv4 prefix packed into one number: `addr * 64 + len`, addr a uint32, len 0..32. */
export type Prefix4 = number;
/** IPv6 prefix as canonical text (RFC 5952 address, masked), e.g. `2001:db8::/32`. */
export type Prefix6 = string;

export const p4 = (addr: number, len: number): Prefix4 => (addr >>> 0) * 64 + len;
export const p4addr = (p: Prefix4): number => Math.floor(p / 64);
export const p4len = (p: Prefix4): number => p % 64;

/** Prefixes of both families, as the codec delivers them. */
export interface Nlri {
  v4: Prefix4[];
  v6: Prefix6[];
}

export const ORIGIN = { IGP: 0, EGP: 1, INCOMPLETE: 2 } as const; // RFC 4271 §5.1.1
export type Origin = (typeof ORIGIN)[keyof typeof ORIGIN];

export const AS_PATH_SEGMENT = { SET: 1, SEQUENCE: 2, CONFED_SEQUENCE: 3, CONFED_SET: 4 } as const; // RFC 4271 §4.3, RFC 5065
export type AsPathSegmentType = (typeof AS_PATH_SEGMENT)[keyof typeof AS_PATH_SEGMENT];

export interface AsPathSegment {
  type: AsPathSegmentType;
  asns: readonly number[];
}

/** An attribute tortie does not understand, kept to pass on (optional transitive, RFC 4271 §5). */
export interface UnknownAttribute {
  flags: number;
  type: number;
  value: Uint8Array;
}

/**
 * The path attributes of a route, decoded. Addresses are text. AS numbers are always 4-octet
 * values: towards 2-octet peers the codec maps AS_PATH/AS4_PATH (RFC 6793) both ways.
 * MP_REACH/MP_UNREACH are not attributes here: their NLRI are in the message, their next hop
 * in `mpNextHop`.
 */
export interface PathAttributes {
  origin: Origin;
  asPath: readonly AsPathSegment[];
  /** NEXT_HOP (IPv4 routes). */
  nextHop?: string;
  /** MP_REACH_NLRI next hop (IPv6 routes): global and optional link-local (RFC 2545 §3). */
  mpNextHop?: { global: string; linkLocal?: string };
  med?: number;
  localPref?: number;
  atomicAggregate?: boolean;
  aggregator?: { asn: number; address: string };
  /** RFC 1997 communities, each a uint32 (`asn << 16 | value`). */
  communities?: readonly number[];
  /** RFC 4456 */
  originatorId?: string;
  clusterList?: readonly string[];
  /** RFC 4360 extended communities, each 8 bytes as a bigint. */
  extCommunities?: readonly bigint[];
  /** RFC 8092 large communities. */
  largeCommunities?: readonly (readonly [number, number, number])[];
  unknown?: readonly UnknownAttribute[];
}

/** Well-known communities (RFC 1997, RFC 7999, RFC 8326). */
export const WELL_KNOWN_COMMUNITY = {
  NO_EXPORT: 0xffffff01,
  NO_ADVERTISE: 0xffffff02,
  NO_EXPORT_SUBCONFED: 0xffffff03,
  GRACEFUL_SHUTDOWN: 0xffff0000,
  BLACKHOLE: 0xffff029a,
} as const;

/** What a session negotiated in its OPEN exchange (RFC 5492 capabilities). */
export interface Negotiated {
  /** Hold time in seconds: the smaller of both (0 = no keepalives, RFC 4271 §4.2). */
  holdTime: number;
  keepaliveTime: number;
  peerAs: number;
  peerRouterId: string;
  fourOctetAs: boolean;
  families: Family[];
  routeRefresh: boolean;
  enhancedRouteRefresh: boolean;
  extendedMessage: boolean;
  /** The peer's graceful-restart capability (RFC 4724 §3), when it sent one. */
  gracefulRestart?: {
    restartTime: number;
    /** R bit: the peer has restarted. */
    restarting: boolean;
    /** N bit (RFC 8538) */
    notification: boolean;
    /** Per family: F bit (forwarding state preserved). */
    families: { family: Family; forwardingPreserved: boolean }[];
  };
}
