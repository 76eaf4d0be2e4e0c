/**
 * Interop, part 3 of 3: route reflection (RFC 4456) with real daemons, iBGP AS 4200000004, IPv4
 * sessions carrying IPv4 and IPv6 unicast (MP-BGP, RFC 4760).
 *  1. tortie as route reflector (cluster id 10.230.0.254) with BIRD 2, FRR and GoBGP clients: a
 *     route from one client reaches the others with its next hop, LOCAL_PREF and communities
 *     kept, ORIGINATOR_ID = the originating client and CLUSTER_LIST = [tortie's cluster id] as
 *     each daemon shows them; tortie's own routes reach every client without either attribute;
 *     a client's withdrawal is reflected.
 *  2. tortie as a client of a BIRD 2 reflector (cluster id 10.240.0.254), next to an FRR client:
 *     FRR's route reaches tortie with ORIGINATOR_ID/CLUSTER_LIST, tortie's reaches FRR with
 *     ORIGINATOR_ID = tortie's router id.
 * Each lab is an L2 segment (a bridge in its own namespace) with one namespace per speaker;
 * tortie runs in a child process inside its namespace (test/helpers/tortie-proc.ts).
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { cleanupAll, createNetns, createSegment, skipReason, waitFor, type Netns, type Segment } from '../helpers/netns.js';
import { daemonSkipReason, startDaemon, waitEstablished, type DaemonHandle, type DaemonKind } from '../helpers/daemons.js';
import { startTortie, type TortieProc } from '../helpers/tortie-proc.js';
import { describeWire, noDad, rrAttributes, tortieRoute, waitDaemonNoRoute, waitDaemonRoute, waitLinkLocal, waitTortieEstablished, waitTortieRoute, withdrawOwn } from '../helpers/interop.js';

const AS = 4200000004;
const HOLD = 9;
const nsSkip = skipReason();
const skipFor = (...kinds: DaemonKind[]): string | false => {
  for (const k of kinds) {
    const r = daemonSkipReason(k);
    if (r) return r;
  }
  return false;
};

/** A segment with one namespace per host, each with `eth0` addressed and IPv6 usable at once. */
function lan(tag: string, hosts: { tag: string; addresses: string[] }[]): { segment: Segment; ns: Netns[] } {
  const segment = createSegment(`${tag}-lan`);
  const ns = hosts.map((h) => {
    const n = createNetns(`${tag}-${h.tag}`, { forwarding: true });
    noDad(n);
    segment.attach(n, h.addresses);
    waitLinkLocal(n, 'eth0');
    return n;
  });
  return { segment, ns };
}

async function dump(t: TortieProc | undefined, ds: DaemonHandle[]): Promise<void> {
  if (t) console.log(`--- tortie routes\n${JSON.stringify(await t.routes().catch(() => []))}\n--- tortie wire\n${describeWire(await t.wire().catch(() => []))}\n--- tortie log\n${t.log()}`);
  for (const d of ds) console.log(`--- ${d.kind} routes\n${JSON.stringify(await d.routes().catch((e) => String(e)))}\n--- ${d.kind} log\n${d.log()}`);
}

