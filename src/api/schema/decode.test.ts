/**
 * decodeStruct against what calicoctl's decoding does: sigs.k8s.io/yaml v1.6.0 turns the YAML into
 * JSON (numbers/bools coerced to strings for string targets; every mapping becomes a Go map, so
 * json.Marshal writes its keys sorted), then encoding/json decodes it strictly. Go's decoder
 * *saves* the first type mismatch / unknown field and carries on, but returns an error from a
 * custom UnmarshalJSON (ASNumber, metav1.Duration, metav1.Time) at once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDocument } from '../yaml/read.js';
import { DecodeError, decodeStruct, parseASNumber } from './decode.js';
import { any, asn, bool, duration, f, float, int, intOrString, list, map, opt, optPtr, str, struct, time } from './types.js';

const inner = struct('Inner', [opt('name', str()), f('count', int('int'), 'Count')]);
const spec = struct('ThingSpec', [
  opt('name', str()),
  opt('cidr', str(), 'CIDR'),
  opt('flag', bool()),
  optPtr('flagPtr', bool()),
  opt('i', int('int')),
  opt('i32', int('int32')),
  opt('i64', int('int64')),
  opt('u8', int('uint8')),
  opt('u16', int('uint16')),
  opt('u32', int('uint32')),
  opt('u64', int('uint64')),
  opt('f64', float()),
  opt('asn', asn(), 'ASN'),
  optPtr('d', duration()),
  f('t', time(), 'T', 'omit'),
  opt('list', list(str())),
  opt('items', list(inner, { go: '[]v3.Inner' })),
  opt('labels', map(str())),
  opt('raw', any()),
  opt('ios', intOrString('uint8')),
  opt('hooked', intOrString('uint16', {}, (v) => (v === 'bad' ? { ok: false, range: false, message: 'invalid port format (bad)' } : v === 70000 ? { ok: false, range: true } : { ok: true, value: v }))),
  optPtr('inner', inner),
  f('value', inner, 'Value', 'omit'),
]);
const thing = struct('Thing', [opt('kind', str()), f('spec', spec, 'Spec', 'omit')]);

function decode(yaml: string): Record<string, unknown> | undefined {
  return decodeStruct(parseDocument(yaml), thing);
}
const specOf = (yaml: string) => decode(`spec:\n${yaml.replace(/^/gm, '  ')}`)!.spec as Record<string, unknown>;
function fail(yaml: string, inSpec = true): DecodeError {
  try {
    if (inSpec) specOf(yaml);
    else decode(yaml);
  } catch (e) {
    if (e instanceof DecodeError) return e;
    throw e;
  }
  assert.fail(`expected ${JSON.stringify(yaml)} to be refused`);
}
const msg = (yaml: string) => fail(yaml).message;
const typeErr = (what: string, field: string, goType: string) => `json: cannot unmarshal ${what} into Go struct field ThingSpec.spec.${field} of type ${goType}`;

// ---- strings ----------------------------------------------------------------------------------

test('scalars into a string field become strings as sigs.k8s.io/yaml writes them', () => {
  assert.equal(specOf('name: true').name, 'true');
  assert.equal(specOf('name: yes').name, 'true'); // YAML 1.1 bool
  assert.equal(specOf('name: off').name, 'false');
  assert.equal(specOf('name: 1.10').name, '1.1'); // float32 %g
  assert.equal(specOf('name: 0x1F').name, '31');
  assert.equal(specOf('name: 017').name, '15');
  assert.equal(specOf('name: 1_000').name, '1000');
  assert.equal(specOf('name: 1e3').name, '1000');
  assert.equal(specOf('name: 0.1').name, '0.1');
  assert.equal(specOf('name: 3.14159265358979').name, '3.1415927');
  assert.equal(specOf('name: 12345678901234567890').name, '12345678901234567890');
  assert.equal(specOf('name: 1e21').name, '1e+21');
  assert.equal(specOf('name: "0x1F"').name, '0x1F');
  assert.equal(specOf("name: '1.10'").name, '1.10');
  assert.equal(specOf('name: 2019-06-17T13:55:44Z').name, '2019-06-17T13:55:44Z');
});

test('list items and map values that are strings are coerced too', () => {
  assert.deepEqual(specOf('list: [1, true, 1.50, x]').list, ['1', 'true', '1.5', 'x']);
  assert.deepEqual(specOf('labels: {rr: true, v: 1.10, num: 0x10, n: x}').labels, { rr: 'true', v: '1.1', num: '16', false: 'x' });
});

test('a map or a list into a string field', () => {
  assert.equal(msg('name: {a: 1}'), typeErr('object', 'name', 'string'));
  assert.equal(msg('name: [a]'), typeErr('array', 'name', 'string'));
  assert.equal(msg('labels: {a: [1]}'), typeErr('array', 'labels', 'string'));
  assert.equal(msg('list: [[a]]'), typeErr('array', 'list', 'string'));
});

// ---- bools, ints, floats -----------------------------------------------------------------------

test('bool fields take YAML booleans only', () => {
  assert.equal(specOf('flag: yes').flag, true);
  assert.equal(specOf('flag: False').flag, false);
  assert.equal(msg('flag: "true"'), typeErr('string', 'flag', 'bool'));
  assert.equal(msg('flag: 1'), typeErr('number', 'flag', 'bool'));
  assert.equal(msg('flag: [true]'), typeErr('array', 'flag', 'bool'));
});

test('int fields: JSON integers in range of the Go type; the number text is Go JSON\'s', () => {
  assert.equal(specOf('i: 0x1F').i, 31);
  assert.equal(specOf('i: 1e3').i, 1000); // a YAML float that is integral is the JSON number 1000
  assert.equal(specOf('i: 26.0').i, 26);
  assert.equal(specOf('i: -5').i, -5);
  assert.equal(msg('i: 1.5'), typeErr('number 1.5', 'i', 'int'));
  assert.equal(msg('i: "5"'), typeErr('string', 'i', 'int'));
  assert.equal(msg('i: true'), typeErr('bool', 'i', 'int'));
  assert.equal(msg('i: {}'), typeErr('object', 'i', 'int'));
  assert.equal(msg('i: 9223372036854775808'), typeErr('number 9223372036854775808', 'i', 'int'));
  // Beyond uint64, go-yaml has a float64, which json.Marshal writes in full.
  assert.equal(msg('i: 99999999999999999999'), typeErr('number 100000000000000000000', 'i', 'int'));
  assert.equal(msg('i: 1e21'), typeErr('number 1e+21', 'i', 'int'));
});

test('int ranges per Go type', () => {
  assert.equal(specOf('i32: -2147483648').i32, -2147483648);
  assert.equal(msg('i32: 2147483648'), typeErr('number 2147483648', 'i32', 'int32'));
  assert.equal(specOf('i64: -9223372036854775808').i64, Number(-(2n ** 63n)));
  assert.equal(msg('i64: 9223372036854775808'), typeErr('number 9223372036854775808', 'i64', 'int64'));
  assert.equal(specOf('u8: 255').u8, 255);
  assert.equal(msg('u8: 256'), typeErr('number 256', 'u8', 'uint8'));
  assert.equal(msg('u8: -1'), typeErr('number -1', 'u8', 'uint8'));
  assert.equal(specOf('u16: 65535').u16, 65535);
  assert.equal(msg('u16: 65536'), typeErr('number 65536', 'u16', 'uint16'));
  assert.equal(specOf('u32: 4294967295').u32, 4294967295);
  assert.equal(msg('u32: 4294967296'), typeErr('number 4294967296', 'u32', 'uint32'));
  // 2^64 is a float64 for go-yaml; json.Marshal writes its shortest form in 'f' format.
  assert.equal(msg('u64: 18446744073709551616'), typeErr('number 18446744073709552000', 'u64', 'uint64'));
  assert.equal(msg('u64: -1'), typeErr('number -1', 'u64', 'uint64'));
});

test('float fields', () => {
  assert.equal(specOf('f64: 1.5').f64, 1.5);
  assert.equal(specOf('f64: 3').f64, 3);
  assert.equal(msg('f64: "1.5"'), typeErr('string', 'f64', 'float64'));
});

// ---- ASNumber ----------------------------------------------------------------------------------

test('ASNumber: a uint32 number, a decimal string, or asdot', () => {
  assert.equal(specOf('asn: 64512').asn, 64512);
  assert.equal(specOf('asn: "64512"').asn, 64512);
  assert.equal(specOf('asn: "0064512"').asn, 64512);
  assert.equal(specOf('asn: "1.10"').asn, 65546);
  assert.equal(specOf('asn: "0.0"').asn, 0);
  assert.equal(specOf('asn: "65535.65535"').asn, 4294967295);
});

test('ASNumber errors: a bad string is numorstring\'s text; anything else fails the string decode', () => {
  assert.equal(msg('asn: "1.2.3"'), 'invalid AS Number format (1.2.3)');
  assert.equal(msg('asn: "65536.1"'), 'invalid AS Number format (65536.1)');
  assert.equal(msg('asn: "4294967296"'), 'invalid AS Number format (4294967296)');
  assert.equal(msg('asn: ""'), 'invalid AS Number format ()');
  assert.equal(msg('asn: 4294967296'), typeErr('number', 'asn', 'string'));
  assert.equal(msg('asn: 1.5'), typeErr('number', 'asn', 'string'));
  assert.equal(msg('asn: -1'), typeErr('number', 'asn', 'string'));
  assert.equal(msg('asn: true'), typeErr('bool', 'asn', 'string'));
  assert.equal(msg('asn: [1]'), typeErr('array', 'asn', 'string'));
  assert.equal(msg('asn: {a: 1}'), typeErr('object', 'asn', 'string'));
});

test('parseASNumber (numorstring.ASNumberFromString)', () => {
  assert.equal(parseASNumber('4294967295'), 4294967295);
  assert.equal(parseASNumber('1.0'), 65536);
  assert.equal(parseASNumber('+1'), undefined);
  assert.equal(parseASNumber('1.'), undefined);
  assert.equal(parseASNumber('.1'), undefined);
  assert.equal(parseASNumber('1.-1'), undefined);
});

// ---- durations and times -----------------------------------------------------------------------

test('metav1.Duration: parsed and re-printed', () => {
  assert.equal(specOf('d: 90s').d, '1m30s');
  assert.equal(specOf('d: 1h').d, '1h0m0s');
  assert.equal(specOf('d: "0"').d, '0s');
  assert.equal(msg('d: 10'), typeErr('number', 'd', 'string'));
  assert.equal(msg('d: true'), typeErr('bool', 'd', 'string'));
  assert.equal(msg('d: 10x'), 'time: unknown unit "x" in duration "10x"');
  assert.equal(msg('d: "10"'), 'time: missing unit in duration "10"');
  assert.equal(msg('d: ""'), 'time: invalid duration ""');
});

test('metav1.Time: RFC 3339 in, UTC whole seconds out', () => {
  assert.equal(specOf('t: 2019-06-17T13:55:44Z').t, '2019-06-17T13:55:44Z');
  assert.equal(specOf('t: 2019-06-17T13:55:44.999Z').t, '2019-06-17T13:55:44Z');
  assert.equal(specOf('t: 2019-06-17T15:55:44+02:00').t, '2019-06-17T13:55:44Z');
  assert.equal(specOf('t: 2019-12-31T23:30:00-01:00').t, '2020-01-01T00:30:00Z');
  assert.equal(specOf('t: "2019-06-17T13:55:44,5Z"').t, '2019-06-17T13:55:44Z');
  // time.Parse is lenient about the hour's width (stdHour is not zero-padded).
  assert.equal(specOf('t: 2019-06-17T1:55:44Z').t, '2019-06-17T01:55:44Z');
  assert.equal(specOf('t: 2020-02-29T00:00:00Z').t, '2020-02-29T00:00:00Z');
  assert.equal(specOf('t: null').t, undefined);
});

test('metav1.Time: time.Parse errors name the failing layout element', () => {
  const L = '"2006-01-02T15:04:05Z07:00"';
  assert.equal(msg('t: "x"'), `parsing time "x" as ${L}: cannot parse "x" as "2006"`);
  assert.equal(msg('t: "2019-06-17"'), `parsing time "2019-06-17" as ${L}: cannot parse "" as "T"`);
  assert.equal(msg('t: "2019-6-17T13:55:44Z"'), `parsing time "2019-6-17T13:55:44Z" as ${L}: cannot parse "6-17T13:55:44Z" as "01"`);
  assert.equal(msg('t: "2019-06-17 13:55:44Z"'), `parsing time "2019-06-17 13:55:44Z" as ${L}: cannot parse " 13:55:44Z" as "T"`);
  assert.equal(msg('t: "2019-06-17T13:55:44"'), `parsing time "2019-06-17T13:55:44" as ${L}: cannot parse "" as "Z07:00"`);
  assert.equal(msg('t: "2019-06-17T13:55:44+0200"'), `parsing time "2019-06-17T13:55:44+0200" as ${L}: cannot parse "+0200" as "Z07:00"`);
  assert.equal(msg('t: "2019-06-17T13:55:44z"'), `parsing time "2019-06-17T13:55:44z" as ${L}: cannot parse "z" as "Z07:00"`);
  assert.equal(msg('t: "2019-06-17T13:55:44Zjunk"'), `parsing time "2019-06-17T13:55:44Zjunk": extra text: "junk"`);
  assert.equal(msg('t: "2019-13-17T13:55:44Z"'), `parsing time "2019-13-17T13:55:44Z": month out of range`);
  assert.equal(msg('t: "2019-06-17T24:00:00Z"'), `parsing time "2019-06-17T24:00:00Z": hour out of range`);
  assert.equal(msg('t: "2019-06-17T13:60:00Z"'), `parsing time "2019-06-17T13:60:00Z": minute out of range`);
  assert.equal(msg('t: "2019-06-17T13:55:60Z"'), `parsing time "2019-06-17T13:55:60Z": second out of range`);
  assert.equal(msg('t: "2019-02-29T13:55:44Z"'), `parsing time "2019-02-29T13:55:44Z": day out of range`);
  assert.equal(msg('t: "2019-06-17T13:55:44+25:00"'), `parsing time "2019-06-17T13:55:44+25:00": time zone offset hour out of range`);
  assert.equal(msg('t: "2019-06-17T13:55:44\u00e9"'), `parsing time "2019-06-17T13:55:44\\xc3\\xa9" as ${L}: cannot parse "\\xc3\\xa9" as "Z07:00"`);
});

test('metav1.Time: a non-string fails its inner string decode', () => {
  assert.equal(msg('t: 5'), typeErr('number', 't', 'string'));
  assert.equal(msg('t: {}'), typeErr('object', 't', 'string'));
});

// ---- structs, lists, maps, any ------------------------------------------------------------------

test('unknown fields at each depth; the path points at the key', () => {
  const top = fail('kind: X\nbogus: 1', false);
  assert.equal(top.message, 'json: unknown field "bogus"');
  assert.equal(top.path, 'bogus');
  const s = fail('name: a\nbogus: 1');
  assert.equal(s.message, 'json: unknown field "bogus"');
  assert.equal(s.path, 'spec.bogus');
  assert.equal(msg('inner: {name: a, bogus: 1}'), 'json: unknown field "bogus"');
  assert.equal(fail('inner: {name: a, bogus: 1}').path, 'spec.inner.bogus');
  assert.equal(msg('items: [{name: a}, {bogus: 1}]'), 'json: unknown field "bogus"');
});

test('keys are processed in sorted order (json.Marshal of a Go map), so the first error is the first key in byte order', () => {
  assert.equal(msg('zz: 1\naa: 2'), 'json: unknown field "aa"');
  assert.equal(msg('zz: 1\nZZ: 2'), 'json: unknown field "ZZ"');
  assert.equal(msg('name: [x]\nflag: x'), typeErr('string', 'flag', 'bool'));
  assert.equal(msg('i: x\nbogus: 1'), 'json: unknown field "bogus"');
  // Nested objects are visited when their key comes up.
  assert.equal(msg('zz: 1\ninner: {count: x}'), typeErr('string', 'inner.count', 'int').replace('ThingSpec.', 'Inner.'));
});

test('a custom UnmarshalJSON error aborts at once and wins over a saved error', () => {
  assert.equal(msg('aaa: 1\nasn: "x"'), 'invalid AS Number format (x)');
  assert.equal(msg('cidr: [x]\nd: 5q'), 'time: unknown unit "q" in duration "5q"');
  // The first custom-unmarshaler error in key order is the one returned.
  assert.equal(msg('d: 5q\nasn: "x"'), 'invalid AS Number format (x)');
  // A value that is skipped (unknown field) is not decoded at all.
  assert.equal(msg('aaa: {asn: "x"}\nflag: x'), 'json: unknown field "aaa"');
  // Nor is a value whose shape is wrong.
  assert.equal(msg('items: {asn: "x"}'), typeErr('object', 'items', '[]v3.Inner'));
});

test('field names match case-insensitively; the JSON name is kept', () => {
  assert.deepEqual(specOf('NAME: a\nCidr: 10.0.0.0/8\nFLAGPTR: true'), { name: 'a', cidr: '10.0.0.0/8', flagPtr: true });
  const v = decode('Kind: X\nSPEC: {Name: b}')!;
  assert.deepEqual(v, { kind: 'X', spec: { name: 'b' } });
});

test('Go\'s fold is Unicode-aware: "\u017f" (long s) matches "s", "\u212a" (Kelvin) matches "k", "\u0130" matches "i"', () => {
  assert.deepEqual(decode('\u017fpec: {name: a}\n\u212aind: X')!, { kind: 'X', spec: { name: 'a' } });
  assert.equal(specOf('\u0130: 7').i, 7); // unicode.ToLower('\u0130') is 'i'
});

test('two spellings of one field: the later key in sorted order wins; structs and maps merge', () => {
  assert.equal(specOf('name: a\nNAME: b').name, 'a'); // "NAME" < "name"
  assert.equal(specOf('NAME: b\nName: c').name, 'c'); // "NAME" < "Name"
  assert.deepEqual(specOf('inner: {name: a}\nINNER: {count: 2}').inner, { name: 'a', count: 2 });
  assert.deepEqual(specOf('value: {name: a}\nVALUE: {count: 2}').value, { name: 'a', count: 2 });
  assert.deepEqual(specOf('labels: {a: x}\nLABELS: {b: z}').labels, { a: 'x', b: 'z' });
  assert.deepEqual(specOf('list: [a]\nLIST: [b, c]').list, ['a']);
});

test('null leaves a value field unchanged but clears a pointer, slice, map or interface', () => {
  assert.equal(specOf('NAME: a\nname: null').name, 'a');
  assert.equal(specOf('FLAG: true\nflag: null').flag, true);
  assert.deepEqual(specOf('VALUE: {name: a}\nvalue: null').value, { name: 'a' });
  const cleared = specOf('INNER: {name: a}\ninner: null\nLIST: [a]\nlist: null\nLABELS: {a: b}\nlabels: null\nFLAGPTR: true\nflagPtr: null\nRAW: 1\nraw: null');
  assert.deepEqual(Object.keys(cleared), []);
  // metav1.Time and ASNumber decode null themselves, to their zero values.
  assert.equal(specOf('T: 2019-06-17T13:55:44Z\nt: null').t, undefined);
  assert.equal(specOf('ASN: 5\nasn: null').asn, 0);
});

test('null for the whole spec, and ~', () => {
  assert.deepEqual(decode('kind: X\nspec: null'), { kind: 'X' });
  assert.deepEqual(decode('kind: X\nspec: ~'), { kind: 'X' });
  assert.equal(decode(''), undefined);
});

test('null items and values become Go zero values', () => {
  assert.deepEqual(specOf('list: [a, null, ~]').list, ['a', '', '']);
  assert.deepEqual(specOf('labels: {a: null}').labels, { a: '' });
  assert.deepEqual(specOf('items: [null]').items, [{}]);
});

test('lists and maps of the wrong shape', () => {
  assert.equal(msg('list: a'), typeErr('string', 'list', '[]string'));
  assert.equal(msg('list: {a: b}'), typeErr('object', 'list', '[]string'));
  assert.equal(msg('labels: [a]'), typeErr('array', 'labels', 'map[string]string'));
  assert.equal(msg('items: [a]'), typeErr('string', 'items', 'v3.Inner'));
});

test('a struct of the wrong shape names the Go type with its package; the struct name in the path is bare', () => {
  assert.equal(fail('spec: [a]', false).message, 'json: cannot unmarshal array into Go struct field Thing.spec of type v3.ThingSpec');
  assert.equal(msg('inner: 5'), typeErr('number', 'inner', 'v3.Inner'));
  assert.equal(msg('items: [{count: x}]'), 'json: cannot unmarshal string into Go struct field Inner.spec.items.count of type int');
});

test('interface{} values are kept as plain JSON', () => {
  assert.deepEqual(specOf('raw: {a: [1, "2", true, null]}').raw, { a: [1, '2', true, null] });
  assert.equal(specOf('raw: 1.10').raw, 1.1);
});

test('error positions point at the offending value (or key, for unknown fields)', () => {
  const e = fail('name: a\nflag: "x"');
  assert.equal(e.path, 'spec.flag');
  assert.deepEqual([e.pos?.line, e.pos?.col], [3, 9]);
  const u = fail('name: a\nbogus: 1');
  assert.deepEqual([u.pos?.line, u.pos?.col], [3, 3]);
});

test('numorstring types: a number or a string is handed to the type\'s UnmarshalJSON', () => {
  assert.equal(specOf('ios: 6').ios, 6);
  assert.equal(specOf('ios: TCP').ios, 'TCP');
  assert.equal(specOf('hooked: 80').hooked, 80);
  assert.equal(msg('hooked: bad'), 'invalid port format (bad)');
  assert.equal(msg('hooked: 70000'), typeErr('number 70000', 'hooked', 'uint16'));
  // Anything else fails the inner numeric decode, named after the numeric Go type.
  assert.equal(msg('ios: true'), typeErr('bool', 'ios', 'uint8'));
  assert.equal(msg('ios: [6]'), typeErr('array', 'ios', 'uint8'));
});

test('numorstring errors come from UnmarshalJSON: returned at once, over an earlier saved error', () => {
  assert.equal(msg('aaa: 1\nios: [6]'), typeErr('array', 'ios', 'uint8'));
  assert.equal(msg('aaa: 1\nhooked: bad'), 'invalid port format (bad)');
});
