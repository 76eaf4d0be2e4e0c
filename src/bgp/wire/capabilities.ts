/*
 * Capabilities (RFC 5492): one descriptor per capability code (STYLE 3). A new capability is a new row in
 * CAPABILITY_TABLE plus a member of the `Capability` union. Capabilities tortie does not know are kept as
 * `{ kind: 'unknown', code, value }` and re-encoded unchanged.
 *
 * A known capability with a malformed value (wrong length) makes the OPEN malformed: OPEN Message Error,
 * subcode 0 Unspecific (RFC 4271 §6.2 "recognized but malformed"), as BIRD does.
 * Graceful restart (RFC 4724 §3, RFC 8538 §2): 4 flag bits (R, N, 2 reserved) above a 12-bit restart time,
 * then <AFI, SAFI, flags> per family with F = 0x80. Reserved bits are dropped on decode.
 */

import type { Family, Negotiated } from '../types.js';
import { CAP, GR_AF_FLAG, GR_FLAG } from './constants.js';
import { Writer, checkUint, u16, u32 } from './bytes.js';
import { WireError } from './errors.js';
import { familyByAfiSafi } from './family.js';

export interface GracefulRestartFamily {
  afi: number;
  safi: number;
  /** F bit: forwarding state preserved across the restart. */
  forwardingPreserved: boolean;
}

export type Capability =
  | { kind: 'multiprotocol'; afi: number; safi: number } // RFC 4760 §8
  | { kind: 'route-refresh' } // RFC 2918 §2
  | { kind: 'route-refresh-cisco' } // code 128, pre-standard route refresh
  | { kind: 'enhanced-route-refresh' } // RFC 7313 §3
  | { kind: 'extended-message' } // RFC 8654 §3
  | { kind: 'four-octet-as'; asn: number } // RFC 6793 §9
  | {
      kind: 'graceful-restart'; // RFC 4724 §3
      restarting: boolean; // R bit
      notification: boolean; // N bit, RFC 8538
      restartTime: number; // seconds, 0..4095
      families: GracefulRestartFamily[];
    }
  | { kind: 'unknown'; code: number; value: Uint8Array };

type Kind = Exclude<Capability['kind'], 'unknown'>;
type CapOf<K extends Capability['kind']> = Extract<Capability, { kind: K }>;

export interface CapabilityDescriptor<K extends Kind> {
  kind: K;
  code: number;
  name: string;
  /** The capability from its value octets, or undefined when the value is malformed. */
  decode(v: Uint8Array): CapOf<K> | undefined;
  /** Value octets; throws WireError INVALID_VALUE on out-of-range fields. */
  encode(c: CapOf<K>): Uint8Array;
  format(c: CapOf<K>): string;
}

const NONE = new Uint8Array(0);

function flagOnly<K extends 'route-refresh' | 'route-refresh-cisco' | 'enhanced-route-refresh' | 'extended-message'>(
  kind: K,
  code: number,
  name: string,
): CapabilityDescriptor<K> {
  return {
    kind,
    code,
    name,
    decode: (v) => (v.length === 0 ? ({ kind } as CapOf<K>) : undefined),
    encode: () => NONE,
    format: () => name,
  };
}

export const CAPABILITY_TABLE: { readonly [K in Kind]: CapabilityDescriptor<K> } = {
  multiprotocol: {
    kind: 'multiprotocol',
    code: CAP.MULTIPROTOCOL,
    name: 'multiprotocol',
    decode: (v) => (v.length === 4 ? { kind: 'multiprotocol', afi: u16(v, 0), safi: v[3]! } : undefined),
    encode: (c) => new Writer(4).u16(checkUint(c.afi, 0xffff, 'multiprotocol afi')).u8(0).u8(checkUint(c.safi, 255, 'multiprotocol safi')).finish(),
    format: (c) => `multiprotocol ${afiSafiName(c.afi, c.safi)}`,
  },
  'route-refresh': flagOnly('route-refresh', CAP.ROUTE_REFRESH, 'route-refresh'),
  'route-refresh-cisco': flagOnly('route-refresh-cisco', CAP.ROUTE_REFRESH_CISCO, 'route-refresh (cisco)'),
  'enhanced-route-refresh': flagOnly('enhanced-route-refresh', CAP.ENHANCED_ROUTE_REFRESH, 'enhanced-route-refresh'),
  'extended-message': flagOnly('extended-message', CAP.EXTENDED_MESSAGE, 'extended-message'),
  'four-octet-as': {
    kind: 'four-octet-as',
    code: CAP.FOUR_OCTET_AS,
    name: '4-octet AS',
    decode: (v) => (v.length === 4 ? { kind: 'four-octet-as', asn: u32(v, 0) } : undefined),
    encode: (c) => new Writer(4).u32(checkUint(c.asn, 0xffffffff, 'four-octet-as asn')).finish(),
    format: (c) => `4-octet AS ${c.asn}`,
  },
  'graceful-restart': {
    kind: 'graceful-restart',
    code: CAP.GRACEFUL_RESTART,
    name: 'graceful-restart',
    decode(v) {
      if (v.length < 2 || (v.length - 2) % 4 !== 0) return undefined;
      const head = u16(v, 0);
      const flags = head >>> 12;
      const families: GracefulRestartFamily[] = [];
      for (let i = 2; i < v.length; i += 4) {
        families.push({ afi: u16(v, i), safi: v[i + 2]!, forwardingPreserved: (v[i + 3]! & GR_AF_FLAG.FORWARDING) !== 0 });
      }
      return {
        kind: 'graceful-restart',
        restarting: (flags & GR_FLAG.RESTART) !== 0,
        notification: (flags & GR_FLAG.NOTIFICATION) !== 0,
        restartTime: head & 0x0fff,
        families,
      };
    },
    encode(c) {
      const flags = (c.restarting ? GR_FLAG.RESTART : 0) | (c.notification ? GR_FLAG.NOTIFICATION : 0);
      const time = checkUint(c.restartTime, 0x0fff, 'graceful-restart restartTime');
      const w = new Writer(2 + 4 * c.families.length).u16((flags << 12) | time);
      for (const f of c.families) {
        w.u16(checkUint(f.afi, 0xffff, 'graceful-restart afi'))
          .u8(checkUint(f.safi, 255, 'graceful-restart safi'))
          .u8(f.forwardingPreserved ? GR_AF_FLAG.FORWARDING : 0);
      }
      return w.finish();
    },
    format: (c) =>
      `graceful-restart time ${c.restartTime}${c.restarting ? ' R' : ''}${c.notification ? ' N' : ''}` +
      c.families.map((f) => ` ${afiSafiName(f.afi, f.safi)}${f.forwardingPreserved ? '(F)' : ''}`).join(''),
  },
};

