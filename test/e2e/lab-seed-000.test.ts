/**
 * Lab acceptance 1 (seed 000): `tortie lab up seed-000` builds the seed's network — three hosts,
 * two route reflectors, a BIRD core switch (iBGP, AS 64512) with a VM subnet behind it — and
 * then, through the CLI only:
 *  - every BGP session is Established: each reflector has the other reflector, the switch and
 *    the client; the client has both reflectors; `tortie node status` on a reflector shows them;
 *  - the switch learned every pod block and the service range 172.16.0.0/16;
 *  - the VM pings pods on the client and on a reflector (`tortie lab ping`);
 *  - `tortie lab down` leaves no namespace, no process and no directory behind.
 * The lab name carries this process's PID so parallel runs never collide.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { memoryIO } from '../../src/cli/io.js';
import { queryAgent } from '../../src/agent/status-client.js';
import type { AgentStatus } from '../../src/agent/status-types.js';
import { Client } from '../../src/datastore/client.js';
import { openBackend } from '../../src/datastore/open.js';
import { parseBirdRoutes } from '../../src/lab/bird.js';
import { isAlive, readState, teardown, type LabState } from '../../src/lab/state.js';
import { neighbourTableWarning } from '../../src/lab/sys.js';
import { skipReason, waitFor } from '../helpers/netns.js';
import { daemonSkipReason } from '../helpers/daemons.js';

const skip =
  skipReason() ??
  daemonSkipReason('bird2') ??
  (existsSync('dist/cli/bin.js') && existsSync('dist/cni/bundle/main.js') ? undefined : 'dist/ not built (npm run build; scripts/test.sh does it)');

const NAME = `s0-${process.pid}`;
const RR1 = '192.168.83.36';
const RR2 = '192.168.83.49';
const CLIENT = '192.168.83.22';
const SWITCH = '192.168.83.1';

async function tortie(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = memoryIO({ env: { ...process.env } });
  const code = await main(args, io);
  return { code, out: io.out(), err: io.err() };
}

const namespaces = (): string[] =>
  spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .stdout.split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n.startsWith(`tl-${NAME}-`));

describe('lab: seed 000 (VMs reach pods through the core switch)', { skip, timeout: 240_000 }, () => {
  const dir = skip ? '' : mkdtempSync('/tmp/tl-');
  let st: LabState | undefined;
  after(async () => {
    // A failed assertion must not leave the lab running.
    const left = dir ? readState(dir) : undefined;
    if (left) await teardown(left);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('up, sessions, routes at the switch, VM → pod, down', async (t) => {
    const t0 = Date.now();
    const up = await tortie(['lab', 'up', 'seed-000', '--name', NAME, '--dir', dir]);
    const upMs = Date.now() - t0;
    assert.equal(up.code, 0, up.err);
    t.diagnostic(`lab up: ${(upMs / 1000).toFixed(1)} s`);
    assert.match(up.err, /starting agents… 3\/3 up/);
    assert.match(up.err, /waiting for BGP sessions…/);
    assert.match(up.out, /k8s-test-master-1\s+192\.168\.83\.36\s+route reflector \(cluster 224\.0\.0\.1\)/);
    assert.match(up.out, /node1\s+192\.168\.83\.22\s+node/);
    assert.match(up.out, /core-switch\s+bird2\s+64512\s+192\.168\.83\.1, 192\.168\.82\.1\s+2\/2 Established/);
    assert.match(up.out, /tortie lab ping --dir \S+ vm1 web-1/);
    st = readState(dir)!;
    assert.ok(st.ready);
    assert.equal(namespaces().length, 10, `bridges lan+vms, switch, 3 hosts, vm1, 3 pods: ${namespaces().join(' ')}`);

    // Sessions, as the agents report them.
    const host = (n: string) => st!.nodes.find((x) => x.name === n)!;
    const peers = async (n: string) => {
      const s = (await queryAgent(host(n).runDir!, { cmd: 'status' })) as AgentStatus;
      return Object.fromEntries(s.bgp.peers.map((p) => [p.address, p.bgpState]));
    };
    assert.deepEqual(await peers('k8s-test-master-1'), { [RR2]: 'Established', [SWITCH]: 'Established', [CLIENT]: 'Established' });
    assert.deepEqual(await peers('k8s-test-master-2'), { [RR1]: 'Established', [SWITCH]: 'Established', [CLIENT]: 'Established' });
    assert.deepEqual(await peers('node1'), { [RR1]: 'Established', [RR2]: 'Established' });

    // calicoctl's view on a reflector.
    const ns = await tortie(['node', 'status', '--run-dir', host('k8s-test-master-1').runDir!]);
    assert.equal(ns.code, 0, ns.err);
    for (const a of [RR2, SWITCH, CLIENT]) assert.match(ns.out, new RegExp(`\\| ${a.replaceAll('.', '\\.')} +\\| node specific +\\| up +\\| [0-9:]+ +\\| Established +\\|`));

    // The switch learned every block (from the datastore) and the service range.
    const client = new Client(await openBackend({ datastoreType: 'sqlite', sqlitePath: join(dir, 'tortie.db'), etcdEndpoints: [] }));
    let blocks: string[];
    try {
      blocks = (await client.kv.list('/calico/ipam/v2/assignment/ipv4/block/')).pairs.map((p) => (JSON.parse(p.value) as { cidr: string }).cidr);
    } finally {
      await client.close();
    }
    assert.ok(blocks.length >= 2, `blocks on node1 and a reflector: ${blocks}`);
    const sw = host('core-switch');
    await waitFor(
      () => {
        const r = spawnSync('birdc', ['-s', sw.socket!, 'show', 'route'], { encoding: 'utf8' });
        const got = new Set(parseBirdRoutes(r.stdout).map((x) => x.prefix));
        return [...blocks, '172.16.0.0/16'].every((b) => got.has(b));
      },
      20_000,
      { what: `blocks ${blocks} and 172.16.0.0/16 at the switch` },
    );
    const status = await tortie(['lab', 'status', '--dir', dir]);
    assert.equal(status.code, 0, status.err);
    assert.match(status.out, /172\.16\.0\.0\/16/);
    for (const b of blocks) assert.ok(status.out.includes(b), `lab status lists ${b}`);

    // The VM reaches pods on the client and on a reflector.
    // (The first packet may wait for ARP on three links; the kernel's ARP table is shared by
    // every namespace on the machine, and a busy one can delay new entries: retry for a while.)
    for (const pod of ['web-1', 'dns-1']) {
      await waitFor(async () => (await tortie(['lab', 'ping', '--dir', dir, '-c', '1', 'vm1', pod])).code === 0, 20_000, {
        what: `vm1 → ${pod}${neighbourTableWarning() ? ` (${neighbourTableWarning()})` : ''}`,
        intervalMs: 500,
      });
      const ping = await tortie(['lab', 'ping', '--dir', dir, 'vm1', pod]);
      assert.equal(ping.code, 0, ping.out + ping.err);
      assert.match(ping.out, / 0% packet loss/);
    }
    // exec runs in the namespace and passes the exit status on.
    assert.equal((await tortie(['lab', 'exec', '--dir', dir, 'vm1', '--', 'sh', '-c', 'exit 3'])).code, 3);

    // down removes everything.
    const down = await tortie(['lab', 'down', '--dir', dir]);
    assert.equal(down.code, 0, down.err);
    assert.deepEqual(namespaces(), []);
    for (const p of st.processes) assert.equal(isAlive(p), false, `${p.role} (pid ${p.pid}) stopped`);
    assert.ok(!existsSync(dir), 'the lab directory is gone');
    // And a second down says there is nothing.
    assert.equal((await tortie(['lab', 'down', '--dir', dir])).code, 1);
  });
});
