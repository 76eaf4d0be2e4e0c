import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IP, Prefix } from '../net/index.js';
import { Client } from '../datastore/client.js';
import { MemoryBackend } from '../datastore/memory.js';
import { API_VERSION } from '../api/meta.js';
import { setIPAMConfig } from './config.js';
import { Ipam, partialFulfillmentMessage } from './ipam.js';

async function setup(pools: { name: string; cidr: string; blockSize?: number; nodeSelector?: string; allowedUses?: string[]; disabled?: boolean }[], nodes: (string | { name: string; labels: Record<string, string> })[] = ['a', 'b', 'c']) {
  const client = new Client(new MemoryBackend());
  for (const p of pools) {
    const { name, ...spec } = p;
    await client.create({ apiVersion: API_VERSION, kind: 'IPPool', metadata: { name }, spec: { ...spec } });
  }
  for (const n of nodes) {
    const { name, labels } = typeof n === 'string' ? { name: n, labels: {} } : n;
    await client.create({ apiVersion: API_VERSION, kind: 'Node', metadata: { name, labels }, spec: {} });
  }
  let clock = new Date('2026-11-21T00:00:00Z');
  const ipam = new Ipam(client, { backoff: async () => undefined, now: () => clock });
  return { client, ipam, advance: (ms: number) => (clock = new Date(clock.getTime() + ms)) };
}

const strs = (ips: { ip: IP }[]) => ips.map((x) => x.ip.toString());

test('first assignment claims an affine block (two-phase) and counts the handle', async () => {
  const { ipam } = await setup([{ name: 'p', cidr: '10.0.0.0/24' }]);
  const r = await ipam.autoAssign({ num4: 1, handle: 'h1', attrs: { node: 'a' }, hostname: 'a' });
  assert.equal(r.v4.ips.length, 1);
  const block = r.v4.ips[0]!.block;
  assert.equal(block.length, 26);
  assert.ok(Prefix.parse('10.0.0.0/24').containsPrefix(block));
  const affs = await ipam.store.listAffinities();
  assert.deepEqual(affs.map((a) => [a.value.owner.name, a.value.cidr.toString(), a.value.state]), [['a', block.toString(), 'confirmed']]);
  const b = (await ipam.store.getBlock(block))!;
  assert.equal(b.value.data.affinity, 'host:a');
  assert.ok(b.value.data.affinity_claim_time);
  assert.deepEqual((await ipam.store.getHandle('h1'))!.value.block, { [block.toString()]: 1 });
  // the same host keeps using its block
  const r2 = await ipam.autoAssign({ num4: 3, handle: 'h2', hostname: 'a' });
  assert.ok(r2.v4.ips.every((x) => x.block.equals(block)));
  assert.equal(new Set([...strs(r.v4.ips), ...strs(r2.v4.ips)]).size, 4);
});

test('a host keeps to the same region of a pool (hostname-seeded walk), other hosts spread out', async () => {
  const { ipam } = await setup([{ name: 'p', cidr: '10.0.0.0/16' }]);
  const a = await ipam.autoAssign({ num4: 1, hostname: 'a' });
  const b = await ipam.autoAssign({ num4: 1, hostname: 'b' });
  assert.notEqual(a.v4.ips[0]!.block.toString(), b.v4.ips[0]!.block.toString());
  const { ipam: again } = await setup([{ name: 'p', cidr: '10.0.0.0/16' }]);
  const a2 = await again.autoAssign({ num4: 1, hostname: 'a' });
  assert.equal(a2.v4.ips[0]!.block.toString(), a.v4.ips[0]!.block.toString());
});

