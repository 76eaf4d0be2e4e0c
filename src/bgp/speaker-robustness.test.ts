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

/** Two speakers on loopback peering with each other (b passive), started and configured. */
async function pair(o: { addresses: [string, string]; asNumbers: [number, number] }): Promise<[Speaker, Speaker]> {
  const [aAddr, bAddr] = o.addresses;
  const [aAs, bAs] = o.asNumbers;
  const a = new Speaker({ routerId: '10.0.0.1', asNumber: aAs, listen: { address: aAddr, port: 0 } });
  const b = new Speaker({ routerId: '10.0.0.2', asNumber: bAs, listen: { address: bAddr, port: 0 } });
  speakers.push(a, b);
  const aPort = (await a.start())!;
  const bPort = (await b.start())!;
  a.setPeers([{ address: bAddr, port: bPort, asNumber: bAs, localAddress: aAddr }]);
  b.setPeers([{ address: aAddr, port: aPort, asNumber: aAs, localAddress: bAddr, passive: true }]);
  return [a, b];
}

describe('speaker: attributes too large for a message', () => {
  it('withdraws the route at the peer instead of throwing; other routes still go out', async () => {
    const [a, b] = await pair({ addresses: ['127.0.0.41', '127.0.0.42'], asNumbers: [65001, 65002] });
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

describe('speaker: UPDATEs that leave nothing to send', () => {
  it('schedule no tick of their own, and attribute sets are still collected in batches', async () => {
    // b hears a's routes over iBGP and advertises nothing back (iBGP-learned routes do not go to iBGP peers),
    // like a reflector client hearing each route from its reflectors.
    const [a, b] = await pair({ addresses: ['127.0.0.43', '127.0.0.44'], asNumbers: [65001, 65001] });
    await until(() => a.status()[0]?.state === 'Established' && b.status()[0]?.state === 'Established');
    await new Promise((r) => setTimeout(r, 50)); // End-of-RIB both ways
    const internals = b as unknown as { scheduleTick(): void };
    const tick = internals.scheduleTick.bind(b);
    let ticks = 0;
    internals.scheduleTick = () => {
      ticks++;
      tick();
    };
    let most = 0;
    // 300 routes, each with an attribute set of its own, one UPDATE at a time; then each withdrawn again.
    const routes: { prefix: string; communities: string[] }[] = [];
    for (let i = 0; i < 300; i++) {
      routes.push({ prefix: `10.250.${i >> 2}.${(i & 3) * 64}/26`, communities: [`65001:${i}`] });
      a.setOriginated(routes);
      await until(() => b.routes().length === i + 1);
      most = Math.max(most, b.rib.collectable);
    }
    for (let i = 299; i >= 0; i--) {
      routes.pop();
      a.setOriginated(routes);
      await until(() => b.routes().length === i);
      most = Math.max(most, b.rib.collectable);
    }
    assert.ok(ticks <= 5, `${ticks} ticks for 600 UPDATEs`);
    assert.ok(most <= 256, `at most ${most} dead attribute sets waited`);
    assert.ok(b.rib.collectable < 256);
  });
});
