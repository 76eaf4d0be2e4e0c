import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { Agent, Serial, STATUS_ACTIVE_MS, STATUS_IDLE_MS } from './agent.js';
import { nullLogger } from './log.js';
import { ensureDefaults, ensureNode } from './startup.js';
import { Client } from '../datastore/client.js';
import { MemoryBackend } from '../datastore/memory.js';
import { Ipam } from '../ipam/ipam.js';
import type { Speaker } from '../bgp/speaker.js';
import type { DataplanePlan } from '../routing/types.js';

/** The speaker surface the agent uses; `best` events are emitted by the test. */
class FakeSpeaker extends EventEmitter {
  deferringSelection = false;
  /** What happened, in order: the real speaker sends the UPDATEs for new originated routes from an immediate. */
  order: string[] = [];
  /** Every configuring call and sending tick, in order: `peers <JSON>`, `originated <prefixes>`, `kick`. */
  steps: string[] = [];
  setPeers(peers: unknown[] = []): void {
    this.steps.push(`peers ${JSON.stringify(peers)}`);
  }
  /** The prefixes of each setOriginated call. */
  originated: string[][] = [];
  setOriginated(routes: { prefix: string }[] = []): void {
    this.originated.push(routes.map((r) => r.prefix));
    this.steps.push(`originated ${routes.map((r) => r.prefix).join(',')}`);
    setImmediate(() => {
      this.order.push('speaker kick');
      this.steps.push('kick');
    });
  }
  async start(): Promise<number> {
    return 179;
  }
  status(): [] {
    return [];
  }
  routes(): [] {
    return [];
  }
  close(): void {}
}

/** Waits (up to 1 s) until `ok()` holds, then asserts it, naming `what`. */
async function until(what: string, ok: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !ok(); i++) await new Promise((r) => setTimeout(r, 2));
  assert.ok(ok(), what);
}

async function agentWithFakes() {
  const kv = new MemoryBackend();
  const client = new Client(kv);
  await client.ensureInitialized({ clusterType: 'tortie,bgp' });
  const id = { name: 'n1', ipv4: '192.0.2.1/24' };
  await ensureNode(client, id);
  await ensureDefaults(client, id, {}, nullLogger);
  const applied: DataplanePlan[] = [];
  const hints: (ReadonlyMap<string, unknown> | undefined)[] = [];
  const plans = { n: 0 };
  const failNext = { n: 0 };
  const speaker = new FakeSpeaker();
  const agent = new Agent({
    client,
    ipam: new Ipam(client),
    nodeName: 'n1',
    host: { iface: 'eth0', mtu: 1500 },
    log: nullLogger,
    speakerFactory: () => speaker as unknown as Speaker,
    dataplane: {
      apply: async (plan, opts) => {
        speaker.order.push('dataplane');
        applied.push(plan);
        hints.push(opts?.routes);
        if (failNext.n > 0) {
          failNext.n--;
          return { ok: false, errors: ['route add: EIO'] };
        }
        return { ok: true };
      },
    },
    initialSyncMs: 0,
    hooks: { planned: () => void plans.n++ },
  });
  await agent.start();
  const settle = async () => {
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  };
  await settle();
  return { agent, speaker, applied, hints, plans, failNext, settle, client, kv };
}

