/**
 * tortie's BGP speaker in a child process inside a network namespace, driven from the test
 * process (see tortie-driver.ts for why and for the protocol).
 *
 *   const t = await startTortie(ns, { speaker: { routerId, asNumber, listen: { address: '::', port: 179 } },
 *                                     peers: [...], originated: [...] });
 *   await t.status(); await t.routes(); await t.refresh('10.0.0.2', 'ipv4');
 *   const mark = await t.seq(); ...; await t.wire(mark);   // messages on the wire since the mark
 *   await t.restart({ graceful: true });                   // close({graceful}) + new Speaker, same config
 *   await t.stop();
 *
 * The child is started with spawnTracked (netns.ts), so cleanupAll / the exit guard / the watchdog
 * kill it by PID like the daemons; it also exits by itself when the control connection closes.
 */
import net from 'node:net';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OriginatedRoute, PeerSpec, PeerStatus, RouteEntry, SpeakerOptions } from '../../src/bgp/speaker.js';
import type { Family } from '../../src/bgp/types.js';
import { makeTempDir, removeTempDir, spawnTracked, waitFor, type Netns, type TrackedProcess } from './netns.js';
import type { EventRecord, WireRecord } from './tortie-driver.js';

export type { EventRecord, WireRecord } from './tortie-driver.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const DRIVER = join(HERE, 'tortie-driver.ts');
const REPO = resolve(HERE, '..', '..');

export interface TortieConfig {
  speaker: Omit<SpeakerOptions, 'deps'>;
  peers: PeerSpec[];
  originated: OriginatedRoute[];
}

export interface BestEventRecord extends EventRecord {
  event: 'best';
  data: { family: Family; prefix: string; kind: 'added' | 'changed' | 'withdrawn'; nextHop?: string; from?: string };
}

export class TortieProc {
  private nextId = 1;
  private pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; method: string }>();
  private buf = '';
  private closed = false;

  constructor(
    readonly proc: TrackedProcess,
    private readonly conn: net.Socket,
    readonly dir: string,
    readonly netns: Netns,
  ) {
    conn.setEncoding('utf8');
    conn.on('data', (d: string) => this.onData(d));
    conn.on('close', () => {
      this.closed = true;
      for (const p of this.pending.values()) p.reject(new Error(`tortie driver gone during ${p.method}: ${this.logTail()}`));
      this.pending.clear();
    });
    conn.on('error', () => {
      /* 'close' follows */
    });
  }

  get pid(): number {
    return this.proc.pid;
  }

  log(): string {
    try {
      return readFileSync(join(this.dir, 'tortie.log'), 'utf8');
    } catch {
      return '';
    }
  }

  logTail(lines = 20): string {
    return this.log().trim().split('\n').slice(-lines).join('\n');
  }

  private onData(d: string): void {
    this.buf += d;
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      const m = JSON.parse(line) as { id: number; result?: unknown; error?: string };
      const p = this.pending.get(m.id);
      if (!p) continue;
      this.pending.delete(m.id);
      if (m.error !== undefined) p.reject(new Error(`tortie ${p.method}: ${m.error}`));
      else p.resolve(m.result);
    }
  }

  call<T>(method: string, params: unknown = {}): Promise<T> {
    if (this.closed) return Promise.reject(new Error(`tortie driver gone (${method}): ${this.logTail()}`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, method });
      this.conn.write(JSON.stringify({ id, method, params }) + '\n');
    });
  }

  setPeers(peers: PeerSpec[]): Promise<null> {
    return this.call('setPeers', peers);
  }
  setOriginated(routes: OriginatedRoute[]): Promise<null> {
    return this.call('setOriginated', routes);
  }
  status(): Promise<PeerStatus[]> {
    return this.call('status');
  }
  routes(prefix?: string): Promise<RouteEntry[]> {
    return this.call('routes', prefix === undefined ? {} : { prefix });
  }
  refresh(address: string, family?: Family): Promise<Family[]> {
    return this.call('refresh', { address, family });
  }
  /** The speaker's close(); the driver keeps running (restart() brings a new speaker). */
  close(opts: { graceful?: boolean } = {}): Promise<null> {
    return this.call('close', opts);
  }
  /** close({graceful}) and a new Speaker with the same (latest) config, optionally other originated routes. */
  restart(opts: { graceful?: boolean; originated?: OriginatedRoute[] } = {}): Promise<number | null> {
    return this.call('restart', opts);
  }
  /** Current sequence number (events and wire records share it): a mark for `events`/`wire`. */
  seq(): Promise<number> {
    return this.call('seq');
  }
  events(since = 0): Promise<EventRecord[]> {
    return this.call('events', { since });
  }
  async bestEvents(since = 0): Promise<BestEventRecord[]> {
    return (await this.events(since)).filter((e): e is BestEventRecord => e.event === 'best');
  }
  wire(since = 0): Promise<WireRecord[]> {
    return this.call('wire', { since });
  }

  /** Asks the driver to exit (Cease to the peers), then makes sure the process is gone. */
  async stop(): Promise<void> {
    if (this.proc.running()) {
      await this.call('exit').catch(() => undefined);
      const timer = setTimeout(() => this.proc.kill('SIGKILL'), 3000);
      await this.proc.exited;
      clearTimeout(timer);
    }
    this.conn.destroy();
    if (!process.env.TORTIE_KEEP_DAEMON_DIRS) removeTempDir(this.dir);
  }
}

/** Starts tortie's speaker in `ns` with `config`. Resolves once it listens and has its peers. */
export async function startTortie(ns: Netns, config: TortieConfig): Promise<TortieProc> {
  const dir = makeTempDir('tortie');
  const sock = join(dir, 'ctl.sock');
  const proc = spawnTracked([process.execPath, '--import', 'tsx', DRIVER, sock], { netns: ns, logFile: join(dir, 'tortie.log'), cwd: REPO });
  const logTail = () => {
    try {
      return readFileSync(join(dir, 'tortie.log'), 'utf8').trim().split('\n').slice(-20).join('\n');
    } catch {
      return '';
    }
  };
  try {
    // The socket file appears at bind(), a moment before listen(): until then connecting is refused.
    let exited = false;
    const conn = await waitFor(
      async () => {
        if (!proc.running()) {
          exited = true;
          throw new Error(`tortie driver exited: ${logTail()}`);
        }
        if (!existsSync(sock)) return undefined;
        return new Promise<net.Socket | undefined>((res) => {
          const c = net.connect(sock, () => res(c));
          c.once('error', () => res(undefined));
        });
      },
      15_000,
      { what: 'tortie driver control socket', intervalMs: 25 },
    ).catch((e: Error) => {
      throw exited ? new Error(`tortie driver exited: ${logTail()}`) : e;
    });
    const t = new TortieProc(proc, conn, dir, ns);
    await t.call('start', config);
    return t;
  } catch (e) {
    await proc.stop('SIGKILL', 1000);
    throw e;
  }
}
