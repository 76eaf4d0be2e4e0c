/*
 * Reconnect back-off: how long the FSM waits before its next connection attempt.
 *
 * tortie wants a peer that comes back to be Established again within 2 s, so the delays are short and bounded,
 * not RFC 4271's 120 s ConnectRetryTime: attempt n waits min(maxMs, initialMs * multiplier^n), reduced by up to
 * `jitter` of itself (RFC 4271 §10 asks for jittered ConnectRetry; reducing, never lengthening, keeps `maxMs` a
 * hard bound). With the defaults: 250, 500, 1000, then 1500 ms for ever; the first retry after a failure is
 * attempt 1 (400..500 ms). A fixed RFC-style timer is the policy {initialMs: T, multiplier: 1, maxMs: T, jitter: 0}.
 *
 * The same delay serves as ConnectRetryTimer (in Connect it also bounds a TCP connect that gets no answer) and as
 * IdleHoldTimer (the wait in Idle before an automatic restart). Randomness is injected: `backoff` takes a
 * `random()`, and the FSM draws it from a seeded PRNG kept in its state, so that `step` stays a pure function.
 */

import type { BackoffPolicy } from './fsm-types.js';

export const DEFAULT_BACKOFF: Readonly<BackoffPolicy> = { initialMs: 250, multiplier: 2, maxMs: 1500, jitter: 0.2 };

/** The policy with defaults filled in and nonsense (negative, NaN) replaced by the defaults. */
export function backoffPolicy(p: Partial<BackoffPolicy> | undefined): BackoffPolicy {
  const pick = (v: number | undefined, d: number, ok: (x: number) => boolean) => (v !== undefined && ok(v) ? v : d);
  const maxMs = pick(p?.maxMs, DEFAULT_BACKOFF.maxMs, (x) => x >= 1 && Number.isFinite(x));
  return {
    initialMs: Math.min(maxMs, pick(p?.initialMs, DEFAULT_BACKOFF.initialMs, (x) => x >= 1 && Number.isFinite(x))),
    multiplier: pick(p?.multiplier, DEFAULT_BACKOFF.multiplier, (x) => x >= 1 && Number.isFinite(x)),
    maxMs,
    jitter: pick(p?.jitter, DEFAULT_BACKOFF.jitter, (x) => x >= 0 && x <= 1),
  };
}

/** Delay in whole milliseconds (>= 1, <= policy.maxMs) before attempt number `attempt` (0-based). */
export function backoff(attempt: number, policy: BackoffPolicy, random: () => number): number {
  const n = attempt > 0 ? Math.min(1000, Math.floor(attempt)) : 0; // NaN -> 0; 1000 keeps pow() finite
  const base = Math.min(policy.maxMs, policy.initialMs * Math.pow(policy.multiplier, n));
  const r = random();
  const u = r >= 0 && r < 1 ? r : 0; // a broken random() must not break the bound
  return Math.max(1, Math.min(policy.maxMs, Math.round(base * (1 - policy.jitter * u))));
}

/** mulberry32: one uniform draw in [0, 1) and the next seed. Small, fast, good enough for jitter. */
export function draw(seed: number): [value: number, next: number] {
  const next = (seed + 0x6d2b79f5) >>> 0;
  let t = Math.imul(next ^ (next >>> 15), 1 | next);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return [((t ^ (t >>> 14)) >>> 0) / 4294967296, next];
}
