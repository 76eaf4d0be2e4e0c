/**
 * Agent acceptance 6 (issue 5): restarting one agent (SIGTERM, then start) keeps traffic flowing
 * between pods on the other hosts (0 lost pings) — and, thanks to graceful restart and kernel
 * routes left in place, traffic to the restarting host's own pods too — and the restarted host's
 * routes are back within 2 s of its return.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AgentLab } from '../helpers/agent-lab.js';
import { cleanupAll, skipReason, sleep, waitFor } from '../helpers/netns.js';

const skip = skipReason();

describe('agent: restart without loss', { skip, timeout: 180_000 }, () => {
  after(() => cleanupAll());

  it('SIGTERM + start: no lost pings elsewhere, routes restored within 2 s', async () => {
    const lab = await AgentLab.create('rst', [
      { name: 'host-a', cidr: '10.46.0.1/24' },
      { name: 'host-b', cidr: '10.46.0.2/24' },
      { name: 'host-c', cidr: '10.46.0.3/24' },
    ]);
    try {
      await lab.apply(`apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: pool-rst
spec:
  cidr: 10.248.0.0/16
  blockSize: 26
  natOutgoing: false
`);
      for (const h of lab.hosts) lab.startAgent(h, ['--metrics-port', '0']);
      for (const h of lab.hosts) await lab.waitEstablished(h, 2);
      const pa = await lab.addPod('host-a', 'ra');
      const pb = await lab.addPod('host-b', 'rb');
      const pc = await lab.addPod('host-c', 'rc');
      await lab.waitPing(pa, pb.ip);
      await lab.waitPing(pa, pc.ip);
      const routesBefore = lab.routes(lab.host('host-c')).filter((r) => r.protocol === '93');

      const others = lab.continuousPing(pa, pb.ip, 10);
      const toC = lab.continuousPing(pb, pc.ip, 10);
      await sleep(500);
      const c = lab.host('host-c');
      await lab.stopAgent(c, 'SIGTERM');
      // Peers keep host-c's routes (graceful restart): its kernel routes stay, and so do theirs.
      await sleep(1500);
      assert.ok(lab.routes(lab.host('host-a')).some((r) => r.gateway === c.ip && r.protocol === '93'), 'host-a keeps the route to host-c (stale)');
      lab.startAgent(c, ['--metrics-port', '0']);
      await lab.waitRunning(c);
      const back = Date.now();
      await waitFor(async () => (await lab.status(c)).bgp.peers.filter((p) => p.bgpState === 'Established').length === 2, 5000, {
        what: 'host-c Established again',
        intervalMs: 20,
      });
      const established = Date.now() - back;
      assert.ok(established <= 2000, `host-c's sessions came back ${established} ms after its return`);
      // Its kernel routes: the same set as before the restart.
      await waitFor(
        () => {
          const now = lab.routes(c).filter((r) => r.protocol === '93');
          return JSON.stringify(now.map((r) => [r.dst, r.gateway ?? r.type]).sort()) === JSON.stringify(routesBefore.map((r) => [r.dst, r.gateway ?? r.type]).sort());
        },
        5000,
        { what: 'host-c kernel routes restored', intervalMs: 20 },
      );
      assert.ok(Date.now() - back <= 2500, `routes restored ${Date.now() - back} ms after host-c's return`);
      await sleep(1000);
      const r1 = await others.stop();
      const r2 = await toC.stop();
      assert.ok(r1.sent > 100 && r2.sent > 100, `pings ran (${r1.sent}, ${r2.sent})`);
      assert.equal(r1.lost, 0, `pod-a → pod-b lost ${r1.lost}/${r1.sent}: ${r1.missing.slice(0, 20).join(',')}`);
      assert.equal(r2.lost, 0, `pod-b → pod-c lost ${r2.lost}/${r2.sent}: ${r2.missing.slice(0, 20).join(',')}`);
      assert.match(lab.log(c), /"restarting":true/, 'the second start knew it was a graceful restart');
    } finally {
      await lab.close();
    }
  });
});
