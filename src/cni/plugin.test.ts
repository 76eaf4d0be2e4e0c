/**
 * The plugin's logic without the kernel: a memory datastore, the real IPAM, and a fake Wiring
 * that records the host veths it "made". What matters here is the bookkeeping a runtime cannot
 * see — a failed ADD must hand back its address and leave no endpoint, DEL must be idempotent,
 * GC must touch only this node's forgotten attachments — and the result format per cniVersion.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { API_VERSION } from '../api/meta.js';
import { Client } from '../datastore/client.js';
import { UnavailableError } from '../datastore/errors.js';
import { MemoryBackend } from '../datastore/memory.js';
import { Ipam } from '../ipam/ipam.js';
import { Plugin, vethName, type Step } from './plugin.js';
import { CNI_ERROR, CniError, type Invocation, type NetConf } from './types.js';
import { Wiring, type WireRequest } from './wiring.js';

/** Host veths as a set of names; `failAdd` makes the next add fail as `ip` would. */
class FakeWiring extends Wiring {
  readonly links = new Map<string, WireRequest>();
  readonly removed: string[] = [];
  failAdd: Error | undefined;

  override async add(w: WireRequest): Promise<void> {
    if (this.failAdd) throw this.failAdd;
    this.links.set(w.hostIf, w);
  }
  override async remove(hostIf: string): Promise<void> {
    this.removed.push(hostIf);
    this.links.delete(hostIf);
  }
  override async exists(hostIf: string): Promise<boolean> {
    return this.links.has(hostIf);
  }
  override async check(): Promise<void> {}
}

async function setup(opts: { fault?: Step } = {}) {
  const client = new Client(new MemoryBackend());
  await client.create({ apiVersion: API_VERSION, kind: 'IPPool', metadata: { name: 'pool' }, spec: { cidr: '10.9.0.0/24', blockSize: 26 } });
  for (const name of ['node-1', 'node-2']) await client.create({ apiVersion: API_VERSION, kind: 'Node', metadata: { name }, spec: {} });
  const wiring = new FakeWiring();
  const ipam = new Ipam(client, { backoff: async () => undefined });
  const logs: string[] = [];
  const plugin = new Plugin({
    client: async () => client,
    ipam: () => ipam,
    wiring,
    log: (level, msg) => logs.push(`${level}: ${msg}`),
    now: () => new Date('2026-11-21T00:00:00Z'),
    ...(opts.fault ? { step: async (s: Step) => {
      if (s === opts.fault) throw new CniError(CNI_ERROR.IO_FAILURE, `injected at ${s}`);
    } } : {}),
  });
  const heldBy = async (containerId: string, net = 'k8s-pod-network') => (await ipam.ipsByHandle(`${net}.${containerId}`)).map(String);
  const weps = async () => (await client.list('WorkloadEndpoint')).items;
  return { client, wiring, ipam, plugin, logs, heldBy, weps };
}

const conf = (o: Partial<NetConf> = {}): NetConf => ({ cniVersion: '1.0.0', name: 'k8s-pod-network', type: 'tortie', nodename: 'node-1', mtu: 1440, ipam: { type: 'tortie-ipam' }, ...o }) as NetConf;
const inv = (containerId: string, pod?: string, o: Partial<Invocation> = {}): Invocation => ({
  command: 'ADD',
  containerId,
  netns: `/run/netns/${containerId}`,
  ifname: 'eth0',
  args: pod ? { K8S_POD_NAMESPACE: 'ns1', K8S_POD_NAME: pod } : {},
  path: [],
  ...o,
});

