/**
 * natOutgoing (calico-compat §6.5) as nftables: per address family a table `tortie` that tortie
 * owns entirely —
 *
 *   table ip tortie {
 *     set masq-pools { type ipv4_addr; flags interval; elements = { <pools with natOutgoing> } }
 *     set all-pools  { type ipv4_addr; flags interval; elements = { <every pool> } }
 *     chain nat-postrouting {
 *       type nat hook postrouting priority srcnat; policy accept;
 *       ip saddr @masq-pools ip daddr != @all-pools masquerade fully-random
 *     }
 *   }
 *
 * (Felix's `cali40masq-ipam-pools` / `cali40all-ipam-pools` and its `-j MASQUERADE --random-fully`.)
 *
 * Owning a whole table is what makes this simple and safe: a change is one `nft -f` transaction
 * that declares the table (so the delete cannot fail), deletes it and defines it again, and we
 * never edit anybody else's rules. The table is rewritten only when the rendering differs from
 * what was last applied — or, on the first apply, from what `nft list table` shows (compared
 * after normalising whitespace and element order, since nft prints its own layout). No
 * masqueraded pool of a family ⇒ no table of that family.
 *
 * `fully-random` needs kernel + nft support; if nft refuses the script, the reconciler renders
 * again without it and says so once (a warning) — the same fallback felix makes for
 * `--random-fully`.
 */
import { Prefix } from '../net/index.js';
import type { NatPlan } from './types.js';

export type NatTableId = 'ip tortie' | 'ip6 tortie';
export const NAT_TABLES: readonly NatTableId[] = ['ip tortie', 'ip6 tortie'];

/**
 * The desired text of each tortie table (undefined = must not exist). CIDRs that do not parse are
 * returned in `invalid` and left out.
 */
export function renderNat(nat: NatPlan, opts: { fullyRandom: boolean }): { tables: Map<NatTableId, string | undefined>; invalid: string[] } {
  const invalid: string[] = [];
  const parse = (list: readonly string[]): Prefix[] =>
    list.flatMap((s) => {
      const p = Prefix.tryParse(s);
      if (!p) invalid.push(s);
      return p ? [p] : [];
    });
  const masq = parse(nat.masquerade);
  const all = parse([...nat.pools, ...nat.masquerade]); // a masqueraded pool is a pool, whatever the plan says
  const tables = new Map<NatTableId, string | undefined>();
  for (const v of [4, 6] as const) {
    const id: NatTableId = v === 4 ? 'ip tortie' : 'ip6 tortie';
    const m = covering(masq.filter((p) => p.version === v));
    tables.set(id, m.length === 0 ? undefined : renderTable(v, m, covering(all.filter((p) => p.version === v)), opts.fullyRandom));
  }
  return { tables, invalid };
}

/**
 * Sorted, without duplicates and without prefixes inside another one: an interval set refuses
 * overlapping elements ("conflicting intervals specified"), and the covering prefix matches the
 * same addresses anyway.
 */
function covering(ps: Prefix[]): Prefix[] {
  const sorted = [...ps].sort((a, b) => a.compare(b));
  const out: Prefix[] = [];
  for (const p of sorted) {
    const last = out[out.length - 1];
    if (last && last.containsPrefix(p)) continue;
    out.push(p);
  }
  return out;
}

/** nft prints a host prefix as the bare address. */
function element(p: Prefix): string {
  return p.length === p.bits ? p.ip.toString() : p.toString();
}

function renderTable(v: 4 | 6, masq: Prefix[], all: Prefix[], fullyRandom: boolean): string {
  const fam = v === 4 ? 'ip' : 'ip6';
  const type = v === 4 ? 'ipv4_addr' : 'ipv6_addr';
  const set = (name: string, ps: Prefix[]) =>
    [`\tset ${name} {`, `\t\ttype ${type}`, '\t\tflags interval', `\t\telements = { ${ps.map(element).join(', ')} }`, '\t}'].join('\n');
  return [
    `table ${fam} tortie {`,
    set('masq-pools', masq),
    '',
    set('all-pools', all),
    '',
    '\tchain nat-postrouting {',
    '\t\ttype nat hook postrouting priority srcnat; policy accept;',
    `\t\t${fam} saddr @masq-pools ${fam} daddr != @all-pools masquerade${fullyRandom ? ' fully-random' : ''}`,
    '\t}',
    '}',
    '',
  ].join('\n');
}

/** Layout-independent form of a table listing: whitespace collapsed, set elements sorted. */
export function normalizeNft(text: string): string {
  return text
    .replace(/elements = \{([^}]*)\}/g, (_m, body: string) => {
      const items = body
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean)
        .sort();
      return `elements = { ${items.join(', ')} }`;
    })
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * One transaction turning the tables in `changes` into their desired text: `table X` first makes
 * the `delete table X` that follows valid whether or not X exists.
 */
export function natScript(changes: Map<NatTableId, string | undefined>): string {
  const lines: string[] = [];
  for (const [id, text] of changes) {
    lines.push(`table ${id}`, `delete table ${id}`);
    if (text !== undefined) lines.push(text.trimEnd());
  }
  return lines.join('\n') + '\n';
}
