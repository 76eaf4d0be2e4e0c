/**
 * The CRD layer against what libcalico-go v3.32 runs in etcd mode (validator/v3/crd_schemas.go):
 * structural defaulting, then kube-openapi's schema validator converted by apiextensions-apiserver
 * v0.35 (validation.go kubeOpenAPIResultToFieldErrors), then CEL. Texts are kube-openapi's
 * (`<path> in body …`) or apimachinery field errors' details (NotSupported, TooLong, TooMany,
 * Required). Per schema node kube-openapi runs: type, allOf, string (the first of maxLength,
 * minLength, pattern), format, number, slice (items, then minItems, maxItems), enum, object
 * (min/maxProperties, properties, required).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyCrdDefaults, checkCel, checkCrdConstraints, type CelRule } from './crd.js';
import { f, int, list, map, opt, optPtr, str, struct, type Ty } from './types.js';

const run = (v: unknown, ty: Ty, path = 'spec.x') => checkCrdConstraints(v, ty, path);
const reasons = (v: unknown, ty: Ty, path = 'spec.x') => run(v, ty, path).map((e) => (e.reason === undefined ? e.name : `${e.name}: ${e.reason}`));

test('enum: NotSupported with the allowed values quoted', () => {
  assert.deepEqual(run('C', str({ enum: ['A', 'B'] })), [{ name: 'spec.x', reason: 'supported values: "A", "B"' }]);
  assert.deepEqual(run('A', str({ enum: ['A', 'B'] })), []);
  // Enum is case-sensitive.
  assert.deepEqual(reasons('a', str({ enum: ['A'] })), ['spec.x: supported values: "A"']);
});

test('pattern: kube-openapi text', () => {
  assert.deepEqual(reasons('A1', str({ pattern: '^[a-z]+$' })), ["spec.x: spec.x in body should match '^[a-z]+$'"]);
  assert.deepEqual(reasons('abc', str({ pattern: '^[a-z]+$' })), []);
});

test('pattern with a leading (?i) is case-insensitive, after ^ too', () => {
  assert.deepEqual(reasons('INFO', str({ pattern: '^(?i)(info|debug)$' })), []);
  assert.deepEqual(reasons('Debug', str({ pattern: '(?i)^(info|debug)$' })), []);
  assert.deepEqual(reasons('warn', str({ pattern: '^(?i)(info|debug)$' })), ["spec.x: spec.x in body should match '^(?i)(info|debug)$'"]);
});

test('maxLength: TooLong, counted in runes, singular for 1', () => {
  assert.deepEqual(reasons('abcd', str({ maxLength: 3 })), ['spec.x: may not be more than 3 bytes']);
  assert.deepEqual(reasons('\u00e9\u00e9\u00e9', str({ maxLength: 3 })), []);
  assert.deepEqual(reasons('ab', str({ maxLength: 1 })), ['spec.x: may not be more than 1 byte']);
});

test('minLength: kube-openapi text', () => {
  assert.deepEqual(reasons('a', str({ minLength: 2 })), ['spec.x: spec.x in body should be at least 2 chars long']);
});

test('the string validator reports only its first failure: maxLength, else minLength, else pattern', () => {
  assert.deepEqual(reasons('ABCD', str({ maxLength: 3, pattern: '^[a-z]+$' })), ['spec.x: may not be more than 3 bytes']);
  assert.deepEqual(reasons('A', str({ minLength: 2, pattern: '^[a-z]+$' })), ['spec.x: spec.x in body should be at least 2 chars long']);
});

test('pattern, format, then enum: all reported, in kube-openapi validator order', () => {
  assert.deepEqual(reasons('x', str({ enum: ['10.0.0.0/8'], pattern: '^[0-9./]+$', format: 'cidr' })), [
    "spec.x: spec.x in body should match '^[0-9./]+$'",
    'spec.x: spec.x in body must be of type cidr: "x"',
    'spec.x: supported values: "10.0.0.0/8"',
  ]);
});

test('cidr format: net.ParseCIDR, tolerating leading zeros (ParseCIDRSloppy); host bits are fine', () => {
  assert.deepEqual(reasons('10.0.0.1/8', str({ format: 'cidr' })), []);
  assert.deepEqual(reasons('010.000.0.0/8', str({ format: 'cidr' })), []);
  assert.deepEqual(reasons('fd00::1/64', str({ format: 'cidr' })), []);
  assert.deepEqual(reasons('10.0.0.1', str({ format: 'cidr' })), ['spec.x: spec.x in body must be of type cidr: "10.0.0.1"']);
  assert.deepEqual(reasons('10.0.0.0/33', str({ format: 'cidr' })), ['spec.x: spec.x in body must be of type cidr: "10.0.0.0/33"']);
});

test('minimum and maximum', () => {
  const ty = int('int', { minimum: 1, maximum: 2147483646 });
  assert.deepEqual(reasons(0, ty), ['spec.x: spec.x in body should be greater than or equal to 1']);
  assert.deepEqual(reasons(2147483647, ty), ['spec.x: spec.x in body should be less than or equal to 2147483646']);
  assert.deepEqual(reasons(1, ty), []);
  assert.deepEqual(reasons(-1, int('int', { minimum: 0 })), ['spec.x: spec.x in body should be greater than or equal to 0']);
});

test('maxItems: TooMany, singular for 1; minItems: kube-openapi text', () => {
  assert.deepEqual(reasons(['a', 'b'], list(str(), { maxItems: 1 })), ['spec.x: must have at most 1 item']);
  assert.deepEqual(reasons(['a', 'b', 'c'], list(str(), { maxItems: 2 })), ['spec.x: must have at most 2 items']);
  assert.deepEqual(reasons([], list(str(), { minItems: 1 })), ['spec.x: spec.x in body should have at least 1 items']);
});

test('items are checked before the list\'s own minItems/maxItems', () => {
  assert.deepEqual(reasons(['b', 'c'], list(str({ enum: ['a'] }), { maxItems: 1 })), [
    'spec.x[0]: supported values: "a"',
    'spec.x[1]: supported values: "a"',
    'spec.x: must have at most 1 item',
  ]);
});

test('minProperties / maxProperties (TooMany), before the properties themselves', () => {
  assert.deepEqual(reasons({}, map(str(), { minProperties: 1 })), ['spec.x: spec.x in body should have at least 1 properties']);
  assert.deepEqual(reasons({ a: 'x', b: 'y' }, map(str(), { maxProperties: 1 })), ['spec.x: must have at most 1 item']);
  assert.deepEqual(reasons({ a: 'x', b: 'y', c: 'z' }, map(str({ enum: ['x'] }), { maxProperties: 2 })), [
    'spec.x: must have at most 2 items',
    'spec.x.b: supported values: "x"',
    'spec.x.c: supported values: "x"',
  ]);
  const s = struct('S', [opt('a', str({ enum: ['x'] })), opt('b', str())], { minProperties: 2 });
  assert.deepEqual(reasons({ a: 'y' }, s), ['spec.x: spec.x in body should have at least 2 properties', 'spec.x.a: supported values: "x"']);
});

test('map values are addressed with a dot, as kube-openapi joins property paths', () => {
  assert.deepEqual(reasons({ k: 'b' }, map(str({ enum: ['a'] }))), ['spec.x.k: supported values: "a"']);
});

test('required: an empty detail, after the properties', () => {
  const s = struct('S', [opt('a', str({ enum: ['x'] })), f('r', str(), 'R', 'omit', 'req')]);
  assert.deepEqual(run({ a: 'y' }, s), [{ name: 'spec.x.a', reason: 'supported values: "x"' }, { name: 'spec.x.r' }]);
  assert.deepEqual(run({ r: '' }, s), []);
});

test('null where the schema wants a type (a nil slice/map/pointer without omitempty)', () => {
  const s = struct('S', [f('l', list(str()), 'L'), f('m', map(str()), 'M'), f('p', str(), 'P', 'ptr'), f('q', struct('Q', []), 'Q', 'ptr')]);
  assert.deepEqual(reasons({ l: null, m: null, p: null, q: null }, s), [
    'spec.x.l: spec.x.l in body must be of type array: "null"',
    'spec.x.m: spec.x.m in body must be of type object: "null"',
    'spec.x.p: spec.x.p in body must be of type string: "null"',
    'spec.x.q: spec.x.q in body must be of type object: "null"',
  ]);
});

test('allOf: every subschema is checked, identical messages are kept once, then the allOf failure (named <nil>)', () => {
  const ty = str({ allOf: [{ enum: ['Auto', 'Manual'] }, { enum: ['Auto', 'Manual'] }] });
  assert.deepEqual(run('auto', ty, 'spec.reversePeering'), [
    { name: 'spec.reversePeering', reason: 'supported values: "Auto", "Manual"' },
    { name: '<nil>', reason: '"spec.reversePeering" must validate all the schemas (allOf). None validated' },
  ]);
  assert.deepEqual(run('Auto', ty, 'spec.reversePeering'), []);
  // One of two failing: no ". None validated".
  const two = str({ allOf: [{ enum: ['a', 'b'] }, { enum: ['a'] }] });
  assert.deepEqual(run('b', two), [
    { name: 'spec.x', reason: 'supported values: "a"' },
    { name: '<nil>', reason: '"spec.x" must validate all the schemas (allOf)' },
  ]);
});

test('defaults: filled when absent or null, recursively, never overriding a value', () => {
  const inner = struct('I', [opt('name', str({ default: '' })), opt('key', str())]);
  const s = struct('S', [
    opt('mode', str({ default: 'Auto' })),
    opt('list', list(str(), { default: ['a', 'b'] })),
    optPtr('inner', inner),
    opt('items', list(inner)),
    opt('byName', map(inner)),
  ]);
  const v: Record<string, unknown> = { mode: null, inner: { key: 'k' }, items: [{ key: 'x' }, { name: 'n' }], byName: { a: {} } };
  applyCrdDefaults(v, s);
  assert.deepEqual(v, {
    mode: 'Auto',
    list: ['a', 'b'],
    inner: { name: '', key: 'k' },
    items: [{ name: '', key: 'x' }, { name: 'n' }],
    byName: { a: { name: '' } },
  });
  // Each default is a fresh copy.
  (v.list as string[]).push('c');
  const w: Record<string, unknown> = {};
  applyCrdDefaults(w, s);
  assert.deepEqual(w.list, ['a', 'b']);
  const kept: Record<string, unknown> = { mode: 'Manual' };
  applyCrdDefaults(kept, s);
  assert.equal(kept.mode, 'Manual');
});

test('CEL: each item runs all its rules before the next item; paths are indexed', () => {
  const rules: CelRule[] = [
    { path: 'spec.items[]', message: 'a must be set', valid: (s) => !!s.a },
    { path: 'spec.items[]', message: 'b must be set', valid: (s) => !!s.b },
  ];
  const obj = { kind: 'K', spec: { items: [{}, { b: 1 }, { a: 1, b: 1 }] } };
  assert.deepEqual(checkCel(obj, rules), [
    { name: 'spec.items[0]', reason: 'a must be set' },
    { name: 'spec.items[0]', reason: 'b must be set' },
    { name: 'spec.items[1]', reason: 'a must be set' },
  ]);
});

test('CEL: rules on an object run before rules on its children; absent objects are not visited', () => {
  const rules: CelRule[] = [
    { path: 'spec', message: 'spec rule', valid: () => false },
    { path: 'spec.inner', message: 'inner rule', valid: () => false },
    { path: 'spec.missing', message: 'never', valid: () => false },
  ];
  assert.deepEqual(checkCel({ kind: 'K', spec: { inner: {} } }, rules), [
    { name: 'spec', reason: 'spec rule' },
    { name: 'spec.inner', reason: 'inner rule' },
  ]);
});

test('CEL: a rule on the whole object is named after the kind (libcalico-go resolveKind)', () => {
  assert.deepEqual(checkCel({ kind: 'BGPFilter', spec: {} }, [{ path: '', message: 'root rule', valid: () => false }]), [{ name: 'BGPFilter', reason: 'root rule' }]);
});
