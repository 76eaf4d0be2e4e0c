/**
 * planDataplane — learned routes through calico_kernel_programming (§5.6), blackholes (§5.5
 * bird_aggr), VXLAN devices and routes incl. CrossSubnet (§6.4), IPIP (§6.3), MTUs (§6.6) and
 * NAT (§6.5).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dataplanePlanner, planDataplane, vxlanMac } from './plan.js';
import type { DataplanePlanner } from './kernel.js';
import type { BlockInfo, DataplanePlan, KernelRoute, LearnedRoute, RoutingInput } from './types.js';
import { bgpConfig, bgpPeer, block, felixConfig, input, ipPool, node, type NodeOpts } from './testing.js';

const HOST = { iface: 'eth0', mtu: 1500 };

function dp(o: { nodes?: Record<string, NodeOpts>; learned?: LearnedRoute[]; host?: typeof HOST } & Omit<Partial<RoutingInput>, 'nodes'> = {}) {
  const { nodes, learned, host, ...rest } = o;
  const ns = nodes ?? { a: { ip: '10.0.0.1/24' } };
  return planDataplane(input('a', { nodes: Object.entries(ns).map(([n, x]) => node(n, x)), ...rest }), learned ?? [], host ?? HOST);
}
const route = (routes: KernelRoute[], dst: string) => routes.find((r) => r.dst === dst);
const bgp = (prefix: string, nextHop: string, from = nextHop): LearnedRoute => ({ prefix, nextHop, from });

/**
 * Asserts that an update gives the plan a full planning gives (`want`), and as its changes exactly the
 * destinations whose route differs from the previous plan (`before`), each with its route now.
 */
function updatedAsPlanned(u: ReturnType<DataplanePlanner['update']>, before: DataplanePlan, want: DataplanePlan, what: string) {
  assert.ok(u, what);
  assert.deepEqual(u.plan, want, what);
  const was = new Map(before.routes.map((r) => [r.dst, r]));
  const now = new Map(want.routes.map((r) => [r.dst, r]));
  const differ = [...new Set([...was.keys(), ...now.keys()])].filter((d) => JSON.stringify(was.get(d)) !== JSON.stringify(now.get(d)));
  assert.deepEqual([...u.changes.keys()].sort(), differ.sort(), what);
  for (const [d, r] of u.changes) assert.deepEqual(r, now.get(d), what);
  return u;
}

