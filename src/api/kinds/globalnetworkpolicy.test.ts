import { test } from 'node:test';
import assert from 'node:assert/strict';
import { check, stored, error, one, many, tagFail, openapi } from '../testing/harness.js';
import { canonicalResource, toYaml } from '../codec.js';
import type { Resource } from '../meta.js';

/** A GlobalNetworkPolicy document; `spec` is YAML indented by two spaces under `spec:`. */
const doc = (spec: string, name = 'allow-web') =>
  `apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata:\n  name: ${name}\nspec:\n${spec.replace(/^/gm, '  ')}\n`;
/** One ingress rule, written as a YAML flow mapping. */
const ingress = (rule: string) => doc(`ingress:\n- ${rule}`);


const FULL = `selector: role == 'webserver'
order: 200.5
tier: security
namespaceSelector: has(projectcalico.org/name)
serviceAccountSelector: app == 'web'
applyOnForward: true
preDNAT: false
performanceHints: [AssumeNeededOnEveryNode]
ingress:
- action: Allow
  protocol: TCP
  source:
    nets: [10.0.0.0/8, 172.16.0.0/12]
    notSelector: quarantine == 'true'
    namespaceSelector: global()
  destination:
    ports: [80, "443", "8000:8080", http-alt]
- action: Allow
  protocol: ICMP
  ipVersion: 4
  icmp: {type: 8, code: 0}
- action: Deny
  notProtocol: UDPLite
  notICMP: {type: 3}
- action: Allow
  protocol: TCP
  http:
    methods: [GET, HEAD]
    paths: [{exact: /healthz}, {prefix: /api/}]
egress:
- action: Allow
  protocol: UDP
  destination:
    selector: k8s-app == 'kube-dns'
    ports: [53]
    serviceAccounts: {names: [coredns], selector: app == 'dns'}
- action: Log
  destination:
    services: {name: kubernetes, namespace: default}`;

test('a full policy is stored in Go field order, ports and protocols in Go form', async () => {
  const v = await stored(doc(FULL, 'security.allow-web'));
  assert.equal(
    JSON.stringify(v),
    '{"kind":"GlobalNetworkPolicy","apiVersion":"projectcalico.org/v3","metadata":{"name":"security.allow-web","creationTimestamp":null,' +
      '"labels":{"projectcalico.org/tier":"security"}},' +
      '"spec":{"tier":"security","order":200.5,"ingress":[' +
      '{"action":"Allow","protocol":"TCP","source":{"nets":["10.0.0.0/8","172.16.0.0/12"],"namespaceSelector":"global()","notSelector":"quarantine == \'true\'"},' +
      '"destination":{"ports":[80,443,"8000:8080","http-alt"]}},' +
      '{"action":"Allow","ipVersion":4,"protocol":"ICMP","icmp":{"type":8,"code":0}},' +
      '{"action":"Deny","notProtocol":"UDPLite","notICMP":{"type":3}},' +
      '{"action":"Allow","protocol":"TCP","http":{"methods":["GET","HEAD"],"paths":[{"exact":"/healthz"},{"prefix":"/api/"}]}}],' +
      '"egress":[{"action":"Allow","protocol":"UDP","destination":{"selector":"k8s-app == \'kube-dns\'","ports":[53],' +
      '"serviceAccounts":{"names":["coredns"],"selector":"app == \'dns\'"}}},' +
      '{"action":"Log","destination":{"services":{"name":"kubernetes","namespace":"default"}}}],' +
      '"selector":"role == \'webserver\'","types":["Ingress","Egress"],"applyOnForward":true,"serviceAccountSelector":"app == \'web\'",' +
      '"namespaceSelector":"has(projectcalico.org/name)","performanceHints":["AssumeNeededOnEveryNode"]}}',
  );
});

test('get -o yaml prints the stored policy with sorted keys', async () => {
  const v = await stored(doc("selector: all()\ningress:\n- action: Allow\n  protocol: UDP\n  destination: {ports: [53]}"));
  assert.equal(
    toYaml(canonicalResource(v)),
    `apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata:
  creationTimestamp: null
  labels:
    projectcalico.org/tier: default
  name: allow-web
spec:
  ingress:
  - action: Allow
    destination:
      ports:
      - 53
    protocol: UDP
  selector: all()
  tier: default
  types:
  - Ingress
`,
  );
});

