import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryBackend } from './memory.js';
import { runContractSuite } from './testing/contract.js';

runContractSuite('memory', async () => {
  const h = {
    kv: new MemoryBackend(),
    // A "restart" of the in-memory store: the data stays, every watch connection drops.
    async restart() {
      (h.kv as MemoryBackend).disconnectWatchers();
    },
    async compact(revision: string) {
      (h.kv as MemoryBackend).compact(Number(revision));
    },
    async cleanup() {
      await h.kv.close();
    },
  };
  return h;
});

describe('memory backend specifics', () => {
  it('bounded history: old snapshots and watches become CompactedError', async () => {
    const kv = new MemoryBackend({ historyLimit: 3 });
    for (let i = 0; i < 6; i++) await kv.apply('/k', String(i));
    await assert.rejects(kv.list('/', { revision: '1' }), { code: 'COMPACTED' });
    const s = kv.watch('/', '1');
    await assert.rejects(async () => {
      for await (const _ of s) void _;
    }, { code: 'COMPACTED' });
    const ok = await kv.list('/', { revision: '4' });
    assert.equal(ok.pairs[0]!.value, '3');
  });
});