describe('planDataplane: learned BGP routes (calico_kernel_programming, §5.6)', () => {
  const pools = [
    ipPool('ipip', { cidr: '10.1.0.0/16', ipipMode: 'Always' }),
    ipPool('xsub', { cidr: '10.2.0.0/16', ipipMode: 'CrossSubnet' }),
    ipPool('vx', { cidr: '10.3.0.0/16', vxlanMode: 'Always' }),
    ipPool('vxx', { cidr: '10.4.0.0/16', vxlanMode: 'CrossSubnet' }),
    ipPool('plain', { cidr: '10.5.0.0/16' }),
  ];
  const cfg = bgpConfig('default', { serviceClusterIPs: [{ cidr: '10.96.0.0/12' }], serviceExternalIPs: [{ cidr: '192.0.2.0/24' }], serviceLoadBalancerIPs: [{ cidr: '198.51.100.0/24' }] });
  const cases: [string, LearnedRoute, KernelRoute | undefined][] = [
    ['IPIP Always ⇒ via tunl0 onlink', bgp('10.1.2.0/26', '10.0.0.2'), { dst: '10.1.2.0/26', type: 'unicast', gateway: '10.0.0.2', dev: 'tunl0', onlink: true }],
    ['IPIP Always, even within our subnet', bgp('10.1.3.0/26', '10.0.9.9'), { dst: '10.1.3.0/26', type: 'unicast', gateway: '10.0.9.9', dev: 'tunl0', onlink: true }],
    ['IPIP CrossSubnet, next hop in our subnet ⇒ direct on the host interface', bgp('10.2.2.0/26', '10.0.0.2'), { dst: '10.2.2.0/26', type: 'unicast', gateway: '10.0.0.2', dev: 'eth0' }],
    ['IPIP CrossSubnet, next hop elsewhere ⇒ tunl0', bgp('10.2.3.0/26', '10.9.0.2'), { dst: '10.2.3.0/26', type: 'unicast', gateway: '10.9.0.2', dev: 'tunl0', onlink: true }],
    ['VXLAN Always pool ⇒ not from BGP (Felix)', bgp('10.3.2.0/26', '10.0.0.2'), undefined],
    ['VXLAN CrossSubnet pool ⇒ not from BGP (Felix)', bgp('10.4.2.0/26', '10.0.0.2'), undefined],
    ['no-encap pool ⇒ plain route', bgp('10.5.2.0/26', '10.0.0.2'), { dst: '10.5.2.0/26', type: 'unicast', gateway: '10.0.0.2' }],
    ['outside every pool ⇒ plain route', bgp('172.16.0.0/16', '10.0.0.254'), { dst: '172.16.0.0/16', type: 'unicast', gateway: '10.0.0.254' }],
    ['a supernet of a pool is outside it', bgp('10.0.0.0/8', '10.0.0.254'), { dst: '10.0.0.0/8', type: 'unicast', gateway: '10.0.0.254' }],
    ['serviceClusterIPs are never programmed', bgp('10.96.0.0/12', '10.0.0.2'), undefined],
    ['nor anything inside a service range', bgp('192.0.2.7/32', '10.0.0.2'), undefined],
    ['LoadBalancer ranges too', bgp('198.51.100.0/24', '10.0.0.2'), undefined],
    ['our own routes (from local) are not programmed', bgp('10.5.9.0/26', '10.0.0.1', 'local'), undefined],
    ['a next hop that is our own address is skipped', bgp('10.5.8.0/26', '10.0.0.1', '10.0.0.9'), undefined],
    ['IPv6 routes are plain', bgp('fd20::/64', 'fd00::2'), { dst: 'fd20::/64', type: 'unicast', gateway: 'fd00::2' }],
  ];
  for (const [what, l, want] of cases) {
    it(what, () => {
      const plan = dp({ ipPools: pools, bgpConfigurations: [cfg], learned: [l] });
      assert.deepEqual(route(plan.routes, l.prefix), want);
    });
  }
});

describe('planDataplane: blackholes for our blocks (bird_aggr.cfg static, Felix IPAM drop routes)', () => {
  const blocks: BlockInfo[] = [
    block('10.1.0.0/26', 'a', { affinityState: 'confirmed' }),
    block('10.1.0.64/26', 'a', { affinityState: 'pending' }),
    block('10.1.0.128/26', 'a', { affinityState: 'pendingDeletion' }),
    block('10.1.0.192/26', 'a'),
    block('10.1.1.0/32', 'a', { affinityState: 'confirmed' }),
    block('10.1.2.0/26', 'b', { affinityState: 'confirmed' }),
    block('fd10::/122', 'a'),
  ];
  it('every affine block of ours in any state, except host-length ones; never other nodes’ blocks', () => {
    const plan = dp({ blocks, ipPools: [ipPool('p', { cidr: '10.1.0.0/16' }), ipPool('p6', { cidr: 'fd10::/48' })] });
    assert.deepEqual(
      plan.routes.filter((r) => r.type === 'blackhole').map((r) => r.dst),
      ['10.1.0.0/26', '10.1.0.64/26', '10.1.0.128/26', '10.1.0.192/26', 'fd10::/122'],
    );
  });
  it('a blackhole wins over a learned route to the same destination', () => {
    const plan = dp({ blocks, learned: [bgp('10.1.0.0/26', '10.0.0.2')] });
    assert.deepEqual(route(plan.routes, '10.1.0.0/26'), { dst: '10.1.0.0/26', type: 'blackhole' });
  });
});

