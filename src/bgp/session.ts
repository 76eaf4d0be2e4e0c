/**
 * One peering's driver (STYLE.md 1: codec, state machine and I/O are three layers): it owns the
 * TCP connection(s), the framer and the timers, feeds what happens to the pure FSM (`fsm.ts`)
 * and carries out the effects the FSM returns.
 *
 * Tricky parts:
 *  - Collisions (RFC 4271 §6.8): while a session is being set up both sides may connect, so a
 *    peer can have two connections, each with its own FSM. The FSM decides which survives
 *    (`connectionDisposition`, `resolveCollision`); the driver keeps a `main` and an optional
 *    `second` connection. Exactly one FSM is the session's: when the main connection loses a
 *    collision, or fails while a second one is alive, the second becomes the main one at once
 *    (`replaceMain`) — a dumped FSM is finished (Idle, not started) and must never stay the
 *    session's, or a survivor that fails afterwards would leave the peer in Idle for good. A
 *    connection that is neither main nor second is retired: its timers cleared, its socket closed.
 *  - UPDATEs are built when the socket can take them (STYLE.md 6): the RIB is asked for the next
 *    UPDATE bytes only when the socket is writable ('drain'), so a slow peer never makes us queue
 *    a whole table in memory and KEEPALIVEs never wait behind megabytes of UPDATEs.
 *  - Received messages are handed to the RIB synchronously while the FSM processes them (its
 *    `process` effect), so the order of UPDATEs is the order on the wire.
 * Side effects (sockets, timers, clock, logging) are injected (STYLE.md 9).
 */
import type { Socket } from 'node:net';
import { connectionDisposition, resolveCollision, secondConnection } from './fsm-collision.js';
import { initialState, steadyStep, step, timerEvent, type SteadyEvent } from './fsm.js';
import { writeNow } from './socket-write.js';
import type { Capabilities, Direction, FsmConfig, FsmEffect, FsmEvent, FsmState, OpenMessage as FsmOpen, OutMessage, TimerName } from './fsm-types.js';
import type { Family, Negotiated } from './types.js';
import {
  Framer,
  decodeMessage,
  encodeKeepalive,
  encodeNotification,
  encodeOpen,
  encodeRouteRefresh,
  summarizeCapabilities,
  type Capability,
  type Message,
  type MessageError,
  type OpenMessage,
  type NotificationMessage,
  type RouteRefreshMessage,
  type UpdateMessage,
  type WireContext,
} from './wire/index.js';
import { MSG, AFI, SAFI } from './wire/constants.js';

/** What the driver needs from a socket: node's net.Socket satisfies it. */
export type SocketLike = Pick<Socket, 'write' | 'destroy' | 'on' | 'once' | 'removeAllListeners' | 'setNoDelay' | 'remoteAddress' | 'remotePort' | 'localAddress' | 'localPort'> & {
  readonly destroyed: boolean;
  readonly writableNeedDrain?: boolean;
};

export interface SessionDeps {
  /**
   * Opens a TCP connection; the socket must emit 'connect', 'data', 'drain', 'error', 'close'.
   * With `password`, the connection carries that TCP MD5 key (RFC 2385).
   */
  connect(opts: { host: string; port: number; localAddress?: string; password?: string }): SocketLike;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
  /**
   * Optional: re-arms a timer for its whole duration again (Node's `Timeout.refresh`). Without it a restart is
   * a clear and a set. With it — it says the timers run on `now()`'s clock — a timer restarted while it is
   * still pending is not touched at all: the restart time is noted, and when the timer fires it sleeps the rest
   * (a hold timer restarted by each of thousands of messages costs a clock read each, not a re-insertion in
   * the timer list); a timer restarted after it fired (the keepalive timer) is refreshed.
   */
  refreshTimer?(handle: unknown): void;
  now(): number;
  /**
   * Optional: a monotonic clock (ms) on which the timers run, for the lazy restarts above; `now()` otherwise.
   * Real timers need it: `now()` is the wall clock (for timestamps), and a wall clock stepped back or forward
   * would make a hold timer expire late or early.
   */
  elapsed?(): number;
  log?(level: 'debug' | 'info' | 'warn', msg: string, fields?: Record<string, unknown>): void;
}

