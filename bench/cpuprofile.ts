/*
 * Summary of a V8 .cpuprofile (from `node --cpu-prof`): self time per function (name, file:line), and the
 * share of (garbage collector), (program) and (idle). Used by the benchmarks' --profile option. Frames in an
 * esbuild bundle with a linked source map (the benchmarks' tortie driver) are mapped back to src/…:line.
 *
 *   node --import tsx bench/cpuprofile.ts <file.cpuprofile> [top=25]
 */

import { existsSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface ProfileSummary {
  totalMs: number;
  busyMs: number;
  idleMs: number;
  gcMs: number;
  top: { fn: string; where: string; selfMs: number; pctOfBusy: number }[];
  byFile: { file: string; selfMs: number; pctOfBusy: number }[];
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Generated line (0-based) → [source, original line (0-based)] at the line's first mapping; from a v3 source map. */
function lineMap(mapFile: string): { sources: string[]; lines: ([number, number] | undefined)[] } {
  const m = JSON.parse(readFileSync(mapFile, 'utf8')) as { sources: string[]; mappings: string };
  const root = dirname(mapFile);
  const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const sources = m.sources.map((s) => relative(repo, resolve(root, s)));
  const lines: ([number, number] | undefined)[] = [];
  let src = 0;
  let line = 0;
  m.mappings.split(';').forEach((group, gl) => {
    let first: [number, number] | undefined;
    for (const seg of group.split(',')) {
      if (!seg) continue;
      const vals: number[] = [];
      let shift = 0;
      let v = 0;
      for (const ch of seg) {
        const d = B64.indexOf(ch);
        v += (d & 31) << shift;
        if (d & 32) shift += 5;
        else {
          vals.push(v & 1 ? -(v >>> 1) : v >>> 1);
          v = 0;
          shift = 0;
        }
      }
      if (vals.length >= 4) {
        src += vals[1]!;
        line += vals[2]!;
        first ??= [src, line];
      }
    }
    lines[gl] = first;
  });
  return { sources, lines };
}

export function summarizeProfile(file: string, topN = 25): ProfileSummary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const maps = new Map<string, ReturnType<typeof lineMap> | undefined>();
  const place = (url: string, line0: number): { file: string; where: string } => {
    const path = url.replace(/^file:\/\//, '');
    if (!maps.has(path)) maps.set(path, existsSync(`${path}.map`) ? lineMap(`${path}.map`) : undefined);
    const m = maps.get(path);
    const hit = m?.lines[line0];
    if (m && hit) return { file: m.sources[hit[0]]!, where: `${m.sources[hit[0]]}:${hit[1] + 1}` };
    const short = url.replace(/^file:\/\//, '').replace(/^.*?\/(src|bench|node_modules)\//, '$1/');
    return { file: short, where: url ? `${short}:${line0 + 1}` : '' };
  };
  const byId = new Map<number, ProfileNode>();
  for (const n of p.nodes) byId.set(n.id, n);
  // Self time per node from samples and time deltas (more exact than hitCount × interval).
  const self = new Map<number, number>();
  const samples = p.samples ?? [];
  const deltas = p.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    const dt = (deltas[i + 1] ?? 0) / 1000;
    self.set(samples[i]!, (self.get(samples[i]!) ?? 0) + dt);
  }
  const fnTime = new Map<string, { fn: string; where: string; ms: number }>();
  const fileTime = new Map<string, number>();
  let idle = 0;
  let gc = 0;
  let total = 0;
  for (const [id, ms] of self) {
    const n = byId.get(id)!;
    const cf = n.callFrame;
    total += ms;
    if (cf.functionName === '(idle)') {
      idle += ms;
      continue;
    }
    if (cf.functionName === '(garbage collector)') gc += ms;
    const { file: short, where } = cf.url ? place(cf.url, cf.lineNumber) : { file: '', where: '' };
    const key = `${cf.functionName}|${where}`;
    const e = fnTime.get(key) ?? { fn: cf.functionName || '(anonymous)', where, ms: 0 };
    e.ms += ms;
    fnTime.set(key, e);
    const f = cf.url ? short : cf.functionName;
    fileTime.set(f, (fileTime.get(f) ?? 0) + ms);
  }
  const busy = total - idle;
  const pct = (ms: number) => Math.round((ms / busy) * 1000) / 10;
  return {
    totalMs: Math.round(total),
    busyMs: Math.round(busy),
    idleMs: Math.round(idle),
    gcMs: Math.round(gc),
    top: [...fnTime.values()]
      .sort((a, b) => b.ms - a.ms)
      .slice(0, topN)
      .map((e) => ({ fn: e.fn, where: e.where, selfMs: Math.round(e.ms), pctOfBusy: pct(e.ms) })),
    byFile: [...fileTime.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 15)
      .map(([file, ms]) => ({ file, selfMs: Math.round(ms), pctOfBusy: pct(ms) })),
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const s = summarizeProfile(process.argv[2]!, Number(process.argv[3] ?? 25));
  console.log(`total ${s.totalMs} ms, busy ${s.busyMs} ms, idle ${s.idleMs} ms, GC ${s.gcMs} ms`);
  for (const e of s.top) console.log(`${String(e.selfMs).padStart(7)} ms ${String(e.pctOfBusy).padStart(5)}%  ${e.fn}  ${e.where}`);
  console.log('\nby file:');
  for (const e of s.byFile) console.log(`${String(e.selfMs).padStart(7)} ms ${String(e.pctOfBusy).padStart(5)}%  ${e.file}`);
}
