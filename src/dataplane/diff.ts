/**
 * Desired vs actual, keyed (felix's deltatracker reduced to what one apply needs): every reconciler
 * turns both sides into key → object, and this says what to add, what to change in place and what
 * to remove. Several actual objects may share a key (the kernel allows duplicates in places): the
 * one equal to the desired object is kept, the others are removed.
 */

export interface Diff<D, A> {
  add: D[];
  change: { desired: D; actual: A }[];
  remove: A[];
  /** How many desired objects were already right. */
  same: number;
}

export function diffByKey<D, A>(
  desired: Iterable<D>,
  actual: Iterable<A>,
  keyOfDesired: (d: D) => string,
  keyOfActual: (a: A) => string,
  equal: (d: D, a: A) => boolean,
): Diff<D, A> {
  const groups = new Map<string, A[]>();
  for (const a of actual) {
    const k = keyOfActual(a);
    const g = groups.get(k);
    if (g) g.push(a);
    else groups.set(k, [a]);
  }
  const out: Diff<D, A> = { add: [], change: [], remove: [], same: 0 };
  const seen = new Set<string>();
  for (const d of desired) {
    const k = keyOfDesired(d);
    if (seen.has(k)) continue; // a duplicate in the desired set: the first one wins
    seen.add(k);
    const g = groups.get(k);
    groups.delete(k);
    if (!g) {
      out.add.push(d);
      continue;
    }
    const i = g.findIndex((a) => equal(d, a));
    if (i >= 0) out.same++;
    else out.change.push({ desired: d, actual: g[0]! });
    const keep = i >= 0 ? i : 0;
    g.forEach((a, j) => {
      if (j !== keep) out.remove.push(a);
    });
  }
  for (const g of groups.values()) out.remove.push(...g);
  return out;
}
