/*
 * The BGP finite state machine of RFC 4271 §8 as a pure function: step(config, state, event) -> (state, effects).
 * No I/O, no clock, no timers, no randomness of its own: time arrives as timer events, jitter from a seed in the
 * state, and everything the FSM wants done (connect, send, close, (re)start or stop a timer, report the session
 * up or down) comes back as effects for the driver to apply in order. See fsm-types.ts for the data.
 *
 * Where tortie departs from, or chooses within, RFC 4271 §8.2.2:
 *  - Reconnecting is fast and bounded (fsm-backoff.ts): ConnectRetryTimer and IdleHoldTimer both run the back-off
 *    delay of the current attempt. After a failure the FSM goes to Idle as the RFC says and, while `started`
 *    (from a Start until a ManualStop), starts the IdleHoldTimer; its expiry restarts the session (as event 3,
 *    or 5 when passive). The back-off index counts failures since the last Established, so a flapping peer is
 *    slowed down to `maxMs` and no further; there is no other damping (DampPeerOscillations is not implemented).
 *  - TcpConnectionFails in Connect goes to Active (the RFC's DelayOpen branch) rather than Idle: the FSM keeps
 *    accepting the peer's connection while it waits to retry.
 *  - Passive peers never initiate: in Active they run no ConnectRetryTimer and wait for the peer.
 *  - DelayOpen (events 12, 20) is not implemented; SendNOTIFICATIONwithoutOPEN is off.
 *  - A timer event for a timer the FSM does not believe running is stale and ignored (the RFC would call a
 *    ConnectRetryTimer expiry in OpenSent an FSM error; it can only be a late callback).
 *  - A NOTIFICATION received in OpenSent just closes (the RFC lists event 25 among those answered with an FSM
 *    Error; answering a NOTIFICATION helps nobody). Other unexpected messages draw FSM Error with the RFC 6608
 *    subcode of the state.
 *  - ManualStop sends Cease/Administrative Shutdown (or the subcode given) with an RFC 9003 message; once the
 *    N bit is exchanged, Cease subcodes 1-4 go out as Hard Reset (fsm-notification.ts).
 *  - Collisions are decided outside `step` (fsm-collision.ts); the loser receives OpenCollisionDump.
 *  - UPDATEs leave only through the FSM: the SendUpdate event yields `send update` in Established and nothing
 *    elsewhere, and restarts the KeepaliveTimer (RFC 4271 §4.4).
 * The full transition table, every state x event pair, is the TABLE of fsm.test.ts.
 */

import type { Negotiated } from './types.js';
import { CEASE, ERR, FSM_ERR, OPEN_ERR } from './wire/constants.js';
import { backoff, backoffPolicy, draw } from './fsm-backoff.js';
import { cease, gracefulAfterNotification, grExchanged, notification, shutdownCommunication } from './fsm-notification.js';
import { DEFAULT_OPEN_HOLD_TIME, isNotificationSpec, localOpen, negotiate } from './fsm-open.js';
import type {
  DownReason,
  FsmConfig,
  FsmEffect,
  FsmEvent,
  FsmState,
  NotificationSpec,
  OutMessage,
  StopCause,
  StepResult,
  TimerName,
} from './fsm-types.js';

export * from './fsm-types.js';
export { backoff, backoffPolicy, DEFAULT_BACKOFF } from './fsm-backoff.js';
export { connectionDisposition, resolveCollision, secondConnection, winningDirection } from './fsm-collision.js';
export type { CollisionVerdict, ConnectionDisposition } from './fsm-collision.js';
export { cease, gracefulAfterNotification, grExchanged, isHardReset, nBitExchanged, shutdownCommunication } from './fsm-notification.js';
export { DEFAULT_OPEN_HOLD_TIME, effectiveAs, isNotificationSpec, localOpen, negotiate } from './fsm-open.js';

