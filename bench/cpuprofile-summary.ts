/**
 * Summarises V8 CPU profiles (`node --cpu-prof`, e.g. bench/convergence.ts with CONV_CPU_PROF=<dir>):
 * self time and inclusive time per function, and time by area of the agent, over a window of each
 * profile (skip the start-up, trim the shutdown). Diagnosis only: profiles of processes that share
 * saturated cores count preemption as time in whatever was running.
 *
 *   node --import tsx bench/cpuprofile-summary.ts <dir or file>… [--skip S] [--trim S] [--top N]
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

interface CallFrame { functionName: string; url: string; lineNumber: number }
interface ProfileNode { id: number; callFrame: CallFrame; children?: number[] }
interface Profile { nodes: ProfileNode[]; startTime: number; endTime: number; samples: number[]; timeDeltas: number[] }

/** Areas, first match wins (a substring of any frame's function@url on the stack). */
const AREAS: [string, string][] = [
  ['dataplane (apply)', 'dataplane/'],
  ['kernel plan', 'routing/kernel'],
  ['node status', 'writeNodeStatuses'],
  ['datastore re-read', 'resync'],
  ['datastore watch', 'datastore/'],
  ['bgp', 'bgp/'],
  ['netlink (replies)', 'netlink'],
  ['agent, other', 'agent/'],
];

function files(paths: string[]): string[] {
  return paths.flatMap((p) => (statSync(p).isDirectory() ? readdirSync(p).flatMap((e) => files([join(p, e)])) : p.endsWith('.cpuprofile') ? [p] : []));
}

const name = (cf: CallFrame) => `${cf.functionName || '(anonymous)'} ${cf.url.replace(/.*\/(src|dist|node_modules)\//, '$1/')}:${cf.lineNumber}`;

function main(): void {
  const args = process.argv.slice(2);
  const opt = (k: string, d: number) => {
    const i = args.indexOf(k);
    if (i < 0) return d;
    const v = Number(args.splice(i, 2)[1]);
    if (!Number.isFinite(v)) throw new Error(`${k} needs a number`);
    return v;
  };
  const skip = opt('--skip', 0);
  const trim = opt('--trim', 0);
  const top = opt('--top', 30);
  const list = files(args);
  if (list.length === 0) throw new Error('usage: cpuprofile-summary.ts <dir or .cpuprofile>… [--skip S] [--trim S] [--top N]');
  const self = new Map<string, number>();
  const incl = new Map<string, number>();
  const areas = new Map<string, number>();
  let total = 0;
  const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
  for (const f of list) {
    const p = JSON.parse(readFileSync(f, 'utf8')) as Profile;
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const from = p.startTime + skip * 1e6;
    const to = p.endTime - trim * 1e6;
    let t = p.startTime;
    for (let i = 0; i < p.samples.length; i++) {
      t += p.timeDeltas[i]!;
      const d = p.timeDeltas[i + 1] ?? 0;
      const n = byId.get(p.samples[i]!)!;
      if (t < from || t > to || n.callFrame.functionName === '(idle)') continue;
      total += d;
      add(self, name(n.callFrame), d);
      const stack: string[] = [];
      const seen = new Set<string>();
      for (let id: number | undefined = n.id; id !== undefined; id = parent.get(id)) {
        const cf = byId.get(id)!.callFrame;
        stack.push(`${cf.functionName}@${cf.url}`);
        const k = name(cf);
        if (seen.has(k)) continue;
        seen.add(k);
        add(incl, k, d);
      }
      const fn = n.callFrame.functionName;
      const s = stack.join(' ');
      const area = fn === '(garbage collector)' ? 'gc' : fn === '(program)' ? 'native (program)' : (AREAS.find(([, m]) => s.includes(m))?.[0] ?? 'other');
      add(areas, area, d);
    }
  }
  const ms = (us: number) => (us / 1000).toFixed(0).padStart(8);
  const show = (title: string, m: Map<string, number>, n: number) => {
    console.log(`\n${title}`);
    for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, n)) console.log(`${ms(v)} ms  ${k}`);
  };
  console.log(`${list.length} profile(s), ${ms(total).trim()} ms of samples (window: skip ${skip} s, trim ${trim} s)`);
  show('by area', areas, areas.size);
  show('self', self, top);
  show('inclusive', incl, top);
}

main();
