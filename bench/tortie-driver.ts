/*
 * tortie's Speaker as a process of its own, so its RSS is measured alone (the benchmarks read VmHWM from
 * /proc/<pid>/status). The harnesses bundle this file with esbuild and run it with plain `node` inside the
 * target namespace (no tsx loader in the measured process).
 *
 *   node tortie-driver.mjs <config.json>
 *
 * config.json: { routerId, asNumber, listen: {address, port}, clusterId?, peers: PeerSpec[], originated?: [] }
 * stdin, one JSON line per request: {"id":1,"cmd":"status"} → one JSON line back with the same id:
 *   { id, t, peers, established, received, accepted, advertised, loc, rss, heapUsed, external, arrayBuffers }
 * (sums over all peers; `loc` = IPv4 Loc-RIB prefixes). {"cmd":"exit"} or SIGTERM/SIGINT exit cleanly, so a
 * `--cpu-prof` profile is written.
 */

import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Speaker, type OriginatedRoute, type PeerSpec } from '../src/bgp/speaker.js';

interface Config {
  routerId: string;
  asNumber: number;
  listen: { address: string; port: number };
  clusterId?: string;
  peers: PeerSpec[];
  originated?: OriginatedRoute[];
}

const cfg = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Config;
const speaker = new Speaker({
  routerId: cfg.routerId,
  asNumber: cfg.asNumber,
  listen: cfg.listen,
  ...(cfg.clusterId ? { clusterId: cfg.clusterId } : {}),
});

const out = (e: Record<string, unknown>): void => {
  process.stdout.write(JSON.stringify(e) + '\n');
};

await speaker.start();
speaker.setPeers(cfg.peers);
if (cfg.originated) speaker.setOriginated(cfg.originated);
out({ event: 'listening', t: performance.timeOrigin + performance.now(), pid: process.pid });

function status(id: unknown): Record<string, unknown> {
  let established = 0;
  let received = 0;
  let accepted = 0;
  let advertised = 0;
  const st = speaker.status();
  for (const p of st) {
    if (p.established) established++;
    received += p.prefixes.received;
    accepted += p.prefixes.accepted;
    advertised += p.prefixes.advertised;
  }
  const m = process.memoryUsage();
  return {
    id,
    t: performance.timeOrigin + performance.now(),
    peers: st.length,
    established,
    received,
    accepted,
    advertised,
    loc: speaker.rib.v4.loc.size,
    rss: m.rss,
    heapTotal: m.heapTotal,
    heapUsed: m.heapUsed,
    external: m.external,
    arrayBuffers: m.arrayBuffers,
  };
}

// Exit at once, without speaker.close(): tearing down a million-route session would withdraw every route and
// fill a --cpu-prof profile with work the benchmark did not ask for. The kernel closes the sockets.
const quit = (): void => process.exit(0);
process.on('SIGTERM', quit);
process.on('SIGINT', quit);

const rl = createInterface({ input: process.stdin });
rl.on('close', quit); // the harness went away
rl.on('line', (line) => {
  let req: { id?: unknown; cmd?: string };
  try {
    req = JSON.parse(line) as { id?: unknown; cmd?: string };
  } catch {
    return;
  }
  if (req.cmd === 'status') out(status(req.id));
  else if (req.cmd === 'gc') {
    (globalThis as { gc?: () => void }).gc?.();
    out(status(req.id));
  } else if (req.cmd === 'exit') quit();
});
