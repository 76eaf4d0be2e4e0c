/**
 * Child-process driver for tortie's BGP speaker (src/bgp/speaker.ts), so interop tests can run the
 * speaker INSIDE a network namespace: `ip netns exec <ns> node --import tsx tortie-driver.ts <ctl.sock>`
 * (started by tortie-proc.ts). Node cannot switch namespaces, so the speaker lives in this child;
 * the test talks to it over a unix socket (a path in the filesystem works across namespaces).
 *
 * Protocol: one JSON object per line. Requests `{id, method, params}`, answers `{id, result}` or
 * `{id, error}`. Methods:
 *   start {speaker, peers, originated}  new Speaker(speaker), start(), setOriginated, setPeers
 *   setPeers [PeerSpec…] / setOriginated [OriginatedRoute…]
 *   status / routes {prefix?} / refresh {address, family?}
 *   close {graceful}                    speaker.close(opts); the config is kept
 *   restart {graceful, originated?}     close(graceful) then a new Speaker with the same config
 *                                       (or other originated routes)
 *   events {since}                      'best' and 'peer' events, numbered (seq), with times
 *   wire {since}                        every BGP message on the speaker's sockets, both ways,
 *                                       decoded by the test decoder (test/helpers/bgp-decode.ts,
 *                                       NOT tortie's codec); KEEPALIVEs counted only
 *   exit
 * The wire tap wraps the speaker's injected `connect`/`listen` (SpeakerDeps): it sees exactly the
 * bytes tortie sends and receives, e.g. that a hold-timer expiry really sent NOTIFICATION 4/0.
 * The process exits when the control connection closes (the test process is gone).
 */
import net from 'node:net';
import { rmSync } from 'node:fs';
import { Speaker, type OriginatedRoute, type PeerSpec, type SpeakerDeps, type SpeakerOptions } from '../../src/bgp/speaker.js';
import { connectMd5, serverFd, setListenerKey } from '../../src/bgp/tcp-md5.js';
import type { SocketLike } from '../../src/bgp/session.js';
import type { Family } from '../../src/bgp/types.js';
import { decodeMessage, type Decoded } from './bgp-decode.js';
import { Framer } from './bgp-responder.js';

export interface WireRecord {
  seq: number;
  t: number;
  dir: 'tx' | 'rx';
  /** The peer's address (IPv4-mapped addresses unmapped). */
  peer: string;
  msg: Decoded | { type: 'UNDECODABLE'; hex: string; error: string };
}

export interface EventRecord {
  seq: number;
  t: number;
  event: 'best' | 'peer';
  data: unknown;
}

const sockPath = process.argv[2];
if (!sockPath) {
  process.stderr.write('usage: tortie-driver.ts <control socket path>\n');
  process.exit(2);
}

let speaker: Speaker | undefined;
let config: { speaker: SpeakerOptions; peers: PeerSpec[]; originated: OriginatedRoute[] } | undefined;
const wire: WireRecord[] = [];
const events: EventRecord[] = [];
let seq = 0;

const log = (msg: string) => process.stderr.write(`${new Date().toISOString()} ${msg}\n`);
const unmap = (a: string | undefined) => (a && a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : (a ?? '?'));

function tap(socket: net.Socket): net.Socket {
  const framers = { rx: new Framer(), tx: new Framer() };
  const peer = () => unmap(socket.remoteAddress);
  const record = (dir: 'tx' | 'rx', chunk: Buffer) => {
    let msgs: Buffer[];
    try {
      msgs = framers[dir].push(chunk);
    } catch (e) {
      wire.push({ seq: ++seq, t: Date.now(), dir, peer: peer(), msg: { type: 'UNDECODABLE', hex: chunk.toString('hex'), error: (e as Error).message } });
      return;
    }
    for (const m of msgs) {
      let msg: WireRecord['msg'];
      try {
        msg = decodeMessage(m.toString('hex'));
      } catch (e) {
        msg = { type: 'UNDECODABLE', hex: m.toString('hex'), error: (e as Error).message };
      }
      wire.push({ seq: ++seq, t: Date.now(), dir, peer: peer(), msg });
    }
  };
  socket.on('data', (chunk: Buffer) => record('rx', chunk));
  const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
  (socket as unknown as { write: (...args: unknown[]) => boolean }).write = (chunk: unknown, ...rest: unknown[]) => {
    if (Buffer.isBuffer(chunk) || chunk instanceof Uint8Array) record('tx', Buffer.from(chunk as Uint8Array));
    return write(chunk, ...rest);
  };
  return socket;
}

