/*
 * The NOTIFICATIONs the FSM sends and how a NOTIFICATION decides graceful restart.
 *
 * Tricky parts:
 *  - RFC 8538 Hard Reset. Once both sides announced the N bit, every NOTIFICATION is "graceful" (the receiver keeps
 *    the routes as stale) except Cease/Hard Reset. So a Cease that must really end the session is sent wrapped in
 *    a Hard Reset whose data is the inner code, subcode and data (RFC 8538 §3). Which Cease subcodes get wrapped
 *    is the table of RFC 8538 §5.1 (Administrative Reset is left to configuration).
 *  - Graceful restart needs both sides to have sent the capability; a TCP failure or a hold timer expiry is then
 *    graceful (RFC 4724 §4.2; for the hold timer RFC 8538 §4 says so with the N bit, tortie does so whenever
 *    GR was exchanged, as the product asks).
 *  - Notification data is bytes by definition, so the few data fields the FSM fills are built here: the version
 *    of OPEN/Unsupported Version (RFC 4271 §6.2), capability TLVs of OPEN/Unsupported Capability (RFC 5492 §5),
 *    the shutdown communication of Cease 2 and 4 (RFC 9003).
 */

import type { Family, Negotiated } from './types.js';
import { AFI, BGP_VERSION, CAP, CEASE, ERR, MAX_SHUTDOWN_COMMUNICATION, SAFI } from './wire/constants.js';
import type { FsmConfig, NotificationSpec, OutMessage, RequirableCapability } from './fsm-types.js';

const EMPTY = new Uint8Array(0);

/** A NOTIFICATION message to send, data always present. */
export function notification(code: number, subcode: number, data: Uint8Array = EMPTY): OutMessage & { kind: 'notification' } {
  return { kind: 'notification', code, subcode, data };
}

export function isHardReset(n: NotificationSpec): boolean {
  return n.code === ERR.CEASE && n.subcode === CEASE.HARD_RESET;
}

/** True when both OPENs carried the graceful restart capability. */
export function grExchanged(config: FsmConfig, negotiated: Negotiated | undefined): boolean {
  return config.capabilities?.gracefulRestart !== undefined && negotiated?.gracefulRestart !== undefined;
}

/** True when both OPENs carried the graceful restart capability with the N bit (RFC 8538 §2). */
export function nBitExchanged(config: FsmConfig, negotiated: Negotiated | undefined): boolean {
  return config.capabilities?.gracefulRestart?.notification === true && negotiated?.gracefulRestart?.notification === true;
}

/** RFC 8538 §5.1: after a NOTIFICATION (sent or received) the routes are kept unless it is a Hard Reset. */
export function gracefulAfterNotification(config: FsmConfig, negotiated: Negotiated | undefined, n: NotificationSpec): boolean {
  return nBitExchanged(config, negotiated) && !isHardReset(n);
}

/** Cease subcodes that end the session for good: sent as Hard Reset once the N bit is exchanged (RFC 8538 §5.1). */
function wantsHardReset(config: FsmConfig, subcode: number): boolean {
  switch (subcode) {
    case CEASE.MAX_PREFIXES_REACHED:
    case CEASE.ADMINISTRATIVE_SHUTDOWN:
    case CEASE.PEER_DECONFIGURED:
      return true;
    case CEASE.ADMINISTRATIVE_RESET:
      return config.hardAdminReset !== false;
    default:
      return false;
  }
}

/** A Cease to send, wrapped in a Hard Reset when RFC 8538 asks for it. */
export function cease(
  config: FsmConfig,
  negotiated: Negotiated | undefined,
  subcode: number,
  data: Uint8Array = EMPTY,
): OutMessage & { kind: 'notification' } {
  if (subcode !== CEASE.HARD_RESET && nBitExchanged(config, negotiated) && wantsHardReset(config, subcode)) {
    const inner = new Uint8Array(2 + data.length);
    inner[0] = ERR.CEASE;
    inner[1] = subcode;
    inner.set(data, 2);
    return notification(ERR.CEASE, CEASE.HARD_RESET, inner);
  }
  return notification(ERR.CEASE, subcode, data);
}

/**
 * RFC 9003 §2 shutdown communication: a length octet and up to 255 octets of UTF-8, cut on a character boundary.
 * Empty when there is no message.
 */
export function shutdownCommunication(message: string | undefined): Uint8Array {
  if (!message) return EMPTY;
  let bytes = new TextEncoder().encode(message);
  if (bytes.length > MAX_SHUTDOWN_COMMUNICATION) {
    let end = MAX_SHUTDOWN_COMMUNICATION;
    while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--; // back off a continuation byte
    bytes = bytes.subarray(0, end);
  }
  const out = new Uint8Array(1 + bytes.length);
  out[0] = bytes.length;
  out.set(bytes, 1);
  return out;
}

/** RFC 4271 §6.2: the largest supported version below the peer's bid, else the smallest supported: always 4. */
export function unsupportedVersionData(): Uint8Array {
  return Uint8Array.of(BGP_VERSION >> 8, BGP_VERSION & 0xff);
}

/** The multiprotocol capability TLV (RFC 4760 §8) for one family. */
export function multiprotocolTlv(family: Family): number[] {
  const afi = family === 'ipv4' ? AFI.IPV4 : AFI.IPV6;
  return [CAP.MULTIPROTOCOL, 4, afi >> 8, afi & 0xff, 0, SAFI.UNICAST];
}

/** The TLV of a capability we require (RFC 5492 §5: the data of OPEN/Unsupported Capability). */
export function requiredCapabilityTlv(cap: RequirableCapability, localAs: number): number[] {
  switch (cap) {
    case 'fourOctetAs':
      return [CAP.FOUR_OCTET_AS, 4, (localAs >>> 24) & 0xff, (localAs >>> 16) & 0xff, (localAs >>> 8) & 0xff, localAs & 0xff];
    case 'routeRefresh':
      return [CAP.ROUTE_REFRESH, 0];
    case 'enhancedRouteRefresh':
      return [CAP.ENHANCED_ROUTE_REFRESH, 0];
    case 'extendedMessage':
      return [CAP.EXTENDED_MESSAGE, 0];
  }
}
