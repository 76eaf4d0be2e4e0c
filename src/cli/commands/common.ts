/** Option sets shared by the resource commands. */
import type { OptSpec } from '../args.js';

export const CONFIG_OPTS: OptSpec[] = [
  { long: 'config', short: 'c', value: true },
  { long: 'context', value: true },
  { long: 'allow-version-mismatch' },
];
export const FILE_OPTS: OptSpec[] = [
  { long: 'filename', short: 'f', value: true },
  { long: 'recursive', short: 'R' },
  { long: 'skip-empty' },
];
export const NS_OPT: OptSpec = { long: 'namespace', short: 'n', value: true };
