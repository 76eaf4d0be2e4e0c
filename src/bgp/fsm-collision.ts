/*
 * Connection collisions (RFC 4271 §6.8): two TCP connections to one peer, one we opened and one it opened.
 *
 * RFC 4271 §8 keeps one FSM per connection. The driver holds one FSM per peer; while that FSM has no connection
 * (Idle, Connect, Active) it takes the first connection that completes, either direction. A connection that
 * completes while the FSM already holds one (OpenSent or later) gets a second FSM, from `secondConnection`,
 * which sends its own OPEN. When an OPEN arrives on either, before stepping it the driver asks
 * `resolveCollision(config, open, receiving, other)`:
 *   'none'          - step the receiving FSM with BGPOpen as usual;
 *   'dumpReceiving' - step the receiving FSM with OpenCollisionDump (it sends Cease/Connection Collision
 *                     Resolution and closes) and discard it;
 *   'dumpOther'     - step the other FSM with OpenCollisionDump and discard it, then step the receiving one
 *                     with BGPOpen; it is now the peer's FSM.
 * An FSM dumped this way ends in Idle with no timer and `started` false: it is finished, not restarting. So if it
 * was the peer's FSM, the survivor becomes the peer's FSM at once (not only once it is Established): should the
 * surviving connection fail too, its FSM goes on connecting after the back-off, where the finished one would
 * leave the peer in Idle for good. A second FSM whose connection fails (it falls back to Active or Idle) is
 * discarded too while the peer's FSM carries on; if the peer's FSM was the one that failed, the second one
 * becomes the peer's FSM. A connection attempt that fails after its FSM took the other connection concerns no
 * FSM: drop the event.
 *
 * Who wins (RFC 4271 §6.8): the connection initiated by the speaker with the higher BGP Identifier, compared as
 * uint32; on equal identifiers (allowed between ASes, RFC 6286 §2.3) the one initiated by the higher AS. Only an
 * `other` in OpenConfirm or Established is considered (an OpenSent one has not yet shown the peer's OPEN; RFC
 * 4271 makes that check optional and tortie skips it: that connection's own OPEN triggers the check later).
 * Against Established:
 *   - graceful restart exchanged and the receiving connection completed after the session was Established (its
 *     FSM, from `secondConnection`, counts as many Established transitions as the session's): the new
 *     connection wins. The peer opening a new session while ours looks Established means it restarted (RFC 4724
 *     §4.2); the old session goes down gracefully. A connection that was already there while the session was
 *     being set up is no restart but the other half of an ordinary collision, decided as below — as BIRD and FRR
 *     do (they take a connection for a restart only if it arrives while the session is Established). Taking it
 *     for a restart would dump our Established session while the peer, seeing its side Established too, dumps
 *     the new connection: both connections lost;
 *   - else with collisionDetectEstablishedState: the identifier rule above (RFC 4271 §8.1.1);
 *   - else the Established session wins (RFC 4271 §6.8 default).
 */

import { v4Parse } from '../net/index.js';
import { draw } from './fsm-backoff.js';
import { grExchanged } from './fsm-notification.js';
import { DEFAULT_OPEN_HOLD_TIME, effectiveAs, isNotificationSpec, localOpen, negotiate } from './fsm-open.js';
import type { Direction, FsmConfig, FsmState, OpenMessage, StepResult } from './fsm-types.js';

export type ConnectionDisposition = 'take' | 'second' | 'refuse';

/**
 * What to do with a TCP connection to the peer that just completed (ours or its):
 * 'take': step this FSM with Tcp_CR_Acked / TcpConnectionConfirmed; 'second': `secondConnection`;
 * 'refuse': close it (an Idle FSM refuses connections, RFC 4271 §8.2.2).
 */
export function connectionDisposition(state: FsmState): ConnectionDisposition {
  switch (state.state) {
    case 'Idle':
      return 'refuse';
    case 'Connect':
    case 'Active':
      return 'take';
    default:
      return 'second';
  }
}

/** The FSM of a second connection to the peer: in OpenSent, its OPEN sent, the 4-minute hold timer running. */
export function secondConnection(config: FsmConfig, main: FsmState, direction: Direction): StepResult {
  const holdMs = (config.openHoldTime ?? DEFAULT_OPEN_HOLD_TIME) * 1000;
  const state: FsmState = {
    state: 'OpenSent',
    started: main.started,
    connection: direction,
    timers: { hold: holdMs },
    connectRetryCounter: main.connectRetryCounter,
    attempt: main.attempt,
    establishedTransitions: main.establishedTransitions,
    seed: draw(main.seed ^ 0x5bd1e995)[1], // its own jitter sequence
  };
  return {
    state,
    effects: [
      { type: 'send', message: { kind: 'open', open: localOpen(config) } },
      { type: 'startTimer', timer: 'hold', ms: holdMs },
    ],
  };
}

export type CollisionVerdict = 'none' | 'dumpReceiving' | 'dumpOther';

/**
 * Decides a collision when `open` (already decoded, not yet stepped) arrives on the connection of `receiving`
 * while `other` holds the other connection to the same peer.
 */
export function resolveCollision(config: FsmConfig, open: OpenMessage, receiving: FsmState, other: FsmState): CollisionVerdict {
  if (other.state !== 'OpenConfirm' && other.state !== 'Established') return 'none';
  if (receiving.connection === undefined || other.connection === undefined) return 'none';
  // An OPEN that will be refused must not cost the other connection its life: stepping it sends the error.
  if (isNotificationSpec(negotiate(config, localOpen(config), open))) return 'none';
  if (other.state === 'Established') {
    const afterEstablished = receiving.establishedTransitions === other.establishedTransitions;
    if (afterEstablished && grExchanged(config, other.negotiated)) return 'dumpOther';
    if (!config.collisionDetectEstablishedState) return 'dumpReceiving';
  }
  const winner = winningDirection(config, open);
  if (winner === undefined || receiving.connection === other.connection) return 'dumpReceiving';
  return receiving.connection === winner ? 'dumpOther' : 'dumpReceiving';
}

/** The direction (seen from us) of the connection that survives a collision; undefined if nothing decides. */
export function winningDirection(config: FsmConfig, open: OpenMessage): Direction | undefined {
  const local = v4Parse(config.routerId);
  const remote = v4Parse(open.bgpId);
  if (local !== remote) return local > remote ? 'outgoing' : 'incoming'; // v4Parse yields uint32: no sign trap
  const peerAs = effectiveAs(open);
  if (config.localAs === peerAs) return undefined; // same AS and identifier: the OPEN is refused anyway
  return config.localAs > peerAs ? 'outgoing' : 'incoming';
}
