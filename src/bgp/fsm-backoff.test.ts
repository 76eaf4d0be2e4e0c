// The reconnect back-off: the default sequence, its bounds for any jitter, and the policy's defaults.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { backoff, backoffPolicy, DEFAULT_BACKOFF } from './fsm.js';
import { draw } from './fsm-backoff.js';

const P = backoffPolicy(undefined);
const at = (r: number) => () => r;

describe('backoff', () => {
  it('defaults: 250, 500, 1000, then 1500 ms for ever, before jitter', () => {
    assert.deepEqual([0, 1, 2, 3, 4, 10, 1e6].map((n) => backoff(n, P, at(0))), [250, 500, 1000, 1500, 1500, 1500, 1500]);
  });

  it('jitter only shortens, by at most the jitter fraction', () => {
    assert.deepEqual([0, 1, 2, 3].map((n) => backoff(n, P, at(0.5))), [225, 450, 900, 1350]);
    assert.deepEqual([0, 1, 2, 3].map((n) => backoff(n, P, at(0.999999))), [200, 400, 800, 1200]);
  });

  it('the first retry after a failure (attempt 1) is well under a second; the cap is 1.5 s (property)', () => {
    fc.assert(
      fc.property(fc.nat({ max: 10_000 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (n, r) => {
        const d = backoff(n, P, at(r));
        assert.ok(d >= 1 && d <= 1500 && Number.isInteger(d), `${d}`);
        if (n <= 1) assert.ok(d <= 500, `${d}`);
      }),
    );
  });

  it('never decreases from one attempt to the next for the same draw (property)', () => {
    fc.assert(
      fc.property(fc.nat({ max: 60 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (n, r) => {
        assert.ok(backoff(n + 1, P, at(r)) >= backoff(n, P, at(r)));
      }),
    );
  });

  it('stays within bounds whatever random() and attempt are', () => {
    for (const r of [NaN, -1, 1, 2, Infinity]) for (const n of [NaN, -5, 0, 3, Infinity]) {
      const d = backoff(n, P, at(r));
      assert.ok(d >= 1 && d <= P.maxMs, `attempt ${n} random ${r}: ${d}`);
    }
  });

  it('a fixed policy gives RFC 4271\'s constant ConnectRetryTime', () => {
    const fixed = backoffPolicy({ initialMs: 120_000, multiplier: 1, maxMs: 120_000, jitter: 0 });
    assert.deepEqual([0, 1, 50, Infinity].map((n) => backoff(n, fixed, Math.random)), [120_000, 120_000, 120_000, 120_000]);
  });

  it('backoffPolicy fills in defaults and refuses nonsense', () => {
    assert.deepEqual(backoffPolicy({}), DEFAULT_BACKOFF);
    assert.deepEqual(backoffPolicy({ initialMs: -1, multiplier: 0.5, maxMs: NaN, jitter: 2 }), DEFAULT_BACKOFF);
    assert.deepEqual(backoffPolicy({ initialMs: 5000, maxMs: 1000 }), { ...DEFAULT_BACKOFF, initialMs: 1000, maxMs: 1000 });
    assert.deepEqual(backoffPolicy({ initialMs: 100, jitter: 0 }), { ...DEFAULT_BACKOFF, initialMs: 100, jitter: 0 });
  });
});

describe('draw (the FSM\'s jitter source)', () => {
  it('is deterministic, in [0, 1), and roughly uniform', () => {
    let seed = 42;
    const xs: number[] = [];
    for (let i = 0; i < 10_000; i++) {
      const [x, next] = draw(seed);
      assert.deepEqual(draw(seed), [x, next]);
      assert.ok(x >= 0 && x < 1);
      xs.push(x);
      seed = next;
    }
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    assert.ok(Math.abs(mean - 0.5) < 0.02, `mean ${mean}`);
    assert.ok(xs.filter((x) => x < 0.1).length > 800);
  });
});
