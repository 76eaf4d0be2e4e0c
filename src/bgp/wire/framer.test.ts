import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { WireProblem } from './errors.js';
import { Framer } from './framer.js';
import { cat, message, u16, u32 } from './testing/bytes.js';

// A stream of assorted messages: KEEPALIVE, OPEN, a maximal 4096-octet UPDATE, NOTIFICATION, ROUTE-REFRESH.
const keepalive = message(4);
const open = message(1, [4], u16(65001), u16(90), u32(0x01020304), [0]);
const bigUpdate = message(2, u16(0), u16(0), new Array<number>(4096 - 23).fill(0).map((_, i) => (i % 2 ? 32 : 10)));
const notification = message(3, [6, 2], [3, 0x61, 0x62, 0x63]);
const refresh = message(5, u16(2), [0, 1]);
const messages = [keepalive, open, bigUpdate, notification, refresh, keepalive];
const stream = Buffer.concat(messages);

function frameAll(chunks: Buffer[], f = new Framer()): Buffer[] {
  const out: Buffer[] = [];
  for (const c of chunks) out.push(...f.feed(c));
  assert.equal(f.error, undefined);
  return out;
}

test('the stream cut at every position yields the same messages', () => {
  assert.equal(bigUpdate.length, 4096);
  for (let cut = 0; cut <= stream.length; cut++) {
    const got = frameAll([stream.subarray(0, cut), stream.subarray(cut)]);
    assert.deepEqual(got, messages, `cut at ${cut}`);
  }
});

test('one byte at a time yields the same messages', () => {
  const chunks = Array.from(stream, (b) => Buffer.of(b));
  assert.deepEqual(frameAll(chunks), messages);
});

test('random chunk sizes yield the same messages', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 60 }), (sizes) => {
      const chunks: Buffer[] = [];
      let o = 0;
      for (let k = 0; o < stream.length; k++) {
        const n = sizes[k % sizes.length]!;
        chunks.push(stream.subarray(o, o + n));
        o += n;
      }
      assert.deepEqual(frameAll(chunks), messages);
    }),
    { numRuns: 300 },
  );
});

test('a message inside one chunk is returned without copying', () => {
  const f = new Framer();
  const got = f.feed(stream);
  assert.equal(got.length, messages.length);
  for (const m of got) assert.equal(m.buffer, stream.buffer);
  assert.equal(f.buffered, 0);
});

test('a split message is copied once into a buffer of its exact length', () => {
  const f = new Framer();
  assert.deepEqual(f.feed(bigUpdate.subarray(0, 100)), []);
  assert.equal(f.buffered, 100);
  const [m] = f.feed(bigUpdate.subarray(100));
  assert.ok(m);
  assert.equal(m.length, 4096);
  assert.equal(m.buffer.byteLength >= 4096, true);
  assert.notEqual(m.buffer, bigUpdate.buffer);
  assert.deepEqual(m, bigUpdate);
});

test('a bad marker is Connection Not Synchronized, found at the first bad octet', () => {
  const f = new Framer();
  const bad = Buffer.from(keepalive);
  bad[5] = 0xfe;
  for (let i = 0; i < 5; i++) f.feed(bad.subarray(i, i + 1));
  assert.equal(f.error, undefined);
  f.feed(bad.subarray(5, 6));
  const e = f.error as WireProblem | undefined; // (the assert above narrowed f.error to undefined)
  assert.deepEqual([e?.code, e?.subcode, e?.handling], [1, 1, 'session-reset']);
  assert.equal(f.buffered, 0);
});

test('a bad marker in a whole chunk is refused too, after the good messages before it', () => {
  const bad = Buffer.from(keepalive);
  bad[0] = 0;
  const f = new Framer();
  const got = f.feed(Buffer.concat([open, bad, keepalive]));
  assert.deepEqual(got, [open]);
  assert.equal(f.error?.subcode, 1);
});

for (const len of [0, 18, 4097, 65535]) {
  test(`length ${len} is Bad Message Length with the length field as data`, () => {
    const hdr = Buffer.from([...new Array<number>(16).fill(0xff), ...u16(len), 2]);
    const f = new Framer();
    assert.deepEqual(f.feed(hdr), []);
    assert.deepEqual(f.error, {
      code: 1,
      subcode: 2,
      data: Uint8Array.of(len >>> 8, len & 0xff),
      handling: 'session-reset',
      reason: `message length ${len} outside 19..4096`,
    });
  });
}

test('an oversized message is refused from its header: the framer never holds more than the header', () => {
  const hdr = Buffer.from([...new Array<number>(16).fill(0xff), ...u16(60000), 2]);
  const f = new Framer();
  for (let i = 0; i < 18; i++) {
    f.push(hdr.subarray(i, i + 1));
    assert.equal(f.next(), undefined);
    assert.ok(f.buffered <= 19, `holds ${f.buffered}`);
    assert.equal(f.error, undefined);
  }
  f.push(hdr.subarray(18));
  assert.equal(f.next(), undefined);
  assert.equal(f.error?.subcode, 2);
  assert.equal(f.buffered, 0);
  // The body that follows is dropped on arrival.
  for (let i = 0; i < 100; i++) {
    f.push(Buffer.alloc(600));
    assert.equal(f.buffered, 0);
  }
  assert.equal(f.next(), undefined);
});

test('a 65535-octet message passes once extended messages are negotiated', () => {
  const big = message(2, u16(0), u16(0), new Array<number>(65535 - 23).fill(0));
  const f = new Framer(65535);
  assert.deepEqual(frameAll([big.subarray(0, 7), big.subarray(7, 30000), big.subarray(30000)], f), [big]);
  assert.equal(new Framer().feed(big).length, 0);
});

test('maxMessageLength may be raised between two messages of one chunk', () => {
  const big = message(2, u16(0), u16(0), new Array<number>(5000).fill(0));
  const f = new Framer();
  f.push(Buffer.concat([open, big]));
  assert.deepEqual(f.next(), open);
  f.maxMessageLength = 65535;
  assert.deepEqual(f.next(), big);
  assert.equal(f.next(), undefined);
  assert.equal(f.error, undefined);
});

test('maxMessageLength must be 4096..65535', () => {
  assert.throws(() => new Framer(4095), { code: 'INVALID_VALUE' });
  assert.throws(() => {
    new Framer().maxMessageLength = 70000;
  }, { code: 'INVALID_VALUE' });
});

test('Uint8Array chunks work as Buffers do', () => {
  const f = new Framer();
  const u = new Uint8Array(cat([...stream]));
  assert.deepEqual(f.feed(u), messages);
});
