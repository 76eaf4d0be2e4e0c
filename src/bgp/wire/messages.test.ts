import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeMessage, decodeRouteRefresh, encodeKeepalive, encodeRouteRefresh } from './message.js';
import type { MessageError } from './model.js';
import { decodeNotification, encodeNotification, errorName } from './notification.js';
import { message, u16 } from './testing/bytes.js';

const ctx = { fourOctetAs: true };

test('KEEPALIVE is 19 octets: marker, length 19, type 4', () => {
  assert.deepEqual(encodeKeepalive(), message(4));
  assert.deepEqual(decodeMessage(message(4), ctx), { type: 'keepalive' });
  const e = decodeMessage(message(4, [0]), ctx) as MessageError;
  assert.deepEqual([e.type, e.error.code, e.error.subcode, [...e.error.data]], ['error', 1, 2, [0, 20]]);
});

test('NOTIFICATION round-trips any code, subcode and data', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 200 }), (code, subcode, data) => {
      fc.pre(!(code === 6 && (subcode === 2 || subcode === 4 || subcode === 9)));
      const m = encodeNotification({ code, subcode, data });
      assert.deepEqual(m, message(3, [code, subcode], [...data]));
      assert.deepEqual(decodeMessage(m, ctx), { type: 'notification', code, subcode, data: new Uint8Array(data) });
    }),
    { numRuns: 300 },
  );
});

test('NOTIFICATION: RFC 9003 shutdown communication for Administrative Shutdown and Reset', () => {
  fc.assert(
    fc.property(fc.constantFrom(2, 4), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 60 }), (subcode, text) => {
      fc.pre(Buffer.byteLength(text) <= 255);
      const m = encodeNotification({ code: 6, subcode, shutdownCommunication: text });
      const utf8 = [...Buffer.from(text)];
      assert.deepEqual(m, message(3, [6, subcode, utf8.length], utf8));
      assert.deepEqual(decodeNotification(m), { type: 'notification', code: 6, subcode, data: Uint8Array.of(utf8.length, ...utf8), shutdownCommunication: text });
    }),
    { numRuns: 200 },
  );
});

test('NOTIFICATION: a shutdown communication is cut to 255 octets at a character boundary', () => {
  const text = 'é'.repeat(200); // 400 octets
  const n = decodeNotification(encodeNotification({ code: 6, subcode: 2, shutdownCommunication: text }));
  assert.equal(n.type, 'notification');
  if (n.type !== 'notification') return;
  assert.equal(n.data[0], 254);
  assert.equal(n.shutdownCommunication, 'é'.repeat(127));
});

test('NOTIFICATION: malformed shutdown communications are kept as data only', () => {
  for (const data of [[], [0], [5, 0x61], [2, 0xff, 0xfe]]) {
    const n = decodeNotification(message(3, [6, 2], data));
    assert.deepEqual(n, { type: 'notification', code: 6, subcode: 2, data: Uint8Array.from(data) });
  }
  // Other codes never carry one, however their data looks.
  const other = decodeNotification(message(3, [6, 3], [1, 0x61]));
  assert.equal('shutdownCommunication' in other, false);
});

test('NOTIFICATION: RFC 8538 Hard Reset carries the inner code, subcode and data', () => {
  const m = encodeNotification({ code: 6, subcode: 9, hardReset: { code: 6, subcode: 4, shutdownCommunication: 'bye' } });
  assert.deepEqual(m, message(3, [6, 9], [6, 4, 3, 0x62, 0x79, 0x65]));
  assert.deepEqual(decodeNotification(m), {
    type: 'notification',
    code: 6,
    subcode: 9,
    data: Uint8Array.of(6, 4, 3, 0x62, 0x79, 0x65),
    hardReset: { code: 6, subcode: 4, data: Uint8Array.of(3, 0x62, 0x79, 0x65), shutdownCommunication: 'bye' },
  });
  const hold = decodeNotification(message(3, [6, 9], [4, 0]));
  assert.deepEqual(hold.type === 'notification' && hold.hardReset, { code: 4, subcode: 0, data: new Uint8Array(0) });
});