test('defaults: tier default (CRD), types from the rules present, the tier label', async () => {
  assert.deepEqual((await stored(doc('{}'))).spec, { tier: 'default', types: ['Ingress'] });
  assert.deepEqual((await stored(doc('egress: [{action: Allow}]'))).spec, { tier: 'default', egress: [{ action: 'Allow' }], types: ['Egress'] });
  const both = await stored(doc('ingress: [{action: Deny}]\negress: [{action: Allow}]'));
  assert.deepEqual((both.spec as { types: string[] }).types, ['Ingress', 'Egress']);
  assert.deepEqual(both.metadata.labels, { 'projectcalico.org/tier': 'default' });
  // Explicit types are kept, even when they disagree with the rules.
  assert.deepEqual((await stored(doc('types: [Egress]\ningress: [{action: Allow}]'))).spec, {
    tier: 'default',
    ingress: [{ action: 'Allow' }],
    types: ['Egress'],
  });
});

test('the tier label is overwritten with the policy tier', async () => {
  const y = `apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata:\n  name: p\n  labels: {projectcalico.org/tier: other, a: b}\nspec:\n  tier: default\n`;
  assert.deepEqual((await stored(y)).metadata.labels, { a: 'b', 'projectcalico.org/tier': 'default' });
});

test('ports and protocols are normalised as numorstring does', async () => {
  const v = await stored(ingress('{action: Allow, protocol: "6", destination: {ports: ["80:80", "1024:65535", "22"]}, notProtocol: "17"}'));
  assert.deepEqual((v.spec as { ingress: unknown[] }).ingress[0], {
    action: 'Allow',
    protocol: 6,
    notProtocol: 17,
    destination: { ports: [80, '1024:65535', 22] },
  });
});

test('source/destination are omitzero: dropped when zero, kept as {} when only an empty list is given', async () => {
  const v = await stored(ingress('{action: Allow, source: {}, destination: {nets: [], selector: ""}}'));
  assert.equal(JSON.stringify((v.spec as { ingress: unknown[] }).ingress[0]), '{"action":"Allow","destination":{}}');
});

test('unknown fields are refused at any depth', async () => {
  assert.equal(await error(doc('colour: red')), 'error unmarshaling JSON: while decoding JSON: json: unknown field "colour"');
  assert.equal(await error(ingress('{action: Allow, source: {port: [80]}}')), 'error unmarshaling JSON: while decoding JSON: json: unknown field "port"');
  assert.equal(await error(ingress('{action: Allow, icmp: {type: 8, kode: 0}}')), 'error unmarshaling JSON: while decoding JSON: json: unknown field "kode"');
});

test('preDNAT and doNotTrack: Go struct validator, then the CRD rules in their own words', async () => {
  assert.equal(
    await error(doc('preDNAT: true\ndoNotTrack: true\negress: [{action: Allow}]')),
    many(
      "PolicySpec.PreDNAT = 'true' (PreDNAT and DoNotTrack cannot both be true, for a given PolicySpec)",
      'PolicySpec.Egress (PreDNAT PolicySpec cannot have any Egress rules)',
      "PolicySpec.Types = '[Egress]' (PreDNAT PolicySpec cannot have 'egress' Type)",
      "PolicySpec.ApplyOnForward = 'false' (ApplyOnForward must be true if either PreDNAT or DoNotTrack is true, for a given PolicySpec)",
      'spec (preDNAT and doNotTrack cannot both be true)',
      'spec (preDNAT policy cannot have any egress rules)',
      "spec (preDNAT policy cannot have 'Egress' type)",
      'spec (applyOnForward must be true if either preDNAT or doNotTrack is true)',
    ),
  );
  const ok = await stored(doc('preDNAT: true\napplyOnForward: true\ningress: [{action: Deny}]'));
  assert.deepEqual(ok.spec, { tier: 'default', ingress: [{ action: 'Deny' }], types: ['Ingress'], preDNAT: true, applyOnForward: true });
});

