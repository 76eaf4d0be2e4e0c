/**
 * Output formats for `get` (calicoctl `commands/common/printer.go`):
 *  - `ps`/`wide`/`custom-columns=…`: one tabwriter table per returned object — a list query
 *    returns one list object (one table), `get ippool a b` returns two (two tables, each with its
 *    header) — and an empty line after each table;
 *  - `yaml`/`json`: the single object, or an array when several names were given; JSON has no
 *    trailing newline.
 */
import { canonicalResource, listObject, toJson, toYaml } from '../api/codec.js';
import type { KindName } from '../api/kinds.js';
import type { Resource } from '../api/meta.js';
import { COLUMNS, type TableContext } from './columns.js';
import { tabwrite } from './tabwriter.js';

/** What `get` produced: a list (kind query) or individual objects (named query). */
export type Printable = { list: true; kind: KindName; items: Resource[]; revision: string } | { list: false; resource: Resource };

export function printableObject(p: Printable): unknown {
  return p.list ? listObject(p.kind, p.items, p.revision) : canonicalResource(p.resource);
}

export function printStructured(format: 'yaml' | 'json', ps: readonly Printable[]): string {
  // Nothing found (every named object missing): calicoctl marshals its nil slice, `null`.
  if (ps.length === 0) return format === 'json' ? 'null' : 'null\n';
  const value = ps.length === 1 ? printableObject(ps[0]!) : ps.map(printableObject);
  return format === 'json' ? toJson(value) : toYaml(value);
}

export class UnknownHeadingError extends Error {
  readonly code = 'UNKNOWN_HEADING' as const;
}

export function printTables(
  ps: readonly Printable[],
  opts: { wide?: boolean; headings?: string[]; printNamespace?: boolean },
  ctx: TableContext,
): string {
  let out = '';
  for (const p of ps) {
    const kind = (p.list ? p.kind : p.resource.kind) as KindName;
    const cols = COLUMNS[kind];
    let headings = opts.headings ?? (opts.wide ? cols.wide : cols.ps);
    // calicoctl's custom-columns printer is built without PrintNamespace (commands/get.go).
    if (opts.printNamespace && !opts.headings && 'NAMESPACE' in cols.cells) headings = ['NAMESPACE', ...headings];
    for (const h of headings) {
      if (!(h in cols.cells)) {
        throw new UnknownHeadingError(`unknown heading ${h}, valid values are: ${Object.keys(cols.cells).sort().join(', ')}`);
      }
    }
    const rows = p.list ? p.items : [p.resource];
    const lines = [headings, ...rows.map((r) => headings.map((h) => cols.cells[h]!(r, ctx)))];
    out += tabwrite(lines) + '\n';
  }
  return out;
}
