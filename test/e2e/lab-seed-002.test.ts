/**
 * Lab acceptance 3 (seed 002, "BGP mode / Route Reflector mode"): `tortie lab up seed-002` builds
 * the seed's three hosts (k8s-master .102, k8s-node1 .103, k8s-node2 .104 on 192.168.179.0/24,
 * the mesh on, pool default-ipv4-ippool 10.244.0.0/16 in IPIP Always), and the seed's steps are
 * replayed through the CLI against the lab's datastore:
 *  1. `get ippool -o wide` shows IPIPMODE Always; the exported YAML with `ipipMode: Never` is
 *     applied; the table shows Never and k8s-master's kernel has `<block> via 192.168.179.10x dev
 *     eth0 proto 93` for the other hosts' blocks, no tunl0 route; pods ping across hosts;
 *  2. the mesh: `node status` lists two node-to-node mesh peers Established, and `ss` in each
 *     host's namespace (`tortie lab exec`) shows exactly one TCP/179 connection per pair of hosts;
 *  3. `get bgpconfig` (mesh not switched off), `get node -o wide` (ASN `(64512)`);
 *  4. the seed's BGPConfiguration (mesh off, AS 64512): `get bgpconfig` shows `default Info false
 *     64512`, `node status` "No IPv4 peers found.", the learned routes are gone and the pods
 *     are cut off (from the host, as in the seed, and from a pod);
 *  5. `label nodes k8s-node2 route-reflector=true`, its Node exported and applied with
 *     `routeReflectorClusterID: 244.0.0.1`, BGPPeer peer-with-route-reflectors (`get bgppeer`
 *     shows `all()` and ASN 0): connectivity is back; `node status` on k8s-master shows the one
 *     node-specific peer 192.168.179.104, on the reflector both clients; `ss` agrees;
 *  6. `lab down` leaves no namespace, process or directory.
 * Then tortie's order in a second lab: the reflector peerings first, the mesh off last, and a
 * continuous ping between pods on the two non-reflector hosts loses no packet.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { memoryIO } from '../../src/cli/io.js';
import { isAlive, readState, teardown, type LabState } from '../../src/lab/state.js';
import { skipReason, sleep, waitFor } from '../helpers/netns.js';
import { meshOff, PEER_WITH_ROUTE_REFLECTORS as RR_PEER } from '../fixtures/seed-yaml.js';

const skip =
  skipReason() ?? (existsSync('dist/cli/bin.js') && existsSync('dist/cni/bundle/main.js') ? undefined : 'dist/ not built (npm run build; scripts/test.sh does it)');

const MASTER = '192.168.179.102';
const NODE1 = '192.168.179.103';
const NODE2 = '192.168.179.104';
const HOSTS = { 'k8s-master': MASTER, 'k8s-node1': NODE1, 'k8s-node2': NODE2 } as const;
type Host = keyof typeof HOSTS;

const MESH_OFF = meshOff(64512);

/** One lab: `tortie` against its datastore, `lab exec` output, pings, sessions. */
class Lab {
  constructor(
    readonly name: string,
    readonly dir: string,
  ) {}

  async tortie(args: string[], stdin = ''): Promise<{ code: number; out: string; err: string }> {
    const io = memoryIO({ stdin, env: { ...process.env, DATASTORE_TYPE: 'sqlite', SQLITE_PATH: join(this.dir, 'tortie.db') } });
    const code = await main(args, io);
    return { code, out: io.out(), err: io.err() };
  }

  /** `tortie <args>` that must succeed; its stdout. */
  async ok(args: string[], stdin = ''): Promise<string> {
    const r = await this.tortie(args, stdin);
    assert.equal(r.code, 0, `tortie ${args.join(' ')}: ${r.err}`);
    return r.out;
  }

  apply(yaml: string): Promise<string> {
    return this.ok(['apply', '-f', '-'], yaml);
  }

  /** `tortie lab exec NODE -- CMD` in a child process (exec hands its stdio over), stdout. */
  exec(node: string, ...cmd: string[]): string {
    const r = spawnSync(process.execPath, ['bin/tortie.js', 'lab', 'exec', '--dir', this.dir, node, '--', ...cmd], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 0, `lab exec ${node} ${cmd.join(' ')}: ${r.stderr}`);
    return r.stdout;
  }

  async ping(from: string, to: string, count = 1): Promise<boolean> {
    return (await this.tortie(['lab', 'ping', '--dir', this.dir, '-c', String(count), from, to])).code === 0;
  }

  async nodeStatus(host: Host): Promise<string> {
    return this.ok(['node', 'status', '--run-dir', join(this.dir, host, 'run')]);
  }

