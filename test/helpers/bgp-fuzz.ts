/**
 * A rig for fuzzing tortie's BGP engine through REAL sessions, without TCP: a Speaker whose sockets
 * are in-memory fakes (`FakeSocket`, the `SocketLike` of src/bgp/session.ts), whose timers fire only
 * when the rig says so, and whose listener hands the rig the connection callback. Peers are driven
 * by emitting bytes on their fake socket's 'data' event, exactly as node's net.Socket would.
 *
 * The speaker has three fuzzed peers ("targets", bgp-fuzz-inputs.ts: iBGP route-reflector client,
 * eBGP 2-octet AS, eBGP 4-octet AS with graceful restart) and three observers that only receive:
 * whatever a target gets accepted is exported to them, so the encoder sees peer-supplied attributes.
 *
 * Everything the rig does is logged as actions (connect, feed, drop, drain). A failing log is
 * replayed on a fresh rig, shrunk (`minimize`) and saved as a crash file: one action per line,
 * test/fixtures/bgp-crashers/<hash>.hex; `loadCrashers` and `replay` run them again.
 * `checkStep` holds the invariants checked after every input (see test/integration/bgp-fuzz.test.ts).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type net from 'node:net';
import { Speaker, type PeerSpec } from '../../src/bgp/speaker.js';
import type { Session } from '../../src/bgp/session.js';
import { decodeMessage, type WireContext } from '../../src/bgp/wire/index.js';
import { KEEPALIVE, LOCAL_AS, OBSERVERS, SPEAKER_ADDRESS, TARGETS, openOf, type PeerProfile } from './bgp-fuzz-inputs.js';

// ---------------------------------------------------------------------------------------------
// Fakes

export { FakeSocket } from '../../src/bgp/testing/fake-socket.js';
import { FakeSocket } from '../../src/bgp/testing/fake-socket.js';

interface FakeTimer {
  fn: () => void;
  ms: number;
}

// ---------------------------------------------------------------------------------------------
// The rig

export type TargetState = 'OpenSent' | 'OpenConfirm' | 'Established';
const RANK: readonly string[] = ['OpenSent', 'OpenConfirm', 'Established'];

export type Action =
  | { op: 'connect'; target: string; state: TargetState }
  | { op: 'feed'; target: string; chunks: Buffer[] }
  | { op: 'drop'; target: string }
  | { op: 'drain'; observer: string };

export interface Conn {
  profile: PeerProfile;
  sock: FakeSocket;
  startState: TargetState;
  /** Every chunk fed since the connection was made. */
  fed: Buffer[];
  steps: number;
}

export interface StepReport {
  conn: Conn;
  before: string;
  after: string;
  /** The session went back to Idle (or Active). */
  fatal: boolean;
  /** The last NOTIFICATION we sent during the step. */
  notification?: { code: number; subcode: number };
}

type PeersView = { peers: Map<string, { session: Session; spec: PeerSpec }> };

const profileOf = (name: string): PeerProfile => {
  const p = [...TARGETS, ...OBSERVERS].find((x) => x.name === name);
  if (!p) throw new Error(`unknown peer ${name}`);
  return p;
};

export class FuzzRig {
  readonly speaker: Speaker;
  /** What was done to this rig, in order (what a crash file holds). */
  readonly log: Action[] = [];
  /** Exceptions that escaped into the event loop (uncaught exceptions, unhandled rejections), in order. */
  readonly escaped: unknown[] = [];
  /** Messages the speaker sent the observers, each decoded and checked. */
  exported = 0;
  private readonly timers = new Map<number, FakeTimer>();
  private nextTimer = 1;
  private onConnection: ((s: net.Socket) => void) | undefined;
  private readonly conns = new Map<string, Conn>();
  private readonly observers = new Map<string, FakeSocket>();
  private readonly onEscape = (e: unknown) => this.escaped.push(e);
  private closed = false;

  private constructor() {
    this.speaker = new Speaker({
      routerId: '10.0.0.1',
      asNumber: LOCAL_AS,
      listen: { address: SPEAKER_ADDRESS, port: 179 },
      deps: {
        listen: async (_o, cb) => {
          this.onConnection = cb;
          return { close() {}, port: 179 };
        },
        connect: () => {
          throw new Error('fuzz rig: every peer is passive');
        },
        setTimer: (fn, ms) => {
          const h = this.nextTimer++;
          this.timers.set(h, { fn, ms });
          return h;
        },
        clearTimer: (h) => {
          this.timers.delete(h as number);
        },
        now: () => Date.now(),
      },
    });
  }

