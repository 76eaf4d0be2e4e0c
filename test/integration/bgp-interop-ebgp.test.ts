/**
 * Interop, part 1 of 3: tortie's BGP speaker against BIRD 2, BIRD 1.6, FRR, GoBGP and ExaBGP over
 * eBGP with 4-octet ASNs (tortie AS 4200000001, the daemon AS 4200000002), tortie ACTIVE and the
 * daemon passive. Per daemon: sessions (IPv4 and IPv6) reach Established; IPv4 and IPv6 prefixes
 * flow both ways with AS_PATH, NEXT_HOP, MED, communities and large communities; withdrawals
 * propagate both ways; route refresh both ways (tortie asks, the daemon re-sends, the daemon asks);
 * the hold timer expires while the daemon is frozen (SIGSTOP): tortie sends NOTIFICATION 4/0 and
 * drops the routes at once, then SIGCONT and recovery. (tortie announces graceful restart; the
 * daemons preserve no family — BIRD and FRR announce the capability without families, "GR aware",
 * GoBGP and ExaBGP not at all — so nothing may be kept as stale, RFC 4724 §4.2.)
 *
 * Setup (test/helpers/interop.ts): tortie runs in a child process inside its own namespace
 * (tortie-proc.ts / tortie-driver.ts: Node cannot enter a namespace, the child can be started in
 * one), the daemon in another, a veth between them. The driver taps tortie's sockets, so the
 * tests see the messages tortie really sent and received. The daemons run concurrently (one lab
 * each); the steps of one daemon run in order. Hold time 4 s, connect retry 1 s.
 * Skips (with the reason) only when not root / no `ip netns`, a daemon binary is missing, or a
 * daemon cannot do a step at all (UNSUPPORTED in interop.ts: ExaBGP 4.2's route-refresh crash,
 * GoBGP's soft reset in without ROUTE-REFRESH). Run alone: ~15 s.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cleanupAll, skipReason, sleep, waitFor } from '../helpers/netns.js';
import { DAEMON_KINDS, daemonSkipReason, startDaemon, waitEstablished, type DaemonHandle } from '../helpers/daemons.js';
import { startTortie, type TortieProc } from '../helpers/tortie-proc.js';
import {
  DAEMON_AS,
  TORTIE_AS,
  UNSUPPORTED,
  announced,
  daemonAskRefresh,
  daemonResend,
  daemonRoute,
  deleteLab,
  describeWire,
  interopKinds,
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
const nsSkip = skipReason();

describe('BGP interop: eBGP, tortie active', { skip: nsSkip ?? false, concurrency: true, timeout: 180_000 }, () => {
  after(async () => {
    await cleanupAll();
  });

  interopKinds().forEach((kind) => {
    const n = 10 + DAEMON_KINDS.indexOf(kind);
    const P = prefixes(n);
    describe(kind, { skip: daemonSkipReason(kind) ?? false, concurrency: 1 }, () => {
      let lab: PairLab;
      let d: DaemonHandle;
      let t: TortieProc;

      before(async () => {
        lab = pairLab(`e${kind}`, n);
        d = await startDaemon(kind, {
          netns: lab.dns,
          routerId: lab.d4,
          localAs: DAEMON_AS,
          localAddress: lab.d4,
          localAddress6: lab.d6,
          ...(process.env.TORTIE_INTEROP_DEBUG ? { logLevel: 'debug' as const } : {}),
          peers: [
            { address: lab.t4, asNumber: TORTIE_AS, passive: true, holdTime: HOLD },
            { address: lab.t6, asNumber: TORTIE_AS, passive: true, holdTime: HOLD },
          ],
          originate: [
            { prefix: P.d4a, communities: [`65002:${n}`], largeCommunities: [`${DAEMON_AS}:${n}:2`], med: 21 },
            { prefix: P.d4b },
            { prefix: P.d6a, communities: [`65002:${n}`], largeCommunities: [`${DAEMON_AS}:${n}:6`], med: 22 },
            { prefix: P.d6b },
          ],
        });
        t = await startTortie(lab.tns, {
          speaker: { routerId: lab.t4, asNumber: TORTIE_AS, listen: { address: '::', port: 179 } },
          peers: [
            { address: lab.d4, asNumber: DAEMON_AS, localAddress: lab.t4, holdTime: HOLD, families: ['ipv4'] },
            { address: lab.d6, asNumber: DAEMON_AS, localAddress: lab.t6, holdTime: HOLD, families: ['ipv6'] },
          ],
          originated: [
            { prefix: P.t4a, communities: [`65001:${n}`], largeCommunities: [`${TORTIE_AS}:${n}:1`], med: 11 },
            { prefix: P.t4b },
            { prefix: P.t6a, communities: [`65001:${n}`], largeCommunities: [`${TORTIE_AS}:${n}:7`], med: 12 },
            { prefix: P.t6b },
          ],
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

      it('sessions reach Established, tortie connecting (IPv4 and IPv6 sessions)', async () => {
        await waitTortieEstablished(t, 20_000);
        await waitEstablished(d, 10_000);
        // tortie opened both connections: its side uses an ephemeral port towards the daemon's 179.
        const ss = lab.tns.exec(['ss', '-Htn', 'state', 'established']).stdout;
        for (const a of [lab.d4, `[${lab.d6}]`]) assert.match(ss, new RegExp(`\\s${a.replace(/[.[\]]/g, '\\$&')}:179\\s*$`, 'm'), `tortie → ${a}:179\n${ss}`);
        assert.doesNotMatch(ss, /:179\s+\S+:\d+\s*$/m, `nobody connected to tortie's port 179\n${ss}`);
        for (const st of await t.status()) {
          assert.equal(st.negotiated?.fourOctetAs, true, `${st.address}: 4-octet AS negotiated`);
          assert.equal(st.negotiated?.peerAs, DAEMON_AS);
        }
      });

      it('IPv4 and IPv6 routes flow both ways with their attributes (4-octet AS_PATH, NEXT_HOP, MED, communities)', async () => {
        // tortie → daemon
        const r4 = await waitDaemonRoute(d, P.t4a);
        assert.deepEqual(r4.asPath, [TORTIE_AS]);
        assert.equal(r4.nextHop, lab.t4);
        assert.equal(r4.med, 11);
        assert.deepEqual(r4.communities, [`65001:${n}`]);
        assert.deepEqual(r4.largeCommunities, [`${TORTIE_AS}:${n}:1`]);
        assert.equal(r4.origin, 'igp');
        assert.notEqual(r4.localPref, 150);
        const r6 = await waitDaemonRoute(d, P.t6a);
        assert.deepEqual(r6.asPath, [TORTIE_AS]);
        assert.equal(r6.nextHop, lab.t6);
        assert.equal(r6.med, 12);
        assert.deepEqual(r6.communities, [`65001:${n}`]);
        assert.deepEqual(r6.largeCommunities, [`${TORTIE_AS}:${n}:7`]);
        await waitDaemonRoute(d, P.t4b);
        await waitDaemonRoute(d, P.t6b);
        // daemon → tortie
        const s4 = await waitTortieRoute(t, P.d4a);
        assert.deepEqual(s4.asPath, [DAEMON_AS]);
        assert.equal(s4.nextHop, lab.d4);
        assert.equal(s4.from, lab.d4);
        assert.equal(s4.med, 21);
        assert.deepEqual(s4.communities, [`65002:${n}`]);
        assert.deepEqual(s4.largeCommunities, [`${DAEMON_AS}:${n}:2`]);
        assert.equal(s4.origin, 'IGP');
        assert.equal(s4.localPref, undefined, 'no LOCAL_PREF over eBGP');
        assert.equal(s4.best, true);
        const s6 = await waitTortieRoute(t, P.d6a);
        assert.deepEqual(s6.asPath, [DAEMON_AS]);
        assert.equal(s6.nextHop, lab.d6);
        assert.equal(s6.med, 22);
        assert.deepEqual(s6.communities, [`65002:${n}`]);
        assert.deepEqual(s6.largeCommunities, [`${DAEMON_AS}:${n}:6`]);
        await waitTortieRoute(t, P.d4b);
        await waitTortieRoute(t, P.d6b);
      });

      it('withdrawals propagate both ways', async () => {
        const mark = await t.seq();
        await t.setOriginated([
          { prefix: P.t4a, communities: [`65001:${n}`], largeCommunities: [`${TORTIE_AS}:${n}:1`], med: 11 },
          { prefix: P.t6a, communities: [`65001:${n}`], largeCommunities: [`${TORTIE_AS}:${n}:7`], med: 12 },
        ]);
        await waitDaemonNoRoute(d, P.t4b);
        await waitDaemonNoRoute(d, P.t6b);
        assert.ok(await daemonRoute(d, P.t4a), 'the other IPv4 route stays');
        assert.ok(await daemonRoute(d, P.t6a), 'the other IPv6 route stays');
        await withdrawOwn(d, P.d4b);
        await withdrawOwn(d, P.d6b);
        await waitTortieNoRoute(t, P.d4b);
        await waitTortieNoRoute(t, P.d6b);
        assert.ok(await tortieRoute(t, P.d4a));
        assert.ok(await tortieRoute(t, P.d6a));
        const gone = (await t.bestEvents(mark)).filter((e) => e.data.kind === 'withdrawn').map((e) => e.data.prefix);
        assert.deepEqual(gone.sort(), [P.d4b, P.d6b, P.t4b, P.t6b].sort(), "'best' reports exactly the withdrawn prefixes");
      });

      it('route refresh: tortie asks the daemon to re-send (ROUTE-REFRESH); the routes come back, nothing is lost', { skip: UNSUPPORTED[kind].refresh ?? false }, async () => {
        const before4 = await tortieRoute(t, P.d4a);
        const mark = await t.seq();
        assert.deepEqual(await t.refresh(lab.d4), ['ipv4']);
        assert.deepEqual(await t.refresh(lab.d6, 'ipv6'), ['ipv6']);
        const w = await waitFor(
          async () => {
            const ws = await t.wire(mark);
            const got = (p: string) => ws.some((x) => x.dir === 'rx' && announced(x).includes(p));
            return got(P.d4a) && got(P.d6a) ? ws : undefined;
          },
          10_000,
          { what: `${kind} re-sends after ROUTE-REFRESH` },
        );
        const rr = w.filter((x) => x.dir === 'tx' && x.msg.type === 'ROUTE-REFRESH');
        assert.deepEqual(
          rr.map((x) => `${x.peer} ${(x.msg as { family: string }).family} ${(x.msg as { subtype: number }).subtype}`).sort(),
          [`${lab.d4} ipv4/unicast 0`, `${lab.d6} ipv6/unicast 0`].sort(),
        );
        await sleep(300);
        assert.deepEqual(await tortieRoute(t, P.d4a), before4, 'same route, same attributes');
        assert.ok(await tortieRoute(t, P.d6a));
        assert.deepEqual((await t.bestEvents(mark)).filter((e) => e.data.kind === 'withdrawn'), [], 'nothing withdrawn');
      });

      it('route refresh: the daemon re-sends its routes (soft out); nothing is lost', { skip: UNSUPPORTED[kind].resend ?? false }, async () => {
        const mark = await t.seq();
        await daemonResend(d, lab.t4);
        await daemonResend(d, lab.t6);
        await waitFor(
          async () => {
            const ws = await t.wire(mark);
            const got = (p: string) => ws.some((x) => x.dir === 'rx' && announced(x).includes(p));
            return got(P.d4a) && got(P.d6a);
          },
          10_000,
          { what: `${kind} re-sends` },
        );
        await sleep(300);
        assert.ok(await tortieRoute(t, P.d4a));
        assert.ok(await tortieRoute(t, P.d6a));
        assert.deepEqual((await t.bestEvents(mark)).filter((e) => e.data.kind === 'withdrawn'), [], 'nothing withdrawn');
      });

      it('route refresh: the daemon asks tortie (ROUTE-REFRESH); tortie re-sends, the daemon keeps every route', { skip: UNSUPPORTED[kind].askRefresh ?? false }, async () => {
        const mark = await t.seq();
        const watch = watchDaemon(d, [P.t4a, P.t6a], 50);
        try {
          await daemonAskRefresh(d, lab.t4);
          await daemonAskRefresh(d, lab.t6);
          await waitFor(
            async () => {
              const ws = await t.wire(mark);
              return ws.filter((x) => x.dir === 'rx' && x.msg.type === 'ROUTE-REFRESH' && (x.msg as { subtype: number }).subtype === 0).length >= 2;
            },
            5_000,
            { what: `ROUTE-REFRESH from ${kind}` },
          );
          const ws = await waitFor(
            async () => {
              const all = await t.wire(mark);
              const after = (p: string, peer: string) => {
                const i = all.findIndex((x) => x.dir === 'rx' && x.peer === peer && x.msg.type === 'ROUTE-REFRESH');
                return i >= 0 && all.slice(i).some((x) => x.dir === 'tx' && x.peer === peer && announced(x).includes(p));
              };
              return after(P.t4a, lab.d4) && after(P.t6a, lab.d6) ? all : undefined;
            },
            10_000,
            { what: 'tortie re-sends its routes' },
          );
          // RFC 7313 §4: with enhanced route refresh, the re-sent routes sit between BoRR and EoRR.
          for (const st of await t.status()) {
            if (!st.negotiated?.enhancedRouteRefresh) continue;
            const fam = st.address.includes(':') ? 'ipv6/unicast' : 'ipv4/unicast';
            const mine = ws.filter((x) => x.peer === st.address && x.dir === 'tx');
            const pfx = st.address.includes(':') ? P.t6a : P.t4a;
            const borr = mine.findIndex((x) => x.msg.type === 'ROUTE-REFRESH' && (x.msg as { subtype: number }).subtype === 1);
            const upd = mine.findIndex((x) => announced(x).includes(pfx));
            const eorr = await waitFor(
              async () => {
                const again = (await t.wire(mark)).filter((x) => x.peer === st.address && x.dir === 'tx');
                const k = again.findIndex((x) => x.msg.type === 'ROUTE-REFRESH' && (x.msg as { subtype: number; family: string }).subtype === 2 && (x.msg as { family: string }).family === fam);
                return k >= 0 ? k + 1 : undefined;
              },
              5_000,
              { what: `EoRR to ${st.address}` },
            ).catch(() => 0);
            assert.ok(borr >= 0 && borr < upd, `BoRR before the re-sent routes to ${st.address}:\n${describeWire(mine)}`);
            assert.ok(eorr - 1 > upd, `EoRR after the re-sent routes to ${st.address}:\n${describeWire(mine)}`);
          }
        } finally {
          const w = await watch.stop();
          assert.ok(w.polls > 0);
          assert.deepEqual(w.missing, [], `${kind} lost tortie's routes during the refresh`);
        }
      });

      it(`hold timer: the daemon frozen (SIGSTOP), tortie sends NOTIFICATION 4/0 within ${HOLD} s and drops its routes; SIGCONT recovers`, async () => {
        await waitTortieEstablished(t, 10_000);
        const mark = await t.seq();
        await d.kill('SIGSTOP');
        const t0 = Date.now();
        let downMs = 0;
        try {
          await waitFor(
            async () => {
              const st = await t.status();
              return st.every((p) => !p.established);
            },
            (HOLD + 3) * 1000,
            { what: 'tortie notices the frozen daemon', intervalMs: 50 },
          );
          downMs = Date.now() - t0;
          const ws = await t.wire(mark);
          const notes = ws.filter((x) => x.dir === 'tx' && x.msg.type === 'NOTIFICATION');
          assert.deepEqual(
            notes.map((x) => `${x.peer} ${(x.msg as { code: number }).code}/${(x.msg as { subcode: number }).subcode}`).sort(),
            [`${lab.d4} 4/0`, `${lab.d6} 4/0`].sort(),
            describeWire(ws),
          );
          for (const st of await t.status()) assert.match(st.lastError ?? '', /holdTimerExpired: notification 4\/0/);
          assert.ok(downMs <= HOLD * 1000 + 1500, `down after ${downMs} ms (hold time ${HOLD} s)`);
          // No graceful restart for any family on these sessions: the routes are gone at once.
          assert.equal(await tortieRoute(t, P.d4a), undefined, 'IPv4 route dropped');
          assert.equal(await tortieRoute(t, P.d6a), undefined, 'IPv6 route dropped');
          const gone = (await t.bestEvents(mark)).filter((e) => e.data.kind === 'withdrawn').map((e) => e.data.prefix);
          assert.deepEqual(gone.sort(), [P.d4a, P.d6a].sort());
        } finally {
          await d.kill('SIGCONT');
        }
        await waitTortieEstablished(t, 20_000);
        await waitEstablished(d, 10_000);
        const back = await waitTortieRoute(t, P.d4a);
        assert.deepEqual(back.asPath, [DAEMON_AS]);
        await waitTortieRoute(t, P.d6a);
        await waitDaemonRoute(d, P.t4a);
        await waitDaemonRoute(d, P.t6a);
        console.log(`# ${kind}: hold timer expired after ${downMs} ms`);
      });
    });
  });
});
