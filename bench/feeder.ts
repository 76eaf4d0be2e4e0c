/*
 * The route feeder of the ingest benchmark: a pre-encoded stream of UPDATEs, built once with tortie's codec
 * (`encodeUpdates`) and cached as a file, sent by a tiny sender after a minimal OPEN/KEEPALIVE exchange. The
 * sender does nothing per route: one `socket.write` of the whole file, then End-of-RIB, then it only answers
 * KEEPALIVEs and discards what the target sends. A sink mode (a BGP peer that frames and counts NLRI, then
 * discards) measures the feeder alone over the same veth.
 *
 *   node --import tsx bench/feeder.ts build <100k|1m|mix> [--next-hop 10.201.0.10]         # prints the file
 *   node --import tsx bench/feeder.ts send --file F --connect 10.201.0.1:179 --local 10.201.0.10 --as 65010
 *   node --import tsx bench/feeder.ts sink --listen 10.201.0.1:179 --as 64512 --expect 1000000
 *
 * send/sink print JSON lines: {"event":"established",…}, {"event":"sent","t0":…,"t1":…} (t0 = just before the
 * first UPDATE is written, wall-clock ms), sink: {"event":"done","t":…} when it has counted --expect prefixes.
 *
 * Feeds (all IPv4 unicast, AS_PATH starting with the feeder's AS 65010, next hop = the feeder's address):
 *  - 100k, 1m: unique /32s from 100.64.0.0 upwards, one attribute set (ORIGIN IGP, AS_PATH 65010), about 810
 *    prefixes per 4096-octet UPDATE — the feed of bgp-anchors.md §7.
 *  - mix: 100,000 unique prefixes of lengths /16–/32 with a length mix shaped like the IPv4 DFZ (mostly /24,
 *    then /22, /23, /21, /20 …, a few /25–/32), spread over 1,000 attribute sets (AS paths of 1–6 ASes, some
 *    4-octet; MED on 40 %; 0–6 communities; large communities on 10 %; ORIGIN IGP or INCOMPLETE) with a Zipf
 *    distribution of prefixes per set (largest ≈13 k, smallest ≈13); UPDATEs of different sets interleaved.
 */

import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { encodeUpdates } from '../src/bgp/wire/index.js';
import { p4, type PathAttributes, type Prefix4 } from '../src/bgp/types.js';
import { EOR_V4, KEEPALIVE, MSG_KEEPALIVE, MSG_NOTIFICATION, MSG_OPEN, MSG_UPDATE, RawFramer, arg, countV4, ip4ToInt, now, openMessage } from './common.js';

export type FeedKind = '100k' | '1m' | 'mix';
export const FEED_KINDS: readonly FeedKind[] = ['100k', '1m', 'mix'];
export const FEEDER_AS = 65010;
const FEED_VERSION = 1; // bump when the generator changes (cache key)

export interface FeedMeta {
  kind: FeedKind;
  version: number;
  nextHop: string;
  prefixes: number;
  messages: number;
  bytes: number;
  attrSets: number;
  lengths: Record<string, number>;
}

export function feedDir(): string {
  return join(tmpdir(), 'tortie-bench-feeds');
}

/** Builds (or reuses) the feed file; returns its path and description. */
export function buildFeed(kind: FeedKind, nextHop: string): { file: string; meta: FeedMeta } {
  const dir = feedDir();
  mkdirSync(dir, { recursive: true });
  const base = join(dir, `${kind}-nh${nextHop}-v${FEED_VERSION}`);
  const file = `${base}.bin`;
  if (existsSync(file) && existsSync(`${base}.json`)) {
    return { file, meta: JSON.parse(readFileSync(`${base}.json`, 'utf8')) as FeedMeta };
  }
  const msgs = kind === 'mix' ? mixFeed(nextHop) : slash32Feed(kind === '1m' ? 1_000_000 : 100_000, nextHop);
  const stream = Buffer.concat(msgs.messages);
  const meta: FeedMeta = {
    kind,
    version: FEED_VERSION,
    nextHop,
    prefixes: msgs.prefixes,
    messages: msgs.messages.length,
    bytes: stream.length,
    attrSets: msgs.attrSets,
    lengths: msgs.lengths,
  };
  writeFileSync(`${file}.tmp`, stream);
  renameSync(`${file}.tmp`, file);
  writeFileSync(`${base}.json`, JSON.stringify(meta, null, 2));
  return { file, meta };
}

interface Built {
  messages: Buffer[];
  prefixes: number;
  attrSets: number;
  lengths: Record<string, number>;
}

