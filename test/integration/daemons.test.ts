/**
 * Tests of the interop harness itself (test/helpers/netns.ts, daemons.ts, bgp-responder.ts):
 * namespaces and processes come and go cleanly, every daemon kind starts and reports its state,
 * pairs of real daemons peer with each other (BIRD 2 ↔ FRR, GoBGP ↔ BIRD 1.6, ExaBGP → BIRD 2,
 * FRR as route reflector, loopback mode) and routes arrive with the expected attributes, graceful
 * restart keeps routes across a killed daemon, and nothing is left behind.
 *
 * Skips (with the reason) only when not root / no `ip netns`, or a daemon binary is missing
 * (scripts/setup.sh installs them). Runs in ~40 s.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import {
  cleanupAll,
  createLan,
  createNetns,
  createVethPair,
  liveNamespaces,
  livePids,
  run,
  skipReason,
  sleep,
  uniqueName,
} from '../helpers/netns.js';
import {
  DAEMON_KINDS,
  daemonSkipReason,
  freePort,
  startDaemon,
  waitEstablished,
  waitFor,
  waitRoute,
  type DaemonHandle,
  type DaemonKind,
  type RouteInfo,
} from '../helpers/daemons.js';
import { BgpResponder } from '../helpers/bgp-responder.js';
import { decodeMessage } from '../helpers/bgp-decode.js';

const nsSkip = skipReason();
const skipFor = (...kinds: DaemonKind[]): string | false => {
  for (const k of kinds) {
    const r = daemonSkipReason(k);
    if (r) return r;
  }
  return false;
};

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Stops the daemons and checks that their processes and temp dirs are gone. */
async function stopAll(...ds: DaemonHandle[]): Promise<void> {
  for (const d of ds) {
    const pids = d.pids;
    await d.stop();
    for (const pid of pids) assert.equal(alive(pid), false, `${d.kind} pid ${pid} still running after stop()`);
    assert.equal(existsSync(d.dir), false, `${d.kind} dir ${d.dir} left behind`);
  }
}

const find = (routes: RouteInfo[], prefix: string, from?: string) => routes.find((r) => r.prefix === prefix && !r.local && (!from || r.fromPeer === from));

