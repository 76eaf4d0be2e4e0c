// The FSM of RFC 4271 §8.2.2, state by state and event by event (the table below is the contract), then the
// timers under a fake clock: hold time negotiation, the keepalive schedule, the 4-minute OpenSent hold timer,
// hold timer expiry and reconnect, ManualStop, passive peers, and the graceful flags of `down`.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { initialState, steadyStep, step } from './fsm.js';
import type { BgpState, FsmConfig, FsmEffect, FsmEvent, FsmState, GracefulRestartCapability, OpenMessage } from './fsm.js';
import { FsmSim } from './testing/fsm-sim.js';

const CONFIG: FsmConfig = { localAs: 65001, routerId: '10.0.0.1', peerAs: 65002, holdTime: 90 };
const PEER_OPEN: OpenMessage = {
  version: 4,
  myAs: 65002,
  holdTime: 90,
  bgpId: '10.0.0.2',
  capabilities: { multiprotocol: ['ipv4'], fourOctetAs: 65002, routeRefresh: true },
};
const GR: GracefulRestartCapability = { restartTime: 120, restarting: false, notification: false, families: [{ family: 'ipv4', forwardingPreserved: true }] };
const GRN: GracefulRestartCapability = { ...GR, notification: true };

/** Drives a fresh FSM to `target` along the usual path. */
function reach(target: BgpState, config: FsmConfig = CONFIG, peer: OpenMessage = PEER_OPEN): FsmState {
  let s = initialState();
  const go = (e: FsmEvent) => {
    s = step(config, s, e).state;
  };
  if (target === 'Idle') return s;
  go({ type: 'ManualStart' });
  if (target === 'Connect') return s;
  if (target === 'Active') {
    go({ type: 'TcpConnectionFails' });
    return s;
  }
  go({ type: 'Tcp_CR_Acked' });
  if (target === 'OpenSent') return s;
  go({ type: 'BGPOpen', open: peer });
  if (target === 'OpenConfirm') return s;
  go({ type: 'KeepAliveMsg' });
  assert.equal(s.state, target);
  return s;
}

/** Effects in short form. Back-off timers show no duration (it is jittered); the others in seconds. */
function sig(effects: FsmEffect[]): string {
  const one = (e: FsmEffect): string => {
    switch (e.type) {
      case 'send':
        return e.message.kind === 'notification' ? `notify:${e.message.code}/${e.message.subcode}` : `send:${e.message.kind}`;
      case 'startTimer':
        return e.timer === 'connectRetry' || e.timer === 'idleHold' ? `start:${e.timer}` : `start:${e.timer}:${e.ms / 1000}s`;
      case 'stopTimer':
        return `stop:${e.timer}`;
      case 'down':
        return `down:${e.reason}${e.graceful ? ':graceful' : ''}`;
      default:
        return e.type;
    }
  };
  return effects.map(one).join(' ') || '-';
}

const note = (code: number, subcode: number) => ({ code, subcode });
const EVENTS: Record<string, FsmEvent> = Object.fromEntries(
  (
    [
      { type: 'ManualStart' },
      { type: 'ManualStop' },
      { type: 'AutomaticStart' },
      { type: 'ManualStart_with_PassiveTcpEstablishment' },
      { type: 'AutomaticStart_with_PassiveTcpEstablishment' },
      { type: 'AutomaticStop' },
      { type: 'ConnectRetryTimer_Expires' },
      { type: 'HoldTimer_Expires' },
      { type: 'KeepaliveTimer_Expires' },
      { type: 'IdleHoldTimer_Expires' },
      { type: 'TcpConnection_Valid' },
      { type: 'Tcp_CR_Invalid' },
      { type: 'Tcp_CR_Acked' },
      { type: 'TcpConnectionConfirmed' },
      { type: 'TcpConnectionFails' },
      { type: 'BGPOpen', open: PEER_OPEN },
      { type: 'BGPHeaderErr', notification: note(1, 2) },
      { type: 'BGPOpenMsgErr', notification: note(2, 4) },
      { type: 'OpenCollisionDump' },
      { type: 'NotifMsgVerErr', notification: note(2, 1) },
      { type: 'NotifMsg', notification: note(6, 2) },
      { type: 'KeepAliveMsg' },
      { type: 'UpdateMsg' },
      { type: 'UpdateMsgErr', notification: note(3, 1) },
      { type: 'RouteRefreshMsg' },
      { type: 'SendUpdate' },
      { type: 'SendRouteRefresh', family: 'ipv4' },
    ] satisfies FsmEvent[]
  ).map((e) => [e.type, e]),
);

