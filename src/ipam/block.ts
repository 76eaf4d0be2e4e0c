/**
 * An allocation block: the pure part of IPAM. No I/O here — the compare-and-swap layer
 * (`store.ts`) reads a block, calls these methods on a private copy and writes it back.
 *
 * The stored shape is libcalico-go's `model.AllocationBlock` as Calico writes it to etcd
 * (`/calico/ipam/v2/assignment/ipv4/block/10.244.1.0-26`), field for field and in the same order,
 * so a datastore written by tortie reads like one written by Calico and the reverse:
 *  - `allocations[ord]` is null (free) or an index into `attributes`;
 *  - `unallocated` is the FIFO of free ordinals: assignment takes from the head, release
 *    appends to the tail, so the address freed longest ago is reused first;
 *  - `attributes` are shared by every ordinal of one assignment (handle + owner attributes) and
 *    dropped, with the indexes renumbered, when nothing refers to them (v3.32 behaviour; no
 *    release cooldown);
 *  - `sequenceNumber` (nanoseconds at creation, +1 on every write) and
 *    `sequenceNumberForAllocation` let a caller release "the address it was given" and not a
 *    later reuse of it. They are uint64 in Go and exceed 2^53, so they are decimal strings here
 *    and numbers in the JSON (see `decodeBlock` / `encodeBlock`).
 */
import { IP, Prefix } from '../net/index.js';

/** An entry of `attributes`: who holds the addresses that point at it. */
export interface AllocationAttribute {
  handle_id?: string;
  /** Owner attributes (`node`, `namespace`, `pod`, `timestamp`, `type`); Go's `ActiveOwnerAttrs`. */
  secondary?: Record<string, string>;
  alternateOwnerAttrs?: Record<string, string>;
  releasedAt?: string;
}

/** The stored block, as Calico's JSON. */
export interface BlockData {
  cidr: string;
  /** `host:<node>` or `virtual:<name>`; null when no host owns the block. */
  affinity: string | null;
  affinity_claim_time?: string;
  allocations: (number | null)[];
  unallocated: number[];
  attributes: AllocationAttribute[];
  sequenceNumber: string;
  sequenceNumberForAllocation: Record<string, string>;
  deleted: boolean;
}

/** Why a stored block cannot be used (a corrupt or foreign value under a block key). */
export class BlockFormatError extends Error {
  readonly code = 'BLOCK_FORMAT' as const;
}

/** An address filter: IPReservations (`reservations.ts`); nothing reserved when absent. */
export interface AddressFilter {
  matchesIP(ip: IP): boolean;
  matchesWholePrefix(p: Prefix): boolean;
  matchesSome(p: Prefix): boolean;
}

export const NO_RESERVATIONS: AddressFilter = {
  matchesIP: () => false,
  matchesWholePrefix: () => false,
  matchesSome: () => false,
};

