/**
 * BGP passwords (TCP MD5, RFC 2385) between two tortie speakers on loopback: with the same key
 * the session comes up; with different keys the kernel drops the segments and it never does.
 */
import { describe, it, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { Speaker } from './speaker.js';
import { md5Available } from './tcp-md5.js';

const speakers: Speaker[] = [];
afterEach(async () => {
  for (const s of speakers.splice(0)) await s.close();
});

async function pair(keyA: string, keyB: string, base: number) {
  const a = new Speaker({ routerId: '10.0.0.1', asNumber: 65001, listen: { address: `127.0.0.${base}`, port: 0 } });
  const b = new Speaker({ routerId: '10.0.0.2', asNumber: 65002, listen: { address: `127.0.0.${base + 1}`, port: 0 } });
  speakers.push(a, b);
  const ap = (await a.start())!;
  const bp = (await b.start())!;
  b.setPeers([{ address: `127.0.0.${base}`, port: ap, asNumber: 65001, localAddress: `127.0.0.${base + 1}`, passive: true, password: keyB }]);
  a.setPeers([{ address: `127.0.0.${base + 1}`, port: bp, asNumber: 65002, localAddress: `127.0.0.${base}`, password: keyA }]);
  a.setOriginated([{ prefix: '10.9.0.0/24' }]);
  return { a, b };
}

describe('TCP MD5 (BGP password)', { skip: md5Available() ? false : 'the TCP MD5 addon is not built (scripts/setup.sh builds it)' }, () => {
  it('same key: Established, routes flow', async () => {
    const { b } = await pair('s3cret', 's3cret', 71);
    const t0 = Date.now();
    while (!b.routes().some((r) => r.prefix === '10.9.0.0/24')) {
      if (Date.now() - t0 > 5000) assert.fail(`no route; status ${JSON.stringify(b.status())}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  });

  it('different keys: the session never comes up', async () => {
    const { a, b } = await pair('s3cret', 'other', 73);
    await new Promise((r) => setTimeout(r, 2500));
    assert.notEqual(a.status()[0]!.state, 'Established');
    assert.notEqual(b.status()[0]!.state, 'Established');
  });

  it('a password longer than 80 bytes is refused with a clear error', () => {
    const s = new Speaker({ routerId: '10.0.0.9', asNumber: 65009, listen: false });
    speakers.push(s);
    assert.throws(() => s.setPeers([{ address: '127.0.0.80', asNumber: 1, password: 'x'.repeat(81) }]), {
      message: 'peer 127.0.0.80: password must be 1 to 80 bytes (TCP MD5 key)',
    });
  });
});