export interface SessionConfig {
  /** The peer's address (and what incoming connections are matched by). */
  address: string;
  port: number;
  localAddress?: string;
  /** TCP MD5 key (RFC 2385). */
  password?: string;
  fsm: FsmConfig;
  /** Seed for the FSM's back-off jitter (one per peer). */
  seed?: number;
}

/** What the session tells its owner (the speaker). All calls are synchronous. */
export interface SessionHandlers {
  established(s: Session, n: Negotiated): void;
  down(s: Session, info: DownInfo): void;
  update(s: Session, u: UpdateMessage): void;
  routeRefresh(s: Session, rr: RouteRefreshMessage): void;
  stateChange?(s: Session, state: FsmState['state']): void;
  /** The next UPDATE messages to send, about `budget` bytes' worth; empty when nothing is pending. */
  pull(s: Session, budget: number): Buffer[];
}

export interface DownInfo {
  reason: string;
  graceful: boolean;
  /** What the session that went down had negotiated (the peer's graceful-restart capability decides what is kept). */
  negotiated?: Negotiated;
  notification?: { code: number; subcode: number; data?: Uint8Array };
  /** The NOTIFICATION text as received (RFC 9003), if any. */
  message?: string;
}

interface Conn {
  fsm: FsmState;
  direction?: Direction;
  socket?: SocketLike;
  /** Our connection attempt while it is in progress (it becomes `socket`, or a second connection). */
  pending?: SocketLike;
  framer: Framer;
  timers: Map<TimerName, TimerEntry>;
  /** The message being processed while the FSM runs (for its `process` effect). */
  current?: Message;
  /** UPDATE bytes waiting for the FSM's `send update` effect. */
  outgoing?: Buffer[];
  /** Set once a socket closes or is replaced: its late events are ignored. */
  dead?: boolean;
  /** What this connection's session negotiated when it reached Established (the FSM forgets it on the way down). */
  negotiated?: Negotiated;
}

/** A running (or, with refreshTimer, fired) timer of a connection. */
interface TimerEntry {
  h: unknown;
  /** The duration the FSM asked for. */
  ms: number;
  /** Restarted at this time (now()) while pending: when it fires, it sleeps what is left (refreshTimer only). */
  restartedAt: number | undefined;
  fired: boolean;
  /** The handle was made for what was left, not for `ms`: refreshing it would re-arm the wrong duration. */
  remainder: boolean;
}

const PULL_BUDGET = 64 * 1024;

export class Session {
  private main: Conn;
  private second: Conn | undefined;
  private lastDown: DownInfo | undefined;
  private since: number;
  private receivedNotification: NotificationMessage | undefined;

  constructor(
    readonly config: SessionConfig,
    private readonly deps: SessionDeps,
    private readonly handlers: SessionHandlers,
  ) {
    this.main = this.newConn(initialState(config.seed));
    this.since = deps.now();
  }

  get state(): FsmState['state'] {
    return this.main.fsm.state;
  }

  get negotiated(): Negotiated | undefined {
    return this.main.fsm.state === 'Established' ? this.main.fsm.negotiated : undefined;
  }

  /** When the current state was entered (ms since epoch). */
  get stateSince(): number {
    return this.since;
  }

  /** Our address on the established connection. */
  get localAddress(): string | undefined {
    return this.main.socket?.localAddress;
  }

  get lastError(): DownInfo | undefined {
    return this.lastDown;
  }

  get fsmState(): FsmState {
    return this.main.fsm;
  }

  /** ManualStart (active) or ManualStart with passive TCP establishment. */
  start(): void {
    this.apply(this.main, { type: this.config.fsm.passive ? 'ManualStart_with_PassiveTcpEstablishment' : 'ManualStart' });
  }

  /** ManualStop: Cease (Administrative Shutdown by default) and no reconnect. */
  stop(cause: { subcode?: number; message?: string } = {}): void {
    if (this.second) this.apply(this.second, { type: 'ManualStop', ...cause });
    this.apply(this.main, { type: 'ManualStop', ...cause });
  }

