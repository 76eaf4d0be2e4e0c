/**
 * Regenerates the wire fixtures in test/fixtures/bgp/: the OPEN, UPDATE (IPv4/IPv6, iBGP/eBGP),
 * End-of-RIB and NOTIFICATION messages each real daemon sends, captured with an independent
 * responder (bgp-responder.ts: hand-built OPEN/KEEPALIVE, records raw bytes) — not tortie's codec.
 *
 *   cd /work/main && node --import tsx test/helpers/capture-bgp.ts [bird16 bird2 frr gobgp exabgp] [--out DIR]
 *
 * Topology (namespaces removed afterwards): daemon namespace "D" 10.77.0.1/24 + fd00:77::1/64,
 * responder namespace "R" 10.77.0.2 (iBGP, AS 4200000001), 10.77.0.3 (eBGP, AS 65001),
 * fd00:77::2 (iBGP over IPv6, only for BIRD 1.6's bird6), joined by one veth pair. The daemon
 * (AS 4200000001, router id 10.77.0.1) has every peer passive; the responder connects (GoBGP
 * waits 5–10 s before its first outgoing connect, so connecting to it is faster), sends its OPEN
 * (hold 90, MP ipv4+ipv6 unicast, route refresh, 4-octet AS, GR restart time 120), answers the
 * daemon's OPEN with a KEEPALIVE, keeps sending KEEPALIVEs, and records everything. Once the
 * expected UPDATEs (and End-of-RIB markers where GR was negotiated) arrived, the harness disables
 * the iBGP peer (→ Cease/Administrative Shutdown) and the eBGP peer with the shutdown message
 * "maintenance" (→ Cease/Administrative Shutdown + RFC 9003 communication), then stops the daemon.
 *
 * Output: <kind>-<what>.hex (one message per file, lowercase hex, trailing newline),
 * <kind>-session-<session>.hex (every message the daemon sent on that session, one per line),
 * configs/<kind>.* (the generated daemon config), fixtures.json (decoded values) and README.md.
 */
import { mkdirSync, writeFileSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanupAll, createNetns, createVethPair, sleep, waitFor } from './netns.js';
import { daemonSkipReason, daemonVersion, startDaemon, type DaemonHandle, type DaemonKind, type DaemonOptions } from './daemons.js';
import { decodeMessage, summarize, type Decoded } from './bgp-decode.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '../..');

export const CAPTURE = {
  daemon: { v4: '10.77.0.1', v6: 'fd00:77::1', as: 4200000001, routerId: '10.77.0.1' },
  ibgp: { address: '10.77.0.2', as: 4200000001 },
  ebgp: { address: '10.77.0.3', as: 65001 },
  ibgp6: { address: 'fd00:77::2', as: 4200000001 },
  responderRouterId: '10.77.0.2',
  shutdownMessage: 'maintenance',
  v4Attrs: { communities: ['65000:100', '65000:200'], largeCommunities: ['4200000001:1:2'], med: 50, localPref: 200 },
  v6Attrs: { communities: ['65000:300'], largeCommunities: ['4200000001:3:4'], med: 60, localPref: 250 },
  v4Prefixes: ['10.244.1.0/26', '10.244.1.64/26'],
  v6Prefixes: ['fd00:244:1::/64'],
} as const;

interface Msg {
  session: string;
  local: string;
  remote: string;
  type: number;
  typeName: string;
  hex: string;
  t: number;
}

