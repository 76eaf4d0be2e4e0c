import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeCapabilities, encodeCapabilities, formatCapability, summarizeCapabilities, type Capability } from './capabilities.js';
import { decodeMessage } from './message.js';
import type { MessageError, OpenMessage } from './model.js';
import { decodeOpen, encodeOpen, peerAs, type OpenInput } from './open.js';
import { asn, capability, ip4 } from './testing/arbitraries.js';
import { cat, message, u16, u32, type Bytes } from './testing/bytes.js';

const ctx = { fourOctetAs: true };

function open(m: Uint8Array): OpenMessage {
  const o = decodeOpen(m);
  assert.equal(o.type, 'open', JSON.stringify(o));
  return o as OpenMessage;
}

function openError(m: Uint8Array): MessageError {
  const o = decodeOpen(m);
  assert.equal(o.type, 'error', JSON.stringify(o));
  return o as MessageError;
}

// Capability <code, length, value> by hand (RFC 5492 §4).
const cap = (code: number, value: Bytes = []): Bytes => [code, value.length, ...value];
const optParams = (...caps: Bytes[]): Bytes => {
  const c = cat(...caps);
  return [c.length + 2, 2, c.length, ...c];
};

test('every capability round-trips alone and in lists', () => {
  fc.assert(
    fc.property(fc.array(capability, { maxLength: 8 }), (caps) => {
      const out: Capability[] = [];
      const b = encodeCapabilities(caps);
      assert.equal(decodeCapabilities(b, 0, b.length, out), undefined);
      assert.deepEqual(out, caps);
    }),
    { numRuns: 500 },
  );
});

test('OPEN round-trips, My AS carrying AS_TRANS for 4-octet ASNs', () => {
  fc.assert(
    fc.property(
      fc.record({
        myAs: asn,
        holdTime: fc.oneof(fc.constant(0), fc.integer({ min: 3, max: 0xffff })),
        routerId: ip4.filter((x) => x !== '0.0.0.0'),
        capabilities: fc.array(capability, { maxLength: 30 }),
      }, { noNullPrototype: true }),
      (o: OpenInput) => {
        const m = encodeOpen(o);
        const d = decodeMessage(m, ctx);
        assert.deepEqual(d, {
          type: 'open',
          version: 4,
          myAs: o.myAs > 0xffff ? 23456 : o.myAs,
          holdTime: o.holdTime,
          routerId: o.routerId,
          capabilities: o.capabilities,
        });
      },
    ),
    { numRuns: 300 },
  );
});

test('a typical OPEN matches hand-assembled bytes', () => {
  const m = encodeOpen({
    myAs: 4200000001,
    holdTime: 240,
    routerId: '10.0.0.1',
    capabilities: [
      { kind: 'multiprotocol', afi: 1, safi: 1 },
      { kind: 'multiprotocol', afi: 2, safi: 1 },
      { kind: 'route-refresh' },
      { kind: 'enhanced-route-refresh' },
      { kind: 'extended-message' },
      { kind: 'graceful-restart', restarting: true, notification: true, restartTime: 120, families: [{ afi: 1, safi: 1, forwardingPreserved: true }, { afi: 2, safi: 1, forwardingPreserved: false }] },
      { kind: 'four-octet-as', asn: 4200000001 },
      { kind: 'unknown', code: 73, value: Uint8Array.of(4, 0x68, 0x6f, 0x73, 0x74, 0) },
    ],
  });
  const expected = message(
    1,
    [4],
    u16(23456),
    u16(240),
    [10, 0, 0, 1],
    optParams(
      cap(1, [0, 1, 0, 1]),
      cap(1, [0, 2, 0, 1]),
      cap(2),
      cap(70),
      cap(6),
      cap(64, [0xc0, 120, 0, 1, 1, 0x80, 0, 2, 1, 0]),
      cap(65, u32(4200000001)),
      cap(73, [4, 0x68, 0x6f, 0x73, 0x74, 0]),
    ),
  );
  assert.deepEqual(m, expected);
  const o = open(expected);
  assert.equal(peerAs(o), 4200000001);
  assert.deepEqual(summarizeCapabilities(o.capabilities), {
    fourOctetAs: 4200000001,
    families: ['ipv4', 'ipv6'],
    routeRefresh: true,
    enhancedRouteRefresh: true,
    extendedMessage: true,
    gracefulRestart: {
      restartTime: 120,
      restarting: true,
      notification: true,
      families: [
        { family: 'ipv4', forwardingPreserved: true },
        { family: 'ipv6', forwardingPreserved: false },
      ],
    },
  });
  assert.equal(formatCapability(o.capabilities[5]!), 'graceful-restart time 120 R N ipv4(F) ipv6');
});

