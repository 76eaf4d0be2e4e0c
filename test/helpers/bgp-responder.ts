/**
 * A minimal, independent BGP speaker for capturing what real daemons send — deliberately NOT
 * built on tortie's codec (src/bgp/), so fixtures captured with it can test that codec.
 *
 * It opens sessions (actively connecting, or accepting), sends a hand-built OPEN and KEEPALIVEs,
 * never sends routes, and records every message the daemon sends, split by the length field of
 * the 19-byte header (marker 16×0xff, length u16, type u8 — RFC 4271 §4.1). Nothing is validated
 * beyond the marker and length bounds: the point is to keep the daemon's bytes exactly.
 *
 * Two ways to use it:
 * - in-process: `new BgpResponder(opts)` then `.connect(...)`/`.listen(...)`, messages in `.messages`;
 * - as a process (e.g. inside a namespace via `ip netns exec`), one JSON line per event on stdout:
 *     node --import tsx test/helpers/bgp-responder.ts --as 4200000001 --router-id 10.77.0.2 \
 *       [--as-for 10.77.0.3=65001] [--hold 90] [--gr 120] [--families ipv4,ipv6] \
 *       [--connect 10.77.0.1:179@10.77.0.2 …] [--listen ::@179]
 *   Events: {"event":"listening"|"connected"|"message"|"closed"|"error", …}; a "message" has
 *   session (local>remote), dir ("in"), type, length, hex, t (ms since start).
 */
import { createServer, Socket, type Server } from 'node:net';
import { pathToFileURL } from 'node:url';

export const MSG_TYPES: Record<number, string> = { 1: 'OPEN', 2: 'UPDATE', 3: 'NOTIFICATION', 4: 'KEEPALIVE', 5: 'ROUTE-REFRESH' };
export const AS_TRANS = 23456;

export interface ResponderOptions {
  /** Our ASN (per local address overrides in asFor). */
  asNumber: number;
  asFor?: Record<string, number>;
  routerId: string;
  /** Hold time we offer (default 90). */
  holdTime?: number;
  /** Offer graceful restart (RFC 4724) with this restart time, for every family (default: not offered). */
  gracefulRestart?: number;
  /** Address families to offer in the Multiprotocol capability (default ipv4 and ipv6 unicast). */
  families?: ('ipv4' | 'ipv6')[];
}

export interface CapturedMessage {
  /** "<local address> > <remote address>" */
  session: string;
  local: string;
  remote: string;
  type: number;
  typeName: string;
  length: number;
  hex: string;
  /** Milliseconds since the responder was created. */
  t: number;
}

function ipv4Bytes(a: string): number[] {
  const parts = a.split('.').map(Number);
  if (parts.length !== 4 || parts.some((x) => !(x >= 0 && x <= 255))) throw new Error(`bad IPv4 ${a}`);
  return parts;
}

function u16(n: number): number[] {
  return [(n >> 8) & 0xff, n & 0xff];
}