  /** AutomaticStop with restart: Cease (e.g. Other Configuration Change), then reconnect after the back-off. */
  reset(cause: { subcode?: number; message?: string; data?: Uint8Array } = {}): void {
    if (this.second) this.apply(this.second, { type: 'AutomaticStop', restart: false, ...cause });
    this.apply(this.main, { type: 'AutomaticStop', restart: true, ...cause });
  }

  /**
   * Stop without a NOTIFICATION and without sending anything: the connection is just dropped, as
   * a process that is going away (graceful restart, RFC 4724: the peer keeps our routes).
   */
  abandon(): void {
    for (const c of [this.second, this.main]) {
      if (!c) continue;
      for (const t of c.timers.values()) this.deps.clearTimer(t.h);
      c.timers.clear();
      this.closeSocket(c);
    }
    this.second = undefined;
  }

  /**
   * A connection the peer opened to us (the speaker's listener matched its address). Returns
   * false when the FSM refuses it (the caller closes the socket).
   */
  acceptIncoming(socket: SocketLike): boolean {
    const disp = connectionDisposition(this.main.fsm);
    if (disp === 'take') {
      this.attach(this.main, socket, 'incoming');
      this.apply(this.main, { type: 'TcpConnectionConfirmed' });
      return true;
    }
    if (disp === 'second' && !this.second) {
      const conn = this.newConn(this.main.fsm);
      this.second = conn;
      this.attach(conn, socket, 'incoming');
      const r = secondConnection(this.config.fsm, this.main.fsm, 'incoming');
      conn.fsm = r.state;
      this.run(conn, r.effects);
      return true;
    }
    return false;
  }

  /** The RIB has UPDATEs for this peer: send what the socket can take now. */
  kick(): void {
    this.pump(this.main);
  }

  /** Ask the peer to resend a family (ROUTE-REFRESH, RFC 2918 / 7313). */
  requestRefresh(family: Family, subtype = 0): void {
    this.apply(this.main, { type: 'SendRouteRefresh', family, subtype });
  }

  /** Sends a ROUTE-REFRESH BoRR/EoRR marker if enhanced route refresh was negotiated (RFC 7313 §4). */
  sendRefreshMarker(family: Family, subtype: 1 | 2): void {
    if (this.negotiated?.enhancedRouteRefresh) this.apply(this.main, { type: 'SendRouteRefresh', family, subtype });
  }

  /** Writes raw bytes on the established connection (End-of-RIB markers and similar). */
  send(bytes: Buffer): void {
    const s = this.main.socket;
    if (this.main.fsm.state === 'Established' && s && !s.destroyed) s.write(bytes);
  }

  /** The codec context for this peer's messages. */
  wireContext(): WireContext {
    const n = this.main.fsm.negotiated;
    return {
      fourOctetAs: n ? n.fourOctetAs : true,
      extendedMessage: n ? n.extendedMessage : false,
      ebgp: this.config.fsm.localAs !== (n?.peerAs ?? this.config.fsm.peerAs),
    };
  }

  // -------------------------------------------------------------------------------------------

  private newConn(fsm: FsmState): Conn {
    return { fsm, framer: new Framer(), timers: new Map() };
  }

  private apply(conn: Conn, event: FsmEvent): void {
    const before = conn.fsm.state;
    const r = step(this.config.fsm, conn.fsm, event);
    conn.fsm = r.state;
    this.run(conn, r.effects);
    if (conn === this.main && conn.fsm.state !== before) {
      this.since = this.deps.now();
      this.handlers.stateChange?.(this, conn.fsm.state);
    }
  }

