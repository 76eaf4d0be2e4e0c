/*
 * The OPEN exchange: the OPEN we send, and the check of the peer's OPEN that yields either what the session
 * negotiated or the NOTIFICATION to send back.
 *
 * The checks follow the order of RFC 4271 §6.2 (version, AS, hold time, BGP Identifier, then capabilities), so
 * that an OPEN with several faults always draws the same NOTIFICATION:
 *  - version other than 4: Unsupported Version Number, data = the 2-octet version we support;
 *  - AS 0 (RFC 7607), AS_TRANS as a real AS (RFC 6793 §9), or not the configured peer AS: Bad Peer AS;
 *    the peer's AS is its 4-octet AS capability when present, else the 2-octet field;
 *  - hold time 1 or 2: Unacceptable Hold Time;
 *  - BGP Identifier 0, not a dotted quad, or (internal peer) equal to ours: Bad BGP Identifier (RFC 6286 §2.2);
 *  - no family in common, or a required capability missing: Unsupported Capability with our capability TLVs.
 * Hold time is the smaller offer, 0 when either is 0; keepalive a third of it unless configured lower.
 */

import { v4Parse } from '../net/index.js';
import type { Family, Negotiated } from './types.js';
import { AS_TRANS, BGP_VERSION, ERR, OPEN_ERR } from './wire/constants.js';
import { multiprotocolTlv, requiredCapabilityTlv, unsupportedVersionData } from './fsm-notification.js';
import type { FsmConfig, NotificationSpec, OpenMessage } from './fsm-types.js';

export const DEFAULT_OPEN_HOLD_TIME = 240; // seconds, RFC 4271 §8.2.2 "suggested value ... 4 minutes"

/** The OPEN we send. The 4-octet AS capability is always announced (RFC 6793 §3). */
export function localOpen(config: FsmConfig): OpenMessage {
  const caps = config.capabilities ?? {};
  const open: OpenMessage = {
    version: BGP_VERSION,
    myAs: config.localAs > 0xffff ? AS_TRANS : config.localAs,
    holdTime: config.holdTime,
    bgpId: config.routerId,
    capabilities: {
      multiprotocol: [...(caps.families ?? ['ipv4'])],
      fourOctetAs: config.localAs,
      routeRefresh: caps.routeRefresh ?? true,
    },
  };
  if (caps.enhancedRouteRefresh) open.capabilities.enhancedRouteRefresh = true;
  if (caps.extendedMessage) open.capabilities.extendedMessage = true;
  if (caps.gracefulRestart) open.capabilities.gracefulRestart = caps.gracefulRestart;
  return open;
}

/** The AS an OPEN speaks for: its 4-octet AS capability, else the 2-octet field (RFC 6793 §4.1). */
export function effectiveAs(open: OpenMessage): number {
  return open.capabilities.fourOctetAs ?? open.myAs;
}

export function isNotificationSpec(x: Negotiated | NotificationSpec): x is NotificationSpec {
  return 'code' in x;
}

/** Families a speaker supports: those of its multiprotocol capabilities, or IPv4 unicast without any (RFC 4760 §1). */
function families(open: OpenMessage): readonly Family[] {
  return open.capabilities.multiprotocol ?? ['ipv4'];
}

const openError = (subcode: number, data?: Uint8Array): NotificationSpec =>
  data ? { code: ERR.OPEN_MESSAGE, subcode, data } : { code: ERR.OPEN_MESSAGE, subcode };

/** Validates the peer's OPEN against ours; returns what was negotiated, or the NOTIFICATION to send. */
export function negotiate(config: FsmConfig, local: OpenMessage, peer: OpenMessage): Negotiated | NotificationSpec {
  if (peer.version !== BGP_VERSION) return openError(OPEN_ERR.UNSUPPORTED_VERSION_NUMBER, unsupportedVersionData());

  const peerAs = effectiveAs(peer);
  if (peerAs === 0 || peerAs === AS_TRANS || (!config.acceptAnyPeerAs && peerAs !== config.peerAs)) {
    return openError(OPEN_ERR.BAD_PEER_AS);
  }

  if (peer.holdTime === 1 || peer.holdTime === 2) return openError(OPEN_ERR.UNACCEPTABLE_HOLD_TIME);

  const id = v4Parse(peer.bgpId);
  if (id <= 0 || (peerAs === config.localAs && id === v4Parse(config.routerId))) {
    return openError(OPEN_ERR.BAD_BGP_IDENTIFIER);
  }

  const peerFamilies = families(peer);
  const common = families(local).filter((f) => peerFamilies.includes(f));
  if (common.length === 0) {
    return openError(OPEN_ERR.UNSUPPORTED_CAPABILITY, Uint8Array.from(families(local).flatMap(multiprotocolTlv)));
  }
  const missing = (config.requireCapabilities ?? []).filter((c) => !peer.capabilities[c]);
  if (missing.length > 0) {
    const data = Uint8Array.from(missing.flatMap((c) => requiredCapabilityTlv(c, config.localAs)));
    return openError(OPEN_ERR.UNSUPPORTED_CAPABILITY, data);
  }

  const holdTime = Math.min(local.holdTime, peer.holdTime);
  const third = Math.floor(holdTime / 3);
  const keepaliveTime = holdTime === 0 ? 0 : Math.max(1, Math.min(config.keepaliveTime ?? third, third));
  const both = (k: 'routeRefresh' | 'enhancedRouteRefresh' | 'extendedMessage') =>
    local.capabilities[k] === true && peer.capabilities[k] === true;
  const negotiated: Negotiated = {
    holdTime,
    keepaliveTime,
    peerAs,
    peerRouterId: peer.bgpId,
    fourOctetAs: local.capabilities.fourOctetAs !== undefined && peer.capabilities.fourOctetAs !== undefined,
    families: common,
    routeRefresh: both('routeRefresh'),
    enhancedRouteRefresh: both('enhancedRouteRefresh'),
    extendedMessage: both('extendedMessage'),
  };
  if (peer.capabilities.gracefulRestart) negotiated.gracefulRestart = peer.capabilities.gracefulRestart;
  return negotiated;
}
