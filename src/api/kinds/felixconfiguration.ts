/**
 * FelixConfiguration (api/pkg/apis/projectcalico/v3/felixconfig.go; clientv3/felixconfig.go
 * setDefaults; validator.go validateFelixConfigSpec and the field tags). Cluster-scoped; names
 * `default`, `node.<node>`, or others with a nodeSelector.
 *
 * Order of checks, as calicoctl v3.32 runs them in etcd mode:
 *  1. clientv3 setDefaults: floatingIPs Disabled, bpfConnectTimeLoadBalancing TCP,
 *     bpfHostNetworkedNATWithoutCTLB Enabled — and when the deprecated
 *     bpfConnectTimeLoadBalancingEnabled is set at all, HostNetworkedNAT becomes Disabled and
 *     ConnectTimeLoadBalancing Enabled/Disabled after it;
 *  2. go-playground: the field tags in declaration order (with the Port, RouteTableRange(s) and
 *     HealthTimeoutOverride validators where those fields sit), then validateFelixConfigSpec;
 *  3. the CRD: `nftablesMode: Auto` default, enums, patterns (many `(?i)`), the spec CEL rule
 *     on routeTableRange(s); the object-level CEL rule on nodeSelector runs in `post` (the
 *     framework's CEL layer only reaches inside spec; see NODE_SELECTOR_RULE).
 *
 * Go quirks kept: `bpfLogLevel` has no omitempty, so `bpfLogLevel: ""` is always printed; most
 * duration patterns in the CRD are `^([0-9]+(\\.[0-9]+)?(ms|s|m|h))*$` (an escaped backslash),
 * so a fractional duration such as `1.5s` is refused; failsafe ports are never validated (the
 * field has no `dive`); `routeSource` is checked only for compiling as a regexp.
 * Not reproduced: `bpfExportBufferSizeMB` carries the `cidrs` tag on an int, which makes Go's
 * validator panic; tortie accepts the value.
 */
import type { ErroredField } from '../errors.js';
import type { Resource } from '../meta.js';
import { bool, duration, f, int, list, map, opt, optPtr, str, struct, type StructTy } from '../schema/types.js';
import { Report, isLogLevel } from '../validate/checks.js';
import { resourceStruct } from './common.js';
import type { KindDef } from './def.js';
import { port, portParts, uint8OrString as dscp, type NumOrStr } from './numorstring.js';
import { checkPort, isCidrTag, isInterfaceTag } from './policy-common.js';
import { Prefix, IP } from '../../net/index.js';

const DURATION_PATTERN = '^([0-9]+(\\\\.[0-9]+)?(ms|s|m|h))*$';
const CONNTRACK_TIMEOUT_PATTERN = '^(([0-9]*(\\.[0-9]*)?(ms|s|h|m|us)+)+|Auto)$';

const protoPort = struct('ProtoPort', [opt('protocol', str()), f('port', int('uint16'), 'Port', 'req'), opt('net', str())]);
const routeTableRange = struct('RouteTableRange', [f('min', int('int'), 'Min', 'req'), f('max', int('int'), 'Max', 'req')]);
const routeTableIDRange = struct('RouteTableIDRange', [f('min', int('int'), 'Min', 'req'), f('max', int('int'), 'Max', 'req')]);
const healthTimeoutOverride = struct('HealthTimeoutOverride', [f('name', str(), 'Name', 'req'), f('timeout', duration(), 'Timeout', 'req')]);
const conntrackTimeout = str({ go: 'v3.BPFConntrackTimeout', pattern: CONNTRACK_TIMEOUT_PATTERN });
const bpfConntrackTimeouts = struct(
  'BPFConntrackTimeouts',
  (
    [
      ['creationGracePeriod', 'CreationGracePeriod'],
      ['tcpSynSent', 'TCPSynSent'],
      ['tcpEstablished', 'TCPEstablished'],
      ['tcpFinsSeen', 'TCPFinsSeen'],
      ['tcpResetSeen', 'TCPResetSeen'],
      ['udpTimeout', 'UDPTimeout'],
      ['genericTimeout', 'GenericTimeout'],
      ['icmpTimeout', 'ICMPTimeout'],
    ] as const
  ).map(([j, go]) => optPtr(j, conntrackTimeout, go)),
);

