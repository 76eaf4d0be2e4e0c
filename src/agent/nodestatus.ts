/**
 * CalicoNodeStatus (calico-compat.md §7): a user creates one per node to observe it; the agent
 * fills `status` every `updatePeriodSeconds` (0 stops refreshing) with the classes asked for —
 * `Agent` (the BGP daemon's state), `BGP` (sessions), `Routes` (what the speaker knows). Pure:
 * `nodeStatusFor` builds the status from the agent's state; the agent writes it.
 */
import type { AgentPeerStatus } from './status-types.js';

export interface RouteFacts {
  prefix: string;
  nextHop: string;
  best: boolean;
  /** peer address or `local` */
  from: string;
  /** The peer's type when learned over BGP. */
  peerType?: AgentPeerStatus['type'];
}

export interface StatusFacts {
  now: Date;
  version: string;
  routerId: string;
  enabled: boolean;
  startedAt: Date;
  lastReconfiguredAt: Date;
  peers: readonly AgentPeerStatus[];
  routes: readonly RouteFacts[];
}

const rfc3339 = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
const PEER_TYPE = { Mesh: 'NodeMesh', Node: 'NodePeer', Global: 'GlobalPeer' } as const;

/** Whether a status last written at `lastUpdated` is due for a refresh. */
export function statusDue(spec: { updatePeriodSeconds?: number | null }, lastUpdated: string | null | undefined, now: Date): boolean {
  const period = spec.updatePeriodSeconds ?? 0;
  if (period <= 0) return false;
  if (!lastUpdated) return true;
  const t = Date.parse(lastUpdated);
  return !Number.isFinite(t) || now.getTime() - t >= period * 1000;
}

export function nodeStatusFor(classes: readonly string[], f: StatusFacts): Record<string, unknown> {
  const daemon = (v6: boolean) => ({
    state: f.enabled && (!v6 || f.peers.some((p) => p.family === 'ipv6')) ? 'Ready' : 'NotReady',
    version: `tortie ${f.version}`,
    routerID: f.routerId,
    lastBootTime: rfc3339(f.startedAt),
    lastReconfigurationTime: rfc3339(f.lastReconfiguredAt),
  });
  const status: Record<string, unknown> = {
    lastUpdated: rfc3339(f.now),
    agent: { birdV4: {}, birdV6: {} },
    bgp: { numberEstablishedV4: 0, numberNotEstablishedV4: 0, numberEstablishedV6: 0, numberNotEstablishedV6: 0 },
    routes: {},
  };
  if (classes.includes('Agent')) status.agent = { birdV4: daemon(false), birdV6: daemon(true) };
  if (classes.includes('BGP')) {
    const fam = (v: 'ipv4' | 'ipv6') => f.peers.filter((p) => p.family === v);
    const peers = (v: 'ipv4' | 'ipv6') =>
      fam(v).map((p) => ({ peerIP: p.address, type: PEER_TYPE[p.type], state: p.bgpState, since: rfc3339(new Date(p.since)) }));
    const bgp: Record<string, unknown> = {
      numberEstablishedV4: fam('ipv4').filter((p) => p.bgpState === 'Established').length,
      numberNotEstablishedV4: fam('ipv4').filter((p) => p.bgpState !== 'Established').length,
      numberEstablishedV6: fam('ipv6').filter((p) => p.bgpState === 'Established').length,
      numberNotEstablishedV6: fam('ipv6').filter((p) => p.bgpState !== 'Established').length,
    };
    if (fam('ipv4').length) bgp.peersV4 = peers('ipv4');
    if (fam('ipv6').length) bgp.peersV6 = peers('ipv6');
    status.bgp = bgp;
  }
  if (classes.includes('Routes')) {
    const conv = (r: RouteFacts) => ({
      type: r.best ? 'FIB' : 'RIB',
      destination: r.prefix,
      gateway: r.from === 'local' ? 'N/A' : r.nextHop,
      interface: r.from === 'local' ? 'blackhole' : '',
      learnedFrom:
        r.from === 'local'
          ? { sourceType: 'Static' }
          : { sourceType: r.peerType === 'Mesh' ? 'NodeMesh' : 'BGPPeer', peerIP: r.from },
    });
    const routes: Record<string, unknown> = {};
    const v4 = f.routes.filter((r) => !r.prefix.includes(':')).map(conv);
    const v6 = f.routes.filter((r) => r.prefix.includes(':')).map(conv);
    if (v4.length) routes.routesV4 = v4;
    if (v6.length) routes.routesV6 = v6;
    status.routes = routes;
  }
  return status;
}
