import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDocument, parseDocuments, toPlain, YamlError, type YNode } from './read.js';
import { goStringOfScalar } from './gostring.js';

const plain = (text: string): unknown => toPlain(parseDocument(text));

function fails(text: string, code: YamlError['code'], line: number, problem: string | RegExp, col?: number): void {
  assert.throws(() => parseDocuments(text), (e: unknown) => {
    assert.ok(e instanceof YamlError, String(e));
    assert.equal(e.code, code, e.message);
    if (line > 0) assert.equal(e.line, line, e.message);
    if (col !== undefined) assert.equal(e.col, col, e.message);
    if (typeof problem === 'string') assert.equal(e.problem, problem);
    else assert.match(e.problem, problem);
    assert.equal(e.message, `yaml: line ${e.line}, column ${e.col}: ${e.problem}`);
    return true;
  });
}

function scalarAt(node: YNode | null, key: string): Extract<YNode, { kind: 'scalar' }> {
  assert.ok(node?.kind === 'map');
  const v = node.entries.find((e) => e.key === key)?.value;
  assert.ok(v?.kind === 'scalar', key);
  return v;
}

test('every YAML 1.1 scalar class as calicoctl reads it', () => {
  const doc = [
    'b1: yes', 'b2: Off', 'b3: y', 'b4: TRUE', 's1: tRUE', 'n1: ~', 'n2:', 'n3: Null', 'i1: 0x1F', 'i2: 017', 'i3: +12', 'i4: 1_000',
    'i5: 0b101', 'i6: 0o17', 'f1: 08', 'f2: 1e3', 'f3: .5', 'f4: 1.', 't1: 2019-06-17T13:55:44Z', 't2: 2001-12-14', 'x1: 1:20',
    'x2: 1e400', 'x3: <<', 'q1: "yes"', "q2: '12'", 'q3: "~"', 'l1: |\n  12', 'l2: >-\n  true',
  ].join('\n');
  assert.deepEqual(plain(doc), {
    b1: true, b2: false, b3: true, b4: true, s1: 'tRUE', n1: null, n2: null, n3: null, i1: 31, i2: 15, i3: 12, i4: 1000,
    i5: 5, i6: 15, f1: 8, f2: 1000, f3: 0.5, f4: 1, t1: '2019-06-17T13:55:44Z', t2: '2001-12-14', x1: '1:20',
    x2: '1e400', x3: '<<', q1: 'yes', q2: '12', q3: '~', l1: '12\n', l2: 'true',
  });
});

test('YAML 1.1 keys: y/n/on/off keys become "true"/"false", numbers their Go string', () => {
  assert.deepEqual(plain('y: 1\nn: 2\n1.0: a\n0x10: b\n3.14159265358979: c\n1e3: d\n.inf: e\n'), {
    true: 1, false: 2, 1: 'a', 16: 'b', '3.1415927': 'c', 1000: 'd', '.inf': 'e',
  });
  assert.deepEqual(plain('"y": 1\n2019-01-01: d\n'), { y: 1, '2019-01-01': 'd' });
});

test('scalar nodes keep raw text, quoting and exact big integers', () => {
  const n = parseDocument('a: "x"\nb: 0x1F\nc: 9223372036854775807\nd: 18446744073709551615\ne: 12345678901234567890123\nf: "a\\tb"\n');
  assert.deepEqual({ ...scalarAt(n, 'a'), pos: undefined }, { kind: 'scalar', value: 'x', raw: 'x', quoted: true, pos: undefined });
  assert.equal(scalarAt(n, 'b').raw, '0x1F');
  assert.equal(scalarAt(n, 'b').quoted, false);
  assert.equal(scalarAt(n, 'c').bigint, 9223372036854775807n);
  assert.equal(scalarAt(n, 'd').bigint, 18446744073709551615n);
  assert.equal(scalarAt(n, 'e').bigint, undefined); // beyond uint64: a float
  assert.equal(scalarAt(n, 'e').value, 1.2345678901234568e22);
  assert.equal(scalarAt(n, 'f').value, 'a\tb');
  assert.deepEqual(scalarAt(n, 'b').pos, { line: 2, col: 4, offset: 10 });
});

