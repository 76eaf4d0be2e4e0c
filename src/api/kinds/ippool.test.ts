/**
 * IPPool, checked against Calico v3.32: clientv3/ippool.go validateAndSetDefaults (runs first,
 * collects its errors and returns them together, but returns early for a missing/unparsable CIDR
 * and for the LoadBalancer use change), then validator.go validateIPPoolSpec plus the CRD
 * (projectcalico.org_ippools.yaml: enums, assignmentMode default, four CEL rules), then the
 * block-size conflict check that Create (only) runs after validation.
 * Expected texts come from those sources and from calicoctl/tests/st/calicoctl/test_crud.py.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { check, stored, error, one, many, tagFail } from '../testing/harness.js';
import type { Resource } from '../meta.js';

const doc = (spec: string, name = 'pool1') =>
  `apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: ${name}\nspec:\n${spec.replace(/^/gm, '  ')}\n`;

const pool = (name: string, spec: Record<string, unknown>): Resource =>
  ({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name }, spec }) as Resource;

const TOO_SMALL = 'IP pool size is too small for use with Calico IPAM. It must be equal to or greater than the block size.';

// ---- stored form and defaults ----------------------------------------------------------------

test('a minimal IPv4 pool is stored with every clientv3 default, in Go field order', async () => {
  const v = await stored(doc('cidr: 10.0.0.0/8'));
  assert.equal(
    JSON.stringify(v),
    '{"kind":"IPPool","apiVersion":"projectcalico.org/v3","metadata":{"name":"pool1","creationTimestamp":null},' +
      '"spec":{"cidr":"10.0.0.0/8","vxlanMode":"Never","ipipMode":"Never","blockSize":26,"nodeSelector":"all()",' +
      '"allowedUses":["Workload","Tunnel"],"assignmentMode":"Automatic"}}',
  );
});

test('an IPv6 pool defaults blockSize to 122 and keeps the canonical (lower-case, compressed) CIDR', async () => {
  const v = await stored(doc('cidr: FD00:0:0:0::/64'));
  assert.deepEqual(v.spec, {
    cidr: 'fd00::/64',
    vxlanMode: 'Never',
    ipipMode: 'Never',
    blockSize: 122,
    nodeSelector: 'all()',
    allowedUses: ['Workload', 'Tunnel'],
    assignmentMode: 'Automatic',
  });
});

test('every spec field set: keys come out in IPPoolSpec declaration order whatever the file order', async () => {
  const v = await stored(
    doc(`assignmentMode: Manual
allowedUses: [Workload]
namespaceSelector: projectcalico.org/name == 'dev'
nodeSelector: zone == 'a'
blockSize: 24
disableBGPExport: true
disabled: true
natOutgoing: true
ipipMode: CrossSubnet
vxlanMode: Never
cidr: 192.168.0.0/16`),
  );
  assert.equal(
    JSON.stringify(v.spec),
    '{"cidr":"192.168.0.0/16","vxlanMode":"Never","ipipMode":"CrossSubnet","natOutgoing":true,"disabled":true,' +
      '"disableBGPExport":true,"blockSize":24,"nodeSelector":"zone == \'a\'","namespaceSelector":"projectcalico.org/name == \'dev\'",' +
      '"allowedUses":["Workload"],"assignmentMode":"Manual"}',
  );
});

test('false booleans are dropped by omitempty; an explicit all() selector is kept as written', async () => {
  const v = await stored(doc('cidr: 10.1.0.0/16\nnatOutgoing: false\ndisabled: false\nnodeSelector: all()'));
  assert.equal(
    JSON.stringify(v.spec),
    '{"cidr":"10.1.0.0/16","vxlanMode":"Never","ipipMode":"Never","blockSize":26,"nodeSelector":"all()","allowedUses":["Workload","Tunnel"],"assignmentMode":"Automatic"}',
  );
});

test('blockSize 0 and an empty allowedUses list are treated as unset and defaulted', async () => {
  const v = await stored(doc('cidr: 10.2.0.0/16\nblockSize: 0\nallowedUses: []'));
  assert.equal((v.spec as { blockSize: number }).blockSize, 26);
  assert.deepEqual((v.spec as { allowedUses: string[] }).allowedUses, ['Workload', 'Tunnel']);
});

test('a LoadBalancer pool is accepted with Never modes and the default node selector', async () => {
  const v = await stored(doc('cidr: 10.3.0.0/16\nallowedUses: [LoadBalancer]'));
  assert.deepEqual((v.spec as { allowedUses: string[] }).allowedUses, ['LoadBalancer']);
});

// ---- CIDR parsing (clientv3 returns early) ---------------------------------------------------

test('missing CIDR: reported without a value (ErroredField.Value nil)', async () => {
  assert.equal(await error(doc('natOutgoing: true')), one('IPPool.Spec.CIDR (IPPool CIDR must be specified)'));
});

test('st pool-invalidNet1/2/4: an unparsable CIDR is refused before anything else is looked at', async () => {
  assert.equal(await error(doc('ipipMode: Always\ncidr: 10.0.1.0/33')), one("IPPool.Spec.CIDR = '10.0.1.0/33' (IPPool CIDR must be a valid subnet)"));
  assert.equal(await error(doc('ipipMode: Always\ncidr: 10.0.256.0/24')), one("IPPool.Spec.CIDR = '10.0.256.0/24' (IPPool CIDR must be a valid subnet)"));
  assert.equal(await error(doc('ipipMode: Never\ncidr: "fd5f::2::1/32"')), one("IPPool.Spec.CIDR = 'fd5f::2::1/32' (IPPool CIDR must be a valid subnet)"));
});

test('a bare IP is not a subnet for clientv3 (cnet.ParseCIDR)', async () => {
  assert.equal(await error(doc('cidr: 10.0.0.1')), one("IPPool.Spec.CIDR = '10.0.0.1' (IPPool CIDR must be a valid subnet)"));
});

test('IPv4 octets with leading zeros are refused (Go net.ParseCIDR)', async () => {
  assert.equal(await error(doc('cidr: 010.0.0.0/8')), one("IPPool.Spec.CIDR = '010.0.0.0/8' (IPPool CIDR must be a valid subnet)"));
});

test('not strictly masked: the error shows the normalised CIDR', async () => {
  assert.equal(await error(doc('cidr: 10.0.0.1/8')), one("IPPool.Spec.CIDR = '10.0.0.0/8' (IPPool CIDR is not strictly masked)"));
});

test('st pool-invalidNet8: fd5f::1/123 is both too small and not strictly masked, in clientv3 order', async () => {
  assert.equal(
    await error(doc('ipipMode: Never\ncidr: fd5f::1/123')),
    many(`IPPool.Spec.CIDR = 'fd5f::/123' (${TOO_SMALL})`, "IPPool.Spec.CIDR = 'fd5f::/123' (IPPool CIDR is not strictly masked)"),
  );
});

// ---- block size --------------------------------------------------------------------------------

test('st pool-invalidNet3/6/7: pools smaller than the block', async () => {
  assert.equal(await error(doc('ipipMode: Always\ncidr: 10.0.250.0/32')), one(`IPPool.Spec.CIDR = '10.0.250.0/32' (${TOO_SMALL})`));
  assert.equal(await error(doc('ipipMode: Never\nvxlanMode: Never\ncidr: ::/128', 'invalid-net-6')), one(`IPPool.Spec.CIDR = '::/128' (${TOO_SMALL})`));
  assert.equal(await error(doc('cidr: 192.168.0.0/27')), one(`IPPool.Spec.CIDR = '192.168.0.0/27' (${TOO_SMALL})`));
});

test('a disabled pool may be smaller than its block', async () => {
  const v = await stored(doc('cidr: 192.168.0.0/27\ndisabled: true'));
  assert.equal((v.spec as { cidr: string }).cidr, '192.168.0.0/27');
});

test('IPv4 block sizes 20..32 only', async () => {
  // A /24 pool is also smaller than a /19 block: clientv3 collects both.
  assert.equal(
    await error(doc('cidr: 1.2.3.0/24\nblockSize: 19')),
    many("IPPool.Spec.BlockSize = '19' (IPv4 block size must be between 20 and 32)", `IPPool.Spec.CIDR = '1.2.3.0/24' (${TOO_SMALL})`),
  );
  assert.equal(await error(doc('cidr: 1.0.0.0/8\nblockSize: 19')), one("IPPool.Spec.BlockSize = '19' (IPv4 block size must be between 20 and 32)"));
  assert.equal(
    await error(doc('cidr: 1.2.3.0/24\nblockSize: 33')),
    one("IPPool.Spec.BlockSize = '33' (IPv4 block size must be between 20 and 32)"),
  );
  assert.equal(
    await error(doc('cidr: 1.2.3.0/24\nblockSize: -1')),
    many("IPPool.Spec.BlockSize = '-1' (IPv4 block size must be between 20 and 32)", `IPPool.Spec.CIDR = '1.2.3.0/24' (${TOO_SMALL})`),
  );
  assert.equal(((await stored(doc('cidr: 10.0.0.0/20\nblockSize: 20'))).spec as { blockSize: number }).blockSize, 20);
  assert.equal(((await stored(doc('cidr: 10.0.0.0/24\nblockSize: 32'))).spec as { blockSize: number }).blockSize, 32);
});

test('IPv6 block sizes 116..128 only; a /24 pool with blockSize 20 is too small', async () => {
  assert.equal(await error(doc('cidr: fd00::/64\nblockSize: 115')), one("IPPool.Spec.BlockSize = '115' (IPv6 block size must be between 116 and 128)"));
  assert.equal(
    await error(doc('cidr: fd00::/64\nblockSize: 129')),
    one("IPPool.Spec.BlockSize = '129' (IPv6 block size must be between 116 and 128)"),
  );
  assert.equal(((await stored(doc('cidr: fd00::/64\nblockSize: 128'))).spec as { blockSize: number }).blockSize, 128);
  assert.equal(
    await error(doc('cidr: 10.0.0.0/24\nblockSize: 20')),
    one(`IPPool.Spec.CIDR = '10.0.0.0/24' (${TOO_SMALL})`),
  );
});

test('an IPv4 block size on an IPv6 pool: range error and size error together', async () => {
  assert.equal(
    await error(doc('cidr: fd00::/120\nblockSize: 26')),
    many("IPPool.Spec.BlockSize = '26' (IPv6 block size must be between 116 and 128)", `IPPool.Spec.CIDR = 'fd00::/120' (${TOO_SMALL})`),
  );
});

// ---- overlap, immutability -------------------------------------------------------------------

test('clientv3 e2e: overlapping pools on create, whichever contains which', async () => {
  const existing = [pool('ippool1', { cidr: '1.2.3.0/24', blockSize: 26 })];
  const msg = (name: string, cidr: string) => one(`IPPool.Spec.CIDR = '${cidr}' (IPPool(${name}) CIDR overlaps with IPPool(ippool1) CIDR 1.2.3.0/24)`);
  assert.equal(await error(doc('cidr: 1.2.3.0/24', 'ippool2'), { existing }), msg('ippool2', '1.2.3.0/24'));
  assert.equal(await error(doc('cidr: 1.2.0.0/16', 'ippool3'), { existing }), msg('ippool3', '1.2.0.0/16'));
  assert.equal(await error(doc('cidr: 1.2.3.128/25', 'ippool4'), { existing }), msg('ippool4', '1.2.3.128/25'));
});

test('overlap lists every overlapping pool, with the other pool CIDR as stored', async () => {
  const existing = [pool('a', { cidr: '10.0.0.0/16' }), pool('b', { cidr: '10.1.0.0/16' }), pool('c', { cidr: '10.2.0.0/16' })];
  assert.equal(
    await error(doc('cidr: 10.0.0.0/15', 'big'), { existing }),
    many(
      "IPPool.Spec.CIDR = '10.0.0.0/15' (IPPool(big) CIDR overlaps with IPPool(a) CIDR 10.0.0.0/16)",
      "IPPool.Spec.CIDR = '10.0.0.0/15' (IPPool(big) CIDR overlaps with IPPool(b) CIDR 10.1.0.0/16)",
    ),
  );
});

test('a pool of the same name is skipped by the overlap check; IPv4 and IPv6 pools never overlap', async () => {
  const existing = [pool('pool1', { cidr: '10.0.0.0/8' }), pool('v6', { cidr: '::/0', blockSize: 122 })];
  assert.equal(((await stored(doc('cidr: 10.0.0.0/8'), { existing })).spec as { cidr: string }).cidr, '10.0.0.0/8');
});

test('overlap is not checked on update', async () => {
  const old = pool('pool1', { cidr: '10.0.0.0/16', blockSize: 26, allowedUses: ['Workload', 'Tunnel'] });
  const existing = [old, pool('other', { cidr: '10.0.0.0/8' })];
  const v = await stored(doc('cidr: 10.0.0.0/16\nnatOutgoing: true'), { op: 'update', old, existing });
  assert.equal((v.spec as { natOutgoing: boolean }).natOutgoing, true);
});

test('update: CIDR and block size are immutable, both reported in clientv3 order', async () => {
  const old = pool('pool1', { cidr: '10.0.0.0/16', blockSize: 26 });
  assert.equal(await error(doc('cidr: 10.1.0.0/16'), { op: 'update', old }), one("IPPool.Spec.CIDR = '10.1.0.0/16' (IPPool CIDR cannot be modified)"));
  assert.equal(
    await error(doc('cidr: 10.0.0.0/16\nblockSize: 28'), { op: 'update', old }),
    one("IPPool.Spec.BlockSize = '28' (IPPool BlockSize cannot be modified)"),
  );
  assert.equal(
    await error(doc('cidr: 10.1.0.0/16\nblockSize: 28'), { op: 'update', old }),
    many("IPPool.Spec.CIDR = '10.1.0.0/16' (IPPool CIDR cannot be modified)", "IPPool.Spec.BlockSize = '28' (IPPool BlockSize cannot be modified)"),
  );
});

test('update: an unnormalised spelling of the same CIDR is not a change; an omitted blockSize defaults to the old one', async () => {
  const old = pool('pool1', { cidr: 'fd00:0::/64', blockSize: 122 });
  const v = await stored(doc('cidr: "fd00::0/64"'), { op: 'update', old });
  assert.equal((v.spec as { cidr: string }).cidr, 'fd00::/64');
});

test('update: an old pool read without blockSize is defaulted first (convertIpPoolFromStorage), so no change is seen', async () => {
  const old = pool('pool1', { cidr: '10.0.0.0/16' });
  const v = await stored(doc('cidr: 10.0.0.0/16'), { op: 'update', old });
  assert.equal((v.spec as { blockSize: number }).blockSize, 26);
});

test('update: a LoadBalancer pool cannot become Workload/Tunnel; this returns early, dropping other errors', async () => {
  const old = pool('pool1', { cidr: '10.0.0.0/16', blockSize: 26, allowedUses: ['LoadBalancer'] });
  const msg = (uses: string) => one(`IPPool.Spec.AllowedUses = '${uses}' (IPPool allowed use cannot be changed from LoadBalacer to Workload or Tunnel)`);
  assert.equal(await error(doc('cidr: 10.0.0.0/16\nallowedUses: [Workload]'), { op: 'update', old }), msg('[Workload]'));
  assert.equal(await error(doc('cidr: 10.0.0.0/16'), { op: 'update', old }), msg('[Workload Tunnel]'));
  // The CIDR change collected before the early return is not reported.
  assert.equal(await error(doc('cidr: 10.9.0.0/16\nallowedUses: [Tunnel]'), { op: 'update', old }), msg('[Tunnel]'));
  assert.equal(((await stored(doc('cidr: 10.0.0.0/16\nallowedUses: [LoadBalancer]'), { op: 'update', old })).spec as { cidr: string }).cidr, '10.0.0.0/16');
});

// ---- encapsulation -----------------------------------------------------------------------------

test('IPIP and VXLAN together: the clientv3 message only (validator and CEL are never reached)', async () => {
  assert.equal(
    await error(doc('cidr: 10.0.0.0/16\nipipMode: Always\nvxlanMode: CrossSubnet')),
    one("IPPool.Spec.VXLANMode = 'CrossSubnet' (Cannot enable both VXLAN and IPIP on the same IPPool)"),
  );
});

test('IPIP on IPv6: the clientv3 message only', async () => {
  assert.equal(await error(doc('cidr: fd00::/64\nipipMode: Always')), one("IPPool.Spec.IPIPMode = 'Always' (IPIP is not supported on an IPv6 IP pool)"));
  assert.equal(
    await error(doc('cidr: fd00::/64\nipipMode: CrossSubnet\nvxlanMode: Always')),
    many(
      "IPPool.Spec.VXLANMode = 'Always' (Cannot enable both VXLAN and IPIP on the same IPPool)",
      "IPPool.Spec.IPIPMode = 'CrossSubnet' (IPIP is not supported on an IPv6 IP pool)",
    ),
  );
});

test('clientv3 compares modes with "Never", so an unknown mode counts as enabled', async () => {
  assert.equal(
    await error(doc('cidr: 10.0.0.0/16\nipipMode: Sometimes\nvxlanMode: Always')),
    one("IPPool.Spec.VXLANMode = 'Always' (Cannot enable both VXLAN and IPIP on the same IPPool)"),
  );
});

test('an unknown mode that passes clientv3: the validator tag, then the CRD enum', async () => {
  assert.equal(
    await error(doc('cidr: 10.0.0.0/16\nipipMode: Sometimes')),
    many(tagFail('IPIPMode', 'Sometimes', 'ipIpMode'), 'spec.ipipMode (supported values: "Never", "Always", "CrossSubnet")'),
  );
  assert.equal(
    await error(doc('cidr: 10.0.0.0/16\nvxlanMode: always')),
    many(tagFail('VXLANMode', 'always', 'vxlanMode'), 'spec.vxlanMode (supported values: "Never", "Always", "CrossSubnet")'),
  );
  assert.equal(
    await error(doc('cidr: 10.0.0.0/16\nassignmentMode: Auto')),
    many(tagFail('AssignmentMode', 'Auto', 'assignmentMode'), 'spec.assignmentMode (supported values: "Automatic", "Manual")'),
  );
});

// ---- link-local --------------------------------------------------------------------------------

test('pools overlapping the link-local ranges', async () => {
  assert.equal(
    await error(doc('cidr: 169.254.0.0/16')),
    one("IPPool.Spec.CIDR = '169.254.0.0/16' (IPPool CIDR overlaps with IPv4 Link Local range 169.254.0.0/16)"),
  );
  assert.equal(
    await error(doc('cidr: 169.254.10.0/24')),
    one("IPPool.Spec.CIDR = '169.254.10.0/24' (IPPool CIDR overlaps with IPv4 Link Local range 169.254.0.0/16)"),
  );
  assert.equal(await error(doc('cidr: 128.0.0.0/1')), one("IPPool.Spec.CIDR = '128.0.0.0/1' (IPPool CIDR overlaps with IPv4 Link Local range 169.254.0.0/16)"));
  assert.equal(await error(doc('cidr: fe80::/64')), one("IPPool.Spec.CIDR = 'fe80::/64' (IPPool CIDR overlaps with IPv6 Link Local range fe80::/10)"));
  assert.equal(await error(doc('cidr: fe00::/7')), one("IPPool.Spec.CIDR = 'fe00::/7' (IPPool CIDR overlaps with IPv6 Link Local range fe80::/10)"));
  assert.equal(((await stored(doc('cidr: 169.255.0.0/16'))).spec as { cidr: string }).cidr, '169.255.0.0/16');
  assert.equal(((await stored(doc('cidr: fec0::/10'))).spec as { cidr: string }).cidr, 'fec0::/10');
});

// ---- allowed uses, selectors (validator struct level + CEL) --------------------------------------

test('LoadBalancer with IPIP: validateIPPoolSpec then the CEL rule', async () => {
  assert.equal(
    await error(doc('cidr: 10.0.0.0/16\nallowedUses: [LoadBalancer]\nipipMode: Always')),
    many(
      "IPpool.IPIPMode = 'Always' (Neither IPIPMode nor VXLANMode can be enabled on AllowedUses LoadBalancer IP pool)",
      'spec (LoadBalancer IP pool cannot have IPIP or VXLAN enabled)',
    ),
  );
});

test('LoadBalancer with VXLAN: the validator reports the IPIP mode value', async () => {
  assert.equal(
    await error(doc('cidr: 10.0.0.0/16\nallowedUses: [LoadBalancer]\nvxlanMode: CrossSubnet')),
    many(
      "IPpool.IPIPMode = 'Never' (Neither IPIPMode nor VXLANMode can be enabled on AllowedUses LoadBalancer IP pool)",
      'spec (LoadBalancer IP pool cannot have IPIP or VXLAN enabled)',
    ),
  );
});

test('LoadBalancer mixed with other uses: one validator line per other use, then the CEL rule', async () => {
  assert.equal(
    await error(doc('cidr: 10.0.0.0/16\nallowedUses: [Workload, LoadBalancer, Tunnel]')),
    many(
      "IPpool.AllowedUses = '[Workload LoadBalancer Tunnel]' (LoadBalancer cannot be used at the same time as: Workload)",
      "IPpool.AllowedUses = '[Workload LoadBalancer Tunnel]' (LoadBalancer cannot be used at the same time as: Tunnel)",
      'spec (LoadBalancer cannot be combined with Workload or Tunnel allowed uses)',
    ),
  );
});

test('LoadBalancer with disableBGPExport or a node selector: the value printed is the CIDR', async () => {
  assert.equal(
    await error(doc('cidr: 10.0.0.0/16\nallowedUses: [LoadBalancer]\ndisableBGPExport: true')),
    one("IPpool.DisableBGPExport = '10.0.0.0/16' (IP Pool with AllowedUse LoadBalancer must have DisableBGPExport set to true)"),
  );
  assert.equal(
    await error(doc("cidr: 10.0.0.0/16\nallowedUses: [LoadBalancer]\nnodeSelector: zone == 'a'")),
    one("IPpool.NodeSelector = '10.0.0.0/16' (IP Pool with AllowedUse LoadBalancer must have node selector set to all())"),
  );
});

test('an unknown allowed use: validator line, then the CRD enum on the item', async () => {
  assert.equal(
    await error(doc('cidr: 10.0.0.0/16\nallowedUses: [Workload, Pods]')),
    many("IPpool.AllowedUses = '[Workload Pods]' (unknown use: Pods)", 'spec.allowedUses[1] (supported values: "Workload", "Tunnel", "LoadBalancer")'),
  );
});

test('allowedUses is a listType=set in the CRD, but libcalico-go does not check set uniqueness', async () => {
  const v = await stored(doc('cidr: 10.0.0.0/16\nallowedUses: [Workload, Workload]'));
  assert.deepEqual((v.spec as { allowedUses: string[] }).allowedUses, ['Workload', 'Workload']);
});

test('more than 10 allowed uses: CRD maxItems', async () => {
  const uses = Array(11).fill('Workload').join(', ');
  assert.equal(await error(doc(`cidr: 10.0.0.0/16\nallowedUses: [${uses}]`)), one('spec.allowedUses (must have at most 10 items)'));
});

test('a namespaceSelector needs allowedUses without Tunnel (the default includes Tunnel)', async () => {
  assert.equal(
    await error(doc('cidr: 10.0.0.0/16\nnamespaceSelector: all()')),
    one(
      "IPpool.NamespaceSelector = 'all()' (IP Pool with AllowedUse Tunnel cannot have namespaceSelector specified - tunnel IPs are not namespaced resources)",
    ),
  );
  const v = await stored(doc('cidr: 10.0.0.0/16\nnamespaceSelector: all()\nallowedUses: [Workload]'));
  assert.equal((v.spec as { namespaceSelector: string }).namespaceSelector, 'all()');
});

test('global() is a valid selector but not for IPPool selectors', async () => {
  assert.equal(
    await error(doc('cidr: 10.0.0.0/16\nnodeSelector: global()')),
    one("IPpool.NodeSelector = 'global()' (global() selector is not valid for IPPool nodeSelector - use all() instead)"),
  );
  assert.equal(
    await error(doc('cidr: 10.0.0.0/16\nallowedUses: [Workload]\nnamespaceSelector: global()')),
    one("IPpool.NamespaceSelector = 'global()' (global() selector is not valid for IPPool namespaceSelector - use all() instead)"),
  );
});

test('a selector that does not parse: the selector tag, with the parser reason appended', async () => {
  const e = await error(doc('cidr: 10.0.0.0/16\nnodeSelector: "zone =="'));
  assert.match(e, /^error with field NodeSelector = 'zone ==' \(Reason: failed to validate Field: NodeSelector because of Tag: selector - .+\)$/);
});

test('metadata checks come before spec checks', async () => {
  assert.equal(
    await error(doc('cidr: 10.0.0.0/16\nnodeSelector: global()', 'Pool_1')),
    many(
      "Metadata.Name = 'Pool_1' (name must consist of lower case alphanumeric characters, '-' or '.' (regex: [a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*))",
      "IPpool.NodeSelector = 'global()' (global() selector is not valid for IPPool nodeSelector - use all() instead)",
    ),
  );
});

// ---- existing IPAM blocks (Create only, after validation) ------------------------------------------

test('blocks of another size inside the pool refuse the create', async () => {
  assert.equal(
    await error(doc('cidr: 10.0.0.0/16'), { blocks: ['10.0.0.0/28'] }),
    one("IPPool.Spec.BlockSize = '26' (IPPool blocksSize conflicts with existing allocations that use a different blockSize)"),
  );
  assert.equal(
    await error(doc('cidr: fd00::/64\nblockSize: 120'), { blocks: ['fd00::/122'] }),
    one("IPPool.Spec.BlockSize = '120' (IPPool blocksSize conflicts with existing allocations that use a different blockSize)"),
  );
});

test('blocks of the same size, or outside the pool, or of the other family, are fine', async () => {
  await stored(doc('cidr: 10.0.0.0/16'), { blocks: ['10.0.0.0/26', '10.1.0.0/28', 'fd00::/122'] });
});

test('the block check runs after validation: validation errors win', async () => {
  assert.equal(
    await error(doc('cidr: 10.0.0.0/16\nipipMode: Sometimes'), { blocks: ['10.0.0.0/28'] }),
    many(tagFail('IPIPMode', 'Sometimes', 'ipIpMode'), 'spec.ipipMode (supported values: "Never", "Always", "CrossSubnet")'),
  );
});

test('the block check is not run on update', async () => {
  const old = pool('pool1', { cidr: '10.0.0.0/16', blockSize: 26 });
  await stored(doc('cidr: 10.0.0.0/16'), { op: 'update', old, blocks: ['10.0.0.0/28'] });
});

// ---- decoding ----------------------------------------------------------------------------------

test('st pool-invalidIpIp1/2: a string for a bool', async () => {
  const msg = 'error unmarshaling JSON: while decoding JSON: json: cannot unmarshal string into Go struct field IPPoolSpec.spec.disabled of type bool';
  assert.equal(await error(doc("disabled: 'True'\ncidr: 10.0.1.0/24")), msg);
  assert.equal(await error(doc('disabled: Maybe\ncidr: 10.0.1.0/24')), msg);
});

test('blockSize must be a JSON integer', async () => {
  assert.equal(await error(doc('cidr: 10.0.0.0/16\nblockSize: "26"')), 'error unmarshaling JSON: while decoding JSON: json: cannot unmarshal string into Go struct field IPPoolSpec.spec.blockSize of type int');
  assert.equal(await error(doc('cidr: 10.0.0.0/16\nblockSize: 26.5')), 'error unmarshaling JSON: while decoding JSON: json: cannot unmarshal number 26.5 into Go struct field IPPoolSpec.spec.blockSize of type int');
  assert.equal(((await stored(doc('cidr: 10.0.0.0/16\nblockSize: 26.0'))).spec as { blockSize: number }).blockSize, 26);
});

test('allowedUses must be a list of strings', async () => {
  assert.equal(
    await error(doc('cidr: 10.0.0.0/16\nallowedUses: Workload')),
    'error unmarshaling JSON: while decoding JSON: json: cannot unmarshal string into Go struct field IPPoolSpec.spec.allowedUses of type []v3.IPPoolAllowedUse',
  );
});

test('a spec that is not an object names the Go type with its package', async () => {
  assert.equal(await error(doc('[]').replace('spec:\n  []', 'spec: []')), 'error unmarshaling JSON: while decoding JSON: json: cannot unmarshal array into Go struct field IPPool.spec of type v3.IPPoolSpec');
});

test('field names match case-insensitively and are stored under the JSON name', async () => {
  const v = await stored(doc('CIDR: 10.0.0.0/16\nIPIPMode: Always\nNatOutgoing: true'));
  assert.deepEqual([(v.spec as Record<string, unknown>).cidr, (v.spec as Record<string, unknown>).ipipMode, (v.spec as Record<string, unknown>).natOutgoing], [
    '10.0.0.0/16',
    'Always',
    true,
  ]);
});

test('unknown spec field', async () => {
  assert.equal(await error(doc('cidr: 10.0.0.0/16\nipip: {enabled: true}')), 'error unmarshaling JSON: while decoding JSON: json: unknown field "ipip"');
});
