import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emitYaml, YamlEmitError } from './emit.js';
import { goYamlKeyLess, sortKeysGoYaml } from './keyorder.js';

const line = (v: unknown): string => emitYaml({ k: v });

test('calicoctl get -o yaml of a BGPPeer, byte for byte', () => {
  const peer = {
    apiVersion: 'projectcalico.org/v3',
    kind: 'BGPPeer',
    metadata: { name: 'peer-to-rrs', resourceVersion: '61822269', creationTimestamp: null, labels: { 'route-reflector': 'true' } },
    spec: { nodeSelector: '!has(i-am-a-route-reflector)', peerSelector: "route-reflector == 'true'" },
  };
  assert.equal(emitYaml(peer), [
    'apiVersion: projectcalico.org/v3',
    'kind: BGPPeer',
    'metadata:',
    '  creationTimestamp: null',
    '  labels:',
    '    route-reflector: "true"',
    '  name: peer-to-rrs',
    '  resourceVersion: "61822269"',
    'spec:',
    "  nodeSelector: '!has(i-am-a-route-reflector)'",
    "  peerSelector: route-reflector == 'true'",
    '',
  ].join('\n'));
});

test('a NodeList with annotations, sequences of maps and empty collections', () => {
  const list = {
    apiVersion: 'projectcalico.org/v3',
    kind: 'NodeList',
    items: [{
      metadata: { annotations: { 'node.alpha.kubernetes.io/ttl': '0', x: '{"beta.kubernetes.io/arch":"amd64"}' }, creationTimestamp: '2019-06-17T13:55:44Z' },
      spec: { bgp: { ipv4Address: '10.0.0.1/24' }, orchRefs: [{ nodeName: 'n1', orchestrator: 'k8s' }], addresses: [] },
      status: {},
    }],
    metadata: { resourceVersion: '' },
  };
  assert.equal(emitYaml(list), [
    'apiVersion: projectcalico.org/v3',
    'items:',
    '- metadata:',
    '    annotations:',
    '      node.alpha.kubernetes.io/ttl: "0"',
    `      x: '{"beta.kubernetes.io/arch":"amd64"}'`,
    '    creationTimestamp: "2019-06-17T13:55:44Z"',
    '  spec:',
    '    addresses: []',
    '    bgp:',
    '      ipv4Address: 10.0.0.1/24',
    '    orchRefs:',
    '    - nodeName: n1',
    '      orchestrator: k8s',
    '  status: {}',
    'kind: NodeList',
    'metadata:',
    '  resourceVersion: ""',
    '',
  ].join('\n'));
});

test('strings that would read back as something else are double-quoted', () => {
  const quoted = ['true', 'True', 'yes', 'Y', 'n', 'off', '123', '-1', '+1', '1.5', '1e3', '.5', '.inf', '-.inf', '.nan', '0x1',
    '0o17', '0b1', '017', '08', '1_000', 'null', 'Null', '~', '', '2019-06-17T13:55:44Z', '2019-06-17', '2019-6-7 1:2:3', '1:20', '-1:20:30.5'];
  for (const s of quoted) assert.equal(line(s), `k: "${s}"\n`, s);
  const plainOk = ['tRUE', 'yess', '2019-02-30', '2019-13-01', '1e400', '<<', '0x', '_1', 'a:b', 'a#b', "it's", 'a,b', '?x', ':x', '-a',
    'all()', 'é', '\u00a0x', 'a b', 'x-1', '1.2.3', '1:60'];
  for (const s of plainOk) assert.equal(line(s), `k: ${s}\n`, s);
});

test('plain text libyaml cannot write plain becomes single-quoted', () => {
  const cases: [string, string][] = [
    ['!has(a)', "'!has(a)'"], ['-', "'-'"], ['- a', "'- a'"], ['a: b', "'a: b'"], ['a:', "'a:'"], ['a #b', "'a #b'"],
    [' lead', "' lead'"], ['trail ', "'trail '"], [' ', "' '"], ["'q", "'''q'"], ['"q', `'"q'`], ['{"a":1}', `'{"a":1}'`],
    ['[x]', "'[x]'"], [']', "']'"], ['}', "'}'"], ['#', "'#'"], ['&a', "'&a'"], ['*a', "'*a'"], ['|', "'|'"], ['>', "'>'"],
    ['%x', "'%x'"], ['@x', "'@x'"], ['`x', "'`x'"], [': x', "': x'"], ['? x', "'? x'"], ['---', "'---'"], ['...', "'...'"],
    ['---a', "'---a'"], ['a: b # it\'s', "'a: b # it''s'"], ['a\u2028b', "'a\u2028  b'"],
  ];
  for (const [s, out] of cases) assert.equal(line(s), `k: ${out}\n`, s);
});

