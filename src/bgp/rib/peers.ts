/*
 * The peers the RIB knows, by small index.
 *
 * Every route in the RIB records where it came from as a uint16 peer index, not as an object; this table turns the
 * index back into what the decision process and the export rules need (session type, BGP identifier, address,
 * route-reflector client flag). Index 0 is always the local speaker: routes it holds are "locally originated".
 * Freed indexes are reused, so a caller must flush a peer's routes before removing it.
 */

import { v4Parse } from '../../net/v4.js';
import { v6Parse } from '../../net/v6.js';
import { RibError } from './errors.js';

export type PeerKind = 'local' | 'ibgp' | 'ebgp';

export interface PeerInfo {
  readonly index: number;
  readonly kind: PeerKind;
  /** The peer's AS (ours for iBGP and for the local entry). */
  readonly asn: number;
  /** BGP identifier as a uint32 (RFC 6286). */
  readonly routerId: number;
  /** Peer address as text; '' for the local entry. */
  readonly address: string;
  /** Sort key for RFC 4271 §9.1.2.2 g): IPv4 before IPv6, then numerically. */
  readonly addressKey: string;
  /** RFC 4456: this iBGP peer is one of our route-reflector clients. */
  readonly rrClient: boolean;
}

export interface PeerSpec {
  kind: Exclude<PeerKind, 'local'>;
  asn: number;
  /** Dotted quad. */
  routerId: string;
  address: string;
  rrClient?: boolean;
}

export const LOCAL_PEER = 0;
/** Stored in uint16 peer columns for "no peer". */
export const NO_PEER = 0xffff;

/** A sortable key for an address: "4" + 8 hex digits, or "6" + 32 hex digits. */
export function addressKey(address: string): string {
  const v4 = v4Parse(address);
  if (v4 >= 0) return '4' + v4.toString(16).padStart(8, '0');
  const v6 = v6Parse(address);
  if (v6 !== undefined) return '6' + v6.toString(16).padStart(32, '0');
  return '9' + address;
}

export function routerIdNumber(id: string): number {
  const n = v4Parse(id);
  return n < 0 ? 0 : n;
}

export class PeerTable {
  private readonly peers: (PeerInfo | undefined)[] = [];
  private readonly free: number[] = [];

  constructor(local: { asn: number; routerId: string }) {
    this.peers[LOCAL_PEER] = Object.freeze({
      index: LOCAL_PEER,
      kind: 'local',
      asn: local.asn,
      routerId: routerIdNumber(local.routerId),
      address: '',
      addressKey: '',
      rrClient: false,
    });
  }

  get local(): PeerInfo {
    return this.peers[LOCAL_PEER] as PeerInfo;
  }

  add(spec: PeerSpec): PeerInfo {
    const index = this.free.length > 0 ? (this.free.pop() as number) : this.peers.length;
    if (index >= NO_PEER) throw new RibError('TOO_MANY_PEERS', 'at most 65,534 peers');
    const info: PeerInfo = Object.freeze({
      index,
      kind: spec.kind,
      asn: spec.asn,
      routerId: routerIdNumber(spec.routerId),
      address: spec.address,
      addressKey: addressKey(spec.address),
      rrClient: spec.kind === 'ibgp' && spec.rrClient === true,
    });
    this.peers[index] = info;
    return info;
  }

  /** Replaces a peer's facts (e.g. the router id learned from its OPEN), keeping its index. */
  update(index: number, spec: PeerSpec): PeerInfo {
    this.get(index);
    if (index === LOCAL_PEER) throw new RibError('UNKNOWN_PEER', 'the local entry cannot be updated');
    const info: PeerInfo = Object.freeze({
      index,
      kind: spec.kind,
      asn: spec.asn,
      routerId: routerIdNumber(spec.routerId),
      address: spec.address,
      addressKey: addressKey(spec.address),
      rrClient: spec.kind === 'ibgp' && spec.rrClient === true,
    });
    this.peers[index] = info;
    return info;
  }

  remove(index: number): void {
    if (index === LOCAL_PEER || this.peers[index] === undefined) return;
    this.peers[index] = undefined;
    this.free.push(index);
  }

  get(index: number): PeerInfo {
    const p = this.peers[index];
    if (p === undefined) throw new RibError('UNKNOWN_PEER', `no peer with index ${index}`);
    return p;
  }

  has(index: number): boolean {
    return this.peers[index] !== undefined;
  }
}
