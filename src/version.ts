/**
 * tortie's version and build commit. The version comes from package.json; the commit from
 * `buildinfo.json`, which `npm run build` writes beside the compiled code (absent when running
 * from source, then `unknown`).
 */
import { readFileSync } from 'node:fs';

function readJson(rel: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

const pkg = readJson('../package.json');
const build = readJson('./buildinfo.json');

export const VERSION = `v${String(pkg?.version ?? '0.0.0')}`;
export const GIT_COMMIT = String(build?.gitCommit ?? 'unknown');