// state  event  -> next state  effects. Every state x event pair; '-' is "no effect".
// The FSM was reached by ManualStart (so `started`, and failures schedule the IdleHoldTimer), except Idle (fresh).
const TABLE = `
Idle        ManualStart                                  Connect     start:connectRetry connect
Idle        ManualStop                                   Idle        -
Idle        AutomaticStart                               Connect     start:connectRetry connect
Idle        ManualStart_with_PassiveTcpEstablishment     Active      start:connectRetry
Idle        AutomaticStart_with_PassiveTcpEstablishment  Active      start:connectRetry
Idle        AutomaticStop                                Idle        -
Idle        ConnectRetryTimer_Expires                    Idle        -
Idle        HoldTimer_Expires                            Idle        -
Idle        KeepaliveTimer_Expires                       Idle        -
Idle        IdleHoldTimer_Expires                        Idle        -
Idle        TcpConnection_Valid                          Idle        -
Idle        Tcp_CR_Invalid                               Idle        -
Idle        Tcp_CR_Acked                                 Idle        close
Idle        TcpConnectionConfirmed                       Idle        close
Idle        TcpConnectionFails                           Idle        -
Idle        BGPOpen                                      Idle        -
Idle        BGPHeaderErr                                 Idle        -
Idle        BGPOpenMsgErr                                Idle        -
Idle        OpenCollisionDump                            Idle        -
Idle        NotifMsgVerErr                               Idle        -
Idle        NotifMsg                                     Idle        -
Idle        KeepAliveMsg                                 Idle        -
Idle        UpdateMsg                                    Idle        -
Idle        UpdateMsgErr                                 Idle        -
Idle        RouteRefreshMsg                              Idle        -
Idle        SendUpdate                                   Idle        -
Idle        SendRouteRefresh                             Idle        -

Connect     ManualStart                                  Connect     -
Connect     ManualStop                                   Idle        stop:connectRetry close
Connect     AutomaticStart                               Connect     -
Connect     ManualStart_with_PassiveTcpEstablishment     Connect     -
Connect     AutomaticStart_with_PassiveTcpEstablishment  Connect     -
Connect     AutomaticStop                                Idle        stop:connectRetry close start:idleHold
Connect     ConnectRetryTimer_Expires                    Connect     close start:connectRetry connect
Connect     HoldTimer_Expires                            Connect     -
Connect     KeepaliveTimer_Expires                       Connect     -
Connect     IdleHoldTimer_Expires                        Connect     -
Connect     TcpConnection_Valid                          Connect     -
Connect     Tcp_CR_Invalid                               Connect     -
Connect     Tcp_CR_Acked                                 OpenSent    stop:connectRetry send:open start:hold:240s
Connect     TcpConnectionConfirmed                       OpenSent    stop:connectRetry send:open start:hold:240s
Connect     TcpConnectionFails                           Active      start:connectRetry
Connect     BGPOpen                                      Idle        stop:connectRetry close start:idleHold
Connect     BGPHeaderErr                                 Idle        stop:connectRetry close start:idleHold
Connect     BGPOpenMsgErr                                Idle        stop:connectRetry close start:idleHold
Connect     OpenCollisionDump                            Idle        stop:connectRetry close start:idleHold
Connect     NotifMsgVerErr                               Idle        stop:connectRetry close start:idleHold
Connect     NotifMsg                                     Idle        stop:connectRetry close start:idleHold
Connect     KeepAliveMsg                                 Idle        stop:connectRetry close start:idleHold
Connect     UpdateMsg                                    Idle        stop:connectRetry close start:idleHold
Connect     UpdateMsgErr                                 Idle        stop:connectRetry close start:idleHold
Connect     RouteRefreshMsg                              Idle        stop:connectRetry close start:idleHold
Connect     SendUpdate                                   Connect     -
Connect     SendRouteRefresh                             Connect     -

Active      ManualStart                                  Active      -
Active      ManualStop                                   Idle        stop:connectRetry close
Active      AutomaticStart                               Active      -
Active      ManualStart_with_PassiveTcpEstablishment     Active      -
Active      AutomaticStart_with_PassiveTcpEstablishment  Active      -
Active      AutomaticStop                                Idle        stop:connectRetry close start:idleHold
Active      ConnectRetryTimer_Expires                    Connect     start:connectRetry connect
Active      HoldTimer_Expires                            Active      -
Active      KeepaliveTimer_Expires                       Active      -
Active      IdleHoldTimer_Expires                        Active      -
Active      TcpConnection_Valid                          Active      -
Active      Tcp_CR_Invalid                               Active      -
Active      Tcp_CR_Acked                                 OpenSent    stop:connectRetry send:open start:hold:240s
Active      TcpConnectionConfirmed                       OpenSent    stop:connectRetry send:open start:hold:240s
Active      TcpConnectionFails                           Idle        stop:connectRetry close start:idleHold
Active      BGPOpen                                      Idle        stop:connectRetry close start:idleHold
Active      BGPHeaderErr                                 Idle        stop:connectRetry close start:idleHold
Active      BGPOpenMsgErr                                Idle        stop:connectRetry close start:idleHold
Active      OpenCollisionDump                            Idle        stop:connectRetry close start:idleHold
Active      NotifMsgVerErr                               Idle        stop:connectRetry close start:idleHold
Active      NotifMsg                                     Idle        stop:connectRetry close start:idleHold
Active      KeepAliveMsg                                 Idle        stop:connectRetry close start:idleHold
Active      UpdateMsg                                    Idle        stop:connectRetry close start:idleHold
Active      UpdateMsgErr                                 Idle        stop:connectRetry close start:idleHold
Active      RouteRefreshMsg                              Idle        stop:connectRetry close start:idleHold
Active      SendUpdate                                   Active      -
Active      SendRouteRefresh                             Active      -

OpenSent    ManualStart                                  OpenSent    -
OpenSent    ManualStop                                   Idle        stop:hold notify:6/2 close
OpenSent    AutomaticStart                               OpenSent    -
OpenSent    ManualStart_with_PassiveTcpEstablishment     OpenSent    -
OpenSent    AutomaticStart_with_PassiveTcpEstablishment  OpenSent    -
OpenSent    AutomaticStop                                Idle        stop:hold notify:6/6 close start:idleHold
OpenSent    ConnectRetryTimer_Expires                    OpenSent    -
OpenSent    HoldTimer_Expires                            Idle        notify:4/0 close start:idleHold
OpenSent    KeepaliveTimer_Expires                       OpenSent    -
OpenSent    IdleHoldTimer_Expires                        OpenSent    -
OpenSent    TcpConnection_Valid                          OpenSent    -
OpenSent    Tcp_CR_Invalid                               OpenSent    -
OpenSent    Tcp_CR_Acked                                 OpenSent    -
OpenSent    TcpConnectionConfirmed                       OpenSent    -
OpenSent    TcpConnectionFails                           Active      stop:hold close start:connectRetry
OpenSent    BGPOpen                                      OpenConfirm send:keepalive start:keepalive:30s start:hold:90s
OpenSent    BGPHeaderErr                                 Idle        stop:hold notify:1/2 close start:idleHold
OpenSent    BGPOpenMsgErr                                Idle        stop:hold notify:2/4 close start:idleHold
OpenSent    OpenCollisionDump                            Idle        stop:hold notify:6/7 close
OpenSent    NotifMsgVerErr                               Idle        stop:hold close start:idleHold
OpenSent    NotifMsg                                     Idle        stop:hold close start:idleHold
OpenSent    KeepAliveMsg                                 Idle        stop:hold notify:5/1 close start:idleHold
OpenSent    UpdateMsg                                    Idle        stop:hold notify:5/1 close start:idleHold
OpenSent    UpdateMsgErr                                 Idle        stop:hold notify:5/1 close start:idleHold
OpenSent    RouteRefreshMsg                              Idle        stop:hold notify:5/1 close start:idleHold
OpenSent    SendUpdate                                   OpenSent    -
OpenSent    SendRouteRefresh                             OpenSent    -

OpenConfirm ManualStart                                  OpenConfirm -
OpenConfirm ManualStop                                   Idle        stop:hold stop:keepalive notify:6/2 close
OpenConfirm AutomaticStart                               OpenConfirm -
OpenConfirm ManualStart_with_PassiveTcpEstablishment     OpenConfirm -
OpenConfirm AutomaticStart_with_PassiveTcpEstablishment  OpenConfirm -
OpenConfirm AutomaticStop                                Idle        stop:hold stop:keepalive notify:6/6 close start:idleHold
OpenConfirm ConnectRetryTimer_Expires                    OpenConfirm -
OpenConfirm HoldTimer_Expires                            Idle        stop:keepalive notify:4/0 close start:idleHold
OpenConfirm KeepaliveTimer_Expires                       OpenConfirm send:keepalive start:keepalive:30s
OpenConfirm IdleHoldTimer_Expires                        OpenConfirm -
OpenConfirm TcpConnection_Valid                          OpenConfirm -
OpenConfirm Tcp_CR_Invalid                               OpenConfirm -
OpenConfirm Tcp_CR_Acked                                 OpenConfirm -
OpenConfirm TcpConnectionConfirmed                       OpenConfirm -
OpenConfirm TcpConnectionFails                           Idle        stop:hold stop:keepalive close start:idleHold
OpenConfirm BGPOpen                                      Idle        stop:hold stop:keepalive notify:5/2 close start:idleHold
OpenConfirm BGPHeaderErr                                 Idle        stop:hold stop:keepalive notify:1/2 close start:idleHold
OpenConfirm BGPOpenMsgErr                                Idle        stop:hold stop:keepalive notify:2/4 close start:idleHold
OpenConfirm OpenCollisionDump                            Idle        stop:hold stop:keepalive notify:6/7 close
OpenConfirm NotifMsgVerErr                               Idle        stop:hold stop:keepalive close start:idleHold
OpenConfirm NotifMsg                                     Idle        stop:hold stop:keepalive close start:idleHold
OpenConfirm KeepAliveMsg                                 Established start:hold:90s established
OpenConfirm UpdateMsg                                    Idle        stop:hold stop:keepalive notify:5/2 close start:idleHold
OpenConfirm UpdateMsgErr                                 Idle        stop:hold stop:keepalive notify:5/2 close start:idleHold
OpenConfirm RouteRefreshMsg                              Idle        stop:hold stop:keepalive notify:5/2 close start:idleHold
OpenConfirm SendUpdate                                   OpenConfirm -
OpenConfirm SendRouteRefresh                             OpenConfirm -

Established ManualStart                                  Established -
Established ManualStop                                   Idle        stop:hold stop:keepalive notify:6/2 close down:stopped
Established AutomaticStart                               Established -
Established ManualStart_with_PassiveTcpEstablishment     Established -
Established AutomaticStart_with_PassiveTcpEstablishment  Established -
Established AutomaticStop                                Idle        stop:hold stop:keepalive notify:6/6 close down:stopped start:idleHold
Established ConnectRetryTimer_Expires                    Established -
Established HoldTimer_Expires                            Idle        stop:keepalive notify:4/0 close down:holdTimerExpired start:idleHold
Established KeepaliveTimer_Expires                       Established send:keepalive start:keepalive:30s
Established IdleHoldTimer_Expires                        Established -
Established TcpConnection_Valid                          Established -
Established Tcp_CR_Invalid                               Established -
Established Tcp_CR_Acked                                 Established -
Established TcpConnectionConfirmed                       Established -
Established TcpConnectionFails                           Idle        stop:hold stop:keepalive close down:connectionLost start:idleHold
Established BGPOpen                                      Idle        stop:hold stop:keepalive notify:5/3 close down:notificationSent start:idleHold
Established BGPHeaderErr                                 Idle        stop:hold stop:keepalive notify:1/2 close down:notificationSent start:idleHold
Established BGPOpenMsgErr                                Idle        stop:hold stop:keepalive notify:2/4 close down:notificationSent start:idleHold
Established OpenCollisionDump                            Idle        stop:hold stop:keepalive notify:6/7 close down:collision
Established NotifMsgVerErr                               Idle        stop:hold stop:keepalive close down:notificationReceived start:idleHold
Established NotifMsg                                     Idle        stop:hold stop:keepalive close down:notificationReceived start:idleHold
Established KeepAliveMsg                                 Established start:hold:90s
Established UpdateMsg                                    Established start:hold:90s process
Established UpdateMsgErr                                 Idle        stop:hold stop:keepalive notify:3/1 close down:notificationSent start:idleHold
Established RouteRefreshMsg                              Established start:hold:90s process
Established SendUpdate                                   Established send:update start:keepalive:30s
Established SendRouteRefresh                             Established send:routeRefresh
`;

