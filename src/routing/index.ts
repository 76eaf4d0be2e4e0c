/**
 * tortie/routing: for one node, the BGP speaker's desired configuration and the kernel dataplane
 * plan, computed from projectcalico.org/v3 resources and IPAM facts (calico-compat.md §5, §6).
 */
export type * from './types.js';
export { planBgp, bgpPlanner, planDataplane, dataplanePlanner, vxlanMac, hashRouterId, type BgpPlanner } from './plan.js';
export { VXLAN_DEVICE, IPIP_DEVICE } from './kernel.js';
