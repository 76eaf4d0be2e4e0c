/**
 * Lab acceptance 5 (seed 004, the developers' network reaches the pods): `tortie lab up seed-004`
 * builds the test cluster's five hosts d10.node … d19.node (172.16.0.10/.13/.16/.17/.19), the
 * pool default-ipv4-ippool 10.20.0.0/16 in IPIP Always, the mesh on; the developers' router
 * (172.16.0.1, also the cluster's gateway, no BGP) with the developer at 10.10.0.100 and STATIC
 * routes 10.20.0.0/16 and 10.254.0.0/16 via the future reflector d13.node (the seed's last step,
 * done on the router, `routers[].staticRoutes`). The seed's steps, through the CLI:
 *  0. the router's kernel has both static routes via 172.16.0.13; the developer reaches a pod on
 *     d13.node itself, and — on a kernel without ipip — not a pod elsewhere (IPIP Always: the
 *     seed's "traffic routed in from outside breaks");
 *  1. mesh off: `get bgpconfig default` exists, so it is exported, given
 *     `nodeToNodeMeshEnabled: false` and applied; `node status` shows "No IPv4 peers found.";
 *  2. d10.node and d13.node exported, given the label `route-reflector: "true"` and
 *     `routeReflectorClusterID: 172.16.20.1`, applied; `create -f rr.yaml` with peer-to-rrs and
 *     rr-mesh in one multi-document file creates 2 BGPPeers; `node status` on the reflector d10
 *     lists the four others, on d16 the two reflectors (the seed's two tables);
 *  3. the pool exported, `ipipMode: CrossSubnet`, applied: the reflector d13 routes d16's block
 *     `via 172.16.0.16 dev eth0 proto 93`, pods reach each other;
 *  4. the developer reaches the pods on d16 and d19 (the router's path goes via d13), and d13;
 *  5. `lab down` leaves no namespace, process or directory.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { isAlive, readState, teardown } from '../../src/lab/state.js';
import { skipReason, waitFor } from '../helpers/netns.js';
import { daemonSkipReason } from '../helpers/daemons.js';
import { labCli, statusPeers, type LabRoute } from '../helpers/lab-cli.js';

const skip =
  skipReason() ??
  daemonSkipReason('bird2') ??
  (existsSync('dist/cli/bin.js') && existsSync('dist/cni/bundle/main.js') ? undefined : 'dist/ not built (npm run build; scripts/test.sh does it)');

const NAME = `s4-${process.pid}`;
const RR = { 'd10.node': '172.16.0.10', 'd13.node': '172.16.0.13' };
const CLIENTS = { 'd16.node': '172.16.0.16', 'd17.node': '172.16.0.17', 'd19.node': '172.16.0.19' };
const ALL: Record<string, string> = { ...RR, ...CLIENTS };

const RR_YAML = `kind: BGPPeer
apiVersion: projectcalico.org/v3
metadata:
  name: peer-to-rrs
spec:
  nodeSelector: "!has(route-reflector)"
  peerSelector: has(route-reflector)
---
kind: BGPPeer
apiVersion: projectcalico.org/v3
metadata:
  name: rr-mesh
spec:
  nodeSelector: has(route-reflector)
  peerSelector: has(route-reflector)
`;

type Route = LabRoute;

describe('lab: seed 004 (the developers reach pods through a reflector, CrossSubnet)', { skip, timeout: 180_000 }, () => {
  const dir = skip ? '' : mkdtempSync('/tmp/tl-');
  const { tortie, ok, exec, routes, ping: labPing, nodeStatus } = labCli(dir);
  const ping = async (from: string, to: string, count = 1): Promise<boolean> => (await labPing(from, to, count)).code === 0;
  after(async () => {
    const left = dir ? readState(dir) : undefined;
    if (left) await teardown(left);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('mesh off, reflectors by label + cluster ID, CrossSubnet: the developer reaches the pods', async (t) => {
    const t0 = Date.now();
    const up = await tortie(['lab', 'up', 'seed-004', '--name', NAME, '--dir', dir]);
    assert.equal(up.code, 0, up.err);
    t.diagnostic(`lab up: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    assert.match(up.err, /starting agents… 5\/5 up/);
    const st = readState(dir)!;
    const pod = (n: string) => st.nodes.find((x) => x.name === n)!.address!;
    const blockOf = (addr: string): string => {
      const [a, b, c, d] = addr.split('.').map(Number) as [number, number, number, number];
      return `${a}.${b}.${c}.${d & 0xc0}/26`;
    };

    // 0. The developers' router: the pod and service ranges via d13.node, statically.
    const rr = routes('dev-router');
    for (const cidr of ['10.20.0.0/16', '10.254.0.0/16']) assert.ok(rr.some((r) => r.dst === cidr && r.gateway === '172.16.0.13' && r.protocol === 'bird'), `${cidr} via 172.16.0.13: ${JSON.stringify(rr)}`);
    await waitFor(() => ping('developer', 'app-13'), 15_000, { what: 'developer → the pod on d13.node', intervalMs: 200 });
    const noIpip = !existsSync('/sys/module/ipip');
    if (noIpip) assert.equal(await ping('developer', 'grpc-server'), false, 'IPIP Always (and no ipip here): d13 cannot forward to d16');

    // 1. Mesh off through the exported default BGPConfiguration.
    const cfg = await ok(['get', 'bgpconfig', 'default', '-o', 'yaml']);
    assert.doesNotMatch(cfg, /nodeToNodeMeshEnabled/);
    const meshOff = cfg.replace(/^spec:$/m, 'spec:\n  nodeToNodeMeshEnabled: false');
    assert.notEqual(meshOff, cfg);
    assert.match(await ok(['apply', '-f', '-'], meshOff), /Successfully applied 1 'BGPConfiguration' resource\(s\)/);
    assert.match(await ok(['get', 'bgpconfig']), /^default\s+Info\s+false\s/m);
    await waitFor(async () => /IPv4 BGP status\nNo IPv4 peers found\./.test(await nodeStatus('d16.node')), 10_000, { what: 'no peers on d16.node' });

    // 2. Two reflectors: label and cluster ID in the exported Nodes, then rr.yaml.
    for (const n of Object.keys(RR)) {
      const y = await ok(['get', 'node', n, '-o', 'yaml']);
      const edited = y.replace(/^  labels:$/m, '  labels:\n    route-reflector: "true"').replace(/^(\s+)ipv4Address: (\S+)$/m, '$&\n$1routeReflectorClusterID: 172.16.20.1');
      assert.match(edited, /route-reflector: "true"[\s\S]*routeReflectorClusterID: 172\.16\.20\.1/);
      assert.match(await ok(['apply', '-f', '-'], edited), /Successfully applied 1 'Node' resource\(s\)/);
    }
    assert.match(await ok(['create', '-f', '-'], RR_YAML), /Successfully created 2 'BGPPeer' resource\(s\)/);
    const peers = await ok(['get', 'bgppeer']);
    assert.match(peers, /^peer-to-rrs\s/m);
    assert.match(peers, /^rr-mesh\s/m);
    const others = (me: string) => Object.fromEntries(Object.entries(ALL).filter(([n]) => n !== me).map(([, a]) => [a, 'node specific']));
    /** Waits until `node status` on `host` shows exactly `want`; the last table in the error. */
    const waitPeers = async (host: string, want: Record<string, string>, what: string): Promise<void> => {
      let last = '';
      await waitFor(
        async () => {
          last = await nodeStatus(host);
          const canon = (m: Record<string, string>) => JSON.stringify(Object.entries(m).sort());
          return canon(statusPeers(last)) === canon(want);
        },
        20_000,
        { what: `${host}: ${what}` },
      ).catch((e: Error) => {
        throw new Error(`${e.message}\n${last}`);
      });
    };
    for (const r of Object.keys(RR)) await waitPeers(r, others(r), 'every other host');
    for (const c of Object.keys(CLIENTS)) await waitPeers(c, { '172.16.0.10': 'node specific', '172.16.0.13': 'node specific' }, 'the two reflectors');
    const rrStatus = await nodeStatus('d10.node');
    assert.equal(rrStatus.match(/^\| \d+\.\d+\.\d+\.\d+ /gm)?.length, 4, rrStatus);

    // 3. CrossSubnet: same-subnet hosts route natively.
    const pool = await ok(['get', 'ippool', 'default-ipv4-ippool', '-o', 'yaml']);
    assert.match(pool, /ipipMode: Always/);
    assert.match(await ok(['apply', '-f', '-'], pool.replace('ipipMode: Always', 'ipipMode: CrossSubnet')), /Successfully applied 1 'IPPool' resource\(s\)/);
    assert.match(await ok(['get', 'ippool', '-o', 'wide']), /^default-ipv4-ippool\s+10\.20\.0\.0\/16\s+true\s+CrossSubnet\s/m);
    for (const [p, via] of [['grpc-server', '172.16.0.16'], ['consul-0', '172.16.0.19']] as const) {
      await waitFor(() => routes('d13.node').some((r) => r.dst === blockOf(pod(p)) && r.gateway === via && r.dev === 'eth0' && r.protocol === '93'), 15_000, {
        what: `${blockOf(pod(p))} via ${via} dev eth0 on the reflector d13.node`,
      });
    }
    await waitFor(() => ping('grpc-server', 'consul-0'), 15_000, { what: 'grpc-server → consul-0', intervalMs: 200 });

    // 4. The developer reaches the pods; the router sends them to d13.node.
    for (const p of ['grpc-server', 'consul-0', 'app-13']) {
      await waitFor(() => ping('developer', p), 15_000, { what: `developer → ${p}`, intervalMs: 200 });
      assert.ok(await ping('developer', p, 3), `developer → ${p}, 3 of 3`);
      const via = JSON.parse(exec('dev-router', 'ip', '-j', 'route', 'get', pod(p))) as Route[];
      assert.equal(via[0]?.gateway, '172.16.0.13');
    }
    // The service range goes the same way.
    assert.equal((JSON.parse(exec('dev-router', 'ip', '-j', 'route', 'get', '10.254.0.10')) as Route[])[0]?.gateway, '172.16.0.13');

    // 5. Down leaves nothing.
    const down = await tortie(['lab', 'down', '--dir', dir]);
    assert.equal(down.code, 0, down.err);
    const left = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.startsWith(`tl-${NAME}-`));
    assert.deepEqual(left, []);
    for (const x of st.processes) assert.equal(isAlive(x), false, `${x.role} (pid ${x.pid}) stopped`);
    assert.ok(!existsSync(dir), 'the lab directory is gone');
  });
});
