/*
 * What goes wrong on the wire, as data (STYLE 2) and as errors (STYLE 12).
 *
 *  - WireProblem: a decoder's finding about PEER input. Decoders never throw; they return problems, each with the
 *    NOTIFICATION code/subcode/data to send if the session must be reset, and its RFC 7606 handling class.
 *  - WireError: a thrown error for LOCAL mistakes handed to an encoder (an unparsable next hop, a prefix that
 *    is not a prefix, a single attribute set larger than a message). These are programming errors.
 */

/** RFC 7606 §2 error-handling approaches, strongest first. "AFI/SAFI disable" is not used: tortie resets. */
export type Handling = 'session-reset' | 'treat-as-withdraw' | 'attribute-discard';

const STRENGTH: Record<Handling, number> = { 'session-reset': 3, 'treat-as-withdraw': 2, 'attribute-discard': 1 };

export interface WireProblem {
  /** NOTIFICATION error code and subcode (constants.ts ERR / *_ERR). */
  code: number;
  subcode: number;
  /** NOTIFICATION data: what RFC 4271 §6 asks for (the attribute, the bad length field, ...), possibly empty. */
  data: Uint8Array;
  handling: Handling;
  /** For logs: what was wrong, in words. */
  reason: string;
  /** Path attribute type code, when the problem is about one attribute. */
  attrType?: number;
}

export function problem(
  code: number,
  subcode: number,
  handling: Handling,
  reason: string,
  data: Uint8Array = EMPTY,
  attrType?: number,
): WireProblem {
  const p: WireProblem = { code, subcode, data, handling, reason };
  if (attrType !== undefined) p.attrType = attrType;
  return p;
}

/** True when `a` calls for a stronger action than `b` (RFC 7606 §3 h). */
export function stronger(a: WireProblem, b: WireProblem | undefined): boolean {
  return b === undefined || STRENGTH[a.handling] > STRENGTH[b.handling];
}

export const EMPTY: Uint8Array = new Uint8Array(0);

export const WireErrorCode = {
  INVALID_ADDRESS: 'INVALID_ADDRESS', // an address text the encoder cannot parse, or of the wrong family
  INVALID_PREFIX: 'INVALID_PREFIX', // a prefix that is not "addr/len" in range
  INVALID_VALUE: 'INVALID_VALUE', // a number out of its field's range, a malformed capability or attribute
  MISSING_ATTRIBUTE: 'MISSING_ATTRIBUTE', // e.g. IPv4 NLRI without NEXT_HOP, IPv6 NLRI without mpNextHop
  TOO_LARGE: 'TOO_LARGE', // the message cannot fit the negotiated maximum length
} as const;
export type WireErrorCode = (typeof WireErrorCode)[keyof typeof WireErrorCode];

export class WireError extends Error {
  override readonly name = 'WireError';
  readonly code: WireErrorCode;

  constructor(code: WireErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
