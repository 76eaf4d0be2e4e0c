/*
 * Prefix → small stable integer id, the spine of every RIB table.
 *
 * Each table (Adj-RIB-In, Loc-RIB, an update group's Adj-RIB-Out) keeps its per-prefix data in typed-array
 * columns indexed by an id that this index hands out. Ids are dense (freed ids are reused first) and stable while
 * the prefix is present, so a table can iterate 0..bound and delete the entry it is looking at.
 *
 * IPv4 (Prefix4Index): no JS Map (a Map keyed by `addr * 64 + len`, above 2^31, boxes every key in a HeapNumber,
 * ~50-70 B per entry). Instead the key lives in two dense columns (`addr` uint32, `len` uint8) and an
 * open-addressing table of slots (Int32Array, linear probing, load ≤ 0.7, backward-shift deletion: no tombstones)
 * finds it. A slot is `fingerprint << 24 | id`: 8 bits of a second hash, so a probe rarely has to read the key
 * columns (ids are limited to 2^24 - 2 per table). Cost: 5 B of key + 6-11 B of slot per prefix. Home slots put 8
 * consecutive networks of one length next to each other (one cache line for a run of pod /26s or a /32 sweep),
 * blocks themselves spread by a Fibonacci hash. Ingest speed is bounded by cache misses on this table, so
 * locality matters more than the probe count.
 *
 * IPv6 (Prefix6Index): canonical text keys in a Map<string, id> (few v6 prefixes in a Calico cluster).
 *
 * Tricky: `add` reports "new" by returning the id bit-inverted (`~id`, negative), which keeps the hot path free of
 * allocations and second lookups. A free v4 id is marked by len 255 and threads the free list through `addr`.
 */

import type { Prefix4, Prefix6 } from '../types.js';
import { RibError } from './errors.js';

export interface PrefixIndex<P> {
  /** Prefixes present. */
  readonly size: number;
  /** Every id in use is < bound; columns indexed by id must be at least this long. */
  readonly bound: number;
  /** The id of `p`, or -1. */
  get(p: P): number;
  /** The id of `p`, adding it when absent; a NEW entry comes back as `~id` (a negative number). */
  add(p: P): number;
  /** Removes the entry with this id (which must be live). */
  deleteId(id: number): void;
  /** The prefix of a live id. */
  prefix(id: number): P;
  live(id: number): boolean;
  clear(): void;
  /** Bytes held by the index itself (typed arrays; an estimate for v6). */
  bytes(): number;
}

const FREE = 255;
const MIN_SLOTS = 16;
const EMPTY = -1; // a slot holds (fingerprint << 24) | id; -1 (fingerprint 255, id 2^24-1) is never a real one
const MAX_ID = 0xfffffe;
const ID = 0xffffff;
const FP = -16777216; // 0xff000000 as an int32

/** The network number: the prefix's significant bits (unique per prefix length). */
function net4(a: number, l: number): number {
  return l === 0 ? 0 : a >>> (32 - l);
}

/**
 * Home slot: blocks of 8 consecutive networks of one length share a run of 8 slots placed by a Fibonacci hash, so
 * a run of consecutive prefixes (pod /26s, a bgperf /32 sweep) touches one cache line instead of eight.
 */
function home4(n: number, l: number, shift: number, mask: number): number {
  return ((Math.imul((n >>> 3) ^ Math.imul(l, 0x2c1b3c6d), 0x9e3779b1) >>> shift) + (n & 7)) & mask;
}

/** 8 more bits of hash kept in the slot, so most probes need not look at the key columns. */
function fp4(n: number, l: number): number {
  return (Math.imul(n ^ Math.imul(l, 0x165667b1), 0x85ebca6b) >>> 24) << 24;
}

export class Prefix4Index implements PrefixIndex<Prefix4> {
  private addr: Uint32Array<ArrayBuffer>;
  private len: Uint8Array<ArrayBuffer>;
  private slots: Int32Array<ArrayBuffer>;
  private shift: number; // 32 - log2(slots.length)
  private mask: number;
  private freeHead = -1;
  size = 0;
  bound = 0;

