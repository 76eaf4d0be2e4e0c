/**
 * IPAM's storage: blocks, block affinities and handles under Calico's etcd keys
 * (calico-compat.md §4.1), read and written with compare-and-swap on the key's revision.
 *
 *   /calico/ipam/v2/assignment/ipv4/block/10.244.1.0-26       block (block.ts)
 *   /calico/ipam/v2/host/<node>/ipv4/block/10.244.1.0-26     {"state":"confirmed","deleted":false}
 *   /calico/ipam/v2/virtual/<name>/ipv4/block/…               the same, for virtual owners
 *   /calico/ipam/v2/handle/<handle>                           {"block":{"10.244.1.0/26":2},"deleted":false}
 *
 * Every value read comes with its revision; writes pass it back, so a concurrent writer makes
 * them fail with UpdateConflictError (or AlreadyExistsError for creates) and the caller re-reads.
 * This file decides nothing: `ipam.ts` holds the algorithms.
 */
import { Prefix } from '../net/index.js';
import { isDatastoreError } from '../datastore/errors.js';
import type { KVBackend, KVPair, TxnOp } from '../datastore/kv.js';
import { AllocationBlock, BlockFormatError, decodeBlock, encodeBlock } from './block.js';

export const IPAM_ROOT = '/calico/ipam/v2/';
/** Where every affinity lives: host affinities, and virtual ones (load-balancer addresses). */
export const AFFINITY_PREFIXES: readonly string[] = [`${IPAM_ROOT}host/`, `${IPAM_ROOT}virtual/`];

export interface Versioned<T> {
  value: T;
  revision: string;
}

export type AffinityState = 'pending' | 'confirmed' | 'pendingDeletion';
export type AffinityType = 'host' | 'virtual';

/** Who a block belongs to: a host, or a virtual owner (`load-balancer`). */
export interface Owner {
  type: AffinityType;
  name: string;
}

export interface Affinity {
  owner: Owner;
  cidr: Prefix;
  state: AffinityState;
}

export interface Handle {
  id: string;
  /** Addresses held per block CIDR. */
  block: Record<string, number>;
}

/** `10.244.1.0/26` → `10.244.1.0-26` (Calico's key form). */
export function cidrKeyPart(p: Prefix): string {
  return p.toString().replace('/', '-');
}

export function blockKey(p: Prefix): string {
  return `${IPAM_ROOT}assignment/ipv${p.version}/block/${cidrKeyPart(p)}`;
}

export function blockPrefix(version?: 4 | 6): string {
  return version ? `${IPAM_ROOT}assignment/ipv${version}/block/` : `${IPAM_ROOT}assignment/`;
}

export function affinityKey(owner: Owner, p: Prefix): string {
  return `${IPAM_ROOT}${owner.type}/${owner.name}/ipv${p.version}/block/${cidrKeyPart(p)}`;
}

/** Where one owner's affinities (of one family) are. */
export function affinityPrefix(owner: Owner, version?: 4 | 6): string {
  return `${IPAM_ROOT}${owner.type}/${owner.name}/${version ? `ipv${version}/` : ''}`;
}

export function handleKey(id: string): string {
  return `${IPAM_ROOT}handle/${id}`;
}

export function affinityString(owner: Owner): string {
  return `${owner.type}:${owner.name}`;
}

/** A name that can be a key segment: a host name or handle id must not contain '/'. */
export function checkKeySegment(what: string, s: string): void {
  if (s === '' || s.includes('/')) throw new RangeError(`invalid ${what} ${JSON.stringify(s)}: must be non-empty and contain no '/'`);
}

const AFFINITY_KEY = /^\/calico\/ipam\/v2\/(host|virtual)\/([^/]+)\/ipv([46])\/block\/([^/]+)$/;

export function parseAffinityKey(key: string): { owner: Owner; cidr: Prefix } | undefined {
  const m = AFFINITY_KEY.exec(key);
  if (!m) return undefined;
  const cidr = Prefix.tryParse(m[4]!.replace(/-(\d+)$/, '/$1'));
  if (!cidr) return undefined;
  return { owner: { type: m[1] as AffinityType, name: m[2]! }, cidr };
}