describe('agent: learned routes to the kernel', () => {
  it('after a clean pass, learned changes update the plan and name the routes that moved; a new snapshot or a failed pass plans in full', async () => {
    const { agent, speaker, applied, hints, failNext, settle, client } = await agentWithFakes();
    try {
      applied.length = 0;
      hints.length = 0;
      speaker.emit('best', { prefix: '10.244.7.0/26', kind: 'added', nextHop: '192.0.2.7', from: '192.0.2.100' });
      await settle();
      assert.equal(applied.length, 1);
      assert.deepEqual([...(hints[0] ?? new Map()).entries()], [['10.244.7.0/26', { dst: '10.244.7.0/26', type: 'unicast', gateway: '192.0.2.7' }]]);
      // The updated plan holds the route (the planner's own tests compare updates with full planning).
      assert.deepEqual(
        applied[0]!.routes.filter((r) => r.gateway).map((r) => `${r.dst} via ${r.gateway}`),
        ['10.244.7.0/26 via 192.0.2.7'],
      );
      speaker.emit('best', { prefix: '10.244.8.0/26', kind: 'added', nextHop: '192.0.2.8', from: '192.0.2.100' });
      speaker.emit('best', { prefix: '10.244.7.0/26', kind: 'withdrawn' });
      await settle();
      assert.equal(applied.length, 2, 'two changes in one tick: one pass');
      assert.deepEqual([...hints[1]!.keys()].sort(), ['10.244.7.0/26', '10.244.8.0/26']);
      assert.equal(hints[1]!.get('10.244.7.0/26'), undefined);
      // A failed pass: the retry plans in full and names nothing.
      failNext.n = 1;
      speaker.emit('best', { prefix: '10.244.9.0/26', kind: 'added', nextHop: '192.0.2.9', from: '192.0.2.100' });
      await settle();
      assert.equal(applied.length, 3);
      assert.ok(hints[2]);
      await agent.reload(); // (stands in for the 1 s retry timer)
      await settle();
      assert.equal(hints.at(-1), undefined, 'after a failure: the whole plan');
      assert.ok(applied.at(-1)!.routes.some((r) => r.dst === '10.244.9.0/26'));
      // A datastore change (new snapshot): the whole plan, then updates again.
      await client.create({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'extra' }, spec: { cidr: '10.99.0.0/16' } });
      await agent.reload();
      await settle();
      assert.equal(hints.at(-1), undefined, 'a new snapshot: the whole plan');
      speaker.emit('best', { prefix: '10.244.10.0/26', kind: 'added', nextHop: '192.0.2.10', from: '192.0.2.100' });
      await settle();
      assert.deepEqual([...hints.at(-1)!.keys()], ['10.244.10.0/26']);
      // The last plan handed over holds exactly the learned routes left, in order.
      assert.deepEqual(
        applied.at(-1)!.routes.filter((r) => r.gateway).map((r) => r.dst),
        ['10.244.8.0/26', '10.244.9.0/26', '10.244.10.0/26'],
      );
    } finally {
      await agent.stop();
    }
  });

  it('the same next hop from another peer (a second reflector) programs nothing; a new next hop and a withdrawal do', async () => {
    const { agent, speaker, applied, plans, settle } = await agentWithFakes();
    try {
      const routesOf = (p: DataplanePlan | undefined) => (p?.routes ?? []).filter((r) => r.gateway).map((r) => `${r.dst} via ${r.gateway}`);
      applied.length = 0;
      plans.n = 0;
      speaker.emit('best', { prefix: '10.244.7.0/26', kind: 'added', nextHop: '192.0.2.7', from: '192.0.2.100' });
      await settle();
      assert.equal(applied.length, 1);
      assert.deepEqual(routesOf(applied.at(-1)), ['10.244.7.0/26 via 192.0.2.7']);
      // The reflector copy: best path moves to the other reflector, same next hop.
      speaker.emit('best', { prefix: '10.244.7.0/26', kind: 'changed', nextHop: '192.0.2.7', from: '192.0.2.101' });
      await settle();
      assert.equal(plans.n, 1, 'not even planned again for a copy with the same next hop');
      assert.equal(applied.length, 1);
      speaker.emit('best', { prefix: '10.244.7.0/26', kind: 'changed', nextHop: '192.0.2.8', from: '192.0.2.101' });
      await settle();
      assert.equal(applied.length, 2);
      assert.deepEqual(routesOf(applied.at(-1)), ['10.244.7.0/26 via 192.0.2.8']);
      speaker.emit('best', { prefix: '10.244.7.0/26', kind: 'withdrawn' });
      await settle();
      assert.equal(applied.length, 3);
      assert.deepEqual(routesOf(applied.at(-1)), []);
      speaker.emit('best', { prefix: '10.244.7.0/26', kind: 'withdrawn' });
      await settle();
      assert.equal(plans.n, 3, 'withdrawing what is not there plans nothing');
    } finally {
      await agent.stop();
    }
  });
});

