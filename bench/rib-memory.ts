/*
 * Memory and insert rate of the RIB for N IPv4 /32s (default 1,000,000) from one eBGP peer, through one
 * Adj-RIB-In, the Loc-RIB and one update group (one iBGP member), all with one attribute set.
 *
 *   node --expose-gc --import tsx bench/rib-memory.ts [N] [--json]
 *
 * Bytes per route = (heapUsed + arrayBuffers) after a full GC, minus the same before, over N. Typed arrays live
 * outside the V8 heap, so `heapUsed` alone would under-count them. Not a test: numbers depend on the machine.
 * The ingest time covers building the prefix arrays (as the codec would), import checks, the Adj-RIB-In, the
 * decision, export to the group and queueing — not decoding or encoding bytes.
 */

import { Rib } from '../src/bgp/rib/rib.js';
import { ORIGIN, p4, type Prefix4 } from '../src/bgp/types.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  console.error('run with node --expose-gc --import tsx bench/rib-memory.ts');
  process.exit(2);
}

const N = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 1_000_000);
const PER_UPDATE = 800; // ≈ /32s in one 4 KB UPDATE

/** Full GC, then a pause so the concurrent ArrayBuffer sweeper has freed dead backing stores. */
async function mem(): Promise<{ heap: number; ab: number; rss: number }> {
  for (let i = 0; i < 2; i++) {
    gc!();
    await new Promise((r) => setTimeout(r, 100));
  }
  const m = process.memoryUsage();
  return { heap: m.heapUsed, ab: m.arrayBuffers, rss: m.rss };
}

const rib = new Rib({ localAs: 65000, routerId: '10.0.0.1' });
const sender = rib.addPeer({
  kind: 'ebgp',
  asn: 65001,
  routerId: '10.0.0.2',
  address: '192.0.2.2',
  export: { nextHop: 'auto', localAddress4: '192.0.2.1', fourOctetAs: true, families: ['ipv4'] },
});
const member = rib.addPeer({
  kind: 'ibgp',
  asn: 65000,
  routerId: '10.0.0.3',
  address: '192.0.2.3',
  export: { nextHop: 'self', localAddress4: '192.0.2.1', fourOctetAs: true, families: ['ipv4'] },
});
// Only the member joins an update group: the sender is a route source here. (Had it come up too, its own eBGP
// group would hold another Adj-RIB-Out of all its routes, ~31 B/route, though none would be sent back to it.)
rib.peerUp(member.index);
const attrs = {
  origin: ORIGIN.IGP,
  asPath: [{ type: 2 as const, asns: [65001] }],
  nextHop: '192.0.2.2',
};

const base = await mem();
const t0 = process.hrtime.bigint();
for (let i = 0; i < N; i += PER_UPDATE) {
  const batch: Prefix4[] = [];
  const end = Math.min(N, i + PER_UPDATE);
  for (let k = i; k < end; k++) batch.push(p4(0x0a000000 + k, 32));
  rib.update(sender.index, 'ipv4', batch, attrs);
  rib.collect();
}
const t1 = process.hrtime.bigint();
const ingested = await mem();

const group = rib.v4.out.groupOf(member.index)!;
const t2 = process.hrtime.bigint();
let batches = 0;
let sent = 0;
while (group.pending > 0) {
  const d = rib.drain('ipv4', group, 64 * 1024);
  for (const b of d.batches) {
    batches++;
    sent += b.prefixes.length;
  }
}
const t3 = process.hrtime.bigint();
rib.collect();
const drained = await mem();

const adj = rib.v4.adjIn.get(sender.index)!;
const perRoute = (m: { heap: number; ab: number }): number => (m.heap + m.ab - base.heap - base.ab) / N;
const result = {
  routes: N,
  loc: rib.v4.loc.size,
  sent,
  batches,
  attrSets: rib.attrs.size,
  ingestSeconds: Number(t1 - t0) / 1e9,
  ingestRoutesPerSecond: Math.round(N / (Number(t1 - t0) / 1e9)),
  drainSeconds: Number(t3 - t2) / 1e9,
  bytesPerRoute: {
    afterIngest: Math.round(perRoute(ingested) * 10) / 10,
    afterDrain: Math.round(perRoute(drained) * 10) / 10,
    heapOnlyAfterDrain: Math.round(((drained.heap - base.heap) / N) * 10) / 10,
    rssAfterDrain: Math.round(((drained.rss - base.rss) / N) * 10) / 10,
  },
  structureBytesPerRoute: {
    adjIn: Math.round((adj.bytes() / N) * 10) / 10,
    locRib: Math.round((rib.v4.loc.bytes() / N) * 10) / 10,
    updateGroup: Math.round((group.bytes() / N) * 10) / 10,
  },
  rssMB: Math.round(drained.rss / 1e6),
};
if (process.argv.includes('--json')) console.log(JSON.stringify(result));
else console.log(result);