test('block claim race between two hosts: one block, one owner; the loser borrows, or gets nothing under strictAffinity', async () => {
  for (const strict of [false, true]) {
    const { client, ipam } = await setup([{ name: 'p', cidr: '10.0.0.0/26' }]);
    if (strict) await setIPAMConfig(client, { strictAffinity: true, autoAllocateBlocks: true, maxBlocksPerHost: 0 });
    const other = new Ipam(client, { backoff: async () => undefined });
    const [ra, rb] = await Promise.all([ipam.autoAssign({ num4: 1, handle: 'ha', attrs: { node: 'a' }, hostname: 'a' }), other.autoAssign({ num4: 1, handle: 'hb', attrs: { node: 'b' }, hostname: 'b' })]);
    const affs = await ipam.store.listAffinities();
    assert.equal(affs.length, 1, 'exactly one affinity survives');
    const winner = affs[0]!.value.owner.name;
    const block = (await ipam.store.getBlock(Prefix.parse('10.0.0.0/26')))!.value;
    assert.equal(block.data.affinity, `host:${winner}`);
    const [win, lose] = winner === 'a' ? [ra, rb] : [rb, ra];
    assert.equal(win.v4.ips.length, 1);
    if (strict) {
      assert.equal(lose.v4.ips.length, 0);
      assert.equal(partialFulfillmentMessage(lose.v4), 'Assigned 0 out of 1 requested IPv4 addresses; No more free affine blocks and strict affinity enabled');
      assert.equal(block.numAllocated(), 1);
    } else {
      assert.equal(lose.v4.ips.length, 1);
      assert.notEqual(lose.v4.ips[0]!.ip.toString(), win.v4.ips[0]!.ip.toString());
      assert.equal(block.numAllocated(), 2);
      assert.deepEqual(block.nonAffineAllocations().map((n) => n.node), [winner === 'a' ? 'b' : 'a']);
    }
  }
});

test('borrowing when the pool is exhausted, and its refusal under strictAffinity', async () => {
  const { client, ipam } = await setup([{ name: 'p', cidr: '10.0.0.0/25' }]);
  await ipam.autoAssign({ num4: 1, hostname: 'a', attrs: { node: 'a' } });
  await ipam.autoAssign({ num4: 1, hostname: 'b', attrs: { node: 'b' } });
  const c = await ipam.autoAssign({ num4: 2, hostname: 'c', handle: 'hc', attrs: { node: 'c' } });
  assert.equal(c.v4.ips.length, 2);
  assert.equal((await ipam.store.listAffinities({ type: 'host', name: 'c' })).length, 0, 'c owns no block');
  const blocks = await ipam.store.listBlocks(4);
  assert.deepEqual(blocks.flatMap((b) => b.value.nonAffineAllocations().map((n) => n.node)), ['c', 'c']);
  // fill the pool completely: then even borrowing runs out
  const rest = await ipam.autoAssign({ num4: 200, hostname: 'c' });
  assert.equal(rest.v4.ips.length, 128 - 4);
  assert.equal(partialFulfillmentMessage(rest.v4), 'Assigned 124 out of 200 requested IPv4 addresses; No IPs available in pools: [10.0.0.0/25]');

  await ipam.releaseByHandle('hc');
  await setIPAMConfig(client, { strictAffinity: true, autoAllocateBlocks: true, maxBlocksPerHost: 0 });
  const strict = await ipam.autoAssign({ num4: 1, hostname: 'c' });
  assert.equal(strict.v4.ips.length, 0);
  assert.deepEqual(strict.v4.msgs, ['No more free affine blocks and strict affinity enabled']);
});

test('maxBlocksPerHost stops new claims with Calico\'s message', async () => {
  const { client, ipam } = await setup([{ name: 'p', cidr: '10.0.0.0/24' }]);
  await setIPAMConfig(client, { strictAffinity: true, autoAllocateBlocks: true, maxBlocksPerHost: 1 });
  const r = await ipam.autoAssign({ num4: 65, hostname: 'a', handle: 'h' });
  assert.equal(r.v4.ips.length, 64);
  assert.equal(r.v4.error?.code, 'BLOCK_LIMIT');
  assert.equal(r.v4.error?.message, 'cannot allocate new block due to per host block limit');
  assert.equal(partialFulfillmentMessage(r.v4), 'Assigned 64 out of 65 requested IPv4 addresses; Need to allocate an IPAM block but could not - limit of 1 blocks reached for this node');
  assert.equal((await ipam.store.listAffinities()).length, 1);
  assert.deepEqual(Object.values((await ipam.store.getHandle('h'))!.value.block), [64]);
});

