import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '../datastore/client.js';
import { MemoryBackend } from '../datastore/memory.js';
import { autodetect, type IfaceAddress } from './autodetect.js';
import { encapMode, ensureDefaults, ensureNode, randomUla48, StartupError } from './startup.js';
import { nullLogger } from './log.js';
import { nodeStatusFor, statusDue } from './nodestatus.js';

const client = () => new Client(new MemoryBackend());

describe('agent start-up: Node registration', () => {
  it('creates the Node, then refreshes its addresses and AS keeping labels and the reflector id', async () => {
    const c = client();
    const n1 = await ensureNode(c, { name: 'host-a', ipv4: '10.0.0.1/24', asNumber: 65010 });
    assert.deepEqual(n1.spec, { bgp: { ipv4Address: '10.0.0.1/24', asNumber: 65010 } });
    assert.equal(n1.metadata.labels?.['kubernetes.io/hostname'], 'host-a');
    await c.update({ ...n1, metadata: { ...n1.metadata, labels: { ...n1.metadata.labels, 'route-reflector': 'true' } }, spec: { bgp: { ...(n1.spec as { bgp: object }).bgp, routeReflectorClusterID: '244.0.0.1' } } });
    const n2 = await ensureNode(c, { name: 'host-a', ipv4: '10.0.0.9/24' });
    assert.deepEqual(n2.spec, { bgp: { ipv4Address: '10.0.0.9/24', asNumber: 65010, routeReflectorClusterID: '244.0.0.1' } });
    assert.equal(n2.metadata.labels?.['route-reflector'], 'true');
    const rv = n2.metadata.resourceVersion;
    const n3 = await ensureNode(c, { name: 'host-a', ipv4: '10.0.0.9/24' });
    assert.equal(n3.metadata.resourceVersion, rv, 'nothing to change: no write');
  });
});

describe('agent start-up: default BGPConfiguration and pools (calico-node environment)', () => {
  const id = { name: 'host-a', ipv4: '10.0.0.1/24' };

  it('creates Calico defaults: empty BGPConfiguration, 192.168.0.0/16 /26, natOutgoing true, Never', async () => {
    const c = client();
    await ensureDefaults(c, id, {}, nullLogger);
    // An empty spec, with the CRD defaults the write fills in (as Calico's API server does).
    assert.deepEqual((await c.get({ kind: 'BGPConfiguration', name: 'default' })).spec, { logSeverityScreen: 'Info', serviceLoadBalancerAggregation: 'Enabled' });
    const p = (await c.get({ kind: 'IPPool', name: 'default-ipv4-ippool' })).spec as Record<string, unknown>;
    assert.equal(p.cidr, '192.168.0.0/16');
    assert.equal(p.blockSize, 26);
    assert.equal(p.ipipMode, 'Never');
    assert.equal(p.vxlanMode, 'Never');
    assert.equal(p.natOutgoing, true);
    assert.equal(p.nodeSelector, 'all()');
    await assert.rejects(c.get({ kind: 'IPPool', name: 'default-ipv6-ippool' }), 'no IPv6 address, no IPv6 pool');
  });

  it('honours CALICO_IPV4POOL_* and CALICO_ADVERTISE_CLUSTER_IPS', async () => {
    const c = client();
    await ensureDefaults(
      c,
      { ...id, ipv6: 'fd00::1/64' },
      {
        CALICO_IPV4POOL_CIDR: '10.244.0.0/16',
        CALICO_IPV4POOL_BLOCK_SIZE: '24',
        CALICO_IPV4POOL_IPIP: 'CrossSubnet',
        CALICO_IPV4POOL_VXLAN: 'never',
        CALICO_IPV4POOL_NAT_OUTGOING: 'false',
        CALICO_ADVERTISE_CLUSTER_IPS: '10.96.0.0/12',
        CALICO_IPV6POOL_CIDR: 'fd10::/48',
      },
      nullLogger,
    );
    const p = (await c.get({ kind: 'IPPool', name: 'default-ipv4-ippool' })).spec as Record<string, unknown>;
    assert.deepEqual([p.cidr, p.blockSize, p.ipipMode, p.vxlanMode, p.natOutgoing ?? false], ['10.244.0.0/16', 24, 'CrossSubnet', 'Never', false]);
    assert.deepEqual(((await c.get({ kind: 'BGPConfiguration', name: 'default' })).spec as { serviceClusterIPs: unknown }).serviceClusterIPs, [{ cidr: '10.96.0.0/12' }]);
    const p6 = (await c.get({ kind: 'IPPool', name: 'default-ipv6-ippool' })).spec as Record<string, unknown>;
    assert.deepEqual([p6.cidr, p6.blockSize, p6.natOutgoing ?? false], ['fd10::/48', 122, false]);
  });

  it('NO_DEFAULT_POOLS, an existing pool, and a second start create nothing more', async () => {
    const c = client();
    await ensureDefaults(c, id, { NO_DEFAULT_POOLS: 'true' }, nullLogger);
    assert.equal((await c.list('IPPool')).items.length, 0);
    await ensureDefaults(c, id, {}, nullLogger);
    await ensureDefaults(c, id, { CALICO_IPV4POOL_CIDR: '10.1.0.0/16' }, nullLogger);
    const pools = (await c.list('IPPool')).items;
    assert.equal(pools.length, 1);
    assert.equal((pools[0]!.spec as { cidr: string }).cidr, '192.168.0.0/16');
  });

  it('bad knobs are refused with the variable named, and nothing is written', async () => {
    const c = client();
    await assert.rejects(ensureDefaults(c, id, { CALICO_IPV4POOL_IPIP: 'sometimes' }, nullLogger), (e: unknown) => e instanceof StartupError && /CALICO_IPV4POOL_IPIP/.test(e.message));
    await assert.rejects(ensureDefaults(c, id, { CALICO_IPV4POOL_NAT_OUTGOING: 'maybe' }, nullLogger), /CALICO_IPV4POOL_NAT_OUTGOING/);
    assert.equal((await c.list('IPPool')).items.length, 0);
    assert.equal(encapMode('cross-subnet', 'X'), 'CrossSubnet');
    assert.match(randomUla48(() => Buffer.from([1, 2, 3, 4, 5])), /^fd01:0203:0405::\/48$/);
  });
});