test('goStringOfScalar: what a Go string field receives', () => {
  const n = parseDocument('a: 0x1F\nb: 1.10\nc: yes\nd: "0x1F"\ne: 1e10\nf: 0.1\ng: ~\nh: 18446744073709551615\n');
  const g = (k: string): string | null => goStringOfScalar(scalarAt(n, k));
  assert.deepEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map(g), ['31', '1.1', 'true', '0x1F', '1e+10', '0.1', null, '18446744073709551615']);
});

test('duplicate keys compare Go values (strict, like UnmarshalStrict)', () => {
  fails('a: 1\nb: 2\na: 3\n', 'YAML_DUPLICATE_KEY', 3, 'key "a" already set in map', 4);
  fails('1: x\n01: y\n', 'YAML_DUPLICATE_KEY', 2, 'key 1 already set in map');
  fails('true: x\nyes: y\n', 'YAML_DUPLICATE_KEY', 2, 'key true already set in map');
  fails("a: 1\n'a': 2\n", 'YAML_DUPLICATE_KEY', 2, 'key "a" already set in map');
  fails('a:\n  b: 1\na:\n  c: 2\n', 'YAML_DUPLICATE_KEY', 4, 'key "a" already set in map', 3);
  fails('x:\n  - {p: 1, p: 2}\n', 'YAML_DUPLICATE_KEY', 2, 'key "p" already set in map');
  // Different Go types are different keys; they then collapse into one JSON key, the later winning.
  assert.deepEqual(plain('1: int\n"1": str\n'), { 1: 'str' });
  assert.deepEqual(plain('1.0: float\n1: int\n'), { 1: 'int' });
  // Non-strict mode: the later value wins.
  assert.deepEqual(toPlain(parseDocuments('a: 1\na: 2\n', { strict: false })[0]!.node), { a: 2 });
});

test('merge keys work like go-yaml v2, including its strict-mode clash on overrides', () => {
  assert.deepEqual(plain('base: &b {x: 1, z: 2}\nm:\n  <<: *b\n  w: 3\n'), { base: { x: 1, z: 2 }, m: { x: 1, z: 2, w: 3 } });
  assert.deepEqual(plain('a: &a {p: 1}\nb: &b {q: 2}\nm:\n  <<: [*a, *b]\n'), { a: { p: 1 }, b: { q: 2 }, m: { q: 2, p: 1 } });
  assert.deepEqual(plain('m:\n  <<: {k: v}\n'), { m: { k: 'v' } });
  fails('base: &b {x: 1}\nm:\n  <<: *b\n  x: 3\n', 'YAML_DUPLICATE_KEY', 4, 'key "x" already set in map');
  fails('base: &b {x: 1}\nm:\n  x: 3\n  <<: *b\n', 'YAML_DUPLICATE_KEY', 1, 'key "x" already set in map');
  fails('a: &a {p: 1}\nb: &b {p: 2}\nm:\n  <<: [*a, *b]\n', 'YAML_DUPLICATE_KEY', 1, 'key "p" already set in map');
  // Non-strict: a merge overwrites keys already set, and earlier maps in a list win.
  const loose = (t: string): unknown => toPlain(parseDocuments(t, { strict: false })[0]!.node);
  assert.deepEqual(loose('base: &b {x: 1}\nm:\n  x: 3\n  <<: *b\n'), { base: { x: 1 }, m: { x: 1 } });
  assert.deepEqual(loose('a: &a {p: 1}\nb: &b {p: 2}\nm:\n  <<: [*a, *b]\n'), { a: { p: 1 }, b: { p: 2 }, m: { p: 1 } });
  // Only a plain (or !!merge) "<<" merges.
  assert.deepEqual(plain('m:\n  "<<": {k: v}\n'), { m: { '<<': { k: 'v' } } });
  assert.deepEqual(plain('m:\n  !!merge <<: {k: v}\n'), { m: { k: 'v' } });
  fails('a: &a 1\nm:\n  <<: *a\n', 'YAML_SYNTAX', 3, 'map merge requires map or sequence of maps as the value');
  fails('m:\n  <<: [1]\n', 'YAML_SYNTAX', 2, 'map merge requires map or sequence of maps as the value');
});

