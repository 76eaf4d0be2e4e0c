/**
 * Graceful restart, restarting-speaker role (RFC 4724 §4.1): a speaker that comes back with
 * `restarting` sets the R bit, holds its UPDATEs and End-of-RIB until the peers that came back
 * sent theirs (selection deferral), does not wait for peers that stay down, and never waits
 * beyond its deferral cap.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { Speaker, type PeerSpec } from './speaker.js';
import { loopbackSpeakers, until as untilOr } from './testing/loopback.js';

const make = loopbackSpeakers();
const mk = (id: string, as: number, address: string, restarting?: Speaker['options']['restarting']) => make(id, as, address, restarting ? { restarting } : {});
const peer = (to: { port: number; address: string }, as: number, from: string, extra: Partial<PeerSpec> = {}): PeerSpec => ({
  address: to.address,
  port: to.port,
  asNumber: as,
  localAddress: from,
  ...extra,
});
const until = <T>(f: () => T | undefined | false, ms = 8000): Promise<T> => untilOr(f, ms);

describe('graceful restart: the restarting speaker', () => {
  it('sets the R bit and defers its UPDATEs until the peer has sent End-of-RIB', async () => {
    const a = await mk('10.0.0.1', 65001, '127.0.0.61');
    const b = await mk('10.0.0.2', 65002, '127.0.0.62', { graceMs: 300, deferralMs: 10_000 });
    a.s.setOriginated([{ prefix: '10.1.0.0/24' }]);
    b.s.setOriginated([{ prefix: '10.2.0.0/24' }]);
    const ends: number[] = [];
    b.s.on('deferralEnd', () => ends.push(Date.now()));
    assert.equal(b.s.deferringSelection, true);
    a.s.setPeers([peer(b, 65002, '127.0.0.61', { passive: true })]);
    const t0 = Date.now();
    b.s.setPeers([peer(a, 65001, '127.0.0.62')]);
    const st = await until(() => a.s.status()[0]?.established && a.s.status()[0]);
    assert.equal(st.negotiated!.gracefulRestart!.restarting, true, 'R bit set by the restarting speaker');
    // a's route (and End-of-RIB) arrives at b; only then does b send its own route.
    await until(() => b.s.routes().some((r) => r.prefix === '10.1.0.0/24'));
    await until(() => a.s.routes().some((r) => r.prefix === '10.2.0.0/24'));
    assert.equal(ends.length, 1);
    assert.ok(ends[0]! - t0 < 3000, `deferral ended after ${ends[0]! - t0} ms`);
    assert.equal(b.s.deferringSelection, false);
  });

  it('does not wait for a peer that stays down beyond the grace window', async () => {
    const a = await mk('10.0.0.1', 65001, '127.0.0.63');
    const b = await mk('10.0.0.2', 65002, '127.0.0.64', { graceMs: 400, deferralMs: 20_000 });
    b.s.setOriginated([{ prefix: '10.2.0.0/24' }]);
    a.s.setPeers([peer(b, 65002, '127.0.0.63', { passive: true })]);
    const t0 = Date.now();
    // The second peer (127.0.0.65) has nobody listening: b must not wait for it.
    b.s.setPeers([peer(a, 65001, '127.0.0.64'), { address: '127.0.0.65', port: 1, asNumber: 65003, localAddress: '127.0.0.64' }]);
    await until(() => a.s.routes().some((r) => r.prefix === '10.2.0.0/24'));
    const took = Date.now() - t0;
    assert.ok(took < 2500, `routes sent after ${took} ms (grace 400 ms)`);
  });

  it('two restarting speakers waiting for each other are released by the deferral cap', async () => {
    const a = await mk('10.0.0.1', 65001, '127.0.0.66', { graceMs: 200, deferralMs: 1000 });
    const b = await mk('10.0.0.2', 65002, '127.0.0.67', { graceMs: 200, deferralMs: 1000 });
    a.s.setOriginated([{ prefix: '10.1.0.0/24' }]);
    b.s.setOriginated([{ prefix: '10.2.0.0/24' }]);
    const t0 = Date.now();
    a.s.setPeers([peer(b, 65002, '127.0.0.66', { passive: true })]);
    b.s.setPeers([peer(a, 65001, '127.0.0.67')]);
    await until(() => a.s.routes().some((r) => r.prefix === '10.2.0.0/24') && b.s.routes().some((r) => r.prefix === '10.1.0.0/24'));
    const took = Date.now() - t0;
    assert.ok(took >= 900 && took < 3000, `released after ${took} ms (cap 1000 ms)`);
  });

  it('the grace window closes when its timer fires, even if the clock reads a millisecond short', () => {
    // node's timers run on a monotonic millisecond clock and Date.now() on another: a 400 ms timer
    // can fire when Date.now() says 399 ms have passed (about 1 in 50 on this machine). Fake timers
    // and a clock that reads exactly that make it deterministic: the deferral must end at the grace
    // timer, not at the 20 s cap, when the only peer is still down.
    let now = 1_000_000;
    const timers = new Map<number, { fn: () => void; ms: number }>();
    let next = 1;
    const s = new Speaker({
      routerId: '10.0.0.2',
      asNumber: 65002,
      listen: false,
      restarting: { graceMs: 400, deferralMs: 20_000 },
      deps: {
        // A connection that never completes (nobody answers): the peer stays down.
        connect: () => Object.assign(new EventEmitter(), { destroyed: false, destroy() {}, setNoDelay() {}, write: () => true }) as never,
        setTimer: (fn, ms) => {
          timers.set(next, { fn, ms });
          return next++;
        },
        clearTimer: (h) => void timers.delete(h as number),
        now: () => now,
        listen: async () => ({ close() {}, port: 0 }),
      },
    });
    make.track(s);
    const ends: string[] = [];
    s.on('deferralEnd', (why: string) => ends.push(why));
    s.setPeers([{ address: '127.0.0.65', port: 1, asNumber: 65003 }]);
    assert.equal(s.deferringSelection, true);
    const grace = [...timers].find(([, t]) => t.ms === 400);
    assert.ok(grace, 'a grace timer of 400 ms');
    now += 399; // the timer fires; the clock is a millisecond behind it
    timers.delete(grace[0]);
    grace[1].fn();
    assert.equal(s.deferringSelection, false, 'deferral over once the grace window has passed');
    assert.deepEqual(ends, ['End-of-RIB from every peer']);
  });
});
