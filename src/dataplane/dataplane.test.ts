/**
 * Dataplane against the in-memory kernel: what each apply changes (the fake's op log), what it
 * leaves alone, and that a second apply of the same plan changes nothing.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Dataplane, FULL_CHECK_MS } from './dataplane.js';
import { FakeKernel, type FakeKernelOptions } from './fake.js';
import { detectHostMtu } from './mtu.js';
import { normalizeNft } from './nat.js';
import type { Route } from './port.js';
import type { ApplyReport } from './report.js';
import { TORTIE_ROUTE_PROTO, type DataplanePlan, type KernelRoute, type VxlanDevice } from './types.js';

const VX: VxlanDevice = {
  name: 'vxlan.calico',
  vni: 4096,
  port: 4789,
  mac: '66:AA:00:00:00:01', // upper case on purpose: compared normalised
  localIP: '192.168.1.10',
  parent: 'eth0',
  address: '10.244.1.0',
  mtu: 1450,
  peers: [
    { nodeName: 'b', tunnelIP: '10.244.2.0', mac: '66:bb:00:00:00:02', nodeIP: '192.168.1.11' },
    { nodeName: 'c', tunnelIP: '10.244.3.0', mac: '66:cc:00:00:00:03', nodeIP: '192.168.1.12' },
  ],
};
const VX_ROUTES: KernelRoute[] = [
  { dst: '10.244.2.0/26', type: 'unicast', gateway: '10.244.2.0', dev: 'vxlan.calico', onlink: true },
  { dst: '10.244.3.0/26', type: 'unicast', gateway: '10.244.3.0', dev: 'vxlan.calico', onlink: true },
  { dst: '10.244.1.0/26', type: 'blackhole' },
];
const NO_NAT = { masquerade: [], pools: [] };
const plan = (over: Partial<DataplanePlan> = {}): DataplanePlan => ({ routes: VX_ROUTES, vxlan: VX, nat: NO_NAT, ...over });

async function world(opts: FakeKernelOptions = {}) {
  const k = new FakeKernel(opts);
  k.addLink({ name: 'eth0', kind: 'device', mtu: 1500, mac: '52:54:00:00:00:01' });
  k.addLink({ name: 'eth1', kind: 'device', mtu: 9000, mac: '52:54:00:00:00:02' });
  await k.seedAddress({ dev: 'eth0', cidr: '192.168.1.10/24' });
  await k.seedAddress({ dev: 'eth1', cidr: '172.16.0.10/24' });
  const logs: string[] = [];
  const dp = new Dataplane({ netlink: k, sysctl: k, nft: k, log: (level, msg) => logs.push(`${level}: ${msg}`) });
  return { k, dp, logs };
}

/** Our routes as `ip route` would print them, sorted. */
async function ours(k: FakeKernel): Promise<string[]> {
  const rs = [...(await k.listRoutes(4)), ...(await k.listRoutes(6))];
  return rs.filter((r) => r.protocol === TORTIE_ROUTE_PROTO && r.table === 254).map(show).sort();
}
const show = (r: Route): string =>
  `${r.type === 'unicast' ? '' : r.type + ' '}${r.dst}${r.gateway ? ' via ' + r.gateway : ''}${r.dev ? ' dev ' + r.dev : ''}${r.onlink ? ' onlink' : ''} proto ${r.protocol}`;

function clean(rep: ApplyReport): void {
  assert.deepEqual(rep.errors, [], 'no errors');
  assert.equal(rep.ok, true);
}

