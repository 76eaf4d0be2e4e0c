/**
 * The dataplane with the REAL ports (rtnetlink, /proc/sys, nft) in fresh network namespaces.
 *
 * Namespace A is the tortie host; namespace B is a remote node, wired by hand with `ip` as Calico
 * would wire it (its own vxlan.calico pointing back at A). A worker process runs inside A
 * (`ip netns exec A node --import tsx worker.mts`, the worker written to a temp dir) and applies
 * the plans it reads from stdin, one JSON line each, answering with the ApplyReport. The test
 * checks the kernel with `ip -j`, `bridge -j`, `nft` and a ping through the VXLAN tunnel, then
 * applies an empty plan and checks that everything of ours is gone and foreign state stayed.
 *
 * IPIP needs the ipip kernel module; without it the IPIP subtest checks that the dataplane says
 * so (IPIP_UNSUPPORTED warning) and is skipped with the reason. Every namespace and process is
 * removed in `after` (test/helpers/netns.ts), also on failure.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createInterface } from 'node:readline';
import { IP_BIN, cleanupAll, createNetns, createVethPair, makeTempDir, run, skipReason, type Netns } from '../helpers/netns.js';
import type { ApplyReport, DataplanePlan } from '../../src/dataplane/index.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MODULE = pathToFileURL(join(ROOT, 'src/dataplane/index.ts')).href;

const WORKER = `
import { createInterface } from 'node:readline';
const { createKernelDataplane, KernelNetlink } = await import(process.env.DP_MODULE);
let dp = createKernelDataplane();
const nls = {};
const out = (x) => process.stdout.write(JSON.stringify(x) + '\\n');
for await (const line of createInterface({ input: process.stdin })) {
  const msg = JSON.parse(line);
  try {
    if (msg.op === 'apply') out({ ok: true, report: await dp.apply(msg.plan, msg.opts ?? {}) });
    else if (msg.op === 'route') {
      // One Netlink route call on its own port (synchronous through the addon, or through the event loop):
      // what it answers (its error code, if any) and which path it took.
      const nl = (nls[msg.sync] ??= new KernelNetlink({ syncRoutes: msg.sync }));
      try { await nl[msg.call](msg.route); out({ ok: true, sync: nl.syncRoutes }); } catch (e) { out({ ok: false, sync: nl.syncRoutes, code: e.code, error: e.message }); }
    }
    else if (msg.op === 'routeNow') {
      // The same, done before routeNow returns: its error, or that it declined (false: nothing was sent).
      const nl = msg.fresh ? new KernelNetlink({ syncRoutes: msg.sync }) : (nls[msg.sync] ??= new KernelNetlink({ syncRoutes: msg.sync }));
      const e = nl.routeNow(msg.verb, msg.route);
      if (msg.fresh) nl.close();
      out(e === false ? { ok: false, declined: true } : e === undefined ? { ok: true } : { ok: false, code: e.code, error: e.message });
    }
    else if (msg.op === 'restart') { dp.close(); dp = createKernelDataplane(); out({ ok: true }); }
    else { dp.close(); out({ ok: true }); break; }
  } catch (e) { out({ ok: false, error: String(e?.stack ?? e) }); }
}
`;

/** The worker inside a namespace: one request, one answer line. */
class Worker {
  private readonly child: ChildProcess;
  private readonly lines: AsyncIterator<string>;
  private stderr = '';

