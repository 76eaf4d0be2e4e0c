/*
 * UPDATE decoding (RFC 4271 §4.3, RFC 4760, RFC 6793, RFC 7606). Never throws: every malformation ends as a
 * WireProblem, and the message's outcome is the strongest one (RFC 7606 §3 h).
 *
 * Order of work, and why:
 *  1. Withdrawn Routes Length and Total Path Attribute Length must fit the message (else Malformed Attribute
 *     List, session reset, RFC 7606 §3 b). Then both classic NLRI fields are parsed FIRST: they are located by
 *     lengths alone, and treat-as-withdraw needs them even when an attribute is broken. A malformed NLRI field
 *     is a session reset (Invalid Network Field, RFC 7606 §5.3).
 *  2. The attribute walk. Framing errors (fewer octets than a header, a length overrunning the section) are
 *     treat-as-withdraw and stop the walk (RFC 7606 §4). Duplicates: MP_REACH/MP_UNREACH twice is a session
 *     reset, any other attribute's later copies are discarded (§3 g). Known attributes are checked for the
 *     Optional/Transitive bits (§3 c) and decoded by their descriptor (attributes.ts) -- unless the row says
 *     the attribute is ignored from this kind of peer (LOCAL_PREF, ORIGINATOR_ID, CLUSTER_LIST from eBGP;
 *     AS4_PATH, AS4_AGGREGATOR from a 4-octet peer): those are discarded unread. Unknown ones: optional
 *     transitive kept with Partial set, optional non-transitive dropped quietly, well-known = Unrecognized
 *     Well-known Attribute (session reset: RFC 7606 leaves RFC 4271's rule as it was).
 *     MP_REACH/MP_UNREACH are decoded wherever they sit (§5.1 asks senders to put them first; receivers must
 *     accept any position), so a malformed attribute before them still leaves their NLRI known.
 *  3. After the walk: RFC 6793 §4.2.3 (AS4_PATH / AS4_AGGREGATOR for 2-octet peers), RFC 4760 §3 (NEXT_HOP
 *     ignored when only MP NLRI), missing well-known mandatory attributes when NLRI are present (treat-as-
 *     withdraw, §3 d), End-of-RIB (RFC 4724 §2), and §5.2: with attributes but no reachable NLRI, anything
 *     stronger than attribute-discard becomes a session reset -- we cannot tell that the NLRI were found.
 */

import type { Nlri, PathAttributes } from '../types.js';
import { AS_TRANS, ATTR, ATTR_FLAG, ERR, UPDATE_ERR as E } from './constants.js';
import { u16 } from './bytes.js';
import { mergeAs4Path } from './aspath.js';
import { ATTRIBUTE_BY_TYPE, type AttrDecodeState } from './attributes.js';
import { EMPTY, problem, stronger, type Handling, type WireProblem } from './errors.js';
import { badLength } from './header.js';
import { decodeV4Prefixes } from './nlri.js';
import type { UpdateMessage, WireContext } from './model.js';

const O = ATTR_FLAG.OPTIONAL;
const T = ATTR_FLAG.TRANSITIVE;

/** seen[type] === generation when `type` occurred in the UPDATE being decoded (no clearing between messages). */
const seen = new Int32Array(256);
let generation = 0;

const MANDATORY = [ATTR.ORIGIN, ATTR.AS_PATH] as const;
const MANDATORY_CLASSIC = [ATTR.ORIGIN, ATTR.AS_PATH, ATTR.NEXT_HOP] as const;
const NAMES: Record<number, string> = { [ATTR.ORIGIN]: 'ORIGIN', [ATTR.AS_PATH]: 'AS_PATH', [ATTR.NEXT_HOP]: 'NEXT_HOP' };

