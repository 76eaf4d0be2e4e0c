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