test('anchors and aliases', () => {
  assert.deepEqual(plain('a: &x [1, 2]\nb: *x\nc: &x v\nd: *x\n'), { a: [1, 2], b: [1, 2], c: 'v', d: 'v' });
  assert.deepEqual(plain('a: &e\nb: *e\n'), { a: null, b: null });
  fails('a: *nope\n', 'YAML_SYNTAX', 1, "unknown anchor 'nope' referenced", 4);
  fails('b: *x\na: &x 1\n', 'YAML_SYNTAX', 1, "unknown anchor 'x' referenced");
  fails('&a [*a]\n', 'YAML_SYNTAX', 1, "anchor 'a' value contains itself");
  fails('a: &a {b: *a}\n', 'YAML_SYNTAX', 1, "anchor 'a' value contains itself");
});

test('billion laughs trips go-yaml\'s excessive aliasing guard', () => {
  const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
  for (let i = 1; i < 8; i++) lines.push(`a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]`);
  fails(lines.join('\n') + '\n', 'YAML_UNSUPPORTED', -1, 'document contains excessive aliasing');
  assert.doesNotThrow(() => parseDocument(lines.slice(0, 3).join('\n')));
});

test('key types with no JSON form', () => {
  fails('~: a\n', 'YAML_UNSUPPORTED', 1, /unsupported map key of type: %!s\(<nil>\)/);
  fails('x:\n  18446744073709551615: a\n', 'YAML_UNSUPPORTED', 2, /unsupported map key of type: uint64, key: 0xffffffffffffffff/);
  fails('[1]: a\n', 'YAML_UNSUPPORTED', 1, /^invalid map key/);
  fails('? {a: 1}\n: b\n', 'YAML_UNSUPPORTED', 1, /^invalid map key/);
  // Duplicate errors come first (unmarshal), then conversion errors.
  fails('~: a\nb: 1\nb: 2\n', 'YAML_DUPLICATE_KEY', 3, 'key "b" already set in map');
});

test('tags', () => {
  assert.deepEqual(plain('a: !!binary aGVsbG8=\nb: !!float 1\nc: !!str 12\nd: !custom 12\ne: ! 12\nf: !!int "7"\ng: !!binary |\n  aGVs\n  bG8=\n'),
    { a: 'hello', b: 1, c: '12', d: '12', e: '12', f: 7, g: 'hello' });
  assert.deepEqual(plain('a: !!binary /w==\n'), { a: '\ufffd' });
  fails('a: !!int "x"\n', 'YAML_SYNTAX', 1, 'cannot decode !!str `x` as a !!int');
  fails('a: !!bool 1\n', 'YAML_SYNTAX', 1, 'cannot decode !!int `1` as a !!bool');
  fails('a: !!binary "@@"\n', 'YAML_SYNTAX', 1, '!!binary value contains invalid base64 data');
  fails('a: !x!foo 1\n', 'YAML_SYNTAX', 1, 'found undefined tag handle');
});

test('syntax errors carry line and column, with go-yaml\'s wording', () => {
  fails('a: b: c\n', 'YAML_SYNTAX', 1, 'mapping values are not allowed in this context', 5);
  fails('key: value\n  more: x\n', 'YAML_SYNTAX', 2, 'mapping values are not allowed in this context', 7);
  fails('a:\n  b: 1\n c: 2\n', 'YAML_SYNTAX', 3, 'did not find expected key');
  fails('a:\n\tb: 1\n', 'YAML_SYNTAX', 2, 'found character that cannot start any token', 1);
  fails('a: "abc\n', 'YAML_SYNTAX', 2, 'found unexpected end of stream');
  fails('a: [1, 2\n', 'YAML_SYNTAX', 2, "did not find expected ',' or ']'");
  fails('a: {b: 1\n', 'YAML_SYNTAX', 2, "did not find expected ',' or '}'");
  fails('key: @foo\n', 'YAML_SYNTAX', 1, 'found character that cannot start any token', 6);
  fails('key: `foo`\n', 'YAML_SYNTAX', 1, 'found character that cannot start any token');
  fails('a\nb: c\n', 'YAML_SYNTAX', 1, "could not find expected ':'");
});