test('NOTIFICATION: data is cut to fit 4096 octets; shorter than 21 octets is Bad Message Length', () => {
  const m = encodeNotification({ code: 3, subcode: 1, data: new Uint8Array(5000) });
  assert.equal(m.length, 4096);
  assert.equal(encodeNotification({ code: 3, subcode: 1, data: new Uint8Array(5000) }, 65535).length, 5021);
  const e = decodeMessage(message(3, [6]), ctx) as MessageError;
  assert.deepEqual([e.error.code, e.error.subcode, [...e.error.data]], [1, 2, [0, 20]]);
});

test('ROUTE-REFRESH: AFI, subtype, SAFI (RFC 2918, RFC 7313)', () => {
  assert.deepEqual(encodeRouteRefresh('ipv4'), message(5, u16(1), [0, 1]));
  assert.deepEqual(encodeRouteRefresh('ipv6', 1), message(5, u16(2), [1, 1]));
  assert.deepEqual(encodeRouteRefresh({ afi: 25, safi: 70 }, 2), message(5, u16(25), [2, 70]));
  assert.deepEqual(decodeMessage(message(5, u16(2), [2, 1]), ctx), { type: 'route-refresh', afi: 2, safi: 1, subtype: 2, family: 'ipv6' });
  assert.deepEqual(decodeMessage(message(5, u16(1), [7, 128]), ctx), { type: 'route-refresh', afi: 1, safi: 128, subtype: 7 });
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), (afi, safi, subtype) => {
      const d = decodeRouteRefresh(encodeRouteRefresh({ afi, safi }, subtype));
      assert.equal(d.type, 'route-refresh');
      if (d.type === 'route-refresh') assert.deepEqual([d.afi, d.safi, d.subtype], [afi, safi, subtype]);
    }),
  );
});

test('ROUTE-REFRESH length errors: short is Bad Message Length, long is RFC 7313 Invalid Message Length with the message', () => {
  const short = decodeMessage(message(5, u16(1), [0]), ctx) as MessageError;
  assert.deepEqual([short.error.code, short.error.subcode, [...short.error.data]], [1, 2, [0, 22]]);
  const longMsg = message(5, u16(1), [1, 1, 9]);
  const long = decodeMessage(longMsg, ctx) as MessageError;
  assert.deepEqual([long.error.code, long.error.subcode], [7, 1]);
  assert.deepEqual(Buffer.from(long.error.data), longMsg);
});

test('decodeMessage: header errors', () => {
  const badType = decodeMessage(message(9), ctx) as MessageError;
  assert.deepEqual([badType.error.code, badType.error.subcode, [...badType.error.data]], [1, 3, [9]]);
  const badMarker = Buffer.from(message(4));
  badMarker[3] = 0;
  assert.deepEqual((decodeMessage(badMarker, ctx) as MessageError).error.subcode, 1);
  const mismatch = Buffer.concat([message(4), Buffer.of(0)]);
  assert.deepEqual((decodeMessage(mismatch, ctx) as MessageError).error.subcode, 2);
  assert.deepEqual((decodeMessage(Buffer.alloc(5, 0xff), ctx) as MessageError).error.subcode, 2);
  const big = message(2, u16(0), u16(0), new Array<number>(5000).fill(33));
  assert.deepEqual((decodeMessage(big, ctx) as MessageError).error.subcode, 2);
  assert.equal(decodeMessage(big, { ...ctx, extendedMessage: true }).type, 'error'); // prefix length 33: Invalid Network Field
  assert.deepEqual([(decodeMessage(big, { ...ctx, extendedMessage: true }) as MessageError).error.code, (decodeMessage(big, { ...ctx, extendedMessage: true }) as MessageError).error.subcode], [3, 10]);
});

test('errorName gives the RFC names', () => {
  assert.equal(errorName(3, 11), 'UPDATE Message Error / Malformed AS_PATH');
  assert.equal(errorName(6, 2), 'Cease / Administrative Shutdown');
  assert.equal(errorName(4, 0), 'Hold Timer Expired');
  assert.equal(errorName(2, 99), 'OPEN Message Error / subcode 99');
  assert.equal(errorName(42, 1), 'error code 42 / subcode 1');
});