function u32(n: number): number[] {
  return [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
}

function header(type: number, bodyLength: number): number[] {
  return [...new Array<number>(16).fill(0xff), ...u16(19 + bodyLength), type];
}

/** OPEN (RFC 4271 §4.2) with capabilities: MP (RFC 4760), route refresh (RFC 2918), 4-octet AS (RFC 6793), GR (RFC 4724). */
export function buildOpen(o: { asNumber: number; holdTime: number; routerId: string; families: ('ipv4' | 'ipv6')[]; gracefulRestart?: number }): Buffer {
  const caps: number[] = [];
  for (const f of o.families) caps.push(1, 4, ...u16(f === 'ipv4' ? 1 : 2), 0, 1);
  caps.push(2, 0);
  caps.push(65, 4, ...u32(o.asNumber));
  if (o.gracefulRestart !== undefined) {
    const tuples = o.families.flatMap((f) => [...u16(f === 'ipv4' ? 1 : 2), 1, 0x80]); // F bit: forwarding state kept
    caps.push(64, 2 + tuples.length, ...u16(o.gracefulRestart & 0x0fff), ...tuples);
  }
  const params = [2, caps.length, ...caps];
  const body = [4, ...u16(o.asNumber > 0xffff ? AS_TRANS : o.asNumber), ...u16(o.holdTime), ...ipv4Bytes(o.routerId), params.length, ...params];
  return Buffer.from([...header(1, body.length), ...body]);
}

export function buildKeepalive(): Buffer {
  return Buffer.from(header(4, 0));
}

/** Splits a byte stream into BGP messages by the header's length field. */
export class Framer {
  private buf = Buffer.alloc(0);
  push(chunk: Buffer): Buffer[] {
    this.buf = Buffer.concat([this.buf, chunk]);
    const out: Buffer[] = [];
    while (this.buf.length >= 19) {
      for (let i = 0; i < 16; i++) if (this.buf[i] !== 0xff) throw new Error(`bad marker: ${this.buf.subarray(0, 19).toString('hex')}`);
      const len = this.buf.readUInt16BE(16);
      if (len < 19 || len > 65535) throw new Error(`bad length ${len}`);
      if (this.buf.length < len) break;
      out.push(Buffer.from(this.buf.subarray(0, len)));
      this.buf = this.buf.subarray(len);
    }
    return out;
  }
}

export class BgpResponder {
  readonly messages: CapturedMessage[] = [];
  readonly opts: ResponderOptions;
  private readonly t0 = Date.now();
  private readonly sockets = new Set<Socket>();
  private readonly servers = new Set<Server>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;
  /** Called for every event (the CLI prints them). */
  onEvent: (e: Record<string, unknown>) => void = () => {};

  constructor(opts: ResponderOptions) {
    this.opts = opts;
  }

  private asFor(local: string): number {
    return this.opts.asFor?.[local.replace(/^::ffff:/, '')] ?? this.opts.asNumber;
  }

  private attach(sock: Socket): void {
    this.sockets.add(sock);
    const local = (sock.localAddress ?? '').replace(/^::ffff:/, '');
    const remote = (sock.remoteAddress ?? '').replace(/^::ffff:/, '');
    const session = `${local} > ${remote}`;
    this.onEvent({ event: 'connected', session, t: Date.now() - this.t0 });
    const framer = new Framer();
    const hold = this.opts.holdTime ?? 90;
    sock.write(
      buildOpen({
        asNumber: this.asFor(local),
        holdTime: hold,
        routerId: this.opts.routerId,
        families: this.opts.families ?? ['ipv4', 'ipv6'],
        gracefulRestart: this.opts.gracefulRestart,
      }),
    );
    let sentKeepalive = false;
    const ka = setInterval(() => {
      if (sentKeepalive && !sock.destroyed) sock.write(buildKeepalive());
    }, 1000);
    this.timers.add(ka);
    sock.on('data', (chunk: Buffer) => {
      let msgs: Buffer[];
      try {
        msgs = framer.push(chunk);
      } catch (e) {
        this.onEvent({ event: 'error', session, error: (e as Error).message });
        sock.destroy();
        return;
      }
      for (const m of msgs) {
        const type = m[18]!;
        const rec: CapturedMessage = { session, local, remote, type, typeName: MSG_TYPES[type] ?? `TYPE${type}`, length: m.length, hex: m.toString('hex'), t: Date.now() - this.t0 };
        this.messages.push(rec);
        this.onEvent({ event: 'message', ...rec });
        if (type === 1 && !sentKeepalive) {
          sock.write(buildKeepalive()); // accept their OPEN
          sentKeepalive = true;
        }
      }
    });
    sock.on('error', (e) => this.onEvent({ event: 'error', session, error: e.message }));
    sock.on('close', () => {
      clearInterval(ka);
      this.timers.delete(ka);
      this.sockets.delete(sock);
      this.onEvent({ event: 'closed', session, t: Date.now() - this.t0 });
    });
  }

  /** Accepts sessions on host:port (port 0: any free port); resolves with the bound port. */
  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const srv = createServer((s) => this.attach(s));
      this.servers.add(srv);
      srv.once('error', reject);
      srv.listen(port, host, () => {
        const bound = (srv.address() as { port: number }).port;
        this.onEvent({ event: 'listening', host, port: bound });
        resolve(bound);
      });
    });
  }

  /** Connects to host:port from localAddress, retrying every 200 ms until connected or closed. */
  connect(host: string, port: number, localAddress?: string): void {
    const attempt = () => {
      if (this.closed) return;
      const s = new Socket();
      s.once('error', () => {
        s.destroy();
        const t = setTimeout(attempt, 200);
        this.timers.add(t);
      });
      s.connect({ host, port, localAddress }, () => {
        s.removeAllListeners('error');
        this.attach(s);
      });
    };
    attempt();
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    for (const s of this.sockets) s.destroy();
    for (const srv of this.servers) srv.close();
  }
}

function parseArgs(argv: string[]): { opts: ResponderOptions; connects: { host: string; port: number; local?: string }[]; listens: { host: string; port: number }[] } {
  const opts: ResponderOptions = { asNumber: 0, routerId: '' };
  const connects: { host: string; port: number; local?: string }[] = [];
  const listens: { host: string; port: number }[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = argv[i + 1] ?? '';
    switch (a) {
      case '--as':
        opts.asNumber = Number(v);
        i++;
        break;
      case '--as-for': {
        const [addr, asn] = v.split('=');
        opts.asFor = { ...opts.asFor, [addr!]: Number(asn) };
        i++;
        break;
      }
      case '--router-id':
        opts.routerId = v;
        i++;
        break;
      case '--hold':
        opts.holdTime = Number(v);
        i++;
        break;
      case '--gr':
        opts.gracefulRestart = Number(v);
        i++;
        break;
      case '--families':
        opts.families = v.split(',') as ('ipv4' | 'ipv6')[];
        i++;
        break;
      case '--connect': {
        // host:port@local  (IPv6 host in brackets: [fd00::1]:179@fd00::2)
        const m = /^\[?([^\]@]+?)\]?:(\d+)(?:@(.+))?$/.exec(v);
        if (!m) throw new Error(`bad --connect ${v}`);
        connects.push({ host: m[1]!, port: Number(m[2]), local: m[3] });
        i++;
        break;
      }
      case '--listen': {
        const [host, port] = v.split('@');
        listens.push({ host: host!, port: Number(port ?? 179) });
        i++;
        break;
      }
      default:
        throw new Error(`unknown argument ${a}`);
    }
  }
  if (!opts.asNumber || !opts.routerId) throw new Error('--as and --router-id are required');
  return { opts, connects, listens };
}

async function main(): Promise<void> {
  const { opts, connects, listens } = parseArgs(process.argv.slice(2));
  const r = new BgpResponder(opts);
  r.onEvent = (e) => process.stdout.write(JSON.stringify(e) + '\n');
  for (const l of listens) await r.listen(l.host, l.port);
  for (const c of connects) r.connect(c.host, c.port, c.local);
  const stop = () => {
    r.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => {
    process.stderr.write(`bgp-responder: ${(e as Error).message}\n`);
    process.exit(2);
  });
}