  static async create(): Promise<FuzzRig> {
    const rig = new FuzzRig();
    // An exception escaping into the event loop (from a setImmediate of the speaker, say) is captured here
    // instead of reaching the test runner, so that the input behind it can be saved. One rig at a time.
    process.setUncaughtExceptionCaptureCallback(rig.onEscape);
    process.on('unhandledRejection', rig.onEscape);
    await rig.speaker.start();
    const spec = (p: PeerProfile): PeerSpec => ({
      address: p.address,
      asNumber: p.as,
      passive: true,
      families: ['ipv4', 'ipv6'],
      ...(p.rrClient ? { routeReflectorClient: true } : {}),
    });
    rig.speaker.setPeers([...TARGETS, ...OBSERVERS].map(spec));
    rig.speaker.setOriginated([{ prefix: '10.0.0.0/24', communities: ['65000:1'] }, { prefix: '10.3.7.0/24' }, { prefix: '2001:db8:3::/48', nextHop: '2001:db8::1' }]);
    for (const o of OBSERVERS) {
      const sock = rig.accept(o);
      sock.emit('data', Buffer.concat([openOf(o), KEEPALIVE]));
      if (rig.session(o).state !== 'Established') throw new Error(`observer ${o.name} did not come up: ${rig.session(o).state}`);
      rig.observers.set(o.name, sock);
    }
    await rig.flush();
    return rig;
  }

  /** Closes the speaker and stops capturing escaped exceptions. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.speaker.close();
      await this.flush();
    } finally {
      process.setUncaughtExceptionCaptureCallback(null);
      process.off('unhandledRejection', this.onEscape);
    }
  }

  session(p: PeerProfile): Session {
    const e = [...(this.speaker as unknown as PeersView).peers.values()].find((x) => x.spec.address === p.address);
    if (!e) throw new Error(`no peer ${p.address}`);
    return e.session;
  }

  /** `p`'s connection, while its socket is open. */
  conn(p: PeerProfile): Conn | undefined {
    const c = this.conns.get(p.name);
    return c && !c.sock.destroyed ? c : undefined;
  }

  /** Lets deferred work run: the speaker's setImmediate kicks, socket destroys and their 'close' events. */
  async flush(): Promise<void> {
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    if (this.escaped.length) throw this.escaped.shift();
  }

  /** A new incoming connection from `p` (the speaker's listener callback, as a TCP accept would call it). */
  private accept(p: PeerProfile): FakeSocket {
    const sock = new FakeSocket(p.address, SPEAKER_ADDRESS);
    this.onConnection!(sock as unknown as net.Socket);
    return sock;
  }

  /** Fires the short timers (the IdleHold back-off, <= 1.5 s; never hold timers, >= 3 s) until none is left. */
  private fireShortTimers(): void {
    for (let round = 0; round < 10; round++) {
      const due = [...this.timers].filter(([, t]) => t.ms <= 1500);
      if (due.length === 0) return;
      for (const [h, t] of due) {
        if (!this.timers.delete(h)) continue;
        t.fn();
      }
    }
  }

  /** A new connection from `p`, its session brought to `want` (an open one is dropped first). */
  async connect(p: PeerProfile, want: TargetState): Promise<Conn> {
    this.log.push({ op: 'connect', target: p.name, state: want });
    const old = this.conn(p);
    if (old) await this.lose(old);
    this.fireShortTimers();
    const expect = (state: string, when: string) => {
      const now = this.session(p).state;
      if (now !== state) throw new Error(`${p.name}: session is ${now} ${when}, expected ${state}`);
    };
    expect('Active', 'before a new connection');
    const sock = this.accept(p);
    expect('OpenSent', 'after accepting');
    if (want !== 'OpenSent') sock.emit('data', openOf(p));
    if (want === 'Established') sock.emit('data', KEEPALIVE);
    expect(want, 'after the handshake');
    const conn: Conn = { profile: p, sock, startState: want, fed: [], steps: 0 };
    this.conns.set(p.name, conn);
    await this.flush();
    return conn;
  }

  /** The peer's side of its connection goes away (TCP connection lost). */
  async drop(p: PeerProfile): Promise<void> {
    this.log.push({ op: 'drop', target: p.name });
    const c = this.conn(p);
    if (c) await this.lose(c);
  }

  private async lose(c: Conn): Promise<void> {
    c.sock.destroyed = true;
    c.sock.emit('close', false);
    await this.flush();
  }

