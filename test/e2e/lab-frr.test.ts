/**
 * Lab acceptance 6 (FRR routers, etcd datastore): `tortie lab up frr-core` builds seed 003's
 * design, smaller — two hosts on VLAN 98 behind the core switch 10.2.98.1 played by FRR 8.4
 * (zebra + staticd + bgpd, AS 65001), the mesh off, AS 63400, a global BGPPeer to the switch, a
 * VM behind the switch — with its resources in an etcd the lab starts in its own namespace.
 * Through the CLI only:
 *  - sessions Established on both sides (the agents' `node status`, FRR's `show bgp neighbors`);
 *  - the switch's kernel has every /26 block via its host (proto bgp, installed by zebra) and
 *    the static route (proto static, from staticd); `lab status` lists sessions and routes;
 *  - the VM pings the pods, the pods ping each other through the switch;
 *  - the cluster lives in etcd: the blocks are etcd keys, `tortie get nodes` run by `lab exec`
 *    inside the lab sees the hosts, and there is no SQLite file;
 *  - a crashed FRR daemon (SIGKILL: FRR keeps its crash-log dir) is still cleaned up: `lab down`
 *    leaves no namespace, process, directory, or /var/tmp/frr/<daemon>.<pid>.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseFrrNeighbors } from '../../src/lab/frr.js';
import { isAlive, readState } from '../../src/lab/state.js';
import { neighbourTableWarning } from '../../src/lab/sys.js';
import { skipReason, waitFor } from '../helpers/netns.js';
import { daemonSkipReason } from '../helpers/daemons.js';
import { etcdSkipReason } from '../helpers/etcd.js';
import { labCli, labNamespaces, statusPeers, useLabDir } from '../helpers/lab-cli.js';

const skip =
  skipReason() ??
  daemonSkipReason('frr') ??
  etcdSkipReason() ??
  (existsSync('dist/cli/bin.js') && existsSync('dist/cni/bundle/main.js') ? undefined : 'dist/ not built (npm run build; scripts/test.sh does it)');

const NAME = `fc-${process.pid}`;
const HOSTS: Record<string, string> = { 'node-141': '10.2.98.141', 'node-142': '10.2.98.142' };
const SWITCH = '10.2.98.1';
const ETCD = 'http://10.2.98.254:2379';

const re = (s: string): string => s.replaceAll('.', '\\.').replaceAll('/', '\\/');

describe('lab: FRR core switch, etcd datastore', { skip, timeout: 180_000 }, () => {
  const dir = useLabDir(skip);
  const { tortie, exec, nodeStatus, ping } = labCli(dir);

  const vtysh = (cmd: string): string => {
    const r = spawnSync('vtysh', ['--vty_socket', join(dir, 'core-s9700'), '-c', cmd], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
  };
  const switchKernel = () => JSON.parse(spawnSync('ip', ['-n', `tl-${NAME}-core-s9700`, '-j', 'route'], { encoding: 'utf8' }).stdout) as { dst: string; gateway?: string; protocol?: string }[];

  it('sessions on both sides, blocks in the switch\'s kernel, VM → pods, state in etcd, down after a crash', async (t) => {
    const t0 = Date.now();
    const up = await tortie(['lab', 'up', 'frr-core', '--name', NAME, '--dir', dir]);
    assert.equal(up.code, 0, up.err);
    t.diagnostic(`lab up: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    assert.match(up.err, new RegExp(`waiting for etcd \\(${re(ETCD)}\\)`));
    assert.match(up.out, new RegExp(`^Datastore: etcd ${re(ETCD)} \\(node etcd, namespace tl-${NAME}-etcd, running\\)$`, 'm'));
    assert.match(up.out, /core-s9700\s+frr\s+65001\s+10\.2\.98\.1, 10\.2\.0\.2\s+2\/2 Established/);
    const st = readState(dir)!;
    assert.deepEqual(st.processes.map((p) => p.role).sort(), ['agent node-141', 'agent node-142', 'bgpd core-s9700', 'etcd', 'staticd core-s9700', 'zebra core-s9700']);
    const frr = st.processes.filter((p) => /^(zebra|staticd|bgpd) /.test(p.role));
    for (const p of frr) assert.deepEqual(p.leftovers, [`/var/tmp/frr/${p.role.split(' ')[0]}.${p.pid}`]);

    // Both sides of every session.
    for (const h of Object.keys(HOSTS)) assert.deepEqual(statusPeers(await nodeStatus(h)), { [SWITCH]: 'global' }, h);
    const sessions = parseFrrNeighbors(vtysh('show bgp neighbors json'));
    assert.deepEqual(sessions.map((s) => [s.address, s.established]).sort(), Object.values(HOSTS).map((a) => [a, true]));

    // The blocks, from etcd (nothing else holds them), in the switch's kernel via their hosts.
    const keys = exec('etcd', 'etcdctl', 'get', '--prefix', '/calico/ipam/v2/host/', '--keys-only');
    const blocks = Object.entries(HOSTS).map(([h, via]) => {
      const m = new RegExp(`^/calico/ipam/v2/host/${h}/ipv4/block/(\\d+\\.\\d+\\.\\d+\\.\\d+)-26$`, 'm').exec(keys);
      assert.ok(m, `${h}'s block in etcd:\n${keys}`);
      return [`${m[1]}/26`, via] as const;
    });
    await waitFor(() => blocks.every(([b, via]) => switchKernel().some((r) => r.dst === b && r.gateway === via && r.protocol === 'bgp')), 20_000, {
      what: `every block in the switch's kernel: ${JSON.stringify(blocks)}`,
    });
    assert.ok(switchKernel().some((r) => r.dst === '10.96.0.0/12' && r.gateway === '10.2.98.141' && r.protocol === 'static'), 'staticd\'s route in the kernel');

    const status = await tortie(['lab', 'status', '--dir', dir]);
    assert.equal(status.code, 0, status.err);
    for (const [h, a] of Object.entries(HOSTS)) assert.match(status.out, new RegExp(`^${h}\\s+${re(a)}\\s+up\\s+Established`, 'm'));
    for (const [b, via] of blocks) assert.match(status.out, new RegExp(`^${re(b)}\\s+${re(via)}\\s+node-\\d+\\s+\\*`, 'm'));
    assert.match(status.out, /^10\.96\.0\.0\/12\s+10\.2\.98\.141\s+static\s+\*/m);

    // Traffic through the switch: the VM behind it to each pod, pod to pod (TTL 61: three routers).
    for (const pod of ['pod-141', 'pod-142']) {
      await waitFor(async () => (await ping('vm1', pod)).code === 0, 20_000, { what: `vm1 → ${pod}${neighbourTableWarning() ? ` (${neighbourTableWarning()})` : ''}`, intervalMs: 300 });
    }
    await waitFor(async () => (await ping('pod-141', 'pod-142')).code === 0, 20_000, { what: 'pod-141 → pod-142', intervalMs: 300 });
    const p = await ping('pod-141', 'pod-142', 2);
    assert.match(p.out, /ttl=61 /, p.out);

    // The CLI inside the lab finds the etcd through the environment `lab exec` gives it.
    const nodes = exec('node-141', process.execPath, join(process.cwd(), 'bin', 'tortie.js'), 'get', 'nodes');
    assert.match(nodes, /^node-141\s*$/m);
    assert.match(nodes, /^node-142\s*$/m);
    assert.ok(!existsSync(join(dir, 'tortie.db')), 'no SQLite datastore');

    // A crash: bgpd dies without cleaning up (its crash-log dir stays), then down.
    const bgpd = frr.find((x) => x.role.startsWith('bgpd '))!;
    process.kill(bgpd.pid, 'SIGKILL');
    await waitFor(() => !isAlive(bgpd), 5000, { what: 'bgpd gone' });
    assert.ok(existsSync(bgpd.leftovers![0]!), 'FRR left its crash-log dir');
    const down = await tortie(['lab', 'down', '--dir', dir]);
    assert.equal(down.code, 0, down.err);
    assert.deepEqual(labNamespaces(NAME), []);
    for (const x of st.processes) assert.equal(isAlive(x), false, `${x.role} (pid ${x.pid}) stopped`);
    for (const x of frr) assert.ok(!existsSync(x.leftovers![0]!), `${x.leftovers![0]} removed`);
    assert.ok(!existsSync(dir), 'the lab directory (etcd\'s data with it) is gone');
  });
});
