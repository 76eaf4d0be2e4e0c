/**
 * Test helpers for kind definitions: a ClientContext over an in-memory set of resources, and
 * `check(yaml)` that runs the whole path a `tortie create -f` takes for one document
 * (decode → validateForWrite) and returns either the stored object or the error text.
 */
import type { ClientContext, WriteOp } from '../kinds/def.js';
import type { KindName } from '../kinds.js';
import type { Resource } from '../meta.js';
import { KIND_DEFS } from '../kinds/index.js';
import { parseResources, ResourceFileError } from '../codec.js';
import { validateForWrite } from '../validate/pipeline.js';
import { ValidationError } from '../errors.js';

export function fakeContext(existing: Resource[] = [], blocks: string[] = []): ClientContext {
  return {
    list: async (kind: KindName) => existing.filter((r) => r.kind === kind),
    blockCIDRs: async (v: 4 | 6) => blocks.filter((b) => (v === 4 ? !b.includes(':') : b.includes(':'))),
  };
}

export type CheckResult = { ok: true; value: Resource } | { ok: false; error: string; code: string };

/** Decode one YAML document and validate it for `op`. Errors come back as their message text. */
export async function check(yaml: string, opts: { op?: WriteOp; old?: Resource; existing?: Resource[]; blocks?: string[] } = {}): Promise<CheckResult> {
  try {
    const [r] = parseResources(yaml);
    if (!r) throw new Error('no resource in document');
    const def = KIND_DEFS[r.kind as KindName];
    const value = await validateForWrite(def, r, opts.op ?? 'create', opts.old, fakeContext(opts.existing, opts.blocks));
    return { ok: true, value };
  } catch (e) {
    if (e instanceof ValidationError || e instanceof ResourceFileError) return { ok: false, error: e.message, code: e.code };
    throw e;
  }
}

// Helpers shared by the kind tests: the stored object, the refusal text, and how libcalico-go
// renders what they expect.

/** The object a write would store; fails the test when the write is refused. */
export async function stored(yaml: string, opts: Parameters<typeof check>[1] = {}): Promise<Resource> {
  const r = await check(yaml, opts);
  if (!r.ok) throw new Error(`expected the write to be accepted, got: ${r.error}`);
  return r.value;
}

/** The error text of a refused write; fails the test when the write is accepted. */
export async function error(yaml: string, opts: Parameters<typeof check>[1] = {}): Promise<string> {
  const r = await check(yaml, opts);
  if (r.ok) throw new Error('expected the write to be refused');
  return r.error;
}

/** ErrorValidation with one field. */
export const one = (line: string): string => `error with field ${line}`;
/** ErrorValidation with several fields. */
export const many = (...lines: string[]): string => `error with the following fields:\n${lines.map((l) => `-  ${l}\n`).join('')}`;
/** A go-playground tag failure as libcalico-go's extractReason words it (note the trailing space). */
export const tagFail = (field: string, value: string, tag: string): string =>
  `${field} = '${value}' (Reason: failed to validate Field: ${field} because of Tag: ${tag} )`;
/** An OpenAPI failure other than enum/length/items: `<path> (<path> in body <detail>)`. */
export const openapi = (path: string, detail: string): string => `${path} (${path} in body ${detail})`;
