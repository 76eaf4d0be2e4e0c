/**
 * Lab acceptance 4 (seed 003, eBGP to the core switch): `tortie lab up seed-003` builds four hosts
 * on VLAN 98 (10.2.98.141/.142/.143/.152) behind the "S9700" core switch 10.2.98.1 (BIRD 2, AS
 * 65001, neighbours the four hosts as AS 63400), a pod on each host, the mesh on as in a fresh
 * cluster. The seed's steps, through the CLI against the lab's datastore:
 *  1. `create -f bgp_local.yaml` (mesh off, AS 63400) is refused while the default
 *     BGPConfiguration exists; `delete bgpconfig default`, then `create -f` succeeds and `get
 *     bgpconfig` shows `default Info false 63400`; the hosts lose their mesh peers ("No IPv4
 *     peers found.") and the pods are cut off (the switch knows no pod route yet);
 *  2. `create -f bgp_peer.yaml`: the global BGPPeer 10.2.98.1 AS 65001; `node status` on every
 *     host shows `10.2.98.1 | global | up | … | Established`; the switch's sessions are up and
 *     its table (`birdc show route`, and `lab status`) lists every /26 block with its host as
 *     next hop, AS path 63400; its kernel has them, and pods reach each other through it (TTL 61:
 *     three routers on the way);
 *  3. a borrowed address: `ipam assign --node node-143 --ip <an address in node-141's block>`; the
 *     switch learns its /32 with next hop node-143 (the seed's `172.30.5.0/32 … 10.2.98.143`);
 *  4. `delete -f bgp_peer.yaml`: the switch's sessions and routes go;
 *  5. `lab down` leaves no namespace, process or directory.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseBirdProtocols, parseBirdRoutes } from '../../src/lab/bird.js';
import { isAlive, readState, teardown } from '../../src/lab/state.js';
import { skipReason, waitFor } from '../helpers/netns.js';
import { daemonSkipReason } from '../helpers/daemons.js';
import { labCli } from '../helpers/lab-cli.js';
import { meshOff } from '../fixtures/seed-yaml.js';

const skip =
  skipReason() ??
  daemonSkipReason('bird2') ??
  (existsSync('dist/cli/bin.js') && existsSync('dist/cni/bundle/main.js') ? undefined : 'dist/ not built (npm run build; scripts/test.sh does it)');

const NAME = `s3-${process.pid}`;
const HOSTS: Record<string, string> = { 'node-141': '10.2.98.141', 'node-142': '10.2.98.142', 'node-143': '10.2.98.143', 'node-152': '10.2.98.152' };

const BGP_LOCAL = meshOff(63400);
const BGP_PEER = `apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata:
  name: 64511-peer-to-65001
spec:
  peerIP: 10.2.98.1
  asNumber: 65001
`;

const blockOf = (addr: string): string => {
  const [a, b, c, d] = addr.split('.').map(Number) as [number, number, number, number];
  return `${a}.${b}.${c}.${d & 0xc0}/26`;
};

describe('lab: seed 003 (eBGP to the core switch, AS 63400 → 65001)', { skip, timeout: 180_000 }, () => {
  const dir = skip ? '' : mkdtempSync('/tmp/tl-');
  const { tortie, ok, nodeStatus, ping } = labCli(dir);
  after(async () => {
    const left = dir ? readState(dir) : undefined;
    if (left) await teardown(left);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const birdc = (...cmd: string[]): string => {
    const r = spawnSync('birdc', ['-s', join(dir, 'core-s9700', 'bird.ctl'), ...cmd], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
  };
  const switchRoutes = () => parseBirdRoutes(birdc('show', 'route'));
  const namespaces = (): string[] =>
    spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' })
      .stdout.split('\n')
      .map((l) => l.split(' ')[0]!)
      .filter((n) => n.startsWith(`tl-${NAME}-`));

  it("mesh off with AS 63400, a global eBGP peer: the switch learns every block and the borrowed /32", async (t) => {
    const t0 = Date.now();
    const up = await tortie(['lab', 'up', 'seed-003', '--name', NAME, '--dir', dir]);
    assert.equal(up.code, 0, up.err);
    t.diagnostic(`lab up: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    assert.match(up.out, /core-s9700\s+bird2\s+65001\s+10\.2\.98\.1\s+0\/4 Established/, 'the switch waits for the seed\'s BGPPeer');
    const st = readState(dir)!;
    const pods = Object.fromEntries(st.nodes.filter((n) => n.kind === 'pod').map((n) => [n.host!, n.address!]));
    assert.equal(Object.keys(pods).length, 4);
    // A fresh cluster: the mesh (three peers each).
    for (const h of Object.keys(HOSTS)) assert.equal((await nodeStatus(h)).match(/node-to-node mesh \| up/g)?.length, 3, h);

    // 1. The seed's BGPConfiguration with `create`: Calico's default exists, so delete it first.
    const file = join(dir, 'bgp_local.yaml');
    writeFileSync(file, BGP_LOCAL);
    const refused = await tortie(['create', '-f', file]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.err, /resource already exists: BGPConfiguration\(default\)/);
    assert.match(await ok(['delete', 'bgpconfig', 'default']), /Successfully deleted 1 'BGPConfiguration' resource\(s\)/);
    assert.match(await ok(['create', '-f', file]), /Successfully created 1 'BGPConfiguration' resource\(s\)/);
    const cfg = await ok(['get', 'bgpconfig']);
    assert.match(cfg, /^NAME\s+LOGSEVERITY\s+MESHENABLED\s+ASNUMBER/);
    assert.match(cfg, /^default\s+Info\s+false\s+63400\s*$/m);
    await waitFor(async () => /IPv4 BGP status\nNo IPv4 peers found\./.test(await nodeStatus('node-141')), 10_000, { what: 'no peers on node-141' });
    await waitFor(async () => (await ping('pod-141', 'pod-152')).code !== 0, 10_000, { what: 'pods cut off with the mesh off' });

    // 2. The global peer: every host peers with the switch, eBGP.
    const peerFile = join(dir, 'bgp_peer.yaml');
    writeFileSync(peerFile, BGP_PEER);
    assert.match(await ok(['create', '-f', peerFile]), /Successfully created 1 'BGPPeer' resource\(s\)/);
    assert.match(await ok(['get', 'bgppeer']), /^64511-peer-to-65001\s+10\.2\.98\.1\s+\(global\)\s+65001\s*$/m);
    for (const h of Object.keys(HOSTS)) {
      await waitFor(async () => /^\| 10\.2\.98\.1 +\| global +\| up +\| [0-9:]+ +\| Established +\|$/m.test(await nodeStatus(h)), 20_000, { what: `${h}: global peer Established` });
      const s = await nodeStatus(h);
      assert.equal(s.match(/^\| \d+\.\d+\.\d+\.\d+ /gm)?.length, 1, `${h}: the switch is its only peer\n${s}`);
    }
    await waitFor(() => parseBirdProtocols(birdc('show', 'protocols')).filter((p) => p.established).length === 4, 20_000, { what: 'the switch: 4 sessions Established' });
    const blocks = Object.entries(pods).map(([h, a]) => [blockOf(a), HOSTS[h]!] as const);
    await waitFor(
      () => {
        const rs = switchRoutes();
        return blocks.every(([b, via]) => rs.some((r) => r.prefix === b && r.nextHop === via && r.best));
      },
      20_000,
      { what: `every block at the switch: ${JSON.stringify(blocks)}` },
    );
    assert.match(birdc('show', 'route', 'all', blocks[0]![0]), /BGP\.as_path: 63400\b/, 'eBGP: the AS path is the cluster\'s AS');
    const status = await ok(['lab', 'status', '--dir', dir]);
    for (const [b, via] of blocks) assert.match(status, new RegExp(`^${b.replaceAll('.', '\\.')}\\s+${via.replaceAll('.', '\\.')}\\s+node-\\d+\\s+\\*`, 'm'));
    // The switch routes between pods (its kernel has the blocks; the hosts' default route is it).
    const kernel = spawnSync('ip', ['-n', `tl-${NAME}-core-s9700`, '-j', 'route'], { encoding: 'utf8' }).stdout;
    const kr = JSON.parse(kernel) as { dst: string; gateway?: string }[];
    for (const [b, via] of blocks) assert.ok(kr.some((r) => r.dst === b && r.gateway === via), `${b} via ${via} in the switch's kernel: ${kernel}`);
    await waitFor(async () => (await ping('pod-141', 'pod-152')).code === 0, 10_000, { what: 'pod-141 → pod-152 through the switch', intervalMs: 200 });
    const p = await ping('pod-141', 'pod-152', 2);
    assert.match(p.out, /ttl=61 /, `three hops: node-141, the switch, node-152\n${p.out}`);

    // 3. A borrowed address: node-143 holds one in node-141's block; the switch learns its /32.
    const [b141] = blocks.find(([, via]) => via === HOSTS['node-141'])!;
    const borrowed = b141.replace(/\.(\d+)\/26$/, (_, d: string) => `.${Number(d) + 5}`);
    assert.equal((await ok(['ipam', 'assign', '--node', 'node-143', '--handle', 'borrowed-143', '--ip', borrowed])).trim(), borrowed);
    assert.match(await ok(['ipam', 'show', '--show-borrowed']), new RegExp(`\\| ${borrowed.replaceAll('.', '\\.')} +\\| node-143 +\\| ${b141.replaceAll('.', '\\.')} +\\| node-141 +\\|`));
    await waitFor(() => switchRoutes().some((r) => r.prefix === `${borrowed}/32` && r.nextHop === HOSTS['node-143']), 20_000, { what: `${borrowed}/32 via node-143 at the switch` });
    assert.ok(switchRoutes().some((r) => r.prefix === b141 && r.nextHop === HOSTS['node-141']), 'the block itself still via its owner');

    // 4. `delete -f bgp_peer.yaml`: the sessions and the routes go.
    assert.match(await ok(['delete', '-f', peerFile]), /Successfully deleted 1 'BGPPeer' resource\(s\)/);
    await waitFor(() => switchRoutes().length === 0, 20_000, { what: 'the switch forgets the cluster' });

    // 5. Down leaves nothing.
    const down = await tortie(['lab', 'down', '--dir', dir]);
    assert.equal(down.code, 0, down.err);
    assert.deepEqual(namespaces(), []);
    for (const x of st.processes) assert.equal(isAlive(x), false, `${x.role} (pid ${x.pid}) stopped`);
    assert.ok(!existsSync(dir), 'the lab directory is gone');
  });
});
