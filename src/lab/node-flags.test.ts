import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { TORTIE_BIN, shebangNodeFlags, tortieNodeFlags } from './node-flags.js';

test('node flags: read from bin/tortie.js, the line the kernel runs', () => {
  const flags = tortieNodeFlags();
  assert.deepEqual(flags, shebangNodeFlags(readFileSync(TORTIE_BIN, 'utf8')));
  assert.ok(flags.includes('--max-semi-space-size=2'), flags.join(' '));
  assert.ok(flags.some((f) => /^--interrupt-budget=\d+$/.test(f)), flags.join(' '));
  assert.ok(flags.includes('--no-memory-reducer'), flags.join(' '));
  // node itself accepts every one of them (a typo would make every agent the lab starts exit at once)
  const r = spawnSync(process.execPath, [...flags, '-e', 'process.stdout.write("ok")'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'ok');
});

test('node flags: a first line that is not "env -S node --flags" is an error naming the file', () => {
  assert.deepEqual(shebangNodeFlags('#!/usr/bin/env -S node --a=1 --b\n// x'), ['--a=1', '--b']);
  assert.deepEqual(shebangNodeFlags('#!/usr/bin/env -S node\n'), []);
  assert.throws(() => shebangNodeFlags('#!/usr/bin/env node --x\n', '/p/bin/tortie.js'), /\/p\/bin\/tortie\.js: expected .*found "#!\/usr\/bin\/env node --x"/);
  assert.throws(() => shebangNodeFlags('// no shebang'), /expected/);
  assert.throws(() => shebangNodeFlags('#!/usr/bin/env -S node --ok rm -rf\n'), /expected/);
});
