/**
 * get (calicoctl `commands/get.go`): by `<KIND> [<NAME>...]` or `-f`; `-o ps|wide|yaml|json|
 * custom-columns=…`; `--export` strips cluster metadata from named objects; objects that don't
 * exist are reported after the others are printed.
 */
import { KIND_INFO, type KindName } from '../../api/kinds.js';
import type { Resource } from '../../api/meta.js';
import { flag, invalidOption, parseArgs, str } from '../args.js';
import type { TableContext } from '../columns.js';
import { describeError } from '../errors.js';
import { executeConfigCommand, errText } from '../execute.js';
import { GET_HELP } from '../help.js';
import { CommandError, type IO } from '../io.js';
import { printStructured, printTables, UnknownHeadingError, type Printable } from '../printers.js';
import { CONFIG_OPTS, FILE_OPTS, NS_OPT } from './common.js';
import type { Client } from '../../datastore/client.js';
import { isDatastoreError } from '../../datastore/errors.js';

type Format = { kind: 'yaml' | 'json' } | { kind: 'table'; wide: boolean; headings?: string[] };

export async function runGet(argsIn: string[], io: IO): Promise<void> {
  const args = argsIn.map((a) => (a === '-a' ? '-A' : a));
  const p = parseArgs(
    args.slice(1),
    [...FILE_OPTS, ...CONFIG_OPTS, NS_OPT, { long: 'output', short: 'o', value: true, default: 'ps' }, { long: 'all-namespaces', short: 'A' }, { long: 'export' }],
    argsIn,
  );
  if (p.help) {
    io.stdout.write(GET_HELP);
    return;
  }
  const byFile = p.opts.has('filename');
  if (byFile ? p.pos.length > 0 : p.pos.length < 1) throw invalidOption(argsIn);

  const output = str(p, 'output')!;
  let format: Format;
  if (output === 'yaml' || output === 'yml') format = { kind: 'yaml' };
  else if (output === 'json') format = { kind: 'json' };
  else if (output === 'ps') format = { kind: 'table', wide: false };
  else if (output === 'wide') format = { kind: 'table', wide: true };
  else {
    const [key, value = ''] = splitOnce(output, '=');
    if (key === 'custom-columns') {
      if (!value) throw new CommandError('need to specify at least one column');
      format = { kind: 'table', wide: false, headings: value.split(',') };
    } else if (key === 'go-template' || key === 'go-template-file') {
      if (!value) throw new CommandError(key === 'go-template' ? 'need to specify a template' : 'need to specify a template file');
      throw new CommandError(`output format '${key}' is not supported by tortie: use yaml, json, ps, wide or custom-columns`);
    } else throw new CommandError(`unrecognized output format '${output}'`);
  }

  const results = await executeConfigCommand(
    p,
    'get',
    io,
    async (rm, r) => {
      if (r.metadata.name) {
        // resourcemgr GetOrList: -A clears the namespace, which a single get cannot do without.
        if (KIND_INFO[r.kind as KindName].namespaced && !r.metadata.namespace) {
          throw new Error('cannot use --all-namespace flag for getting a single resource');
        }
        return rm.get(r);
      }
      const kind = r.kind as KindName;
      const l = await rm.client.list(kind, r.metadata.namespace ? { namespace: r.metadata.namespace } : {});
      return listMarker(kind, l.items, l.revision);
    },
    byFile ? undefined : { kind: p.pos[0]!, names: p.pos.slice(1) },
  );
  if (results.fileInvalid) throw new CommandError(`failed to execute command: ${errText(results.err)}`);
  if (results.err) throw new CommandError(`failed to get resources: ${describeError(results.err)}`);

  const exportIt = flag(p, 'export') && results.named;
  const printables: Printable[] = results.resources.map((r) => {
    const l = LISTS.get(r);
    if (l) return { list: true, ...l };
    return { list: false, resource: exportIt ? exported(r) : r };
  });

  if (format.kind === 'table') {
    const ctx: TableContext = { globalAS: await globalAS(results.client) };
    const printNamespace = flag(p, 'all-namespaces') || !!str(p, 'namespace');
    try {
      io.stdout.write(printTables(printables, { wide: format.wide, ...(format.headings ? { headings: format.headings } : {}), printNamespace }, ctx));
    } catch (e) {
      if (e instanceof UnknownHeadingError) throw new CommandError(e.message);
      throw e;
    }
  } else {
    io.stdout.write(printStructured(format.kind, printables));
  }
  if (results.resErrs.length) throw new CommandError(results.resErrs.map(describeError).join('\n'));
}

/** List results travel through the executor as marker objects. */
const LISTS = new WeakMap<Resource, { kind: KindName; items: Resource[]; revision: string }>();
function listMarker(kind: KindName, items: Resource[], revision: string): Resource {
  const m: Resource = { apiVersion: '', kind: KIND_INFO[kind].listKind, metadata: {} };
  LISTS.set(m, { kind, items, revision });
  return m;
}

function exported(r: Resource): Resource {
  const md = { ...r.metadata };
  delete md.namespace;
  delete md.uid;
  delete md.resourceVersion;
  md.creationTimestamp = null;
  delete md.deletionTimestamp;
  delete md.deletionGracePeriodSeconds;
  return { ...r, metadata: md };
}

/** `{{config "asnumber"}}` in calicoctl's Node template. */
async function globalAS(client: Client | undefined): Promise<string> {
  if (!client) return '64512';
  try {
    const cfg = await client.get({ kind: 'BGPConfiguration', name: 'default' });
    const as = (cfg.spec as Record<string, unknown> | undefined)?.asNumber;
    return as !== undefined && as !== null ? String(as) : '64512';
  } catch (e) {
    return isDatastoreError(e, 'NOT_FOUND') ? '64512' : 'unknown';
  }
}

function splitOnce(s: string, sep: string): [string, string?] {
  const i = s.indexOf(sep);
  return i < 0 ? [s] : [s.slice(0, i), s.slice(i + 1)];
}
