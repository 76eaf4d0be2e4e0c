/**
 * CNI acceptance 3 (issue 6): 50 pods added at once on one host — 50 `tortie` processes started
 * together, as a kubelet starting a node's pods after a reboot does — get 50 distinct addresses,
 * all reachable from the host; DEL of all 50 at once leaves no `cali` interface, no
 * WorkloadEndpoint and an IPAM that `tortie ipam check` finds consistent.
 *
 * No agent runs: the plugin only needs the Node (IPAM refuses a host without one) and a pool.
 * 50 concurrent ADDs on one host all race for the host's first block, which is what this is
 * about: conflicts must be retried, never turned into duplicates or leaked blocks.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { AgentLab, type LabHost } from '../helpers/agent-lab.js';
import { cleanupAll, createNetns, skipReason, type Netns } from '../helpers/netns.js';
import { runPlugin, pluginPath, type Attachment } from '../helpers/cni.js';

const skip = skipReason() ?? (existsSync('dist/cni/bundle/main.js') ? undefined : 'dist/ not built (npm run build)');

const PODS = 50;

describe('CNI plugin: 50 pods at once on one host', { skip, timeout: 300_000 }, () => {
  let lab: AgentLab;
  let h: LabHost;
  let conf: Record<string, unknown>;
  const pods: { ns: Netns; att: Attachment }[] = [];

  before(async () => {
    lab = await AgentLab.create('cnis', [{ name: 'host-s', cidr: '10.52.0.1/24' }]);
    h = lab.host('host-s');
    await lab.apply(`apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: pool-scale
spec:
  cidr: 10.251.0.0/16
  blockSize: 26
---
apiVersion: projectcalico.org/v3
kind: Node
metadata:
  name: host-s
spec:
  bgp:
    ipv4Address: 10.52.0.1/24
`);
    conf = {
      cniVersion: '1.0.0',
      name: 'k8s-pod-network',
      type: 'tortie',
      datastore_type: 'sqlite',
      sqlite_path: lab.dbPath,
      nodename: 'host-s',
      log_file_path: `${lab.dir}/cni.log`,
      ipam: { type: 'tortie-ipam' },
    };
    for (let i = 0; i < PODS; i++) {
      const ns = createNetns(`cnis-p${i}`);
      pods.push({ ns, att: { containerId: `scale${String(i).padStart(3, '0')}`, netns: `/run/netns/${ns.name}`, args: { K8S_POD_NAMESPACE: 'default', K8S_POD_NAME: `scale-${i}`, IgnoreUnknown: '1' } } });
    }
  });
  after(async () => {
    await lab?.close();
    await cleanupAll();
  });

  it(`${PODS} concurrent ADDs: distinct addresses, each pod reachable; ${PODS} concurrent DELs leave nothing`, async () => {
    const adds = await Promise.all(pods.map((p) => runPlugin(h.ns, pluginPath('tortie'), 'ADD', conf, p.att)));
    const failed = adds.map((r, i) => ({ r, i })).filter(({ r }) => r.code !== 0);
    assert.deepEqual(failed.map(({ i, r }) => `pod ${i}: ${r.out}`), [], 'every ADD succeeds');
    const ips = adds.map((r) => (r.json!.ips as { address: string }[])[0]!.address.split('/')[0]!);
    assert.equal(new Set(ips).size, PODS, `distinct addresses: ${ips.join(' ')}`);
    for (const ip of ips) assert.match(ip, /^10\.251\./);
    const hostIfs = adds.map((r) => (r.json!.interfaces as { name: string }[])[0]!.name);
    assert.equal(new Set(hostIfs).size, PODS, 'one host veth per pod');

    const client = await lab.datastore();
    assert.equal((await client.list('WorkloadEndpoint')).items.length, PODS);
    // The host reaches every pod (through the pod's veth and /32 route; proxy ARP answers for 169.254.1.1).
    // Ten at a time: 50 ping processes at once on 2 cores make the 1 s reply timeout flaky, not the wiring.
    const unreachable: string[] = [];
    for (let i = 0; i < ips.length; i += 10) {
      const batch = ips.slice(i, i + 10);
      const ok = await Promise.all(batch.map((ip) => lab.ping(h.ns, ip, 1)));
      for (let j = 0; j < batch.length; j++) if (!ok[j] && !(await lab.ping(h.ns, batch[j]!, 2))) unreachable.push(batch[j]!);
    }
    assert.deepEqual(unreachable, [], 'every pod answers a ping from the host');
    assert.match(await lab.tortie(['ipam', 'check']), /found 0 problems/);

    const dels = await Promise.all(pods.map((p) => runPlugin(h.ns, pluginPath('tortie'), 'DEL', conf, p.att)));
    assert.deepEqual(dels.map((r, i) => ({ r, i })).filter(({ r }) => r.code !== 0).map(({ i, r }) => `pod ${i}: ${r.out}`), [], 'every DEL succeeds');
    assert.doesNotMatch(h.ns.ip('link'), /cali/, 'no cali interface left on the host');
    assert.doesNotMatch(h.ns.ip('route'), /10\.251\./, 'no pod route left on the host');
    assert.equal((await client.list('WorkloadEndpoint')).items.length, 0, 'no WorkloadEndpoint left');
    assert.match(await lab.tortie(['ipam', 'check']), /found 0 problems/);
    const show = await lab.tortie(['ipam', 'show']);
    assert.match(show, /pool-scale|10\.251\.0\.0\/16/);
    for (const ip of ips.slice(0, 5)) assert.match(await lab.tortie(['ipam', 'show', '--ip', ip]), /not assigned/);
  });
});
