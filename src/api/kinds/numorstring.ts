/**
 * Calico's numorstring types (api/pkg/lib/numorstring: Port, Protocol, DSCP, Uint8OrString) as
 * JSON values, and the custom UnmarshalJSON rules Go applies when calicoctl reads them.
 *
 * What a user may write, and what Go stores and prints back (MarshalJSON):
 *  - Port: `80` or `"80"` → 80; `"80:90"` → "80:90"; `"80:80"` → 80; `"http"` → "http".
 *    Decode errors: `invalid port format (99999)`, `minimum port number (90) is greater than
 *    maximum port number (80) in port range`, `invalid name for named port (a b)`, and for a
 *    number out of uint16 range Go's `json: cannot unmarshal number 70000 into … of type uint16`.
 *  - Protocol / DSCP (Uint8OrString): a number 0–255, a string of digits that fits a uint8
 *    (`"6"` → 6), or any other string kept as written (`"TCP"`, `"tcp"`, `"300"`) for the
 *    validator to judge.
 *
 * The schema types below carry `decodePort` / `decodeUint8OrString` as their decode hook, so the
 * decoder applies these rules while reading the file, as Go does.
 */
import { intOrString, type ScalarDecode, type Ty } from '../schema/types.js';

/** numorstring.Port: a uint16 in numeric form. */
export const port: Ty = intOrString('uint16', {}, (v) => decodePort(v));
/** numorstring.Protocol, numorstring.DSCP (Uint8OrString): a uint8 in numeric form. */
export const uint8OrString: Ty = intOrString('uint8', {}, (v) => decodeUint8OrString(v));

export type NumOrStr = number | string;

export type { ScalarDecode } from '../schema/types.js';

const ALL_DIGITS = /^\d+$/;
const PORT_RANGE = /^(\d+):(\d+)$/;
const PORT_NAME = /^[a-zA-Z0-9_.-]{1,128}$/;

/** strconv.ParseUint(s, 10, bits): digits only, within range. */
function parseUint(s: string, max: number): number | undefined {
  if (!ALL_DIGITS.test(s)) return undefined;
  const n = Number(s);
  return n <= max ? n : undefined;
}

const isUint = (v: number, max: number) => Number.isInteger(v) && v >= 0 && v <= max;

/** Port.UnmarshalJSON then MarshalJSON. */
export function decodePort(v: NumOrStr): ScalarDecode {
  if (typeof v === 'number') return isUint(v, 0xffff) ? { ok: true, value: v } : { ok: false, range: true };
  if (ALL_DIGITS.test(v)) {
    const n = parseUint(v, 0xffff);
    return n === undefined ? { ok: false, range: false, message: `invalid port format (${v})` } : { ok: true, value: n };
  }
  const m = PORT_RANGE.exec(v);
  if (m) {
    const lo = parseUint(m[1]!, 0xffff);
    if (lo === undefined) return { ok: false, range: false, message: `invalid minimum port number in range (${v})` };
    const hi = parseUint(m[2]!, 0xffff);
    if (hi === undefined) return { ok: false, range: false, message: `invalid maximum port number in range (${v})` };
    if (lo > hi) {
      return { ok: false, range: false, message: `minimum port number (${lo}) is greater than maximum port number (${hi}) in port range` };
    }
    return { ok: true, value: lo === hi ? lo : `${lo}:${hi}` };
  }
  if (!PORT_NAME.test(v)) return { ok: false, range: false, message: `invalid name for named port (${v})` };
  return { ok: true, value: v };
}

/** Uint8OrString.UnmarshalJSON then MarshalJSON (Protocol, DSCP). */
export function decodeUint8OrString(v: NumOrStr): ScalarDecode {
  if (typeof v === 'number') return isUint(v, 0xff) ? { ok: true, value: v } : { ok: false, range: true };
  const n = parseUint(v, 0xff);
  return { ok: true, value: n ?? v };
}

/** A Port as its parts (numorstring.Port's fields). */
export interface PortParts {
  min: number;
  max: number;
  name: string;
}

export function portParts(v: NumOrStr): PortParts {
  if (typeof v === 'number') return { min: v, max: v, name: '' };
  const m = PORT_RANGE.exec(v);
  if (m) return { min: Number(m[1]), max: Number(m[2]), name: '' };
  return { min: 0, max: 0, name: v };
}

/** numorstring.AllPortsAreNamed (true for an empty list). */
export const allPortsNamed = (ports: readonly NumOrStr[] | undefined): boolean => (ports ?? []).every((p) => portParts(p).name !== '');

/** Protocol.SupportsPorts. */
export function protocolSupportsPorts(p: NumOrStr): boolean {
  if (typeof p === 'number') return p === 6 || p === 17 || p === 132;
  return ['TCP', 'UDP', 'tcp', 'udp', 'SCTP', 'sctp'].includes(p);
}

const PROTOCOL_NAME = /^(TCP|UDP|ICMP|ICMPv6|SCTP|UDPLite)$/;

/** validator.go validateProtocol: the reason, or undefined when valid. Reported as field `Protocol`. */
export function protocolProblem(p: NumOrStr): string | undefined {
  if (typeof p === 'number') return p === 0 ? 'protocol number invalid' : undefined;
  return PROTOCOL_NAME.test(p) ? undefined : 'protocol name invalid';
}