test('ADD (cniVersion 1.0.0): the result, the WorkloadEndpoint, the IPAM handle and the wiring request', async () => {
  const { plugin, wiring, heldBy, weps } = await setup();
  const r = await plugin.add(conf(), inv('c1', 'web-1'), '');
  const hostIf = vethName('ns1', 'web-1', 'c1');
  assert.equal(r.cniVersion, '1.0.0');
  const ip = r.ips![0]!.address.replace('/32', '');
  assert.match(ip, /^10\.9\.0\.\d+$/);
  const mac = r.interfaces![1]!.mac!;
  assert.deepEqual(r, {
    cniVersion: '1.0.0',
    interfaces: [{ name: hostIf, mac: 'ee:ee:ee:ee:ee:ee' }, { name: 'eth0', mac, sandbox: '/run/netns/c1' }],
    // 1.0.0 IPs carry no `version`.
    ips: [{ address: `${ip}/32`, gateway: '169.254.1.1', interface: 1 }],
    routes: [{ dst: '0.0.0.0/0', gw: '169.254.1.1' }],
    dns: {},
  });
  assert.deepEqual(await heldBy('c1'), [ip]);
  const w = wiring.links.get(hostIf)!;
  assert.deepEqual({ ...w, ips: w.ips.map(String) }, { netns: '/run/netns/c1', ifname: 'eth0', hostIf, mtu: 1440, ips: [ip], containerMac: mac });
  const [wep, ...more] = await weps();
  assert.equal(more.length, 0);
  assert.deepEqual(wep!.metadata.name, 'node--1-k8s-web--1-eth0');
  assert.equal(wep!.metadata.namespace, 'ns1');
  assert.deepEqual(
    Object.fromEntries(Object.entries(wep!.spec as Record<string, unknown>).filter(([k]) => ['orchestrator', 'node', 'containerID', 'pod', 'endpoint', 'ipNetworks', 'profiles', 'interfaceName', 'mac'].includes(k))),
    { orchestrator: 'k8s', node: 'node-1', containerID: 'c1', pod: 'web-1', endpoint: 'eth0', ipNetworks: [`${ip}/32`], profiles: ['kns.ns1'], interfaceName: hostIf, mac },
  );
});

test('ADD (cniVersion 0.3.1): IPs carry version "4"; a plain-CNI container gets a net.<name> profile', async () => {
  const { plugin, weps } = await setup();
  const r = await plugin.add(conf({ cniVersion: '0.3.1' }), inv('c2'), '');
  assert.equal(r.cniVersion, '0.3.1');
  assert.equal(r.ips![0]!.version, '4');
  assert.equal(r.interfaces![0]!.name, vethName('default', undefined, 'c2'));
  const spec = (await weps())[0]!.spec as { orchestrator: string; profiles: string[] };
  assert.deepEqual([spec.orchestrator, spec.profiles], ['cni', ['net.k8s-pod-network']]);
});

test('a retried ADD for the same container replaces the first attempt: one allocation, one endpoint', async () => {
  const { plugin, heldBy, weps, wiring } = await setup();
  await plugin.add(conf(), inv('c3', 'web-3'), '');
  const r = await plugin.add(conf(), inv('c3', 'web-3'), '');
  assert.deepEqual(await heldBy('c3'), [r.ips![0]!.address.replace('/32', '')]);
  assert.equal((await weps()).length, 1);
  assert.equal(wiring.links.size, 1);
});

test('ADD rolls back when the wiring fails: the address is released, no endpoint', async () => {
  const { plugin, wiring, heldBy, weps } = await setup();
  wiring.failAdd = new CniError(CNI_ERROR.IO_FAILURE, 'configuring eth0: RTNETLINK answers: File exists');
  await assert.rejects(plugin.add(conf(), inv('c4', 'web-4'), ''), (e: CniError) => e.cniCode === 5 && /File exists/.test(e.message));
  assert.deepEqual(await heldBy('c4'), []);
  assert.equal((await weps()).length, 0);
  assert.ok(wiring.removed.includes(vethName('ns1', 'web-4', 'c4')), 'the half-made veth is removed');
  assert.equal(wiring.links.size, 0);
});

test('ADD rolls back when the WorkloadEndpoint cannot be written: veth removed, address released; datastore outage is code 11', async () => {
  const { plugin, client, wiring, heldBy, weps } = await setup();
  const create = client.create.bind(client);
  client.create = async (r) => (r.kind === 'WorkloadEndpoint' ? Promise.reject(new UnavailableError('etcd went away')) : create(r));
  await assert.rejects(plugin.add(conf(), inv('c5', 'web-5'), ''), (e: CniError) => e.cniCode === CNI_ERROR.TRY_AGAIN_LATER && /etcd went away/.test(e.message));
  assert.deepEqual(await heldBy('c5'), []);
  assert.equal((await weps()).length, 0);
  assert.equal(wiring.links.size, 0);
});