test('capabilities spread over several optional parameters (one per parameter, as old Cisco did)', () => {
  const m = message(1, [4], u16(65001), u16(90), u32(0x0a000001), [16], [2, 6], cap(1, [0, 1, 0, 1]), [2, 2], cap(128), [2, 2], cap(2));
  const o = open(m);
  assert.deepEqual(o.capabilities, [{ kind: 'multiprotocol', afi: 1, safi: 1 }, { kind: 'route-refresh-cisco' }, { kind: 'route-refresh' }]);
  assert.equal(peerAs(o), 65001);
  const s = summarizeCapabilities(o.capabilities);
  assert.equal(s.routeRefresh, true);
  assert.equal(s.fourOctetAs, undefined);
});

test('no MP capability means IPv4 unicast (RFC 4760 §8); the Cisco code alone means route refresh', () => {
  assert.deepEqual(summarizeCapabilities([{ kind: 'route-refresh-cisco' }]), {
    families: ['ipv4'],
    routeRefresh: true,
    enhancedRouteRefresh: false,
    extendedMessage: false,
  });
  assert.deepEqual(summarizeCapabilities([{ kind: 'multiprotocol', afi: 2, safi: 1 }]).families, ['ipv6']);
  assert.deepEqual(summarizeCapabilities([{ kind: 'multiprotocol', afi: 1, safi: 128 }]).families, []);
});

test('RFC 9072: parameters longer than 255 octets use the extended length form, both ways', () => {
  const caps: Capability[] = Array.from({ length: 70 }, (_, i) => ({ kind: 'multiprotocol' as const, afi: 1000 + i, safi: 1 }));
  const m = encodeOpen({ myAs: 65001, holdTime: 90, routerId: '10.0.0.1', capabilities: caps });
  const body = cat(...caps.map((c) => cap(1, [...u16((c as { afi: number }).afi), 0, 1])));
  assert.equal(body.length, 420);
  const expected = message(1, [4], u16(65001), u16(90), [10, 0, 0, 1], [255, 255], u16(body.length + 3), [2], u16(body.length), body);
  assert.deepEqual(m, expected);
  assert.deepEqual(open(expected).capabilities, caps);
});

test('RFC 9072 boundary: 253 octets of capabilities still fit the classic form, 254 do not', () => {
  const unknown = (n: number): Capability => ({ kind: 'unknown', code: 200, value: new Uint8Array(n - 2) });
  const classic = encodeOpen({ myAs: 1, holdTime: 0, routerId: '1.1.1.1', capabilities: [unknown(253)] });
  assert.equal(classic[28], 255);
  assert.equal(classic[29], 2);
  const ext = encodeOpen({ myAs: 1, holdTime: 0, routerId: '1.1.1.1', capabilities: [unknown(254)] });
  assert.equal(ext[28], 255);
  assert.equal(ext[29], 255);
  assert.deepEqual(open(classic).capabilities, [unknown(253)]);
  assert.deepEqual(open(ext).capabilities, [unknown(254)]);
});

const base = (opt: Bytes, { version = 4, as = 65001, hold = 90, id = 0x0a000001 } = {}) =>
  message(1, [version], u16(as), u16(hold), u32(id), opt);

