/**
 * A small docopt-style parser: each command declares its options (short and long names,
 * whether they take a value, defaults) and how many positionals it accepts; options may appear
 * anywhere, as `--opt=v`, `--opt v`, `-o v` or `-ov`; `--` ends options. Anything that doesn't fit
 * is calicoctl's `invalid option: '<binary> <args>'. Use flag '--help' to read about a specific
 * subcommand`.
 */

export interface OptSpec {
  long: string;
  short?: string;
  /** The option takes a value. */
  value?: boolean;
  default?: string;
  /** May be given more than once (values collected). */
  repeat?: boolean;
}

export interface Parsed {
  opts: Map<string, string | boolean | string[]>;
  pos: string[];
  help: boolean;
}

export class UsageError extends Error {
  readonly code = 'USAGE' as const;
}

export const BINARY = 'tortie';

export function invalidOption(args: readonly string[]): UsageError {
  return new UsageError(`invalid option: '${BINARY} ${args.join(' ')}'. Use flag '--help' to read about a specific subcommand`);
}

/**
 * Parses `args` (not including the command words). `allArgs` is what the error message echoes.
 */
export function parseArgs(args: readonly string[], specs: readonly OptSpec[], allArgs: readonly string[] = args): Parsed {
  const opts = new Map<string, string | boolean | string[]>();
  const pos: string[] = [];
  let help = false;
  const byLong = new Map(specs.map((s) => [s.long, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short!, s]));
  const set = (spec: OptSpec, v: string | boolean) => {
    if (spec.repeat) {
      const cur = (opts.get(spec.long) as string[] | undefined) ?? [];
      opts.set(spec.long, [...cur, String(v)]);
    } else if (opts.has(spec.long)) {
      throw invalidOption(allArgs);
    } else opts.set(spec.long, v);
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      pos.push(...args.slice(i + 1));
      break;
    }
    if (a === '-h' || a === '--help') {
      help = true;
      continue;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
      const spec = byLong.get(name) ?? uniquePrefix(specs, name);
      if (!spec) throw invalidOption(allArgs);
      if (spec.value) {
        let v: string | undefined;
        if (eq >= 0) v = a.slice(eq + 1);
        else if (i + 1 < args.length) v = args[++i];
        if (v === undefined) throw invalidOption(allArgs);
        set(spec, v);
      } else {
        if (eq >= 0) throw invalidOption(allArgs);
        set(spec, true);
      }
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      // One or more short flags; a value-taking one consumes the rest or the next argument.
      for (let j = 1; j < a.length; j++) {
        const spec = byShort.get(a[j]!);
        if (a[j] === 'h') {
          help = true;
          continue;
        }
        if (!spec) throw invalidOption(allArgs);
        if (spec.value) {
          let v = a.slice(j + 1);
          if (v.startsWith('=')) v = v.slice(1);
          if (v === '') {
            if (i + 1 >= args.length) throw invalidOption(allArgs);
            v = args[++i]!;
          }
          set(spec, v);
          break;
        }
        set(spec, true);
      }
      continue;
    }
    pos.push(a);
  }
  for (const s of specs) if (s.default !== undefined && !opts.has(s.long)) opts.set(s.long, s.default);
  return { opts, pos, help };
}

/** docopt accepts an unambiguous prefix of a long option. */
function uniquePrefix(specs: readonly OptSpec[], name: string): OptSpec | undefined {
  const m = specs.filter((s) => s.long.startsWith(name));
  return name.length > 0 && m.length === 1 ? m[0] : undefined;
}

export function str(p: Parsed, long: string): string | undefined {
  const v = p.opts.get(long);
  return typeof v === 'string' ? v : undefined;
}

export function flag(p: Parsed, long: string): boolean {
  return p.opts.get(long) === true;
}