describe('planDataplane: VXLAN (§6.4)', () => {
  const nodes: Record<string, NodeOpts> = {
    a: { ip: '10.0.0.1/24', vxlan: '10.4.0.1' },
    b: { ip: '10.0.0.2/24', vxlan: '10.4.1.1', mac: '02:AA:BB:CC:DD:EE' }, // same subnet as a
    c: { ip: '10.9.0.3/24', vxlan: '10.4.2.1' }, // another subnet
    d: { ip: '10.0.0.4/24' }, // no VTEP
    e: { vxlan: '10.4.5.1' }, // no node IP ⇒ no VTEP
  };
  const always = [ipPool('vx', { cidr: '10.4.0.0/16', vxlanMode: 'Always' })];
  const cross = [ipPool('vx', { cidr: '10.4.0.0/16', vxlanMode: 'CrossSubnet' })];

  it('the device: VNI 4096, port 4789, MAC derived from the node name, local = node IP, MTU host − 50', () => {
    const v = dp({ nodes, ipPools: always }).vxlan;
    assert.deepEqual(v, {
      name: 'vxlan.calico',
      vni: 4096,
      port: 4789,
      mac: vxlanMac('a'),
      localIP: '10.0.0.1',
      parent: 'eth0',
      address: '10.4.0.1',
      mtu: 1450,
      peers: [
        { nodeName: 'b', tunnelIP: '10.4.1.1', mac: '02:aa:bb:cc:dd:ee', nodeIP: '10.0.0.2' },
        { nodeName: 'c', tunnelIP: '10.4.2.1', mac: vxlanMac('c'), nodeIP: '10.9.0.3' },
      ],
    });
  });

  it('vxlanMac: 0x66 then the first 5 bytes of SHA-1(node name) (values from Felix’s tests)', () => {
    assert.equal(vxlanMac('remotehostname'), '66:3e:ca:a4:db:65');
    assert.equal(vxlanMac('remotehostname2'), '66:40:18:59:1f:16');
  });

  it('FelixConfiguration vxlanVNI / vxlanPort / vxlanMTU, node.<name> over default', () => {
    const v = dp({ nodes, ipPools: always, felixConfigurations: [felixConfig('default', { vxlanVNI: 5000, vxlanPort: 8472, vxlanMTU: 1400 }), felixConfig('node.a', { vxlanMTU: 1350 }), felixConfig('node.b', { vxlanVNI: 1 })] }).vxlan!;
    assert.deepEqual([v.vni, v.port, v.mtu], [5000, 8472, 1350]);
  });

  it('no device without our tunnel address, without a VXLAN pool, or with vxlanEnabled false', () => {
    assert.equal(dp({ nodes: { ...nodes, a: { ip: '10.0.0.1/24' } }, ipPools: always }).vxlan, undefined);
    assert.equal(dp({ nodes, ipPools: [ipPool('p', { cidr: '10.4.0.0/16' })] }).vxlan, undefined);
    assert.equal(dp({ nodes, ipPools: always, felixConfigurations: [felixConfig('default', { vxlanEnabled: false })] }).vxlan, undefined);
    assert.ok(dp({ nodes, ipPools: [ipPool('p', { cidr: '10.4.0.0/16' })], felixConfigurations: [felixConfig('default', { vxlanEnabled: true })] }).vxlan);
  });

  const blocks: BlockInfo[] = [
    block('10.4.0.0/26', 'a', { allocations: [{ ip: '10.4.0.9', node: 'c' }, { ip: '10.4.0.10', node: 'a' }] }),
    block('10.4.1.0/26', 'b', { allocations: [{ ip: '10.4.1.1', node: 'b' }, { ip: '10.4.1.7', node: 'c' }, { ip: '10.4.1.8', node: 'a' }, { ip: '10.4.1.9' }] }),
    block('10.4.2.0/26', 'c', { allocations: [{ ip: '10.4.2.1', node: 'c' }, { ip: '10.4.2.5', node: 'b' }] }),
    block('10.4.4.0/26', 'd'),
    block('10.4.5.0/26', 'c', { allocations: [{ ip: '10.4.5.1', node: 'e' }] }),
    block('10.4.6.0/26', undefined, { allocations: [{ ip: '10.4.6.3', node: 'c' }] }),
  ];
  const viaVtep = (dst: string, vtep: string): KernelRoute => ({ dst, type: 'unicast', gateway: vtep, dev: 'vxlan.calico', onlink: true });
  const direct = (dst: string, nodeIP: string): KernelRoute => ({ dst, type: 'unicast', gateway: nodeIP, dev: 'eth0', onlink: true });

  it('Always: remote blocks and borrowed addresses via the owner’s VTEP, onlink', () => {
    const r = dp({ nodes, ipPools: always, blocks }).routes;
    const cases: [string, KernelRoute | undefined][] = [
      ['10.4.0.0/26', { dst: '10.4.0.0/26', type: 'blackhole' }], // ours
      ['10.4.0.9/32', viaVtep('10.4.0.9/32', '10.4.2.1')], // c's address inside our block
      ['10.4.0.10/32', undefined], // our own allocation: no route
      ['10.4.1.0/26', viaVtep('10.4.1.0/26', '10.4.1.1')],
      ['10.4.1.1/32', undefined], // b's VTEP inside b's own block: covered by the block route
      ['10.4.1.7/32', viaVtep('10.4.1.7/32', '10.4.2.1')], // c borrowed from b
      ['10.4.1.8/32', undefined], // we borrowed it: the workload route is ours (not this plan's)
      ['10.4.1.9/32', undefined], // no node recorded
      ['10.4.2.0/26', viaVtep('10.4.2.0/26', '10.4.2.1')],
      ['10.4.2.5/32', viaVtep('10.4.2.5/32', '10.4.1.1')], // b borrowed from c
      ['10.4.4.0/26', undefined], // d has no VTEP
      ['10.4.5.1/32', undefined], // e has no VTEP (no node IP)
      ['10.4.6.0/26', undefined], // a block affine to nobody
      ['10.4.6.3/32', viaVtep('10.4.6.3/32', '10.4.2.1')], // every allocation of an unowned block is "non-affine"
    ];
    for (const [dst, want] of cases) assert.deepEqual(route(r, dst), want, dst);
  });

  it('CrossSubnet: the owner in our subnet ⇒ straight to its node IP on the parent interface; elsewhere ⇒ VTEP', () => {
    const r = dp({ nodes, ipPools: cross, blocks }).routes;
    const cases: [string, KernelRoute | undefined][] = [
      ['10.4.1.0/26', direct('10.4.1.0/26', '10.0.0.2')],
      ['10.4.2.5/32', direct('10.4.2.5/32', '10.0.0.2')],
      ['10.4.2.0/26', viaVtep('10.4.2.0/26', '10.4.2.1')],
      ['10.4.1.7/32', viaVtep('10.4.1.7/32', '10.4.2.1')],
      ['10.4.4.0/26', direct('10.4.4.0/26', '10.0.0.4')], // same subnet needs no VTEP
    ];
    for (const [dst, want] of cases) assert.deepEqual(route(r, dst), want, dst);
  });

  it('a remote VTEP address needing its own route (borrowed, or a /32 block) is a device route without gateway', () => {
    const tunnelBlocks = [
      block('10.4.7.0/26', 'c', { allocations: [{ ip: '10.4.7.2', node: 'b' }] }),
      block('10.4.8.1/32', 'c', { allocations: [{ ip: '10.4.8.1', node: 'c' }] }),
    ];
    const ns = { ...nodes, b: { ...nodes.b!, vxlan: '10.4.7.2' }, c: { ...nodes.c!, vxlan: '10.4.8.1' } };
    const r = dp({ nodes: ns, ipPools: always, blocks: tunnelBlocks }).routes;
    assert.deepEqual(route(r, '10.4.7.2/32'), { dst: '10.4.7.2/32', type: 'unicast', dev: 'vxlan.calico' });
    assert.deepEqual(route(r, '10.4.8.1/32'), { dst: '10.4.8.1/32', type: 'unicast', dev: 'vxlan.calico' });
  });

  it('no VXLAN routes when our own VTEP is missing (Felix has no device to route through)', () => {
    const r = dp({ nodes: { ...nodes, a: { ip: '10.0.0.1/24' } }, ipPools: always, blocks }).routes;
    assert.deepEqual(r.map((x) => x.dst), ['10.4.0.0/26']);
  });
});