/** Go's `metav1.Time` JSON: RFC 3339, whole seconds, UTC. */
export function metaTime(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Nanoseconds since the epoch as a decimal string (Go's `time.Now().UnixNano()`). */
export function nowNanos(now: Date = new Date()): string {
  return (BigInt(now.getTime()) * 1_000_000n + BigInt(process.hrtime()[1] % 1_000_000)).toString();
}

export class AllocationBlock {
  readonly prefix: Prefix;
  readonly data: BlockData;

  constructor(data: BlockData) {
    this.data = data;
    const p = Prefix.tryParse(data.cidr);
    if (!p) throw new BlockFormatError(`block has an invalid cidr ${JSON.stringify(data.cidr)}`);
    this.prefix = p;
    const n = this.size;
    if (data.allocations.length !== n) {
      throw new BlockFormatError(`block ${data.cidr}: ${data.allocations.length} allocations for ${n} addresses`);
    }
  }

  /**
   * A new, empty block (libcalico-go `newBlock`): every ordinal free, in order. `reserved`
   * pre-allocates the first and last addresses (Windows hosts reserve 3 + 1) under a handle.
   */
  static create(cidr: Prefix, opts: { affinity?: string | null; claimTime?: Date; sequenceNumber?: string; reserved?: { handle: string; note: string; start: number; end: number } } = {}): AllocationBlock {
    const n = blockSizeOf(cidr);
    const data: BlockData = {
      cidr: cidr.toString(),
      affinity: opts.affinity ?? null,
      // Calico's field order: the claim time right after the affinity, omitted when unset.
      ...(opts.claimTime ? { affinity_claim_time: metaTime(opts.claimTime) } : {}),
      allocations: new Array<number | null>(n).fill(null),
      unallocated: Array.from({ length: n }, (_, i) => i),
      attributes: [],
      sequenceNumber: opts.sequenceNumber ?? nowNanos(),
      sequenceNumberForAllocation: {},
      deleted: false,
    };
    return new AllocationBlock(data).withReserved(opts.reserved);
  }

  private withReserved(r: { handle: string; note: string; start: number; end: number } | undefined): AllocationBlock {
    if (!r) return this;
    const n = this.size;
    const idx = this.data.attributes.length;
    this.data.attributes.push({ handle_id: r.handle, secondary: { note: r.note } });
    for (let i = 0; i < r.start; i++) this.data.allocations[i] = idx;
    for (let i = 1; i <= r.end; i++) this.data.allocations[n - i] = idx;
    this.data.unallocated = this.data.unallocated.slice(r.start, n - r.end);
    return this;
  }

  get size(): number {
    return blockSizeOf(this.prefix);
  }

  get cidr(): string {
    return this.data.cidr;
  }

  /** The affinity's host (or virtual name), '' when none. */
  host(): string {
    const a = this.data.affinity;
    if (a?.startsWith('host:')) return a.slice(5);
    if (a?.startsWith('virtual:')) return a.slice(8);
    return '';
  }

  affinityType(): 'host' | 'virtual' | '' {
    const a = this.data.affinity;
    if (a?.startsWith('host:')) return 'host';
    if (a?.startsWith('virtual:')) return 'virtual';
    return '';
  }

  claimTime(): Date | undefined {
    const t = this.data.affinity_claim_time;
    return t ? new Date(t) : undefined;
  }

  ip(ord: number): IP {
    return this.prefix.nth(ord);
  }

  /** The ordinal of `ip`, or undefined when it is outside the block. */
  ordinal(ip: IP): number | undefined {
    if (ip.version !== this.prefix.version || !this.prefix.contains(ip)) return undefined;
    return this.prefix.ordinalOf(ip);
  }

  /** A deep copy to change (the caller's read stays as it was). */
  clone(): AllocationBlock {
    // Attribute entries are never changed in place (new ones are appended, unused ones dropped),
    // so copying the arrays is a deep enough copy.
    const d = this.data;
    return new AllocationBlock({
      ...d,
      allocations: d.allocations.slice(),
      unallocated: d.unallocated.slice(),
      attributes: d.attributes.slice(),
      sequenceNumberForAllocation: { ...d.sequenceNumberForAllocation },
    });
  }

  /**
   * Takes up to `num` free ordinals from the head of the FIFO, skipping reserved addresses
   * (they stay in the FIFO, in place), and gives them one shared attribute entry. Returns the
   * ordinals taken, in order; fewer than `num` when the block runs out.
   */
  autoAssign(num: number, handle: string | undefined, attrs: Record<string, string> | undefined, reservations: AddressFilter = NO_RESERVATIONS): number[] {
    const d = this.data;
    const taken: number[] = [];
    const keep: number[] = [];
    const checkReserved = reservations.matchesSome(this.prefix);
    let attrIdx = -1;
    let i = 0;
    for (; i < d.unallocated.length && taken.length < num; i++) {
      const ord = d.unallocated[i]!;
      if (checkReserved && reservations.matchesIP(this.ip(ord))) {
        keep.push(ord);
        continue;
      }
      if (attrIdx < 0) attrIdx = this.findOrAddAttribute(handle, attrs);
      d.allocations[ord] = attrIdx;
      d.sequenceNumberForAllocation[String(ord)] = d.sequenceNumber;
      taken.push(ord);
    }
    if (taken.length) d.unallocated = keep.concat(d.unallocated.slice(i));
    return taken;
  }

  /**
   * Assigns one specific ordinal (libcalico-go `assign`). Throws AddressInUseError when it is
   * taken; the FIFO loses that ordinal wherever it is.
   */
  assign(ord: number, handle: string | undefined, attrs: Record<string, string> | undefined): void {
    const d = this.data;
    if (!Number.isInteger(ord) || ord < 0 || ord >= this.size) throw new RangeError(`ordinal ${ord} is outside block ${d.cidr}`);
    if (d.allocations[ord] !== null) throw new AddressInUseError(this.ip(ord).toString());
    d.sequenceNumberForAllocation[String(ord)] = d.sequenceNumber;
    d.allocations[ord] = this.findOrAddAttribute(handle, attrs);
    const at = d.unallocated.indexOf(ord);
    if (at >= 0) d.unallocated.splice(at, 1);
  }

  /**
   * Releases the given ordinals (libcalico-go v3.32 `release`). An ordinal that is not allocated
   * is reported back, not an error. With `handle` / `sequenceNumber` per ordinal, a mismatch
   * throws ReleaseConflictError before anything changes. Returns the released count per handle.
   */
  release(items: { ord: number; handle?: string; sequenceNumber?: string }[]): { notAllocated: number[]; countByHandle: Map<string, number> } {
    const d = this.data;
    const unique = new Map<number, { ord: number; handle?: string; sequenceNumber?: string }>();
    for (const it of items) unique.set(it.ord, it);
    const notAllocated: number[] = [];
    const countByHandle = new Map<string, number>();
    const ords: number[] = [];
    for (const it of unique.values()) {
      const { ord } = it;
      if (!Number.isInteger(ord) || ord < 0 || ord >= this.size) throw new RangeError(`ordinal ${ord} is outside block ${d.cidr}`);
      const seq = d.sequenceNumberForAllocation[String(ord)] ?? '0';
      if (it.sequenceNumber !== undefined && it.sequenceNumber !== seq) {
        throw new ReleaseConflictError(this.ip(ord).toString(), `the given sequence number (${it.sequenceNumber}) does not match (${seq}) when attempting to release IP`);
      }
      const idx = d.allocations[ord];
      if (idx === null || idx === undefined) {
        notAllocated.push(ord);
        continue;
      }
      const h = sanitizeHandle(d.attributes[idx]?.handle_id ?? '');
      if (it.handle !== undefined && it.handle !== '' && it.handle !== h) {
        throw new ReleaseConflictError(this.ip(ord).toString(), `the given handle (${it.handle}) does not match (${h}) when attempting to release IP`);
      }
      ords.push(ord);
      if (h !== '') countByHandle.set(h, (countByHandle.get(h) ?? 0) + 1);
    }
    for (const ord of ords) {
      d.allocations[ord] = null;
      d.unallocated.push(ord);
      delete d.sequenceNumberForAllocation[String(ord)];
    }
    if (ords.length) this.dropUnusedAttributes();
    return { notAllocated, countByHandle };
  }

  /** Releases every address of `handle` (optionally only those given with `sequenceNumber`). Returns how many. */
  releaseByHandle(handle: string, sequenceNumber?: string): number {
    const d = this.data;
    const idxs = this.attributeIndexesByHandle(handle);
    if (idxs.size === 0) return 0;
    let n = 0;
    for (let ord = 0; ord < d.allocations.length; ord++) {
      const idx = d.allocations[ord];
      if (idx === null || idx === undefined || !idxs.has(idx)) continue;
      if (sequenceNumber !== undefined && (d.sequenceNumberForAllocation[String(ord)] ?? '0') !== sequenceNumber) continue;
      d.allocations[ord] = null;
      d.unallocated.push(ord);
      delete d.sequenceNumberForAllocation[String(ord)];
      n++;
    }
    if (n) this.dropUnusedAttributes();
    return n;
  }

  /** Ordinals held by `handle`. */
  ordinalsByHandle(handle: string): number[] {
    const idxs = this.attributeIndexesByHandle(handle);
    const out: number[] = [];
    if (idxs.size === 0) return out;
    this.data.allocations.forEach((idx, ord) => {
      if (idx !== null && idxs.has(idx)) out.push(ord);
    });
    return out;
  }

  /** The attribute entry of an allocated ordinal (handle sanitized), undefined when free. */
  attributesOf(ord: number): AllocationAttribute | undefined {
    const idx = this.data.allocations[ord];
    if (idx === null || idx === undefined) return undefined;
    const a = this.data.attributes[idx];
    if (!a) return undefined;
    return a.handle_id === undefined ? a : { ...a, handle_id: sanitizeHandle(a.handle_id) };
  }

  /** Free addresses that automatic assignment may hand out (reserved ones excluded). */
  numFree(reservations: AddressFilter = NO_RESERVATIONS): number {
    if (reservations.matchesWholePrefix(this.prefix)) return 0;
    if (!reservations.matchesSome(this.prefix)) return this.data.unallocated.length;
    let n = 0;
    for (const ord of this.data.unallocated) if (!reservations.matchesIP(this.ip(ord))) n++;
    return n;
  }

  /** Addresses of the block that reservations cover. */
  numReserved(reservations: AddressFilter = NO_RESERVATIONS): number {
    if (reservations.matchesWholePrefix(this.prefix)) return this.size;
    if (!reservations.matchesSome(this.prefix)) return 0;
    let n = 0;
    for (let ord = 0; ord < this.size; ord++) if (reservations.matchesIP(this.ip(ord))) n++;
    return n;
  }

  numAllocated(): number {
    let n = 0;
    for (const a of this.data.allocations) if (a !== null) n++;
    return n;
  }

  /** No allocation but the Windows reserved addresses (libcalico-go `empty`). */
  isEmpty(): boolean {
    const d = this.data;
    for (const idx of d.allocations) {
      if (idx === null) continue;
      const h = d.attributes[idx]?.handle_id;
      if (h === undefined || h.toLowerCase() !== WINDOWS_RESERVED_HANDLE) return false;
    }
    return true;
  }

  /** Allocated ordinals, ascending. */
  allocatedOrdinals(): number[] {
    const out: number[] = [];
    this.data.allocations.forEach((idx, ord) => {
      if (idx !== null) out.push(ord);
    });
    return out;
  }

  /** Allocations whose `node` attribute is not the block's host ("borrowed" addresses). */
  nonAffineAllocations(): { ord: number; ip: IP; node: string }[] {
    const mine = this.host();
    const out: { ord: number; ip: IP; node: string }[] = [];
    this.data.allocations.forEach((idx, ord) => {
      if (idx === null) return;
      const node = this.data.attributes[idx]?.secondary?.node ?? '';
      if (mine !== '' && node === mine) return;
      out.push({ ord, ip: this.ip(ord), node });
    });
    return out;
  }

  /** Every write bumps the sequence number (libcalico-go `updateBlock`). */
  bumpSequence(): void {
    this.data.sequenceNumber = (BigInt(this.data.sequenceNumber) + 1n).toString();
  }

  private attributeIndexesByHandle(handle: string): Set<number> {
    const s = new Set<number>();
    this.data.attributes.forEach((a, i) => {
      if (a.handle_id !== undefined && sanitizeHandle(a.handle_id) === handle) s.add(i);
    });
    return s;
  }

  private findOrAddAttribute(handle: string | undefined, attrs: Record<string, string> | undefined): number {
    const want: AllocationAttribute = {};
    if (handle !== undefined) want.handle_id = handle;
    if (attrs && Object.keys(attrs).length) want.secondary = sortedRecord(attrs);
    const key = JSON.stringify(want);
    // Compare the handle first: nearly every entry of a pod block has a different one.
    const found = this.data.attributes.findIndex((a) => a.handle_id === want.handle_id && JSON.stringify(a) === key);
    if (found >= 0) return found;
    this.data.attributes.push(want);
    return this.data.attributes.length - 1;
  }

  /** Drops attribute entries nothing points at and renumbers (libcalico-go `deleteAttributes`). */
  private dropUnusedAttributes(): void {
    const d = this.data;
    const used = new Uint8Array(d.attributes.length);
    for (const idx of d.allocations) if (idx !== null) used[idx] = 1;
    if (used.every((u) => u === 1)) return;
    const remap = new Int32Array(d.attributes.length).fill(-1);
    const kept: AllocationAttribute[] = [];
    d.attributes.forEach((a, i) => {
      if (used[i]) {
        remap[i] = kept.length;
        kept.push(a);
      }
    });
    d.attributes = kept;
    for (let ord = 0; ord < d.allocations.length; ord++) {
      const idx = d.allocations[ord];
      if (idx !== null && idx !== undefined) d.allocations[ord] = remap[idx]!;
    }
  }
}

export const WINDOWS_RESERVED_HANDLE = 'windows-reserved-ipam-handle';

/** Calico keeps only what precedes a '\r' of a handle id (`sanitizeHandle`). */
export function sanitizeHandle(h: string): string {
  const i = h.indexOf('\r');
  return i < 0 ? h : h.slice(0, i);
}

export function blockSizeOf(p: Prefix): number {
  const host = p.bits - p.length;
  if (host > 20) throw new RangeError(`block ${p.toString()} is too large (${host} host bits; at most 20)`);
  return 1 << host;
}

function sortedRecord(r: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(r).sort()) out[k] = r[k]!;
  return out;
}

export class AddressInUseError extends Error {
  readonly code = 'ADDRESS_IN_USE' as const;
  constructor(readonly address: string) {
    super('Address already assigned in block');
  }
}

export class ReleaseConflictError extends Error {
  readonly code = 'RELEASE_CONFLICT' as const;
  constructor(
    readonly address: string,
    message: string,
  ) {
    super(message);
  }
}

// --- the stored JSON ------------------------------------------------------------------------

/**
 * Parses a stored block. Sequence numbers are uint64 and lose precision as JS numbers, so they
 * are quoted before parsing. Throws BlockFormatError naming what is wrong.
 */
export function decodeBlock(text: string): AllocationBlock {
  const quoted = text
    .replace(/"sequenceNumber"(\s*):(\s*)(\d+)/, '"sequenceNumber"$1:$2"$3"')
    .replace(/("sequenceNumberForAllocation"\s*:\s*\{)([^}]*)\}/, (_m, head: string, body: string) => `${head}${body.replace(/:(\s*)(\d+)/g, ':$1"$2"')}}`);
  let raw: unknown;
  try {
    raw = JSON.parse(quoted);
  } catch (e) {
    throw new BlockFormatError(`block is not JSON: ${(e as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new BlockFormatError('block is not a JSON object');
  const o = raw as Record<string, unknown>;
  const need = (ok: boolean, what: string): void => {
    if (!ok) throw new BlockFormatError(`block ${typeof o.cidr === 'string' ? o.cidr : '?'}: ${what}`);
  };
  need(typeof o.cidr === 'string', 'cidr must be a string');
  need(o.affinity === null || o.affinity === undefined || typeof o.affinity === 'string', 'affinity must be a string or null');
  need(Array.isArray(o.allocations), 'allocations must be an array');
  const allocations = (o.allocations as unknown[]).map((a) => (a === null ? null : a));
  for (const a of allocations) need(a === null || (Number.isInteger(a) && (a as number) >= 0), 'allocations must hold null or attribute indexes');
  const attributes = o.attributes === null || o.attributes === undefined ? [] : o.attributes;
  need(Array.isArray(attributes), 'attributes must be an array');
  for (const a of allocations) need(a === null || (a as number) < (attributes as unknown[]).length, 'an allocation points past the attributes');
  const unallocated = o.unallocated === null || o.unallocated === undefined ? [] : o.unallocated;
  need(Array.isArray(unallocated) && (unallocated as unknown[]).every((u) => Number.isInteger(u) && (u as number) >= 0 && (u as number) < allocations.length), 'unallocated must hold ordinals of the block');
  const seq = o.sequenceNumber ?? '0';
  need(typeof seq === 'string' && /^\d+$/.test(seq), 'sequenceNumber must be an unsigned integer');
  const sfa = o.sequenceNumberForAllocation ?? {};
  need(typeof sfa === 'object' && sfa !== null && !Array.isArray(sfa), 'sequenceNumberForAllocation must be an object');
  const data: BlockData = {
    cidr: o.cidr as string,
    affinity: (o.affinity as string | null | undefined) ?? null,
    ...(typeof o.affinity_claim_time === 'string' ? { affinity_claim_time: o.affinity_claim_time } : {}),
    allocations: allocations as (number | null)[],
    unallocated: unallocated as number[],
    attributes: attributes as AllocationAttribute[],
    sequenceNumber: seq as string,
    sequenceNumberForAllocation: Object.fromEntries(Object.entries(sfa as Record<string, unknown>).map(([k, v]) => [k, String(v)])),
    deleted: o.deleted === true,
  };
  try {
    return new AllocationBlock(data);
  } catch (e) {
    if (e instanceof BlockFormatError) throw e;
    throw new BlockFormatError(`block ${data.cidr}: ${(e as Error).message}`);
  }
}

/** The stored JSON, sequence numbers as JSON numbers as Go writes them. */
export function encodeBlock(b: AllocationBlock): string {
  return JSON.stringify(b.data)
    .replace(/"sequenceNumber":"(\d+)"/, '"sequenceNumber":$1')
    .replace(/("sequenceNumberForAllocation":\{)([^}]*)\}/, (_m, head: string, body: string) => `${head}${body.replace(/:"(\d+)"/g, ':$1')}}`);
}
