/*
 * NOTIFICATION (RFC 4271 §4.5): code, subcode, data.
 *
 *  - RFC 9003 shutdown communication: for Cease / Administrative Shutdown (2) and Administrative Reset (4)
 *    the data may be <length, UTF-8 text> of at most 255 octets. Decoded only when well formed and valid
 *    UTF-8; the raw data is always kept. The encoder truncates longer text at a character boundary.
 *  - RFC 8538 §3 Hard Reset (Cease subcode 9): the data is a whole inner <code, subcode, data>.
 *  - Data longer than fits the message (4096 octets, or 65535 with extended messages) is truncated.
 *  - `errorName` gives the RFC names, for logs.
 */

import { CEASE, ERR, HEADER_LENGTH, MAX_MESSAGE_LENGTH, MAX_SHUTDOWN_COMMUNICATION, MSG } from './constants.js';
import { checkUint } from './bytes.js';
import { badLength, messageError, writeHeader } from './header.js';
import type { MessageError, NotificationMessage } from './model.js';

export interface NotificationInput {
  code: number;
  subcode: number;
  data?: Uint8Array;
  /** RFC 9003 text; with code 6 and subcode 2 or 4 it becomes the data (any `data` is then ignored). */
  shutdownCommunication?: string;
  /** RFC 8538: with code 6 subcode 9, the inner NOTIFICATION, which becomes the data. */
  hardReset?: Omit<NotificationInput, 'hardReset'>;
}

const NOTIFICATION_FIXED = HEADER_LENGTH + 2;

function carriesShutdownCommunication(code: number, subcode: number): boolean {
  return code === ERR.CEASE && (subcode === CEASE.ADMINISTRATIVE_SHUTDOWN || subcode === CEASE.ADMINISTRATIVE_RESET);
}

/** <length, UTF-8> with the text cut to 255 octets at a character boundary. */
function shutdownCommunicationData(text: string): Uint8Array {
  let b = Buffer.from(text, 'utf8');
  if (b.length > MAX_SHUTDOWN_COMMUNICATION) {
    let n = MAX_SHUTDOWN_COMMUNICATION;
    while (n > 0 && (b[n]! & 0xc0) === 0x80) n--; // do not split a multi-octet character
    b = b.subarray(0, n);
  }
  const out = new Uint8Array(1 + b.length);
  out[0] = b.length;
  out.set(b, 1);
  return out;
}

function dataOf(n: Omit<NotificationInput, 'hardReset'> & { hardReset?: NotificationInput['hardReset'] }): Uint8Array {
  if (n.shutdownCommunication !== undefined && carriesShutdownCommunication(n.code, n.subcode)) {
    return shutdownCommunicationData(n.shutdownCommunication);
  }
  if (n.hardReset !== undefined && n.code === ERR.CEASE && n.subcode === CEASE.HARD_RESET) {
    const inner = dataOf(n.hardReset);
    const out = new Uint8Array(2 + inner.length);
    out[0] = checkUint(n.hardReset.code, 255, 'hardReset.code');
    out[1] = checkUint(n.hardReset.subcode, 255, 'hardReset.subcode');
    out.set(inner, 2);
    return out;
  }
  return n.data ?? new Uint8Array(0);
}

