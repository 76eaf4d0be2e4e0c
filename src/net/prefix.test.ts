// Prefix: Go ParseCIDR / Calico ParseCIDROrIP tables, and the network operations IPAM and validation use.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { IP, NetError, Prefix } from './index.js';

const P = (s: string) => Prefix.parse(s);
const I = (s: string) => IP.parse(s);

// [input, Go's ip.String(), Go's ipnet.String(), network version]
const CIDRS: Array<[string, string, string, 4 | 6]> = [
  ['10.0.0.1/24', '10.0.0.1', '10.0.0.0/24', 4],
  ['10.0.0.0/8', '10.0.0.0', '10.0.0.0/8', 4],
  ['0.0.0.0/0', '0.0.0.0', '0.0.0.0/0', 4],
  ['255.255.255.255/0', '255.255.255.255', '0.0.0.0/0', 4],
  ['10.1.2.3/32', '10.1.2.3', '10.1.2.3/32', 4],
  ['192.168.7.129/26', '192.168.7.129', '192.168.7.128/26', 4],
  ['2001:db8::1/64', '2001:db8::1', '2001:db8::/64', 6],
  ['2001:DB8:0:0:1::/48', '2001:db8:0:0:1::', '2001:db8::/48', 6],
  ['fd00:1:2:3:4:5:6:7/122', 'fd00:1:2:3:4:5:6:7', 'fd00:1:2:3:4:5:6:0/122', 6],
  ['::/0', '::', '::/0', 6],
  ['::1/128', '::1', '::1/128', 6],
  ['::ffff:10.0.0.0/104', '10.0.0.0', '10.0.0.0/8', 4], // mapped: Go treats it as IPv4 /8
  ['::ffff:10.1.2.3/120', '10.1.2.3', '10.1.2.0/24', 4],
  ['::ffff:0:0/96', '0.0.0.0', '0.0.0.0/0', 4],
  ['::ffff:10.0.0.1/64', '10.0.0.1', '::/64', 6], // mapping bits masked away: the IP is v4, the net v6
  ['::ffff:10.0.0.1/33', '10.0.0.1', '::/33', 6], // 33 is fine: the text is 128-bit
  ['10.0.0.0/024', '10.0.0.0', '10.0.0.0/24', 4], // Go's dtoi allows leading zeros
  ['10.0.0.0/0000000000000008', '10.0.0.0', '10.0.0.0/8', 4],
];

const BAD_CIDRS = [
  '', '/', '/8', '10.0.0.0', '10.0.0.0/', '10.0.0.0/33', '::/129', '10.0.0.0/-1', '10.0.0.0/+8', '10.0.0.0/8 ',
  ' 10.0.0.0/8', '10.0.0.0 /8', '10.0.0.0/ 8', '10.0.0.0/8/8', '010.0.0.0/8', '10.0.0/8', 'fe80::%eth0/64',
  'fe80::/64%eth0', '10.0.0.0/255.0.0.0', '10.0.0.0/0x8', '10.0.0.0/99999999999', '[::]/0', '::1/128\n',
];

describe('Prefix.parseCIDR / parse', () => {
  for (const [input, ip, net, version] of CIDRS) {
    it(`${input} → ip ${ip}, network ${net}`, () => {
      const r = Prefix.parseCIDR(input);
      assert.equal(r.ip.toString(), ip);
      assert.equal(r.prefix.toString(), net);
      assert.equal(r.prefix.version, version);
      assert.ok(Prefix.parse(input).equals(r.prefix));
      assert.ok(Prefix.parse(net).equals(r.prefix), 'the printed network parses back to itself');
    });
  }
  for (const input of BAD_CIDRS) {
    it(`refuses ${JSON.stringify(input)}`, () => {
      assert.equal(Prefix.tryParse(input), undefined);
      assert.throws(
        () => Prefix.parse(input),
        (e: unknown) => e instanceof NetError && e.code === 'INVALID_CIDR' && e.input === input,
      );
    });
  }
  it('tells a strictly masked CIDR from one with host bits', () => {
    const strict = (s: string) => {
      const r = Prefix.parseCIDR(s);
      return r.ip.equals(r.prefix.ip);
    };
    assert.equal(strict('10.0.0.0/24'), true);
    assert.equal(strict('10.0.0.1/24'), false);
    assert.equal(strict('2001:db8::/32'), true);
    assert.equal(strict('2001:db8::8000:0/97'), true);
    assert.equal(strict('2001:db8::4000:0/97'), false);
  });
});