  /** Established TCP/179 connections in the host's namespace: [local, remote] as `addr:port`. */
  bgpConnections(host: Host): [string, string][] {
    const out = this.exec(host, 'ss', '-Htn', 'state', 'established', '( sport = :179 or dport = :179 )');
    const norm = (s: string): string => s.replace(/^\[(?:::ffff:)?/, '').replace(/\]:/, ':');
    return out
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => {
        const c = l.trim().split(/\s+/);
        return [norm(c[2]!), norm(c[3]!)];
      });
  }

  /** Kernel routes of a host (`ip -j route`), through `lab exec`. */
  routes(host: Host): { dst: string; gateway?: string; dev?: string; protocol?: string }[] {
    return JSON.parse(this.exec(host, 'ip', '-j', 'route', 'show')) as ReturnType<Lab['routes']>;
  }

  get state(): LabState {
    return readState(this.dir)!;
  }

  pod(name: string): string {
    return this.state.nodes.find((n) => n.name === name)!.address!;
  }

  namespaces(): string[] {
    return spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' })
      .stdout.split('\n')
      .map((l) => l.split(' ')[0]!)
      .filter((n) => n.startsWith(`tl-${this.name}-`));
  }

  async up(): Promise<number> {
    const t0 = Date.now();
    const r = await this.tortie(['lab', 'up', 'seed-002', '--name', this.name, '--dir', this.dir]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /starting agents… 3\/3 up/);
    assert.match(r.out, /k8s-master\s+192\.168\.179\.102\s+node\s+2/);
    return Date.now() - t0;
  }

  async down(): Promise<void> {
    const st = this.state;
    const r = await this.tortie(['lab', 'down', '--dir', this.dir]);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(this.namespaces(), []);
    for (const p of st.processes) assert.equal(isAlive(p), false, `${p.role} (pid ${p.pid}) stopped`);
    assert.ok(!existsSync(this.dir), 'the lab directory is gone');
  }
}

/** The peers' addresses in `node status`, by peer type. */
function statusPeers(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/^\| (\d+\.\d+\.\d+\.\d+) +\| ([a-z -]+?) +\| up +\| [0-9:]+ +\| Established +\|$/gm)) out[m[1]!] = m[2]!;
  return out;
}

const ip = (ep: string): string => ep.slice(0, ep.lastIndexOf(':'));