export const felixConfigurationSpec: StructTy = struct('FelixConfigurationSpec', [
  optPtr('nodeSelector', str({ maxLength: 1024 })),
  optPtr('useInternalDataplaneDriver', bool()),
  opt('dataplaneDriver', str()),
  optPtr('dataplaneWatchdogTimeout', duration()),
  optPtr('ipv6Support', bool(), 'IPv6Support'),
  optPtr('routeRefreshInterval', duration({ pattern: DURATION_PATTERN })),
  optPtr('interfaceRefreshInterval', duration({ pattern: DURATION_PATTERN })),
  optPtr('iptablesRefreshInterval', duration({ pattern: DURATION_PATTERN })),
  optPtr('iptablesPostWriteCheckInterval', duration({ pattern: DURATION_PATTERN })),
  optPtr('iptablesLockProbeInterval', duration({ pattern: DURATION_PATTERN })),
  opt('featureDetectOverride', str({ pattern: "^([a-zA-Z0-9-_]+=(true|false|),)*([a-zA-Z0-9-_]+=(true|false|))?$" })),
  opt('featureGates', str({ pattern: "^([a-zA-Z0-9-_]+=([^=]+),)*([a-zA-Z0-9-_]+=([^=]+))?$" })),
  optPtr('ipsetsRefreshInterval', duration({ pattern: DURATION_PATTERN })),
  optPtr('maxIpsetSize', int('int')),
  optPtr('iptablesBackend', str({ go: 'v3.IptablesBackend', enum: ['Legacy', 'NFT', 'Auto'], pattern: "^(?i)(Auto|Legacy|NFT)?$" })),
  optPtr('xdpRefreshInterval', duration({ pattern: DURATION_PATTERN }), 'XDPRefreshInterval'),
  optPtr('netlinkTimeout', duration({ pattern: DURATION_PATTERN })),
  opt('metadataAddr', str()),
  optPtr('metadataPort', int('int')),
  opt('openstackRegion', str()),
  opt('interfacePrefix', str()),
  opt('interfaceExclude', str()),
  opt('chainInsertMode', str({ pattern: "^(?i)(Insert|Append)?$" })),
  opt('defaultEndpointToHostAction', str({ pattern: "^(?i)(Drop|Accept|Return)?$" })),
  opt('iptablesFilterAllowAction', str({ pattern: "^(?i)(Accept|Return)?$" })),
  opt('iptablesMangleAllowAction', str({ pattern: "^(?i)(Accept|Return)?$" })),
  opt('iptablesFilterDenyAction', str({ pattern: "^(?i)(Drop|Reject)?$" })),
  opt('logPrefix', str({ pattern: "^([a-zA-Z0-9%: /_-])*$" })),
  optPtr('logActionRateLimit', str({ pattern: "^[1-9]\\d{0,3}/(?:second|minute|hour|day)$" })),
  optPtr('logActionRateLimitBurst', int('int', { minimum: 0, maximum: 9999 })),
  opt('logFilePath', str()),
  opt('logSeverityFile', str({ pattern: "^(?i)(Trace|Debug|Info|Warning|Error|Fatal)?$" })),
  opt('logSeverityScreen', str({ pattern: "^(?i)(Trace|Debug|Info|Warning|Error|Fatal)?$" })),
  opt('logSeveritySys', str({ pattern: "^(?i)(Trace|Debug|Info|Warning|Error|Fatal)?$" })),
  opt('logDebugFilenameRegex', str()),
  optPtr('ipipEnabled', bool(), 'IPIPEnabled'),
  optPtr('ipipMTU', int('int'), 'IPIPMTU'),
  optPtr('vxlanEnabled', bool(), 'VXLANEnabled'),
  optPtr('vxlanMTU', int('int'), 'VXLANMTU'),
  optPtr('vxlanMTUV6', int('int'), 'VXLANMTUV6'),
  optPtr('vxlanPort', int('int'), 'VXLANPort'),
  optPtr('vxlanVNI', int('int'), 'VXLANVNI'),
  optPtr('allowVXLANPacketsFromWorkloads', bool()),
  optPtr('allowIPIPPacketsFromWorkloads', bool()),
  optPtr('reportingInterval', duration({ pattern: DURATION_PATTERN })),
  optPtr('reportingTTL', duration({ pattern: DURATION_PATTERN })),
  optPtr('endpointReportingEnabled', bool()),
  optPtr('endpointReportingDelay', duration({ pattern: DURATION_PATTERN })),
  opt('endpointStatusPathPrefix', str()),
  optPtr('iptablesMarkMask', int('uint32')),
  optPtr('disableConntrackInvalidCheck', bool()),
  optPtr('healthEnabled', bool()),
  optPtr('healthHost', str()),
  optPtr('healthPort', int('int')),
  opt('healthTimeoutOverrides', list(healthTimeoutOverride)),
  optPtr('prometheusMetricsEnabled', bool()),
  opt('prometheusMetricsHost', str()),
  optPtr('prometheusMetricsPort', int('int')),
  optPtr('prometheusGoMetricsEnabled', bool()),
  optPtr('prometheusProcessMetricsEnabled', bool()),
  optPtr('prometheusWireGuardMetricsEnabled', bool()),
  optPtr('prometheusMetricsCAFile', str()),
  optPtr('prometheusMetricsCertFile', str()),
  optPtr('prometheusMetricsKeyFile', str()),
  optPtr('prometheusMetricsClientAuth', str({ go: 'v3.PrometheusMetricsClientAuthType' })),
  optPtr('failsafeInboundHostPorts', list(protoPort)),
  optPtr('failsafeOutboundHostPorts', list(protoPort)),
  optPtr('kubeNodePortRanges', list(port, { go: '[]numorstring.Port' })),
  opt('policySyncPathPrefix', str()),
  optPtr('usageReportingEnabled', bool()),
  optPtr('usageReportingInitialDelay', duration({ pattern: DURATION_PATTERN })),
  optPtr('usageReportingInterval', duration({ pattern: DURATION_PATTERN })),
  optPtr('natPortRange', port, 'NATPortRange'),
  opt('natOutgoingAddress', str(), 'NATOutgoingAddress'),
  optPtr('natOutgoingExclusions', str({ go: 'v3.NATOutgoingExclusionsType', enum: ['IPPoolsOnly', 'IPPoolsAndHostIPs'] }), 'NATOutgoingExclusions'),
  opt('deviceRouteSourceAddress', str()),
  opt('deviceRouteSourceAddressIPv6', str()),
  optPtr('deviceRouteProtocol', int('int')),
  optPtr('removeExternalRoutes', bool()),
  optPtr('programClusterRoutes', str({ enum: ['Enabled', 'Disabled'] })),
  opt('ipForwarding', str({ enum: ['Enabled', 'Disabled'] }), 'IPForwarding'),
  optPtr('externalNodesList', list(str()), 'ExternalNodesCIDRList'),
  opt('debugMemoryProfilePath', str()),
  optPtr('debugDisableLogDropping', bool()),
  optPtr('debugSimulateCalcGraphHangAfter', duration({ pattern: DURATION_PATTERN })),
  optPtr('debugSimulateDataplaneHangAfter', duration({ pattern: DURATION_PATTERN })),
  optPtr('debugSimulateDataplaneApplyDelay', duration({ pattern: DURATION_PATTERN })),
  optPtr('debugHost', str()),
  optPtr('debugPort', int('int')),
  opt('iptablesNATOutgoingInterfaceFilter', str()),
  optPtr('sidecarAccelerationEnabled', bool()),
  optPtr('xdpEnabled', bool(), 'XDPEnabled'),
  optPtr('genericXDPEnabled', bool()),
  optPtr('nftablesMode', str({ go: 'v3.NFTablesMode', enum: ['Disabled', 'Enabled', 'Auto'], default: 'Auto' }), 'NFTablesMode'),
  optPtr('nftablesRefreshInterval', duration()),
  opt('nftablesFilterAllowAction', str({ pattern: "^(?i)(Accept|Return)?$" })),
  opt('nftablesMangleAllowAction', str({ pattern: "^(?i)(Accept|Return)?$" })),
  opt('nftablesFilterDenyAction', str({ pattern: "^(?i)(Drop|Reject)?$" })),
  optPtr('nftablesMarkMask', int('uint32')),
  optPtr('bpfEnabled', bool(), 'BPFEnabled'),
  optPtr('bpfDisableUnprivileged', bool(), 'BPFDisableUnprivileged'),
  optPtr('bpfJITHardening', str({ go: 'v3.BPFJITHardeningType' }), 'BPFJITHardening'),
  f('bpfLogLevel', str({ pattern: "^(?i)(Off|Info|Debug)?$" }), 'BPFLogLevel'),
  opt('bpfConntrackLogLevel', str({ enum: ['Off', 'Debug'] }), 'BPFConntrackLogLevel'),
  optPtr('bpfConntrackMode', str({ go: 'v3.BPFConntrackMode', enum: ['Auto', 'Userspace', 'BPFProgram'] }), 'BPFConntrackCleanupMode'),
  optPtr('bpfConntrackTimeouts', bpfConntrackTimeouts, 'BPFConntrackTimeouts'),
  optPtr('bpfLogFilters', map(str()), 'BPFLogFilters'),
  opt('bpfCTLBLogFilter', str(), 'BPFCTLBLogFilter'),
  opt('bpfDataIfacePattern', str(), 'BPFDataIfacePattern'),
  opt('bpfL3IfacePattern', str(), 'BPFL3IfacePattern'),
  optPtr('bpfConnectTimeLoadBalancingEnabled', bool(), 'BPFConnectTimeLoadBalancingEnabled'),
  optPtr('bpfConnectTimeLoadBalancing', str({ go: 'v3.BPFConnectTimeLBType', enum: ['TCP', 'Enabled', 'Disabled'] }), 'BPFConnectTimeLoadBalancing'),
  optPtr('bpfHostNetworkedNATWithoutCTLB', str({ go: 'v3.BPFHostNetworkedNATType', enum: ['Enabled', 'Disabled'] }), 'BPFHostNetworkedNATWithoutCTLB'),
  opt('bpfExternalServiceMode', str({ pattern: "^(?i)(Tunnel|DSR)?$" }), 'BPFExternalServiceMode'),
  optPtr('bpfDSROptoutCIDRs', list(str()), 'BPFDSROptoutCIDRs'),
  optPtr('bpfExtToServiceConnmark', int('int'), 'BPFExtToServiceConnmark'),
  optPtr('bpfKubeProxyIptablesCleanupEnabled', bool(), 'BPFKubeProxyIptablesCleanupEnabled'),
  optPtr('bpfKubeProxyMinSyncPeriod', duration({ pattern: DURATION_PATTERN }), 'BPFKubeProxyMinSyncPeriod'),
  optPtr('bpfKubeProxyHealthzPort', int('int'), 'BPFKubeProxyHealthzPort'),
  optPtr('bpfPSNATPorts', port, 'BPFPSNATPorts'),
  optPtr('bpfMapSizeNATFrontend', int('int'), 'BPFMapSizeNATFrontend'),
  optPtr('bpfMapSizeNATBackend', int('int'), 'BPFMapSizeNATBackend'),
  optPtr('bpfMapSizeNATAffinity', int('int'), 'BPFMapSizeNATAffinity'),
  optPtr('bpfMapSizeRoute', int('int'), 'BPFMapSizeRoute'),
  optPtr('bpfMapSizeConntrack', int('int'), 'BPFMapSizeConntrack'),
  optPtr('bpfMapSizePerCpuConntrack', int('int'), 'BPFMapSizePerCPUConntrack'),
  opt('bpfMapSizeConntrackScaling', str({ pattern: "^(?i)(Disabled|DoubleIfFull)?$" }), 'BPFMapSizeConntrackScaling'),
  optPtr('bpfMapSizeConntrackCleanupQueue', int('int', { minimum: 1 }), 'BPFMapSizeConntrackCleanupQueue'),
  optPtr('bpfMapSizeIPSets', int('int'), 'BPFMapSizeIPSets'),
  optPtr('bpfMapSizeIfState', int('int'), 'BPFMapSizeIfState'),
  optPtr('bpfHostConntrackBypass', bool(), 'BPFHostConntrackBypass'),
  opt('bpfEnforceRPF', str({ pattern: "^(?i)(Disabled|Strict|Loose)?$" }), 'BPFEnforceRPF'),
  optPtr('bpfPolicyDebugEnabled', bool(), 'BPFPolicyDebugEnabled'),
  optPtr('bpfForceTrackPacketsFromIfaces', list(str()), 'BPFForceTrackPacketsFromIfaces'),
  opt('bpfDisableGROForIfaces', str(), 'BPFDisableGROForIfaces'),
  optPtr('bpfExcludeCIDRsFromNAT', list(str()), 'BPFExcludeCIDRsFromNAT'),
  optPtr('bpfExportBufferSizeMB', int('int'), 'BPFExportBufferSizeMB'),
  optPtr('istioAmbientMode', str({ go: 'v3.IstioAmbientMode', enum: ['Enabled', 'Disabled'] })),
  optPtr('istioDSCPMark', dscp),
  opt('cgroupV2Path', str()),
  optPtr('flowLogsPolicyEvaluationMode', str({ go: 'v3.FlowLogsPolicyEvaluationModeType', enum: ['None', 'Continuous'] })),
  opt('bpfRedirectToPeer', str({ enum: ['Enabled', 'Disabled'] }), 'BPFRedirectToPeer'),
  optPtr('bpfAttachType', str({ go: 'v3.BPFAttachOption', enum: ['TC', 'TCX'] }), 'BPFAttachType'),
  optPtr('flowLogsFlushInterval', duration({ pattern: DURATION_PATTERN })),
  optPtr('flowLogsCollectorDebugTrace', bool()),
  optPtr('flowLogsGoldmaneServer', str()),
  optPtr('flowLogsLocalReporter', str({ enum: ['Disabled', 'Enabled'] })),
  opt('bpfProfiling', str({ enum: ['Enabled', 'Disabled'] }), 'BPFProfiling'),
  opt('routeSource', str({ pattern: "^(?i)(WorkloadIPs|CalicoIPAM)?$" })),
  optPtr('routeTableRanges', list(routeTableIDRange, { go: 'v3.RouteTableRanges' })),
  optPtr('routeTableRange', routeTableRange),
  optPtr('routeSyncDisabled', bool()),
  optPtr('ipv4NormalRoutePriority', int('int'), 'IPv4NormalRoutePriority'),
  optPtr('ipv4ElevatedRoutePriority', int('int'), 'IPv4ElevatedRoutePriority'),
  optPtr('ipv6NormalRoutePriority', int('int'), 'IPv6NormalRoutePriority'),
  optPtr('ipv6ElevatedRoutePriority', int('int'), 'IPv6ElevatedRoutePriority'),
  optPtr('liveMigrationRouteConvergenceTime', duration({ pattern: "^([0-9]+(\\.[0-9]+)?(ms|s|m|h))*$" })),
  optPtr('wireguardEnabled', bool()),
  optPtr('wireguardEnabledV6', bool()),
  optPtr('wireguardThreadingEnabled', bool()),
  optPtr('wireguardListeningPort', int('int')),
  optPtr('wireguardListeningPortV6', int('int')),
  optPtr('wireguardRoutingRulePriority', int('int')),
  opt('wireguardInterfaceName', str()),
  opt('wireguardInterfaceNameV6', str()),
  optPtr('wireguardMTU', int('int')),
  optPtr('wireguardMTUV6', int('int')),
  optPtr('wireguardHostEncryptionEnabled', bool()),
  optPtr('wireguardKeepAlive', duration({ pattern: DURATION_PATTERN }), 'WireguardPersistentKeepAlive'),
  optPtr('awsSrcDstCheck', str({ go: 'v3.AWSSrcDstCheckOption', enum: ['DoNothing', 'Enable', 'Disable'] }), 'AWSSrcDstCheck'),
  opt('serviceLoopPrevention', str({ pattern: "^(?i)(Drop|Reject|Disabled)?$" })),
  opt('workloadSourceSpoofing', str({ pattern: "^(?i)(Disabled|Any)?$" })),
  opt('mtuIfacePattern', str(), 'MTUIfacePattern'),
  optPtr('floatingIPs', str({ go: 'v3.FloatingIPType', enum: ['Enabled', 'Disabled'] })),
  optPtr('windowsManageFirewallRules', str({ go: 'v3.WindowsManageFirewallRulesMode', enum: ['Enabled', 'Disabled'] })),
  optPtr('goGCThreshold', int('int')),
  optPtr('goMemoryLimitMB', int('int')),
  optPtr('goMaxProcs', int('int')),
  optPtr('requireMTUFile', bool()),
  optPtr('bpfMaglevMaxEndpointsPerService', int('int'), 'BPFMaglevMaxEndpointsPerService'),
  optPtr('bpfMaglevMaxServices', int('int'), 'BPFMaglevMaxServices'),
]);

