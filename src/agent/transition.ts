/**
 * Make-before-break for peerings. Calico hands BIRD a new config and BIRD drops the sessions a
 * change removes at once, so a host that becomes a reflector, or a mesh turned off after the
 * reflector peerings exist, loses traffic for the seconds the replacement sessions need. Here a
 * removed peer LINGERS (stays configured) while a peer added by the same change — or by one
 * shortly before or after it — is still coming up: only once every such new peer is Established
 * and has sent End-of-RIB for its families (its routes are in) are the lingering peers closed.
 * The wait is bounded (`maxWaitMs`), and a removal with no addition in sight waits only
 * `graceMs` for one to arrive ("one shortly after it"), so a plain de-configuration still takes
 * effect promptly.
 *
 * Pure state machine: the caller passes the clock and each peer's progress; it re-runs `update`
 * when the datastore changes and on a timer while anything is pending (`recheckMs`).
 */
import type { PlannedPeer } from '../routing/types.js';

export interface PeerProgress {
  established: boolean;
  /** End-of-RIB received for every negotiated family. */
  routesIn: boolean;
}

export interface TransitionResult {
  /** What the speaker should be configured with now. */
  peers: PlannedPeer[];
  /** Keys of removed peers kept for now. */
  lingering: string[];
  /** Keys of new peers being waited for. */
  waitingFor: string[];
  /** Re-run `update` after this many ms (undefined: nothing pending). */
  recheckMs?: number;
}

export const peerKeyOf = (p: Pick<PlannedPeer, 'address' | 'port'>): string => `${p.address}|${p.port ?? 179}`;

interface Fresh {
  since: number;
  /** Progress is only read from the next update on: until the speaker has the new spec, a changed peer's status is its old session's. */
  seen: boolean;
}
interface Linger {
  peer: PlannedPeer;
  since: number;
  /** A new peer was pending while this one lingered: it goes as soon as none is. */
  waited: boolean;
}

export class PeerTransition {
  private applied = new Map<string, PlannedPeer>();
  private readonly fresh = new Map<string, Fresh>();
  private readonly lingering = new Map<string, Linger>();
  private started = false;

  constructor(
    private readonly opts: { now: () => number; maxWaitMs?: number; graceMs?: number; pollMs?: number } = { now: Date.now },
  ) {}

  private get maxWait(): number {
    return this.opts.maxWaitMs ?? 10_000;
  }
  private get grace(): number {
    return this.opts.graceMs ?? 1_000;
  }

  update(desired: readonly PlannedPeer[], progress: (key: string) => PeerProgress | undefined): TransitionResult {
    const now = this.opts.now();
    const want = new Map(desired.map((p) => [peerKeyOf(p), p]));
    // The first configuration has nothing to protect: no lingering, no waiting.
    const first = !this.started;
    this.started = true;
    for (const [k, p] of want) {
      const before = this.applied.get(k) ?? this.lingering.get(k)?.peer;
      this.lingering.delete(k);
      if (!first && (!before || JSON.stringify(before) !== JSON.stringify(p))) this.fresh.set(k, { since: now, seen: false });
    }
    for (const [k, p] of this.applied) if (!want.has(k) && !first) this.lingering.set(k, { peer: p, since: now, waited: false });
    for (const k of this.fresh.keys()) if (!want.has(k)) this.fresh.delete(k);
    this.applied = want;

    // New peers are done when their routes are in, or when we stop waiting for them.
    for (const [k, f] of this.fresh) {
      if (!f.seen) {
        f.seen = true;
        continue;
      }
      const pr = progress(k);
      if ((pr?.established && pr.routesIn) || now - f.since >= this.maxWait) this.fresh.delete(k);
    }
    // Lingering peers go when nothing new is pending and their grace for late additions is over.
    for (const [k, l] of this.lingering) {
      if (this.fresh.size > 0) l.waited = true;
      if (this.fresh.size === 0 && (l.waited || now - l.since >= this.grace)) this.lingering.delete(k);
      else if (now - l.since >= this.maxWait) this.lingering.delete(k);
    }
    const peers = [...want.values(), ...[...this.lingering.values()].map((l) => l.peer)];
    const res: TransitionResult = { peers, lingering: [...this.lingering.keys()], waitingFor: [...this.fresh.keys()] };
    if (this.lingering.size || this.fresh.size) res.recheckMs = this.opts.pollMs ?? 100;
    return res;
  }
}
