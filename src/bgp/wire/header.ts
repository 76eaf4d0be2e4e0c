/*
 * The common message header (RFC 4271 §4.1): 16 octets of 0xff, 2-octet length, 1-octet type.
 * Helpers to write it and to build the header errors every message decoder may need.
 */

import { ERR, HEADER_ERR, MARKER_LENGTH, MAX_EXTENDED_MESSAGE_LENGTH, MAX_MESSAGE_LENGTH } from './constants.js';
import { putU16 } from './bytes.js';
import { problem, type WireProblem } from './errors.js';
import type { MessageError, WireContext } from './model.js';

/** Writes marker, length and type at b[0..19). */
export function writeHeader(b: Uint8Array, length: number, type: number): void {
  b.fill(0xff, 0, MARKER_LENGTH);
  putU16(b, MARKER_LENGTH, length);
  b[MARKER_LENGTH + 2] = type;
}

/** Message Header Error / Bad Message Length, data = the length field (RFC 4271 §6.1). */
export function badLength(msg: Uint8Array, reason: string): WireProblem {
  const data = msg.length >= 18 ? Uint8Array.of(msg[16]!, msg[17]!) : Uint8Array.of(msg.length >>> 8, msg.length & 0xff);
  return problem(ERR.MESSAGE_HEADER, HEADER_ERR.BAD_MESSAGE_LENGTH, 'session-reset', reason, data);
}

export function messageError(error: WireProblem, messageType?: number): MessageError {
  const e: MessageError = { type: 'error', error };
  if (messageType !== undefined) e.messageType = messageType;
  return e;
}

/** The largest message the session allows: 4096, or 65535 with extended messages (RFC 8654). */
export function maxLength(ctx: WireContext): number {
  return ctx.extendedMessage ? MAX_EXTENDED_MESSAGE_LENGTH : MAX_MESSAGE_LENGTH;
}