test('characters libyaml will not print raw force double quotes and escapes', () => {
  const cases: [string, string][] = [
    ['a\tb', '"a\\tb"'], ['a\rb', '"a\\rb"'], ['😀', '"\\U0001F600"'], ['\u0085', '"\\N"'], ['\u0000', '"\\0"'], ['\u0007\b\v\f\u001b', '"\\a\\b\\v\\f\\e"'],
    ['\u0001', '"\\x01"'], ['\u007f', '"\\x7F"'], ['\u0080', '"\\x80"'], ['\ufffe', '"\\uFFFE"'], ['\ufeffab', '"\\uFEFF\\x61\\x62"'],
    ['a"b\\\t', '"a\\"b\\\\\\t"'], ['é\t', '"é\\t"'],
  ];
  assert.equal(line('\ud800x'), 'k: \ufffdx\n'); // a lone surrogate is what Go's JSON makes of bad UTF-8
  for (const [s, out] of cases) assert.equal(line(s), `k: ${out}\n`, JSON.stringify(s));
});

test('multi-line strings use literal blocks with the right indicators', () => {
  assert.equal(line('line1\nline2'), 'k: |-\n  line1\n  line2\n');
  assert.equal(line('a\n'), 'k: |\n  a\n');
  assert.equal(line('a\n\n'), 'k: |+\n  a\n\n');
  assert.equal(line('\n'), 'k: |2+\n\n');
  assert.equal(line(' a\nb'), 'k: |2-\n   a\n  b\n');
  assert.equal(line('a\n\nb'), 'k: |-\n  a\n\n  b\n');
  assert.equal(line('a\n b'), 'k: |-\n  a\n   b\n');
  // No literal block when it cannot carry the text.
  assert.equal(line('a \nb'), 'k: "a \\nb"\n');
  assert.equal(line('a\nb '), 'k: "a\\nb "\n');
  assert.equal(line('a\tb\nc'), 'k: "a\\tb\\nc"\n');
  assert.equal(emitYaml(['x\ny']), '- |-\n  x\n  y\n');
  assert.equal(emitYaml({ a: { b: 'x\ny' } }), 'a:\n  b: |-\n    x\n    y\n');
  assert.equal(emitYaml({ 'a\nb': 1 }), '? |-\n  a\n  b\n: 1\n');
});

test('long values fold at spaces past column 80; keys never fold', () => {
  const words = (n: number): string => Array(n).fill('word').join(' ');
  assert.equal(emitYaml({ long: words(30) }), `long: ${words(16)}\n  ${words(14)}\n`);
  assert.equal(emitYaml({ a: { long: words(30) } }), `a:\n  long: ${words(15)}\n    ${words(15)}\n`);
  assert.equal(emitYaml({ k: `!${words(30)}` }), `k: '!${words(16)}\n  ${words(14)}'\n`);
  assert.equal(emitYaml({ k: `\t${words(30)}` }), `k: "\\t${words(16)}\n  ${words(14)}"\n`);
  assert.equal(emitYaml({ k: `\t${'x'.repeat(80)}  y` }), `k: "\\t${'x'.repeat(80)}\n  \\ y"\n`);
  assert.equal(emitYaml({ [words(25)]: 'v' }), `${words(25)}: v\n`);
  assert.equal(emitYaml({ k: 'x'.repeat(100) }), `k: ${'x'.repeat(100)}\n`);
  assert.equal(emitYaml([words(30)]), `- ${words(16)}\n  ${words(14)}\n`);
});

test('keys over 128 bytes are written as complex keys', () => {
  const k = 'k'.repeat(129);
  assert.equal(emitYaml({ [k]: 'v', b: 1 }), `b: 1\n? ${k}\n: v\n`);
  const k128 = 'é'.repeat(64); // 128 bytes: still simple
  assert.equal(emitYaml({ [k128]: 'v' }), `${k128}: v\n`);
  assert.equal(emitYaml({ ['é'.repeat(65)]: { a: 1 } }), `? ${'é'.repeat(65)}\n: a: 1\n`);
});

