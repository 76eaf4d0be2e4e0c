import { test } from 'node:test';
import assert from 'node:assert/strict';
import { check, stored, error, one, many, tagFail, openapi } from '../testing/harness.js';
import type { Resource } from '../meta.js';

const doc = (spec: string, name = 'f1') =>
  `apiVersion: projectcalico.org/v3\nkind: BGPFilter\nmetadata:\n  name: ${name}\nspec:\n${spec.replace(/^/gm, '  ')}\n`;
/** One exportV4 rule given as YAML mapping lines. */
const v4 = (rule: string) => doc(`exportV4:\n- ${rule.replace(/\n/g, '\n  ')}`);


test('a full filter prints every rule field in Go declaration order', async () => {
  const v = await stored(
    doc(`importV6:
- action: Reject
  cidr: fd00::/8
  matchOperator: NotIn
exportV4:
- operations:
  - setPriority: {value: 512}
  - prependASPath: {prefix: ["1.10", 65000]}
  - addCommunity: {value: "65000:100"}
  action: Accept
  priority: 1024
  asPathPrefix: [65001, "1.1"]
  communities: {values: ["4200000000:1:2"]}
  peerType: eBGP
  matchOperator: In
  interface: "eth*"
  source: RemotePeers
  prefixLength: {max: 28, min: 24}
  cidr: 10.0.0.0/8`),
  );
  assert.equal(
    JSON.stringify(v.spec),
    '{"exportV4":[{"cidr":"10.0.0.0/8","prefixLength":{"min":24,"max":28},"source":"RemotePeers","interface":"eth*","matchOperator":"In",' +
      '"peerType":"eBGP","communities":{"values":["4200000000:1:2"]},"asPathPrefix":[65001,65537],"priority":1024,"action":"Accept",' +
      '"operations":[{"setPriority":{"value":512}},{"prependASPath":{"prefix":[65546,65000]}},{"addCommunity":{"value":"65000:100"}}]}],' +
      '"importV6":[{"cidr":"fd00::/8","matchOperator":"NotIn","action":"Reject"}]}',
  );
});

test('a bare rule keeps only its action; empty lists and operations are dropped', async () => {
  const v = await stored(doc('exportV4:\n- action: Reject\n  operations: []\nimportV4: []'));
  assert.equal(JSON.stringify(v), '{"kind":"BGPFilter","apiVersion":"projectcalico.org/v3","metadata":{"name":"f1","creationTimestamp":null},"spec":{"exportV4":[{"action":"Reject"}]}}');
});

test('unknown fields are refused at any depth', async () => {
  assert.equal(await error(v4('action: Accept\nnextHop: self')), 'error unmarshaling JSON: while decoding JSON: json: unknown field "nextHop"');
  assert.equal(await error(v4('action: Accept\noperations:\n- setMed: {value: 1}')), 'error unmarshaling JSON: while decoding JSON: json: unknown field "setMed"');
});

test('the action is required and must be Accept or Reject (tag, then CRD enum)', async () => {
  assert.equal(await error(v4('source: RemotePeers')), many(tagFail('Action', '', 'required'), 'spec.exportV4[0].action (supported values: "Accept", "Reject")'));
  assert.equal(await error(v4('action: Allow')), many(tagFail('Action', 'Allow', 'filterAction'), 'spec.exportV4[0].action (supported values: "Accept", "Reject")'));
});

test('a CIDR needs a matchOperator: validator wording, then the CEL rule', async () => {
  assert.equal(
    await error(v4('action: Accept\ncidr: 10.0.0.0/8')),
    many("CIDR = '10.0.0.0/8' (MatchOperator cannot be empty when CIDR is not)", 'spec.exportV4[0] (cidr and matchOperator must both be set or both be empty)'),
  );
});

test('a matchOperator needs a CIDR', async () => {
  assert.equal(
    await error(doc('importV6:\n- action: Accept\n  matchOperator: Equal')),
    many("MatchOperator = 'Equal' (CIDR cannot be empty when MatchOperator is not)", 'spec.importV6[0] (cidr and matchOperator must both be set or both be empty)'),
  );
});