describe('planDataplane: IPIP device (§6.3) and MTUs (§6.6)', () => {
  const pools = [ipPool('p', { cidr: '10.1.0.0/16', ipipMode: 'CrossSubnet' })];
  it('tunl0 with our tunnel address, MTU host − 20 by default', () => {
    assert.deepEqual(dp({ nodes: { a: { ip: '10.0.0.1/24', ipip: '10.1.0.1' } }, ipPools: pools }).ipip, { name: 'tunl0', address: '10.1.0.1', mtu: 1480 });
  });
  it('ipipMTU overrides; vxlanMTU 0 means "derive"', () => {
    const p = dp({ nodes: { a: { ip: '10.0.0.1/24', ipip: '10.1.0.1', vxlan: '10.2.0.1' } }, ipPools: [...pools, ipPool('v', { cidr: '10.2.0.0/16', vxlanMode: 'Always' })], felixConfigurations: [felixConfig('default', { ipipMTU: 1400, vxlanMTU: 0 })], host: { iface: 'ens3', mtu: 9000 } });
    assert.equal(p.ipip!.mtu, 1400);
    assert.equal(p.vxlan!.mtu, 8950);
  });
  it('no tunl0 without our tunnel address, without an IPIP pool, or with ipipEnabled false', () => {
    assert.equal(dp({ ipPools: pools }).ipip, undefined);
    assert.equal(dp({ nodes: { a: { ip: '10.0.0.1/24', ipip: '10.1.0.1' } }, ipPools: [ipPool('p', { cidr: '10.1.0.0/16' })] }).ipip, undefined);
    assert.equal(dp({ nodes: { a: { ip: '10.0.0.1/24', ipip: '10.1.0.1' } }, ipPools: pools, felixConfigurations: [felixConfig('default', { ipipEnabled: false })] }).ipip, undefined);
  });
});