function decodeAffinity(pair: KVPair): Affinity {
  const k = parseAffinityKey(pair.key);
  if (!k) throw new BlockFormatError(`not a block affinity key: ${pair.key}`);
  // An empty value is a legacy confirmed affinity.
  if (pair.value.trim() === '') return { ...k, state: 'confirmed' };
  let o: unknown;
  try {
    o = JSON.parse(pair.value);
  } catch {
    throw new BlockFormatError(`block affinity ${pair.key} is not JSON`);
  }
  const st = (o as { state?: unknown } | null)?.state;
  if (st !== undefined && st !== '' && st !== 'pending' && st !== 'confirmed' && st !== 'pendingDeletion') {
    throw new BlockFormatError(`block affinity ${pair.key} has an unknown state ${JSON.stringify(st)}`);
  }
  return { ...k, state: st === undefined || st === '' ? 'confirmed' : st };
}

function encodeAffinity(a: Affinity): string {
  return JSON.stringify({ state: a.state, deleted: false });
}

function decodeHandle(id: string, text: string): Handle {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch {
    throw new BlockFormatError(`handle ${id} is not JSON`);
  }
  const b = (o as { block?: unknown } | null)?.block ?? {};
  if (typeof b !== 'object' || b === null || Array.isArray(b) || !Object.values(b).every((n) => Number.isInteger(n))) {
    throw new BlockFormatError(`handle ${id}: block must map CIDRs to counts`);
  }
  return { id, block: { ...(b as Record<string, number>) } };
}

function encodeHandle(h: Handle): string {
  return JSON.stringify({ block: h.block, deleted: false });
}

function notFound(e: unknown): boolean {
  return isDatastoreError(e, 'NOT_FOUND');
}

/** The CAS read/write layer. */
export class IpamStore {
  constructor(readonly kv: KVBackend) {}

  // blocks

  /**
   * Blocks as last read or written, by key: a read that finds the same revision skips decoding.
   * Callers get copies, so what is cached is never changed.
   */
  private readonly blocks = new Map<string, Versioned<AllocationBlock>>();

  private remember(key: string, v: Versioned<AllocationBlock>): Versioned<AllocationBlock> {
    this.blocks.set(key, { value: v.value.clone(), revision: v.revision });
    return v;
  }

  /** A block read some other way (`kv.readMany`), decoded unless the same revision is cached. */
  blockFromPair(p: KVPair): Versioned<AllocationBlock> {
    const known = this.blocks.get(p.key);
    if (known?.revision === p.revision) return { value: known.value.clone(), revision: p.revision };
    return this.remember(p.key, { value: decodeBlock(p.value), revision: p.revision });
  }

  async getBlock(cidr: Prefix): Promise<Versioned<AllocationBlock> | undefined> {
    const key = blockKey(cidr);
    try {
      return this.blockFromPair(await this.kv.get(key));
    } catch (e) {
      if (notFound(e)) {
        this.blocks.delete(key);
        return undefined;
      }
      throw e;
    }
  }

  async listBlocks(version?: 4 | 6): Promise<Versioned<AllocationBlock>[]> {
    return (await this.listBlockPairs(version)).map((p) => this.blockFromPair(p));
  }

  /** The blocks as stored, undecoded (a reader that keeps its own decoded views by revision). */
  async listBlockPairs(version?: 4 | 6): Promise<KVPair[]> {
    const { pairs } = await this.kv.list(blockPrefix(version));
    return this.blockPairsFrom(pairs);
  }

  /** The blocks among pairs read from a block prefix (`kv.readMany`), undecoded. */
  blockPairsFrom(pairs: readonly KVPair[]): KVPair[] {
    return pairs.filter((p) => /\/block\/[^/]+$/.test(p.key));
  }

  /** AlreadyExistsError when another writer created it first. */
  async createBlock(b: AllocationBlock): Promise<Versioned<AllocationBlock>> {
    const key = blockKey(b.prefix);
    const p = await this.kv.create(key, encodeBlock(b));
    return this.remember(key, { value: b, revision: p.revision });
  }

