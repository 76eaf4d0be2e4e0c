/**
 * Agent acceptance 1 and 5 (issue 5): three hosts on one L2 segment, each running
 * `tortie node run` in its own network namespace, default node-to-node mesh, no encapsulation.
 *  - every host's blocks reach the other two hosts' kernel tables (`via <node IP>`, tortie's
 *    protocol 93), its own blocks are blackholed;
 *  - one TCP/179 session per pair (the side with the smaller IP string is passive);
 *  - `tortie node status` lists two `node-to-node mesh` peers `up`/`Established`;
 *  - pods on different hosts ping each other;
 *  - natOutgoing: a pod reaching an address outside every pool arrives with its host's address;
 *  - Prometheus metrics answer on the agent's port.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AgentLab, type Pod } from '../helpers/agent-lab.js';
import { cleanupAll, skipReason, waitFor } from '../helpers/netns.js';
import { main } from '../../src/cli/main.js';
import { memoryIO } from '../../src/cli/io.js';

const skip = skipReason();

describe('agent: three hosts, node-to-node mesh', { skip, timeout: 180_000 }, () => {
  let lab: AgentLab;
  const pods: Record<string, Pod> = {};

  before(async () => {
    lab = await AgentLab.create('mesh', [
      { name: 'host-a', cidr: '10.41.0.1/24' },
      { name: 'host-b', cidr: '10.41.0.2/24' },
      { name: 'host-c', cidr: '10.41.0.3/24' },
    ]);
    await lab.apply(`apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: pool-a
spec:
  cidr: 10.245.0.0/16
  blockSize: 26
  natOutgoing: true
  nodeSelector: all()
`);
    for (const h of lab.hosts) lab.startAgent(h);
    for (const h of lab.hosts) await lab.waitRunning(h);
    for (const h of lab.hosts) pods[h.name] = await lab.addPod(h.name, `m-${h.name.slice(-1)}`);
  });

  after(async () => {
    await lab?.close();
    await cleanupAll();
  });

  it('each host has two Established mesh peers and one TCP/179 session per pair', async () => {
    for (const h of lab.hosts) {
      const st = await lab.waitEstablished(h, 2);
      assert.deepEqual(
        st.bgp.peers.map((p) => p.type),
        ['Mesh', 'Mesh'],
      );
      assert.ok(st.bgp.peers.every((p) => p.name === `Mesh_${p.address.replace(/\./g, '_')}`));
    }
    // ss in every namespace: established connections on port 179, counted once per pair.
    const conns = new Set<string>();
    for (const h of lab.hosts) {
      const out = h.ns.exec(['ss', '-Htn', 'state', 'established', '( sport = :179 or dport = :179 )']).stdout;
      for (const line of out.trim().split('\n').filter(Boolean)) {
        const [local, peer] = line.trim().split(/\s+/).slice(-2);
        const host = (ep: string) => ep.slice(0, ep.lastIndexOf(':')).replace(/^\[|\]$/g, '').replace(/^::ffff:/, '');
        conns.add([host(local!), host(peer!)].sort().join('-'));
      }
    }
    assert.deepEqual([...conns].sort(), ['10.41.0.1-10.41.0.2', '10.41.0.1-10.41.0.3', '10.41.0.2-10.41.0.3']);
  });

  it("every host's blocks reach the other hosts' kernel tables; its own are blackholed", async () => {
    const client = await lab.datastore();
    const blocks = new Map<string, string>(); // block → host
    const { pairs } = await client.kv.list('/calico/ipam/v2/assignment/ipv4/block/');
    for (const p of pairs) {
      const b = JSON.parse(p.value) as { cidr: string; affinity: string };
      blocks.set(b.cidr, b.affinity.replace(/^host:/, ''));
    }
    assert.equal(blocks.size, 3);
    for (const h of lab.hosts) {
      await waitFor(
        () => {
          const routes = lab.routes(h);
          for (const [cidr, owner] of blocks) {
            const r = routes.find((x) => x.dst === cidr);
            if (!r || r.protocol !== '93') return false;
            if (owner === h.name) {
              if (r.type !== 'blackhole') return false;
            } else if (r.gateway !== lab.host(owner).ip || r.dev !== 'eth0') return false;
          }
          return true;
        },
        15_000,
        { what: `block routes on ${h.name}: ${JSON.stringify(lab.routes(h))}` },
      );
    }
  });

  it('pods on different hosts ping each other', async () => {
    await lab.waitPing(pods['host-a']!, pods['host-b']!.ip);
    assert.ok(await lab.ping(pods['host-a']!, pods['host-b']!.ip, 3));
    assert.ok(await lab.ping(pods['host-b']!, pods['host-c']!.ip, 3));
    assert.ok(await lab.ping(pods['host-c']!, pods['host-a']!.ip, 3));
  });

  it('tortie node status prints the calicoctl table with two node-to-node mesh peers', async () => {
    const h = lab.host('host-a');
    const io = memoryIO({ env: { ...lab.env } });
    const code = await main(['node', 'status', '--run-dir', h.runDir], io);
    assert.equal(code, 0, io.err());
    const out = io.out();
    assert.match(out, /^tortie agent is running\.\n\nIPv4 BGP status\n\+-+\+/);
    assert.match(out, /\| PEER ADDRESS \|     PEER TYPE     \| STATE \|  SINCE   \|    INFO     \|/);
    assert.match(out, /\| 10\.41\.0\.2 +\| node-to-node mesh \| up +\| \d\d:\d\d:\d\d \| Established \|/);
    assert.match(out, /\| 10\.41\.0\.3 +\| node-to-node mesh \| up +\| \d\d:\d\d:\d\d \| Established \|/);
    assert.match(out, /\nIPv6 BGP status\nNo IPv6 peers found\.\n\n$/);
  });

  it('natOutgoing: traffic to an address outside every pool leaves with the host address', async () => {
    // An "internet" address on the gateway namespace; a UDP listener reports the source it sees.
    const gw = lab.gateway;
    gw.ip('addr', 'add', '198.51.100.7/32', 'dev', 'lo');
    const server = gw.spawn(
      [
        process.execPath,
        '-e',
        `const s=require('dgram').createSocket('udp4');s.on('message',(m,r)=>{console.log('FROM',r.address);});s.bind(7007,'198.51.100.7',()=>console.log('READY'));`,
      ],
      { logFile: `${lab.dir}/udp.log` },
    );
    const { readFileSync } = await import('node:fs');
    await waitFor(() => readFileSync(`${lab.dir}/udp.log`, 'utf8').includes('READY'), 10_000, { what: 'udp listener' });
    const pod = pods['host-b']!;
    await waitFor(
      async () => {
        await pod.ns.execAsync(
          [process.execPath, '-e', `const s=require('dgram').createSocket('udp4');s.send('x',7007,'198.51.100.7',()=>s.close());`],
          { check: false },
        );
        return readFileSync(`${lab.dir}/udp.log`, 'utf8').includes('FROM');
      },
      15_000,
      { what: 'a datagram from the pod' },
    );
    const from = /FROM (\S+)/.exec(readFileSync(`${lab.dir}/udp.log`, 'utf8'))![1];
    assert.equal(from, lab.host('host-b').ip, 'masqueraded to the host address');
    const table = lab.host('host-b').ns.exec(['nft', 'list', 'table', 'ip', 'tortie']).stdout;
    assert.match(table, /10\.245\.0\.0\/16/);
    await server.stop();
  });

  it('keeps a CalicoNodeStatus for its node up to date', async () => {
    await lab.apply(`apiVersion: projectcalico.org/v3
kind: CalicoNodeStatus
metadata:
  name: host-a-status
spec:
  node: host-a
  classes: [Agent, BGP, Routes]
  updatePeriodSeconds: 1
`);
    const client = await lab.datastore();
    const st = await waitFor(
      async () => {
        const r = await client.get({ kind: 'CalicoNodeStatus', name: 'host-a-status' });
        const s = r.status as { bgp?: { numberEstablishedV4?: number }; lastUpdated?: string } | undefined;
        return s?.bgp?.numberEstablishedV4 === 2 ? (r.status as Record<string, any>) : undefined;
      },
      15_000,
      { what: 'CalicoNodeStatus filled in' },
    );
    assert.equal(st.agent.birdV4.state, 'Ready');
    assert.equal(st.agent.birdV4.routerID, '10.41.0.1');
    assert.deepEqual(
      st.bgp.peersV4.map((p: { peerIP: string; type: string; state: string }) => [p.peerIP, p.type, p.state]).sort(),
      [
        ['10.41.0.2', 'NodeMesh', 'Established'],
        ['10.41.0.3', 'NodeMesh', 'Established'],
      ],
    );
    assert.ok(st.routes.routesV4.some((r: { type: string; learnedFrom: { sourceType: string; peerIP?: string } }) => r.type === 'FIB' && r.learnedFrom.sourceType === 'NodeMesh' && r.learnedFrom.peerIP === '10.41.0.2'));
    // Refreshed every period.
    const first = st.lastUpdated as string;
    await waitFor(async () => ((await client.get({ kind: 'CalicoNodeStatus', name: 'host-a-status' })).status as { lastUpdated: string }).lastUpdated !== first, 5000, {
      what: 'a second update',
    });
  });

  it('SIGHUP re-reads the datastore and keeps running', async () => {
    const h = lab.host('host-b');
    h.agent!.kill('SIGHUP');
    await waitFor(() => lab.log(h).includes('SIGHUP: re-reading the datastore'), 5000, { what: 'the SIGHUP log line' });
    const st = await lab.waitEstablished(h, 2);
    assert.ok(st.bgp.peers.every((p) => Date.now() - p.since > 1000), 'no session was reset');
  });

  it('serves Prometheus metrics on its port', async () => {
    const h = lab.host('host-c');
    const r = await h.ns.execAsync([process.execPath, '-e', `fetch('http://127.0.0.1:9091/metrics').then(r=>r.text()).then(t=>console.log(t))`]);
    assert.match(r.stdout, /tortie_bgp_peers\{state="Established"\} 2/);
    assert.match(r.stdout, /tortie_routes\{source="bgp"\} 2/);
    assert.match(r.stdout, /tortie_convergence_seconds_count \d+/);
  });
});