describe('planDataplane: NAT (§6.5), reachableBy, ordering', () => {
  it('masquerade = pools with natOutgoing (disabled ones too); pools = every pool, both families, sorted', () => {
    const nat = dp({
      ipPools: [
        ipPool('z', { cidr: 'fd10::/48', natOutgoing: true }),
        ipPool('y', { cidr: '10.2.0.0/16', natOutgoing: true, disabled: true }),
        ipPool('x', { cidr: '10.1.0.0/16' }),
        ipPool('w', { cidr: '10.10.0.0/16', natOutgoing: true }),
      ],
    }).nat;
    assert.deepEqual(nat, { masquerade: ['10.2.0.0/16', '10.10.0.0/16', 'fd10::/48'], pools: ['10.1.0.0/16', '10.2.0.0/16', '10.10.0.0/16', 'fd10::/48'] });
  });

  it('a BGPPeer with reachableBy gets a static host route to the peer via that gateway', () => {
    const r = dp({ bgpPeers: [bgpPeer('tor', { peerIP: '192.0.2.1', asNumber: 65000, reachableBy: '10.0.0.254' })] }).routes;
    assert.deepEqual(route(r, '192.0.2.1/32'), { dst: '192.0.2.1/32', type: 'unicast', gateway: '10.0.0.254' });
  });

  it('routes are sorted by destination (numerically, IPv4 first) whatever the input order', () => {
    const learned = [bgp('fd20::/64', 'fd00::2'), bgp('172.16.0.0/16', '10.0.0.2'), bgp('10.200.0.0/16', '10.0.0.2'), bgp('10.30.0.0/16', '10.0.0.2')];
    const a = dp({ learned }).routes.map((r) => r.dst);
    const b = dp({ learned: [...learned].reverse() }).routes.map((r) => r.dst);
    assert.deepEqual(a, ['10.30.0.0/16', '10.200.0.0/16', '172.16.0.0/16', 'fd20::/64']);
    assert.deepEqual(b, a);
  });

  it('an unknown node gets no routes, but still the NAT sets', () => {
    const plan = planDataplane(input('zz', { ipPools: [ipPool('p', { cidr: '10.1.0.0/16', natOutgoing: true })] }), [bgp('10.9.0.0/16', '10.0.0.2')], HOST);
    assert.deepEqual(plan, { routes: [], nat: { masquerade: ['10.1.0.0/16'], pools: ['10.1.0.0/16'] } });
  });
});