describe('daemon harness', { skip: nsSkip ?? false, timeout: 240_000 }, () => {
  after(async () => {
    await cleanupAll();
  });

  it('netns: L2 segment, addresses, exec, tracked processes, delete', async () => {
    const { segment, hosts } = createLan('nt', [
      { tag: 'a', addresses: ['10.91.0.1/24', 'fd00:91::1/64'] },
      { tag: 'b', addresses: ['10.91.0.2/24', 'fd00:91::2/64'] },
    ]);
    const [a, b] = hosts as [ReturnType<typeof createNetns>, ReturnType<typeof createNetns>];
    assert.match(a.name, new RegExp(`^t${process.pid}-`));
    assert.equal(a.exec(['ping', '-c1', '-W2', '10.91.0.2']).status, 0);
    assert.equal(a.exec(['ping', '-c1', '-W2', 'fd00:91::2']).status, 0);
    a.addRoute('blackhole', '10.244.9.0/24');
    assert.match(a.ip('route', 'show', '10.244.9.0/24'), /blackhole 10\.244\.9\.0\/24/);
    const sleeper = b.spawn(['sleep', '300']);
    assert.ok(alive(sleeper.pid));
    assert.deepEqual(b.pids(), [sleeper.pid], '`ip netns exec` execs: the tracked PID is the process inside');
    await b.delete();
    assert.equal(alive(sleeper.pid), false);
    assert.equal(b.exists(), false);
    await a.delete();
    await segment.delete();
    assert.equal(liveNamespaces().length, 0);
  });

  for (const kind of DAEMON_KINDS) {
    it(`${kind}: starts, reports peers and routes, exec, restart, stop() leaves no process`, { skip: skipFor(kind) }, async () => {
      const ns = createNetns(`one-${kind}`);
      // A veth pair with both ends in the namespace: an interface for our addresses, nobody behind it.
      createVethPair({ ns, ifname: 'eth0', addresses: ['10.92.0.1/24', 'fd00:92::1/64'] }, { ns, ifname: 'eth1' });
      const t0 = Date.now();
      const d = await startDaemon(kind, {
        netns: ns,
        routerId: '10.92.0.1',
        localAs: 4200000001,
        localAddress: '10.92.0.1',
        localAddress6: 'fd00:92::1',
        // Nobody answers at .9: the session stays down.
        peers: [{ address: '10.92.0.9', asNumber: 65009, holdTime: 9 }],
        originate: [{ prefix: '10.244.92.0/24', communities: ['65000:1'] }],
      });
      const startMs = Date.now() - t0;
      assert.ok(startMs < 5000, `${kind} took ${startMs} ms to start`);
      assert.ok(d.running());
      const peers = await d.peers();
      assert.equal(peers.length, 1);
      assert.equal(peers[0]!.address, '10.92.0.9');
      assert.equal(peers[0]!.established, false);
      assert.equal(peers[0]!.asNumber, 65009);
      const own = (await d.routes()).find((r) => r.prefix === '10.244.92.0/24');
      assert.ok(own, `${kind} lists its own route`);
      assert.equal(own.local, true);
      const probe: Record<DaemonKind, [string, RegExp]> = {
        bird2: ['show status', /BIRD 2\./],
        bird16: ['show status', /BIRD 1\.6/],
        frr: ['show version', /FRRouting/],
        gobgp: ['global', /AS:\s+4200000001/],
        exabgp: ['show neighbor summary', /^$/],
      };
      assert.match(await d.exec(probe[kind][0]), probe[kind][1]);
      // restart(): new process, same config; GoBGP's routes are added again.
      const oldPid = d.pid;
      await d.restart();
      assert.notEqual(d.pid, oldPid);
      assert.equal(alive(oldPid), false);
      await waitFor(async () => (await d.routes()).some((r) => r.prefix === '10.244.92.0/24' && r.local), 10_000, { what: 'own route after restart' });
      await stopAll(d);
      assert.equal(d.running(), false);
      await ns.delete();
      assert.equal(ns.exists(), false);
    });
  }

  it('BIRD 2 ↔ FRR: eBGP, 4-octet ASN, IPv4 + IPv6, MD5, attributes', { skip: skipFor('bird2', 'frr') }, async () => {
    const {
      hosts: [r1, sw],
    } = createLan('bf', [
      { tag: 'r1', addresses: ['10.93.0.1/24', 'fd00:93::1/64'] },
      { tag: 'sw', addresses: ['10.93.0.254/24', 'fd00:93::fe/64'] },
    ]);
    const bird = await startDaemon('bird2', {
      netns: r1!,
      routerId: '10.93.0.1',
      localAs: 64512,
      localAddress: '10.93.0.1',
      localAddress6: 'fd00:93::1',
      peers: [{ address: '10.93.0.254', asNumber: 4200000002, ipv6: true, password: 'lab-secret' }],
      originate: [
        { prefix: '10.244.1.0/26', communities: ['65000:100', '65000:200'], largeCommunities: ['64512:1:2'], med: 50 },
        { prefix: 'fd00:244:1::/64', communities: ['65000:300'] },
      ],
    });
    const frr = await startDaemon('frr', {
      netns: sw!,
      routerId: '10.93.0.254',
      localAs: 4200000002,
      localAddress: '10.93.0.254',
      localAddress6: 'fd00:93::fe',
      peers: [{ address: '10.93.0.1', asNumber: 64512, ipv6: true, password: 'lab-secret' }],
      originate: [{ prefix: '10.250.0.0/26', communities: ['65001:7'], largeCommunities: ['4200000002:7:7'], med: 7 }],
    });
    await waitEstablished(bird);
    await waitEstablished(frr);
    const r = await waitRoute(frr, '10.244.1.0/26', 15_000, '10.93.0.1');
    assert.equal(r.nextHop, '10.93.0.1');
    assert.deepEqual(r.asPath, [64512]);
    assert.equal(r.origin, 'igp');
    assert.equal(r.med, 50);
    assert.deepEqual(r.communities, ['65000:100', '65000:200']);
    assert.deepEqual(r.largeCommunities, ['64512:1:2']);
    const r6 = await waitRoute(frr, 'fd00:244:1::/64', 15_000, '10.93.0.1');
    assert.equal(r6.nextHop, 'fd00:93::1');
    assert.deepEqual(r6.communities, ['65000:300']);
    const back = await waitRoute(bird, '10.250.0.0/26', 15_000, '10.93.0.254');
    assert.deepEqual(back.asPath, [4200000002]);
    assert.equal(back.nextHop, '10.93.0.254');
    assert.equal(back.med, 7);
    assert.deepEqual(back.largeCommunities, ['4200000002:7:7']);
    // Calico-style export: FRR does not send BIRD's own route back.
    assert.equal(find(await bird.routes(), '10.244.1.0/26'), undefined);
    // The kernel of r1 got the FRR route (BIRD kernel protocol), sw got BIRD's (zebra).
    await waitFor(() => /10\.250\.0\.0\/26 via 10\.93\.0\.254/.test(r1!.ip('route')), 10_000, { what: 'r1 kernel route' });
    await waitFor(() => /10\.244\.1\.0\/26 .*via 10\.93\.0\.1/.test(sw!.ip('route')), 10_000, { what: 'sw kernel route' });
    // TCP MD5 is really on the socket.
    assert.match(sw!.exec(['ss', '-tni']).stdout, /md5/);
    assert.match(await frr.exec('show bgp summary'), /10\.93\.0\.1/);
    await stopAll(bird, frr);
  });

  it('GoBGP ↔ BIRD 1.6: iBGP over IPv4 (bird) and IPv6 (bird6), LOCAL_PREF, next hop self', { skip: skipFor('gobgp', 'bird16') }, async () => {
    const {
      hosts: [r2, r3],
    } = createLan('gb', [
      { tag: 'r2', addresses: ['10.94.0.2/24', 'fd00:94::2/64'] },
      { tag: 'r3', addresses: ['10.94.0.3/24', 'fd00:94::3/64'] },
    ]);
    // GoBGP waits 5–10 s before its first outgoing connection: let BIRD connect to it.
    const gobgp = await startDaemon('gobgp', {
      netns: r2!,
      routerId: '10.94.0.2',
      localAs: 64512,
      localAddress: '10.94.0.2',
      localAddress6: 'fd00:94::2',
      peers: [
        { address: '10.94.0.3', asNumber: 64512, passive: true },
        { address: 'fd00:94::3', asNumber: 64512, passive: true },
      ],
      originate: [
        { prefix: '10.244.2.0/26', communities: ['64512:2'], localPref: 300, med: 20 },
        { prefix: 'fd00:244:2::/64', communities: ['64512:6'], localPref: 310 },
      ],
    });
    const bird = await startDaemon('bird16', {
      netns: r3!,
      routerId: '10.94.0.3',
      localAs: 64512,
      localAddress: '10.94.0.3',
      localAddress6: 'fd00:94::3',
      peers: [
        { address: '10.94.0.2', asNumber: 64512, nextHopSelf: true },
        { address: 'fd00:94::2', asNumber: 64512 },
      ],
      originate: [
        { prefix: '10.244.3.0/26', communities: ['64512:3'], largeCommunities: ['64512:3:3'], localPref: 150 },
        { prefix: 'fd00:244:3::/64', localPref: 160 },
      ],
    });
    assert.equal(bird.pids.length, 2, 'BIRD 1.6 runs bird and bird6');
    await waitEstablished(gobgp);
    await waitEstablished(bird);
    const g = await waitRoute(bird, '10.244.2.0/26', 15_000, '10.94.0.2');
    assert.equal(g.localPref, 300);
    assert.equal(g.med, 20);
    assert.deepEqual(g.asPath, []);
    assert.deepEqual(g.communities, ['64512:2']);
    assert.equal(g.nextHop, '10.94.0.2');
    const g6 = await waitRoute(bird, 'fd00:244:2::/64', 15_000, 'fd00:94::2');
    assert.equal(g6.localPref, 310);
    assert.equal(g6.nextHop, 'fd00:94::2');
    const b = await waitRoute(gobgp, '10.244.3.0/26', 15_000, '10.94.0.3');
    assert.equal(b.localPref, 150);
    assert.deepEqual(b.largeCommunities, ['64512:3:3']);
    assert.equal(b.nextHop, '10.94.0.3');
    const b6 = await waitRoute(gobgp, 'fd00:244:3::/64', 15_000, 'fd00:94::3');
    assert.equal(b6.localPref, 160);
    assert.equal(b6.nextHop, 'fd00:94::3');
    assert.match(await bird.exec('bird6: show protocols'), /Established/);
    await stopAll(gobgp, bird);
  });

  it('ExaBGP → BIRD 2: static and API-announced routes, withdraw, routes seen by exabgp', { skip: skipFor('exabgp', 'bird2') }, async () => {
    const {
      hosts: [feeder, r1],
    } = createLan('eb', [
      { tag: 'fd', addresses: ['10.95.0.10/24'] },
      { tag: 'r1', addresses: ['10.95.0.1/24'] },
    ]);
    const bird = await startDaemon('bird2', {
      netns: r1!,
      routerId: '10.95.0.1',
      localAs: 64512,
      localAddress: '10.95.0.1',
      peers: [{ address: '10.95.0.10', asNumber: 65010, passive: true }],
      originate: [{ prefix: '10.244.1.0/26', communities: ['64512:1'] }],
    });
    const exa = await startDaemon('exabgp', {
      netns: feeder!,
      routerId: '10.95.0.10',
      localAs: 65010,
      localAddress: '10.95.0.10',
      peers: [{ address: '10.95.0.1', asNumber: 64512 }],
      originate: [{ prefix: '100.64.0.0/24', communities: ['65010:1'], largeCommunities: ['65010:1:1'], med: 5 }],
    });
    await waitEstablished(exa);
    await waitEstablished(bird);
    const s = await waitRoute(bird, '100.64.0.0/24', 15_000, '10.95.0.10');
    assert.deepEqual(s.asPath, [65010]);
    assert.equal(s.med, 5);
    assert.deepEqual(s.communities, ['65010:1']);
    assert.deepEqual(s.largeCommunities, ['65010:1:1']);
    assert.equal(s.nextHop, '10.95.0.10');
    await exa.exec('announce route 100.64.1.0/24 next-hop self community [65010:2] med 9');
    const a = await waitRoute(bird, '100.64.1.0/24', 15_000, '10.95.0.10');
    assert.deepEqual(a.communities, ['65010:2']);
    assert.equal(a.med, 9);
    await exa.exec('withdraw route 100.64.1.0/24 next-hop self');
    await waitFor(async () => !find(await bird.routes(), '100.64.1.0/24'), 15_000, { what: 'withdrawal in BIRD' });
    const learned = await waitRoute(exa, '10.244.1.0/26', 15_000, '10.95.0.1');
    assert.deepEqual(learned.asPath, [64512]);
    assert.deepEqual(learned.communities, ['64512:1']);
    await stopAll(exa, bird);
    // BIRD saw the session go down; the route from the feeder is gone with it.
  });

  it('FRR route reflector with BIRD 2 and GoBGP clients; graceful restart keeps routes across kill -9', { skip: skipFor('frr', 'bird2', 'gobgp') }, async () => {
    const {
      hosts: [rr, c1, c2],
    } = createLan('rr', [
      { tag: 'rr', addresses: ['10.96.0.254/24'] },
      { tag: 'c1', addresses: ['10.96.0.1/24'] },
      { tag: 'c2', addresses: ['10.96.0.2/24'] },
    ]);
    const gr = { restartTime: 60 };
    const frr = await startDaemon('frr', {
      netns: rr!,
      routerId: '10.96.0.254',
      localAs: 64512,
      localAddress: '10.96.0.254',
      peers: [
        { address: '10.96.0.1', asNumber: 64512, routeReflectorClient: true, clusterId: '1.1.1.1', gracefulRestart: gr },
        { address: '10.96.0.2', asNumber: 64512, routeReflectorClient: true, clusterId: '1.1.1.1' },
      ],
    });
    const bird = await startDaemon('bird2', {
      netns: c1!,
      routerId: '10.96.0.1',
      localAs: 64512,
      localAddress: '10.96.0.1',
      peers: [{ address: '10.96.0.254', asNumber: 64512, gracefulRestart: gr }],
      originate: [{ prefix: '10.244.1.0/26', communities: ['64512:1'], localPref: 120 }],
    });
    const gobgp = await startDaemon('gobgp', {
      netns: c2!,
      routerId: '10.96.0.2',
      localAs: 64512,
      localAddress: '10.96.0.2',
      peers: [{ address: '10.96.0.254', asNumber: 64512, passive: true }],
      originate: [{ prefix: '10.244.2.0/26' }],
    });
    await waitEstablished(frr);
    const reflected = await waitRoute(gobgp, '10.244.1.0/26', 15_000, '10.96.0.254');
    assert.equal(reflected.nextHop, '10.96.0.1', 'a reflector keeps the next hop');
    assert.equal(reflected.localPref, 120);
    assert.deepEqual(reflected.communities, ['64512:1']);
    await waitRoute(bird, '10.244.2.0/26', 15_000, '10.96.0.254');

    const oldPid = bird.pid;
    await bird.kill('SIGKILL');
    assert.equal(alive(oldPid), false);
    await waitFor(async () => !(await frr.peers()).find((p) => p.address === '10.96.0.1')?.established, 10_000, { what: 'FRR notices' });
    await sleep(1000);
    const stale = find(await frr.routes(), '10.244.1.0/26', '10.96.0.1');
    assert.ok(stale, 'FRR keeps the route of the restarting peer');
    assert.equal(stale.stale, true);
    await bird.restart({ gracefulRestart: true });
    assert.notEqual(bird.pid, oldPid);
    await waitEstablished(bird);
    await waitFor(
      async () => {
        const r = find(await frr.routes(), '10.244.1.0/26', '10.96.0.1');
        return r && !r.stale;
      },
      15_000,
      { what: 'route refreshed (not stale) after the restart' },
    );
    assert.ok(find(await gobgp.routes(), '10.244.1.0/26'), 'the client never lost the route');
    await stopAll(gobgp, bird, frr);
  });

  it('loopback mode: BIRD 2 ↔ GoBGP and FRR ↔ BIRD 1.6 on 127.0.0.x with explicit ports', { skip: skipFor('bird2', 'gobgp', 'frr', 'bird16') }, async () => {
    for (const [ka, kb] of [
      ['bird2', 'gobgp'],
      ['frr', 'bird16'],
    ] as const) {
      const pa = await freePort('127.0.0.1');
      const pb = await freePort('127.0.0.2');
      const a = await startDaemon(ka, {
        routerId: '10.97.0.1',
        localAs: 64512,
        localAddress: '127.0.0.1',
        listenPort: pa,
        peers: [{ address: '127.0.0.2', port: pb, asNumber: 65002 }],
        originate: [{ prefix: '10.244.1.0/26', communities: ['64512:1'] }],
      });
      const b = await startDaemon(kb, {
        routerId: '10.97.0.2',
        localAs: 65002,
        localAddress: '127.0.0.2',
        listenPort: pb,
        peers: [{ address: '127.0.0.1', port: pa, asNumber: 64512, passive: true }],
        originate: [{ prefix: '10.244.2.0/26' }],
      });
      assert.equal(a.listenPort, pa);
      await waitEstablished(a);
      const r = await waitRoute(b, '10.244.1.0/26', 15_000, '127.0.0.1');
      // In loopback mode own routes default to next hop = router id (127/8 is martian to FRR and GoBGP).
      assert.equal(r.nextHop, '10.97.0.1');
      assert.deepEqual(r.communities, ['64512:1']);
      await waitRoute(a, '10.244.2.0/26', 15_000, '127.0.0.2');
      await stopAll(a, b);
    }
  });

  it('bgp-responder captures a daemon OPEN and UPDATE in-process (loopback)', { skip: skipFor('bird2') }, async () => {
    const port = await freePort('127.0.0.1');
    const responder = new BgpResponder({ asNumber: 65100, routerId: '10.98.0.2', families: ['ipv4'] });
    const rport = await responder.listen('127.0.0.2', 0);
    const bird = await startDaemon('bird2', {
      routerId: '10.98.0.1',
      localAs: 64512,
      localAddress: '127.0.0.1',
      listenPort: port,
      peers: [{ address: '127.0.0.2', port: rport, asNumber: 65100, holdTime: 30 }],
      originate: [{ prefix: '10.244.5.0/24', med: 5 }],
    });
    try {
      await waitFor(() => responder.messages.some((m) => m.typeName === 'UPDATE' && decodeMessage(m.hex).type === 'UPDATE' && m.length > 23), 15_000, { what: 'UPDATE' });
      const open = decodeMessage(responder.messages.find((m) => m.typeName === 'OPEN')!.hex);
      assert.equal(open.type, 'OPEN');
      if (open.type === 'OPEN' && 'holdTime' in open) {
        assert.equal(open.holdTime, 30);
        assert.equal(open.myAs, 64512);
        assert.equal(open.bgpId, '10.98.0.1');
      }
    } finally {
      responder.close();
      await stopAll(bird);
    }
  });

  it('leaves no namespace, process or temp dir behind', async () => {
    await cleanupAll();
    assert.deepEqual(liveNamespaces(), []);
    assert.deepEqual(livePids(), []);
    const prefix = uniqueName('x').slice(0, -1);
    const ours = run(['ip', 'netns', 'list']).stdout.split('\n').filter((l) => l.startsWith(prefix));
    assert.deepEqual(ours, []);
    const left = spawnSync('pgrep', ['-f', `tortie-(bird2|bird16|frr|gobgp|exabgp)-${process.pid}-`], { encoding: 'utf8' }).stdout.trim();
    assert.equal(left, '', `daemon processes left: ${left}`);
  });
});
