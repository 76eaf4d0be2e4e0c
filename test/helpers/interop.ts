/**
 * Shared pieces of the BGP interop tests (test/integration/bgp-interop-*.test.ts): tortie's speaker
 * (in a child process, tortie-proc.ts) in one namespace, a real daemon (daemons.ts) in another,
 * a veth between them; and the daemon-specific commands the scenarios need (withdraw one of its
 * own routes, re-send its routes, ask tortie for a refresh, show RFC 4456 attributes).
 *
 * Topology of a pair lab n (n unique per test process):
 *   ns t<pid>-<tag>-t  eth0 10.200.n.1/24 fd00:200:n::1/64   tortie (listens on [::]:179)
 *   ns t<pid>-<tag>-d  eth0 10.200.n.2/24 fd00:200:n::2/64   the daemon (port 179)
 * Each side has one IPv4 session (IPv4 unicast) and one IPv6 session (IPv6 unicast) to the other,
 * as Calico runs them (and as BIRD 1.6, whose IPv6 is the separate bird6, needs).
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createNetns, createVethPair, sleep, type Netns } from './netns.js';
import { DAEMON_KINDS, canonicalIp, canonicalPrefix, isV6, waitFor, type DaemonHandle, type DaemonKind, type RouteInfo } from './daemons.js';
import type { TortieProc, WireRecord } from './tortie-proc.js';
import type { RouteEntry } from '../../src/bgp/speaker.js';

export const TORTIE_AS = 4200000001;
export const DAEMON_AS = 4200000002;
export const IBGP_AS = 4200000003;

export interface PairLab {
  n: number;
  tns: Netns;
  dns: Netns;
  t4: string;
  t6: string;
  d4: string;
  d6: string;
}

export function pairLab(tag: string, n: number): PairLab {
  const tns = createNetns(`${tag}-t`);
  const dns = createNetns(`${tag}-d`);
  noDad(tns, dns);
  const lab: PairLab = { n, tns, dns, t4: `10.200.${n}.1`, d4: `10.200.${n}.2`, t6: `fd00:200:${n}::1`, d6: `fd00:200:${n}::2` };
  createVethPair({ ns: tns, ifname: 'eth0', addresses: [`${lab.t4}/24`, `${lab.t6}/64`] }, { ns: dns, ifname: 'eth0', addresses: [`${lab.d4}/24`, `${lab.d6}/64`] });
  waitLinkLocal(tns, 'eth0');
  waitLinkLocal(dns, 'eth0');
  return lab;
}

/**
 * No IPv6 duplicate address detection on interfaces created later in these namespaces: the
 * link-local address is usable at once. Otherwise it turns up 1–2 s after the link, and BIRD 1.6
 * (bird6) then sees eth0 "go down" and restarts its direct sessions in the middle of a test.
 */
export function noDad(...nss: Netns[]): void {
  for (const ns of nss) {
    ns.sysctl('net.ipv6.conf.default.accept_dad', 0);
    ns.sysctl('net.ipv6.conf.all.accept_dad', 0);
  }
}

