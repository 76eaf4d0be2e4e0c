/**
 * `get` golden output, written from calicoctl v3.32's source: the column sets and cell
 * templates of `calicoctl/calicoctl/resourcemgr/<kind>.go`, the printers of
 * `commands/common/printer.go` (tabwriter minwidth 5 / padding 3 with every cell
 * tab-terminated, an empty line after each table, one table per returned object, JSON without
 * a trailing newline, a nil result marshalled as `null`), `commands/get.go` (formats,
 * NAMESPACE only for ps/wide with -n/-A, error joining) and the expected tables of
 * `calicoctl/tests/st/utils/data.py` / `test_crud.py`.
 */
import { describe, it, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CliHarness } from './harness.js';
import { main } from '../../src/cli/main.js';
import { memoryIO } from '../../src/cli/io.js';
import { Client } from '../../src/datastore/client.js';
import { SqliteBackend } from '../../src/datastore/sqlite.js';
import { UnavailableError } from '../../src/datastore/errors.js';

const API = 'apiVersion: projectcalico.org/v3';

// calicoctl/tests/st/utils/data.py: ippool_name1_rev1_v4 and ippool_name2_rev1_v6.
const POOL1 = `${API}
kind: IPPool
metadata:
  name: ippool-name1
spec:
  cidr: 10.0.1.0/24
  ipipMode: Always
  vxlanMode: Never
  blockSize: 27
  allowedUses: [Workload, Tunnel]
  assignmentMode: Automatic
  nodeSelector: "foo == 'bar'"
`;
const POOL2 = `${API}
kind: IPPool
metadata:
  name: ippool-name2
spec:
  cidr: fed0:8001::/64
  ipipMode: Never
  vxlanMode: Never
  blockSize: 123
  allowedUses: [Workload, Tunnel]
  assignmentMode: Automatic
  nodeSelector: all()
`;

// data.py ippool_name1_rev1_table / ippool_name2_rev1_table / ippool_name1_rev1_wide_table, with
// the trailing padding the ST harness strips and its "   \n\n" glue restored.
const POOL1_TABLE = 'NAME           CIDR          SELECTOR       \n' + "ippool-name1   10.0.1.0/24   foo == 'bar'   \n" + '\n';
const POOL2_TABLE = 'NAME           CIDR             SELECTOR   \n' + 'ippool-name2   fed0:8001::/64   all()      \n' + '\n';
const POOL1_WIDE =
  'NAME           CIDR          NAT     IPIPMODE   VXLANMODE   DISABLED   DISABLEBGPEXPORT   SELECTOR       ASSIGNMENTMODE   \n' +
  "ippool-name1   10.0.1.0/24   false   Always     Never       false      false              foo == 'bar'   Automatic        \n" +
  '\n';

const doc = (...docs: string[]) => docs.join('---\n');

