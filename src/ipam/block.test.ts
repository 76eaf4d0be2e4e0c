import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { IP, Prefix } from '../net/index.js';
import { AllocationBlock, BlockFormatError, decodeBlock, encodeBlock, ReleaseConflictError, AddressInUseError } from './block.js';
import { Reservations } from './pools.js';

const P26 = Prefix.parse('10.0.0.0/26');
const mk = (p = P26, seq = '1700000000000000000') => AllocationBlock.create(p, { affinity: 'host:a', claimTime: new Date('2026-01-02T03:04:05.678Z'), sequenceNumber: seq });

test('a new block is free in order and encodes as Calico does', () => {
  const b = mk();
  assert.equal(b.size, 64);
  assert.deepEqual(b.data.unallocated, Array.from({ length: 64 }, (_, i) => i));
  const text = encodeBlock(b);
  assert.match(text, /^\{"cidr":"10\.0\.0\.0\/26","affinity":"host:a","affinity_claim_time":"2026-01-02T03:04:05Z","allocations":\[null,/);
  assert.match(text, /"attributes":\[\],"sequenceNumber":1700000000000000000,"sequenceNumberForAllocation":\{\},"deleted":false\}$/);
});

test('uint64 sequence numbers survive decode/encode exactly', () => {
  const b = mk(P26, '18446744073709551615');
  b.autoAssign(2, 'h', undefined);
  const text = encodeBlock(b);
  assert.match(text, /"sequenceNumber":18446744073709551615,/);
  assert.match(text, /"sequenceNumberForAllocation":\{"0":18446744073709551615,"1":18446744073709551615\}/);
  const back = decodeBlock(text);
  assert.equal(back.data.sequenceNumber, '18446744073709551615');
  assert.equal(back.data.sequenceNumberForAllocation['1'], '18446744073709551615');
  assert.equal(encodeBlock(back), text);
  back.bumpSequence();
  assert.equal(back.data.sequenceNumber, '18446744073709551616');
});

test('decodes a block written by Calico (legacy fields, null attributes)', () => {
  const calico =
    '{"cidr":"192.168.0.0/30","affinity":"host:node-1","allocations":[0,null,0,null],"unallocated":[1,3],' +
    '"attributes":[{"handle_id":"k8s-pod-network.abc","secondary":{"namespace":"default","node":"node-1","pod":"p"}}],' +
    '"deleted":false,"sequenceNumber":1612345678901234567,"sequenceNumberForAllocation":{"0":1612345678901234560,"2":1612345678901234567}}';
  const b = decodeBlock(calico);
  assert.equal(b.host(), 'node-1');
  assert.equal(b.affinityType(), 'host');
  assert.deepEqual(b.allocatedOrdinals(), [0, 2]);
  assert.equal(b.attributesOf(2)?.handle_id, 'k8s-pod-network.abc');
  assert.equal(b.data.sequenceNumberForAllocation['0'], '1612345678901234560');
});

test('decode refuses what is not a block, naming the problem', () => {
  assert.throws(() => decodeBlock('nope'), (e: unknown) => e instanceof BlockFormatError && /not JSON/.test(e.message));
  assert.throws(() => decodeBlock('{"cidr":"10.0.0.0/30","allocations":[null],"unallocated":[0]}'), /1 allocations for 4 addresses/);
  assert.throws(() => decodeBlock('{"cidr":"x","allocations":[],"unallocated":[]}'), /invalid cidr "x"/);
  assert.throws(() => decodeBlock('{"cidr":"10.0.0.0/31","allocations":[3,null],"unallocated":[1],"attributes":[]}'), /points past the attributes/);
  assert.throws(() => decodeBlock('{"cidr":"10.0.0.0/31","allocations":[null,null],"unallocated":[7]}'), /unallocated must hold ordinals/);
});

test('autoAssign takes the FIFO head, release appends to the tail (longest-free reused first)', () => {
  const b = mk(Prefix.parse('10.0.0.0/29'));
  assert.deepEqual(b.autoAssign(3, 'h1', { node: 'a' }), [0, 1, 2]);
  const r = b.release([{ ord: 1 }]);
  assert.deepEqual(r.notAllocated, []);
  assert.deepEqual([...r.countByHandle], [['h1', 1]]);
  assert.deepEqual(b.data.unallocated, [3, 4, 5, 6, 7, 1]);
  assert.deepEqual(b.autoAssign(5, 'h2', undefined), [3, 4, 5, 6, 7]);
  assert.deepEqual(b.autoAssign(5, 'h3', undefined), [1]);
  assert.deepEqual(b.autoAssign(1, 'h4', undefined), []);
});

test('one attribute entry per assignment, dropped and renumbered when unused', () => {
  const b = mk(Prefix.parse('10.0.0.0/29'));
  b.autoAssign(2, 'a', { pod: 'x' });
  b.autoAssign(2, 'b', { pod: 'y' });
  b.autoAssign(1, 'a', { pod: 'x' }); // same handle and attributes: shares entry 0
  assert.equal(b.data.attributes.length, 2);
  assert.deepEqual(b.data.allocations.slice(0, 5), [0, 0, 1, 1, 0]);
  assert.equal(b.releaseByHandle('a'), 3);
  assert.deepEqual(b.data.attributes, [{ handle_id: 'b', secondary: { pod: 'y' } }]);
  assert.deepEqual(b.data.allocations.slice(0, 5), [null, null, 0, 0, null]);
});

test('release checks handle and sequence number before changing anything', () => {
  const b = mk(Prefix.parse('10.0.0.0/30'));
  b.autoAssign(2, 'h', undefined);
  const before = encodeBlock(b);
  assert.throws(() => b.release([{ ord: 0 }, { ord: 1, handle: 'other' }]), (e: unknown) => e instanceof ReleaseConflictError && e.message === 'the given handle (other) does not match (h) when attempting to release IP');
  assert.throws(() => b.release([{ ord: 0, sequenceNumber: '5' }]), /the given sequence number \(5\) does not match \(1700000000000000000\)/);
  assert.equal(encodeBlock(b), before);
  assert.deepEqual(b.release([{ ord: 3 }]).notAllocated, [3]);
});

test('assign of a specific ordinal removes it from the FIFO; twice is an error', () => {
  const b = mk(Prefix.parse('10.0.0.0/29'));
  b.assign(5, 'h', undefined);
  assert.deepEqual(b.data.unallocated, [0, 1, 2, 3, 4, 6, 7]);
  assert.throws(() => b.assign(5, 'h', undefined), AddressInUseError);
});

test('reserved addresses are skipped, kept in place, and not counted free', () => {
  const b = mk(Prefix.parse('10.0.0.0/29'));
  const res = new Reservations([Prefix.parse('10.0.0.0/31'), Prefix.parse('10.0.0.5/32')]);
  assert.equal(b.numFree(res), 5);
  assert.equal(b.numReserved(res), 3);
  assert.deepEqual(b.autoAssign(4, 'h', undefined, res), [2, 3, 4, 6]);
  assert.deepEqual(b.data.unallocated, [0, 1, 5, 7]);
  assert.equal(b.numFree(res), 1);
  const whole = new Reservations([Prefix.parse('10.0.0.0/24')]);
  assert.equal(b.numFree(whole), 0);
});

test('Windows reserved addresses leave a block empty', () => {
  const b = AllocationBlock.create(Prefix.parse('10.0.0.0/28'), { affinity: 'host:w', reserved: { handle: 'windows-reserved-ipam-handle', note: 'windows host', start: 3, end: 1 } });
  assert.deepEqual(b.allocatedOrdinals(), [0, 1, 2, 15]);
  assert.equal(b.data.unallocated[0], 3);
  assert.equal(b.isEmpty(), true);
  b.autoAssign(1, 'pod', undefined);
  assert.equal(b.isEmpty(), false);
});

test('IPv6 /122 blocks', () => {
  const b = AllocationBlock.create(Prefix.parse('fd00:1::/122'), { affinity: 'host:a' });
  assert.equal(b.size, 64);
  const ords = b.autoAssign(2, 'h', undefined);
  assert.deepEqual(ords.map((o) => b.ip(o).toString()), ['fd00:1::', 'fd00:1::1']);
  assert.equal(b.ordinal(IP.parse('fd00:1::3f')), 63);
  assert.equal(b.ordinal(IP.parse('fd00:1::40')), undefined);
  assert.equal(b.ordinal(IP.parse('10.0.0.1')), undefined);
});

test('borrowed addresses: allocations whose node is not the block host', () => {
  const b = mk(Prefix.parse('10.0.0.0/29'));
  b.autoAssign(1, 'x', { node: 'a' });
  b.autoAssign(1, 'y', { node: 'b' });
  b.autoAssign(1, 'z', undefined);
  assert.deepEqual(b.nonAffineAllocations().map((n) => [n.ip.toString(), n.node]), [
    ['10.0.0.1', 'b'],
    ['10.0.0.2', ''],
  ]);
});

// --- properties -----------------------------------------------------------------------------

type Op = { kind: 'auto'; n: number; h: number } | { kind: 'one'; ord: number; h: number } | { kind: 'rel'; ords: number[] } | { kind: 'relh'; h: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('auto' as const), n: fc.integer({ min: 0, max: 20 }), h: fc.integer({ min: 0, max: 4 }) }),
  fc.record({ kind: fc.constant('one' as const), ord: fc.integer({ min: 0, max: 31 }), h: fc.integer({ min: 0, max: 4 }) }),
  fc.record({ kind: fc.constant('rel' as const), ords: fc.array(fc.integer({ min: 0, max: 31 }), { maxLength: 8 }) }),
  fc.record({ kind: fc.constant('relh' as const), h: fc.integer({ min: 0, max: 4 }) }),
);

