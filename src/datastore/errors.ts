/**
 * Datastore errors: one class per outcome, each with a stable `code`, and messages worded
 * exactly as libcalico-go words them (`resource does not exist: IPPool(p1) with error: <nil>`),
 * because calicoctl prints them verbatim and users grep for them.
 *
 * Callers branch on `code` (or `instanceof`), never on message text.
 */

import { ValidationError } from '../api/errors.js';

export type DatastoreErrorCode =
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'UPDATE_CONFLICT'
  | 'VALIDATION'
  | 'UNAVAILABLE'
  | 'COMPACTED'
  | 'CLOSED'
  | 'NOT_SUPPORTED'
  | 'CONFIG';

export abstract class DatastoreError extends Error {
  abstract readonly code: DatastoreErrorCode;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** `id` is Calico's identifier text, e.g. `IPPool(default-ipv4-ippool)`, or a raw key for non-resources. */
export class NotFoundError extends DatastoreError {
  readonly code = 'NOT_FOUND' as const;
  constructor(readonly id: string, options?: { cause?: unknown }) {
    super(`resource does not exist: ${id} with error: <nil>`, options);
  }
}

export class AlreadyExistsError extends DatastoreError {
  readonly code = 'ALREADY_EXISTS' as const;
  constructor(readonly id: string, options?: { cause?: unknown }) {
    super(`resource already exists: ${id} with error: <nil>`, options);
  }
}

/**
 * The stored revision differs from the one the caller read. libcalico-go prints only the
 * identifier; `detail` keeps the specifics for logs and `--log-level debug`.
 */
export class UpdateConflictError extends DatastoreError {
  readonly code = 'UPDATE_CONFLICT' as const;
  constructor(readonly id: string, readonly detail?: string, options?: { cause?: unknown }) {
    super(`update conflict: ${id}`, options);
  }
}

export { ValidationError, formatErroredField, formatGoValue, type ErroredField } from '../api/errors.js';

/** The datastore cannot be reached or answered with a failure that is not about the data. */
export class UnavailableError extends DatastoreError {
  readonly code = 'UNAVAILABLE' as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The backend object was closed by its owner: nothing will succeed on it again (watchers stop). */
export class ClosedError extends DatastoreError {
  readonly code = 'CLOSED' as const;
  constructor(message: string) {
    super(message);
  }
}

/** A watch or snapshot read asked for history the backend no longer keeps. */
export class CompactedError extends DatastoreError {
  readonly code = 'COMPACTED' as const;
  constructor(readonly revision: string, readonly compactRevision?: string) {
    super(`revision ${revision} has been compacted${compactRevision ? ` (oldest kept: ${compactRevision})` : ''}`);
  }
}

export class NotSupportedError extends DatastoreError {
  readonly code = 'NOT_SUPPORTED' as const;
  constructor(readonly operation: string, readonly id: string, readonly reason?: string) {
    super(reason ? `operation ${operation} is not supported on ${id}: ${reason}` : `operation ${operation} is not supported on ${id}`);
  }
}

/** Connection configuration is wrong (bad file, unknown datastoreType, missing endpoints). */
export class ConfigError extends DatastoreError {
  readonly code = 'CONFIG' as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** True for a datastore outcome (including a ValidationError), optionally of one `code`. */
export function isDatastoreError(e: unknown, code?: DatastoreErrorCode): e is DatastoreError | ValidationError {
  if (!(e instanceof DatastoreError || e instanceof ValidationError)) return false;
  return code === undefined || e.code === code;
}
