/**
 * Validation errors as libcalico-go renders them (`lib/errors/errors.go`): one field is
 * `error with field <Name> = '<Value>' (<Reason>)`, several are a list under
 * `error with the following fields:` with each line `-  <field>`.
 *
 * The datastore re-exports these: a validation failure is one of its typed outcomes.
 */

/** One invalid field, rendered like libcalico-go's ErroredField. */
export interface ErroredField {
  name: string;
  /** Omitted from the message when undefined (Go: nil). Printed with Go's `%v`. */
  value?: unknown;
  reason?: string;
}

export function formatErroredField(f: ErroredField): string {
  let s = f.value === undefined ? f.name : `${f.name} = '${formatGoValue(f.value)}'`;
  if (f.reason) s = `${s} (${f.reason})`;
  return s;
}

/** Go's `%v` for the values validators report: scalars, slices as `[a b]`, maps as `map[k:v]`. */
export function formatGoValue(v: unknown): string {
  if (v === null) return '<nil>';
  if (Array.isArray(v)) return `[${v.map(formatGoValue).join(' ')}]`;
  if (typeof v === 'object') {
    return `map[${Object.entries(v as Record<string, unknown>)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, x]) => `${k}:${formatGoValue(x)}`)
      .join(' ')}]`;
  }
  return String(v);
}

export class ValidationError extends Error {
  readonly code = 'VALIDATION' as const;
  constructor(
    readonly fields: ErroredField[],
    options?: { cause?: unknown },
  ) {
    super(ValidationError.render(fields), options);
    this.name = 'ValidationError';
  }
  static render(fields: ErroredField[]): string {
    if (fields.length === 0) return 'unknown validation error';
    if (fields.length === 1) return `error with field ${formatErroredField(fields[0]!)}`;
    return 'error with the following fields:\n' + fields.map((f) => `-  ${formatErroredField(f)}\n`).join('');
  }
}
