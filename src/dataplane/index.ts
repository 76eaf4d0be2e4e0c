/**
 * tortie/dataplane: converges the Linux kernel to a `DataplanePlan` — routes of protocol 93 in the
 * main table, vxlan.calico (+ neighbours, FDB), tunl0, nftables NAT, forwarding sysctls — through
 * ports (`Netlink`, `Sysctl`, `Nft`) with a real implementation (rtnetlink, /proc/sys, `nft`) and
 * an in-memory fake (`FakeKernel`) for tests.
 *
 *   const dp = createKernelDataplane(log);
 *   const report = await dp.apply(plan);   // only the difference is applied
 *   dp.close();
 */
import { Dataplane } from './dataplane.js';
import { KernelNetlink } from './netlink.js';
import type { DataplaneLogger } from './report.js';
import { NftCommand, ProcSysctl } from './system.js';

export { Dataplane, type DataplaneOptions, type ApplyOptions } from './dataplane.js';
export type { ApplyReport, ApplyIssue, Counts, DataplaneLogger, DataplaneLogLevel } from './report.js';
export { DataplaneError, isDataplaneError, type DataplaneErrorCode, type KernelErrno } from './errors.js';
export type { Netlink, Sysctl, Nft, Link, VxlanInfo, VxlanSpec, LinkChange, Address, Route, RouteType, Neighbor, FdbEntry, Family } from './port.js';
export { describeRoute } from './port.js';
export { KernelNetlink, type KernelNetlinkOptions } from './netlink.js';
export { ProcSysctl, NftCommand } from './system.js';
export { FakeKernel, type FakeKernelOptions } from './fake.js';
export { detectHostMtu, DEFAULT_MTU_IFACE_PATTERN, DEFAULT_HOST_MTU, MTU_OVERHEAD } from './mtu.js';
export { renderNat, normalizeNft, natScript, NAT_TABLES, type NatTableId } from './nat.js';
export { VXLAN_DEVICE, IPIP_DEVICE } from './devices.js';
export { TORTIE_ROUTE_PROTO } from './types.js';
export type { DataplanePlan, KernelRoute, VxlanDevice, VxlanPeer, IpipDevice, NatPlan } from './types.js';

/** The dataplane on this host's kernel (the current network namespace). */
export function createKernelDataplane(log?: DataplaneLogger): Dataplane {
  return new Dataplane({ netlink: new KernelNetlink(), sysctl: new ProcSysctl(), nft: new NftCommand(), ...(log ? { log } : {}) });
}