// A passive peer: never `connect`, no ConnectRetryTimer; only the rows that differ from the table above.
const PASSIVE_TABLE = `
Idle        ManualStart                                  Active      -
Idle        AutomaticStart                               Active      -
Idle        ManualStart_with_PassiveTcpEstablishment     Active      -
Active      ConnectRetryTimer_Expires                    Active      -
Active      ManualStop                                   Idle        close
Active      TcpConnectionConfirmed                       OpenSent    send:open start:hold:240s
Active      TcpConnectionFails                           Idle        close start:idleHold
OpenSent    TcpConnectionFails                           Active      stop:hold close
`;

function rows(table: string) {
  return table
    .trim()
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [state, event, next, ...effects] = l.trim().split(/\s+/);
      return { state: state as BgpState, event: event as string, next: next as BgpState, effects: effects.join(' ') };
    });
}

function reachPassive(target: BgpState, config: FsmConfig): FsmState {
  if (target !== 'OpenSent') return reach(target === 'Active' ? 'Connect' : target, config); // ManualStart lands in Active
  let s = reach('Connect', config);
  s = step(config, s, { type: 'TcpConnectionConfirmed' }).state;
  return s;
}

describe('transition table (RFC 4271 §8.2.2)', () => {
  const all = rows(TABLE);
  it('covers every state x event pair', () => {
    assert.equal(all.length, 6 * Object.keys(EVENTS).length);
    for (const st of ['Idle', 'Connect', 'Active', 'OpenSent', 'OpenConfirm', 'Established'] as BgpState[]) {
      assert.deepEqual(all.filter((r) => r.state === st).map((r) => r.event).sort(), Object.keys(EVENTS).sort(), st);
    }
  });
  for (const r of all) {
    it(`${r.state} + ${r.event} -> ${r.next}: ${r.effects}`, () => {
      const out = step(CONFIG, reach(r.state), EVENTS[r.event] as FsmEvent);
      assert.equal(out.state.state, r.next);
      assert.equal(sig(out.effects), r.effects);
    });
  }
  const passive: FsmConfig = { ...CONFIG, passive: true };
  for (const r of rows(PASSIVE_TABLE)) {
    it(`passive: ${r.state} + ${r.event} -> ${r.next}: ${r.effects}`, () => {
      const out = step(passive, reachPassive(r.state, passive), EVENTS[r.event] as FsmEvent);
      assert.equal(out.state.state, r.next);
      assert.equal(sig(out.effects), r.effects);
    });
  }
});

