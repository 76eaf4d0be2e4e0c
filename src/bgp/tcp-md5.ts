/**
 * TCP MD5 signatures (RFC 2385) for BGP passwords: the adapter around tortie's small native addon
 * (`native/tcp_md5.c`, built by `scripts/setup.sh`). Node cannot set
 * TCP_MD5SIG, and the key must be on the socket before the SYN, so:
 *  - outgoing: the addon creates a non-blocking socket with the key, binds and starts the
 *    connect; `Md5Socket` polls until it completes, then hands the fd to a `net.Socket` and
 *    behaves like one (it emits 'connect', 'data', 'drain', 'error', 'close');
 *  - incoming: the key is set on the listening socket per peer address; accepted connections
 *    inherit it.
 * Linux only. Without the addon, asking for a password fails with a clear error.
 */
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import net from 'node:net';
import type { SocketLike } from './session.js';
import { socketOnFd } from './socket-read.js';
import { fdOf } from './socket-write.js';

interface Native {
  setKey(fd: number, peer: string, key: string): void;
  connect(host: string, port: number, localAddress: string, key: string): number;
  connectResult(fd: number): number;
  close(fd: number): void;
  dup(fd: number): number;
}

let native: Native | undefined;
let loadError: string | undefined;

function load(): Native {
  if (native) return native;
  if (loadError === undefined) {
    try {
      native = createRequire(import.meta.url)('tortie-native') as Native;
      return native;
    } catch (e) {
      loadError = (e as Error).message.split('\n')[0]!;
    }
  }
  throw new Error(`TCP MD5 (BGP password) support is not built: run scripts/setup.sh (${loadError})`);
}

/**
 * `dup(2)` through the addon (close-on-exec), or undefined when the addon is not built: what moves an accepted
 * connection onto a socket that reads through `onread` (socket-read.ts). An addon built before `dup` existed
 * has none either: then accepted connections keep the stream path.
 */
export function nativeDup(): ((fd: number) => number) | undefined {
  try {
    const n = load();
    return typeof n.dup === 'function' ? (fd) => n.dup(fd) : undefined;
  } catch {
    return undefined;
  }
}

/** Whether passwords can be used (the addon is built and loads). */
export function md5Available(): boolean {
  try {
    load();
    return true;
  } catch {
    return false;
  }
}

/** Sets (or, with '', removes) the key for `peer` on a listening socket. */
export function setListenerKey(fd: number, peer: string, key: string): void {
  load().setKey(fd, peer, key);
}

/** The fd of a listening net.Server (Linux, TCP). */
export function serverFd(server: net.Server): number | undefined {
  return fdOf(server);
}

const ERRNO_NAMES: Record<number, string> = { 111: 'ECONNREFUSED', 110: 'ETIMEDOUT', 113: 'EHOSTUNREACH', 101: 'ENETUNREACH', 104: 'ECONNRESET' };

/** An outgoing TCP connection carrying an MD5 key, usable where the session expects a socket. */
export class Md5Socket extends EventEmitter {
  private sock: net.Socket | undefined;
  private fd: number;
  private timer: NodeJS.Timeout | undefined;
  private gone = false;

  constructor(opts: { host: string; port: number; localAddress?: string; key: string }) {
    super();
    const n = load();
    this.fd = n.connect(opts.host, opts.port, opts.localAddress ?? '', opts.key);
    this.timer = setTimeout(() => this.poll(), 0);
  }

  private poll(): void {
    this.timer = undefined;
    if (this.gone) return;
    const r = load().connectResult(this.fd);
    if (r === -1) {
      this.timer = setTimeout(() => this.poll(), 5);
      return;
    }
    if (r !== 0) {
      load().close(this.fd);
      this.gone = true;
      const err = Object.assign(new Error(`connect ${ERRNO_NAMES[r] ?? `errno ${r}`}`), { code: ERRNO_NAMES[r] ?? String(r) });
      this.emit('error', err);
      this.emit('close', true);
      return;
    }
    const s = socketOnFd(this.fd);
    this.sock = s;
    s.on('data', (d) => this.emit('data', d));
    s.on('drain', () => this.emit('drain'));
    s.on('error', (e) => this.emit('error', e));
    s.on('close', (hadError) => {
      this.gone = true;
      this.emit('close', hadError);
    });
    this.emit('connect');
  }

  get destroyed(): boolean {
    return this.gone || (this.sock?.destroyed ?? false);
  }
  get writableNeedDrain(): boolean {
    return this.sock?.writableNeedDrain ?? false;
  }
  get remoteAddress(): string | undefined {
    return this.sock?.remoteAddress;
  }
  get remotePort(): number | undefined {
    return this.sock?.remotePort;
  }
  get localAddress(): string | undefined {
    return this.sock?.localAddress;
  }
  get localPort(): number | undefined {
    return this.sock?.localPort;
  }

  write(data: Uint8Array | string, cb?: (err?: Error | null) => void): boolean {
    if (!this.sock) throw new Error('TCP MD5 socket written before it connected');
    return cb ? this.sock.write(data, cb) : this.sock.write(data);
  }
  end(): this {
    this.sock?.end();
    return this;
  }
  setNoDelay(noDelay?: boolean): this {
    this.sock?.setNoDelay(noDelay);
    return this;
  }
  destroy(): this {
    if (this.sock) this.sock.destroy();
    else if (!this.gone) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      load().close(this.fd);
      this.gone = true;
      setImmediate(() => this.emit('close', false));
    }
    return this;
  }
}

/** The session's view of it. */
export function connectMd5(opts: { host: string; port: number; localAddress?: string; key: string }): SocketLike {
  return new Md5Socket(opts) as unknown as SocketLike;
}
