/**
 * The last file of the suite (scripts/test.sh appends it; its name is not `*.test.ts`, so the
 * usual `find` does not pick it up): every run leaves no namespace, process, interface or file
 * behind.
 *
 * node:test has no global teardown, so this file waits for the others. Node 20's runner sorts the
 * files it is given (absolute paths, code-unit order) and starts them in that order, at most
 * --test-concurrency at a time, each as a child process `node [execArgv] <absolute file>` of the
 * runner — this process's parent. Hence the directory name: sorting last, this file starts only
 * once every other file has started (checked first: it fails at once if some file sorts after it),
 * then polls /proc until no other child of the runner runs one of the runner's files, and compares
 * a snapshot with the baseline scripts/test.sh took before the suite ($TORTIE_LEFTOVER_BASELINE,
 * ../helpers/leftovers.ts), retrying for a few seconds (a watchdog or a daemon may be exiting).
 * Run on its own (no baseline) it checks tortie-owned names only.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { BASELINE_ENV, describeLeftovers, findLeftovers, type Context, type Leftover, type Snapshot } from '../helpers/leftovers-diff.js';
import { REPO, TMP_DIRS, ancestry, findReaper, processes, takeSnapshot } from '../helpers/leftovers.js';

const WAIT_MS = Number(process.env.TORTIE_LEFTOVER_WAIT_MS ?? 60 * 60_000);
const GRACE_MS = 10_000;
const THIS_FILE = fileURLToPath(import.meta.url);
const underRunner = process.env.NODE_TEST_CONTEXT !== undefined;
const baselinePath = process.env[BASELINE_ENV] || undefined;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The test files the runner was given (absolute paths, as it runs them). */
function runnerFiles(): string[] {
  const cwd = readlinkSync(`/proc/${process.ppid}/cwd`);
  const args = readFileSync(`/proc/${process.ppid}/cmdline`, 'utf8').split('\0').filter(Boolean).slice(1); // not node itself
  return [...new Set(args.map((a) => resolve(cwd, a)).filter((f) => existsSync(f) && statSync(f).isFile()))];
}

/** The other test files still running: children of the runner running one of its files. */
function siblings(files: Set<string>): string[] {
  return processes()
    .filter((p) => p.ppid === process.ppid && p.pid !== process.pid && p.cmd.some((a) => files.has(a)))
    .map((p) => `${p.pid} ${p.cmd.at(-1)}`);
}

after(() => {
  // scripts/test.sh's mktemp file: the run's last trace.
  if (baselinePath && basename(baselinePath).startsWith('tortie-leftovers-')) rmSync(baselinePath, { force: true });
});

test('the suite left no namespace, process, interface or file behind', { timeout: WAIT_MS + 120_000 }, async () => {
  if (underRunner) {
    const files = new Set(runnerFiles());
    const later = [...files].filter((f) => f > THIS_FILE);
    assert.deepEqual(later, [], `${THIS_FILE} must sort after every other test file (node:test runs them in sorted order)`);
    const deadline = Date.now() + WAIT_MS;
    for (let left = siblings(files); left.length > 0; left = siblings(files)) {
      assert.ok(Date.now() < deadline, `other test files still running after ${WAIT_MS / 60_000} min: ${left.join(', ')}`);
      await sleep(1000);
    }
  }
  if (baselinePath) assert.ok(existsSync(baselinePath), `${BASELINE_ENV}=${baselinePath} does not exist (scripts/test.sh writes it before the suite)`);
  const baseline = baselinePath ? (JSON.parse(readFileSync(baselinePath, 'utf8')) as Snapshot) : undefined;

  const reaper = findReaper();
  const neutral = [reaper, ...ancestry(reaper)];
  // this process, the runner and their ancestors (the shell that started the suite)
  const self = ancestry(process.pid).filter((p) => !neutral.includes(p));
  const ctx: Context = { repo: REPO, tmpDirs: TMP_DIRS, marker: baselinePath, self, neutral };
  let left: Leftover[] = [];
  const deadline = Date.now() + GRACE_MS;
  do {
    left = findLeftovers(baseline, takeSnapshot(), ctx);
    if (left.length === 0) return;
    await sleep(500);
  } while (Date.now() < deadline);
  assert.fail(describeLeftovers(left, baselinePath));
});
