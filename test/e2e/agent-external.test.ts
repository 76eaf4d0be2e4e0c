/**
 * Agent acceptance 3 (issue 5; seeds 000, 003): an external router — BIRD 2 in its own
 * namespace, the hosts' default gateway — peers with every host through a global BGPPeer, eBGP
 * (AS 65001) and iBGP (AS 64512, the cluster's). It learns every block and the serviceClusterIPs
 * CIDR, programs them into its kernel, and a "VM" on another subnet behind it pings a pod.
 */
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AgentLab } from '../helpers/agent-lab.js';
import { cleanupAll, createNetns, createVethPair, skipReason, waitFor } from '../helpers/netns.js';
import { daemonSkipReason, startDaemon } from '../helpers/daemons.js';

const skip = skipReason() ?? daemonSkipReason('bird2');

async function scenario(tag: string, net: number, routerAs: number): Promise<void> {
  const lab = await AgentLab.create(tag, [
    { name: 'host-a', cidr: `10.${net}.0.1/24` },
    { name: 'host-b', cidr: `10.${net}.0.2/24` },
  ]);
  try {
    const gw = lab.gateway;
    const routerIp = `10.${net}.0.254`;
    await lab.apply(`apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: pool-ext
spec:
  cidr: 10.${net}.128.0/17
  blockSize: 26
  natOutgoing: false
---
apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata:
  name: default
spec:
  asNumber: 64512
  serviceClusterIPs:
  - cidr: 10.96.0.0/12
---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata:
  name: border
spec:
  peerIP: ${routerIp}
  asNumber: ${routerAs}
`);
    // The VM's subnet behind the router.
    const vm = createNetns(`${tag}-vm`);
    createVethPair({ ns: gw, ifname: 'vmlink', addresses: ['192.168.82.1/24'] }, { ns: vm, ifname: 'eth0', addresses: ['192.168.82.10/24'] });
    vm.ip('route', 'add', 'default', 'via', '192.168.82.1');
    const bird = await startDaemon('bird2', {
      netns: gw,
      routerId: routerIp,
      localAs: routerAs,
      localAddress: routerIp,
      peers: lab.hosts.map((h) => ({ address: h.ip, asNumber: 64512, holdTime: 9 })),
      fib: true,
    });
    for (const h of lab.hosts) lab.startAgent(h, ['--metrics-port', '0']);
    for (const h of lab.hosts) await lab.waitRunning(h);
    const pod = await lab.addPod('host-b', `${tag}-p`);
    const other = await lab.addPod('host-a', `${tag}-q`);

    // Each host: one mesh peer and the global peer, all Established.
    for (const h of lab.hosts) {
      const st = await lab.waitEstablished(h, 2);
      assert.deepEqual(st.bgp.peers.map((p) => p.type).sort(), ['Global', 'Mesh']);
    }
    await waitFor(async () => (await bird.peers()).every((p) => p.established), 20_000, { what: 'BIRD sessions' });

    // BIRD learned both blocks (from their own hosts) and the service CIDR.
    const blocks = (await (await lab.datastore()).kv.list('/calico/ipam/v2/assignment/ipv4/block/')).pairs.map((p) => JSON.parse(p.value) as { cidr: string; affinity: string });
    assert.equal(blocks.length, 2);
    await waitFor(
      async () => {
        const routes = await bird.routes();
        for (const b of blocks) {
          const owner = lab.host(b.affinity.replace('host:', ''));
          // From its own host, and every path (the other host announces it too over eBGP: Calico exports
          // every route inside a pool) leads straight to the owner: a third-party next hop on the
          // shared subnet, as BIRD sends it.
          const paths = routes.filter((r) => r.prefix === b.cidr);
          if (!paths.some((r) => r.fromPeer === owner.ip) || !paths.every((r) => r.nextHop === owner.ip)) return false;
        }
        return routes.some((r) => r.prefix === '10.96.0.0/12');
      },
      20_000,
      { what: `blocks and the service CIDR at BIRD: ${JSON.stringify(await bird.routes())}` },
    );
    const owner0 = blocks[0]!.affinity.replace('host:', '');
    const r = (await bird.routes()).find((x) => x.prefix === blocks[0]!.cidr && x.fromPeer === lab.host(owner0).ip)!;
    if (routerAs !== 64512) assert.deepEqual(r.asPath, [64512], 'eBGP: the cluster AS in the path');
    else assert.deepEqual(r.asPath, [], 'iBGP: an empty path');

    // The router's kernel routes lead to the hosts, and the VM reaches pods on both hosts.
    await lab.waitPing(vm, pod.ip, 20_000);
    assert.ok(await lab.ping(vm, other.ip, 3));
    await bird.stop();
  } finally {
    await lab.close();
  }
}

describe('agent: an external router learns the cluster routes', { skip, timeout: 240_000 }, () => {
  afterEach(() => cleanupAll());
  it('eBGP (AS 65001): blocks and serviceClusterIPs reach BIRD, a VM behind it pings pods', () => scenario('ext1', 44, 65001));
  it('iBGP (AS 64512): the same over an iBGP session', () => scenario('ext2', 45, 64512));
});
