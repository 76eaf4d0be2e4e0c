/**
 * CNI acceptance 2 (issue 6): tortie's plugin through REAL CNI runtimes.
 *  - libcni (a small Go client built offline from Debian's packages): ADD, CHECK, DEL of a
 *    conflist with tortie and loopback, in a host namespace where the agent runs;
 *  - podman 4.3 with its CNI backend, in a host namespace: `podman run --network <tortie network>`
 *    gets an address from tortie, reaches a pod on another host, and `podman rm` releases it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AgentLab, type LabHost } from '../helpers/agent-lab.js';
import { cleanupAll, createNetns, skipReason, waitFor, type Netns } from '../helpers/netns.js';
import { REFERENCE_PLUGINS, TORTIE_PLUGINS, pluginPath, runPlugin } from '../helpers/cni.js';
import { cleanupCniRuntimes, cniRuntimeSkipReason, k8sPodArgs, libcni, podman } from '../helpers/cni-runtime.js';

const base = skipReason() ?? (existsSync('dist/cni/bundle/main.js') ? undefined : 'dist/ not built (npm run build)');

describe('CNI plugin through real runtimes', { skip: base, timeout: 300_000 }, () => {
  let lab: AgentLab;
  let remote: { ns: Netns; ip: string };
  const conflist = (h: LabHost) => ({
    cniVersion: '1.0.0',
    name: 'tortie-net',
    plugins: [
      {
        type: 'tortie',
        datastore_type: 'sqlite',
        sqlite_path: lab.dbPath,
        nodename_file: `${lab.stateDir(h)}/nodename`,
        mtu_file: `${lab.stateDir(h)}/mtu`,
        log_file_path: `${lab.dir}/cni-${h.name}.log`,
        ipam: { type: 'tortie-ipam', ipv4_pools: ['10.252.0.0/16'] },
      },
    ],
  });

  before(async () => {
    lab = await AgentLab.create('cnirt', [
      { name: 'host-a', cidr: '10.53.0.1/24' },
      { name: 'host-b', cidr: '10.53.0.2/24' },
    ]);
    await lab.apply(`apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: pool-rt
spec:
  cidr: 10.252.0.0/16
  blockSize: 26
  natOutgoing: false
`);
    for (const h of lab.hosts) lab.startAgent(h, ['--metrics-port', '0']);
    for (const h of lab.hosts) await lab.waitEstablished(h, 1);
    await waitFor(() => existsSync(`${lab.stateDir(lab.host('host-b'))}/mtu`), 10_000, { what: 'the agent MTU file' });
    // A pod on host-b, made by the plugin directly.
    const hb = lab.host('host-b');
    const ns = createNetns('cnirt-remote');
    const r = await runPlugin(hb.ns, pluginPath('tortie'), 'ADD', { ...conflist(hb).plugins[0], cniVersion: '1.0.0', name: 'tortie-net' }, { containerId: 'remote1', netns: `/run/netns/${ns.name}` });
    assert.equal(r.code, 0, r.out);
    remote = { ns, ip: r.json!.ips[0].address.split('/')[0] };
  });
  after(async () => {
    await cleanupCniRuntimes();
    await lab?.close();
    await cleanupAll();
  });

  it('libcni: ADD, CHECK and DEL of a tortie conflist', { skip: cniRuntimeSkipReason('libcni') }, async () => {
    const h = lab.host('host-a');
    const pod = createNetns('cnirt-lib');
    const list = { ...conflist(h), plugins: [{ type: 'loopback' }, ...conflist(h).plugins] };
    const rt = libcni({ hostNs: h.ns, conflist: list, pluginDirs: [TORTIE_PLUGINS, REFERENCE_PLUGINS], netnsPath: `/run/netns/${pod.name}`, containerId: 'lib0001', args: k8sPodArgs('shop', 'cart-1', 'lib0001') });
    const res = await rt.add();
    const ip = res.ips![0]!.address.split('/')[0]!;
    assert.match(ip, /^10\.252\./);
    await rt.check();
    await waitFor(() => lab.ping(pod, remote.ip, 1), 20_000, { what: 'libcni pod → pod on host-b' });
    const wep = await (await lab.datastore()).get({ kind: 'WorkloadEndpoint', namespace: 'shop', name: 'host--a-k8s-cart--1-eth0' });
    assert.deepEqual((wep.spec as { ipNetworks: string[] }).ipNetworks, [`${ip}/32`]);
    await rt.del();
    assert.match(await lab.tortie(['ipam', 'show', '--ip', ip]), /not assigned/);
    assert.ok(!h.ns.ip('link').includes('cali'), 'no cali interface left');
    await rt.del(); // idempotent
  });

  it('podman run --network <tortie network>: an address from tortie, a pod on another host reached, released by rm', { skip: cniRuntimeSkipReason('podman') }, async () => {
    const h = lab.host('host-a');
    const confDir = join(lab.dir, 'podman-cni');
    mkdirSync(confDir, { recursive: true });
    writeFileSync(join(confDir, 'tortie-net.conflist'), JSON.stringify(conflist(h)));
    const pm = podman(h.ns, { cniConfigDir: confDir, pluginDirs: [TORTIE_PLUGINS, REFERENCE_PLUGINS], network: 'tortie-net' });
    const c = await pm.run('web1', ['sleep', '3600']);
    const ip = c.network.IPAddress as string;
    assert.match(ip, /^10\.252\./, JSON.stringify(c.network));
    const wepList = (await (await lab.datastore()).list('WorkloadEndpoint')).items;
    assert.ok(wepList.some((w) => ((w.spec as { ipNetworks?: string[] }).ipNetworks ?? []).includes(`${ip}/32`)), 'a WorkloadEndpoint records it');
    await waitFor(async () => (await pm.exec('web1', ['ping', '-c', '1', '-W', '1', remote.ip], { check: false })).status === 0, 20_000, {
      what: 'container → pod on host-b',
    });
    assert.ok(await lab.ping(remote.ns, ip, 2), 'pod on host-b → container');
    await pm.rm('web1');
    assert.match(await lab.tortie(['ipam', 'show', '--ip', ip]), /not assigned/);
    assert.ok(!h.ns.ip('link').includes('cali'), 'no cali interface left');
    assert.match(await lab.tortie(['ipam', 'check']), /found 0 problems/);
  });
});