  /** CAS on the revision read; the sequence number goes up by one on every write. */
  async updateBlock(v: Versioned<AllocationBlock>): Promise<Versioned<AllocationBlock>> {
    v.value.bumpSequence();
    const key = blockKey(v.value.prefix);
    const p = await this.kv.update(key, encodeBlock(v.value), v.revision);
    return this.remember(key, { value: v.value, revision: p.revision });
  }

  /**
   * Writes a block (CAS on its revision) and adds `delta` addresses of it to a handle, in one
   * transaction: the handle is created when `handle.current` is undefined (AlreadyExistsError
   * naming the handle's key if it exists after all), else updated with CAS on its revision.
   */
  async updateBlockAndHandle(v: Versioned<AllocationBlock>, handle: { id: string; delta: number; current: Versioned<Handle> | undefined }): Promise<Versioned<AllocationBlock>> {
    v.value.bumpSequence();
    const key = blockKey(v.value.prefix);
    const [written] = await this.kv.txn([{ op: 'update', key, value: encodeBlock(v.value), revision: v.revision }, handleOp(v.value.prefix, handle)]);
    return this.remember(key, { value: v.value, revision: written!.revision });
  }

  /**
   * Claims a block nobody has created yet, in one transaction: the owner's affinity, already
   * confirmed, the block carrying it (with whatever it already has assigned) and, when given, the
   * handle's count of its addresses (created when `handle.current` is undefined, else CAS).
   * AlreadyExistsError names the affinity's key when the owner has an affinity for the CIDR already
   * (checked first), the block's key when someone created the block first; nothing is written then.
   */
  async createBlockWithAffinity(b: AllocationBlock, owner: Owner, handle?: { id: string; delta: number; current: Versioned<Handle> | undefined }): Promise<Versioned<AllocationBlock>> {
    const key = blockKey(b.prefix);
    const ops: TxnOp[] = [
      { op: 'create', key: affinityKey(owner, b.prefix), value: encodeAffinity({ owner, cidr: b.prefix, state: 'confirmed' }) },
      { op: 'create', key, value: encodeBlock(b) },
    ];
    if (handle) ops.push(handleOp(b.prefix, handle));
    const [, blk] = await this.kv.txn(ops);
    return this.remember(key, { value: b, revision: blk!.revision });
  }

  /**
   * Gives a block up in one transaction: deletes it (`b.value` undefined) or writes it (CAS on
   * `b.revision` either way), and deletes the affinity (CAS) when there is one.
   */
  async releaseBlockAndAffinity(b: { key: Prefix; value?: AllocationBlock; revision: string }, aff: Versioned<Affinity> | undefined): Promise<void> {
    const key = blockKey(b.key);
    const ops: TxnOp[] = [];
    if (b.value) {
      b.value.bumpSequence();
      ops.push({ op: 'update', key, value: encodeBlock(b.value), revision: b.revision });
    } else ops.push({ op: 'delete', key, revision: b.revision });
    if (aff) ops.push({ op: 'delete', key: affinityKey(aff.value.owner, aff.value.cidr), revision: aff.revision });
    const [written] = await this.kv.txn(ops);
    if (b.value) this.remember(key, { value: b.value, revision: written!.revision });
    else this.blocks.delete(key);
  }

  async deleteBlock(v: Versioned<AllocationBlock>): Promise<void> {
    const key = blockKey(v.value.prefix);
    await this.kv.delete(key, v.revision);
    this.blocks.delete(key);
  }

  // affinities

  async getAffinity(owner: Owner, cidr: Prefix): Promise<Versioned<Affinity> | undefined> {
    try {
      const p = await this.kv.get(affinityKey(owner, cidr));
      return { value: decodeAffinity(p), revision: p.revision };
    } catch (e) {
      if (notFound(e)) return undefined;
      throw e;
    }
  }

