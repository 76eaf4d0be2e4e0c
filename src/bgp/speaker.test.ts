/**
 * Two (and three) tortie speakers over loopback: routes flow with their attributes, withdrawals
 * propagate, eBGP prepends and rewrites the next hop, iBGP split horizon and reflection hold,
 * and the declarative edges converge without resetting unchanged sessions. Raw peers built with
 * the codec play what the interop tests (test/integration/bgp-interop-*) found real daemons do:
 * graceful restart helper cases, enhanced route refresh, late joiners of an update group.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Speaker, type BestEvent, type PeerSpec } from './speaker.js';
import { encodeEndOfRib, encodeKeepalive, encodeOpen, encodeRouteRefresh, encodeUpdates, Framer, type Capability } from './wire/index.js';
import { p4 } from './types.js';
import { v4Parse } from '../net/index.js';
import { loopbackSpeakers, until } from './testing/loopback.js';

const speaker = loopbackSpeakers();


const peer = (to: { port: number; address: string }, as: number, from: string, extra: Partial<PeerSpec> = {}): PeerSpec => ({
  address: to.address,
  port: to.port,
  asNumber: as,
  localAddress: from,
  families: ['ipv4', 'ipv6'],
  ...extra,
});

/** A reflector on 127.0.0.<first> (AS 64512) and two clients on the next two addresses, sessions configured. */
async function reflectorWithTwoClients(first: number) {
  const [ra, ca, cb] = [0, 1, 2].map((i) => `127.0.0.${first + i}`) as [string, string, string];
  const rr = await speaker('10.0.0.1', 64512, ra);
  const c1 = await speaker('10.0.0.2', 64512, ca);
  const c2 = await speaker('10.0.0.3', 64512, cb);
  rr.s.setPeers([peer(c1, 64512, ra, { routeReflectorClient: true, passive: true }), peer(c2, 64512, ra, { routeReflectorClient: true, passive: true })]);
  c1.s.setPeers([peer(rr, 64512, ca)]);
  c2.s.setPeers([peer(rr, 64512, cb)]);
  return { rr, c1, c2 };
}

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

  it("'best' says when a change is also sent to peers, and the tick that writes it runs before the listeners' immediates", async () => {
    const { rr, c1, c2 } = await reflectorWithTwoClients(27);
    await until(() => rr.s.status().filter((p) => p.state === 'Established').length === 2 && c1.s.status()[0]?.state === 'Established' && c2.s.status()[0]?.state === 'Established');
    // What the reflector has written to c2 when an immediate queued by a 'best' listener runs.
    const advertisedTo = (s: Speaker, address: string) => s.status().find((p) => p.address === address)?.prefixes.advertised;
    const atRr: { ev: BestEvent; written: number | undefined }[] = [];
    rr.s.on('best', (ev: BestEvent) => setImmediate(() => atRr.push({ ev, written: advertisedTo(rr.s, c2.address) })));
    const atC2: BestEvent[] = [];
    c2.s.on('best', (ev: BestEvent) => atC2.push(ev));
    const atC1: BestEvent[] = [];
    c1.s.on('best', (ev: BestEvent) => atC1.push(ev));
    c1.s.setOriginated([{ prefix: '10.244.27.0/26' }]);
    const reflected = await until(() => atRr.find((x) => x.ev.prefix === '10.244.27.0/26'));
    assert.equal(reflected.ev.sent, true, 'a reflected route is sent on');
    assert.equal(reflected.written, 1, "the UPDATE to c2 was written before the listener's immediate ran");
    assert.equal(atC1.find((e) => e.prefix === '10.244.27.0/26')?.sent, true, 'our own route is sent');
    const heard = await until(() => atC2.find((e) => e.prefix === '10.244.27.0/26'));
    assert.equal(heard.sent, undefined, 'a client sends what it hears nowhere');
    c1.s.setOriginated([]);
    const gone = await until(() => atRr.find((x) => x.ev.prefix === '10.244.27.0/26' && x.ev.kind === 'withdrawn'));
    assert.equal(gone.ev.sent, true, 'the withdrawal is sent on too');
    await until(() => atC2.find((e) => e.prefix === '10.244.27.0/26' && e.kind === 'withdrawn'));
    assert.equal(atC2.find((e) => e.kind === 'withdrawn')?.sent, undefined);
  });

  it('iBGP: no re-advertisement between non-clients; a reflector reflects to its clients with ORIGINATOR_ID', async () => {
    const { c1, c2 } = await reflectorWithTwoClients(21);
    c1.s.setOriginated([{ prefix: '10.244.2.0/26' }]);
    const seen = await until(() => c2.s.routes().find((r) => r.prefix === '10.244.2.0/26'));
    assert.equal(seen.nextHop, '127.0.0.22', 'iBGP reflection keeps the next hop');
    assert.equal(seen.localPref, 100);
    assert.deepEqual(seen.asPath, []);
    // The route does not come back to its originator.
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(c1.s.routes().map((r) => r.from), ['local']);
  });

  it('a reflector client that has nothing to send back is not kicked for each route it hears', async () => {
    const { c1, c2 } = await reflectorWithTwoClients(24);
    c1.s.setOriginated([{ prefix: '10.244.3.0/26' }]);
    await until(() => c2.s.routes().find((r) => r.prefix === '10.244.3.0/26'));
    // c2's session to the reflector, counted from here on.
    const entries = [...(c2.s as unknown as { peers: Map<string, { session: { kick(): void } }> }).peers.values()];
    assert.equal(entries.length, 1);
    const session = entries[0]!.session;
    let kicks = 0;
    const kick = session.kick.bind(session);
    session.kick = () => {
      kicks++;
      kick();
    };
    const prefixes = Array.from({ length: 20 }, (_, i) => `10.244.${10 + i}.0/26`);
    c1.s.setOriginated(prefixes.map((prefix) => ({ prefix })));
    await until(() => prefixes.every((p) => c2.s.routes().some((r) => r.prefix === p)) && !c2.s.routes().some((r) => r.prefix === '10.244.3.0/26'));
    assert.equal(kicks, 0, 'nothing queued, nothing pending, End-of-RIB sent: no kick');
    // It still sends what it has when it has something.
    c2.s.setOriginated([{ prefix: '10.244.99.0/26' }]);
    await until(() => c1.s.routes().find((r) => r.prefix === '10.244.99.0/26'));
    assert.ok(kicks > 0);
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

  it('graceful restart, helper: a peer that restarts keeps its routes (stale) until its End-of-RIB, with no withdrawal', async () => {
    // Regression: the speaker read the negotiated GR capability from the FSM after the FSM had
    // already dropped it on the way to Idle, so the routes were always withdrawn at once.
    const a = await speaker('10.0.0.1', 65001, '127.0.0.41');
    const b = await speaker('10.0.0.2', 65002, '127.0.0.42');
    const gr = { restartTime: 30 };
    a.s.setPeers([peer(b, 65002, '127.0.0.41', { passive: true, gracefulRestart: gr })]);
    b.s.setPeers([peer(a, 65001, '127.0.0.42', { gracefulRestart: gr })]);
    a.s.setOriginated([{ prefix: '10.244.4.0/26' }]);
    await until(() => b.s.routes().find((r) => r.prefix === '10.244.4.0/26'));
    const events: BestEvent[] = [];
    b.s.on('best', (e: BestEvent) => events.push(e));
    await a.s.close({ graceful: true });
    await until(() => b.s.status()[0]!.state !== 'Established');
    await new Promise((r) => setTimeout(r, 50));
    const stale = b.s.routes().find((r) => r.prefix === '10.244.4.0/26');
    assert.ok(stale, 'kept while the peer restarts');
    assert.equal(stale.stale, true);
    // The peer comes back with the same config (and without one of its routes).
    const a2 = new Speaker({ routerId: '10.0.0.1', asNumber: 65001, listen: { address: a.address, port: a.port } });
    speaker.track(a2);
    await a2.start();
    a2.setOriginated([{ prefix: '10.244.4.0/26' }]);
    a2.setPeers([peer(b, 65002, '127.0.0.41', { passive: true, gracefulRestart: gr })]);
    await until(() => b.s.routes().find((r) => r.prefix === '10.244.4.0/26' && !r.stale), 8000);
    assert.deepEqual(events.filter((e) => e.kind === 'withdrawn'), [], 'no withdrawal during the restart');
  });

  it('graceful restart, helper: routes of a GR-aware peer that preserves no family are dropped at once (RFC 4724 §4.2)', async () => {
    // A raw peer whose OPEN has the graceful-restart capability with no address family in it
    // (BIRD's default "graceful restart aware"), announces one route, then its TCP session dies.
    const b = await speaker('10.0.0.2', 65002, '127.0.0.52');
    const raw = net.createServer((sock) => {
      const framer = new Framer();
      sock.on('data', (chunk: Buffer) => {
        framer.push(chunk);
        for (let m = framer.next(); m; m = framer.next()) {
          if (m[18] !== 1) continue; // answer the OPEN
          const caps: Capability[] = [
            { kind: 'multiprotocol', afi: 1, safi: 1 },
            { kind: 'graceful-restart', restarting: false, notification: false, restartTime: 120, families: [] },
            { kind: 'four-octet-as', asn: 65001 },
          ];
          sock.write(encodeOpen({ myAs: 65001, holdTime: 90, routerId: '10.0.0.1', capabilities: caps }));
          sock.write(encodeKeepalive());
          const ctx = { fourOctetAs: true, extendedMessage: false, ebgp: true };
          for (const u of encodeUpdates({ origin: 0, asPath: [{ type: 2, asns: [65001] }], nextHop: '127.0.0.51' }, { v4: [p4(v4Parse('10.244.5.0'), 26)] }, ctx)) sock.write(u);
          sock.write(encodeEndOfRib('ipv4'));
          setTimeout(() => sock.destroy(), 200);
        }
      });
    });
    await new Promise<void>((r) => raw.listen(0, '127.0.0.51', r));
    const port = (raw.address() as net.AddressInfo).port;
    try {
      b.s.setPeers([{ address: '127.0.0.51', port, asNumber: 65001, localAddress: '127.0.0.52', gracefulRestart: { restartTime: 30 } }]);
      await until(() => b.s.routes().find((r) => r.prefix === '10.244.5.0/26'));
      await until(() => b.s.status()[0]!.state !== 'Established');
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(b.s.routes().find((r) => r.prefix === '10.244.5.0/26'), undefined, 'not kept: the peer preserves no family');
    } finally {
      b.s.setPeers([]);
      raw.close();
    }
  });

  it('enhanced route refresh: a peer\'s ROUTE-REFRESH is answered with BoRR, the routes, then EoRR (RFC 7313 §4)', async () => {
    const a = await speaker('10.0.0.1', 65001, '127.0.0.61');
    a.s.setOriginated([{ prefix: '10.244.6.0/26' }]);
    const received: Buffer[] = [];
    let refreshAt = -1;
    const raw = net.createServer((sock) => {
      const framer = new Framer();
      sock.on('data', (chunk: Buffer) => {
        framer.push(chunk);
        for (let m = framer.next(); m; m = framer.next()) {
          received.push(m);
          if (m[18] === 1) {
            const caps: Capability[] = [
              { kind: 'multiprotocol', afi: 1, safi: 1 },
              { kind: 'route-refresh' },
              { kind: 'enhanced-route-refresh' },
              { kind: 'four-octet-as', asn: 65002 },
            ];
            sock.write(encodeOpen({ myAs: 65002, holdTime: 90, routerId: '10.0.0.2', capabilities: caps }));
            sock.write(encodeKeepalive());
          } else if (m[18] === 2 && m.length === 23 && refreshAt < 0) {
            // The initial End-of-RIB: ask for the table again.
            refreshAt = received.length;
            sock.write(encodeRouteRefresh('ipv4', 0));
          }
        }
      });
    });
    await new Promise<void>((r) => raw.listen(0, '127.0.0.62', r));
    const port = (raw.address() as net.AddressInfo).port;
    try {
      a.s.setPeers([{ address: '127.0.0.62', port, asNumber: 65002, localAddress: '127.0.0.61' }]);
      const kinds = () =>
        received.slice(refreshAt).filter((m) => m[18] !== 4).map((m) => (m[18] === 5 ? `RR${m[21]}` : m.length === 23 ? 'EoR' : 'UPDATE'));
      await until(() => refreshAt >= 0 && kinds().includes('RR2'), 3000).catch(() => undefined);
      assert.deepEqual(kinds(), ['RR1', 'UPDATE', 'RR2']);
    } finally {
      a.s.setPeers([]);
      raw.close();
    }
  });

  it('graceful restart, helper: stale routes go at once when the restarted peer did not preserve forwarding (F bit, RFC 4724 §4.2)', async () => {
    const b = await speaker('10.0.0.2', 65002, '127.0.0.72');
    const ctx = { fourOctetAs: true, extendedMessage: false, ebgp: true };
    let connections = 0;
    const raw = net.createServer((sock) => {
      const n = connections++;
      const framer = new Framer();
      sock.on('data', (chunk: Buffer) => {
        framer.push(chunk);
        for (let m = framer.next(); m; m = framer.next()) {
          if (m[18] !== 1) continue;
          // First session: forwarding preserved for IPv4. After the "restart": R bit, F bit clear.
          const gr: Capability = { kind: 'graceful-restart', restarting: n > 0, notification: false, restartTime: 30, families: [{ afi: 1, safi: 1, forwardingPreserved: n === 0 }] };
          sock.write(encodeOpen({ myAs: 65001, holdTime: 90, routerId: '10.0.0.1', capabilities: [{ kind: 'multiprotocol', afi: 1, safi: 1 }, gr, { kind: 'four-octet-as', asn: 65001 }] }));
          sock.write(encodeKeepalive());
          if (n === 0) {
            for (const u of encodeUpdates({ origin: 0, asPath: [{ type: 2, asns: [65001] }], nextHop: '127.0.0.71' }, { v4: [p4(v4Parse('10.244.7.0'), 26)] }, ctx)) sock.write(u);
            sock.write(encodeEndOfRib('ipv4'));
            setTimeout(() => sock.destroy(), 200);
          }
        }
      });
    });
    await new Promise<void>((r) => raw.listen(0, '127.0.0.71', r));
    const port = (raw.address() as net.AddressInfo).port;
    try {
      b.s.setPeers([{ address: '127.0.0.71', port, asNumber: 65001, localAddress: '127.0.0.72', gracefulRestart: { restartTime: 30 } }]);
      await until(() => b.s.routes().find((r) => r.prefix === '10.244.7.0/26'));
      await until(() => connections === 1 && b.s.status()[0]!.state !== 'Established');
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(b.s.routes().find((r) => r.prefix === '10.244.7.0/26')?.stale, true, 'kept while the peer restarts');
      await until(() => connections === 2 && b.s.status()[0]!.state === 'Established', 5000);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(b.s.routes().find((r) => r.prefix === '10.244.7.0/26'), undefined, 'gone: the peer did not preserve forwarding');
    } finally {
      b.s.setPeers([]);
      raw.close();
    }
  });

  it('a peer that joins an update group after the table went out gets the table too', async () => {
    // Found by test/integration/bgp-interop-rr.test.ts: the 2nd and 3rd route-reflector clients never got the
    // reflector's own routes. Draining a late joiner's subgroup merges it into the main group, which took its
    // members before the speaker queued the batches to them.
    const a = await speaker('10.0.0.1', 65001, '127.0.0.81');
    const b = await speaker('10.0.0.2', 65002, '127.0.0.82');
    const c = await speaker('10.0.0.3', 65002, '127.0.0.83');
    a.s.setOriginated([{ prefix: '10.244.8.0/26' }]);
    // b and c: same session type, AS and local address on a, so one update group.
    a.s.setPeers([peer(b, 65002, '127.0.0.81', { passive: true }), peer(c, 65002, '127.0.0.81', { passive: true })]);
    b.s.setPeers([peer(a, 65001, '127.0.0.82')]);
    await until(() => b.s.routes().find((r) => r.prefix === '10.244.8.0/26'));
    c.s.setPeers([peer(a, 65001, '127.0.0.83')]);
    await until(() => c.s.status()[0]?.established);
    await until(() => c.s.routes().find((r) => r.prefix === '10.244.8.0/26'), 3000).catch(() => undefined);
    assert.ok(c.s.routes().find((r) => r.prefix === '10.244.8.0/26'), 'the late joiner has the table');
  });

  it('refresh(peer, family?) sends ROUTE-REFRESH for the negotiated families; the peer re-sends, nothing is lost', async () => {
    const a = await speaker('10.0.0.1', 65001, '127.0.0.91');
    const b = await speaker('10.0.0.2', 65002, '127.0.0.92');
    a.s.setPeers([peer(b, 65002, '127.0.0.91', { passive: true })]);
    b.s.setPeers([peer(a, 65001, '127.0.0.92')]);
    a.s.setOriginated([{ prefix: '10.244.9.0/26' }, { prefix: 'fd00:244:9::/64', nextHop: 'fd00::91' }]);
    await until(() => b.s.routes().length === 2);
    const events: BestEvent[] = [];
    b.s.on('best', (e: BestEvent) => events.push(e));
    assert.deepEqual(b.s.refresh('127.0.0.99'), [], 'unknown peer');
    assert.deepEqual(b.s.refresh('127.0.0.91', 'ipv6'), ['ipv6']);
    assert.deepEqual(b.s.refresh('::ffff:127.0.0.91'), ['ipv4', 'ipv6']);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(b.s.routes().length, 2);
    assert.deepEqual(events.filter((e) => e.kind === 'withdrawn'), []);
  });
});
