/**
 * How the speaker's own TCP sockets are read (and marked to be written straight to their descriptor, see
 * socket-write.ts): into one process-wide buffer (`net`'s `onread`), not through the
 * stream layer. A stream-mode read allocates a 64 KiB buffer per read and runs the Readable machinery (push,
 * 'data', the next-tick read-ahead) for every message; a reflector client reads one small UPDATE at a time, a few
 * times a second, so that fixed cost — cold in the CPU caches each time — was about half of what a bare Node
 * process spends per message received (≈120 → ≈60 µs measured with 23 receivers on 2 cores).
 *
 * The callback copies what was read into a Buffer of its own before emitting it as 'data': the framer hands out
 * messages as views of their chunk and the RIB may keep attribute bytes, so nothing may point into the shared
 * buffer, which the next read overwrites. Sockets made this way emit 'data' like any other (the session does
 * not tell them apart); end of stream, errors and 'close' take Node's usual path.
 *
 * Accepted connections come from `net.Server`, which has no `onread`. The speaker's server pauses them on
 * connect, so nothing is read yet, and `readingAccepted` moves each onto a socket of its own: the descriptor is
 * duplicated (the TCP MD5 addon's `dup`), the server's socket destroyed — which closes its descriptor, not the
 * connection — and the duplicate wrapped like the MD5 addon's. Without the addon they keep the stream path.
 */
import net from 'node:net';
import { fdOf, writeDirectly } from './socket-write.js';

/** The largest read, as Node's stream reads (64 KiB); callbacks run one at a time, so one buffer serves all sockets. */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/** The shared buffer, for tests: what the last read put there. */
export const sharedReadBuffer = (): Buffer => READ_BUFFER;

/** `net.Socket` options that make `socket` read into the shared buffer and emit copies as 'data'. */
function onread(socket: () => net.Socket): net.OnReadOpts {
  return {
    buffer: READ_BUFFER,
    callback: (n: number) => {
      // (Buffer.from of a view takes the array-like path, element by element; copy is a memcpy.)
      const chunk = Buffer.allocUnsafe(n);
      READ_BUFFER.copy(chunk, 0, 0, n);
      socket().emit('data', chunk);
      return true;
    },
  };
}

/** `net.connect`, reading through the shared buffer. */
export function connectReading(opts: { host: string; port: number; localAddress?: string }): net.Socket {
  const s: net.Socket = net.connect({ ...opts, onread: onread(() => s) });
  return writeDirectly(s);
}

/**
 * An accepted connection (from a server with `pauseOnConnect`) on a socket that reads through the shared buffer,
 * or, when it cannot be moved (no `dup`, no descriptor, dup failed), the same socket resumed.
 */
export function readingAccepted(sock: net.Socket, dup: ((fd: number) => number) | undefined): net.Socket {
  const fd = fdOf(sock);
  let copy: number | undefined;
  if (dup !== undefined && fd !== undefined) {
    try {
      copy = dup(fd);
    } catch {
      copy = undefined; // out of descriptors: keep the one we have
    }
  }
  if (copy === undefined) {
    sock.resume();
    return writeDirectly(sock);
  }
  sock.destroy();
  return socketOnFd(copy);
}

/** A socket on an fd connected elsewhere (the TCP MD5 addon), reading through the shared buffer. */
export function socketOnFd(fd: number): net.Socket {
  // The constructor reads `onread` (net.connect passes its options to it); @types/node 20 lists it for connect only.
  const opts: net.SocketConstructorOpts & { onread: net.OnReadOpts } = { fd, readable: true, writable: true, onread: onread(() => s) };
  const s: net.Socket = new net.Socket(opts);
  return writeDirectly(s);
}
