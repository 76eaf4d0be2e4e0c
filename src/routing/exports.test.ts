/**
 * planBgp — what the node exports (calico-compat.md §5.5): each planned export policy is run through
 * the real Policy class on sample routes; and the originated routes with their communities.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bgpPlanner, planBgp } from './plan.js';
import type { BgpPlan, BlockInfo, RoutingInput } from './types.js';
import { bgpConfig, bgpFilter, bgpPeer, block, community, decide, input, ipPool, node } from './testing.js';

const POOLS = [
  ipPool('main', { cidr: '10.244.0.0/16', ipipMode: 'Always' }),
  ipPool('private', { cidr: '10.250.0.0/16', disableBGPExport: true }),
  ipPool('v6', { cidr: 'fd10::/48' }),
];
const BLOCKS: BlockInfo[] = [
  block('10.244.1.0/26', 'a', { affinityState: 'confirmed' }),
  block('10.244.1.64/26', 'a'), // no affinity state: legacy, treated as confirmed
  block('10.244.1.128/26', 'a', { affinityState: 'pending' }),
  block('10.244.1.192/26', 'a', { affinityState: 'pendingDeletion' }),
  block('10.244.2.0/26', 'b', { affinityState: 'confirmed', allocations: [{ ip: '10.244.2.7', node: 'a' }, { ip: '10.244.2.8', node: 'b' }] }),
  block('10.244.3.0/26', undefined, { allocations: [{ ip: '10.244.3.1', node: 'a' }] }),
  block('10.250.1.0/26', 'a', { affinityState: 'confirmed' }),
  block('10.244.9.0/32', 'a', { affinityState: 'confirmed' }), // an unused host-length block
  block('fd10::/122', 'a', { affinityState: 'confirmed' }),
];
const SVC = bgpConfig('default', {
  serviceClusterIPs: [{ cidr: '10.96.0.0/12' }, { cidr: 'fd00:96::/108' }],
  serviceExternalIPs: [{ cidr: '192.0.2.0/24' }, { cidr: '203.0.113.50/32' }],
  serviceLoadBalancerIPs: [{ cidr: '198.51.100.0/24' }, { cidr: '203.0.113.9/32' }],
});

function planFor(me: string, o: Partial<RoutingInput> = {}, nodeLabels?: Record<string, string>): BgpPlan {
  return planBgp(
    input(me, {
      nodes: [node('a', { ip: '10.0.0.1/24', ip6: 'fd00::1/64', labels: nodeLabels ?? {} }), node('b', { ip: '10.0.0.2/24', ip6: 'fd00::2/64' }), node('rr', { ip: '10.0.0.9/24', rr: '1.1.1.1' })],
      ipPools: POOLS,
      blocks: BLOCKS,
      bgpConfigurations: [SVC],
      bgpPeers: [bgpPeer('to-rr', { peerSelector: 'all()', nodeSelector: 'all()' })],
      ...o,
    }),
  );
}
const exportOf = (p: BgpPlan, fam: 'ipv4' | 'ipv6' = 'ipv4') => {
  const peer = p.peers.find((x) => x.families?.[0] === fam);
  assert.ok(peer?.export, `no ${fam} peer`);
  return peer.export;
};

describe('export policy: calico_export_to_bgp_peers (§5.5)', () => {
  const pol = exportOf(planFor('a'));
  const cases: [string, string, boolean][] = [
    ['1. disableBGPExport pool: rejected, even our own confirmed block in it', '10.250.1.0/26', false],
    ['1. disableBGPExport pool: anything inside', '10.250.7.7/32', false],
    ['4. confirmed block: accepted as is', '10.244.1.0/26', true],
    ['4. confirmed block: more specifics rejected', '10.244.1.5/32', false],
    ['4. state-less block counts as confirmed', '10.244.1.64/26', true],
    ['4. state-less block: more specifics rejected', '10.244.1.70/32', false],
    ['4. pending block: no aggregation rule, falls to the pool accept', '10.244.1.128/26', true],
    ['4. pending block: its /32s too', '10.244.1.130/32', true],
    ['4. pendingDeletion block: likewise', '10.244.1.192/26', true],
    ["5. serviceClusterIPs", '10.96.0.0/12', true],
    ['5. serviceExternalIPs range', '192.0.2.0/24', true],
    ['5. a /32 serviceExternalIP is not a static route (advertised per service, not here)', '203.0.113.50/32', false],
    ['5. a /32 inside an advertised range is accepted (net ~ range)', '192.0.2.200/32', true],
    ['5. serviceLoadBalancerIPs range (aggregation Enabled by default)', '198.51.100.0/24', true],
    ['6. not a reflector: a /32 LoadBalancer entry is not accepted', '203.0.113.9/32', false],
    ['7. inside a pool: borrowed /32 from another node', '10.244.2.7/32', true],
    ["7. inside a pool: another node's block (reflected)", '10.244.2.0/26', true],
    ['8. outside everything', '172.16.0.0/24', false],
    ['8. a supernet of a pool is not inside it', '10.0.0.0/8', false],
  ];
  for (const [what, prefix, want] of cases) it(what, () => assert.equal(decide(pol, prefix).accepted, want));

  it('6. a route reflector accepts anything inside the LoadBalancer ranges, /32 entries included', () => {
    const rr = exportOf(planFor('rr'));
    assert.equal(decide(rr, '203.0.113.9/32').accepted, true);
    assert.equal(decide(rr, '172.16.0.0/24').accepted, false);
  });

  it('5. LoadBalancer ranges are not advertised with serviceLoadBalancerAggregation Disabled', () => {
    const cfg = bgpConfig('default', { serviceLoadBalancerIPs: [{ cidr: '198.51.100.0/24' }], serviceLoadBalancerAggregation: 'Disabled' });
    const p = planFor('a', { bgpConfigurations: [cfg] });
    assert.equal(decide(exportOf(p), '198.51.100.0/24').accepted, false);
    assert.ok(!p.originated.some((r) => r.prefix === '198.51.100.0/24'));
  });

  it('5. a node labelled exclude-from-external-load-balancers advertises no service ranges', () => {
    const p = planFor('a', {}, { 'node.kubernetes.io/exclude-from-external-load-balancers': 'true' });
    assert.equal(decide(exportOf(p), '10.96.0.0/12').accepted, false);
    assert.ok(!p.originated.some((r) => r.prefix === '10.96.0.0/12'));
  });

  it('the IPv6 policy works on IPv6 pools, blocks and services', () => {
    const pol6 = exportOf(planFor('a'), 'ipv6');
    assert.equal(decide(pol6, 'fd10::/122').accepted, true);
    assert.equal(decide(pol6, 'fd10::5/128').accepted, false);
    assert.equal(decide(pol6, 'fd10::1:0/122').accepted, true);
    assert.equal(decide(pol6, 'fd00:96::/108').accepted, true);
    assert.equal(decide(pol6, '2001:db8::/32').accepted, false);
  });
});

describe('export policy: prefixAdvertisements communities (§5.5.3, §1.1)', () => {
  const cfg = (name: string, advs: unknown[]) =>
    bgpConfig(name, { communities: [{ name: 'svc', value: '65000:100' }, { name: 'big', value: '65000:1:2' }], prefixAdvertisements: advs });

  it('adds named, literal and large communities to routes inside the advertised CIDR, then decides as usual', () => {
    const p = planFor('a', { bgpConfigurations: [SVC, cfg('node.a', [{ cidr: '10.244.0.0/16', communities: ['svc', '65001:7', 'big'] }, { cidr: '10.244.1.0/24', communities: ['65002:9'] }])] });
    const d = decide(exportOf(p), '10.244.1.0/26');
    assert.equal(d.accepted, true);
    assert.deepEqual(d.communities.sort(), [community(65000, 100), community(65001, 7), community(65002, 9)].sort());
    assert.deepEqual(d.largeCommunities, [[65000, 1, 2]]);
    const outside = decide(exportOf(p), '10.96.0.0/12');
    assert.equal(outside.accepted, true);
    assert.deepEqual(outside.communities, []);
    assert.equal(decide(exportOf(p), '10.244.1.5/32').accepted, false, 'communities do not decide');
  });

  it('node.<name> prefixAdvertisements replace the default ones; otherwise the default applies', () => {
    const def = cfg('default', [{ cidr: '10.244.0.0/16', communities: ['65009:9'] }]);
    const mine = bgpConfig('node.a', { prefixAdvertisements: [{ cidr: '10.244.0.0/16', communities: ['65008:8'] }] });
    const other = bgpConfig('node.b', { prefixAdvertisements: [{ cidr: '10.244.0.0/16', communities: ['65007:7'] }] });
    assert.deepEqual(decide(exportOf(planFor('a', { bgpConfigurations: [def, other] })), '10.244.1.0/26').communities, [community(65009, 9)]);
    assert.deepEqual(decide(exportOf(planFor('a', { bgpConfigurations: [def, mine] })), '10.244.1.0/26').communities, [community(65008, 8)]);
  });
});

describe('export / import policy: BGPFilter rules come first (§1.3)', () => {
  const withFilter = (spec: Record<string, unknown>) => {
    const p = planFor('a', {
      bgpFilters: [bgpFilter('f', spec)],
      bgpPeers: [bgpPeer('ebgp', { peerIP: '192.0.2.1', asNumber: 65000, filters: ['f'] }), bgpPeer('ibgp', { peerIP: '192.0.2.2', asNumber: 64512, filters: ['f'] })],
    });
    const peer = (n: string) => p.peers.find((x) => x.name === n)!;
    return { p, ebgp: peer('Global_192_0_2_1'), ibgp: peer('Global_192_0_2_2') };
  };

  it('matchOperator Equal / NotEqual / In / NotIn and prefixLength', () => {
    const cases: [Record<string, unknown>, string, boolean][] = [
      [{ cidr: '10.244.1.0/26', matchOperator: 'Equal', action: 'Reject' }, '10.244.1.0/26', false],
      [{ cidr: '10.244.1.0/24', matchOperator: 'Equal', action: 'Reject' }, '10.244.1.0/26', true],
      [{ cidr: '172.16.0.0/12', matchOperator: 'In', action: 'Accept' }, '172.16.5.0/24', true],
      [{ cidr: '172.16.0.0/12', matchOperator: 'NotIn', action: 'Accept' }, '172.16.5.0/24', false],
      [{ cidr: '172.16.0.0/12', matchOperator: 'NotIn', action: 'Accept' }, '172.32.0.0/24', true],
      [{ cidr: '172.16.0.0/12', matchOperator: 'NotEqual', action: 'Accept' }, '172.16.0.0/12', false],
      [{ cidr: '172.16.0.0/12', matchOperator: 'In', prefixLength: { min: 16, max: 20 }, action: 'Accept' }, '172.16.0.0/24', false],
      [{ cidr: '172.16.0.0/12', matchOperator: 'In', prefixLength: { min: 16, max: 24 }, action: 'Accept' }, '172.16.0.0/24', true],
    ];
    for (const [rule, prefix, want] of cases) {
      assert.equal(decide(withFilter({ exportV4: [rule] }).ebgp.export!, prefix).accepted, want, `${JSON.stringify(rule)} on ${prefix}`);
    }
  });

  it('peerType limits a rule to eBGP or iBGP sessions (the speaker tells them apart)', () => {
    const { ebgp, ibgp } = withFilter({ exportV4: [{ cidr: '10.244.1.0/26', matchOperator: 'Equal', peerType: 'eBGP', action: 'Reject' }] });
    assert.equal(decide(ebgp.export!, '10.244.1.0/26', { peerKind: 'ebgp' }).accepted, false);
    assert.equal(decide(ibgp.export!, '10.244.1.0/26', { peerKind: 'ibgp' }).accepted, true);
  });

  it('source RemotePeers, communities and asPathPrefix matches', () => {
    const { ebgp } = withFilter({
      exportV4: [
        { source: 'RemotePeers', communities: { values: ['65000:666'] }, action: 'Reject' },
        { asPathPrefix: [65100, 65101], action: 'Reject' },
      ],
    });
    const pol = ebgp.export!;
    assert.equal(decide(pol, '10.244.2.0/26', { source: 'bgp', communities: [community(65000, 666)] }).accepted, false);
    assert.equal(decide(pol, '10.244.2.0/26', { source: 'local', communities: [community(65000, 666)] }).accepted, true);
    assert.equal(decide(pol, '10.244.2.0/26', { source: 'bgp', asPath: [65100, 65101, 1] }).accepted, false);
    assert.equal(decide(pol, '10.244.2.0/26', { source: 'bgp', asPath: [65101, 65100] }).accepted, true);
  });

  it('operations on Accept: addCommunity, prependASPath (in order), setPriority → local pref', () => {
    const { ebgp } = withFilter({
      exportV4: [{ cidr: '172.16.0.0/12', matchOperator: 'In', action: 'Accept', operations: [{ addCommunity: { value: '65000:1' } }, { prependASPath: { prefix: [65001, 65002] } }, { setPriority: { value: 512 } }] }],
    });
    const d = decide(ebgp.export!, '172.16.0.0/16');
    assert.equal(d.accepted, true);
    assert.deepEqual(d.communities, [community(65000, 1)]);
    assert.deepEqual(d.asPath, [65001, 65002]);
    assert.equal(d.localPref, 2147483647 - 512);
  });

  it('import rules, then accept', () => {
    const { ebgp } = withFilter({ importV4: [{ cidr: '0.0.0.0/0', matchOperator: 'Equal', action: 'Reject' }] });
    assert.equal(decide(ebgp.import!, '0.0.0.0/0', { direction: 'import', source: 'bgp' }).accepted, false);
    assert.equal(decide(ebgp.import!, '172.16.0.0/16', { direction: 'import', source: 'bgp' }).accepted, true);
  });

  it('IPv6 sessions use exportV6, not exportV4', () => {
    const p = planFor('a', { bgpFilters: [bgpFilter('f', { exportV4: [{ cidr: '10.244.1.0/26', matchOperator: 'Equal', action: 'Reject' }], exportV6: [{ cidr: 'fd10::/122', matchOperator: 'Equal', action: 'Reject' }] })], bgpPeers: [bgpPeer('x', { peerIP: 'fd00::99', asNumber: 65000, filters: ['f'] })] });
    const pol6 = p.peers.find((x) => x.name === 'Global_fd00__99')!.export!;
    assert.equal(decide(pol6, 'fd10::/122').accepted, false);
    assert.ok(pol6.rules.every((r) => !('match' in r) || r.match?.family !== 'ipv4'));
  });

  it('rules the speaker cannot evaluate (interface, priority) and unknown filters are dropped with a warning', () => {
    const { p, ebgp } = withFilter({ exportV4: [{ interface: 'eth*', action: 'Reject' }, { priority: 512, action: 'Reject' }] });
    assert.equal(decide(ebgp.export!, '10.244.1.0/26').accepted, true);
    assert.match(p.warnings.join('\n'), /interface "eth\*" is not supported/);
    assert.match(p.warnings.join('\n'), /priority 512 is not supported/);
    const missing = planFor('a', { bgpPeers: [bgpPeer('x', { peerIP: '192.0.2.1', asNumber: 65000, filters: ['nope'] })] });
    assert.match(missing.warnings.join('\n'), /BGPFilter nope not found/);
  });

  it('peers with the same inputs share one policy object', () => {
    const p = planFor('a', { bgpPeers: [bgpPeer('x', { peerIP: '192.0.2.1', asNumber: 65000 }), bgpPeer('y', { peerIP: '192.0.2.2', asNumber: 65001 })] });
    const v4 = p.peers.filter((x) => x.families?.[0] === 'ipv4');
    assert.ok(v4.length >= 3);
    assert.ok(v4.every((x) => x.export === v4[0]!.export));
  });
});

describe('bgpPlanner: the resources read once, the blocks per call (the agent, for each pod block of its own)', () => {
  const inputFor = (me: string, o: Partial<RoutingInput> = {}) =>
    input(me, { nodes: [node('a', { ip: '10.0.0.1/24', ip6: 'fd00::1/64' }), node('b', { ip: '10.0.0.2/24' })], ipPools: POOLS, blocks: BLOCKS, bgpConfigurations: [SVC], ...o });

  it("originated: the routes alone, planBgp's; undefined where BGP is off", () => {
    assert.deepEqual(bgpPlanner(inputFor('a')).originated(BLOCKS), planBgp(inputFor('a')).originated);
    assert.deepEqual(bgpPlanner(inputFor('b')).originated(BLOCKS), planBgp(inputFor('b')).originated);
    assert.equal(bgpPlanner(inputFor('nobody')).originated(BLOCKS), undefined);
    assert.equal(bgpPlanner(inputFor('c', { nodes: [node('c', {})] })).originated(BLOCKS), undefined);
  });

  it('each call plans as planBgp does for its blocks, whatever came before: policies, originated routes and warnings of its own', () => {
    const fresh = block('10.244.7.0/26', 'a', { affinityState: 'confirmed' });
    const bad = { cidr: 'not-a-cidr', allocations: [] } as BlockInfo;
    // A missing BGPFilter warns when its policy is made: once per plan, not once more per call.
    const o = { bgpPeers: [bgpPeer('x', { peerIP: '192.0.2.1', asNumber: 65000, filters: ['missing'] })], bgpConfigurations: [SVC, bgpConfig('node.a', { listenPort: 1790 })] };
    const planner = bgpPlanner(inputFor('a', o));
    for (const blocks of [BLOCKS, [...BLOCKS, fresh], [bad, ...BLOCKS], BLOCKS]) {
      const want = planBgp(inputFor('a', { ...o, blocks }));
      assert.deepEqual(planner(blocks), want, blocks.map((b) => b.cidr).join(' '));
    }
    // The originated routes the agent hands to the speaker first are those of the plan that follows: worked out once.
    const blocks = [...BLOCKS, fresh];
    assert.equal(planner(blocks).originated, planner.originated(blocks));
    const withFresh = planner([...BLOCKS, fresh]);
    assert.ok(withFresh.originated.some((r) => r.prefix === '10.244.7.0/26'));
    assert.equal(decide(exportOf(withFresh), '10.244.7.1/32', { peerKind: 'ebgp' }).accepted, false, 'more specific than our new block: rejected');
    assert.equal(decide(exportOf(planner(BLOCKS)), '10.244.7.1/32', { peerKind: 'ebgp' }).accepted, true, 'not our block any more: inside the pool, accepted');
    assert.equal(withFresh.warnings.filter((w) => w.includes('missing')).length, 1);
    assert.equal(planner([bad]).warnings.filter((w) => w.includes('not-a-cidr')).length, 1);
    assert.ok(!planner(BLOCKS).warnings.some((w) => w.includes('not-a-cidr')), "an earlier call's block warning is not carried over");
    // Where BGP is off the plan says why, with the blocks' warnings.
    assert.deepEqual(bgpPlanner(inputFor('nobody'))([bad]), planBgp(inputFor('nobody', { blocks: [bad] })));
  });

  it("the export policy of before a new block decides the block's route (and its communities) as the policy naming it does", () => {
    const fresh = block('10.244.7.0/26', 'a', { affinityState: 'confirmed' });
    const config = bgpConfig('default', { ...SVC.spec, communities: [{ name: 'pods', value: '65000:100' }], prefixAdvertisements: [{ cidr: '10.244.0.0/16', communities: ['pods'] }] });
    const o = { bgpPeers: [bgpPeer('x', { peerIP: '192.0.2.1', asNumber: 65000 })], bgpConfigurations: [config] };
    const before = planBgp(inputFor('a', o));
    const after = planBgp(inputFor('a', { ...o, blocks: [...BLOCKS, fresh] }));
    const route = bgpPlanner(inputFor('a', o)).originated([...BLOCKS, fresh])!.find((r) => r.prefix === '10.244.7.0/26');
    assert.ok(route && !before.originated.some((r) => r.prefix === '10.244.7.0/26'));
    assert.notDeepEqual(exportOf(before), exportOf(after), 'the policy names the new block');
    for (const peerKind of ['ibgp', 'ebgp'] as const) {
      const d = decide(exportOf(after), '10.244.7.0/26', { peerKind });
      assert.equal(d.accepted, true);
      assert.deepEqual(decide(exportOf(before), '10.244.7.0/26', { peerKind }), d, peerKind);
    }
  });
});

describe('originated routes (§5.5)', () => {
  it('own confirmed / state-less blocks, borrowed host routes, service ranges; sorted', () => {
    assert.deepEqual(
      planFor('a').originated.map((r) => r.prefix),
      [
        '10.96.0.0/12', // serviceClusterIPs
        '10.244.1.0/26', // confirmed
        '10.244.1.64/26', // no state
        '10.244.2.7/32', // we allocated it in b's block
        '10.244.3.1/32', // we allocated it in a block affine to nobody
        '192.0.2.0/24', // serviceExternalIPs range (the /32 one is not global)
        '198.51.100.0/24', // serviceLoadBalancerIPs range
        'fd00:96::/108',
        'fd10::/122',
      ],
    );
  });

  it('not: pending / pendingDeletion blocks, blocks in disableBGPExport pools, unused host-length blocks, others’ allocations', () => {
    const prefixes = planFor('a').originated.map((r) => r.prefix);
    for (const p of ['10.244.1.128/26', '10.244.1.192/26', '10.250.1.0/26', '10.244.9.0/32', '10.244.2.8/32', '10.244.2.0/26']) assert.ok(!prefixes.includes(p), p);
  });

  it('a host-length block with an allocation is originated', () => {
    const blocks = [block('10.244.9.0/32', 'a', { affinityState: 'confirmed', allocations: [{ ip: '10.244.9.0', node: 'a' }] })];
    assert.ok(planFor('a', { blocks }).originated.some((r) => r.prefix === '10.244.9.0/32'));
  });

  it('carries the communities of every prefixAdvertisement containing it', () => {
    const cfg = bgpConfig('default', {
      ...SVC.spec,
      communities: [{ name: 'pods', value: '65000:100' }],
      prefixAdvertisements: [
        { cidr: '10.244.0.0/16', communities: ['pods', '65000:1:1'] },
        { cidr: '10.244.1.0/24', communities: ['65000:200'] },
      ],
    });
    const byPrefix = new Map(planFor('a', { bgpConfigurations: [cfg] }).originated.map((r) => [r.prefix, r]));
    assert.deepEqual(byPrefix.get('10.244.1.0/26'), { prefix: '10.244.1.0/26', communities: ['65000:100', '65000:200'], largeCommunities: ['65000:1:1'] });
    assert.deepEqual(byPrefix.get('10.244.2.7/32'), { prefix: '10.244.2.7/32', communities: ['65000:100'], largeCommunities: ['65000:1:1'] });
    assert.deepEqual(byPrefix.get('10.96.0.0/12'), { prefix: '10.96.0.0/12' });
  });
});
