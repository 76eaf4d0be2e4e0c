import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IP, Prefix } from '../net/index.js';
import { Client } from '../datastore/client.js';
import { MemoryBackend } from '../datastore/memory.js';
import { API_VERSION, type Resource } from '../api/meta.js';
import { Ipam } from './ipam.js';
import { reconcileTunnelAddresses, tunnelHandle } from './tunnel.js';

async function setup() {
  const client = new Client(new MemoryBackend());
  await client.create({ apiVersion: API_VERSION, kind: 'Node', metadata: { name: 'n1', labels: { rack: 'a' } }, spec: { bgp: { ipv4Address: '192.0.2.1/24' } } });
  const ipam = new Ipam(client, { backoff: async () => undefined });
  const pool = (name: string, spec: Record<string, unknown>): Resource => ({ apiVersion: API_VERSION, kind: 'IPPool', metadata: { name }, spec });
  const nodeSpec = async () => (await client.get({ kind: 'Node', name: 'n1' })).spec as Record<string, any>;
  return { client, ipam, pool, nodeSpec };
}

test('IPIP and VXLAN pools give the node tunnel addresses with Calico handles and attributes', async () => {
  const { client, ipam, pool, nodeSpec } = await setup();
  await client.create(pool('ipip', { cidr: '10.10.0.0/16', ipipMode: 'Always' }));
  await client.create(pool('vx', { cidr: '10.20.0.0/16', vxlanMode: 'CrossSubnet' }));
  await client.create(pool('vx6', { cidr: 'fd00:20::/64', vxlanMode: 'Always' }));
  const r = await reconcileTunnelAddresses(client, ipam, 'n1');
  assert.equal(r.updated, true);
  const spec = await nodeSpec();
  assert.equal(spec.bgp.ipv4Address, '192.0.2.1/24', 'other fields kept');
  assert.ok(Prefix.parse('10.10.0.0/16').contains(IP.parse(spec.bgp.ipv4IPIPTunnelAddr)));
  assert.ok(Prefix.parse('10.20.0.0/16').contains(IP.parse(spec.ipv4VXLANTunnelAddr)));
  assert.ok(Prefix.parse('fd00:20::/64').contains(IP.parse(spec.ipv6VXLANTunnelAddr)));
  const a = await ipam.assignment(IP.parse(spec.ipv4VXLANTunnelAddr));
  assert.deepEqual(a?.attrs, { handle_id: 'vxlan-tunnel-addr-n1', secondary: { node: 'n1', type: 'vxlanTunnelAddress' } });
  assert.equal((await ipam.assignment(IP.parse(spec.bgp.ipv4IPIPTunnelAddr)))?.attrs.handle_id, 'ipip-tunnel-addr-n1');
  // nothing changes on a second run
  const again = await reconcileTunnelAddresses(client, ipam, 'n1');
  assert.equal(again.updated, false);
  assert.deepEqual(again.addresses, r.addresses);
});

test('pools that do not qualify give no tunnel address: Never mode, Workload-only, other nodes, disabled', async () => {
  const { client, ipam, pool, nodeSpec } = await setup();
  await client.create(pool('never', { cidr: '10.1.0.0/16' }));
  await client.create(pool('workload', { cidr: '10.2.0.0/16', ipipMode: 'Always', allowedUses: ['Workload'] }));
  await client.create(pool('other', { cidr: '10.3.0.0/16', vxlanMode: 'Always', nodeSelector: 'rack == "b"' }));
  await client.create(pool('off', { cidr: '10.4.0.0/16', vxlanMode: 'Always', disabled: true }));
  const r = await reconcileTunnelAddresses(client, ipam, 'n1');
  assert.equal(r.updated, false);
  assert.deepEqual(r.addresses, { ipipTunnelAddress: '', vxlanTunnelAddress: '', vxlanV6TunnelAddress: '' });
  assert.equal((await nodeSpec()).ipv4VXLANTunnelAddr, undefined);
  assert.deepEqual(await ipam.store.listBlocks(), []);
});

test('switching a pool from VXLAN to IPIP moves the address; turning encapsulation off clears and releases it', async () => {
  const { client, ipam, pool, nodeSpec } = await setup();
  const p = await client.create(pool('p', { cidr: '10.30.0.0/16', vxlanMode: 'Always' }));
  await reconcileTunnelAddresses(client, ipam, 'n1');
  const vx = (await nodeSpec()).ipv4VXLANTunnelAddr as string;
  assert.ok(vx);
  const cur = await client.get({ kind: 'IPPool', name: 'p' });
  await client.update({ ...cur, spec: { ...(cur.spec as object), vxlanMode: 'Never', ipipMode: 'Always' } });
  await reconcileTunnelAddresses(client, ipam, 'n1');
  let spec = await nodeSpec();
  assert.equal(spec.ipv4VXLANTunnelAddr, undefined);
  assert.ok(spec.bgp.ipv4IPIPTunnelAddr);
  assert.deepEqual(await ipam.ipsByHandle(tunnelHandle('vxlanTunnelAddress', 'n1')), []);
  const cur2 = await client.get({ kind: 'IPPool', name: 'p' });
  await client.update({ ...cur2, spec: { ...(cur2.spec as object), ipipMode: 'Never' } });
  await reconcileTunnelAddresses(client, ipam, 'n1');
  spec = await nodeSpec();
  assert.equal(spec.bgp.ipv4IPIPTunnelAddr, undefined);
  assert.equal(spec.bgp.ipv4Address, '192.0.2.1/24');
  assert.equal(await ipam.store.getHandle(tunnelHandle('ipipTunnelAddress', 'n1')), undefined);
  assert.ok(p);
});

test('an address the node lost track of is released and a new one assigned; an address now held by a pod is left alone', async () => {
  const { client, ipam, pool, nodeSpec } = await setup();
  await client.create(pool('p', { cidr: '10.40.0.0/24', vxlanMode: 'Always' }));
  await reconcileTunnelAddresses(client, ipam, 'n1');
  const first = (await nodeSpec()).ipv4VXLANTunnelAddr as string;
  // someone edits the Node to point at an address a pod holds
  const podIP = (await ipam.autoAssign({ num4: 1, hostname: 'n1', handle: 'k8s-pod-network.x', attrs: { node: 'n1', pod: 'x', namespace: 'd' } })).v4.ips[0]!.ip.toString();
  const n = await client.get({ kind: 'Node', name: 'n1' });
  await client.update({ ...n, spec: { ...(n.spec as object), ipv4VXLANTunnelAddr: podIP } });
  await reconcileTunnelAddresses(client, ipam, 'n1');
  const now = (await nodeSpec()).ipv4VXLANTunnelAddr as string;
  assert.notEqual(now, podIP);
  assert.equal((await ipam.assignment(IP.parse(podIP)))?.attrs.handle_id, 'k8s-pod-network.x', 'the pod keeps its address');
  assert.deepEqual((await ipam.ipsByHandle('vxlan-tunnel-addr-n1')).map(String), [now], 'only one tunnel address held');
  assert.ok(first);
});

test('a missing node is an error naming it', async () => {
  const { client, ipam } = await setup();
  await assert.rejects(reconcileTunnelAddresses(client, ipam, 'ghost'), { code: 'NOT_FOUND' });
});