  /**
   * Feeds one input to `p`'s connection and runs the event loop. Throws when an exception escapes,
   * synchronously from 'data' (net.Socket would crash the process the same way) or into the event
   * loop. Undefined when `p` has no open connection (a shrunk crash log may say so).
   */
  async feed(p: PeerProfile, chunks: Buffer[]): Promise<StepReport | undefined> {
    this.log.push({ op: 'feed', target: p.name, chunks });
    const conn = this.conn(p);
    if (!conn) return undefined;
    const s = this.session(p);
    const before = s.state;
    const from = conn.sock.written.length;
    conn.fed.push(...chunks);
    conn.steps++;
    for (const c of chunks) {
      if (conn.sock.destroyed) break;
      conn.sock.emit('data', c);
    }
    await this.flush();
    const after = s.state;
    const r: StepReport = { conn, before, after, fatal: after === 'Idle' || after === 'Active' };
    const notes = conn.sock.messagesSince(from).filter((m) => m[18] === 3);
    if (notes.length) r.notification = { code: notes.at(-1)![19]!, subcode: notes.at(-1)![20]! };
    return r;
  }

  /** Back-pressure: an observer's socket says "need drain"; the next time it drains. */
  async drain(o: PeerProfile): Promise<void> {
    this.log.push({ op: 'drain', observer: o.name });
    const sock = this.observers.get(o.name)!;
    if (sock.writableNeedDrain) {
      sock.writableNeedDrain = false;
      sock.emit('drain');
      await this.flush();
    } else sock.writableNeedDrain = true;
  }

  /** Checks that every message the speaker sent the observers decodes cleanly, and forgets them. */
  checkExports(): void {
    for (const o of OBSERVERS) {
      const sock = this.observers.get(o.name)!;
      const ctx: WireContext = { fourOctetAs: o.fourOctetAs, ebgp: o.as !== LOCAL_AS };
      for (const m of sock.messagesSince(0)) {
        const d = decodeMessage(m, ctx);
        if (d.type === 'error' || (d.type === 'update' && (d.error || d.problems.length))) {
          const why = d.type === 'error' ? d.error.reason : d.type === 'update' ? (d.error ?? d.problems[0])!.reason : '';
          throw new Error(`speaker sent ${o.name} a malformed message (${why}): ${m.toString('hex')}`);
        }
        this.exported++;
      }
      sock.written.length = 0;
      assert.equal(this.session(o).state, 'Established', `observer ${o.name} stays up`);
    }
  }

