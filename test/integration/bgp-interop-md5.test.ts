/**
 * Interop: BGP passwords (TCP MD5, RFC 2385) between tortie and BIRD 2, BIRD 1.6 and FRR, each in
 * its own namespace: with the same key the session comes up and routes flow; with another key it
 * never does (the kernels drop the unsigned or mis-signed segments).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cleanupAll, skipReason, sleep } from '../helpers/netns.js';
import { daemonSkipReason, startDaemon, waitEstablished, type DaemonHandle, type DaemonKind } from '../helpers/daemons.js';
import { startTortie, type TortieProc } from '../helpers/tortie-proc.js';
import { DAEMON_AS, TORTIE_AS, deleteLab, pairLab, waitDaemonRoute, waitTortieEstablished, waitTortieRoute, type PairLab } from '../helpers/interop.js';
import { md5Available } from '../../src/bgp/tcp-md5.js';

const skip = skipReason() ?? (md5Available() ? undefined : 'the TCP MD5 addon is not built (scripts/setup.sh builds it)');
const KINDS: DaemonKind[] = ['bird2', 'bird16', 'frr'];

describe('BGP interop: TCP MD5 passwords', { skip: skip ?? false, concurrency: true, timeout: 120_000 }, () => {
  after(async () => {
    await cleanupAll();
  });

  KINDS.forEach((kind, i) => {
    const n = 60 + i;
    describe(kind, { skip: daemonSkipReason(kind) ?? false, concurrency: 1 }, () => {
      let lab: PairLab;
      let d: DaemonHandle;
      let t: TortieProc;
      before(async () => {
        lab = pairLab(`m${kind}`, n);
        d = await startDaemon(kind, {
          netns: lab.dns,
          routerId: lab.d4,
          localAs: DAEMON_AS,
          localAddress: lab.d4,
          peers: [{ address: lab.t4, asNumber: TORTIE_AS, passive: true, holdTime: 6, password: 'md5-s3cret' }],
          originate: [{ prefix: `10.${n}.2.0/24` }],
        });
      });
      after(async () => {
        await t?.stop();
        await d?.stop();
        if (lab) await deleteLab(lab);
      });

      it('with the same password: Established, routes both ways', async () => {
        t = await startTortie(lab.tns, {
          speaker: { routerId: lab.t4, asNumber: TORTIE_AS, listen: { address: lab.t4, port: 179 } },
          peers: [{ address: lab.d4, asNumber: DAEMON_AS, localAddress: lab.t4, holdTime: 6, password: 'md5-s3cret', families: ['ipv4'] }],
          originated: [{ prefix: `10.${n}.1.0/24` }],
        });
        await waitTortieEstablished(t, 20_000);
        await waitEstablished(d, 10_000);
        await waitTortieRoute(t, `10.${n}.2.0/24`);
        await waitDaemonRoute(d, `10.${n}.1.0/24`);
        await t.stop();
      });

      it('with another password: the session never comes up', async () => {
        t = await startTortie(lab.tns, {
          speaker: { routerId: lab.t4, asNumber: TORTIE_AS, listen: { address: lab.t4, port: 179 } },
          peers: [{ address: lab.d4, asNumber: DAEMON_AS, localAddress: lab.t4, holdTime: 6, password: 'wrong-key', families: ['ipv4'] }],
          originated: [],
        });
        await sleep(3000);
        const st = await t.status();
        assert.notEqual(st[0]!.state, 'Established');
      });
    });
  });
});
