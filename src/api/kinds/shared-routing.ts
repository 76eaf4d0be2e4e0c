/**
 * Small pieces the routing kinds (BGPConfiguration, BGPFilter, IPReservation, IPAMConfiguration,
 * Node, CalicoNodeStatus) share: the go-playground tag predicates libcalico-go registers that
 * `validate/checks.ts` does not carry (`cidrv4`, `netv4`, `mac`, `wireguardPublicKey`, …), and
 * the way Calico reports the few errors that are plain `errors.New` text rather than field errors.
 *
 * Tricky bits:
 *  - `cidrv4`/`cidrv6` accept an unmasked CIDR or a bare IP (Calico's ParseCIDROrIP), `netv4`/
 *    `netv6` additionally demand a strictly masked network; the family is that of the address
 *    as Calico reads it, so `::ffff:1.2.3.4` is IPv4.
 *  - Go prints a struct value with `%v` as `{a b}`; where every field is a nil pointer or empty
 *    string the dump is deterministic and we reproduce it (`goStructDump`), otherwise the kind
 *    leaves the value out rather than invent a pointer address.
 */
import { IP, MAC, Prefix } from '../../net/index.js';
import { ValidationError } from '../errors.js';

function cidrOrIP(s: string) {
  try {
    return Prefix.parseCIDROrIP(s);
  } catch {
    return undefined;
  }
}

/** `cidrv4` / `cidrv6` tags (validator.go ValidateCIDRv4/6): CIDR or IP of that family, any mask. */
export function isCIDRv(s: string, version: 4 | 6): boolean {
  return cidrOrIP(s)?.ip.version === version;
}

/** `netv4` / `netv6` tags (ValidateIPv4Network/6): as `cidrv4`/`cidrv6`, and strictly masked. */
export function isNetV(s: string, version: 4 | 6): boolean {
  const p = cidrOrIP(s);
  return p !== undefined && p.ip.version === version && p.prefix.ip.toString() === p.ip.toString();
}

/** `cidrs` tag: every entry a CIDR or a bare IP. */
export function allCIDROrIP(list: readonly string[]): boolean {
  return list.every((s) => cidrOrIP(s) !== undefined);
}

/** `ip` tag: net.ParseIP succeeds. */
export const isAnyIP = (s: string): boolean => IP.tryParse(s) !== undefined;

/** `mac` tag: Go's net.ParseMAC. */
export const isMAC = (s: string): boolean => MAC.tryParse(s) !== undefined;

/**
 * `wireguardPublicKey` tag: wgtypes.ParseKey, i.e. Go's base64.StdEncoding (padding required,
 * `\r`/`\n` ignored, non-zero trailing bits tolerated) decoding to exactly 32 bytes.
 */
export function isWireguardKey(s: string): boolean {
  return /^[A-Za-z0-9+/]{43}=$/.test(s.replace(/[\r\n]/g, ''));
}

/** go-playground `unique` on a slice of scalars. */
export const isUnique = (list: readonly unknown[]): boolean => new Set(list).size === list.length;

/**
 * Go's `%v` of a struct whose fields are all nil pointers or empty strings: `{<nil> <nil>}`.
 * `fields` gives, in declaration order, whether each field is a pointer (`<nil>`) or a string ("").
 */
export function goStructDump(fields: readonly ('ptr' | 'str')[], pointer = false): string {
  return `${pointer ? '&' : ''}{${fields.map((k) => (k === 'ptr' ? '<nil>' : '')).join(' ')}}`;
}

/**
 * A failure libcalico-go returns as a bare `errors.New(text)` from clientv3 (IPAMConfiguration's
 * name rule). calicoctl prints the text as it is, without the `error with field` framing, so the
 * message is replaced; `fields` keeps a structured copy for callers that inspect it.
 */
export class PlainValidationError extends ValidationError {
  constructor(text: string, name: string) {
    super([{ name, reason: text }]);
    this.message = text;
  }
}
