// parseIPPort: BGPPeer.spec.peerIP forms, with Calico processIPPort's acceptance rules.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NetError, parseIPPort } from './index.js';

describe('parseIPPort', () => {
  const good: Array<[string, string, number | undefined]> = [
    ['1.2.3.4', '1.2.3.4', undefined],
    ['1.2.3.4:179', '1.2.3.4', 179],
    ['10.0.0.1:0179', '10.0.0.1', 179], // strconv.ParseUint allows leading zeros
    ['10.0.0.1:000000000000000179', '10.0.0.1', 179],
    ['1.2.3.4:1', '1.2.3.4', 1],
    ['1.2.3.4:65535', '1.2.3.4', 65535],
    ['::1', '::1', undefined],
    ['::1:179', '::1:179', undefined], // no brackets: an IPv6 address, not a port
    ['[::1]:179', '::1', 179],
    ['[2001:DB8::1]:1790', '2001:db8::1', 1790],
    ['[1.2.3.4]:179', '1.2.3.4', 179], // Calico's pattern lets bracketed IPv4 through
    ['[::ffff:1.2.3.4]:179', '1.2.3.4', 179],
    ['::ffff:1.2.3.4', '1.2.3.4', undefined],
  ];
  for (const [input, ip, port] of good) {
    it(`${JSON.stringify(input)} → ${ip} port ${port}`, () => {
      const r = parseIPPort(input);
      assert.equal(r.ip.toString(), ip);
      assert.equal(r.port, port);
      assert.equal('port' in r, port !== undefined);
    });
  }
  const bad = [
    '', ' ', '1.2.3.4:0', '1.2.3.4:65536', '1.2.3.4:99999999999999999999', '1.2.3.4:', '1.2.3.4:x', '1.2.3.4:+179',
    '1.2.3.4 :179', '1.2.3.4: 179', '1.2.3.4:179:1', '01.2.3.4:179', '256.2.3.4:179', '1.2.3:179', 'a.b.c.d:179',
    '1:2:3:4:179', '[::1]', '[::1]:', '[::1]:0', '[::1]:65536', '[::1]179', '[1.2.3.4:179]', '[fe80::1%eth0]:179',
    '[::g]:179', 'fe80::1%eth0', '[[::1]]:179', 'localhost:179',
  ];
  for (const input of bad) {
    it(`refuses ${JSON.stringify(input)}`, () => {
      assert.throws(
        () => parseIPPort(input),
        (e: unknown) => e instanceof NetError && e.code === 'INVALID_IP_PORT' && e.input === input,
      );
    });
  }
});
