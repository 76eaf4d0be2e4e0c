/**
 * Errors of the dataplane: one class, a stable `code`, the operation that failed and the cause.
 *
 * Kernel rejections keep the kernel's own name as the code: the `netlink` package reports them
 * as `Error("Request rejected: EEXIST")`; the adapter (`netlink.ts`) turns that into
 * `{code: 'EEXIST'}` so the reconcilers can branch on it (e.g. "already there" after a race)
 * without matching message text. Everything else has a tortie code:
 *
 *   IPIP_UNSUPPORTED  the kernel cannot make `tunl0` (no ipip module): IPIP pools cannot work here
 *   NO_SUCH_LINK      an operation named an interface that does not exist
 *   INVALID_PLAN      the plan asks for something the kernel would refuse (e.g. `onlink` without a device)
 *   NFT_FAILED        `nft` refused a script or could not be run
 *   SYSCTL_FAILED     a /proc/sys file could not be read or written
 *   CLOSED            the port was closed
 */

/** errno names the kernel answers with most often; any other `E…` name may appear too. */
export type KernelErrno =
  | 'EEXIST'
  | 'ENOENT'
  | 'ESRCH'
  | 'ENODEV'
  | 'ENETDOWN'
  | 'ENETUNREACH'
  | 'EINVAL'
  | 'EOPNOTSUPP'
  | 'ENOTSUP'
  | 'EPERM'
  | 'EBUSY'
  | 'EADDRNOTAVAIL'
  | `E${Uppercase<string>}`;

export type DataplaneErrorCode =
  | 'IPIP_UNSUPPORTED'
  | 'NO_SUCH_LINK'
  | 'INVALID_PLAN'
  | 'NFT_FAILED'
  | 'SYSCTL_FAILED'
  | 'CLOSED'
  | KernelErrno;

export class DataplaneError extends Error {
  override readonly name = 'DataplaneError';
  readonly code: DataplaneErrorCode;
  /** What was being done, in `ip`-like words: `route replace 10.244.2.0/26`. */
  readonly op: string;

  constructor(code: DataplaneErrorCode, op: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.op = op;
  }
}

/** True when `e` is a DataplaneError with one of `codes`. */
export function isDataplaneError(e: unknown, ...codes: DataplaneErrorCode[]): e is DataplaneError {
  return e instanceof DataplaneError && (codes.length === 0 || codes.includes(e.code));
}

/** "already exists" and "does not exist" as the kernel says them for the objects we manage. */
export const EXISTS: readonly DataplaneErrorCode[] = ['EEXIST'];
export const MISSING: readonly DataplaneErrorCode[] = ['ENOENT', 'ESRCH', 'ENODEV', 'EADDRNOTAVAIL', 'NO_SUCH_LINK'];
