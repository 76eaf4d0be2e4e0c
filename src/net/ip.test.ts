// Table tests of IP parsing and printing against Go's net.ParseIP / IP.String results, plus the value API.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { IP, NetError } from './index.js';

// [input, Go's String() of ParseIP(input), Calico's Version()]
const VALID: Array<[string, string, 4 | 6]> = [
  ['0.0.0.0', '0.0.0.0', 4],
  ['255.255.255.255', '255.255.255.255', 4],
  ['10.0.0.1', '10.0.0.1', 4],
  ['192.168.100.200', '192.168.100.200', 4],
  ['::', '::', 6],
  ['::1', '::1', 6],
  ['1::', '1::', 6],
  ['2001:db8::1', '2001:db8::1', 6],
  ['2001:DB8::ABCD', '2001:db8::abcd', 6],
  ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1', 6],
  ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1', 6], // tie: the first run wins
  ['2001:0:0:1::', '2001:0:0:1::', 6], // the longer run wins
  ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1', 6], // a single zero group is not compressed
  ['::2:3:4:5:6:7:8', '0:2:3:4:5:6:7:8', 6], // "::" for one group on input, printed as 0
  ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0', 6],
  ['1:0:0:4:0:0:0:8', '1:0:0:4::8', 6],
  ['0:0:0:0:0:0:0:0', '::', 6],
  ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 6],
  ['0001:02::0003', '1:2::3', 6], // leading zeros within four digits are fine in IPv6
  ['fe80::1', 'fe80::1', 6],
  ['::ffff:1.2.3.4', '1.2.3.4', 4], // IPv4-mapped is IPv4 (To4() != nil)
  ['::FFFF:1.2.3.4', '1.2.3.4', 4],
  ['::ffff:0102:0304', '1.2.3.4', 4],
  ['0:0:0:0:0:ffff:a00:1', '10.0.0.1', 4],
  ['::ffff:0:0', '0.0.0.0', 4],
  ['::1.2.3.4', '::102:304', 6], // IPv4-compatible is plain IPv6
  ['1::1.2.3.4', '1::102:304', 6],
  ['1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:102:304', 6],
  ['64:ff9b::192.0.2.33', '64:ff9b::c000:221', 6],
];

const INVALID: string[] = [
  '',
  ' ',
  '1.2.3',
  '1.2.3.4.5',
  '256.0.0.1',
  '1.2.3.256',
  '010.0.0.1', // leading zero (refused since Go 1.17)
  '1.2.3.04',
  '00.1.2.3',
  '1..2.3',
  '.1.2.3',
  '1.2.3.',
  '1.2.3.-1',
  '+1.2.3.4',
  '0x1.2.3.4',
  ' 1.2.3.4',
  '1.2.3.4 ',
  '1.2.3.4\n',
  '\t::1',
  '1.2.3.4/32',
  '1.2.3.4:179',
  '[::1]',
  'fe80::1%eth0', // zones are refused by net.ParseIP
  'fe80::1%',
  '%eth0',
  ':::',
  '1:::2',
  '1::2::3',
  ':1::',
  '1::2:',
  ':',
  '1',
  '1:2:3:4:5:6:7',
  '1:2:3:4:5:6:7:8:9',
  '1:2:3:4:5:6:7:8::', // "::" must stand for at least one group
  '::1:2:3:4:5:6:7:8',
  '12345::',
  '00001::',
  'g::',
  '::1.2.3.4:5', // embedded IPv4 in the middle
  '1.2.3.4::',
  '1:2:3:4:5:1.2.3.4', // embedded IPv4 not replacing the last two groups
  '1:2:3:4:5:6:7:1.2.3.4',
  '1:2:3:4:5:6::1.2.3.4', // nothing left for "::"
  '::1.2.3',
  '::256.1.1.1',
  '::ffff:01.2.3.4',
  'localhost',
  '١.٢.٣.٤', // non-ASCII digits
];

describe('IP.parse', () => {
  for (const [input, printed, version] of VALID) {
    it(`accepts ${JSON.stringify(input)} as ${printed} (v${version})`, () => {
      const ip = IP.parse(input);
      assert.equal(ip.toString(), printed);
      assert.equal(ip.version, version);
      assert.ok(IP.parse(printed).equals(ip), 'printed form parses back to the same address');
    });
  }
  for (const input of INVALID) {
    it(`refuses ${JSON.stringify(input)}`, () => {
      assert.equal(IP.tryParse(input), undefined);
      assert.throws(
        () => IP.parse(input),
        (e: unknown) => e instanceof NetError && e.code === 'INVALID_IP' && e.input === input,
      );
    });
  }
});