test('the default limit is 20 blocks per host', async () => {
  const { ipam } = await setup([{ name: 'p', cidr: '10.0.0.0/16', blockSize: 30 }]);
  const r = await ipam.autoAssign({ num4: 21 * 4, hostname: 'a' });
  assert.equal(r.v4.ips.length, 80);
  assert.equal(r.v4.error?.code, 'BLOCK_LIMIT');
  assert.match(partialFulfillmentMessage(r.v4)!, /limit of 20 blocks reached/);
});

test('IPReservations are skipped by automatic assignment but not by an explicit one', async () => {
  const { client, ipam } = await setup([{ name: 'p', cidr: '10.0.0.0/26' }]);
  await client.create({ apiVersion: API_VERSION, kind: 'IPReservation', metadata: { name: 'r' }, spec: { reservedCIDRs: ['10.0.0.0/30', '10.0.0.9'] } });
  const r = await ipam.autoAssign({ num4: 8, hostname: 'a' });
  assert.deepEqual(strs(r.v4.ips), ['10.0.0.4', '10.0.0.5', '10.0.0.6', '10.0.0.7', '10.0.0.8', '10.0.0.10', '10.0.0.11', '10.0.0.12']);
  await ipam.assignIP({ ip: IP.parse('10.0.0.1'), hostname: 'a', handle: 'x' });
  const all = await ipam.autoAssign({ num4: 64, hostname: 'a' });
  // 64 − 8 assigned − 1 explicit − the 4 reserved addresses still free (.0 .2 .3 .9)
  assert.equal(all.v4.ips.length, 51);
  // a whole block reserved: never claimed
  await client.create({ apiVersion: API_VERSION, kind: 'IPReservation', metadata: { name: 'all' }, spec: { reservedCIDRs: ['10.0.0.0/26'] } });
  const none = await ipam.autoAssign({ num4: 1, hostname: 'b' });
  assert.equal(none.v4.ips.length, 0);
});

test('IPv6 pool with /122 blocks', async () => {
  const { ipam } = await setup([{ name: 'v6', cidr: 'fd00:10::/120' }]);
  const r = await ipam.autoAssign({ num6: 70, hostname: 'a', handle: 'h6' });
  assert.equal(r.v6.ips.length, 70);
  assert.ok(r.v6.ips.every((x) => x.block.length === 122));
  assert.equal(new Set(strs(r.v6.ips)).size, 70);
  assert.equal((await ipam.store.listAffinities({ type: 'host', name: 'a' }, 6)).length, 2);
  assert.equal(await ipam.releaseByHandle('h6'), 70);
  assert.equal(await ipam.store.getHandle('h6'), undefined);
});