test('a prefixLength needs a CIDR; Go prints an empty one as {<nil> <nil>}', async () => {
  assert.equal(
    await error(v4('action: Accept\nprefixLength: {}')),
    many("PrefixLength = '{<nil> <nil>}' (CIDR cannot be empty when PrefixLength is not)", 'spec.exportV4[0] (cidr is required when prefixLength is set)'),
  );
  // With a value set Go would print pointer addresses; the value is left out.
  assert.equal(
    await error(v4('action: Accept\nprefixLength: {min: 16}')),
    many('PrefixLength (CIDR cannot be empty when PrefixLength is not)', 'spec.exportV4[0] (cidr is required when prefixLength is set)'),
  );
});

test('rule CIDRs must be strictly masked networks of the rule family', async () => {
  assert.equal(await error(v4('action: Accept\ncidr: 10.0.0.1/8\nmatchOperator: In')), one(tagFail('CIDR', '10.0.0.1/8', 'netv4')));
  assert.equal(await error(v4('action: Accept\ncidr: fd00::/8\nmatchOperator: In')), one(tagFail('CIDR', 'fd00::/8', 'netv4')));
  assert.equal(await error(doc('exportV6:\n- action: Accept\n  cidr: 10.0.0.0/8\n  matchOperator: In')), one(tagFail('CIDR', '10.0.0.0/8', 'netv6')));
});

test('a bare IP passes netv4 (a /32 to the validator) but fails the CRD cidr format', async () => {
  assert.equal(
    await error(v4('action: Accept\ncidr: 10.1.2.3\nmatchOperator: Equal')),
    one('spec.exportV4[0].cidr (spec.exportV4[0].cidr in body must be of type cidr: "10.1.2.3")'),
  );
});

test('a v4 rule CIDR longer than 18 bytes also breaks the CRD maxLength', async () => {
  assert.equal(
    await error(v4('action: Accept\ncidr: "010.000.000.000/008"\nmatchOperator: In')),
    many(tagFail('CIDR', '010.000.000.000/008', 'netv4'), 'spec.exportV4[0].cidr (may not be more than 18 bytes)'),
  );
});

test('prefix lengths beyond the family fail the regex tag and the CRD range', async () => {
  assert.equal(
    await error(v4('action: Accept\ncidr: 10.0.0.0/8\nmatchOperator: In\nprefixLength: {min: 33, max: -1}')),
    many(
      tagFail('Min', '33', 'bgpFilterPrefixLengthV4'),
      tagFail('Max', '-1', 'bgpFilterPrefixLengthV4'),
      openapi('spec.exportV4[0].prefixLength.min', 'should be less than or equal to 32'),
      openapi('spec.exportV4[0].prefixLength.max', 'should be greater than or equal to 0'),
    ),
  );
});

test('prefix lengths: the tags fire for each family', async () => {
  const e4 = await error(v4('action: Accept\ncidr: 10.0.0.0/8\nmatchOperator: In\nprefixLength: {min: 33, max: -1}'));
  assert.ok(e4.startsWith(`error with the following fields:\n-  ${tagFail('Min', '33', 'bgpFilterPrefixLengthV4')}\n-  ${tagFail('Max', '-1', 'bgpFilterPrefixLengthV4')}\n`), e4);
  const e6 = await error(doc('exportV6:\n- action: Accept\n  cidr: fd00::/8\n  matchOperator: In\n  prefixLength: {max: 129}'));
  assert.ok(e6.startsWith(`error with the following fields:\n-  ${tagFail('Max', '129', 'bgpFilterPrefixLengthV6')}\n`), e6);
  await stored(doc('exportV6:\n- action: Accept\n  cidr: fd00::/8\n  matchOperator: In\n  prefixLength: {min: 0, max: 128}'));
});

