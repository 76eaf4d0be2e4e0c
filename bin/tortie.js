#!/usr/bin/env -S node --max-semi-space-size=2
// Runs the compiled CLI (`npm run build` writes dist/).
//
// --max-semi-space-size=2 (MB, V8's young generation; Node 20's default grows to 16): a BGP speaker's live
// heap is small but it allocates in bursts while converging, and the default young generation lets RSS
// balloon far above the live data (a 1,000-client reflector: 16 MB live, 120 MB peak; with 2 MB, ≈85 MB,
// at no measurable cost in time — docs/benchmarks.md). V8 reads the flag only at start, so it is here.
import '../dist/cli/bin.js';