test('assignIP: a specific address, claimed block, errors as Calico words them', async () => {
  const { client, ipam } = await setup([{ name: 'p', cidr: '10.0.0.0/24' }]);
  await ipam.assignIP({ ip: IP.parse('10.0.0.70'), hostname: 'a', handle: 'h', attrs: { note: 'vm' } });
  const b = (await ipam.store.getBlock(Prefix.parse('10.0.0.64/26')))!.value;
  assert.equal(b.data.affinity, 'host:a');
  assert.deepEqual(b.attributesOf(6), { handle_id: 'h', secondary: { note: 'vm' } });
  await assert.rejects(ipam.assignIP({ ip: IP.parse('10.0.0.70'), hostname: 'a' }), { code: 'ADDRESS_IN_USE', message: 'Address already assigned in block: 10.0.0.70' });
  await assert.rejects(ipam.assignIP({ ip: IP.parse('10.9.0.1'), hostname: 'a' }), { code: 'NOT_IN_POOL', message: 'The provided IP address is not in a configured pool\n' });
  // b may use a's block without strict affinity, not with it
  await ipam.assignIP({ ip: IP.parse('10.0.0.71'), hostname: 'b' });
  await setIPAMConfig(client, { strictAffinity: true, autoAllocateBlocks: true, maxBlocksPerHost: 0 });
  await assert.rejects(ipam.assignIP({ ip: IP.parse('10.0.0.72'), hostname: 'b' }), { code: 'AFFINITY_MISMATCH', message: 'Block host affinity does not match' });
  assert.equal((await ipam.assignment(IP.parse('10.0.0.72'))), undefined);
  assert.equal((await ipam.assignment(IP.parse('10.0.0.70')))?.attrs.handle_id, 'h');
});

test('release: by address with handle check, by handle; handles count down and go', async () => {
  const { ipam } = await setup([{ name: 'p', cidr: '10.0.0.0/24' }]);
  const r = await ipam.autoAssign({ num4: 3, hostname: 'a', handle: 'h' });
  const [x, y, z] = r.v4.ips.map((i) => i.ip);
  await assert.rejects(ipam.releaseIPs([{ ip: x!, handle: 'other' }]), /the given handle \(other\) does not match \(h\)/);
  assert.deepEqual(new Set((await ipam.releaseIPs([{ ip: x! }, { ip: IP.parse('10.0.0.200') }, { ip: IP.parse('10.7.0.1') }])).map(String)), new Set(['10.0.0.200', '10.7.0.1']));
  assert.deepEqual(Object.values((await ipam.store.getHandle('h'))!.value.block), [2]);
  assert.deepEqual((await ipam.ipsByHandle('h')).map(String), [y!.toString(), z!.toString()]);
  assert.equal(await ipam.releaseByHandle('h'), 2);
  assert.equal(await ipam.store.getHandle('h'), undefined);
  assert.equal(await ipam.releaseByHandle('h'), 0);
  // the block stays affine and empty, every address free again
  const b = (await ipam.store.listBlocks(4))[0]!.value;
  assert.equal(b.numFree(), 64);
  assert.equal(b.data.affinity, 'host:a');
});

test('pool deletion releases affinities: empty blocks deleted, blocks in use left without owner', async () => {
  const { client, ipam } = await setup([{ name: 'p', cidr: '10.0.0.0/25' }]);
  await ipam.autoAssign({ num4: 1, hostname: 'a', handle: 'ka' });
  await ipam.autoAssign({ num4: 1, hostname: 'b', handle: 'kb' });
  await ipam.releaseByHandle('kb');
  await ipam.releasePoolAffinities(Prefix.parse('10.0.0.0/25'));
  assert.deepEqual(await ipam.store.listAffinities(), []);
  const blocks = await ipam.store.listBlocks(4);
  assert.equal(blocks.length, 1);
  assert.equal(blocks[0]!.value.data.affinity, null);
  assert.equal(blocks[0]!.value.data.affinity_claim_time, undefined);
  // the last address released from an ownerless block removes the block
  await ipam.releaseByHandle('ka');
  assert.deepEqual(await ipam.store.listBlocks(4), []);
  await client.delete({ kind: 'IPPool', name: 'p' });
});

