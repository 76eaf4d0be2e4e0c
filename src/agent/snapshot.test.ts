import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '../datastore/client.js';
import { MemoryBackend } from '../datastore/memory.js';
import { Ipam } from '../ipam/ipam.js';
import { IpamStore } from '../ipam/store.js';
import { IP, Prefix } from '../net/index.js';
import { BlockViews, readSnapshot } from './snapshot.js';

async function cluster() {
  const kv = new MemoryBackend();
  const client = new Client(kv);
  await client.ensureInitialized({ clusterType: 'tortie,bgp' });
  await client.create({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'p' }, spec: { cidr: '10.240.0.0/16', blockSize: 26, nodeSelector: 'all()' } });
  for (const n of ['a', 'b']) await client.create({ apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: n }, spec: {} });
  const ipam = new Ipam(client);
  return { kv, client, ipam, store: new IpamStore(kv) };
}

describe('readSnapshot with block views', () => {
  it('decodes a block again only when its revision changed, and drops the views of deleted blocks', async () => {
    const { client, ipam, store } = await cluster();
    const a = await ipam.autoAssign({ num4: 2, hostname: 'a', handle: 'pa', attrs: { node: 'a' } });
    await ipam.autoAssign({ num4: 1, hostname: 'b', handle: 'pb', attrs: { node: 'b' } });
    const views = new BlockViews();
    const s1 = await readSnapshot(client, store, views);
    const blockA = a.v4.ips[0]!.block.toString();
    const byCidr = (s: typeof s1) => new Map(s.blocks.map((b) => [b.cidr, b]));
    const [ia, ib] = [byCidr(s1).get(blockA)!, [...byCidr(s1).values()].find((b) => b.affinityHost === 'b')!];
    assert.equal(ia.affinityHost, 'a');
    assert.equal(ia.affinityState, 'confirmed');
    assert.deepEqual(ia.allocations, [], "a's own addresses are not routing's business");
    assert.ok(Object.isFrozen(ia.allocations));
    // Nothing written: the same decoded allocations, not copies.
    const s2 = await readSnapshot(client, store, views);
    assert.equal(byCidr(s2).get(blockA)!.allocations, ia.allocations);
    assert.equal(byCidr(s2).get(ib.cidr)!.allocations, ib.allocations);
    // b takes an address in a's block.
    const borrowed = a.v4.ips[0]!.ip.toString().replace(/\.(\d+)$/, (_, d: string) => `.${Number(d) + 10}`);
    await ipam.assignIP({ ip: IP.parse(borrowed), handle: 'borrow', hostname: 'b', attrs: { node: 'b' } });
    const s3 = await readSnapshot(client, store, views);
    const ia3 = byCidr(s3).get(blockA)!;
    assert.notEqual(ia3.allocations, ia.allocations, 'the written block is decoded again');
    assert.equal(ia3.allocations.length, 1);
    assert.equal(ia3.allocations[0]!.node, 'b');
    assert.equal(byCidr(s3).get(ib.cidr)!.allocations, ib.allocations, 'the other block is not');
    // b's block released: its view goes too.
    await ipam.releaseByHandle('pb');
    await ipam.releaseBlockAffinity({ type: 'host', name: 'b' }, Prefix.parse(ib.cidr), { requireEmpty: true });
    const s4 = await readSnapshot(client, store, views);
    assert.equal(byCidr(s4).has(ib.cidr), false);
    assert.equal(views.size, s4.blocks.length);
    // A fresh set of views reads the same.
    assert.deepEqual(await readSnapshot(client, store), s4);
  });

  it('reads everything in one readMany (one snapshot of one revision), and the same as separate lists would', async () => {
    const { kv, client, ipam, store } = await cluster();
    await ipam.autoAssign({ num4: 1, hostname: 'a', handle: 'pa', attrs: { node: 'a' } });
    await client.create({ apiVersion: 'projectcalico.org/v3', kind: 'BGPPeer', metadata: { name: 'tor' }, spec: { peerIP: '10.0.0.1', asNumber: 65001 } });
    const calls: string[] = [];
    const readMany = kv.readMany.bind(kv);
    const list = kv.list.bind(kv);
    kv.readMany = (reqs) => (calls.push(`readMany ${reqs.length}`), readMany(reqs));
    kv.list = (prefix, opts) => (calls.push(`list ${prefix}`), list(prefix, opts));
    const s = await readSnapshot(client, store);
    assert.deepEqual(calls, ['readMany 9']);
    kv.readMany = readMany;
    kv.list = list;
    const blocks = await store.listBlockPairs();
    const affinities = await store.listAffinities();
    assert.deepEqual(
      [s.nodes, s.bgpPeers, s.ipPools].map((xs) => xs.map((r) => r.metadata.name)),
      [['a', 'b'], ['tor'], ['p']],
    );
    assert.deepEqual(s.blocks.map((b) => [b.cidr, b.affinityHost, b.affinityState]), blocks.map((p) => {
      const cidr = p.key.split('/').pop()!.replace('-', '/');
      const aff = affinities.find((x) => x.value.cidr.toString() === cidr)!;
      return [cidr, 'a', aff.value.state];
    }));
  });

  it('with `reuse`, reads only the IPAM keys and keeps the given resources; the blocks are as a full read has them', async () => {
    const { kv, client, ipam, store } = await cluster();
    const views = new BlockViews();
    const s1 = await readSnapshot(client, store, views);
    const r = await ipam.autoAssign({ num4: 1, hostname: 'a', handle: 'pa', attrs: { node: 'a' } });
    const reqs: string[][] = [];
    const readMany = kv.readMany.bind(kv);
    kv.readMany = (rs) => (reqs.push(rs.map((x) => ('prefix' in x ? x.prefix : x.key))), readMany(rs));
    const s2 = await readSnapshot(client, store, views, s1);
    kv.readMany = readMany;
    assert.deepEqual(reqs, [['/calico/ipam/v2/assignment/', '/calico/ipam/v2/host/', '/calico/ipam/v2/virtual/']]);
    assert.equal(s2.nodes, s1.nodes, 'the resources are the snapshot given, not read again');
    assert.equal(s2.ipPools, s1.ipPools);
    const block = r.v4.ips[0]!.block.toString();
    assert.deepEqual(s2.blocks.map((b) => [b.cidr, b.affinityHost, b.affinityState]), [[block, 'a', 'confirmed']]);
    assert.deepEqual(s2, await readSnapshot(client, store), 'the same as a full read from scratch');
  });

  it('decodes an affinity again only when its revision changed, follows its state, and still rejects an unreadable one', async () => {
    const { kv, client, ipam, store } = await cluster();
    const r = await ipam.autoAssign({ num4: 1, hostname: 'a', handle: 'pa', attrs: { node: 'a' } });
    const cidr = r.v4.ips[0]!.block.toString();
    const key = `/calico/ipam/v2/host/a/ipv4/block/${cidr.replace('/', '-')}`;
    const views = new BlockViews();
    let decoded = 0;
    const from = store.affinitiesFrom.bind(store);
    store.affinitiesFrom = (pairs, v) => ((decoded += pairs.length), from(pairs, v));
    const state = async () => (await readSnapshot(client, store, views)).blocks.find((b) => b.cidr === cidr)!.affinityState;
    assert.equal(await state(), 'confirmed');
    assert.equal(decoded, 1);
    assert.equal(await state(), 'confirmed');
    assert.equal(decoded, 1, 'not decoded again at the same revision');
    await kv.update(key, JSON.stringify({ state: 'pendingDeletion', deleted: false }));
    assert.equal(await state(), 'pendingDeletion');
    assert.equal(decoded, 2);
    await kv.update(key, '');
    assert.equal(await state(), 'confirmed', 'an empty value is a legacy confirmed affinity');
    await kv.update(key, '{"state":"sideways"}');
    await assert.rejects(readSnapshot(client, store, views), /unknown state "sideways"/);
  });
});
