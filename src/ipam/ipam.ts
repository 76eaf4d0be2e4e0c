/**
 * IPAM: pools → blocks → addresses (libcalico-go `lib/ipam`, calico-compat.md §4), on any
 * datastore backend. The algorithms live here; `block.ts` changes one block in memory and
 * `store.ts` reads and writes with compare-and-swap.
 *
 * Never a duplicate address: an address is handed out only by a successful CAS write of its
 * block, and every write is retried on conflict from a fresh read (at most `retries` times,
 * then "Max retries hit - excessive concurrent IPAM requests"). An assignment writes the block
 * and its handle's count in one transaction (Calico writes the handle first, then the block,
 * and a process killed in between leaves a count without addresses), so a failure at any point
 * leaves nothing behind. Releases write the block, then count the handle down (a release killed
 * in between leaves a handle count that `ipam check` reports, as in Calico).
 *
 * Differences from Calico, on purpose:
 *  - the walk over a pool's blocks starts where a host-seeded splitmix32 says, not Go's
 *    math/rand (same property: one host keeps to one region, hosts spread out);
 *  - conflicts back off for a random 0–2^n ms (capped at 20 ms) before the re-read, so eight
 *    processes on one block make progress without burning their retries;
 *  - the handle is counted by the addresses actually taken, not the number asked for.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { IP, Prefix } from '../net/index.js';
import type { Client } from '../datastore/client.js';
import { isDatastoreError, NotFoundError } from '../datastore/errors.js';
import { IPAM_CONFIG_KEY, resourceKey, resourcePrefix } from '../datastore/keys.js';
import type { ReadReq } from '../datastore/kv.js';
import type { Resource } from '../api/meta.js';
import { AllocationBlock, AddressInUseError, NO_RESERVATIONS, type AddressFilter, type AllocationAttribute } from './block.js';
import { getIPAMConfig, ipamConfigOf, type IPAMConfig } from './config.js';
import { blockForIP, blockWalk, poolForIP, poolFromResource, poolSelectsNode, Reservations, type AllowedUse, type Pool } from './pools.js';
import { IpamStore, affinityKey, affinityPrefix, affinityString, blockKey, checkKeySegment, handleKey, type Affinity, type Handle, type Owner, type Versioned } from './store.js';

export const DEFAULT_MAX_BLOCKS_PER_HOST = 20;
/** libcalico-go `datastoreRetries`. */
export const DATASTORE_RETRIES = 100;
/** An empty block of another host may be taken over once its claim is this old. */
export const EMPTY_BLOCK_MIN_RECLAIM_AGE_MS = 60_000;

export type IpamErrorCode =
  | 'NO_POOLS'
  | 'NO_QUALIFIED_POOL'
  | 'BLOCK_LIMIT'
  | 'MAX_RETRIES'
  | 'NOT_IN_POOL'
  | 'ADDRESS_IN_USE'
  | 'AFFINITY_MISMATCH'
  | 'NOT_ALLOWED_USE'
  | 'INVALID_ARGUMENT';