describe('get: IPPool tables (the ST data), one table per named object, missing names', () => {
  const h = new CliHarness();
  before(async () => {
    assert.equal(await h.ok('create -f -', doc(POOL2, POOL1)), "Successfully created 2 'IPPool' resource(s)\n");
  });
  after(() => h.cleanup());

  it('ps and wide for one pool', async () => {
    assert.equal(await h.ok('get ippool ippool-name1'), POOL1_TABLE);
    assert.equal(await h.ok('get ippool ippool-name1 -o wide'), POOL1_WIDE);
  });

  it('a list query is one table, rows in name order', async () => {
    assert.equal(
      await h.ok('get ippools'),
      'NAME           CIDR             SELECTOR       \n' +
        "ippool-name1   10.0.1.0/24      foo == 'bar'   \n" +
        'ippool-name2   fed0:8001::/64   all()          \n' +
        '\n',
    );
  });

  it('two names are two tables, each with its own header and widths (test_get_delete_multiple_names)', async () => {
    assert.equal(await h.ok('get ippool ippool-name1 ippool-name2 --export'), POOL1_TABLE + POOL2_TABLE);
  });

  it('a missing name: the others still print, then the error on stderr, exit 1', async () => {
    const r = await h.run('get ippool ippool-name1 blah ippool-name2 --export');
    assert.equal(r.code, 1);
    assert.equal(r.out, POOL1_TABLE + POOL2_TABLE);
    assert.equal(r.err, 'resource does not exist: IPPool(blah) with error: <nil>\n');
  });

  it('several missing names: one error per line', async () => {
    const r = await h.run('get ippool x y');
    assert.equal(r.code, 1);
    assert.equal(r.out, '');
    assert.equal(r.err, 'resource does not exist: IPPool(x) with error: <nil>\nresource does not exist: IPPool(y) with error: <nil>\n');
  });

  it('custom-columns picks headings from the kind map, in the given order', async () => {
    assert.equal(
      await h.ok('get ippool -o custom-columns=CIDR,NAME,VXLANMODE'),
      'CIDR             NAME           VXLANMODE   \n' + '10.0.1.0/24      ippool-name1   Never       \n' + 'fed0:8001::/64   ippool-name2   Never       \n' + '\n',
    );
  });

  it('an unknown heading lists the valid ones', async () => {
    const r = await h.run('get ippool -o custom-columns=NAME,FOO');
    assert.equal(r.code, 1);
    assert.equal(r.out, '');
    const m = /^unknown heading FOO, valid values are: (.*)\n$/.exec(r.err);
    assert.ok(m, r.err);
    // Go iterates the heading map in random order; the set is the ippool.go map's keys.
    assert.deepEqual(m[1]!.split(', ').sort(), ['ASSIGNMENTMODE', 'CIDR', 'DISABLEBGPEXPORT', 'DISABLED', 'IPIPMODE', 'NAME', 'NAT', 'SELECTOR', 'VXLANMODE']);
  });

  it('cell widths count runes: a multi-byte selector value', async () => {
    await h.ok('create -f -', `${API}\nkind: IPPool\nmetadata:\n  name: zh\nspec:\n  cidr: 10.9.0.0/16\n  nodeSelector: zone == 'zürich'\n`);
    // "zone == 'zürich'" is 16 runes (17 bytes): the column is 19 wide.
    assert.equal(await h.ok('get ippool zh'), 'NAME   CIDR          SELECTOR           \n' + "zh     10.9.0.0/16   zone == 'zürich'   \n" + '\n');
    await h.ok('delete ippool zh');
  });

  it('output format errors', async () => {
    const cases: [string, string][] = [
      ['get ippool -o foo', "unrecognized output format 'foo'\n"],
      ['get ippool -o custom-columns', 'need to specify at least one column\n'],
      ['get ippool -o custom-columns=', 'need to specify at least one column\n'],
      ['get ippool -o go-template=', 'need to specify a template\n'],
      ['get ippool -o go-template-file=', 'need to specify a template file\n'],
      // tortie does not run Go templates, and says so.
      ['get ippool -o go-template={{.}}', "output format 'go-template' is not supported by tortie: use yaml, json, ps, wide or custom-columns\n"],
      ['get ippool -o go-template-file=/tmp/t', "output format 'go-template-file' is not supported by tortie: use yaml, json, ps, wide or custom-columns\n"],
    ];
    for (const [cmd, err] of cases) {
      const r = await h.run(cmd);
      assert.deepEqual(r, { out: '', err, code: 1 }, cmd);
    }
  });
});