test('a pool that stops selecting a host gives up its empty blocks on the next assignment', async () => {
  const { client, ipam } = await setup(
    [
      { name: 'old', cidr: '10.0.0.0/24', nodeSelector: 'zone == "x"' },
      { name: 'new', cidr: '10.1.0.0/24', nodeSelector: 'zone == "z"' },
    ],
    [{ name: 'a', labels: { zone: 'x' } }],
  );
  const first = await ipam.autoAssign({ num4: 1, hostname: 'a', handle: 'h' });
  assert.ok(Prefix.parse('10.0.0.0/24').contains(first.v4.ips[0]!.ip));
  const kept = await ipam.autoAssign({ num4: 1, hostname: 'a', handle: 'k' });
  await ipam.releaseByHandle('h');
  // a second host's block in the old pool is not this host's to give up
  const node = await client.get({ kind: 'Node', name: 'a' });
  await client.update({ ...node, metadata: { ...node.metadata, labels: { zone: 'z' } } });
  const r = await ipam.autoAssign({ num4: 1, hostname: 'a' });
  assert.ok(Prefix.parse('10.1.0.0/24').contains(r.v4.ips[0]!.ip));
  // the old block still holds 'k': kept; once released, the next assignment gives it up
  assert.equal((await ipam.store.listAffinities()).length, 2);
  await ipam.releaseByHandle('k');
  await ipam.autoAssign({ num4: 1, hostname: 'a' });
  const affs = (await ipam.store.listAffinities()).map((a) => a.value.cidr.toString());
  assert.deepEqual(affs, [r.v4.ips[0]!.block.toString()]);
  assert.ok(!(await ipam.store.listBlocks(4)).some((b) => b.value.prefix.equals(kept.v4.ips[0]!.block)));
});

test("another host's empty block is reclaimed only after a minute", async () => {
  const { ipam, advance } = await setup([{ name: 'p', cidr: '10.0.0.0/26' }]);
  await ipam.autoAssign({ num4: 1, hostname: 'a', handle: 'h' });
  await ipam.releaseByHandle('h');
  const early = await ipam.autoAssign({ num4: 1, hostname: 'b', attrs: { node: 'b' } });
  // too early: b borrows from a's block instead
  assert.equal(early.v4.ips.length, 1);
  assert.equal((await ipam.store.listBlocks(4))[0]!.value.data.affinity, 'host:a');
  await ipam.releaseIPs([{ ip: early.v4.ips[0]!.ip }]);
  advance(61_000);
  const late = await ipam.autoAssign({ num4: 1, hostname: 'b' });
  assert.equal(late.v4.ips.length, 1);
  assert.equal((await ipam.store.listBlocks(4))[0]!.value.data.affinity, 'host:b');
  assert.deepEqual((await ipam.store.listAffinities()).map((a) => a.value.owner.name), ['b']);
});

test('pool choice: disabled, nodeSelector, allowedUses, Manual pools and their messages', async () => {
  const { ipam } = await setup(
    [
      { name: 'off', cidr: '10.0.0.0/24', disabled: true },
      { name: 'tun', cidr: '10.1.0.0/24', allowedUses: ['Tunnel'] },
    ],
    ['a'],
  );
  await assert.rejects(ipam.autoAssign({ num4: 1, hostname: 'a' }), { code: 'NO_QUALIFIED_POOL', message: 'cannot find a qualified ippool, no pools match the required use (Workload)' });
  const t = await ipam.autoAssign({ num4: 1, hostname: 'a', use: 'Tunnel' });
  assert.ok(Prefix.parse('10.1.0.0/24').contains(t.v4.ips[0]!.ip));
  await assert.rejects(ipam.autoAssign({ num6: 1, hostname: 'a' }), { code: 'NO_POOLS', message: 'no configured Calico pools for node a' });
  await assert.rejects(ipam.autoAssign({ num4: 1, hostname: 'nobody' }), { code: 'NOT_FOUND' });
  await assert.rejects(ipam.autoAssign({ num4: 1, hostname: 'a/b' }), /invalid hostname "a\/b"/);
  await assert.rejects(ipam.autoAssign({ num4: -1, hostname: 'a' }), /num4 must be a non-negative integer/);
});

