/**
 * FRR 8.4 for the lab's external routers (`kind: frr`): the per-daemon config files and parsers
 * for the `vtysh … json` answers `lab up` and `lab status` read. Same behaviour as the BIRD
 * router (router.ts); routers.ts runs the daemons.
 *
 * One file per daemon, no integrated frr.conf (each daemon is started with `-f`):
 *  - zebra.conf: zebra always runs; it writes what bgpd and staticd choose into the kernel;
 *  - staticd.conf: only with static routes. Since FRR 7 static routes are staticd's, and zebra
 *    refuses `ip route` in its own file ("No such command") — so the lab starts staticd;
 *  - bgpd.conf: only with peers (a router without peers speaks no BGP).
 * Tricky bits:
 *  - FRR ≥ 7.4 drops every eBGP route in and out without a policy (`bgp ebgp-requires-policy`);
 *    the lab turns that off and exports nothing through an explicit deny-all route-map;
 *  - iBGP next hops resolve through zebra's connected routes, so on-link iBGP peers need nothing
 *    (BIRD needs `direct;`);
 *  - the connect retry timer is per neighbour (`timers connect`), the keepalive/hold pair global.
 */
import { generatedBy, LAB_TIMERS, localAddressFor, type RouterRoute, type RouterSession, type SegCidr } from './router.js';
import type { LabRouter } from './topology.js';

/** The FRR daemons a router needs, in start order (zebra first: the others connect to it). */
export type FrrDaemon = 'zebra' | 'staticd' | 'bgpd';

export function frrDaemons(r: LabRouter): FrrDaemon[] {
  return ['zebra', ...(r.staticRoutes?.length ? (['staticd'] as const) : []), ...(r.peers.length ? (['bgpd'] as const) : [])];
}

/** The route-map every neighbour exports through: nothing passes. */
export const EXPORT_NONE = 'TL-EXPORT-NONE';

/** Config files for `r`, one per daemon of frrDaemons(r). `segCidr` says which segment holds an address. */
export function renderFrr(r: LabRouter, lab: string, segCidr: SegCidr): Partial<Record<FrrDaemon, string>> & { zebra: string } {
  const head = (d: FrrDaemon) => [generatedBy(r, lab, '!'), `! FRR ${d} configuration`, `hostname ${r.name}`, 'log stdout informational', '!'];
  const out: Partial<Record<FrrDaemon, string>> & { zebra: string } = { zebra: text(head('zebra')) };
  if (r.staticRoutes?.length) {
    out.staticd = text([...head('staticd'), '! Static routes (the topology\'s staticRoutes), into the kernel through zebra.', ...r.staticRoutes.map((x) => `ip route ${x.cidr} ${x.via}`), '!']);
  }
  if (r.peers.length) {
    const lines = [
      ...head('bgpd'),
      '! Export nothing: the cluster\'s routes come in, nothing goes out.',
      `route-map ${EXPORT_NONE} deny 10`,
      'exit',
      '!',
      `router bgp ${r.asNumber}`,
      ` bgp router-id ${r.interfaces[0]!.address}`,
      ' ! FRR >= 7.4 drops eBGP routes without a policy; import is "everything", export the route-map.',
      ' no bgp ebgp-requires-policy',
      ' no bgp default ipv4-unicast',
      ` timers bgp ${LAB_TIMERS.keepalive} ${LAB_TIMERS.hold}`,
    ];
    for (const p of r.peers) {
      const a = p.address;
      lines.push(
        ' !',
        ` neighbor ${a} remote-as ${p.asNumber}`,
        ` neighbor ${a} description ${p.host ? `host ${p.host}` : 'peer'}, ${p.asNumber === r.asNumber ? 'iBGP' : 'eBGP'}`,
        ` neighbor ${a} update-source ${localAddressFor(r, a, segCidr)}`,
        // Lab timers: a session that failed retries within a second (default 120 s).
        ` neighbor ${a} timers connect ${LAB_TIMERS.connectRetry}`,
      );
    }
    lines.push(' !', ' address-family ipv4 unicast');
    for (const p of r.peers) lines.push(`  neighbor ${p.address} activate`, `  neighbor ${p.address} route-map ${EXPORT_NONE} out`);
    lines.push(' exit-address-family', 'exit', '!');
    out.bgpd = text(lines);
  }
  return out;
}

function text(lines: string[]): string {
  return lines.join('\n') + '\n';
}

interface FrrNeighbor {
  bgpState?: string;
  bgpTimerUpString?: string;
  lastResetDueTo?: string;
}

/** `show bgp neighbors json` (bgpd): one session per neighbour. */
export function parseFrrNeighbors(json: string): RouterSession[] {
  const j = JSON.parse(json.trim() || '{}') as Record<string, FrrNeighbor>;
  return Object.entries(j)
    .filter(([address]) => /^\d+\.\d+\.\d+\.\d+$/.test(address))
    .map(([address, v]) => {
      const state = v.bgpState ?? 'unknown';
      const established = state === 'Established';
      const more = established ? v.bgpTimerUpString && `up ${v.bgpTimerUpString}` : v.lastResetDueTo && `last reset: ${v.lastResetDueTo}`;
      return { address, state: established ? 'up' : 'down', info: more ? `${state} (${more})` : state, established };
    });
}

interface FrrBgpPath {
  bestpath?: boolean;
  peerId?: string;
  nexthops?: { ip?: string; used?: boolean }[];
}

/** `show bgp ipv4 unicast json` (bgpd): every path of every prefix, as BIRD's `show route` lists them. */
export function parseFrrBgpRoutes(json: string): RouterRoute[] {
  const j = JSON.parse(json.trim() || '{}') as { routes?: Record<string, FrrBgpPath[]> };
  return Object.entries(j.routes ?? {}).flatMap(([prefix, paths]) =>
    paths.map((p) => {
      const nh = (p.nexthops?.find((n) => n.used) ?? p.nexthops?.[0])?.ip;
      return { prefix, ...(nh ? { nextHop: nh } : {}), from: p.peerId ?? '', best: !!p.bestpath };
    }),
  );
}

interface FrrRibEntry {
  protocol?: string;
  selected?: boolean;
  nexthops?: { ip?: string; active?: boolean }[];
}

/** `show ip route <protocol> json` (zebra): its routes of that protocol (`static`). */
export function parseFrrRib(json: string): RouterRoute[] {
  const j = JSON.parse(json.trim() || '{}') as Record<string, FrrRibEntry[]>;
  return Object.entries(j).flatMap(([prefix, entries]) =>
    entries.map((e) => {
      const nh = (e.nexthops?.find((n) => n.active) ?? e.nexthops?.[0])?.ip;
      return { prefix, ...(nh ? { nextHop: nh } : {}), from: e.protocol ?? '', best: !!e.selected };
    }),
  );
}