describe('agent: when a learned route is programmed', () => {
  it("a learned one (a reflector's too, which it sends on) at once; this node's own, after the speaker's tick", async () => {
    const { agent, speaker, applied, plans, settle } = await agentWithFakes();
    try {
      // The real speaker queues the tick that writes the UPDATEs before it emits a `sent` event.
      speaker.order.length = 0;
      setImmediate(() => speaker.order.push('speaker kick'));
      speaker.emit('best', { prefix: '10.244.7.0/26', kind: 'added', nextHop: '192.0.2.7', from: '192.0.2.7', sent: true });
      await settle();
      assert.deepEqual(speaker.order, ['dataplane', 'speaker kick'], 'reflected: the kernel first, as BIRD does');
      assert.ok(applied.at(-1)!.routes.some((r) => r.dst === '10.244.7.0/26'));
      speaker.order.length = 0;
      setImmediate(() => speaker.order.push('speaker kick'));
      speaker.emit('best', { prefix: '10.244.8.0/26', kind: 'added', nextHop: '192.0.2.8', from: '192.0.2.100' });
      await settle();
      assert.deepEqual(speaker.order, ['dataplane', 'speaker kick'], 'only heard: the kernel first');
      assert.ok(applied.at(-1)!.routes.some((r) => r.dst === '10.244.8.0/26'));
      // Its own route changes no kernel route (the block's blackhole comes from the datastore), so the pass
      // plans and writes nothing: what shows the order is when it plans.
      const before = plans.n;
      let atKick = -1;
      setImmediate(() => void (atKick = plans.n));
      speaker.emit('best', { prefix: '10.244.9.0/26', kind: 'added', nextHop: '192.0.2.1', from: 'local', sent: true });
      await settle();
      assert.equal(atKick, before, 'its own: nothing planned before the speaker has sent it');
      assert.equal(plans.n, before + 1, 'planned after the tick');
    } finally {
      await agent.stop();
    }
  });
});

describe('agent: a datastore change', () => {
  it('lets the speaker send what this node now originates before the dataplane pass starts', async () => {
    const { agent, speaker, applied, settle, client } = await agentWithFakes();
    try {
      speaker.order.length = 0;
      const before = applied.length;
      await client.create({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'extra' }, spec: { cidr: '10.99.0.0/16' } });
      await agent.reload();
      await settle();
      assert.equal(applied.length, before + 1);
      assert.deepEqual(speaker.order, ['speaker kick', 'dataplane']);
    } finally {
      await agent.stop();
    }
  });
});