export class IpamError extends Error {
  constructor(
    readonly code: IpamErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const MAX_RETRIES_MESSAGE = 'Max retries hit - excessive concurrent IPAM requests';

export interface AutoAssignArgs {
  num4?: number;
  num6?: number;
  handle?: string;
  attrs?: Record<string, string>;
  /** The host the addresses are for (its Node must exist, unless `use` is LoadBalancer). */
  hostname: string;
  use?: AllowedUse;
  /** Restrict to these pools (names or CIDRs); Manual pools are used only when named here. */
  pools4?: string[];
  pools6?: string[];
  /** Per-request block limit (the stricter of it and maxBlocksPerHost wins). */
  maxBlocksPerHost?: number;
}

/** One family's outcome (libcalico-go `IPAMAssignments`). */
export interface Assignments {
  /** Each address with its block's mask, as Calico returns them (`10.0.0.5/26`). */
  ips: { ip: IP; block: Prefix }[];
  version: 4 | 6;
  requested: number;
  msgs: string[];
  /** Why fewer than requested were assigned when it was not simply a lack of addresses. */
  error?: IpamError;
}

export function partialFulfillmentMessage(a: Assignments): string | undefined {
  if (a.ips.length >= a.requested) return undefined;
  return [`Assigned ${a.ips.length} out of ${a.requested} requested IPv${a.version} addresses`, ...a.msgs].join('; ');
}

export interface ReleaseItem {
  ip: IP;
  /** Only if the address still belongs to this handle. */
  handle?: string;
  /** Only if it is still the allocation made under this block sequence number. */
  sequenceNumber?: string;
}

export interface IpamOptions {
  now?: () => Date;
  retries?: number;
  /** Back-off after a conflict; tests pass a no-op. */
  backoff?: (attempt: number) => Promise<void>;
}

/** An owner's affinities of one family and the blocks already read for them, by CIDR. */
interface Prefetched {
  affs: Versioned<Affinity>[];
  blocks: Map<string, Versioned<AllocationBlock> | undefined>;
  hint: string | undefined;
}

/** What one request reads before it starts (all at once). */
interface Context {
  config: IPAMConfig;
  pools: Pool[];
  reservations: Reservations;
}

function isConflict(e: unknown): boolean {
  return isDatastoreError(e, 'UPDATE_CONFLICT') || isDatastoreError(e, 'ALREADY_EXISTS') || isDatastoreError(e, 'NOT_FOUND');
}

class BlockClaimConflict extends Error {}
class StaleAffinity extends Error {}

export class Ipam {
  readonly store: IpamStore;
  private readonly now: () => Date;
  private readonly retries: number;
  private readonly backoff: (attempt: number) => Promise<void>;
  /** Per owner and family, the block this instance last assigned from. */
  private readonly hints = new Map<string, Prefix>();

  constructor(
    readonly client: Client,
    opts: IpamOptions = {},
  ) {
    this.store = new IpamStore(client.kv);
    this.now = opts.now ?? (() => new Date());
    this.retries = opts.retries ?? DATASTORE_RETRIES;
    this.backoff = opts.backoff ?? ((n) => sleep(Math.random() * Math.min(20, 2 ** Math.min(n, 5))));
  }

  // --- reading the resources IPAM depends on -------------------------------------------------

  async pools(): Promise<Pool[]> {
    return (await this.client.store.list('IPPool')).items.map(poolFromResource);
  }

  async reservations(): Promise<Reservations> {
    return Reservations.fromResources((await this.client.store.list('IPReservation')).items);
  }

  config(): Promise<IPAMConfig> {
    return getIPAMConfig(this.client);
  }

  // --- automatic assignment ------------------------------------------------------------------

  /** Assigns `num4` IPv4 and `num6` IPv6 addresses to `hostname` (libcalico-go `AutoAssign`). */
  async autoAssign(args: AutoAssignArgs): Promise<{ v4: Assignments; v6: Assignments }> {
    const num4 = args.num4 ?? 0;
    const num6 = args.num6 ?? 0;
    for (const [n, what] of [
      [num4, 'num4'],
      [num6, 'num6'],
    ] as const) {
      if (!Number.isInteger(n) || n < 0) throw new IpamError('INVALID_ARGUMENT', `${what} must be a non-negative integer, got ${n}`);
    }
    if (args.handle !== undefined) checkKeySegment('handle', args.handle);
    checkKeySegment('hostname', args.hostname);
    const use = args.use ?? 'Workload';
    const owner: Owner = use === 'LoadBalancer' ? { type: 'virtual', name: 'load-balancer' } : { type: 'host', name: args.hostname };
    // Everything the request needs to read up front, in one round trip: the resources, this
    // owner's affinities and the block it last assigned from (if this process did).
    const families = ([4, 6] as const).filter((v) => (v === 4 ? num4 : num6) > 0);
    const hints = families.map((v) => this.hints.get(`${affinityString(owner)}/${v}`));
    const reqs: ReadReq[] = [{ prefix: resourcePrefix('IPPool') }, { prefix: resourcePrefix('IPReservation') }, { key: IPAM_CONFIG_KEY }, { key: resourceKey('Node', args.hostname) }];
    families.forEach((v, i) => {
      reqs.push({ prefix: affinityPrefix(owner, v) });
      const hint = hints[i];
      if (hint) reqs.push({ key: blockKey(hint) });
    });
    const { results } = await this.client.kv.readMany(reqs);
    const store = this.client.store;
    const ctx: Context = {
      pools: store.fromPairs('IPPool', results[0]!).map(poolFromResource),
      reservations: Reservations.fromResources(store.fromPairs('IPReservation', results[1]!)),
      config: ipamConfigOf(store.fromPairs('IPAMConfiguration', results[2]!)[0]),
    };
    let labels: Record<string, string> = {};
    if (use !== 'LoadBalancer') {
      const node = store.fromPairs('Node', results[3]!)[0];
      if (!node) throw new NotFoundError(`Node(${args.hostname})`);
      labels = { ...(node.metadata.labels ?? {}) };
    }
    let at = 4;
    const pre = families.map((v, i): Prefetched => {
      const affs = this.store.affinitiesFrom(results[at++]!, v);
      const hinted = hints[i] ? results[at++]![0] : undefined;
      const b = hinted ? this.store.blockFromPair(hinted) : undefined;
      return { affs, blocks: new Map(b ? [[b.value.cidr, b]] : []), hint: hints[i]?.toString() };
    });
    const prefetched = (v: 4 | 6): Prefetched => pre[families.indexOf(v)]!;
    const v4 = num4 > 0 ? await this.autoAssignFamily(ctx, labels, owner, 4, num4, args, use, prefetched(4)) : empty(4);
    const v6 = num6 > 0 ? await this.autoAssignFamily(ctx, labels, owner, 6, num6, args, use, prefetched(6)) : empty(6);
    return { v4, v6 };
  }

  private async autoAssignFamily(ctx: Context, labels: Record<string, string>, owner: Owner, version: 4 | 6, num: number, args: AutoAssignArgs, use: AllowedUse, pre: Prefetched): Promise<Assignments> {
    const { config, reservations } = ctx;
    const requested = version === 4 ? args.pools4 : args.pools6;
    const ofVersion = ctx.pools.filter((p) => p.cidr.version === version);
    const chosen = requested?.length ? ofVersion.filter((p) => requested.includes(p.name) || requested.includes(p.cidr.toString())) : ofVersion.filter((p) => p.assignmentMode === 'Automatic');
    if (requested?.length) {
      for (const r of requested) {
        if (!ofVersion.some((p) => p.name === r || p.cidr.toString() === r)) throw new IpamError('NO_POOLS', `the requested IP pool ${r} does not exist`);
      }
    }
    const selecting = chosen.filter((p) => !p.disabled && poolSelectsNode(p, labels));
    if (selecting.length === 0) throw new IpamError('NO_POOLS', `no configured Calico pools for node ${owner.name}`);
    const pools = selecting.filter((p) => p.allowedUses.includes(use));
    if (pools.length === 0) throw new IpamError('NO_QUALIFIED_POOL', `cannot find a qualified ippool, no pools match the required use (${use})`);

    // This host's blocks: those of usable pools first; empty ones of pools that no longer
    // select the host are given up.
    const affs = pre.affs;
    const remaining: Versioned<Affinity>[] = [];
    for (const a of affs) {
      const c = a.value.cidr;
      if (pools.some((p) => p.cidr.containsPrefix(c))) {
        remaining.push(a);
        continue;
      }
      // As Calico: only an enabled pool that no longer selects this host loses its empty blocks
      // here (a deleted pool's blocks went when it was deleted; a disabled pool keeps them).
      const pool = ctx.pools.find((p) => !p.disabled && p.cidr.containsPrefix(c));
      if (!pool || poolSelectsNode(pool, labels)) continue;
      await this.releaseBlockAffinityRetrying(owner, c, true);
    }

    let maxBlocks = args.maxBlocksPerHost ?? 0;
    if (config.maxBlocksPerHost > 0 && (maxBlocks === 0 || maxBlocks > config.maxBlocksPerHost)) maxBlocks = config.maxBlocksPerHost;
    if (maxBlocks === 0) maxBlocks = DEFAULT_MAX_BLOCKS_PER_HOST;

    const out: Assignments = { ips: [], version, requested: num, msgs: [] };
    const addMsg = (m: string): void => {
      if (!out.msgs.includes(m)) out.msgs.push(m);
    };
    let owned = remaining.length;
    // The block this process last used goes first: most of the time it still has room.
    const hinted = remaining.findIndex((a) => a.value.cidr.toString() === pre.hint);
    if (hinted > 0) remaining.unshift(...remaining.splice(hinted, 1));

    // Every turn either takes an address or uses up a candidate block; the bound only guards
    // against a datastore that keeps changing under us.
    for (let turn = 0; out.ips.length < num; turn++) {
      if (turn > this.retries * 4) {
        out.error = new IpamError('MAX_RETRIES', MAX_RETRIES_MESSAGE);
        return out;
      }
      let found: Found;
      try {
        found = await this.findOrClaimBlock(config, owner, pools, remaining, reservations, owned < maxBlocks, pre.blocks);
      } catch (e) {
        if (e instanceof NoFreeBlocks) {
          if (config.strictAffinity) addMsg('No more free affine blocks and strict affinity enabled');
          break;
        }
        if (e instanceof BlockLimit) {
          addMsg(`Need to allocate an IPAM block but could not - limit of ${maxBlocks} blocks reached for this node`);
          out.error = new IpamError('BLOCK_LIMIT', 'cannot allocate new block due to per host block limit');
          return out;
        }
        if (e instanceof IpamError) {
          out.error = e;
          return out;
        }
        throw e;
      }
      let block: Versioned<AllocationBlock>;
      let got: { ip: IP; block: Prefix }[];
      try {
        if ('fresh' in found) {
          // A block nobody has: claimed and assigned from in one write.
          const r = await this.claimAndAssign(found.fresh, owner, num - out.ips.length, args.handle, args.attrs, reservations);
          if (r === 'taken') continue; // another host created it first: find another
          if (r !== 'have-affinity') {
            owned++;
            out.ips.push(...r);
            if (r.length) this.hints.set(`${affinityString(owner)}/${version}`, found.fresh);
            continue;
          }
          const b = await this.claimTwoPhase(owner, found.fresh);
          if (!b) continue;
          block = b;
          owned++;
        } else {
          block = found.block;
          if (found.newlyClaimed) owned++;
        }
        got = await this.assignFromBlock(block, num - out.ips.length, args.handle, args.attrs, owner, config.strictAffinity, reservations);
      } catch (e) {
        // What was assigned so far is the caller's to keep or release: return it with the reason.
        if (!(e instanceof IpamError)) throw e;
        addMsg(e.message);
        out.error = e;
        return out;
      }
      out.ips.push(...got);
      if (got.length) this.hints.set(`${affinityString(owner)}/${version}`, block.value.prefix);
    }

    // Borrowing: addresses from any block with room, whoever owns it.
    if (!config.strictAffinity && out.ips.length < num) {
      const exhausted: string[] = [];
      for (const p of pools) {
        let done = false;
        for (const cidr of blockWalk(p, owner.name)) {
          if (out.ips.length >= num) {
            done = true;
            break;
          }
          if (reservations.matchesWholePrefix(cidr)) continue;
          const b = await this.store.getBlock(cidr);
          if (!b || b.value.numFree(reservations) === 0) continue;
          out.ips.push(...(await this.assignFromBlock(b, num - out.ips.length, args.handle, args.attrs, owner, false, reservations)));
        }
        if (!done && out.ips.length < num) exhausted.push(p.cidr.toString());
        if (out.ips.length >= num) break;
      }
      if (exhausted.length) addMsg(`No IPs available in pools: [${exhausted.join(' ')}]`);
    }
    return out;
  }

  /**
   * The next block to assign from: one of `remaining` (this host's, popped as tried) with a free
   * address, else a newly claimed one. Throws NoFreeBlocks / BlockLimit.
   */
  private async findOrClaimBlock(config: IPAMConfig, owner: Owner, pools: Pool[], remaining: Versioned<Affinity>[], reservations: AddressFilter, allowNewClaim: boolean, blocks: Map<string, Versioned<AllocationBlock> | undefined>): Promise<Found> {
    const mine = affinityString(owner);
    while (remaining.length) {
      const listed = remaining.shift()!;
      const cidr = listed.value.cidr;
      if (reservations.matchesWholePrefix(cidr)) continue;
      // Past the first candidate, read the rest of this host's blocks at once (one round trip).
      if (!blocks.has(cidr.toString())) {
        const want = [listed, ...remaining].filter((a) => !blocks.has(a.value.cidr.toString()));
        const got = await Promise.all(want.map((a) => this.store.getBlock(a.value.cidr)));
        want.forEach((a, i) => blocks.set(a.value.cidr.toString(), got[i]));
      }
      for (let attempt = 0; attempt < this.retries; attempt++) {
        // The affinity as listed on the first try, re-read after a conflict.
        const aff = attempt === 0 ? listed : await this.store.getAffinity(owner, cidr);
        if (!aff) break;
        // A confirmed affinity and a block that agrees, as read: no need to read it again.
        const known = attempt === 0 ? blocks.get(cidr.toString()) : undefined;
        const b = known && aff.value.state === 'confirmed' && known.value.data.affinity === mine ? known : await this.attemptBlock(attempt, () => this.blockFromAffinity(aff));
        if (b === 'retry') continue;
        if (b !== 'give-up' && b.value.numFree(reservations) >= 1) return { block: b, newlyClaimed: false };
        break;
      }
    }
    if (!allowNewClaim) throw new BlockLimit();
    if (!config.autoAllocateBlocks) throw new NoFreeBlocks();
    for (let attempt = 0; attempt < this.retries; attempt++) {
      const { cidr, exists } = await this.findUsableBlock(owner, pools, reservations);
      if (!exists) return { fresh: cidr };
      const b = await this.claimTwoPhase(owner, cidr);
      if (b) return { block: b, newlyClaimed: true };
      await this.backoff(attempt);
    }
    throw new IpamError('MAX_RETRIES', MAX_RETRIES_MESSAGE);
  }

  /** One try at a block: it, 'retry' after a conflict (backed off), or 'give-up' when it is not ours to have. */
  private async attemptBlock(attempt: number, get: () => Promise<Versioned<AllocationBlock>>): Promise<Versioned<AllocationBlock> | 'retry' | 'give-up'> {
    try {
      return await get();
    } catch (e) {
      if (isConflict(e)) {
        await this.backoff(attempt);
        return 'retry';
      }
      if (e instanceof BlockClaimConflict || e instanceof StaleAffinity) return 'give-up';
      throw e;
    }
  }

  /**
   * A block CIDR to claim (libcalico-go `findUsableBlock`): the first, in this host's walk, that
   * has no block yet or is already this host's with room; else an empty block of another host
   * whose claim is at least a minute old, taken back from it.
   */
  private async findUsableBlock(owner: Owner, pools: Pool[], reservations: AddressFilter): Promise<{ cidr: Prefix; exists: boolean }> {
    const existing = new Map<string, Versioned<AllocationBlock>>();
    const versions = new Set(pools.map((p) => p.cidr.version));
    for (const v of versions) for (const b of await this.store.listBlocks(v)) existing.set(b.value.cidr, b);
    const mine = affinityString(owner);
    const emptyOthers: Versioned<AllocationBlock>[] = [];
    for (const p of pools) {
      for (const cidr of blockWalk(p, owner.name)) {
        if (reservations.matchesWholePrefix(cidr)) continue;
        const b = existing.get(cidr.toString());
        if (!b) return { cidr, exists: false };
        const free = b.value.numFree(reservations);
        if (b.value.data.affinity === mine && free > 0) return { cidr, exists: true };
        if (b.value.isEmpty() && free > 0) emptyOthers.push(b);
      }
    }
    const now = this.now().getTime();
    for (const b of emptyOthers) {
      const claimed = b.value.claimTime()?.getTime() ?? 0;
      if (now - claimed < EMPTY_BLOCK_MIN_RECLAIM_AGE_MS) continue;
      const host = b.value.host();
      const type = b.value.affinityType();
      try {
        if (host && type) await this.releaseBlockAffinity({ type, name: host }, b.value.prefix, { requireEmpty: true, sequenceNumber: b.value.data.sequenceNumber });
        else await this.store.deleteBlock(b);
      } catch {
        continue;
      }
      return { cidr: b.value.prefix, exists: false };
    }
    throw new NoFreeBlocks();
  }

  /**
   * Claims a block nobody has created and takes up to `num` addresses of it, in one transaction:
   * our affinity (confirmed), the block with it and the addresses, and the handle's count. Calico
   * writes these one after another (affinity pending → block → affinity confirmed → block with the
   * addresses → handle), the order a store without transactions needs; with one transaction no
   * reader ever sees a claim half-done, and every watcher wakes once instead of five times.
   * 'taken' when another writer created the block first, 'have-affinity' when an affinity of ours
   * for it is there already (left by a claim that died: the two-phase path deals with it).
   */
  private async claimAndAssign(cidr: Prefix, owner: Owner, num: number, handle: string | undefined, attrs: Record<string, string> | undefined, reservations: AddressFilter): Promise<{ ip: IP; block: Prefix }[] | 'taken' | 'have-affinity'> {
    const fresh = AllocationBlock.create(cidr, { affinity: affinityString(owner), claimTime: this.now() });
    let handleNow: Versioned<Handle> | undefined;
    for (let attempt = 0; attempt < this.retries; attempt++) {
      const b = fresh.clone();
      const ords = b.autoAssign(num, handle, attrs, reservations);
      try {
        await this.store.createBlockWithAffinity(b, owner, handle !== undefined && ords.length ? { id: handle, delta: ords.length, current: handleNow } : undefined);
        return ords.map((o) => ({ ip: b.ip(o), block: b.prefix }));
      } catch (e) {
        if (!isConflict(e)) throw e;
        const id = (e as { id?: string }).id;
        if (id === blockKey(cidr)) return 'taken';
        if (id === affinityKey(owner, cidr)) return 'have-affinity';
        if (handle === undefined || id !== handleKey(handle)) throw e;
        await this.backoff(attempt);
        handleNow = await this.store.getHandle(handle);
      }
    }
    throw new IpamError('MAX_RETRIES', MAX_RETRIES_MESSAGE);
  }

  /** Calico's claim (pending affinity → block → confirmed); undefined when the block is not ours to have. */
  private async claimTwoPhase(owner: Owner, cidr: Prefix): Promise<Versioned<AllocationBlock> | undefined> {
    for (let inner = 0; inner < this.retries; inner++) {
      const b = await this.attemptBlock(inner, async () => this.blockFromAffinity(await this.pendingAffinity(owner, cidr)));
      if (b === 'retry') continue;
      if (b === 'give-up') return undefined;
      return b;
    }
    return undefined;
  }

  /** Creates our affinity as pending, or sets an existing unconfirmed one to pending. */
  private async pendingAffinity(owner: Owner, cidr: Prefix): Promise<Versioned<Affinity>> {
    try {
      return await this.store.createAffinity({ owner, cidr, state: 'pending' });
    } catch (e) {
      if (!isDatastoreError(e, 'ALREADY_EXISTS')) throw e;
    }
    const cur = await this.store.getAffinity(owner, cidr);
    if (!cur) throw new StaleAffinity('affinity vanished');
    if (cur.value.state !== 'confirmed') return this.store.updateAffinity(cur, 'pending');
    return cur;
  }

  /**
   * The block an affinity points at (libcalico-go `getBlockFromAffinity`): claims it when it does
   * not exist yet (two-phase: affinity pending → block created with our affinity → affinity
   * confirmed), removes an affinity the block does not agree with, confirms a pending one.
   */
  private async blockFromAffinity(aff: Versioned<Affinity>): Promise<Versioned<AllocationBlock>> {
    const { owner, cidr } = aff.value;
    const mine = affinityString(owner);
    let b = await this.store.getBlock(cidr);
    if (!b) {
      const pending = aff.value.state === 'pending' ? aff : await this.store.updateAffinity(aff, 'pending');
      return this.claimAffineBlock(pending);
    }
    if (b.value.data.affinity !== mine) {
      await this.store.deleteAffinity(aff);
      throw new StaleAffinity(`affinity ${mine} ${cidr.toString()} is stale`);
    }
    if (aff.value.state !== 'confirmed') {
      const pending = aff.value.state === 'pending' ? aff : await this.store.updateAffinity(aff, 'pending');
      // A write of the block fences off anyone still working from an older read of it.
      b = await this.store.updateBlock({ value: b.value.clone(), revision: b.revision });
      await this.store.updateAffinity(pending, 'confirmed');
    }
    return b;
  }

  private async claimAffineBlock(aff: Versioned<Affinity>): Promise<Versioned<AllocationBlock>> {
    const { owner, cidr } = aff.value;
    const mine = affinityString(owner);
    const now = this.now();
    const block = AllocationBlock.create(cidr, { affinity: mine, claimTime: now });
    let created: Versioned<AllocationBlock>;
    try {
      created = await this.store.createBlock(block);
    } catch (e) {
      if (!isDatastoreError(e, 'ALREADY_EXISTS')) throw e;
      const other = await this.store.getBlock(cidr);
      if (other && other.value.data.affinity === mine) {
        await this.confirmAffinity(aff);
        return other;
      }
      await this.store.deleteAffinity(aff);
      throw new BlockClaimConflict(`block ${cidr.toString()} was claimed by ${other?.value.data.affinity ?? 'someone else'}`);
    }
    await this.confirmAffinity(aff);
    return created;
  }

  private async confirmAffinity(aff: Versioned<Affinity>): Promise<void> {
    try {
      await this.store.updateAffinity(aff, 'confirmed');
    } catch (e) {
      const cur = await this.store.getAffinity(aff.value.owner, aff.value.cidr);
      if (cur?.value.state === 'confirmed') return;
      throw e;
    }
  }

  /**
   * Takes up to `num` addresses from a block with one CAS write, re-reading on conflict.
   * Returns what it took (nothing when the block turns out full or not ours).
   */
  private async assignFromBlock(start: Versioned<AllocationBlock>, num: number, handle: string | undefined, attrs: Record<string, string> | undefined, owner: Owner, affinityCheck: boolean, reservations: AddressFilter): Promise<{ ip: IP; block: Prefix }[]> {
    let cur: Versioned<AllocationBlock> | undefined = start;
    const mine = affinityString(owner);
    // The handle as last read; most handles are new (one per pod), so assume so until told otherwise.
    let handleNow: Versioned<Handle> | undefined;
    for (let attempt = 0; attempt < this.retries; attempt++) {
      if (!cur) return [];
      const b = cur.value.clone();
      if (affinityCheck && b.data.affinity !== null && b.data.affinity !== mine) return [];
      const ords = b.autoAssign(num, handle, attrs, reservations);
      if (ords.length === 0) return [];
      try {
        // The block and the handle's count change together or not at all.
        if (handle === undefined) await this.store.updateBlock({ value: b, revision: cur.revision });
        else await this.store.updateBlockAndHandle({ value: b, revision: cur.revision }, { id: handle, delta: ords.length, current: handleNow });
      } catch (e) {
        if (!isConflict(e)) throw e;
        await this.backoff(attempt);
        if (handle !== undefined && (e as { id?: string }).id === handleKey(handle)) handleNow = await this.store.getHandle(handle);
        else cur = await this.store.getBlock(b.prefix);
        continue;
      }
      return ords.map((o) => ({ ip: b.ip(o), block: b.prefix }));
    }
    throw new IpamError('MAX_RETRIES', MAX_RETRIES_MESSAGE);
  }

  // --- handles -------------------------------------------------------------------------------

  private async decrementHandle(id: string, block: Prefix, n: number): Promise<void> {
    const k = block.toString();
    for (let attempt = 0; attempt < this.retries; attempt++) {
      const cur = await this.store.getHandle(id);
      if (!cur) return;
      const left = (cur.value.block[k] ?? 0) - n;
      if (left > 0) cur.value.block[k] = left;
      else delete cur.value.block[k];
      try {
        if (Object.keys(cur.value.block).length === 0) await this.store.deleteHandle(cur);
        else await this.store.updateHandle(cur);
        return;
      } catch (e) {
        if (!isConflict(e)) throw e;
        await this.backoff(attempt);
      }
    }
    throw new IpamError('MAX_RETRIES', MAX_RETRIES_MESSAGE);
  }

  // --- one specific address ------------------------------------------------------------------

  /**
   * Assigns `ip` to `hostname` (libcalico-go `AssignIP`): the address must be in a pool; the
   * block is claimed for the host when nobody has it; with strictAffinity only the host's own
   * blocks. Reservations do not apply to an explicit request.
   */
  async assignIP(args: { ip: IP; handle?: string; attrs?: Record<string, string>; hostname: string; use?: AllowedUse }): Promise<void> {
    if (args.handle !== undefined) checkKeySegment('handle', args.handle);
    checkKeySegment('hostname', args.hostname);
    const owner: Owner = args.use === 'LoadBalancer' ? { type: 'virtual', name: 'load-balancer' } : { type: 'host', name: args.hostname };
    const [config, pools] = await Promise.all([this.config(), this.pools()]);
    const pool = poolForIP(pools, args.ip);
    if (!pool) throw new IpamError('NOT_IN_POOL', 'The provided IP address is not in a configured pool\n');
    if (args.use && !pool.allowedUses.includes(args.use)) {
      throw new IpamError('NOT_ALLOWED_USE', `IP address ${args.ip.toString()} is in IP pool "${pool.name}", which is not allowed for use "${args.use}" (allowedUses: [${pool.allowedUses.join(' ')}])`);
    }
    const cidr = blockForIP(pool, args.ip);
    const mine = affinityString(owner);
    for (let attempt = 0; attempt < this.retries; attempt++) {
      try {
        let cur = await this.store.getBlock(cidr);
        if (!cur) cur = await this.claimAffineBlock(await this.pendingAffinity(owner, cidr));
        const b = cur.value.clone();
        if (config.strictAffinity && b.data.affinity !== null && b.data.affinity !== mine) throw new IpamError('AFFINITY_MISMATCH', 'Block host affinity does not match');
        if (config.strictAffinity && b.data.affinity === null) throw new IpamError('AFFINITY_MISMATCH', `Attempt to assign from block ${cidr.toString()} with no affinity`);
        try {
          b.assign(b.ordinal(args.ip)!, args.handle, args.attrs);
        } catch (e) {
          if (e instanceof AddressInUseError) throw new IpamError('ADDRESS_IN_USE', `${e.message}: ${args.ip.toString()}`);
          throw e;
        }
        if (args.handle === undefined) await this.store.updateBlock({ value: b, revision: cur.revision });
        else await this.store.updateBlockAndHandle({ value: b, revision: cur.revision }, { id: args.handle, delta: 1, current: await this.store.getHandle(args.handle) });
        return;
      } catch (e) {
        if (!(isConflict(e) || e instanceof BlockClaimConflict || e instanceof StaleAffinity)) throw e;
        await this.backoff(attempt);
      }
    }
    throw new IpamError('MAX_RETRIES', MAX_RETRIES_MESSAGE);
  }

  // --- release -------------------------------------------------------------------------------

  /**
   * Releases addresses (libcalico-go `ReleaseIPs`), one CAS write per block. Returns the addresses
   * that were not assigned. A handle or sequence-number mismatch fails that block's release with
   * nothing changed in it.
   */
  async releaseIPs(items: ReleaseItem[]): Promise<IP[]> {
    const [pools, blocks] = await Promise.all([this.pools(), this.blockCIDRs()]);
    const byBlock = new Map<string, { cidr: Prefix; items: ReleaseItem[] }>();
    const notAssigned: IP[] = [];
    for (const it of items) {
      const pool = poolForIP(pools, it.ip);
      // Outside every pool (a deleted pool): find the block among those stored.
      const cidr = pool ? blockForIP(pool, it.ip) : blocks.find((b) => b.version === it.ip.version && b.contains(it.ip));
      if (!cidr) {
        notAssigned.push(it.ip);
        continue;
      }
      const k = cidr.toString();
      if (!byBlock.has(k)) byBlock.set(k, { cidr, items: [] });
      byBlock.get(k)!.items.push(it);
    }
    for (const { cidr, items: its } of byBlock.values()) notAssigned.push(...(await this.releaseFromBlock(cidr, its)));
    return notAssigned;
  }

  private async blockCIDRs(): Promise<Prefix[]> {
    return (await Promise.all([this.store.listBlocks(4), this.store.listBlocks(6)])).flat().map((b) => b.value.prefix);
  }

  private async releaseFromBlock(cidr: Prefix, items: ReleaseItem[]): Promise<IP[]> {
    for (let attempt = 0; attempt < this.retries; attempt++) {
      const cur = await this.store.getBlock(cidr);
      if (!cur) return items.map((i) => i.ip);
      const b = cur.value.clone();
      const { notAllocated, countByHandle } = b.release(items.map((i) => ({ ord: b.ordinal(i.ip)!, ...(i.handle !== undefined ? { handle: i.handle } : {}), ...(i.sequenceNumber !== undefined ? { sequenceNumber: i.sequenceNumber } : {}) })));
      const notIPs = notAllocated.map((o) => b.ip(o));
      if (notAllocated.length === new Set(items.map((i) => i.ip.toString())).size) return notIPs;
      if (!(await this.writeReleased(b, cur.revision, attempt))) continue;
      for (const [h, n] of countByHandle) await this.decrementHandle(h, cidr, n);
      return notIPs;
    }
    throw new IpamError('MAX_RETRIES', MAX_RETRIES_MESSAGE);
  }

  /**
   * Writes a block after a release; an empty block nobody owns is deleted instead. False (after
   * backing off) on a conflict, for the caller to re-read and retry.
   */
  private async writeReleased(b: AllocationBlock, revision: string, attempt: number): Promise<boolean> {
    try {
      if (b.isEmpty() && b.data.affinity === null) await this.store.deleteBlock({ value: b, revision });
      else await this.store.updateBlock({ value: b, revision });
      return true;
    } catch (e) {
      if (!isConflict(e)) throw e;
      await this.backoff(attempt);
      return false;
    }
  }

  /** Releases every address of a handle and the handle itself. Returns how many addresses. */
  async releaseByHandle(handle: string): Promise<number> {
    checkKeySegment('handle', handle);
    const h = await this.store.getHandle(handle);
    if (!h) return 0;
    let total = 0;
    for (const k of Object.keys(h.value.block)) {
      const cidr = Prefix.tryParse(k);
      if (!cidr) continue;
      for (let attempt = 0; ; attempt++) {
        if (attempt >= this.retries) throw new IpamError('MAX_RETRIES', MAX_RETRIES_MESSAGE);
        const cur = await this.store.getBlock(cidr);
        if (!cur) break;
        const b = cur.value.clone();
        const n = b.releaseByHandle(handle);
        if (n === 0) break;
        if (!(await this.writeReleased(b, cur.revision, attempt))) continue;
        total += n;
        break;
      }
    }
    for (let attempt = 0; attempt < this.retries; attempt++) {
      const cur = await this.store.getHandle(handle);
      if (!cur) break;
      try {
        await this.store.deleteHandle(cur);
        break;
      } catch (e) {
        if (!isConflict(e)) throw e;
        await this.backoff(attempt);
      }
    }
    return total;
  }

  /** The addresses a handle holds. */
  async ipsByHandle(handle: string): Promise<IP[]> {
    const h = await this.store.getHandle(handle);
    if (!h) return [];
    const out: IP[] = [];
    for (const k of Object.keys(h.value.block)) {
      const cidr = Prefix.tryParse(k);
      const b = cidr && (await this.store.getBlock(cidr));
      if (b) out.push(...b.value.ordinalsByHandle(handle).map((o) => b.value.ip(o)));
    }
    return out;
  }

  /** Who holds `ip`: undefined when it is not assigned (or not in any stored block). */
  async assignment(ip: IP): Promise<{ attrs: AllocationAttribute; block: AllocationBlock; ordinal: number } | undefined> {
    const pools = await this.pools();
    const pool = poolForIP(pools, ip);
    let cidr = pool ? blockForIP(pool, ip) : undefined;
    if (!cidr) cidr = (await this.blockCIDRs()).find((b) => b.version === ip.version && b.contains(ip));
    if (!cidr) return undefined;
    const b = await this.store.getBlock(cidr);
    if (!b) return undefined;
    const ord = b.value.ordinal(ip);
    if (ord === undefined) return undefined;
    const attrs = b.value.attributesOf(ord);
    return attrs ? { attrs, block: b.value, ordinal: ord } : undefined;
  }

  // --- affinities ----------------------------------------------------------------------------

  /**
   * Gives up an owner's claim on a block (libcalico-go `releaseBlockAffinity`): the block is
   * deleted when empty or left without affinity, and the affinity goes — in one transaction, with
   * CAS on both as read (Calico marks the affinity pendingDeletion first, then writes the block, then
   * deletes the affinity: three writes a store without transactions needs). `requireEmpty` refuses
   * a block with addresses in use.
   */
  async releaseBlockAffinity(owner: Owner, cidr: Prefix, opts: { requireEmpty?: boolean; sequenceNumber?: string } = {}): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const { aff, block: cur } = await this.store.getAffinityAndBlock(owner, cidr);
      if (!cur) {
        if (aff) await this.store.deleteAffinity(aff);
        return;
      }
      if (opts.sequenceNumber !== undefined && opts.sequenceNumber !== cur.value.data.sequenceNumber) throw new BlockChanged();
      if (cur.value.data.affinity !== null && cur.value.data.affinity !== affinityString(owner)) {
        if (aff) await this.store.deleteAffinity(aff);
        throw new BlockClaimConflict(`block ${cidr.toString()} belongs to ${cur.value.data.affinity}`);
      }
      if (opts.requireEmpty && !cur.value.isEmpty()) throw new BlockNotEmpty();
      let kept: AllocationBlock | undefined;
      if (!cur.value.isEmpty()) {
        kept = cur.value.clone();
        kept.data.affinity = null;
        delete kept.data.affinity_claim_time;
      }
      try {
        await this.store.releaseBlockAndAffinity({ key: cidr, value: kept, revision: cur.revision }, aff);
        return;
      } catch (e) {
        // The affinity went meanwhile (another release): read again, the block alone is left to do.
        if (aff && attempt < this.retries && isDatastoreError(e, 'NOT_FOUND') && (e as { id?: string }).id === affinityKey(owner, cidr)) continue;
        throw e;
      }
    }
  }

