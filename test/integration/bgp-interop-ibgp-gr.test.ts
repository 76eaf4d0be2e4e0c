/**
 * Interop, part 2 of 3: tortie's BGP speaker against BIRD 2, BIRD 1.6, FRR, GoBGP and ExaBGP over
 * iBGP with a 4-octet ASN (both AS 4200000003), the DAEMON connecting (tortie passive), graceful
 * restart (RFC 4724) negotiated on both sides (restart time 30 s). Per daemon: sessions reach
 * Established; IPv4 and IPv6 routes flow both ways with LOCAL_PREF, MED, communities, large
 * communities and the next hop kept; withdrawals both ways; graceful restart both ways —
 * (a) the daemon is killed (-9) and restarted (BIRD with -R): tortie keeps its routes as stale,
 * reports no withdrawal, and at the daemon's End-of-RIB drops exactly the route the daemon no
 * longer has; (b) tortie restarts (close({graceful}) and a new Speaker): the daemon never loses
 * tortie's routes and drops, at tortie's End-of-RIB, the one tortie no longer originates;
 * then the hold timer expires while the daemon is frozen: with graceful restart negotiated
 * tortie sends NOTIFICATION 4/0 and keeps the routes as stale until the session is back, where
 * they survive exactly for the families the daemon's new OPEN marks forwarding-preserved (F bit).
 *
 * Same setup as part 1 (test/helpers/interop.ts: tortie in a child process in its own
 * namespace, the daemon in another, a veth between them; wire tap on tortie's sockets).
 * GoBGP waits 5–10 s before its outgoing connections (here it must connect, also after each
 * reset): its lab is the slowest, ~50 s, and sets the time of this file. Skips: as part 1, and
 * (b) for ExaBGP, which keeps no RIB. FRR gets `bgp graceful-restart preserve-fw-state`, or it
 * announces F=0 after a restart and tortie rightly drops the stale routes at once.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cleanupAll, skipReason, sleep, waitFor } from '../helpers/netns.js';
import { DAEMON_KINDS, daemonSkipReason, startDaemon, waitEstablished, type DaemonHandle, type Origination } from '../helpers/daemons.js';
import { startTortie, type TortieProc } from '../helpers/tortie-proc.js';
import type { OriginatedRoute } from '../../src/bgp/speaker.js';
import {
  IBGP_AS,
  UNSUPPORTED,
  daemonRoute,
  deleteLab,
  describeWire,
  interopKinds,
  isEndOfRib,
  pairLab,
  prefixes,
  tortieRoute,
  waitDaemonNoRoute,
  waitDaemonRoute,
  waitTortieEstablished,
  waitTortieNoRoute,
  waitTortieRoute,
  watchDaemon,
  withdrawOwn,
  type PairLab,
} from '../helpers/interop.js';

const HOLD = 4;
const GR = { restartTime: 30 };
const nsSkip = skipReason();

describe('BGP interop: iBGP, the daemon connecting, graceful restart', { skip: nsSkip ?? false, concurrency: true, timeout: 240_000 }, () => {
  after(async () => {
    await cleanupAll();
  });

  interopKinds().forEach((kind) => {
    const n = 20 + DAEMON_KINDS.indexOf(kind);
    const P = prefixes(n);
    const slow = kind === 'gobgp' ? 15_000 : 0; // GoBGP's first connection after a start: 5–10 s
    describe(kind, { skip: daemonSkipReason(kind) ?? false, concurrency: 1 }, () => {
      let lab: PairLab;
      let d: DaemonHandle;
      let t: TortieProc;
      const own4a: OriginatedRoute = { prefix: P.t4a, communities: [`65001:${n}`], largeCommunities: [`${IBGP_AS}:${n}:1`], med: 11, localPref: 150 };
      const own6a: OriginatedRoute = { prefix: P.t6a, communities: [`65001:${n}`], largeCommunities: [`${IBGP_AS}:${n}:7`], med: 12, localPref: 160 };
      const theirs: Origination[] = [
        { prefix: P.d4a, communities: [`65002:${n}`], largeCommunities: [`${IBGP_AS}:${n}:2`], med: 21, localPref: 130 },
        { prefix: P.d4b },
        { prefix: P.d4c },
        { prefix: P.d6a, communities: [`65002:${n}`], largeCommunities: [`${IBGP_AS}:${n}:6`], med: 22, localPref: 140 },
        { prefix: P.d6b },
      ];

      before(async () => {
        lab = pairLab(`i${kind}`, n);
        t = await startTortie(lab.tns, {
          speaker: { routerId: lab.t4, asNumber: IBGP_AS, listen: { address: '::', port: 179 }, gracefulRestart: GR },
          peers: [
            { address: lab.d4, asNumber: IBGP_AS, localAddress: lab.t4, holdTime: HOLD, families: ['ipv4'], passive: true },
            { address: lab.d6, asNumber: IBGP_AS, localAddress: lab.t6, holdTime: HOLD, families: ['ipv6'], passive: true },
          ],
          originated: [own4a, { prefix: P.t4b }, { prefix: P.t4c }, own6a, { prefix: P.t6b }],
        });
        d = await startDaemon(kind, {
          netns: lab.dns,
          routerId: lab.d4,
          localAs: IBGP_AS,
          localAddress: lab.d4,
          localAddress6: lab.d6,
          ...(process.env.TORTIE_INTEROP_DEBUG ? { logLevel: 'debug' as const } : {}),
          peers: [
            { address: lab.t4, asNumber: IBGP_AS, holdTime: HOLD, gracefulRestart: GR },
            { address: lab.t6, asNumber: IBGP_AS, holdTime: HOLD, gracefulRestart: GR },
          ],
          originate: theirs.map((r) => ({ ...r })),
          // FRR announces "forwarding state preserved" (F bit) after a restart only when told to;
          // without it tortie rightly drops the stale routes at once (RFC 4724 §4.2).
          ...(kind === 'frr' ? { extraConfig: `router bgp ${IBGP_AS}\n bgp graceful-restart preserve-fw-state\nexit\n` } : {}),
        });
      });

      after(async () => {
        if (process.env.TORTIE_INTEROP_DEBUG) {
          console.log(`--- ${kind} tortie log\n${t?.log()}\n--- ${kind} wire\n${t ? describeWire(await t.wire().catch(() => [])) : ''}\n--- ${kind} daemon log\n${d?.log()}`);
        }
        await t?.stop();
        await d?.stop();
        if (lab) await deleteLab(lab);
      });

      it('sessions reach Established, the daemon connecting (IPv4 and IPv6 sessions)', async () => {
        await waitTortieEstablished(t, 20_000 + slow);
        await waitEstablished(d, 10_000);
        // The daemon opened both connections: they end at tortie's port 179.
        const ss = lab.tns.exec(['ss', '-Htn', 'state', 'established']).stdout;
        // (tortie listens on [::]: IPv4 peers show as IPv4-mapped addresses.)
        assert.match(ss, new RegExp(`(\\[::ffff:)?${lab.t4.replace(/\./g, '\\.')}\\]?:179\\s`), `daemon → tortie ${lab.t4}:179\n${ss}`);
        assert.match(ss, new RegExp(`\\[${lab.t6}\\]:179\\s`), `daemon → tortie [${lab.t6}]:179\n${ss}`);
        for (const st of await t.status()) {
          assert.equal(st.negotiated?.fourOctetAs, true);
          assert.equal(st.negotiated?.peerAs, IBGP_AS);
          assert.ok(st.negotiated?.gracefulRestart, `${st.address}: the daemon announced graceful restart`);
        }
      });

      it('IPv4 and IPv6 routes flow both ways with LOCAL_PREF, MED, communities; next hop kept', async () => {
        const r4 = await waitDaemonRoute(d, P.t4a);
        assert.deepEqual(r4.asPath, []);
        assert.equal(r4.localPref, 150);
        assert.equal(r4.med, 11);
        assert.equal(r4.nextHop, lab.t4);
        assert.deepEqual(r4.communities, [`65001:${n}`]);
        assert.deepEqual(r4.largeCommunities, [`${IBGP_AS}:${n}:1`]);
        const r6 = await waitDaemonRoute(d, P.t6a);
        assert.deepEqual(r6.asPath, []);
        assert.equal(r6.localPref, 160);
        assert.equal(r6.med, 12);
        assert.equal(r6.nextHop, lab.t6);
        assert.deepEqual(r6.largeCommunities, [`${IBGP_AS}:${n}:7`]);
        const s4 = await waitTortieRoute(t, P.d4a);
        assert.deepEqual(s4.asPath, []);
        assert.equal(s4.localPref, 130);
        assert.equal(s4.med, 21);
        assert.equal(s4.nextHop, lab.d4);
        assert.deepEqual(s4.communities, [`65002:${n}`]);
        assert.deepEqual(s4.largeCommunities, [`${IBGP_AS}:${n}:2`]);
        const s6 = await waitTortieRoute(t, P.d6a);
        assert.deepEqual(s6.asPath, []);
        assert.equal(s6.localPref, 140);
        assert.equal(s6.med, 22);
        assert.equal(s6.nextHop, lab.d6);
        assert.deepEqual(s6.communities, [`65002:${n}`]);
        for (const p of [P.t4b, P.t4c, P.t6b]) await waitDaemonRoute(d, p);
        for (const p of [P.d4b, P.d4c, P.d6b]) await waitTortieRoute(t, p);
      });

      it('withdrawals propagate both ways', async () => {
        await t.setOriginated([own4a, { prefix: P.t4c }, own6a]);
        await withdrawOwn(d, P.d4b);
        await withdrawOwn(d, P.d6b);
        await waitDaemonNoRoute(d, P.t4b);
        await waitDaemonNoRoute(d, P.t6b);
        await waitTortieNoRoute(t, P.d4b);
        await waitTortieNoRoute(t, P.d6b);
        assert.ok(await daemonRoute(d, P.t4a));
        assert.ok(await tortieRoute(t, P.d6a));
      });

      it('graceful restart (a): the daemon is killed and restarts; tortie keeps its routes (stale) until its End-of-RIB, no withdrawal', async () => {
        // The daemon comes back without d4c: tortie must drop it at the End-of-RIB, and only it.
        await withdrawOwn(d, P.d4c, { runtime: false });
        const mark = await t.seq();
        await d.kill('SIGKILL');
        await waitFor(async () => (await t.status()).every((p) => !p.established), 10_000, { what: 'tortie notices the dead daemon' });
        await sleep(200);
        for (const p of [P.d4a, P.d4c, P.d6a]) {
          const r = await tortieRoute(t, p);
          assert.ok(r, `${p} kept while ${kind} restarts`);
          assert.equal(r.stale, true, `${p} is stale`);
        }
        const down = Date.now();
        await d.restart({ gracefulRestart: true });
        await waitTortieEstablished(t, 20_000 + slow);
        const ws = await waitFor(
          async () => {
            const w = await t.wire(mark);
            return w.some((x) => x.dir === 'rx' && isEndOfRib(x, 'ipv4')) && w.some((x) => x.dir === 'rx' && isEndOfRib(x, 'ipv6')) ? w : undefined;
          },
          15_000,
          { what: `End-of-RIB from the restarted ${kind}` },
        );
        await waitTortieNoRoute(t, P.d4c, 5_000);
        const r4 = await waitTortieRoute(t, P.d4a, 5_000, (r) => !r.stale);
        assert.equal(r4.localPref, 130);
        await waitTortieRoute(t, P.d6a, 5_000, (r) => !r.stale);
        const events = await t.bestEvents(mark);
        const withdrawn = events.filter((e) => e.data.kind === 'withdrawn');
        assert.deepEqual(withdrawn.map((e) => e.data.prefix), [P.d4c], `only the route the daemon no longer has is withdrawn\n${describeWire(ws)}`);
        const eor4 = ws.find((x) => x.dir === 'rx' && isEndOfRib(x, 'ipv4'))!;
        assert.ok(withdrawn[0]!.seq > eor4.seq, 'and only at the End-of-RIB');
        const reopen = ws.find((x) => x.dir === 'rx' && x.msg.type === 'OPEN' && x.peer === lab.d4) as { msg: { capabilities: { code: number; value?: { restartState?: boolean } }[] } } | undefined;
        const grCap = reopen?.msg.capabilities.find((c) => c.code === 64)?.value;
        console.log(`# ${kind}: restarted in ${Date.now() - down} ms; its new OPEN's graceful-restart capability: ${JSON.stringify(grCap)}`);
      });

      it('graceful restart (b): tortie restarts; the daemon never loses its routes, and drops at its End-of-RIB the one it no longer originates', { skip: UNSUPPORTED[kind].grHelper ?? false }, async () => {
        await waitDaemonRoute(d, P.t4c);
        const watch = watchDaemon(d, [P.t4a, P.t6a], 50);
        const mark = await t.seq();
        let failed = true;
        try {
          await t.restart({ graceful: true, originated: [own4a, own6a] });
          await waitTortieEstablished(t, 20_000 + slow);
          await waitFor(
            async () => {
              const w = await t.wire(mark);
              return w.some((x) => x.dir === 'tx' && isEndOfRib(x, 'ipv4')) && w.some((x) => x.dir === 'tx' && isEndOfRib(x, 'ipv6'));
            },
            10_000,
            { what: 'End-of-RIB from the new tortie' },
          );
          await waitDaemonNoRoute(d, P.t4c, 10_000);
          const r = await waitDaemonRoute(d, P.t4a, 5_000, (x) => !x.stale);
          assert.equal(r.localPref, 150);
          await waitDaemonRoute(d, P.t6a, 5_000, (x) => !x.stale);
          // Keep watching a little past the restart (it can take only ~100 ms): a wrong stale sweep after
          // End-of-RIB would show here, and the watch gets enough polls to have seen the whole window.
          await sleep(500);
          failed = false;
        } finally {
          const w = await watch.stop();
          // When a step above failed, its error is the one to see: these checks would only hide it.
          if (!failed) {
            assert.ok(w.polls >= 5, `polled ${kind}'s table ${w.polls} times`);
            assert.deepEqual(w.missing, [], `${kind} lost tortie's routes while tortie restarted`);
          }
        }
        const ws = await t.wire(mark);
        assert.equal(ws.filter((x) => x.dir === 'tx' && x.msg.type === 'NOTIFICATION').length, 0, `a graceful close sends no NOTIFICATION\n${describeWire(ws)}`);
      });

      it(`hold timer with graceful restart: the daemon frozen, tortie sends 4/0 within ${HOLD} s and keeps the routes as stale; SIGCONT recovers`, async () => {
        await waitTortieEstablished(t, 10_000);
        await waitTortieRoute(t, P.d4a, 5_000, (r) => !r.stale);
        const mark = await t.seq();
        await d.kill('SIGSTOP');
        const t0 = Date.now();
        let downMs = 0;
        try {
          await waitFor(async () => (await t.status()).every((p) => !p.established), (HOLD + 3) * 1000, { what: 'tortie notices the frozen daemon', intervalMs: 50 });
          downMs = Date.now() - t0;
          const ws = await t.wire(mark);
          const notes = ws.filter((x) => x.dir === 'tx' && x.msg.type === 'NOTIFICATION');
          assert.deepEqual(
            notes.map((x) => `${x.peer} ${(x.msg as { code: number }).code}/${(x.msg as { subcode: number }).subcode}`).sort(),
            [`${lab.d4} 4/0`, `${lab.d6} 4/0`].sort(),
            describeWire(ws),
          );
          assert.ok(downMs <= HOLD * 1000 + 1500, `down after ${downMs} ms (hold time ${HOLD} s)`);
          for (const p of [P.d4a, P.d6a]) assert.equal((await tortieRoute(t, p))?.stale, true, `${p} kept as stale`);
          assert.deepEqual((await t.bestEvents(mark)).filter((e) => e.data.kind === 'withdrawn'), [], 'no withdrawal while the daemon is frozen');
        } finally {
          await d.kill('SIGCONT');
        }
        const resumed = await t.seq();
        await waitTortieEstablished(t, 20_000 + slow);
        await waitTortieRoute(t, P.d4a, 15_000, (r) => !r.stale);
        await waitTortieRoute(t, P.d6a, 15_000, (r) => !r.stale);
        await waitDaemonRoute(d, P.t4a);
        // Back up: stale routes survive only where the daemon's new OPEN says forwarding was
        // preserved (F bit, RFC 4724 §4.2); a daemon that was merely frozen may clear it (GoBGP
        // does), and then the stale routes go when the session is up, before they are re-sent.
        const ws = await t.wire(resumed);
        const fBit = (family: 'ipv4' | 'ipv6') => {
          const open = ws.find((x) => x.dir === 'rx' && x.msg.type === 'OPEN' && x.peer === (family === 'ipv4' ? lab.d4 : lab.d6));
          const gr = (open?.msg as { capabilities?: { code: number; value?: { families?: { family: string; forwardingState: boolean }[] } }[] })?.capabilities?.find((c) => c.code === 64);
          return gr?.value?.families?.find((f) => f.family === `${family}/unicast`)?.forwardingState ?? false;
        };
        const withdrawn = (await t.bestEvents(resumed)).filter((e) => e.data.kind === 'withdrawn');
        const expected = [...(fBit('ipv4') ? [] : [P.d4a]), ...(fBit('ipv6') ? [] : [P.d6a])];
        assert.deepEqual(
          withdrawn.map((e) => e.data.prefix).sort(),
          expected.sort(),
          `stale routes withdrawn exactly for the families ${kind} did not preserve forwarding for\n${describeWire(ws)}`,
        );
        console.log(`# ${kind}: hold timer expired after ${downMs} ms; F bit on reconnect: ipv4 ${fBit('ipv4')}, ipv6 ${fBit('ipv6')}; withdrawn after reconnect: ${withdrawn.map((e) => e.data.prefix).join(' ') || 'none'}`);
      });
    });
  });
});
