import { test } from 'node:test';
import assert from 'node:assert/strict';
import { check } from '../testing/harness.js';
import type { Resource } from '../meta.js';

const doc = (spec: string, name = 'default') =>
  `apiVersion: projectcalico.org/v3\nkind: IPAMConfiguration\nmetadata:\n  name: ${name}\nspec:\n${spec.replace(/^/gm, '  ')}\n`;

async function stored(yaml: string, op: 'create' | 'update' = 'create'): Promise<Resource> {
  const r = await check(yaml, { op });
  if (!r.ok) assert.fail(r.error);
  return r.value;
}

async function error(yaml: string, op: 'create' | 'update' = 'create'): Promise<string> {
  const r = await check(yaml, { op });
  assert.equal(r.ok, false, 'expected the write to be refused');
  return (r as { error: string }).error;
}

test('fields print in Go order; maxBlocksPerHost 0 is omitted', async () => {
  const v = await stored(doc('kubeVirtVMAddressPersistence: Disabled\nautoAllocateBlocks: true\nmaxBlocksPerHost: 4\nstrictAffinity: true'));
  assert.equal(
    JSON.stringify(v),
    '{"kind":"IPAMConfiguration","apiVersion":"projectcalico.org/v3","metadata":{"name":"default","creationTimestamp":null},' +
      '"spec":{"strictAffinity":true,"maxBlocksPerHost":4,"autoAllocateBlocks":true,"kubeVirtVMAddressPersistence":"Disabled"}}',
  );
});

test('an empty spec stores both booleans false: Go marshals them, so the CRD defaults never apply', async () => {
  const v = await stored(doc('{}'));
  assert.equal(JSON.stringify(v.spec), '{"strictAffinity":false,"autoAllocateBlocks":false}');
});

test("the IPAM client's strictAffinity/autoAllocateBlocks rules are not part of the resource's write path", async () => {
  await stored(doc('strictAffinity: false\nautoAllocateBlocks: false\nmaxBlocksPerHost: 3'));
});

test('only the name default is allowed, on create and update, as a bare message', async () => {
  const msg = 'Cannot create an IPAMConfiguration resource with a name other than "default"';
  assert.equal(await error(doc('strictAffinity: true', 'ipam')), msg);
  assert.equal(await error(doc('strictAffinity: true', 'ipam'), 'update'), msg);
});

test('validation errors come before the name rule', async () => {
  assert.equal(await error(doc('kubeVirtVMAddressPersistence: Sometimes', 'ipam')), 'error with field spec.kubeVirtVMAddressPersistence (supported values: "Enabled", "Disabled")');
});

test('a negative maxBlocksPerHost fails the struct validator and the CRD minimum', async () => {
  assert.equal(
    await error(doc('maxBlocksPerHost: -1')),
    "error with the following fields:\n-  MaxBlocksPerHost = '-1' (must be greater than or equal to 0)\n" +
      '-  spec.maxBlocksPerHost (spec.maxBlocksPerHost in body should be greater than or equal to 0)\n',
  );
});

test('maxBlocksPerHost range: validator wording first, CRD range after', async () => {
  const e = await error(doc('maxBlocksPerHost: -1'));
  assert.ok(e.startsWith("error with the following fields:\n-  MaxBlocksPerHost = '-1' (must be greater than or equal to 0)\n-  spec.maxBlocksPerHost ("), e);
  assert.match(await error(doc('maxBlocksPerHost: 1000001')), /^error with field spec\.maxBlocksPerHost \(.*less than or equal to 1000000\)$/);
});

test('type and unknown-field errors come from decoding', async () => {
  assert.equal(
    await error(doc('strictAffinity: "true"')),
    'error unmarshaling JSON: while decoding JSON: json: cannot unmarshal string into Go struct field IPAMConfigurationSpec.spec.strictAffinity of type bool',
  );
  assert.equal(
    await error(doc('maxBlocksPerHost: 3000000000')),
    'error unmarshaling JSON: while decoding JSON: json: cannot unmarshal number 3000000000 into Go struct field IPAMConfigurationSpec.spec.maxBlocksPerHost of type int32',
  );
  assert.equal(await error(doc('ipCooldownSeconds: 10')), 'error unmarshaling JSON: while decoding JSON: json: unknown field "ipCooldownSeconds"');
});
