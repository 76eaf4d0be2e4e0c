/**
 * Tunnel devices (calico-compat §6.3, §6.4): `vxlan.calico` with its address, per-VTEP neighbours
 * and FDB entries, and `tunl0` with its address.
 *
 * vxlan.calico
 *  - VNI, UDP port, local address and parent device are fixed at creation: when any differs (or
 *    learning is on, or the name belongs to another kind of device) the device is deleted and
 *    created again — felix's `vxlanLinksIncompat` rule. Its routes go with it; the route
 *    reconciler, which runs afterwards from a fresh listing, puts them back.
 *  - MTU, MAC and up/down are fixed in place (a MAC change flushes the device's neighbours, permanent
 *    ones too — so the neighbours are reconciled after the link).
 *  - The tunnel address is the device's only IPv4 address (others are removed).
 *  - Per remote VTEP: a permanent neighbour `<tunnelIP> lladdr <mac>` (the overlay next hop never
 *    needs ARP) and a permanent FDB entry `<mac> dst <nodeIP> self` (where to send the frame).
 *    Stale permanent neighbours and every stale FDB entry are removed; non-permanent neighbour
 *    entries are the kernel's cache and left to it.
 *  - Not desired (e.g. the pools moved to IPIP): the device is deleted, which takes its
 *    neighbours, FDB and any route through it along.
 *
 * tunl0 is the ipip module's per-namespace fallback device: it cannot be deleted while the
 * module is loaded, so "not desired" means: strip its IPv4 addresses and take it down.
 * A kernel without ipip is reported once per apply as an IPIP_UNSUPPORTED warning.
 */
import { IP, MAC, Prefix } from '../net/index.js';
import { diffByKey } from './diff.js';
import { DataplaneError } from './errors.js';
import type { Address, FdbEntry, Link, LinkChange, Neighbor } from './port.js';
import type { Run } from './report.js';
import type { IpipDevice, VxlanDevice } from './types.js';

export const VXLAN_DEVICE = 'vxlan.calico';
export const IPIP_DEVICE = 'tunl0';

/** `10.0.0.1` or `10.0.0.1/32` → `10.0.0.1/32` (the plan's tunnel address is a host address). */
export function hostCidr(address: string): string | undefined {
  const [a, len] = address.split('/');
  const ip = IP.tryParse(a ?? '');
  if (!ip) return undefined;
  const cidr = `${ip.toString()}/${len ?? ip.bits}`;
  return Prefix.tryParseCIDR(cidr) ? cidr : undefined;
}

const isLinkLocal6 = (cidr: string): boolean => /^fe[89ab][0-9a-f]:/i.test(cidr);

/** Makes `dev` carry `want` and no other address of its family (IPv6 link-local ones excepted). */
async function reconcileAddress(run: Run, dev: string, want: string): Promise<void> {
  const have = await run.read(`addresses of ${dev}`, () => run.netlink.listAddresses(dev));
  if (!have) return;
  const family = want.includes(':');
  const rep = run.report.addresses;
  for (const a of have) {
    if (a.cidr === want || a.cidr.includes(':') !== family || isLinkLocal6(a.cidr)) continue;
    await run.attempt(`addr del ${a.cidr} dev ${dev}`, () => run.netlink.delAddress(a), () => rep.deleted++, { goneIsFine: true });
  }
  if (!have.some((a) => a.cidr === want)) {
    const add: Address = { dev, cidr: want };
    await run.attempt(`addr add ${want} dev ${dev}`, () => run.netlink.addAddress(add), () => rep.added++);
  }
}

/** Why an existing vxlan.calico cannot be kept, or undefined when it can. */
function incompatible(cur: Link, want: VxlanDevice, parent: Link, local: string): string | undefined {
  const v = cur.vxlan;
  if (cur.kind !== 'vxlan' || !v) return `it is a ${cur.kind} device`;
  if (v.vni !== want.vni) return `VNI ${v.vni} ≠ ${want.vni}`;
  if (v.port !== want.port) return `port ${v.port} ≠ ${want.port}`;
  if (v.local !== local) return `local ${v.local ?? 'any'} ≠ ${local}`;
  if (v.parentIndex !== parent.index) return `parent ifindex ${v.parentIndex ?? 'none'} ≠ ${parent.index} (${parent.name})`;
  if (v.learning) return 'learning is on';
  return undefined;
}

