/*
 * AS_PATH and AS4_PATH values (RFC 4271 §4.3, §5.1.2; RFC 5065 confederation segments; RFC 6793).
 *
 * A path is a list of segments <type, count, ASNs>; ASNs are 2 octets towards a peer without the 4-octet AS
 * capability and 4 octets otherwise (AS4_PATH is always 4 octets). The data model holds 4-octet values only.
 * Tricky bits:
 *  - Malformed (RFC 7606 §7.2): unknown segment type, a segment overrunning the attribute, a lone trailing
 *    octet (segment header underrun), a zero-length segment. RFC 7607: AS 0 anywhere is malformed too.
 *  - Segments hold at most 255 ASNs: the encoder splits longer ones (a split AS_SET counts as two in path
 *    length; nothing sane sends one that long).
 *  - RFC 6793 §4.2.3 merge, for 2-octet peers: count the ASNs of both (an AS_SET counts 1, confederation
 *    segments 0); if AS_PATH is shorter, AS4_PATH is ignored; otherwise the leading (difference) ASNs of
 *    AS_PATH are kept -- cutting inside an AS_SEQUENCE if needed -- and AS4_PATH appended.
 */

import { AS_PATH_SEGMENT, type AsPathSegment, type AsPathSegmentType } from '../types.js';
import { AS_TRANS } from './constants.js';
import type { Writer } from './bytes.js';

/** Decodes a path value in b[off, off+len). Returns the segments, or why the value is malformed. */
export function decodeAsPath(b: Uint8Array, off: number, len: number, asSize: 2 | 4): AsPathSegment[] | string {
  const segs: AsPathSegment[] = [];
  const end = off + len;
  let i = off;
  while (i < end) {
    if (end - i < 2) return 'segment header truncated';
    const type = b[i]!;
    const count = b[i + 1]!;
    if (type < AS_PATH_SEGMENT.SET || type > AS_PATH_SEGMENT.CONFED_SET) return `unknown segment type ${type}`;
    if (count === 0) return 'zero-length segment';
    i += 2;
    if (i + count * asSize > end) return `segment of ${count} ASNs overruns the attribute`;
    const asns = new Array<number>(count);
    if (asSize === 4) {
      for (let k = 0; k < count; k++, i += 4) {
        asns[k] = ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
      }
    } else {
      for (let k = 0; k < count; k++, i += 2) asns[k] = (b[i]! << 8) | b[i + 1]!;
    }
    segs.push({ type: type as AsPathSegmentType, asns });
  }
  return segs;
}

export function isConfed(t: AsPathSegmentType): boolean {
  return t === AS_PATH_SEGMENT.CONFED_SEQUENCE || t === AS_PATH_SEGMENT.CONFED_SET;
}

/** True when some ASN is 0 (RFC 7607 §2: malformed). */
export function hasAsZero(segs: readonly AsPathSegment[]): boolean {
  return segs.some((s) => s.asns.includes(0));
}

/** Path length for RFC 6793 §4.2.3: AS_SET counts 1, confederation segments 0. */
function pathCount(segs: readonly AsPathSegment[]): number {
  let n = 0;
  for (const s of segs) {
    if (s.type === AS_PATH_SEGMENT.SEQUENCE) n += s.asns.length;
    else if (s.type === AS_PATH_SEGMENT.SET) n += 1;
  }
  return n;
}

/** RFC 6793 §4.2.3: rebuild the 4-octet path from AS_PATH (with AS_TRANS) and AS4_PATH. */
export function mergeAs4Path(asPath: readonly AsPathSegment[], as4Path: readonly AsPathSegment[]): readonly AsPathSegment[] {
  const n2 = pathCount(asPath);
  const n4 = pathCount(as4Path);
  if (n2 < n4) return asPath;
  let keep = n2 - n4;
  const out: AsPathSegment[] = [];
  for (const s of asPath) {
    const n = s.type === AS_PATH_SEGMENT.SEQUENCE ? s.asns.length : s.type === AS_PATH_SEGMENT.SET ? 1 : 0;
    if (keep < n) {
      if (keep > 0) out.push({ type: s.type, asns: s.asns.slice(0, keep) }); // only a SEQUENCE can be cut
      break;
    }
    out.push(s);
    keep -= n;
  }
  return out.concat(as4Path);
}

/** True when some ASN does not fit 2 octets (then a 2-octet peer needs AS4_PATH). */
export function needsAs4(segs: readonly AsPathSegment[]): boolean {
  return segs.some((s) => s.asns.some((a) => a > 0xffff));
}

/** AS4_PATH content: the path without confederation segments (RFC 6793 §3). */
export function as4PathOf(segs: readonly AsPathSegment[]): readonly AsPathSegment[] {
  return segs.filter((s) => !isConfed(s.type));
}

const MAX_SEGMENT = 255;

/** Encoded size of a path value. */
export function asPathSize(segs: readonly AsPathSegment[], asSize: 2 | 4): number {
  let n = 0;
  for (const s of segs) {
    const c = s.asns.length;
    if (c === 0) continue;
    n += 2 * Math.ceil(c / MAX_SEGMENT) + c * asSize;
  }
  return n;
}

/** Writes a path value; with asSize 2, ASNs above 65535 become AS_TRANS (RFC 6793 §4.2.2). */
export function writeAsPath(w: Writer, segs: readonly AsPathSegment[], asSize: 2 | 4): void {
  for (const s of segs) {
    for (let k = 0; k < s.asns.length; k += MAX_SEGMENT) {
      const part = s.asns.slice(k, k + MAX_SEGMENT);
      w.u8(s.type).u8(part.length);
      for (const a of part) {
        if (asSize === 4) w.u32(a);
        else w.u16(a > 0xffff ? AS_TRANS : a);
      }
    }
  }
}

export function formatAsPath(segs: readonly AsPathSegment[]): string {
  return segs
    .map((s) => {
      const body = s.asns.join(' ');
      switch (s.type) {
        case AS_PATH_SEGMENT.SET:
          return `{${body}}`;
        case AS_PATH_SEGMENT.CONFED_SEQUENCE:
          return `(${body})`;
        case AS_PATH_SEGMENT.CONFED_SET:
          return `[${body}]`;
        default:
          return body;
      }
    })
    .join(' ');
}
