import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryBackend } from './memory.js';
import { watchKV } from './watcher.js';
import { runContractSuite } from './testing/contract.js';

runContractSuite('memory', async () => {
  const h = {
    kv: new MemoryBackend(),
    // A "restart" of the in-memory store: the data stays, every watch connection drops.
    async restart() {
      (h.kv as MemoryBackend).disconnectWatchers();
    },
    async compact(revision: string) {
      await (h.kv as MemoryBackend).compact(revision);
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

  it('a snapshot beyond the current revision reads the present, labelled with the current revision', async () => {
    const kv = new MemoryBackend();
    await kv.apply('/k', 'v');
    const r = await kv.list('/', { revision: '99' });
    assert.equal(r.revision, '1');
    assert.equal(r.pairs[0]!.value, 'v');
  });

  it('after close every call is ClosedError and a watcher stops instead of retrying', async () => {
    const kv = new MemoryBackend();
    const w = watchKV(kv, '/', { minBackoffMs: 1, maxBackoffMs: 2 });
    await w.ready;
    await kv.close();
    await assert.rejects(kv.get('/x'), { code: 'CLOSED' });
    await assert.rejects(async () => {
      for await (const _ of w) void _;
    }, { code: 'CLOSED' });
  });
});