export async function ensureVxlan(run: Run, links: readonly Link[], vx: VxlanDevice): Promise<void> {
  const name = VXLAN_DEVICE;
  const parent = links.find((l) => l.name === vx.parent);
  const local = IP.tryParse(vx.localIP)?.toString();
  const mac = MAC.tryParse(vx.mac)?.toString();
  const cidr = hostCidr(vx.address);
  if (!parent) return run.error('NO_SUCH_LINK', `${name} not configured: its parent interface ${vx.parent} does not exist`);
  if (!local || !mac || !cidr) {
    return run.error('INVALID_PLAN', `${name} not configured: bad local IP ${vx.localIP}, MAC ${vx.mac} or address ${vx.address}`);
  }
  const dev = run.report.devices;
  let cur = links.find((l) => l.name === name);
  const why = cur && incompatible(cur, vx, parent, local);
  if (cur && why) {
    const ok = await run.attempt(`link del ${name} (${why})`, () => run.netlink.deleteLink(name), () => dev.deleted++);
    if (!ok) return;
    cur = undefined;
  }
  if (!cur) {
    const spec = { name, vni: vx.vni, port: vx.port, local, parent: parent.name, mac, mtu: vx.mtu };
    const made = await run.attempt(`link add ${name} type vxlan id ${vx.vni}`, () => run.netlink.createVxlan(spec), () => dev.created++);
    if (!made) return;
    await run.attempt(`link set ${name} up`, () => run.netlink.setLink(name, { up: true }));
  } else {
    const change: LinkChange = {};
    if (cur.mtu !== vx.mtu) change.mtu = vx.mtu;
    if (cur.mac !== mac) change.mac = mac;
    if (!cur.up) change.up = true;
    if (Object.keys(change).length > 0) {
      await run.attempt(`link set ${name} ${JSON.stringify(change)}`, () => run.netlink.setLink(name, change), () => dev.updated++);
    }
  }
  // Neighbours are listed only now: a MAC change above made the kernel flush them (NETDEV_CHANGEADDR).
  await reconcileAddress(run, name, cidr);
  await reconcilePeers(run, vx);
}

/** Neighbours and FDB entries of the remote VTEPs. */
async function reconcilePeers(run: Run, vx: VxlanDevice): Promise<void> {
  const dev = VXLAN_DEVICE;
  const neigh: Neighbor[] = [];
  const fdb: { dev: string; mac: string; dst: string }[] = [];
  for (const p of vx.peers) {
    const ip = IP.tryParse(p.tunnelIP)?.toString();
    const mac = MAC.tryParse(p.mac)?.toString();
    const node = IP.tryParse(p.nodeIP)?.toString();
    if (!ip || !mac || !node) {
      run.error('INVALID_PLAN', `VTEP of node ${p.nodeName} skipped: bad tunnel IP ${p.tunnelIP}, MAC ${p.mac} or node IP ${p.nodeIP}`);
      continue;
    }
    neigh.push({ dev, ip, mac, permanent: true });
    fdb.push({ dev, mac, dst: node });
  }

  const haveNeigh = await run.read(`neighbours on ${dev}`, () => run.netlink.listNeighbors(dev));
  if (haveNeigh) {
    const wanted = new Set(neigh.map((n) => n.ip));
    const ours = haveNeigh.filter((n) => n.permanent || wanted.has(n.ip));
    const d = diffByKey(neigh, ours, (n) => n.ip, (n) => n.ip, (w, h) => h.permanent && h.mac === w.mac);
    const rep = run.report.neighbors;
    for (const n of d.add) await run.attempt(`neigh add ${n.ip} lladdr ${n.mac} dev ${dev}`, () => run.netlink.replaceNeighbor(n), () => rep.added++);
    for (const { desired: n } of d.change) {
      await run.attempt(`neigh replace ${n.ip} lladdr ${n.mac} dev ${dev}`, () => run.netlink.replaceNeighbor(n), () => rep.replaced++);
    }
    for (const n of d.remove) {
      await run.attempt(`neigh del ${n.ip} dev ${dev}`, () => run.netlink.deleteNeighbor(n), () => rep.deleted++, { goneIsFine: true });
    }
  }

  const haveFdb = await run.read(`FDB of ${dev}`, () => run.netlink.listFdb(dev));
  if (haveFdb) {
    const d = diffByKey(fdb, haveFdb, (e) => e.mac, (e: FdbEntry) => e.mac, (w, h) => h.permanent && h.dst === w.dst);
    const rep = run.report.fdb;
    for (const e of d.add) await run.attempt(`fdb add ${e.mac} dst ${e.dst} dev ${dev}`, () => run.netlink.replaceFdb(e), () => rep.added++);
    for (const { desired: e } of d.change) {
      await run.attempt(`fdb replace ${e.mac} dst ${e.dst} dev ${dev}`, () => run.netlink.replaceFdb(e), () => rep.replaced++);
    }
    for (const e of d.remove) {
      const del = { dev, mac: e.mac, ...(e.dst ? { dst: e.dst } : {}) };
      await run.attempt(`fdb del ${e.mac} dev ${dev}`, () => run.netlink.deleteFdb(del), () => rep.deleted++, { goneIsFine: true });
    }
  }
}

