/**
 * The session driver's timers on a fake clock, with `refreshTimer` (what the speaker's real timers give):
 * a timer restarted while it is still pending is left alone and, when it fires, sleeps what is left; a timer
 * restarted after it fired is refreshed — unless its handle was made for a remainder, which a refresh would
 * re-arm for the wrong duration. The hold timer restarted by every message must still expire exactly its
 * duration after the last one, and the keepalive timer go off its duration after the last UPDATE sent.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Session, wireOpen, type SessionDeps, type SocketLike } from './session.js';
import { localOpen } from './fsm-open.js';
import type { FsmConfig } from './fsm-types.js';
import { encodeKeepalive, encodeOpen, encodeUpdates } from './wire/index.js';
import { FakeSocket } from './testing/fake-socket.js';
import { p4 } from './types.js';

const US = '10.231.0.1';
const PEER = '10.231.0.2';
const KEEPALIVE = encodeKeepalive();
const config = (routerId: string): FsmConfig => ({ localAs: 65000, routerId, peerAs: 65000, holdTime: 9, capabilities: { families: ['ipv4'] } });

interface FakeTimer {
  fn: () => void;
  ms: number;
  due: number;
}

/** setTimeout-like timers on a clock the test moves; a fired timer is inactive until refreshed (Node's Timeout). */
class Clock {
  now = 0;
  readonly active = new Map<number, FakeTimer>();
  private readonly all = new Map<number, FakeTimer>();
  private next = 1;
  made = 0;
  refreshed = 0;

  readonly deps: Pick<SessionDeps, 'setTimer' | 'clearTimer' | 'refreshTimer' | 'now'> = {
    setTimer: (fn, ms) => {
      this.made++;
      const t = { fn, ms, due: this.now + ms };
      const h = this.next++;
      this.all.set(h, t);
      this.active.set(h, t);
      return h;
    },
    clearTimer: (h) => void this.active.delete(h as number),
    refreshTimer: (h) => {
      this.refreshed++;
      const t = this.all.get(h as number)!;
      t.due = this.now + t.ms;
      this.active.set(h as number, t);
    },
    now: () => this.now,
  };

  /** Runs every timer due up to `to`, in order, moving the clock to each. */
  advance(to: number): void {
    for (;;) {
      let first: [number, FakeTimer] | undefined;
      for (const e of this.active) if (e[1].due <= to && (!first || e[1].due < first[1].due)) first = e;
      if (!first) break;
      this.active.delete(first[0]);
      this.now = first[1].due;
      first[1].fn();
    }
    this.now = to;
  }

  /** The durations of the timers running now, sorted. */
  running(): number[] {
    return [...this.active.values()].map((t) => t.ms).sort((a, b) => a - b);
  }
}

function established(pending: Buffer[] = [], wall?: { offset: number }) {
  const clock = new Clock();
  const sockets: FakeSocket[] = [];
  const downs: string[] = [];
  const deps: SessionDeps = {
    ...clock.deps,
    // With a wall clock of its own: now() is that (it may be stepped), the timers run on elapsed().
    ...(wall ? { now: () => clock.now + wall.offset, elapsed: () => clock.now } : {}),
    connect: () => {
      const s = new FakeSocket(PEER, US);
      sockets.push(s);
      return s as unknown as SocketLike;
    },
  };
  const session = new Session({ address: PEER, port: 179, fsm: config(US), seed: 3 }, deps, {
    established: () => {},
    down: (_s, info) => downs.push(`${info.reason}${info.notification ? ` ${info.notification.code}/${info.notification.subcode}` : ''}`),
    update: () => {},
    routeRefresh: () => {},
    pull: () => pending.splice(0),
  });
  session.start();
  const s = sockets[0]!;
  s.emit('connect');
  const c = config(PEER);
  s.emit('data', Buffer.concat([encodeOpen(wireOpen(localOpen(c), c)), KEEPALIVE]));
  assert.equal(session.state, 'Established');
  return { clock, session, socket: s, downs };
}