describe('get: an empty list is the header line and a blank line, for every kind', () => {
  const h = new CliHarness();
  after(() => h.cleanup());
  const headers: [string, string][] = [
    ['bgpconfig', 'NAME   LOGSEVERITY   MESHENABLED   ASNUMBER   '],
    ['bgppeer', 'NAME   PEERIP   NODE   ASN   '],
    ['bgpfilter', 'NAME   NUMEXPORTV4   NUMIMPORTV4   NUMEXPORTV6   NUMIMPORTV6   '],
    ['ippool', 'NAME   CIDR   SELECTOR   '],
    ['ipreservation', 'NAME   '],
    ['node', 'NAME   '],
    ['felixconfig', 'NAME   '],
    ['hostendpoint', 'NAME   NODE   '],
    ['workloadendpoint', 'WORKLOAD   NODE   NETWORKS   INTERFACE   '],
    ['networkpolicy', 'NAME   TIER   '],
    ['globalnetworkpolicy', 'NAME   TIER   '],
    ['clusterinformation', 'NAME   CLUSTERGUID   CLUSTERTYPE   CALICOVERSION   DATASTOREREADY   '],
  ];
  it('ps', async () => {
    for (const [kind, header] of headers) assert.equal(await h.ok(`get ${kind}`), `${header}\n\n`, kind);
  });
  it('wide', async () => {
    const wide: [string, string][] = [
      ['ippool', 'NAME   CIDR   NAT   IPIPMODE   VXLANMODE   DISABLED   DISABLEBGPEXPORT   SELECTOR   ASSIGNMENTMODE   '],
      ['ipreservation', 'NAME   CIDRS   '],
      ['node', 'NAME   ASN   IPV4   IPV6   '],
      ['hostendpoint', 'NAME   NODE   INTERFACE   IPS   PROFILES   '],
      ['workloadendpoint', 'NAME   WORKLOAD   NODE   NETWORKS   INTERFACE   PROFILES   NATS   '],
      ['networkpolicy', 'NAME   TIER   ORDER   SELECTOR   '],
      ['globalnetworkpolicy', 'NAME   TIER   ORDER   SELECTOR   '],
    ];
    for (const [kind, header] of wide) assert.equal(await h.ok(`get ${kind} -o wide`), `${header}\n\n`, kind);
  });
  it('with -A the namespaced kinds get a NAMESPACE column', async () => {
    assert.equal(await h.ok('get wep -A'), 'NAMESPACE   WORKLOAD   NODE   NETWORKS   INTERFACE   \n\n');
    assert.equal(await h.ok('get policy --all-namespaces -o wide'), 'NAMESPACE   NAME   TIER   ORDER   SELECTOR   \n\n');
    assert.equal(await h.ok('get networkpolicy -n ns9'), 'NAMESPACE   NAME   TIER   \n\n');
  });
});

const NODES = doc(
  `${API}\nkind: Node\nmetadata:\n  name: n1\nspec:\n  bgp:\n    ipv4Address: 10.0.0.1/24\n    asNumber: 65001\n`,
  `${API}\nkind: Node\nmetadata:\n  name: n2\nspec: {}\n`,
  `${API}\nkind: Node\nmetadata:\n  name: n3\nspec:\n  bgp:\n    ipv6Address: fd00::1/64\n`,
);

describe('get: Node ASN — the node AS, else the global AS in parentheses', () => {
  const h = new CliHarness();
  before(async () => {
    assert.equal(await h.ok('create -f -', NODES), "Successfully created 3 'Node' resource(s)\n");
  });
  after(() => h.cleanup());

  it('no BGPConfiguration: (64512); no spec.bgp: blank', async () => {
    assert.equal(await h.ok('get nodes'), 'NAME   \n' + 'n1     \n' + 'n2     \n' + 'n3     \n' + '\n');
    assert.equal(
      await h.ok('get node -o wide'),
      'NAME   ASN       IPV4          IPV6         \n' +
        'n1     65001     10.0.0.1/24                \n' +
        'n2                                          \n' +
        'n3     (64512)                 fd00::1/64   \n' +
        '\n',
    );
  });

  it('a default BGPConfiguration without asNumber: still (64512)', async () => {
    await h.ok('apply -f -', `${API}\nkind: BGPConfiguration\nmetadata:\n  name: default\nspec:\n  logSeverityScreen: Info\n`);
    assert.match(await h.ok('get node n3 -o wide'), /^n3 {5}\(64512\) {3}/m);
  });

  it('the default BGPConfiguration asNumber: (63400)', async () => {
    await h.ok('apply -f -', `${API}\nkind: BGPConfiguration\nmetadata:\n  name: default\nspec:\n  asNumber: 63400\n`);
    assert.equal(
      await h.ok('get node -o wide'),
      'NAME   ASN       IPV4          IPV6         \n' +
        'n1     65001     10.0.0.1/24                \n' +
        'n2                                          \n' +
        'n3     (63400)                 fd00::1/64   \n' +
        '\n',
    );
  });

  it('an explicit node asNumber 0 is printed (the template tests the pointer)', async () => {
    await h.ok('apply -f -', `${API}\nkind: Node\nmetadata:\n  name: n0\nspec:\n  bgp:\n    ipv4Address: 10.0.0.9/24\n    asNumber: 0\n`);
    assert.equal(await h.ok('get node n0 -o wide'), 'NAME   ASN   IPV4          IPV6   \n' + 'n0     0     10.0.0.9/24          \n' + '\n');
  });

  it('(unknown) when the BGPConfiguration cannot be read', async () => {
    // A client whose BGPConfiguration lookup fails with something other than "does not exist".
    const io = memoryIO({
      env: h.env,
      connect: async () => {
        const c = new Client(SqliteBackend.open(h.env.SQLITE_PATH!));
        const get = c.get.bind(c);
        c.get = async (ref) => {
          if (ref.kind === 'BGPConfiguration') throw new UnavailableError('sqlite datastore is busy');
          return get(ref);
        };
        return c;
      },
    });
    assert.equal(await main(['get', 'node', 'n3', '-o', 'wide'], io), 0, io.err());
    assert.equal(io.out(), 'NAME   ASN         IPV4   IPV6         \n' + 'n3     (unknown)          fd00::1/64   \n' + '\n');
  });
});

