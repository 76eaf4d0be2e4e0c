/**
 * Tunnel addresses (calico/node `allocateip.go`, calico-compat.md §4.5): a host with an IPIP or
 * VXLAN pool selecting it gets one address from such a pool for its tunnel device, written to
 * its Node (`spec.bgp.ipv4IPIPTunnelAddr`, `spec.ipv4VXLANTunnelAddr`, `spec.ipv6VXLANTunnelAddr`);
 * a host without one gets the field cleared and the address released.
 *
 * WireGuard addresses are not allocated: tortie has no WireGuard dataplane (and this kernel no
 * module).
 */
import { IP } from '../net/index.js';
import type { Client } from '../datastore/client.js';
import type { Resource } from '../api/meta.js';
import type { Ipam } from './ipam.js';
import { partialFulfillmentMessage } from './ipam.js';
import { poolFromResource, poolSelectsNode, type Pool } from './pools.js';

export type TunnelType = 'ipipTunnelAddress' | 'vxlanTunnelAddress' | 'vxlanV6TunnelAddress';
export const TUNNEL_TYPES: readonly TunnelType[] = ['ipipTunnelAddress', 'vxlanTunnelAddress', 'vxlanV6TunnelAddress'];

export function tunnelHandle(type: TunnelType, node: string): string {
  switch (type) {
    case 'ipipTunnelAddress':
      return `ipip-tunnel-addr-${node}`;
    case 'vxlanTunnelAddress':
      return `vxlan-tunnel-addr-${node}`;
    case 'vxlanV6TunnelAddress':
      return `vxlan-v6-tunnel-addr-${node}`;
  }
}

/** The pools a tunnel address of `type` may come from (`determineEnabledPoolCIDRs`). */
export function tunnelPools(type: TunnelType, pools: readonly Pool[], labels: Record<string, string>): Pool[] {
  return pools.filter((p) => {
    if (!p.allowedUses.includes('Tunnel') || p.disabled || !poolSelectsNode(p, labels)) return false;
    const on = (m: string): boolean => m === 'Always' || m === 'CrossSubnet';
    if (type === 'ipipTunnelAddress') return p.cidr.version === 4 && on(p.ipipMode);
    if (type === 'vxlanTunnelAddress') return p.cidr.version === 4 && on(p.vxlanMode);
    return p.cidr.version === 6 && on(p.vxlanMode);
  });
}

function getAddr(spec: Record<string, unknown>, type: TunnelType): string {
  if (type === 'ipipTunnelAddress') return String((spec.bgp as Record<string, unknown> | undefined)?.ipv4IPIPTunnelAddr ?? '');
  if (type === 'vxlanTunnelAddress') return String(spec.ipv4VXLANTunnelAddr ?? '');
  return String(spec.ipv6VXLANTunnelAddr ?? '');
}

function setAddr(spec: Record<string, unknown>, type: TunnelType, addr: string): void {
  if (type === 'ipipTunnelAddress') {
    const bgp = { ...((spec.bgp as Record<string, unknown> | undefined) ?? {}) };
    if (addr) bgp.ipv4IPIPTunnelAddr = addr;
    else delete bgp.ipv4IPIPTunnelAddr;
    if (Object.keys(bgp).length) spec.bgp = bgp;
    else delete spec.bgp;
    return;
  }
  const field = type === 'vxlanTunnelAddress' ? 'ipv4VXLANTunnelAddr' : 'ipv6VXLANTunnelAddr';
  if (addr) spec[field] = addr;
  else delete spec[field];
}

export interface TunnelResult {
  /** The node's addresses after reconciliation, by type ('' = none). */
  addresses: Record<TunnelType, string>;
  /** Whether the Node was written. */
  updated: boolean;
}

/**
 * Brings one node's tunnel addresses in line with the pools (`reconcileTunnelAddrs`). Addresses
 * assigned by this call are released again if a later step fails, so a failure leaves the
 * datastore as it was.
 */