// ---------------------------------------------------------------------------------------------
// Field tags, table-driven: one row per validated field, in declaration order.

type Spec = Record<string, unknown>;
/** A tag check: the failing tag's name, or undefined. */
type TagCheck = (v: unknown) => string | undefined;

const re = (rx: RegExp, tag: string): TagCheck => (v) => (rx.test(String(v)) ? undefined : tag);
const oneOf = (...allowed: string[]): TagCheck => (v) => (allowed.includes(String(v)) ? undefined : 'oneof');
/** `gte=a,lte=b`-style number tags; the first failing one is reported. */
function num(bounds: { gte?: number; gt?: number; lte?: number; lt?: number }): TagCheck {
  return (v) => {
    const n = v as number;
    if (bounds.gte !== undefined && n < bounds.gte) return 'gte';
    if (bounds.gt !== undefined && n <= bounds.gt) return 'gt';
    if (bounds.lte !== undefined && n > bounds.lte) return 'lte';
    if (bounds.lt !== undefined && n >= bounds.lt) return 'lt';
    return undefined;
  };
}

const KV_ITEM = /^[\t\n\f\r ]*(\w+)=(.*)$/;
/** validateKeyValueList. */
const keyValueList: TagCheck = (v) => {
  const s = String(v);
  if (s.trim() === '') return undefined;
  return s.split(',').every((item) => item === '' || KV_ITEM.test(item)) ? undefined : 'keyValueList';
};

