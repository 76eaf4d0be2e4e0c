/**
 * The node flags `bin/tortie.js` starts with (its shebang line): the lab starts every agent with them and
 * the benchmarks run tortie with them, so both run the agent as a user's `tortie node run` does. The
 * shebang is the one place they are written; the reasons are beside it.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** This package's root directory (dist/lab/ and src/lab/ are both two levels below it). */
export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** bin/tortie.js of this package. */
export const TORTIE_BIN = join(PACKAGE_ROOT, 'bin', 'tortie.js');

/** The flags of a `#!/usr/bin/env -S node …` first line; throws on any other first line. */
export function shebangNodeFlags(text: string, file = TORTIE_BIN): string[] {
  const first = text.split('\n', 1)[0] ?? '';
  const m = /^#!\/usr\/bin\/env -S node((?:\s+--\S+)*)\s*$/.exec(first);
  if (!m) throw new Error(`${file}: expected "#!/usr/bin/env -S node --flag…" as the first line, found ${JSON.stringify(first)}`);
  return m[1]!.trim().split(/\s+/).filter(Boolean);
}

/** The flags bin/tortie.js starts node with. */
export function tortieNodeFlags(file = TORTIE_BIN): string[] {
  return shebangNodeFlags(readFileSync(file, 'utf8'), file);
}