export async function reconcileTunnelAddresses(client: Client, ipam: Ipam, nodeName: string): Promise<TunnelResult> {
  const node: Resource = await client.get({ kind: 'Node', name: nodeName });
  const pools = (await client.list('IPPool')).items.map(poolFromResource);
  const labels = { ...(node.metadata.labels ?? {}) };
  const spec: Record<string, unknown> = structuredClone((node.spec ?? {}) as Record<string, unknown>);
  const before = JSON.stringify(spec);
  const assigned: TunnelType[] = [];
  try {
    for (const type of TUNNEL_TYPES) {
      const candidates = tunnelPools(type, pools, labels);
      if (candidates.length) {
        const ip = await ensureTunnelAddress(ipam, nodeName, spec, type, candidates);
        if (ip) assigned.push(type);
      } else {
        await removeTunnelAddress(ipam, nodeName, spec, type);
      }
    }
    let updated = false;
    if (JSON.stringify(spec) !== before) {
      await client.update({ ...node, spec });
      updated = true;
    }
    return { addresses: Object.fromEntries(TUNNEL_TYPES.map((t) => [t, getAddr(spec, t)])) as Record<TunnelType, string>, updated };
  } catch (e) {
    for (const t of assigned) await ipam.releaseByHandle(tunnelHandle(t, nodeName)).catch(() => undefined);
    throw e;
  }
}

/** Keeps a valid current address, else assigns one. Returns the new address, '' when kept. */
async function ensureTunnelAddress(ipam: Ipam, node: string, spec: Record<string, unknown>, type: TunnelType, pools: Pool[]): Promise<string> {
  const handle = tunnelHandle(type, node);
  const addr = getAddr(spec, type);
  if (addr !== '') {
    const ip = IP.tryParse(addr);
    if (!ip) throw new Error(`failed to parse the CIDR '${addr}'`);
    const a = await ipam.assignment(ip);
    const attrs = a?.attrs.secondary ?? {};
    if (a && attrs.type === type && attrs.node === node) {
      if (pools.some((p) => p.cidr.contains(ip))) return '';
    } else if (a && Object.keys(attrs).length === 0 && a.attrs.handle_id === undefined) {
      // An address from before handles and attributes: take it over properly if we can.
      try {
        await ipam.releaseIPs([{ ip }]);
        await ipam.assignIP({ ip, handle, attrs: { node, type }, hostname: node, use: 'Tunnel' });
        return '';
      } catch {
        // someone else took it: assign a new one
      }
    }
    // An address someone else holds now is left to them.
  }
  // Whatever the handle still holds is this node's old tunnel address of this type: release it
  // before taking a new one (Calico skips this when the Node points at someone else's address,
  // and leaks the old one).
  await ipam.releaseByHandle(handle);
  const version = type === 'vxlanV6TunnelAddress' ? 6 : 4;
  const names = pools.map((p) => p.cidr.toString());
  const r = await ipam.autoAssign({
    ...(version === 4 ? { num4: 1, pools4: names } : { num6: 1, pools6: names }),
    handle,
    attrs: { node, type },
    hostname: node,
    use: 'Tunnel',
  });
  const got = version === 4 ? r.v4 : r.v6;
  const msg = partialFulfillmentMessage(got);
  if (msg || !got.ips[0]) throw new Error(got.error ? `${got.error.message}: ${msg}` : msg ?? 'no address assigned');
  const ip = got.ips[0].ip.toString();
  setAddr(spec, type, ip);
  return ip;
}

async function removeTunnelAddress(ipam: Ipam, node: string, spec: Record<string, unknown>, type: TunnelType): Promise<void> {
  const addr = getAddr(spec, type);
  setAddr(spec, type, '');
  const handle = tunnelHandle(type, node);
  const n = await ipam.releaseByHandle(handle);
  if (n > 0 || !addr) return;
  const ip = IP.tryParse(addr);
  if (!ip) return;
  const a = await ipam.assignment(ip);
  if (!a) return;
  const attrs = a.attrs.secondary ?? {};
  if (Object.keys(attrs).length === 0 && a.attrs.handle_id === undefined) await ipam.releaseIPs([{ ip }]);
  else if (a.attrs.handle_id === handle) await ipam.releaseIPs([{ ip, handle }]);
}

