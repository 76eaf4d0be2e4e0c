/**
 * Connection collisions through the session driver (RFC 4271 §6.8), with fake sockets and timers:
 * whatever the order of events, exactly one connection survives a collision, and the peer's FSM is
 * never left finished (Idle, not started) while the peer is configured — if the connection that
 * survived fails in turn, the session goes on connecting after a short back-off.
 *
 * The first case is the one seen against BIRD 2 in the route-reflection interop test: both sides
 * connect at once, the session comes up on one connection while the peer's OPEN is still on its way
 * on the other, both sides have graceful restart. tortie took the late OPEN for a restart of the
 * peer and dumped its Established session (lastError "collision: notification 6/7", sent by us),
 * BIRD dumped the other connection (its side of the first one was Established), and the session
 * stayed Idle for good: the dumped FSM was still the session's, refusing BIRD's connections and
 * never reconnecting.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Session, wireOpen, type SessionDeps, type SocketLike } from './session.js';
import { localOpen } from './fsm-open.js';
import type { FsmConfig, GracefulRestartCapability } from './fsm-types.js';
import { encodeKeepalive, encodeNotification, encodeOpen } from './wire/index.js';
import { FakeSocket } from './testing/fake-socket.js';

const GR: GracefulRestartCapability = { restartTime: 120, restarting: false, notification: true, families: [{ family: 'ipv4', forwardingPreserved: true }] };
const US = '10.230.0.1';

function config(routerId: string, gr: boolean): FsmConfig {
  return { localAs: 65000, routerId, peerAs: 65000, holdTime: 9, capabilities: { families: ['ipv4'], ...(gr ? { gracefulRestart: GR } : {}) } };
}
/** The peer's OPEN as it would send it. */
function peerOpen(routerId: string, gr = true): Buffer {
  const c = config(routerId, gr);
  return encodeOpen(wireOpen(localOpen(c), c));
}
const KEEPALIVE = encodeKeepalive();
const CEASE_COLLISION = encodeNotification({ code: 6, subcode: 7 });

/** One session with fake sockets and timers; the peer's side is played by the test. */
class Rig {
  readonly timers = new Map<number, { fn: () => void; ms: number }>();
  readonly outgoing: FakeSocket[] = [];
  readonly events: string[] = [];
  readonly session: Session;
  private next = 1;

  constructor(gr = true) {
    const deps: SessionDeps = {
      connect: () => {
        const s = new FakeSocket('10.230.0.2', US);
        this.outgoing.push(s);
        return s as unknown as SocketLike;
      },
      setTimer: (fn, ms) => {
        this.timers.set(this.next, { fn, ms });
        return this.next++;
      },
      clearTimer: (h) => void this.timers.delete(h as number),
      now: () => 0,
    };
    this.session = new Session({ address: '10.230.0.2', port: 179, fsm: config(US, gr), seed: 7 }, deps, {
      established: () => this.events.push('established'),
      down: (_s, info) => this.events.push(`down:${info.reason}${info.notification ? `:${info.notification.code}/${info.notification.subcode}` : ''}`),
      update: () => {},
      routeRefresh: () => {},
      pull: () => [],
    });
  }

  /** Our connection attempt completes. */
  connected(s: FakeSocket): void {
    s.emit('connect');
  }

  /** The peer connects to us (the speaker's listener matched its address). */
  accept(): FakeSocket | undefined {
    const s = new FakeSocket('10.230.0.2', US);
    return this.session.acceptIncoming(s as unknown as SocketLike) ? s : undefined;
  }

  /** The peer's side of `s` goes away (FIN/RST). */
  peerCloses(s: FakeSocket): void {
    if (s.destroyed) return;
    s.destroyed = true;
    s.emit('close', false);
  }

  /** Fires the back-off timers (<= 1.5 s; never hold or keepalive timers) due first; returns the delay waited. */
  fireBackoff(): number {
    const due = [...this.timers].filter(([, t]) => t.ms <= 1500);
    if (due.length === 0) return 0;
    const ms = Math.min(...due.map(([, t]) => t.ms));
    for (const [h, t] of due) {
      if (t.ms !== ms || !this.timers.delete(h)) continue;
      t.fn();
    }
    return ms;
  }