describe('dataplanePlanner: the datastore part once, learned routes on top', () => {
  it('gives what planDataplane gives for every learned set, whatever came before; plans are independent objects', () => {
    const nodes = { a: { ip: '10.0.0.1/24', vxlan: '10.4.0.1' }, b: { ip: '10.0.0.2/24', vxlan: '10.4.1.1' } };
    const i = input('a', {
      nodes: Object.entries(nodes).map(([n, x]) => node(n, x)),
      ipPools: [ipPool('vx', { cidr: '10.4.0.0/16', vxlanMode: 'Always' }), ipPool('plain', { cidr: '10.5.0.0/16', natOutgoing: true })],
      blocks: [block('10.4.0.0/26', 'a'), block('10.4.1.0/26', 'b'), block('10.5.0.0/26', 'a')],
    });
    const planner = dataplanePlanner(i, HOST);
    const sets: LearnedRoute[][] = [
      [bgp('10.5.1.0/26', '10.0.0.2')],
      [bgp('10.5.1.0/26', '10.0.0.2'), bgp('10.5.2.0/26', '10.0.0.3'), bgp('10.5.0.0/26', '10.0.0.2')],
      [],
      [bgp('10.5.2.0/26', '10.0.0.9')],
    ];
    const plans = sets.map((l) => planner(l));
    sets.forEach((l, k) => assert.deepEqual(plans[k], planDataplane(i, l, HOST), `learned set ${k}`));
    assert.ok(plans[1]!.routes.some((r) => r.dst === '10.5.2.0/26') && !plans[2]!.routes.some((r) => r.dst === '10.5.2.0/26'));
    // Changing one plan's containers (a caller may) leaves the planner and the other plans alone; the route
    // objects are shared between plans, and frozen.
    assert.throws(() => {
      plans[0]!.routes[0]!.dst = 'changed';
    }, TypeError);
    plans[0]!.routes.splice(0, 1);
    plans[0]!.vxlan!.peers[0]!.nodeIP = 'changed';
    plans[0]!.nat.pools.push('changed');
    assert.deepEqual(planner(sets[0]!), planDataplane(i, sets[0]!, HOST));
  });

  it('update: after any sequence of learned changes, the plan a full planning gives, and exactly the routes that differ', () => {
    const i = input('a', {
      nodes: [node('a', { ip: '10.0.0.1/24' }), node('b', { ip: '10.0.0.2/24' })],
      ipPools: [ipPool('p', { cidr: '10.5.0.0/16' }), ipPool('svc-like', { cidr: '10.6.0.0/16', disabled: true })],
      blocks: [block('10.5.0.0/26', 'a')],
    });
    const planner = dataplanePlanner(i, HOST);
    assert.equal(planner.update(new Map(), ['10.5.1.0/26']), undefined, 'nothing to start from before a full plan');
    const learned = new Map<string, LearnedRoute>();
    let before = planner(learned.values());
    // A seeded walk: prefixes come and go, next hops move, one is our own block (the blackhole outranks it),
    // one is announced by ourselves (local: never programmed).
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const prefixes = ['10.5.0.0/26', '10.5.1.0/26', '10.5.1.64/26', '10.5.2.0/26', '10.5.3.0/26', '10.5.0.64/26', '10.6.0.0/26'];
    for (let step = 0; step < 200; step++) {
      const changed = new Set<string>();
      for (let k = rnd(3) + 1; k > 0; k--) {
        const prefix = prefixes[rnd(prefixes.length)]!;
        changed.add(prefix);
        const what = rnd(4);
        if (what === 0) learned.delete(prefix);
        else learned.set(prefix, what === 3 && prefix === '10.5.0.64/26' ? bgp(prefix, '10.0.0.1', 'local') : bgp(prefix, `10.0.0.${rnd(3) + 2}`));
      }
      before = updatedAsPlanned(planner.update(learned, changed), before, planDataplane(i, [...learned.values()], HOST), `step ${step}`).plan;
    }
    assert.ok(before.routes.some((r) => r.dst === '10.5.0.0/26' && r.type === 'blackhole'), 'our block: the blackhole, whatever was learned for it');
    // A prefix spelt another way: the planner cannot tell which spelling wins and says so (the caller plans in full).
    learned.set('10.5.9.1/24', bgp('10.5.9.1/24', '10.0.0.2'));
    assert.equal(planner.update(learned, ['10.5.9.1/24']), undefined);
    assert.equal(planner.update(learned, ['10.5.1.0/26']), undefined, 'until the next full plan');
    assert.deepEqual(planner(learned.values()), planDataplane(i, [...learned.values()], HOST));
    assert.ok(planner.update(learned, ['10.5.1.0/26']));
  });

  it('setBlocks: after any sequence of block and learned changes, the plan a full planning of those blocks gives, and exactly the routes that differ', () => {
    const base = input('a', {
      nodes: [node('a', { ip: '10.0.0.1/24', vxlan: '10.4.0.1' }), node('b', { ip: '10.0.0.2/24', vxlan: '10.4.1.1' }), node('c', { ip: '10.0.1.3/24', vxlan: '10.4.2.1' })],
      ipPools: [ipPool('p', { cidr: '10.5.0.0/16' }), ipPool('vx', { cidr: '10.4.0.0/16', vxlanMode: 'CrossSubnet' })],
      bgpPeers: [bgpPeer('tor', { peerIP: '192.0.2.1', asNumber: 65001, reachableBy: '10.0.0.254' })],
      blocks: [block('10.5.0.0/26', 'a')],
    });
    // Blocks that come and go: ours (a blackhole, which outranks what is learned for it), others' in the VXLAN
    // pool (routes via their VTEP or, in our subnet, their node IP), one with an address borrowed by c, a
    // pending one of ours, a host-length one.
    const candidates: BlockInfo[] = [
      block('10.5.0.0/26', 'a'),
      block('10.5.1.0/26', 'a', { affinityState: 'pending' }),
      block('10.5.2.0/26', 'a'),
      block('10.5.3.0/32', 'a'),
      block('10.4.0.0/26', 'a'),
      block('10.4.1.0/26', 'b'),
      block('10.4.2.0/26', 'c'),
      block('10.4.1.64/26', 'b', { allocations: [{ ip: '10.4.1.70', node: 'c' }] }),
    ];
    const planner = dataplanePlanner(base, HOST);
    const learned = new Map<string, LearnedRoute>();
    let blocks = base.blocks;
    let before = planner(learned.values());
    let seed = 11;
    // (The high bits: an LCG's low bit alternates, which would make every other step alike.)
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), Math.floor(seed / 65536) % n);
    const prefixes = ['10.5.0.0/26', '10.5.1.0/26', '10.5.2.0/26', '10.5.9.0/26', '192.0.2.1/32'];
    let moved = 0;
    for (let step = 0; step < 300; step++) {
      const changed = new Set<string>();
      if (rnd(2) === 0) {
        blocks = candidates.filter(() => rnd(2) === 0);
        planner.setBlocks(blocks, learned);
      }
      for (let k = rnd(3); k > 0; k--) {
        const prefix = prefixes[rnd(prefixes.length)]!;
        changed.add(prefix);
        if (rnd(3) === 0) learned.delete(prefix);
        else learned.set(prefix, bgp(prefix, `10.0.0.${rnd(3) + 2}`));
      }
      const want = planDataplane({ ...base, blocks }, [...learned.values()], HOST);
      const u = updatedAsPlanned(planner.update(learned, changed), before, want, `step ${step}`);
      moved += u.changes.size;
      before = u.plan;
      // A full plan in between starts from the same blocks.
      if (step % 50 === 49) assert.deepEqual(planner(learned.values()), want);
    }
    assert.ok(moved > 100, `the walk moved routes (${moved})`);
    // Before any plan, the blocks are simply those of the next (full) one.
    const fresh = dataplanePlanner(base, HOST);
    fresh.setBlocks([candidates[2]!], learned);
    assert.deepEqual(fresh(learned.values()), planDataplane({ ...base, blocks: [candidates[2]!] }, [...learned.values()], HOST));
    // A learned prefix spelt another way than its route: setBlocks could not find it again; the caller plans in full.
    const spelt = new Map([['10.5.2.1/26', bgp('10.5.2.1/26', '10.0.0.2')]]);
    fresh(spelt.values());
    fresh.setBlocks([], spelt);
    assert.equal(fresh.update(spelt, []), undefined);
    assert.deepEqual(fresh(spelt.values()), planDataplane({ ...base, blocks: [] }, [...spelt.values()], HOST));
  });
});
