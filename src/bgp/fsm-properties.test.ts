// Properties of the FSM under random inputs (fast-check), run through the fake-clock driver:
//  - any event sequence: no throw; the timers the FSM believes running are exactly the driver's; no timer in Idle
//    but the IdleHoldTimer, which runs only in Idle; UPDATEs leave only in Established; a passive peer never
//    connects; `down` exactly when leaving Established, `established` exactly when entering it;
//  - a peer that comes back is Established again within 2 s, however long it was away and however it failed.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { FsmConfig, FsmEvent, GracefulRestartCapability, NotificationSpec, OpenMessage } from './fsm.js';
import { FsmSim } from './testing/fsm-sim.js';
import type { SimRecord } from './testing/fsm-sim.js';

const GR: GracefulRestartCapability = { restartTime: 120, restarting: false, notification: true, families: [{ family: 'ipv4', forwardingPreserved: true }] };

const arbConfig: fc.Arbitrary<FsmConfig> = fc.record({
  localAs: fc.constant(65001),
  routerId: fc.constant('10.0.0.1'),
  peerAs: fc.constant(65002),
  holdTime: fc.constantFrom(0, 3, 9, 90),
  passive: fc.boolean(),
  capabilities: fc.constantFrom(undefined, { gracefulRestart: GR }, { families: ['ipv4', 'ipv6'] as const, gracefulRestart: { ...GR, notification: false } }),
  backoff: fc.constantFrom(undefined, { initialMs: 10, maxMs: 40 }),
}).map((c) => Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined)) as unknown as FsmConfig);

const arbOpen: fc.Arbitrary<OpenMessage> = fc.record({
  version: fc.constantFrom(4, 4, 4, 3),
  myAs: fc.constantFrom(65002, 65002, 65009),
  holdTime: fc.constantFrom(0, 1, 3, 9, 90, 240),
  bgpId: fc.constantFrom('10.0.0.2', '10.0.0.1', '0.0.0.0'),
  capabilities: fc.record({
    multiprotocol: fc.constantFrom(undefined, ['ipv4'] as const, ['ipv6'] as const),
    gracefulRestart: fc.constantFrom(undefined, GR, { ...GR, notification: false }),
    routeRefresh: fc.boolean(),
  }).map((c) => Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined))),
}) as fc.Arbitrary<OpenMessage>;

const arbNotification: fc.Arbitrary<NotificationSpec> = fc.record({
  code: fc.integer({ min: 1, max: 7 }),
  subcode: fc.integer({ min: 0, max: 11 }),
});

const arbEvent: fc.Arbitrary<FsmEvent> = fc.oneof(
  fc.constantFrom<FsmEvent>(
    { type: 'ManualStart' },
    { type: 'ManualStop' },
    { type: 'AutomaticStart' },
    { type: 'ManualStart_with_PassiveTcpEstablishment' },
    { type: 'AutomaticStart_with_PassiveTcpEstablishment' },
    { type: 'AutomaticStop' },
    { type: 'AutomaticStop', restart: false, subcode: 1 },
    { type: 'ConnectRetryTimer_Expires' },
    { type: 'HoldTimer_Expires' },
    { type: 'KeepaliveTimer_Expires' },
    { type: 'IdleHoldTimer_Expires' },
    { type: 'TcpConnection_Valid' },
    { type: 'Tcp_CR_Invalid' },
    { type: 'Tcp_CR_Acked' },
    { type: 'TcpConnectionConfirmed' },
    { type: 'TcpConnectionFails' },
    { type: 'OpenCollisionDump' },
    { type: 'KeepAliveMsg' },
    { type: 'UpdateMsg' },
    { type: 'RouteRefreshMsg' },
    { type: 'SendUpdate' },
    { type: 'SendRouteRefresh', family: 'ipv4' },
    { type: 'SendRouteRefresh', family: 'ipv6', subtype: 1 },
  ),
  arbOpen.map((open): FsmEvent => ({ type: 'BGPOpen', open })),
  arbNotification.map((notification): FsmEvent => ({ type: 'NotifMsg', notification })),
  arbNotification.map((notification): FsmEvent => ({ type: 'UpdateMsgErr', notification })),
  arbNotification.map((notification): FsmEvent => ({ type: 'BGPHeaderErr', notification })),
  arbNotification.map((notification): FsmEvent => ({ type: 'BGPOpenMsgErr', notification })),
);

