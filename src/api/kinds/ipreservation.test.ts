import { test } from 'node:test';
import assert from 'node:assert/strict';
import { check, stored, error } from '../testing/harness.js';
import type { Resource } from '../meta.js';

const doc = (spec: string, name = 'reserved') =>
  `apiVersion: projectcalico.org/v3\nkind: IPReservation\nmetadata:\n  name: ${name}\nspec:\n${spec.replace(/^/gm, '  ')}\n`;

test('CIDRs (masked or not) and bare IPs are accepted and kept as written', async () => {
  const v = await stored(doc('reservedCIDRs:\n- 10.0.0.0/24\n- 10.0.1.5\n- 10.0.2.7/24\n- fd00::/64\n- fd00::1'));
  assert.equal(
    JSON.stringify(v),
    '{"kind":"IPReservation","apiVersion":"projectcalico.org/v3","metadata":{"name":"reserved","creationTimestamp":null},' +
      '"spec":{"reservedCIDRs":["10.0.0.0/24","10.0.1.5","10.0.2.7/24","fd00::/64","fd00::1"]}}',
  );
});

test('an empty spec stores an empty spec', async () => {
  const v = await stored(doc('{}'));
  assert.deepEqual(v.spec, {});
  const w = await stored(doc('reservedCIDRs: []'));
  assert.deepEqual(w.spec, {});
});

test('one bad entry fails the cidrs tag, naming the whole list', async () => {
  assert.equal(
    await error(doc('reservedCIDRs: [10.0.0.0/24, 10.0.0.0/33, foo]')),
    "error with field ReservedCIDRs = '[10.0.0.0/24 10.0.0.0/33 foo]' (Reason: failed to validate Field: ReservedCIDRs because of Tag: cidrs )",
  );
});

test('unknown fields and non-string entries are decode errors', async () => {
  assert.equal(await error(doc('cidrs: [10.0.0.0/24]')), 'error unmarshaling JSON: while decoding JSON: json: unknown field "cidrs"');
  assert.equal(
    await error(doc('reservedCIDRs: {a: 1}')),
    'error unmarshaling JSON: while decoding JSON: json: cannot unmarshal object into Go struct field IPReservationSpec.spec.reservedCIDRs of type []string',
  );
});