test('names: label or label.label; a bad name fails both ObjectMeta and the policy rule', async () => {
  assert.equal(
    await error(doc('{}', 'a.b.c')),
    one("Metadata.Name = 'a.b.c' (name must consist of lower case alphanumeric characters or '-' (regex: [a-z0-9]([-a-z0-9]*[a-z0-9])?))"),
  );
  assert.equal(
    await error(doc('{}', 'Web')),
    many(
      "Metadata.Name = 'Web' (name must consist of lower case alphanumeric characters, '-' or '.' (regex: [a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*))",
      "Metadata.Name = 'Web' (name must consist of lower case alphanumeric characters or '-' (regex: [a-z0-9]([-a-z0-9]*[a-z0-9])?))",
    ),
  );
  await stored(doc('{}', 'default.allow-web'));
});

test('services: namespace required in a global policy, not in egress source, not with ports', async () => {
  assert.equal(
    await error(doc('egress:\n- action: Allow\n  source: {services: {name: a, namespace: b}}\n  destination: {services: {name: kubernetes}, ports: [443]}')),
    many(
      "Destination.Ports = '[443]' (rules with numeric port or port range must set protocol to TCP or UDP or SCTP)",
      "Destination.Ports = '[443]' (cannot specify ports with a service selector)",
      "Services = '&{a b}' (not allowed in egress rule source)",
      "Namespace = '' (must specify a namespace)",
      'spec.egress[0] (ports and notPorts cannot be specified with services)',
    ),
  );
});

test('services cannot be combined with other entity matches', async () => {
  assert.equal(
    await error(ingress('{action: Allow, source: {services: {namespace: ns}, selector: a == "b", nets: [10.0.0.0/8], serviceAccounts: {names: [x]}}}')),
    many(
      "Services field = '&{ ns}' (must specify a service name)",
      "Services field = '&{ ns}' (cannot specify Selector/NotSelector and Services on the same rule)",
      "Services field = '&{ ns}' (cannot specify ServiceAccounts and Services on the same rule)",
      "Services field = '&{ ns}' (cannot specify Nets/NotNets and Services on the same rule)",
    ),
  );
});

test('global() is only for an EntityRule namespaceSelector, and only alone there', async () => {
  assert.equal(
    await error(doc('selector: global()\nnamespaceSelector: global()\ningress:\n- action: Allow\n  source: {selector: global(), namespaceSelector: "global() && a == \'b\'"}')),
    many(
      "Selector field = 'global()' (global() can only be used in an EntityRule namespaceSelector)",
      "NamespaceSelector field = 'global() && a == 'b'' (global() cannot be combined with other selectors)",
      "GlobalNetworkPolicySpec.Selector = 'global()' (global() can only be used in an EntityRule namespaceSelector)",
      // Go reports the policy's Selector as the value here.
      "GlobalNetworkPolicySpec.NamespaceSelector = 'global()' (global() can only be used in an EntityRule namespaceSelector)",
    ),
  );
  await stored(ingress('{action: Allow, source: {namespaceSelector: "  global()  "}}'));
});

test('ICMP: code needs a type, fields need protocol ICMP, ip version must match', async () => {
  assert.equal(
    await error(ingress('{action: Allow, protocol: 1, ipVersion: 6, icmp: {code: 3}}')),
    many(
      'Code (ICMP code specified without an ICMP type)',
      'ICMP (rules that specify ICMP fields must set protocol to ICMP)',
      'spec.ingress[0].icmp (ICMP code specified without an ICMP type)',
    ),
  );
  assert.equal(await error(ingress('{action: Allow, protocol: ICMP, ipVersion: 6}')), one("IPVersion = '<nil>' (must set ipversion to '4' with protocol icmp)"));
  assert.equal(
    await error(ingress('{action: Allow, protocol: ICMPv6, icmp: {type: 1, code: 256}}')),
    many(tagFail('Code', '256', 'lte'), openapi('spec.ingress[0].icmp.code', 'should be less than or equal to 255')),
  );
});