describe('Dataplane: routes', () => {
  const cases: {
    name: string;
    setup: (k: FakeKernel) => Promise<void>;
    plan: DataplanePlan;
    routes: string[];
    foreign?: string[];
    counts: Partial<ApplyReport['routes']>;
    opsMustNot?: RegExp;
  }[] = [
    {
      name: 'initial sync removes stale proto-93 routes (v4 and v6) and keeps proto 3/12/kernel routes',
      setup: async (k) => {
        k.addLink({ name: 'cali1234567890', mtu: 1500 });
        await k.seedRoute({ dst: '10.244.1.5/32', type: 'unicast', dev: 'cali1234567890', protocol: 3 });
        await k.seedRoute({ dst: '10.244.9.0/26', type: 'unicast', gateway: '192.168.1.20', protocol: 12 });
        await k.seedRoute({ dst: '10.244.7.0/26', type: 'unicast', gateway: '192.168.1.21', protocol: TORTIE_ROUTE_PROTO });
        await k.seedRoute({ dst: '10.244.8.0/26', type: 'blackhole', protocol: TORTIE_ROUTE_PROTO });
        await k.seedRoute({ dst: 'fd00:8::/64', type: 'blackhole', protocol: TORTIE_ROUTE_PROTO });
        await k.seedRoute({ dst: '10.50.0.0/16', type: 'blackhole', protocol: TORTIE_ROUTE_PROTO, table: 100 }); // not the main table: not ours
      },
      plan: plan({ vxlan: undefined, routes: [{ dst: '10.244.1.0/26', type: 'blackhole' }] }),
      routes: ['blackhole 10.244.1.0/26 proto 93'],
      foreign: [
        '10.244.1.5/32 dev cali1234567890 proto 3',
        '10.244.9.0/26 via 192.168.1.20 dev eth0 proto 12',
        '192.168.1.0/24 dev eth0 proto 2',
        '172.16.0.0/24 dev eth1 proto 2',
      ],
      counts: { added: 1, deleted: 3, replaced: 0 },
      opsMustNot: /10\.244\.1\.5|10\.244\.9\.0|10\.50\.0\.0|192\.168\.1\.0/,
    },
    {
      name: 'a changed route is replaced in place, never deleted and re-added',
      setup: async (k) => {
        await k.seedRoute({ dst: '10.244.2.0/26', type: 'unicast', gateway: '192.168.1.11', protocol: TORTIE_ROUTE_PROTO });
      },
      plan: plan(),
      routes: [
        '10.244.2.0/26 via 10.244.2.0 dev vxlan.calico onlink proto 93',
        '10.244.3.0/26 via 10.244.3.0 dev vxlan.calico onlink proto 93',
        'blackhole 10.244.1.0/26 proto 93',
      ],
      counts: { added: 2, replaced: 1, deleted: 0 },
      opsMustNot: /route del 10\.244\.2\.0/,
    },
    {
      name: 'a desired prefix held by another protocol is left alone (warning, no replace)',
      setup: async (k) => {
        await k.seedRoute({ dst: '10.244.3.0/26', type: 'unicast', gateway: '192.168.1.12', protocol: 12 });
      },
      plan: plan(),
      routes: ['10.244.2.0/26 via 10.244.2.0 dev vxlan.calico onlink proto 93', 'blackhole 10.244.1.0/26 proto 93'],
      foreign: ['10.244.3.0/26 via 192.168.1.12 dev eth0 proto 12'],
      counts: { added: 2, replaced: 0, deleted: 0 },
      opsMustNot: /10\.244\.3\.0\/26/,
    },
    {
      name: 'gateway routes without a device, direct device routes, IPv6',
      setup: async () => {},
      plan: plan({
        vxlan: undefined,
        routes: [
          { dst: '10.244.5.0/26', type: 'unicast', gateway: '172.16.0.20' },
          { dst: '10.244.6.1/32', type: 'unicast', dev: 'eth1' },
          { dst: 'fd00:1::/122', type: 'blackhole' },
        ],
      }),
      routes: ['10.244.5.0/26 via 172.16.0.20 dev eth1 proto 93', '10.244.6.1/32 dev eth1 proto 93', 'blackhole fd00:1::/122 proto 93'],
      counts: { added: 3 },
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const { k, dp } = await world();
      await c.setup(k);
      const rep = await dp.apply(c.plan);
      clean(rep);
      assert.deepEqual(await ours(k), [...c.routes].sort());
      if (c.foreign) {
        const all = [...(await k.listRoutes(4)), ...(await k.listRoutes(6))].map(show);
        for (const f of c.foreign) assert.ok(all.includes(f), `kept: ${f} (have ${all.join('; ')})`);
      }
      for (const [key, n] of Object.entries(c.counts)) assert.equal(rep.routes[key as keyof ApplyReport['routes']], n, key);
      if (c.opsMustNot) for (const op of k.ops) assert.doesNotMatch(op, c.opsMustNot);
      k.clearOps();
      const again = await dp.apply(c.plan);
      assert.equal(again.changes, 0);
      assert.deepEqual(k.ops, []);
    });
  }

  it('a conflict is a warning, once', async () => {
    const { k, dp } = await world();
    await k.seedRoute({ dst: '10.244.3.0/26', type: 'unicast', gateway: '192.168.1.12', protocol: 12 });
    const first = await dp.apply(plan());
    assert.equal(first.issues.find((i) => i.code === 'ROUTE_CONFLICT')?.severity, 'warning');
    assert.equal(first.warnings.length, 1);
    const second = await dp.apply(plan());
    assert.deepEqual(second.warnings, [], 'not repeated');
    assert.equal(second.issues.length, 1, 'still listed in issues');
  });

  it('failed operations are reported and do not stop the rest', async () => {
    const { k, dp } = await world();
    const rep = await dp.apply(
      plan({
        routes: [...VX_ROUTES, { dst: '10.244.4.0/26', type: 'unicast', gateway: '10.99.0.1' }, { dst: '10.244.9.0/26', type: 'unicast', gateway: '1.1.1.1', dev: 'nope0', onlink: true }],
      }),
    );
    assert.equal(rep.ok, false);
    assert.deepEqual(rep.issues.map((i) => i.code).sort(), ['ENETUNREACH', 'NO_SUCH_LINK']);
    assert.equal(rep.routes.added, 3);
    assert.equal((await ours(k)).length, 3);
  });
});