  private run(conn: Conn, effects: readonly FsmEffect[]): void {
    for (const e of effects) {
      switch (e.type) {
        case 'connect':
          this.connect(conn);
          break;
        case 'close':
          this.closeSocket(conn);
          if (conn === this.second) this.second = undefined;
          break;
        case 'send':
          this.write(conn, e.message);
          break;
        case 'startTimer':
          this.startTimer(conn, e.timer, e.ms);
          break;
        case 'stopTimer': {
          const t = conn.timers.get(e.timer);
          if (t !== undefined) this.deps.clearTimer(t.h);
          conn.timers.delete(e.timer);
          break;
        }
        case 'established':
          if (conn === this.second) this.promote();
          if (e.negotiated.extendedMessage) conn.framer.maxMessageLength = 65535;
          conn.negotiated = e.negotiated;
          this.lastDown = undefined;
          this.handlers.established(this, e.negotiated);
          this.pump(conn);
          break;
        case 'down': {
          const info: DownInfo = { reason: e.reason, graceful: e.graceful };
          if (e.notification) info.notification = e.notification;
          if (conn.negotiated) info.negotiated = conn.negotiated;
          conn.negotiated = undefined;
          const n = this.receivedNotification;
          if (n?.shutdownCommunication) info.message = n.shutdownCommunication;
          this.lastDown = info;
          this.handlers.down(this, info);
          break;
        }
        case 'process': {
          const m = conn.current;
          if (m?.type === 'update') this.handlers.update(this, m);
          else if (m?.type === 'route-refresh') this.handlers.routeRefresh(this, m);
          break;
        }
      }
    }
    // A second connection that went down (e.g. Idle with its IdleHold timer) was let go by its
    // 'close': nothing of it may run on (a late timer would restart an FSM nobody owns).
    if (conn !== this.main && conn !== this.second) this.retire(conn);
  }

  private startTimer(conn: Conn, timer: TimerName, ms: number): void {
    const old = conn.timers.get(timer);
    const refresh = this.deps.refreshTimer;
    if (old !== undefined && old.ms === ms && refresh) {
      // Same timer, same duration: the handle (and what it runs) stays.
      if (!old.fired) old.restartedAt = this.timerClock();
      else if (old.remainder) {
        old.h = this.deps.setTimer(() => this.timerFired(conn, timer, old), ms);
        old.remainder = false;
        old.fired = false;
      } else {
        refresh(old.h);
        old.fired = false;
      }
      return;
    }
    if (old !== undefined) this.deps.clearTimer(old.h);
    const entry: TimerEntry = { h: undefined, ms, restartedAt: undefined, fired: false, remainder: false };
    entry.h = this.deps.setTimer(() => this.timerFired(conn, timer, entry), ms);
    conn.timers.set(timer, entry);
  }

  private timerClock(): number {
    return this.deps.elapsed ? this.deps.elapsed() : this.deps.now();
  }

  private timerFired(conn: Conn, timer: TimerName, entry: TimerEntry): void {
    if (conn.timers.get(timer) !== entry) return; // cleared or replaced meanwhile
    if (entry.restartedAt !== undefined) {
      // Restarted while it ran: it expires `ms` after the last restart, not now.
      const left = entry.restartedAt + entry.ms - this.timerClock();
      entry.restartedAt = undefined;
      if (left > 0) {
        entry.h = this.deps.setTimer(() => this.timerFired(conn, timer, entry), left);
        entry.remainder = true;
        return;
      }
    }
    // A fired timer stays in `timers` when it can be re-armed (the keepalive timer fires and restarts).
    if (this.deps.refreshTimer) entry.fired = true;
    else conn.timers.delete(timer);
    if (conn !== this.main && conn !== this.second) return; // a retired connection's late timer
    if (!conn.dead || timer === 'idleHold' || timer === 'connectRetry') this.apply(conn, timerEvent(timer));
  }

  /** The second connection reached Established while the main one never got the peer's OPEN: the second wins. */
  private promote(): void {
    const old = this.main;
    // The loser of a collision gets Cease/Connection Collision Resolution (RFC 4271 §6.8).
    if (old.socket && (old.fsm.state === 'OpenSent' || old.fsm.state === 'OpenConfirm')) {
      const r = step(this.config.fsm, old.fsm, { type: 'OpenCollisionDump' });
      old.fsm = r.state;
      this.run(old, r.effects);
    }
    // Called from the second's 'established' effect: `apply` reports the state change.
    this.main = this.second!;
    this.second = undefined;
    this.retire(old);
  }