export async function removeVxlan(run: Run, links: readonly Link[]): Promise<void> {
  if (!links.some((l) => l.name === VXLAN_DEVICE)) return;
  const dev = run.report.devices;
  await run.attempt(`link del ${VXLAN_DEVICE}`, () => run.netlink.deleteLink(VXLAN_DEVICE), () => dev.deleted++, { goneIsFine: true });
}

export async function ensureIpip(run: Run, links: readonly Link[], ip: IpipDevice): Promise<void> {
  const name = IPIP_DEVICE;
  const cidr = hostCidr(ip.address);
  if (!cidr) return run.error('INVALID_PLAN', `${name} not configured: bad address ${ip.address}`);
  let cur = links.find((l) => l.name === name);
  if (!cur) {
    try {
      await run.netlink.createIpip(name);
    } catch (e) {
      if (e instanceof DataplaneError && e.code === 'IPIP_UNSUPPORTED') return run.warn(e.code, `IPIP not configured: ${e.message}`);
      if (e instanceof DataplaneError) return run.error(e.code, e.message);
      throw e;
    }
    run.report.changes++;
    run.report.devices.created++;
    const now = await run.read('links', () => run.netlink.listLinks());
    cur = now?.find((l) => l.name === name);
    if (!cur) return run.error('NO_SUCH_LINK', `${name} was created but is not listed`);
  }
  const change: LinkChange = {};
  if (cur.mtu !== ip.mtu) change.mtu = ip.mtu;
  if (!cur.up) change.up = true;
  if (Object.keys(change).length > 0) {
    const dev = run.report.devices;
    await run.attempt(`link set ${name} ${JSON.stringify(change)}`, () => run.netlink.setLink(name, change), () => dev.updated++);
  }
  await reconcileAddress(run, name, cidr);
}

/** IPIP not desired: tunl0 (if the module made one) keeps no address of ours and goes down. */
export async function retireIpip(run: Run, links: readonly Link[]): Promise<void> {
  const cur = links.find((l) => l.name === IPIP_DEVICE);
  if (!cur) return;
  const have = await run.read(`addresses of ${IPIP_DEVICE}`, () => run.netlink.listAddresses(IPIP_DEVICE));
  const rep = run.report.addresses;
  for (const a of have ?? []) {
    if (a.cidr.includes(':')) continue;
    await run.attempt(`addr del ${a.cidr} dev ${IPIP_DEVICE}`, () => run.netlink.delAddress(a), () => rep.deleted++, { goneIsFine: true });
  }
  if (cur.up) {
    const dev = run.report.devices;
    await run.attempt(`link set ${IPIP_DEVICE} down`, () => run.netlink.setLink(IPIP_DEVICE, { up: false }), () => dev.updated++);
  }
}
