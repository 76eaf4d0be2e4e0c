/**
 * writeNow over real loopback TCP: an idle socket is written through its descriptor (the stream never sees the
 * bytes); while the stream holds anything, or when the kernel takes only part, the stream writes the rest, and
 * the peer receives everything once, in order; a reset connection reports through the stream, never a throw.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeDirectly, writeNow } from './socket-write.js';

/** A connection over loopback: `client` connected, `peer` accepted (not reading yet with `pauseOnConnect`). */
async function pair(pauseOnConnect = false): Promise<{ client: net.Socket; peer: net.Socket; close: () => void }> {
  const srv = net.createServer({ pauseOnConnect });
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const accepted = once(srv, 'connection');
  const client = net.connect({ host: '127.0.0.1', port: (srv.address() as net.AddressInfo).port });
  await once(client, 'connect');
  const [peer] = (await accepted) as [net.Socket];
  return { client: writeDirectly(client), peer: writeDirectly(peer), close: () => srv.close() };
}

/** Everything `peer` receives until it holds `n` bytes. */
async function receive(peer: net.Socket, n: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let got = 0;
  const t0 = Date.now();
  peer.on('data', (c: Buffer) => {
    chunks.push(c);
    got += c.length;
  });
  peer.resume();
  while (got < n) {
    if (Date.now() - t0 > 10_000) assert.fail(`only ${got} of ${n} bytes arrived`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return Buffer.concat(chunks);
}

const pattern = (n: number, seed: number): Buffer => {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + seed) % 251;
  return b;
};

describe('socket-write: writeNow', () => {
  it('writes an idle socket through its descriptor: the bytes arrive, the stream wrote none of them', async () => {
    const { client, peer, close } = await pair();
    try {
      const a = pattern(63, 1);
      const b = pattern(28, 2);
      writeNow(client, a);
      writeNow(client, b);
      assert.equal(client.bytesWritten, 0, 'nothing went through the stream');
      assert.equal(client.writableLength, 0);
      assert.ok((await receive(peer, a.length + b.length)).equals(Buffer.concat([a, b])));
    } finally {
      client.destroy();
      peer.destroy();
      close();
    }
  });

  it('keeps the order behind what the stream holds, and hands the stream what the kernel did not take', async () => {
    const { client, peer, close } = await pair();
    try {
      peer.pause(); // the peer reads nothing until the end: the send and receive buffers fill up
      const big = pattern(16 * 1024 * 1024, 3);
      writeNow(client, big); // more than the kernel's buffers take: a partial write, the rest queued in the stream
      assert.ok(client.writableLength > 0, 'the rest of the large write waits in the stream');
      assert.ok(client.writableLength < big.length, 'the kernel took a part of it directly');
      const small = pattern(49, 4);
      writeNow(client, small); // must not overtake the queued bytes
      assert.ok(client.writableLength > small.length, 'the small write queued behind the large one');
      const got = await receive(peer, big.length + small.length);
      assert.equal(got.length, big.length + small.length);
      assert.ok(got.subarray(0, big.length).equals(big), 'the large write arrived whole and first');
      assert.ok(got.subarray(big.length).equals(small), 'the small one after it');
      // Drained: the next write goes straight to the descriptor again.
      await new Promise((r) => setImmediate(r));
      const before = client.bytesWritten;
      writeNow(client, small);
      assert.equal(client.bytesWritten, before);
      assert.ok((await receive(peer, small.length)).subarray(-small.length).equals(small));
    } finally {
      client.destroy();
      peer.destroy();
      close();
    }
  });

  it('does not overtake the stream when the kernel has room again before the stream has written its rest', async () => {
    // The reader is another process, draining the kernel's buffers while this thread is blocked: when the
    // small write comes, the kernel could take it, but the stream still holds the large one's rest.
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1');
    await once(srv, 'listening');
    const accepted = once(srv, 'connection');
    const reader = spawn(process.execPath, ['-e', `
      const h = require('node:crypto').createHash('sha256'); let n = 0;
      const s = require('node:net').connect(${(srv.address() as net.AddressInfo).port}, '127.0.0.1');
      s.on('data', (c) => { h.update(c); n += c.length; });
      s.on('end', () => { process.stdout.write(n + ' ' + h.digest('hex')); s.end(); });
    `], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    reader.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      const writer = writeDirectly(((await accepted) as [net.Socket])[0]);
      const big = pattern(32 * 1024 * 1024, 5);
      const small = pattern(49, 6);
      writeNow(writer, big);
      assert.ok(writer.writableLength > 0, 'the large write is partly queued in the stream');
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300); // the reader drains meanwhile
      writeNow(writer, small);
      writer.end();
      await once(reader, 'exit');
      const want = createHash('sha256').update(big).update(small).digest('hex');
      assert.equal(out, `${big.length + small.length} ${want}`, 'everything arrived once, in order');
    } finally {
      reader.kill();
      srv.close();
    }
  });

  it('does not throw on a reset connection: the stream reports it', async () => {
    // The writer is the accepted side, paused on connect: it reads nothing, so the reset waits in the kernel
    // until a write meets it.
    const { client, peer: writer, close } = await pair(true);
    try {
      const errors: string[] = [];
      writer.on('error', (e: NodeJS.ErrnoException) => errors.push(e.code ?? e.message));
      const closed = new Promise((r) => writer.once('close', r)); // (events.once would reject on 'error')
      client.resetAndDestroy();
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(writer.destroyed, false);
      for (let i = 0; i < 3; i++) writeNow(writer, pattern(100, i)); // the descriptor refuses: no throw
      await closed;
      assert.ok(errors.length > 0 && errors.every((c) => c === 'ECONNRESET' || c === 'EPIPE'), `errors: ${errors.join(', ')}`);
    } finally {
      writer.destroy();
      close();
    }
  });

  it('writes a socket without a descriptor (a test fake) through its write()', () => {
    const written: Uint8Array[] = [];
    const fake = writeDirectly({ writableLength: 0, write: (d: Uint8Array) => (written.push(d), true) });
    writeNow(fake, Buffer.from('x'));
    assert.deepEqual(written.map((d) => Buffer.from(d).toString()), ['x']);
  });

  it('writes a socket it was not told about (a caller\'s, perhaps tapped) through its write()', async () => {
    const { client, peer, close } = await pair();
    try {
      // A wrapper with a live descriptor (the client's), never marked: its write() sees the bytes.
      const seen: Buffer[] = [];
      const tapped = { writableLength: 0, write: (d: Uint8Array) => (seen.push(Buffer.from(d)), true), _handle: (client as unknown as { _handle: unknown })._handle };
      writeNow(tapped, Buffer.from('y'));
      assert.deepEqual(seen.map(String), ['y']);
    } finally {
      client.destroy();
      peer.destroy();
      close();
    }
  });
});