test('numbers print as sigs.k8s.io/yaml prints them after the JSON round trip', () => {
  const cases: [unknown, string][] = [
    [0, '0'], [-0, '0'], [64512, '64512'], [-5, '-5'], [1.5, '1.5'], [0.1, '0.1'], [1e6, '1000000'], [123456.789, '123456.789'],
    [1234567.5, '1.2345675e+06'], [1e21, '1e+21'], [1.5e300, '1.5e+300'], [1e-7, '1e-07'], [0.0001, '0.0001'], [0.00001234, '1.234e-05'],
    [2 ** 63, '9223372036854776000'], [2n ** 63n, '9223372036854775808'], [2 ** 64, '1.8446744073709552e+19'], [2n ** 64n - 1n, '18446744073709551615'],
    [-(2n ** 63n), '-9223372036854775808'], [2n ** 64n, '1.8446744073709552e+19'], [true, 'true'], [false, 'false'], [null, 'null'],
  ];
  for (const [v, out] of cases) assert.equal(line(v), `k: ${out}\n`, String(v));
  assert.throws(() => emitYaml({ k: NaN }), (e) => e instanceof YamlEmitError && /json: unsupported value: NaN/.test(e.message));
  assert.throws(() => emitYaml({ k: -Infinity }), /json: unsupported value: -Inf/);
  assert.equal(emitYaml({ k: () => 1 }), '{}\n');
  assert.throws(() => emitYaml([Symbol('x')]), /unsupported type: symbol/);
});

test('nesting, empty collections and top-level values', () => {
  assert.equal(emitYaml({ a: { b: { c: 1 } }, l: [[1, 2], [], {}, { x: 1, y: ['a'] }], e: {}, el: [] }), [
    'a:', '  b:', '    c: 1', 'e: {}', 'el: []', 'l:', '- - 1', '  - 2', '- []', '- {}', '- x: 1', '  "y":', '  - a', '',
  ].join('\n'));
  assert.equal(emitYaml([[['deep']]]), '- - - deep\n');
  assert.equal(emitYaml({ a: [{ b: [{ c: 1 }] }] }), 'a:\n- b:\n  - c: 1\n');
  assert.equal(emitYaml('abc'), 'abc\n');
  assert.equal(emitYaml('true'), '"true"\n');
  assert.equal(emitYaml(null), 'null\n');
  assert.equal(emitYaml(undefined), 'null\n');
  assert.equal(emitYaml({}), '{}\n');
  assert.equal(emitYaml([]), '[]\n');
  assert.equal(emitYaml([1, 'a', null]), '- 1\n- a\n- null\n');
  assert.equal(emitYaml('a\nb'), '|-\n  a\n  b\n');
  assert.equal(emitYaml({ a: undefined, b: 1, c: [undefined] }), 'b: 1\nc:\n- null\n');
  assert.equal(emitYaml({ d: new Date(0) }), 'd: "1970-01-01T00:00:00.000Z"\n');
});

test('keys sort in go-yaml v2\'s natural order, not byte order', () => {
  const keys = ['b', 'a10', 'a2', 'B', '_x', '1', 'a01', 'a1', 'aa', 'a', 'a:b', 'a-b', 'a.b'];
  assert.deepEqual(sortKeysGoYaml(keys), ['_x', '1', 'B', 'a', 'a-b', 'a.b', 'a:b', 'a1', 'a01', 'a2', 'a10', 'aa', 'b']);
  assert.equal(emitYaml({ ipv6: 1, ipv4: 2, ip: 3, 'ip-v': 4 }), 'ip: 3\nip-v: 4\nipv4: 2\nipv6: 1\n');
  assert.equal(goYamlKeyLess('x9', 'x10'), true);
  assert.equal(goYamlKeyLess('x10', 'x9'), false);
  assert.equal(goYamlKeyLess('1a', 'a'), true);
  // Larger maps (beyond insertion-sort size) sort the same way.
  const many = Array.from({ length: 30 }, (_, i) => `k${29 - i}`);
  assert.deepEqual(sortKeysGoYaml(many), Array.from({ length: 30 }, (_, i) => `k${i}`));
});
