#!/usr/bin/env -S node --max-semi-space-size=2 --interrupt-budget=270336 --no-memory-reducer
// Runs the compiled CLI (`npm run build` writes dist/). `tortie lab` and the benchmarks start agents with these
// same flags (src/lab/node-flags.ts reads this line).
//
// --max-semi-space-size=2 (MB, V8's young generation; Node 20's default grows to 16): a BGP speaker's live
// heap is small but it allocates in bursts while converging, and the default young generation lets RSS
// balloon far above the live data (a 1,000-client reflector: 16 MB live, 120 MB peak; with 2 MB, ≈85 MB,
// at no measurable cost in time — docs/benchmarks.md). V8 reads the flag only at start, so it is here.
//
// --interrupt-budget=270336 (4× V8's 67584): how much bytecode a function runs before V8 considers
// compiling it with TurboFan. An agent's per-event code (an UPDATE from each reflector, a kernel route, a
// datastore poll) runs a few times a second: with the default budget such lukewarm functions crossed it in
// a steady trickle, each compiled on a worker thread for milliseconds of CPU that every host pays while
// converging. With 4×, genuinely hot code (a full-table ingest, a reflector's fan-out) still tiers up
// within a fraction of its run, and the per-event code stays in the baseline tier (docs/benchmarks.md:
// 25-host reflector convergence, client CPU per trigger −19 %, p99 −21 %; ingest and rr-scale unchanged).
//
// --no-memory-reducer: V8's memory reducer runs full mark-compact collections when a process's allocation
// rate drops, to hand memory back. An agent's heap is ≈13 MB and those collections gave back <1 MB each, but
// agents started together ran them together, two or three each, in the same seconds: on a shared machine
// that was the largest single item of CPU while converging (a 25-host reflector cluster's daemons: CPU per
// trigger −15 %, p99 22.3 / 25.6 → 20.6 / 20.0 ms, RSS unchanged — docs/benchmarks.md). The ordinary
// collections still run as the heap grows.
import '../dist/cli/bin.js';
