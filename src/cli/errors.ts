/**
 * How an error reads on the command line. Datastore and validation errors keep libcalico-go's
 * wording; a validation error is prefixed with the resource it concerns (`IPPool(p1): …`) so
 * that in a file of many resources the line says which one failed — tortie's one addition to
 * calicoctl's text.
 */
import { ValidationError } from '../api/errors.js';
import type { Resource } from '../api/meta.js';
import { resourceId } from '../api/meta.js';
import { KIND_INFO, type KindName } from '../api/kinds.js';

export class ResourceValidationError extends Error {
  readonly code = 'VALIDATION' as const;
  constructor(
    readonly resource: Resource,
    readonly validation: ValidationError,
  ) {
    super(`${idFor(resource)}: ${validation.message}`);
  }
}

function idFor(r: Resource): string {
  const kind = r.kind as KindName;
  return resourceId(r.kind, r.metadata?.name, KIND_INFO[kind]?.namespaced ? r.metadata?.namespace : undefined);
}

/** Tags a validation error with its resource; other errors pass through. */
export function withResource(e: unknown, r: Resource): unknown {
  return e instanceof ValidationError ? new ResourceValidationError(r, e) : e;
}

export function describeError(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