describe('agent start-up: address autodetection (IP_AUTODETECTION_METHOD)', () => {
  const addrs: IfaceAddress[] = [
    { iface: 'lo', address: '127.0.0.1', prefixLength: 8, family: 4 },
    { iface: 'docker0', address: '172.17.0.1', prefixLength: 16, family: 4 },
    { iface: 'cali1234', address: '169.254.1.1', prefixLength: 32, family: 4 },
    { iface: 'eth0', address: '10.0.0.5', prefixLength: 24, family: 4 },
    { iface: 'eth1', address: '192.168.7.5', prefixLength: 24, family: 4 },
    { iface: 'eth0', address: 'fe80::1', prefixLength: 64, family: 6 },
    { iface: 'eth0', address: 'fd00::5', prefixLength: 64, family: 6 },
  ];
  const cases: [string, 4 | 6, string | undefined][] = [
    ['first-found', 4, 'eth0 10.0.0.5/24'],
    ['', 4, 'eth0 10.0.0.5/24'],
    ['first-found', 6, 'eth0 fd00::5/64'],
    ['interface=eth1', 4, 'eth1 192.168.7.5/24'],
    ['interface=wlan.*,eth1', 4, 'eth1 192.168.7.5/24'],
    ['interface=nothing', 4, undefined],
    ['skip-interface=eth0', 4, 'eth1 192.168.7.5/24'],
    ['cidr=192.168.0.0/16', 4, 'eth1 192.168.7.5/24'],
    ['cidr=10.9.0.0/16,10.0.0.0/8', 4, 'eth0 10.0.0.5/24'],
    ['can-reach=192.168.7.99', 4, 'eth1 192.168.7.5/24'],
  ];
  for (const [method, fam, want] of cases) {
    it(`${method || '(empty)'} IPv${fam} → ${want ?? 'nothing'}`, async () => {
      const d = await autodetect(method, fam, addrs, async () => '192.168.7.5');
      assert.equal(d ? `${d.iface} ${d.cidr}` : undefined, want);
    });
  }
  it('an unknown method or a bad regex/CIDR is a clear error', async () => {
    await assert.rejects(autodetect('kubernetes-internal-ip', 4, addrs), /invalid IP autodetection method "kubernetes-internal-ip"/);
    await assert.rejects(autodetect('interface=(', 4, addrs), /invalid interface regex/);
    await assert.rejects(autodetect('cidr=10.0.0.0/99', 4, addrs), /invalid CIDR/);
  });
});