describe('Dataplane: route-only passes', () => {
  const BGP = (dst: string, gateway: string): KernelRoute => ({ dst, type: 'unicast', gateway });
  const base = plan({ vxlan: undefined, routes: [{ dst: '10.244.1.0/26', type: 'blackhole' }, BGP('10.244.2.0/26', '192.168.1.11')] });
  /** Counts the kernel listings an apply makes. */
  function counted(k: FakeKernel) {
    const reads = { links: 0, routes: 0 };
    const links = k.listLinks.bind(k);
    const routes = k.listRoutes.bind(k);
    k.listLinks = () => (reads.links++, links());
    k.listRoutes = (f) => (reads.routes++, routes(f));
    return { reads, reset: () => Object.assign(reads, { links: 0, routes: 0 }) };
  }

  it('logs a full pass that changed something at info, a route-only pass at debug', async () => {
    const { dp, logs } = await world();
    await dp.apply(base);
    assert.ok(logs.some((l) => l.startsWith('info: dataplane applied: ')), logs.join('\n'));
    logs.length = 0;
    assert.equal((await dp.apply({ ...base, routes: [...base.routes, BGP('10.244.3.0/26', '192.168.1.12')] })).pass, 'route-only');
    assert.deepEqual(logs.filter((l) => l.includes('dataplane applied')), ['debug: dataplane applied: 1 change(s), 0 error(s), 0 warning(s)']);
  });

  it('one named route to change, debug off, a port that can do it at once: done before apply returns, as the general pass does it', async () => {
    // Two kernels fed the same applies: one whose routes can be changed synchronously (tortie's addon), one
    // without (every pass the general one). Same operations, same kernel, same reports.
    const quiet = Object.assign(() => {}, { enabled: (level: string) => level !== 'debug' });
    const twin = async (syncRoutes: boolean) => {
      const k = new FakeKernel({ syncRoutes });
      k.addLink({ name: 'eth0', kind: 'device', mtu: 1500, mac: '52:54:00:00:00:01' });
      await k.seedAddress({ dev: 'eth0', cidr: '192.168.1.10/24' });
      let now = 0;
      const dp = new Dataplane({ netlink: k, sysctl: k, nft: k, log: quiet, now: () => now++ });
      const sync = { n: 0 };
      const routeNow = k.routeNow.bind(k);
      k.routeNow = (op, r) => {
        const res = routeNow(op, r);
        if (res !== false) sync.n++;
        return res;
      };
      clean(await dp.apply(base));
      k.clearOps();
      return { k, dp, sync };
    };
    const a = await twin(true);
    const b = await twin(false);
    const three = BGP('10.244.3.0/26', '192.168.1.12');
    const moved = BGP('10.244.3.0/26', '192.168.1.13');
    const four = BGP('10.244.4.0/26', '192.168.1.14');
    const steps: { routes: KernelRoute[]; changes: [string, KernelRoute | undefined][]; sync: boolean; before?: (k: FakeKernel) => Promise<void> }[] = [
      { routes: [...base.routes, three], changes: [[three.dst, three]], sync: true }, // learned
      { routes: [...base.routes, moved], changes: [[moved.dst, moved]], sync: true }, // its next hop moved
      { routes: [...base.routes, moved], changes: [[moved.dst, moved], ['10.244.9.0/26', undefined]], sync: false }, // nothing to do
      { routes: base.routes, changes: [[moved.dst, undefined]], sync: true }, // withdrawn
      { routes: [...base.routes, three, four], changes: [[three.dst, three], [four.dst, four]], sync: false }, // two at once
      // withdrawn, but already gone from the kernel: what a delete wants
      {
        routes: [...base.routes, four],
        changes: [[three.dst, undefined]],
        sync: true,
        before: (k) => k.deleteRoute({ dst: three.dst, type: 'unicast', table: 254, protocol: TORTIE_ROUTE_PROTO, metric: 0 }),
      },
      // another protocol took the slot: the add fails (tried at once), and the general pass reports it and falls
      // over to a full one
      { routes: [...base.routes, four, three], changes: [[three.dst, three]], sync: true, before: (k) => k.seedRoute({ dst: three.dst, type: 'unicast', gateway: '192.168.1.50', protocol: 12 }) },
    ];
    for (const [i, st] of steps.entries()) {
      const reps = [];
      for (const t of [a, b]) {
        await st.before?.(t.k);
        const n = t.sync.n;
        reps.push(await t.dp.apply({ ...base, routes: st.routes }, { routes: new Map(st.changes) }));
        if (t === a) assert.equal(t.sync.n > n, st.sync, `step ${i}: a synchronous operation`);
      }
      const [ra, rb] = reps.map((r) => ({ ...r!, durationMs: 0 }));
      assert.deepEqual(ra, rb, `step ${i}: the same report`);
      assert.deepEqual(a.k.ops, b.k.ops, `step ${i}: the same operations`);
      assert.deepEqual(await ours(a.k), await ours(b.k), `step ${i}: the same routes`);
      if (i === steps.length - 1) assert.deepEqual([ra!.pass, ra!.issues.map((x) => x.code)], ['full', ['ROUTE_CONFLICT']]);
    }
    assert.equal(b.sync.n, 0, 'a port without the synchronous path is never asked');
    assert.ok(a.k.ops.includes('route add 10.244.3.0/26 via 192.168.1.12 proto 93'));
    // Debug on: the general pass, which logs each operation.
    const lines: string[] = [];
    const k = new FakeKernel();
    k.addLink({ name: 'eth0', kind: 'device', mtu: 1500, mac: '52:54:00:00:00:01' });
    await k.seedAddress({ dev: 'eth0', cidr: '192.168.1.10/24' });
    const dp = new Dataplane({ netlink: k, sysctl: k, nft: k, log: (level, msg) => void lines.push(`${level}: ${msg}`) });
    clean(await dp.apply(base));
    k.routeNow = () => assert.fail('asked for the synchronous path with debug on');
    lines.length = 0;
    await dp.apply({ ...base, routes: [...base.routes, three] }, { routes: new Map([[three.dst, three]]) });
    assert.ok(lines.includes('debug: route add 10.244.3.0/26 via 192.168.1.12 proto 93'), lines.join('\n'));
  });

  it('with a logger that says debug is off, a route-only pass logs nothing and builds no text for its operations', async () => {
    const k = new FakeKernel();
    k.addLink({ name: 'eth0', kind: 'device', mtu: 1500, mac: '52:54:00:00:00:01' });
    await k.seedAddress({ dev: 'eth0', cidr: '192.168.1.10/24' });
    const lines: string[] = [];
    let asked = 0;
    const log = Object.assign((level: string, msg: string) => void lines.push(`${level}: ${msg}`), {
      enabled: (level: string) => (asked++, level !== 'debug'),
    });
    const dp = new Dataplane({ netlink: k, sysctl: k, nft: k, log });
    await dp.apply(base);
    assert.ok(lines.some((l) => l.startsWith('info: dataplane applied: ')), lines.join('\n'));
    assert.ok(lines.every((l) => !l.startsWith('debug:')), lines.join('\n'));
    lines.length = 0;
    const extra = BGP('10.244.3.0/26', '192.168.1.12');
    const rep = await dp.apply({ ...base, routes: [...base.routes, extra] }, { routes: new Map([[extra.dst, extra]]) });
    assert.deepEqual([rep.pass, rep.routes.added, lines], ['route-only', 1, []]);
    assert.ok(asked > 0, 'the dataplane asked the logger');
    assert.deepEqual(await ours(k), ['10.244.2.0/26 via 192.168.1.11 dev eth0 proto 93', '10.244.3.0/26 via 192.168.1.12 dev eth0 proto 93', 'blackhole 10.244.1.0/26 proto 93']);
  });

  it('after a clean pass, routes learned, changed and withdrawn are programmed without listing the kernel', async () => {
    const { k, dp } = await world();
    const c = counted(k);
    assert.equal((await dp.apply(base)).pass, 'full');
    assert.ok(c.reads.links > 0 && c.reads.routes > 0);
    c.reset();
    k.clearOps();
    let rep = await dp.apply({ ...base, routes: [...base.routes, BGP('10.244.3.0/26', '192.168.1.12')] });
    clean(rep);
    assert.equal(rep.pass, 'route-only');
    assert.deepEqual(c.reads, { links: 0, routes: 0 });
    assert.deepEqual(k.ops, ['route add 10.244.3.0/26 via 192.168.1.12 proto 93']);
    rep = await dp.apply({ ...base, routes: [base.routes[0]!, BGP('10.244.2.0/26', '192.168.1.13'), BGP('10.244.3.0/26', '192.168.1.12')] });
    assert.equal(rep.pass, 'route-only');
    assert.deepEqual(rep.routes, { added: 0, replaced: 1, deleted: 0 });
    rep = await dp.apply({ ...base, routes: [base.routes[0]!] });
    assert.equal(rep.pass, 'route-only');
    assert.deepEqual(rep.routes, { added: 0, replaced: 0, deleted: 2 });
    assert.deepEqual(c.reads, { links: 0, routes: 0 });
    assert.deepEqual(await ours(k), ['blackhole 10.244.1.0/26 proto 93']);
    // the same plan again: nothing to do, nothing listed
    c.reset();
    rep = await dp.apply({ ...base, routes: [base.routes[0]!] });
    assert.deepEqual([rep.pass, rep.changes, c.reads.routes], ['route-only', 0, 0]);
  });

  it('told which destinations changed, a route-only pass looks at those only; a bad one falls over to a full pass', async () => {
    const { k, dp } = await world();
    const c = counted(k);
    clean(await dp.apply(base));
    // Drift the hint does not name is left for the periodic check: proof that nothing else was compared.
    await k.deleteRoute({ dst: '10.244.2.0/26', type: 'unicast', table: 254, protocol: TORTIE_ROUTE_PROTO, metric: 0 });
    c.reset();
    k.clearOps();
    const three = BGP('10.244.3.0/26', '192.168.1.12');
    let rep = await dp.apply({ ...base, routes: [...base.routes, three] }, { routes: new Map([['10.244.3.0/26', three]]) });
    clean(rep);
    assert.deepEqual([rep.pass, rep.routes, c.reads], ['route-only', { added: 1, replaced: 0, deleted: 0 }, { links: 0, routes: 0 }]);
    assert.deepEqual(k.ops, ['route add 10.244.3.0/26 via 192.168.1.12 proto 93']);
    // changed in place, withdrawn, and a name for a destination that had and has no route
    const moved = BGP('10.244.3.0/26', '192.168.1.13');
    rep = await dp.apply({ ...base, routes: [...base.routes, moved] }, { routes: new Map([['10.244.3.0/26', moved], ['10.244.9.0/26', undefined]]) });
    assert.deepEqual([rep.pass, rep.routes], ['route-only', { added: 0, replaced: 1, deleted: 0 }]);
    rep = await dp.apply(base, { routes: new Map([['10.244.3.0/26', undefined]]) });
    assert.deepEqual([rep.pass, rep.routes], ['route-only', { added: 0, replaced: 0, deleted: 1 }]);
    assert.deepEqual(await ours(k), ['blackhole 10.244.1.0/26 proto 93']);
    // a route via a device that does not exist: a full pass, which also repairs the drift
    const bad: KernelRoute = { dst: '10.244.5.0/26', type: 'unicast', gateway: '172.16.0.20', dev: 'nope0' };
    rep = await dp.apply({ ...base, routes: [...base.routes, bad] }, { routes: new Map([['10.244.5.0/26', bad]]) });
    assert.equal(rep.pass, 'full');
    assert.ok(rep.issues.some((i) => i.code === 'NO_SUCH_LINK'), JSON.stringify(rep.issues));
    assert.deepEqual(await ours(k), ['10.244.2.0/26 via 192.168.1.11 dev eth0 proto 93', 'blackhole 10.244.1.0/26 proto 93']);
    // after a pass with an issue, a hint is not enough: the next pass is full
    rep = await dp.apply({ ...base, routes: [...base.routes, three] }, { routes: new Map([['10.244.3.0/26', three]]) });
    assert.equal(rep.pass, 'full');
    // an IPv6 destination may need IPv6 forwarding: the plan is compared whole (here, a full pass for the sysctl)
    const six: KernelRoute = { dst: 'fd00:2::/122', type: 'blackhole' };
    rep = await dp.apply({ ...base, routes: [...base.routes, three, six] }, { routes: new Map([['fd00:2::/122', six]]) });
    assert.equal(rep.pass, 'full');
    assert.equal(k.sysctl('net/ipv6/conf/all/forwarding'), '1');
  });

  it("a route another protocol put in the slot since: the add fails, and a full pass leaves it alone with a warning", async () => {
    const { k, dp } = await world();
    clean(await dp.apply(base));
    await k.seedRoute({ dst: '10.244.3.0/26', type: 'unicast', gateway: '192.168.1.50', protocol: 12 });
    const rep = await dp.apply({ ...base, routes: [...base.routes, BGP('10.244.3.0/26', '192.168.1.12')] });
    assert.equal(rep.pass, 'full');
    assert.equal(rep.ok, true);
    assert.ok(rep.issues.some((i) => i.code === 'ROUTE_CONFLICT'));
    assert.ok(k.routeTable().some((r) => r.dst === '10.244.3.0/26' && r.protocol === 12 && r.gateway === '192.168.1.50'));
    // a pass with an issue is no base for a route-only pass: the next one is full again
    const next = await dp.apply({ ...base, routes: [...base.routes, BGP('10.244.3.0/26', '192.168.1.12'), BGP('10.244.4.0/26', '192.168.1.14')] });
    assert.equal(next.pass, 'full');
    assert.ok(next.issues.some((i) => i.code === 'ROUTE_CONFLICT'));
  });

  it('a failed operation falls over to a full pass at once, which lists the kernel and reports what is wrong', async () => {
    const { k, dp } = await world();
    clean(await dp.apply(base));
    await k.deleteLink('eth1'); // gone since the last listing
    const rep = await dp.apply({ ...base, routes: [...base.routes, { dst: '10.244.5.0/26', type: 'unicast', gateway: '172.16.0.20', dev: 'eth1' }] });
    assert.equal(rep.pass, 'full');
    assert.equal(rep.ok, false);
    assert.ok(rep.issues.some((i) => i.code === 'NO_SUCH_LINK'), JSON.stringify(rep.issues));
    assert.deepEqual(await ours(k), ['10.244.2.0/26 via 192.168.1.11 dev eth0 proto 93', 'blackhole 10.244.1.0/26 proto 93']);
  });

  it('a changed route deleted behind our back is put back by the replace (create-or-replace)', async () => {
    const { k, dp } = await world();
    clean(await dp.apply(base));
    await k.deleteRoute({ dst: '10.244.2.0/26', type: 'unicast', table: 254, protocol: TORTIE_ROUTE_PROTO, metric: 0 });
    const rep = await dp.apply({ ...base, routes: [base.routes[0]!, BGP('10.244.2.0/26', '192.168.1.13')] });
    clean(rep);
    assert.equal(rep.pass, 'route-only');
    assert.deepEqual(await ours(k), ['10.244.2.0/26 via 192.168.1.13 dev eth0 proto 93', 'blackhole 10.244.1.0/26 proto 93']);
  });

  it('anything but routes changed, a route via a device the last pass did not see, a resync: full passes', async () => {
    const { k, dp } = await world();
    clean(await dp.apply(base));
    assert.equal((await dp.apply({ ...base, nat: { masquerade: ['10.244.0.0/16'], pools: ['10.244.0.0/16'] } })).pass, 'full');
    assert.equal((await dp.apply({ ...base, nat: { masquerade: ['10.244.0.0/16'], pools: ['10.244.0.0/16'] } })).pass, 'route-only');
    clean(await dp.apply(base));
    k.addLink({ name: 'cali0123456789', mtu: 1500 });
    const viaNew = await dp.apply({ ...base, routes: [...base.routes, { dst: '10.244.1.7/32', type: 'unicast', dev: 'cali0123456789' }] });
    clean(viaNew);
    assert.equal(viaNew.pass, 'full');
    assert.ok(k.routeTable().some((r) => r.dst === '10.244.1.7/32' && r.dev === 'cali0123456789'));
    assert.equal((await dp.apply(base)).pass, 'route-only');
    assert.equal((await dp.apply(base, { resync: true })).pass, 'full');
    // IPv6 routes need IPv6 forwarding: the first one is a full pass (sysctls)
    const v6 = await dp.apply({ ...base, routes: [...base.routes, { dst: 'fd00:2::/122', type: 'blackhole' }] });
    assert.equal(v6.pass, 'full');
    assert.equal(k.sysctl('net/ipv6/conf/all/forwarding'), '1');
  });

  it('a full pass at least every FULL_CHECK_MS (90 s) even when only routes change: drift is repaired', async () => {
    const { k } = await world();
    let now = 0;
    const dp = new Dataplane({ netlink: k, sysctl: k, nft: k, now: () => now });
    clean(await dp.apply(base));
    await k.deleteRoute({ dst: '10.244.1.0/26', type: 'blackhole', table: 254, protocol: TORTIE_ROUTE_PROTO, metric: 0 });
    now = FULL_CHECK_MS - 1000;
    assert.equal((await dp.apply({ ...base, routes: [...base.routes, BGP('10.244.3.0/26', '192.168.1.12')] })).pass, 'route-only');
    assert.ok(!(await ours(k)).includes('blackhole 10.244.1.0/26 proto 93'), 'a route-only pass trusts the last listing');
    now = FULL_CHECK_MS;
    const rep = await dp.apply({ ...base, routes: [...base.routes, BGP('10.244.3.0/26', '192.168.1.12')] });
    assert.equal(rep.pass, 'full');
    assert.ok((await ours(k)).includes('blackhole 10.244.1.0/26 proto 93'));
  });
});

