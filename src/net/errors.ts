/*
 * Errors of the net module.
 *
 * Every failure is a NetError with a stable `code` (callers branch on the code, never on the message) and the
 * offending `input` as a string. Parsers have a `tryParse` twin returning undefined, so hot paths and
 * "is this valid?" checks need not pay for an exception.
 */

export const NetErrorCode = {
  INVALID_IP: 'INVALID_IP', // not an address by Go's net.ParseIP rules
  INVALID_CIDR: 'INVALID_CIDR', // not a CIDR by Go's net.ParseCIDR rules
  INVALID_IP_PORT: 'INVALID_IP_PORT', // not "<IP>", "<IPv4>:<port>" or "[<IPv6>]:<port>"
  INVALID_MAC: 'INVALID_MAC', // not a hardware address by Go's net.ParseMAC rules
  INVALID_PREFIX_LENGTH: 'INVALID_PREFIX_LENGTH', // a length outside 0..32 / 0..128, or not an integer
  OUT_OF_RANGE: 'OUT_OF_RANGE', // arithmetic or an index left the address space / the prefix
  VERSION_MISMATCH: 'VERSION_MISMATCH', // an IPv4-only operation applied to IPv6 (or the reverse)
} as const;
export type NetErrorCode = (typeof NetErrorCode)[keyof typeof NetErrorCode];

export class NetError extends Error {
  override readonly name = 'NetError';
  readonly code: NetErrorCode;
  /** The text (or the number / bigint printed in decimal) that was refused. */
  readonly input: string;

  constructor(code: NetErrorCode, input: string | number | bigint, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.input = String(input);
  }
}