  constructor(ns: Netns, script: string) {
    this.child = spawn(IP_BIN, ['netns', 'exec', ns.name, process.execPath, '--import', 'tsx', script], {
      cwd: ROOT,
      env: { ...process.env, DP_MODULE: MODULE },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    this.lines = createInterface({ input: this.child.stdout! })[Symbol.asyncIterator]();
  }

  async request(msg: object): Promise<{ ok: boolean; report?: ApplyReport; error?: string; code?: string; sync?: boolean; declined?: boolean }> {
    this.child.stdin!.write(JSON.stringify(msg) + '\n');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 30_000);
    const r = await this.lines.next();
    clearTimeout(timer);
    if (r.done) throw new Error(`dataplane worker exited: ${this.stderr}`);
    return JSON.parse(r.value) as { ok: boolean; report?: ApplyReport; error?: string; code?: string; sync?: boolean; declined?: boolean };
  }

  async apply(plan: DataplanePlan, opts: { resync?: boolean } = {}): Promise<ApplyReport> {
    const r = await this.request({ op: 'apply', plan, opts });
    if (!r.ok || !r.report) throw new Error(`apply failed: ${r.error}\n${this.stderr}`);
    return r.report;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    await this.request({ op: 'exit' }).catch(() => undefined);
    this.child.kill('SIGKILL');
  }
}

const A_MAC = '66:aa:00:00:00:01';
const B_MAC = '66:bb:00:00:00:02';
const PLAN: DataplanePlan = {
  routes: [
    { dst: '10.244.2.0/26', type: 'unicast', gateway: '10.244.2.0', dev: 'vxlan.calico', onlink: true },
    { dst: '10.244.1.0/26', type: 'blackhole' },
    { dst: '10.99.0.0/24', type: 'unicast', gateway: '192.168.50.2' },
    { dst: 'fd00:99::/64', type: 'blackhole' },
  ],
  vxlan: {
    name: 'vxlan.calico',
    vni: 4096,
    port: 4789,
    mac: A_MAC,
    localIP: '192.168.50.1',
    parent: 'eth0',
    address: '10.244.1.0',
    mtu: 1450,
    peers: [{ nodeName: 'b', tunnelIP: '10.244.2.0', mac: B_MAC, nodeIP: '192.168.50.2' }],
  },
  nat: { masquerade: ['10.244.0.0/16'], pools: ['10.244.0.0/16', '10.10.0.0/16'] },
};
const EMPTY: DataplanePlan = { routes: [], nat: { masquerade: [], pools: [] } };

interface JRoute {
  dst: string;
  type?: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  flags?: string[];
}

/** Why this cannot run here: no namespaces, or a tool the checks need is missing. */
function whyNot(): string | undefined {
  const ns = skipReason();
  if (ns) return ns;
  for (const [cmd, arg] of [['nft', '--version'], ['bridge', '-V'], ['ping', '-V']] as const) {
    if (spawnSync(cmd, [arg]).error) return `${cmd} is not installed`;
  }
  return undefined;
}

describe('dataplane on a real kernel (network namespaces)', { skip: whyNot() }, () => {
  let a: Netns;
  let b: Netns;
  let worker: Worker;
  const routes = (v6 = false): JRoute[] => JSON.parse(a.ip(...(v6 ? ['-6'] : []), '-j', 'route', 'show', 'table', 'main')) as JRoute[];
  const ours = (v6 = false) => routes(v6).filter((r) => r.protocol === '93');

  before(() => {
    a = createNetns('dp-a');
    b = createNetns('dp-b');
    createVethPair({ ns: a, ifname: 'eth0', addresses: ['192.168.50.1/24'] }, { ns: b, ifname: 'eth0', addresses: ['192.168.50.2/24'] });
    // B: a Calico node wired by hand, its VTEP pointing back at A.
    b.ip('link', 'add', 'vxlan.calico', 'address', B_MAC, 'type', 'vxlan', 'id', '4096', 'dstport', '4789', 'local', '192.168.50.2', 'dev', 'eth0', 'nolearning');
    b.ip('addr', 'add', '10.244.2.0/32', 'dev', 'vxlan.calico');
    b.ip('link', 'set', 'vxlan.calico', 'up');
    b.ip('neigh', 'add', '10.244.1.0', 'lladdr', A_MAC, 'dev', 'vxlan.calico', 'nud', 'permanent');
    b.exec(['bridge', 'fdb', 'add', A_MAC, 'dst', '192.168.50.1', 'dev', 'vxlan.calico', 'self', 'permanent']);
    b.ip('route', 'add', '10.244.1.0/26', 'via', '10.244.1.0', 'dev', 'vxlan.calico', 'onlink');
    // A: foreign state that must survive, and stale state of ours from an "earlier run".
    a.ip('route', 'add', '10.77.0.0/16', 'via', '192.168.50.2', 'proto', 'static');
    a.ip('route', 'add', 'blackhole', '10.66.0.0/24', 'proto', '93');
    a.ip('-6', 'route', 'add', 'blackhole', 'fd00:66::/64', 'proto', '93');
    a.exec(['nft', '-f', '-'], { input: 'table ip tortie {\n\tchain stale {\n\t}\n}\ntable inet foreign {\n\tchain c {\n\t}\n}\n' });
    const dir = makeTempDir('dp-worker');
    const script = join(dir, 'worker.mts');
    writeFileSync(script, WORKER);
    worker = new Worker(a, script);
  });

  after(async () => {
    await worker?.stop();
    await cleanupAll();
  });

  it('first apply: routes, vxlan.calico with neighbour + FDB, NAT, forwarding; stale state of ours removed', async () => {
    const rep = await worker.apply(PLAN);
    assert.deepEqual(rep.errors, []);
    assert.deepEqual(rep.routes, { added: 4, replaced: 0, deleted: 2 });

    const r4 = routes();
    const find = (dst: string) => r4.find((r) => r.dst === dst);
    assert.deepEqual(find('10.244.2.0/26'), { dst: '10.244.2.0/26', gateway: '10.244.2.0', dev: 'vxlan.calico', protocol: '93', flags: ['onlink'] });
    assert.equal(find('10.244.1.0/26')?.type, 'blackhole');
    assert.deepEqual([find('10.99.0.0/24')?.gateway, find('10.99.0.0/24')?.dev], ['192.168.50.2', 'eth0']);
    assert.equal(find('10.66.0.0/24'), undefined, 'stale proto-93 route removed');
    assert.equal(find('10.77.0.0/16')?.protocol, 'static', 'foreign route kept');
    assert.deepEqual(ours(true).map((r) => r.dst), ['fd00:99::/64']);

    const [link] = JSON.parse(a.ip('-d', '-j', 'link', 'show', 'vxlan.calico')) as {
      mtu: number;
      address: string;
      flags: string[];
      linkinfo: { info_kind: string; info_data: { id: number; port: number; local: string; link: string; learning: boolean } };
    }[];
    assert.equal(link!.linkinfo.info_kind, 'vxlan');
    const d = link!.linkinfo.info_data;
    assert.deepEqual([d.id, d.port, d.local, d.link, d.learning], [4096, 4789, '192.168.50.1', 'eth0', false]);
    assert.deepEqual([link!.mtu, link!.address, link!.flags.includes('UP')], [1450, A_MAC, true]);
    assert.match(a.ip('-4', 'addr', 'show', 'dev', 'vxlan.calico'), /inet 10\.244\.1\.0\/32/);
    assert.match(a.ip('neigh', 'show', 'dev', 'vxlan.calico'), new RegExp(`^10\\.244\\.2\\.0 lladdr ${B_MAC} PERMANENT`, 'm'));
    assert.match(a.exec(['bridge', 'fdb', 'show', 'dev', 'vxlan.calico']).stdout, new RegExp(`^${B_MAC} dst 192\\.168\\.50\\.2 self permanent`, 'm'));

    const nft = a.exec(['nft', 'list', 'table', 'ip', 'tortie']).stdout;
    assert.match(nft, /set masq-pools \{[^}]*elements = \{ 10\.244\.0\.0\/16 \}/);
    assert.match(nft, /elements = \{ 10\.10\.0\.0\/16, 10\.244\.0\.0\/16 \}/);
    assert.match(nft, /ip saddr @masq-pools ip daddr != @all-pools masquerade( fully-random)?\n/);
    assert.doesNotMatch(nft, /chain stale/);
    assert.ok(a.exec(['nft', 'list', 'table', 'inet', 'foreign'], { check: false }).status === 0, 'foreign table kept');
    assert.equal(a.exec(['cat', '/proc/sys/net/ipv4/ip_forward']).stdout.trim(), '1');

    // The tunnel works: A → B's tunnel address goes through vxlan.calico and back.
    const ping = a.exec(['ping', '-c', '1', '-W', '3', '10.244.2.0'], { check: false });
    assert.equal(ping.status, 0, `ping through VXLAN: ${ping.stdout}${ping.stderr}`);
  });

  it('the same plan again changes nothing, also from a fresh Dataplane (restart)', async () => {
    assert.equal((await worker.apply(PLAN)).changes, 0);
    assert.equal((await worker.request({ op: 'restart' })).ok, true);
    const rep = await worker.apply(PLAN);
    assert.deepEqual([rep.changes, rep.natTables, rep.errors], [0, 0, []]);
  });

  it('drift is repaired in place: changed route replaced, stray address, stale and wrong neighbour/FDB', async () => {
    a.ip('addr', 'add', '10.9.9.9/32', 'dev', 'vxlan.calico');
    a.ip('neigh', 'add', '10.244.9.0', 'lladdr', '66:99:00:00:00:09', 'dev', 'vxlan.calico', 'nud', 'permanent');
    a.ip('neigh', 'replace', '10.244.2.0', 'lladdr', '66:bb:00:00:00:ff', 'dev', 'vxlan.calico', 'nud', 'permanent');
    a.exec(['bridge', 'fdb', 'add', '66:99:00:00:00:09', 'dst', '192.168.50.9', 'dev', 'vxlan.calico', 'self', 'permanent']);
    a.exec(['bridge', 'fdb', 'replace', B_MAC, 'dst', '192.168.50.8', 'dev', 'vxlan.calico', 'self', 'permanent']);
    const plan: DataplanePlan = { ...PLAN, routes: PLAN.routes.map((r) => (r.dst === '10.99.0.0/24' ? { dst: r.dst, type: 'blackhole' as const } : r)) };
    // Drift is found by a resync pass (the agent asks for one every 90 s on average).
    const rep = await worker.apply(plan, { resync: true });
    assert.equal(rep.pass, 'full');
    assert.deepEqual(rep.errors, []);
    assert.deepEqual(
      [rep.routes, rep.devices, rep.addresses, rep.neighbors, rep.fdb],
      [
        { added: 0, replaced: 1, deleted: 0 },
        { created: 0, updated: 0, deleted: 0 },
        { added: 0, replaced: 0, deleted: 1 },
        { added: 0, replaced: 1, deleted: 1 },
        { added: 0, replaced: 1, deleted: 1 },
      ],
    );
    assert.equal(routes().find((r) => r.dst === '10.99.0.0/24')?.type, 'blackhole');
    assert.doesNotMatch(a.ip('-4', 'addr', 'show', 'dev', 'vxlan.calico'), /10\.9\.9\.9/);
    assert.equal(a.ip('neigh', 'show', 'dev', 'vxlan.calico').trim(), `10.244.2.0 lladdr ${B_MAC} PERMANENT`);
    assert.equal(a.exec(['bridge', 'fdb', 'show', 'dev', 'vxlan.calico']).stdout.trim(), `${B_MAC} dst 192.168.50.2 self permanent`);
    assert.equal(a.exec(['ping', '-c', '1', '-W', '3', '10.244.2.0'], { check: false }).status, 0, 'tunnel still works');
  });

  it('after a clean pass, a route learned and withdrawn is a route-only pass: in the kernel at once, nothing else touched', async () => {
    assert.deepEqual((await worker.apply(PLAN, { resync: true })).errors, []);
    const learned: DataplanePlan = { ...PLAN, routes: [...PLAN.routes, { dst: '10.244.7.0/26', type: 'unicast', gateway: '192.168.50.2' }] };
    const add = await worker.apply(learned);
    assert.deepEqual([add.pass, add.routes, add.errors], ['route-only', { added: 1, replaced: 0, deleted: 0 }, []]);
    assert.ok(routes().some((r) => r.dst === '10.244.7.0/26' && r.gateway === '192.168.50.2' && r.protocol === '93'), JSON.stringify(routes()));
    const del = await worker.apply(PLAN);
    assert.deepEqual([del.pass, del.routes, del.errors], ['route-only', { added: 0, replaced: 0, deleted: 1 }, []]);
    assert.ok(!routes().some((r) => r.dst === '10.244.7.0/26'));
    // a route via an interface that is gone makes the route-only pass fail over to a full pass, which says why
    const gone: DataplanePlan = { ...PLAN, routes: [...PLAN.routes, { dst: '10.244.8.0/26', type: 'unicast', gateway: '192.168.50.2', dev: 'nosuch0' }] };
    const rep = await worker.apply(gone);
    assert.equal(rep.pass, 'full');
    assert.ok(rep.issues.some((i) => i.code === 'NO_SUCH_LINK'), JSON.stringify(rep.issues));
    assert.deepEqual((await worker.apply(PLAN)).errors, []);
  });

  for (const sync of [true, false]) {
    const how = sync ? 'one synchronous call through the native addon' : 'through the event loop (no addon)';
    it(`route requests as the kernel reads them, ${how}: gateway, onlink via a device, IPv6 with a metric, a table above 255; EEXIST and ESRCH named`, async () => {
      const call = async (c: 'addRoute' | 'replaceRoute' | 'deleteRoute', route: object) => {
        const { sync: took, ...answer } = await worker.request({ op: 'route', call: c, route, sync });
        assert.equal(took, sync, `${c} took the ${took ? 'synchronous' : 'event-loop'} path`);
        return answer;
      };
      const base = { table: 254, protocol: 93, metric: 0 };
      const v4 = { ...base, dst: '10.98.1.0/24', type: 'unicast', gateway: '192.168.50.2' };
      assert.deepEqual(await call('addRoute', v4), { ok: true });
      assert.ok(routes().some((r) => r.dst === '10.98.1.0/24' && r.gateway === '192.168.50.2' && r.dev === 'eth0' && r.protocol === '93'), JSON.stringify(routes()));
      const again = await call('addRoute', v4);
      assert.equal(again.code, 'EEXIST', JSON.stringify(again));
      assert.match(again.error ?? '', /^route add 10\.98\.1\.0\/24 via 192\.168\.50\.2 proto 93: EEXIST$/);
      const onlink = { ...base, dst: '10.98.2.0/26', type: 'unicast', gateway: '10.9.9.9', dev: 'eth0', onlink: true };
      assert.deepEqual(await call('addRoute', onlink), { ok: true });
      assert.ok(routes().some((r) => r.dst === '10.98.2.0/26' && r.gateway === '10.9.9.9' && r.flags?.includes('onlink')), JSON.stringify(routes()));
      assert.deepEqual(await call('replaceRoute', { ...onlink, type: 'blackhole', gateway: undefined, dev: undefined, onlink: undefined }), { ok: true });
      assert.equal(routes().find((r) => r.dst === '10.98.2.0/26')?.type, 'blackhole');
      const v6 = { ...base, dst: 'fd00:98::/64', type: 'blackhole', metric: 77 };
      assert.deepEqual(await call('addRoute', v6), { ok: true });
      assert.match(a.ip('-6', 'route', 'show', 'fd00:98::/64'), /blackhole fd00:98::\/64 (dev lo )?proto 93 metric 77/);
      const t1000 = { ...v4, table: 1000 };
      assert.deepEqual(await call('addRoute', t1000), { ok: true });
      assert.match(a.ip('route', 'show', 'table', '1000'), /10\.98\.1\.0\/24 via 192\.168\.50\.2 dev eth0 proto 93/);
      for (const r of [v4, { ...onlink, type: 'blackhole' }, v6, t1000]) assert.deepEqual(await call('deleteRoute', r), { ok: true });
      const gone = await call('deleteRoute', v4);
      assert.equal(gone.code, 'ESRCH', JSON.stringify(gone));
      assert.ok(!routes().some((r) => r.dst.startsWith('10.98.')));
      assert.equal(a.ip('route', 'show', 'table', '1000').trim(), '');
      const bad = await call('addRoute', { ...v4, dst: '10.98.3.0/33' });
      assert.equal(bad.code, 'INVALID_PLAN', JSON.stringify(bad));
      assert.match(bad.error ?? '', /^route add 10\.98\.3\.0\/33 via 192\.168\.50\.2 proto 93: /);
      const nodev = await call('addRoute', { ...v4, dev: 'nosuch0' });
      assert.equal(nodev.code, 'NO_SUCH_LINK', JSON.stringify(nodev));
    });
  }

  it('routeNow: a route added, replaced and deleted before the call returns, its errors named as the promise calls name them; declined without the addon or a known device index', async () => {
    const now = (verb: string, route: object, sync = true, fresh = false) => worker.request({ op: 'routeNow', verb, route, sync, fresh });
    const v4 = { table: 254, protocol: 93, metric: 0, dst: '10.97.1.0/24', type: 'unicast', gateway: '192.168.50.2' };
    assert.deepEqual(await now('add', v4), { ok: true });
    assert.ok(routes().some((r) => r.dst === '10.97.1.0/24' && r.gateway === '192.168.50.2' && r.protocol === '93'), JSON.stringify(routes()));
    const again = await now('add', v4);
    assert.deepEqual([again.code, again.error], ['EEXIST', 'route add 10.97.1.0/24 via 192.168.50.2 proto 93: EEXIST']);
    assert.deepEqual(await now('replace', { ...v4, gateway: '192.168.50.3' }), { ok: true });
    assert.ok(routes().some((r) => r.dst === '10.97.1.0/24' && r.gateway === '192.168.50.3'), JSON.stringify(routes()));
    assert.deepEqual(await now('delete', v4), { ok: true });
    assert.ok(!routes().some((r) => r.dst === '10.97.1.0/24'));
    const gone = await now('delete', v4);
    assert.deepEqual([gone.code, gone.error], ['ESRCH', 'route del 10.97.1.0/24 via 192.168.50.2 proto 93: ESRCH']);
    // A device a (new) port has not looked up yet, and a port without the addon: nothing sent.
    assert.deepEqual(await now('add', { ...v4, dev: 'eth0' }, true, true), { ok: false, declined: true });
    assert.deepEqual(await now('add', v4, false), { ok: false, declined: true });
    assert.ok(!routes().some((r) => r.dst === '10.97.1.0/24'));
  });

  it('MTU and MAC drift are fixed on the same device (the kernel flushes neighbours on a MAC change: re-added)', async () => {
    a.ip('link', 'set', 'vxlan.calico', 'mtu', '1400', 'address', '02:00:00:00:00:99');
    const index = (JSON.parse(a.ip('-j', 'link', 'show', 'vxlan.calico')) as { ifindex: number }[])[0]!.ifindex;
    const rep = await worker.apply(PLAN, { resync: true });
    assert.deepEqual(rep.errors, []);
    assert.deepEqual([rep.devices, rep.neighbors.added], [{ created: 0, updated: 1, deleted: 0 }, 1]);
    const [link] = JSON.parse(a.ip('-j', 'link', 'show', 'vxlan.calico')) as { ifindex: number; mtu: number; address: string }[];
    assert.deepEqual([link!.ifindex, link!.mtu, link!.address], [index, 1450, A_MAC]);
    assert.equal(a.ip('neigh', 'show', 'dev', 'vxlan.calico').trim(), `10.244.2.0 lladdr ${B_MAC} PERMANENT`);
    assert.equal((await worker.apply(PLAN)).changes, 0);
  });

  it('IPIP: tunl0 configured when the kernel has ipip', async (t) => {
    const plan: DataplanePlan = {
      ...PLAN,
      ipip: { name: 'tunl0', address: '10.244.1.1', mtu: 1480 },
      routes: [...PLAN.routes, { dst: '10.244.3.0/26', type: 'unicast', gateway: '192.168.50.3', dev: 'tunl0', onlink: true }],
    };
    const probe = a.ip('link', 'show').includes('tunl0') ? undefined : run([IP_BIN, '-n', a.name, 'link', 'add', 'tunl0', 'type', 'ipip'], { check: false });
    if (probe && probe.status !== 0 && !existsSync('/sys/module/ipip')) {
      // What the dataplane must do on such a kernel: say so, and carry on with the rest.
      const rep = await worker.apply(plan);
      assert.ok(rep.issues.some((i) => i.code === 'IPIP_UNSUPPORTED' && i.severity === 'warning'), JSON.stringify(rep.issues));
      assert.ok(rep.errors.every((e) => /tunl0/.test(e)), JSON.stringify(rep.errors));
      t.skip(`no ipip module in this kernel: ${probe.stderr.trim()}`);
      return;
    }
    const rep = await worker.apply(plan);
    assert.deepEqual(rep.errors, []);
    assert.match(a.ip('-4', 'addr', 'show', 'dev', 'tunl0'), /inet 10\.244\.1\.1\/32/);
    assert.ok(routes().some((r) => r.dst === '10.244.3.0/26' && r.dev === 'tunl0' && r.flags?.includes('onlink')));
    const off = await worker.apply(PLAN);
    assert.deepEqual(off.errors, []);
    assert.doesNotMatch(a.ip('-4', 'addr', 'show', 'dev', 'tunl0'), /inet /);
  });

  it('an empty plan removes everything of ours and nothing else', async () => {
    const rep = await worker.apply(EMPTY);
    assert.deepEqual(rep.errors, []);
    assert.deepEqual([ours(), ours(true)], [[], []]);
    assert.match(a.ip('link', 'show'), /eth0/);
    assert.doesNotMatch(a.ip('link', 'show'), /vxlan\.calico/);
    assert.notEqual(a.exec(['nft', 'list', 'table', 'ip', 'tortie'], { check: false }).status, 0, 'table ip tortie gone');
    assert.equal(a.exec(['nft', 'list', 'table', 'inet', 'foreign'], { check: false }).status, 0, 'foreign table kept');
    assert.equal(routes().find((r) => r.dst === '10.77.0.0/16')?.protocol, 'static', 'foreign route kept');
    assert.match(a.ip('-4', 'addr', 'show', 'dev', 'eth0'), /192\.168\.50\.1\/24/);
    assert.equal((await worker.apply(EMPTY)).changes, 0);
  });
});