describe('Dataplane: vxlan.calico', () => {
  it('creates the device, its address, neighbours and FDB entries', async () => {
    const { k, dp } = await world();
    const rep = await dp.apply(plan());
    clean(rep);
    const l = k.link('vxlan.calico')!;
    assert.deepEqual(
      { kind: l.kind, mtu: l.mtu, up: l.up, mac: l.mac, vxlan: l.vxlan },
      { kind: 'vxlan', mtu: 1450, up: true, mac: '66:aa:00:00:00:01', vxlan: { vni: 4096, port: 4789, local: '192.168.1.10', parentIndex: k.link('eth0')!.index, learning: false } },
    );
    assert.deepEqual(await k.listAddresses('vxlan.calico'), [{ dev: 'vxlan.calico', cidr: '10.244.1.0/32' }]);
    assert.deepEqual(await k.listNeighbors('vxlan.calico'), [
      { dev: 'vxlan.calico', ip: '10.244.2.0', mac: '66:bb:00:00:00:02', permanent: true },
      { dev: 'vxlan.calico', ip: '10.244.3.0', mac: '66:cc:00:00:00:03', permanent: true },
    ]);
    assert.deepEqual(await k.listFdb('vxlan.calico'), [
      { dev: 'vxlan.calico', mac: '66:bb:00:00:00:02', dst: '192.168.1.11', permanent: true, self: true },
      { dev: 'vxlan.calico', mac: '66:cc:00:00:00:03', dst: '192.168.1.12', permanent: true, self: true },
    ]);
    assert.deepEqual([rep.devices.created, rep.neighbors.added, rep.fdb.added, rep.addresses.added], [1, 2, 2, 1]);
    // neighbours before routes: the first packet must find its VTEP
    const firstRoute = k.ops.findIndex((o) => o.startsWith('route'));
    assert.ok(k.ops.findIndex((o) => o.startsWith('neigh')) < firstRoute && k.ops.findIndex((o) => o.startsWith('fdb')) < firstRoute);
  });

  const fixes: { name: string; drift: (k: FakeKernel) => Promise<void>; ops: (string | RegExp)[] }[] = [
    { name: 'MTU', drift: (k) => k.setLink('vxlan.calico', { mtu: 1400 }), ops: ['link set vxlan.calico mtu 1450'] },
    {
      name: 'MAC (a MAC change flushes the neighbours: they are put back)',
      drift: (k) => k.setLink('vxlan.calico', { mac: '02:00:00:00:00:99' }),
      ops: ['link set vxlan.calico address 66:aa:00:00:00:01', /^neigh replace 10\.244\.2\.0/, /^neigh replace 10\.244\.3\.0/],
    },
    {
      name: 'stray address',
      drift: (k) => k.addAddress({ dev: 'vxlan.calico', cidr: '10.9.9.9/32' }),
      ops: ['addr del 10.9.9.9/32 dev vxlan.calico'],
    },
    {
      name: 'down (which dropped its routes and neighbours)',
      drift: (k) => k.setLink('vxlan.calico', { up: false }),
      ops: ['link set vxlan.calico up', /^neigh replace 10\.244\.2\.0/, /^neigh replace 10\.244\.3\.0/, /^route add 10\.244\.2\.0/, /^route add 10\.244\.3\.0/],
    },
  ];
  for (const f of fixes) {
    it(`fixes the ${f.name} in place`, async () => {
      const { k, dp } = await world();
      await dp.apply(plan());
      await f.drift(k);
      k.clearOps();
      // Drift is found by a resync pass (the agent asks for one every 90 s on average); a route-only pass trusts the last one.
      const rep = await dp.apply(plan(), { resync: true });
      clean(rep);
      assert.equal(k.ops.length, f.ops.length, k.ops.join('\n'));
      f.ops.forEach((want, i) => (typeof want === 'string' ? assert.equal(k.ops[i], want) : assert.match(k.ops[i]!, want)));
    });
  }

  const recreate: { name: string; change: Partial<VxlanDevice> }[] = [
    { name: 'VNI', change: { vni: 4097 } },
    { name: 'port', change: { port: 8472 } },
    { name: 'parent and local IP', change: { parent: 'eth1', localIP: '172.16.0.10' } },
  ];
  for (const r of recreate) {
    it(`recreates the device when the ${r.name} changes, and restores its routes`, async () => {
      const { k, dp } = await world();
      await dp.apply(plan());
      const before = await ours(k);
      k.clearOps();
      const rep = await dp.apply(plan({ vxlan: { ...VX, ...r.change } }));
      clean(rep);
      assert.match(k.ops[0]!, /^link del vxlan\.calico/);
      assert.match(k.ops[1]!, /^link add vxlan\.calico/);
      assert.deepEqual([rep.devices.deleted, rep.devices.created, rep.routes.added, rep.neighbors.added, rep.fdb.added], [1, 1, 2, 2, 2]);
      assert.deepEqual(await ours(k), before);
      const v = k.link('vxlan.calico')!.vxlan!;
      assert.equal(v.vni, r.change.vni ?? 4096);
      assert.equal(v.port, r.change.port ?? 4789);
    });
  }

  it('neighbours and FDB end up exactly as desired (stale removed, wrong replaced, kernel cache kept)', async () => {
    const { k, dp } = await world();
    await dp.apply(plan());
    await k.seedNeighbor({ dev: 'vxlan.calico', ip: '10.244.9.0', mac: '66:99:00:00:00:09', permanent: true }); // stale VTEP
    await k.seedNeighbor({ dev: 'vxlan.calico', ip: '10.244.9.9', mac: '66:99:00:00:00:10', permanent: false }); // kernel cache
    await k.seedNeighbor({ dev: 'vxlan.calico', ip: '10.244.2.0', mac: '66:bb:00:00:00:ff', permanent: true }); // wrong MAC
    await k.seedFdb({ dev: 'vxlan.calico', mac: '66:99:00:00:00:09', dst: '192.168.1.19' }); // stale
    await k.seedFdb({ dev: 'vxlan.calico', mac: '66:cc:00:00:00:03', dst: '192.168.1.99' }); // wrong remote
    k.clearOps();
    const rep = await dp.apply(plan(), { resync: true });
    clean(rep);
    assert.deepEqual(rep.neighbors, { added: 0, replaced: 1, deleted: 1 });
    assert.deepEqual(rep.fdb, { added: 0, replaced: 1, deleted: 1 });
    assert.deepEqual((await k.listNeighbors('vxlan.calico')).map((n) => `${n.ip} ${n.mac} ${n.permanent}`).sort(), [
      '10.244.2.0 66:bb:00:00:00:02 true',
      '10.244.3.0 66:cc:00:00:00:03 true',
      '10.244.9.9 66:99:00:00:00:10 false',
    ]);
    assert.deepEqual((await k.listFdb('vxlan.calico')).map((e) => `${e.mac} ${e.dst}`).sort(), ['66:bb:00:00:00:02 192.168.1.11', '66:cc:00:00:00:03 192.168.1.12']);
  });

  it('a missing parent is an error; nothing else is skipped', async () => {
    const { k, dp } = await world();
    const rep = await dp.apply(plan({ vxlan: { ...VX, parent: 'bond0' } }));
    assert.equal(rep.ok, false);
    assert.ok(rep.errors.some((e) => /parent interface bond0/.test(e)));
    assert.deepEqual(await ours(k), ['blackhole 10.244.1.0/26 proto 93']);
  });
});