/** RFC 4271 §8.1 event numbers, for logs (tortie's own events have none). */
export const FSM_EVENT_NUMBER: Readonly<Partial<Record<FsmEvent['type'], number>>> = {
  ManualStart: 1,
  ManualStop: 2,
  AutomaticStart: 3,
  ManualStart_with_PassiveTcpEstablishment: 4,
  AutomaticStart_with_PassiveTcpEstablishment: 5,
  AutomaticStop: 8,
  ConnectRetryTimer_Expires: 9,
  HoldTimer_Expires: 10,
  KeepaliveTimer_Expires: 11,
  IdleHoldTimer_Expires: 13,
  TcpConnection_Valid: 14,
  Tcp_CR_Invalid: 15,
  Tcp_CR_Acked: 16,
  TcpConnectionConfirmed: 17,
  TcpConnectionFails: 18,
  BGPOpen: 19,
  BGPHeaderErr: 21,
  BGPOpenMsgErr: 22,
  OpenCollisionDump: 23,
  NotifMsgVerErr: 24,
  NotifMsg: 25,
  KeepAliveMsg: 26,
  UpdateMsg: 27,
  UpdateMsgErr: 28,
};

const TIMER_EVENT = {
  connectRetry: 'ConnectRetryTimer_Expires',
  hold: 'HoldTimer_Expires',
  keepalive: 'KeepaliveTimer_Expires',
  idleHold: 'IdleHoldTimer_Expires',
} as const satisfies Record<TimerName, FsmEvent['type']>;
const TIMERS = Object.keys(TIMER_EVENT) as TimerName[];
const TIMER_OF_EVENT: ReadonlyMap<FsmEvent['type'], TimerName> = new Map(TIMERS.map((t) => [TIMER_EVENT[t], t]));

/** The event to feed when `timer` fires. */
export function timerEvent(timer: TimerName): FsmEvent {
  return { type: TIMER_EVENT[timer] };
}

