/**
 * validateObjectMeta (libcalico-go validator.go) and the Kubernetes label/annotation rules it
 * calls (apimachinery v0.35 `IsQualifiedName` = content.IsLabelKey, `IsValidLabelValue` =
 * content.IsLabelValue), with their exact messages. Lengths are Go `len()`: UTF-8 bytes.
 */
import type { Resource } from '../meta.js';
import { NAME_LABEL_FMT, NAME_SUBDOMAIN_FMT, Report } from './checks.js';

const QUALIFIED_NAME_FMT = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const qualifiedNameRe = new RegExp(`^${QUALIFIED_NAME_FMT}$`);
const labelValueRe = new RegExp(`^(${QUALIFIED_NAME_FMT})?$`);
const dns1123SubdomainRe = new RegExp(`^${NAME_SUBDOMAIN_FMT}$`);
const QUALIFIED_NAME_ERR =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const TOTAL_ANNOTATION_LIMIT = 256 * 1024;

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

/** k8s validation.IsQualifiedName. */
export function qualifiedNameErrors(value: string): string[] {
  const errs: string[] = [];
  const parts = value.split('/');
  let name: string;
  if (parts.length === 1) name = parts[0]!;
  else if (parts.length === 2) {
    const prefix = parts[0]!;
    name = parts[1]!;
    if (prefix.length === 0) errs.push('prefix part must be non-empty');
    else {
      if (bytes(prefix) > 253) errs.push('prefix part must be no more than 253 bytes');
      if (!dns1123SubdomainRe.test(prefix)) {
        errs.push(
          `prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '${NAME_SUBDOMAIN_FMT}')`,
        );
      }
    }
  } else {
    return [
      `a valid label key must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '${QUALIFIED_NAME_FMT}') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    ];
  }
  if (name.length === 0) errs.push('name part must be non-empty');
  else if (bytes(name) > 63) errs.push('name part must be no more than 63 bytes');
  if (!qualifiedNameRe.test(name)) {
    errs.push(`${QUALIFIED_NAME_ERR} (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '${QUALIFIED_NAME_FMT}')`);
  }
  return errs;
}

/** k8s validation.IsValidLabelValue. */
export function labelValueErrors(value: string): string[] {
  const errs: string[] = [];
  if (bytes(value) > 63) errs.push('must be no more than 63 bytes');
  if (!labelValueRe.test(value)) {
    errs.push(
      `a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(${QUALIFIED_NAME_FMT})?')`,
    );
  }
  return errs;
}

export type NameRule = 'subdomain' | 'networkPolicy' | 'globalNetworkPolicy';

const networkPolicyNameRe = new RegExp(
  `^((${NAME_LABEL_FMT})(\\.${NAME_LABEL_FMT})?|((?:knp|ossg)\\.default\\.(${NAME_SUBDOMAIN_FMT})))$`,
);
const globalNetworkPolicyNameRe = new RegExp(`^(${NAME_LABEL_FMT}\\.)?${NAME_LABEL_FMT}$`);

export function checkObjectMeta(r: Resource, rule: NameRule, rep: Report): void {
  const md = r.metadata ?? {};
  const name = md.name ?? '';
  if (bytes(name) > 253) rep.field('Metadata.Name', name, `name is too long by ${bytes(name) - 253} bytes`);
  if (rule === 'subdomain') {
    if (!dns1123SubdomainRe.test(name)) {
      rep.field('Metadata.Name', name, `name must consist of lower case alphanumeric characters, '-' or '.' (regex: ${NAME_SUBDOMAIN_FMT})`);
    }
  } else if (rule === 'networkPolicy') {
    if (!networkPolicyNameRe.test(name)) {
      rep.field('Metadata.Name', name, `name must consist of lower case alphanumeric characters or '-' (regex: ${NAME_LABEL_FMT})`);
    }
  } else if (!globalNetworkPolicyNameRe.test(name)) {
    rep.field('Metadata.Name', name, `name must consist of lower case alphanumeric characters or '-' (regex: ${NAME_LABEL_FMT})`);
  }
  let total = 0;
  for (const [k, v] of Object.entries(md.annotations ?? {})) {
    for (const e of qualifiedNameErrors(k.toLowerCase())) rep.field('Metadata.Annotations (key)', k, e);
    total += Buffer.byteLength(k) + Buffer.byteLength(v);
  }
  if (total > TOTAL_ANNOTATION_LIMIT) {
    rep.field('Metadata.Annotations (key)', md.annotations, `total size of annotations is too large by ${total - TOTAL_ANNOTATION_LIMIT} bytes`);
  }
  for (const [k, v] of Object.entries(md.labels ?? {})) {
    for (const e of qualifiedNameErrors(k)) rep.field('Metadata.Labels (label)', k, e);
    for (const e of labelValueErrors(v)) rep.field('Metadata.Labels (value)', v, e);
  }
}