export function captureOptions(kind: DaemonKind): Omit<DaemonOptions, 'netns'> {
  const c = CAPTURE;
  const v6 = kind !== 'bird16';
  return {
    routerId: c.daemon.routerId,
    localAs: c.daemon.as,
    localAddress: c.daemon.v4,
    localAddress6: c.daemon.v6,
    peers: [
      { address: c.ibgp.address, asNumber: c.ibgp.as, passive: true, holdTime: 90, ipv6: v6, gracefulRestart: { restartTime: 120 } },
      { address: c.ebgp.address, asNumber: c.ebgp.as, passive: true, holdTime: 30 },
      ...(v6 ? [] : [{ address: c.ibgp6.address, asNumber: c.ibgp6.as, passive: true, holdTime: 90, gracefulRestart: { restartTime: 120 } }]),
    ],
    originate: [
      ...c.v4Prefixes.map((prefix) => ({ prefix, ...c.v4Attrs, communities: [...c.v4Attrs.communities], largeCommunities: [...c.v4Attrs.largeCommunities] })),
      ...c.v6Prefixes.map((prefix) => ({ prefix, ...c.v6Attrs, communities: [...c.v6Attrs.communities], largeCommunities: [...c.v6Attrs.largeCommunities] })),
    ],
  };
}

function readMessages(file: string): Msg[] {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const out: Msg[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const e = JSON.parse(line) as Msg & { event: string };
      if (e.event === 'message') out.push(e);
    } catch {
      /* partial line */
    }
  }
  return out;
}

async function adminShutdown(d: DaemonHandle, kind: DaemonKind, address: string, message?: string): Promise<void> {
  const name = 'p_' + address.replace(/[^0-9a-zA-Z]/g, '_');
  switch (kind) {
    case 'bird2':
    case 'bird16': {
      const prefix = kind === 'bird16' && address.includes(':') ? 'bird6: ' : '';
      await d.exec(`${prefix}disable ${name}${message ? ` "${message}"` : ''}`);
      break;
    }
    case 'frr':
      await d.exec(`configure terminal\nrouter bgp ${CAPTURE.daemon.as}\nneighbor ${address} shutdown${message ? ` message ${message}` : ''}\nend`);
      break;
    case 'gobgp':
      // `disable` drops --reason in gobgp 3.10's CLI; the deprecated `shutdown` passes it on.
      await d.exec(message ? `neighbor ${address} shutdown --reason ${message}` : `neighbor ${address} disable`);
      break;
    case 'exabgp':
      // ExaBGP has no per-neighbor admin shutdown with a message; `teardown 2` sends Cease/2.
      await d.exec(`neighbor ${address} teardown 2`);
      break;
  }
}

export interface CaptureResult {
  kind: DaemonKind;
  version: string;
  configs: Record<string, string>;
  messages: Msg[];
}

