/*
 * The data the BGP finite state machine (fsm.ts) reads and writes: its configuration, its state, the events fed
 * to it and the effects it asks for. All plain data, so that the driver (one per peer, owning sockets and timers)
 * and the tests can build and compare them freely.
 *
 * Messages are described, not encoded: the FSM says "send an OPEN with these fields" and the driver hands that to
 * the codec. Received messages arrive already decoded; the OPEN is given in the small `OpenMessage` shape below,
 * independent of the codec's types (the driver maps one to the other).
 */

import type { Family, Negotiated } from './types.js';

export type BgpState = 'Idle' | 'Connect' | 'Active' | 'OpenSent' | 'OpenConfirm' | 'Established'; // RFC 4271 §8.2.2

/** The FSM's timers (RFC 4271 §8.1.3 and the optional IdleHoldTimer of §8.1.1). DelayOpenTimer is not implemented. */
export type TimerName = 'connectRetry' | 'hold' | 'keepalive' | 'idleHold';

/** The direction of the TCP connection an FSM holds: one we opened, or one the peer opened. */
export type Direction = 'outgoing' | 'incoming';

/** The peer's graceful restart capability (RFC 4724 §3, N bit RFC 8538 §2). */
export type GracefulRestartCapability = NonNullable<Negotiated['gracefulRestart']>;

/**
 * The capabilities of an OPEN (RFC 5492), only those tortie acts on; the codec drops the rest (RFC 5492 §3: a
 * speaker ignores capabilities it does not understand).
 */
export interface Capabilities {
  /** RFC 4760: the unicast families announced. Undefined: no multiprotocol capability (IPv4 unicast implied). */
  multiprotocol?: readonly Family[];
  /** RFC 6793: the 4-octet AS number. */
  fourOctetAs?: number;
  /** RFC 2918 (code 2, or the pre-standard 128). */
  routeRefresh?: boolean;
  /** RFC 7313 */
  enhancedRouteRefresh?: boolean;
  /** RFC 8654 */
  extendedMessage?: boolean;
  /** RFC 4724, RFC 8538 */
  gracefulRestart?: GracefulRestartCapability;
}

/** An OPEN message's fields (RFC 4271 §4.2), decoded. */
export interface OpenMessage {
  version: number;
  /** The 2-octet "My Autonomous System" field (AS_TRANS when the real AS needs 4 octets). */
  myAs: number;
  /** Seconds. */
  holdTime: number;
  /** Dotted quad. */
  bgpId: string;
  capabilities: Capabilities;
}

/** A NOTIFICATION's content (RFC 4271 §4.5). */
export interface NotificationSpec {
  code: number;
  subcode: number;
  data?: Uint8Array;
}

/** The capabilities tortie may insist on (RFC 5492 §5: else NOTIFICATION OPEN/Unsupported Capability). */
export type RequirableCapability = 'fourOctetAs' | 'routeRefresh' | 'enhancedRouteRefresh' | 'extendedMessage';

/** Reconnect back-off (see fsm-backoff.ts). Delay for attempt n: min(maxMs, initialMs * multiplier^n), less jitter. */
export interface BackoffPolicy {
  initialMs: number;
  multiplier: number;
  maxMs: number;
  /** 0..1: the delay is reduced by up to this fraction, at random. Jitter never lengthens a delay. */
  jitter: number;
}