  /**
   * The second connection becomes the session's (the main one lost a collision or its connection):
   * the old main is retired, and the session's state is now the new main's.
   */
  private replaceMain(next: Conn): void {
    const old = this.main;
    const before = old.fsm.state;
    this.main = next;
    if (this.second === next) this.second = undefined;
    this.retire(old);
    if (next.fsm.state !== before) {
      this.since = this.deps.now();
      this.handlers.stateChange?.(this, next.fsm.state);
    }
  }

  /** A connection no FSM of the session owns any more: no timer of it runs, its socket is closed. */
  private retire(conn: Conn): void {
    for (const t of conn.timers.values()) this.deps.clearTimer(t.h);
    conn.timers.clear();
    this.closeSocket(conn);
  }

  private connect(conn: Conn): void {
    if ((conn.pending && !conn.pending.destroyed) || (conn.socket && !conn.socket.destroyed)) return;
    const opts: { host: string; port: number; localAddress?: string; password?: string } = { host: this.config.address, port: this.config.port };
    if (this.config.localAddress) opts.localAddress = this.config.localAddress;
    if (this.config.password) opts.password = this.config.password;
    let socket: SocketLike;
    try {
      socket = this.deps.connect(opts);
    } catch (e) {
      this.deps.log?.('debug', 'connect failed', { peer: this.config.address, error: (e as Error).message });
      queueMicrotask(() => this.apply(conn, { type: 'TcpConnectionFails' }));
      return;
    }
    conn.pending = socket;
    socket.on('error', (err: Error) => this.deps.log?.('debug', 'socket error', { peer: this.config.address, error: err.message }));
    socket.once('connect', () => {
      if (conn.pending !== socket) {
        socket.destroy(); // the attempt was abandoned meanwhile
        return;
      }
      conn.pending = undefined;
      // The peer may have connected to us meanwhile and the FSM taken that connection: then this
      // one is a second connection (collision) or refused.
      const disp = connectionDisposition(this.main.fsm);
      if (this.main.fsm.state === 'Established') {
        // Our attempt lost the race to the peer's own connection, which is the session now. Opening a
        // second connection here would look, to a peer with graceful restart (BIRD), like us
        // restarting: it would drop the established session for this one. Only the peer opens a
        // connection to an established session (its restart).
        socket.destroy();
        return;
      }
      if (conn === this.main && disp === 'take' && !conn.socket) {
        this.attach(conn, socket, 'outgoing');
        this.apply(conn, { type: 'Tcp_CR_Acked' });
      } else if (disp === 'second' && !this.second) {
        const c2 = this.newConn(this.main.fsm);
        this.second = c2;
        this.attach(c2, socket, 'outgoing');
        const r = secondConnection(this.config.fsm, this.main.fsm, 'outgoing');
        c2.fsm = r.state;
        this.run(c2, r.effects);
      } else socket.destroy();
    });
    socket.once('close', () => {
      if (conn.pending !== socket) return;
      conn.pending = undefined;
      // A failed attempt matters only while the FSM is waiting for it.
      if (conn.fsm.state === 'Connect' || conn.fsm.state === 'Active') this.apply(conn, { type: 'TcpConnectionFails' });
    });
  }

  private attach(conn: Conn, socket: SocketLike, direction: Direction): void {
    if (conn.socket && conn.socket !== socket) this.closeSocket(conn);
    conn.socket = socket;
    conn.direction = direction;
    conn.dead = false;
    conn.framer = new Framer();
    socket.setNoDelay(true);
    socket.on('error', (err: Error) => this.deps.log?.('debug', 'socket error', { peer: this.config.address, error: err.message }));
    socket.once('close', () => this.socketClosed(conn, socket));
    this.wire(conn, socket);
  }

  private wire(conn: Conn, socket: SocketLike): void {
    socket.on('data', (chunk: Buffer) => {
      if (conn.socket !== socket) return;
      this.receive(conn, chunk);
    });
    socket.on('drain', () => {
      if (conn.socket === socket) this.pump(conn);
    });
  }

