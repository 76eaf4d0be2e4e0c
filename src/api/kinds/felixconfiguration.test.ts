import { test } from 'node:test';
import assert from 'node:assert/strict';
import { check, stored, error, one, many, tagFail, openapi } from '../testing/harness.js';
import { canonicalResource, toYaml } from '../codec.js';
import type { Resource } from '../meta.js';
import { felixConfigurationSpec, isGoRegexp } from './felixconfiguration.js';

const doc = (spec: string, name = 'default') =>
  `apiVersion: projectcalico.org/v3\nkind: FelixConfiguration\nmetadata:\n  name: ${name}\nspec:\n${spec.replace(/^/gm, '  ')}\n`;


/** The fields clientv3 and the CRD always add, in Go order among the others. */
const DEFAULTS = '"nftablesMode":"Auto","bpfLogLevel":"","bpfConnectTimeLoadBalancing":"TCP","bpfHostNetworkedNATWithoutCTLB":"Enabled","floatingIPs":"Disabled"';

test('the spec has every field of the v3.32 Go type, in order', () => {
  assert.equal(felixConfigurationSpec.fields.length, 181);
  const names = felixConfigurationSpec.fields.map((f) => f.json);
  assert.deepEqual(names.slice(0, 5), ['nodeSelector', 'useInternalDataplaneDriver', 'dataplaneDriver', 'dataplaneWatchdogTimeout', 'ipv6Support']);
  assert.deepEqual(names.slice(-3), ['requireMTUFile', 'bpfMaglevMaxEndpointsPerService', 'bpfMaglevMaxServices']);
  assert.equal(new Set(names).size, names.length);
});

test('an empty default configuration gets the clientv3 and CRD defaults', async () => {
  const v = await stored(doc('{}'));
  assert.equal(JSON.stringify(v.spec), `{${DEFAULTS}}`);
});

test('a typical configuration is stored in Go field order', async () => {
  const v = await stored(
    doc(`bpfEnabled: true
logSeverityScreen: Info
ipipEnabled: true
vxlanVNI: 4097
vxlanPort: 4790
routeTableRange: {min: 1, max: 250}
natOutgoingAddress: 10.0.0.1
natPortRange: "32768:65535"
reportingInterval: 0s
iptablesMarkMask: 0xffff0000
kubeNodePortRanges: ["30000:32767", "31000"]
healthTimeoutOverrides: [{name: CalculationGraph, timeout: 90s}]
failsafeInboundHostPorts: [{protocol: tcp, port: 22}, {port: 68, protocol: udp, net: 0.0.0.0/0}]
externalNodesList: [192.168.10.0/24]
wireguardEnabled: false
prometheusMetricsEnabled: true
chainInsertMode: Append
bpfLogLevel: Debug
bpfConntrackTimeouts: {tcpEstablished: 1h, udpTimeout: Auto}
istioDSCPMark: "46"
deviceRouteProtocol: 80
routeRefreshInterval: 1m30s`),
  );
  assert.equal(
    JSON.stringify(v.spec),
    '{"routeRefreshInterval":"1m30s","chainInsertMode":"Append","logSeverityScreen":"Info","ipipEnabled":true,"vxlanPort":4790,"vxlanVNI":4097,' +
      '"reportingInterval":"0s","iptablesMarkMask":4294901760,"healthTimeoutOverrides":[{"name":"CalculationGraph","timeout":"1m30s"}],' +
      '"prometheusMetricsEnabled":true,"failsafeInboundHostPorts":[{"protocol":"tcp","port":22},{"protocol":"udp","port":68,"net":"0.0.0.0/0"}],' +
      '"kubeNodePortRanges":["30000:32767",31000],"natPortRange":"32768:65535","natOutgoingAddress":"10.0.0.1","deviceRouteProtocol":80,' +
      '"externalNodesList":["192.168.10.0/24"],"nftablesMode":"Auto","bpfEnabled":true,"bpfLogLevel":"Debug",' +
      '"bpfConntrackTimeouts":{"tcpEstablished":"1h","udpTimeout":"Auto"},"bpfConnectTimeLoadBalancing":"TCP","bpfHostNetworkedNATWithoutCTLB":"Enabled",' +
      '"istioDSCPMark":46,"routeTableRange":{"min":1,"max":250},"wireguardEnabled":false,"floatingIPs":"Disabled"}',
  );
});

test('get -o yaml prints bpfLogLevel even when empty (no omitempty in Go)', async () => {
  const v = await stored(doc('ipipEnabled: false', 'node.worker-1'));
  assert.equal(
    toYaml(canonicalResource(v)),
    `apiVersion: projectcalico.org/v3
kind: FelixConfiguration
metadata:
  creationTimestamp: null
  name: node.worker-1
spec:
  bpfConnectTimeLoadBalancing: TCP
  bpfHostNetworkedNATWithoutCTLB: Enabled
  bpfLogLevel: ""
  floatingIPs: Disabled
  ipipEnabled: false
  nftablesMode: Auto
`,
  );
});