describe('Prefix.parseCIDROrIP', () => {
  const cases: Array<[string, string, string]> = [
    ['10.0.0.1', '10.0.0.1', '10.0.0.1/32'],
    ['::1', '::1', '::1/128'],
    ['::ffff:1.2.3.4', '1.2.3.4', '1.2.3.4/32'],
    ['10.0.0.1/24', '10.0.0.1', '10.0.0.0/24'],
    ['2001:db8::1/64', '2001:db8::1', '2001:db8::/64'],
  ];
  for (const [input, ip, net] of cases) {
    it(`${input} → ${ip} in ${net}`, () => {
      const r = Prefix.parseCIDROrIP(input);
      assert.equal(r.ip.toString(), ip);
      assert.equal(r.prefix.toString(), net);
    });
  }
  for (const input of ['', 'x', '10.0.0.1/33', '010.0.0.1', 'fe80::1%eth0']) {
    it(`refuses ${JSON.stringify(input)} with INVALID_CIDR`, () => {
      assert.throws(() => Prefix.parseCIDROrIP(input), { code: 'INVALID_CIDR', input });
    });
  }
});

describe('Prefix.of', () => {
  it('masks the address', () => {
    assert.equal(Prefix.of(I('10.1.2.3'), 16).toString(), '10.1.0.0/16');
    assert.equal(Prefix.of(I('2001:db8:ffff::1'), 36).toString(), '2001:db8:f000::/36');
    assert.equal(Prefix.of(I('10.1.2.3'), 0).toString(), '0.0.0.0/0');
    assert.equal(Prefix.of(I('10.1.2.3'), 32).toString(), '10.1.2.3/32');
  });
  it('refuses lengths outside the family', () => {
    for (const [ip, len] of [['10.0.0.0', 33], ['10.0.0.0', -1], ['::', 129], ['::', 1.5]] as const) {
      assert.throws(() => Prefix.of(I(ip), len), { code: 'INVALID_PREFIX_LENGTH' });
    }
  });
});