/** Decodes a whole UPDATE message (header included). See `UpdateMessage` for how to act on the result. */
export function decodeUpdate(msg: Uint8Array, ctx: WireContext): UpdateMessage {
  const withdrawn: Nlri = { v4: [], v6: [] };
  const announced: Nlri = { v4: [], v6: [] };
  const problems: WireProblem[] = [];
  const u: UpdateMessage = { type: 'update', withdrawn, announced, problems };
  let error: WireProblem | undefined;
  const add = (p: WireProblem): void => {
    problems.push(p);
    if (p.handling !== 'attribute-discard' && stronger(p, error)) error = p;
  };
  const finish = (): UpdateMessage => {
    if (error !== undefined) u.error = error;
    return u;
  };
  const report = (subcode: number, handling: Handling, reason: string, data: Uint8Array = EMPTY, attrType?: number): void =>
    add(problem(ERR.UPDATE_MESSAGE, subcode, handling, reason, data, attrType));
  const reset = (subcode: number, reason: string, data?: Uint8Array): UpdateMessage => {
    report(subcode, 'session-reset', reason, data);
    return finish();
  };

  const end = msg.length;
  if (end < 23) {
    add(badLength(msg, `UPDATE of ${end} octets (min 23)`));
    return finish();
  }
  const wEnd = 21 + u16(msg, 19);
  if (wEnd + 2 > end) return reset(E.MALFORMED_ATTRIBUTE_LIST, 'Withdrawn Routes Length overruns the message');
  const aStart = wEnd + 2;
  const aEnd = aStart + u16(msg, wEnd);
  if (aEnd > end) return reset(E.MALFORMED_ATTRIBUTE_LIST, 'Total Path Attribute Length overruns the message');
  let bad = decodeV4Prefixes(msg, 21, wEnd, withdrawn.v4);
  if (bad !== undefined) return reset(E.INVALID_NETWORK_FIELD, `Withdrawn Routes: ${bad}`);
  bad = decodeV4Prefixes(msg, aEnd, end, announced.v4);
  if (bad !== undefined) return reset(E.INVALID_NETWORK_FIELD, `NLRI: ${bad}`);
  const classicNlri = aEnd < end;

  const st: AttrDecodeState = { ctx, classicNlri, attrs: {}, withdrawn, announced, mpReach: false };
  const gen = ++generation | 0;
  let count = 0; // attributes seen
  let otherThanUnreach = false; // some attribute other than MP_UNREACH_NLRI (RFC 7606 §5.2)
  for (let i = aStart; i < aEnd; ) {
    const start = i;
    const flags = msg[i]!;
    const hdr = flags & ATTR_FLAG.EXTENDED_LENGTH ? 4 : 3;
    if (aEnd - i < hdr) {
      otherThanUnreach = true;
      const reason = `${aEnd - i} octets left, too few for an attribute header (RFC 7606 §4)`;
      report(E.MALFORMED_ATTRIBUTE_LIST, 'treat-as-withdraw', reason, copy(msg, start, aEnd));
      break;
    }
    const type = msg[i + 1]!;
    const len = hdr === 4 ? u16(msg, i + 2) : msg[i + 2]!;
    const vOff = i + hdr;
    i = vOff + len;
    count++;
    if (type !== ATTR.MP_UNREACH_NLRI) otherThanUnreach = true;
    if (i > aEnd) {
      const reason = `attribute ${type} of length ${len} overruns the path attributes (RFC 7606 §4)`;
      report(E.ATTRIBUTE_LENGTH_ERROR, 'treat-as-withdraw', reason, copy(msg, start, aEnd), type);
      break;
    }
    if (seen[type] === gen) {
      if (type === ATTR.MP_REACH_NLRI || type === ATTR.MP_UNREACH_NLRI) {
        return reset(E.MALFORMED_ATTRIBUTE_LIST, `attribute ${type} appears twice (RFC 7606 §3 g)`);
      }
      report(E.MALFORMED_ATTRIBUTE_LIST, 'attribute-discard', `duplicate attribute ${type} dropped (RFC 7606 §3 g)`, EMPTY, type);
      continue;
    }
    seen[type] = gen;
    const d = ATTRIBUTE_BY_TYPE[type];
    if (d === undefined) {
      if ((flags & O) === 0) {
        return reset(E.UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE, `unrecognized well-known attribute ${type}`, copy(msg, start, i));
      }
      if (flags & T) {
        const list = (st.attrs.unknown ??= []) as NonNullable<PathAttributes['unknown']>[number][];
        list.push({ flags: (flags & ~ATTR_FLAG.EXTENDED_LENGTH) | ATTR_FLAG.PARTIAL, type, value: copy(msg, vOff, i) });
      }
      continue; // optional non-transitive: quietly ignored (RFC 4271 §5)
    }
    if (d.ignoredFrom !== undefined && (d.ignoredFrom === 'external' ? ctx.ebgp === true : ctx.fourOctetAs)) {
      const from = d.ignoredFrom === 'external' ? 'an external peer' : 'a 4-octet AS peer';
      report(E.MALFORMED_ATTRIBUTE_LIST, 'attribute-discard', `${d.name} from ${from} ignored`, EMPTY, type);
      continue;
    }
    if ((flags & (O | T)) !== d.flags) {
      const reason = `${d.name} with flags 0x${flags.toString(16)} (RFC 7606 §3 c)`;
      report(E.ATTRIBUTE_FLAGS_ERROR, d.onFlagsError, reason, copy(msg, start, i), type);
      if (error?.handling === 'session-reset') return finish();
      continue;
    }
    const f = d.decode(msg, vOff, len, st);
    if (f !== undefined) {
      report(f.subcode, f.handling, f.reason, copy(msg, start, i), type);
      if (error?.handling === 'session-reset') return finish();
    }
  }

  const a = st.attrs;
  if (a.unknown !== undefined && a.unknown.length > 1) a.unknown = [...a.unknown].sort((x, y) => x.type - y.type); // canonical order
  if (!ctx.fourOctetAs) {
    // RFC 6793 §4.2.3
    let as4Path = st.as4Path;
    if (st.as4Aggregator !== undefined && a.aggregator !== undefined) {
      if (a.aggregator.asn !== AS_TRANS) {
        as4Path = undefined;
        const reason = 'AGGREGATOR is not AS_TRANS: AS4_AGGREGATOR and AS4_PATH ignored (RFC 6793 §4.2.3)';
        report(E.OPTIONAL_ATTRIBUTE_ERROR, 'attribute-discard', reason, EMPTY, ATTR.AS4_AGGREGATOR);
      } else {
        a.aggregator = st.as4Aggregator;
      }
    }
    if (as4Path !== undefined && a.asPath !== undefined) a.asPath = mergeAs4Path(a.asPath, as4Path);
  }
  if (!classicNlri && st.mpReach) {
    delete a.nextHop; // RFC 4760 §3
    if (st.mpV4NextHop !== undefined) a.nextHop = st.mpV4NextHop;
  }

  const reach = announced.v4.length + announced.v6.length > 0;
  if (reach) {
    for (const t of classicNlri ? MANDATORY_CLASSIC : MANDATORY) {
      if (seen[t] !== gen) {
        report(E.MISSING_WELL_KNOWN_ATTRIBUTE, 'treat-as-withdraw', `missing ${NAMES[t]} (RFC 7606 §3 d)`, Uint8Array.of(t), t);
      }
    }
  }

  if (wEnd === 21 && !classicNlri) {
    if (aEnd === aStart) u.endOfRib = 'ipv4';
    else if (count === 1 && st.mpUnreachEmpty !== undefined && problems.length === 0) u.endOfRib = st.mpUnreachEmpty;
  }

  if (error !== undefined && error.handling === 'treat-as-withdraw' && !reach && otherThanUnreach) {
    error = { ...error, handling: 'session-reset', reason: `${error.reason}; no reachable NLRI to withdraw (RFC 7606 §5.2)` };
  }
  if (error === undefined && a.origin !== undefined && a.asPath !== undefined) u.attrs = a as PathAttributes;
  return finish();
}


function copy(b: Uint8Array, from: number, to: number): Uint8Array {
  return new Uint8Array(b.subarray(from, to));
}
