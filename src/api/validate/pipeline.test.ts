/**
 * validateForWrite's order, as libcalico-go v3.32 runs a Create: clientv3's own checks (an error
 * there is returned alone), then validator.Validate — struct validation (ObjectMeta, then the
 * spec's tags and struct-level rules) followed by CRD defaulting, OpenAPI and CEL, all returned
 * together — and only then clientv3's post-validation checks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '../errors.js';
import type { ClientContext, KindDef } from '../kinds/def.js';
import { resourceStruct } from '../kinds/common.js';
import type { KindName } from '../kinds.js';
import type { Resource } from '../meta.js';
import { opt, optPtr, str, struct } from '../schema/types.js';
import { validateForWrite } from './pipeline.js';

const ctx: ClientContext = { list: async () => [], blockCIDRs: async () => [] };
const spec = struct('WidgetSpec', [
  opt('mode', str({ enum: ['A', 'B'], default: 'A' })),
  optPtr('level', str({ allOf: [{ enum: ['x'] }] })),
  opt('name', str({ maxLength: 3 })),
]);

function def(over: Partial<KindDef> = {}): KindDef {
  return { kind: 'IPPool' as KindName, schema: resourceStruct('Widget', spec), ...over };
}
const widget = (s: Record<string, unknown>, name = 'w1'): Resource => ({ apiVersion: 'projectcalico.org/v3', kind: 'Widget', metadata: { name }, spec: s });

async function refused(d: KindDef, r: Resource): Promise<string> {
  try {
    await validateForWrite(d, r, 'create', undefined, ctx);
  } catch (e) {
    if (e instanceof ValidationError) return e.message;
    throw e;
  }
  assert.fail('expected a ValidationError');
}

test('a valid object comes back canonical, with CRD defaults applied', async () => {
  const out = await validateForWrite(def(), widget({ name: 'abc' }), 'create', undefined, ctx);
  assert.equal(JSON.stringify(out), '{"kind":"Widget","apiVersion":"projectcalico.org/v3","metadata":{"name":"w1","creationTimestamp":null},"spec":{"mode":"A","name":"abc"}}');
});

test('the input is not modified', async () => {
  const r = widget({});
  await validateForWrite(def({ prepare: (x) => ((x.spec!.name = 'set'), []) }), r, 'create', undefined, ctx);
  assert.deepEqual(r.spec, {});
});

test('prepare errors are returned alone: nothing after it runs', async () => {
  let ran = false;
  const d = def({
    prepare: () => [{ name: 'Widget.Spec.Name', reason: 'early' }],
    structChecks: () => ((ran = true), []),
    post: () => ((ran = true), []),
  });
  assert.equal(await refused(d, widget({ mode: 'C' }, 'BAD')), 'error with field Widget.Spec.Name (early)');
  assert.equal(ran, false);
});

test('metadata, then struct checks, then OpenAPI, then CEL, in one error; post does not run', async () => {
  let posted = false;
  const d = def({
    structChecks: () => [{ name: 'Name', value: 'abcd', reason: 'struct' }],
    cel: [{ path: 'spec', message: 'cel rule', valid: () => false }],
    post: () => ((posted = true), []),
  });
  assert.equal(
    await refused(d, widget({ mode: 'C', name: 'abcd' }, 'BAD')),
    'error with the following fields:\n' +
      "-  Metadata.Name = 'BAD' (name must consist of lower case alphanumeric characters, '-' or '.' (regex: [a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*))\n" +
      "-  Name = 'abcd' (struct)\n" +
      '-  spec.mode (supported values: "A", "B")\n' +
      '-  spec.name (may not be more than 3 bytes)\n' +
      '-  spec (cel rule)\n',
  );
  assert.equal(posted, false);
});

test('an OpenAPI error without a path is named after the object kind', async () => {
  assert.equal(
    await refused(def(), widget({ level: 'y' })),
    'error with the following fields:\n-  spec.level (supported values: "x")\n-  Widget ("spec.level" must validate all the schemas (allOf). None validated)\n',
  );
});

test('post runs on the canonical, defaulted object and its errors are returned alone', async () => {
  let seen: unknown;
  const d = def({ post: (r) => ((seen = r.spec), [{ name: 'Widget.Spec.Mode', value: 'A', reason: 'late' }]) });
  assert.equal(await refused(d, widget({})), "error with field Widget.Spec.Mode = 'A' (late)");
  assert.deepEqual(seen, { mode: 'A' });
});