/** A ping every 20 ms from a pod until stop(); loss counted by icmp_seq (as agent-lab.ts does). */
function continuousPing(lab: Lab, pod: string, to: string): { stop(): Promise<{ sent: number; lost: number; missing: number[] }> } {
  const child = spawn('ip', ['netns', 'exec', `tl-${lab.name}-${pod}`, 'ping', '-n', '-O', '-i', '0.02', '-W', '1', to], { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (text += d));
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  return {
    stop: async () => {
      child.kill('SIGINT');
      await closed;
      const got = new Set([...text.matchAll(/bytes from .*icmp_seq=(\d+)/g)].map((m) => Number(m[1])));
      const tx = Number(/(\d+) packets transmitted/.exec(text)?.[1] ?? 0);
      const missing: number[] = [];
      for (let s = 1; s <= tx - 2; s++) if (!got.has(s)) missing.push(s);
      return { sent: tx, lost: missing.length, missing };
    },
  };
}

describe('lab: seed 002 (BGP mode, mesh, route reflector)', { skip, timeout: 180_000 }, () => {
  const dirs: string[] = [];
  const newLab = (tag: string): Lab => {
    const dir = mkdtempSync('/tmp/tl-');
    dirs.push(dir);
    return new Lab(`${tag}-${process.pid}`, dir);
  };
  after(async () => {
    // A failed assertion must not leave a lab running.
    for (const dir of dirs) {
      const left = readState(dir);
      if (left) await teardown(left);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the seed's steps: IPIP → BGP mode, the mesh, mesh off (cut off), a reflector (back)", async (t) => {
    const lab = newLab('s2');
    t.diagnostic(`lab up: ${((await lab.up()) / 1000).toFixed(1)} s`);
    const [p1, p2] = [lab.pod('pod-node1'), lab.pod('pod-node2')];

    // 1. The pool as the seed finds it, then BGP mode through the exported YAML.
    const row = (out: string) => /^default-ipv4-ippool\s+10\.244\.0\.0\/16\s+true\s+(\S+)\s+Never\s+false\s+.*all\(\)/m.exec(out)?.[1];
    const wide0 = await lab.ok(['get', 'ippool', '-o', 'wide']);
    assert.match(wide0, /^NAME\s+CIDR\s+NAT\s+IPIPMODE\s+VXLANMODE\s+DISABLED\s+.*SELECTOR/);
    assert.equal(row(wide0), 'Always', wide0);
    const exported = await lab.ok(['get', 'ippool', '-o', 'yaml']);
    assert.match(exported, /ipipMode: Always/);
    assert.match(await lab.apply(exported.replace('ipipMode: Always', 'ipipMode: Never')), /Successfully applied 1 'IPPool' resource\(s\)/);
    assert.equal(row(await lab.ok(['get', 'ippool', '-o', 'wide'])), 'Never');
    const blockOf = (addr: string) => {
      const [a, b, c, d] = addr.split('.').map(Number) as [number, number, number, number];
      return `${a}.${b}.${c}.${d & 0xc0}/26`;
    };
    // `10.244.x.y/26 via 192.168.179.10x dev eth0 proto 93` (the seed's `proto bird`); no tunl0.
    await waitFor(
      () => {
        const rs = lab.routes('k8s-master');
        const via = (b: string, gw: string) => rs.some((r) => r.dst === b && r.gateway === gw && r.dev === 'eth0' && r.protocol === '93');
        return via(blockOf(p1), NODE1) && via(blockOf(p2), NODE2) && !rs.some((r) => r.dev === 'tunl0');
      },
      10_000,
      { what: `BGP-mode routes on k8s-master: ${JSON.stringify(lab.routes('k8s-master'))}` },
    );
    await waitFor(() => lab.ping('pod-master', 'pod-node2'), 10_000, { what: 'pod-master → pod-node2', intervalMs: 200 });
    await waitFor(() => lab.ping('pod-node1', 'pod-master'), 10_000, { what: 'pod-node1 → pod-master', intervalMs: 200 });

    // 2. The full mesh: two mesh peers each, one TCP/179 connection per pair of hosts.
    assert.deepEqual(statusPeers(await lab.nodeStatus('k8s-master')), { [NODE1]: 'node-to-node mesh', [NODE2]: 'node-to-node mesh' });
    const conns = new Set<string>();
    for (const [h, addr] of Object.entries(HOSTS) as [Host, string][]) {
      const cs = lab.bgpConnections(h);
      assert.ok(cs.every(([l]) => ip(l) === addr), `${h}: ${JSON.stringify(cs)}`);
      const remotes = cs.map(([, r]) => ip(r)).sort();
      assert.deepEqual(remotes, Object.values(HOSTS).filter((x) => x !== addr).sort(), `${h}: one session to each other host: ${JSON.stringify(cs)}`);
      for (const [l, r] of cs) conns.add([l, r].sort().join(' '));
    }
    assert.equal(conns.size, 3, `3 hosts, 3 connections: ${[...conns].join('; ')}`);

    // 3. The mesh is not switched off; the Nodes carry the default AS.
    assert.doesNotMatch(await lab.ok(['get', 'bgpconfig']), /^default\s+\S+\s+false/m);
    const nodes = await lab.ok(['get', 'node', '-o', 'wide']);
    assert.match(nodes, /^NAME\s+ASN\s+IPV4\s+IPV6/);
    for (const [h, addr] of Object.entries(HOSTS)) assert.match(nodes, new RegExp(`^${h}\\s+\\(64512\\)\\s+${addr.replaceAll('.', '\\.')}/24`, 'm'));

    // 4. Mesh off: no peers, the learned routes go, the pods are cut off.
    assert.match(await lab.apply(MESH_OFF), /Successfully applied 1 'BGPConfiguration' resource\(s\)/);
    assert.match(await lab.ok(['get', 'bgpconfig']), /^default\s+Info\s+false\s+64512/m);
    await waitFor(async () => /IPv4 BGP status\nNo IPv4 peers found\./.test(await lab.nodeStatus('k8s-master')), 10_000, { what: 'No IPv4 peers found.' });
    await waitFor(() => !lab.routes('k8s-master').some((r) => r.dst === blockOf(p2)), 10_000, { what: "k8s-node2's block withdrawn on k8s-master" });
    assert.equal(await lab.ping('k8s-master', p2), false, 'the seed: ping 10.244.169.x from k8s-master gets no answer');
    assert.equal(await lab.ping('pod-master', 'pod-node2'), false, 'pods cut off');
    assert.deepEqual(lab.bgpConnections('k8s-master'), []);

    // 5. k8s-node2 becomes the reflector: label, cluster ID through the exported Node, the BGPPeer.
    assert.match(await lab.ok(['label', 'nodes', 'k8s-node2', 'route-reflector=true']), /Successfully set label route-reflector on nodes k8s-node2/);
    const node2 = await lab.ok(['get', 'node', 'k8s-node2', '-o', 'yaml']);
    assert.match(node2, /route-reflector: "true"/);
    const edited = node2.replace(/^(\s*)ipv4Address: 192\.168\.179\.104\/24$/m, '$&\n$1routeReflectorClusterID: 244.0.0.1');
    assert.notEqual(edited, node2);
    assert.match(await lab.apply(edited), /Successfully applied 1 'Node' resource\(s\)/);
    assert.match(await lab.apply(RR_PEER), /Successfully applied 1 'BGPPeer' resource\(s\)/);
    assert.match(await lab.ok(['get', 'bgppeer']), /^peer-with-route-reflectors\s+all\(\)\s+0\s*$/m);
    await waitFor(() => lab.ping('k8s-master', p2), 20_000, { what: 'k8s-master → pod-node2 again', intervalMs: 200 });
    await waitFor(() => lab.ping('pod-master', 'pod-node1'), 20_000, { what: 'pod-master → pod-node1 (reflected routes)', intervalMs: 200 });
    assert.ok(await lab.ping('pod-master', 'pod-node2', 3));
    assert.deepEqual(statusPeers(await lab.nodeStatus('k8s-master')), { [NODE2]: 'node specific' });
    assert.deepEqual(statusPeers(await lab.nodeStatus('k8s-node2')), { [MASTER]: 'node specific', [NODE1]: 'node specific' });
    assert.deepEqual(lab.bgpConnections('k8s-master').map(([, r]) => ip(r)), [NODE2]);
    assert.deepEqual(lab.bgpConnections('k8s-node2').map(([, r]) => ip(r)).sort(), [MASTER, NODE1]);
    // The reflector kept the clients' next hops: k8s-node1's block via k8s-node1.
    assert.ok(lab.routes('k8s-master').some((r) => r.dst === blockOf(p1) && r.gateway === NODE1 && r.protocol === '93'));

    // 6. Down leaves nothing.
    await lab.down();
  });

  it("tortie's order: the reflector first, the mesh off last — a continuous ping loses nothing", async (t) => {
    const lab = newLab('s2b');
    t.diagnostic(`lab up: ${((await lab.up()) / 1000).toFixed(1)} s`);
    const exported = await lab.ok(['get', 'ippool', '-o', 'yaml']);
    await lab.apply(exported.replace('ipipMode: Always', 'ipipMode: Never'));
    const p1 = lab.pod('pod-node1');
    await waitFor(() => lab.ping('pod-master', 'pod-node1'), 10_000, { what: 'pod-master → pod-node1', intervalMs: 200 });

    // Pods on the two hosts that do not become reflectors.
    const ping = continuousPing(lab, 'pod-master', p1);
    await sleep(500);
    await lab.ok(['label', 'nodes', 'k8s-node2', 'route-reflector=true']);
    await lab.ok(['patch', 'node', 'k8s-node2', '-p', '{"spec":{"bgp":{"routeReflectorClusterID":"244.0.0.1"}}}']);
    await lab.apply(RR_PEER);
    // The reflector's clients are up before the mesh goes.
    await waitFor(async () => Object.keys(statusPeers(await lab.nodeStatus('k8s-node2'))).sort().join() === [MASTER, NODE1].join(), 20_000, { what: 'reflector clients' });
    await waitFor(async () => statusPeers(await lab.nodeStatus('k8s-master'))[NODE2] === 'node specific', 20_000, { what: 'k8s-master peering with the reflector' });
    await waitFor(async () => statusPeers(await lab.nodeStatus('k8s-node1'))[NODE2] === 'node specific', 20_000, { what: 'k8s-node1 peering with the reflector' });
    await lab.apply(MESH_OFF);
    await waitFor(
      async () =>
        JSON.stringify(statusPeers(await lab.nodeStatus('k8s-master'))) === JSON.stringify({ [NODE2]: 'node specific' }) &&
        JSON.stringify(statusPeers(await lab.nodeStatus('k8s-node1'))) === JSON.stringify({ [NODE2]: 'node specific' }),
      20_000,
      { what: 'clients with one peer each (the reflector)' },
    );
    await sleep(1000);
    const r = await ping.stop();
    t.diagnostic(`continuous ping: ${r.sent} sent, ${r.lost} lost`);
    assert.ok(r.sent > 50, `ping ran (${r.sent} sent)`);
    assert.equal(r.lost, 0, `lost ${r.lost} of ${r.sent}: icmp_seq ${r.missing.slice(0, 20).join(',')}`);
    assert.deepEqual(lab.bgpConnections('k8s-master').map(([, x]) => ip(x)), [NODE2]);
    await lab.down();
  });
});
