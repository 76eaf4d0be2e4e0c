/**
 * Go's text/tabwriter as calicoctl configures it: `NewWriter(out, minwidth 5, tabwidth 1,
 * padding 3, ' ', 0)`. Every cell is tab-terminated, so each column is as wide as its widest
 * cell plus 3 (at least 5), cells are left-aligned and padded with spaces — including the last
 * cell, which is why calicoctl's table lines end in spaces. Widths count runes, not bytes.
 */

export function tabwrite(lines: readonly (readonly string[])[], opts: { minwidth?: number; padding?: number } = {}): string {
  const minwidth = opts.minwidth ?? 5;
  const padding = opts.padding ?? 3;
  const ncols = Math.max(0, ...lines.map((l) => l.length));
  const widths: number[] = [];
  for (let c = 0; c < ncols; c++) {
    let w = minwidth;
    for (const l of lines) {
      if (c < l.length) w = Math.max(w, runeLen(l[c]!) + padding);
    }
    widths.push(w);
  }
  return lines.map((l) => l.map((cell, c) => cell + ' '.repeat(widths[c]! - runeLen(cell))).join('') + '\n').join('');
}

function runeLen(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}
