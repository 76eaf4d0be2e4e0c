import { test } from 'node:test';
import assert from 'node:assert/strict';
import { check, stored, error, one, many, tagFail } from '../testing/harness.js';
import type { Resource } from '../meta.js';

/** A NetworkPolicy document in namespace `prod`; `spec` is YAML indented under `spec:`. */
const doc = (spec: string, name = 'allow-frontend') =>
  `apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata:\n  name: ${name}\n  namespace: prod\nspec:\n${spec.replace(/^/gm, '  ')}\n`;


test('a full namespaced policy is stored in Go field order with its defaults', async () => {
  const v = await stored(
    doc(`serviceAccountSelector: role == 'api'
performanceHints: [AssumeNeededOnEveryNode]
egress:
- action: Allow
  destination:
    services: {name: backend}
- action: Allow
  protocol: UDP
  destination:
    namespaceSelector: projectcalico.org/name == 'kube-system'
    selector: k8s-app == 'kube-dns'
    ports: ["53"]
ingress:
- action: Allow
  protocol: TCP
  source:
    selector: app == 'frontend'
    namespaceSelector: all()
  destination:
    ports: [8080, "9000:9100"]
- action: Deny
  source:
    services: {name: legacy, namespace: other}
selector: app == 'api'
order: 10`),
  );
  assert.equal(
    JSON.stringify(v),
    '{"kind":"NetworkPolicy","apiVersion":"projectcalico.org/v3","metadata":{"name":"allow-frontend","namespace":"prod","creationTimestamp":null,' +
      '"labels":{"projectcalico.org/tier":"default"}},' +
      '"spec":{"tier":"default","order":10,"ingress":[' +
      '{"action":"Allow","protocol":"TCP","source":{"selector":"app == \'frontend\'","namespaceSelector":"all()"},"destination":{"ports":[8080,"9000:9100"]}},' +
      '{"action":"Deny","source":{"services":{"name":"legacy","namespace":"other"}}}],' +
      '"egress":[{"action":"Allow","destination":{"services":{"name":"backend"}}},' +
      '{"action":"Allow","protocol":"UDP","destination":{"selector":"k8s-app == \'kube-dns\'","namespaceSelector":"projectcalico.org/name == \'kube-system\'","ports":[53]}}],' +
      '"selector":"app == \'api\'","types":["Ingress","Egress"],"serviceAccountSelector":"role == \'api\'","performanceHints":["AssumeNeededOnEveryNode"]}}',
  );
});

test('an empty policy applies to ingress in the default tier', async () => {
  const v = await stored(doc('{}'));
  assert.equal(JSON.stringify(v.spec), '{"tier":"default","types":["Ingress"]}');
  assert.deepEqual(v.metadata.labels, { 'projectcalico.org/tier': 'default' });
});

test('GlobalNetworkPolicy-only fields are unknown here', async () => {
  assert.equal(await error(doc('doNotTrack: true')), 'error unmarshaling JSON: while decoding JSON: json: unknown field "doNotTrack"');
  assert.equal(await error(doc('namespaceSelector: all()')), 'error unmarshaling JSON: while decoding JSON: json: unknown field "namespaceSelector"');
});

test('names: a label, label.label, or knp.default./ossg.default. plus a subdomain', async () => {
  await stored(doc('{}', 'knp.default.allow-dns.v2'));
  await stored(doc('{}', 'ossg.default.group-1'));
  await stored(doc('{}', 'default.allow-frontend'));
  assert.equal(
    await error(doc('{}', 'a.b.c')),
    one("Metadata.Name = 'a.b.c' (name must consist of lower case alphanumeric characters or '-' (regex: [a-z0-9]([-a-z0-9]*[a-z0-9])?))"),
  );
});

test('a bad label is reported by both Go validators that check labels', async () => {
  const y = `apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata:\n  name: p\n  namespace: prod\n  labels: {app: "-bad"}\nspec: {}\n`;
  const reason =
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
  assert.equal(await error(y), many(`Metadata.Labels (value) = '-bad' (${reason})`, `Metadata.Labels (value) = '-bad' (${reason})`));
});

test('services: egress destination and ingress source only; no namespace needed', async () => {
  assert.equal(
    await error(doc('ingress:\n- action: Allow\n  destination: {services: {name: a}}\negress:\n- action: Allow\n  source: {services: {name: b}}')),
    many("Services = '&{b }' (not allowed in egress rule source)", "Services = '&{a }' (not allowed in ingress rule destination)"),
  );
});

test('HTTP matches are not allowed in egress rules', async () => {
  assert.equal(
    await error(doc('egress:\n- action: Allow\n  http: {methods: [GET]}')),
    one("HTTP = '&{[GET] []}' (not allowed in egress rule)"),
  );
});

test('global() is refused in the policy selectors', async () => {
  assert.equal(
    await error(doc('selector: global()\nserviceAccountSelector: global()')),
    many(
      "NetworkPolicySpec.Selector = 'global()' (global() can only be used in an EntityRule namespaceSelector)",
      "NetworkPolicySpec.ServiceAccountSelector = 'global()' (global() can only be used in an EntityRule namespaceSelector)",
    ),
  );
});

test('types repeated, and a tier that is not a name', async () => {
  assert.equal(
    await error(doc('tier: Net_Ops\ntypes: [Egress, Egress]')),
    many(tagFail('Tier', 'Net_Ops', 'name'), "NetworkPolicySpec.Types = '[Egress Egress]' ('Egress' type specified more than once)"),
  );
});

test('rules are validated as in global policies', async () => {
  assert.equal(
    await error(doc('ingress:\n- action: Allow\n  protocol: SCTP\n  icmp: {type: 8}\n  source: {ports: [http, 22]}')),
    one('ICMP (rules that specify ICMP fields must set protocol to ICMP)'),
  );
  assert.equal(
    await error(doc('ingress:\n- action: Allow\n  source: {ports: [http, 22]}')),
    one("Source.Ports = '[http 22]' (rules with numeric port or port range must set protocol to TCP or UDP or SCTP)"),
  );
});
