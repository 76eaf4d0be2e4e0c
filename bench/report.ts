/*
 * Markdown tables (as in docs/benchmarks.md) from the benchmarks' results files.
 *
 *   node --import tsx bench/report.ts bench/results/2026-11-21-ingest.json bench/results/2026-11-21-rr-scale.json
 */

import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const MB = 1e6;

interface IngestMedian {
  seconds: number;
  peakRssBytes: number;
  bytesPerRoute: number;
  cpuSeconds: number;
}

interface IngestDoc {
  feeds: Record<string, { prefixes: number; attrSets: number; messages: number; bytes: number }>;
  feederAlone: Record<string, { medianSeconds: number; runs: number[] }>;
  results: Record<string, Record<string, { runs: { seconds: number; baseRssBytes: number; error?: string }[]; median: IngestMedian }>>;
}

const med = (xs: number[]): number => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const TARGETS = {
  ingest: {
    timeVsBird: 1.2,
    bytesPerRoute: 300,
  },
};

export function ingestTables(doc: IngestDoc): string {
  const out: string[] = [];
  for (const [load, byTarget] of Object.entries(doc.results)) {
    const f = doc.feeds[load]!;
    out.push(`\n#### ${load}: ${f.prefixes.toLocaleString('en')} prefixes, ${f.attrSets.toLocaleString('en')} attribute set${f.attrSets > 1 ? 's' : ''}, ${f.messages.toLocaleString('en')} UPDATEs (${(f.bytes / MB).toFixed(1)} MB)\n`);
    out.push('| target | time, median (min–max) | peak RSS | RSS / route | (peak − idle) / route | CPU s | tortie ÷ target: time | tortie ÷ target: RSS |');
    out.push('|---|---|---|---|---|---|---|---|');
    const t = byTarget.tortie?.median;
    for (const [name, v] of Object.entries(byTarget)) {
      const m = v.median;
      const ok = v.runs.filter((r) => !r.error);
      const secs = ok.map((r) => r.seconds);
      const idle = med(ok.map((r) => r.baseRssBytes));
      const inc = Math.round((m.peakRssBytes - idle) / f.prefixes);
      const rt = t && name !== 'tortie' ? `${(t.seconds / m.seconds).toFixed(2)}×` : '—';
      const rr = t && name !== 'tortie' ? `${(t.peakRssBytes / m.peakRssBytes).toFixed(2)}×` : '—';
      out.push(
        `| ${name} | ${m.seconds.toFixed(3)} s (${Math.min(...secs).toFixed(3)}–${Math.max(...secs).toFixed(3)}) | ${(m.peakRssBytes / MB).toFixed(0)} MB | ${m.bytesPerRoute} B | ${inc} B | ${m.cpuSeconds} | ${rt} | ${rr} |`,
      );
    }
    const fa = doc.feederAlone[load];
    if (fa) out.push(`| feeder alone, into a sink | ${fa.medianSeconds.toFixed(3)} s (${Math.min(...fa.runs).toFixed(3)}–${Math.max(...fa.runs).toFixed(3)}) | | | | | | |`);
    if (t && byTarget.bird2 && byTarget.frr) {
      const b = byTarget.bird2.median;
      const fr = byTarget.frr.median;
      const verdict = [
        `time ${(t.seconds / b.seconds).toFixed(2)}× BIRD (target ≤ ${TARGETS.ingest.timeVsBird}×: ${t.seconds <= TARGETS.ingest.timeVsBird * b.seconds ? 'met' : 'missed'})`,
        `${t.bytesPerRoute} B RSS/route (target ≤ ${TARGETS.ingest.bytesPerRoute}: ${t.bytesPerRoute <= TARGETS.ingest.bytesPerRoute ? 'met' : 'missed'})`,
        `milestone vs FRR: ${t.seconds < fr.seconds ? 'faster' : 'slower'}, RSS ${(t.peakRssBytes / fr.peakRssBytes).toFixed(2)}× FRR (≤ 0.33: ${t.peakRssBytes <= fr.peakRssBytes / 3 ? 'met' : 'missed'})`,
      ];
      out.push(`\ntortie: ${verdict.join('; ')}.`);
    }
  }
  return out.join('\n');
}

interface RrDoc {
  setup: { clients: number; batch: number };
  results: Record<
    string,
    Record<string, { runs: { sessionsUpSeconds: number; convergeSeconds: number; error?: string }[]; median: { sessionsUpSeconds: number; convergeSeconds: number; peakRssBytes: number; cpuSeconds: number } }>
  >;
}

export function rrTables(doc: RrDoc): string {
  const out: string[] = [];
  out.push('| clients start | reflector | all sessions Established, median (min–max) | converged after the announcements, median (min–max) | reflector peak RSS | reflector CPU s |');
  out.push('|---|---|---|---|---|---|');
  for (const [mode, byTarget] of Object.entries(doc.results)) {
    const label = mode === 'serial' ? `${doc.setup.batch} at a time, each batch after the previous is up` : `${doc.setup.batch} every ${mode.replace('paced-', '').replace('ms', ' ms')}`;
    for (const [name, v] of Object.entries(byTarget)) {
      const m = v.median;
      const ok = v.runs.filter((r) => !r.error);
      const rng = (xs: number[]) => `${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}`;
      out.push(
        `| ${label} | ${name} | ${m.sessionsUpSeconds.toFixed(2)} s (${rng(ok.map((r) => r.sessionsUpSeconds))}) | ${m.convergeSeconds.toFixed(2)} s (${rng(ok.map((r) => r.convergeSeconds))}) | ${(m.peakRssBytes / MB).toFixed(0)} MB | ${m.cpuSeconds} |`,
      );
    }
  }
  return out.join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const f of process.argv.slice(2)) {
    const doc = JSON.parse(readFileSync(f, 'utf8')) as { benchmark: string };
    console.log(`\n<!-- ${f} -->`);
    console.log(doc.benchmark === 'bgp-ingest' ? ingestTables(doc as unknown as IngestDoc) : rrTables(doc as unknown as RrDoc));
  }
}