/** Waits (up to 3 s) until `ifname` has a usable IPv6 link-local address (see noDad). */
export function waitLinkLocal(ns: Netns, ifname: string): void {
  const deadline = Date.now() + 3000;
  for (;;) {
    const out = ns.ip('-6', 'addr', 'show', 'dev', ifname, 'scope', 'link');
    if (/inet6 fe80/.test(out) && !/tentative/.test(out)) return;
    if (Date.now() > deadline) throw new Error(`${ns.name} ${ifname}: no IPv6 link-local address: ${out}`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  }
}

export async function deleteLab(lab: PairLab): Promise<void> {
  await lab.tns.delete();
  await lab.dns.delete();
}

/** Test prefixes of lab n: tortie's (t…) and the daemon's (d…); a/b in both families, c IPv4 only. */
export function prefixes(n: number) {
  return {
    t4a: `10.210.${n}.0/26`,
    t4b: `10.210.${n}.64/26`,
    t4c: `10.210.${n}.128/26`,
    t6a: `fd00:210:${n}::/64`,
    t6b: `fd00:210:${n}:1::/64`,
    d4a: `10.220.${n}.0/26`,
    d4b: `10.220.${n}.64/26`,
    d4c: `10.220.${n}.128/26`,
    d6a: `fd00:220:${n}::/64`,
    d6b: `fd00:220:${n}:1::/64`,
  };
}

// ---------------------------------------------------------------------------------------------
// Reading tortie

export async function tortieRoute(t: TortieProc, prefix: string, from?: string): Promise<RouteEntry | undefined> {
  const want = canonicalPrefix(prefix);
  return (await t.routes()).find((r) => canonicalPrefix(r.prefix) === want && r.from !== 'local' && (!from || canonicalIp(r.from) === canonicalIp(from)));
}

export async function waitTortieRoute(t: TortieProc, prefix: string, timeoutMs = 15_000, pred: (r: RouteEntry) => boolean = () => true): Promise<RouteEntry> {
  return waitFor(
    async () => {
      const r = await tortieRoute(t, prefix);
      return r && pred(r) ? r : undefined;
    },
    timeoutMs,
    { what: `tortie route ${prefix}` },
  );
}

export async function waitTortieNoRoute(t: TortieProc, prefix: string, timeoutMs = 15_000): Promise<void> {
  await waitFor(async () => !(await tortieRoute(t, prefix)), timeoutMs, { what: `tortie drops ${prefix}` });
}

export async function waitTortieEstablished(t: TortieProc, timeoutMs = 20_000, count?: number): Promise<void> {
  await waitFor(
    async () => {
      const st = await t.status();
      const n = count ?? st.length;
      if (st.filter((p) => p.established).length < n) throw new Error(st.map((p) => `${p.address}=${p.state}${p.lastError ? ` (${p.lastError})` : ''}`).join(', '));
      return true;
    },
    timeoutMs,
    { what: 'tortie sessions Established' },
  );
}

export function isEndOfRib(w: WireRecord, family?: 'ipv4' | 'ipv6'): boolean {
  const m = w.msg as { type: string; endOfRib?: string };
  return m.type === 'UPDATE' && m.endOfRib !== undefined && (!family || m.endOfRib === `${family}/unicast`);
}

/** Prefixes announced by an UPDATE (IPv4 NLRI and MP_REACH). */
export function announced(w: WireRecord): string[] {
  const m = w.msg as { type: string; nlri?: string[]; attributes?: { type: number; value: unknown }[] };
  if (m.type !== 'UPDATE') return [];
  const out = [...(m.nlri ?? [])];
  for (const a of m.attributes ?? []) if (a.type === 14) out.push(...((a.value as { nlri?: string[] }).nlri ?? []));
  return out.map(canonicalPrefix);
}

/** Prefixes withdrawn by an UPDATE (withdrawn routes and MP_UNREACH). */
export function withdrawnIn(w: WireRecord): string[] {
  const m = w.msg as { type: string; withdrawn?: string[]; attributes?: { type: number; value: unknown }[] };
  if (m.type !== 'UPDATE') return [];
  const out = [...(m.withdrawn ?? [])];
  for (const a of m.attributes ?? []) if (a.type === 15) out.push(...((a.value as { withdrawn?: string[] }).withdrawn ?? []));
  return out.map(canonicalPrefix);
}

export function describeWire(ws: WireRecord[]): string {
  return ws
    .map((w) => {
      const m = w.msg as { type: string; code?: number; subcode?: number; family?: string; subtype?: number; endOfRib?: string };
      let s = `${w.dir} ${w.peer} ${m.type}`;
      if (m.type === 'NOTIFICATION') s += ` ${m.code}/${m.subcode}`;
      if (m.type === 'ROUTE-REFRESH') s += ` ${m.family} subtype ${m.subtype}`;
      if (m.endOfRib) s += ` EoR ${m.endOfRib}`;
      const a = announced(w);
      const wd = withdrawnIn(w);
      if (a.length) s += ` +${a.join(',')}`;
      if (wd.length) s += ` -${wd.join(',')}`;
      return s;
    })
    .join('\n');
}

// ---------------------------------------------------------------------------------------------
// Reading the daemon

export async function daemonRoute(d: DaemonHandle, prefix: string, from?: string): Promise<RouteInfo | undefined> {
  const want = canonicalPrefix(prefix);
  return (await d.routes()).find((r) => r.prefix === want && !r.local && (!from || r.fromPeer === canonicalIp(from)));
}

export async function waitDaemonRoute(d: DaemonHandle, prefix: string, timeoutMs = 15_000, pred: (r: RouteInfo) => boolean = () => true): Promise<RouteInfo> {
  return waitFor(
    async () => {
      const r = await daemonRoute(d, prefix);
      return r && pred(r) ? r : undefined;
    },
    timeoutMs,
    { what: `${d.kind} route ${prefix}` },
  );
}

export async function waitDaemonNoRoute(d: DaemonHandle, prefix: string, timeoutMs = 15_000): Promise<void> {
  await waitFor(async () => !(await daemonRoute(d, prefix)), timeoutMs, { what: `${d.kind} drops ${prefix}` });
}

/**
 * Polls `d`'s table every ~`intervalMs` until `stop()`: records every moment `prefixes` were not
 * all there (to show that a restart never made the daemon lose a route).
 */
export function watchDaemon(d: DaemonHandle, prefixesToWatch: string[], intervalMs = 100): { stop(): Promise<{ polls: number; missing: string[] }> } {
  let running = true;
  let polls = 0;
  const missing: string[] = [];
  const want = prefixesToWatch.map(canonicalPrefix);
  const loop = (async () => {
    while (running) {
      try {
        const rs = await d.routes();
        polls++;
        for (const p of want) if (!rs.some((r) => r.prefix === p && !r.local)) missing.push(`${new Date().toISOString()} ${p}`);
      } catch {
        /* a daemon command failing (e.g. while it restarts) is not a missing route */
      }
      await sleep(intervalMs);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { polls, missing };
    },
  };
}

/** ORIGINATOR_ID and CLUSTER_LIST of `prefix` as the daemon shows them (BIRD, FRR, GoBGP). */
export async function rrAttributes(d: DaemonHandle, prefix: string): Promise<{ originatorId?: string; clusterList: string[] } | undefined> {
  const v6 = isV6(prefix);
  switch (d.kind) {
    case 'bird2':
    case 'bird16': {
      const cmd = `${d.kind === 'bird16' && v6 ? 'bird6: ' : ''}show route for ${prefix} all`;
      const text = await d.exec(cmd);
      if (!text.includes('BGP.')) return undefined;
      const oid = /BGP\.originator_id:\s*(\S+)/.exec(text)?.[1];
      const cl = /BGP\.cluster_list:\s*(.*)/.exec(text)?.[1]?.trim().split(/\s+/).filter(Boolean) ?? [];
      return { ...(oid ? { originatorId: oid } : {}), clusterList: cl };
    }
    case 'frr': {
      const j = JSON.parse((await d.exec(`show bgp ${v6 ? 'ipv6' : 'ipv4'} unicast ${prefix} json`)) || '{}') as {
        paths?: { originatorId?: string; clusterList?: { list?: string[] } }[];
      };
      const p = j.paths?.[0];
      if (!p) return undefined;
      return { ...(p.originatorId ? { originatorId: p.originatorId } : {}), clusterList: p.clusterList?.list ?? [] };
    }
    case 'gobgp': {
      const j = JSON.parse((await d.exec(`-j global rib -a ${v6 ? 'ipv6' : 'ipv4'} ${prefix}`)) || '{}') as Record<string, { attrs?: { type: number; value?: unknown }[] }[]>;
      const p = Object.values(j)[0]?.[0];
      if (!p) return undefined;
      const oid = p.attrs?.find((a) => a.type === 9)?.value as string | undefined;
      const cl = (p.attrs?.find((a) => a.type === 10)?.value as string[] | undefined) ?? [];
      return { ...(oid ? { originatorId: oid } : {}), clusterList: cl };
    }
    default:
      throw new Error(`${d.kind}: no RFC 4456 attributes`);
  }
}

// ---------------------------------------------------------------------------------------------
// Commands

function editFile(path: string, edit: (text: string) => string): void {
  const before = readFileSync(path, 'utf8');
  const after = edit(before);
  if (after === before) throw new Error(`${path}: edit changed nothing`);
  writeFileSync(path, after);
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/**
 * The daemon stops originating `prefix`: its config file is changed (so a later restart() keeps it
 * withdrawn) and, with `runtime` (default), the running daemon withdraws it now.
 */
export async function withdrawOwn(d: DaemonHandle, prefix: string, opts: { runtime?: boolean; peers?: string[] } = {}): Promise<void> {
  const runtime = opts.runtime ?? true;
  const v6 = isV6(prefix);
  const p = escapeRe(prefix);
  switch (d.kind) {
    case 'bird2':
    case 'bird16': {
      const file = d.kind === 'bird16' && v6 ? 'bird6.conf' : 'bird.conf';
      editFile(join(d.dir, file), (t) => t.replace(new RegExp(`^\\s*route ${p} blackhole;\\n`, 'm'), ''));
      if (runtime) {
        const out = await d.exec(`${d.kind === 'bird16' && v6 ? 'bird6: ' : ''}configure`);
        assert.match(out, /Reconfigur/, `${d.kind} configure: ${out}`);
      }
      return;
    }
    case 'frr': {
      editFile(join(d.dir, 'bgpd.conf'), (t) => t.replace(new RegExp(`^\\s*network ${p}( .*)?\\n`, 'm'), ''));
      if (runtime) {
        await d.exec(['configure terminal', `router bgp ${d.options.localAs}`, `address-family ${v6 ? 'ipv6' : 'ipv4'} unicast`, `no network ${prefix}`].join('\n'));
      }
      return;
    }
    case 'gobgp': {
      const list = d.options.originate ?? [];
      const i = list.findIndex((r) => canonicalPrefix(r.prefix) === canonicalPrefix(prefix));
      if (i < 0) throw new Error(`gobgp does not originate ${prefix}`);
      list.splice(i, 1); // restart() re-adds d.options.originate
      if (runtime) await d.exec(`global rib del -a ${v6 ? 'ipv6' : 'ipv4'} ${prefix}`);
      return;
    }
    case 'exabgp': {
      editFile(join(d.dir, 'exabgp.conf'), (t) => t.replace(new RegExp(`^\\s*route ${p} .*;\\n`, 'gm'), ''));
      if (runtime) {
        for (const peer of opts.peers ?? d.options.peers.map((x) => x.address)) {
          if (isV6(peer) !== v6) continue;
          await d.exec(`neighbor ${peer} withdraw route ${prefix} next-hop self`);
        }
      }
      return;
    }
  }
}

/** The daemon re-sends its routes to `peer` (BIRD `reload out`, FRR `soft out`, GoBGP `softresetout`). */
export async function daemonResend(d: DaemonHandle, peer: string): Promise<string> {
  const v6 = isV6(peer);
  switch (d.kind) {
    case 'bird2':
      return d.exec(`reload out p_${peer.replace(/[^0-9a-zA-Z]/g, '_')}`);
    case 'bird16':
      return d.exec(`${v6 ? 'bird6: ' : ''}reload out p_${peer.replace(/[^0-9a-zA-Z]/g, '_')}`);
    case 'frr':
      return d.exec(`clear bgp ${v6 ? 'ipv6' : 'ipv4'} unicast ${peer} soft out`);
    case 'gobgp':
      return d.exec(`neighbor ${peer} softresetout -a ${v6 ? 'ipv6' : 'ipv4'}`);
    case 'exabgp':
      return d.exec(`neighbor ${peer} flush adj-rib out`);
  }
}

/** The daemon asks `peer` to re-send its routes (ROUTE-REFRESH): BIRD `reload in`, FRR `soft in`, GoBGP `softresetin`. */
export async function daemonAskRefresh(d: DaemonHandle, peer: string): Promise<string> {
  const v6 = isV6(peer);
  switch (d.kind) {
    case 'bird2':
      return d.exec(`reload in p_${peer.replace(/[^0-9a-zA-Z]/g, '_')}`);
    case 'bird16':
      return d.exec(`${v6 ? 'bird6: ' : ''}reload in p_${peer.replace(/[^0-9a-zA-Z]/g, '_')}`);
    case 'frr':
      return d.exec(`clear bgp ${v6 ? 'ipv6' : 'ipv4'} unicast ${peer} soft in`);
    case 'gobgp':
      return d.exec(`neighbor ${peer} softresetin -a ${v6 ? 'ipv6' : 'ipv4'}`);
    case 'exabgp':
      return d.exec(`neighbor ${peer} announce route-refresh ${v6 ? 'ipv6' : 'ipv4'} unicast`);
  }
}

/** What a daemon cannot do in these scenarios: the skip reason (a test skips only with one of these). */
export const UNSUPPORTED: Record<DaemonKind, { refresh?: string; resend?: string; askRefresh?: string; grHelper?: string; rr?: string }> = {
  bird2: {},
  bird16: {},
  frr: {},
  gobgp: {
    askRefresh: 'GoBGP keeps an Adj-RIB-In: `neighbor X softresetin` re-runs its import policy locally and sends no ROUTE-REFRESH',
  },
  exabgp: {
    refresh:
      "ExaBGP 4.2.21 resets the session when it answers a ROUTE-REFRESH with enhanced route refresh negotiated (TypeError: 'RouteRefresh' object is not iterable; Exa-Networks/exabgp#1237)",
    resend:
      "ExaBGP 4.2.21 resets the session on `flush adj-rib out` with enhanced route refresh negotiated (TypeError: 'RouteRefresh' object is not iterable; Exa-Networks/exabgp#1237)",
    grHelper: 'ExaBGP keeps no RIB (it only reports UPDATEs), so there are no routes it could keep while tortie restarts',
    rr: 'ExaBGP cannot be a route reflector',
  },
};

/** The daemon kinds to test: all, or those in TORTIE_INTEROP_ONLY (comma-separated; a debugging aid). */
export function interopKinds(): DaemonKind[] {
  const only = process.env.TORTIE_INTEROP_ONLY?.split(',').map((s) => s.trim()).filter(Boolean);
  return only?.length ? DAEMON_KINDS.filter((k) => only.includes(k)) : [...DAEMON_KINDS];
}