describe("agent: a pod's new block", () => {
  it("goes to the speaker, and the speaker's sending tick runs, before the peers' export policies naming it are set", async () => {
    const { agent, speaker, client } = await agentWithFakes();
    try {
      await ensureNode(client, { name: 'n2', ipv4: '192.0.2.2/24' });
      await client.create({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'pods' }, spec: { cidr: '10.240.0.0/16', blockSize: 26, nodeSelector: 'all()' } });
      await until('n1 peers with n2 (the mesh)', () => speaker.steps.some((x) => x.startsWith('peers') && x.includes('192.0.2.2')));
      await agent.reload();
      speaker.steps.length = 0;
      const r = await new Ipam(client).autoAssign({ num4: 1, hostname: 'n1', handle: 'p1', attrs: { node: 'n1' } });
      const block = r.v4.ips[0]!.block.toString();
      const naming = (x: string) => x.startsWith('peers') && x.includes(`"cidr":"${block}"`);
      await until("the peers' export policies name the block", () => speaker.steps.some(naming));
      const sent = speaker.steps.findIndex((x) => x.startsWith('originated') && x.includes(block));
      assert.ok(sent >= 0, speaker.steps.join('\n'));
      assert.equal(speaker.steps[sent + 1], 'kick', `the tick right after: ${speaker.steps.slice(sent).join(' | ')}`);
      assert.ok(speaker.steps.findIndex(naming) > sent + 1, 'the policies after the tick');
      // Another address of the same block: nothing this node originates moves, and nothing is configured early.
      await new Promise((r) => setTimeout(r, 30)); // the claim's last writes, passes and ticks
      speaker.steps.length = 0;
      await new Ipam(client).autoAssign({ num4: 1, hostname: 'n1', handle: 'p2', attrs: { node: 'n1' } });
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(speaker.steps, []);
    } finally {
      await agent.stop();
    }
  });
  it("its blackhole, and its removal, reach the kernel as route changes named to the dataplane, not as a whole plan", async () => {
    const { agent, client, applied, hints } = await agentWithFakes();
    try {
      await client.create({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'pods' }, spec: { cidr: '10.240.0.0/16', blockSize: 26, nodeSelector: 'all()' } });
      await agent.reload();
      await new Promise((r) => setTimeout(r, 30));
      const from = applied.length;
      const ipam = new Ipam(client);
      const r = await ipam.autoAssign({ num4: 1, hostname: 'n1', handle: 'p1', attrs: { node: 'n1' } });
      const block = r.v4.ips[0]!.block;
      const blackhole = (p: DataplanePlan) => p.routes.some((x) => x.dst === block.toString() && x.type === 'blackhole');
      await until('the blackhole is programmed', () => applied.length > from && blackhole(applied.at(-1)!));
      const added = applied.findIndex((p, i) => i >= from && blackhole(p));
      assert.deepEqual([...(hints[added] ?? new Map()).entries()], [[block.toString(), { dst: block.toString(), type: 'blackhole' }]]);
      assert.ok(hints.slice(from).every((h) => h !== undefined), 'no pass planned in full');
      await ipam.releaseByHandle('p1');
      await ipam.releaseBlockAffinity({ type: 'host', name: 'n1' }, block, { requireEmpty: true });
      await until('the blackhole is removed', () => !blackhole(applied.at(-1)!));
      assert.deepEqual([...(hints.at(-1) ?? new Map()).entries()], [[block.toString(), undefined]]);
      assert.ok(hints.slice(from).every((h) => h !== undefined), 'no pass planned in full');
    } finally {
      await agent.stop();
    }
  });
});

describe('agent: what a re-read reads', () => {
  it('after IPAM-only changes (a pod\'s new block) reads only the IPAM keys; after any other change, everything', async () => {
    const { agent, speaker, client, kv, applied } = await agentWithFakes();
    // The agent's snapshot reads (IPAM's own reads through the same backend are not counted): how many prefixes.
    const reads: number[] = [];
    const readMany = kv.readMany.bind(kv);
    const snapshotRead = (ps: string[]) => ps.includes('/calico/ipam/v2/host/') && ps.includes('/calico/ipam/v2/virtual/');
    kv.readMany = (reqs) => {
      const ps = reqs.map((x) => ('prefix' in x ? x.prefix : x.key));
      if (snapshotRead(ps)) reads.push(ps.length);
      return readMany(reqs);
    };
    const originates = (cidr: string) => speaker.originated.at(-1)?.includes(cidr) === true;
    try {
      await client.create({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'pods' }, spec: { cidr: '10.240.0.0/16', blockSize: 26, nodeSelector: 'all()' } });
      await until('the pool is read', () => reads.includes(9));
      await agent.reload(); // whatever the watch still had in flight
      reads.length = 0;
      const r = await new Ipam(client).autoAssign({ num4: 1, hostname: 'n1', handle: 'p1', attrs: { node: 'n1' } });
      const block = r.v4.ips[0]!.block.toString();
      await until(`n1 originates ${block}`, () => originates(block));
      assert.ok(reads.length > 0 && reads.every((n) => n === 3), `IPAM keys only: ${reads}`);
      // Writes routing does not see — another address of n1's own block, a pending affinity without its block —
      // are read (IPAM keys only), and nothing is planned, configured or programmed for them.
      await new Promise((r) => setTimeout(r, 30)); // the claim's last writes and passes
      const [configured, programmed] = [speaker.originated.length, applied.length];
      reads.length = 0;
      await new Ipam(client).autoAssign({ num4: 1, hostname: 'n1', handle: 'p2', attrs: { node: 'n1' } });
      await kv.create('/calico/ipam/v2/host/n1/ipv4/block/10.240.200.0-26', JSON.stringify({ state: 'pending', deleted: false }));
      await until('read', () => reads.length >= 1);
      await new Promise((r) => setTimeout(r, 30)); // (the watch may deliver them in one batch or two)
      assert.ok(reads.every((n) => n === 3), `IPAM keys only: ${reads}`);
      assert.deepEqual([speaker.originated.length, applied.length], [configured, programmed]);
      reads.length = 0;
      await client.create({ apiVersion: 'projectcalico.org/v3', kind: 'BGPPeer', metadata: { name: 'tor' }, spec: { peerIP: '192.0.2.254', asNumber: 65001 } });
      await until('the peer is read', () => reads.length > 0);
      assert.deepEqual(reads, [9], 'a resource changed: everything is read');
      assert.ok(originates(block), 'and the block is still originated');
      reads.length = 0;
      await agent.reload();
      assert.deepEqual(reads, [9], 'a reload reads everything');
    } finally {
      await agent.stop();
    }
  });
});