describe('state bookkeeping', () => {
  it('records the direction of the connection and forgets it in Idle', () => {
    assert.equal(reach('OpenSent').connection, 'outgoing');
    const s = step(CONFIG, reach('Connect'), { type: 'TcpConnectionConfirmed' }).state;
    assert.equal(s.connection, 'incoming');
    const idle = step(CONFIG, reach('Established'), { type: 'TcpConnectionFails' }).state;
    assert.equal(idle.connection, undefined);
    assert.equal(idle.negotiated, undefined);
  });

  it('counts Established transitions and resets the back-off index there', () => {
    let s = reach('Connect');
    s = step(CONFIG, s, { type: 'TcpConnectionFails' }).state;
    assert.equal(s.attempt, 1);
    s = step(CONFIG, s, { type: 'TcpConnectionConfirmed' }).state;
    s = step(CONFIG, s, { type: 'BGPOpen', open: PEER_OPEN }).state;
    s = step(CONFIG, s, { type: 'KeepAliveMsg' }).state;
    assert.equal(s.attempt, 0);
    assert.equal(s.establishedTransitions, 1);
  });

  it('keeps the last error: what was sent or received, and from which state', () => {
    const a = step(CONFIG, reach('Established'), { type: 'HoldTimer_Expires' }).state;
    assert.deepEqual(a.lastError, { event: 'HoldTimer_Expires', from: 'Established', notification: { code: 4, subcode: 0, data: new Uint8Array(0) }, sent: true });
    const b = step(CONFIG, reach('OpenSent'), { type: 'NotifMsg', notification: { code: 2, subcode: 1 } }).state;
    assert.deepEqual(b.lastError, { event: 'NotifMsgVerErr', from: 'OpenSent', notification: { code: 2, subcode: 1 }, sent: false });
  });

  it('returns a new state and leaves the old one untouched', () => {
    const s = reach('Established');
    const copy = structuredClone(s);
    step(CONFIG, s, { type: 'TcpConnectionFails' });
    assert.deepEqual(s, copy);
  });

  it('is deterministic: the same inputs give the same outputs', () => {
    const a = step(CONFIG, reach('Established'), { type: 'TcpConnectionFails' });
    const b = step(CONFIG, reach('Established'), { type: 'TcpConnectionFails' });
    assert.deepEqual(a, b);
  });
});

