// MAC: Go net.ParseMAC acceptance and HardwareAddr.String printing.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MAC, NetError } from './index.js';

describe('MAC', () => {
  const good: Array<[string, string]> = [
    ['00:00:5e:00:53:01', '00:00:5e:00:53:01'],
    ['02:00:5e:10:00:00:00:01', '02:00:5e:10:00:00:00:01'],
    ['00:00:00:00:fe:80:00:00:00:00:00:00:02:00:5e:10:00:00:00:01', '00:00:00:00:fe:80:00:00:00:00:00:00:02:00:5e:10:00:00:00:01'],
    ['00-00-5e-00-53-01', '00:00:5e:00:53:01'],
    ['02-00-5e-10-00-00-00-01', '02:00:5e:10:00:00:00:01'],
    ['0000.5e00.5301', '00:00:5e:00:53:01'],
    ['0200.5e10.0000.0001', '02:00:5e:10:00:00:00:01'],
    ['0000.0000.fe80.0000.0000.0000.0200.5e10.0000.0001', '00:00:00:00:fe:80:00:00:00:00:00:00:02:00:5e:10:00:00:00:01'],
    ['AB:CD:EF:ab:cd:ef', 'ab:cd:ef:ab:cd:ef'],
    ['0123.4567.89AB', '01:23:45:67:89:ab'],
  ];
  for (const [input, printed] of good) {
    it(`${input} → ${printed}`, () => {
      const m = MAC.parse(input);
      assert.equal(m.toString(), printed);
      assert.ok(MAC.parse(printed).equals(m));
      assert.ok(MAC.fromBytes(m.toBytes()).equals(m));
    });
  }
  const bad = [
    '', '01.02.03.04.05.06', '01:02:03:04:05:06:', 'x1:02:03:04:05:06', '01002:03:04:05:06', '0123:4567:89AF',
    '0123-4567-89AF', '01:02:03:04:05:06:07', '01:02-03:04:05:06', '01:02:03:04:05:0g', '01:02:03:04:05:6',
    '0102.0304.0506.', '0102.0304:0506', '01:02:03:04:05:06:07:08:09:0a', ' 01:02:03:04:05:06',
  ];
  for (const input of bad) {
    it(`refuses ${JSON.stringify(input)}`, () => {
      assert.equal(MAC.tryParse(input), undefined);
      assert.throws(() => MAC.parse(input), (e: unknown) => e instanceof NetError && e.code === 'INVALID_MAC');
    });
  }
  it('fromBytes checks the length and copies', () => {
    assert.throws(() => MAC.fromBytes(new Uint8Array(7)), { code: 'INVALID_MAC' });
    const b = Uint8Array.of(1, 2, 3, 4, 5, 6);
    const m = MAC.fromBytes(b);
    b[0] = 0xff;
    assert.equal(m.toString(), '01:02:03:04:05:06');
    assert.equal(JSON.stringify(m), '"01:02:03:04:05:06"');
    assert.ok(!m.equals(MAC.parse('01:02:03:04:05:07')));
  });
});