describe('IP values', () => {
  it('fromV4 / v4 / v6 views', () => {
    const ip = IP.fromV4(0x0a000001);
    assert.equal(ip.toString(), '10.0.0.1');
    assert.equal(ip.v4, 0x0a000001);
    assert.equal(ip.v6, 0xffff0a000001n);
    assert.equal(ip.bits, 32);
    assert.throws(() => IP.fromV4(-1), { code: 'OUT_OF_RANGE' });
    assert.throws(() => IP.fromV4(2 ** 32), { code: 'OUT_OF_RANGE' });
    assert.throws(() => IP.fromV4(1.5), { code: 'OUT_OF_RANGE' });
  });

  it('v4 of an IPv6 address throws VERSION_MISMATCH', () => {
    assert.throws(() => IP.parse('::1').v4, { code: 'VERSION_MISMATCH' });
    assert.equal(IP.parse('::1').v6, 1n);
  });

  it('fromV6 normalises IPv4-mapped values to IPv4', () => {
    assert.equal(IP.fromV6(0xffff01020304n).version, 4);
    assert.ok(IP.fromV6(0xffff01020304n).equals(IP.parse('1.2.3.4')));
    assert.equal(IP.fromV6(0xfffe01020304n).version, 6);
    assert.throws(() => IP.fromV6(-1n), { code: 'OUT_OF_RANGE' });
    assert.throws(() => IP.fromV6(1n << 128n), { code: 'OUT_OF_RANGE' });
  });

  it('bytes round trip', () => {
    assert.deepEqual([...IP.parse('10.1.2.254').toBytes()], [10, 1, 2, 254]);
    assert.ok(IP.fromBytes(Uint8Array.of(255, 0, 0, 1)).equals(IP.parse('255.0.0.1')));
    const v6 = IP.parse('2001:db8::ff00:42:8329');
    const b = v6.toBytes();
    assert.deepEqual([...b], [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0xff, 0, 0, 0x42, 0x83, 0x29]);
    assert.ok(IP.fromBytes(b).equals(v6));
    const mapped = Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1);
    assert.equal(IP.fromBytes(mapped).toString(), '192.0.2.1');
    assert.throws(() => IP.fromBytes(new Uint8Array(5)), { code: 'INVALID_IP' });
  });

  it('equals and compare: IPv4 sorts before IPv6, numerically within a family', () => {
    const sorted = ['::', '0.0.0.0', '::1', '10.0.0.10', '10.0.0.9', '255.255.255.255', 'fe80::', '2001:db8::']
      .map((s) => IP.parse(s))
      .sort((a, b) => a.compare(b))
      .map(String);
    assert.deepEqual(sorted, ['0.0.0.0', '10.0.0.9', '10.0.0.10', '255.255.255.255', '::', '::1', '2001:db8::', 'fe80::']);
    assert.ok(IP.parse('10.0.0.1').equals(IP.parse('::ffff:10.0.0.1')));
    assert.ok(!IP.parse('0.0.0.0').equals(IP.parse('::')));
    assert.equal(IP.parse('10.0.0.1').compare(IP.parse('10.0.0.1')), 0);
  });

  it('add: offsets, negative offsets, overflow', () => {
    assert.equal(IP.parse('10.0.0.255').add(1).toString(), '10.0.1.0');
    assert.equal(IP.parse('10.0.1.0').add(-1).toString(), '10.0.0.255');
    assert.equal(IP.parse('10.0.0.0').add(64n).toString(), '10.0.0.64');
    assert.equal(IP.parse('255.255.255.254').add(1).toString(), '255.255.255.255');
    assert.throws(() => IP.parse('255.255.255.255').add(1), { code: 'OUT_OF_RANGE' });
    assert.throws(() => IP.parse('0.0.0.0').add(-1), { code: 'OUT_OF_RANGE' });
    assert.throws(() => IP.parse('0.0.0.0').add(0.5), { code: 'OUT_OF_RANGE' });
    assert.equal(IP.parse('2001:db8::ffff').add(1).toString(), '2001:db8::1:0');
    assert.equal(IP.parse('fd00::').add(2n ** 64n).toString(), 'fd00:0:0:1::');
    assert.throws(() => IP.parse('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff').add(1), { code: 'OUT_OF_RANGE' });
    assert.throws(() => IP.parse('::').add(-1n), { code: 'OUT_OF_RANGE' });
  });

  it('add into ::ffff:0:0/96 yields IPv4, as Go IncrementIP does', () => {
    const ip = IP.parse('::fffe:ffff:ffff').add(1);
    assert.equal(ip.version, 4);
    assert.equal(ip.toString(), '0.0.0.0');
  });

  it('classification', () => {
    const yes = (s: string, f: (ip: IP) => boolean) => assert.equal(f(IP.parse(s)), true, s);
    const no = (s: string, f: (ip: IP) => boolean) => assert.equal(f(IP.parse(s)), false, s);
    const unspec = (ip: IP) => ip.isUnspecified();
    const loop = (ip: IP) => ip.isLoopback();
    const ll = (ip: IP) => ip.isLinkLocalUnicast();
    const mc = (ip: IP) => ip.isMulticast();
    const priv = (ip: IP) => ip.isPrivate();
    yes('0.0.0.0', unspec); yes('::', unspec); no('0.0.0.1', unspec); no('::1', unspec);
    yes('127.1.2.3', loop); yes('::1', loop); no('128.0.0.1', loop); no('::2', loop);
    yes('169.254.1.1', ll); yes('fe80::1', ll); yes('febf::1', ll); no('169.253.1.1', ll); no('fec0::1', ll);
    yes('224.0.0.5', mc); yes('239.255.255.255', mc); yes('ff02::5', mc); no('240.0.0.1', mc); no('fe00::1', mc);
    yes('10.2.3.4', priv); yes('172.16.0.1', priv); yes('172.31.255.255', priv); yes('192.168.0.1', priv);
    yes('fc00::1', priv); yes('fdff::1', priv);
    no('172.32.0.1', priv); no('192.169.0.1', priv); no('11.0.0.1', priv); no('fe00::1', priv);
  });

  it('JSON and inspect show the text form', () => {
    assert.equal(JSON.stringify({ a: IP.parse('2001:DB8::1') }), '{"a":"2001:db8::1"}');
    assert.equal(inspect(IP.parse('::ffff:10.0.0.1')), 'IP(10.0.0.1)');
  });
});
