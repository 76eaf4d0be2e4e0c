/**
 * The boxed tables of `calicoctl ipam show` and `node status`: olekukonko/tablewriter v0.0.5 with
 * its defaults (`NewWriter` + `SetHeader`), as calicoctl v3.32 uses it:
 *
 *   +----------+----------------+
 *   | GROUPING |      CIDR      |      header upper-cased and centred (extra space on the right)
 *   +----------+----------------+
 *   | IP Pool  | 192.168.0.0/16 |      a cell that is a plain number is right-aligned,
 *   +----------+----------------+      anything else left-aligned; no lines between rows
 *
 * tablewriter wraps cells wider than 30 columns at spaces; no cell these commands print has both,
 * so wrapping is not reproduced.
 */

const NUMERIC = /^-?(?:\d{1,3}(?:,\d{3})*|\d+)(?:\.\d+)?$/;

function width(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

export function renderTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const head = header.map((h) => h.replace(/_/g, ' ').trim().toUpperCase());
  const widths = head.map((h, c) => Math.max(width(h), ...rows.map((r) => width(r[c] ?? ''))));
  const line = '+' + widths.map((w) => '-'.repeat(w + 2)).join('+') + '+\n';
  const centre = (s: string, w: number): string => {
    const gap = w - width(s);
    const left = Math.floor(gap / 2);
    return ' '.repeat(left) + s + ' '.repeat(gap - left);
  };
  const cell = (s: string, w: number): string => (NUMERIC.test(s.trim()) ? ' '.repeat(w - width(s)) + s : s + ' '.repeat(w - width(s)));
  let out = line + '| ' + head.map((h, c) => centre(h, widths[c]!)).join(' | ') + ' |\n' + line;
  for (const r of rows) out += '| ' + widths.map((w, c) => cell(r[c] ?? '', w)).join(' | ') + ' |\n';
  return out + line;
}