test('ICMP type above 254 also fails the CRD maximum', async () => {
  assert.equal(
    await error(ingress('{action: Allow, protocol: ICMP, icmp: {type: 300}}')),
    many(tagFail('Type', '300', 'lte'), openapi('spec.ingress[0].icmp.type', 'should be less than or equal to 254')),
  );
});

test('ports: named ports need no protocol, numeric ones need TCP/UDP/SCTP', async () => {
  await stored(ingress('{action: Allow, destination: {ports: [http, metrics]}}'));
  assert.equal(
    await error(ingress('{action: Allow, protocol: ICMP, source: {notPorts: [http]}, destination: {ports: [80, "1:2"]}}')),
    many(
      "Source.NotPorts = '[http]' (rules that specify ports must set protocol to TCP or UDP or SCTP)",
      "Destination.Ports = '[80 1:2]' (rules that specify ports must set protocol to TCP or UDP or SCTP)",
    ),
  );
  assert.equal(
    await error(ingress('{action: Allow, protocol: TCP, destination: {ports: [0, Web, very-long-port-name]}}')),
    many(
      "Port = '0' (port range invalid, port number must be between 1 and 65535)",
      tagFail('PortName', 'Web', 'portName'),
      tagFail('PortName', 'very-long-port-name', 'portName'),
    ),
  );
});

test('port and protocol values Go cannot decode are refused', async () => {
  const cases: [string, RegExp][] = [
    ['{action: Allow, protocol: TCP, destination: {ports: ["99999"]}}', /invalid port format \(99999\)/],
    ['{action: Allow, protocol: TCP, destination: {ports: ["90:80"]}}', /minimum port number \(90\) is greater than maximum port number \(80\) in port range/],
    ['{action: Allow, protocol: TCP, destination: {ports: ["1:70000"]}}', /invalid maximum port number in range \(1:70000\)/],
    ['{action: Allow, protocol: TCP, destination: {ports: ["a b"]}}', /invalid name for named port \(a b\)/],
    ['{action: Allow, protocol: TCP, destination: {ports: [70000]}}', /json: cannot unmarshal number 70000 into Go struct field EntityRule\.spec\.ingress\.destination\.ports of type uint16/],
    ['{action: Allow, protocol: 256}', /json: cannot unmarshal number 256 into Go struct field Rule\.spec\.ingress\.protocol of type uint8/],
    ['{action: Allow, protocol: true}', /^error unmarshaling JSON: while decoding JSON: json: cannot unmarshal bool into Go struct field Rule\.spec\.ingress\.protocol of type uint8$/],
  ];
  for (const [rule, want] of cases) assert.match(await error(ingress(rule)), want, rule);
});

test('port decode errors are file errors, as calicoctl reports them', async () => {
  assert.equal(await error(ingress('{action: Allow, protocol: TCP, destination: {ports: ["99999"]}}')), 'error unmarshaling JSON: while decoding JSON: invalid port format (99999)');
  assert.equal(
    await error(ingress('{action: Allow, protocol: 256}')),
    'error unmarshaling JSON: while decoding JSON: json: cannot unmarshal number 256 into Go struct field Rule.spec.ingress.protocol of type uint8',
  );
});

test('protocol names are case-sensitive; 0 is not a protocol', async () => {
  assert.equal(await error(ingress('{action: Allow, protocol: tcp}')), one("Protocol = 'tcp' (protocol name invalid)"));
  assert.equal(await error(ingress('{action: Allow, notProtocol: 0}')), one("Protocol = '0' (protocol number invalid)"));
});

test('HTTP matches: Allow only, TCP only (as a name for Go, 6 also for the CRD), not in egress', async () => {
  assert.equal(
    await error(ingress('{action: Deny, protocol: 6, http: {methods: [GET, GET], paths: [{exact: /a, prefix: /b}]}}')),
    many(
      "Methods = '[GET GET]' (Invalid methods (duplicates): [GET GET])",
      "Paths = '[{/a /b}]' (Invalid path match. Both 'exact' and 'prefix' are set)",
      "Protocol = '6' (rules that specify HTTP fields must set protocol to TCP or empty)",
      "HTTP = '&{[GET GET] [{/a /b}]}' (only valid for Allow rules)",
      'spec.ingress[0] (HTTP match is only valid on Allow rules)',
    ),
  );
  assert.equal(
    await error(ingress('{action: Allow, http: {paths: [{prefix: "/a?b"}]}}')),
    one("Paths = '[{ /a?b}]' (Invalid path /a?b. (must start with `/` and not contain `?` or `#`)"),
  );
});

