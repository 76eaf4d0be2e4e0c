/**
 * validateObjectMeta (libcalico-go v3.32 validator.go) and apimachinery v0.35.4's
 * content.IsLabelKey / content.IsLabelValue / content.IsDNS1123Subdomain (IsQualifiedName and
 * IsValidLabelValue are aliases of the first two). Expected texts are built from those sources'
 * constants: RegexError(msg, re, examples...) = msg + " (e.g. 'a',  or 'b', … regex used for
 * validation is '<re>')", MaxLenError(n) = "must be no more than n bytes".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '../meta.js';
import { Report } from './checks.js';
import { checkObjectMeta, labelValueErrors, qualifiedNameErrors, type NameRule } from './meta.js';

const LABEL_KEY_FMT = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const SUBDOMAIN_FMT = '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*';
const KEY_MSG = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const KEY_EXAMPLES = `(e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '${LABEL_KEY_FMT}')`;
const NAME_PART = `name part ${KEY_MSG} ${KEY_EXAMPLES}`;
const PREFIX_PART = `prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '${SUBDOMAIN_FMT}')`;
const VALUE_MSG = `a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(${LABEL_KEY_FMT})?')`;

test('label keys: valid forms', () => {
  for (const k of ['a', 'A', '1', 'my.name', 'my_name', 'My-Name', 'example.com/MyName', 'a.b/c', 'projectcalico.org/kube-labels', 'x'.repeat(63)]) {
    assert.deepEqual(qualifiedNameErrors(k), [], k);
  }
});

test('label keys: the name part', () => {
  assert.deepEqual(qualifiedNameErrors(''), ['name part must be non-empty', NAME_PART]);
  assert.deepEqual(qualifiedNameErrors('-a'), [NAME_PART]);
  assert.deepEqual(qualifiedNameErrors('a-'), [NAME_PART]);
  assert.deepEqual(qualifiedNameErrors('a b'), [NAME_PART]);
  assert.deepEqual(qualifiedNameErrors('x'.repeat(64)), ['name part must be no more than 63 bytes']);
  assert.deepEqual(qualifiedNameErrors(`-${'x'.repeat(63)}`), ['name part must be no more than 63 bytes', NAME_PART]);
  assert.deepEqual(qualifiedNameErrors('example.com/'), ['name part must be non-empty', NAME_PART]);
});

test('label keys: the prefix part', () => {
  assert.deepEqual(qualifiedNameErrors('/a'), ['prefix part must be non-empty']);
  assert.deepEqual(qualifiedNameErrors('Example.com/a'), [PREFIX_PART]);
  assert.deepEqual(qualifiedNameErrors('a_b/c'), [PREFIX_PART]);
  const long = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}`; // 255 bytes
  assert.deepEqual(qualifiedNameErrors(`${long}/x`), ['prefix part must be no more than 253 bytes']);
  assert.deepEqual(qualifiedNameErrors('/'), ['prefix part must be non-empty', 'name part must be non-empty', NAME_PART]);
});

test('label keys: more than one slash', () => {
  assert.deepEqual(qualifiedNameErrors('a/b/c'), [
    `a valid label key ${KEY_MSG} ${KEY_EXAMPLES} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
  ]);
});

test('label values', () => {
  for (const v of ['', 'a', 'MyValue', 'my_value', '12345', 'a.b-c_d', 'x'.repeat(63)]) assert.deepEqual(labelValueErrors(v), [], v);
  assert.deepEqual(labelValueErrors('-a'), [VALUE_MSG]);
  assert.deepEqual(labelValueErrors('a b'), [VALUE_MSG]);
  assert.deepEqual(labelValueErrors('x'.repeat(64)), ['must be no more than 63 bytes']);
  assert.deepEqual(labelValueErrors('_'.repeat(64)), ['must be no more than 63 bytes', VALUE_MSG]);
  // Go's len() counts bytes: 32 two-byte runes are 64 bytes.
  assert.deepEqual(labelValueErrors('\u00e9'.repeat(32)), ['must be no more than 63 bytes', VALUE_MSG]);
});

const res = (metadata: Resource['metadata']): Resource => ({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata, spec: {} });
function meta(metadata: Resource['metadata'], rule: NameRule = 'subdomain') {
  const rep = new Report();
  checkObjectMeta(res(metadata), rule, rep);
  return rep.fields;
}
const NAME_ERR = `name must consist of lower case alphanumeric characters, '-' or '.' (regex: ${SUBDOMAIN_FMT})`;
const LABEL_NAME_ERR = "name must consist of lower case alphanumeric characters or '-' (regex: [a-z0-9]([-a-z0-9]*[a-z0-9])?)";

test('metadata.name: a DNS-1123 subdomain', () => {
  assert.deepEqual(meta({ name: 'a.b-c.d1' }), []);
  assert.deepEqual(meta({ name: 'Pool_1' }), [{ name: 'Metadata.Name', value: 'Pool_1', reason: NAME_ERR }]);
  assert.deepEqual(meta({ name: '' }), [{ name: 'Metadata.Name', value: '', reason: NAME_ERR }]);
  assert.deepEqual(meta({}), [{ name: 'Metadata.Name', value: '', reason: NAME_ERR }]);
  assert.deepEqual(meta({ name: 'a..b' }), [{ name: 'Metadata.Name', value: 'a..b', reason: NAME_ERR }]);
});

test('metadata.name: too long is counted in bytes, and is reported before the pattern', () => {
  const n = 'a'.repeat(254);
  assert.deepEqual(meta({ name: n }), [{ name: 'Metadata.Name', value: n, reason: 'name is too long by 1 bytes' }]);
  const u = '\u00e9'.repeat(127); // 254 bytes
  assert.deepEqual(meta({ name: u }), [
    { name: 'Metadata.Name', value: u, reason: 'name is too long by 1 bytes' },
    { name: 'Metadata.Name', value: u, reason: NAME_ERR },
  ]);
});

test('metadata.name for policies: a label, optionally one dot, or the knp./ossg.default. prefixes', () => {
  assert.deepEqual(meta({ name: 'tier.policy' }, 'networkPolicy'), []);
  assert.deepEqual(meta({ name: 'knp.default.a.b.c' }, 'networkPolicy'), []);
  assert.deepEqual(meta({ name: 'ossg.default.x' }, 'networkPolicy'), []);
  assert.deepEqual(meta({ name: 'a.b.c' }, 'networkPolicy'), [{ name: 'Metadata.Name', value: 'a.b.c', reason: LABEL_NAME_ERR }]);
  assert.deepEqual(meta({ name: 'tier.policy' }, 'globalNetworkPolicy'), []);
  assert.deepEqual(meta({ name: 'knp.default.x' }, 'globalNetworkPolicy'), [{ name: 'Metadata.Name', value: 'knp.default.x', reason: LABEL_NAME_ERR }]);
});

test('labels: key errors then value errors, per label', () => {
  assert.deepEqual(meta({ name: 'p', labels: { 'bad key': '-bad', good: 'ok' } }), [
    { name: 'Metadata.Labels (label)', value: 'bad key', reason: NAME_PART },
    { name: 'Metadata.Labels (value)', value: '-bad', reason: VALUE_MSG },
  ]);
});

test('annotations: keys are checked lower-cased (so upper case passes), values are not checked', () => {
  assert.deepEqual(meta({ name: 'p', annotations: { 'Example.COM/Key': ' any value ' } }), []);
  assert.deepEqual(meta({ name: 'p', annotations: { 'a/b/c': 'x' } }), [
    {
      name: 'Metadata.Annotations (key)',
      value: 'a/b/c',
      reason: `a valid label key ${KEY_MSG} ${KEY_EXAMPLES} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    },
  ]);
});

test('annotations: total size over 256 KiB, keys plus values in bytes', () => {
  const big = 'x'.repeat(256 * 1024 - 1);
  assert.deepEqual(meta({ name: 'p', annotations: { a: big } }), []);
  const f = meta({ name: 'p', annotations: { a: big, b: '' } });
  assert.equal(f.length, 1);
  assert.equal(f[0]!.name, 'Metadata.Annotations (key)');
  assert.equal(f[0]!.reason, 'total size of annotations is too large by 1 bytes');
  assert.deepEqual(f[0]!.value, { a: big, b: '' });
});

test('order: name, then annotations, then labels', () => {
  const f = meta({ name: 'X', labels: { '-l': 'v' }, annotations: { '-a': 'v' } });
  assert.deepEqual(
    f.map((e) => e.name),
    ['Metadata.Name', 'Metadata.Annotations (key)', 'Metadata.Labels (label)'],
  );
});