describe('BGP interop: route reflection', { skip: nsSkip ?? false, concurrency: true, timeout: 120_000 }, () => {
  after(async () => {
    await cleanupAll();
  });

  it('tortie reflects between BIRD 2, FRR and GoBGP clients (ORIGINATOR_ID, CLUSTER_LIST as the daemons show them)', { skip: skipFor('bird2', 'frr', 'gobgp') }, async () => {
    const CLUSTER = '10.230.0.254';
    const addr = { t: '10.230.0.1', b: '10.230.0.2', f: '10.230.0.3', g: '10.230.0.4' };
    const addr6 = { t: 'fd00:230::1', b: 'fd00:230::2', f: 'fd00:230::3', g: 'fd00:230::4' };
    const { segment, ns } = lan('rr', [
      { tag: 't', addresses: [`${addr.t}/24`, `${addr6.t}/64`] },
      { tag: 'b', addresses: [`${addr.b}/24`, `${addr6.b}/64`] },
      { tag: 'f', addresses: [`${addr.f}/24`, `${addr6.f}/64`] },
      { tag: 'g', addresses: [`${addr.g}/24`, `${addr6.g}/64`] },
    ]);
    const [tns, bns, fns, gns] = ns as [Netns, Netns, Netns, Netns];
    const ds: DaemonHandle[] = [];
    let t: TortieProc | undefined;
    try {
      const client = (kind: DaemonKind, netns: Netns, a: string, a6: string, originate: { prefix: string; communities?: string[]; localPref?: number; nextHop?: string }[], passive = false) =>
        startDaemon(kind, {
          netns,
          routerId: a,
          localAs: AS,
          localAddress: a,
          localAddress6: a6,
          peers: [{ address: addr.t, asNumber: AS, holdTime: HOLD, ipv6: true, passive }],
          originate,
          fib: false,
        });
      const bird = await client('bird2', bns, addr.b, addr6.b, [
        { prefix: '10.231.0.0/26', communities: ['64512:2'], localPref: 120 },
        { prefix: '10.231.0.64/26' },
        { prefix: 'fd00:231::/64', communities: ['64512:2'], localPref: 120 },
      ]);
      ds.push(bird);
      const frr = await client('frr', fns, addr.f, addr6.f, [
        { prefix: '10.232.0.0/26', communities: ['64512:3'], localPref: 130 },
        // FRR without zebra (fib: false) knows no interface address: it would announce ::ffff:10.230.0.3.
        { prefix: 'fd00:232::/64', localPref: 130, nextHop: addr6.f },
      ]);
      ds.push(frr);
      const gobgp = await client('gobgp', gns, addr.g, addr6.g, [{ prefix: '10.234.0.0/26', localPref: 140 }], true);
      ds.push(gobgp);
      const rrClient = (a: string) => ({ address: a, asNumber: AS, localAddress: addr.t, holdTime: HOLD, families: ['ipv4', 'ipv6'] as ('ipv4' | 'ipv6')[], routeReflectorClient: true });
      t = await startTortie(tns, {
        speaker: { routerId: addr.t, asNumber: AS, clusterId: CLUSTER, listen: { address: '::', port: 179 } },
        peers: [rrClient(addr.b), rrClient(addr.f), rrClient(addr.g)],
        originated: [
          { prefix: '10.233.0.0/26', communities: ['64512:1'] },
          { prefix: 'fd00:233::/64', nextHop: addr6.t },
        ],
      });
      await waitTortieEstablished(t, 20_000);
      for (const d of ds) await waitEstablished(d, 10_000);

      // BIRD's route, reflected to FRR and GoBGP.
      for (const d of [frr, gobgp]) {
        const r = await waitDaemonRoute(d, '10.231.0.0/26');
        assert.equal(r.fromPeer, addr.t, `${d.kind} learned it from the reflector`);
        assert.equal(r.nextHop, addr.b, `${d.kind}: next hop kept`);
        assert.equal(r.localPref, 120);
        assert.deepEqual(r.asPath, []);
        assert.deepEqual(r.communities, ['64512:2']);
        assert.deepEqual(await rrAttributes(d, '10.231.0.0/26'), { originatorId: addr.b, clusterList: [CLUSTER] }, `${d.kind} RFC 4456 attributes`);
      }
      const r6 = await waitDaemonRoute(frr, 'fd00:231::/64');
      assert.equal(r6.nextHop, addr6.b);
      assert.equal(r6.localPref, 120);
      assert.deepEqual(await rrAttributes(frr, 'fd00:231::/64'), { originatorId: addr.b, clusterList: [CLUSTER] });
      // FRR's and GoBGP's routes, reflected to BIRD.
      for (const [p, from, lp] of [
        ['10.232.0.0/26', addr.f, 130],
        ['10.234.0.0/26', addr.g, 140],
      ] as const) {
        const r = await waitDaemonRoute(bird, p);
        assert.equal(r.nextHop, from);
        assert.equal(r.localPref, lp);
        assert.deepEqual(await rrAttributes(bird, p), { originatorId: from, clusterList: [CLUSTER] }, `BIRD's view of ${p}`);
      }
      const b6 = await waitDaemonRoute(bird, 'fd00:232::/64');
      assert.equal(b6.nextHop, addr6.f);
      assert.deepEqual(await rrAttributes(bird, 'fd00:232::/64'), { originatorId: addr.f, clusterList: [CLUSTER] });
      await waitDaemonRoute(gobgp, '10.232.0.0/26');
      // tortie's own routes: to every client, with neither attribute.
      for (const d of [bird, frr, gobgp]) {
        const r = await waitDaemonRoute(d, '10.233.0.0/26');
        assert.equal(r.nextHop, addr.t);
        assert.equal(r.localPref, 100);
        assert.deepEqual(r.communities, ['64512:1']);
        const rr = await rrAttributes(d, '10.233.0.0/26');
        assert.equal(rr?.originatorId, undefined, `${d.kind}: no ORIGINATOR_ID on the reflector's own route`);
        assert.deepEqual(rr?.clusterList, []);
      }
      assert.equal((await waitDaemonRoute(bird, 'fd00:233::/64')).nextHop, addr6.t);
      // tortie's own view of what it reflects.
      const seen = await waitTortieRoute(t, '10.231.0.0/26');
      assert.equal(seen.from, addr.b);
      assert.equal(seen.originatorId, undefined, 'received from the originator itself');
      // Nothing comes back to its originator.
      assert.equal((await bird.routes()).filter((r) => r.prefix === '10.231.0.0/26' && !r.local).length, 0);
      // A client's withdrawal is reflected.
      await waitDaemonRoute(frr, '10.231.0.64/26');
      await withdrawOwn(bird, '10.231.0.64/26');
      await waitDaemonNoRoute(frr, '10.231.0.64/26');
      await waitDaemonNoRoute(gobgp, '10.231.0.64/26');
      assert.ok(await tortieRoute(t, '10.231.0.0/26'));
    } finally {
      if (process.env.TORTIE_INTEROP_DEBUG) await dump(t, ds);
      await t?.stop();
      for (const d of ds) await d.stop();
      for (const n of ns) await n.delete();
      await segment.delete();
    }
  });

  it('tortie as a client of a BIRD 2 route reflector, next to an FRR client', { skip: skipFor('bird2', 'frr') }, async () => {
    const CLUSTER = '10.240.0.254';
    const addr = { rr: '10.240.0.1', t: '10.240.0.2', f: '10.240.0.3' };
    const addr6 = { rr: 'fd00:240::1', t: 'fd00:240::2', f: 'fd00:240::3' };
    const { segment, ns } = lan('rc', [
      { tag: 'r', addresses: [`${addr.rr}/24`, `${addr6.rr}/64`] },
      { tag: 't', addresses: [`${addr.t}/24`, `${addr6.t}/64`] },
      { tag: 'f', addresses: [`${addr.f}/24`, `${addr6.f}/64`] },
    ]);
    const [rns, tns, fns] = ns as [Netns, Netns, Netns];
    const ds: DaemonHandle[] = [];
    let t: TortieProc | undefined;
    try {
      const bird = await startDaemon('bird2', {
        netns: rns,
        routerId: addr.rr,
        localAs: AS,
        localAddress: addr.rr,
        localAddress6: addr6.rr,
        peers: [
          { address: addr.t, asNumber: AS, holdTime: HOLD, ipv6: true, routeReflectorClient: true, clusterId: CLUSTER, passive: true },
          { address: addr.f, asNumber: AS, holdTime: HOLD, ipv6: true, routeReflectorClient: true, clusterId: CLUSTER },
        ],
        fib: false,
      });
      ds.push(bird);
      const frr = await startDaemon('frr', {
        netns: fns,
        routerId: addr.f,
        localAs: AS,
        localAddress: addr.f,
        localAddress6: addr6.f,
        peers: [{ address: addr.rr, asNumber: AS, holdTime: HOLD, ipv6: true }],
        originate: [
          { prefix: '10.241.0.0/26', communities: ['64512:3'], localPref: 150 },
          { prefix: 'fd00:241::/64', localPref: 150, nextHop: addr6.f },
        ],
        fib: false,
      });
      ds.push(frr);
      t = await startTortie(tns, {
        speaker: { routerId: addr.t, asNumber: AS, listen: { address: '::', port: 179 } },
        peers: [{ address: addr.rr, asNumber: AS, localAddress: addr.t, holdTime: HOLD, families: ['ipv4', 'ipv6'] }],
        originated: [
          { prefix: '10.242.0.0/26', communities: ['64512:1'], localPref: 110 },
          { prefix: 'fd00:242::/64', nextHop: addr6.t },
        ],
      });
      await waitTortieEstablished(t, 20_000);
      await waitEstablished(bird, 10_000);
      // FRR's routes through the reflector, as tortie sees them.
      const r = await waitTortieRoute(t, '10.241.0.0/26');
      assert.equal(r.from, addr.rr);
      assert.equal(r.nextHop, addr.f, 'next hop kept by the reflector');
      assert.equal(r.localPref, 150);
      assert.deepEqual(r.communities, ['64512:3']);
      assert.equal(r.originatorId, addr.f);
      assert.deepEqual(r.clusterList, [CLUSTER]);
      const r6 = await waitTortieRoute(t, 'fd00:241::/64');
      assert.equal(r6.nextHop, addr6.f);
      assert.equal(r6.originatorId, addr.f);
      assert.deepEqual(r6.clusterList, [CLUSTER]);
      // tortie's routes through the reflector, as FRR sees them.
      const f4 = await waitDaemonRoute(frr, '10.242.0.0/26');
      assert.equal(f4.fromPeer, addr.rr);
      assert.equal(f4.nextHop, addr.t);
      assert.equal(f4.localPref, 110);
      assert.deepEqual(f4.communities, ['64512:1']);
      assert.deepEqual(await rrAttributes(frr, '10.242.0.0/26'), { originatorId: addr.t, clusterList: [CLUSTER] });
      const f6 = await waitDaemonRoute(frr, 'fd00:242::/64');
      assert.equal(f6.nextHop, addr6.t);
      assert.deepEqual(await rrAttributes(frr, 'fd00:242::/64'), { originatorId: addr.t, clusterList: [CLUSTER] });
      // The reflector does not send tortie's route back to it (or tortie drops it: ORIGINATOR_ID is its own).
      await waitFor(async () => (await bird.routes()).some((x) => x.prefix === '10.242.0.0/26'), 5_000);
      assert.deepEqual((await t.routes('10.242.0.0/26')).map((x) => x.from), ['local']);
    } finally {
      if (process.env.TORTIE_INTEROP_DEBUG) await dump(t, ds);
      await t?.stop();
      for (const d of ds) await d.stop();
      for (const n of ns) await n.delete();
      await segment.delete();
    }
  });
});
