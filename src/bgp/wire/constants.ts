/*
 * BGP-4 wire constants: message types, path attribute codes and flags, capability codes, NOTIFICATION
 * codes and subcodes, AFI/SAFI. Each table is an `as const` object with a derived union type (STYLE 4);
 * the trailing comment names the RFC section that defines it.
 *
 * Only numbers live here. Names for logs are in `names.ts`.
 */

import { AFI, SAFI } from '../types.js';

export { AFI, SAFI };
export type Afi = (typeof AFI)[keyof typeof AFI];
export type Safi = (typeof SAFI)[keyof typeof SAFI];

/** Header: 16-octet marker of all ones, 2-octet length, 1-octet type. RFC 4271 §4.1 */
export const HEADER_LENGTH = 19;
export const MARKER_LENGTH = 16;
/** Largest message without the extended message capability (RFC 4271 §4.1), and with it (RFC 8654 §3). */
export const MAX_MESSAGE_LENGTH = 4096;
export const MAX_EXTENDED_MESSAGE_LENGTH = 65535;

export const MSG = {
  OPEN: 1,
  UPDATE: 2,
  NOTIFICATION: 3,
  KEEPALIVE: 4,
  ROUTE_REFRESH: 5, // RFC 2918 §3
} as const; // RFC 4271 §4.1
export type MsgType = (typeof MSG)[keyof typeof MSG];

/** Smallest valid length of each message type, header included. */
export const MIN_LENGTH = {
  [MSG.OPEN]: 29, // RFC 4271 §4.2
  [MSG.UPDATE]: 23, // RFC 4271 §4.3
  [MSG.NOTIFICATION]: 21, // RFC 4271 §4.5
  [MSG.KEEPALIVE]: 19, // RFC 4271 §4.4 (also the largest)
  [MSG.ROUTE_REFRESH]: 23, // RFC 2918 §3 (also the largest)
} as const;

export const BGP_VERSION = 4; // RFC 4271 §4.2
/** The 2-octet stand-in for a 4-octet AS number. RFC 6793 §9 */
export const AS_TRANS = 23456;

export const OPT_PARAM = {
  CAPABILITIES: 2, // RFC 5492 §4
  EXTENDED_LENGTH: 255, // RFC 9072 §2: "Non-Ext OP Type" announcing extended optional parameters
} as const; // RFC 4271 §4.2
export type OptParamType = (typeof OPT_PARAM)[keyof typeof OPT_PARAM];

export const ATTR = {
  ORIGIN: 1, // RFC 4271 §5.1.1
  AS_PATH: 2, // RFC 4271 §5.1.2
  NEXT_HOP: 3, // RFC 4271 §5.1.3
  MULTI_EXIT_DISC: 4, // RFC 4271 §5.1.4
  LOCAL_PREF: 5, // RFC 4271 §5.1.5
  ATOMIC_AGGREGATE: 6, // RFC 4271 §5.1.6
  AGGREGATOR: 7, // RFC 4271 §5.1.7
  COMMUNITIES: 8, // RFC 1997
  ORIGINATOR_ID: 9, // RFC 4456 §8
  CLUSTER_LIST: 10, // RFC 4456 §8
  MP_REACH_NLRI: 14, // RFC 4760 §3
  MP_UNREACH_NLRI: 15, // RFC 4760 §4
  EXTENDED_COMMUNITIES: 16, // RFC 4360 §2
  AS4_PATH: 17, // RFC 6793 §3
  AS4_AGGREGATOR: 18, // RFC 6793 §3
  LARGE_COMMUNITY: 32, // RFC 8092 §3
} as const; // RFC 4271 §4.3, IANA "BGP Path Attributes"
export type AttrType = (typeof ATTR)[keyof typeof ATTR];

export const ATTR_FLAG = {
  OPTIONAL: 0x80,
  TRANSITIVE: 0x40,
  PARTIAL: 0x20,
  EXTENDED_LENGTH: 0x10,
} as const; // RFC 4271 §4.3
export type AttrFlag = (typeof ATTR_FLAG)[keyof typeof ATTR_FLAG];

export const CAP = {
  MULTIPROTOCOL: 1, // RFC 4760 §8
  ROUTE_REFRESH: 2, // RFC 2918 §2
  EXTENDED_NEXT_HOP: 5, // RFC 8950
  EXTENDED_MESSAGE: 6, // RFC 8654 §3
  ROLE: 9, // RFC 9234
  GRACEFUL_RESTART: 64, // RFC 4724 §3
  FOUR_OCTET_AS: 65, // RFC 6793 §9
  ADD_PATH: 69, // RFC 7911
  ENHANCED_ROUTE_REFRESH: 70, // RFC 7313 §3
  LONG_LIVED_GRACEFUL_RESTART: 71, // RFC 9494
  FQDN: 73, // draft-walton-bgp-hostname-capability
  ROUTE_REFRESH_CISCO: 128, // pre-standard RFC 2918 code, still sent by some speakers
} as const; // RFC 5492 §4, IANA "Capability Codes"
export type CapCode = (typeof CAP)[keyof typeof CAP];

