import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { Agent } from './agent.js';
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
  setPeers(): void {}
  setOriginated(): void {}
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

async function agentWithFakes() {
  const client = new Client(new MemoryBackend());
  await client.ensureInitialized({ clusterType: 'tortie,bgp' });
  const id = { name: 'n1', ipv4: '192.0.2.1/24' };
  await ensureNode(client, id);
  await ensureDefaults(client, id, {}, nullLogger);
  const applied: DataplanePlan[] = [];
  const plans = { n: 0 };
  const speaker = new FakeSpeaker();
  const agent = new Agent({
    client,
    ipam: new Ipam(client),
    nodeName: 'n1',
    host: { iface: 'eth0', mtu: 1500 },
    log: nullLogger,
    speakerFactory: () => speaker as unknown as Speaker,
    dataplane: {
      apply: async (plan) => {
        applied.push(plan);
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
  return { agent, speaker, applied, plans, settle };
}

describe('agent: learned routes to the kernel', () => {
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
