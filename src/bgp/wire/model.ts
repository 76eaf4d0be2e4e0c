/*
 * The decoded shapes of BGP messages and the session context the codec needs. Plain data (types.ts has the
 * route-level model: prefixes, path attributes). Every decoder returns one of these or a MessageError, never
 * throws on peer input.
 */

import type { Family, Nlri, PathAttributes, Prefix4, Prefix6 } from '../types.js';
import type { Capability } from './capabilities.js';
import type { WireProblem } from './errors.js';

/** What the codec must know about a session. */
export interface WireContext {
  /** Both sides sent the 4-octet AS capability (RFC 6793): AS numbers are 4 octets in AS_PATH/AGGREGATOR. */
  fourOctetAs: boolean;
  /** Both sides sent the extended message capability (RFC 8654): messages up to 65535 octets. */
  extendedMessage?: boolean;
  /**
   * The peer is external. Then LOCAL_PREF, ORIGINATOR_ID and CLUSTER_LIST received are discarded (RFC 7606
   * §7.5, §7.9, §7.10) and confederation segments in AS_PATH are malformed (RFC 5065 §5). Default: internal.
   */
  ebgp?: boolean;
}

/** Prefix lists as encoders take them: either family may be left out. `Nlri` fits. */
export interface NlriInput {
  v4?: readonly Prefix4[];
  v6?: readonly Prefix6[];
}

export interface OpenMessage {
  type: 'open';
  version: number;
  /** The 2-octet My AS field as sent: AS_TRANS (23456) when the sender's AS needs 4 octets. */
  myAs: number;
  holdTime: number;
  routerId: string;
  /** Every capability, in order, from every Capabilities optional parameter (RFC 5492), unknown ones kept. */
  capabilities: Capability[];
}

/**
 * A decoded UPDATE (RFC 4271 §4.3 with RFC 4760 MP_REACH/MP_UNREACH folded in).
 *  - `withdrawn`: classic Withdrawn Routes + MP_UNREACH_NLRI; `announced`: classic NLRI + MP_REACH_NLRI.
 *  - `attrs`: present when ORIGIN and AS_PATH were decoded and the outcome is neither treat-as-withdraw nor
 *    session reset. The next hop of MP NLRI is in `attrs.mpNextHop`; NEXT_HOP is dropped when the message has
 *    only MP NLRI (RFC 4760 §3: "SHOULD ignore").
 *  - `problems`: every problem found, attribute-discard ones included (for logs).
 *  - `error`: the strongest problem whose handling is treat-as-withdraw or session-reset (RFC 7606 §3 h).
 *    treat-as-withdraw: withdraw `withdrawn` AND `announced`. session-reset: send the NOTIFICATION
 *    (error.code/subcode/data) and close; `decodeMessage` returns a MessageError then.
 *  - `endOfRib`: set when the message is an End-of-RIB marker (RFC 4724 §2) for a known family.
 */
export interface UpdateMessage {
  type: 'update';
  withdrawn: Nlri;
  announced: Nlri;
  attrs?: PathAttributes;
  endOfRib?: Family;
  problems: WireProblem[];
  error?: WireProblem;
}

export interface NotificationMessage {
  type: 'notification';
  code: number;
  subcode: number;
  data: Uint8Array;
  /** RFC 9003 shutdown communication (Cease / Administrative Shutdown or Reset), when present and valid UTF-8. */
  shutdownCommunication?: string;
  /** RFC 8538 §3 Hard Reset (Cease subcode 9): the NOTIFICATION it carries. */
  hardReset?: { code: number; subcode: number; data: Uint8Array; shutdownCommunication?: string };
}

export interface KeepaliveMessage {
  type: 'keepalive';
}

export interface RouteRefreshMessage {
  type: 'route-refresh';
  afi: number;
  safi: number;
  /** RFC 7313 §3.2: 0 request, 1 BoRR, 2 EoRR; other values MUST be ignored by the session (RFC 7313 §5).
   *  Without enhanced route refresh negotiated the field is reserved: treat every value as a request. */
  subtype: number;
  /** The family when it is one tortie knows. */
  family?: Family;
}

/** A message whose handling is a session reset: send NOTIFICATION(error) and close. */
export interface MessageError {
  type: 'error';
  error: WireProblem;
  /** The message type octet, when the header got that far. */
  messageType?: number;
  /** For an UPDATE: the decoded parts, for logs. */
  update?: UpdateMessage;
}

export type Message = OpenMessage | UpdateMessage | NotificationMessage | KeepaliveMessage | RouteRefreshMessage;