/** A sim already Established with a peer that sent `peer`. */
function established(config: FsmConfig, peer: OpenMessage = PEER_OPEN): FsmSim {
  const sim = new FsmSim(config);
  sim.dispatch({ type: 'ManualStart' });
  sim.dispatch({ type: 'Tcp_CR_Acked' });
  sim.dispatch({ type: 'BGPOpen', open: peer });
  sim.dispatch({ type: 'KeepAliveMsg' });
  assert.equal(sim.state.state, 'Established');
  return sim;
}
const sentAt = (sim: FsmSim, kind: string) =>
  sim.log.filter((r) => r.effects.some((e) => e.type === 'send' && e.message.kind === kind)).map((r) => r.at);
const notificationsSent = (sim: FsmSim) =>
  sim.effects().flatMap((e) => (e.type === 'send' && e.message.kind === 'notification' ? [`${e.message.code}/${e.message.subcode}`] : []));

describe('hold time negotiation and timers', () => {
  const negotiatedHold = (local: number, peer: number, keepaliveTime?: number) => {
    const config = { ...CONFIG, holdTime: local, ...(keepaliveTime !== undefined && { keepaliveTime }) };
    const s = step(config, reach('OpenSent', config), { type: 'BGPOpen', open: { ...PEER_OPEN, holdTime: peer } }).state;
    return s.negotiated && [s.negotiated.holdTime, s.negotiated.keepaliveTime, s.timers.hold, s.timers.keepalive];
  };

  it('takes the smaller hold time; keepalive is a third of it', () => {
    assert.deepEqual(negotiatedHold(90, 90), [90, 30, 90_000, 30_000]);
    assert.deepEqual(negotiatedHold(90, 30), [30, 10, 30_000, 10_000]);
    assert.deepEqual(negotiatedHold(30, 90), [30, 10, 30_000, 10_000]);
    assert.deepEqual(negotiatedHold(90, 3), [3, 1, 3000, 1000]);
    assert.deepEqual(negotiatedHold(90, 10), [10, 3, 10_000, 3000]);
  });

  it('a configured keepalive is used when below a third of the hold time, else clamped', () => {
    assert.deepEqual(negotiatedHold(90, 90, 10), [90, 10, 90_000, 10_000]);
    assert.deepEqual(negotiatedHold(90, 90, 60), [90, 30, 90_000, 30_000]);
    assert.deepEqual(negotiatedHold(90, 30, 20), [30, 10, 30_000, 10_000]);
  });

  it('hold time 0 (either side): no hold timer, no keepalive timer, one KEEPALIVE to confirm the OPEN', () => {
    assert.deepEqual(negotiatedHold(90, 0), [0, 0, undefined, undefined]);
    assert.deepEqual(negotiatedHold(0, 90), [0, 0, undefined, undefined]);
    const sim = established({ ...CONFIG, holdTime: 0 });
    assert.equal(sim.timers.size, 0);
    sim.advance(3_600_000);
    assert.equal(sim.state.state, 'Established');
    assert.deepEqual(sentAt(sim, 'keepalive'), [0]);
    assert.deepEqual(sig(sim.dispatch({ type: 'SendUpdate' })), 'send:update');
  });

  it('refuses a peer hold time of 1 or 2 s with OPEN/Unacceptable Hold Time', () => {
    for (const holdTime of [1, 2]) {
      const out = step(CONFIG, reach('OpenSent'), { type: 'BGPOpen', open: { ...PEER_OPEN, holdTime } });
      assert.equal(out.state.state, 'Idle');
      assert.equal(sig(out.effects), 'stop:hold notify:2/6 close start:idleHold');
    }
  });

  it('waits 4 minutes for the OPEN, then sends Hold Timer Expired', () => {
    const sim = new FsmSim(CONFIG);
    sim.dispatch({ type: 'ManualStart' });
    sim.dispatch({ type: 'Tcp_CR_Acked' });
    sim.advance(239_999);
    assert.equal(sim.state.state, 'OpenSent');
    sim.advance(1);
    assert.equal(sim.state.state, 'Idle');
    assert.deepEqual(notificationsSent(sim), ['4/0']);
  });

  it('sends a KEEPALIVE every keepalive interval; an UPDATE sent restarts the interval', () => {
    const sim = established(CONFIG);
    // the peer keeps the session alive
    for (let t = 25_000; t <= 100_000; t += 25_000) sim.schedule(t, () => ({ type: 'KeepAliveMsg' }));
    sim.advance(95_000);
    assert.deepEqual(sentAt(sim, 'keepalive'), [0, 30_000, 60_000, 90_000]);
    sim.advance(5_000); // t = 100 s
    sim.dispatch({ type: 'SendUpdate' });
    sim.advance(29_999);
    assert.deepEqual(sentAt(sim, 'keepalive'), [0, 30_000, 60_000, 90_000]);
    sim.advance(1);
    assert.deepEqual(sentAt(sim, 'keepalive'), [0, 30_000, 60_000, 90_000, 130_000]);
  });

  it('every KEEPALIVE or UPDATE received restarts the hold timer', () => {
    const sim = established({ ...CONFIG, holdTime: 9 }, { ...PEER_OPEN, holdTime: 9 });
    sim.schedule(8_000, () => ({ type: 'KeepAliveMsg' }));
    sim.schedule(16_000, () => ({ type: 'UpdateMsg' }));
    sim.advance(24_999);
    assert.equal(sim.state.state, 'Established');
    sim.advance(1);
    assert.equal(sim.state.state, 'Idle');
  });

  it('hold timer expiry: NOTIFICATION Hold Timer Expired, down, then a reconnect within the back-off', () => {
    const sim = established({ ...CONFIG, holdTime: 3 }, { ...PEER_OPEN, holdTime: 3 });
    sim.advance(3000);
    assert.equal(sim.state.state, 'Idle');
    assert.deepEqual(notificationsSent(sim), ['4/0']);
    const down = sim.effects().find((e) => e.type === 'down');
    assert.deepEqual(down, { type: 'down', reason: 'holdTimerExpired', graceful: false, notification: { code: 4, subcode: 0, data: new Uint8Array(0) } });
    const connects = () => sim.log.filter((r) => r.effects.some((e) => e.type === 'connect')).map((r) => r.at);
    assert.deepEqual(connects(), [0]);
    sim.advance(1000);
    assert.equal(sim.state.state, 'Connect');
    const [, again] = connects();
    assert.ok(again !== undefined && again > 3000 && again < 3000 + 1000, `reconnected at ${again}`);
  });
});