/** Runs one daemon against the responder and returns every message it sent. */
export async function captureDaemon(kind: DaemonKind, log: (s: string) => void = () => {}): Promise<CaptureResult> {
  const c = CAPTURE;
  const d = createNetns(`cap-${kind}-d`);
  const r = createNetns(`cap-${kind}-r`);
  createVethPair(
    { ns: d, ifname: 'eth0', addresses: [`${c.daemon.v4}/24`, `${c.daemon.v6}/64`] },
    { ns: r, ifname: 'eth0', addresses: [`${c.ibgp.address}/24`, `${c.ebgp.address}/24`, `${c.ibgp6.address}/64`] },
  );
  const daemon = await startDaemon(kind, { ...captureOptions(kind), netns: d });
  const logFile = join(daemon.dir, 'responder.jsonl');
  const args = [
    process.execPath, '--import', 'tsx', join(HERE, 'bgp-responder.ts'),
    '--as', String(c.ibgp.as), '--as-for', `${c.ebgp.address}=${c.ebgp.as}`, '--router-id', c.responderRouterId,
    '--hold', '90', '--gr', '120',
    '--connect', `${c.daemon.v4}:179@${c.ibgp.address}`,
    '--connect', `${c.daemon.v4}:179@${c.ebgp.address}`,
  ];
  if (kind === 'bird16') args.push('--connect', `[${c.daemon.v6}]:179@${c.ibgp6.address}`);
  const responder = r.spawn(args, { logFile, cwd: REPO });
  const ibgp = `${c.ibgp.address} > ${c.daemon.v4}`;
  const ebgp = `${c.ebgp.address} > ${c.daemon.v4}`;
  const ibgp6 = `${c.ibgp6.address} > ${c.daemon.v6}`;
  const nlriOf = (m: Msg): string[] => {
    const x = decodeMessage(m.hex);
    if (x.type !== 'UPDATE' || !('attributes' in x)) return [];
    const mp = x.attributes.filter((a) => a.type === 14).flatMap((a) => (a.value as { nlri: string[] }).nlri);
    return [...x.nlri, ...mp];
  };
  const eors = (session: string) =>
    readMessages(logFile)
      .filter((m) => m.session === session)
      .map((m) => decodeMessage(m.hex))
      .filter((x): x is Extract<Decoded, { type: 'UPDATE' }> => x.type === 'UPDATE' && 'endOfRib' in x && !!x.endOfRib)
      .map((x) => x.endOfRib);
  try {
    await waitFor(
      () => {
        const msgs = readMessages(logFile);
        const got = (s: string) => new Set(msgs.filter((m) => m.session === s).flatMap(nlriOf));
        const gi = got(ibgp);
        const ge = got(ebgp);
        const want6 = kind === 'bird16' ? got(ibgp6) : gi;
        const ok =
          c.v4Prefixes.every((p) => gi.has(p) && ge.has(p)) &&
          c.v6Prefixes.every((p) => want6.has(p)) &&
          // End-of-RIB: every daemon here sends it once GR is negotiated on the iBGP session.
          eors(ibgp).includes('ipv4/unicast') &&
          (kind === 'bird16' ? eors(ibgp6).includes('ipv6/unicast') : eors(ibgp).includes('ipv6/unicast'));
        if (!ok) throw new Error(`have ibgp=${[...gi].join(',')} ebgp=${[...ge].join(',')} v6=${[...want6].join(',')} eor=${eors(ibgp).join(',')}`);
        return true;
      },
      40_000,
      { what: `${kind}: all UPDATEs`, intervalMs: 200 },
    );
    await sleep(1500); // stragglers (a second End-of-RIB, KEEPALIVEs)
    log(`${kind}: updates captured, shutting sessions down`);
    await adminShutdown(daemon, kind, c.ibgp.address);
    if (kind === 'bird16') await adminShutdown(daemon, kind, c.ibgp6.address);
    await adminShutdown(daemon, kind, c.ebgp.address, c.shutdownMessage);
    await waitFor(
      () => {
        const n = readMessages(logFile).filter((m) => m.type === 3);
        // ExaBGP closes a graceful-restart session without a NOTIFICATION on teardown.
        return n.length >= (kind === 'bird16' ? 3 : kind === 'exabgp' ? 1 : 2);
      },
      15_000,
      { what: `${kind}: NOTIFICATIONs` },
    );
    await sleep(300);
    return { kind, version: daemonVersion(kind), configs: { ...daemon.configs }, messages: readMessages(logFile) };
  } catch (e) {
    throw new Error(`${(e as Error).message}\n--- daemon log\n${daemon.log().slice(-3000)}\n--- responder\n${readFileSync(logFile, 'utf8').slice(-3000)}`);
  } finally {
    await responder.stop();
    await daemon.stop();
    await r.delete();
    await d.delete();
  }
}

interface FixtureEntry {
  file: string;
  daemon: DaemonKind;
  version: string;
  session: string;
  description: string;
  decoded: Decoded;
}

function sanitizeConfig(text: string): string {
  return text.replace(/\/tmp\/tortie-[A-Za-z0-9]+-\d+-[A-Za-z0-9]+/g, '<dir>');
}

