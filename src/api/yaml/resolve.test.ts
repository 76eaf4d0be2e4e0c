import { test } from 'node:test';
import assert from 'node:assert/strict';
import { goParseFloat, goResolve, isBase60Float, isGoYamlTimestamp, resolvesToString, TAG, type Resolved } from './resolve.js';

const r = (s: string): Resolved | null => goResolve('', s);
const bool = (value: boolean): Resolved => ({ kind: 'bool', value });
const int = (value: bigint): Resolved => ({ kind: 'int', value });
const float = (value: number): Resolved => ({ kind: 'float', value });
const str = (value: string): Resolved => ({ kind: 'str', value });

test('YAML 1.1 booleans, exactly the forms go-yaml v2 lists', () => {
  for (const s of ['y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON']) assert.deepEqual(r(s), bool(true), s);
  for (const s of ['n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF']) assert.deepEqual(r(s), bool(false), s);
  for (const s of ['tRUE', 'yES', 'oN', 'nO', 'FaLsE', 'yeah', 'T', 'F', '1t']) assert.deepEqual(r(s), str(s), s);
});

test('nulls', () => {
  for (const s of ['', '~', 'null', 'Null', 'NULL']) assert.deepEqual(r(s), { kind: 'null' }, s);
  for (const s of ['nULL', 'nil', 'None', '~~']) assert.deepEqual(r(s), str(s), s);
});

test('integers: Go ParseInt(s, 0, 64) after deleting every underscore', () => {
  const cases: [string, bigint][] = [
    ['0', 0n], ['-0', 0n], ['+12', 12n], ['-12', -12n], ['017', 15n], ['0x1F', 31n], ['0X1f', 31n], ['+0x1F', 31n],
    ['0o17', 15n], ['0O17', 15n], ['0b101', 5n], ['0B101', 5n], ['-0b101', -5n], ['1_000', 1000n], ['1__0', 10n],
    ['1_', 1n], ['0x_1F', 31n], ['9223372036854775807', 9223372036854775807n], ['-9223372036854775808', -9223372036854775808n],
  ];
  for (const [s, v] of cases) assert.deepEqual(r(s), int(v), s);
  assert.deepEqual(r('9223372036854775808'), { kind: 'uint', value: 9223372036854775808n });
  assert.deepEqual(r('18446744073709551615'), { kind: 'uint', value: 18446744073709551615n });
  assert.deepEqual(r('18446744073709551616'), float(18446744073709551616));
  assert.deepEqual(r('-9223372036854775809'), float(-9223372036854775809));
  // "08" is no octal int, but matches the float regexp: the float 8.
  assert.deepEqual(r('08'), float(8));
  assert.deepEqual(r('0_9'), float(9));
  for (const s of ['0x', '0b', '0b2', '0xg', '_1', '1-2', '- 1', '+', '-', '1 2']) assert.deepEqual(r(s), str(s), s);
});

test('floats: yamlStyleFloat then ParseFloat; overflow is a string', () => {
  const cases: [string, number][] = [
    ['1.5', 1.5], ['1.', 1], ['1.e5', 1e5], ['.5', 0.5], ['+.5', 0.5], ['-.5', -0.5], ['1e3', 1000], ['1E+3', 1000],
    ['1e-3', 0.001], ['6.8523015e+5', 685230.15], ['1_0.5', 10.5], ['1e-400', 0], ['.5e1', 5], ['.5_0', 0.5], ['1e5_', 1e5],
  ];
  for (const [s, v] of cases) assert.deepEqual(r(s), float(v), s);
  for (const s of ['.inf', '.Inf', '.INF', '+.inf', '+.Inf', '+.INF']) assert.deepEqual(r(s), float(Infinity), s);
  for (const s of ['-.inf', '-.Inf', '-.INF']) assert.deepEqual(r(s), float(-Infinity), s);
  for (const s of ['.nan', '.NaN', '.NAN']) { const v = r(s); assert.ok(v?.kind === 'float' && Number.isNaN(v.value), s); }
  for (const s of ['1e400', '.5e400', 'inf', '+inf', 'Infinity', 'NaN', '.iNF', '._5', '.5_', '.5__0', '1.2.3', '12e', '.', '.e5', '0x1p3', '1e+']) {
    assert.deepEqual(r(s), str(s), s);
  }
});

