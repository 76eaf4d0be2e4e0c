/*
 * Load generator of the route-reflector benchmark: N lightweight iBGP client sessions from N local addresses
 * (one namespace, one veth), the shape of a big Calico cluster behind one reflector. Raw bytes on the wire, no
 * tortie code on the receive path (bench/common.ts), one process.
 *
 *   node --import tsx bench/rr-loadgen.ts --rr 10.202.0.1 --first 10.202.10.1 --clients 1000 --batch 50
 *        [--pace 0] [--as 64512] [--hold 90] [--prefix-base 10.240.0.0]
 *
 * Client i uses address first+i, router id = that address, and announces one /26: prefix-base + 64·i (ORIGIN
 * IGP, empty AS_PATH, NEXT_HOP = its address, LOCAL_PREF 100). It counts the /26s of the other clients it holds
 * (a bitmap per client; withdrawals clear).
 *
 * stdin (JSON lines): {"cmd":"start"} connects the clients `batch` at a time: with --pace 0 a batch starts when
 * every session of the previous one is Established, with --pace P one batch starts every P ms (a refused or
 * reset connection is retried after 100 ms). {"cmd":"announce"}
 * makes every client send its UPDATE at once.
 * stdout (JSON lines): ready; batch {n, t}; established {tStart, t}; announced {t}; progress {complete, routes, t}
 * once a second; converged {t} when every client holds all N-1 other /26s; notification / lost on trouble.
 */

import net from 'node:net';
import { createInterface } from 'node:readline';
import { KEEPALIVE, MSG_KEEPALIVE, MSG_NOTIFICATION, MSG_OPEN, MSG_UPDATE, RawFramer, arg, intToIp4, ip4ToInt, now, openMessage } from './common.js';

const rr = arg('rr', '10.202.0.1')!;
const first = ip4ToInt(arg('first', '10.202.10.1')!);
const N = Number(arg('clients', '1000'));
const BATCH = Number(arg('batch', '50'));
const PACE = Number(arg('pace', '0'));
const ASN = Number(arg('as', '64512'));
const HOLD = Number(arg('hold', '90'));
const PBASE = ip4ToInt(arg('prefix-base', '10.240.0.0')!);

function emit(e: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify(e) + '\n');
}

/** The client's one UPDATE: ORIGIN IGP, AS_PATH empty, NEXT_HOP, LOCAL_PREF 100, NLRI prefix/26. */
function updateFor(i: number): Buffer {
  const nh = first + i;
  const pfx = PBASE + i * 64;
  const attrs = Buffer.from([
    0x40, 1, 1, 0, // ORIGIN IGP
    0x40, 2, 0, // AS_PATH empty (iBGP)
    0x40, 3, 4, nh >>> 24, (nh >>> 16) & 255, (nh >>> 8) & 255, nh & 255, // NEXT_HOP
    0x40, 5, 4, 0, 0, 0, 100, // LOCAL_PREF
  ]);
  const nlri = Buffer.from([26, pfx >>> 24, (pfx >>> 16) & 255, (pfx >>> 8) & 255, pfx & 255]);
  const len = 19 + 2 + 2 + attrs.length + nlri.length;
  const b = Buffer.alloc(len, 0xff);
  b.writeUInt16BE(len, 16);
  b[18] = MSG_UPDATE;
  b.writeUInt16BE(0, 19);
  b.writeUInt16BE(attrs.length, 21);
  attrs.copy(b, 23);
  nlri.copy(b, 23 + attrs.length);
  return b;
}

class Client {
  socket: net.Socket | undefined;
  state: 'idle' | 'opensent' | 'openconfirm' | 'established' = 'idle';
  readonly have = new Uint8Array(N);
  count = 0;
  complete = false;
  attempts = 0;
  /** Timing of the last session set-up: connect started, TCP connected, OPEN received, Established. */
  tConnect = 0;
  tTcp = 0;
  tOpen = 0;
  tUp = 0;

  constructor(
    readonly i: number,
    readonly onEstablished: (c: Client) => void,
  ) {}

  get address(): string {
    return intToIp4(first + this.i);
  }

  connect(): void {
    this.attempts++;
    this.state = 'opensent';
    if (this.count) {
      // A new session starts with nothing learned.
      this.have.fill(0);
      this.count = 0;
      if (this.complete) completeClients--;
      this.complete = false;
    }
    this.tConnect = now();
    const s = net.connect({ host: rr, port: 179, localAddress: this.address });
    this.socket = s;
    s.setNoDelay(true);
    const framer = new RawFramer((type, buf, start, end) => this.message(type, buf, start, end));
    s.on('connect', () => {
      this.tTcp = now();
      s.write(openMessage(ASN, HOLD, this.address));
    });
    s.on('data', (d: Buffer) => framer.push(d));
    s.on('error', () => {});
    s.on('close', () => {
      const was = this.state;
      this.state = 'idle';
      if (was === 'established') emit({ event: 'lost', client: this.i, t: now() });
      if (!stopping) setTimeout(() => this.connect(), 100);
    });
  }

