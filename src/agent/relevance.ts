/**
 * Which datastore changes can change THIS node's routing. Every agent watches all of `/calico/`,
 * and every pod ADD/DEL anywhere writes an IPAM block (and a new block its affinity): re-reading
 * and re-planning on each of those made the cost of one pod grow with the cluster — N agents × a
 * full re-read — and delayed the one agent that must act (bench/convergence.ts). Calico's confd
 * watches only `/calico/ipam/v2/host/<this node>/`. Here the datastore's wake topics
 * (datastore/wake.ts) decide, so what wakes an agent's watch and what it acts on are the same:
 *  - `routing` (nodes, pools, BGP kinds, Felix and IPAM configuration, anything unknown): always;
 *  - `node.<this node>` (its affinities; blocks affine to it, before or after, or holding an address
 *    it borrowed — its /32 is exported): always;
 *  - `blocks` (a block's owner or borrowed addresses changed): only when VXLAN is in use, where this
 *    node programs routes to every other node's blocks and borrowed addresses itself;
 *  - handles, status reports, endpoints, policies: never.
 */
import { WAKE_BLOCKS, WAKE_ROUTING, wakeNode, wakeTopics } from '../datastore/wake.js';
import type { WatchEvent } from '../datastore/watcher.js';

export interface RelevanceContext {
  node: string;
  /** Some pool uses VXLAN (Always or CrossSubnet), or Felix forces it. */
  vxlan: boolean;
}

/** The wake topics the agent of `ctx.node` subscribes to. */
export function agentWakeTopics(ctx: RelevanceContext): string[] {
  return ctx.vxlan ? [WAKE_ROUTING, wakeNode(ctx.node), WAKE_BLOCKS] : [WAKE_ROUTING, wakeNode(ctx.node)];
}

/** By the topics the writer recorded (SQLite), else worked out from the old and new values. */
export function eventRelevant(ev: WatchEvent, ctx: RelevanceContext): boolean {
  const wanted = agentWakeTopics(ctx);
  return (ev.topics ?? wakeTopics(ev.key, ev.old, ev.new)).some((t) => wanted.includes(t));
}

/** Whether the resources in a snapshot put VXLAN in use (pools or FelixConfiguration). */
export function vxlanInUse(pools: readonly { spec?: unknown }[], felix: readonly { spec?: unknown }[] = []): boolean {
  if (felix.some((f) => (f.spec as { vxlanEnabled?: boolean } | undefined)?.vxlanEnabled === true)) return true;
  return pools.some((p) => {
    const s = (p.spec ?? {}) as { vxlanMode?: string; disabled?: boolean };
    return s.vxlanMode === 'Always' || s.vxlanMode === 'CrossSubnet';
  });
}
