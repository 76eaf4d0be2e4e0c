/**
 * go-yaml v2's map key order (sorter.go keyList.Less), which `calicoctl get -o yaml` shows:
 * not a byte-wise sort but a "natural" one — at the first differing rune, a letter sorts after
 * a non-letter, two letters compare by code point, and runs of digits compare as numbers
 * ("a2" < "a10"), with a run that is longer but numerically equal sorting later ("a1" < "a01").
 *
 * go's sort.Sort runs insertion sort for up to 12 keys (what we do too); for larger maps any
 * correct sort gives Go's order as long as Less is a strict weak order, which it is for the
 * keys calico objects have.
 */

const LETTER = /\p{L}/u;
const DIGIT = /\p{Nd}/u;
const isLetter = (cp: number): boolean => LETTER.test(String.fromCodePoint(cp));
const isDigit = (cp: number): boolean => (cp < 0x100 ? cp >= 48 && cp <= 57 : DIGIT.test(String.fromCodePoint(cp)));

function runes(s: string): number[] {
  const out: number[] = [];
  for (const ch of s) out.push(ch.codePointAt(0)!);
  return out;
}

/** keyList.Less for two string keys. */
export function goYamlKeyLess(a: string, b: string): boolean {
  const ar = runes(a);
  const br = runes(b);
  for (let i = 0; i < ar.length && i < br.length; i++) {
    const ac = ar[i]!;
    const bc = br[i]!;
    if (ac === bc) continue;
    const al = isLetter(ac);
    const bl = isLetter(bc);
    if (al && bl) return ac < bc;
    if (al || bl) return bl;
    let an = 0n;
    let bn = 0n;
    if (ac === 48 || bc === 48) {
      for (let j = i - 1; j >= 0 && isDigit(ar[j]!); j--) {
        if (ar[j] !== 48) { an = 1n; bn = 1n; break; }
      }
    }
    let ai = i;
    for (; ai < ar.length && isDigit(ar[ai]!); ai++) an = BigInt.asIntN(64, an * 10n + BigInt(ar[ai]! - 48));
    let bi = i;
    for (; bi < br.length && isDigit(br[bi]!); bi++) bn = BigInt.asIntN(64, bn * 10n + BigInt(br[bi]! - 48));
    if (an !== bn) return an < bn;
    if (ai !== bi) return ai < bi;
    return ac < bc;
  }
  return ar.length < br.length;
}

/** Keys in the order go-yaml v2 writes them. */
export function sortKeysGoYaml(keys: readonly string[]): string[] {
  const out = [...keys];
  if (out.length <= 12) {
    for (let i = 1; i < out.length; i++) {
      for (let j = i; j > 0 && goYamlKeyLess(out[j]!, out[j - 1]!); j--) {
        const t = out[j]!;
        out[j] = out[j - 1]!;
        out[j - 1] = t;
      }
    }
    return out;
  }
  return out.sort((x, y) => (goYamlKeyLess(x, y) ? -1 : goYamlKeyLess(y, x) ? 1 : 0));
}
