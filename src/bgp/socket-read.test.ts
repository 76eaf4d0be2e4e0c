/**
 * The speaker's sockets read into one shared buffer and emit copies: over real loopback TCP, what arrives
 * went through that buffer, a chunk keeps its bytes after later reads overwrite the buffer (two sockets
 * interleaved), and end of stream still closes the socket. Accepted connections (a server that pauses them on
 * connect) move onto such a socket through a duplicated descriptor, losing nothing the peer sent at once.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { connectReading, readingAccepted, sharedReadBuffer } from './socket-read.js';
import { nativeDup } from './tcp-md5.js';
import { writeNow } from './socket-write.js';

async function server(): Promise<{ port: number; conns: net.Socket[]; close: () => void }> {
  const conns: net.Socket[] = [];
  const srv = net.createServer((c) => conns.push(c));
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  return { port: (srv.address() as net.AddressInfo).port, conns, close: () => srv.close() };
}

/** Waits until `got()` holds `n` bytes. */
async function until(got: () => number, n: number): Promise<void> {
  const t0 = Date.now();
  while (got() < n) {
    if (Date.now() - t0 > 5000) assert.fail(`only ${got()} of ${n} bytes arrived`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('socket-read: reads into the shared buffer, emits copies', () => {
  it('chunks keep their bytes after the buffer is reused; the read went through the shared buffer; end closes', async () => {
    const srv = await server();
    const sockets = [connectReading({ host: '127.0.0.1', port: srv.port }), connectReading({ host: '127.0.0.1', port: srv.port })];
    const chunks: Buffer[][] = [[], []];
    sockets.forEach((s, i) => s.on('data', (c: Buffer) => chunks[i]!.push(c)));
    await Promise.all(sockets.map((s) => once(s, 'connect')));
    await until(() => srv.conns.length, 2);
    const total = (i: number) => chunks[i]!.reduce((n, c) => n + c.length, 0);
    // A connected socket of the speaker's is written straight to its descriptor (socket-write.ts).
    const seen: Buffer[] = [];
    srv.conns[0]!.on('data', (c: Buffer) => seen.push(c));
    writeNow(sockets[0]!, Buffer.from('hello'));
    assert.equal(sockets[0]!.bytesWritten, 0, 'not through the stream');
    await until(() => seen.reduce((n, c) => n + c.length, 0), 5);
    assert.equal(Buffer.concat(seen).toString(), 'hello');

    // First socket: 100 × 'A'; then the second: 100 × 'B', which lands in the same buffer.
    srv.conns[0]!.write(Buffer.alloc(100, 'A'));
    await until(() => total(0), 100);
    assert.equal(sharedReadBuffer().subarray(0, 100).toString(), 'A'.repeat(100), 'the read went into the shared buffer');
    srv.conns[1]!.write(Buffer.alloc(100, 'B'));
    await until(() => total(1), 100);
    assert.equal(sharedReadBuffer().subarray(0, 100).toString(), 'B'.repeat(100));
    assert.equal(Buffer.concat(chunks[0]!).toString(), 'A'.repeat(100), 'the first socket\'s chunk was overwritten by the second read');
    assert.equal(Buffer.concat(chunks[1]!).toString(), 'B'.repeat(100));

    // A larger stream arrives whole and in order.
    const big = Buffer.alloc(200_000);
    for (let i = 0; i < big.length; i++) big[i] = i % 251;
    srv.conns[0]!.write(big);
    await until(() => total(0), 100 + big.length);
    assert.ok(Buffer.concat(chunks[0]!).subarray(100).equals(big));

    const closed = once(sockets[0]!, 'close');
    srv.conns[0]!.end();
    await closed;
    for (const s of sockets) s.destroy();
    for (const c of srv.conns) c.destroy();
    srv.close();
  });

  it('an accepted connection moves to a socket reading through the shared buffer: nothing sent before is lost, addresses and writes work', async (t) => {
    const dup = nativeDup();
    if (!dup) return t.skip('the native addon is not built (scripts/setup.sh)');
    const accepted: net.Socket[] = [];
    const originals: net.Socket[] = [];
    const srv = net.createServer({ pauseOnConnect: true }, (c) => {
      originals.push(c);
      accepted.push(readingAccepted(c, dup));
    });
    srv.listen(0, '127.0.0.1');
    await once(srv, 'listening');
    const port = (srv.address() as net.AddressInfo).port;
    const client = net.connect({ host: '127.0.0.1', port });
    await once(client, 'connect');
    client.write(Buffer.alloc(300, 'C')); // before the server side has done anything
    await until(() => accepted.length, 1);
    const s = accepted[0]!;
    assert.notEqual(s, originals[0], 'a new socket');
    assert.equal(originals[0]!.destroyed, true, "the server's socket is let go");
    assert.deepEqual([s.remoteAddress, s.remotePort], ['127.0.0.1', client.localPort]);
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    await until(() => chunks.reduce((n, c) => n + c.length, 0), 300);
    assert.equal(Buffer.concat(chunks).toString(), 'C'.repeat(300));
    assert.equal(sharedReadBuffer().subarray(0, 300).toString(), 'C'.repeat(300), 'read through the shared buffer');
    // The connection survived the original's close: both directions still work.
    const back: Buffer[] = [];
    client.on('data', (c: Buffer) => back.push(c));
    s.write('pong');
    await until(() => back.reduce((n, c) => n + c.length, 0), 4);
    assert.equal(Buffer.concat(back).toString(), 'pong');
    // The speaker's UPDATE writes go straight to this socket's descriptor (socket-write.ts), not the stream.
    const streamed = s.bytesWritten;
    writeNow(s, Buffer.from('ping'));
    await until(() => back.reduce((n, c) => n + c.length, 0), 8);
    assert.equal(Buffer.concat(back).toString(), 'pongping');
    assert.equal(s.bytesWritten, streamed, 'written through the descriptor');
    client.write('D');
    await until(() => chunks.reduce((n, c) => n + c.length, 0), 301);
    const closed = once(s, 'close');
    client.end();
    await closed;
    client.destroy();
    srv.close();
  });

  it('without dup, an accepted connection stays on its own socket, resumed', async () => {
    const got: Buffer[] = [];
    const srv = net.createServer({ pauseOnConnect: true }, (c) => {
      const s = readingAccepted(c, undefined);
      assert.equal(s, c);
      s.on('data', (b: Buffer) => got.push(b));
    });
    srv.listen(0, '127.0.0.1');
    await once(srv, 'listening');
    const client = net.connect({ host: '127.0.0.1', port: (srv.address() as net.AddressInfo).port });
    await once(client, 'connect');
    client.write('hello');
    await until(() => got.reduce((n, c) => n + c.length, 0), 5);
    assert.equal(Buffer.concat(got).toString(), 'hello');
    client.destroy();
    srv.close();
  });
});