/** Writes the per-message files for one capture and returns their manifest entries. */
function writeCapture(out: string, res: CaptureResult): FixtureEntry[] {
  const c = CAPTURE;
  const { kind, version } = res;
  const entries: FixtureEntry[] = [];
  const sessions: [string, string, string][] = [
    [`${c.ibgp.address} > ${c.daemon.v4}`, 'ibgp', `iBGP over IPv4 (AS ${c.ibgp.as} both sides${kind === 'bird16' ? '' : ', IPv4+IPv6 unicast'}, GR)`],
    [`${c.ebgp.address} > ${c.daemon.v4}`, 'ebgp', `eBGP over IPv4 (daemon AS ${c.daemon.as}, responder AS ${c.ebgp.as}, IPv4 unicast)`],
  ];
  if (kind === 'bird16') sessions.push([`${c.ibgp6.address} > ${c.daemon.v6}`, 'ibgp6', `iBGP over IPv6 with bird6 (AS ${c.ibgp6.as}, IPv6 unicast, GR)`]);
  for (const [session, tag, what] of sessions) {
    const msgs = res.messages.filter((m) => m.session === session);
    if (!msgs.length) continue;
    writeFileSync(join(out, `${kind}-session-${tag}.hex`), msgs.map((m) => m.hex + '\n').join(''));
    entries.push({
      file: `${kind}-session-${tag}.hex`,
      daemon: kind,
      version,
      session: what,
      description: `every message ${kind} sent on the ${tag} session, in order, one per line (${msgs.map((m) => m.typeName).join(', ')})`,
      decoded: { type: 'SESSION', length: msgs.length, hex: '' },
    });
    const counters = new Map<string, number>();
    const put = (base: string, m: Msg, description: string) => {
      const n = (counters.get(base) ?? 0) + 1;
      counters.set(base, n);
      const file = `${kind}-${base}${n > 1 ? `-${n}` : ''}.hex`;
      writeFileSync(join(out, file), m.hex + '\n');
      entries.push({ file, daemon: kind, version, session: what, description, decoded: decodeMessage(m.hex) });
    };
    const sfx = tag === 'ibgp' ? '' : tag === 'ebgp' ? '-ebgp' : '-v6';
    for (const m of msgs) {
      const d = decodeMessage(m.hex);
      if (d.type === 'OPEN') put(`open${sfx}`, m, `OPEN sent by ${kind}`);
      else if (d.type === 'NOTIFICATION' && 'code' in d) {
        const base = d.shutdownMessage !== undefined ? 'notification-shutdown-msg' : `notification-cease${tag === 'ibgp' ? '' : sfx}`;
        put(base, m, d.shutdownMessage !== undefined ? `NOTIFICATION after admin shutdown of the peer, shutdown communication ${JSON.stringify(d.shutdownMessage)}` : 'NOTIFICATION after admin shutdown of the peer');
      } else if (d.type === 'UPDATE' && 'attributes' in d) {
        if (d.endOfRib) {
          put(`eor-${d.endOfRib.startsWith('ipv6') ? 'v6' : 'v4'}${tag === 'ebgp' ? '-ebgp' : ''}`, m, `End-of-RIB for ${d.endOfRib}`);
        } else {
          const v6 = d.attributes.some((a) => a.type === 14 && (a.value as { family: string }).family.startsWith('ipv6')) || d.attributes.some((a) => a.type === 15);
          const base = `update-${v6 ? 'v6' : 'v4'}${tag === 'ebgp' ? '-ebgp' : ''}`;
          put(base, m, `UPDATE announcing ${[...d.nlri, ...d.attributes.filter((a) => a.type === 14).flatMap((a) => (a.value as { nlri: string[] }).nlri)].join(' ') || '(withdrawals)'}`);
        }
      }
    }
  }
  mkdirSync(join(out, 'configs'), { recursive: true });
  for (const [name, text] of Object.entries(res.configs)) writeFileSync(join(out, 'configs', `${kind}-${name}`), sanitizeConfig(text));
  return entries;
}

