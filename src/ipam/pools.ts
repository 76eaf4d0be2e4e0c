/**
 * Which pools an assignment may use, where their blocks lie, and the reservations inside them.
 * Pure functions over resources already read (`ipam.ts` reads them).
 */
import { IP, Prefix } from '../net/index.js';
import { parseSelector } from '../selector/index.js';
import type { Resource } from '../api/meta.js';
import type { AddressFilter } from './block.js';

export type AllowedUse = 'Workload' | 'Tunnel' | 'LoadBalancer';

export interface Pool {
  name: string;
  cidr: Prefix;
  blockSize: number;
  disabled: boolean;
  nodeSelector: string;
  allowedUses: AllowedUse[];
  /** Manual pools give addresses only when asked for by name or CIDR. */
  assignmentMode: 'Automatic' | 'Manual';
  ipipMode: string;
  vxlanMode: string;
  natOutgoing: boolean;
  disableBGPExport: boolean;
}

/** An IPPool resource (as stored: defaults applied by validation) as IPAM sees it. */
export function poolFromResource(r: Resource): Pool {
  const s = (r.spec ?? {}) as Record<string, unknown>;
  const cidr = Prefix.parse(String(s.cidr));
  const uses = Array.isArray(s.allowedUses) && s.allowedUses.length ? (s.allowedUses as AllowedUse[]) : (['Workload', 'Tunnel'] as AllowedUse[]);
  return {
    name: r.metadata.name!,
    cidr,
    blockSize: typeof s.blockSize === 'number' && s.blockSize > 0 ? s.blockSize : cidr.version === 4 ? 26 : 122,
    disabled: s.disabled === true,
    nodeSelector: typeof s.nodeSelector === 'string' ? s.nodeSelector : '',
    allowedUses: uses,
    assignmentMode: s.assignmentMode === 'Manual' ? 'Manual' : 'Automatic',
    ipipMode: typeof s.ipipMode === 'string' && s.ipipMode ? s.ipipMode : 'Never',
    vxlanMode: typeof s.vxlanMode === 'string' && s.vxlanMode ? s.vxlanMode : 'Never',
    natOutgoing: s.natOutgoing === true,
    disableBGPExport: s.disableBGPExport === true,
  };
}

/** libcalico-go `SelectsNode`: an empty selector selects every node. A bad selector selects none. */
export function poolSelectsNode(pool: Pool, labels: Record<string, string>): boolean {
  if (!pool.nodeSelector) return true;
  try {
    return parseSelector(pool.nodeSelector).evaluate(labels);
  } catch {
    return false;
  }
}

/** The pool containing `ip`, if any. */
export function poolForIP(pools: readonly Pool[], ip: IP): Pool | undefined {
  return pools.find((p) => p.cidr.version === ip.version && p.cidr.contains(ip));
}

/** The block of `pool` that holds `ip` (`getBlockCIDRForAddress`). */
export function blockForIP(pool: Pool, ip: IP): Prefix {
  return Prefix.of(ip, pool.blockSize);
}

/** FNV-1 32-bit (Go's `hash/fnv` `New32`), the seed of a host's walk over a pool's blocks. */
export function fnv32(s: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(s, 'utf8')) {
    h = Math.imul(h, 0x01000193) >>> 0;
    h = (h ^ b) >>> 0;
  }
  return h >>> 0;
}

/** splitmix32: a small, well-mixed PRNG for the walk's start. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x9e3779b9) >>> 0;
    let z = a;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/**
 * The pool's blocks in the order a host tries them (`randomBlockGenerator`): from a start index
 * drawn from a generator seeded with the host name's FNV-32 hash — so a host keeps choosing the
 * same region and concurrent hosts spread out — then every block once, wrapping round. Pools of
 * /32 (or /128) blocks start at a time-seeded index instead, as Calico does.
 */
export function* blockWalk(pool: Pool, host: string, seed?: number): Generator<Prefix, void, undefined> {
  const hostBits = pool.blockSize - pool.cidr.length;
  if (hostBits < 0) return;
  const numBlocks = 1n << BigInt(hostBits);
  const r = rng(seed ?? (pool.blockSize === pool.cidr.bits ? Date.now() ^ process.pid : fnv32(host)));
  // A start index uniform in [0, numBlocks): 64 random bits are plenty for any pool.
  const rand64 = (BigInt(r()) << 32n) | BigInt(r());
  const start = numBlocks <= 1n ? 0n : rand64 % numBlocks;
  const step = 1n << BigInt(pool.cidr.bits - pool.blockSize);
  const base = pool.cidr.version === 4 ? BigInt(pool.cidr.ip.v4) : pool.cidr.ip.v6;
  for (let i = 0n; i < numBlocks; i++) {
    const idx = (start + i) % numBlocks;
    const v = base + idx * step;
    const ip = pool.cidr.version === 4 ? IP.fromV4(Number(v)) : IP.fromV6(v);
    yield Prefix.of(ip, pool.blockSize);
  }
}

/** IPReservations as an address filter (libcalico-go `cidrSliceFilter`). */
export class Reservations implements AddressFilter {
  constructor(readonly cidrs: readonly Prefix[]) {}

  static fromResources(rs: readonly Resource[]): Reservations {
    const out: Prefix[] = [];
    for (const r of rs) {
      for (const c of ((r.spec ?? {}) as { reservedCIDRs?: string[] }).reservedCIDRs ?? []) {
        try {
          out.push(Prefix.parseCIDROrIP(c).prefix);
        } catch {
          // validation refuses bad CIDRs on write; a foreign one is ignored here
        }
      }
    }
    return new Reservations(out);
  }

  matchesIP(ip: IP): boolean {
    return this.cidrs.some((c) => c.version === ip.version && c.contains(ip));
  }

  matchesWholePrefix(p: Prefix): boolean {
    return this.cidrs.some((c) => c.version === p.version && c.containsPrefix(p));
  }

  matchesSome(p: Prefix): boolean {
    return this.cidrs.some((c) => c.version === p.version && c.overlaps(p));
  }
}