const deps: Partial<SpeakerDeps> = {
  connect: (o) => {
    const s = o.password
      ? (connectMd5({ host: o.host, port: o.port, key: o.password, ...(o.localAddress ? { localAddress: o.localAddress } : {}) }) as unknown as net.Socket)
      : net.connect({ host: o.host, port: o.port, ...(o.localAddress ? { localAddress: o.localAddress } : {}) });
    // Record only once connected (remoteAddress is set then); nothing is written before.
    return tap(s) as unknown as SocketLike;
  },
  listen: (opts, onConnection) =>
    new Promise((resolve, reject) => {
      const server = net.createServer((s) => onConnection(tap(s)));
      server.once('error', reject);
      server.listen({ port: opts.port, host: opts.address, ipv6Only: false }, () => {
        server.off('error', reject);
        resolve({
          // As the speaker's own listener: resolve once the port is free again (restart binds it at once).
          close: () =>
            new Promise<void>((done) => {
              server.close();
              setImmediate(done);
            }),
          port: (server.address() as net.AddressInfo).port,
          setKey: (peer: string, key: string) => {
            const fd = serverFd(server);
            if (fd !== undefined) setListenerKey(fd, peer, key);
          },
        });
      });
    }),
};

async function startSpeaker(): Promise<number | undefined> {
  if (!config) throw new Error('no config');
  const s = new Speaker({ ...config.speaker, deps });
  s.on('best', (data) => events.push({ seq: ++seq, t: Date.now(), event: 'best', data }));
  s.on('peer', (data) => events.push({ seq: ++seq, t: Date.now(), event: 'peer', data }));
  const port = await s.start();
  s.setOriginated(config.originated);
  s.setPeers(config.peers);
  speaker = s;
  return port;
}

function need(): Speaker {
  if (!speaker) throw new Error('speaker not running');
  return speaker;
}

/** bigints (extended communities) as decimal text, byte arrays as hex. */
function jsonSafe(_key: string, v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  return v;
}

type Params = Record<string, unknown> & { since?: number };

async function call(method: string, params: Params): Promise<unknown> {
  switch (method) {
    case 'start':
      config = params as unknown as NonNullable<typeof config>;
      return startSpeaker();
    case 'setPeers':
      config!.peers = params as unknown as PeerSpec[];
      need().setPeers(config!.peers);
      return null;
    case 'setOriginated':
      config!.originated = params as unknown as OriginatedRoute[];
      need().setOriginated(config!.originated);
      return null;
    case 'status':
      return need().status();
    case 'routes':
      return need().routes(params.prefix as string | undefined);
    case 'refresh':
      return need().refresh(params.address as string, params.family as Family | undefined);
    case 'close':
      await need().close({ graceful: !!params.graceful });
      speaker = undefined;
      return null;
    case 'restart':
      await need().close({ graceful: !!params.graceful });
      speaker = undefined;
      if (params.originated) config!.originated = params.originated as OriginatedRoute[];
      return startSpeaker();
    case 'events':
      return events.filter((e) => e.seq > (params.since ?? 0));
    case 'wire':
      return wire.filter((w) => w.seq > (params.since ?? 0) && w.msg.type !== 'KEEPALIVE');
    case 'seq':
      return seq;
    case 'exit':
      setImmediate(() => shutdown(0));
      return null;
    default:
      throw new Error(`unknown method ${method}`);
  }
}

function shutdown(code: number): void {
  void (speaker?.close({ graceful: false }) ?? Promise.resolve()).finally(() => {
    try {
      rmSync(sockPath!, { force: true });
    } catch {
      /* ignore */
    }
    // Give the Cease NOTIFICATIONs a moment to leave.
    setTimeout(() => process.exit(code), 100);
  });
}

rmSync(sockPath, { force: true });
const ctl = net.createServer((conn) => {
  let buf = '';
  conn.setEncoding('utf8');
  conn.on('data', (d: string) => {
    buf += d;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (!line.trim()) continue;
      let req: { id: number; method: string; params?: Params };
      try {
        req = JSON.parse(line) as typeof req;
      } catch {
        continue;
      }
      call(req.method, req.params ?? {}).then(
        (result) => conn.write(JSON.stringify({ id: req.id, result: result ?? null }, jsonSafe) + '\n'),
        (e: unknown) => {
          log(`${req.method} failed: ${(e as Error).stack ?? String(e)}`);
          conn.write(JSON.stringify({ id: req.id, error: (e as Error).message ?? String(e) }) + '\n');
        },
      );
    }
  });
  conn.on('close', () => shutdown(0));
  conn.on('error', () => shutdown(0));
});
ctl.listen(sockPath, () => log(`tortie driver ${process.pid} listening on ${sockPath}`));
process.on('SIGTERM', () => shutdown(0));
