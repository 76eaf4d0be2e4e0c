import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { p4, type Prefix4 } from '../types.js';
import { Prefix4Index, Prefix6Index, type PrefixIndex } from './prefix-index.js';

/** Random add/delete sequences against a Map: ids stable, lookups right, free ids reused. */
function checkAgainstMap<P>(index: PrefixIndex<P>, ops: { add: boolean; p: P }[]): void {
  const model = new Map<P, number>();
  for (const { add, p } of ops) {
    if (add) {
      const r = index.add(p);
      const id = r < 0 ? ~r : r;
      assert.equal(r < 0, !model.has(p), 'new ⇔ absent');
      if (model.has(p)) assert.equal(id, model.get(p));
      assert.ok(id < index.bound);
      model.set(p, id);
    } else {
      const id = index.get(p);
      assert.equal(id, model.get(p) ?? -1);
      if (id >= 0) {
        index.deleteId(id);
        assert.equal(index.live(id), false);
        model.delete(p);
      }
    }
    assert.equal(index.size, model.size);
  }
  for (const [p, id] of model) {
    assert.equal(index.get(p), id);
    assert.equal(index.prefix(id), p);
    assert.ok(index.live(id));
  }
  let live = 0;
  for (let id = 0; id < index.bound; id++) if (index.live(id)) live++;
  assert.equal(live, model.size);
}

const arbP4 = fc
  .tuple(fc.integer({ min: 0, max: 32 }), fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0x0a000000, max: 0x0a0000ff })))
  .map(([len, a]) => p4(len === 0 ? 0 : ((a >>> (32 - len)) << (32 - len)) >>> 0, len));

describe('Prefix4Index', () => {
  it('behaves like a Map under random adds and deletes (incl. /0 and /32, clustered and spread)', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ add: fc.boolean(), p: arbP4 }), { maxLength: 400 }), (ops) => {
        // Re-use early prefixes so deletes hit.
        const withRepeats = ops.map((o, i) => (i % 3 === 2 && i > 3 ? { add: o.add, p: (ops[i >> 1] as { p: Prefix4 }).p } : o));
        checkAgainstMap(new Prefix4Index(), withRepeats);
      }),
      { numRuns: 300 },
    );
  });

  it('survives growth and backward-shift deletion of long runs', () => {
    const index = new Prefix4Index();
    const ops: { add: boolean; p: Prefix4 }[] = [];
    for (let k = 0; k < 20_000; k++) ops.push({ add: true, p: p4(0x0a000000 + k, 32) });
    for (let k = 0; k < 20_000; k += 3) ops.push({ add: false, p: p4(0x0a000000 + k, 32) });
    for (let k = 0; k < 5_000; k++) ops.push({ add: true, p: p4((0x0b000000 + k * 256) >>> 0, 24) });
    checkAgainstMap(index, ops);
  });

  it('reuses freed ids before growing', () => {
    const index = new Prefix4Index();
    const a = ~index.add(p4(0x0a000001, 32));
    ~index.add(p4(0x0a000002, 32));
    index.deleteId(a);
    assert.equal(~index.add(p4(0x0a000009, 32)), a);
    assert.equal(index.bound, 2);
  });

  it('refuses values that are not packed prefixes', () => {
    const index = new Prefix4Index();
    assert.throws(() => index.add(33), { code: 'BAD_PREFIX' }); // length 33
    assert.throws(() => index.add(2 ** 38), { code: 'BAD_PREFIX' });
    assert.throws(() => index.add(64.5), { code: 'BAD_PREFIX' });
  });
});

describe('Prefix6Index', () => {
  it('behaves like a Map under random adds and deletes', () => {
    const arbP6 = fc.constantFrom('2001:db8::/32', '2001:db8:1::/48', '::/0', 'fd00::1/128', 'fd00::2/128', '2001:db8::/64');
    fc.assert(
      fc.property(fc.array(fc.record({ add: fc.boolean(), p: arbP6 }), { maxLength: 100 }), (ops) => {
        checkAgainstMap(new Prefix6Index(), ops);
      }),
    );
  });
});
