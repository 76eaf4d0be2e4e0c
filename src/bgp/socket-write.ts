/**
 * How the speaker writes UPDATEs: straight to the socket's descriptor when nothing is queued on it, through
 * the stream otherwise. A reflector writes each route it reflects to every client, one small write each; the
 * stream layer's share of that (Writable.write and its state, the write request, the after-write callback and
 * its next-tick) cost about as much as the system call itself, and the fan-out to 24 clients ran long enough
 * for the clients it woke first to preempt the reflector before it reached the last ones (the reflector's
 * writes to one route's 24 clients spread over ≈18 ms, BIRD's over ≈2 ms, captured on the bench's bridge).
 *
 * Order is kept: the descriptor is written only while the stream holds nothing (`writableLength` counts what
 * is buffered and what libuv is still writing), so these bytes go after everything the stream wrote before.
 * What the kernel does not take at once (a full send buffer: a partial write or EAGAIN) goes to the stream,
 * which writes it when the socket drains and counts it for `writableNeedDrain` as usual. Any other error
 * (EPIPE, ECONNRESET) is left to the stream as well: the same bytes written there fail there, and the socket
 * reports it through 'error' and 'close', the path every connection already takes. Node ignores SIGPIPE.
 */
import { writeSync } from 'node:fs';

/** What `writeNow` needs from a socket; one without a descriptor of its own (a test's fake) is written as usual. */
interface Writable {
  write(data: Uint8Array): boolean;
  readonly writableLength?: number;
}

/** The descriptor of a net.Socket or net.Server: its libuv handle's (`_handle.fd`, Linux), else undefined. */
export function fdOf(handleOwner: object): number | undefined {
  const fd = (handleOwner as { _handle?: { fd?: unknown } })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

/**
 * The sockets written this way: the speaker's own (socket-read.ts makes them), not one a caller's `connect` or
 * `listen` hands over — those may count or record what goes through `write` (the interop tests' wire tap does).
 */
const direct = new WeakSet<object>();

/** Lets `writeNow` write `socket` through its descriptor. */
export function writeDirectly<T extends object>(socket: T): T {
  direct.add(socket);
  return socket;
}

/**
 * Writes `data` on `socket`: to its descriptor when the socket is one of the speaker's own and its stream is
 * empty, the rest (if any) through the stream.
 */
export function writeNow(socket: Writable, data: Buffer): void {
  if (socket.writableLength === 0 && direct.has(socket)) {
    const fd = fdOf(socket);
    if (fd !== undefined) {
      let n = 0;
      try {
        n = writeSync(fd, data);
      } catch {
        n = 0; // EAGAIN (the stream waits for the socket to drain), or an error the stream reports
      }
      if (n === data.length) return;
      if (n > 0) data = data.subarray(n);
    }
  }
  socket.write(data);
}