function slash32Feed(n: number, nextHop: string): Built {
  const base = ip4ToInt('100.64.0.0');
  const v4: Prefix4[] = new Array(n);
  for (let i = 0; i < n; i++) v4[i] = p4(base + i, 32);
  const attrs: PathAttributes = { origin: 0, asPath: [{ type: 2, asns: [FEEDER_AS] }], nextHop };
  return { messages: encodeUpdates(attrs, { v4 }, { fourOctetAs: true }), prefixes: n, attrSets: 1, lengths: { '32': n } };
}

/** mulberry32: a small seeded PRNG, so every build of the mix feed is byte-identical. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Share of each prefix length, roughly the IPv4 DFZ of the 2020s (mostly /24s), plus a few more-specifics.
const LENGTH_MIX: [number, number][] = [
  [16, 0.012], [17, 0.006], [18, 0.01], [19, 0.022], [20, 0.04], [21, 0.05], [22, 0.11], [23, 0.1],
  [24, 0.6], [25, 0.008], [26, 0.008], [27, 0.008], [28, 0.006], [29, 0.006], [30, 0.004], [31, 0.002], [32, 0.008],
];

function mixFeed(nextHop: string): Built {
  const N = 100_000;
  const SETS = 1000;
  const rand = rng(20261121);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  // Attribute sets.
  const sets: PathAttributes[] = [];
  const keys = new Set<string>();
  while (sets.length < SETS) {
    const hops = 1 + Math.floor(rand() * 6);
    const asns = [FEEDER_AS];
    for (let h = 1; h < hops; h++) asns.push(rand() < 0.15 ? 4200000000 + Math.floor(rand() * 90000) : 1 + Math.floor(rand() * 64000));
    const a: PathAttributes = { origin: rand() < 0.9 ? 0 : 2, asPath: [{ type: 2, asns }], nextHop };
    if (rand() < 0.4) a.med = Math.floor(rand() * 1000);
    const nc = Math.floor(rand() * 7);
    if (nc) a.communities = [...new Set(Array.from({ length: nc }, () => (pick([65010, 3356, 174, 1299, 6939]) * 65536 + Math.floor(rand() * 5000)) >>> 0))].sort((x, y) => x - y);
    if (rand() < 0.1) a.largeCommunities = [[FEEDER_AS, Math.floor(rand() * 100), Math.floor(rand() * 100)]];
    const key = JSON.stringify(a);
    if (keys.has(key)) continue;
    keys.add(key);
    sets.push(a);
  }
  // Zipf sizes (s = 1): set k gets N / (k+1) / H(SETS) prefixes, remainder to the largest.
  let h = 0;
  for (let k = 1; k <= SETS; k++) h += 1 / k;
  const sizes = sets.map((_, k) => Math.max(1, Math.floor(N / (k + 1) / h)));
  sizes[0]! += N - sizes.reduce((s, x) => s + x, 0);
  // Unique prefixes: random addresses in 1.0.0.0–223.255.255.255 (not 10/8, 100.64/10, 127/8), masked to the length.
  const cum: number[] = [];
  let c = 0;
  for (const [, share] of LENGTH_MIX) cum.push((c += share));
  const seen = new Set<number>();
  const prefixes: Prefix4[] = [];
  const lengths: Record<string, number> = {};
  while (prefixes.length < N) {
    const r = rand() * c;
    const len = LENGTH_MIX[cum.findIndex((x) => r < x)]![0];
    const first = 1 + Math.floor(rand() * 223);
    if (first === 10 || first === 127) continue;
    let addr = ((first << 24) | Math.floor(rand() * 0x1000000)) >>> 0;
    addr = len === 0 ? 0 : (addr & (0xffffffff << (32 - len))) >>> 0;
    if (addr >>> 22 === ip4ToInt('100.64.0.0') >>> 22) continue;
    const p = p4(addr, len);
    if (seen.has(p)) continue;
    seen.add(p);
    prefixes.push(p);
    lengths[len] = (lengths[len] ?? 0) + 1;
  }
  // Encode each set's prefixes, then interleave the UPDATEs of all sets (seeded shuffle).
  const messages: Buffer[] = [];
  let at = 0;
  sets.forEach((a, k) => {
    const mine = prefixes.slice(at, at + sizes[k]!);
    at += sizes[k]!;
    messages.push(...encodeUpdates(a, { v4: mine }, { fourOctetAs: true }));
  });
  for (let i = messages.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [messages[i], messages[j]] = [messages[j]!, messages[i]!];
  }
  return { messages, prefixes: N, attrSets: SETS, lengths };
}

// ---------------------------------------------------------------------------------------------
// Sender and sink

function emit(e: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify(e) + '\n');
}

function hostPort(s: string): { host: string; port: number } {
  const i = s.lastIndexOf(':');
  return { host: s.slice(0, i), port: Number(s.slice(i + 1)) };
}

/**
 * A minimal BGP session on `socket`: sends OPEN, answers the peer's OPEN with KEEPALIVE, calls `established`
 * at the peer's first KEEPALIVE, passes UPDATEs to `onUpdate`, sends KEEPALIVEs every hold/3 seconds.
 */