test('stale and pending affinities are repaired', async () => {
  const { ipam } = await setup([{ name: 'p', cidr: '10.0.0.0/26' }]);
  const cidr = Prefix.parse('10.0.0.0/26');
  // a pending affinity left by a claim that died before creating the block: finished on next use
  await ipam.store.createAffinity({ owner: { type: 'host', name: 'a' }, cidr, state: 'pending' });
  const r = await ipam.autoAssign({ num4: 1, hostname: 'a' });
  assert.equal(r.v4.ips.length, 1);
  assert.equal((await ipam.store.getAffinity({ type: 'host', name: 'a' }, cidr))!.value.state, 'confirmed');
  // an affinity of b for a's block is stale: removed when b tries it
  await ipam.store.createAffinity({ owner: { type: 'host', name: 'b' }, cidr, state: 'confirmed' });
  const rb = await ipam.autoAssign({ num4: 1, hostname: 'b', attrs: { node: 'b' } });
  assert.equal(rb.v4.ips.length, 1);
  assert.equal(await ipam.store.getAffinity({ type: 'host', name: 'b' }, cidr), undefined);
});

test('a conflict that never ends hits the retry bound with a clear error and leaves nothing behind', async () => {
  const kv = new MemoryBackend();
  const client = new Client(kv);
  await client.create({ apiVersion: API_VERSION, kind: 'IPPool', metadata: { name: 'p' }, spec: { cidr: '10.0.0.0/24' } });
  await client.create({ apiVersion: API_VERSION, kind: 'Node', metadata: { name: 'a' }, spec: {} });
  const ipam = new Ipam(client, { backoff: async () => undefined, retries: 5 });
  // claim the block first, then make every later block write lose its race
  await ipam.autoAssign({ num4: 1, hostname: 'a', handle: 'first' });
  const before = (await kv.list('/calico/ipam/')).pairs.map((p) => [p.key, p.value]);
  const realTxn = kv.txn.bind(kv);
  let attempts = 0;
  kv.txn = async (ops) => {
    if (ops.some((o) => o.key.includes('/block/'))) {
      attempts++;
      const { UpdateConflictError } = await import('../datastore/errors.js');
      throw new UpdateConflictError(ops[0]!.key, 'someone else wrote it');
    }
    return realTxn(ops);
  };
  const r = await ipam.autoAssign({ num4: 1, hostname: 'a', handle: 'second' });
  assert.equal(r.v4.error?.code, 'MAX_RETRIES');
  assert.equal(partialFulfillmentMessage(r.v4), 'Assigned 0 out of 1 requested IPv4 addresses; Max retries hit - excessive concurrent IPAM requests');
  assert.equal(attempts, 5);
  assert.deepEqual((await kv.list('/calico/ipam/')).pairs.map((p) => [p.key, p.value]), before, 'no handle, no allocation, nothing half-written');
});

/** Counts the datastore writes (each one commit, each one wake-up of every watcher) and what they were. */
function countWrites(kv: MemoryBackend): { writes: string[] } {
  const seen = { writes: [] as string[] };
  for (const m of ['create', 'update', 'apply', 'delete'] as const) {
    const real = (kv[m] as (...a: unknown[]) => Promise<unknown>).bind(kv);
    (kv as unknown as Record<string, unknown>)[m] = (key: string, ...rest: unknown[]) => {
      seen.writes.push(`${m} ${key}`);
      return real(key, ...rest);
    };
  }
  const realTxn = kv.txn.bind(kv);
  kv.txn = (ops) => {
    seen.writes.push(`txn ${ops.map((o) => `${o.op} ${o.key}`).join(', ')}`);
    return realTxn(ops);
  };
  return seen;
}

