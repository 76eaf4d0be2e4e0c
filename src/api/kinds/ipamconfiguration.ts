/**
 * IPAMConfiguration (api/pkg/apis/projectcalico/v3/ipamconfig.go; clientv3/ipamconfig.go;
 * validator.go validateIPAMConfigSpec).
 *
 * Order: validateIPAMConfigSpec (maxBlocksPerHost ≥ 0), then the CRD (defaults, range
 * 0–1000000, kubeVirtVMAddressPersistence enum), then clientv3's name rule — the singleton must
 * be called `default` — which is a bare error text, not a field error.
 *
 * strictAffinity and autoAllocateBlocks have no `omitempty`, so Go always marshals them and
 * the CRD defaults (false / true) never apply: `spec: {}` stores both as false. The checks
 * "Cannot disable 'StrictAffinity' and 'AutoAllocateBlocks' at the same time" and
 * "MaxBlocksPerHost requires StrictAffinity to be enabled" belong to the IPAM client's
 * SetIPAMConfig (`ipam configure`), not to this resource's write path.
 */
import type { ErroredField } from '../errors.js';
import type { Resource } from '../meta.js';
import { Report } from '../validate/checks.js';
import { bool, f, int, opt, optPtr, str, struct } from '../schema/types.js';
import { resourceStruct } from './common.js';
import type { KindDef } from './def.js';
import { PlainValidationError } from './shared-routing.js';

export const ipamConfigurationSpec = struct('IPAMConfigurationSpec', [
  f('strictAffinity', bool({ default: false }), 'StrictAffinity', 'req'),
  opt('maxBlocksPerHost', int('int32', { minimum: 0, maximum: 1000000, default: 0 })),
  f('autoAllocateBlocks', bool({ default: true }), 'AutoAllocateBlocks', 'req'),
  optPtr('kubeVirtVMAddressPersistence', str({ go: 'v3.VMAddressPersistence', enum: ['Enabled', 'Disabled'] }), 'KubeVirtVMAddressPersistence'),
]);

function structChecks(r: Resource): ErroredField[] {
  const s = (r.spec ?? {}) as { maxBlocksPerHost?: number };
  const rep = new Report();
  if ((s.maxBlocksPerHost ?? 0) < 0) rep.field('MaxBlocksPerHost', s.maxBlocksPerHost, 'must be greater than or equal to 0');
  return rep.fields;
}

/** clientv3 validateMetadata, on create and update alike, after the validator. */
function post(r: Resource): ErroredField[] {
  if (r.metadata.name !== 'default') {
    throw new PlainValidationError('Cannot create an IPAMConfiguration resource with a name other than "default"', 'Metadata.Name');
  }
  return [];
}

export const IPAMConfigurationDef: KindDef = {
  kind: 'IPAMConfiguration',
  schema: resourceStruct('IPAMConfiguration', ipamConfigurationSpec),
  structChecks,
  post,
};
