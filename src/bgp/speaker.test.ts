/**
 * Two (and three) tortie speakers over loopback: routes flow with their attributes, withdrawals
 * propagate, eBGP prepends and rewrites the next hop, iBGP split horizon and reflection hold,
 * and the declarative edges converge without resetting unchanged sessions.
 */
import { describe, it, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { Speaker, type PeerSpec } from './speaker.js';

const speakers: Speaker[] = [];
afterEach(async () => {
  for (const s of speakers.splice(0)) await s.close();
});

async function speaker(id: string, as: number, address: string): Promise<{ s: Speaker; port: number; address: string }> {
  const s = new Speaker({ routerId: id, asNumber: as, listen: { address, port: 0 } });
  speakers.push(s);
  const port = (await s.start())!;
  return { s, port, address };
}

async function until<T>(f: () => T | undefined | false, ms = 5000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() - t0 > ms) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const peer = (to: { port: number; address: string }, as: number, from: string, extra: Partial<PeerSpec> = {}): PeerSpec => ({
  address: to.address,
  port: to.port,
  asNumber: as,
  localAddress: from,
  families: ['ipv4', 'ipv6'],
  ...extra,
});

describe('speaker', () => {
  it('eBGP: routes flow with attributes, AS prepended, next hop rewritten; withdrawals propagate', async () => {
    const a = await speaker('10.0.0.1', 65001, '127.0.0.11');
    const b = await speaker('10.0.0.2', 4200000002, '127.0.0.12');
    a.s.setPeers([peer(b, 4200000002, '127.0.0.11')]);
    b.s.setPeers([peer(a, 65001, '127.0.0.12', { passive: true })]);
    a.s.setOriginated([
      { prefix: '10.244.1.0/26', communities: ['65001:100', '65001:200'], largeCommunities: ['65001:1:2'], med: 50 },
      { prefix: '10.244.9.0/26', communities: ['no-export'] },
      { prefix: 'fd00:244:1::/64', nextHop: 'fd00::11' },
    ]);
    const r4 = await until(() => b.s.routes().find((r) => r.prefix === '10.244.1.0/26'));
    assert.deepEqual(r4.asPath, [65001]);
    assert.equal(r4.nextHop, '127.0.0.11');
    assert.deepEqual(r4.communities.sort(), ['65001:100', '65001:200']);
    assert.deepEqual(r4.largeCommunities, ['65001:1:2']);
    assert.equal(r4.med, 50);
    assert.equal(r4.from, '127.0.0.11');
    assert.equal(r4.best, true);
    const r6 = await until(() => b.s.routes().find((r) => r.prefix === 'fd00:244:1::/64'));
    assert.deepEqual(r6.asPath, [65001]);
    const st = b.s.status()[0]!;
    assert.equal(st.state, 'Established');
    assert.equal(st.prefixes.received, 2);
    assert.ok(!b.s.routes().some((r) => r.prefix === '10.244.9.0/26'), 'NO_EXPORT is not sent to an eBGP peer (RFC 1997)');
    a.s.setOriginated([{ prefix: 'fd00:244:1::/64', nextHop: 'fd00::11' }]);
    await until(() => !b.s.routes().some((r) => r.prefix === '10.244.1.0/26'));
    assert.equal(b.s.routes().length, 1);
  });

  it('iBGP: no re-advertisement between non-clients; a reflector reflects to its clients with ORIGINATOR_ID', async () => {
    const rr = await speaker('10.0.0.1', 64512, '127.0.0.21');
    const c1 = await speaker('10.0.0.2', 64512, '127.0.0.22');
    const c2 = await speaker('10.0.0.3', 64512, '127.0.0.23');
    rr.s.setPeers([
      peer(c1, 64512, '127.0.0.21', { routeReflectorClient: true, passive: true }),
      peer(c2, 64512, '127.0.0.21', { routeReflectorClient: true, passive: true }),
    ]);
    c1.s.setPeers([peer(rr, 64512, '127.0.0.22')]);
    c2.s.setPeers([peer(rr, 64512, '127.0.0.23')]);
    c1.s.setOriginated([{ prefix: '10.244.2.0/26' }]);
    const seen = await until(() => c2.s.routes().find((r) => r.prefix === '10.244.2.0/26'));
    assert.equal(seen.nextHop, '127.0.0.22', 'iBGP reflection keeps the next hop');
    assert.equal(seen.localPref, 100);
    assert.deepEqual(seen.asPath, []);
    // The route does not come back to its originator.
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(c1.s.routes().map((r) => r.from), ['local']);
  });

  it('setPeers is declarative: an unchanged peer is not reset, a removed peer goes away', async () => {
    const a = await speaker('10.0.0.1', 65001, '127.0.0.31');
    const b = await speaker('10.0.0.2', 65002, '127.0.0.32');
    const c = await speaker('10.0.0.3', 65003, '127.0.0.33');
    b.s.setPeers([peer(a, 65001, '127.0.0.32', { passive: true })]);
    c.s.setPeers([peer(a, 65001, '127.0.0.33', { passive: true })]);
    a.s.setPeers([peer(b, 65002, '127.0.0.31')]);
    await until(() => a.s.status()[0]?.established);
    const since = a.s.status()[0]!.since;
    a.s.setPeers([peer(b, 65002, '127.0.0.31'), peer(c, 65003, '127.0.0.31')]);
    await until(() => a.s.status().filter((p) => p.established).length === 2);
    assert.equal(a.s.status().find((p) => p.address === '127.0.0.32')!.since, since, 'the existing session was left alone');
    a.s.setPeers([peer(c, 65003, '127.0.0.31')]);
    await until(() => b.s.status()[0]!.state !== 'Established');
    assert.match(b.s.status()[0]!.lastError ?? '', /notification 6\/3/);
    assert.deepEqual(
      a.s.status().map((p) => p.address),
      ['127.0.0.33'],
    );
  });
});