function readme(entries: FixtureEntry[], results: CaptureResult[]): string {
  const c = CAPTURE;
  let t = `# Captured BGP wire fixtures

Raw BGP messages that real daemons sent, for testing tortie's codec (\`src/bgp/\`) against bytes it
did not produce. **Regenerate** (root, daemons installed — \`scripts/setup.sh\`):

    cd /work/main && node --import tsx test/helpers/capture-bgp.ts            # all daemons
    node --import tsx test/helpers/capture-bgp.ts bird2 frr                    # some

Files are rewritten; \`git diff\` shows what changed. Everything here is generated by the script
(\`*.hex\`, \`configs/\`, \`fixtures.json\` with every decoded value, this README) except the last
section, "Differences worth testing", which is hand-written and kept across regenerations.

## How they were captured

\`test/helpers/bgp-responder.ts\` is an independent minimal BGP speaker (hand-built OPEN and
KEEPALIVE bytes, no tortie code). It records every message the daemon sends, split by the
length field of the 19-byte header, byte for byte. Decoded values below come from
\`test/helpers/bgp-decode.ts\` (also independent of tortie) and were checked against the configs
and \`tcpdump -vvv\`.

- Daemon namespace: ${c.daemon.v4}/24 and ${c.daemon.v6}/64 on eth0, AS ${c.daemon.as} (4-octet), router id ${c.daemon.routerId}.
- Responder namespace (one veth to the daemon): ${c.ibgp.address} = iBGP peer (AS ${c.ibgp.as}),
  ${c.ebgp.address} = eBGP peer (AS ${c.ebgp.as})${''}, ${c.ibgp6.address} = iBGP peer over IPv6 (BIRD 1.6's bird6 only).
- Daemon side: every peer passive; iBGP hold time 90 with graceful restart (restart time 120) and,
  except BIRD 1.6, IPv6 unicast on the same IPv4 session (next hop ${c.daemon.v6}); eBGP hold time 30, IPv4 only, no GR configured.
- Responder OPEN: version 4, My AS 23456 (AS_TRANS) / ${c.ebgp.as}, hold 90, id ${c.responderRouterId},
  capabilities MP ipv4/unicast + ipv6/unicast, route refresh, 4-octet AS, graceful restart 120 s (F bit) for both families.
- Originated by the daemon (static blackhole routes / \`network\` / \`gobgp global rib add\` / exabgp static, attributes set by export filter / route-map / CLI):
  - ${c.v4Prefixes.join(', ')}: communities ${c.v4Attrs.communities.join(' ')}, large community ${c.v4Attrs.largeCommunities.join(' ')}, MED ${c.v4Attrs.med}, LOCAL_PREF ${c.v4Attrs.localPref}, origin IGP
  - ${c.v6Prefixes.join(', ')}: communities ${c.v6Attrs.communities.join(' ')}, large community ${c.v6Attrs.largeCommunities.join(' ')}, MED ${c.v6Attrs.med}, LOCAL_PREF ${c.v6Attrs.localPref}, origin IGP
- After all UPDATEs (and End-of-RIB markers) arrived: the iBGP peer was administratively disabled
  (NOTIFICATION Cease / Administrative Shutdown), then the eBGP peer with shutdown message
  "${c.shutdownMessage}" (RFC 9003). LOCAL_PREF is only sent on iBGP; on eBGP the daemon prepends its AS.

Daemon configs that produced them: \`configs/<daemon>-<file>\` (generated by \`test/helpers/daemons.ts\`;
\`<dir>\` = the per-run temp dir).

File naming: \`<daemon>-open.hex\` (iBGP session), \`-open-ebgp\`, \`-open-v6\` (bird6 session),
\`-update-v4\`, \`-update-v6\` (iBGP), \`-update-v4-ebgp\`, \`-eor-v4\`/\`-eor-v6\` (End-of-RIB),
\`-notification-cease\` (iBGP), \`-notification-shutdown-msg\` (eBGP), a \`-2\` suffix for a
second message of the same kind, \`-session-<ibgp|ebgp|ibgp6>.hex\` = all messages of the session in
order, one per line. Each \`.hex\` file is one message (header included) as lowercase hex + newline.

## Versions

| daemon | version |
|---|---|
${results.map((r) => `| ${r.kind} | ${r.version} |`).join('\n')}

## Files and the values a test should check
`;
  for (const r of results) {
    t += `\n### ${r.kind} ${r.version}\n\nConfig: ${Object.keys(r.configs).map((n) => `\`configs/${r.kind}-${n}\``).join(', ')}\n`;
    for (const e of entries.filter((x) => x.daemon === r.kind)) {
      t += `\n**\`${e.file}\`** — ${e.description}; session: ${e.session}\n`;
      if (e.decoded.type !== 'SESSION') for (const l of summarize(e.decoded)) t += `- ${l}\n`;
    }
  }
  t += `\n## Differences worth testing (observed in these captures)\n\n${QUIRKS_PLACEHOLDER}\n`;
  return t;
}

