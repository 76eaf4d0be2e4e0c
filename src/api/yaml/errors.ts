/**
 * Errors of the YAML layer. Every one carries a stable `code` and the 1-based line and column
 * (in the whole input, columns counted in Unicode code points like libyaml does) and prints as
 * `yaml: line L, column C: <problem>`, the go-yaml v2 problem text where we reproduce it.
 *
 * Codes:
 * - YAML_SYNTAX: not YAML as go-yaml reads it (scanner/parser errors, bad escapes, unknown
 *   anchors, `%YAML` other than 1.1, explicit tags that do not fit, bad merge values).
 * - YAML_DUPLICATE_KEY: a key repeated in a mapping (go-yaml's strict decoding).
 * - YAML_TOO_LARGE: a document over calicoctl's 10 MiB separator buffer.
 * - YAML_UNSUPPORTED: valid YAML that has no JSON form (null, uint64 or collection keys,
 *   NaN/Inf values, excessive aliasing).
 *
 * The printers have their own errors (YamlEmitError, JsonValueError: a value JSON cannot hold),
 * and ResolveError is the internal form of go-yaml's "cannot decode !!x `v` as a !!y".
 */

export type YamlErrorCode = 'YAML_SYNTAX' | 'YAML_DUPLICATE_KEY' | 'YAML_TOO_LARGE' | 'YAML_UNSUPPORTED';

export class YamlError extends Error {
  override readonly name = 'YamlError';
  readonly code: YamlErrorCode;
  readonly line: number;
  readonly col: number;
  /** The problem without the `yaml: line L, column C: ` prefix. */
  readonly problem: string;

  constructor(code: YamlErrorCode, problem: string, line: number, col: number, options?: { cause?: unknown }) {
    super(`yaml: line ${line}, column ${col}: ${problem}`, options);
    this.code = code;
    this.problem = problem;
    this.line = line;
    this.col = col;
  }
}

/** emitYaml was given something that is not a JSON value (NaN, ±Inf, a symbol, …). */
export class YamlEmitError extends Error {
  override readonly name = 'YamlEmitError';
  readonly code = 'YAML_EMIT_UNSUPPORTED' as const;
}

/** encoding/json refuses the value: "json: unsupported value: NaN" and the like. */
export class JsonValueError extends Error {
  override readonly name = 'JsonValueError';
  readonly code = 'JSON_UNSUPPORTED_VALUE' as const;
}

/** An explicit tag that does not fit its scalar (go-yaml's failf in resolve). */
export class ResolveError extends Error {
  override readonly name = 'ResolveError';
  readonly code = 'YAML_RESOLVE' as const;
}
