/*
 * One entry point for every framed message: `decodeMessage(msg, ctx)` checks the header (marker, length,
 * type) and hands the message to its decoder. Anything that must end the session comes back as a
 * MessageError carrying the NOTIFICATION to send -- also an UPDATE whose RFC 7606 outcome is a session reset
 * -- so the session has one place to look. KEEPALIVE and ROUTE-REFRESH, too small for files of their own,
 * live here.
 *
 * ROUTE-REFRESH (RFC 2918 §3, RFC 7313 §3.2): <AFI, subtype (formerly reserved), SAFI>. Shorter than 23
 * octets: Bad Message Length. Longer: ROUTE-REFRESH Message Error / Invalid Message Length with the whole
 * message as data (RFC 7313 §5), cut to what a NOTIFICATION can carry.
 */

import {
  ERR,
  HEADER_ERR,
  HEADER_LENGTH,
  MARKER_LENGTH,
  MAX_MESSAGE_LENGTH,
  MIN_LENGTH,
  MSG,
  ROUTE_REFRESH_ERR,
  ROUTE_REFRESH_SUBTYPE,
} from './constants.js';
import { checkUint, u16 } from './bytes.js';
import { problem } from './errors.js';
import { familyByAfiSafi, familyDescriptor } from './family.js';
import { badLength, maxLength, messageError, writeHeader } from './header.js';
import type { KeepaliveMessage, Message, MessageError, RouteRefreshMessage, WireContext } from './model.js';
import { decodeNotification } from './notification.js';
import { decodeOpen } from './open.js';
import { decodeUpdate } from './update.js';
import type { Family } from '../types.js';

const KEEPALIVE = (() => {
  const m = Buffer.alloc(HEADER_LENGTH);
  writeHeader(m, HEADER_LENGTH, MSG.KEEPALIVE);
  return m;
})();

/** A KEEPALIVE (RFC 4271 §4.4). A fresh copy each call, so callers may own it. */
export function encodeKeepalive(): Buffer {
  return Buffer.from(KEEPALIVE);
}

/** A ROUTE-REFRESH for `family` (or raw AFI/SAFI); subtype 0 request, 1 BoRR, 2 EoRR (RFC 7313). */
export function encodeRouteRefresh(
  family: Family | { afi: number; safi: number },
  subtype: number = ROUTE_REFRESH_SUBTYPE.REQUEST,
): Buffer {
  const { afi, safi } = typeof family === 'string' ? familyDescriptor(family) : family;
  const m = Buffer.alloc(HEADER_LENGTH + 4);
  writeHeader(m, m.length, MSG.ROUTE_REFRESH);
  m.writeUInt16BE(checkUint(afi, 0xffff, 'afi'), 19);
  m[21] = checkUint(subtype, 255, 'subtype');
  m[22] = checkUint(safi, 255, 'safi');
  return m;
}

export function decodeRouteRefresh(msg: Uint8Array, ctx?: WireContext): RouteRefreshMessage | MessageError {
  const reason = `ROUTE-REFRESH of ${msg.length} octets (must be 23)`;
  if (msg.length < HEADER_LENGTH + 4) return messageError(badLength(msg, reason), MSG.ROUTE_REFRESH);
  if (msg.length > HEADER_LENGTH + 4) {
    const room = (ctx ? maxLength(ctx) : MAX_MESSAGE_LENGTH) - HEADER_LENGTH - 2;
    const data = new Uint8Array(msg.subarray(0, Math.min(msg.length, room)));
    return messageError(
      problem(ERR.ROUTE_REFRESH_MESSAGE, ROUTE_REFRESH_ERR.INVALID_MESSAGE_LENGTH, 'session-reset', reason, data),
      MSG.ROUTE_REFRESH,
    );
  }
  const afi = u16(msg, 19);
  const safi = msg[22]!;
  const r: RouteRefreshMessage = { type: 'route-refresh', afi, safi, subtype: msg[21]! };
  const f = familyByAfiSafi(afi, safi)?.family;
  if (f !== undefined) r.family = f;
  return r;
}

function decodeKeepalive(msg: Uint8Array): KeepaliveMessage | MessageError {
  if (msg.length !== HEADER_LENGTH) {
    return messageError(badLength(msg, `KEEPALIVE of ${msg.length} octets (must be 19)`), MSG.KEEPALIVE);
  }
  return { type: 'keepalive' };
}

/**
 * Decodes one whole message as the framer returns it. Never throws. A MessageError means: send a NOTIFICATION
 * with error.code / subcode / data and close the session.
 */
export function decodeMessage(msg: Uint8Array, ctx: WireContext): Message | MessageError {
  if (msg.length < HEADER_LENGTH) return messageError(badLength(msg, `message of ${msg.length} octets (min 19)`));
  for (let i = 0; i < MARKER_LENGTH; i++) {
    if (msg[i] !== 0xff) {
      const p = problem(ERR.MESSAGE_HEADER, HEADER_ERR.CONNECTION_NOT_SYNCHRONIZED, 'session-reset', 'marker is not 16 x 0xff');
      return messageError(p);
    }
  }
  const type = msg[18]!;
  if (u16(msg, 16) !== msg.length) return messageError(badLength(msg, `length field ${u16(msg, 16)} but ${msg.length} octets`), type);
  if (msg.length > maxLength(ctx)) {
    return messageError(badLength(msg, `message of ${msg.length} octets exceeds ${maxLength(ctx)}`), type);
  }
  const min = (MIN_LENGTH as Record<number, number>)[type];
  if (min === undefined) {
    const p = problem(ERR.MESSAGE_HEADER, HEADER_ERR.BAD_MESSAGE_TYPE, 'session-reset', `message type ${type}`, Uint8Array.of(type));
    return messageError(p, type);
  }
  switch (type) {
    case MSG.OPEN:
      return decodeOpen(msg);
    case MSG.UPDATE: {
      const u = decodeUpdate(msg, ctx);
      if (u.error?.handling === 'session-reset') return { type: 'error', error: u.error, messageType: type, update: u };
      return u;
    }
    case MSG.NOTIFICATION:
      return decodeNotification(msg);
    case MSG.KEEPALIVE:
      return decodeKeepalive(msg);
    default:
      return decodeRouteRefresh(msg, ctx);
  }
}