const QUIRKS_PLACEHOLDER = '<!-- quirks -->';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  let out = join(REPO, 'test/fixtures/bgp');
  const kinds: DaemonKind[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out') out = resolve(argv[++i]!);
    else kinds.push(argv[i] as DaemonKind);
  }
  if (!kinds.length) kinds.push('bird16', 'bird2', 'frr', 'gobgp', 'exabgp');
  mkdirSync(out, { recursive: true });
  const manifestFile = join(out, 'fixtures.json');
  let manifest: { files: FixtureEntry[]; versions: Record<string, string> } = { files: [], versions: {} };
  try {
    manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as typeof manifest;
  } catch {
    /* first run */
  }
  const results: CaptureResult[] = [];
  try {
    for (const kind of kinds) {
      const skip = daemonSkipReason(kind);
      if (skip) {
        console.error(`skip ${kind}: ${skip}`);
        continue;
      }
      const t0 = Date.now();
      const res = await captureDaemon(kind, (s) => console.error(s));
      for (const f of readdirSync(out)) if (f.startsWith(`${kind}-`) && f.endsWith('.hex')) rmSync(join(out, f));
      const entries = writeCapture(out, res);
      manifest.files = [...manifest.files.filter((f) => f.daemon !== kind), ...entries];
      manifest.versions[kind] = res.version;
      results.push(res);
      console.error(`${kind} ${res.version}: ${res.messages.length} messages, ${entries.length} files, ${Date.now() - t0} ms`);
    }
  } finally {
    await cleanupAll();
  }
  const order: DaemonKind[] = ['bird16', 'bird2', 'frr', 'gobgp', 'exabgp'];
  manifest.files.sort((a, b) => order.indexOf(a.daemon) - order.indexOf(b.daemon) || a.file.localeCompare(b.file));
  writeFileSync(manifestFile, JSON.stringify({ generatedBy: 'test/helpers/capture-bgp.ts', capture: CAPTURE, ...manifest }, null, 1) + '\n');
  // README: regenerate the generated part for every daemon in the manifest (configs from disk).
  const all: CaptureResult[] = order
    .filter((k) => manifest.versions[k])
    .map((k) => ({
      kind: k,
      version: manifest.versions[k]!,
      configs: Object.fromEntries(
        readdirSync(join(out, 'configs'))
          .filter((f) => f.startsWith(`${k}-`))
          .map((f) => [f.slice(k.length + 1), '']),
      ),
      messages: [],
    }));
  const readmeFile = join(out, 'README.md');
  let quirks = '';
  try {
    const old = readFileSync(readmeFile, 'utf8');
    const i = old.indexOf('## Differences worth testing');
    if (i >= 0) quirks = old.slice(old.indexOf('\n', i) + 1).trim();
  } catch {
    /* none yet */
  }
  writeFileSync(readmeFile, readme(manifest.files, all).replace(QUIRKS_PLACEHOLDER, quirks || '(add notes here; kept across regenerations)'));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch(async (e: unknown) => {
    console.error((e as Error).stack ?? e);
    await cleanupAll();
    process.exit(1);
  });
}