  private message(type: number, buf: Buffer, start: number, end: number): void {
    if (type === MSG_UPDATE) {
      this.update(buf, start, end);
    } else if (type === MSG_KEEPALIVE) {
      if (this.state === 'openconfirm') {
        this.tUp = now();
        this.state = 'established';
        this.onEstablished(this);
      }
    } else if (type === MSG_OPEN) {
      this.tOpen = now();
      this.state = 'openconfirm';
      this.socket!.write(KEEPALIVE);
    } else if (type === MSG_NOTIFICATION) {
      emit({ event: 'notification', client: this.i, code: buf[start + 19], subcode: buf[start + 20], t: now() });
    }
  }

  /** Classic IPv4 fields only; counts the other clients' /26s. */
  private update(buf: Buffer, start: number, end: number): void {
    let o = start + 19;
    const wend = o + 2 + buf.readUInt16BE(o);
    o += 2;
    while (o < wend) o = this.prefix(buf, o, false);
    o += 2 + buf.readUInt16BE(o);
    while (o < end) o = this.prefix(buf, o, true);
    if (!this.complete && this.count === N - 1) {
      this.complete = true;
      clientDone();
    }
  }

  private prefix(buf: Buffer, o: number, add: boolean): number {
    const len = buf[o]!;
    const bytes = (len + 7) >> 3;
    if (len === 26) {
      const a = ((buf[o + 1]! << 24) | (buf[o + 2]! << 16) | (buf[o + 3]! << 8) | buf[o + 4]!) >>> 0;
      const k = (a - PBASE) / 64;
      if (k >= 0 && k < N && k === Math.floor(k) && k !== this.i) {
        if (add && !this.have[k]) {
          this.have[k] = 1;
          this.count++;
        } else if (!add && this.have[k]) {
          this.have[k] = 0;
          this.count--;
          if (this.complete) {
            this.complete = false;
            completeClients--;
          }
        }
      }
    }
    return o + 1 + bytes;
  }
}

let stopping = false;
let completeClients = 0;
let tAnnounced = 0;
let converged = false;
const clients: Client[] = [];

function clientDone(): void {
  completeClients++;
  if (completeClients === N && tAnnounced && !converged) {
    converged = true;
    emit({ event: 'converged', t: now(), tAnnounced });
  }
}

/**
 * Connects the clients BATCH at a time. pace 0: a batch starts when the previous one is all Established.
 * pace > 0: a batch starts every `pace` ms whatever the state of the previous ones.
 */
async function start(): Promise<void> {
  const tStart = now();
  let established = 0;
  const batches: Promise<void>[] = [];
  for (let b = 0; b < N; b += BATCH) {
    const batch: Client[] = [];
    const done = new Promise<void>((resolve) => {
      let up = 0;
      const size = Math.min(BATCH, N - b);
      for (let i = b; i < b + size; i++) {
        const c = new Client(i, () => {
          established++;
          if (++up === size) resolve();
        });
        clients.push(c);
        batch.push(c);
        c.connect();
      }
    }).then(() => {
      const ms = (f: (c: Client) => number) => Math.round(Math.max(...batch.map(f)));
      emit({
        event: 'batch',
        n: b + batch.length,
        t: now(),
        // Slowest session of the batch, ms: TCP connect, OPEN back after connect, KEEPALIVE back after OPEN.
        slowest: { tcp: ms((c) => c.tTcp - c.tConnect), open: ms((c) => c.tOpen - c.tTcp), keepalive: ms((c) => c.tUp - c.tOpen) },
      });
    });
    batches.push(done);
    if (PACE === 0) await done;
    else if (b + BATCH < N) await new Promise((r) => setTimeout(r, tStart + ((b + BATCH) / BATCH) * PACE - now()));
  }
  await Promise.all(batches);
  emit({ event: 'established', tStart, t: now(), count: established, retries: clients.reduce((s, c) => s + c.attempts - 1, 0) });
}

function announce(): void {
  tAnnounced = now();
  for (const c of clients) c.socket!.write(updateFor(c.i));
  emit({ event: 'announced', t: tAnnounced });
  if (completeClients === N && !converged) {
    converged = true;
    emit({ event: 'converged', t: now(), tAnnounced });
  }
}

setInterval(() => {
  for (const c of clients) if (c.state === 'established') c.socket!.write(KEEPALIVE);
}, (HOLD / 3) * 1000);
setInterval(() => {
  if (!tAnnounced || converged) return;
  let routes = 0;
  for (const c of clients) routes += c.count;
  emit({ event: 'progress', complete: completeClients, routes, t: now() });
}, 1000);

createInterface({ input: process.stdin })
  .on('line', (line) => {
    const cmd = (JSON.parse(line) as { cmd?: string }).cmd;
    if (cmd === 'start') void start();
    else if (cmd === 'announce') announce();
  })
  .on('close', () => {
    stopping = true;
    process.exit(0);
  });
process.on('SIGTERM', () => {
  stopping = true;
  process.exit(0);
});
emit({ event: 'ready', t: now() });