  /** NOTIFICATIONs we wrote on `s`, as code/subcode. */
  static notifications(s: FakeSocket): string[] {
    return s.messages().filter((m) => m[18] === 3).map((m) => `${m[19]}/${m[20]}`);
  }

  /** Sockets we still hold open (not closed by us, not by the peer). */
  static open(...ss: (FakeSocket | undefined)[]): number {
    return ss.filter((s) => s && !s.destroyed && !s.ended).length;
  }
}

const flush = () => new Promise((r) => setImmediate(r));

/** The session must come back: within `budgetMs` of back-off it connects (or accepts) and reaches Established. */
async function recovers(rig: Rig, peerId: string, budgetMs = 2000): Promise<void> {
  await flush();
  let waited = 0;
  const before = rig.outgoing.length;
  while (rig.outgoing.length === before) {
    const ms = rig.fireBackoff();
    assert.ok(ms > 0, `no back-off timer running: the session is ${rig.session.state} for good (${JSON.stringify(rig.session.fsmState)})`);
    waited += ms;
    assert.ok(waited <= budgetMs, `no new connection attempt after ${waited} ms of back-off`);
  }
  const s = rig.outgoing.at(-1)!;
  rig.connected(s);
  s.emit('data', Buffer.concat([peerOpen(peerId), KEEPALIVE]));
  assert.equal(rig.session.state, 'Established', `re-established after ${waited} ms of back-off`);
}

