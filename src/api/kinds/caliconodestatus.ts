/**
 * CalicoNodeStatus (api/pkg/apis/projectcalico/v3/nodestatus.go). A user creates one per node
 * to ask calico-node to report; calico-node fills `status`.
 *
 * Spec rules are go-playground tags only: `node` required and a name, `classes` required (nil
 * refused, an empty list accepted) and unique, `updatePeriodSeconds` required and at most
 * 86400. The CRD adds the class enum. `status` is a non-pointer struct with non-omitempty
 * members, so it is always printed (`lastUpdated: null`, zero counters); its peer and route
 * lists carry `ip` tags but no `dive`, so the validator never looks inside them.
 */
import type { ErroredField } from '../errors.js';
import type { Resource } from '../meta.js';
import { Report, isName } from '../validate/checks.js';
import { f, int, list, opt, optPtr, str, struct, time } from '../schema/types.js';
import { resourceStruct } from './common.js';
import type { KindDef } from './def.js';
import { isUnique } from './shared-routing.js';

export const calicoNodeStatusSpec = struct('CalicoNodeStatusSpec', [
  opt('node', str()),
  opt('classes', list(str({ go: 'v3.NodeStatusClassType', enum: ['Agent', 'BGP', 'Routes'] }), { go: '[]v3.NodeStatusClassType' })),
  optPtr('updatePeriodSeconds', int('uint32')),
]);

const daemonStatus = struct('BGPDaemonStatus', [
  opt('state', str({ go: 'v3.BGPDaemonState', enum: ['Ready', 'NotReady'] })),
  opt('version', str()),
  opt('routerID', str(), 'RouterID'),
  opt('lastBootTime', str()),
  opt('lastReconfigurationTime', str()),
]);

const peer = struct('CalicoNodePeer', [
  opt('peerIP', str(), 'PeerIP'),
  opt('type', str({ go: 'v3.BGPPeerType', enum: ['NodeMesh', 'NodePeer', 'GlobalPeer'] })),
  opt('state', str({ go: 'v3.BGPSessionState', enum: ['Idle', 'Connect', 'Active', 'OpenSent', 'OpenConfirm', 'Established', 'Close'] })),
  opt('since', str()),
]);

const route = struct('CalicoNodeRoute', [
  opt('type', str({ go: 'v3.CalicoNodeRouteType', enum: ['FIB', 'RIB'] })),
  opt('destination', str()),
  opt('gateway', str()),
  opt('interface', str()),
  opt(
    'learnedFrom',
    struct('CalicoNodeRouteLearnedFrom', [
      opt('sourceType', str({ go: 'v3.CalicoNodeRouteSourceType', enum: ['Kernel', 'Static', 'Direct', 'NodeMesh', 'BGPPeer'] })),
      opt('peerIP', str(), 'PeerIP'),
    ]),
  ),
]);

export const calicoNodeStatusStatus = struct('CalicoNodeStatusStatus', [
  f('lastUpdated', time(), 'LastUpdated'),
  f('agent', struct('CalicoNodeAgentStatus', [f('birdV4', daemonStatus, 'BIRDV4'), f('birdV6', daemonStatus, 'BIRDV6')]), 'Agent'),
  f(
    'bgp',
    struct('CalicoNodeBGPStatus', [
      f('numberEstablishedV4', int('int'), 'NumberEstablishedV4', 'req'),
      f('numberNotEstablishedV4', int('int'), 'NumberNotEstablishedV4', 'req'),
      f('numberEstablishedV6', int('int'), 'NumberEstablishedV6', 'req'),
      f('numberNotEstablishedV6', int('int'), 'NumberNotEstablishedV6', 'req'),
      opt('peersV4', list(peer, { go: '[]v3.CalicoNodePeer' }), 'PeersV4'),
      opt('peersV6', list(peer, { go: '[]v3.CalicoNodePeer' }), 'PeersV6'),
    ]),
    'BGP',
  ),
  f(
    'routes',
    struct('CalicoNodeBGPRouteStatus', [
      opt('routesV4', list(route, { go: '[]v3.CalicoNodeRoute' }), 'RoutesV4'),
      opt('routesV6', list(route, { go: '[]v3.CalicoNodeRoute' }), 'RoutesV6'),
    ]),
    'Routes',
  ),
]);

type Spec = { node?: string; classes?: string[] | null; updatePeriodSeconds?: number | null };

function structChecks(r: Resource): ErroredField[] {
  const s = (r.spec ?? {}) as Spec;
  const rep = new Report();
  if (!s.node) rep.tag('Node', '', 'required');
  else if (!isName(s.node)) rep.tag('Node', s.node, 'name');
  if (s.classes === undefined || s.classes === null) rep.tag('Classes', [], 'required');
  else if (!isUnique(s.classes)) rep.tag('Classes', s.classes, 'unique');
  // A nil *uint32 is a typed nil in Go: the value prints as <nil>.
  if (s.updatePeriodSeconds === undefined || s.updatePeriodSeconds === null) rep.tag('UpdatePeriodSeconds', null, 'required');
  else if (s.updatePeriodSeconds > 86400) rep.tag('UpdatePeriodSeconds', s.updatePeriodSeconds, 'lte');
  return rep.fields;
}

export const CalicoNodeStatusDef: KindDef = {
  kind: 'CalicoNodeStatus',
  schema: resourceStruct('CalicoNodeStatus', calicoNodeStatusSpec, [f('status', calicoNodeStatusStatus, 'Status')]),
  structChecks,
};