  constructor(expected = 0) {
    const cap = Math.max(8, expected);
    this.addr = new Uint32Array(cap);
    this.len = new Uint8Array(cap);
    let n = MIN_SLOTS;
    while (n * 0.7 < expected) n *= 2;
    this.slots = new Int32Array(n).fill(EMPTY);
    this.mask = n - 1;
    this.shift = 32 - Math.log2(n);
  }

  get(p: Prefix4): number {
    const a = Math.floor(p / 64);
    const l = p - a * 64;
    const n = net4(a, l);
    const f = fp4(n, l);
    const slots = this.slots;
    const mask = this.mask;
    let s = home4(n, l, this.shift, mask);
    for (;;) {
      const v = slots[s] as number;
      if (v === EMPTY) return -1;
      if ((v & FP) === f) {
        const id = v & ID;
        if (this.addr[id] === a && this.len[id] === l) return id;
      }
      s = (s + 1) & mask;
    }
  }

  add(p: Prefix4): number {
    const a = Math.floor(p / 64);
    const l = p - a * 64;
    if (!(l <= 32 && (l | 0) === l && a >= 0 && a <= 0xffffffff)) throw new RibError('BAD_PREFIX', `not a packed IPv4 prefix: ${p}`);
    const n = net4(a, l);
    const f = fp4(n, l);
    const slots = this.slots;
    const mask = this.mask;
    let s = home4(n, l, this.shift, mask);
    for (;;) {
      const v = slots[s] as number;
      if (v === EMPTY) break;
      if ((v & FP) === f) {
        const id = v & ID;
        if (this.addr[id] === a && this.len[id] === l) return id;
      }
      s = (s + 1) & mask;
    }
    // Absent: take an id, then the empty slot found (after growing the slot table when it would pass 0.7 load).
    let id: number;
    if (this.freeHead >= 0) {
      id = this.freeHead;
      this.freeHead = this.addr[id] === 0xffffffff ? -1 : (this.addr[id] as number);
    } else {
      if (this.bound > MAX_ID) throw new RibError('BAD_PREFIX', 'more than 16,777,214 prefixes in one table');
      id = this.bound++;
      if (id >= this.addr.length) this.growColumns();
    }
    this.addr[id] = a;
    this.len[id] = l;
    this.size++;
    if (this.size > this.slots.length * 0.7) this.rehash(this.slots.length * 2);
    else slots[s] = f | id;
    return ~id;
  }

  deleteId(id: number): void {
    const slots = this.slots;
    const mask = this.mask;
    const shift = this.shift;
    const l0 = this.len[id] as number;
    let s = home4(net4(this.addr[id] as number, l0), l0, shift, mask);
    while (((slots[s] as number) & ID) !== id) s = (s + 1) & mask;
    // Backward-shift deletion (Knuth 6.4 algorithm R): pull later members of the probe run into the hole.
    let hole = s;
    let j = s;
    for (;;) {
      j = (j + 1) & mask;
      const v = slots[j] as number;
      if (v === EMPTY) break;
      const other = v & ID;
      const lo = this.len[other] as number;
      const h = home4(net4(this.addr[other] as number, lo), lo, shift, mask);
      // `other` may move into the hole unless its home lies cyclically in (hole, j].
      const stays = hole <= j ? h > hole && h <= j : h > hole || h <= j;
      if (!stays) {
        slots[hole] = v;
        hole = j;
      }
    }
    slots[hole] = EMPTY;
    this.len[id] = FREE;
    this.addr[id] = this.freeHead < 0 ? 0xffffffff : this.freeHead;
    this.freeHead = id;
    this.size--;
  }

  prefix(id: number): Prefix4 {
    return (this.addr[id] as number) * 64 + (this.len[id] as number);
  }