/** Encodes a NOTIFICATION; data beyond `maxLength` (4096 by default) is cut off. */
export function encodeNotification(n: NotificationInput, maxLength: number = MAX_MESSAGE_LENGTH): Buffer {
  let data = dataOf(n);
  if (NOTIFICATION_FIXED + data.length > maxLength) data = data.subarray(0, maxLength - NOTIFICATION_FIXED);
  const m = Buffer.allocUnsafe(NOTIFICATION_FIXED + data.length);
  writeHeader(m, m.length, MSG.NOTIFICATION);
  m[19] = checkUint(n.code, 255, 'code');
  m[20] = checkUint(n.subcode, 255, 'subcode');
  m.set(data, NOTIFICATION_FIXED);
  return m;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The RFC 9003 text in `data`, or undefined when absent, empty or malformed. */
export function decodeShutdownCommunication(data: Uint8Array): string | undefined {
  if (data.length < 1) return undefined;
  const len = data[0]!;
  if (len === 0 || 1 + len > data.length) return undefined;
  try {
    return utf8.decode(data.subarray(1, 1 + len));
  } catch {
    return undefined;
  }
}

/** Decodes a whole NOTIFICATION (header included). The data is copied. Never throws. */
export function decodeNotification(msg: Uint8Array): NotificationMessage | MessageError {
  if (msg.length < NOTIFICATION_FIXED) {
    return messageError(badLength(msg, `NOTIFICATION of ${msg.length} octets (min ${NOTIFICATION_FIXED})`), MSG.NOTIFICATION);
  }
  const code = msg[19]!;
  const subcode = msg[20]!;
  const data = new Uint8Array(msg.subarray(NOTIFICATION_FIXED));
  const n: NotificationMessage = { type: 'notification', code, subcode, data };
  if (carriesShutdownCommunication(code, subcode)) {
    const text = decodeShutdownCommunication(data);
    if (text !== undefined) n.shutdownCommunication = text;
  } else if (code === ERR.CEASE && subcode === CEASE.HARD_RESET && data.length >= 2) {
    const inner: NonNullable<NotificationMessage['hardReset']> = { code: data[0]!, subcode: data[1]!, data: data.subarray(2) };
    if (carriesShutdownCommunication(inner.code, inner.subcode)) {
      const text = decodeShutdownCommunication(inner.data);
      if (text !== undefined) inner.shutdownCommunication = text;
    }
    n.hardReset = inner;
  }
  return n;
}

const CODE_NAMES: Record<number, string> = {
  1: 'Message Header Error',
  2: 'OPEN Message Error',
  3: 'UPDATE Message Error',
  4: 'Hold Timer Expired',
  5: 'Finite State Machine Error',
  6: 'Cease',
  7: 'ROUTE-REFRESH Message Error',
  8: 'Send Hold Timer Expired',
};

const SUBCODE_NAMES: Record<number, Record<number, string>> = {
  1: { 1: 'Connection Not Synchronized', 2: 'Bad Message Length', 3: 'Bad Message Type' },
  2: {
    0: 'Unspecific',
    1: 'Unsupported Version Number',
    2: 'Bad Peer AS',
    3: 'Bad BGP Identifier',
    4: 'Unsupported Optional Parameter',
    6: 'Unacceptable Hold Time',
    7: 'Unsupported Capability',
    11: 'Role Mismatch',
  },
  3: {
    1: 'Malformed Attribute List',
    2: 'Unrecognized Well-known Attribute',
    3: 'Missing Well-known Attribute',
    4: 'Attribute Flags Error',
    5: 'Attribute Length Error',
    6: 'Invalid ORIGIN Attribute',
    8: 'Invalid NEXT_HOP Attribute',
    9: 'Optional Attribute Error',
    10: 'Invalid Network Field',
    11: 'Malformed AS_PATH',
  },
  5: {
    0: 'Unspecified Error',
    1: 'Receive Unexpected Message in OpenSent State',
    2: 'Receive Unexpected Message in OpenConfirm State',
    3: 'Receive Unexpected Message in Established State',
  },
  6: {
    1: 'Maximum Number of Prefixes Reached',
    2: 'Administrative Shutdown',
    3: 'Peer De-configured',
    4: 'Administrative Reset',
    5: 'Connection Rejected',
    6: 'Other Configuration Change',
    7: 'Connection Collision Resolution',
    8: 'Out of Resources',
    9: 'Hard Reset',
    10: 'BFD Down',
  },
  7: { 1: 'Invalid Message Length' },
};

/** "UPDATE Message Error / Malformed AS_PATH", or numbers where a name is unknown. */
export function errorName(code: number, subcode: number): string {
  const c = CODE_NAMES[code] ?? `error code ${code}`;
  const s = SUBCODE_NAMES[code]?.[subcode];
  if (s !== undefined) return `${c} / ${s}`;
  return subcode === 0 ? c : `${c} / subcode ${subcode}`;
}