test('timestamps resolve as timestamps (the decoder keeps their text)', () => {
  for (const s of ['2001-12-14', '2001-1-2', '2019-06-17T13:55:44Z', '2001-12-14t21:59:43.10-05:00', '2001-12-14 21:59:43.10',
    '2001-12-14  21:59:43', '2019-06-17T13:55:44,5Z', '2020-02-29', '2000-02-29', '2019-06-17T13:55:44+24:00']) {
    assert.ok(isGoYamlTimestamp(s), s);
    assert.deepEqual(r(s), { kind: 'timestamp', value: s }, s);
  }
  for (const s of ['2019-02-29', '2019-02-30', '1900-02-29', '2019-13-01', '2019-00-10', '2019-06-17T24:00:00Z', '2019-06-17T13:60:00Z',
    '2019-06-17T13:55:60Z', '2001-12-14 21:59:43.10 -5', '2019-06-17T13:55:44z', '2019-06-17T13:55:44', '2019-06-17x', '20190-01-01',
    '201-01-01', '2019-06-17T13:55:44+25:00', '2019-06-17T13:55:44+0100', '2019-06-171']) {
    assert.equal(isGoYamlTimestamp(s), false, s);
  }
});

test('sexagesimal numbers are strings when read, but quoted when written', () => {
  for (const s of ['1:20', '190:20:30.15', '-1:20', '+1_0:59']) {
    assert.deepEqual(r(s), str(s), s);
    assert.ok(isBase60Float(s), s);
    assert.equal(resolvesToString(s), false, s);
  }
  for (const s of ['1:60', 'a:1', '1:2:', ':1', '1::2']) assert.equal(isBase60Float(s), false, s);
});

test('"<<" is a plain string for resolve: its first byte has no hint', () => {
  assert.deepEqual(r('<<'), str('<<'));
  assert.ok(resolvesToString('<<'));
});

test('explicit tags', () => {
  assert.deepEqual(goResolve(TAG.str, '12'), str('12'));
  assert.deepEqual(goResolve(TAG.str, 'true'), str('true'));
  assert.deepEqual(goResolve(TAG.int, '0x10'), int(16n));
  assert.deepEqual(goResolve(TAG.float, '1'), float(1));
  assert.deepEqual(goResolve(TAG.bool, 'yes'), bool(true));
  assert.deepEqual(goResolve(TAG.null, ''), { kind: 'null' });
  assert.deepEqual(goResolve(TAG.timestamp, '2001-01-01'), { kind: 'timestamp', value: '2001-01-01' });
  assert.equal(goResolve('!custom', '12'), null);
  assert.equal(goResolve(TAG.binary, 'aGk='), null);
  assert.throws(() => goResolve(TAG.int, 'x'), /cannot decode !!str `x` as a !!int/);
  assert.throws(() => goResolve(TAG.int, ''), /cannot decode !!null `` as a !!int/);
  assert.throws(() => goResolve(TAG.float, '18446744073709551615'), /cannot decode !!int `18446744073709551615` as a !!float/);
  assert.throws(() => goResolve(TAG.bool, '1'), /cannot decode !!int `1` as a !!bool/);
  assert.throws(() => goResolve(TAG.timestamp, '2019-02-30'), /cannot decode !!str `2019-02-30` as a !!timestamp/);
});

test('goParseFloat follows Go underscore rules and refuses overflow', () => {
  assert.equal(goParseFloat('1_000.5'), 1000.5);
  assert.equal(goParseFloat('1__0'), null);
  assert.equal(goParseFloat('_1'), null);
  assert.equal(goParseFloat('1e1_0'), 1e10);
  assert.equal(goParseFloat('1.7976931348623157e308'), 1.7976931348623157e308);
  assert.equal(goParseFloat('1.8e308'), null);
});
