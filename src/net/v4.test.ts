// The IPv4-as-number helpers: same acceptance as IP.parse, exact masks, signed-int32 safety.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { IP, v4Contains, v4Format, v4Mask, v4Parse } from './index.js';

describe('v4Parse', () => {
  const good: Array<[string, number]> = [
    ['0.0.0.0', 0],
    ['255.255.255.255', 0xffffffff],
    ['10.0.0.1', 0x0a000001],
    ['192.168.1.100', 0xc0a80164],
    ['128.0.0.0', 0x80000000], // above int32: must stay positive
  ];
  for (const [s, n] of good) {
    it(`${s} → ${n}`, () => {
      assert.equal(v4Parse(s), n);
      assert.equal(v4Format(n), s);
    });
  }
  const bad = ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.1.1.1', '1.1.1.00', '1..1.1', '1.1.1.', '.1.1.1', '1.1.1.1 ',
    '1.1.1.a', '1.2.3.4/8', '-1.2.3.4'];
  for (const s of bad) {
    it(`refuses ${JSON.stringify(s)} with -1, like IP.parse`, () => {
      assert.equal(v4Parse(s), -1);
      assert.equal(IP.tryParse(s), undefined);
    });
  }
  it('reads dotted text only: IPv4-mapped IPv6 text is -1 here (IP.parse takes it)', () => {
    assert.equal(v4Parse('::ffff:1.2.3.4'), -1);
    assert.equal(IP.parse('::ffff:1.2.3.4').v4, 0x01020304);
  });
});

describe('v4Format', () => {
  it('prints a signed int32 as the address it denotes', () => {
    assert.equal(v4Format(-1), '255.255.255.255');
    assert.equal(v4Format(0xc0a80000 | 0x0101), '192.168.1.1'); // `|` gives a negative int32
  });
});

describe('v4Mask', () => {
  it('exact masks, unsigned', () => {
    assert.equal(v4Mask(0), 0);
    assert.equal(v4Mask(1), 0x80000000);
    assert.equal(v4Mask(8), 0xff000000);
    assert.equal(v4Mask(24), 0xffffff00);
    assert.equal(v4Mask(26), 0xffffffc0);
    assert.equal(v4Mask(31), 0xfffffffe);
    assert.equal(v4Mask(32), 0xffffffff);
    for (let len = 0; len <= 32; len++) {
      assert.equal(v4Mask(len), 2 ** 32 - 2 ** (32 - len), `/${len}`);
    }
  });
  it('refuses lengths outside 0..32', () => {
    for (const len of [-1, 33, 1.5, Number.NaN]) {
      assert.throws(() => v4Mask(len), { code: 'INVALID_PREFIX_LENGTH' });
    }
  });
});

describe('v4Contains', () => {
  it('checks the masked bits only', () => {
    const net = v4Parse('10.0.0.0');
    assert.equal(v4Contains(net, 8, v4Parse('10.255.255.255')), true);
    assert.equal(v4Contains(net, 8, v4Parse('11.0.0.0')), false);
    assert.equal(v4Contains(0, 0, 0xffffffff), true);
    assert.equal(v4Contains(0xffffffff, 32, 0xffffffff), true);
    assert.equal(v4Contains(0xffffffff, 32, 0xfffffffe), false);
    assert.equal(v4Contains(0x80000000, 1, 0xc0000000), true);
    assert.equal(v4Contains(0x80000000, 1, 0x40000000), false);
  });
});