  private socketClosed(conn: Conn, socket: SocketLike): void {
    if (conn.socket !== socket) return;
    conn.socket = undefined;
    conn.dead = true;
    this.apply(conn, { type: 'TcpConnectionFails' });
    if (conn === this.second) {
      // The second connection is gone (its FSM fell back to Active or Idle): the main one carries on alone.
      this.second = undefined;
      this.retire(conn);
    } else if (conn === this.main && this.second) {
      // The main connection is gone while a second one is alive: that one carries on as the session.
      this.replaceMain(this.second);
    }
  }

  private closeSocket(conn: Conn): void {
    const p = conn.pending;
    conn.pending = undefined;
    if (p && !p.destroyed) p.destroy();
    const s = conn.socket;
    conn.socket = undefined;
    conn.dead = true;
    if (s && !s.destroyed) {
      // Let queued bytes (a NOTIFICATION) go out before the FIN.
      (s as Socket).end?.();
      setImmediateSafe(() => s.destroy());
    }
  }

  private receive(conn: Conn, chunk: Buffer): void {
    conn.framer.push(chunk);
    for (;;) {
      if (conn.socket === undefined) return;
      const err = conn.framer.error;
      if (err) {
        this.apply(conn, { type: 'BGPHeaderErr', notification: { code: err.code, subcode: err.subcode, data: err.data } });
        return;
      }
      const msg = conn.framer.next();
      if (!msg) return;
      this.handle(conn, decodeMessage(msg, this.contextFor(conn)));
    }
  }

  private contextFor(conn: Conn): WireContext {
    const n = conn.fsm.negotiated;
    return {
      fourOctetAs: n ? n.fourOctetAs : true,
      extendedMessage: n ? n.extendedMessage : false,
      ebgp: this.config.fsm.localAs !== (n?.peerAs ?? this.config.fsm.peerAs),
    };
  }

  private handle(conn: Conn, m: Message | MessageError): void {
    if (m.type === 'error') {
      const notification = { code: m.error.code, subcode: m.error.subcode, data: m.error.data };
      if (m.messageType === MSG.OPEN) this.apply(conn, { type: 'BGPOpenMsgErr', notification });
      else if (m.messageType === MSG.UPDATE) this.apply(conn, { type: 'UpdateMsgErr', notification });
      else this.apply(conn, { type: 'BGPHeaderErr', notification });
      return;
    }
    switch (m.type) {
      case 'open': {
        const open = fsmOpen(m);
        const other = conn === this.main ? this.second : this.main;
        if (other && this.second) {
          const verdict = resolveCollision(this.config.fsm, open, conn.fsm, other.fsm);
          // The loser is stepped with OpenCollisionDump (Cease 6/7, Idle, not started: finished). A
          // losing second connection is let go by its 'close' (see run); if the main one lost, the
          // survivor takes its place now, so that the session's FSM is the one still connecting
          // (and retrying if its connection fails in turn).
          const loser = verdict === 'dumpReceiving' ? conn : verdict === 'dumpOther' ? other : undefined;
          if (loser) {
            const survivor = loser === conn ? other : conn;
            this.apply(loser, { type: 'OpenCollisionDump' });
            if (loser === this.main) this.replaceMain(survivor);
            if (loser === conn) return;
          }
        }
        this.apply(conn, { type: 'BGPOpen', open });
        break;
      }
      case 'keepalive':
        this.steady(conn, 'KeepAliveMsg');
        break;
      case 'update':
        conn.current = m;
        this.steady(conn, 'UpdateMsg');
        conn.current = undefined;
        break;
      case 'route-refresh':
        conn.current = m;
        this.steady(conn, 'RouteRefreshMsg');
        conn.current = undefined;
        break;
      case 'notification': {
        this.receivedNotification = m;
        const notification = { code: m.code, subcode: m.subcode, data: m.data };
        this.apply(conn, m.code === 2 && m.subcode === 1 ? { type: 'NotifMsgVerErr', notification } : { type: 'NotifMsg', notification });
        this.receivedNotification = undefined;
        break;
      }
    }
  }