describe('stopping', () => {
  it('ManualStop in Established: Cease/Administrative Shutdown with the RFC 9003 message, and no restart', () => {
    const sim = established(CONFIG);
    const effects = sim.dispatch({ type: 'ManualStop', message: 'maintenance' });
    const sent = effects.find((e) => e.type === 'send');
    assert.deepEqual(sent, {
      type: 'send',
      message: { kind: 'notification', code: 6, subcode: 2, data: Uint8Array.of(11, ...new TextEncoder().encode('maintenance')) },
    });
    assert.equal(sim.state.state, 'Idle');
    assert.equal(sim.state.started, false);
    sim.advance(3_600_000);
    assert.equal(sim.state.state, 'Idle');
    assert.equal(sim.effects().filter((e) => e.type === 'connect').length, 1);
  });

  it('ManualStop with a subcode: Peer De-configured', () => {
    const out = step(CONFIG, reach('Established'), { type: 'ManualStop', subcode: 3 });
    assert.equal(sig(out.effects), 'stop:hold stop:keepalive notify:6/3 close down:stopped');
  });

  it('ManualStop in Idle cancels a pending automatic restart', () => {
    const sim = established(CONFIG);
    sim.dispatch({ type: 'TcpConnectionFails' });
    assert.ok(sim.timers.has('idleHold'));
    assert.equal(sig(sim.dispatch({ type: 'ManualStop' })), 'stop:idleHold');
    sim.advance(60_000);
    assert.equal(sim.state.state, 'Idle');
  });

  it('AutomaticStop with restart false stays down; by default it restarts after the back-off', () => {
    const a = step(CONFIG, reach('Established'), { type: 'AutomaticStop', subcode: 1, restart: false });
    assert.equal(sig(a.effects), 'stop:hold stop:keepalive notify:6/1 close down:stopped');
    assert.equal(a.state.started, false);
    const sim = established(CONFIG);
    sim.dispatch({ type: 'AutomaticStop', subcode: 8 });
    sim.advance(1500);
    assert.equal(sim.state.state, 'Connect');
  });

  it('the shutdown communication is cut to 255 octets on a character boundary', () => {
    const out = step(CONFIG, reach('Established'), { type: 'ManualStop', message: 'é'.repeat(200) });
    const sent = out.effects.find((e) => e.type === 'send');
    assert.ok(sent?.type === 'send' && sent.message.kind === 'notification');
    const data = sent.message.data;
    assert.equal(data[0], 254);
    assert.equal(data.length, 255);
    assert.equal(new TextDecoder('utf-8', { fatal: true }).decode(data.subarray(1)), 'é'.repeat(127));
  });
});