function session(
  socket: net.Socket,
  o: { asn: number; id: string; hold: number },
  established: () => void,
  onUpdate: (buf: Buffer, start: number, end: number) => void,
): void {
  socket.setNoDelay(true);
  let state: 'opensent' | 'openconfirm' | 'established' = 'opensent';
  let ka: NodeJS.Timeout | undefined;
  socket.write(openMessage(o.asn, o.hold, o.id));
  const framer = new RawFramer((type, buf, start, end) => {
    if (type === MSG_OPEN && state === 'opensent') {
      state = 'openconfirm';
      socket.write(KEEPALIVE);
    } else if (type === MSG_KEEPALIVE && state === 'openconfirm') {
      state = 'established';
      if (o.hold > 0) ka = setInterval(() => socket.write(KEEPALIVE), (o.hold / 3) * 1000);
      established();
    } else if (type === MSG_UPDATE && state === 'established') {
      onUpdate(buf, start, end);
    } else if (type === MSG_NOTIFICATION) {
      emit({ event: 'notification', code: buf[start + 19], subcode: buf[start + 20], t: now() });
    }
  });
  socket.on('data', (d: Buffer) => framer.push(d));
  socket.on('close', () => {
    if (ka) clearInterval(ka);
    emit({ event: 'closed', state, t: now() });
    process.exit(state === 'established' ? 0 : 1);
  });
  socket.on('error', (e) => emit({ event: 'error', message: e.message, t: now() }));
}

function send(): void {
  const file = arg('file')!;
  const { host, port } = hostPort(arg('connect')!);
  const local = arg('local');
  const asn = Number(arg('as', String(FEEDER_AS)));
  const id = arg('id', local ?? '10.201.0.10')!;
  const hold = Number(arg('hold', '180'));
  const stream = readFileSync(file);
  const retryUntil = Date.now() + 30_000;
  const attempt = (): void => {
    const socket = net.connect({ host, port, ...(local ? { localAddress: local } : {}) });
    socket.once('connect', () => {
      emit({ event: 'connected', t: now() });
      session(
        socket,
        { asn, id, hold },
        () => {
          emit({ event: 'established', t: now() });
          const t0 = now();
          socket.write(stream, () => {
            const t1 = now();
            socket.write(EOR_V4);
            emit({ event: 'sent', t0, t1, bytes: stream.length });
          });
        },
        () => {},
      );
    });
    socket.once('error', (e) => {
      // The target may not listen yet: retry for a while (connection refused), else give up.
      if (socket.readyState !== 'open' && Date.now() < retryUntil) setTimeout(attempt, 50);
      else {
        emit({ event: 'error', message: e.message, t: now() });
        process.exit(1);
      }
    });
  };
  attempt();
}

function sink(): void {
  const { host, port } = hostPort(arg('listen')!);
  const asn = Number(arg('as', '64512'));
  const id = arg('id', host)!;
  const expect = Number(arg('expect', '0'));
  let prefixes = 0;
  let messages = 0;
  let bytes = 0;
  let tFirst = 0;
  const server = net.createServer((socket) => {
    server.close();
    socket.on('data', (d: Buffer) => (bytes += d.length));
    session(
      socket,
      { asn, id, hold: 180 },
      () => emit({ event: 'established', t: now() }),
      (buf, start, end) => {
        if (!tFirst) tFirst = now();
        messages++;
        prefixes += countV4(buf, start, end).announced;
        if (expect && prefixes === expect) emit({ event: 'done', t: now(), tFirst, prefixes, messages, bytes });
      },
    );
  });
  server.listen(port, host, () => emit({ event: 'listening', t: now() }));
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
const mode = isMain ? process.argv[2] : undefined;
if (mode === 'build') {
  const kind = process.argv[3] as FeedKind;
  if (!FEED_KINDS.includes(kind)) throw new Error(`feed kind: one of ${FEED_KINDS.join(', ')}`);
  const t0 = Date.now();
  const r = buildFeed(kind, arg('next-hop', '10.201.0.10')!);
  console.log(JSON.stringify({ ...r, ms: Date.now() - t0 }));
} else if (mode === 'send') send();
else if (mode === 'sink') sink();
else if (isMain) {
  console.error('usage: feeder.ts build <100k|1m|mix> | send --file F --connect host:port [--local A] | sink --listen host:port --expect N');
  process.exit(2);
}