/** One peering, as the FSM sees it. Times are in seconds unless the name says otherwise. */
export interface FsmConfig {
  localAs: number;
  /** Our BGP Identifier, dotted quad. */
  routerId: string;
  peerAs: number;
  /** Accept any peer AS in the OPEN (peerAs is then ignored). */
  acceptAnyPeerAs?: boolean;
  /** The hold time we offer: 0 (no keepalives, no hold timer) or 3..65535. RFC 4271 §4.2 */
  holdTime: number;
  /** Seconds between KEEPALIVEs; default and upper bound: a third of the negotiated hold time. RFC 4271 §10 */
  keepaliveTime?: number;
  /** Hold time while waiting for the peer's OPEN; default 240 ("4 minutes", RFC 4271 §8.2.2). */
  openHoldTime?: number;
  /** Never initiate a connection: wait in Active for the peer. */
  passive?: boolean;
  /** Connect-retry and restart delays; defaults in fsm-backoff.ts (DEFAULT_BACKOFF). */
  backoff?: Partial<BackoffPolicy>;
  /** What our OPEN announces besides the 4-octet AS, which is always sent. Default: IPv4 unicast, route refresh. */
  capabilities?: {
    families?: readonly Family[];
    routeRefresh?: boolean;
    enhancedRouteRefresh?: boolean;
    extendedMessage?: boolean;
    gracefulRestart?: GracefulRestartCapability;
  };
  /** Refuse peers without these (NOTIFICATION OPEN/Unsupported Capability). A common family is always required. */
  requireCapabilities?: readonly RequirableCapability[];
  /**
   * RFC 4271 §8.1.1 CollisionDetectEstablishedState: also resolve a collision with an Established session by
   * comparing BGP Identifiers. Default false: the Established session wins (unless graceful restart was
   * negotiated; see fsm-collision.ts).
   */
  collisionDetectEstablishedState?: boolean;
  /** RFC 8538 §5.1 leaves Cease/Administrative Reset to the operator: default true (sent as a Hard Reset). */
  hardAdminReset?: boolean;
}

/** Why an Established session went down (the `down` effect). */
export type DownReason =
  | 'stopped' // ManualStop or AutomaticStop: we sent a Cease
  | 'holdTimerExpired' // we sent Hold Timer Expired
  | 'connectionLost' // TCP failed
  | 'notificationReceived'
  | 'notificationSent' // an error we found in the peer's messages (UPDATE error, FSM error, ...)
  | 'collision'; // replaced by another connection (we sent Cease/Connection Collision Resolution)

/** The last reason the FSM fell back to Idle, for show commands and logs. */
export interface LastError {
  event: FsmEvent['type'];
  from: BgpState;
  notification?: NotificationSpec;
  /** True when we sent the notification, false when we received it. */
  sent?: boolean;
}

export interface FsmState {
  readonly state: BgpState;
  /** Between a Start and a ManualStop: after a failure the FSM restarts by itself (IdleHoldTimer). */
  readonly started: boolean;
  /** The TCP connection this FSM holds (OpenSent, OpenConfirm, Established). */
  readonly connection?: Direction;
  /** Set from the peer's OPEN on (OpenConfirm, Established). */
  readonly negotiated?: Negotiated;
  /** The timers the FSM believes are running, with the duration each was (re)started with. */
  readonly timers: Readonly<Partial<Record<TimerName, number>>>;
  /** RFC 4271 §8: failures since the last start (informational). */
  readonly connectRetryCounter: number;
  /** Consecutive failed attempts since the last Established or ManualStart: the back-off index. */
  readonly attempt: number;
  /** How many times the session reached Established. */
  readonly establishedTransitions: number;
  readonly lastError?: LastError;
  /** PRNG state for back-off jitter (mulberry32): randomness stays an input, so `step` stays pure. */
  readonly seed: number;
}

/** Payload of ManualStop and AutomaticStop: the Cease to send (RFC 4486) and, optionally, why (RFC 9003). */
export interface StopCause {
  /** Cease subcode; default Administrative Shutdown (2) for ManualStop, Other Configuration Change (6) otherwise. */
  subcode?: number;
  /** Shutdown communication (RFC 9003), for Administrative Shutdown and Administrative Reset. */
  message?: string;
  /** Raw data instead of `message`, e.g. AFI/SAFI/limit for Maximum Number of Prefixes Reached (RFC 4486 §4). */
  data?: Uint8Array;
}

/**
 * The events of RFC 4271 §8.1, by their RFC names (numbers in the comments; FSM_EVENT_NUMBER has them as data),
 * without the DelayOpen events (12, 20) and with the damping events (6, 7) folded into 3 and 5; plus three
 * events of tortie's own for ROUTE-REFRESH and for gating outgoing UPDATEs.
 */
