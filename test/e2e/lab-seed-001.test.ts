/**
 * Lab acceptance 2 (seed 001, pod to pod across two hosts): `tortie lab up seed-001` builds the
 * seed's baihl-master (192.168.170.137) and baihl-node (192.168.170.138), an nginx pod on each;
 * the agents create default-ipv4-ippool 10.10.0.0/16 in IPIP Always from calico.yaml's
 * CALICO_IPV4POOL_CIDR / CALICO_IPV4POOL_IPIP. Then, through the CLI against the lab's datastore:
 *  1. IPIP mode: `get ippool -o wide` says Always; with the kernel's ipip module, tunl0 and
 *     `<block> via <other host> dev tunl0 onlink proto 93` and pods ping; without it (this
 *     machine) the agent's IPIP_UNSUPPORTED warning is checked and the rest of the step skipped
 *     with the reason;
 *  2. BGP mode (the seed's CALICO_IPV4POOL_IPIP "off", as a pool patch): no tunl0 and no tunl0
 *     route, `<block> via <other host> dev eth0 proto 93` on both hosts (the seed's `dev ens33`);
 *     the pod's routes are `default via 169.254.1.1 dev eth0` + `169.254.1.1 dev eth0 scope
 *     link`, the host's `<pod> dev cali… scope link`, and the pod's eth0 is the peer of that
 *     cali veth (the seed's `ethtool -S eth0` peer_ifindex); the pods ping each other, TTL 62;
 *  3. VXLAN mode (vxlanMode Always): vxlan.calico (VNI 4096, port 4789) with the Node's
 *     ipv4VXLANTunnelAddr, `<block> via <tunnel address> dev vxlan.calico onlink proto 93`; pods
 *     ping;
 *  4. `lab down` leaves no namespace, process or directory.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { isAlive, readState, teardown, type LabState } from '../../src/lab/state.js';
import { skipReason, waitFor } from '../helpers/netns.js';
import { labCli } from '../helpers/lab-cli.js';

const skip =
  skipReason() ?? (existsSync('dist/cli/bin.js') && existsSync('dist/cni/bundle/main.js') ? undefined : 'dist/ not built (npm run build; scripts/test.sh does it)');

const NAME = `s1-${process.pid}`;
const HOSTS = { 'baihl-master': '192.168.170.137', 'baihl-node': '192.168.170.138' } as const;
type Host = keyof typeof HOSTS;
const POD = { 'baihl-master': 'nginx-master', 'baihl-node': 'nginx-node' } as const;
const other = (h: Host): Host => (h === 'baihl-master' ? 'baihl-node' : 'baihl-master');

describe('lab: seed 001 (IPIP, BGP and VXLAN modes between two hosts)', { skip, timeout: 180_000 }, () => {
  const dir = skip ? '' : mkdtempSync('/tmp/tl-');
  const { tortie, ok, exec, routes } = labCli(dir);
  let st: LabState;
  const blocks: Partial<Record<Host, string>> = {};
  const links = (node: string): { ifindex: number; ifname: string; link_index?: number; linkinfo?: { info_kind: string; info_data?: { id?: number; port?: number } } }[] =>
    JSON.parse(exec(node, 'ip', '-d', '-j', 'link', 'show')) as ReturnType<typeof links>;
  const pingPods = async (count = 1): Promise<{ code: number; out: string }> => tortie(['lab', 'ping', '--dir', dir, '-c', String(count), 'nginx-master', 'nginx-node']);
  const waitPods = () => waitFor(async () => (await pingPods()).code === 0, 15_000, { what: 'nginx-master → nginx-node', intervalMs: 200 });
  const podAddr = (p: string): string => st.nodes.find((n) => n.name === p)!.address!;
  const blockOf = (addr: string): string => {
    const [a, b, c, d] = addr.split('.').map(Number) as [number, number, number, number];
    return `${a}.${b}.${c}.${d & 0xc0}/26`;
  };

  before(async () => {
    if (skip) return;
    const up = await tortie(['lab', 'up', 'seed-001', '--name', NAME, '--dir', dir]);
    assert.equal(up.code, 0, up.err);
    assert.match(up.err, /starting agents… 2\/2 up/);
    st = readState(dir)!;
    for (const h of Object.keys(HOSTS) as Host[]) blocks[h] = blockOf(podAddr(POD[h]));
  });
  after(async () => {
    const left = dir ? readState(dir) : undefined;
    if (left) await teardown(left);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('IPIP mode (calico.yaml default): tunl0 routes — or the kernel has no ipip', async (t) => {
    const wide = await ok(['get', 'ippool', '-o', 'wide']);
    assert.match(wide, /^default-ipv4-ippool\s+10\.10\.0\.0\/16\s+true\s+Always\s+Never\s+false/m);
    const probe = spawnSync('ip', ['-n', `tl-${NAME}-baihl-master`, 'link', 'add', 'tunl-probe', 'type', 'ipip'], { encoding: 'utf8' });
    if (probe.status !== 0 && !existsSync('/sys/module/ipip')) {
      // The agent says why there is no tunl0, then this step cannot go further.
      await waitFor(() => /"code":"IPIP_UNSUPPORTED"/.test(readFileSync(join(dir, 'baihl-master', 'agent.log'), 'utf8')), 10_000, { what: 'the agent\'s IPIP_UNSUPPORTED warning' });
      t.skip(`no ipip module in this kernel (ip link add … type ipip: ${probe.stderr.trim()}); the agent warns IPIP_UNSUPPORTED`);
      return;
    }
    spawnSync('ip', ['-n', `tl-${NAME}-baihl-master`, 'link', 'del', 'tunl-probe']);
    for (const h of Object.keys(HOSTS) as Host[]) {
      await waitFor(() => links(h).some((l) => l.ifname === 'tunl0'), 15_000, { what: `tunl0 on ${h}` });
      const o = other(h);
      await waitFor(
        () => routes(h).some((r) => r.dst === blocks[o] && r.gateway === HOSTS[o] && r.dev === 'tunl0' && r.protocol === '93'),
        15_000,
        { what: `${blocks[o]} via ${HOSTS[o]} dev tunl0 on ${h}` },
      );
    }
    await waitPods();
  });

  it("BGP mode (ipipMode Never): routes via the other host on eth0, the pod's 169.254.1.1 and cali veth", async () => {
    assert.match(await ok(['patch', 'ippool', 'default-ipv4-ippool', '-p', '{"spec":{"ipipMode":"Never"}}']), /Successfully patched 1 'IPPool' resource/);
    assert.match(await ok(['get', 'ippool', '-o', 'wide']), /^default-ipv4-ippool\s+10\.10\.0\.0\/16\s+true\s+Never\s+Never\s+false/m);
    for (const h of Object.keys(HOSTS) as Host[]) {
      const o = other(h);
      await waitFor(
        () => {
          const rs = routes(h);
          return rs.some((r) => r.dst === blocks[o] && r.gateway === HOSTS[o] && r.dev === 'eth0' && r.protocol === '93') && !rs.some((r) => r.dev === 'tunl0');
        },
        15_000,
        { what: `${blocks[o]} via ${HOSTS[o]} dev eth0 proto 93 on ${h}` },
      );
      assert.ok(!links(h).some((l) => l.ifname === 'tunl0'), `no tunl0 on ${h}`);
      // The pod: everything via 169.254.1.1 on eth0.
      const pod = POD[h];
      const prs = routes(pod);
      assert.ok(prs.some((r) => r.dst === 'default' && r.gateway === '169.254.1.1' && r.dev === 'eth0'), JSON.stringify(prs));
      assert.ok(prs.some((r) => r.dst === '169.254.1.1' && r.dev === 'eth0' && r.scope === 'link'), JSON.stringify(prs));
      // The host: the pod's /32 on a cali veth whose peer is the pod's eth0.
      const hr = routes(h).find((r) => r.dst === podAddr(pod));
      assert.ok(hr && /^cali[0-9a-f]{11}$/.test(hr.dev ?? '') && hr.scope === 'link', JSON.stringify(hr));
      const eth0 = links(pod).find((l) => l.ifname === 'eth0')!;
      const cali = links(h).find((l) => l.ifname === hr.dev)!;
      assert.equal(eth0.link_index, cali.ifindex, `the pod's eth0 is the peer of ${hr.dev}`);
    }
    await waitPods();
    const p = await pingPods(3);
    assert.match(p.out, / 0% packet loss/);
    assert.match(p.out, /ttl=62 /, 'two routers on the way: the hosts');
  });

  it('VXLAN mode (vxlanMode Always): vxlan.calico and routes via the tunnel addresses', async () => {
    await ok(['patch', 'ippool', 'default-ipv4-ippool', '-p', '{"spec":{"vxlanMode":"Always"}}']);
    assert.match(await ok(['get', 'ippool', '-o', 'wide']), /^default-ipv4-ippool\s+10\.10\.0\.0\/16\s+true\s+Never\s+Always\s+false/m);
    const tunnel: Partial<Record<Host, string>> = {};
    for (const h of Object.keys(HOSTS) as Host[]) {
      tunnel[h] = await waitFor(async () => /ipv4VXLANTunnelAddr: (\S+)/.exec(await ok(['get', 'node', h, '-o', 'yaml']))?.[1], 15_000, { what: `${h}'s VXLAN tunnel address` });
      assert.equal(blockOf(tunnel[h]!), blocks[h], 'the tunnel address comes from the host\'s block');
    }
    for (const h of Object.keys(HOSTS) as Host[]) {
      const o = other(h);
      const dev = await waitFor(() => links(h).find((l) => l.ifname === 'vxlan.calico'), 15_000, { what: `vxlan.calico on ${h}` });
      assert.equal(dev.linkinfo?.info_kind, 'vxlan');
      assert.equal(dev.linkinfo?.info_data?.id, 4096);
      assert.equal(dev.linkinfo?.info_data?.port, 4789);
      await waitFor(
        () => routes(h).some((r) => r.dst === blocks[o] && r.gateway === tunnel[o] && r.dev === 'vxlan.calico' && r.protocol === '93' && (r.flags ?? []).includes('onlink')),
        15_000,
        { what: `${blocks[o]} via ${tunnel[o]} dev vxlan.calico onlink on ${h}` },
      );
    }
    await waitPods();
    assert.match((await pingPods(3)).out, / 0% packet loss/);
  });

  it('lab down leaves nothing', async () => {
    const down = await tortie(['lab', 'down', '--dir', dir]);
    assert.equal(down.code, 0, down.err);
    const left = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.startsWith(`tl-${NAME}-`));
    assert.deepEqual(left, []);
    for (const p of st.processes) assert.equal(isAlive(p), false, `${p.role} (pid ${p.pid}) stopped`);
    assert.ok(!existsSync(dir), 'the lab directory is gone');
  });
});
