/**
 * planBgp — sessions (calico-compat.md §5.2 items 1–7, AS / router id / listen, §5.3 route
 * reflection) and per-BGPPeer fields (§1.2). Each case names the rule it checks.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planBgp } from './plan.js';
import type { PlannedPeer, RoutingInput } from './types.js';
import { bgpConfig, bgpFilter, bgpPeer, input, node, type NodeOpts } from './testing.js';

const A = { ip: '10.0.0.1/24' };
const B = { ip: '10.0.0.2/24' };
const C = { ip: '10.0.0.3/24' };

function plan(me: string, nodes: Record<string, NodeOpts>, o: Partial<RoutingInput> = {}) {
  return planBgp(input(me, { nodes: Object.entries(nodes).map(([n, opts]) => node(n, opts)), ...o }));
}
const names = (peers: PlannedPeer[]) => peers.map((p) => p.name);
const peer = (peers: PlannedPeer[], name: string) => {
  const p = peers.find((x) => x.name === name);
  assert.ok(p, `no peer ${name} in ${names(peers).join(', ')}`);
  return p;
};
const meshOff = bgpConfig('default', { nodeToNodeMeshEnabled: false });

describe('planBgp: node-to-node mesh (§5.2.1)', () => {
  it('peers with every other node that has an address, skipping itself and route reflectors', () => {
    const p = plan('a', { a: A, b: B, c: C, rr: { ip: '10.0.0.9/24', rr: '1.1.1.1' }, none: {} });
    assert.deepEqual(names(p.peers), ['Mesh_10_0_0_2', 'Mesh_10_0_0_3']);
    const b = peer(p.peers, 'Mesh_10_0_0_2');
    assert.equal(b.type, 'Mesh');
    assert.equal(b.calicoNode, 'b');
    assert.equal(b.localAddress, '10.0.0.1'); // source address = our IP
    assert.deepEqual(b.families, ['ipv4']);
  });

  it('is off when nodeToNodeMeshEnabled is false, and for a route reflector', () => {
    assert.deepEqual(plan('a', { a: A, b: B }, { bgpConfigurations: [meshOff] }).peers, []);
    assert.deepEqual(plan('a', { a: { ...A, rr: '1.1.1.1' }, b: B }).peers, []);
  });

  it('takes the remote AS from the node, else the global AS', () => {
    const p = plan('a', { a: A, b: { ...B, as: 65010 }, c: C }, { bgpConfigurations: [bgpConfig('default', { asNumber: 65000 })] });
    assert.equal(peer(p.peers, 'Mesh_10_0_0_2').asNumber, 65010);
    assert.equal(peer(p.peers, 'Mesh_10_0_0_3').asNumber, 65000);
  });

  it('takes the remote port from node.<name> listenPort, else the global one, else none', () => {
    const cases: [string, RoutingInput['bgpConfigurations'], number | undefined][] = [
      ['none', [], undefined],
      ['global', [bgpConfig('default', { listenPort: 1790 })], 1790],
      ['node-level wins', [bgpConfig('default', { listenPort: 1790 }), bgpConfig('node.b', { listenPort: 1791 })], 1791],
      ["another node's setting does not apply", [bgpConfig('node.c', { listenPort: 1791 })], undefined],
    ];
    for (const [what, cfgs, want] of cases) {
      const p = plan('a', { a: A, b: B }, { bgpConfigurations: cfgs });
      assert.equal(peer(p.peers, 'Mesh_10_0_0_2').port, want, what);
      assert.equal(peer(p.peers, 'Mesh_10_0_0_2').name, 'Mesh_10_0_0_2', `${what}: mesh names carry no port`);
    }
  });

  it('is passive when our IP string sorts before theirs (string compare, not numeric)', () => {
    const cases: [string, string, boolean][] = [
      ['10.0.0.1/24', '10.0.0.2/24', true],
      ['10.0.0.2/24', '10.0.0.1/24', false],
      ['10.0.0.10/24', '10.0.0.9/24', true], // "10.0.0.10" < "10.0.0.9" as strings
      ['10.0.0.9/24', '10.0.0.10/24', false],
    ];
    for (const [ours, theirs, passive] of cases) {
      const p = plan('a', { a: { ip: ours }, b: { ip: theirs } });
      assert.equal(p.peers[0]!.passive === true, passive, `${ours} vs ${theirs}`);
    }
  });

  it('uses nodeMeshPassword through the secret resolver, and nodeMeshMaxRestartTime in seconds', () => {
    const cfg = bgpConfig('default', { nodeMeshPassword: { secretKeyRef: { name: 'bgp', key: 'mesh' } }, nodeMeshMaxRestartTime: '2m' });
    const p = plan('a', { a: A, b: B }, { bgpConfigurations: [cfg], secret: (r) => (r.name === 'bgp' && r.key === 'mesh' ? 's3cret' : undefined) });
    assert.equal(p.peers[0]!.password, 's3cret');
    assert.deepEqual(p.peers[0]!.gracefulRestart, { restartTime: 120 });
    assert.deepEqual(p.warnings, []);
  });

  it('leaves graceful restart to the speaker default when no restart time is set', () => {
    assert.equal(plan('a', { a: A, b: B }).peers[0]!.gracefulRestart, undefined);
  });

  it('warns and peers without a password when the mesh secret is missing', () => {
    const cfg = bgpConfig('default', { nodeMeshPassword: { secretKeyRef: { name: 'bgp', key: 'mesh' } } });
    const p = plan('a', { a: A, b: B }, { bgpConfigurations: [cfg], secret: () => undefined });
    assert.equal(p.peers[0]!.password, undefined);
    assert.match(p.warnings.join('\n'), /nodeMeshPassword secret bgp\/mesh/);
  });

  it('builds an IPv6 mesh alongside, named with ":" replaced', () => {
    const p = plan('a', { a: { ...A, ip6: 'fd00::1/64' }, b: { ...B, ip6: 'fd00::2/64' }, c: { ip6: 'fd00::3/64' } });
    assert.deepEqual(names(p.peers), ['Mesh_10_0_0_2', 'Mesh_fd00__2', 'Mesh_fd00__3']);
    assert.deepEqual(peer(p.peers, 'Mesh_fd00__2').families, ['ipv6']);
    assert.equal(peer(p.peers, 'Mesh_fd00__2').localAddress, 'fd00::1');
  });
});

describe('planBgp: BGPPeer resources (§5.2.2–7)', () => {
  const tor = bgpPeer('tor', { peerIP: '192.0.2.1', asNumber: 65000 });

  it('global peers are named Global_<ip>, with _port_<p> when a port is given', () => {
    const p = plan('a', { a: A }, { bgpConfigurations: [meshOff], bgpPeers: [tor, bgpPeer('tor2', { peerIP: '192.0.2.2:1179', asNumber: 65000 }), bgpPeer('v6', { peerIP: '[fd00::9]:1179', asNumber: 65000 })] });
    assert.deepEqual(names(p.peers), ['Global_192_0_2_1', 'Global_192_0_2_2_port_1179']); // no IPv6 on a ⇒ no v6 session
    assert.equal(peer(p.peers, 'Global_192_0_2_2_port_1179').port, 1179);
    assert.equal(peer(p.peers, 'Global_192_0_2_1').type, 'Global');
  });

  it('node-specific peers apply to the named node or to nodes matching nodeSelector', () => {
    const peers = [
      bgpPeer('p1', { node: 'a', peerIP: '192.0.2.1', asNumber: 65000 }),
      bgpPeer('p2', { node: 'b', peerIP: '192.0.2.2', asNumber: 65000 }),
      bgpPeer('p3', { nodeSelector: 'rack == "r1"', peerIP: '192.0.2.3', asNumber: 65000 }),
      bgpPeer('p4', { nodeSelector: 'rack == "r2"', peerIP: '192.0.2.4', asNumber: 65000 }),
    ];
    const p = plan('a', { a: { ...A, labels: { rack: 'r1' } }, b: { ...B, labels: { rack: 'r2' } } }, { bgpConfigurations: [meshOff], bgpPeers: peers });
    assert.deepEqual(names(p.peers), ['Node_192_0_2_1', 'Node_192_0_2_3']);
    assert.equal(peer(p.peers, 'Node_192_0_2_1').type, 'Node');
  });

  it('skips a node-specific peering when a global one to the same ip:port exists (179 = no port)', () => {
    const peers = [
      bgpPeer('a-global', { peerIP: '192.0.2.1', asNumber: 65000 }),
      bgpPeer('b-node', { node: 'a', peerIP: '192.0.2.1:179', asNumber: 65001 }),
      bgpPeer('c-node-other-port', { node: 'a', peerIP: '192.0.2.1:1179', asNumber: 65002 }),
    ];
    const p = plan('a', { a: A }, { bgpConfigurations: [meshOff], bgpPeers: peers });
    assert.deepEqual(names(p.peers), ['Global_192_0_2_1', 'Node_192_0_2_1_port_1179']);
    assert.equal(peer(p.peers, 'Global_192_0_2_1').asNumber, 65000);
  });

  it('the first emission for a key wins (BGPPeers in name order)', () => {
    const peers = [bgpPeer('z', { node: 'a', peerIP: '192.0.2.1', asNumber: 65009 }), bgpPeer('m', { node: 'a', peerIP: '192.0.2.1', asNumber: 65001 })];
    const p = plan('a', { a: A }, { bgpConfigurations: [meshOff], bgpPeers: peers });
    assert.deepEqual(names(p.peers), ['Node_192_0_2_1']);
    assert.equal(p.peers[0]!.asNumber, 65001);
  });

  it('peerSelector: one session per matching node and family, remote AS and port from that node', () => {
    const nodes = { a: { ...A, ip6: 'fd00::1/64' }, rr1: { ip: '10.0.0.11/24', ip6: 'fd00::11/64', labels: { rr: 'y' }, as: 65011 }, rr2: { ip: '10.0.0.12/24', labels: { rr: 'y' } }, x: C };
    const p = plan('a', nodes, {
      bgpConfigurations: [meshOff, bgpConfig('node.rr2', { listenPort: 1790 })],
      bgpPeers: [bgpPeer('to-rr', { peerSelector: 'rr == "y"' })],
    });
    assert.deepEqual(names(p.peers), ['Global_10_0_0_11', 'Global_10_0_0_12_port_1790', 'Global_fd00__11']);
    assert.equal(peer(p.peers, 'Global_10_0_0_11').asNumber, 65011);
    assert.equal(peer(p.peers, 'Global_10_0_0_12_port_1790').asNumber, 64512);
    assert.equal(peer(p.peers, 'Global_10_0_0_12_port_1790').port, 1790);
    assert.equal(peer(p.peers, 'Global_10_0_0_11').calicoNode, 'rr1');
    assert.equal(peer(p.peers, 'Global_10_0_0_11').passive, undefined); // selector peers are not "calico_node" peers
  });

  it('reverse peerings: the node a peerIP points at peers back (same family), unless reversePeering is Manual', () => {
    const fwd = { node: 'b', peerIP: '10.0.0.1', asNumber: 64512 };
    const p = plan('a', { a: A, b: B }, { bgpConfigurations: [meshOff], bgpPeers: [bgpPeer('b-to-a', fwd)] });
    assert.deepEqual(names(p.peers), ['Node_10_0_0_2']);
    assert.equal(peer(p.peers, 'Node_10_0_0_2').calicoNode, 'b');
    const manual = plan('a', { a: A, b: B }, { bgpConfigurations: [meshOff], bgpPeers: [bgpPeer('b-to-a', { ...fwd, reversePeering: 'Manual' })] });
    assert.deepEqual(manual.peers, []);
    const wrongAs = plan('a', { a: A, b: B }, { bgpConfigurations: [meshOff], bgpPeers: [bgpPeer('b-to-a', { ...fwd, asNumber: 65999 })] });
    assert.deepEqual(wrongAs.peers, [], 'the peerIP must match the node IP AND AS');
  });

  it('reverse peerings: route reflectors selected by peerSelector peer back to the nodeSelector side', () => {
    const nodes = { rr: { ip: '10.0.0.9/24', rr: '1.1.1.1', labels: { role: 'rr' } }, a: { ...A, labels: { role: 'client' } }, b: { ...B, labels: { role: 'client' } }, c: C };
    const p = plan('rr', nodes, { bgpPeers: [bgpPeer('clients-to-rr', { nodeSelector: 'role == "client"', peerSelector: 'role == "rr"' })] });
    assert.deepEqual(names(p.peers), ['Node_10_0_0_1', 'Node_10_0_0_2']);
  });

  it('skips a peer whose IP is our own', () => {
    const p = plan('a', { a: A }, { bgpConfigurations: [meshOff], bgpPeers: [bgpPeer('self', { peerIP: '10.0.0.1', asNumber: 65000 })] });
    assert.deepEqual(p.peers, []);
  });

  it('a global peerIP that is a Calico node: calicoNode set, passive when its IP string is greater than ours', () => {
    const cases: [string, string, boolean][] = [
      ['a', '10.0.0.2', true],
      ['b', '10.0.0.1', false],
    ];
    for (const [me, target, passive] of cases) {
      const p = plan(me, { a: A, b: B }, { bgpConfigurations: [meshOff], bgpPeers: [bgpPeer('x', { peerIP: target, asNumber: 64512, reversePeering: 'Manual' })] });
      const g = peer(p.peers, `Global_${target.replaceAll('.', '_')}`);
      assert.equal(g.passive === true, passive, `${me} → ${target}`);
      assert.equal(g.calicoNode, me === 'a' ? 'b' : 'a');
    }
    const ext = plan('a', { a: A }, { bgpConfigurations: [meshOff], bgpPeers: [bgpPeer('x', { peerIP: '10.0.0.200', asNumber: 65000 })] });
    assert.equal(ext.peers[0]!.passive, undefined);
    assert.equal(ext.peers[0]!.calicoNode, undefined);
  });

  it('a node-specific peerIP peer to a Calico node is never made passive automatically', () => {
    const p = plan('a', { a: A, b: B }, { bgpConfigurations: [meshOff], bgpPeers: [bgpPeer('x', { node: 'a', peerIP: '10.0.0.2', asNumber: 64512, reversePeering: 'Manual' })] });
    assert.equal(p.peers[0]!.passive, undefined);
  });

  it('a peerIP without port matching a Calico node (IP and AS) inherits its listen port', () => {
    const cfgs = [meshOff, bgpConfig('node.b', { listenPort: 1790 })];
    const same = plan('a', { a: A, b: B }, { bgpConfigurations: cfgs, bgpPeers: [bgpPeer('x', { peerIP: '10.0.0.2', asNumber: 64512 })] });
    assert.deepEqual(names(same.peers), ['Global_10_0_0_2_port_1790']);
    const otherAs = plan('a', { a: A, b: B }, { bgpConfigurations: cfgs, bgpPeers: [bgpPeer('x', { peerIP: '10.0.0.2', asNumber: 65001 })] });
    assert.deepEqual(names(otherAs.peers), ['Global_10_0_0_2']);
  });

  it('an explicit session to a mesh neighbour replaces the mesh session (one session per address)', () => {
    const p = plan('a', { a: A, b: B }, { bgpPeers: [bgpPeer('x', { peerIP: '10.0.0.2', asNumber: 64512, reversePeering: 'Manual' })] });
    assert.deepEqual(names(p.peers), ['Global_10_0_0_2']);
    assert.match(p.warnings.join('\n'), /Global_10_0_0_2 and Mesh_10_0_0_2/);
  });

  it('peers come out sorted by name', () => {
    const p = plan('a', { a: A, b: B }, { bgpPeers: [bgpPeer('z', { node: 'a', peerIP: '192.0.2.9', asNumber: 1 }), bgpPeer('y', { peerIP: '192.0.2.8', asNumber: 1 })] });
    assert.deepEqual(names(p.peers), ['Global_192_0_2_8', 'Mesh_10_0_0_2', 'Node_192_0_2_9']);
  });
});

describe('planBgp: identity, AS and listen (§5.2)', () => {
  it('AS: node asNumber, else default BGPConfiguration asNumber, else 64512; asdot strings', () => {
    const cases: [NodeOpts, RoutingInput['bgpConfigurations'], number][] = [
      [A, [], 64512],
      [A, [bgpConfig('default', { asNumber: 65000 })], 65000],
      [{ ...A, as: 65100 }, [bgpConfig('default', { asNumber: 65000 })], 65100],
      [{ ...A, as: '1.10' }, [], 65546],
      [A, [bgpConfig('default', { asNumber: '65001' })], 65001],
    ];
    for (const [n, cfgs, want] of cases) assert.equal(plan('a', { a: n }, { bgpConfigurations: cfgs }).asNumber, want);
  });

  it('router id: node IPv4, CALICO_ROUTER_ID, or a hash of the node name', () => {
    assert.equal(plan('a', { a: A }).routerId, '10.0.0.1');
    assert.equal(plan('a', { a: A }, { routerIdEnv: '172.16.0.1' }).routerId, '172.16.0.1');
    // Values from confd's template_funcs_test.go (HashToIPv4, first octet > 223 lowered by 32).
    assert.equal(plan('Testrobin123', { Testrobin123: A }, { routerIdEnv: 'hash' }).routerId, '207.94.5.27');
    assert.equal(plan('nodeTest', { nodeTest: A }, { routerIdEnv: 'hash' }).routerId, '109.174.215.226');
    const v6only = plan('nodeTest', { nodeTest: { ip6: 'fd00::1/64' } });
    assert.equal(v6only.enabled, true);
    assert.equal(v6only.routerId, '109.174.215.226');
    assert.match(v6only.warnings.join('\n'), /no IPv4 address/);
  });

  it('listen port: node.<name> listenPort, else default listenPort, else 179; address only with bindMode NodeIP', () => {
    assert.deepEqual(plan('a', { a: A }).listen, { port: 179 });
    assert.deepEqual(plan('a', { a: A }, { bgpConfigurations: [bgpConfig('default', { listenPort: 1790 })] }).listen, { port: 1790 });
    assert.deepEqual(plan('a', { a: A }, { bgpConfigurations: [bgpConfig('default', { listenPort: 1790, bindMode: 'NodeIP' }), bgpConfig('node.a', { listenPort: 1791 })] }).listen, {
      port: 1791,
      address: '10.0.0.1',
    });
    assert.deepEqual(plan('a', { a: A }, { bgpConfigurations: [bgpConfig('default', { bindMode: 'None' })] }).listen, { port: 179 });
  });

  it('BGP is off without any node address, or when the node is unknown', () => {
    for (const p of [plan('a', { a: {}, b: B }), plan('zz', { a: A, b: B })]) {
      assert.equal(p.enabled, false);
      assert.deepEqual(p.peers, []);
      assert.deepEqual(p.originated, []);
    }
  });

  it('warns when a node has no peers because the mesh is off / it is a reflector; not for a lone mesh node', () => {
    assert.match(plan('a', { a: A }, { bgpConfigurations: [meshOff] }).warnings.join('\n'), /node a has no BGP peers: the node-to-node mesh is off and no BGPPeer selects it/);
    assert.match(plan('a', { a: { ...A, rr: '1.1.1.1' }, b: B }).warnings.join('\n'), /node a has no BGP peers: it is a route reflector/);
    assert.deepEqual(plan('a', { a: A }).warnings, []);
  });
});

describe('planBgp: route reflection (§5.3)', () => {
  const nodes = {
    rr: { ip: '10.0.0.9/24', rr: '1.1.1.1', labels: { role: 'rr' } },
    rr2: { ip: '10.0.0.8/24', rr: '1.1.1.1', labels: { role: 'rr' } },
    rr3: { ip: '10.0.0.7/24', rr: '2.2.2.2', labels: { role: 'rr' } },
    a: { ...A, labels: { role: 'client' } },
    e: { ip: '10.0.0.5/24', as: 65100, labels: { role: 'client' } },
  };
  const peers = [bgpPeer('mesh-of-rrs', { nodeSelector: 'role == "rr"', peerSelector: 'role == "rr"' }), bgpPeer('clients', { nodeSelector: 'role == "client"', peerSelector: 'role == "rr"' })];

  it('a reflector has clusterId and makes same-AS peers with another (or no) cluster id its clients', () => {
    const p = plan('rr', nodes, { bgpPeers: peers });
    assert.equal(p.clusterId, '1.1.1.1');
    const cases: [string, boolean | undefined][] = [
      ['Node_10_0_0_1', true], // client a (no cluster id, same AS)
      ['Node_10_0_0_8', undefined], // rr2: same cluster id ⇒ plain iBGP
      ['Node_10_0_0_7', true], // rr3: other cluster id
      ['Node_10_0_0_5', undefined], // e: other AS ⇒ eBGP, never a client
    ];
    for (const [name, client] of cases) assert.equal(peer(p.peers, name).routeReflectorClient, client, name);
  });

  it('a non-reflector makes nobody its client and has no clusterId', () => {
    const p = plan('a', nodes, { bgpPeers: peers });
    assert.equal(p.clusterId, undefined);
    assert.ok(p.peers.length > 0);
    assert.ok(p.peers.every((x) => x.routeReflectorClient === undefined));
  });

  it('peerIP sessions carry no remote cluster id, so a reflector treats another same-cluster RR as a client (confd quirk)', () => {
    const p = plan('rr', nodes, { bgpPeers: [bgpPeer('x', { peerIP: '10.0.0.8', asNumber: 64512, reversePeering: 'Manual' })] });
    assert.equal(peer(p.peers, 'Global_10_0_0_8').routeReflectorClient, true);
  });

  it('localASNumber decides sameness: a different local AS makes the session eBGP (no rr client)', () => {
    const p = plan('rr', nodes, { bgpPeers: [bgpPeer('x', { node: 'rr', peerIP: '192.0.2.1', asNumber: 64512, localASNumber: 65001 })] });
    assert.equal(peer(p.peers, 'Node_192_0_2_1').routeReflectorClient, undefined);
    assert.equal(peer(p.peers, 'Node_192_0_2_1').localAs, 65001);
  });
});

describe('planBgp: per-BGPPeer fields (§1.2)', () => {
  const one = (spec: Record<string, unknown>, o: Partial<RoutingInput> = {}) => {
    const p = plan('a', { a: A }, { bgpConfigurations: [meshOff], bgpPeers: [bgpPeer('x', { peerIP: '192.0.2.1', asNumber: 65000, ...spec })], ...o });
    assert.equal(p.peers.length, 1, JSON.stringify(p.warnings));
    return { p: p.peers[0]!, warnings: p.warnings };
  };

  it('next hop: nextHopMode Self/Keep/Auto; keepOriginalNextHop only towards eBGP and only without nextHopMode', () => {
    const cases: [Record<string, unknown>, string | undefined][] = [
      [{ nextHopMode: 'Self' }, 'self'],
      [{ nextHopMode: 'Keep' }, 'keep'],
      [{ nextHopMode: 'Auto' }, undefined],
      [{ keepOriginalNextHop: true }, 'keep'], // 65000 vs our 64512: eBGP
      [{ keepOriginalNextHop: true, asNumber: 64512 }, undefined], // iBGP: ignored
      [{ keepOriginalNextHop: true, nextHopMode: 'Auto' }, undefined], // nextHopMode wins
    ];
    for (const [spec, want] of cases) assert.equal(one(spec).p.nextHopMode, want, JSON.stringify(spec));
  });

  it('durations: maxRestartTime → graceful restart seconds (rounded), keepaliveTime → keepalive and hold = 3×', () => {
    const cases: [string, number][] = [
      ['120s', 120],
      ['2m', 120],
      ['1h30m', 5400],
      ['500ms', 1],
      ['1.4s', 1],
    ];
    for (const [d, s] of cases) assert.deepEqual(one({ maxRestartTime: d }).p.gracefulRestart, { restartTime: s }, d);
    const k = one({ keepaliveTime: '10s' }).p;
    assert.equal(k.keepaliveTime, 10);
    assert.equal(k.holdTime, 30);
    const none = one({}).p;
    assert.equal(none.gracefulRestart, undefined);
    assert.equal(none.keepaliveTime, undefined);
    assert.equal(none.holdTime, undefined);
  });

  it('localASNumber, numAllowedLocalASNumbers, ttlSecurity', () => {
    const p = one({ localASNumber: 65111, numAllowedLocalASNumbers: 2, ttlSecurity: 1 }).p;
    assert.equal(p.localAs, 65111);
    assert.equal(p.allowLocalAs, 2);
    assert.equal(p.ttlSecurity, 1);
  });

  it('sourceAddress: UseNodeIP (default) sets localAddress, None leaves it unset', () => {
    assert.equal(one({}).p.localAddress, '10.0.0.1');
    assert.equal(one({ sourceAddress: 'UseNodeIP' }).p.localAddress, '10.0.0.1');
    assert.equal(one({ sourceAddress: 'None' }).p.localAddress, undefined);
  });

  it('password from the secret; a missing secret warns (naming peer and secret) and peers without one', () => {
    const pw = { password: { secretKeyRef: { name: 'bgp-secrets', key: 'tor' } } };
    assert.equal(one(pw, { secret: (r) => (r.name === 'bgp-secrets' && r.key === 'tor' ? 'pw' : undefined) }).p.password, 'pw');
    const missing = one(pw, { secret: () => undefined });
    assert.equal(missing.p.password, undefined);
    assert.match(missing.warnings.join('\n'), /BGPPeer x: cannot read password secret bgp-secrets\/tor/);
  });

  it('filters become import/export policies, BGPFilter rules first (exercised in exports.test.ts)', () => {
    const f = bgpFilter('f', { exportV4: [{ cidr: '10.9.0.0/16', matchOperator: 'In', action: 'Reject' }], importV4: [{ action: 'Reject', cidr: '0.0.0.0/0', matchOperator: 'Equal' }] });
    const { p } = one({ filters: ['f'] }, { bgpFilters: [f] });
    assert.equal(p.export?.defaultAction, 'reject');
    assert.deepEqual(p.export?.rules[0], { match: { family: 'ipv4', prefix: { cidr: '10.9.0.0/16', exact: false, negate: false } }, action: 'reject' });
    assert.deepEqual(p.import?.rules, [{ match: { family: 'ipv4', prefix: { cidr: '0.0.0.0/0', exact: true, negate: false } }, action: 'reject' }]);
    assert.equal(p.import?.defaultAction, 'accept');
  });

  it('a peerIP without a usable asNumber, or a bad peerIP, is skipped with a warning', () => {
    const p = plan('a', { a: A }, { bgpConfigurations: [meshOff], bgpPeers: [bgpPeer('noas', { peerIP: '192.0.2.1' }), bgpPeer('bad', { peerIP: 'not-an-ip', asNumber: 1 })] });
    assert.deepEqual(p.peers, []);
    assert.match(p.warnings.join('\n'), /BGPPeer noas: .*asNumber/);
    assert.match(p.warnings.join('\n'), /BGPPeer bad: peerIP/);
  });
});