/**
 * Go's regexp.Compile, approximated with a JS RegExp after translating RE2-only syntax
 * (inline flags, `(?P<name>`, `\A`, `\z`); lookarounds and backreferences, which RE2 lacks,
 * are refused.
 */
export function isGoRegexp(s: string): boolean {
  if (/\(\?<?[=!]/.test(s) || /\\[1-9]/.test(s)) return false;
  const js = s
    .replace(/\(\?P</g, '(?<')
    .replace(/\(\?[imsU]*(?:-[imsU]*)?\)/g, '')
    .replace(/\(\?[imsU]*(?:-[imsU]*)?:/g, '(?:')
    .replace(/\\A/g, '^')
    .replace(/\\z/g, '$');
  try {
    new RegExp(js);
    return true;
  } catch {
    return false;
  }
}
const regexp = (tag: string): TagCheck => (v) => (isGoRegexp(String(v)) ? undefined : tag);

const INTERFACE = /^[a-zA-Z0-9_.-]{1,15}$/;
const IFACE_FILTER = /^[a-zA-Z0-9:._+-]{1,15}$/;
const ACCEPT_RETURN = re(/^(Accept|Return)$/, 'acceptReturn');
const DROP_REJECT = re(/^(Drop|Reject)$/, 'dropReject');
const LOG_LEVEL: TagCheck = (v) => (isLogLevel(String(v)) ? undefined : 'logLevel');

/** [json field, Go field, check]. Non-pointer strings are skipped when "" (omitempty). */
const TAGS: readonly [string, string, TagCheck][] = [
  ['featureDetectOverride', 'FeatureDetectOverride', keyValueList],
  ['featureGates', 'FeatureGates', keyValueList],
  ['iptablesBackend', 'IptablesBackend', (v) => (['', 'Auto', 'NFT', 'Legacy'].includes(String(v)) ? undefined : 'iptablesBackend')],
  ['defaultEndpointToHostAction', 'DefaultEndpointToHostAction', re(/^(Drop|Accept|Return)$/, 'dropAcceptReturn')],
  ['iptablesFilterAllowAction', 'IptablesFilterAllowAction', ACCEPT_RETURN],
  ['iptablesMangleAllowAction', 'IptablesMangleAllowAction', ACCEPT_RETURN],
  ['iptablesFilterDenyAction', 'IptablesFilterDenyAction', DROP_REJECT],
  ['logSeverityFile', 'LogSeverityFile', LOG_LEVEL],
  ['logSeverityScreen', 'LogSeverityScreen', LOG_LEVEL],
  ['logSeveritySys', 'LogSeveritySys', LOG_LEVEL],
  ['logDebugFilenameRegex', 'LogDebugFilenameRegex', regexp('regexp')],
  ['prometheusMetricsHost', 'PrometheusMetricsHost', re(/^[a-zA-Z0-9:._+-]{1,64}$/, 'prometheusHost')],
  ['prometheusMetricsClientAuth', 'PrometheusMetricsClientAuth', oneOf('RequireAndVerifyClientCert', 'RequireAnyClientCert', 'VerifyClientCertIfGiven', 'NoClientCert')],
  ['natOutgoingExclusions', 'NATOutgoingExclusions', oneOf('IPPoolsOnly', 'IPPoolsAndHostIPs')],
  ['debugPort', 'DebugPort', num({ gte: 0, lte: 65535 })],
  ['iptablesNATOutgoingInterfaceFilter', 'IptablesNATOutgoingInterfaceFilter', re(IFACE_FILTER, 'ifaceFilter')],
  ['nftablesFilterAllowAction', 'NftablesFilterAllowAction', ACCEPT_RETURN],
  ['nftablesMangleAllowAction', 'NftablesMangleAllowAction', ACCEPT_RETURN],
  ['nftablesFilterDenyAction', 'NftablesFilterDenyAction', DROP_REJECT],
  ['bpfJITHardening', 'BPFJITHardening', oneOf('Auto', 'Strict')],
  ['bpfLogLevel', 'BPFLogLevel', re(/^(Debug|Info|Off)$/, 'bpfLogLevel')],
  ['bpfConntrackLogLevel', 'BPFConntrackLogLevel', oneOf('Off', 'Debug')],
  ['bpfConntrackMode', 'BPFConntrackCleanupMode', oneOf('Auto', 'Userspace', 'BPFProgram')],
  ['bpfLogFilters', 'BPFLogFilters', (v) => (Object.keys(v as object).every((k) => INTERFACE.test(k)) ? undefined : 'bpfLogFilters')],
  ['bpfDataIfacePattern', 'BPFDataIfacePattern', regexp('regexp')],
  ['bpfL3IfacePattern', 'BPFL3IfacePattern', regexp('regexp')],
  ['bpfConnectTimeLoadBalancing', 'BPFConnectTimeLoadBalancing', oneOf('TCP', 'Enabled', 'Disabled')],
  ['bpfHostNetworkedNATWithoutCTLB', 'BPFHostNetworkedNATWithoutCTLB', oneOf('Enabled', 'Disabled')],
  ['bpfExternalServiceMode', 'BPFExternalServiceMode', re(/^(Tunnel|DSR)$/, 'bpfServiceMode')],
  ['bpfDSROptoutCIDRs', 'BPFDSROptoutCIDRs', (v) => ((v as string[]).every(isCidrTag) ? undefined : 'cidrs')],
  ['bpfExtToServiceConnmark', 'BPFExtToServiceConnmark', num({ gte: 0, lte: 4294967295 })],
  ['bpfKubeProxyHealthzPort', 'BPFKubeProxyHealthzPort', num({ gte: 0, lte: 65535 })],
  ['bpfMapSizeConntrackCleanupQueue', 'BPFMapSizeConntrackCleanupQueue', num({ gte: 1 })],
  ['bpfForceTrackPacketsFromIfaces', 'BPFForceTrackPacketsFromIfaces', (v) => ((v as string[]).every((s) => IFACE_FILTER.test(s)) ? undefined : 'ifaceFilterSlice')],
  ['bpfDisableGROForIfaces', 'BPFDisableGROForIfaces', regexp('regexp')],
  ['bpfExcludeCIDRsFromNAT', 'BPFExcludeCIDRsFromNAT', (v) => ((v as string[]).every(isCidrTag) ? undefined : 'cidrs')],
  ['bpfAttachType', 'BPFAttachType', oneOf('TC', 'TCX')],
  ['routeSource', 'RouteSource', regexp('routeSource')],
  ['ipv4NormalRoutePriority', 'IPv4NormalRoutePriority', num({ gte: 1, lte: 2147483646 })],
  ['ipv4ElevatedRoutePriority', 'IPv4ElevatedRoutePriority', num({ gte: 1, lte: 2147483646 })],
  ['ipv6NormalRoutePriority', 'IPv6NormalRoutePriority', num({ gte: 1, lte: 2147483646 })],
  ['ipv6ElevatedRoutePriority', 'IPv6ElevatedRoutePriority', num({ gte: 1, lte: 2147483646 })],
  ['wireguardListeningPort', 'WireguardListeningPort', num({ gt: 0, lte: 65535 })],
  ['wireguardListeningPortV6', 'WireguardListeningPortV6', num({ gt: 0, lte: 65535 })],
  ['wireguardRoutingRulePriority', 'WireguardRoutingRulePriority', num({ gt: 0, lt: 32766 })],
  ['wireguardInterfaceName', 'WireguardInterfaceName', (v) => (isInterfaceTag(String(v)) ? undefined : 'interface')],
  ['wireguardInterfaceNameV6', 'WireguardInterfaceNameV6', (v) => (isInterfaceTag(String(v)) ? undefined : 'interface')],
  ['awsSrcDstCheck', 'AWSSrcDstCheck', oneOf('DoNothing', 'Enable', 'Disable')],
  ['serviceLoopPrevention', 'ServiceLoopPrevention', oneOf('Drop', 'Reject', 'Disabled')],
  ['workloadSourceSpoofing', 'WorkloadSourceSpoofing', oneOf('Disabled', 'Any')],
  ['mtuIfacePattern', 'MTUIfacePattern', regexp('regexp')],
  ['windowsManageFirewallRules', 'WindowsManageFirewallRules', oneOf('Enabled', 'Disabled')],
  ['goGCThreshold', 'GoGCThreshold', num({ gte: -1 })],
  ['goMemoryLimitMB', 'GoMemoryLimitMB', num({ gte: -1 })],
  ['goMaxProcs', 'GoMaxProcs', num({ gte: -1 })],
  ['bpfMaglevMaxEndpointsPerService', 'BPFMaglevMaxEndpointsPerService', num({ gt: 0, lte: 3000 })],
  ['bpfMaglevMaxServices', 'BPFMaglevMaxServices', num({ gt: 0, lte: 3000 })],
];

// ---------------------------------------------------------------------------------------------
// Nested structs' validators, which go-playground runs where their field sits.

interface Range {
  min: number;
  max: number;
}
const rangeDump = (r: Range) => `{${r.min} ${r.max}}`;

/** validateHealthTimeoutOverride (Go's value is the struct, `{name timeout}`). */
function checkHealthTimeoutOverrides(v: unknown, rep: Report): void {
  for (const h of v as { name?: string; timeout?: string }[]) {
    const dump = `{${h.name ?? ''} ${h.timeout ?? '0s'}}`;
    if (!/^[a-zA-Z0-9_ -]+$/.test(h.name ?? '')) rep.field('HealthTimeoutOverride.Name', dump, 'name should match regex ^[a-zA-Z0-9_ -]+$');
    if ((h.timeout ?? '').startsWith('-')) rep.field('HealthTimeoutOverride.Timeout', dump, 'Timeout should not be negative');
  }
}

/** validateRouteTableIDRange, per entry (the `dive` on RouteTableRanges). */
function checkRouteTableRanges(v: unknown, rep: Report): void {
  for (const r of v as Range[]) {
    if (r.min > r.max) rep.field('RouteTableRange', rangeDump(r), 'min value cannot be greater than max value');
    if (r.min <= 0) rep.field('RouteTableRange', rangeDump(r), 'cannot target indices < 1');
    if (r.max > 0xffffffff) rep.field('RouteTableRange', rangeDump(r), 'max index too high');
  }
}

/** validateRouteTableRange. */
function checkRouteTableRange(v: unknown, rep: Report): void {
  const r = v as Range;
  if (!(r.min >= 1 && r.max >= r.min && r.max <= 250)) rep.field('RouteTableRange', rangeDump(r), 'must be a range of route table indices within 1..250');
}

/** Struct-typed fields with validators of their own, placed after the tag row they follow. */
const NESTED: Record<string, (v: unknown, rep: Report) => void> = {
  healthTimeoutOverrides: checkHealthTimeoutOverrides,
  kubeNodePortRanges: (v, rep) => (v as NumOrStr[]).forEach((p) => checkPort(p, rep)),
  natPortRange: (v, rep) => checkPort(v as NumOrStr, rep),
  bpfPSNATPorts: (v, rep) => checkPort(v as NumOrStr, rep),
  routeTableRanges: checkRouteTableRanges,
  routeTableRange: checkRouteTableRange,
};

const TAG_BY_FIELD = new Map(TAGS.map(([json, go, check]) => [json, { go, check }]));

function structChecks(r: Resource): ErroredField[] {
  const s = (r.spec ?? {}) as Spec;
  const rep = new Report();
  for (const fd of felixConfigurationSpec.fields) {
    const v = s[fd.json];
    if (v === undefined || v === null || (!fd.ptr && v === '')) continue;
    const tag = TAG_BY_FIELD.get(fd.json);
    const failed = tag?.check(v);
    if (tag && failed) rep.tag(tag.go, v, failed);
    NESTED[fd.json]?.(v, rep);
  }
  validateSpec(s, rep);
  return rep.fields;
}

function isDNS1123Label(s: string): boolean {
  return s.length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(s);
}

/** validateFelixConfigSpec. */
function validateSpec(s: Spec, rep: Report): void {
  const nodePorts = s.kubeNodePortRanges as NumOrStr[] | undefined;
  if (nodePorts) {
    if (nodePorts.length > 7) rep.field('KubeNodePortRanges', nodePorts, 'node port ranges list is too long (max 7)');
    for (const p of nodePorts) {
      if (portParts(p).name !== '') rep.field('KubeNodePortRanges', nodePorts, 'node port ranges should not contain named ports');
    }
  }
  for (const cidr of (s.externalNodesList as string[] | undefined) ?? []) {
    let version = 0;
    if (cidr !== '') {
      try {
        version = Prefix.parseCIDROrIP(cidr).ip.version;
      } catch {
        rep.field('ExternalNodesCIDRList', cidr, 'has invalid CIDR(s)');
        continue;
      }
    }
    if (version !== 4) rep.field('ExternalNodesCIDRList', cidr, 'has invalid IPv6 CIDR');
  }
  const region = (s.openstackRegion as string | undefined) ?? '';
  if (region.length > 63 - 'openstack-region-'.length) rep.field('OpenstackRegion', region, 'is too long');
  else if (region && !isDNS1123Label(region)) rep.field('OpenstackRegion', region, 'must be a valid DNS label');
  const address = (field: string, go: string, version: 4 | 6) => {
    const v = (s[field] as string | undefined) ?? '';
    if (v && IP.tryParse(v)?.version !== version) rep.field(go, v, `is not a valid IPv${version} address`);
  };
  address('natOutgoingAddress', 'NATOutgoingAddress', 4);
  address('deviceRouteSourceAddress', 'DeviceRouteSourceAddress', 4);
  address('deviceRouteSourceAddressIPv6', 'DeviceRouteSourceAddressIPv6', 6);
  const single = s.routeTableRange as Range | undefined;
  const ranges = s.routeTableRanges as Range[] | undefined;
  if (single && ranges) rep.field('RouteTableRange', `&${rangeDump(single)}`, 'cannot be set when `RouteTableRanges` is also set');
  if (ranges && ranges.reduce((n, r) => n + (r.max - r.min) + 1, 0) > 0xffff) {
    rep.field('RouteTableRanges', `&[${ranges.map(rangeDump).join(' ')}]`, 'targets too many tables');
  }
}

// ---------------------------------------------------------------------------------------------
// clientv3 setDefaults, post checks, the definition.

function prepare(r: Resource): ErroredField[] {
  const s = (r.spec ??= {}) as Spec;
  // metav1.Duration's zero value prints as "0s".
  for (const h of (s.healthTimeoutOverrides as Spec[] | undefined) ?? []) h.timeout ??= '0s';
  s.floatingIPs ??= 'Disabled';
  s.bpfConnectTimeLoadBalancing ??= 'TCP';
  s.bpfHostNetworkedNATWithoutCTLB ??= 'Enabled';
  if (s.bpfConnectTimeLoadBalancingEnabled !== undefined && s.bpfConnectTimeLoadBalancingEnabled !== null) {
    s.bpfHostNetworkedNATWithoutCTLB = 'Disabled';
    s.bpfConnectTimeLoadBalancing = s.bpfConnectTimeLoadBalancingEnabled ? 'Enabled' : 'Disabled';
  }
  return [];
}

/** The CRD's object-level CEL rule (path `<nil>`, so libcalico-go names the error after the kind). */
export const NODE_SELECTOR_RULE = "nodeSelector must not be set on the 'default' or per-node ('node.*') FelixConfiguration";

export const FelixConfigurationDef: KindDef = {
  kind: 'FelixConfiguration',
  schema: resourceStruct('FelixConfiguration', felixConfigurationSpec),
  prepare,
  structChecks,
  cel: [
    {
      path: '',
      message: NODE_SELECTOR_RULE,
      valid: (o) => {
        const name = String((o.metadata as { name?: string } | undefined)?.name ?? '');
        const spec = (o.spec ?? {}) as Spec;
        return !((name === 'default' || name.startsWith('node.')) && spec.nodeSelector !== undefined && spec.nodeSelector !== null);
      },
    },
    {
      path: 'spec',
      message: 'routeTableRange and routeTableRanges cannot both be set',
      valid: (s) => s.routeTableRange === undefined || s.routeTableRanges === undefined,
    },
  ],
};
