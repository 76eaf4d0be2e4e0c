/**
 * IPReservation (api/pkg/apis/projectcalico/v3/ipreservation.go). clientv3 only runs the
 * validator, whose one rule is the `cidrs` tag on the whole list: every entry must be a CIDR
 * (masked or not) or a bare IP. The failure names the list once, with the whole list as value.
 * The CRD's `format: cidr` sits on the array itself, where OpenAPI ignores it.
 */
import type { ErroredField } from '../errors.js';
import type { Resource } from '../meta.js';
import { Report } from '../validate/checks.js';
import { list, opt, str, struct } from '../schema/types.js';
import { resourceStruct } from './common.js';
import type { KindDef } from './def.js';
import { allCIDROrIP } from './shared-routing.js';

export const ipReservationSpec = struct('IPReservationSpec', [opt('reservedCIDRs', list(str()), 'ReservedCIDRs')]);

function structChecks(r: Resource): ErroredField[] {
  const cidrs = ((r.spec ?? {}) as { reservedCIDRs?: string[] }).reservedCIDRs ?? [];
  const rep = new Report();
  if (!allCIDROrIP(cidrs)) rep.tag('ReservedCIDRs', cidrs, 'cidrs');
  return rep.fields;
}

export const IPReservationDef: KindDef = {
  kind: 'IPReservation',
  schema: resourceStruct('IPReservation', ipReservationSpec),
  structChecks,
};