const errors: [string, Buffer, number, number, Bytes?][] = [
  ['version 3', base([0], { version: 3 }), 2, 1, [0, 4]],
  ['hold time 1', base([0], { hold: 1 }), 2, 6],
  ['hold time 2', base([0], { hold: 2 }), 2, 6],
  ['BGP Identifier 0', base([0], { id: 0 }), 2, 3],
  ['My AS 0', base([0], { as: 0 }), 2, 2, [0, 0]],
  ['4-octet AS capability 0', base(optParams(cap(65, u32(0)))), 2, 2, [0xfd, 0xe9]],
  ['unknown optional parameter type 1', base([4, 1, 2, 0xaa, 0xbb]), 2, 4, [1, 2, 0xaa, 0xbb]],
  ['optional parameters overrun the message', base([10, 2, 2, 2, 0]), 2, 0],
  ['parameter header truncated', base([1, 2]), 2, 0],
  ['parameter overruns the parameters', base([3, 2, 4, 2, 0]), 2, 0],
  ['capability overruns its parameter', base([4, 2, 2, 1, 4]), 2, 0],
  ['capability header truncated', base([3, 2, 1, 1]), 2, 0],
  ['MP capability of 3 octets', base(optParams(cap(1, [0, 1, 1]))), 2, 0],
  ['route refresh with a value', base(optParams(cap(2, [0]))), 2, 0],
  ['4-octet AS capability of 2 octets', base(optParams(cap(65, [0, 1]))), 2, 0],
  ['graceful restart of 3 octets', base(optParams(cap(64, [0, 1, 2]))), 2, 0],
  ['graceful restart of 8 octets', base(optParams(cap(64, [0, 1, 0, 1, 1, 0, 0, 0]))), 2, 0],
  ['extended parameters length truncated', base([255, 255, 0]), 2, 0],
  ['extended parameter header truncated', base([255, 255, 0, 2, 2, 0]), 2, 0],
  ['OPEN shorter than 29 octets', message(1, [4], u16(1), u16(90), u32(1)), 1, 2, [0, 28]],
  ['OPEN longer than 4096 octets', base([255, 255, ...u16(4100), 2, ...u16(4097), ...new Array<number>(4097).fill(0)]), 1, 2],
];

for (const [name, m, code, subcode, data] of errors) {
  test(`OPEN error: ${name} -> ${code}/${subcode}`, () => {
    const e = openError(m);
    assert.equal(e.error.code, code);
    assert.equal(e.error.subcode, subcode);
    assert.equal(e.error.handling, 'session-reset');
    if (data) assert.deepEqual([...e.error.data], data);
    const viaMessage = decodeMessage(m, ctx) as MessageError;
    assert.deepEqual([viaMessage.type, viaMessage.error.code, viaMessage.error.subcode], ['error', code, subcode]);
  });
}

test('OPEN: trailing octets after the parameters are tolerated (as BIRD does)', () => {
  const m = message(1, [4], u16(65001), u16(90), u32(0x0a000001), [0], [1, 2, 3]);
  assert.deepEqual((decodeMessage(m, ctx) as OpenMessage).capabilities, []);
});

test('encodeOpen refuses out-of-range fields', () => {
  const ok: OpenInput = { myAs: 1, holdTime: 90, routerId: '1.2.3.4', capabilities: [] };
  assert.throws(() => encodeOpen({ ...ok, routerId: '1.2.3' }), { code: 'INVALID_ADDRESS' });
  assert.throws(() => encodeOpen({ ...ok, holdTime: 70000 }), { code: 'INVALID_VALUE' });
  assert.throws(() => encodeOpen({ ...ok, myAs: -1 }), { code: 'INVALID_VALUE' });
  assert.throws(() => encodeOpen({ ...ok, capabilities: [{ kind: 'graceful-restart', restarting: false, notification: false, restartTime: 5000, families: [] }] }), {
    code: 'INVALID_VALUE',
  });
  assert.throws(() => encodeOpen({ ...ok, capabilities: [{ kind: 'unknown', code: 99, value: new Uint8Array(256) }] }), { code: 'INVALID_VALUE' });
  const many: Capability[] = Array.from({ length: 20 }, () => ({ kind: 'unknown', code: 99, value: new Uint8Array(250) }));
  assert.throws(() => encodeOpen({ ...ok, capabilities: many }), { code: 'TOO_LARGE' });
});