export type FsmEvent =
  | { type: 'ManualStart' } // 1
  | ({ type: 'ManualStop' } & StopCause) // 2
  | { type: 'AutomaticStart' } // 3
  | { type: 'ManualStart_with_PassiveTcpEstablishment' } // 4
  | { type: 'AutomaticStart_with_PassiveTcpEstablishment' } // 5
  | ({ type: 'AutomaticStop'; /** Restart after the back-off (default true). */ restart?: boolean } & StopCause) // 8
  | { type: 'ConnectRetryTimer_Expires' } // 9
  | { type: 'HoldTimer_Expires' } // 10
  | { type: 'KeepaliveTimer_Expires' } // 11
  | { type: 'IdleHoldTimer_Expires' } // 13
  | { type: 'TcpConnection_Valid' } // 14
  | { type: 'Tcp_CR_Invalid' } // 15
  | { type: 'Tcp_CR_Acked' } // 16: our connection attempt succeeded
  | { type: 'TcpConnectionConfirmed' } // 17: the peer's connection was accepted
  | { type: 'TcpConnectionFails' } // 18
  | { type: 'BGPOpen'; open: OpenMessage } // 19: a structurally valid OPEN (semantics are checked here)
  | { type: 'BGPHeaderErr'; notification: NotificationSpec } // 21: the codec's verdict, to be sent
  | { type: 'BGPOpenMsgErr'; notification: NotificationSpec } // 22: the codec's verdict, to be sent
  | { type: 'OpenCollisionDump' } // 23: resolveCollision chose this connection to close
  | { type: 'NotifMsgVerErr'; notification: NotificationSpec } // 24
  | { type: 'NotifMsg'; notification: NotificationSpec } // 25 (an OPEN/Unsupported Version one is taken as 24)
  | { type: 'KeepAliveMsg' } // 26
  | { type: 'UpdateMsg' } // 27: a valid UPDATE (RFC 7606 treat-as-withdraw included)
  | { type: 'UpdateMsgErr'; notification: NotificationSpec } // 28: an UPDATE error that resets the session
  | { type: 'RouteRefreshMsg' } // RFC 2918 (not an RFC 4271 event)
  | { type: 'SendUpdate' } // tortie: the RIB has UPDATEs for this peer
  | { type: 'SendRouteRefresh'; family: Family; subtype?: number }; // tortie: ask the peer to resend a family

/** A message for the driver to encode and send. */
export type OutMessage =
  | { kind: 'open'; open: OpenMessage }
  | { kind: 'keepalive' }
  /** Send the pending UPDATEs now (the RIB builds them; STYLE.md 6). */
  | { kind: 'update' }
  | { kind: 'routeRefresh'; family: Family; subtype: number }
  | { kind: 'notification'; code: number; subcode: number; data: Uint8Array };

export type FsmEffect =
  /** Open a TCP connection to the peer. */
  | { type: 'connect' }
  /** Close this FSM's connection, or abandon its pending connection attempt. */
  | { type: 'close' }
  | { type: 'send'; message: OutMessage }
  /** Start the timer, or restart it if running; when it fires, feed timerEvent(timer). */
  | { type: 'startTimer'; timer: TimerName; ms: number }
  | { type: 'stopTimer'; timer: TimerName }
  /** The session is up: start sending UPDATEs (the initial table, then End-of-RIB). */
  | { type: 'established'; negotiated: Negotiated }
  /**
   * The session left Established. `graceful`: keep the peer's routes as stale (RFC 4724 §4.2, RFC 8538) rather
   * than withdraw them.
   */
  | { type: 'down'; reason: DownReason; graceful: boolean; notification?: NotificationSpec }
  /** Hand the message just received (UPDATE, ROUTE-REFRESH) on to the RIB. */
  | { type: 'process' };

export interface StepResult {
  state: FsmState;
  effects: FsmEffect[];
}