  live(id: number): boolean {
    return id < this.bound && this.len[id] !== FREE;
  }

  clear(): void {
    this.slots.fill(EMPTY);
    this.freeHead = -1;
    this.size = 0;
    this.bound = 0;
  }

  bytes(): number {
    return this.addr.byteLength + this.len.byteLength + this.slots.byteLength;
  }

  private growColumns(): void {
    const cap = this.addr.length * 2;
    const addr = new Uint32Array(cap);
    addr.set(this.addr);
    const len = new Uint8Array(cap);
    len.set(this.len);
    this.addr = addr;
    this.len = len;
  }

  private rehash(size: number): void {
    const slots = new Int32Array(size).fill(EMPTY);
    const mask = size - 1;
    const shift = 32 - Math.log2(size);
    for (let id = 0; id < this.bound; id++) {
      const l = this.len[id] as number;
      if (l === FREE) continue;
      const n = net4(this.addr[id] as number, l);
      let s = home4(n, l, shift, mask);
      while (slots[s] !== EMPTY) s = (s + 1) & mask;
      slots[s] = fp4(n, l) | id;
    }
    this.slots = slots;
    this.mask = mask;
    this.shift = shift;
  }
}

export class Prefix6Index implements PrefixIndex<Prefix6> {
  private readonly ids = new Map<string, number>();
  private keys: (string | undefined)[] = [];
  private free: number[] = [];
  bound = 0;

  get size(): number {
    return this.ids.size;
  }

  get(p: Prefix6): number {
    return this.ids.get(p) ?? -1;
  }

  add(p: Prefix6): number {
    const found = this.ids.get(p);
    if (found !== undefined) return found;
    const id = this.free.length > 0 ? (this.free.pop() as number) : this.bound++;
    this.ids.set(p, id);
    this.keys[id] = p;
    return ~id;
  }

  deleteId(id: number): void {
    const k = this.keys[id];
    if (k === undefined) return;
    this.ids.delete(k);
    this.keys[id] = undefined;
    this.free.push(id);
  }

  prefix(id: number): Prefix6 {
    return this.keys[id] as string;
  }

  live(id: number): boolean {
    return this.keys[id] !== undefined;
  }

  clear(): void {
    this.ids.clear();
    this.keys = [];
    this.free = [];
    this.bound = 0;
  }

  bytes(): number {
    return this.ids.size * 80 + this.keys.length * 8;
  }
}

/** Makes an empty index for a family's prefix type. */
export type IndexFactory<P> = () => PrefixIndex<P>;
export const index4: IndexFactory<Prefix4> = () => new Prefix4Index();
export const index6: IndexFactory<Prefix6> = () => new Prefix6Index();

/** Grows a typed-array column to hold at least `n` entries (doubling), filling new room with `fill`. */
export function growI32(a: Int32Array<ArrayBuffer>, n: number, fill = 0): Int32Array<ArrayBuffer> {
  if (n <= a.length) return a;
  let cap = Math.max(8, a.length * 2);
  while (cap < n) cap *= 2;
  const b = new Int32Array(cap);
  b.set(a);
  if (fill !== 0) b.fill(fill, a.length);
  return b;
}

export function growU16(a: Uint16Array<ArrayBuffer>, n: number, fill = 0): Uint16Array<ArrayBuffer> {
  if (n <= a.length) return a;
  let cap = Math.max(8, a.length * 2);
  while (cap < n) cap *= 2;
  const b = new Uint16Array(cap);
  b.set(a);
  if (fill !== 0) b.fill(fill, a.length);
  return b;
}

export function growU8(a: Uint8Array<ArrayBuffer>, n: number, fill = 0): Uint8Array<ArrayBuffer> {
  if (n <= a.length) return a;
  let cap = Math.max(8, a.length * 2);
  while (cap < n) cap *= 2;
  const b = new Uint8Array(cap);
  b.set(a);
  if (fill !== 0) b.fill(fill, a.length);
  return b;
}
