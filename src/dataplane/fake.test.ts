/** The fake kernel refuses what the real one refuses (the rules the reconcilers must respect). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeKernel } from './fake.js';

async function kernel(): Promise<FakeKernel> {
  const k = new FakeKernel();
  k.addLink({ name: 'eth0', kind: 'device', mtu: 1500 });
  k.addLink({ name: 'eth1', kind: 'device', mtu: 1500, up: false });
  await k.seedAddress({ dev: 'eth0', cidr: '192.168.1.10/24' });
  return k;
}

describe('FakeKernel routes', () => {
  const refused: [string, Parameters<FakeKernel['addRoute']>[0], string][] = [
    ['gateway not on a connected network', { dst: '10.0.0.0/24', type: 'unicast', gateway: '10.9.9.9', protocol: 93 }, 'ENETUNREACH'],
    ['gateway connected, but on another device', { dst: '10.0.0.0/24', type: 'unicast', gateway: '192.168.1.1', dev: 'lo', protocol: 93 }, 'ENETUNREACH'],
    ['onlink without a device', { dst: '10.0.0.0/24', type: 'unicast', gateway: '10.9.9.9', onlink: true, protocol: 93 }, 'EINVAL'],
    ['device down', { dst: '10.0.0.0/24', type: 'unicast', gateway: '10.9.9.9', dev: 'eth1', onlink: true, protocol: 93 }, 'ENETDOWN'],
    ['no such device', { dst: '10.0.0.0/24', type: 'unicast', dev: 'nope', protocol: 93 }, 'ENODEV'],
    ['no next hop', { dst: '10.0.0.0/24', type: 'unicast', protocol: 93 }, 'EINVAL'],
    ['blackhole with a gateway', { dst: '10.0.0.0/24', type: 'blackhole', gateway: '192.168.1.1', protocol: 93 }, 'EINVAL'],
    ['a local address as gateway', { dst: '10.0.0.0/24', type: 'unicast', gateway: '192.168.1.10', protocol: 93 }, 'EINVAL'],
  ];
  for (const [name, route, code] of refused) {
    it(`refuses: ${name}`, async () => {
      const k = await kernel();
      await assert.rejects(k.addRoute(route), { code });
      assert.deepEqual(k.ops, []);
    });
  }

  it('add on a taken key is EEXIST; replace overwrites whoever owns it; delete matches the protocol', async () => {
    const k = await kernel();
    await k.addRoute({ dst: '10.0.0.0/24', type: 'unicast', gateway: '192.168.1.1', protocol: 12 });
    await assert.rejects(k.addRoute({ dst: '10.0.0.0/24', type: 'blackhole', protocol: 93 }), { code: 'EEXIST' });
    await assert.rejects(k.deleteRoute({ dst: '10.0.0.0/24', type: 'unicast', protocol: 93 }), { code: 'ESRCH' });
    await k.replaceRoute({ dst: '10.0.0.0/24', type: 'blackhole', protocol: 93 });
    assert.deepEqual(
      k.routeTable().map((r) => [r.dst, r.type, r.protocol]),
      [['10.0.0.0/24', 'blackhole', 93]],
    );
    // A different metric is a different route.
    await k.addRoute({ dst: '10.0.0.0/24', type: 'blackhole', protocol: 93, metric: 5 });
    assert.equal(k.routeTable().length, 2);
  });

  it('taking a link down drops its routes and neighbours; deleting drops everything on it', async () => {
    const k = await kernel();
    await k.createVxlan({ name: 'vxlan.calico', vni: 4096, port: 4789, local: '192.168.1.10', parent: 'eth0' });
    await assert.rejects(k.addRoute({ dst: '10.1.0.0/26', type: 'unicast', gateway: '10.1.0.0', dev: 'vxlan.calico', onlink: true, protocol: 93 }), {
      code: 'ENETDOWN',
    });
    await k.setLink('vxlan.calico', { up: true });
    await k.addRoute({ dst: '10.1.0.0/26', type: 'unicast', gateway: '10.1.0.0', dev: 'vxlan.calico', onlink: true, protocol: 93 });
    await k.replaceNeighbor({ dev: 'vxlan.calico', ip: '10.1.0.0', mac: '66:00:00:00:00:01', permanent: true });
    await k.replaceFdb({ dev: 'vxlan.calico', mac: '66:00:00:00:00:01', dst: '192.168.1.11' });
    await k.setLink('vxlan.calico', { up: false });
    assert.deepEqual(k.routeTable(), []);
    assert.deepEqual(await k.listNeighbors('vxlan.calico'), []);
    assert.equal((await k.listFdb('vxlan.calico')).length, 1);
    await k.deleteLink('vxlan.calico');
    assert.equal(k.link('vxlan.calico'), undefined);
    await assert.rejects(k.listFdb('vxlan.calico'), { code: 'NO_SUCH_LINK' });
  });

  it('one VXLAN device per VNI and port; FDB only on VXLAN devices; tunl0 cannot be deleted', async () => {
    const k = await kernel();
    await k.createVxlan({ name: 'vx0', vni: 7, port: 4789, local: '192.168.1.10', parent: 'eth0' });
    await assert.rejects(k.createVxlan({ name: 'vx1', vni: 7, port: 4789, local: '192.168.1.10', parent: 'eth0' }), { code: 'EEXIST' });
    await assert.rejects(k.replaceFdb({ dev: 'eth0', mac: '66:00:00:00:00:01', dst: '192.168.1.11' }), { code: 'EOPNOTSUPP' });
    await k.createIpip('tunl0');
    await assert.rejects(k.deleteLink('tunl0'), { code: 'EOPNOTSUPP' });
    await assert.rejects(new FakeKernel({ ipip: false }).createIpip('tunl0'), { code: 'IPIP_UNSUPPORTED' });
  });
});

describe('FakeKernel nft', () => {
  it('scripts are atomic: a failing delete leaves everything as it was', async () => {
    const k = new FakeKernel();
    await k.run('table ip a {\n\tchain c {\n\t}\n}\n');
    await assert.rejects(k.run('delete table ip a\ndelete table ip missing\n'), { code: 'NFT_FAILED' });
    assert.ok(await k.list('ip a'));
    await k.run('table ip missing\ndelete table ip missing\n');
    assert.equal(await k.list('ip missing'), undefined);
  });
});