test('source, peerType and matchOperator: oneof / matchOperator tags, then the CRD enums', async () => {
  assert.equal(
    await error(v4('action: Accept\ncidr: 10.0.0.0/8\nmatchOperator: Contains\nsource: Local\npeerType: ebgp')),
    many(
      tagFail('Source', 'Local', 'oneof'),
      tagFail('MatchOperator', 'Contains', 'matchOperator'),
      tagFail('PeerType', 'ebgp', 'oneof'),
      'spec.exportV4[0].source (supported values: "RemotePeers")',
      'spec.exportV4[0].matchOperator (supported values: "Equal", "NotEqual", "In", "NotIn")',
      'spec.exportV4[0].peerType (supported values: "eBGP", "iBGP")',
    ),
  );
});

test('interface patterns: * and globs are fine, other characters are not', async () => {
  await stored(v4('action: Accept\ninterface: "*"'));
  await stored(v4('action: Accept\ninterface: "cali*"'));
  assert.equal(await error(v4('action: Accept\ninterface: "eth 0"')), one(tagFail('Interface', 'eth 0', 'bgpFilterInterface')));
  assert.equal(await error(v4('action: Accept\ninterface: "a-very-long-interface"')), one(tagFail('Interface', 'a-very-long-interface', 'bgpFilterInterface')));
});

test('a communities match needs its values', async () => {
  const e = await error(v4('action: Accept\ncommunities: {}'));
  assert.ok(e.startsWith(one(tagFail('Values', '[]', 'required'))) || e.includes(`-  ${tagFail('Values', '[]', 'required')}\n`), e);
});

test('a communities match with a null values list also fails the OpenAPI type check', async () => {
  assert.equal(
    await error(v4('action: Accept\ncommunities: {}')),
    many(tagFail('Values', '[]', 'required'), 'spec.exportV4[0].communities.values (spec.exportV4[0].communities.values in body must be of type array: "null")'),
  );
});

test('community match values: exactly one, in aa:nn or aa:nn:mm form', async () => {
  assert.equal(
    await error(v4('action: Accept\ncommunities: {values: ["1:2", "3:4"]}')),
    one('spec.exportV4[0].communities.values (must have at most 1 item)'),
  );
  assert.equal(
    await error(v4('action: Accept\ncommunities: {values: ["70000:1"]}')),
    one(openapi('spec.exportV4[0].communities.values[0]', "should match '^(([0-9]|[1-9][0-9]{1,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]):([0-9]|[1-9][0-9]{1,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])|([0-9]|[1-9][0-9]{1,8}|[1-3][0-9]{9}|4[0-1][0-9]{8}|42[0-8][0-9]{7}|429[0-3][0-9]{6}|4294[0-8][0-9]{5}|42949[0-5][0-9]{4}|429496[0-6][0-9]{3}|4294967[0-1][0-9]{2}|42949672[0-8][0-9]|429496729[0-5]):([0-9]|[1-9][0-9]{1,8}|[1-3][0-9]{9}|4[0-1][0-9]{8}|42[0-8][0-9]{7}|429[0-3][0-9]{6}|4294[0-8][0-9]{5}|42949[0-5][0-9]{4}|429496[0-6][0-9]{3}|4294967[0-1][0-9]{2}|42949672[0-8][0-9]|429496729[0-5]):([0-9]|[1-9][0-9]{1,8}|[1-3][0-9]{9}|4[0-1][0-9]{8}|42[0-8][0-9]{7}|429[0-3][0-9]{6}|4294[0-8][0-9]{5}|42949[0-5][0-9]{4}|429496[0-6][0-9]{3}|4294967[0-1][0-9]{2}|42949672[0-8][0-9]|429496729[0-5]))$'")),
  );
});

