/**
 * The predicates behind libcalico-go's go-playground tags (`validator/v3/validator.go`), and
 * a reporter that words failures the way that validator does:
 *  - a field tag failure: `<GoField> = '<v>' (Reason: failed to validate Field: <GoField> because of Tag: <tag> )`
 *  - a struct-level failure: `<Name> = '<v>' (<reason>)`
 * Where Calico's generic tag text hides the actual problem (a selector syntax error), tortie
 * appends the specific cause after Calico's text, so both the familiar wording and the reason
 * are on the line.
 */
import { IP, Prefix, parseIPPort } from '../../net/index.js';
import { validateSelector } from '../../selector/index.js';
import type { ErroredField } from '../errors.js';

export const NAME_LABEL_FMT = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
export const NAME_SUBDOMAIN_FMT = `${NAME_LABEL_FMT}(\\.${NAME_LABEL_FMT})*`;
const nameRe = new RegExp(`^${NAME_SUBDOMAIN_FMT}$`);
const interfaceRe = /^[a-zA-Z0-9_.-]{1,15}$/;
const ignoredInterfaceRe = /^[a-zA-Z0-9_.*-]{1,15}$/;
const logLevelRe = /^(Trace|Debug|Info|Warning|Error|Fatal)$/;

export const isName = (s: string): boolean => nameRe.test(s);
export const isInterfaceName = (s: string): boolean => interfaceRe.test(s);
export const isIgnoredInterface = (s: string): boolean => s !== '*' && ignoredInterfaceRe.test(s);
export const isLogLevel = (s: string): boolean => logLevelRe.test(s);

/** net.ParseIP succeeds. */
export function isIP(s: string): boolean {
  return IP.tryParse(s) !== undefined;
}
export function isIPv4(s: string): boolean {
  return IP.tryParse(s)?.version === 4;
}
export function isIPv6(s: string): boolean {
  const ip = IP.tryParse(s);
  return ip !== undefined && ip.version === 6;
}

/** `cidr` tag: a CIDR (need not be masked) or a bare IP. */
export function isCIDROrIP(s: string): boolean {
  try {
    Prefix.parseCIDROrIP(s);
    return true;
  } catch {
    return false;
  }
}

/** `net` tag: a CIDR or bare IP that is correctly masked. */
export function isMaskedNet(s: string): boolean {
  try {
    const { ip, prefix } = Prefix.parseCIDROrIP(s);
    return prefix.ip.toString() === ip.toString();
  } catch {
    return false;
  }
}

/** `IP:port` tag (validator.go processIPPort): `IP`, `IPv4:port`, `[IPv6]:port`. */
export function isIPPort(s: string): boolean {
  try {
    parseIPPort(s);
    return true;
  } catch {
    return false;
  }
}

export function selectorProblem(s: string): string | undefined {
  return validateSelector(s)?.message;
}

/** Collects ErroredFields in the order the checks run. */
export class Report {
  readonly fields: ErroredField[] = [];

  /** A go-playground tag failed on field `goField`. `detail` is tortie's addition. */
  tag(goField: string, value: unknown, tag: string, detail?: string): void {
    const base = `Reason: failed to validate Field: ${goField} because of Tag: ${tag} `;
    this.fields.push({ name: goField, value, reason: detail ? `${base}- ${detail}` : base });
  }

  /** A struct-level validator reported `reason` for `name`. */
  field(name: string, value: unknown, reason: string): void {
    this.fields.push(value === undefined ? { name, reason } : { name, value, reason });
  }

  /** Runs the `selector` tag on an optional selector field. */
  selector(goField: string, s: unknown): void {
    if (typeof s !== 'string' || s === '') return;
    const p = selectorProblem(s);
    if (p) this.tag(goField, s, 'selector', p);
  }

  add(fields: ErroredField[]): void {
    this.fields.push(...fields);
  }
}
