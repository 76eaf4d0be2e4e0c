/**
 * CNI acceptance 4 (issue 6): a failed ADD leaves nothing behind, whatever failed and whenever.
 * Every case ends with the same inventory (`assertNothingLeft`): `tortie ipam check` finds 0
 * problems (it reports an allocation without an endpoint as a leak), no IPAM handle for the
 * container, no WorkloadEndpoint of it, no `cali` interface in the host namespace.
 *
 * Faults: IPAM refusing (a pool that does not exist, a full pool); the veth not creatable (the pod
 * already has an eth0); failures after the address and the veth exist (the plugin's test-only
 * TORTIE_CNI_FAULT hook, src/cni/main.ts); the datastore unreachable (a directory as the SQLite
 * file, etcd on a port nothing listens on); the process SIGKILLed mid-ADD, then DEL or a new ADD as
 * a runtime would do. Also a late DEL of a pod's old sandbox, which must not unplug the new one.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { AgentLab, type LabHost } from '../helpers/agent-lab.js';
import { cleanupAll, createNetns, IP_BIN, skipReason, waitFor, type Netns } from '../helpers/netns.js';
import { REFERENCE_PLUGINS, TORTIE_PLUGINS, runPlugin, pluginPath, type Attachment, type PluginRun } from '../helpers/cni.js';
import { Ipam } from '../../src/ipam/ipam.js';
import { vethName } from '../../src/cni/plugin.js';

const skip = skipReason() ?? (existsSync('dist/cni/bundle/main.js') ? undefined : 'dist/ not built (npm run build)');
const NET = 'k8s-pod-network';

describe('CNI plugin: faults during ADD leave nothing behind', { skip, timeout: 240_000 }, () => {
  let lab: AgentLab;
  let h: LabHost;
  let conf: Record<string, any>;
  let n = 0;

  before(async () => {
    lab = await AgentLab.create('cnif', [{ name: 'host-f', cidr: '10.53.0.1/24' }]);
    h = lab.host('host-f');
    await lab.apply(`apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: pool-main
spec:
  cidr: 10.252.0.0/16
  blockSize: 26
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: pool-tiny
spec:
  cidr: 10.254.9.0/30
  blockSize: 30
---
apiVersion: projectcalico.org/v3
kind: Node
metadata:
  name: host-f
spec:
  bgp:
    ipv4Address: 10.53.0.1/24
`);
    conf = {
      cniVersion: '1.0.0',
      name: NET,
      type: 'tortie',
      datastore_type: 'sqlite',
      sqlite_path: lab.dbPath,
      nodename: 'host-f',
      log_level: 'debug',
      log_file_path: `${lab.dir}/cni.log`,
      ipam: { type: 'tortie-ipam', ipv4_pools: ['pool-main'] },
    };
  });
  after(async () => {
    await lab?.close();
    await cleanupAll();
  });

  /** A fresh pod namespace and its attachment (Kubernetes args, so the WEP is named by pod). */
  const newPod = (): { ns: Netns; att: Attachment; hostIf: string } => {
    const i = ++n;
    const ns = createNetns(`cnif-p${i}`);
    const pod = `fault-${i}`;
    return { ns, att: { containerId: `fault${i}c`, netns: `/run/netns/${ns.name}`, args: { K8S_POD_NAMESPACE: 'default', K8S_POD_NAME: pod } }, hostIf: vethName('default', pod, `fault${i}c`) };
  };
  const add = (c: object, att: Attachment, env: NodeJS.ProcessEnv = {}) => runPlugin(h.ns, pluginPath('tortie'), 'ADD', c, att, env);
  const handleIps = async (containerId: string) => (await new Ipam(await lab.datastore()).ipsByHandle(`${NET}.${containerId}`)).map(String);

  function assertCniError(r: PluginRun, code: number, msg: RegExp): void {
    assert.equal(r.code, 1, `ADD must fail: ${r.out}`);
    assert.equal(r.json?.code, code, r.out);
    assert.match(String(r.json?.msg), msg);
  }

  async function assertNothingLeft(containerId: string, pod?: Netns): Promise<void> {
    assert.match(await lab.tortie(['ipam', 'check']), /found 0 problems/);
    const handles = (await new Ipam(await lab.datastore()).store.listHandles()).map((x) => x.value.id);
    assert.ok(!handles.includes(`${NET}.${containerId}`), `no IPAM handle for ${containerId} (handles: ${handles.join(', ')})`);
    const weps = (await (await lab.datastore()).list('WorkloadEndpoint')).items;
    assert.deepEqual(weps.filter((w) => (w.spec as { containerID?: string }).containerID === containerId).map((w) => w.metadata.name), [], 'no WorkloadEndpoint');
    assert.doesNotMatch(h.ns.ip('link'), /cali/, 'no cali interface in the host namespace');
    if (pod) assert.doesNotMatch(pod.ip('link'), /eth0@/, 'no veth left in the pod namespace');
  }

  it('IPAM error: a pool that does not exist — a CNI error naming it, nothing allocated', async () => {
    const { ns, att } = newPod();
    const r = await add({ ...conf, ipam: { type: 'tortie-ipam', ipv4_pools: ['no-such-pool'] } }, att);
    assertCniError(r, 5, /no-such-pool/);
    await assertNothingLeft(att.containerId, ns);
  });

  it('IPAM error: the pool is full — a CNI error naming it; the other holders keep their addresses', async () => {
    const held = (await lab.tortie(['ipam', 'assign', '--node=host-f', '--handle=filler', '--count=4', '--pool=pool-tiny'])).trim().split('\n');
    assert.equal(held.length, 4);
    const { ns, att } = newPod();
    const r = await add({ ...conf, ipam: { type: 'tortie-ipam', ipv4_pools: ['pool-tiny'] } }, att);
    assertCniError(r, 5, /No IPs available in pools: \[10\.254\.9\.0\/30\]/);
    // The rollback released the handle of this container only.
    for (const ip of held) assert.doesNotMatch(await lab.tortie(['ipam', 'show', '--ip', ip]), /not assigned/);
    await assertNothingLeft(att.containerId, ns);
    await lab.tortie(['ipam', 'unassign', '--handle=filler']);
  });

  it('veth creation fails (the pod already has an eth0) — the address is released, no WEP, no host veth', async () => {
    const { ns, att } = newPod();
    ns.ip('link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'other0');
    const r = await add(conf, att);
    assertCniError(r, 5, /eth0.*File exists/);
    assert.match(ns.ip('link', 'show', 'eth0'), /eth0@other0/, "the pod's own eth0 is left alone");
    assert.equal((await handleIps(att.containerId)).length, 0);
    await assertNothingLeft(att.containerId);
  });

  for (const step of ['after-ipam', 'after-wiring', 'before-wep']) {
    it(`a failure ${step} (TORTIE_CNI_FAULT) — everything done so far is undone`, async () => {
      const { ns, att } = newPod();
      const r = await add(conf, att, { TORTIE_CNI_FAULT: step });
      assertCniError(r, 5, new RegExp(`injected fault at ${step}`));
      await assertNothingLeft(att.containerId, ns);
      // The same container then attaches normally: the failed attempt left nothing in the way.
      const ok = await add(conf, att);
      assert.equal(ok.code, 0, ok.out);
      assert.ok(await lab.ping(h.ns, ok.json!.ips[0].address.split('/')[0], 1));
      assert.equal((await runPlugin(h.ns, pluginPath('tortie'), 'DEL', conf, att)).code, 0);
      await assertNothingLeft(att.containerId, ns);
    });
  }

  it('the datastore is unusable (a directory as the SQLite file) — code 11, nothing created', async () => {
    const { ns, att } = newPod();
    const r = await add({ ...conf, sqlite_path: lab.dir }, att);
    assertCniError(r, 11, /datastore.*(EISDIR|directory)/);
    await assertNothingLeft(att.containerId, ns);
  });

  it('the datastore is unreachable (etcd at 127.0.0.1:1) — code 11, nothing created', async () => {
    const { ns, att } = newPod();
    const r = await add({ ...conf, datastore_type: 'etcdv3', etcd_endpoints: 'http://127.0.0.1:1' }, att);
    assertCniError(r, 11, /datastore is not available.*127\.0\.0\.1:1/);
    await assertNothingLeft(att.containerId, ns);
  });

  /** Starts ADD stalled after the wiring, waits until the host veth exists, SIGKILLs it. */
  async function killMidAdd(att: Attachment, hostIf: string): Promise<void> {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      CNI_COMMAND: 'ADD',
      CNI_CONTAINERID: att.containerId,
      CNI_NETNS: att.netns,
      CNI_IFNAME: 'eth0',
      CNI_PATH: [TORTIE_PLUGINS, REFERENCE_PLUGINS].join(':'),
      CNI_ARGS: Object.entries(att.args ?? {}).map(([k, v]) => `${k}=${v}`).join(';'),
      TORTIE_CNI_FAULT: 'pause-after-wiring',
      TORTIE_CNI_FAULT_PAUSE_MS: '30000',
    };
    // `ip netns exec` and the script's `env node` both exec: the child's PID is the plugin's node process.
    const child = spawn(IP_BIN, ['netns', 'exec', h.ns.name, pluginPath('tortie')], { env, stdio: ['pipe', 'ignore', 'ignore'] });
    const exited = new Promise((r) => child.once('exit', r));
    child.stdin.end(JSON.stringify(conf));
    try {
      await waitFor(() => h.ns.ip('link').includes(hostIf), 15_000, { what: `${hostIf} on the host (ADD stalled after wiring)` });
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
  }

  it('the plugin is killed mid-ADD; the DEL a runtime then sends cleans up everything', async () => {
    const { ns, att, hostIf } = newPod();
    await killMidAdd(att, hostIf);
    // What the killed process left: an address without an endpoint (a leak ipam check sees) and the veth.
    assert.equal((await handleIps(att.containerId)).length, 1);
    assert.match(await lab.tortie(['ipam', 'check']), /found [1-9]\d* problems/);
    assert.match(ns.ip('link'), /eth0@/);
    const del = await runPlugin(h.ns, pluginPath('tortie'), 'DEL', conf, att);
    assert.equal(del.code, 0, del.out);
    await assertNothingLeft(att.containerId, ns);
  });

  it('the plugin is killed mid-ADD; a second ADD for the container succeeds with exactly one allocation', async () => {
    const { ns, att, hostIf } = newPod();
    await killMidAdd(att, hostIf);
    const r = await add(conf, att);
    assert.equal(r.code, 0, r.out);
    const ip = r.json!.ips[0].address.split('/')[0];
    assert.deepEqual(await handleIps(att.containerId), [ip]);
    const blocks = await new Ipam(await lab.datastore()).store.listBlocks(4);
    assert.equal(blocks.reduce((s, b) => s + b.value.allocatedOrdinals().length, 0), 1, 'one allocation in all of IPAM');
    assert.equal((await (await lab.datastore()).list('WorkloadEndpoint')).items.length, 1);
    assert.match(await lab.tortie(['ipam', 'check']), /found 0 problems/);
    assert.ok(await lab.ping(h.ns, ip, 1));
    assert.equal((await runPlugin(h.ns, pluginPath('tortie'), 'DEL', conf, att)).code, 0);
    await assertNothingLeft(att.containerId, ns);
  });

  it("a late DEL of a pod's old sandbox releases only its addresses: the new sandbox stays wired", async () => {
    // Kubernetes names the endpoint (and the veth) by pod: the new sandbox's ADD takes both over,
    // and the kubelet's DEL for the old sandbox may come after it.
    const old = newPod();
    const r1 = await add(conf, old.att);
    assert.equal(r1.code, 0, r1.out);
    const fresh = createNetns(`cnif-p${++n}`);
    const att2: Attachment = { ...old.att, containerId: `${old.att.containerId}2`, netns: `/run/netns/${fresh.name}` };
    const r2 = await add(conf, att2);
    assert.equal(r2.code, 0, r2.out);
    const ip2 = r2.json!.ips[0].address.split('/')[0];
    const del = await runPlugin(h.ns, pluginPath('tortie'), 'DEL', conf, old.att);
    assert.equal(del.code, 0, del.out);
    assert.deepEqual(await handleIps(old.att.containerId), [], "the old sandbox's address is released");
    const weps = (await (await lab.datastore()).list('WorkloadEndpoint')).items;
    assert.deepEqual(weps.map((w) => (w.spec as { containerID: string }).containerID), [att2.containerId], "the new sandbox's endpoint stays");
    assert.ok(await lab.ping(h.ns, ip2, 1), 'the new sandbox is still reachable');
    assert.match(await lab.tortie(['ipam', 'check']), /found 0 problems/);
    assert.equal((await runPlugin(h.ns, pluginPath('tortie'), 'DEL', conf, att2)).code, 0);
    await assertNothingLeft(att2.containerId, fresh);
    await assertNothingLeft(old.att.containerId);
  });
});