describe('graceful restart flags on down', () => {
  const grConfig = (gr: GracefulRestartCapability | undefined, extra: Partial<FsmConfig> = {}): FsmConfig => ({
    ...CONFIG,
    ...extra,
    ...(gr && { capabilities: { gracefulRestart: gr } }),
  });
  const grPeer = (gr: GracefulRestartCapability | undefined): OpenMessage => ({
    ...PEER_OPEN,
    capabilities: { ...PEER_OPEN.capabilities, ...(gr && { gracefulRestart: gr }) },
  });
  const downOf = (config: FsmConfig, peer: OpenMessage, ev: FsmEvent) => {
    const out = step(config, reach('Established', config, peer), ev);
    const down = out.effects.find((e) => e.type === 'down');
    assert.ok(down?.type === 'down');
    return down;
  };
  const hardReset = { code: 6, subcode: 9, data: Uint8Array.of(6, 2) };
  // [local GR, peer GR, event, graceful]
  const CASES: Array<[string, GracefulRestartCapability | undefined, GracefulRestartCapability | undefined, FsmEvent, boolean]> = [
    ['TCP failure, no GR', undefined, undefined, { type: 'TcpConnectionFails' }, false],
    ['TCP failure, GR both', GR, GR, { type: 'TcpConnectionFails' }, true],
    ['TCP failure, GR only from the peer', undefined, GR, { type: 'TcpConnectionFails' }, false],
    ['TCP failure, GR only from us', GR, undefined, { type: 'TcpConnectionFails' }, false],
    ['hold timer expiry, GR both', GR, GR, { type: 'HoldTimer_Expires' }, true],
    ['hold timer expiry, no GR', undefined, undefined, { type: 'HoldTimer_Expires' }, false],
    ['NOTIFICATION received, GR without N', GR, GR, { type: 'NotifMsg', notification: note(6, 6) }, false],
    ['NOTIFICATION received, N both', GRN, GRN, { type: 'NotifMsg', notification: note(6, 6) }, true],
    ['NOTIFICATION received, N only from the peer', GR, GRN, { type: 'NotifMsg', notification: note(6, 6) }, false],
    ['Hard Reset received, N both', GRN, GRN, { type: 'NotifMsg', notification: hardReset }, false],
    ['UPDATE error sent, N both', GRN, GRN, { type: 'UpdateMsgErr', notification: note(3, 1) }, true],
    ['UPDATE error sent, no N', GR, GR, { type: 'UpdateMsgErr', notification: note(3, 1) }, false],
    ['ManualStop, N both (sent as Hard Reset)', GRN, GRN, { type: 'ManualStop' }, false],
    ['AutomaticStop Other Configuration Change, N both', GRN, GRN, { type: 'AutomaticStop', subcode: 6 }, true],
    ['collision dump, GR both', GR, GR, { type: 'OpenCollisionDump' }, true],
    ['collision dump, no GR', undefined, undefined, { type: 'OpenCollisionDump' }, false],
  ];
  for (const [name, local, peer, ev, graceful] of CASES) {
    it(`${name}: graceful ${graceful}`, () => {
      assert.equal(downOf(grConfig(local), grPeer(peer), ev).graceful, graceful);
    });
  }

  it('with the N bit exchanged, Cease subcodes 1-4 go out as Hard Reset carrying the inner code and data (RFC 8538)', () => {
    const send = (config: FsmConfig, ev: FsmEvent) => {
      const out = step(config, reach('Established', config, grPeer(GRN)), ev);
      const s = out.effects.find((e) => e.type === 'send');
      assert.ok(s?.type === 'send' && s.message.kind === 'notification');
      return [s.message.code, s.message.subcode, [...s.message.data]];
    };
    const n = grConfig(GRN);
    assert.deepEqual(send(n, { type: 'ManualStop', message: 'x' }), [6, 9, [6, 2, 1, 120]]);
    assert.deepEqual(send(n, { type: 'ManualStop', subcode: 3 }), [6, 9, [6, 3]]);
    assert.deepEqual(send(n, { type: 'AutomaticStop', subcode: 1, data: Uint8Array.of(0, 1, 1, 0, 0, 0, 100) }), [6, 9, [6, 1, 0, 1, 1, 0, 0, 0, 100]]);
    assert.deepEqual(send(n, { type: 'AutomaticStop', subcode: 4 }), [6, 9, [6, 4]]);
    assert.deepEqual(send(grConfig(GRN, { hardAdminReset: false }), { type: 'AutomaticStop', subcode: 4 }), [6, 4, []]);
    assert.deepEqual(send(n, { type: 'AutomaticStop', subcode: 8 }), [6, 8, []]);
    assert.deepEqual(send(n, { type: 'OpenCollisionDump' }), [6, 7, []]);
    assert.deepEqual(send(grConfig(GR), { type: 'ManualStop' }), [6, 2, []]); // no N bit: plain Cease
  });
});