test('the deprecated bpfConnectTimeLoadBalancingEnabled rewrites the two newer fields', async () => {
  const on = (await stored(doc('bpfConnectTimeLoadBalancingEnabled: true\nbpfHostNetworkedNATWithoutCTLB: Enabled'))).spec as Record<string, unknown>;
  assert.equal(on.bpfConnectTimeLoadBalancing, 'Enabled');
  assert.equal(on.bpfHostNetworkedNATWithoutCTLB, 'Disabled');
  const off = (await stored(doc('bpfConnectTimeLoadBalancingEnabled: false\nbpfConnectTimeLoadBalancing: TCP'))).spec as Record<string, unknown>;
  assert.equal(off.bpfConnectTimeLoadBalancing, 'Disabled');
  assert.equal(off.bpfHostNetworkedNATWithoutCTLB, 'Disabled');
});

test('case-insensitive CRD patterns accept what the Go tags do not check', async () => {
  const v = (await stored(doc('chainInsertMode: insert\nbpfEnforceRPF: strict\nrouteSource: workloadips'))).spec as Record<string, unknown>;
  assert.deepEqual([v.chainInsertMode, v.bpfEnforceRPF, v.routeSource], ['insert', 'strict', 'workloadips']);
});

test('field tags, in Go field order, then validateFelixConfigSpec, then the CRD', async () => {
  assert.equal(
    await error(
      doc(`logSeverityScreen: info
chainInsertMode: middle
routeTableRange: {min: 0, max: 300}
routeTableRanges: [{min: 1, max: 250}]
natOutgoingAddress: "fd00::1"
debugPort: 70000
mtuIfacePattern: "("
openstackRegion: Region_1`),
    ),
    many(
      tagFail('LogSeverityScreen', 'info', 'logLevel'),
      tagFail('DebugPort', '70000', 'lte'),
      "RouteTableRange = '{0 300}' (must be a range of route table indices within 1..250)",
      tagFail('MTUIfacePattern', '(', 'regexp'),
      "OpenstackRegion = 'Region_1' (must be a valid DNS label)",
      "NATOutgoingAddress = 'fd00::1' (is not a valid IPv4 address)",
      "RouteTableRange = '&{0 300}' (cannot be set when `RouteTableRanges` is also set)",
      openapi('spec.chainInsertMode', "should match '^(?i)(Insert|Append)?$'"),
      'spec (routeTableRange and routeTableRanges cannot both be set)',
    ),
  );
});

test('a fractional duration breaks the CRD pattern (it escapes the backslash, not the dot)', async () => {
  assert.equal(await error(doc('reportingInterval: 1.5s')), one(openapi('spec.reportingInterval', "should match '^([0-9]+(\\\\.[0-9]+)?(ms|s|m|h))*$'")));
  await stored(doc('liveMigrationRouteConvergenceTime: 1.5s'));
});

test('numeric ranges: gt/gte/lte/lt tags and CRD minimum/maximum', async () => {
  assert.equal(
    await error(doc('wireguardListeningPort: 0\nwireguardRoutingRulePriority: 32766\ngoGCThreshold: -2\nlogActionRateLimitBurst: 10000\nbpfMapSizeConntrackCleanupQueue: 0')),
    many(
      tagFail('BPFMapSizeConntrackCleanupQueue', '0', 'gte'),
      tagFail('WireguardListeningPort', '0', 'gt'),
      tagFail('WireguardRoutingRulePriority', '32766', 'lt'),
      tagFail('GoGCThreshold', '-2', 'gte'),
      openapi('spec.logActionRateLimitBurst', 'should be less than or equal to 9999'),
      openapi('spec.bpfMapSizeConntrackCleanupQueue', 'should be greater than or equal to 1'),
    ),
  );
});

test('route table ranges: each within 1..2^32-1, at most 65535 tables in all', async () => {
  assert.equal(
    await error(doc('routeTableRanges: [{min: 10, max: 5}, {min: 0, max: 70000}]')),
    many(
      "RouteTableRange = '{10 5}' (min value cannot be greater than max value)",
      "RouteTableRange = '{0 70000}' (cannot target indices < 1)",
      "RouteTableRanges = '&[{10 5} {0 70000}]' (targets too many tables)",
    ),
  );
  await stored(doc('routeTableRanges: [{min: 1, max: 250}, {min: 1000, max: 2000}]'));
});

