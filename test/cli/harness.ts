/**
 * Drives the real CLI (`main(argv, io)`) against a real SQLite datastore in a temporary file,
 * the way a user at a shell would. Each call returns stdout, stderr and the exit status.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { memoryIO } from '../../src/cli/io.js';

export interface Run {
  out: string;
  err: string;
  code: number;
}

export class CliHarness {
  readonly dir = mkdtempSync(join(tmpdir(), 'tortie-cli-'));
  readonly env: NodeJS.ProcessEnv;

  constructor(env: NodeJS.ProcessEnv = {}) {
    this.env = { SQLITE_PATH: join(this.dir, 'tortie.db'), ...env };
  }

  async run(args: string | string[], stdin?: string): Promise<Run> {
    const argv = typeof args === 'string' ? splitArgs(args) : args;
    const io = memoryIO({ env: this.env, ...(stdin !== undefined ? { stdin } : {}) });
    const code = await main(argv, io);
    return { out: io.out(), err: io.err(), code };
  }

  /** Runs and asserts success, returning stdout. */
  async ok(args: string | string[], stdin?: string): Promise<string> {
    const r = await this.run(args, stdin);
    if (r.code !== 0) throw new Error(`tortie ${String(args)} failed (${r.code}):\n${r.err}${r.out}`);
    return r.out;
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Shell-like splitting with single and double quotes (enough for test command lines). */
export function splitArgs(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let q: string | undefined;
  let has = false;
  for (const ch of s) {
    if (q) {
      if (ch === q) q = undefined;
      else cur += ch;
    } else if (ch === "'" || ch === '"') {
      q = ch;
      has = true;
    } else if (ch === ' ') {
      if (cur || has) out.push(cur);
      cur = '';
      has = false;
    } else cur += ch;
  }
  if (cur || has) out.push(cur);
  return out;
}