test('nets: real CIDRs, one IP family, no catch-all in a negation, matching ipVersion', async () => {
  assert.equal(
    await error(ingress('{action: Allow, ipVersion: 6, source: {nets: [10.0.0.1, 10.0.0.0/8], notNets: ["::/0"]}, destination: {nets: ["10.0.0.1/8"]}}')),
    many(
      tagFail('Nets[0]', '10.0.0.1/8', 'net'),
      "Source.Nets = '10.0.0.1' (invalid CIDR)",
      "Source.Nets = '[10.0.0.1 10.0.0.0/8]' (rule IP version doesn't match CIDR version)",
      "Source.NotNets = '::/0' (catch-all CIDR in negation creates logical contradiction (matches no traffic))",
      "Source.NotNets = '[::/0]' (rule contains both IPv4 and IPv6 CIDRs)",
      "Destination.Nets = '[10.0.0.1 10.0.0.0/8]' (rule IP version doesn't match CIDR version)",
      "Destination.Nets = '[10.0.0.1/8]' (rule contains both IPv4 and IPv6 CIDRs)",
    ),
  );
});

test('action is required: the action tag and the CRD enum both fail', async () => {
  assert.equal(
    await error(ingress('{protocol: TCP}')),
    many(tagFail('Action', '', 'action'), 'spec.ingress[0].action (supported values: "Allow", "Deny", "Log", "Pass")'),
  );
});

test('ipVersion must be 4 or 6', async () => {
  assert.match(await error(ingress('{action: Allow, ipVersion: 5}')), new RegExp(escape(tagFail('IPVersion', '5', 'ipVersion'))));
});

test('ipVersion 5 also fails the CRD enum', async () => {
  assert.equal(await error(ingress('{action: Allow, ipVersion: 5}')), many(tagFail('IPVersion', '5', 'ipVersion'), 'spec.ingress[0].ipVersion (supported values: "4", "6")'));
});

test('types: each Ingress or Egress, no repeats, at most two', async () => {
  assert.equal(
    await error(doc('types: [Ingress, Ingress, Sideways]')),
    many(
      tagFail('Types[2]', 'Sideways', 'policyType'),
      "GlobalNetworkPolicySpec.Types = '[Ingress Ingress Sideways]' ('Ingress' type specified more than once)",
      // kube-openapi's slice validator checks the items before maxItems.
      'spec.types[2] (supported values: "Ingress", "Egress")',
      'spec.types (must have at most 2 items)',
    ),
  );
});

test('performanceHints: unique, and only AssumeNeededOnEveryNode', async () => {
  assert.equal(
    await error(doc('performanceHints: [Fast]')),
    many(tagFail('PerformanceHints[0]', 'Fast', 'oneof'), 'spec.performanceHints[0] (supported values: "AssumeNeededOnEveryNode")'),
  );
  assert.equal(
    await error(doc('performanceHints: [AssumeNeededOnEveryNode, AssumeNeededOnEveryNode]')),
    one(tagFail('PerformanceHints', '[AssumeNeededOnEveryNode AssumeNeededOnEveryNode]', 'unique')),
  );
});

test('rule metadata annotations follow the annotation key rules', async () => {
  assert.match(
    await error(ingress('{action: Allow, metadata: {annotations: {"bad key!": x}}}')),
    /^error with field Metadata\.Annotations \(key\) = 'bad key!' \(name part must consist of alphanumeric characters/,
  );
});

test('selectors are parsed', async () => {
  assert.match(await error(doc('selector: "a ==="')), /^error with field Selector = 'a ===' \(Reason: failed to validate Field: Selector because of Tag: selector - /);
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