describe('route refresh', () => {
  it('is sent only for a negotiated family, and BoRR/EoRR only with enhanced route refresh', () => {
    const s = reach('Established');
    assert.equal(sig(step(CONFIG, s, { type: 'SendRouteRefresh', family: 'ipv4' }).effects), 'send:routeRefresh');
    assert.equal(sig(step(CONFIG, s, { type: 'SendRouteRefresh', family: 'ipv6' }).effects), '-');
    assert.equal(sig(step(CONFIG, s, { type: 'SendRouteRefresh', family: 'ipv4', subtype: 1 }).effects), '-');
    const noRr = reach('Established', CONFIG, { ...PEER_OPEN, capabilities: { ...PEER_OPEN.capabilities, routeRefresh: false } });
    assert.equal(sig(step(CONFIG, noRr, { type: 'SendRouteRefresh', family: 'ipv4' }).effects), '-');
  });
});

describe('steadyStep', () => {
  const types = ['KeepAliveMsg', 'UpdateMsg', 'RouteRefreshMsg'] as const;

  it('gives what step() gives for KEEPALIVE, UPDATE and ROUTE-REFRESH in Established, and leaves the state as it is', () => {
    for (const holdTime of [0, 3, 90]) {
      const config = { ...CONFIG, holdTime };
      const s = reach('Established', config, { ...PEER_OPEN, holdTime });
      for (const type of types) {
        const full = step(config, s, { type });
        assert.deepEqual(full.state, s, `${type}, hold ${holdTime}: step() changes nothing in the state`);
        assert.deepEqual(steadyStep(s, type), full.effects, `${type}, hold ${holdTime}`);
      }
    }
  });

  it('gives what step() gives for SendUpdate in Established (the keepalive timer restarted), and leaves the state as it is', () => {
    for (const holdTime of [0, 3, 90]) {
      const config = { ...CONFIG, holdTime };
      const s = reach('Established', config, { ...PEER_OPEN, holdTime });
      const full = step(config, s, { type: 'SendUpdate' });
      assert.deepEqual(full.state, s, `hold ${holdTime}: step() changes nothing in the state`);
      assert.deepEqual(steadyStep(s, 'SendUpdate'), full.effects, `hold ${holdTime}`);
      assert.equal(sig(full.effects), holdTime > 0 ? `send:update start:keepalive:${holdTime / 3}s` : 'send:update');
    }
    for (const st of ['Idle', 'Connect', 'Active', 'OpenSent', 'OpenConfirm'] as const) assert.equal(steadyStep(reach(st), 'SendUpdate'), undefined, st);
    // A keepalive timer at another duration than Established runs: step() decides.
    const s = reach('Established');
    assert.equal(steadyStep({ ...s, timers: { ...s.timers, keepalive: 1234 } }, 'SendUpdate'), undefined);
  });

  it('declines (undefined) in every other state, and for a hold timer Established would not run', () => {
    for (const st of ['Idle', 'Connect', 'Active', 'OpenSent', 'OpenConfirm'] as const) {
      for (const type of types) assert.equal(steadyStep(reach(st), type), undefined, `${st} ${type}`);
    }
    const s = reach('Established');
    assert.equal(steadyStep({ ...s, timers: { keepalive: 30_000 } }, 'UpdateMsg'), undefined);
  });
});