describe('get: the other kinds, ps and wide', () => {
  const h = new CliHarness();
  const wep = (name: string, ns: string | undefined, node: string, pod: string, extra: string) => `${API}
kind: WorkloadEndpoint
metadata:
  name: ${name}${ns ? `\n  namespace: ${ns}` : ''}
spec:
  node: ${node}
  orchestrator: k8s
  pod: ${pod}
  endpoint: eth0
  containerID: abc
${extra}`;
  before(async () => {
    const all = doc(
      wep(
        'node1-k8s-pod1-eth0',
        'ns1',
        'node1',
        'pod1',
        '  interfaceName: cali1234\n  ipNetworks: [10.0.0.1/32, fd00::1/128]\n  profiles: [kns.ns1, extra]\n  ipNATs:\n  - internalIP: 10.0.0.1\n    externalIP: 1.2.3.4\n',
      ),
      wep('node2-k8s-wl2-eth0', undefined, 'node2', 'wl2', '  interfaceName: cali5678\n  ipNetworks: [10.0.0.2/32]\n'),
      `${API}\nkind: NetworkPolicy\nmetadata:\n  name: np1\n  namespace: ns1\nspec:\n  order: 100\n  selector: app == 'web'\n`,
      `${API}\nkind: NetworkPolicy\nmetadata:\n  name: np2\nspec:\n  selector: all()\n`,
      `${API}\nkind: GlobalNetworkPolicy\nmetadata:\n  name: gnp1\nspec:\n  order: 1.5\n  selector: all()\n`,
      `${API}\nkind: HostEndpoint\nmetadata:\n  name: hep1\nspec:\n  node: node1\n  interfaceName: eth0\n  expectedIPs: [10.0.0.1, 10.0.0.2]\n  profiles: [p1, p2]\n`,
      `${API}\nkind: BGPFilter\nmetadata:\n  name: bf1\nspec:\n  exportV4:\n  - {cidr: 10.0.0.0/16, matchOperator: Equal, action: Accept}\n  importV6:\n  - {cidr: 'fd00::/64', matchOperator: In, action: Reject}\n  - {cidr: 'fd01::/64', matchOperator: In, action: Reject}\n`,
      `${API}\nkind: FelixConfiguration\nmetadata:\n  name: node.n1\nspec: {}\n`,
      `${API}\nkind: BGPConfiguration\nmetadata:\n  name: default\nspec:\n  logSeverityScreen: Info\n`,
      `${API}\nkind: BGPConfiguration\nmetadata:\n  name: node.n1\nspec:\n  logSeverityScreen: Warning\n`,
      `${API}\nkind: BGPPeer\nmetadata:\n  name: peer-node\nspec:\n  node: n1\n  peerIP: 10.0.0.2\n  asNumber: 65002\n`,
      `${API}\nkind: BGPPeer\nmetadata:\n  name: peer-sel\nspec:\n  nodeSelector: rack == 'a'\n  peerIP: 10.0.0.3\n  asNumber: 65003\n`,
      `${API}\nkind: BGPPeer\nmetadata:\n  name: peer-global\nspec:\n  peerIP: 10.0.0.4\n  asNumber: 65004\n`,
      // data.py ipresv_name1_rev1_v4_long starts with these: 10.<i>>8>.<i%256>.0/28.
      `${API}\nkind: IPReservation\nmetadata:\n  name: r1\nspec:\n  reservedCIDRs:\n${Array.from({ length: 10 }, (_, i) => `  - 10.0.${i}.0/28\n`).join('')}`,
      // data.py ipresv_name1_rev1_v4
      `${API}\nkind: IPReservation\nmetadata:\n  name: r2\nspec:\n  reservedCIDRs: [10.0.1.0/24, 11.0.0.1/32]\n`,
    );
    assert.equal(await h.ok('create -f -', all), 'Successfully created 15 resource(s)\n');
  });
  after(() => h.cleanup());

  it('WorkloadEndpoint: default namespace without -n; NAMESPACE with -n and -A', async () => {
    assert.equal(
      await h.ok('get wep'),
      'WORKLOAD   NODE    NETWORKS      INTERFACE   \n' + 'wl2        node2   10.0.0.2/32   cali5678    \n' + '\n',
    );
    const ns1 =
      'NAMESPACE   WORKLOAD   NODE    NETWORKS                  INTERFACE   \n' + 'ns1         pod1       node1   10.0.0.1/32,fd00::1/128   cali1234    \n' + '\n';
    assert.equal(await h.ok('get workloadendpoints -n ns1'), ns1);
    assert.equal(await h.ok('get weps --namespace=ns1'), ns1);
    assert.equal(
      await h.ok('get wep -A -o wide'),
      'NAMESPACE   NAME                  WORKLOAD   NODE    NETWORKS                  INTERFACE   PROFILES        NATS                 \n' +
        'default     node2-k8s-wl2-eth0    wl2        node2   10.0.0.2/32               cali5678                                         \n' +
        'ns1         node1-k8s-pod1-eth0   pod1       node1   10.0.0.1/32,fd00::1/128   cali1234    kns.ns1,extra   {10.0.0.1 1.2.3.4}   \n' +
        '\n',
    );
  });

  it('get -a is -A (backward compatibility)', async () => {
    assert.equal(await h.ok('get wep -a -o wide'), await h.ok('get wep -A -o wide'));
  });

  it('NetworkPolicy: TIER, ORDER <nil> when unset, NAMESPACE with -n/-A', async () => {
    assert.equal(await h.ok('get networkpolicy'), 'NAME   TIER      \n' + 'np2    default   \n' + '\n');
    assert.equal(await h.ok('get networkpolicy -n ns1'), 'NAMESPACE   NAME   TIER      \n' + 'ns1         np1    default   \n' + '\n');
    assert.equal(
      await h.ok('get networkpolicy -A -o wide'),
      'NAMESPACE   NAME   TIER      ORDER   SELECTOR       \n' +
        'default     np2    default   <nil>   all()          \n' +
        "ns1         np1    default   100     app == 'web'   \n" +
        '\n',
    );
  });

  it('custom-columns never prepends NAMESPACE (get.go builds that printer without PrintNamespace), but may name it', async () => {
    assert.equal(await h.ok('get networkpolicy -A -o custom-columns=NAME,ORDER'), 'NAME   ORDER   \n' + 'np2    <nil>   \n' + 'np1    100     \n' + '\n');
    assert.equal(
      await h.ok('get networkpolicy -A -o custom-columns=NAMESPACE,NAME'),
      'NAMESPACE   NAME   \n' + 'default     np2    \n' + 'ns1         np1    \n' + '\n',
    );
  });

  it('GlobalNetworkPolicy has no NAMESPACE heading', async () => {
    assert.equal(await h.ok('get gnp'), 'NAME   TIER      \n' + 'gnp1   default   \n' + '\n');
    assert.equal(await h.ok('get gnp -o wide'), 'NAME   TIER      ORDER   SELECTOR   \n' + 'gnp1   default   1.5     all()      \n' + '\n');
    const r = await h.run('get gnp -o custom-columns=NAMESPACE');
    assert.equal(r.code, 1);
    const m = /^unknown heading NAMESPACE, valid values are: (.*)\n$/.exec(r.err);
    assert.ok(m, r.err);
    assert.deepEqual(m[1]!.split(', ').sort(), ['NAME', 'ORDER', 'SELECTOR', 'TIER']);
  });

  it('HostEndpoint: IPS and PROFILES comma-joined', async () => {
    assert.equal(await h.ok('get hep'), 'NAME   NODE    \n' + 'hep1   node1   \n' + '\n');
    assert.equal(
      await h.ok('get hostendpoints -o wide'),
      'NAME   NODE    INTERFACE   IPS                 PROFILES   \n' + 'hep1   node1   eth0        10.0.0.1,10.0.0.2   p1,p2      \n' + '\n',
    );
  });

  it('BGPFilter: rule counts', async () => {
    const t =
      'NAME   NUMEXPORTV4   NUMIMPORTV4   NUMEXPORTV6   NUMIMPORTV6   \n' + 'bf1    1             0             0             2             \n' + '\n';
    assert.equal(await h.ok('get bgpfilter'), t);
    assert.equal(await h.ok('get bf -o wide'), t);
  });

  it('FelixConfiguration and BGPConfiguration (- when mesh or AS unset)', async () => {
    assert.equal(await h.ok('get felixconfig'), 'NAME      \n' + 'node.n1   \n' + '\n');
    assert.equal(
      await h.ok('get bgpconfig'),
      'NAME      LOGSEVERITY   MESHENABLED   ASNUMBER   \n' + 'default   Info          -             -          \n' + 'node.n1   Warning       -             -          \n' + '\n',
    );
  });

  it('BGPPeer NODE: the node, else the selector, else (global)', async () => {
    assert.equal(
      await h.ok('get bgppeer'),
      'NAME          PEERIP     NODE          ASN     \n' +
        'peer-global   10.0.0.4   (global)      65004   \n' +
        'peer-node     10.0.0.2   n1            65002   \n' +
        "peer-sel      10.0.0.3   rack == 'a'   65003   \n" +
        '\n',
    );
  });

  it('IPReservation CIDRS truncated to 80 characters, the last 3 being ... (test_ip_reservation_truncation)', async () => {
    const out = await h.ok('get ipreservation -o wide');
    assert.equal(
      out,
      'NAME   CIDRS                                                                              \n' +
        'r1     10.0.0.0/28,10.0.1.0/28,10.0.2.0/28,10.0.3.0/28,10.0.4.0/28,10.0.5.0/28,10.0....   \n' +
        'r2     10.0.1.0/24,11.0.0.1/32                                                            \n' +
        '\n',
    );
    assert.equal('10.0.0.0/28,10.0.1.0/28,10.0.2.0/28,10.0.3.0/28,10.0.4.0/28,10.0.5.0/28,10.0....'.length, 80);
    assert.equal(await h.ok('get reservations'), 'NAME   \n' + 'r1     \n' + 'r2     \n' + '\n');
  });

  it('ClusterInformation (written by the CLI before its first write)', async () => {
    assert.match(
      await h.ok('get clusterinformation'),
      /^NAME {6}CLUSTERGUID {24}CLUSTERTYPE {3}CALICOVERSION {3}DATASTOREREADY {3}\ndefault {3}[0-9a-f]{32} {3} {14} {16}true {13}\n\n$/,
    );
  });
});