test('community match values: the CRD refuses bad values (any wording)', async () => {
  assert.match(await error(v4('action: Accept\ncommunities: {values: ["1:2", "3:4"]}')), /^error with field spec\.exportV4\[0\]\.communities\.values \(.*at most 1 item/);
  assert.match(await error(v4('action: Accept\ncommunities: {values: ["70000:1"]}')), /^error with field spec\.exportV4\[0\]\.communities\.values\[0\] \(.*should match/);
  assert.match(await error(v4('action: Accept\ncommunities: {values: []}')), /^error with field spec\.exportV4\[0\]\.communities\.values \(.*at least 1 item/);
  await stored(v4('action: Accept\ncommunities: {values: ["65535:65535"]}'));
});

test('priority: 1..2147483646 (tag)', async () => {
  const e = await error(v4('action: Accept\npriority: 0'));
  assert.ok(e.startsWith(`error with the following fields:\n-  ${tagFail('Priority', '0', 'gte')}\n-  spec.exportV4[0].priority (`), e);
});

test('operations may only be used with Accept (CEL only)', async () => {
  assert.equal(await error(v4('action: Reject\noperations:\n- setPriority: {value: 10}')), one('spec.exportV4[0] (operations may only be used with action Accept)'));
});

test('each operation sets exactly one thing', async () => {
  assert.equal(
    await error(v4('action: Accept\noperations:\n- {}')),
    many("BGPFilterOperation = '{<nil> <nil> <nil>}' (exactly one operation must be set)", openapi('spec.exportV4[0].operations[0]', 'should have at least 1 properties')),
  );
  assert.equal(
    await error(v4('action: Accept\noperations:\n- {setPriority: {value: 1}, addCommunity: {value: "1:1"}}')),
    many('BGPFilterOperation (exactly one operation must be set)', 'spec.exportV4[0].operations[0] (must have at most 1 item)'),
  );
});

test('each operation sets exactly one thing (validator wording)', async () => {
  const none = await error(v4('action: Accept\noperations:\n- {}'));
  assert.ok(none.includes("BGPFilterOperation = '{<nil> <nil> <nil>}' (exactly one operation must be set)"), none);
  const two = await error(v4('action: Accept\noperations:\n- {setPriority: {value: 1}, addCommunity: {value: "1:1"}}'));
  assert.ok(two.includes('BGPFilterOperation (exactly one operation must be set)'), two);
});

test('operation payloads are required; setPriority is range-checked', async () => {
  const e = await error(v4('action: Accept\noperations:\n- addCommunity: {}\n- prependASPath: {}\n- setPriority: {}'));
  assert.ok(
    e.startsWith(`error with the following fields:\n-  ${tagFail('Value', '<nil>', 'required')}\n-  ${tagFail('Prefix', '[]', 'required')}\n-  ${tagFail('Value', '<nil>', 'required')}\n`),
    e,
  );
  const p = await error(v4('action: Accept\noperations:\n- setPriority: {value: 0}'));
  assert.ok(p.startsWith(`error with the following fields:\n-  ${tagFail('Value', '0', 'gte')}\n-  spec.exportV4[0].operations[0].setPriority.value (`), p);
});

test('an AS path prepend takes 1 to 10 AS numbers', async () => {
  assert.match(await error(v4('action: Accept\noperations:\n- prependASPath: {prefix: [1,2,3,4,5,6,7,8,9,10,11]}')), /^error with field spec\.exportV4\[0\]\.operations\[0\]\.prependASPath\.prefix \(must have at most 10 items\)$/);
});

test('struct errors follow rule order: exportV4, importV4, exportV6, importV6; each rule fields, operations, then its own checks', async () => {
  assert.equal(
    await error(
      doc(`importV6:
- action: Accept
  matchOperator: In
exportV6:
- action: Accept
  cidr: 10.0.0.0/8
  matchOperator: In
importV4:
- action: Accept
  cidr: 10.0.0.0/8
  operations:
  - {}
exportV4:
- action: Accept
  interface: "!"`),
    ).then((e) => e.split('\n').filter((l) => !l.startsWith('-  spec.')).join('\n')),
    [
      'error with the following fields:',
      `-  ${tagFail('Interface', '!', 'bgpFilterInterface')}`,
      "-  BGPFilterOperation = '{<nil> <nil> <nil>}' (exactly one operation must be set)",
      "-  CIDR = '10.0.0.0/8' (MatchOperator cannot be empty when CIDR is not)",
      `-  ${tagFail('CIDR', '10.0.0.0/8', 'netv6')}`,
      "-  MatchOperator = 'In' (CIDR cannot be empty when MatchOperator is not)",
      '',
    ].join('\n'),
  );
});
