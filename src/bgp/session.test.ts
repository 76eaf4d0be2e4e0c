/**
 * Two session drivers talking over real TCP on loopback: establishment in both directions,
 * the NOTIFICATION on stop, reconnection after the peer comes back, and hold-timer expiry.
 */
import { describe, it, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Session, type SessionDeps, type SessionHandlers, type DownInfo } from './session.js';
import type { FsmConfig } from './fsm-types.js';
import type { Negotiated } from './types.js';

const realDeps: SessionDeps = {
  connect: (o) => net.connect({ host: o.host, port: o.port, ...(o.localAddress ? { localAddress: o.localAddress } : {}) }),
  setTimer: (fn, ms) => setTimeout(fn, ms),
  clearTimer: (h) => clearTimeout(h as NodeJS.Timeout),
  now: () => Date.now(),
};

interface Side {
  session: Session;
  server?: net.Server;
  port: number;
  events: string[];
  downs: DownInfo[];
  negotiated?: Negotiated;
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** realDeps with Timeout.refresh, counting how timers are made and re-armed. */
function refreshingDeps() {
  const n = { set: 0, refresh: 0 };
  const deps: SessionDeps = {
    ...realDeps,
    setTimer: (fn, ms) => (n.set++, setTimeout(fn, ms)),
    refreshTimer: (h) => void (n.refresh++, (h as NodeJS.Timeout).refresh()),
  };
  return { deps, n };
}

async function side(opts: { as: number; id: string; peerAs: number; peerPort: () => number; passive?: boolean; holdTime?: number; deps?: SessionDeps }): Promise<Side> {
  const fsm: FsmConfig = { localAs: opts.as, routerId: opts.id, peerAs: opts.peerAs, holdTime: opts.holdTime ?? 9, passive: !!opts.passive };
  const s: Partial<Side> = { events: [], downs: [] };
  const handlers: SessionHandlers = {
    established: (_x, n) => {
      s.negotiated = n;
      s.events!.push('established');
    },
    down: (_x, info) => {
      s.downs!.push(info);
      s.events!.push(`down:${info.reason}`);
    },
    update: () => {},
    routeRefresh: () => {},
    pull: () => [],
  };
  const server = net.createServer((sock) => {
    if (!s.session!.acceptIncoming(sock)) sock.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  s.server = server;
  s.port = port;
  s.session = new Session(
    {
      address: '127.0.0.1',
      get port() {
        return opts.peerPort();
      },
      fsm,
      seed: opts.as,
    } as never,
    opts.deps ?? realDeps,
    handlers,
  );
  cleanups.push(() => {
    s.session!.abandon();
    server.close();
  });
  return s as Side;
}

async function until(pred: () => boolean, ms = 5000): Promise<number> {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > ms) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
  return Date.now() - t0;
}

describe('session driver over loopback TCP', () => {
  it('reaches Established with negotiated capabilities (one active, one passive)', async () => {
    let bPort = 0;
    let aPort = 0;
    const a = await side({ as: 65001, id: '1.1.1.1', peerAs: 4200000002, peerPort: () => bPort });
    const b = await side({ as: 4200000002, id: '2.2.2.2', peerAs: 65001, peerPort: () => aPort, passive: true, holdTime: 6 });
    aPort = a.port;
    bPort = b.port;
    b.session.start();
    a.session.start();
    await until(() => a.session.state === 'Established' && b.session.state === 'Established');
    assert.equal(a.negotiated!.holdTime, 6);
    assert.equal(a.negotiated!.keepaliveTime, 2);
    assert.equal(a.negotiated!.peerAs, 4200000002);
    assert.equal(a.negotiated!.fourOctetAs, true);
    assert.equal(b.negotiated!.peerRouterId, '1.1.1.1');
  });

  it('stop sends Cease/Administrative Shutdown; the peer reconnects within 2 s once the side comes back', async () => {
    let bPort = 0;
    let aPort = 0;
    const a = await side({ as: 65001, id: '1.1.1.1', peerAs: 65002, peerPort: () => bPort });
    const b = await side({ as: 65002, id: '2.2.2.2', peerAs: 65001, peerPort: () => aPort });
    aPort = a.port;
    bPort = b.port;
    a.session.start();
    b.session.start();
    await until(() => a.session.state === 'Established' && b.session.state === 'Established');
    b.session.stop({ message: 'maintenance' });
    await until(() => a.downs.length > 0);
    assert.equal(a.downs[0]!.reason, 'notificationReceived');
    assert.deepEqual([a.downs[0]!.notification!.code, a.downs[0]!.notification!.subcode], [6, 2]);
    assert.equal(a.downs[0]!.message, 'maintenance');
    // b comes back: a (still started) must be Established again quickly.
    b.session.start();
    const took = await until(() => a.session.state === 'Established' && b.session.state === 'Established', 5000);
    assert.ok(took < 2000, `re-established after ${took} ms`);
  });

  it('with refreshTimer, no timer is made per message: the keepalive timer is refreshed when it fires, the hold timer left running', async () => {
    let bPort = 0;
    let aPort = 0;
    const { deps, n } = refreshingDeps();
    const a = await side({ as: 65001, id: '1.1.1.1', peerAs: 65002, peerPort: () => bPort, holdTime: 3, deps });
    const b = await side({ as: 65002, id: '2.2.2.2', peerAs: 65001, peerPort: () => aPort, passive: true, holdTime: 3 });
    aPort = a.port;
    bPort = b.port;
    b.session.start();
    a.session.start();
    await until(() => a.session.state === 'Established' && b.session.state === 'Established');
    const made = n.set;
    await new Promise((r) => setTimeout(r, 2500)); // keepalives every second, both ways
    assert.equal(a.session.state, 'Established');
    assert.equal(n.set, made, 'no new timer');
    // Keepalives every second: ours fired twice (refreshed each time); the peer's restarted our hold timer
    // without touching it (session-timers.test.ts has the details on a fake clock).
    assert.ok(n.refresh >= 1 && n.refresh <= 3, `refreshed ${n.refresh} times`);
  });

  it('hold timer expiry when the peer stops sending (frozen), also with refreshed timers', async () => {
    let bPort = 0;
    let aPort = 0;
    const a = await side({ as: 65001, id: '1.1.1.1', peerAs: 65002, peerPort: () => bPort, holdTime: 3, deps: refreshingDeps().deps });
    // b is a raw TCP peer that answers OPEN/KEEPALIVE once, then goes silent (as if SIGSTOPped).
    const frozen = net.createServer((sock) => {
      sock.once('data', () => {
        const openB = Buffer.from(
          'ffffffffffffffffffffffffffffffff' + '001d' + '01' + '04' + 'fdea' + '0003' + '02020202' + '00',
          'hex',
        );
        sock.write(openB);
        sock.write(Buffer.from('ffffffffffffffffffffffffffffffff001304', 'hex'));
      });
    });
    await new Promise<void>((r) => frozen.listen(0, '127.0.0.1', r));
    bPort = (frozen.address() as net.AddressInfo).port;
    cleanups.push(() => frozen.close());
    void aPort;
    a.session.start();
    await until(() => a.session.state === 'Established');
    const took = await until(() => a.downs.length > 0, 6000);
    assert.equal(a.downs[0]!.reason, 'holdTimerExpired');
    assert.deepEqual([a.downs[0]!.notification!.code, a.downs[0]!.notification!.subcode], [4, 0]);
    assert.ok(took >= 2500 && took < 4500, `hold timer fired after ${took} ms`);
  });
});