test('kubeNodePortRanges: at most 7, numeric only', async () => {
  assert.equal(
    await error(doc('kubeNodePortRanges: [1, 2, 3, 4, 5, 6, 7, nodeports]')),
    many(
      "KubeNodePortRanges = '[1 2 3 4 5 6 7 nodeports]' (node port ranges list is too long (max 7))",
      "KubeNodePortRanges = '[1 2 3 4 5 6 7 nodeports]' (node port ranges should not contain named ports)",
    ),
  );
});

test('externalNodesList: IPv4 CIDRs or addresses', async () => {
  assert.equal(
    await error(doc('externalNodesList: [10.0.0.0/8, "fd00::/64", bogus]')),
    many("ExternalNodesCIDRList = 'fd00::/64' (has invalid IPv6 CIDR)", "ExternalNodesCIDRList = 'bogus' (has invalid CIDR(s))"),
  );
});

test('enums come from both the oneof tags and the CRD', async () => {
  assert.equal(
    await error(doc('bpfConnectTimeLoadBalancing: Sometimes\nipForwarding: On')),
    many(
      tagFail('BPFConnectTimeLoadBalancing', 'Sometimes', 'oneof'),
      'spec.ipForwarding (supported values: "Enabled", "Disabled")',
      'spec.bpfConnectTimeLoadBalancing (supported values: "TCP", "Enabled", "Disabled")',
    ),
  );
});

test('health timeout overrides: a plain name and a non-negative timeout', async () => {
  assert.equal(
    await error(doc('healthTimeoutOverrides: [{name: "a/b", timeout: -5s}]')),
    many(
      "HealthTimeoutOverride.Name = '{a/b -5s}' (name should match regex ^[a-zA-Z0-9_ -]+$)",
      "HealthTimeoutOverride.Timeout = '{a/b -5s}' (Timeout should not be negative)",
    ),
  );
  // A missing timeout is metav1.Duration's zero value, printed "0s".
  const v = await stored(doc('healthTimeoutOverrides: [{name: Felix}]'));
  assert.deepEqual((v.spec as { healthTimeoutOverrides: unknown }).healthTimeoutOverrides, [{ name: 'Felix', timeout: '0s' }]);
});

test('nodeSelector is only for configurations other than default and node.*', async () => {
  await stored(doc('nodeSelector: "rack == \'a\'"', 'rack-a'));
  assert.equal(
    await error(doc('nodeSelector: all()', 'node.worker-1')),
    one("FelixConfiguration (nodeSelector must not be set on the 'default' or per-node ('node.*') FelixConfiguration)"),
  );
});

test('keyValueList, regexp and interface tags', async () => {
  assert.equal(
    await error(doc('featureDetectOverride: "SNATFullyRandom=maybe"\nfeatureGates: "a=b,=c"\nwireguardInterfaceName: "wg 0"\nbpfDataIfacePattern: "(?=x)"')),
    many(
      tagFail('FeatureGates', 'a=b,=c', 'keyValueList'),
      tagFail('BPFDataIfacePattern', '(?=x)', 'regexp'),
      tagFail('WireguardInterfaceName', 'wg 0', 'interface'),
      openapi('spec.featureDetectOverride', "should match '^([a-zA-Z0-9-_]+=(true|false|),)*([a-zA-Z0-9-_]+=(true|false|))?$'"),
      openapi('spec.featureGates', "should match '^([a-zA-Z0-9-_]+=([^=]+),)*([a-zA-Z0-9-_]+=([^=]+))?$'"),
    ),
  );
});

test('Go RE2 syntax accepted by the regexp tag', () => {
  assert.equal(isGoRegexp('^((en|wl|ww|sl|ib)[Pcopsvx].*|(eth|wlan|wwan).*)'), true);
  assert.equal(isGoRegexp('(?i)^ETH\\d+$'), true);
  assert.equal(isGoRegexp('(?P<dev>eth)[0-9]'), true);
  assert.equal(isGoRegexp('a(?!b)'), false);
  assert.equal(isGoRegexp('(a)\\1'), false);
  assert.equal(isGoRegexp('[z-a]'), false);
});

test('unknown and mistyped fields are refused at decode time', async () => {
  assert.equal(await error(doc('ipipEnable: true')), 'error unmarshaling JSON: while decoding JSON: json: unknown field "ipipEnable"');
  assert.equal(
    await error(doc('ipipEnabled: "yes"')),
    'error unmarshaling JSON: while decoding JSON: json: cannot unmarshal string into Go struct field FelixConfigurationSpec.spec.ipipEnabled of type bool',
  );
  assert.equal(
    await error(doc('routeTableRange: {min: 1, max: 2, step: 1}')),
    'error unmarshaling JSON: while decoding JSON: json: unknown field "step"',
  );
});