const keepalivesSent = (s: FakeSocket) => s.messages().filter((m) => m[18] === 4).length;

describe('session timers with refreshTimer (fake clock)', () => {
  it('the hold timer restarted by each message is neither re-armed nor made anew, and expires its duration after the last message', () => {
    const { clock, session, socket, downs } = established();
    assert.deepEqual(clock.running(), [3000, 9000], 'keepalive 3 s, hold 9 s');
    const made = clock.made;
    // Messages at 1, 2, …, 5 s: each restarts the hold timer; none touches the timer list.
    for (let t = 1000; t <= 5000; t += 1000) {
      clock.advance(t);
      socket.emit('data', KEEPALIVE);
    }
    assert.equal(clock.made, made, 'no timer made');
    assert.equal(clock.refreshed, 1, 'one refresh: the keepalive timer, after it fired at 3 s');
    // At 9 s the hold timer fires: the last message was at 5 s, so it sleeps 5 s more.
    clock.advance(9000);
    assert.equal(session.state, 'Established');
    assert.deepEqual(downs, []);
    clock.advance(13_999);
    assert.equal(session.state, 'Established', 'not before 14 s');
    clock.advance(14_000);
    assert.deepEqual(downs, ['holdTimerExpired 4/0'], 'expired 9 s after the last message');
    assert.ok(socket.messages().some((m) => m[18] === 3 && m[19] === 4), 'Hold Timer Expired sent');
  });

  it('without messages the hold timer expires after its duration', () => {
    const { clock, downs } = established();
    clock.advance(8999);
    assert.deepEqual(downs, []);
    clock.advance(9000);
    assert.deepEqual(downs, ['holdTimerExpired 4/0']);
  });

  it('the keepalive timer restarted by an UPDATE sent goes off its duration after it; after a remainder it is made anew, then refreshed', () => {
    const pending: Buffer[] = [];
    const { clock, session, socket } = established(pending);
    const update = encodeUpdates({ origin: 0, asPath: [], nextHop: US }, { v4: [p4(0x0a010000, 26)] }, { fourOctetAs: true, extendedMessage: false, ebgp: false });
    clock.advance(1000);
    pending.push(...update);
    session.kick();
    assert.equal(socket.messages().filter((m) => m[18] === 2).length, 1, 'the UPDATE went out');
    const before = keepalivesSent(socket);
    // The keepalive timer (armed at 0 for 3 s) fires at 3 s, but the UPDATE at 1 s restarted it: nothing until 4 s.
    clock.advance(3999);
    assert.equal(keepalivesSent(socket), before);
    const made = clock.made;
    clock.advance(4000);
    assert.equal(keepalivesSent(socket), before + 1, 'KEEPALIVE at 4 s');
    assert.equal(clock.made - made, 1, 'the timer that ran the remainder is made anew for 3 s, not refreshed for 1 s');
    const refreshed = clock.refreshed;
    clock.advance(7000);
    assert.equal(keepalivesSent(socket), before + 2, 'KEEPALIVE at 7 s');
    assert.equal(clock.refreshed - refreshed, 1, 'then refreshed as usual');
  });

  it('runs the lazy restarts on elapsed(), not on a wall clock that is stepped back or forward', () => {
    for (const step of [-3_600_000, 3_600_000]) {
      const wall = { offset: 0 };
      const { clock, socket, downs } = established([], wall);
      clock.advance(5000);
      socket.emit('data', KEEPALIVE); // the last message: the hold timer now expires at 14 s
      wall.offset = step; // the wall clock is stepped an hour
      clock.advance(13_999);
      assert.deepEqual(downs, [], `step ${step}: not before 14 s`);
      clock.advance(14_000);
      assert.deepEqual(downs, ['holdTimerExpired 4/0'], `step ${step}: at 14 s`);
    }
  });
});
