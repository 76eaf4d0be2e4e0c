import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { checkTopology, parseTopology, TopologyError } from './topology.js';

const SEED = fileURLToPath(new URL('../../examples/lab/seed-000.yaml', import.meta.url));

/** A small valid topology to break one field at a time. */
function good(): Record<string, any> {
  return {
    name: 'mini',
    segments: [{ name: 'lan', cidr: '10.9.0.0/24' }],
    hosts: [
      { name: 'a', segment: 'lan', address: '10.9.0.1' },
      { name: 'b', segment: 'lan', address: '10.9.0.2', labels: { rr: true }, as: 65001 },
    ],
    routers: [{ name: 'tor', kind: 'bird2', asNumber: 65000, interfaces: [{ segment: 'lan', address: '10.9.0.254' }], peerHosts: 'all', subnets: [{ name: 'dc', cidr: '10.8.0.0/24', address: '10.8.0.1' }] }],
    vms: [{ name: 'vm', subnet: 'dc', address: '10.8.0.10' }],
    pods: [{ name: 'p', host: 'a' }],
  };
}

function fails(mutate: (t: Record<string, any>) => void, field: string, msg?: RegExp): void {
  const t = good();
  mutate(t);
  assert.throws(
    () => checkTopology(t),
    (e: unknown) => {
      assert.ok(e instanceof TopologyError, String(e));
      assert.equal(e.field, field, e.message);
      assert.ok(e.message.startsWith(`${field}: `), e.message);
      if (msg) assert.match(e.message, msg);
      return true;
    },
  );
}

