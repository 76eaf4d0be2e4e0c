/**
 * patch (calicoctl `commands/patch.go`, resourcemgr `Patch`): read the stored object, merge the
 * JSON patch into it (objects merge, other values replace, null deletes — what a strategic merge
 * patch does on Calico's types, which declare no list merge keys), decode the result strictly
 * as if it came from a file, keep the stored metadata plus the union of labels/annotations, and
 * update with the stored resourceVersion.
 */
import { parseResources, ResourceFileError, toJson } from '../../api/codec.js';
import { clone, type Resource } from '../../api/meta.js';
import { invalidOption, parseArgs, str } from '../args.js';
import { describeError } from '../errors.js';
import { executeConfigCommand } from '../execute.js';
import { PATCH_HELP } from '../help.js';
import { CommandError, type IO } from '../io.js';
import { CONFIG_OPTS, NS_OPT } from './common.js';

export async function runPatch(args: string[], io: IO): Promise<void> {
  const p = parseArgs(args.slice(1), [...CONFIG_OPTS, NS_OPT, { long: 'patch', short: 'p', value: true }, { long: 'type', short: 't', value: true }], args);
  if (p.help) {
    io.stdout.write(PATCH_HELP);
    return;
  }
  if (p.pos.length !== 2 || !p.opts.has('patch')) throw invalidOption(args);
  // patch.go never reads --type: every value is accepted and a strategic merge is done.
  const patchText = str(p, 'patch')!;

  const results = await executeConfigCommand(
    p,
    'patch',
    io,
    async (rm, r) => {
      const stored = await rm.get(r);
      // strategicpatch handleUnmarshal: anything that is not a JSON object (null aside) is
      // mergepatch.ErrBadJSONDoc.
      let patch: unknown;
      try {
        patch = JSON.parse(patchText) ?? {};
      } catch {
        throw new Error('performing strategic merge patch: invalid JSON document');
      }
      if (typeof patch !== 'object' || Array.isArray(patch)) throw new Error('performing strategic merge patch: invalid JSON document');
      const merged = mergePatch(clone(stored), patch) as Resource;
      let decoded: Resource[];
      try {
        decoded = parseResources(toJson(merged));
      } catch (e) {
        throw new Error(`creating resource from patched data: ${e instanceof ResourceFileError ? e.describe() : (e as Error).message}`);
      }
      if (decoded.length !== 1) throw new Error(`invalid number of patched resources: ${decoded.length}`);
      const next = mergeMetadataForPatch(stored, decoded[0]!);
      try {
        return await rm.replace(next);
      } catch (e) {
        throw new Error(`updating existing resource: ${describeError(e)}`);
      }
    },
    { kind: p.pos[0]!, names: [p.pos[1]!] },
  );
  if (results.numResources === 0) {
    throw new CommandError(results.err ? describeError(results.err) : 'no resources specified');
  }
  if (!results.err && results.numHandled > 0) {
    io.stdout.write(`Successfully patched ${results.numHandled} '${results.singleKind}' resource\n`);
  } else if (results.err) {
    throw new CommandError(`hit error: ${describeError(results.err)}`);
  }
}

/** RFC 7386 merge: objects merge recursively, null removes, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!patch || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> = target && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** resourcemgr mergeMetadataForPatch: stored metadata, labels and annotations united. */
function mergeMetadataForPatch(stored: Resource, patched: Resource): Resource {
  const md = clone(stored.metadata);
  if (patched.metadata.labels) md.labels = { ...(md.labels ?? {}), ...patched.metadata.labels };
  if (patched.metadata.annotations) md.annotations = { ...(md.annotations ?? {}), ...patched.metadata.annotations };
  return { ...patched, metadata: md };
}
