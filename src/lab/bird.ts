/**
 * BIRD 2 for the lab's external routers (a core switch, a ToR): the config file and parsers for
 * the two `birdc` answers `tortie lab status` shows. The behaviour is router.ts's, shared with FRR.
 *
 * The config is what a network engineer would write for seed 000's core switch: one `protocol
 * bgp` per neighbour, import everything, export nothing (the switch only learns the cluster's
 * routes), and a `protocol kernel` exporting to the router's own kernel table so that a VM behind
 * it really reaches the pods. Tricky bits (lab-recipe.md §3.1):
 *  - BIRD 2 iBGP defaults to multihop with *recursive* next hops, which need an IGP route to the
 *    next hop; the lab has none, so on-link iBGP peers get `direct;` (else the routes stay
 *    unreachable and never reach the kernel);
 *  - the default timers (connect retry 120 s, error wait 60–300 s) make a session that failed
 *    once take minutes to come back; lab timers bring it to about a second.
 */
import { generatedBy, LAB_TIMERS, localAddressFor, type RouterRoute, type RouterSession, type SegCidr } from './router.js';
import type { LabRouter } from './topology.js';

/** A BIRD protocol name for a neighbour: identifiers only, and the address can be read back. */
export function protocolName(address: string): string {
  return `p_${address.replaceAll('.', '_')}`;
}

/** The neighbour address of a protocolName, or undefined for other protocols (`static1`). */
export function protocolAddress(name: string): string | undefined {
  const m = /^p_(\d+)_(\d+)_(\d+)_(\d+)$/.exec(name);
  return m ? m.slice(1).join('.') : undefined;
}

/** BIRD 2 configuration for `r`. `segCidr` says which segment holds an address. */
export function renderBird2(r: LabRouter, lab: string, segCidr: SegCidr): string {
  const lines = [
    generatedBy(r, lab, '#'),
    'log stderr { info, remote, warning, error, auth, fatal, bug };',
    `router id ${r.interfaces[0]!.address};`,
    '',
    'protocol device { scan time 10; }',
    '',
    '# Routes learned from the cluster go into this namespace\'s kernel: VMs behind us reach pods.',
    'protocol kernel {',
    '  ipv4 { import none; export all; };',
    '  learn off;',
    '  scan time 10;',
    '}',
    '',
    '# Lab timers: a failed session retries within a second instead of minutes.',
    'template bgp lab_peer {',
    '  connect delay time 1;',
    `  connect retry time ${LAB_TIMERS.connectRetry};`,
    '  error wait time 1, 10;',
    `  hold time ${LAB_TIMERS.hold};`,
    `  keepalive time ${LAB_TIMERS.keepalive};`,
    '}',
  ];
  if (r.staticRoutes?.length) {
    lines.push('', '# Static routes (the topology\'s staticRoutes), into the kernel like the rest.', 'protocol static {', '  ipv4;');
    for (const x of r.staticRoutes) lines.push(`  route ${x.cidr} via ${x.via};`);
    lines.push('}');
  }
  for (const p of r.peers) {
    const ibgp = p.asNumber === r.asNumber;
    lines.push(
      '',
      `# ${p.host ? `host ${p.host}` : 'peer'} ${p.address}, ${ibgp ? 'iBGP' : 'eBGP'}`,
      `protocol bgp ${protocolName(p.address)} from lab_peer {`,
      `  local ${localAddressFor(r, p.address, segCidr)} as ${r.asNumber};`,
      `  neighbor ${p.address} as ${p.asNumber};`,
      // On-link iBGP: resolve next hops directly (see the header).
      ...(ibgp ? ['  direct;'] : []),
      '  ipv4 { import all; export none; };',
      '}',
    );
  }
  return lines.join('\n') + '\n';
}

export interface BirdProtocol {
  name: string;
  /** `up`, `start`, `down`. */
  state: string;
  since: string;
  /** `Established`, `Active Socket: Connection refused`, … */
  info: string;
  established: boolean;
}

/** Parses `birdc show protocols` (BIRD 2): BGP rows only. */
export function parseBirdProtocols(text: string): BirdProtocol[] {
  const out: BirdProtocol[] = [];
  for (const raw of text.split('\n')) {
    // "p_10_0_0_1 BGP --- up 12:00:00.123 Established"; the since column may be a date + time.
    const cols = raw.trim().split(/\s+/);
    if (cols[1] !== 'BGP') continue;
    let i = 4;
    const since = [cols[i++] ?? ''];
    if (/^\d{4}-\d\d-\d\d$/.test(since[0]!) && /^\d\d:\d\d/.test(cols[i] ?? '')) since.push(cols[i++]!);
    const info = cols.slice(i).join(' ');
    out.push({ name: cols[0]!, state: cols[3] ?? '', since: since.join(' '), info, established: /^Established/.test(info) });
  }
  return out;
}

export interface BirdRoute {
  prefix: string;
  /** The protocol that brought it (`p_192_168_83_36`). */
  protocol: string;
  nextHop?: string;
  /** BIRD's `*`: the best route for the prefix. */
  best: boolean;
}

/** Parses `birdc show route` (BIRD 2): one entry per route, several per prefix possible. */
export function parseBirdRoutes(text: string): BirdRoute[] {
  const out: BirdRoute[] = [];
  let prefix = '';
  let cur: BirdRoute | undefined;
  for (const raw of text.split('\n')) {
    if (!raw.trim() || /^BIRD \d/.test(raw) || /^Table /.test(raw) || /^\d{4}[- ]/.test(raw)) continue;
    // "10.0.0.0/26   unicast [p_10_0_0_1 12:00:00.000] * (100) [i]" — a continuation route for the
    // same prefix starts with white space instead of the prefix.
    const head = /^(\S+)?\s+\S+\s+\[(\S+)[^\]]*\](\s+\*)?/.exec(raw);
    if (head && !raw.startsWith('\t')) {
      if (head[1]) prefix = head[1];
      cur = { prefix, protocol: head[2]!, best: !!head[3] };
      out.push(cur);
      continue;
    }
    const via = /^\s+via (\S+)/.exec(raw);
    if (via && cur && !cur.nextHop) cur.nextHop = via[1]!;
  }
  return out;
}

/** `birdc show protocols` as the lab's common session rows (BGP protocols of neighbours only). */
export function birdSessions(text: string): RouterSession[] {
  return parseBirdProtocols(text).flatMap((p) => {
    const address = protocolAddress(p.name);
    return address ? [{ address, state: p.state, info: p.info, established: p.established }] : [];
  });
}

/** `birdc show route` as the lab's common route rows. */
export function birdRoutes(text: string): RouterRoute[] {
  return parseBirdRoutes(text).map((x) => ({ prefix: x.prefix, ...(x.nextHop ? { nextHop: x.nextHop } : {}), from: protocolAddress(x.protocol) ?? x.protocol, best: x.best }));
}
