import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
const [dir, ...names] = process.argv.slice(2);
const acc = new Map<string, number>();
for (const h of ['h10', 'h11', 'h12']) {
  for (const f of readdirSync(join(dir!, h))) {
    const p = JSON.parse(readFileSync(join(dir!, h, f), 'utf8'));
    const byId = new Map<number, any>(); const parent = new Map<number, number>();
    for (const n of p.nodes) { byId.set(n.id, n); for (const c of n.children ?? []) parent.set(c, n.id); }
    p.samples.forEach((id: number, i: number) => {
      const n = byId.get(id); if (!names.includes(n.callFrame.functionName)) return;
      const chain: string[] = []; let cur: number | undefined = id;
      for (let k = 0; k < 7 && cur !== undefined; k++) { const c = byId.get(cur).callFrame; chain.push(`${c.functionName}@${c.url.split('/').slice(-2).join('/')}:${c.lineNumber}`); cur = parent.get(cur); }
      const key = chain.join(' < '); acc.set(key, (acc.get(key) ?? 0) + (p.timeDeltas[i] ?? 0) / 1000);
    });
  }
}
for (const [k, v] of [...acc].sort((a, b) => b[1] - a[1]).slice(0, 12)) console.log(v.toFixed(1).padStart(7), k);
