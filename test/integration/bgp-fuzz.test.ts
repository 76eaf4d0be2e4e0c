/**
 * Fuzzing tortie's BGP engine through real sessions (test/helpers/bgp-fuzz.ts has the rig and the
 * invariants, bgp-fuzz-inputs.ts the messages and mutators): at least 100,000 mutated OPEN / UPDATE /
 * NOTIFICATION / KEEPALIVE / ROUTE-REFRESH messages per run, fed through fake sockets into a Speaker's
 * sessions in Established, OpenSent and OpenConfirm, with the event loop run after each input so
 * deferred work (UPDATE export, socket teardown) happens too. Checked after every input:
 *   - no exception escapes: neither from the socket's 'data' event nor later into the event loop;
 *   - the speaker stays usable: status() and routes() work, accepted-prefix counts match the Loc-RIB,
 *     everything it sends the observer peers decodes cleanly;
 *   - a fatal input ends with a NOTIFICATION sent (unless the peer itself sent one), the socket
 *     closed, the FSM idle with no timer but the restart back-off, and the peer's routes gone (kept
 *     as stale only for the graceful-restart peer);
 *   - a non-fatal input sends no NOTIFICATION and never moves the session backwards.
 * The PRNG seed is printed; BGP_FUZZ_SEED=<n> replays a run, BGP_FUZZ_COUNT=<n> changes its size. A
 * failing run is shrunk and saved under test/fixtures/bgp-crashers/; the second test replays them all.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { FuzzRig, checkStep, crashText, loadCrashers, minimize, replay, saveCrasher, signature, type TargetState } from '../helpers/bgp-fuzz.js';
import { OBSERVERS, Rng, TARGETS, assemble, fuzzInput, updateSeed } from '../helpers/bgp-fuzz-inputs.js';

const SEED = process.env.BGP_FUZZ_SEED !== undefined ? Number(process.env.BGP_FUZZ_SEED) : randomInt(2 ** 31);
const COUNT = Number(process.env.BGP_FUZZ_COUNT ?? 100_000);
const MAX_CRASHERS = 3;
/** Inputs per speaker: then a fresh one, so that a crash log stays short enough to shrink and keep. */
const RIG_STEPS = 250;
/** Inputs per connection before a fresh one. */
const CONN_STEPS = 100;

test(`fuzz: ${COUNT} mutated messages through real sessions never let an exception escape (seed ${SEED})`, async (t) => {
  t.diagnostic(`seed ${SEED} (BGP_FUZZ_SEED=${SEED} replays this run), ${COUNT} messages`);
  const rng = new Rng(SEED);
  const crashers: string[] = [];
  const stats = { fatal: 0, exported: 0, notifications: new Map<string, number>(), byState: new Map<string, number>() };
  let rig = await FuzzRig.create();
  let rigSteps = 0;
  const t0 = performance.now();
  try {
    for (let i = 0; i < COUNT; i++) {
      if (rigSteps++ >= RIG_STEPS) {
        stats.exported += rig.exported;
        await rig.close();
        rig = await FuzzRig.create();
        rigSteps = 0;
      }
      const target = rng.pick(TARGETS);
      const x = rng.next();
      const want: TargetState = x < 0.8 ? 'Established' : x < 0.9 ? 'OpenSent' : 'OpenConfirm';
      const chunks = fuzzInput(target, rng, want !== 'Established');
      try {
        const cur = rig.conn(target);
        if (!cur || cur.startState !== want || rig.session(target).state !== want || cur.steps >= CONN_STEPS) {
          await rig.connect(target, want);
          if (want === 'Established') {
            // Something in the RIB to withdraw: two valid UPDATEs first.
            const r = await rig.feed(target, [assemble(updateSeed(target, rng, 'full')), assemble(updateSeed(target, rng, 'v6'))]);
            checkStep(rig, r!, false);
          }
        }
        const r = (await rig.feed(target, chunks))!;
        checkStep(rig, r, i % 256 === 0);
        stats.byState.set(want, (stats.byState.get(want) ?? 0) + 1);
        if (r.fatal) {
          stats.fatal++;
          const k = r.notification ? `${r.notification.code}/${r.notification.subcode}` : 'received';
          stats.notifications.set(k, (stats.notifications.get(k) ?? 0) + 1);
        }
        if (i % 7 === 0) await rig.drain(rng.pick(OBSERVERS));
      } catch (e) {
        const sig = signature(e);
        const log = [...rig.log];
        await rig.close().catch(() => {});
        const small = await minimize(log, sig, 20_000);
        const header = [`found by test/integration/bgp-fuzz.test.ts, seed ${SEED}, message ${i}; shrunk from ${log.length} to ${small.length} actions`, sig];
        const file = saveCrasher(crashText(small, header));
        crashers.push(`${file}: ${(e as Error).stack?.split('\n').slice(0, 5).join(' | ')}`);
        if (crashers.length >= MAX_CRASHERS) break;
        rig = await FuzzRig.create();
        rigSteps = 0;
      }
    }
  } finally {
    stats.exported += rig.exported;
    await rig.close();
  }
  const secs = (performance.now() - t0) / 1000;
  t.diagnostic(`${COUNT} messages in ${secs.toFixed(1)} s: ${Math.round(COUNT / secs)} messages/s; ${stats.fatal} fatal`);
  t.diagnostic(`by state ${JSON.stringify(Object.fromEntries(stats.byState))}; messages sent to observers, decoded and checked: ${stats.exported}`);
  t.diagnostic(`fatal inputs by NOTIFICATION sent (code/subcode: count) ${JSON.stringify(Object.fromEntries([...stats.notifications].sort()))}`);
  assert.deepEqual(crashers, [], `seed ${SEED}: inputs that broke the speaker were saved`);
  // The run must have reached both kinds of outcome and the export path, else it proves little.
  assert.ok(stats.fatal > COUNT / 10 && stats.fatal < COUNT * 0.9, `fatal ${stats.fatal} of ${COUNT}`);
  assert.ok(stats.exported > COUNT / 10, `exported ${stats.exported}`);
});

test('regression: every saved crasher (test/fixtures/bgp-crashers/*.hex) replays cleanly', async (t) => {
  const all = loadCrashers();
  t.diagnostic(`${all.length} crasher files`);
  for (const c of all) {
    try {
      await replay(c.actions);
    } catch (e) {
      (e as Error).message = `${c.file}: ${(e as Error).message}`;
      throw e;
    }
  }
});
