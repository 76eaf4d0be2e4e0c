/**
 * canonical() against Go's encoding/json Marshal of the typed struct: declaration order;
 * `omitempty` drops false, 0, "", nil pointers/interfaces and empty slices/maps, but never a struct
 * (metav1.Time, metav1.Duration and numorstring types are structs with MarshalJSON); nil slices and
 * maps without omitempty are null; maps are written with sorted keys.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonical, canonicalStruct, goStringLess } from './canonical.js';
import { any, asn, bool, duration, f, float, int, intOrString, list, map, opt, optPtr, str, struct, time } from './types.js';

const inner = struct('Inner', [f('name', str(), 'Name'), opt('count', int('int'))]);
const all = struct('All', [
  f('s', str(), 'S'),
  opt('so', str()),
  f('b', bool(), 'B'),
  opt('bo', bool()),
  f('i', int('int'), 'I'),
  opt('io', int('int')),
  f('fl', float(), 'Fl'),
  f('a', asn(), 'A'),
  opt('ao', asn()),
  f('l', list(str()), 'L'),
  opt('lo', list(str())),
  f('m', map(str()), 'M'),
  opt('mo', map(str())),
  f('st', inner, 'St'),
  opt('sto', inner),
  f('p', str(), 'P', 'ptr'),
  optPtr('po', str()),
  optPtr('bp', bool()),
  optPtr('ip', int('int32')),
  optPtr('stp', inner),
  f('t', time(), 'T'),
  opt('to', time()),
  optPtr('tp', time()),
  f('d', duration(), 'D'),
  opt('do', duration()),
  optPtr('dp', duration()),
  f('x', any(), 'X'),
  opt('xo', any()),
  f('port', intOrString('uint16'), 'Port'),
]);

test('the zero value: every non-omitempty field, structs always, nil pointers/slices/maps as null', () => {
  assert.equal(
    JSON.stringify(canonicalStruct({}, all)),
    '{"s":"","b":false,"i":0,"fl":0,"a":0,"l":null,"m":null,"st":{"name":""},"sto":{"name":""},"p":null,' +
      '"t":null,"to":null,"d":"0s","do":"0s","x":null,"port":0}',
  );
});

test('omitempty drops zero scalars and empty collections; pointers keep zero values', () => {
  const v = canonicalStruct(
    { so: '', bo: false, io: 0, ao: 0, lo: [], mo: {}, po: '', bp: false, ip: 0, stp: {}, xo: null },
    all,
  );
  assert.deepEqual(
    Object.keys(v).filter((k) => ['so', 'bo', 'io', 'ao', 'lo', 'mo', 'po', 'bp', 'ip', 'stp', 'xo'].includes(k)),
    ['po', 'bp', 'ip', 'stp'],
  );
  assert.deepEqual([v.po, v.bp, v.ip, v.stp], ['', false, 0, { name: '' }]);
});

test('an empty list or map without omitempty is [] / {}, not null', () => {
  const v = canonicalStruct({ l: [], m: {} }, all);
  assert.deepEqual([v.l, v.m], [[], {}]);
});

test('field order is the declaration order, not the input order', () => {
  const ty = struct('T', [opt('z', str()), opt('a', str()), opt('m', str())]);
  assert.equal(JSON.stringify(canonicalStruct({ m: '3', a: '2', z: '1' }, ty)), '{"z":"1","a":"2","m":"3"}');
});

test('unknown keys are dropped', () => {
  const ty = struct('T', [opt('a', str())]);
  assert.deepEqual(canonicalStruct({ a: 'x', extra: 1 } as Record<string, unknown>, ty), { a: 'x' });
});

test('maps are written with keys in byte order (Go sorts map keys)', () => {
  const v = canonical({ b: '1', B: '2', a: '3', '\u00e9': '4', z: '5', _: '6' }, map(str()));
  assert.deepEqual(Object.keys(v as object), ['B', '_', 'a', 'b', 'z', '\u00e9']);
});

test('goStringLess compares UTF-8 bytes, not UTF-16 units', () => {
  // U+FF21 (EF BC A1) sorts before U+1F600 (F0 9F 98 80) in UTF-8, after it in UTF-16.
  assert.ok(goStringLess('\uff21', '\u{1f600}') < 0);
  assert.ok(goStringLess('a', 'b') < 0);
  assert.equal(goStringLess('x', 'x'), 0);
});

test('nested values are canonicalised: structs inside lists and maps', () => {
  const ty = struct('T', [opt('items', list(inner)), opt('byName', map(inner))]);
  assert.equal(
    JSON.stringify(canonicalStruct({ items: [{ count: 1 }, { name: 'x' }], byName: { k: { count: 0 } } }, ty)),
    '{"items":[{"name":"","count":1},{"name":"x"}],"byName":{"k":{"name":""}}}',
  );
});

test('a nil list element or map value that is a pointer-ish type stays null', () => {
  assert.deepEqual(canonical([null, 'a'], list(any())), [null, 'a']);
});

test('set values pass through; interface values are kept as given', () => {
  const v = canonicalStruct({ t: '2019-06-17T13:55:44Z', d: '1m30s', x: { b: 1, a: [true] }, xo: 0, port: '80:90' }, all);
  assert.deepEqual([v.t, v.d, v.x, v.xo, v.port], ['2019-06-17T13:55:44Z', '1m30s', { b: 1, a: [true] }, 0, '80:90']);
});

test('canonicalising twice changes nothing', () => {
  const once = canonicalStruct({ so: 'x', l: ['a'], stp: { count: 2 }, m: { b: '1', a: '2' } }, all);
  assert.equal(JSON.stringify(canonicalStruct(once, all)), JSON.stringify(once));
});
