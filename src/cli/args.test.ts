/**
 * The docopt-style option parser: the forms docopt accepts (`--opt=v`, `--opt v`, `-o v`, `-ov`,
 * bundled short flags, an unambiguous prefix of a long option, `--`), and calicoctl's one
 * message for everything else.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { flag, parseArgs, str, UsageError, type OptSpec } from './args.js';

const SPECS: OptSpec[] = [
  { long: 'output', short: 'o', value: true, default: 'ps' },
  { long: 'filename', short: 'f', value: true },
  { long: 'recursive', short: 'R' },
  { long: 'all-namespaces', short: 'A' },
  { long: 'export' },
  { long: 'skip-empty' },
  { long: 'skip-exists' },
];

const INVALID = (args: string) => `invalid option: 'tortie ${args}'. Use flag '--help' to read about a specific subcommand`;

function fails(args: string[], all = args): string {
  try {
    parseArgs(args, SPECS, all);
  } catch (e) {
    assert.ok(e instanceof UsageError);
    return e.message;
  }
  assert.fail(`parsed: ${args.join(' ')}`);
}

test('value forms: --opt=v, --opt v, -o v, -ov', () => {
  for (const args of [['--output=yaml'], ['--output', 'yaml'], ['-o', 'yaml'], ['-oyaml']]) {
    assert.equal(str(parseArgs(args, SPECS), 'output'), 'yaml', args.join(' '));
  }
});

test('defaults apply when the option is absent', () => {
  const p = parseArgs(['ippool'], SPECS);
  assert.equal(str(p, 'output'), 'ps');
  assert.deepEqual(p.pos, ['ippool']);
  assert.equal(flag(p, 'export'), false);
});

test('options may come anywhere among positionals', () => {
  const p = parseArgs(['ippool', '-o', 'wide', 'a', '--export', 'b'], SPECS);
  assert.deepEqual(p.pos, ['ippool', 'a', 'b']);
  assert.equal(str(p, 'output'), 'wide');
  assert.equal(flag(p, 'export'), true);
});

test('bundled short flags, the last one taking a value', () => {
  const p = parseArgs(['-RAf', 'dir'], SPECS);
  assert.equal(flag(p, 'recursive'), true);
  assert.equal(flag(p, 'all-namespaces'), true);
  assert.equal(str(p, 'filename'), 'dir');
});

test('an unambiguous prefix of a long option is that option; an ambiguous one is invalid', () => {
  assert.equal(flag(parseArgs(['--exp'], SPECS), 'export'), true);
  assert.equal(str(parseArgs(['--out', 'json'], SPECS), 'output'), 'json');
  assert.equal(fails(['--skip']), INVALID('--skip'));
});

test('-- ends the options', () => {
  assert.deepEqual(parseArgs(['--', '-o', 'x'], SPECS).pos, ['-o', 'x']);
});

test('-h and --help are recognised anywhere', () => {
  assert.equal(parseArgs(['ippool', '--help'], SPECS).help, true);
  assert.equal(parseArgs(['-h'], SPECS).help, true);
  assert.equal(parseArgs(['ippool'], SPECS).help, false);
});

test('unknown options, missing values, flags with values and repeats are all one message, echoing the whole command', () => {
  assert.equal(fails(['--foo'], ['get', '--foo']), INVALID('get --foo'));
  assert.equal(fails(['-x'], ['get', '-x']), INVALID('get -x'));
  assert.equal(fails(['-o'], ['get', 'ippool', '-o']), INVALID('get ippool -o'));
  assert.equal(fails(['--output'], ['get', '--output']), INVALID('get --output'));
  assert.equal(fails(['--export=yes'], ['get', '--export=yes']), INVALID('get --export=yes'));
  assert.equal(fails(['-o', 'yaml', '-o', 'json'], ['get', '-o', 'yaml', '-o', 'json']), INVALID('get -o yaml -o json'));
});

test('repeatable options collect their values', () => {
  const p = parseArgs(['--from-report', 'a', '--from-report=b'], [{ long: 'from-report', value: true, repeat: true }]);
  assert.deepEqual(p.opts.get('from-report'), ['a', 'b']);
});