describe('Dataplane: mode switches and IPIP', () => {
  const IPIP_ROUTES: KernelRoute[] = [
    { dst: '10.244.2.0/26', type: 'unicast', gateway: '192.168.1.11', dev: 'tunl0', onlink: true },
    { dst: '10.244.1.0/26', type: 'blackhole' },
  ];
  const IPIP = { name: 'tunl0' as const, address: '10.244.1.1', mtu: 1480 };

  it('VXLAN → none removes the device, its routes, neighbours and FDB; foreign routes stay', async () => {
    const { k, dp } = await world();
    await k.seedRoute({ dst: '10.1.0.0/16', type: 'unicast', gateway: '192.168.1.1', protocol: 4 });
    await dp.apply(plan());
    const rep = await dp.apply({ routes: [], nat: NO_NAT });
    clean(rep);
    assert.equal(k.link('vxlan.calico'), undefined);
    assert.deepEqual(await ours(k), []);
    assert.deepEqual([rep.devices.deleted, rep.routes.deleted], [1, 3]);
    assert.ok((await k.listRoutes(4)).some((r) => r.dst === '10.1.0.0/16' && r.protocol === 4));
    assert.deepEqual(await dp.apply({ routes: [], nat: NO_NAT }).then((r) => r.changes), 0);
  });

  it('VXLAN → IPIP: tunl0 configured, vxlan.calico gone; IPIP → none strips tunl0', async () => {
    const { k, dp } = await world();
    await dp.apply(plan());
    const rep = await dp.apply({ routes: IPIP_ROUTES, ipip: IPIP, nat: NO_NAT });
    clean(rep);
    assert.equal(k.link('vxlan.calico'), undefined);
    const t = k.link('tunl0')!;
    assert.deepEqual([t.kind, t.up, t.mtu], ['ipip', true, 1480]);
    assert.deepEqual(await k.listAddresses('tunl0'), [{ dev: 'tunl0', cidr: '10.244.1.1/32' }]);
    assert.deepEqual(await ours(k), ['10.244.2.0/26 via 192.168.1.11 dev tunl0 onlink proto 93', 'blackhole 10.244.1.0/26 proto 93']);

    const off = await dp.apply({ routes: [], nat: NO_NAT });
    clean(off);
    assert.ok(k.link('tunl0'), 'tunl0 cannot be deleted: it stays');
    assert.equal(k.link('tunl0')!.up, false);
    assert.deepEqual(await k.listAddresses('tunl0'), []);
    assert.deepEqual(await ours(k), []);
  });

  it('a kernel without ipip: IPIP_UNSUPPORTED warning (once), everything else still applied', async () => {
    const { k, dp } = await world({ ipip: false });
    const p: DataplanePlan = { routes: IPIP_ROUTES, ipip: IPIP, nat: { masquerade: ['10.244.0.0/16'], pools: ['10.244.0.0/16'] } };
    const rep = await dp.apply(p);
    const w = rep.issues.find((i) => i.code === 'IPIP_UNSUPPORTED');
    assert.equal(w?.severity, 'warning');
    assert.match(w!.message, /no IPIP support/);
    assert.deepEqual(await ours(k), ['blackhole 10.244.1.0/26 proto 93']);
    assert.ok(k.nftTable('ip tortie'));
    assert.ok(rep.errors.some((e) => /via tunl0/.test(e)), 'the tunnel routes cannot be programmed');
    const again = await dp.apply(p);
    assert.deepEqual(again.warnings, []);
    assert.ok(again.issues.some((i) => i.code === 'IPIP_UNSUPPORTED'));
  });
});