describe('lab topology', () => {
  it('the shipped seed-000 example parses, with the seed\'s addresses', () => {
    const t = parseTopology(readFileSync(SEED, 'utf8'), SEED);
    assert.equal(t.name, 'seed-000');
    assert.deepEqual(t.hosts.map((h) => [h.name, h.address]), [
      ['k8s-test-master-1', '192.168.83.36'],
      ['k8s-test-master-2', '192.168.83.49'],
      ['node1', '192.168.83.22'],
    ]);
    assert.deepEqual(t.segments[0], { name: 'lan', cidr: '192.168.83.0/24', prefixLength: 24, gateway: '192.168.83.1', gatewayRouter: 'core-switch' });
    const sw = t.routers[0]!;
    assert.deepEqual(sw.peers, [
      { host: 'k8s-test-master-1', address: '192.168.83.36', asNumber: 64512 },
      { host: 'k8s-test-master-2', address: '192.168.83.49', asNumber: 64512 },
    ]);
    assert.deepEqual(t.vms, [{ name: 'vm1', subnet: 'vms', address: '192.168.82.85', gateway: '192.168.82.1', router: 'core-switch' }]);
    assert.match(t.resources, /name: rr-border/);
    assert.equal(t.pods.length, 3);
  });

  it('every shipped example parses', () => {
    const dir = fileURLToPath(new URL('../../examples/lab/', import.meta.url));
    const names = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    assert.ok(names.length >= 5, names.join());
    for (const f of names) assert.equal(parseTopology(readFileSync(dir + f, 'utf8'), f).name, f.slice(0, -5));
    const s4 = parseTopology(readFileSync(dir + 'seed-004.yaml', 'utf8')).routers[0]!;
    assert.deepEqual(s4.staticRoutes, [{ cidr: '10.20.0.0/16', via: '172.16.0.13' }, { cidr: '10.254.0.0/16', via: '172.16.0.13' }]);
    assert.equal(parseTopology(readFileSync(dir + 'seed-003.yaml', 'utf8')).routers[0]!.awaitSessions, false);
    const fc = parseTopology(readFileSync(dir + 'frr-core.yaml', 'utf8'));
    assert.equal(fc.routers[0]!.kind, 'frr');
    assert.deepEqual(fc.datastore, { type: 'etcd', segment: 'vlan98', address: '10.2.98.254' });
  });

  it('fills defaults: peerHosts all with each host\'s AS, labels as strings, a gateway on the router', () => {
    const t = checkTopology(good());
    assert.deepEqual(t.routers[0]!.peers.map((p) => [p.host, p.asNumber]), [
      ['a', 64512],
      ['b', 65001],
    ]);
    assert.deepEqual(t.hosts[1]!.labels, { rr: 'true' });
    assert.equal(t.segments[0]!.gateway, '10.9.0.254');
    assert.deepEqual(t.pods[0], { name: 'p', host: 'a', namespace: 'default' });
    assert.deepEqual(t.datastore, { type: 'sqlite' });
  });

  it('a segment without a router gets a gateway namespace at the last usable address', () => {
    const t = good();
    t.routers = [];
    t.vms = [];
    const c = checkTopology(t);
    assert.equal(c.segments[0]!.gateway, '10.9.0.254');
    assert.equal(c.segments[0]!.gatewayRouter, undefined);
  });

  it('router static routes and awaitSessions: false', () => {
    const t = good();
    t.routers[0].staticRoutes = [{ cidr: '10.20.0.0/16', via: '10.9.0.1' }, { cidr: '0.0.0.0/0', via: '10.8.0.9' }];
    t.routers[0].awaitSessions = false;
    const r = checkTopology(t).routers[0]!;
    assert.deepEqual(r.staticRoutes, [{ cidr: '10.20.0.0/16', via: '10.9.0.1' }, { cidr: '0.0.0.0/0', via: '10.8.0.9' }]);
    assert.equal(r.awaitSessions, false);
    const d = checkTopology(good()).routers[0]!;
    assert.equal(d.staticRoutes, undefined);
    assert.equal(d.awaitSessions, undefined);
  });

  it('names the field of every bad value', () => {
    fails((t) => (t.name = 'Bad_Name'), 'name', /not a valid name/);
    fails((t) => (t.colour = 'red'), 'colour', /unknown field/);
    fails((t) => (t.segments = []), 'segments', /at least one/);
    fails((t) => (t.segments[0].cidr = '10.9.0.1/24'), 'segments[0].cidr', /host bits/);
    fails((t) => (t.segments[0].cidr = 'fd00::/64'), 'segments[0].cidr', /IPv4/);
    fails((t) => (t.segments[0].gateway = '10.10.0.1'), 'segments[0].gateway', /not in 10\.9\.0\.0\/24/);
    fails((t) => (t.hosts[0].adress = '10.9.0.1'), 'hosts[0].adress', /unknown field/);
    fails((t) => (t.hosts[1].segment = 'wan'), 'hosts[1].segment', /not one of the segments/);
    fails((t) => (t.hosts[1].address = '10.9.0.1'), 'hosts[1].address', /already used by hosts\[0\]/);
    fails((t) => (t.hosts[1].address = '10.9.0.255'), 'hosts[1].address', /broadcast/);
    fails((t) => (t.hosts[1].address = '10.9.0.2/24'), 'hosts[1].address', /without a prefix length/);
    fails((t) => (t.hosts[1].as = 0), 'hosts[1].as', /AS number/);
    fails((t) => (t.hosts[1].name = 'a'), 'hosts[1]', /already used/);
    fails((t) => (t.hosts[1].name = 'br-x'), 'hosts[1]', /reserved/);
    fails((t) => (t.hosts[0].labels = { x: { y: 1 } }), 'hosts[0].labels.x', /expected a string/);
    fails((t) => (t.routers[0].kind = 'cisco'), 'routers[0].kind', /not a router kind \(bird2, frr\)/);
    fails((t) => (t.routers[0].asNumber = 'x'), 'routers[0].asNumber');
    fails((t) => (t.routers[0].interfaces = []), 'routers[0].interfaces', /at least one/);
    fails((t) => (t.routers[0].interfaces[0].address = '10.9.0.1'), 'routers[0].interfaces[0].address', /already used/);
    fails((t) => (t.routers[0].peerHosts = 'some'), 'routers[0].peerHosts');
    fails((t) => (t.routers[0].peers = [{ host: 'zz' }]), 'routers[0].peers[0].host', /not one of the hosts/);
    fails((t) => (t.routers[0].peers = [{ host: 'a', address: '10.9.0.1' }]), 'routers[0].peers[0]', /either host or address/);
    fails((t) => (t.routers[0].peers = [{ address: '10.7.0.1', asNumber: 1 }]), 'routers[0].peers[0]', /not on any of the router's segments/);
    fails((t) => (t.routers[0].staticRoutes = [{ cidr: '10.20.0.1/16', via: '10.9.0.1' }]), 'routers[0].staticRoutes[0].cidr', /host bits/);
    fails((t) => (t.routers[0].staticRoutes = [{ cidr: '10.20.0.0/16', via: '10.7.0.1' }]), 'routers[0].staticRoutes[0].via', /not on any/);
    fails((t) => (t.routers[0].staticRoutes = [{ cidr: '10.20.0.0/16', gw: '10.9.0.1' }]), 'routers[0].staticRoutes[0].gw', /unknown field/);
    fails((t) => (t.routers[0].awaitSessions = 'no'), 'routers[0].awaitSessions', /true or false/);
    fails((t) => (t.routers[0].subnets[0].name = 'lan'), 'routers[0].subnets[0].name', /already a segment/);
    fails((t) => (t.vms[0].subnet = 'lan'), 'vms[0].subnet', /not a router's subnet/);
    fails((t) => (t.vms[0].address = '10.8.0.1'), 'vms[0].address', /already used/);
    fails((t) => (t.datastore = { type: 'mysql' }), 'datastore.type', /not a datastore type \(sqlite, etcd\)/);
    fails((t) => (t.datastore = { type: 'sqlite', address: '10.9.0.9' }), 'datastore.address', /only an etcd datastore/);
    fails((t) => (t.datastore = { type: 'etcd', endpoint: 'x' }), 'datastore.endpoint', /unknown field/);
    fails((t) => (t.datastore = { type: 'etcd', segment: 'dc' }), 'datastore.segment', /not one of the segments/);
    fails((t) => (t.datastore = { type: 'etcd', address: '10.8.0.9' }), 'datastore.address', /not in 10\.9\.0\.0\/24/);
    fails((t) => (t.datastore = { type: 'etcd', address: '10.9.0.2' }), 'datastore.address', /already used by hosts\[1\]\.address/);
    fails((t) => (t.datastore = { type: 'etcd', address: '10.9.0.254' }), 'datastore.address', /already used by routers\[0\]/);
    fails((t) => ((t.datastore = { type: 'etcd' }), (t.hosts[1].name = 'etcd')), 'hosts[1]', /etcd is already used by the etcd datastore/);
    fails((t) => (t.resources = { kind: 'IPPool' }), 'resources', /resources: \|/);
    fails((t) => (t.pods[0].host = 'vm'), 'pods[0].host', /not one of the hosts/);
    fails((t) => (t.pods[0].name = 'tor'), 'pods[0]', /already used by routers\[0\]/);
    fails((t) => (t.agentEnv = ['X=1']), 'agentEnv', /mapping/);
  });

  it('frr routers take the same fields as bird2 ones', () => {
    const t = good();
    t.routers[0].kind = 'frr';
    t.routers[0].staticRoutes = [{ cidr: '10.20.0.0/16', via: '10.9.0.1' }];
    const r = checkTopology(t).routers[0]!;
    assert.equal(r.kind, 'frr');
    assert.deepEqual(r.peers.map((p) => p.address), ['10.9.0.1', '10.9.0.2']);
    assert.deepEqual(r.staticRoutes, [{ cidr: '10.20.0.0/16', via: '10.9.0.1' }]);
  });

  it('an etcd datastore: the first segment\'s highest free address, or the one given', () => {
    const t = good();
    t.datastore = { type: 'etcd' };
    // .254 is the router's (and the gateway): the next one down.
    assert.deepEqual(checkTopology(t).datastore, { type: 'etcd', segment: 'lan', address: '10.9.0.253' });
    t.datastore = { type: 'etcdv3', segment: 'lan', address: '10.9.0.100' };
    assert.deepEqual(checkTopology(t).datastore, { type: 'etcd', segment: 'lan', address: '10.9.0.100' });
    // Without a router the gateway namespace takes .254 first.
    const g = good();
    g.routers = [];
    g.vms = [];
    g.datastore = { type: 'etcd' };
    assert.deepEqual(checkTopology(g).datastore, { type: 'etcd', segment: 'lan', address: '10.9.0.253' });
    // A full /30: its two usable addresses are the host's and the gateway's.
    const full = { name: 'tiny', segments: [{ name: 'p2p', cidr: '10.7.0.0/30' }], hosts: [{ name: 'a', segment: 'p2p', address: '10.7.0.1' }], datastore: { type: 'etcd' } };
    assert.throws(() => checkTopology(full), (e: unknown) => e instanceof TopologyError && e.field === 'datastore' && /no free address left on segment p2p/.test(e.message));
    // `etcd` is an ordinary name with SQLite.
    const s = good();
    s.hosts[1].name = 'etcd';
    assert.equal(checkTopology(s).hosts[1]!.name, 'etcd');
  });

  it('reports YAML syntax errors with the file name', () => {
    assert.throws(() => parseTopology('name: [', 'x.yaml'), /^TopologyError: x\.yaml: not valid YAML/);
  });
});
