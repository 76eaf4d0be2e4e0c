/**
 * BGPPeer, checked against Calico v3.32: clientv3/bgppeer.go (named BGPFilters must exist; returns
 * early), then validator.go (field tags in BGPPeerSpec order, then validateBGPPeerSpec), then the
 * CRD (projectcalico.org_bgppeers.yaml: enums, password name default, six CEL rules, in order).
 * Expected texts come from those sources, validator_test.go, bgppeer_e2e_test.go and
 * calicoctl/tests/st/calicoctl/test_crud.py.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { check, stored, error, one, many, tagFail } from '../testing/harness.js';
import type { Resource } from '../meta.js';

const doc = (spec: string, name = 'peer1') =>
  `apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata:\n  name: ${name}\nspec:\n${spec.replace(/^/gm, '  ')}\n`;

const filter = (name: string): Resource => ({ apiVersion: 'projectcalico.org/v3', kind: 'BGPFilter', metadata: { name }, spec: {} }) as Resource;

const spec = async (yaml: string, opts: Parameters<typeof check>[1] = {}) => JSON.stringify((await stored(yaml, opts)).spec);

// ---- stored form -------------------------------------------------------------------------------

test('a global peer is stored as given, with no spec defaults', async () => {
  const v = await stored(doc('peerIP: 192.0.2.1\nasNumber: 64512'));
  assert.equal(
    JSON.stringify(v),
    '{"kind":"BGPPeer","apiVersion":"projectcalico.org/v3","metadata":{"name":"peer1","creationTimestamp":null},"spec":{"peerIP":"192.0.2.1","asNumber":64512}}',
  );
});

test('an empty spec is valid and stored as {}', async () => {
  assert.equal(await spec(doc('{}')), '{}');
});

test('every field set: BGPPeerSpec declaration order, durations re-printed by Duration.String()', async () => {
  const s = await spec(
    doc(`reversePeering: Manual
filters: [f1]
reachableBy: 10.0.0.1
ttlSecurity: 2
numAllowedLocalASNumbers: 1
keepaliveTime: 10s
maxRestartTime: 90s
sourceAddress: None
password:
  secretKeyRef:
    key: peer1
    name: bgp-secrets
nextHopMode: Self
keepOriginalNextHop: false
localASNumber: 64513
asNumber: 64512
peerIP: 10.0.0.2
nodeSelector: rack == 'a'`),
    { existing: [filter('f1')] },
  );
  assert.equal(
    s,
    '{"nodeSelector":"rack == \'a\'","peerIP":"10.0.0.2","asNumber":64512,"localASNumber":64513,"nextHopMode":"Self",' +
      '"password":{"secretKeyRef":{"name":"bgp-secrets","key":"peer1"}},"sourceAddress":"None","maxRestartTime":"1m30s",' +
      '"keepaliveTime":"10s","numAllowedLocalASNumbers":1,"ttlSecurity":2,"reachableBy":"10.0.0.1","filters":["f1"],"reversePeering":"Manual"}',
  );
});

test('durations are normalised: 1h → 1h0m0s, 0.5s → 500ms, 1h30m → 1h30m0s, 0 → 0s', async () => {
  assert.equal(await spec(doc('maxRestartTime: 1h\nkeepaliveTime: 0.5s')), '{"maxRestartTime":"1h0m0s","keepaliveTime":"500ms"}');
  assert.equal(await spec(doc('maxRestartTime: 1h30m\nkeepaliveTime: "0"')), '{"maxRestartTime":"1h30m0s","keepaliveTime":"0s"}');
});

test('a bad duration is the time.ParseDuration error', async () => {
  assert.equal(await error(doc('maxRestartTime: 2 minutes')), 'error unmarshaling JSON: while decoding JSON: time: unknown unit " minutes" in duration "2 minutes"');
  assert.equal(await error(doc('keepaliveTime: "120"')), 'error unmarshaling JSON: while decoding JSON: time: missing unit in duration "120"');
});

test('a number for a duration: metav1.Duration decodes a string first', async () => {
  assert.equal(
    await error(doc('maxRestartTime: 120')),
    'error unmarshaling JSON: while decoding JSON: json: cannot unmarshal number into Go struct field BGPPeerSpec.spec.maxRestartTime of type string',
  );
});

test('password: the CRD default name "" is dropped again by omitempty', async () => {
  assert.equal(await spec(doc('password:\n  secretKeyRef:\n    key: k')), '{"password":{"secretKeyRef":{"key":"k"}}}');
});

test('password secretKeyRef.key has no omitempty: an absent key is stored as ""', async () => {
  assert.equal(await spec(doc('password:\n  secretKeyRef:\n    name: s')), '{"password":{"secretKeyRef":{"name":"s","key":""}}}');
});

test('decode errors inside the password and metadata name Go\'s types with their packages', async () => {
  assert.equal(
    await error(doc('password:\n  secretKeyRef: s')),
    'error unmarshaling JSON: while decoding JSON: json: cannot unmarshal string into Go struct field BGPPassword.spec.password.secretKeyRef of type v1.SecretKeySelector',
  );
  assert.equal(
    await error('apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata: peer1\nspec: {}\n'),
    'error unmarshaling JSON: while decoding JSON: json: cannot unmarshal string into Go struct field BGPPeer.metadata of type v1.ObjectMeta',
  );
  assert.equal(
    await error('apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata:\n  name: p\n  labels: [a]\nspec: {}\n'),
    'error unmarshaling JSON: while decoding JSON: json: cannot unmarshal array into Go struct field ObjectMeta.metadata.labels of type map[string]string',
  );
});

test('password secretKeyRef.optional is a *bool: false is kept', async () => {
  assert.equal(
    await spec(doc('password:\n  secretKeyRef:\n    name: s\n    key: k\n    optional: false')),
    '{"password":{"secretKeyRef":{"name":"s","key":"k","optional":false}}}',
  );
});

test('an empty password object is kept (a non-nil pointer)', async () => {
  assert.equal(await spec(doc('password: {}')), '{"password":{}}');
});

test('localASNumber is a pointer: 0 is kept, asNumber 0 is dropped', async () => {
  assert.equal(await spec(doc('asNumber: 0\nlocalASNumber: 0')), '{"localASNumber":0}');
});

test('keepOriginalNextHop true is kept; nextHopMode Auto is kept', async () => {
  assert.equal(await spec(doc('keepOriginalNextHop: true')), '{"keepOriginalNextHop":true}');
  assert.equal(await spec(doc('nextHopMode: Auto')), '{"nextHopMode":"Auto"}');
});

// ---- AS numbers ----------------------------------------------------------------------------------

test('asNumber in asdot form and as a decimal string', async () => {
  assert.equal(await spec(doc('asNumber: "1.10"')), '{"asNumber":65546}');
  assert.equal(await spec(doc('asNumber: "65535.65535"')), '{"asNumber":4294967295}');
  assert.equal(await spec(doc('asNumber: "64512"')), '{"asNumber":64512}');
  assert.equal(await spec(doc('asNumber: 4294967295')), '{"asNumber":4294967295}');
});

test('st bgpPeer-invalidASnum: a number beyond uint32 falls back to the string decode', async () => {
  assert.equal(
    await error(doc('asNumber: 4294967296\nnode: node1\npeerIP: 192.168.0.250')),
    'error unmarshaling JSON: while decoding JSON: json: cannot unmarshal number into Go struct field BGPPeerSpec.spec.asNumber of type string',
  );
  assert.equal(
    await error(doc('asNumber: -1')),
    'error unmarshaling JSON: while decoding JSON: json: cannot unmarshal number into Go struct field BGPPeerSpec.spec.asNumber of type string',
  );
  // YAML 1.10 is a float (1.1).
  assert.equal(
    await error(doc('asNumber: 1.10')),
    'error unmarshaling JSON: while decoding JSON: json: cannot unmarshal number into Go struct field BGPPeerSpec.spec.asNumber of type string',
  );
});

test('an ASNumber decode error is returned at once and beats an earlier unknown field (saved error)', async () => {
  // st bgpPeer-invalidASnum also carries `scope: node`; Go's decoder only saves the unknown-field
  // error, while ASNumber.UnmarshalJSON's error aborts the decode and is what is returned.
  assert.equal(
    await error(doc('scope: node\nasNumber: 4294967296')),
    'error unmarshaling JSON: while decoding JSON: json: cannot unmarshal number into Go struct field BGPPeerSpec.spec.asNumber of type string',
  );
  assert.equal(await error(doc('scope: node\nasNumber: "1.2.3"')), 'error unmarshaling JSON: while decoding JSON: invalid AS Number format (1.2.3)');
});

test('bad asdot strings', async () => {
  for (const s of ['65536.0', '1.65536', '1.2.3', 'AS64512', '4294967296', '', '-1', '+1']) {
    assert.equal(await error(doc(`asNumber: "${s}"`)), `error unmarshaling JSON: while decoding JSON: invalid AS Number format (${s})`, s);
  }
});

// ---- peerIP ------------------------------------------------------------------------------------

test('peerIP forms validator.go accepts', async () => {
  for (const ip of ['1.2.3.4', '1.2.3.4:179', '1.2.3.4:0179', '1.2.3.4:65535', '[2001:db8::1]:179', '2001:db8::1', '::1', '[9000::]:500', '[1.2.3.4]:179', '2001:db8::1:179']) {
    assert.equal(await spec(doc(`peerIP: "${ip}"`)), JSON.stringify({ peerIP: ip }), ip);
  }
});

test('peerIP forms validator.go refuses: the IP:port tag', async () => {
  for (const ip of [
    'badpeerIP',
    '1.2.3.4:0',
    '192.168.0.0:65536',
    '[192.168.0.0]:98956',
    '192.168.0.330:170',
    '192.168.0.0:',
    '[9000::]:',
    '[9000::]:0',
    '[9000::]:65536',
    '[9000::FFFFF]:170',
    ':8552',
    '[]:8552',
    '[2001:db8::1]',
    '1.2.3.4:bgp',
    '1.2.3.4/32',
  ]) {
    assert.equal(await error(doc(`peerIP: "${ip}"`)), one(tagFail('PeerIP', ip, 'IP:port')), ip);
  }
});

test('st bgpPeer-invalidIP / -invalidIpv6 / -invalidnodename', async () => {
  assert.equal(await error(doc('asNumber: 64513\nnode: node1\npeerIP: 192.168.0.256')), one(tagFail('PeerIP', '192.168.0.256', 'IP:port')));
  assert.equal(await error(doc('asNumber: 64590\nnode: node2\npeerIP: "fd5f::6::ee"')), one(tagFail('PeerIP', 'fd5f::6::ee', 'IP:port')));
  assert.equal(await error(doc('asNumber: 64590\nnode: node 2\npeerIP: "fd5f::6:ee"')), one(tagFail('Node', 'node 2', 'name')));
});

test('peerIP longer than 64 characters: tag failure and CRD maxLength', async () => {
  const long = `1.2.3.4${' '.repeat(60)}x`;
  assert.equal(await error(doc(`peerIP: "${long}"`)), many(tagFail('PeerIP', long, 'IP:port'), 'spec.peerIP (may not be more than 64 bytes)'));
});

// ---- mutual exclusion: validator message, then the CEL message -----------------------------------

test('node and nodeSelector', async () => {
  assert.equal(
    await error(doc('node: my-node\nnodeSelector: has(mylabel)')),
    many("Node = 'my-node' (Node field must be empty when NodeSelector is specified)", 'spec (node and nodeSelector cannot both be set)'),
  );
});

test('peerIP and peerSelector', async () => {
  assert.equal(
    await error(doc('peerIP: 10.0.0.1\npeerSelector: has(mylabel)')),
    many("PeerIP = '10.0.0.1' (PeerIP field must be empty when PeerSelector is specified)", 'spec (peerIP and peerSelector cannot both be set)'),
  );
});

test('asNumber and peerSelector', async () => {
  assert.equal(
    await error(doc('asNumber: 61234\npeerSelector: has(mylabel)')),
    many("ASNumber = '61234' (ASNumber field must be empty when PeerSelector is specified)", 'spec (asNumber must be empty when peerSelector is set)'),
  );
});

test('nodeSelector with peerSelector is fine', async () => {
  assert.equal(await spec(doc('nodeSelector: has(mylabel)\npeerSelector: has(mylabel)')), '{"nodeSelector":"has(mylabel)","peerSelector":"has(mylabel)"}');
});

test('localWorkloadSelector needs an AS number', async () => {
  assert.equal(
    await error(doc('localWorkloadSelector: has(labelone)')),
    many("ASNumber = '0' (ASNumber field must NOT be empty when LocalWorkloadSelector is specified)", 'spec (asNumber is required when localWorkloadSelector is set)'),
  );
  assert.equal(await spec(doc('localWorkloadSelector: has(labelone)\nasNumber: 65000')), '{"asNumber":65000,"localWorkloadSelector":"has(labelone)"}');
});

test('localWorkloadSelector with peerIP', async () => {
  assert.equal(
    await error(doc('localWorkloadSelector: has(labelone)\npeerIP: 10.0.0.1\nasNumber: 61234')),
    many("PeerIP = '10.0.0.1' (PeerIP field must be empty when LocalWorkloadSelector is specified)", 'spec (peerIP must be empty when localWorkloadSelector is set)'),
  );
});

test('localWorkloadSelector with peerSelector: the validator reports the (empty) peerIP as the value', async () => {
  assert.equal(
    await error(doc('localWorkloadSelector: has(labelone)\npeerSelector: has(labeltwo)\nasNumber: 61234')),
    many(
      "ASNumber = '61234' (ASNumber field must be empty when PeerSelector is specified)",
      "PeerSelector = '' (PeerSelector field must be empty when LocalWorkloadSelector is specified)",
      'spec (asNumber must be empty when peerSelector is set)',
      'spec (peerSelector must be empty when localWorkloadSelector is set)',
    ),
  );
});

test('everything at once: validator lines in validateBGPPeerSpec order, then CEL lines in CRD order', async () => {
  assert.equal(
    await error(doc('node: n1\nnodeSelector: all()\npeerIP: 10.0.0.1\npeerSelector: all()\nlocalWorkloadSelector: all()')),
    many(
      "Node = 'n1' (Node field must be empty when NodeSelector is specified)",
      "PeerIP = '10.0.0.1' (PeerIP field must be empty when PeerSelector is specified)",
      "ASNumber = '0' (ASNumber field must NOT be empty when LocalWorkloadSelector is specified)",
      "PeerIP = '10.0.0.1' (PeerIP field must be empty when LocalWorkloadSelector is specified)",
      "PeerSelector = '10.0.0.1' (PeerSelector field must be empty when LocalWorkloadSelector is specified)",
      'spec (node and nodeSelector cannot both be set)',
      'spec (peerIP and peerSelector cannot both be set)',
      'spec (peerIP must be empty when localWorkloadSelector is set)',
      'spec (peerSelector must be empty when localWorkloadSelector is set)',
      'spec (asNumber is required when localWorkloadSelector is set)',
    ),
  );
});

test('keepOriginalNextHop with nextHopMode: the value printed is peerIP', async () => {
  const msg = 'The KeepOriginalNextHop field is deprecated. It must not be set to true when NextHopMode is configured.';
  assert.equal(await error(doc('peerIP: 10.0.0.1\nkeepOriginalNextHop: true\nnextHopMode: Keep')), one(`KeepOriginalNextHop = '10.0.0.1' (${msg})`));
  assert.equal(await error(doc('keepOriginalNextHop: true\nnextHopMode: Auto')), one(`KeepOriginalNextHop = '' (${msg})`));
  assert.equal(await spec(doc('keepOriginalNextHop: false\nnextHopMode: Keep')), '{"nextHopMode":"Keep"}');
});

// ---- reachableBy -------------------------------------------------------------------------------

test('reachableBy needs a peerIP (the typo is Calico\'s)', async () => {
  assert.equal(await error(doc('reachableBy: 10.0.0.1')), one("ReachableBy = '10.0.0.1' (ReachablyBy field must be empty when PeerIP is empty)"));
  assert.equal(await error(doc('reachableBy: "2001:db8::1"')), one("ReachableBy = '2001:db8::1' (ReachablyBy field must be empty when PeerIP is empty)"));
});

test('reachableBy and peerIP of the same family, with or without a port', async () => {
  assert.equal(await spec(doc('peerIP: 10.0.0.2:179\nreachableBy: 10.0.0.1')), '{"peerIP":"10.0.0.2:179","reachableBy":"10.0.0.1"}');
  assert.equal(await spec(doc('peerIP: "[2001:db8::2]:179"\nreachableBy: "2001:db8::1"')), '{"peerIP":"[2001:db8::2]:179","reachableBy":"2001:db8::1"}');
});

test('reachableBy family mismatch', async () => {
  const msg = (rb: string) => one(`ReachableBy = '${rb}' (ReachableBy and PeerIP address family mismatched)`);
  assert.equal(await error(doc('peerIP: 10.0.0.2\nreachableBy: "2001:db8::1"')), msg('2001:db8::1'));
  assert.equal(await error(doc('peerIP: 10.0.0.2:179\nreachableBy: "2001:db8::1"')), msg('2001:db8::1'));
  assert.equal(await error(doc('peerIP: "2001:db8::2"\nreachableBy: 10.0.0.1')), msg('10.0.0.1'));
  assert.equal(await error(doc('peerIP: "[2001:db8::2]:179"\nreachableBy: 10.0.0.1')), msg('10.0.0.1'));
});

test('an invalid reachableBy: the field tag, then the struct-level reason', async () => {
  assert.equal(
    await error(doc('peerIP: 10.0.0.2\nreachableBy: 10.0.0.256')),
    many(tagFail('ReachableBy', '10.0.0.256', 'reachableBy'), "ReachableBy = '10.0.0.256' (ReachableBy is invalid address)"),
  );
  assert.equal(
    await error(doc('reachableBy: gateway')),
    many(tagFail('ReachableBy', 'gateway', 'reachableBy'), "ReachableBy = 'gateway' (ReachablyBy field must be empty when PeerIP is empty)"),
  );
});

test('an invalid peerIP with reachableBy', async () => {
  assert.equal(
    await error(doc('peerIP: 10.0.0.2:0\nreachableBy: 10.0.0.1')),
    many(tagFail('PeerIP', '10.0.0.2:0', 'IP:port'), "ReachableBy = '10.0.0.1' (PeerIP is invalid address)"),
  );
});

// ---- filters (clientv3, returns early) ---------------------------------------------------------

test('clientv3 e2e: a filter that does not exist', async () => {
  assert.equal(await error(doc('peerIP: 10.0.0.1\nfilters: [bgp-filter-1]')), one("BGPPeer.Spec.Filters = '[bgp-filter-1]' (BGPFilter(s) not found)"));
});

test('only the missing filters are listed, in the peer order, and nothing else is checked', async () => {
  assert.equal(
    await error(doc('node: n1\nnodeSelector: all()\nfilters: [a, b, c, b2]'), { existing: [filter('b'), filter('x')] }),
    one("BGPPeer.Spec.Filters = '[a c b2]' (BGPFilter(s) not found)"),
  );
});

test('existing filters are accepted in the given order', async () => {
  assert.equal(await spec(doc('filters: [b, a]'), { existing: [filter('a'), filter('b')] }), '{"filters":["b","a"]}');
});

// ---- enums and selectors -------------------------------------------------------------------------

test('nextHopMode: only the CRD enum (no validator tag)', async () => {
  assert.equal(await error(doc('nextHopMode: self')), one('spec.nextHopMode (supported values: "Auto", "Self", "Keep")'));
});

test('sourceAddress: the validator tag, then the CRD enum', async () => {
  assert.equal(
    await error(doc('sourceAddress: rubbish')),
    many(tagFail('SourceAddress', 'rubbish', 'sourceAddress'), 'spec.sourceAddress (supported values: "UseNodeIP", "None")'),
  );
  assert.equal(await spec(doc('sourceAddress: UseNodeIP')), '{"sourceAddress":"UseNodeIP"}');
});

test('reversePeering: the enum sits twice in an allOf, which kube-openapi reports (deduplicated) plus an allOf failure named after the kind', async () => {
  assert.equal(
    await error(doc('reversePeering: auto')),
    many('spec.reversePeering (supported values: "Auto", "Manual")', 'BGPPeer ("spec.reversePeering" must validate all the schemas (allOf). None validated)'),
  );
});

test('a bad node selector: Calico\'s tag text plus the parser reason', async () => {
  const e = await error(doc("nodeSelector: \"kubernetes.io/hostname: == 'casey-crc-kadm-node-4'\""));
  assert.match(
    e,
    /^error with field NodeSelector = 'kubernetes\.io\/hostname: == 'casey-crc-kadm-node-4'' \(Reason: failed to validate Field: NodeSelector because of Tag: selector - .+\)$/,
  );
});

test('selector tags run in field order: NodeSelector, PeerSelector, LocalWorkloadSelector', async () => {
  const e = await error(doc('localWorkloadSelector: "a ="\npeerSelector: "b ="\nnodeSelector: "c ="\nasNumber: 1'));
  const fields = [...e.matchAll(/^-  (\w+) = /gm)].map((m) => m[1]);
  assert.deepEqual(fields.slice(0, 3), ['NodeSelector', 'PeerSelector', 'LocalWorkloadSelector']);
});

test('node must be a DNS subdomain; CRD maxLength 253 also applies', async () => {
  assert.equal(await error(doc('node: Node1')), one(tagFail('Node', 'Node1', 'name')));
  const long = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}`;
  assert.equal(await error(doc(`node: ${long}`)), one('spec.node (may not be more than 253 bytes)'));
});

// ---- integer fields ------------------------------------------------------------------------------

test('numAllowedLocalASNumbers is an int32 and ttlSecurity a uint8', async () => {
  assert.equal(
    await error(doc('numAllowedLocalASNumbers: 2147483648')),
    'error unmarshaling JSON: while decoding JSON: json: cannot unmarshal number 2147483648 into Go struct field BGPPeerSpec.spec.numAllowedLocalASNumbers of type int32',
  );
  assert.equal(await error(doc('ttlSecurity: 256')), 'error unmarshaling JSON: while decoding JSON: json: cannot unmarshal number 256 into Go struct field BGPPeerSpec.spec.ttlSecurity of type uint8');
  assert.equal(await error(doc('ttlSecurity: -1')), 'error unmarshaling JSON: while decoding JSON: json: cannot unmarshal number -1 into Go struct field BGPPeerSpec.spec.ttlSecurity of type uint8');
  assert.equal(await spec(doc('ttlSecurity: 255\nnumAllowedLocalASNumbers: -2147483648')), '{"numAllowedLocalASNumbers":-2147483648,"ttlSecurity":255}');
});

test('st bgpPeer-unrecognisedfield: unknown spec field', async () => {
  assert.equal(await error(doc('asNumber: 64590\nunknown: thing\nnode: node2\npeerIP: "fd5f::6:ee"')), 'error unmarshaling JSON: while decoding JSON: json: unknown field "unknown"');
});

test('filters must be a list of strings; a number item is a string after sigs.k8s.io/yaml', async () => {
  assert.equal(await error(doc('filters: a')), 'error unmarshaling JSON: while decoding JSON: json: cannot unmarshal string into Go struct field BGPPeerSpec.spec.filters of type []string');
  assert.equal(await error(doc('filters: [123]')), one("BGPPeer.Spec.Filters = '[123]' (BGPFilter(s) not found)"));
});