/** Graceful restart: the 4 flag bits above the 12-bit restart time. RFC 4724 §3, RFC 8538 §2 */
export const GR_FLAG = {
  RESTART: 0x8, // R: the sender has restarted
  NOTIFICATION: 0x4, // N: the sender supports graceful restart after NOTIFICATION (RFC 8538)
} as const;
/** Graceful restart: per address family flags octet. RFC 4724 §3 */
export const GR_AF_FLAG = { FORWARDING: 0x80 } as const;

export const ERR = {
  MESSAGE_HEADER: 1,
  OPEN_MESSAGE: 2,
  UPDATE_MESSAGE: 3,
  HOLD_TIMER_EXPIRED: 4,
  FSM: 5,
  CEASE: 6,
  ROUTE_REFRESH_MESSAGE: 7, // RFC 7313 §5
  SEND_HOLD_TIMER_EXPIRED: 8, // RFC 9687
} as const; // RFC 4271 §4.5
export type ErrCode = (typeof ERR)[keyof typeof ERR];

export const HEADER_ERR = {
  CONNECTION_NOT_SYNCHRONIZED: 1,
  BAD_MESSAGE_LENGTH: 2,
  BAD_MESSAGE_TYPE: 3,
} as const; // RFC 4271 §4.5, §6.1
export type HeaderErr = (typeof HEADER_ERR)[keyof typeof HEADER_ERR];

export const OPEN_ERR = {
  UNSPECIFIC: 0, // RFC 4271 §6.2 (malformed recognized optional parameter)
  UNSUPPORTED_VERSION_NUMBER: 1,
  BAD_PEER_AS: 2,
  BAD_BGP_IDENTIFIER: 3,
  UNSUPPORTED_OPTIONAL_PARAMETER: 4,
  // 5: Authentication Failure, deprecated
  UNACCEPTABLE_HOLD_TIME: 6,
  UNSUPPORTED_CAPABILITY: 7, // RFC 5492 §5
  ROLE_MISMATCH: 11, // RFC 9234 §4.2
} as const; // RFC 4271 §4.5, §6.2
export type OpenErr = (typeof OPEN_ERR)[keyof typeof OPEN_ERR];

export const UPDATE_ERR = {
  MALFORMED_ATTRIBUTE_LIST: 1,
  UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE: 2,
  MISSING_WELL_KNOWN_ATTRIBUTE: 3,
  ATTRIBUTE_FLAGS_ERROR: 4,
  ATTRIBUTE_LENGTH_ERROR: 5,
  INVALID_ORIGIN_ATTRIBUTE: 6,
  // 7: AS Routing Loop, deprecated
  INVALID_NEXT_HOP_ATTRIBUTE: 8,
  OPTIONAL_ATTRIBUTE_ERROR: 9,
  INVALID_NETWORK_FIELD: 10,
  MALFORMED_AS_PATH: 11,
} as const; // RFC 4271 §4.5, §6.3
export type UpdateErr = (typeof UPDATE_ERR)[keyof typeof UPDATE_ERR];

export const FSM_ERR = {
  UNSPECIFIED: 0,
  UNEXPECTED_IN_OPENSENT: 1,
  UNEXPECTED_IN_OPENCONFIRM: 2,
  UNEXPECTED_IN_ESTABLISHED: 3,
} as const; // RFC 6608 §3
export type FsmErr = (typeof FSM_ERR)[keyof typeof FSM_ERR];

export const CEASE = {
  MAX_PREFIXES_REACHED: 1,
  ADMINISTRATIVE_SHUTDOWN: 2, // data: RFC 9003 shutdown communication
  PEER_DECONFIGURED: 3,
  ADMINISTRATIVE_RESET: 4, // data: RFC 9003 shutdown communication
  CONNECTION_REJECTED: 5,
  OTHER_CONFIGURATION_CHANGE: 6,
  CONNECTION_COLLISION_RESOLUTION: 7,
  OUT_OF_RESOURCES: 8,
  HARD_RESET: 9, // RFC 8538 §3: data is the inner code, subcode and data
  BFD_DOWN: 10, // RFC 9384
} as const; // RFC 4486 §4
export type CeaseSubcode = (typeof CEASE)[keyof typeof CEASE];

export const ROUTE_REFRESH_ERR = { INVALID_MESSAGE_LENGTH: 1 } as const; // RFC 7313 §5
export type RouteRefreshErr = (typeof ROUTE_REFRESH_ERR)[keyof typeof ROUTE_REFRESH_ERR];

export const ROUTE_REFRESH_SUBTYPE = {
  REQUEST: 0, // RFC 2918 normal route refresh
  BORR: 1, // Beginning of Route Refresh
  EORR: 2, // End of Route Refresh
} as const; // RFC 7313 §3.2
export type RouteRefreshSubtype = (typeof ROUTE_REFRESH_SUBTYPE)[keyof typeof ROUTE_REFRESH_SUBTYPE];

/** Longest RFC 9003 shutdown communication, in UTF-8 octets. RFC 9003 §2 */
export const MAX_SHUTDOWN_COMMUNICATION = 255;
