/**
 * A route whose attributes cannot be encoded into one message must not take the speaker down:
 * found by test/integration/bgp-fuzz.test.ts, where a peer's UPDATE close to 4096 octets grew on
 * export (AS prepended, LOCAL_PREF added) and encodeUpdates' TOO_LARGE escaped from the
 * setImmediate that drains the update groups, an uncaught exception. Now the prefixes are withdrawn
 * at that peer and everything else carries on.
 */
import { describe, it, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { Speaker } from './speaker.js';
import { until } from './testing/loopback.js';

const speakers: Speaker[] = [];
afterEach(async () => {
  for (const s of speakers.splice(0)) await s.close();
});


describe('speaker: attributes too large for a message', () => {
  it('withdraws the route at the peer instead of throwing; other routes still go out', async () => {
    const a = new Speaker({ routerId: '10.0.0.1', asNumber: 65001, listen: { address: '127.0.0.41', port: 0 } });
    const b = new Speaker({ routerId: '10.0.0.2', asNumber: 65002, listen: { address: '127.0.0.42', port: 0 } });
    speakers.push(a, b);
    const aPort = (await a.start())!;
    const bPort = (await b.start())!;
    a.setPeers([{ address: '127.0.0.42', port: bPort, asNumber: 65002, localAddress: '127.0.0.41' }]);
    b.setPeers([{ address: '127.0.0.41', port: aPort, asNumber: 65001, localAddress: '127.0.0.42', passive: true }]);
    const escaped: unknown[] = [];
    const onError = (e: unknown) => escaped.push(e);
    process.setUncaughtExceptionCaptureCallback(onError);
    try {
      // 1100 communities: 4400 octets of COMMUNITIES alone, more than a 4096-octet UPDATE can hold.
      const many = Array.from({ length: 1100 }, (_, i) => `65001:${i}`);
      a.setOriginated([{ prefix: '10.244.7.0/24', communities: many }, { prefix: '10.244.8.0/24' }]);
      await until(() => b.routes().some((r) => r.prefix === '10.244.8.0/24'));
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(escaped, []);
      assert.equal(b.routes().some((r) => r.prefix === '10.244.7.0/24'), false, 'the route that does not fit is not advertised');
      assert.equal(a.status()[0]!.state, 'Established');
      assert.equal(b.status()[0]!.state, 'Established');
    } finally {
      process.setUncaughtExceptionCaptureCallback(null);
    }
  });
});
