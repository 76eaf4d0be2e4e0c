/*
 * A fake-clock driver for the FSM, for tests and simulations: it applies the timer effects to a timer table,
 * fires timers when time is advanced, and delivers scheduled events (a fake peer's replies) in time order.
 * Everything else the FSM asks for (connect, send, close, established, down) is recorded for inspection and
 * handed to `onEffect`, where a test plays the peer.
 *
 * Time is a plain number of milliseconds. Ties: timers and scheduled events due at the same instant run in
 * the order they were set.
 */

import { initialState, step, timerEvent } from '../fsm.js';
import type { BgpState, FsmConfig, FsmEffect, FsmEvent, FsmState, TimerName } from '../fsm-types.js';

export interface SimRecord {
  at: number;
  event: FsmEvent;
  from: BgpState;
  to: BgpState;
  effects: FsmEffect[];
}

const TIMER_NAMES: readonly TimerName[] = ['connectRetry', 'hold', 'keepalive', 'idleHold'];

interface Due {
  at: number;
  order: number;
  fire: () => void;
}

export class FsmSim {
  now = 0;
  state: FsmState;
  /** Deadline of each running timer. */
  readonly timers = new Map<TimerName, number>();
  readonly log: SimRecord[] = [];
  /** Called for every effect after the timer table is updated. */
  onEffect: ((effect: FsmEffect, sim: FsmSim) => void) | undefined;
  private scheduled: Due[] = [];
  private order = 0;
  private readonly timerOrder = new Map<TimerName, number>();

  constructor(
    readonly config: FsmConfig,
    seed?: number,
  ) {
    this.state = initialState(seed);
  }

  /** Feeds one event now; returns its effects. A timer's event counts as that timer firing now. */
  dispatch(event: FsmEvent): FsmEffect[] {
    for (const t of TIMER_NAMES) if (timerEvent(t).type === event.type) this.timers.delete(t);
    const from = this.state.state;
    const { state, effects } = step(this.config, this.state, event);
    this.state = state;
    this.log.push({ at: this.now, event, from, to: state.state, effects });
    for (const e of effects) {
      if (e.type === 'startTimer') {
        this.timers.set(e.timer, this.now + e.ms);
        this.timerOrder.set(e.timer, this.order++);
      } else if (e.type === 'stopTimer') {
        this.timers.delete(e.timer);
      }
    }
    for (const e of effects) this.onEffect?.(e, this);
    return effects;
  }

  /** Runs `make` after `ms` (relative to now); the event it returns, if any, is dispatched then. */
  schedule(ms: number, make: () => FsmEvent | undefined): void {
    this.scheduled.push({
      at: this.now + ms,
      order: this.order++,
      fire: () => {
        const ev = make();
        if (ev) this.dispatch(ev);
      },
    });
  }

  /** The earliest pending timer or scheduled event, if any. */
  private next(): Due | undefined {
    let best: Due | undefined;
    for (const [timer, at] of this.timers) {
      const order = this.timerOrder.get(timer) ?? 0;
      if (!best || at < best.at || (at === best.at && order < best.order)) {
        best = {
          at,
          order,
          fire: () => this.dispatch(timerEvent(timer)),
        };
      }
    }
    for (const d of this.scheduled) if (!best || d.at < best.at || (d.at === best.at && d.order < best.order)) best = d;
    return best;
  }

  /** Advances the clock by `ms`, firing everything due on the way, in order. */
  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      const d = this.next();
      if (!d || d.at > end) break;
      this.scheduled = this.scheduled.filter((x) => x !== d);
      this.now = d.at;
      d.fire();
    }
    this.now = end;
  }

  /** Advances until `done()` holds or `limit` ms have passed; returns whether it held. */
  runUntil(done: () => boolean, limit: number): boolean {
    const end = this.now + limit;
    while (!done()) {
      const d = this.next();
      if (!d || d.at > end) {
        this.now = end;
        return done();
      }
      this.advance(d.at - this.now);
    }
    return true;
  }

  /** Effects of every step so far, flattened. */
  effects(): FsmEffect[] {
    return this.log.flatMap((r) => r.effects);
  }
}