/** Feed an event now, or let time pass (firing the timers that fall due). */
type Action = { event: FsmEvent } | { wait: number };
const arbAction: fc.Arbitrary<Action> = fc.oneof(
  { weight: 3, arbitrary: arbEvent.map((event) => ({ event })) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 300_000 }).map((wait) => ({ wait })) },
);

function checkStep(config: FsmConfig, sim: FsmSim, r: SimRecord): void {
  const s = sim.state;
  const types = r.effects.map((e) => e.type);
  // the FSM's idea of its timers is the driver's timer table
  assert.deepEqual(Object.keys(s.timers).sort(), [...sim.timers.keys()].sort());
  // no timer in Idle but IdleHold; IdleHold only in Idle, and only while started
  if (s.state === 'Idle') assert.ok(Object.keys(s.timers).every((t) => t === 'idleHold'), JSON.stringify(s.timers));
  if (s.timers.idleHold !== undefined) assert.ok(s.state === 'Idle' && s.started);
  // ConnectRetryTimer: always in Connect, in Active unless passive, never elsewhere
  const cr = s.timers.connectRetry !== undefined;
  if (s.state === 'Connect') assert.ok(cr);
  else if (s.state === 'Active') assert.equal(cr, !config.passive);
  else assert.ok(!cr);
  // hold and keepalive timers
  if (s.state === 'OpenSent') assert.ok(s.timers.hold !== undefined && s.timers.keepalive === undefined);
  if (s.state === 'OpenConfirm' || s.state === 'Established') {
    const live = (s.negotiated?.holdTime ?? 0) > 0;
    assert.equal(s.timers.hold !== undefined, live);
    assert.equal(s.timers.keepalive !== undefined, live);
  }
  if (s.state === 'Idle' || s.state === 'Connect' || s.state === 'Active') {
    assert.ok(s.timers.hold === undefined && s.timers.keepalive === undefined);
  }
  // what the FSM holds
  const holds = s.state === 'OpenSent' || s.state === 'OpenConfirm' || s.state === 'Established';
  assert.equal(s.connection !== undefined, holds);
  assert.equal(s.negotiated !== undefined, s.state === 'OpenConfirm' || s.state === 'Established');
  // messages
  for (const e of r.effects) {
    if (e.type === 'send' && e.message.kind === 'update') assert.ok(r.from === 'Established' && r.to === 'Established');
    if (e.type === 'send' && e.message.kind === 'open') assert.ok(r.to === 'OpenSent' && r.from !== 'OpenSent');
    if (e.type === 'startTimer') assert.ok(Number.isInteger(e.ms) && e.ms > 0, `${e.timer} ${e.ms}`);
    if (e.type === 'startTimer' && (e.timer === 'connectRetry' || e.timer === 'idleHold')) assert.ok(e.ms <= (config.backoff?.maxMs ?? 1500));
  }
  if (config.passive) assert.ok(!types.includes('connect'));
  assert.equal(types.includes('down'), r.from === 'Established' && r.to !== 'Established');
  assert.equal(types.includes('established'), r.from === 'OpenConfirm' && r.to === 'Established');
  assert.ok(types.filter((t) => t === 'down' || t === 'established').length <= 1);
}

