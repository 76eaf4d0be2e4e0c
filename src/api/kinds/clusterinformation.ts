/**
 * ClusterInformation (api/pkg/apis/projectcalico/v3/clusterinfo.go). The singleton `default`
 * is written by the datastore initialisation, not by users: calicoctl refuses create, apply,
 * replace and delete for it before any of this runs (`operation create or apply is not
 * supported on ClusterInformation`). It still decodes, validates (metadata only — no field has
 * a rule) and prints like any other kind.
 *
 * clientv3's Create (not Update) also refuses names other than `default`, after the validator,
 * with a bare error text.
 */
import type { ErroredField } from '../errors.js';
import type { Resource } from '../meta.js';
import { bool, opt, optPtr, str, struct } from '../schema/types.js';
import { resourceStruct } from './common.js';
import type { KindDef, WriteOp } from './def.js';
import { PlainValidationError } from './shared-routing.js';

export const clusterInformationSpec = struct('ClusterInformationSpec', [
  opt('clusterGUID', str(), 'ClusterGUID'),
  opt('clusterType', str()),
  opt('calicoVersion', str()),
  optPtr('datastoreReady', bool()),
  opt('variant', str()),
]);

export const ClusterInformationDef: KindDef = {
  kind: 'ClusterInformation',
  schema: resourceStruct('ClusterInformation', clusterInformationSpec),
  post(r: Resource, op: WriteOp): ErroredField[] {
    if (op === 'create' && r.metadata.name !== 'default') {
      throw new PlainValidationError('Cannot create a Cluster Information resource with a name other than "default"', 'Metadata.Name');
    }
    return [];
  },
};
