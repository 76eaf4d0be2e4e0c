/**
 * A raw BGP peer for robustness tests: a TCP socket and hand-built bytes, NOT tortie's codec, so
 * that what tortie receives is exactly what a test wrote (malformed on purpose) and what tortie
 * sends back is read by an independent decoder (`bgp-decode.ts`).
 *
 * It connects to a speaker, sends its OPEN, answers the speaker's OPEN with a KEEPALIVE and then
 * only sends what the test tells it to (`send`). Every message the speaker sends is kept, raw and
 * decoded, and tests wait on them with `waitFor`.
 *
 * The OPEN is built here rather than with `bgp-responder.ts`'s `buildOpen` because tests need a
 * 2-octet-AS peer too (no capability 65, RFC 6793), which that builder always sends.
 */
import { Socket } from 'node:net';
import { decodeMessage as decodeIndependent, type Decoded } from './bgp-decode.js';
import { Framer, buildKeepalive } from './bgp-responder.js';

export interface RawPeerOptions {
  host: string;
  port: number;
  localAddress?: string;
  asNumber: number;
  routerId: string;
  /** Hold time we offer (default 90). */
  holdTime?: number;
  /** Send the 4-octet AS capability (default true). Without it the peer is an OLD speaker (RFC 6793 §4). */
  fourOctetAs?: boolean;
  /** Multiprotocol capabilities (default ipv4 and ipv6 unicast). */
  families?: ('ipv4' | 'ipv6')[];
}

const u16 = (n: number): number[] => [(n >>> 8) & 0xff, n & 0xff];
const u32 = (n: number): number[] => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];

/** OPEN (RFC 4271 §4.2) with MP (RFC 4760), route refresh (RFC 2918) and, optionally, 4-octet AS (RFC 6793). */
export function rawOpen(o: { asNumber: number; routerId: string; holdTime?: number; fourOctetAs?: boolean; families?: ('ipv4' | 'ipv6')[] }): Buffer {
  const caps: number[] = [];
  for (const f of o.families ?? ['ipv4', 'ipv6']) caps.push(1, 4, ...u16(f === 'ipv4' ? 1 : 2), 0, 1);
  caps.push(2, 0);
  if (o.fourOctetAs !== false) caps.push(65, 4, ...u32(o.asNumber));
  const params = [2, caps.length, ...caps];
  const id = o.routerId.split('.').map(Number);
  const myAs = o.asNumber > 0xffff ? 23456 : o.asNumber;
  const body = [4, ...u16(myAs), ...u16(o.holdTime ?? 90), ...id, params.length, ...params];
  return Buffer.from([...new Array<number>(16).fill(0xff), ...u16(19 + body.length), 1, ...body]);
}

export interface Received {
  raw: Buffer;
  decoded: Decoded;
}

export class RawBgpPeer {
  readonly received: Received[] = [];
  closed = false;
  private readonly socket: Socket;
  private readonly waiters = new Set<() => void>();
  private gotOpen = false;

  private constructor(socket: Socket) {
    this.socket = socket;
  }

  /** Connects and sends the OPEN; resolves once the TCP connection is up. */
  static connect(o: RawPeerOptions): Promise<RawBgpPeer> {
    return new Promise((resolve, reject) => {
      const s = new Socket();
      const peer = new RawBgpPeer(s);
      const framer = new Framer();
      s.on('data', (chunk: Buffer) => {
        for (const raw of framer.push(chunk)) {
          const decoded = decodeIndependent(raw.toString('hex'));
          peer.received.push({ raw, decoded });
          if (decoded.type === 'OPEN' && !peer.gotOpen) {
            peer.gotOpen = true;
            s.write(buildKeepalive());
          }
        }
        peer.wake();
      });
      s.on('close', () => {
        peer.closed = true;
        peer.wake();
      });
      s.once('error', (e) => {
        if (!peer.gotOpen) reject(e);
      });
      s.connect({ host: o.host, port: o.port, ...(o.localAddress ? { localAddress: o.localAddress } : {}) }, () => {
        s.write(rawOpen(o));
        resolve(peer);
      });
    });
  }

  /** Writes raw bytes (one message, several, or a fragment). */
  send(bytes: Uint8Array | number[]): void {
    this.socket.write(Buffer.from(bytes as Uint8Array));
  }

  /** The first received message matching `pred`, waiting up to `ms`. */
  async waitFor(pred: (r: Received) => boolean, ms = 5000, what = 'message'): Promise<Received> {
    const found = () => this.received.find(pred);
    await this.until(() => found() !== undefined, ms, what);
    return found()!;
  }

  /** The speaker's OPEN and KEEPALIVE have arrived (it has accepted our OPEN). */
  async established(ms = 5000): Promise<void> {
    await this.waitFor((r) => r.decoded.type === 'KEEPALIVE', ms, 'KEEPALIVE after OPEN');
  }

  /** Every NOTIFICATION received, read straight from the bytes (RFC 4271 §4.5: code, subcode, data). */
  notifications(): { code: number; subcode: number; data: Buffer }[] {
    return this.received.filter((r) => r.raw[18] === 3).map((r) => ({ code: r.raw[19]!, subcode: r.raw[20]!, data: r.raw.subarray(21) }));
  }

  /** Waits until the speaker has closed the connection. */
  async whenClosed(ms = 5000): Promise<void> {
    await this.until(() => this.closed, ms, 'connection close');
  }

  close(): void {
    this.socket.destroy();
  }

  private until(cond: () => boolean, ms: number, what: string): Promise<void> {
    if (cond()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!cond()) return;
        clearTimeout(t);
        this.waiters.delete(check);
        resolve();
      };
      const t = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`raw peer: timed out after ${ms} ms waiting for ${what}`));
      }, ms);
      this.waiters.add(check);
    });
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }
}