describe('Prefix operations', () => {
  it('contains', () => {
    const p = P('10.0.0.0/26');
    assert.equal(p.contains(I('10.0.0.0')), true);
    assert.equal(p.contains(I('10.0.0.63')), true);
    assert.equal(p.contains(I('10.0.0.64')), false);
    assert.equal(p.contains(I('9.255.255.255')), false);
    assert.equal(P('0.0.0.0/0').contains(I('255.255.255.255')), true);
    assert.equal(P('2001:db8::/32').contains(I('2001:db8:ffff::1')), true);
    assert.equal(P('2001:db8::/32').contains(I('2001:db9::')), false);
  });
  it('families never mix (Go IPNet.Contains)', () => {
    assert.equal(P('::/0').contains(I('10.0.0.1')), false);
    assert.equal(P('0.0.0.0/0').contains(I('::1')), false);
    assert.equal(P('::/0').overlaps(P('10.0.0.0/8')), false);
    assert.equal(P('::/0').containsPrefix(P('0.0.0.0/0')), false);
    // ::/80 covers ::ffff:0:0/96, which is IPv4: its last address comes out IPv4 and is not "in" it.
    assert.equal(P('::/80').last().toString(), '255.255.255.255');
    assert.equal(P('::/80').contains(P('::/80').last()), false);
    assert.equal(P('::/64').nth(0xffff00000001n).toString(), '0.0.0.1');
    assert.deepEqual([...P('::fffe:0:0/95').subnets(96)].map(String), ['::fffe:0:0/96', '0.0.0.0/0']);
  });
  it('containsPrefix and overlaps', () => {
    const pool = P('10.0.0.0/16');
    assert.equal(pool.containsPrefix(P('10.0.3.0/26')), true);
    assert.equal(pool.containsPrefix(pool), true);
    assert.equal(pool.containsPrefix(P('10.0.0.0/8')), false);
    assert.equal(pool.containsPrefix(P('10.1.0.0/26')), false);
    assert.equal(pool.overlaps(P('10.0.0.0/8')), true);
    assert.equal(P('10.0.0.0/8').overlaps(pool), true);
    assert.equal(pool.overlaps(P('10.1.0.0/16')), false);
    assert.equal(P('169.254.0.0/16').overlaps(P('169.254.1.0/24')), true);
    assert.equal(P('fe80::/10').overlaps(P('fe80::/64')), true);
    assert.equal(P('fe80::/10').overlaps(P('fec0::/10')), false);
  });
  it('size, first, last', () => {
    assert.equal(P('10.0.0.0/26').size(), 64n);
    assert.equal(P('0.0.0.0/0').size(), 2n ** 32n);
    assert.equal(P('::/0').size(), 2n ** 128n);
    assert.equal(P('fd00::/122').size(), 64n);
    assert.equal(P('10.0.0.0/26').first().toString(), '10.0.0.0');
    assert.equal(P('10.0.0.0/26').last().toString(), '10.0.0.63');
    assert.equal(P('0.0.0.0/0').last().toString(), '255.255.255.255');
    assert.equal(P('fd00::40/122').last().toString(), 'fd00::7f');
    assert.equal(P('10.9.8.7/32').last().toString(), '10.9.8.7');
  });
  it('nth and ordinalOf are inverse (IPAM ordinals)', () => {
    const block = P('10.0.0.64/26');
    assert.equal(block.nth(0).toString(), '10.0.0.64');
    assert.equal(block.nth(63n).toString(), '10.0.0.127');
    assert.equal(block.ordinalOf(I('10.0.0.100')), 36);
    assert.throws(() => block.nth(64), { code: 'OUT_OF_RANGE' });
    assert.throws(() => block.nth(-1), { code: 'OUT_OF_RANGE' });
    assert.throws(() => block.nth(1.5), { code: 'OUT_OF_RANGE' });
    assert.throws(() => block.ordinalOf(I('10.0.0.128')), { code: 'OUT_OF_RANGE' });
    const b6 = P('fd00:1::/122');
    assert.equal(b6.nth(10).toString(), 'fd00:1::a');
    assert.equal(b6.ordinalOf(I('fd00:1::3f')), 63);
    assert.throws(() => b6.ordinalOf(I('fd00:1::40')), { code: 'OUT_OF_RANGE' });
    assert.throws(() => P('fd00::/64').ordinalOf(I('fd00::ffff:ffff:ffff:ffff')), { code: 'OUT_OF_RANGE' });
    assert.equal(P('fd00::/64').ordinalOf(I('fd00::1f:ffff:ffff:ffff')), Number.MAX_SAFE_INTEGER);
  });
  it('equals and compare: family, then address, then length', () => {
    const sorted = ['fd00::/8', '10.0.0.0/16', '10.0.0.0/8', '9.0.0.0/8', '::/0', '10.0.1.0/24']
      .map(P)
      .sort((a, b) => a.compare(b))
      .map(String);
    assert.deepEqual(sorted, ['9.0.0.0/8', '10.0.0.0/8', '10.0.0.0/16', '10.0.1.0/24', '::/0', 'fd00::/8']);
    assert.ok(P('10.0.0.0/8').equals(P('10.1.2.3/8')));
    assert.ok(!P('10.0.0.0/8').equals(P('10.0.0.0/9')));
    assert.equal(P('10.0.0.0/8').compare(P('10.0.0.0/8')), 0);
  });
  it('subnets: the blocks of a pool', () => {
    assert.deepEqual([...P('10.0.0.0/24').subnets(26)].map(String), [
      '10.0.0.0/26', '10.0.0.64/26', '10.0.0.128/26', '10.0.0.192/26',
    ]);
    assert.deepEqual([...P('fd00::/120').subnets(122)].map(String), [
      'fd00::/122', 'fd00::40/122', 'fd00::80/122', 'fd00::c0/122',
    ]);
    assert.deepEqual([...P('10.0.0.0/24').subnets(24)].map(String), ['10.0.0.0/24']);
    assert.deepEqual([...P('255.255.255.254/31').subnets(32)].map(String), ['255.255.255.254/32', '255.255.255.255/32']);
    assert.equal([...P('0.0.0.0/0').subnets(1)].map(String).join(' '), '0.0.0.0/1 128.0.0.0/1');
    let n = 0;
    for (const b of P('10.0.0.0/8').subnets(26)) if (n++ === 1000) assert.equal(b.toString(), '10.0.250.0/26');
    assert.equal(n, 2 ** 18);
  });
  it('subnets refuses a length shorter than the prefix or beyond the family, at the call', () => {
    assert.throws(() => P('10.0.0.0/24').subnets(23), { code: 'INVALID_PREFIX_LENGTH' });
    assert.throws(() => P('10.0.0.0/24').subnets(33), { code: 'INVALID_PREFIX_LENGTH' });
    assert.throws(() => P('fd00::/64').subnets(129), { code: 'INVALID_PREFIX_LENGTH' });
  });
  it('JSON and inspect show the text form', () => {
    assert.equal(JSON.stringify([P('10.0.0.1/8')]), '["10.0.0.0/8"]');
    assert.equal(inspect(P('::ffff:10.0.0.0/104')), 'Prefix(10.0.0.0/8)');
  });
});