const BY_CODE = new Map<number, CapabilityDescriptor<Kind>>();
for (const d of Object.values(CAPABILITY_TABLE) as CapabilityDescriptor<Kind>[]) BY_CODE.set(d.code, d);

function afiSafiName(afi: number, safi: number): string {
  return familyByAfiSafi(afi, safi)?.family ?? `afi ${afi} safi ${safi}`;
}

/**
 * Appends the capabilities in b[off, off+len) (<code, length, value> triples) to `out`.
 * Returns undefined, or why the list is malformed. Unknown codes are kept; values are copied.
 */
export function decodeCapabilities(b: Uint8Array, off: number, len: number, out: Capability[]): string | undefined {
  const end = off + len;
  let i = off;
  while (i < end) {
    if (end - i < 2) return 'capability header truncated';
    const code = b[i]!;
    const n = b[i + 1]!;
    if (i + 2 + n > end) return `capability ${code} overruns its parameter`;
    const value = b.subarray(i + 2, i + 2 + n);
    i += 2 + n;
    const d = BY_CODE.get(code);
    if (d === undefined) {
      out.push({ kind: 'unknown', code, value: new Uint8Array(value) });
      continue;
    }
    const c = d.decode(value);
    if (c === undefined) return `malformed ${d.name} capability (length ${n})`;
    out.push(c);
  }
  return undefined;
}

/** <code, length, value> octets of one capability. */
export function encodeCapability(c: Capability): { code: number; value: Uint8Array } {
  if (c.kind === 'unknown') return { code: checkUint(c.code, 255, 'capability code'), value: c.value };
  const d = CAPABILITY_TABLE[c.kind] as CapabilityDescriptor<Kind>;
  return { code: d.code, value: d.encode(c) };
}

/** The capability list as <code, length, value> triples. */
export function encodeCapabilities(caps: readonly Capability[]): Buffer {
  const w = new Writer(64);
  for (const c of caps) {
    const { code, value } = encodeCapability(c);
    if (value.length > 255) throw new WireError('INVALID_VALUE', `capability ${code}: value of ${value.length} octets (max 255)`);
    w.u8(code).u8(value.length).bytes(value);
  }
  return w.finish();
}

export function formatCapability(c: Capability): string {
  if (c.kind === 'unknown') return `capability ${c.code} (${Buffer.from(c.value).toString('hex')})`;
  const d = CAPABILITY_TABLE[c.kind] as CapabilityDescriptor<Kind>;
  return d.format(c);
}

/** What a peer's capabilities say, in the terms of `Negotiated` (types.ts). */
export interface CapabilitySummary {
  /** The 4-octet AS capability's value, when sent. */
  fourOctetAs?: number;
  /** Unicast families from MP capabilities; ['ipv4'] when there is no MP capability at all (RFC 4760 §8). */
  families: Family[];
  /** Route refresh, standard (2) or Cisco (128) code. */
  routeRefresh: boolean;
  enhancedRouteRefresh: boolean;
  extendedMessage: boolean;
  /** The last graceful-restart capability (RFC 4724 §3: only one is meaningful), known families only. */
  gracefulRestart?: Negotiated['gracefulRestart'];
}

export function summarizeCapabilities(caps: readonly Capability[]): CapabilitySummary {
  const s: CapabilitySummary = { families: [], routeRefresh: false, enhancedRouteRefresh: false, extendedMessage: false };
  let mp = false;
  for (const c of caps) {
    switch (c.kind) {
      case 'multiprotocol': {
        mp = true;
        const f = familyByAfiSafi(c.afi, c.safi)?.family;
        if (f !== undefined && !s.families.includes(f)) s.families.push(f);
        break;
      }
      case 'route-refresh':
      case 'route-refresh-cisco':
        s.routeRefresh = true;
        break;
      case 'enhanced-route-refresh':
        s.enhancedRouteRefresh = true;
        break;
      case 'extended-message':
        s.extendedMessage = true;
        break;
      case 'four-octet-as':
        s.fourOctetAs = c.asn;
        break;
      case 'graceful-restart': {
        const families: { family: Family; forwardingPreserved: boolean }[] = [];
        for (const f of c.families) {
          const fam = familyByAfiSafi(f.afi, f.safi)?.family;
          if (fam !== undefined) families.push({ family: fam, forwardingPreserved: f.forwardingPreserved });
        }
        s.gracefulRestart = { restartTime: c.restartTime, restarting: c.restarting, notification: c.notification, families };
        break;
      }
      case 'unknown':
        break;
    }
  }
  if (!mp) s.families.push('ipv4');
  return s;
}
