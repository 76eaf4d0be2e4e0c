import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emitJson } from './emit.js';
import { formatFloatG, jsonNumberText, yamlNumberText } from './gonum.js';
import { JsonValueError } from './json.js';

test('json.MarshalIndent layout, insertion order kept', () => {
  const v = { kind: 'BGPPeer', metadata: { name: 'p', labels: {} }, spec: { list: [], peers: [1, { b: true, a: null }] } };
  assert.equal(emitJson(v), [
    '{',
    '  "kind": "BGPPeer",',
    '  "metadata": {',
    '    "name": "p",',
    '    "labels": {}',
    '  },',
    '  "spec": {',
    '    "list": [],',
    '    "peers": [',
    '      1,',
    '      {',
    '        "b": true,',
    '        "a": null',
    '      }',
    '    ]',
    '  }',
    '}',
  ].join('\n'));
  assert.equal(emitJson([]), '[]');
  assert.equal(emitJson('x'), '"x"');
  assert.equal(emitJson({ a: undefined, b: 1 }), '{\n  "b": 1\n}');
});

test('Go string escaping: HTML-safe, line/paragraph separators, short control escapes', () => {
  assert.equal(emitJson('<a href="x">&</a>'), '"\\u003ca href=\\"x\\"\\u003e\\u0026\\u003c/a\\u003e"');
  assert.equal(emitJson('\u2028\u2029'), '"\\u2028\\u2029"');
  assert.equal(emitJson('\b\f\n\r\t\\'), '"\\b\\f\\n\\r\\t\\\\"');
  assert.equal(emitJson('\u0000\u0001\u001f\u007f'), '"\\u0000\\u0001\\u001f\u007f"');
  assert.equal(emitJson('é😀'), '"é😀"');
  assert.equal(emitJson('\ud800x'), '"\\ufffdx"');
  assert.equal(emitJson({ '<k>': 1 }), '{\n  "\\u003ck\\u003e": 1\n}');
});

test('numbers as encoding/json prints float64', () => {
  const cases: [number | bigint, string][] = [
    [0, '0'], [-0, '-0'], [1.5, '1.5'], [1e20, '100000000000000000000'], [1e21, '1e+21'], [1e-6, '0.000001'], [1e-7, '1e-7'],
    [1.5e-10, '1.5e-10'], [2 ** 63, '9223372036854776000'], [2n ** 64n - 1n, '18446744073709551615'], [123456789.125, '123456789.125'],
  ];
  for (const [v, out] of cases) assert.equal(jsonNumberText(v), out, String(v));
  assert.throws(() => emitJson({ a: NaN }), (e) => e instanceof JsonValueError && e.message === 'json: unsupported value: NaN');
  assert.throws(() => emitJson([Infinity]), /json: unsupported value: \+Inf/);
});

test('strconv.FormatFloat(f, \'g\', -1, 64 and 32)', () => {
  const cases: [number, string][] = [
    [0, '0'], [-0, '-0'], [1, '1'], [100000, '100000'], [1e6, '1e+06'], [123456, '123456'], [1234567, '1.234567e+06'],
    [0.0001, '0.0001'], [0.00001, '1e-05'], [1.5e-10, '1.5e-10'], [1e100, '1e+100'], [-2.5, '-2.5'], [5e-324, '5e-324'],
    [1.7976931348623157e308, '1.7976931348623157e+308'], [Infinity, '+Inf'], [-Infinity, '-Inf'], [NaN, 'NaN'],
  ];
  for (const [v, out] of cases) assert.equal(formatFloatG(v), out, String(v));
  const f32: [number, string][] = [[0.1, '0.1'], [3.14159265358979, '3.1415927'], [1.1, '1.1'], [16777217, '1.6777216e+07'], [1e10, '1e+10'], [1e39, '+Inf']];
  for (const [v, out] of f32) assert.equal(formatFloatG(v, 32), out, String(v));
});

test('yamlNumberText: the number after the JSON → go-yaml round trip', () => {
  assert.equal(yamlNumberText(12), '12');
  assert.equal(yamlNumberText(1e20), '1e+20'); // "100000000000000000000" overflows uint64: a float
  assert.equal(yamlNumberText(1e19), '10000000000000000000');
  assert.equal(yamlNumberText(-1e19), '-1e+19');
  assert.equal(yamlNumberText(0.5), '0.5');
});