describe('random event sequences', () => {
  it('never throw and keep every invariant', () => {
    fc.assert(
      fc.property(arbConfig, fc.integer(), fc.array(arbAction, { maxLength: 60 }), (config, seed, actions) => {
        const sim = new FsmSim(config, seed);
        let seen = 0;
        for (const a of actions) {
          if ('event' in a) sim.dispatch(a.event);
          else sim.advance(a.wait);
          for (; seen < sim.log.length; seen++) {
            // invariants hold after every step, including the timer steps inside advance()
            const r = sim.log[seen] as SimRecord;
            if (seen === sim.log.length - 1) checkStep(config, sim, r);
            else assert.equal(r.to, (sim.log[seen + 1] as SimRecord).from);
          }
        }
      }),
      { numRuns: 1500 },
    );
  });

  it('check every intermediate step too (timers firing one after another)', () => {
    fc.assert(
      fc.property(arbConfig, fc.integer(), fc.array(arbAction, { maxLength: 40 }), (config, seed, actions) => {
        const sim = new FsmSim(config, seed);
        const wrapped = sim.dispatch.bind(sim);
        sim.dispatch = (e) => {
          const out = wrapped(e);
          checkStep(config, sim, sim.log[sim.log.length - 1] as SimRecord);
          return out;
        };
        for (const a of actions) {
          if ('event' in a) sim.dispatch(a.event);
          else sim.advance(a.wait);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('a peer that comes back', () => {
  const CONFIG: FsmConfig = { localAs: 65001, routerId: '10.0.0.1', peerAs: 65002, holdTime: 9 };
  const PEER: OpenMessage = { version: 4, myAs: 65002, holdTime: 9, bgpId: '10.0.0.2', capabilities: { fourOctetAs: 65002 } };
  const RTT = 2; // ms

  /** A fake peer: answers connects and OPENs while up; while down it resets connections or stays silent. */
  function withPeer(sim: FsmSim, isUp: () => boolean, silent: boolean): void {
    let attempt = 0; // the current connection attempt or connection; a `close` abandons it
    sim.onEffect = (e) => {
      if (e.type === 'close') attempt++;
      if (e.type === 'connect') {
        const mine = ++attempt;
        if (isUp()) sim.schedule(RTT, () => (attempt === mine ? { type: 'Tcp_CR_Acked' } : undefined));
        else if (!silent) sim.schedule(RTT, () => (attempt === mine ? { type: 'TcpConnectionFails' } : undefined));
      }
      if (e.type === 'send' && e.message.kind === 'open') {
        const mine = attempt;
        sim.schedule(RTT, () => (attempt === mine && isUp() ? { type: 'BGPOpen', open: PEER } : undefined));
        sim.schedule(RTT + 1, () => (attempt === mine && isUp() ? { type: 'KeepAliveMsg' } : undefined));
      }
      if (e.type === 'send' && e.message.kind === 'keepalive' && !isUp() && !silent) {
        const mine = attempt;
        sim.schedule(RTT, () => (attempt === mine ? { type: 'TcpConnectionFails' } : undefined)); // RST
      }
    };
  }

  it('is Established again within 2 s of its return, however long it was away (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 600_000 }), // away for
        fc.boolean(), // silent (host gone) or resetting (daemon gone)
        fc.integer(),
        fc.constantFrom<Partial<FsmConfig>>({}, { backoff: { jitter: 0 } }, { backoff: { initialMs: 50, multiplier: 3 } }),
        (away, silent, seed, extra) => {
          const config = { ...CONFIG, ...extra };
          const sim = new FsmSim(config, seed);
          let up = true;
          withPeer(sim, () => up, silent);
          sim.dispatch({ type: 'ManualStart' });
          assert.ok(sim.runUntil(() => sim.state.state === 'Established', 2000));
          up = false;
          // the peer disappears; the session goes down by TCP reset or by hold timer expiry
          if (!silent) sim.dispatch({ type: 'TcpConnectionFails' });
          assert.ok(sim.runUntil(() => sim.state.state !== 'Established', 10_000));
          sim.advance(away);
          up = true;
          const back = sim.now;
          assert.ok(sim.runUntil(() => sim.state.state === 'Established', 2000), `not Established 2 s after the return (${sim.state.state})`);
          assert.ok(sim.now - back <= 2000);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('the reconnect attempts while it is away are spaced by the back-off, never beyond its cap', () => {
    const sim = new FsmSim(CONFIG, 7);
    withPeer(sim, () => false, false);
    sim.dispatch({ type: 'ManualStart' });
    sim.advance(60_000);
    const connects = sim.log.filter((r) => r.effects.some((e) => e.type === 'connect')).map((r) => r.at);
    const gaps = connects.slice(1).map((t, i) => t - (connects[i] as number));
    assert.ok(connects.length > 40, `${connects.length} attempts`);
    assert.ok(gaps.every((g) => g <= 1500 + RTT), gaps.join(','));
    assert.ok((gaps[0] as number) < 1000, `first retry after ${gaps[0]} ms`);
    assert.ok(gaps.slice(0, 3).every((g, i) => g <= (gaps[i + 1] as number) + 400), 'grows');
  });
});
