/**
 * `-f FILE | DIR | -` as calicoctl reads it (`commands/file/iter.go`, `resourcemgr`): stdin for
 * `-`; for a directory every `.yaml`, `.yml` and `.json` file in it (`-R` descends), in name
 * order; each file parsed completely before anything is written. Empty input is an error unless
 * `--skip-empty`.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseResources, ResourceFileError } from '../api/codec.js';
import type { Resource } from '../api/meta.js';

export class FileError extends Error {
  readonly code = 'FILE' as const;
  constructor(
    message: string,
    /** calicoctl reports these as `failed to execute command: …` */
    readonly fileInvalid: boolean,
  ) {
    super(message);
  }
}

export async function loadResourceFiles(
  filename: string,
  opts: { recursive?: boolean; skipEmpty?: boolean; readStdin: () => Promise<string> },
): Promise<Resource[]> {
  const files: string[] = [];
  let isDir = false;
  if (filename !== '-') {
    let st;
    try {
      st = statSync(filename);
    } catch (e) {
      throw new FileError(`open ${filename}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`, true);
    }
    if (st.isDirectory()) {
      isDir = true;
      collect(filename, !!opts.recursive, files);
    } else files.push(filename);
  } else files.push('-');

  const out: Resource[] = [];
  for (const f of files) {
    const text = f === '-' ? await opts.readStdin() : readText(f);
    let rs: Resource[];
    try {
      rs = parseResources(text);
    } catch (e) {
      if (e instanceof ResourceFileError) throw new FileError(f === '-' || files.length === 1 ? e.describe() : `${f}: ${e.describe()}`, true);
      throw e;
    }
    if (rs.length === 0 && !opts.skipEmpty) throw new FileError(`no resources specified in file ${f}`, false);
    out.push(...rs);
  }
  if (out.length === 0 && isDir && !opts.skipEmpty) throw new FileError(`no resources specified in directory ${filename}`, false);
  return out;
}

function readText(f: string): string {
  try {
    return readFileSync(f, 'utf8');
  } catch (e) {
    throw new FileError(`open ${f}: ${(e as Error).message}`, true);
  }
}

function collect(dir: string, recursive: boolean, out: string[]): void {
  for (const ent of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = join(dir, ent.name);
    if (ent.isDirectory()) {
      if (recursive) collect(p, recursive, out);
    } else if (/\.(ya?ml|json)$/.test(ent.name)) out.push(p);
  }
}
