/*
 * OPEN (RFC 4271 §4.2) with Capabilities optional parameters (RFC 5492) and RFC 9072 extended optional
 * parameters length.
 *
 *  - My AS is 2 octets: a 4-octet AS is sent as AS_TRANS, its real value in the 4-octet AS capability
 *    (RFC 6793 §4.1). `decodeOpen` returns the field as sent; `peerAs()` gives the real one.
 *  - RFC 9072: when the parameters exceed 255 octets, the 1-octet length is 255, the first "parameter type" is
 *    255, then a 2-octet total length follows and every parameter has a 2-octet length. The decoder detects it
 *    as BIRD does (non-zero length and a first octet of 255); the encoder uses it only when needed.
 *  - Checks made here are those that need nothing but the message: version (Unsupported Version Number, data =
 *    the version we support, RFC 4271 §6.2), parameter and capability framing (Unspecific), unknown parameter
 *    types (Unsupported Optional Parameter), hold time 1 or 2 (Unacceptable Hold Time), BGP Identifier 0
 *    (Bad BGP Identifier, RFC 6286 §2.2), peer AS 0 (Bad Peer AS, RFC 7607 §2). Checks against configuration
 *    (expected AS, own identifier, required capabilities) belong to the session.
 *  - An OPEN never exceeds 4096 octets, extended messages or not (RFC 8654 §4).
 */

import { AS_TRANS, BGP_VERSION, ERR, HEADER_LENGTH, MAX_MESSAGE_LENGTH, MSG, OPEN_ERR, OPT_PARAM } from './constants.js';
import { Writer, checkUint, ip4Text, parseIp4, u16, u32 } from './bytes.js';
import { type Capability, decodeCapabilities, encodeCapabilities } from './capabilities.js';
import { WireError, problem } from './errors.js';
import { badLength, messageError, writeHeader } from './header.js';
import type { MessageError, OpenMessage } from './model.js';

export interface OpenInput {
  /** This speaker's AS, 4-octet values allowed (sent as AS_TRANS in My AS). */
  myAs: number;
  holdTime: number;
  routerId: string;
  capabilities: readonly Capability[];
  /** Defaults to 4; other values only for tests. */
  version?: number;
}

const OPEN_FIXED = HEADER_LENGTH + 10; // version, my AS, hold time, BGP identifier, opt param length

/** Encodes an OPEN; throws WireError on out-of-range fields or when it would exceed 4096 octets. */
export function encodeOpen(o: OpenInput): Buffer {
  const caps = encodeCapabilities(o.capabilities);
  const w = new Writer(OPEN_FIXED + caps.length + 8);
  w.skip(HEADER_LENGTH);
  const myAs = checkUint(o.myAs, 0xffffffff, 'myAs');
  w.u8(checkUint(o.version ?? BGP_VERSION, 255, 'version'))
    .u16(myAs > 0xffff ? AS_TRANS : myAs)
    .u16(checkUint(o.holdTime, 0xffff, 'holdTime'))
    .u32(parseIp4(o.routerId, 'routerId'));
  if (caps.length === 0) {
    w.u8(0);
  } else if (caps.length + 2 <= 255) {
    w.u8(caps.length + 2).u8(OPT_PARAM.CAPABILITIES).u8(caps.length).bytes(caps);
  } else {
    // RFC 9072 §2: Non-Ext OP Len = 255, Non-Ext OP Type = 255, Extended Opt. Parm. Length, 2-octet param lengths.
    w.u8(255).u8(OPT_PARAM.EXTENDED_LENGTH).u16(caps.length + 3).u8(OPT_PARAM.CAPABILITIES).u16(caps.length).bytes(caps);
  }
  const m = w.finish();
  if (m.length > MAX_MESSAGE_LENGTH) throw new WireError('TOO_LARGE', `OPEN of ${m.length} octets exceeds ${MAX_MESSAGE_LENGTH}`);
  writeHeader(m, m.length, MSG.OPEN);
  return m;
}

function openError(subcode: number, reason: string, data?: Uint8Array): MessageError {
  return messageError(problem(ERR.OPEN_MESSAGE, subcode, 'session-reset', reason, data), MSG.OPEN);
}

/** Decodes a whole OPEN message (header included). Never throws. */
export function decodeOpen(msg: Uint8Array): OpenMessage | MessageError {
  if (msg.length < OPEN_FIXED) return messageError(badLength(msg, `OPEN of ${msg.length} octets (min ${OPEN_FIXED})`), MSG.OPEN);
  if (msg.length > MAX_MESSAGE_LENGTH) {
    return messageError(badLength(msg, `OPEN of ${msg.length} octets (max ${MAX_MESSAGE_LENGTH})`), MSG.OPEN);
  }
  const version = msg[19]!;
  if (version !== BGP_VERSION) {
    return openError(OPEN_ERR.UNSUPPORTED_VERSION_NUMBER, `version ${version}`, Uint8Array.of(0, BGP_VERSION));
  }
  const myAs = u16(msg, 20);
  const holdTime = u16(msg, 22);
  const id = u32(msg, 24);
  let optLen = msg[28]!;
  let pos = OPEN_FIXED;
  let ext = false;
  if (optLen > 0 && msg.length > pos && msg[pos] === OPT_PARAM.EXTENDED_LENGTH) {
    if (msg.length - pos < 3) return openError(OPEN_ERR.UNSPECIFIC, 'extended optional parameters length truncated');
    optLen = u16(msg, pos + 1);
    pos += 3;
    ext = true;
  }
  const end = pos + optLen;
  if (end > msg.length) return openError(OPEN_ERR.UNSPECIFIC, `optional parameters (${optLen} octets) overrun the message`);
  const hlen = ext ? 3 : 2;
  const capabilities: Capability[] = [];
  while (pos < end) {
    if (end - pos < hlen) return openError(OPEN_ERR.UNSPECIFIC, 'optional parameter header truncated');
    const type = msg[pos]!;
    const len = ext ? u16(msg, pos + 1) : msg[pos + 1]!;
    if (pos + hlen + len > end) return openError(OPEN_ERR.UNSPECIFIC, `optional parameter ${type} overruns the parameters`);
    if (type !== OPT_PARAM.CAPABILITIES) {
      const param = new Uint8Array(msg.subarray(pos, pos + hlen + len));
      return openError(OPEN_ERR.UNSUPPORTED_OPTIONAL_PARAMETER, `optional parameter type ${type}`, param);
    }
    const bad = decodeCapabilities(msg, pos + hlen, len, capabilities);
    if (bad !== undefined) return openError(OPEN_ERR.UNSPECIFIC, bad);
    pos += hlen + len;
  }
  if (holdTime === 1 || holdTime === 2) {
    return openError(OPEN_ERR.UNACCEPTABLE_HOLD_TIME, `hold time ${holdTime} (must be 0 or at least 3)`);
  }
  if (id === 0) return openError(OPEN_ERR.BAD_BGP_IDENTIFIER, 'BGP Identifier 0.0.0.0');
  const open: OpenMessage = { type: 'open', version, myAs, holdTime, routerId: ip4Text(msg, 24), capabilities };
  if (myAs === 0 || peerAs(open) === 0) return openError(OPEN_ERR.BAD_PEER_AS, 'peer AS 0', Uint8Array.of(msg[20]!, msg[21]!));
  return open;
}

/** The sender's AS: the 4-octet AS capability's value when present, else My AS (RFC 6793 §4.1). */
export function peerAs(open: OpenMessage): number {
  for (const c of open.capabilities) if (c.kind === 'four-octet-as') return c.asn;
  return open.myAs;
}