test('a new block is claimed and assigned from in one transaction (affinity confirmed, block, handle): no watcher sees a pending affinity', async () => {
  const { client, ipam } = await setup([{ name: 'p', cidr: '10.0.0.0/24' }]);
  const kv = client.kv as MemoryBackend;
  const from = await kv.revision();
  const seen = countWrites(kv);
  const r = await ipam.autoAssign({ num4: 1, hostname: 'a', handle: 'h1' });
  const block = r.v4.ips[0]!.block.toString();
  const bk = `/calico/ipam/v2/assignment/ipv4/block/${block.replace('/', '-')}`;
  const ak = `/calico/ipam/v2/host/a/ipv4/block/${block.replace('/', '-')}`;
  assert.deepEqual(seen.writes, [`txn create ${ak}, create ${bk}, create /calico/ipam/v2/handle/h1`]);
  const events: { key: string; value?: string }[] = [];
  const w = kv.watch('/calico/ipam/', from);
  for await (const batch of w) {
    events.push(...batch.map((e) => ({ key: e.key, value: e.value })));
    if (events.length >= 3) break;
  }
  w.close();
  const affinityStates = events.filter((e) => e.key === ak).map((e) => JSON.parse(e.value!).state);
  assert.deepEqual(affinityStates, ['confirmed']);
});

test('a claim that finds the block created meanwhile takes another one and leaves no affinity behind', async () => {
  const { client, ipam } = await setup([{ name: 'p', cidr: '10.0.0.0/25' }]);
  const kv = client.kv as MemoryBackend;
  const other = new Ipam(client, { backoff: async () => undefined });
  const realTxn = kv.txn.bind(kv);
  let raced: string | undefined;
  kv.txn = async (ops) => {
    const claim = ops.find((o) => o.op === 'create' && o.key.includes('/assignment/'));
    if (!raced && claim) {
      // b claims the very block a is about to create
      raced = claim.key;
      kv.txn = realTxn;
      const cidr = Prefix.parse(claim.key.split('/').pop()!.replace('-', '/'));
      await other.assignIP({ ip: cidr.nth(1), hostname: 'b' });
    }
    return realTxn(ops);
  };
  const r = await ipam.autoAssign({ num4: 1, hostname: 'a' });
  assert.ok(raced);
  assert.equal(r.v4.ips.length, 1);
  const got = r.v4.ips[0]!.block.toString();
  assert.notEqual(`/calico/ipam/v2/assignment/ipv4/block/${got.replace('/', '-')}`, raced, 'a went on to another block');
  const affs = (await ipam.store.listAffinities({ type: 'host', name: 'a' })).map((x) => `${x.value.cidr} ${x.value.state}`);
  assert.deepEqual(affs, [`${got} confirmed`]);
});