test('property: never the same address twice, capacity restored by release, handle counts match', () => {
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
      const b = AllocationBlock.create(Prefix.parse('10.1.0.0/27'), { affinity: 'host:a', sequenceNumber: '7' });
      // model: ordinal → handle
      const held = new Map<number, string>();
      for (const op of ops) {
        if (op.kind === 'auto') {
          const got = b.autoAssign(op.n, `h${op.h}`, { node: 'a' });
          assert.equal(got.length, Math.min(op.n, 32 - held.size));
          for (const o of got) {
            assert.equal(held.has(o), false, `ordinal ${o} handed out twice`);
            held.set(o, `h${op.h}`);
          }
        } else if (op.kind === 'one') {
          if (held.has(op.ord)) assert.throws(() => b.assign(op.ord, `h${op.h}`, undefined), AddressInUseError);
          else {
            b.assign(op.ord, `h${op.h}`, undefined);
            held.set(op.ord, `h${op.h}`);
          }
        } else if (op.kind === 'rel') {
          const want = new Map<string, number>();
          for (const o of new Set(op.ords)) if (held.has(o)) want.set(held.get(o)!, (want.get(held.get(o)!) ?? 0) + 1);
          const r = b.release(op.ords.map((ord) => ({ ord })));
          assert.deepEqual(new Map([...r.countByHandle].sort()), new Map([...want].sort()));
          assert.deepEqual(new Set(r.notAllocated), new Set(op.ords.filter((o) => !held.has(o))));
          for (const o of op.ords) held.delete(o);
        } else {
          const mine = [...held].filter(([, h]) => h === `h${op.h}`).map(([o]) => o);
          assert.equal(b.releaseByHandle(`h${op.h}`), mine.length);
          for (const o of mine) held.delete(o);
        }
        // invariants after every step
        const d = b.data;
        assert.equal(d.unallocated.length + held.size, 32);
        assert.equal(new Set(d.unallocated).size, d.unallocated.length);
        for (const o of d.unallocated) assert.equal(d.allocations[o], null);
        for (const [o, h] of held) assert.equal(b.attributesOf(o)?.handle_id, h);
        assert.equal(b.numAllocated(), held.size);
        for (const i of new Set(d.allocations.filter((x): x is number => x !== null))) assert.ok(i < d.attributes.length);
        assert.equal(d.attributes.length, new Set(d.allocations.filter((x) => x !== null)).size, 'no unused attribute entries');
        for (let h = 0; h < 5; h++) assert.equal(b.ordinalsByHandle(`h${h}`).length, [...held.values()].filter((x) => x === `h${h}`).length);
        assert.equal(encodeBlock(decodeBlock(encodeBlock(b))), encodeBlock(b));
      }
      // release everything: the block is whole again
      b.release(Array.from({ length: 32 }, (_, ord) => ({ ord })));
      assert.equal(b.numFree(), 32);
      assert.equal(b.isEmpty(), true);
      assert.deepEqual(b.data.attributes, []);
    }),
    { numRuns: 300 },
  );
});