test('the test-only fault hook: a failure at each step of ADD is rolled back', async () => {
  for (const step of ['after-ipam', 'after-wiring', 'before-wep'] as const) {
    const { plugin, wiring, heldBy, weps } = await setup({ fault: step });
    await assert.rejects(plugin.add(conf(), inv('c6', 'web-6'), ''), new RegExp(`injected at ${step}`));
    assert.deepEqual(await heldBy('c6'), [], step);
    assert.equal((await weps()).length, 0, step);
    assert.equal(wiring.links.size, 0, step);
  }
});

test('DEL is idempotent: twice, and for a container never added', async () => {
  const { plugin, wiring, heldBy, weps } = await setup();
  await plugin.add(conf(), inv('c7', 'web-7'), '');
  await plugin.del(conf(), inv('c7', 'web-7', { command: 'DEL' }));
  assert.deepEqual(await heldBy('c7'), []);
  assert.equal((await weps()).length, 0);
  assert.equal(wiring.links.size, 0);
  await plugin.del(conf(), inv('c7', 'web-7', { command: 'DEL', netns: '' }));
  await plugin.del(conf(), inv('never', 'ghost', { command: 'DEL', netns: '' }));
});

test("DEL of a pod's old sandbox releases its address but keeps the new sandbox's endpoint and veth", async () => {
  const { plugin, wiring, heldBy, weps, logs } = await setup();
  await plugin.add(conf(), inv('old1', 'web-8'), '');
  const r = await plugin.add(conf(), inv('new1', 'web-8'), '');
  await plugin.del(conf(), inv('old1', 'web-8', { command: 'DEL' }));
  assert.deepEqual(await heldBy('old1'), []);
  assert.deepEqual(await heldBy('new1'), [r.ips![0]!.address.replace('/32', '')]);
  assert.deepEqual((await weps()).map((w) => (w.spec as { containerID: string }).containerID), ['new1']);
  assert.ok(wiring.links.has(vethName('ns1', 'web-8', 'new1')));
  assert.ok(logs.some((l) => /does not match/.test(l)), logs.join('\n'));
  // The new sandbox's own DEL then removes everything.
  await plugin.del(conf(), inv('new1', 'web-8', { command: 'DEL' }));
  assert.equal((await weps()).length, 0);
  assert.equal(wiring.links.size, 0);
});

test("GC releases only this node's attachments of this network that the runtime no longer knows", async () => {
  const { plugin, wiring, heldBy, weps } = await setup();
  await plugin.add(conf(), inv('gone', 'a'), ''); // node-1, forgotten → freed
  await plugin.add(conf(), inv('kept', 'b'), ''); // node-1, still valid
  await plugin.add(conf({ nodename: 'node-2' }), inv('other-node', 'c'), ''); // another node's
  await plugin.add(conf({ name: 'other-net' }), inv('other-net', 'd'), ''); // another network's
  const freed = await plugin.gc(conf({ cniVersion: '1.1.0', 'cni.dev/valid-attachments': [{ containerID: 'kept', ifname: 'eth0' }] }));
  assert.deepEqual(freed, ['gone']);
  assert.deepEqual(await heldBy('gone'), []);
  assert.equal((await heldBy('kept')).length, 1);
  assert.equal((await heldBy('other-node')).length, 1);
  assert.equal((await heldBy('other-net', 'other-net')).length, 1);
  assert.deepEqual((await weps()).map((w) => (w.spec as { containerID: string }).containerID).sort(), ['kept', 'other-net', 'other-node']);
  assert.ok(!wiring.links.has(vethName('ns1', 'a', 'gone')));
  assert.equal(wiring.links.size, 3);
  // Nothing left to collect: a second GC frees nothing.
  assert.deepEqual(await plugin.gc(conf({ cniVersion: '1.1.0', 'cni.dev/valid-attachments': [{ containerID: 'kept', ifname: 'eth0' }] })), []);
});

test('VERSION lists the supported versions; CHECK finds a missing endpoint (code 3)', async () => {
  const { plugin } = await setup();
  assert.deepEqual(plugin.version(conf({ cniVersion: '0.4.0' })), { cniVersion: '0.4.0', supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] });
  await assert.rejects(plugin.check(conf(), inv('nope', 'x', { command: 'CHECK' })), (e: CniError) => e.cniCode === CNI_ERROR.UNKNOWN_CONTAINER);
});