/** A stopped FSM. `seed` seeds the back-off jitter: give each peer its own (e.g. from crypto.randomInt). */
export function initialState(seed = 0x2545f491): FsmState {
  return {
    state: 'Idle',
    started: false,
    timers: {},
    connectRetryCounter: 0,
    attempt: 0,
    establishedTransitions: 0,
    seed: seed >>> 0,
  };
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type Draft = Mutable<FsmState> & { timers: Partial<Record<TimerName, number>> };

/** How an exit to Idle continues: `retry` restarts after the back-off (if started); `halt` stays down. */
interface IdleExit {
  after: 'retry' | 'halt';
  /** ManualStop: counters back to zero (RFC 4271 §8.2.2). */
  reset?: boolean;
  /** The NOTIFICATION we send before closing. */
  send?: OutMessage & { kind: 'notification' };
  /** The NOTIFICATION we received. */
  received?: NotificationSpec;
  /** For `down`, when leaving Established. */
  reason?: DownReason;
  graceful?: boolean;
}

/** One step: a draft state and the effects, with the helpers every transition uses. */
class Step {
  readonly s: Draft;
  readonly effects: FsmEffect[] = [];
  constructor(
    readonly config: FsmConfig,
    state: FsmState,
    readonly event: FsmEvent,
  ) {
    this.s = { ...state, timers: { ...state.timers } };
  }

  emit(e: FsmEffect): void {
    this.effects.push(e);
  }
  send(message: OutMessage): void {
    this.emit({ type: 'send', message });
  }
  start(timer: TimerName, ms: number): void {
    this.s.timers[timer] = ms;
    this.emit({ type: 'startTimer', timer, ms });
  }
  stop(timer: TimerName): void {
    if (this.s.timers[timer] === undefined) return;
    delete this.s.timers[timer];
    this.emit({ type: 'stopTimer', timer });
  }
  /** The back-off delay of the current attempt, drawing jitter from the state's seed. */
  delay(): number {
    const [r, seed] = draw(this.s.seed);
    this.s.seed = seed;
    return backoff(this.s.attempt, backoffPolicy(this.config.backoff), () => r);
  }
  get negotiated(): Negotiated | undefined {
    return this.s.negotiated;
  }

  /** Idle -> Connect, or Active when passive (RFC 4271 §8.2.2 Idle, events 1, 3, 4, 5). */
  startSession(passiveEvent: boolean, resetAttempt: boolean): void {
    this.stop('idleHold');
    this.s.started = true;
    this.s.connectRetryCounter = 0;
    if (resetAttempt) this.s.attempt = 0;
    if (passiveEvent || this.config.passive) {
      if (!this.config.passive) this.start('connectRetry', this.delay());
      this.s.state = 'Active';
    } else {
      this.start('connectRetry', this.delay());
      this.emit({ type: 'connect' });
      this.s.state = 'Connect';
    }
  }

  /** Connect/Active -> OpenSent on a completed TCP connection. */
  openSent(): void {
    this.stop('connectRetry');
    this.s.connection = this.event.type === 'Tcp_CR_Acked' ? 'outgoing' : 'incoming';
    this.send({ kind: 'open', open: localOpen(this.config) });
    this.start('hold', (this.config.openHoldTime ?? DEFAULT_OPEN_HOLD_TIME) * 1000);
    this.s.state = 'OpenSent';
  }

  /** The common exit to Idle: stop timers, maybe notify, close, report `down`, maybe schedule a restart. */
  idle(x: IdleExit): void {
    const from = this.s.state;
    for (const t of TIMERS) this.stop(t);
    if (x.send) this.send(x.send);
    this.emit({ type: 'close' });
    const sent = x.send && { code: x.send.code, subcode: x.send.subcode, data: x.send.data };
    const note = sent ?? x.received;
    if (from === 'Established') {
      const reason = x.reason ?? 'connectionLost';
      const down: FsmEffect & { type: 'down' } = { type: 'down', reason, graceful: x.graceful ?? false };
      if (note) down.notification = note;
      this.emit(down);
    }
    const type = this.event.type === 'NotifMsg' && isVersionError(this.event.notification) ? 'NotifMsgVerErr' : this.event.type;
    this.s.lastError = note ? { event: type, from, notification: note, sent: sent !== undefined } : { event: type, from };
    this.s.state = 'Idle';
    delete this.s.connection;
    delete this.s.negotiated;
    if (x.reset) {
      this.s.connectRetryCounter = 0;
      this.s.attempt = 0;
    }
    if (x.after === 'halt') {
      this.s.started = false;
      return;
    }
    this.s.connectRetryCounter++;
    this.s.attempt++;
    if (this.s.started) this.start('idleHold', this.delay());
  }

  /** ManualStop / AutomaticStop: Cease (RFC 4486) when a connection is up, then Idle. */
  stopSession(c: StopCause, manual: boolean, restart: boolean): void {
    const subcode = c.subcode ?? (manual ? CEASE.ADMINISTRATIVE_SHUTDOWN : CEASE.OTHER_CONFIGURATION_CHANGE);
    const adminText = subcode === CEASE.ADMINISTRATIVE_SHUTDOWN || subcode === CEASE.ADMINISTRATIVE_RESET;
    const data = c.data ?? (adminText ? shutdownCommunication(c.message) : undefined);
    const hasConnection = this.s.connection !== undefined;
    const send = hasConnection ? cease(this.config, this.negotiated, subcode, data) : undefined;
    this.idle({
      after: manual || !restart ? 'halt' : 'retry',
      reset: manual,
      ...(send && { send }),
      reason: 'stopped',
      graceful: send ? gracefulAfterNotification(this.config, this.negotiated, send) : false,
    });
  }

  /** We found an error in the peer's messages: send it and go to Idle. */
  fault(n: NotificationSpec): void {
    const send = notification(n.code, n.subcode, n.data);
    const graceful = gracefulAfterNotification(this.config, this.negotiated, send);
    this.idle({ after: 'retry', send, reason: 'notificationSent', graceful });
  }

  result(): StepResult {
    return { state: this.s, effects: this.effects };
  }
}

const isVersionError = (n: NotificationSpec) => n.code === ERR.OPEN_MESSAGE && n.subcode === OPEN_ERR.UNSUPPORTED_VERSION_NUMBER;
const holdMs = (n: Negotiated | undefined) => (n?.holdTime ?? 0) * 1000;
const keepaliveMs = (n: Negotiated | undefined) => (n?.keepaliveTime ?? 0) * 1000;

/** Receiving a message before any connection exists (Connect, Active): RFC 4271 "any other event" -> Idle. */
const MESSAGE_EVENTS: ReadonlySet<FsmEvent['type']> = new Set([
  'BGPOpen',
  'BGPHeaderErr',
  'BGPOpenMsgErr',
  'OpenCollisionDump',
  'NotifMsgVerErr',
  'NotifMsg',
  'KeepAliveMsg',
  'UpdateMsg',
  'UpdateMsgErr',
  'RouteRefreshMsg',
]);

/** The RFC 4271 §8 FSM. Pure: the same inputs give the same outputs, and it never throws on any event. */
export function step(config: FsmConfig, state: FsmState, event: FsmEvent): StepResult {
  const timer = TIMER_OF_EVENT.get(event.type);
  if (timer !== undefined && state.timers[timer] === undefined) return { state, effects: [] }; // stale expiry
  const b = new Step(config, state, event);
  if (timer !== undefined) delete b.s.timers[timer]; // it fired: the driver no longer runs it
  onEvent(b);
  return b.result();
}

/** The events steadyStep answers: a message received, or UPDATEs to send. */
export type SteadyEvent = 'KeepAliveMsg' | 'UpdateMsg' | 'RouteRefreshMsg' | 'SendUpdate';

const PROCESS: FsmEffect = { type: 'process' };
const PROCESS_ONLY: readonly FsmEffect[] = [PROCESS];
const NO_EFFECTS: readonly FsmEffect[] = [];
const SEND_UPDATE: FsmEffect = { type: 'send', message: { kind: 'update' } };
const SEND_UPDATE_ONLY: readonly FsmEffect[] = [SEND_UPDATE];

/**
 * What step() does for a KEEPALIVE, UPDATE or ROUTE-REFRESH received in Established, or for SendUpdate, without
 * the draft copy of the state step() makes: those change nothing in the state (the hold or keepalive timer
 * restarts at the duration it already has), so the state stays `state` and only the effects are returned — the
 * timer restarted (when one runs) and, for UPDATE and ROUTE-REFRESH, `process`; for SendUpdate, `send update`.
 * Undefined in any other state; the caller then calls step(). A session receives one of these per message, and
 * a reflector sends one per client for each route it reflects: the copy was most of the FSM's cost.
 */
export function steadyStep(state: FsmState, type: SteadyEvent): readonly FsmEffect[] | undefined {
  const n = state.negotiated;
  if (state.state !== 'Established' || n === undefined) return undefined;
  const hold = n.holdTime > 0 ? holdMs(n) : undefined;
  // Established always runs the hold timer at this duration (or none with hold time 0); anything else, step() decides.
  if (state.timers.hold !== hold) return undefined;
  if (type === 'SendUpdate') {
    // UPDATEs out restart the keepalive timer at the duration it already runs at (none with hold time 0).
    if (hold === undefined) return SEND_UPDATE_ONLY;
    const keepalive = keepaliveMs(n);
    if (state.timers.keepalive !== keepalive) return undefined;
    return [SEND_UPDATE, { type: 'startTimer', timer: 'keepalive', ms: keepalive }];
  }
  if (hold === undefined) return type === 'KeepAliveMsg' ? NO_EFFECTS : PROCESS_ONLY;
  const restart: FsmEffect = { type: 'startTimer', timer: 'hold', ms: hold };
  return type === 'KeepAliveMsg' ? [restart] : [restart, PROCESS];
}

function onEvent(b: Step): void {
  switch (b.s.state) {
    case 'Idle':
      return idle(b);
    case 'Connect':
    case 'Active':
      return connectOrActive(b);
    case 'OpenSent':
      return openSent(b);
    case 'OpenConfirm':
      return openConfirm(b);
    case 'Established':
      return established(b);
  }
}

function idle(b: Step): void {
  const e = b.event;
  switch (e.type) {
    case 'ManualStart':
      return b.startSession(false, true);
    case 'AutomaticStart':
    case 'IdleHoldTimer_Expires':
      return b.startSession(false, false);
    case 'ManualStart_with_PassiveTcpEstablishment':
      return b.startSession(true, true);
    case 'AutomaticStart_with_PassiveTcpEstablishment':
      return b.startSession(true, false);
    case 'ManualStop': // cancels a pending automatic restart
      b.stop('idleHold');
      b.s.started = false;
      b.s.connectRetryCounter = 0;
      b.s.attempt = 0;
      return;
    case 'Tcp_CR_Acked':
    case 'TcpConnectionConfirmed': // Idle refuses connections
      return b.emit({ type: 'close' });
    default:
      return; // RFC 4271: other events leave Idle unchanged
  }
}

function connectOrActive(b: Step): void {
  const e = b.event;
  switch (e.type) {
    case 'ManualStop':
      return b.stopSession(e, true, false);
    case 'AutomaticStop':
      return b.stopSession(e, false, e.restart !== false);
    case 'ConnectRetryTimer_Expires':
      if (b.s.state === 'Connect') {
        b.emit({ type: 'close' }); // the attempt got no answer
        b.s.attempt++;
      }
      b.start('connectRetry', b.delay());
      b.emit({ type: 'connect' });
      b.s.state = 'Connect';
      return;
    case 'Tcp_CR_Acked':
    case 'TcpConnectionConfirmed':
      return b.openSent();
    case 'TcpConnectionFails':
      if (b.s.state === 'Active') return b.idle({ after: 'retry' });
      b.s.attempt++;
      b.s.connectRetryCounter++;
      b.start('connectRetry', b.delay());
      b.s.state = 'Active';
      return;
    default:
      if (MESSAGE_EVENTS.has(e.type)) b.idle({ after: 'retry' });
      return;
  }
}

/** Messages that have no business before Established, with the RFC 6608 subcode per state. */
function unexpected(b: Step, subcode: number): void {
  b.fault({ code: ERR.FSM, subcode });
}

function openSent(b: Step): void {
  const e = b.event;
  switch (e.type) {
    case 'ManualStop':
      return b.stopSession(e, true, false);
    case 'AutomaticStop':
      return b.stopSession(e, false, e.restart !== false);
    case 'HoldTimer_Expires':
      return b.fault({ code: ERR.HOLD_TIMER_EXPIRED, subcode: 0 });
    case 'TcpConnectionFails':
      b.stop('hold');
      b.emit({ type: 'close' });
      delete b.s.connection;
      b.s.attempt++;
      b.s.connectRetryCounter++;
      if (!b.config.passive) b.start('connectRetry', b.delay());
      b.s.state = 'Active';
      return;
    case 'BGPOpen': {
      const n = negotiate(b.config, localOpen(b.config), e.open);
      if (isNotificationSpec(n)) return b.fault(n);
      b.s.negotiated = n;
      b.send({ kind: 'keepalive' });
      if (n.holdTime > 0) {
        b.start('keepalive', keepaliveMs(n));
        b.start('hold', holdMs(n));
      } else {
        b.stop('hold'); // hold time 0: neither timer runs (RFC 4271 §4.4)
      }
      b.s.state = 'OpenConfirm';
      return;
    }
    case 'BGPHeaderErr':
    case 'BGPOpenMsgErr':
      return b.fault(e.notification);
    case 'OpenCollisionDump':
      return b.idle({ after: 'halt', send: cease(b.config, undefined, CEASE.CONNECTION_COLLISION_RESOLUTION) });
    case 'NotifMsgVerErr':
    case 'NotifMsg':
      return b.idle({ after: 'retry', received: e.notification });
    case 'KeepAliveMsg':
    case 'UpdateMsg':
    case 'UpdateMsgErr':
    case 'RouteRefreshMsg':
      return unexpected(b, FSM_ERR.UNEXPECTED_IN_OPENSENT);
    default:
      return;
  }
}

function openConfirm(b: Step): void {
  const e = b.event;
  switch (e.type) {
    case 'ManualStop':
      return b.stopSession(e, true, false);
    case 'AutomaticStop':
      return b.stopSession(e, false, e.restart !== false);
    case 'HoldTimer_Expires':
      return b.fault({ code: ERR.HOLD_TIMER_EXPIRED, subcode: 0 });
    case 'KeepaliveTimer_Expires':
      b.send({ kind: 'keepalive' });
      b.start('keepalive', keepaliveMs(b.negotiated));
      return;
    case 'TcpConnectionFails':
      return b.idle({ after: 'retry' });
    case 'BGPHeaderErr':
    case 'BGPOpenMsgErr':
      return b.fault(e.notification);
    case 'OpenCollisionDump':
      return b.idle({ after: 'halt', send: cease(b.config, b.negotiated, CEASE.CONNECTION_COLLISION_RESOLUTION) });
    case 'NotifMsgVerErr':
    case 'NotifMsg':
      return b.idle({ after: 'retry', received: e.notification });
    case 'KeepAliveMsg': {
      const n = b.negotiated;
      if (!n) return b.idle({ after: 'retry' }); // unreachable: set on entering OpenConfirm
      if (n.holdTime > 0) b.start('hold', holdMs(n));
      b.s.state = 'Established';
      b.s.attempt = 0;
      b.s.establishedTransitions++;
      b.emit({ type: 'established', negotiated: n });
      return;
    }
    case 'BGPOpen':
    case 'UpdateMsg':
    case 'UpdateMsgErr':
    case 'RouteRefreshMsg':
      return unexpected(b, FSM_ERR.UNEXPECTED_IN_OPENCONFIRM);
    default:
      return;
  }
}

function established(b: Step): void {
  const e = b.event;
  const n = b.negotiated;
  if (!n) return b.idle({ after: 'retry' }); // unreachable: set since OpenConfirm
  const gr = grExchanged(b.config, n);
  switch (e.type) {
    case 'ManualStop':
      return b.stopSession(e, true, false);
    case 'AutomaticStop':
      return b.stopSession(e, false, e.restart !== false);
    case 'HoldTimer_Expires':
      return b.idle({
        after: 'retry',
        send: notification(ERR.HOLD_TIMER_EXPIRED, 0),
        reason: 'holdTimerExpired',
        graceful: gr,
      });
    case 'KeepaliveTimer_Expires':
      b.send({ kind: 'keepalive' });
      b.start('keepalive', keepaliveMs(n));
      return;
    case 'TcpConnectionFails':
      return b.idle({ after: 'retry', reason: 'connectionLost', graceful: gr });
    case 'BGPOpen':
      return unexpected(b, FSM_ERR.UNEXPECTED_IN_ESTABLISHED);
    case 'BGPHeaderErr':
    case 'BGPOpenMsgErr':
    case 'UpdateMsgErr':
      return b.fault(e.notification);
    case 'OpenCollisionDump': // replaced by the peer's new connection (fsm-collision.ts)
      return b.idle({
        after: 'halt',
        send: cease(b.config, n, CEASE.CONNECTION_COLLISION_RESOLUTION),
        reason: 'collision',
        graceful: gr,
      });
    case 'NotifMsgVerErr':
    case 'NotifMsg':
      return b.idle({
        after: 'retry',
        received: e.notification,
        reason: 'notificationReceived',
        graceful: gracefulAfterNotification(b.config, n, e.notification),
      });
    case 'KeepAliveMsg':
      if (n.holdTime > 0) b.start('hold', holdMs(n));
      return;
    case 'UpdateMsg':
    case 'RouteRefreshMsg':
      if (n.holdTime > 0) b.start('hold', holdMs(n));
      b.emit({ type: 'process' });
      return;
    case 'SendUpdate':
      b.send({ kind: 'update' });
      if (n.holdTime > 0) b.start('keepalive', keepaliveMs(n));
      return;
    case 'SendRouteRefresh': {
      const subtype = e.subtype ?? 0;
      // RFC 2918 §4: only when negotiated and for a negotiated family; RFC 7313 §4: BoRR/EoRR need enhanced.
      if (!n.routeRefresh || !n.families.includes(e.family) || (subtype !== 0 && !n.enhancedRouteRefresh)) return;
      b.send({ kind: 'routeRefresh', family: e.family, subtype });
      return;
    }
    default:
      return;
  }
}
