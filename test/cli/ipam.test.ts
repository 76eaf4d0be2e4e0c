/**
 * `tortie ipam show | check | release | assign | unassign` against the embedded SQLite
 * datastore, with calicoctl v3.32's output (commands/ipam/{show,check,release}.go).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CliHarness } from './harness.js';

const API = 'apiVersion: projectcalico.org/v3';
const pool = (name: string, cidr: string, extra = '') => `${API}\nkind: IPPool\nmetadata:\n  name: ${name}\nspec:\n  cidr: ${cidr}\n${extra}`;
const node = (name: string, spec = '{}') => `${API}\nkind: Node\nmetadata:\n  name: ${name}\nspec: ${spec}\n`;

describe('ipam assign / show / unassign', () => {
  const h = new CliHarness();
  before(async () => {
    await h.ok('apply -f -', [pool('a-v4', '192.168.0.0/16'), pool('b-v6', 'fd00::/48'), node('node-1'), node('node-2')].join('---\n'));
  });
  after(() => h.cleanup());

  it('assign prints each address on its own line; show totals follow', async () => {
    const out = await h.ok('ipam assign --node=node-1 --handle=vm-1 --count=5');
    const ips = out.trim().split('\n');
    assert.equal(ips.length, 5);
    assert.equal(new Set(ips).size, 5);
    for (const ip of ips) assert.match(ip, /^192\.168\.\d+\.\d+$/);
    const v6 = (await h.ok('ipam assign --node=node-1 --handle=vm-1-v6 --count=2 --ipv6')).trim().split('\n');
    assert.equal(v6.length, 2);
    for (const ip of v6) assert.match(ip, /^fd00::/);
    assert.equal(
      await h.ok('ipam show'),
      [
        '+----------+----------------+------------+------------+-------------------+',
        '| GROUPING |      CIDR      | IPS TOTAL  | IPS IN USE |     IPS FREE      |',
        '+----------+----------------+------------+------------+-------------------+',
        '| IP Pool  | 192.168.0.0/16 |      65536 | 5 (0%)     | 65531 (100%)      |',
        '| IP Pool  | fd00::/48      | 1.2089e+24 | 2 (0%)     | 1.2089e+24 (100%) |',
        '+----------+----------------+------------+------------+-------------------+',
        '',
      ].join('\n'),
    );
    const blocks = await h.ok('ipam show --show-blocks');
    assert.match(blocks, /\| Block    \| 192\.168\.\d+\.\d+\/26 +\|         64 \| 5 \(8%\)     \| 59 \(92%\)          \|\n/);
    assert.match(blocks, /\| Block    \| fd00::[0-9a-f:]*\/122 +\|         64 \| 2 \(3%\)     \| 62 \(97%\)          \|\n/);
  });

  it('show --ip: in use with handle and attributes, or not assigned', async () => {
    const ip = (await h.ok('ipam assign --node=node-2 --handle=lb-7 --count=1')).trim();
    assert.equal(await h.ok(`ipam show --ip=${ip}`), `IP ${ip} is in use\nHandle ID: lb-7\nActive Owner Attributes:\n  node: node-2\n  type: manual\n`);
    assert.equal(await h.ok('ipam show --ip=10.9.9.9'), '10.9.9.9 is not assigned\n');
    assert.deepEqual(await h.run('ipam show --ip=300.1.1.1'), { out: '', err: 'Error executing command: invalid IP address specified: 300.1.1.1\n', code: 1 });
    assert.equal((await h.run('ipam show --ip=1.2.3.4 --show-blocks')).code, 1, 'modes are exclusive');
  });

  it('assign --ip takes that address; twice is an error; outside pools is an error', async () => {
    assert.equal(await h.ok('ipam assign --node=node-2 --handle=vm-9 --ip=192.168.200.7'), '192.168.200.7\n');
    assert.deepEqual(await h.run('ipam assign --node=node-2 --handle=vm-9 --ip=192.168.200.7'), { out: '', err: 'error: Address already assigned in block: 192.168.200.7\n', code: 1 });
    assert.deepEqual(await h.run('ipam assign --node=node-2 --handle=vm-9 --ip=10.0.0.1'), { out: '', err: 'error: The provided IP address is not in a configured pool\n', code: 1 });
    assert.deepEqual(await h.run('ipam assign --node=ghost --handle=x'), { out: '', err: 'error: node ghost does not exist\n', code: 1 });
    assert.deepEqual(await h.run('ipam assign --handle=x'), { out: '', err: '--node is required: the node whose blocks the addresses come from\n', code: 1 });
    assert.deepEqual(await h.run('ipam assign --node=node-1 --handle=x --count=0'), { out: '', err: 'invalid --count "0": use a positive whole number\n', code: 1 });
    assert.deepEqual(await h.run('ipam assign --node=node-1 --handle=x --count=2 --ip=192.168.0.1'), { out: '', err: '--ip and --count cannot be used together\n', code: 1 });
  });

  it('show --show-borrowed lists addresses a node took from another node\'s block', async () => {
    // 192.168.200.7 went to node-2 in a block it claimed; make node-1 take one from that block
    const ip = (await h.ok('ipam assign --node=node-1 --handle=vm-b --ip=192.168.200.9')).trim();
    const out = await h.ok('ipam show --show-borrowed');
    assert.ok(out.includes(`| ${ip} | node-1         | 192.168.200.0/26 | node-2      | manual |              |`), out);
  });

  it('show --show-configuration', async () => {
    assert.equal(
      await h.ok('ipam show --show-configuration'),
      [
        '+------------------------------+-----------+',
        '|           PROPERTY           |   VALUE   |',
        '+------------------------------+-----------+',
        '| StrictAffinity               | false     |',
        '| AutoAllocateBlocks           | true      |',
        '| MaxBlocksPerHost             |         0 |',
        '| KubeVirtVMAddressPersistence | "Enabled" |',
        '+------------------------------+-----------+',
        '',
      ].join('\n'),
    );
  });

  it('unassign releases a handle; release --ip one address', async () => {
    assert.equal(await h.ok('ipam unassign --handle=vm-1'), 'Successfully released 5 IP addresses of handle vm-1\n');
    assert.deepEqual(await h.run('ipam unassign --handle=vm-1'), { out: '', err: 'handle vm-1 does not exist\n', code: 1 });
    assert.equal(await h.ok('ipam release --ip=192.168.200.7'), 'Successfully released IP address 192.168.200.7\n');
    assert.deepEqual(await h.run('ipam release --ip=192.168.200.7'), { out: '', err: 'IP address 192.168.200.7 is not assigned\n', code: 1 });
    assert.equal(await h.ok('ipam show --ip=192.168.200.7'), '192.168.200.7 is not assigned\n');
  });
});

describe('ipam check', () => {
  const h = new CliHarness();
  after(() => h.cleanup());

  it('a consistent datastore has 0 problems; leaks, unallocated in-use IPs and empty handles are found and reported', async () => {
    await h.ok('apply -f -', [pool('p', '10.5.0.0/24', '  vxlanMode: Always\n'), node('n1', '{ipv4VXLANTunnelAddr: 10.5.0.200}')].join('---\n'));
    await h.ok('ipam assign --node=n1 --handle=vm --count=2');
    let r = await h.run('ipam check');
    // the node's tunnel address was never assigned in IPAM: one problem
    assert.equal(r.code, 0);
    assert.match(r.out, /^Checking IPAM for inconsistencies\.\.\.\n\nLoading all IPAM blocks\.\.\.\nFound 1 IPAM blocks\.\n IPAM block 10\.5\.0\.\d+\/26 affinity=host:n1:\nIPAM blocks record 2 allocations\.\n\nLoading all IPAM pools\.\.\.\n  10\.5\.0\.0\/24\nFound 1 active IP pools\.\n\nLoading all nodes\.\nFound 1 node tunnel IPs\.\n/);
    assert.match(r.out, /Found 0 IPs that are allocated in IPAM but not actually in use\.\n/);
    assert.match(r.out, /Found 1 in-use IPs that are in active IP pools but have no corresponding IPAM allocation\.\n/);
    assert.ok(r.out.endsWith('Check complete; found 1 problems.\n'), r.out);

    r = await h.run('ipam check --show-problem-ips');
    assert.match(r.out, /  10\.5\.0\.200 in use by Node\(n1\) and in active IPAM pool but has no IPAM allocation\.\n/);

    // assign it properly: 0 problems
    await h.ok('ipam assign --node=n1 --handle=vxlan-tunnel-addr-n1 --ip=10.5.0.200');
    r = await h.run('ipam check');
    assert.ok(r.out.endsWith('Check complete; found 0 problems.\n'), r.out);

    // the node forgets the address: a leak (the allocation has type manual here, so re-tag it as a tunnel address)
    await h.ok('ipam release --ip=10.5.0.200');
    const { Ipam } = await import('../../src/ipam/ipam.js');
    const { Client } = await import('../../src/datastore/client.js');
    const { SqliteBackend } = await import('../../src/datastore/sqlite.js');
    const { IP } = await import('../../src/net/index.js');
    const client = new Client(SqliteBackend.open(h.env.SQLITE_PATH!));
    await new Ipam(client).assignIP({ ip: IP.parse('10.5.0.201'), hostname: 'n1', handle: 'pod-x', attrs: { node: 'n1', pod: 'x', namespace: 'default' } });
    await new Ipam(client).store.createHandle({ id: 'orphan-handle', block: { '10.5.0.0/26': 1 } });
    await client.close();
    const report = join(h.dir, 'report.json');
    r = await h.run(['ipam', 'check', '--show-all-ips', '-o', report]);
    assert.match(r.out, /  10\.5\.0\.201 allocated; attrs Main:pod-x Extra:namespace=default,node=n1,pod=x\n/);
    assert.match(r.out, /  10\.5\.0\.201 leaked; attrs Main:pod-x Extra:namespace=default,node=n1,pod=x\n/);
    assert.match(r.out, /  orphan-handle doesn't have any active IPs\.\n/);
    assert.match(r.out, /Found 1 handles with no matching IPs \(and 2 handles with matches\)\.\n/);
    // leak + tunnel IP unallocated + empty handle
    assert.ok(r.out.endsWith('Check complete; found 3 problems.\n'), r.out);
    const json = readFileSync(report, 'utf8');
    assert.ok(!json.endsWith('\n'));
    const doc = JSON.parse(json);
    assert.equal(doc.allocations['10.5.0.201'][0].inUse, false);
    assert.equal(doc.allocations['10.5.0.201'][0].handle, 'pod-x');
    assert.match(json, /"sequenceNumber": \d{19},/);
    assert.deepEqual(doc.leakedHandles.map((x: { ID: string }) => x.ID), ['orphan-handle']);
    assert.equal(typeof doc.clusterGUID, 'string');

    // release from the report (datastore not locked: needs --force)
    assert.deepEqual(await h.run(['ipam', 'release', `--from-report=${report}`]), { out: '', err: 'data store is not locked. Either lock the data store, or re-run with --force\n', code: 1 });
    const rel = await h.ok(['ipam', 'release', `--from-report=${report}`, '--force']);
    assert.equal(
      rel,
      "WARNING: Data store is not locked. Ignoring due to --force option\nReleasing 1 old IPs...\nReleased 1 IPs successfully\nDeleting 1 handles...\nKey: '.' = Deleted OK; 'x' = skip, handle missing/changed.\n.\nReleased 1 handles; 0 skipped; 0 errors.\nYou may now unlock the data store.\n",
    );
    assert.equal(await h.ok('ipam show --ip=10.5.0.201'), '10.5.0.201 is not assigned\n');
  });
});

describe('pool deletion through the CLI releases its blocks', () => {
  const h = new CliHarness();
  after(() => h.cleanup());
  it('empty blocks go, blocks in use lose their owner', async () => {
    await h.ok('apply -f -', [pool('p', '10.6.0.0/24'), node('n1'), node('n2')].join('---\n'));
    await h.ok('ipam assign --node=n1 --handle=a --count=1');
    await h.ok('ipam assign --node=n2 --handle=b --count=1');
    await h.ok('ipam unassign --handle=b');
    assert.equal(await h.ok('delete ippool p'), 'Successfully deleted 1 \'IPPool\' resource(s)\n');
    const blocks = await h.ok('ipam show --show-blocks');
    // the pool is gone; n1's block (still holding 'a') stays, as an orphan row, without owner
    assert.match(blocks, /\| Block    \| 10\.6\.0\.\d+\/26 +\| +64 \| 1 \(2%\)     \| 63 \(98%\) \|/);
    assert.equal((blocks.match(/Block/g) ?? []).length, 1);
    const borrowed = await h.ok('ipam show --show-borrowed');
    assert.match(borrowed, /\| n1 {13}\| 10\.6\.0\.\d+\/26 \| {13}\| manual \|/);
  });
});