  private async releaseBlockAffinityRetrying(owner: Owner, cidr: Prefix, requireEmpty: boolean): Promise<void> {
    for (let attempt = 0; attempt < this.retries; attempt++) {
      try {
        await this.releaseBlockAffinity(owner, cidr, { requireEmpty });
        return;
      } catch (e) {
        if (e instanceof BlockClaimConflict || e instanceof BlockNotEmpty) return;
        if (!isConflict(e)) throw e;
        await this.backoff(attempt);
      }
    }
    throw new IpamError('MAX_RETRIES', MAX_RETRIES_MESSAGE);
  }

  /**
   * A pool is going (libcalico-go `ReleasePoolAffinities`): every block of it gives up its owner;
   * empty blocks are deleted, blocks with addresses in use stay, ownerless, until released.
   */
  async releasePoolAffinities(pool: Prefix): Promise<void> {
    for (let round = 0; round < this.retries; round++) {
      const blocks = (await this.store.listBlocks(pool.version)).filter((b) => pool.containsPrefix(b.value.prefix) && b.value.data.affinity !== null);
      if (blocks.length === 0) return;
      let again = false;
      for (const b of blocks) {
        const type = b.value.affinityType();
        const name = b.value.host();
        if (!type) continue;
        for (let attempt = 0; attempt < this.retries; attempt++) {
          try {
            await this.releaseBlockAffinity({ type, name }, b.value.prefix);
            break;
          } catch (e) {
            if (e instanceof BlockClaimConflict) {
              again = true;
              break;
            }
            if (!isConflict(e)) throw e;
            await this.backoff(attempt);
          }
        }
      }
      if (!again) return;
    }
    throw new IpamError('MAX_RETRIES', MAX_RETRIES_MESSAGE);
  }

  /** Releases every block claim of an owner (`ReleaseHostAffinities`); with `mustBeEmpty`, only empty blocks. */
  async releaseHostAffinities(owner: Owner, mustBeEmpty: boolean): Promise<void> {
    for (const a of await this.store.listAffinities(owner)) {
      await this.releaseBlockAffinityRetrying(owner, a.value.cidr, mustBeEmpty);
    }
  }
}

/** What findOrClaimBlock found: a block to assign from, or a CIDR nobody has (claimed together with the assignment). */
type Found = { block: Versioned<AllocationBlock>; newlyClaimed: boolean } | { fresh: Prefix };

class NoFreeBlocks extends Error {}
class BlockLimit extends Error {}
class BlockNotEmpty extends Error {}
class BlockChanged extends Error {}

function empty(version: 4 | 6): Assignments {
  return { ips: [], version, requested: 0, msgs: [] };
}

export { NO_RESERVATIONS };