test('libyaml is stricter than the yaml package on escapes, characters and versions', () => {
  fails('a: "x\\/y"\n', 'YAML_SYNTAX', 1, 'found unknown escape character', 6);
  fails('a: "\\ud83d\\ude00"\n', 'YAML_SYNTAX', 1, 'found invalid Unicode character escape code');
  fails('a: "\\x4"\n', 'YAML_SYNTAX', 1, 'did not find expected hexdecimal number');
  assert.deepEqual(plain('a: "\\x41\\u00e9\\U0001F600\\N\\_\\L\\P\\e\\ \\\t\\0"\nb: "x\\\n  y"\n'),
    { a: 'Aé😀\u0085\u00a0\u2028\u2029\u001b \t\u0000', b: 'xy' });
  fails('a: "\u0001"\n', 'YAML_SYNTAX', 1, 'control characters are not allowed', 5);
  fails('a: b\u007f\n', 'YAML_SYNTAX', 1, 'control characters are not allowed', 5);
  assert.deepEqual(plain('\ufeffa: 1\n'), { a: 1 });
  fails('%YAML 1.2\n--- a\n', 'YAML_SYNTAX', 1, 'found incompatible YAML document');
  fails('%YAML 1.0\n--- a\n', 'YAML_SYNTAX', 1, 'found incompatible YAML document');
  assert.equal(plain('%YAML 1.1\n--- a\n'), 'a');
  // calicoctl cuts "%YAML 1.1\n---\n..." at the separator: the directive stands alone.
  fails('%YAML 1.1\n---\na: 1\n', 'YAML_SYNTAX', 1, 'did not find expected <document start>');
  // libyaml accepts a block mapping on the "---" line.
  assert.deepEqual(plain('--- a: 1\n'), { a: 1 });
});

test('CRLF files read like LF files', () => {
  const docs = parseDocuments('a: 1\r\nb:\r\n  - x\r\n---\r\nc: "y"\r\n');
  assert.deepEqual(docs.map((d) => toPlain(d.node)), [{ a: 1, b: ['x'] }, { c: 'y' }]);
  assert.equal(docs[1]!.node?.pos.line, 5);
  assert.deepEqual(plain('a: |\r\n  x\r\n  y\r\nb: "p\r\n  q"\r\n'), { a: 'x\ny\n', b: 'p q' });
  // A lone CR is a line break for libyaml, in values and in line numbers.
  assert.deepEqual(plain('a: 1\rb: |\r  x\r'), { a: 1, b: 'x\n' });
  fails('a: 1\rb: 2\rb: 3\r', 'YAML_DUPLICATE_KEY', 3, 'key "b" already set in map', 4);
});

test('errors in later documents report lines of the whole input', () => {
  fails('a: 1\n---\nb: 2\n---\nc: [1\n', 'YAML_SYNTAX', 6, "did not find expected ',' or ']'");
  fails('a: 1\n---\nb: 2\nb: 3\n', 'YAML_DUPLICATE_KEY', 4, 'key "b" already set in map');
  fails('a: 1\n--- # x\nc: "\\/"\n', 'YAML_SYNTAX', 3, 'found unknown escape character', 5);
});

test('empty and comment-only documents have a null node; only the first YAML document counts', () => {
  const docs = parseDocuments('# only a comment\n---\n---\n');
  assert.deepEqual(docs.map((d) => d.node), [null, null]);
  assert.deepEqual(docs.map((d) => d.text), ['# only a comment', '---\n']);
  assert.equal(parseDocuments('')[0], undefined);
  assert.deepEqual(plain('a: 1\n...\nb: 2\n'), { a: 1 });
  assert.deepEqual(plain('~'), null);
});

test('toPlain: JSON values, __proto__ kept as data, NaN/Inf refused', () => {
  const v = plain('__proto__: 1\nlist: [a, {b: c}]\n') as Record<string, unknown>;
  assert.deepEqual(Object.keys(v), ['__proto__', 'list']);
  assert.equal(Object.getPrototypeOf(v), Object.prototype);
  assert.deepEqual(v.list, ['a', { b: 'c' }]);
  const inf = parseDocument('a: 1\nb: -.inf\n');
  assert.throws(() => toPlain(inf), (e) => e instanceof YamlError && e.code === 'YAML_UNSUPPORTED' && e.line === 2 && e.problem === 'json: unsupported value: -Inf');
  assert.throws(() => toPlain(parseDocument('[.nan]')), /json: unsupported value: NaN/);
});
