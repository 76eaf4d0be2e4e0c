/**
 * The go-playground tag predicates of libcalico-go v3.32 validator.go and the way convertError /
 * extractReason word their failures, rendered by libcalico-go errors.go ErrorValidation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '../errors.js';
import {
  NAME_LABEL_FMT,
  NAME_SUBDOMAIN_FMT,
  Report,
  isCIDROrIP,
  isIP,
  isIPPort,
  isIPv4,
  isIPv6,
  isIgnoredInterface,
  isInterfaceName,
  isLogLevel,
  isMaskedNet,
  isName,
  selectorProblem,
} from './checks.js';

test('name formats are validator.go\'s nameLabelFmt / nameSubdomainFmt', () => {
  assert.equal(NAME_LABEL_FMT, '[a-z0-9]([-a-z0-9]*[a-z0-9])?');
  assert.equal(NAME_SUBDOMAIN_FMT, '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*');
});

test('name tag: a DNS-1123 subdomain, with no length limit of its own', () => {
  for (const s of ['a', 'node1', 'a.b', 'a-b.c-d', '1', 'x'.repeat(300)]) assert.equal(isName(s), true, s);
  for (const s of ['', 'A', 'node 2', '-a', 'a-', 'a..b', '.a', 'a.', 'a_b']) assert.equal(isName(s), false, s);
});

test('interface tag ^[a-zA-Z0-9_.-]{1,15}$; ignoredInterface also allows * but not a lone *', () => {
  assert.equal(isInterfaceName('eth0'), true);
  assert.equal(isInterfaceName('wibblywobblyeth'), true); // 15
  assert.equal(isInterfaceName('wibblywobblyeth0'), false); // 16 (st hostEndpoint-invalidInterface)
  assert.equal(isInterfaceName('eth*'), false);
  assert.equal(isInterfaceName(''), false);
  assert.equal(isIgnoredInterface('veth*'), true);
  assert.equal(isIgnoredInterface('*'), false);
  assert.equal(isIgnoredInterface('a b'), false);
});

test('logLevel tag is case-sensitive', () => {
  for (const s of ['Trace', 'Debug', 'Info', 'Warning', 'Error', 'Fatal']) assert.equal(isLogLevel(s), true, s);
  for (const s of ['info', 'Warn', 'Panic', '']) assert.equal(isLogLevel(s), false, s);
});

test('IP predicates follow net.ParseIP and To4()', () => {
  assert.deepEqual([isIP('1.2.3.4'), isIPv4('1.2.3.4'), isIPv6('1.2.3.4')], [true, true, false]);
  assert.deepEqual([isIP('2001:db8::1'), isIPv4('2001:db8::1'), isIPv6('2001:db8::1')], [true, false, true]);
  // An IPv4-mapped IPv6 address has a 4-byte form: ipv4, not ipv6.
  assert.deepEqual([isIP('::ffff:1.2.3.4'), isIPv4('::ffff:1.2.3.4'), isIPv6('::ffff:1.2.3.4')], [true, true, false]);
  // Leading zeros (Go >= 1.17), zones, CIDRs are not IPs.
  for (const s of ['01.2.3.4', 'fe80::1%eth0', '1.2.3.4/32', '1.2.3.256', '', 'localhost']) assert.equal(isIP(s), false, s);
});

test('cidr tag: a CIDR (host bits allowed) or a bare IP', () => {
  for (const s of ['10.0.0.0/8', '10.0.0.1/8', '1.2.3.4', 'fd00::/64', 'fd00::1/64', '::1']) assert.equal(isCIDROrIP(s), true, s);
  for (const s of ['10.0.0.0/33', '10.0.0.0/', 'x', '10.0.0.0/8/8']) assert.equal(isCIDROrIP(s), false, s);
});

test('net tag: correctly masked, a bare IP counts as fully masked', () => {
  for (const s of ['10.0.0.0/8', '1.2.3.4', '1.2.3.4/32', 'fd00::/64', '::/0']) assert.equal(isMaskedNet(s), true, s);
  for (const s of ['10.0.0.1/8', 'fd00::1/64', 'x']) assert.equal(isMaskedNet(s), false, s);
});

test('IP:port tag (processIPPort)', () => {
  for (const s of ['1.2.3.4', '1.2.3.4:179', '[2001:db8::1]:179', '2001:db8::1', '[1.2.3.4]:179']) assert.equal(isIPPort(s), true, s);
  for (const s of ['', '1.2.3.4:0', '1.2.3.4:65536', '[2001:db8::1]', '[::1]:', 'a:1']) assert.equal(isIPPort(s), false, s);
});

test('selectorProblem: undefined for a valid selector, a message otherwise', () => {
  assert.equal(selectorProblem("has(a) && b == 'c'"), undefined);
  assert.equal(selectorProblem('all()'), undefined);
  assert.equal(selectorProblem('global()'), undefined);
  assert.equal(typeof selectorProblem('a =='), 'string');
});

test('Report.tag: extractReason\'s generic text (with its trailing space)', () => {
  const rep = new Report();
  rep.tag('PeerIP', 'badpeerIP', 'IP:port');
  assert.equal(new ValidationError(rep.fields).message, "error with field PeerIP = 'badpeerIP' (Reason: failed to validate Field: PeerIP because of Tag: IP:port )");
});

test('Report.tag with a detail: Calico\'s text, then "- <detail>"', () => {
  const rep = new Report();
  rep.tag('NodeSelector', 'a ==', 'selector', 'unexpected end');
  assert.deepEqual(rep.fields, [
    { name: 'NodeSelector', value: 'a ==', reason: 'Reason: failed to validate Field: NodeSelector because of Tag: selector - unexpected end' },
  ]);
});

test('Report.field: value omitted when undefined (Go nil), printed with %v otherwise', () => {
  const rep = new Report();
  rep.field('IPPool.Spec.CIDR', undefined, 'IPPool CIDR must be specified');
  rep.field('IPpool.AllowedUses', ['LoadBalancer', 'Workload'], 'LoadBalancer cannot be used at the same time as: Workload');
  rep.field('ASNumber', 0, 'ASNumber field must NOT be empty when LocalWorkloadSelector is specified');
  rep.field('PeerSelector', '', 'PeerSelector field must be empty when LocalWorkloadSelector is specified');
  assert.equal(
    new ValidationError(rep.fields).message,
    'error with the following fields:\n' +
      '-  IPPool.Spec.CIDR (IPPool CIDR must be specified)\n' +
      "-  IPpool.AllowedUses = '[LoadBalancer Workload]' (LoadBalancer cannot be used at the same time as: Workload)\n" +
      "-  ASNumber = '0' (ASNumber field must NOT be empty when LocalWorkloadSelector is specified)\n" +
      "-  PeerSelector = '' (PeerSelector field must be empty when LocalWorkloadSelector is specified)\n",
  );
});

test('Report.selector: skips empty and non-strings; a bad selector is a selector tag failure with the parser reason', () => {
  const rep = new Report();
  rep.selector('NodeSelector', '');
  rep.selector('NodeSelector', undefined);
  rep.selector('NodeSelector', 'all()');
  assert.deepEqual(rep.fields, []);
  rep.selector('PeerSelector', 'a ==');
  const fields: readonly { name: string; value?: unknown; reason?: string }[] = rep.fields;
  assert.deepEqual(fields, [
    { name: 'PeerSelector', value: 'a ==', reason: `Reason: failed to validate Field: PeerSelector because of Tag: selector - ${selectorProblem('a ==')}` },
  ]);
});

test('Report.add keeps order', () => {
  const rep = new Report();
  rep.field('A', 'a', 'first');
  rep.add([{ name: 'spec', reason: 'second' }]);
  rep.tag('B', 'b', 'name');
  assert.deepEqual(
    rep.fields.map((f) => f.reason),
    ['first', 'second', 'Reason: failed to validate Field: B because of Tag: name '],
  );
});
