/**
 * CNI acceptance 1 and 5 (issue 6): `tortie` driven as a runtime drives it — exec with CNI_* and
 * the configuration on stdin, inside the node's namespace — alone and in a conflist with the
 * reference `loopback` and `portmap` plugins: ADD returns a spec-valid result and wires the pod as
 * Calico does, CHECK passes, DEL cleans up (address, endpoint, veth) and a second DEL succeeds.
 * With agents running on two hosts, pods made by the plugin ping each other.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { AgentLab, type LabHost } from '../helpers/agent-lab.js';
import { cleanupAll, createNetns, skipReason, waitFor, type Netns } from '../helpers/netns.js';
import { REFERENCE_PLUGINS, runConflist, runPlugin, pluginPath } from '../helpers/cni.js';

const skip =
  skipReason() ??
  (existsSync(`${REFERENCE_PLUGINS}/portmap`) ? undefined : 'containernetworking-plugins not installed (scripts/setup.sh installs it)') ??
  (existsSync('dist/cni/bundle/main.js') ? undefined : 'dist/ not built (npm run build)');

describe('CNI plugin: driven as a runtime drives it', { skip, timeout: 240_000 }, () => {
  let lab: AgentLab;
  let conf: Record<string, unknown>;
  const net = (h: LabHost) => ({
    cniVersion: '1.0.0',
    name: 'k8s-pod-network',
    type: 'tortie',
    datastore_type: 'sqlite',
    sqlite_path: lab.dbPath,
    nodename: h.name,
    mtu: 1450,
    log_level: 'debug',
    log_file_path: `${lab.dir}/cni-${h.name}.log`,
    ipam: { type: 'tortie-ipam', ipv4_pools: ['10.250.0.0/16'], assign_ipv4: 'true' },
  });

  before(async () => {
    lab = await AgentLab.create('cni', [
      { name: 'host-a', cidr: '10.51.0.1/24' },
      { name: 'host-b', cidr: '10.51.0.2/24' },
    ]);
    await lab.apply(`apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: pool-cni
spec:
  cidr: 10.250.0.0/16
  blockSize: 26
  natOutgoing: false
`);
    for (const h of lab.hosts) lab.startAgent(h, ['--metrics-port', '0']);
    for (const h of lab.hosts) await lab.waitEstablished(h, 1);
    conf = net(lab.host('host-a'));
  });
  after(async () => {
    await lab?.close();
    await cleanupAll();
  });

  const podNs = (tag: string): Netns => createNetns(tag);

  it('ADD: a spec-valid result, the pod wired like Calico; CHECK passes; DEL cleans up; a second DEL succeeds', async () => {
    const h = lab.host('host-a');
    const pod = podNs('cni-p1');
    const att = { containerId: 'c0ffee01', netns: `/run/netns/${pod.name}`, args: { K8S_POD_NAMESPACE: 'default', K8S_POD_NAME: 'web-1', K8S_POD_INFRA_CONTAINER_ID: 'c0ffee01', IgnoreUnknown: '1' } };
    const add = await runPlugin(h.ns, pluginPath('tortie'), 'ADD', conf, att);
    assert.equal(add.code, 0, add.out);
    const r = add.json!;
    assert.equal(r.cniVersion, '1.0.0');
    assert.equal(r.interfaces.length, 2);
    assert.match(r.interfaces[0].name, /^cali[0-9a-f]{11}$/);
    assert.equal(r.interfaces[0].mac, 'ee:ee:ee:ee:ee:ee');
    assert.deepEqual([r.interfaces[1].name, r.interfaces[1].sandbox], ['eth0', att.netns]);
    assert.match(r.ips[0].address, /^10\.250\.\d+\.\d+\/32$/);
    assert.equal(r.ips[0].interface, 1);
    const ip = r.ips[0].address.split('/')[0];
    // Pod side (§6.1).
    assert.match(pod.ip('addr', 'show', 'eth0'), new RegExp(`inet ${ip.replace(/\./g, '\\.')}/32`));
    assert.match(pod.ip('link', 'show', 'eth0'), /mtu 1450/);
    assert.match(pod.ip('route'), /default via 169\.254\.1\.1 dev eth0/);
    assert.match(pod.ip('route'), /169\.254\.1\.1 dev eth0 scope link/);
    // Host side.
    const hostIf = r.interfaces[0].name as string;
    assert.match(h.ns.ip('route'), new RegExp(`${ip.replace(/\./g, '\\.')} dev ${hostIf} (proto boot )?scope link`));
    assert.equal(h.ns.exec(['cat', `/proc/sys/net/ipv4/conf/${hostIf}/proxy_arp`]).stdout.trim(), '1');
    // The endpoint record and the IPAM handle.
    const client = await lab.datastore();
    const wep = await client.get({ kind: 'WorkloadEndpoint', name: 'host--a-k8s-web--1-eth0', namespace: 'default' });
    assert.deepEqual((wep.spec as { ipNetworks: string[] }).ipNetworks, [`${ip}/32`]);
    assert.equal((wep.spec as { interfaceName: string }).interfaceName, hostIf);
    // The host reaches the pod.
    assert.ok(await lab.ping(h.ns, ip, 2));

    const check = await runPlugin(h.ns, pluginPath('tortie'), 'CHECK', { ...conf, prevResult: r }, att);
    assert.equal(check.code, 0, check.out);

    const del = await runPlugin(h.ns, pluginPath('tortie'), 'DEL', conf, att);
    assert.equal(del.code, 0, del.out);
    assert.ok(!h.ns.ip('link').includes(hostIf), 'host veth gone');
    await assert.rejects(client.get({ kind: 'WorkloadEndpoint', name: 'host--a-k8s-web--1-eth0', namespace: 'default' }));
    const out = await lab.tortie(['ipam', 'show', '--ip', ip]);
    assert.match(out, /not assigned/);
    const del2 = await runPlugin(h.ns, pluginPath('tortie'), 'DEL', conf, att);
    assert.equal(del2.code, 0, del2.out);
    // DEL with the namespace already gone is a success too.
    await pod.delete();
    const del3 = await runPlugin(h.ns, pluginPath('tortie'), 'DEL', conf, { ...att, netns: '' });
    assert.equal(del3.code, 0, del3.out);
  });

  it('in a conflist with loopback and portmap', async () => {
    const h = lab.host('host-a');
    const pod = podNs('cni-p2');
    const list = {
      cniVersion: '1.0.0',
      name: 'k8s-pod-network',
      plugins: [{ ...conf, cniVersion: undefined, name: undefined }, { type: 'portmap', capabilities: { portMappings: true }, snat: true }],
    };
    const att = { containerId: 'c0ffee02', netns: `/run/netns/${pod.name}`, args: { K8S_POD_NAMESPACE: 'default', K8S_POD_NAME: 'web-2' } };
    const lo = { cniVersion: '1.0.0', name: 'lo', plugins: [{ type: 'loopback' }] };
    await runConflist(h.ns, 'ADD', lo, { ...att, ifname: 'lo' });
    const result = await runConflist(h.ns, 'ADD', list, att);
    assert.match(result!.ips[0].address, /^10\.250\./);
    assert.match(pod.ip('link', 'show', 'lo'), /UP/);
    await runConflist(h.ns, 'CHECK', list, att, result);
    await runConflist(h.ns, 'DEL', list, att, result);
    await runConflist(h.ns, 'DEL', list, att, result);
    await runConflist(h.ns, 'DEL', lo, { ...att, ifname: 'lo' });
    assert.ok(!h.ns.ip('link').includes('cali'), 'no cali interface left');
  });

  it('VERSION, STATUS and GC', async () => {
    const h = lab.host('host-a');
    const v = await runPlugin(h.ns, pluginPath('tortie'), 'VERSION', { cniVersion: '1.1.0' }, { containerId: '', netns: '' });
    assert.equal(v.code, 0, v.out);
    assert.ok((v.json!.supportedVersions as string[]).includes('1.1.0'));
    const st = await runPlugin(h.ns, pluginPath('tortie'), 'STATUS', { ...conf, cniVersion: '1.1.0' }, { containerId: '', netns: '' });
    assert.equal(st.code, 0, st.out);
    // An attachment the runtime forgot: GC releases it.
    const pod = podNs('cni-p3');
    const att = { containerId: 'deadbeef03', netns: `/run/netns/${pod.name}` };
    const add = await runPlugin(h.ns, pluginPath('tortie'), 'ADD', conf, att);
    assert.equal(add.code, 0, add.out);
    const keep = await runPlugin(h.ns, pluginPath('tortie'), 'ADD', conf, { containerId: 'cafe04', netns: `/run/netns/${podNs('cni-p4').name}` });
    assert.equal(keep.code, 0, keep.out);
    const gc = await runPlugin(h.ns, pluginPath('tortie'), 'GC', { ...conf, cniVersion: '1.1.0', 'cni.dev/valid-attachments': [{ containerID: 'cafe04', ifname: 'eth0' }] }, { containerId: '', netns: '' });
    assert.equal(gc.code, 0, gc.out);
    const ip3 = add.json!.ips[0].address.split('/')[0];
    const ip4 = keep.json!.ips[0].address.split('/')[0];
    assert.match(await lab.tortie(['ipam', 'show', '--ip', ip3]), /not assigned/);
    assert.doesNotMatch(await lab.tortie(['ipam', 'show', '--ip', ip4]), /not assigned/);
    assert.ok(!h.ns.ip('link').includes(add.json!.interfaces[0].name), 'GC removed the forgotten veth');
    await runPlugin(h.ns, pluginPath('tortie'), 'DEL', conf, { containerId: 'cafe04', netns: '' });
  });

  it('bad input is a spec error object naming what is wrong, and nothing is written', async () => {
    const h = lab.host('host-a');
    const r1 = await runPlugin(h.ns, pluginPath('tortie'), 'ADD', { ...conf, cniVersion: '9.9.9' }, { containerId: 'x1', netns: '/run/netns/none' });
    assert.equal(r1.code, 1);
    assert.equal(r1.json!.code, 1);
    const r2 = await runPlugin(h.ns, pluginPath('tortie'), 'ADD', conf, { containerId: 'x2', netns: '/run/netns/does-not-exist' });
    assert.equal(r2.code, 1, r2.out);
    assert.ok([3, 5].includes(r2.json!.code), r2.out);
    assert.match(await lab.tortie(["ipam", "check"]), /found 0 problems/);
    const r3 = await runPlugin(h.ns, pluginPath('tortie'), 'ADD', { ...conf, mtu: 10 }, { containerId: 'x3', netns: '/run/netns/x' });
    assert.equal(r3.json!.code, 7);
    assert.match(r3.json!.msg, /mtu/);
  });

  it('pods made by the plugin on two hosts ping each other (with the agents); node name and MTU from the agent', async () => {
    const pods: { ns: Netns; ip: string }[] = [];
    for (const h of lab.hosts) {
      const ns = podNs(`cni-x-${h.name}`);
      // No nodename or mtu in the configuration: the files the agent wrote are used.
      const { nodename: _n, mtu: _m, ...rest } = net(h);
      void _n;
      void _m;
      const conf2 = { ...rest, nodename_file: `${lab.stateDir(h)}/nodename`, mtu_file: `${lab.stateDir(h)}/mtu` };
      const r = await runPlugin(h.ns, pluginPath('tortie'), 'ADD', conf2, { containerId: `x-${h.name}`, netns: `/run/netns/${ns.name}`, args: { K8S_POD_NAMESPACE: 'default', K8S_POD_NAME: `x-${h.name}` } });
      assert.equal(r.code, 0, r.out);
      pods.push({ ns, ip: r.json!.ips[0].address.split('/')[0] });
      assert.match(ns.ip('link', 'show', 'eth0'), /mtu 1500/, 'the host MTU (no encapsulation), from the agent');
      const wep = await (await lab.datastore()).get({ kind: 'WorkloadEndpoint', name: `${h.name.replace(/-/g, '--')}-k8s-x--${h.name.replace(/-/g, '--')}-eth0`, namespace: 'default' });
      assert.equal((wep.spec as { node: string }).node, h.name);
    }
    await waitFor(() => lab.ping(pods[0]!.ns, pods[1]!.ip, 1), 20_000, { what: 'pod on host-a → pod on host-b' });
    assert.ok(await lab.ping(pods[1]!.ns, pods[0]!.ip, 3));
  });
});