  /** Runs one action (for replays). */
  async run(a: Action): Promise<StepReport | undefined> {
    switch (a.op) {
      case 'connect':
        await this.connect(profileOf(a.target), a.state);
        return undefined;
      case 'feed':
        return this.feed(profileOf(a.target), a.chunks);
      case 'drop':
        await this.drop(profileOf(a.target));
        return undefined;
      case 'drain':
        await this.drain(profileOf(a.observer));
        return undefined;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Invariants

/** True when the bytes fed to `conn` hold a whole NOTIFICATION frame from the peer. */
function peerSentNotification(conn: Conn): boolean {
  const all = Buffer.concat(conn.fed);
  for (let o = 0; o + 19 <= all.length; ) {
    const len = all.readUInt16BE(o + 16);
    if (len < 19) return false;
    if (all[o + 18] === 3 && len >= 21 && o + len <= all.length) return true;
    o += len;
  }
  return false;
}

/**
 * The invariants after one input. `deep` adds the expensive ones: accepted-prefix counts against the
 * Loc-RIB for every peer. Throws AssertionError.
 */
export function checkStep(rig: FuzzRig, r: StepReport, deep: boolean): void {
  const { conn } = r;
  const p = conn.profile;
  const st = rig.speaker.status().find((s) => s.address === p.address);
  assert.ok(st, 'status() lists the peer');
  assert.equal(st.state, r.after);
  rig.speaker.routes('10.0.0.0/24');
  if (r.fatal) {
    if (r.notification) {
      assert.ok(r.notification.code >= 1 && r.notification.code <= 7, `NOTIFICATION code ${r.notification.code}`);
      assert.equal(conn.sock.messagesSince(0).at(-1)![18], 3, 'the NOTIFICATION is the last message sent');
    } else {
      assert.ok(peerSentNotification(conn), `session went ${r.before} -> ${r.after} without sending a NOTIFICATION`);
    }
    assert.ok(conn.sock.destroyed, 'the socket is closed');
    const fsm = rig.session(p).fsmState;
    assert.equal(fsm.negotiated, undefined);
    assert.equal(fsm.connection, undefined);
    assert.deepEqual(Object.keys(fsm.timers).filter((t) => t !== 'idleHold'), [], 'only the restart back-off runs');
    assert.equal(st.established, false);
    if (p.gr === undefined) assert.deepEqual([st.prefixes.received, st.prefixes.accepted], [0, 0], 'the peer routes are withdrawn');
    else assert.ok(rig.speaker.routes().every((x) => x.from !== p.address || x.stale), 'graceful restart: what is left is stale');
  } else {
    assert.equal(r.notification, undefined, `NOTIFICATION ${r.notification?.code}/${r.notification?.subcode} sent, yet the session is ${r.after}`);
    assert.ok(!conn.sock.destroyed, 'the socket is still open');
    assert.ok(RANK.indexOf(r.after) >= RANK.indexOf(r.before), `${r.before} -> ${r.after}`);
  }
  rig.checkExports();
  if (deep) {
    const routes = rig.speaker.routes();
    for (const s of rig.speaker.status()) {
      const mine = routes.filter((x) => x.from === s.address).length;
      assert.equal(s.prefixes.accepted, mine, `${s.address}: accepted ${s.prefixes.accepted}, in the RIB ${mine}`);
    }
  }
}

/** Runs `actions` on a fresh rig, checking every input. Throws what the original run threw (if it still does). */
export async function replay(actions: readonly Action[]): Promise<void> {
  const rig = await FuzzRig.create();
  try {
    for (const a of actions) {
      const r = await rig.run(a);
      if (r) checkStep(rig, r, true);
    }
  } finally {
    await rig.close();
  }
}

/** What kind of failure an error is: its message without hex dumps and numbers. */
export function signature(e: unknown): string {
  const m = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return m.replace(/[0-9a-f]{16,}/g, '<hex>').replace(/\d+/g, 'N').slice(0, 160);
}

/** Shrinks a failing action log (ddmin over whole actions) while it fails the same way, within `ms`. */
export async function minimize(actions: readonly Action[], sig: string, ms: number): Promise<Action[]> {
  const t0 = Date.now();
  const same = async (cand: Action[]) => {
    try {
      await replay(cand);
      return false;
    } catch (e) {
      return signature(e) === sig;
    }
  };
  let cur = [...actions];
  let n = 2;
  while (cur.length >= 2 && Date.now() - t0 < ms) {
    const size = Math.ceil(cur.length / n);
    let reduced = false;
    for (let i = 0; i < cur.length && Date.now() - t0 < ms; i += size) {
      const cand = [...cur.slice(0, i), ...cur.slice(i + size)];
      if (await same(cand)) {
        cur = cand;
        n = Math.max(n - 1, 2);
        reduced = true;
        break;
      }
    }
    if (!reduced) {
      if (n >= cur.length) break;
      n = Math.min(cur.length, n * 2);
    }
  }
  return cur;
}

// ---------------------------------------------------------------------------------------------
// Crash files

export const CRASHER_DIR = join(import.meta.dirname, '..', 'fixtures', 'bgp-crashers');

/** The crash file text: header comments, then one action per line. */
export function crashText(actions: readonly Action[], header: string[]): string {
  const lines = header.map((h) => `# ${h.replace(/\n/g, ' ')}`);
  for (const a of actions) {
    if (a.op === 'connect') lines.push(`connect ${a.target} ${a.state}`);
    else if (a.op === 'feed') lines.push(`feed ${a.target} ${a.chunks.map((c) => c.toString('hex') || '-').join(' ')}`);
    else if (a.op === 'drop') lines.push(`drop ${a.target}`);
    else lines.push(`drain ${a.observer}`);
  }
  return lines.join('\n') + '\n';
}

export function saveCrasher(text: string): string {
  mkdirSync(CRASHER_DIR, { recursive: true });
  const body = text.split('\n').filter((l) => !l.startsWith('#')).join('\n');
  const file = join(CRASHER_DIR, `${createHash('sha256').update(body).digest('hex').slice(0, 16)}.hex`);
  writeFileSync(file, text);
  return file;
}

export interface Crasher {
  file: string;
  actions: Action[];
}

export function loadCrashers(): Crasher[] {
  let names: string[];
  try {
    names = readdirSync(CRASHER_DIR).filter((f) => f.endsWith('.hex')).sort();
  } catch {
    return [];
  }
  return names.map((name) => {
    const file = join(CRASHER_DIR, name);
    const actions: Action[] = [];
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const [op, who, ...rest] = line.trim().split(/\s+/);
      if (!op || op.startsWith('#')) continue;
      if (!who) throw new Error(`${name}: "${line}" names no peer`);
      profileOf(who);
      if (op === 'connect' && RANK.includes(rest[0] ?? '')) actions.push({ op, target: who, state: rest[0] as TargetState });
      else if (op === 'feed') actions.push({ op, target: who, chunks: rest.map((h) => Buffer.from(h === '-' ? '' : h, 'hex')) });
      else if (op === 'drop') actions.push({ op, target: who });
      else if (op === 'drain') actions.push({ op, observer: who });
      else throw new Error(`${name}: cannot read "${line}"`);
    }
    return { file, actions };
  });
}