describe('CalicoNodeStatus content', () => {
  const facts = {
    now: new Date('2026-11-21T10:00:05Z'),
    version: '0.1.0',
    routerId: '10.0.0.1',
    enabled: true,
    startedAt: new Date('2026-11-21T09:00:00Z'),
    lastReconfiguredAt: new Date('2026-11-21T09:30:00Z'),
    peers: [
      { name: 'Mesh_10_0_0_2', type: 'Mesh' as const, address: '10.0.0.2', port: 179, family: 'ipv4' as const, asNumber: 64512, state: 'up' as const, bgpState: 'Established', since: Date.parse('2026-11-21T09:00:01Z'), info: 'Established', prefixes: { received: 1, accepted: 1, advertised: 1 } },
      { name: 'Global_10_0_0_9', type: 'Global' as const, address: '10.0.0.9', port: 179, family: 'ipv4' as const, asNumber: 65001, state: 'start' as const, bgpState: 'Active', since: Date.parse('2026-11-21T09:00:02Z'), info: 'Active', prefixes: { received: 0, accepted: 0, advertised: 0 } },
    ],
    routes: [
      { prefix: '10.244.1.0/26', nextHop: '10.0.0.2', best: true, from: '10.0.0.2', peerType: 'Mesh' as const },
      { prefix: '10.244.0.0/26', nextHop: '', best: true, from: 'local' },
    ],
  };
  it('fills only the classes asked for, in Calico shapes', () => {
    const s = nodeStatusFor(['BGP'], facts) as Record<string, any>;
    assert.equal(s.lastUpdated, '2026-11-21T10:00:05Z');
    assert.deepEqual(s.agent, { birdV4: {}, birdV6: {} });
    assert.deepEqual(s.bgp, {
      numberEstablishedV4: 1,
      numberNotEstablishedV4: 1,
      numberEstablishedV6: 0,
      numberNotEstablishedV6: 0,
      peersV4: [
        { peerIP: '10.0.0.2', type: 'NodeMesh', state: 'Established', since: '2026-11-21T09:00:01Z' },
        { peerIP: '10.0.0.9', type: 'GlobalPeer', state: 'Active', since: '2026-11-21T09:00:02Z' },
      ],
    });
    const all = nodeStatusFor(['Agent', 'BGP', 'Routes'], facts) as Record<string, any>;
    assert.deepEqual(all.agent.birdV4, { state: 'Ready', version: 'tortie 0.1.0', routerID: '10.0.0.1', lastBootTime: '2026-11-21T09:00:00Z', lastReconfigurationTime: '2026-11-21T09:30:00Z' });
    assert.equal(all.agent.birdV6.state, 'NotReady');
    assert.deepEqual(all.routes.routesV4, [
      { type: 'FIB', destination: '10.244.1.0/26', gateway: '10.0.0.2', interface: '', learnedFrom: { sourceType: 'NodeMesh', peerIP: '10.0.0.2' } },
      { type: 'FIB', destination: '10.244.0.0/26', gateway: 'N/A', interface: 'blackhole', learnedFrom: { sourceType: 'Static' } },
    ]);
  });
  it('refreshes every updatePeriodSeconds; 0 stops refreshing', () => {
    const now = new Date('2026-11-21T10:00:10Z');
    assert.equal(statusDue({ updatePeriodSeconds: 10 }, undefined, now), true);
    assert.equal(statusDue({ updatePeriodSeconds: 10 }, '2026-11-21T10:00:01Z', now), false);
    assert.equal(statusDue({ updatePeriodSeconds: 10 }, '2026-11-21T10:00:00Z', now), true);
    assert.equal(statusDue({ updatePeriodSeconds: 0 }, undefined, now), false);
  });
});
