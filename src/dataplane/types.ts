/**
 * The dataplane's desired state (what `routing/` plans) and the Netlink port it programs the kernel
 * through. The real port is `netlink.ts` (the `netlink` npm package, rtnetlink); `fake.ts` is an
 * in-memory kernel for unit tests.
 */
export type { DataplanePlan, KernelRoute, VxlanDevice, VxlanPeer, IpipDevice, NatPlan } from '../routing/types.js';

/** tortie's route protocol number (rtnetlink `rtm_protocol`): BIRD uses 12, Felix 80, FRR 186–196. */
export const TORTIE_ROUTE_PROTO = 93;