describe('get -o yaml / -o json', () => {
  const h = new CliHarness();
  before(async () => {
    await h.ok('create -f -', doc(POOL1, POOL2));
  });
  after(() => h.cleanup());

  it('one name: the object; JSON has no trailing newline, YAML ends with one', async () => {
    const j = await h.ok('get ippool ippool-name1 -o json');
    assert.ok(j.startsWith('{\n  "kind": "IPPool",\n  "apiVersion": "projectcalico.org/v3",\n  "metadata": {\n    "name": "ippool-name1",\n'), j);
    assert.ok(j.endsWith('\n}'), 'no newline after the closing brace');
    const o = JSON.parse(j);
    assert.equal(o.spec.cidr, '10.0.1.0/24');
    assert.match(o.metadata.uid, /^[0-9a-f-]{36}$/);
    assert.match(o.metadata.resourceVersion, /^\d+$/);
    const y = await h.ok('get ippool ippool-name1 -o yaml');
    assert.ok(y.startsWith('apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n'), y);
    assert.ok(y.endsWith('\n'));
    assert.equal(await h.ok('get ippool ippool-name1 -o yml'), y);
  });

  it('several names: an array', async () => {
    const a = JSON.parse(await h.ok('get ippool ippool-name2 ippool-name1 -o json'));
    assert.ok(Array.isArray(a));
    assert.deepEqual(
      a.map((x: { metadata: { name: string } }) => x.metadata.name),
      ['ippool-name2', 'ippool-name1'],
    );
    const y = await h.ok('get ippool ippool-name2 ippool-name1 -o yaml');
    assert.ok(y.startsWith('- apiVersion: projectcalico.org/v3\n  kind: IPPool\n'), y);
  });

  it('a list query: <Kind>List with metadata.resourceVersion', async () => {
    const l = JSON.parse(await h.ok('get ippool -o json'));
    assert.equal(l.kind, 'IPPoolList');
    assert.equal(l.apiVersion, 'projectcalico.org/v3');
    assert.match(l.metadata.resourceVersion, /^\d+$/);
    assert.equal(l.items.length, 2);
    const y = await h.ok('get ippool -o yaml');
    assert.match(y, /^apiVersion: projectcalico\.org\/v3\nitems:\n- apiVersion: projectcalico\.org\/v3\n/);
    assert.match(y, /\nkind: IPPoolList\nmetadata:\n {2}resourceVersion: "\d+"\n$/);
    assert.equal(JSON.parse(await h.ok('get bgppeer -o json')).items.length, 0);
    assert.match(await h.ok('get bgppeer -o yaml'), /^apiVersion: projectcalico\.org\/v3\nitems: \[\]\nkind: BGPPeerList\n/);
  });

  it('--export clears uid, resourceVersion and namespace, creationTimestamp becomes null', async () => {
    assert.equal(
      await h.ok('get ippool ippool-name1 --export -o yaml'),
      `${API}
kind: IPPool
metadata:
  creationTimestamp: null
  name: ippool-name1
spec:
  allowedUses:
  - Workload
  - Tunnel
  assignmentMode: Automatic
  blockSize: 27
  cidr: 10.0.1.0/24
  ipipMode: Always
  nodeSelector: foo == 'bar'
  vxlanMode: Never
`,
    );
    const j = JSON.parse(await h.ok('get ippool ippool-name1 --export -o json'));
    assert.deepEqual(j.metadata, { name: 'ippool-name1', creationTimestamp: null });
  });

  it('--export is ignored for a list query, and with -f (nameSpecified is about <NAME> arguments)', async () => {
    const l = JSON.parse(await h.ok('get ippool --export -o json'));
    assert.match(l.items[0].metadata.uid, /^[0-9a-f-]{36}$/);
    const f = JSON.parse(await h.ok('get --export -o json -f -', `${API}\nkind: IPPool\nmetadata:\n  name: ippool-name1\n`));
    assert.match(f.metadata.uid, /^[0-9a-f-]{36}$/);
    assert.match(f.metadata.resourceVersion, /^\d+$/);
  });

  it('--export of a namespaced object drops its namespace', async () => {
    await h.ok('create -f -', `${API}\nkind: NetworkPolicy\nmetadata:\n  name: np1\n  namespace: ns1\nspec:\n  selector: all()\n`);
    const j = JSON.parse(await h.ok('get networkpolicy np1 -n ns1 --export -o json'));
    assert.equal(j.metadata.namespace, undefined);
    assert.equal(j.metadata.creationTimestamp, null);
    assert.equal(JSON.parse(await h.ok('get networkpolicy np1 -n ns1 -o json')).metadata.namespace, 'ns1');
  });

  it('nothing found: calicoctl marshals its nil slice, null', async () => {
    assert.deepEqual(await h.run('get ippool nope -o yaml'), { out: 'null\n', err: 'resource does not exist: IPPool(nope) with error: <nil>\n', code: 1 });
    assert.deepEqual(await h.run('get ippool nope -o json'), { out: 'null', err: 'resource does not exist: IPPool(nope) with error: <nil>\n', code: 1 });
  });

  it('one found of two: the object alone, not an array', async () => {
    const r = await h.run('get ippool ippool-name1 nope -o json');
    assert.equal(r.code, 1);
    assert.equal(JSON.parse(r.out).metadata.name, 'ippool-name1');
    assert.equal(r.err, 'resource does not exist: IPPool(nope) with error: <nil>\n');
  });

  it('get -f: the objects the file names, one table each', async () => {
    const r = await h.run('get -f -', doc(`${API}\nkind: IPPool\nmetadata:\n  name: ippool-name1\n`, `${API}\nkind: IPPool\nmetadata:\n  name: ippool-name2\n`));
    assert.deepEqual(r, { out: POOL1_TABLE + POOL2_TABLE, err: '', code: 0 });
  });

  it('getting one namespaced object with -A is refused (resourcemgr GetOrList)', async () => {
    const r = await h.run('get networkpolicy np1 -A');
    assert.deepEqual(r, { out: '', err: 'cannot use --all-namespace flag for getting a single resource\n', code: 1 });
  });
});

