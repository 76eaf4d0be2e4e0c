/**
 * The CLI as a lab scenario test uses it: `tortie` in-process against the lab's datastore, `lab
 * exec` in a child process (it hands its stdio over, so its output is captured this way), kernel
 * routes of a lab node, `lab ping`, `node status` of a host, the lab's directory and namespaces,
 * and a parser for calicoctl's status table. Shared by test/e2e/lab-seed-*.test.ts.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after } from 'node:test';
import { readState, teardown } from '../../src/lab/state.js';
import { main } from '../../src/cli/main.js';
import { memoryIO } from '../../src/cli/io.js';

export interface LabRoute {
  dst: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  scope?: string;
  flags?: string[];
}

export function labCli(dir: string) {
  const tortie = async (args: string[], stdin = ''): Promise<{ code: number; out: string; err: string }> => {
    const io = memoryIO({ stdin, env: { ...process.env, DATASTORE_TYPE: 'sqlite', SQLITE_PATH: join(dir, 'tortie.db') } });
    const code = await main(args, io);
    return { code, out: io.out(), err: io.err() };
  };
  const ok = async (args: string[], stdin = ''): Promise<string> => {
    const r = await tortie(args, stdin);
    assert.equal(r.code, 0, `tortie ${args.join(' ')}: ${r.err}`);
    return r.out;
  };
  /** `tortie lab exec` in a child process: its stdout. */
  const exec = (node: string, ...cmd: string[]): string => {
    const r = spawnSync(process.execPath, ['bin/tortie.js', 'lab', 'exec', '--dir', dir, node, '--', ...cmd], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 0, `lab exec ${node} ${cmd.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const routes = (node: string): LabRoute[] => JSON.parse(exec(node, 'ip', '-j', 'route', 'show')) as LabRoute[];
  const ping = (from: string, to: string, count = 1) => tortie(['lab', 'ping', '--dir', dir, '-c', String(count), from, to]);
  const nodeStatus = (host: string): Promise<string> => ok(['node', 'status', '--run-dir', join(dir, host, 'run')]);
  return { tortie, ok, exec, routes, ping, nodeStatus };
}

/**
 * A fresh lab directory for a describe() block ('' when the suite is skipped), torn down with
 * whatever lab is left in it after the suite: a failed assertion must not leave a lab running.
 */
export function useLabDir(skip: string | undefined): string {
  const dir = skip ? '' : mkdtempSync('/tmp/tl-');
  after(async () => {
    const left = dir ? readState(dir) : undefined;
    if (left) await teardown(left);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/** The lab's network namespaces that still exist (`tl-<name>-…`). */
export function labNamespaces(name: string): string[] {
  return spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .stdout.split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n.startsWith(`tl-${name}-`));
}

/** The Established peers of a `node status` table: address → peer type. */
export function statusPeers(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/^\| (\d+\.\d+\.\d+\.\d+) +\| ([a-z -]+?) +\| up +\| [0-9:]+ +\| Established +\|$/gm)) out[m[1]!] = m[2]!;
  return out;
}
