/**
 * The speaker's sockets read into one shared buffer and emit copies: over real loopback TCP, what arrives
 * went through that buffer, a chunk keeps its bytes after later reads overwrite the buffer (two sockets
 * interleaved), and end of stream still closes the socket.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { connectReading, sharedReadBuffer } from './socket-read.js';

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
});