test('releasing a block affinity is one transaction: empty block and affinity go together; a used block stays ownerless', async () => {
  const { client, ipam } = await setup([{ name: 'p', cidr: '10.0.0.0/24' }]);
  const kv = client.kv as MemoryBackend;
  const owner = { type: 'host' as const, name: 'a' };
  const r = await ipam.autoAssign({ num4: 2, hostname: 'a' });
  const [x, y] = r.v4.ips;
  const cidr = x!.block;
  await ipam.releaseIPs([{ ip: x!.ip }]);
  let seen = countWrites(kv);
  await ipam.releaseBlockAffinity(owner, cidr);
  assert.equal(seen.writes.length, 1);
  assert.match(seen.writes[0]!, /^txn update \/calico\/ipam\/v2\/assignment\/ipv4\/block\/\S+, delete \/calico\/ipam\/v2\/host\/a\/ipv4\/block\//);
  const kept = (await ipam.store.getBlock(cidr))!;
  assert.equal(kept.value.data.affinity, null);
  assert.deepEqual((await ipam.ipsByHandle('nope')).length, 0);
  assert.equal(await ipam.store.getAffinity(owner, cidr), undefined);
  assert.ok((await ipam.assignment(y!.ip))!, 'the address in use stays assigned');

  const r2 = await ipam.autoAssign({ num4: 1, hostname: 'a' });
  const c2 = r2.v4.ips[0]!.block;
  await ipam.releaseIPs([{ ip: r2.v4.ips[0]!.ip }]);
  seen = countWrites(kv);
  await ipam.releaseBlockAffinity(owner, c2, { requireEmpty: true });
  assert.equal(seen.writes.length, 1);
  assert.match(seen.writes[0]!, /^txn delete \/calico\/ipam\/v2\/assignment\/ipv4\/block\/\S+, delete \/calico\/ipam\/v2\/host\/a\/ipv4\/block\//);
  assert.equal(await ipam.store.getBlock(c2), undefined);
  assert.equal(await ipam.store.getAffinity(owner, c2), undefined);
});

test('a release whose affinity vanished meanwhile still frees the block; a block written meanwhile is a conflict, nothing half-done', async () => {
  const { client, ipam } = await setup([{ name: 'p', cidr: '10.0.0.0/24' }]);
  const kv = client.kv as MemoryBackend;
  const owner = { type: 'host' as const, name: 'a' };
  const r = await ipam.autoAssign({ num4: 1, hostname: 'a' });
  const cidr = r.v4.ips[0]!.block;
  await ipam.releaseIPs([{ ip: r.v4.ips[0]!.ip }]);
  const realTxn = kv.txn.bind(kv);
  kv.txn = async (ops) => {
    kv.txn = realTxn;
    await kv.delete(ops[1]!.key); // someone else removed the affinity
    return realTxn(ops);
  };
  await ipam.releaseBlockAffinity(owner, cidr);
  assert.equal(await ipam.store.getBlock(cidr), undefined);

  const r2 = await ipam.autoAssign({ num4: 1, hostname: 'a' });
  const c2 = r2.v4.ips[0]!.block;
  await ipam.releaseIPs([{ ip: r2.v4.ips[0]!.ip }]);
  kv.txn = async (ops) => {
    kv.txn = realTxn;
    await ipam.assignIP({ ip: c2.nth(5), hostname: 'a' }); // the block is written meanwhile
    return realTxn(ops);
  };
  await assert.rejects(ipam.releaseBlockAffinity(owner, c2), { code: 'UPDATE_CONFLICT' });
  assert.equal((await ipam.store.getAffinity(owner, c2))?.value.state, 'confirmed', 'affinity kept');
  assert.equal((await ipam.store.getBlock(c2))!.value.data.affinity, 'host:a', 'block kept, still ours');
});

test('a claim whose handle exists already counts the new block in it (handle re-read, CAS), in the same single write', async () => {
  const { client, ipam } = await setup([{ name: 'p', cidr: '10.0.0.0/24' }]);
  const kv = client.kv as MemoryBackend;
  const ra = await ipam.autoAssign({ num4: 1, hostname: 'a', handle: 'shared' });
  const seen = countWrites(kv);
  const rb = await ipam.autoAssign({ num4: 2, hostname: 'b', handle: 'shared' });
  assert.equal(rb.v4.ips.length, 2);
  const [ba, bb] = [ra.v4.ips[0]!.block.toString(), rb.v4.ips[0]!.block.toString()];
  assert.notEqual(ba, bb);
  assert.deepEqual((await ipam.store.getHandle('shared'))!.value.block, { [ba]: 1, [bb]: 2 });
  // the first try created the handle and failed as a whole; the second updated it
  assert.equal(seen.writes.length, 2);
  assert.match(seen.writes[0]!, /create \/calico\/ipam\/v2\/handle\/shared$/);
  assert.match(seen.writes[1]!, /update \/calico\/ipam\/v2\/handle\/shared$/);
  assert.equal((await ipam.store.listAffinities({ type: 'host', name: 'b' })).length, 1);
  assert.deepEqual(new Set((await ipam.ipsByHandle('shared')).map(String)), new Set([...ra.v4.ips, ...rb.v4.ips].map((x) => x.ip.toString())));
});