describe('every yaml/json output applies again unchanged', () => {
  const h = new CliHarness();
  const strip = (t: string) => t.replace(/(resourceVersion"?: )"\d+"/g, '$1RV');
  before(async () => {
    await h.ok('create -f -', doc(POOL1, POOL2, NODES));
    await h.ok(
      'create -f -',
      doc(
        `${API}\nkind: NetworkPolicy\nmetadata:\n  name: np1\n  namespace: ns1\nspec:\n  order: 100\n  selector: app == 'web'\n  ingress:\n  - action: Allow\n    source:\n      nets: [10.0.0.0/8]\n`,
        `${API}\nkind: GlobalNetworkPolicy\nmetadata:\n  name: gnp1\nspec:\n  selector: all()\n  egress:\n  - action: Deny\n`,
        `${API}\nkind: HostEndpoint\nmetadata:\n  name: hep1\n  labels: {role: edge}\nspec:\n  node: node1\n  interfaceName: eth0\n`,
        `${API}\nkind: BGPPeer\nmetadata:\n  name: p1\nspec:\n  peerIP: 10.0.0.4\n  asNumber: 65004\n`,
        `${API}\nkind: BGPConfiguration\nmetadata:\n  name: default\nspec:\n  asNumber: 64513\n  nodeToNodeMeshEnabled: false\n`,
        `${API}\nkind: BGPFilter\nmetadata:\n  name: bf1\nspec:\n  exportV4:\n  - {cidr: 10.0.0.0/16, matchOperator: Equal, action: Accept}\n`,
        `${API}\nkind: FelixConfiguration\nmetadata:\n  name: default\nspec:\n  logSeverityScreen: Info\n`,
        `${API}\nkind: IPReservation\nmetadata:\n  name: r2\nspec:\n  reservedCIDRs: [10.0.1.0/24]\n`,
        `${API}\nkind: WorkloadEndpoint\nmetadata:\n  name: node1-k8s-pod1-eth0\n  namespace: ns1\nspec:\n  node: node1\n  orchestrator: k8s\n  pod: pod1\n  endpoint: eth0\n  interfaceName: cali1\n  ipNetworks: [10.0.0.1/32]\n`,
      ),
    );
  });
  after(() => h.cleanup());

  const kinds: [string, string, number][] = [
    ['ippool', 'IPPool', 2],
    ['node', 'Node', 3],
    ['networkpolicy -A', 'NetworkPolicy', 1],
    ['globalnetworkpolicy', 'GlobalNetworkPolicy', 1],
    ['hostendpoint', 'HostEndpoint', 1],
    ['bgppeer', 'BGPPeer', 1],
    ['bgpconfig', 'BGPConfiguration', 1],
    ['bgpfilter', 'BGPFilter', 1],
    ['felixconfig', 'FelixConfiguration', 1],
    ['ipreservation', 'IPReservation', 1],
    ['wep -A', 'WorkloadEndpoint', 1],
  ];
  for (const [query, kind, n] of kinds) {
    for (const fmt of ['yaml', 'json']) {
      it(`${query} -o ${fmt} (list)`, async () => {
        const before = await h.ok(`get ${query} -o ${fmt}`);
        const f = join(h.dir, `rt.${fmt}`);
        writeFileSync(f, before);
        assert.equal(await h.ok(['apply', '-f', f]), `Successfully applied ${n} '${kind}' resource(s)\n`);
        assert.equal(strip(await h.ok(`get ${query} -o ${fmt}`)), strip(before));
      });
    }
  }

  it('a single object and an array of named objects, yaml and json', async () => {
    for (const q of ['ippool ippool-name1', 'ippool ippool-name1 ippool-name2', 'networkpolicy np1 -n ns1', 'node n1 n2 n3']) {
      for (const fmt of ['yaml', 'json']) {
        const before = await h.ok(`get ${q} -o ${fmt}`);
        assert.match(await h.ok('apply -f -', before), /^Successfully applied \d '\w+' resource\(s\)\n$/, `${q} ${fmt}`);
        assert.equal(strip(await h.ok(`get ${q} -o ${fmt}`)), strip(before), `${q} ${fmt}`);
      }
    }
  });

  it('--export output creates the objects again after a delete', async () => {
    const y = await h.ok('get ippool ippool-name2 --export -o yaml');
    assert.equal(await h.ok('delete ippool ippool-name2'), "Successfully deleted 1 'IPPool' resource(s)\n");
    assert.equal(await h.ok('create -f -', y), "Successfully created 1 'IPPool' resource(s)\n");
    assert.equal(await h.ok('get ippool ippool-name2 --export -o yaml'), y);
  });
});