  /** An owner's affinity for a block and the block, read together (one round trip, one snapshot). */
  async getAffinityAndBlock(owner: Owner, cidr: Prefix): Promise<{ aff?: Versioned<Affinity>; block?: Versioned<AllocationBlock> }> {
    const bk = blockKey(cidr);
    const { results } = await this.kv.readMany([{ key: affinityKey(owner, cidr) }, { key: bk }]);
    const [a] = results[0]!;
    const [b] = results[1]!;
    if (!b) this.blocks.delete(bk);
    return { aff: a ? { value: decodeAffinity(a), revision: a.revision } : undefined, block: b ? this.blockFromPair(b) : undefined };
  }

  /** One owner's affinities (of one IP version), or everyone's. */
  async listAffinities(owner?: Owner, version?: 4 | 6): Promise<Versioned<Affinity>[]> {
    const prefixes = owner ? [affinityPrefix(owner, version)] : AFFINITY_PREFIXES;
    return this.affinitiesFrom((await Promise.all(prefixes.map((p) => this.kv.list(p)))).flatMap((r) => r.pairs), version);
  }

  /** The affinities among pairs read from an affinity prefix. */
  affinitiesFrom(pairs: readonly KVPair[], version?: 4 | 6): Versioned<Affinity>[] {
    const out: Versioned<Affinity>[] = [];
    for (const p of pairs) {
      const k = parseAffinityKey(p.key);
      if (!k || (version && k.cidr.version !== version)) continue;
      out.push({ value: decodeAffinity(p), revision: p.revision });
    }
    return out;
  }

  async createAffinity(a: Affinity): Promise<Versioned<Affinity>> {
    const p = await this.kv.create(affinityKey(a.owner, a.cidr), encodeAffinity(a));
    return { value: a, revision: p.revision };
  }

  async updateAffinity(v: Versioned<Affinity>, state: AffinityState): Promise<Versioned<Affinity>> {
    const a = { ...v.value, state };
    const p = await this.kv.update(affinityKey(a.owner, a.cidr), encodeAffinity(a), v.revision);
    return { value: a, revision: p.revision };
  }

  /** Deletes with CAS; an affinity already gone is not an error. */
  async deleteAffinity(v: Versioned<Affinity>): Promise<void> {
    try {
      await this.kv.delete(affinityKey(v.value.owner, v.value.cidr), v.revision);
    } catch (e) {
      if (!notFound(e)) throw e;
    }
  }

  // handles

  async getHandle(id: string): Promise<Versioned<Handle> | undefined> {
    try {
      const p = await this.kv.get(handleKey(id));
      return { value: decodeHandle(id, p.value), revision: p.revision };
    } catch (e) {
      if (notFound(e)) return undefined;
      throw e;
    }
  }

  async listHandles(): Promise<Versioned<Handle>[]> {
    const prefix = `${IPAM_ROOT}handle/`;
    const { pairs } = await this.kv.list(prefix);
    return pairs.map((p) => ({ value: decodeHandle(p.key.slice(prefix.length), p.value), revision: p.revision }));
  }

  async createHandle(h: Handle): Promise<Versioned<Handle>> {
    const p = await this.kv.create(handleKey(h.id), encodeHandle(h));
    return { value: h, revision: p.revision };
  }

  async updateHandle(v: Versioned<Handle>): Promise<Versioned<Handle>> {
    const p = await this.kv.update(handleKey(v.value.id), encodeHandle(v.value), v.revision);
    return { value: v.value, revision: p.revision };
  }

  async deleteHandle(v: Versioned<Handle>): Promise<void> {
    await this.kv.delete(handleKey(v.value.id), v.revision);
  }
}

/** The write that adds `delta` addresses of `block` to a handle's count: create, or update with CAS. */
function handleOp(block: Prefix, handle: { id: string; delta: number; current: Versioned<Handle> | undefined }): TxnOp {
  const cidr = block.toString();
  const hk = handleKey(handle.id);
  const cur = handle.current;
  const counts = { ...(cur?.value.block ?? {}) };
  counts[cidr] = (counts[cidr] ?? 0) + handle.delta;
  const hv = encodeHandle({ id: handle.id, block: counts });
  return cur ? { op: 'update', key: hk, value: hv, revision: cur.revision } : { op: 'create', key: hk, value: hv };
}