describe('Serial', () => {
  it("triggers made together make one run: 'microtask' starts it before callbacks already queued, 'immediate' after them", async () => {
    for (const mode of ['microtask', 'immediate'] as const) {
      const order: string[] = [];
      const s = new Serial(async () => void order.push('run'), () => {}, mode);
      setImmediate(() => order.push('queued before'));
      s.trigger();
      s.trigger();
      await s.idle();
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(order, mode === 'microtask' ? ['run', 'queued before'] : ['queued before', 'run'], mode);
    }
  });

  it("trigger('immediate') starts after the callbacks already queued in either mode; a trigger while running runs again once", async () => {
    for (const mode of ['microtask', 'immediate'] as const) {
      const order: string[] = [];
      let runs = 0;
      const s = new Serial(
        async () => {
          order.push(`run ${++runs}`);
          if (runs === 1) s.trigger(); // while running: one more run after this one
        },
        () => {},
        mode,
      );
      setImmediate(() => order.push('queued before'));
      s.trigger('immediate');
      s.trigger();
      await s.idle();
      assert.deepEqual(order, ['queued before', 'run 1', 'run 2'], mode);
    }
  });
});

describe('agent: CalicoNodeStatus', () => {
  it('looks every second while a CalicoNodeStatus asks about this node, every few seconds while none does', async () => {
    const { agent, client } = await agentWithFakes();
    try {
      assert.equal(await agent.writeNodeStatuses(), STATUS_IDLE_MS, 'none at all');
      const status = (name: string, node: string) => ({
        apiVersion: 'projectcalico.org/v3',
        kind: 'CalicoNodeStatus',
        metadata: { name },
        spec: { node, classes: ['Agent'], updatePeriodSeconds: 1 },
      });
      await client.create(status('other', 'n2'));
      assert.equal(await agent.writeNodeStatuses(), STATUS_IDLE_MS, 'one for another node');
      const other = (await client.get({ kind: 'CalicoNodeStatus', name: 'other' })).status as { lastUpdated?: string } | undefined;
      assert.equal(other?.lastUpdated ?? null, null, "another node's is left alone");
      await client.create(status('mine', 'n1'));
      assert.equal(await agent.writeNodeStatuses(), STATUS_ACTIVE_MS, 'one for this node');
      const st = (await client.get({ kind: 'CalicoNodeStatus', name: 'mine' })).status as { lastUpdated?: string; agent?: { birdV4?: { state?: string } } };
      assert.ok(st.lastUpdated, 'filled in');
      assert.ok(STATUS_IDLE_MS > STATUS_ACTIVE_MS);
    } finally {
      await agent.stop();
    }
  });
});