describe('Dataplane: NAT, sysctls, idempotence', () => {
  it('remembered state (sysctls) is checked again every FULL_CHECK_MS (90 s), so a change behind our back is repaired', async () => {
    const k = new FakeKernel();
    k.addLink({ name: 'eth0', kind: 'device', mtu: 1500, mac: '52:54:00:00:00:01' });
    let now = 0;
    const dp = new Dataplane({ netlink: k, sysctl: k, nft: k, now: () => now });
    await dp.apply(plan({}));
    assert.equal(k.sysctl('net/ipv4/ip_forward'), '1');
    await k.write('net/ipv4/ip_forward', '0'); // someone resets it
    now = 10_000;
    await dp.apply(plan({}));
    assert.equal(k.sysctl('net/ipv4/ip_forward'), '0', 'not re-read within 90 s (every pass reading /proc costs every host CPU)');
    now = FULL_CHECK_MS;
    await dp.apply(plan({}));
    assert.equal(k.sysctl('net/ipv4/ip_forward'), '1', 'repaired at the periodic check');
  });

  const NAT = { masquerade: ['10.244.0.0/16'], pools: ['10.244.0.0/16', '10.10.0.0/16', 'fd00:10::/48'] };
  const EXPECTED = `table ip tortie {
    set masq-pools { type ipv4_addr; flags interval; elements = { 10.244.0.0/16 } }
    set all-pools { type ipv4_addr; flags interval; elements = { 10.10.0.0/16, 10.244.0.0/16 } }
    chain nat-postrouting { type nat hook postrouting priority srcnat; policy accept;
      ip saddr @masq-pools ip daddr != @all-pools masquerade fully-random } }`;
  const norm = (s: string | undefined) => normalizeNft((s ?? '').replace(/;\s*(?=(type|flags|elements)\b)/g, ' ').replace(/\{\s*type/g, '{ type'));

  it('renders the table, writes it once, and is a no-op when unchanged (also for a new process)', async () => {
    const { k, dp } = await world();
    const rep = await dp.apply(plan({ nat: NAT }));
    clean(rep);
    assert.equal(rep.natTables, 1);
    assert.equal(norm(k.nftTable('ip tortie')), norm(EXPECTED));
    assert.equal(k.nftTable('ip6 tortie'), undefined, 'no IPv6 pool is masqueraded');
    assert.equal(k.sysctl('net/ipv6/conf/all/forwarding'), '1', 'IPv6 pools exist');
    k.clearOps();
    assert.equal((await dp.apply(plan({ nat: NAT }))).natTables, 0);
    const restarted = new Dataplane({ netlink: k, sysctl: k, nft: k });
    assert.equal((await restarted.apply(plan({ nat: NAT }))).changes, 0);
    assert.deepEqual(k.ops, []);
  });

  it('a change is one transaction; nothing masqueraded deletes the tables', async () => {
    const { k, dp } = await world();
    await dp.apply(plan({ nat: NAT }));
    k.clearOps();
    await dp.apply(plan({ nat: { ...NAT, masquerade: [...NAT.masquerade, 'fd00:10::/48'] } }));
    assert.equal(k.ops.length, 1);
    assert.match(k.ops[0]!, /^nft -f -\ntable ip6 tortie\ndelete table ip6 tortie\ntable ip6 tortie \{/);
    assert.match(k.nftTable('ip6 tortie')!, /ip6 saddr @masq-pools ip6 daddr != @all-pools masquerade fully-random/);
    const off = await dp.apply(plan());
    assert.equal(off.natTables, 2);
    assert.equal(k.nftTable('ip tortie'), undefined);
    assert.equal(k.nftTable('ip6 tortie'), undefined);
  });

  it('a stale table from an earlier run is deleted on the first apply; other tables are not touched', async () => {
    const { k, dp } = await world();
    k.seedNftTable('ip tortie', 'table ip tortie {\n\tchain old {\n\t}\n}\n');
    k.seedNftTable('inet filter', 'table inet filter {\n}\n');
    await dp.apply(plan());
    assert.equal(k.nftTable('ip tortie'), undefined);
    assert.ok(k.nftTable('inet filter'));
  });

  it('trusts its last rendering until asked to resync', async () => {
    const { k, dp } = await world();
    await dp.apply(plan({ nat: NAT }));
    k.seedNftTable('ip tortie', 'table ip tortie {\n}\n'); // changed behind our back
    assert.equal((await dp.apply(plan({ nat: NAT }))).natTables, 0);
    assert.equal((await dp.apply(plan({ nat: NAT }), { resync: true })).natTables, 1);
    assert.match(k.nftTable('ip tortie')!, /masquerade fully-random/);
  });

  it('falls back without fully-random when nft refuses it, and says so once', async () => {
    const { k, dp } = await world({ fullyRandom: false });
    const rep = await dp.apply(plan({ nat: NAT }));
    clean(rep);
    assert.ok(rep.warnings.some((w) => /fully-random/.test(w)));
    assert.match(k.nftTable('ip tortie')!, /masquerade\n/);
    k.clearOps();
    const again = await dp.apply(plan({ nat: NAT }));
    assert.deepEqual([again.changes, again.warnings.length], [0, 0]);
  });

  it('turns forwarding on, once', async () => {
    const { k, dp } = await world();
    const rep = await dp.apply(plan());
    assert.equal(k.sysctl('net/ipv4/ip_forward'), '1');
    assert.equal(k.sysctl('net/ipv6/conf/all/forwarding'), '0', 'no IPv6 in the plan');
    assert.equal(rep.sysctls, 1);
  });

  it('a second apply of the same full plan makes zero changes; concurrent applies are serialised', async () => {
    const { k, dp } = await world();
    const full = plan({ routes: [...VX_ROUTES, { dst: 'fd00:1::/122', type: 'blackhole' }], nat: NAT });
    const [a, b] = await Promise.all([dp.apply(full), dp.apply(full)]);
    clean(a);
    assert.ok(a.changes > 10);
    assert.equal(b.changes, 0);
    k.clearOps();
    const c = await dp.apply(full);
    assert.deepEqual([c.changes, c.routes, c.neighbors, c.fdb, c.devices], [0, { added: 0, replaced: 0, deleted: 0 }, { added: 0, replaced: 0, deleted: 0 }, { added: 0, replaced: 0, deleted: 0 }, { created: 0, updated: 0, deleted: 0 }]);
    assert.deepEqual(k.ops, []);
    assert.ok(c.durationMs >= 0);
  });

  it('close() closes the port; apply afterwards is refused', async () => {
    const { k, dp } = await world();
    dp.close();
    assert.equal(k.closed, true);
    await assert.rejects(dp.apply(plan()), { code: 'CLOSED' });
  });
});

describe('detectHostMtu', () => {
  const L = (name: string, mtu: number, operUp = true) => ({ name, mtu, operUp });
  const cases: [string, ReturnType<typeof L>[], number][] = [
    ['smallest matching up interface', [L('eth0', 1500), L('ens3', 9001), L('enp0s3', 1450)], 1450],
    ['non-matching names are ignored', [L('lo', 65536), L('docker0', 1400), L('cali12345', 1300), L('vxlan.calico', 1410), L('eth0', 9000)], 9000],
    ['down interfaces are ignored', [L('eth0', 1400, false), L('eth1', 1500)], 1500],
    ['none ⇒ 1460', [L('lo', 65536), L('tunl0', 1480)], 1460],
    ['wlan/wwan/ib', [L('wlan0', 1500), L('ibp1s0', 2044), L('wwan0', 1430)], 1430],
  ];
  for (const [name, links, want] of cases) it(name, () => assert.equal(detectHostMtu(links), want));
  it('takes a custom pattern (a /g RegExp too)', () => {
    assert.equal(detectHostMtu([L('bond0', 1500), L('bond1', 1400), L('eth0', 1000)], /^bond/g), 1400);
  });
});