  /** A message or a send that leaves an Established FSM as it is takes steadyStep; anything else, the full step. */
  private steady(conn: Conn, type: SteadyEvent): void {
    const effects = steadyStep(conn.fsm, type);
    if (effects !== undefined) this.run(conn, effects);
    else this.apply(conn, { type });
  }

  private write(conn: Conn, msg: OutMessage): void {
    const s = conn.socket;
    if (!s || s.destroyed) return;
    switch (msg.kind) {
      case 'open':
        s.write(encodeOpen(wireOpen(msg.open, this.config.fsm)));
        break;
      case 'keepalive':
        s.write(encodeKeepalive());
        break;
      case 'notification':
        s.write(encodeNotification({ code: msg.code, subcode: msg.subcode, data: msg.data }));
        break;
      case 'routeRefresh':
        s.write(encodeRouteRefresh(msg.family, msg.subtype));
        break;
      case 'update': {
        // One write per pull: many small UPDATEs in one segment, not one system call each.
        const bufs = conn.outgoing ?? [];
        if (bufs.length === 1) writeNow(s, bufs[0]!);
        else if (bufs.length > 1) writeNow(s, Buffer.concat(bufs));
        conn.outgoing = undefined;
        break;
      }
    }
  }

  /** Sends UPDATEs while the socket can take them. */
  private pump(conn: Conn): void {
    for (;;) {
      const s = conn.socket;
      if (conn.fsm.state !== 'Established' || !s || s.destroyed || s.writableNeedDrain) return;
      const bufs = this.handlers.pull(this, PULL_BUDGET);
      if (bufs.length === 0) return;
      conn.outgoing = bufs;
      this.steady(conn, 'SendUpdate');
      conn.outgoing = undefined;
    }
  }
}

function setImmediateSafe(fn: () => void): void {
  setImmediate(fn);
}

/** The codec's OPEN as the FSM sees it. */
export function fsmOpen(m: OpenMessage): FsmOpen {
  const sum = summarizeCapabilities(m.capabilities);
  const caps: Capabilities = {};
  if (m.capabilities.some((c) => c.kind === 'multiprotocol')) caps.multiprotocol = sum.families;
  if (sum.fourOctetAs !== undefined) caps.fourOctetAs = sum.fourOctetAs;
  if (sum.routeRefresh) caps.routeRefresh = true;
  if (sum.enhancedRouteRefresh) caps.enhancedRouteRefresh = true;
  if (sum.extendedMessage) caps.extendedMessage = true;
  if (sum.gracefulRestart) caps.gracefulRestart = sum.gracefulRestart;
  return { version: m.version, myAs: m.myAs, holdTime: m.holdTime, bgpId: m.routerId, capabilities: caps };
}

/** The FSM's OPEN as the codec encodes it (4-octet AS capability always sent, RFC 6793 §3). */
export function wireOpen(o: FsmOpen, config: FsmConfig): { myAs: number; holdTime: number; routerId: string; capabilities: Capability[] } {
  const caps: Capability[] = [];
  const c = o.capabilities;
  for (const f of c.multiprotocol ?? []) {
    caps.push({ kind: 'multiprotocol', afi: f === 'ipv4' ? AFI.IPV4 : AFI.IPV6, safi: SAFI.UNICAST });
  }
  if (c.routeRefresh) caps.push({ kind: 'route-refresh' });
  if (c.enhancedRouteRefresh) caps.push({ kind: 'enhanced-route-refresh' });
  if (c.extendedMessage) caps.push({ kind: 'extended-message' });
  if (c.gracefulRestart) {
    const gr = c.gracefulRestart;
    caps.push({
      kind: 'graceful-restart',
      restarting: gr.restarting,
      notification: gr.notification,
      restartTime: gr.restartTime,
      families: gr.families.map((f) => ({ afi: f.family === 'ipv4' ? AFI.IPV4 : AFI.IPV6, safi: SAFI.UNICAST, forwardingPreserved: f.forwardingPreserved })),
    });
  }
  caps.push({ kind: 'four-octet-as', asn: c.fourOctetAs ?? config.localAs });
  return { myAs: config.localAs, holdTime: o.holdTime, routerId: o.bgpId, capabilities: caps };
}
