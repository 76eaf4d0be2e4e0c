/**
 * Changing a peer's import or export policy reconfigures it in place, as BIRD does on
 * `configure`: no session reset; the export side sends only the difference, the import side asks
 * the peer to re-send (ROUTE-REFRESH) and filters again. Peers with equal policies share one
 * compiled policy (and so one update group).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { PeerSpec } from './speaker.js';
import type { Speaker } from './speaker.js';
import type { PolicyDefinition } from './policy.js';
import { loopbackSpeakers, until } from './testing/loopback.js';

const speaker = loopbackSpeakers();
const rejectOne = (cidr: string): PolicyDefinition => ({ rules: [{ match: { prefix: { cidr, exact: true } }, action: 'reject' }], defaultAction: 'accept' });
const prefixes = (s: Speaker) => s.routes().map((r) => r.prefix).sort();

describe('speaker: policy changes without session resets', () => {
  it('a new export policy withdraws what it refuses and sends what it now accepts; the session stays up', async () => {
    const a = await speaker('10.0.0.1', 64512, '127.0.0.41');
    const b = await speaker('10.0.0.2', 64512, '127.0.0.42');
    const toB = (exp?: PolicyDefinition): PeerSpec => ({ address: b.address, port: b.port, asNumber: 64512, localAddress: a.address, ...(exp ? { export: exp } : {}) });
    a.s.setPeers([toB(rejectOne('10.244.2.0/26'))]);
    b.s.setPeers([{ address: a.address, port: a.port, asNumber: 64512, localAddress: b.address, passive: true }]);
    a.s.setOriginated([{ prefix: '10.244.1.0/26' }, { prefix: '10.244.2.0/26' }, { prefix: '10.244.3.0/26' }]);
    await until(() => prefixes(b.s).length === 2);
    assert.deepEqual(prefixes(b.s), ['10.244.1.0/26', '10.244.3.0/26']);
    const since = b.s.status()[0]!.since;
    const aSince = a.s.status()[0]!.since;

    a.s.setPeers([toB(rejectOne('10.244.3.0/26'))]);
    await until(() => prefixes(b.s).join() === '10.244.1.0/26,10.244.2.0/26');
    assert.equal(b.s.status()[0]!.state, 'Established');
    assert.equal(b.s.status()[0]!.since, since, 'the session was not reset');
    assert.equal(a.s.status()[0]!.since, aSince);

    a.s.setPeers([toB()]);
    await until(() => prefixes(b.s).length === 3);
    assert.equal(b.s.status()[0]!.since, since);
  });

  it('a new import policy re-filters the routes the peer re-sends on ROUTE-REFRESH; the session stays up', async () => {
    const a = await speaker('10.0.0.1', 64512, '127.0.0.43');
    const b = await speaker('10.0.0.2', 64512, '127.0.0.44');
    a.s.setPeers([{ address: b.address, port: b.port, asNumber: 64512, localAddress: a.address }]);
    const fromA = (imp?: PolicyDefinition): PeerSpec => ({ address: a.address, port: a.port, asNumber: 64512, localAddress: b.address, passive: true, ...(imp ? { import: imp } : {}) });
    b.s.setPeers([fromA()]);
    a.s.setOriginated([{ prefix: '10.244.1.0/26' }, { prefix: '10.244.2.0/26' }]);
    await until(() => prefixes(b.s).length === 2);
    const since = b.s.status()[0]!.since;
    b.s.setPeers([fromA(rejectOne('10.244.1.0/26'))]);
    await until(() => prefixes(b.s).join() === '10.244.2.0/26');
    b.s.setPeers([fromA()]);
    await until(() => prefixes(b.s).length === 2);
    assert.equal(b.s.status()[0]!.since, since, 'the session was not reset');
  });

  it('any other change still resets the session (Cease / Other Configuration Change)', async () => {
    const a = await speaker('10.0.0.1', 64512, '127.0.0.45');
    const b = await speaker('10.0.0.2', 64512, '127.0.0.46');
    const toB = (hold: number): PeerSpec => ({ address: b.address, port: b.port, asNumber: 64512, localAddress: a.address, holdTime: hold });
    a.s.setPeers([toB(90)]);
    b.s.setPeers([{ address: a.address, port: a.port, asNumber: 64512, localAddress: b.address, passive: true }]);
    await until(() => b.s.status()[0]!.state === 'Established');
    const since = b.s.status()[0]!.since;
    await new Promise((r) => setTimeout(r, 20));
    a.s.setPeers([toB(30)]);
    await until(() => b.s.status()[0]!.state === 'Established' && b.s.status()[0]!.since !== since);
  });

  it('peers with equal export policies share one update group', async () => {
    const a = await speaker('10.0.0.1', 64512, '127.0.0.47');
    const b = await speaker('10.0.0.2', 64512, '127.0.0.48');
    const c = await speaker('10.0.0.3', 64512, '127.0.0.49');
    const exp = rejectOne('10.244.9.0/26');
    a.s.setPeers([
      { address: b.address, port: b.port, asNumber: 64512, localAddress: a.address, export: exp },
      { address: c.address, port: c.port, asNumber: 64512, localAddress: a.address, export: structuredClone(exp) },
    ]);
    for (const x of [b, c]) x.s.setPeers([{ address: a.address, port: a.port, asNumber: 64512, localAddress: x.address, passive: true }]);
    a.s.setOriginated([{ prefix: '10.244.1.0/26' }]);
    await until(() => prefixes(b.s).length === 1 && prefixes(c.s).length === 1);
    const keys = [...(a.s as unknown as { peers: Map<string, { index: number }> }).peers.values()].map((e) => a.s.rib.groupOf(e.index, 'ipv4')?.key);
    assert.equal(keys.length, 2);
    assert.equal(keys[0], keys[1]);
  });
});
