/*
 * Errors of the RIB (Adj-RIB-In, Loc-RIB, Adj-RIB-Out, attribute intern table) and of the policy engine.
 *
 * Every failure is a RibError with a stable `code`; callers branch on the code, never on the message. These are
 * programming or configuration errors (an unknown peer index, an attribute set used after it was freed, a policy
 * rule that does not parse); route-level outcomes (loop, filtered, over limit) are returned as data, not thrown.
 */

export const RibErrorCode = {
  UNKNOWN_PEER: 'UNKNOWN_PEER', // a peer index that is not registered in the PeerTable
  TOO_MANY_PEERS: 'TOO_MANY_PEERS', // more than 65,535 peers (indexes are stored as uint16)
  FREED_ATTR_SET: 'FREED_ATTR_SET', // an attribute set id that the intern table has already freed
  REFCOUNT: 'REFCOUNT', // release() below zero: a retain/release imbalance
  BAD_POLICY: 'BAD_POLICY', // a policy rule that cannot be compiled (bad CIDR, bad length range, ...)
  BAD_PREFIX: 'BAD_PREFIX', // a prefix value outside its family's encoding
  ALREADY_MEMBER: 'ALREADY_MEMBER', // a peer joined an update group while already in one
} as const;
export type RibErrorCode = (typeof RibErrorCode)[keyof typeof RibErrorCode];

export class RibError extends Error {
  override readonly name = 'RibError';
  readonly code: RibErrorCode;

  constructor(code: RibErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