describe('session: connection collisions', () => {
  it("our own attempt completing after the peer's connection is already Established is dropped: no second connection, no OPEN (seen with BIRD 2)", async () => {
    const rig = new Rig();
    rig.session.start();
    const ours = rig.outgoing[0]!; // our SYN is still on its way
    const theirs = rig.accept()!; // the peer connects first: the FSM in Connect takes it
    assert.ok(theirs);
    theirs.emit('data', Buffer.concat([peerOpen('10.230.0.2'), KEEPALIVE]));
    assert.equal(rig.session.state, 'Established');
    const written = ours.written.length;
    rig.connected(ours); // now our attempt completes
    await flush();
    assert.ok(ours.destroyed, 'our late connection is closed');
    assert.equal(ours.written.length, written, 'no OPEN on it: a GR peer would take it for our restart and drop the session');
    assert.equal(rig.session.state, 'Established');
    assert.ok(!theirs.destroyed, 'the established connection stays');
  });

  it('the session comes up while the peer\'s OPEN is on the other connection: the Established one survives, on both ends (seen with BIRD 2)', async () => {
    const rig = new Rig();
    rig.session.start();
    const a = rig.outgoing[0]!;
    rig.connected(a); // ours completes first: the session's connection
    const b = rig.accept()!; // the peer's: a second connection, our OPEN sent on it
    assert.ok(b);
    a.emit('data', Buffer.concat([peerOpen('10.230.0.2'), KEEPALIVE]));
    assert.equal(rig.session.state, 'Established');
    // The peer's OPEN on the other connection, which predates the session: not a restart of the peer.
    b.emit('data', peerOpen('10.230.0.2'));
    // The peer does the same on its side (its side of `a` is Established too): Cease 6/7 on `b`, then closes it.
    if (!b.ended) b.emit('data', CEASE_COLLISION);
    rig.peerCloses(b);
    await flush();
    assert.equal(rig.session.state, 'Established', `session ${rig.session.state} (${JSON.stringify(rig.session.lastError)})`);
    assert.deepEqual(Rig.notifications(a), [], 'the Established connection was kept');
    assert.deepEqual(Rig.notifications(b), ['6/7'], 'the late connection got Cease/Connection Collision Resolution');
    assert.equal(Rig.open(a, b), 1, 'exactly one connection survives');
    assert.deepEqual(rig.events, ['established']);
  });

  it('the peer restarted (a new connection while Established, graceful restart): the new one wins; if it fails, the session goes on connecting', async () => {
    const rig = new Rig();
    rig.session.start();
    const a = rig.outgoing[0]!;
    rig.connected(a);
    a.emit('data', Buffer.concat([peerOpen('10.230.0.2'), KEEPALIVE]));
    assert.equal(rig.session.state, 'Established');
    const b = rig.accept()!;
    assert.ok(b, 'a second connection while Established');
    b.emit('data', peerOpen('10.230.0.2'));
    assert.deepEqual(Rig.notifications(a), ['6/7'], 'the old session is dumped (RFC 4724 §4.2)');
    assert.deepEqual(rig.events, ['established', 'down:collision:6/7']);
    assert.equal(rig.session.state, 'OpenConfirm', 'the new connection is the session now');
    assert.equal(Rig.open(a, b), 1);
    // The new connection dies before it is Established: the session must not stay Idle.
    rig.peerCloses(b);
    assert.notEqual(rig.session.fsmState.started, false, 'the session is still started');
    await recovers(rig, '10.230.0.2');
  });

  it('the main connection loses the collision and the winner fails before Established: the session goes on connecting', async () => {
    // The peer's identifier is higher: the connection it opened (incoming here) wins.
    const rig = new Rig(false);
    rig.session.start();
    const a = rig.outgoing[0]!;
    rig.connected(a);
    const b = rig.accept()!;
    a.emit('data', peerOpen('10.230.0.2'));
    assert.equal(rig.session.state, 'OpenConfirm');
    b.emit('data', peerOpen('10.230.0.2')); // the collision: `a` (ours) is dumped
    assert.deepEqual(Rig.notifications(a), ['6/7']);
    assert.equal(rig.session.state, 'OpenConfirm', 'the surviving connection is the session\'s');
    assert.equal(Rig.open(a, b), 1);
    // While it is the session's, the peer's further connections are second connections, not refused.
    rig.peerCloses(b); // the winner dies (the peer crashed, a reset...)
    await recovers(rig, '10.230.0.2');
    assert.equal(rig.accept() !== undefined, true, 'Established: a new connection is taken as a possible restart');
  });

  it('the main connection fails while a second one is alive: the second carries on as the session', async () => {
    const rig = new Rig(false);
    rig.session.start();
    const a = rig.outgoing[0]!;
    rig.connected(a);
    const b = rig.accept()!;
    b.emit('data', peerOpen('10.230.0.2')); // no collision yet: `a` has not seen an OPEN
    assert.equal(rig.session.state, 'OpenSent');
    rig.peerCloses(a);
    assert.equal(rig.session.state, 'OpenConfirm', 'the second connection is the session now');
    b.emit('data', KEEPALIVE);
    assert.equal(rig.session.state, 'Established');
    await flush();
    assert.equal(rig.outgoing.length, 1, 'no further attempt: the session is up');
    assert.equal(rig.fireBackoff(), 0, 'no back-off timer left behind');
  });

  it('a second connection that fails is let go: none of its timers runs on, no stray connection attempt', async () => {
    const rig = new Rig(false);
    rig.session.start();
    const a = rig.outgoing[0]!;
    rig.connected(a); // OpenSent, waiting for the peer's OPEN
    const b = rig.accept()!;
    b.emit('data', peerOpen('10.230.0.2')); // the second goes to OpenConfirm
    rig.peerCloses(b); // ... and fails: its FSM would wait in Idle to restart
    await flush();
    assert.equal(rig.session.state, 'OpenSent');
    for (let i = 0; i < 5; i++) rig.fireBackoff();
    await flush();
    assert.equal(rig.outgoing.length, 1, 'only the session\'s own connection was ever opened');
    assert.deepEqual([...rig.timers.values()].map((t) => t.ms), [240_000], 'only the session\'s OpenSent hold timer runs');
    // And the session still takes a second connection from the peer (no stale second in the way).
    assert.ok(rig.accept());
  });
});
