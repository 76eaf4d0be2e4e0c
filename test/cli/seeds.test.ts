/**
 * Acceptance: the seeds' YAML applies unchanged through the real CLI on SQLite, and `get`
 * prints what the seeds show (in calicoctl v3.32's column sets). Golden strings are written
 * out by hand from the seeds and Go's tabwriter rules (column = widest cell + 3, cells padded,
 * a blank line after each table).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CliHarness } from './harness.js';

const node = (name: string, ip: string, extra = '') => `apiVersion: projectcalico.org/v3
kind: Node
metadata:
  name: ${name}
spec:
  bgp:
    ipv4Address: ${ip}${extra}
  orchRefs:
  - nodeName: ${name}
    orchestrator: k8s
`;

describe('seed 002: BGP mode, mesh, then a route reflector by label', () => {
  const h = new CliHarness();
  after(() => h.cleanup());

  it('ipipMode Always → Never through get -o yaml, edit, apply', async () => {
    await h.ok('apply -f -', `apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: default-ipv4-ippool
spec:
  cidr: 10.244.0.0/16
  ipipMode: Always
  natOutgoing: true
`);
    assert.equal(
      await h.ok('get ippool -o wide'),
      'NAME                  CIDR            NAT    IPIPMODE   VXLANMODE   DISABLED   DISABLEBGPEXPORT   SELECTOR   ASSIGNMENTMODE   \n' +
        'default-ipv4-ippool   10.244.0.0/16   true   Always     Never       false      false              all()      Automatic        \n\n',
    );
    const exported = await h.ok('get ippool -o yaml');
    assert.match(exported, /^kind: IPPoolList$/m);
    const file = join(h.dir, 'ippool.yaml');
    writeFileSync(file, exported.replace('ipipMode: Always', 'ipipMode: Never'));
    assert.equal(await h.ok(['apply', '-f', file]), "Successfully applied 1 'IPPool' resource(s)\n");
    assert.equal(
      await h.ok('get ippool -o wide'),
      'NAME                  CIDR            NAT    IPIPMODE   VXLANMODE   DISABLED   DISABLEBGPEXPORT   SELECTOR   ASSIGNMENTMODE   \n' +
        'default-ipv4-ippool   10.244.0.0/16   true   Never      Never       false      false              all()      Automatic        \n\n',
    );
    // The same file again is now out of date: its items carry the old resourceVersion.
    const stale = await h.run(['apply', '-f', file]);
    assert.equal(stale.code, 1);
    assert.equal(stale.err, "failed to apply 'IPPool' resource: [update conflict: IPPool(default-ipv4-ippool)]\n");
  });

  it('get bgpconfig with none, get node -o wide with the inherited AS in parentheses', async () => {
    for (const [n, ip] of [
      ['k8s-master', '192.168.179.102/24'],
      ['k8s-node1', '192.168.179.103/24'],
      ['k8s-node2', '192.168.179.104/24'],
    ] as const) {
      assert.equal(await h.ok('apply -f -', node(n, ip)), "Successfully applied 1 'Node' resource(s)\n");
    }
    assert.equal(await h.ok('get bgpconfig'), 'NAME   LOGSEVERITY   MESHENABLED   ASNUMBER   \n\n');
    assert.equal(
      await h.ok('get node -o wide'),
      'NAME         ASN       IPV4                 IPV6   \n' +
        'k8s-master   (64512)   192.168.179.102/24          \n' +
        'k8s-node1    (64512)   192.168.179.103/24          \n' +
        'k8s-node2    (64512)   192.168.179.104/24          \n\n',
    );
  });

  it('mesh off with bgpconfig.yaml, then the table shows it', async () => {
    const file = join(h.dir, 'bgpconfig.yaml');
    writeFileSync(
      file,
      `apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata:
  name: default
spec:
  logSeverityScreen: Info
  nodeToNodeMeshEnabled: false 
  asNumber: 64512
`,
    );
    assert.equal(await h.ok(['apply', '-f', file]), "Successfully applied 1 'BGPConfiguration' resource(s)\n");
    assert.equal(await h.ok('get bgpconfig'), 'NAME      LOGSEVERITY   MESHENABLED   ASNUMBER   \ndefault   Info          false         64512      \n\n');
  });

  it('a reflector: label, routeReflectorClusterID, BGPPeer by selector', async () => {
    assert.equal(await h.ok('label nodes k8s-node2 route-reflector=true'), 'Successfully set label route-reflector on nodes k8s-node2\n');
    const y = await h.ok('get node k8s-node2 -o yaml');
    const file = join(h.dir, 'rr-node.yaml');
    writeFileSync(file, y.replace('    ipv4Address: 192.168.179.104/24\n', '    ipv4Address: 192.168.179.104/24\n    routeReflectorClusterID: 244.0.0.1\n'));
    assert.equal(await h.ok(['apply', '-f', file]), "Successfully applied 1 'Node' resource(s)\n");
    const after = await h.ok('get node k8s-node2 -o yaml');
    assert.match(after, /routeReflectorClusterID: 244\.0\.0\.1/);
    assert.match(after, /route-reflector: "true"/);

    const peer = join(h.dir, 'bgppeer.yaml');
    writeFileSync(
      peer,
      `apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata:
  name: peer-with-route-reflectors
spec:
  nodeSelector: all()
  peerSelector: route-reflector == 'true'
`,
    );
    assert.equal(await h.ok(['apply', '-f', peer]), "Successfully applied 1 'BGPPeer' resource(s)\n");
    assert.equal(
      await h.ok('get bgppeer'),
      'NAME                         PEERIP   NODE    ASN   \n' + 'peer-with-route-reflectors            all()   0     \n\n',
    );
  });
});

describe('seed 000: reflectors by label and cluster id, peerings, the core switch, service IPs', () => {
  const h = new CliHarness();
  after(() => h.cleanup());

  it('export a node, add the label (an unquoted YAML true) and the cluster id, apply', async () => {
    await h.ok('apply -f -', node('master', '192.168.83.36/24'));
    const exported = await h.ok('get node master --export -o yaml');
    assert.equal(
      exported,
      `apiVersion: projectcalico.org/v3
kind: Node
metadata:
  creationTimestamp: null
  name: master
spec:
  bgp:
    ipv4Address: 192.168.83.36/24
  orchRefs:
  - nodeName: master
    orchestrator: k8s
status: {}
`,
    );
    const edited = exported
      .replace('  name: master\n', '  name: master\n  labels:\n    i-am-a-route-reflector: true\n')
      .replace('    ipv4Address: 192.168.83.36/24\n', '    ipv4Address: 192.168.83.36/24\n    routeReflectorClusterID: 224.0.0.1\n');
    const file = join(h.dir, 'k8s-test-master-1.yml');
    writeFileSync(file, edited);
    assert.equal(await h.ok(['apply', '-f', file]), "Successfully applied 1 'Node' resource(s)\n");
    const got = JSON.parse(await h.ok('get node master -o json'));
    assert.deepEqual(got.metadata.labels, { 'i-am-a-route-reflector': 'true' });
    assert.equal(got.spec.bgp.routeReflectorClusterID, '224.0.0.1');
  });

  it('peer-to-rrs, rr-mesh and rr-border from stdin', async () => {
    assert.equal(
      await h.ok(
        'apply -f -',
        `kind: BGPPeer
apiVersion: projectcalico.org/v3
metadata:
  name: peer-to-rrs
spec:
  nodeSelector: "!has(i-am-a-route-reflector)"
  peerSelector: has(i-am-a-route-reflector)
`,
      ),
      "Successfully applied 1 'BGPPeer' resource(s)\n",
    );
    assert.equal(
      await h.ok(
        'apply -f -',
        `kind: BGPPeer
apiVersion: projectcalico.org/v3
metadata:
  name: rr-mesh
spec:
  nodeSelector: has(i-am-a-route-reflector)
  peerSelector: has(i-am-a-route-reflector)
`,
      ),
      "Successfully applied 1 'BGPPeer' resource(s)\n",
    );
    assert.equal(
      await h.ok(
        'apply -f -',
        `apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata:
  name: rr-border
spec:
  nodeSelector: has(i-am-a-route-reflector)
  peerIP: 192.168.83.1
  asNumber: 64512
`,
      ),
      "Successfully applied 1 'BGPPeer' resource(s)\n",
    );
    assert.equal(
      await h.ok('get bgppeer'),
      'NAME          PEERIP         NODE                           ASN     \n' +
        'peer-to-rrs                  !has(i-am-a-route-reflector)   0       \n' +
        'rr-border     192.168.83.1   has(i-am-a-route-reflector)    64512   \n' +
        'rr-mesh                      has(i-am-a-route-reflector)    0       \n\n',
    );
    const y = await h.ok('get bgppeer peer-to-rrs -o yaml');
    assert.match(y, /^  nodeSelector: '!has\(i-am-a-route-reflector\)'$/m);
  });

  it('the service cluster range (CALICO_ADVERTISE_CLUSTER_IPS) as serviceClusterIPs', async () => {
    assert.equal(
      await h.ok(
        'apply -f -',
        `apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata:
  name: default
spec:
  serviceClusterIPs:
  - cidr: 172.16.0.0/16
`,
      ),
      "Successfully applied 1 'BGPConfiguration' resource(s)\n",
    );
    assert.equal(await h.ok('get bgpconfig'), 'NAME      LOGSEVERITY   MESHENABLED   ASNUMBER   \ndefault   Info          -             -          \n\n');
    const j = JSON.parse(await h.ok('get bgpconfig default -o json'));
    assert.deepEqual(j.spec.serviceClusterIPs, [{ cidr: '172.16.0.0/16' }]);
  });

  it('the calicoctl.cfg of the seed is read, and its kubernetes datastore refused in one line', async () => {
    const cfg = join(h.dir, 'calicoctl.cfg');
    writeFileSync(cfg, 'apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nmetadata:\nspec:\n  datastoreType: "kubernetes"\n  kubeconfig: "/root/.kube/config"\n');
    const r = await h.run(['get', 'ippool', '-c', cfg]);
    assert.equal(r.code, 1);
    assert.equal(
      r.err,
      'Failed to create Calico API client: datastoreType "kubernetes" is not supported by tortie: use "sqlite" (the default) or "etcdv3"\n',
    );
    const v = await h.ok(['version', '--client']);
    assert.match(v, /^Client Version:    v\d+\.\d+\.\d+\nGit commit:        \S+\n$/);
  });
});

describe('seed 003: mesh off with AS 63400, a global eBGP peer', () => {
  const h = new CliHarness();
  after(() => h.cleanup());

  it('create, get, delete the BGPConfiguration', async () => {
    const f = join(h.dir, 'bgp_local.yaml');
    writeFileSync(f, 'apiVersion: projectcalico.org/v3\nkind: BGPConfiguration\nmetadata:\n  name: default\nspec:\n  logSeverityScreen: Info\n  nodeToNodeMeshEnabled: false\n  asNumber: 63400\n');
    assert.equal(await h.ok(['create', '-f', f]), "Successfully created 1 'BGPConfiguration' resource(s)\n");
    assert.equal(await h.ok('get bgpconfig'), 'NAME      LOGSEVERITY   MESHENABLED   ASNUMBER   \ndefault   Info          false         63400      \n\n');
    assert.equal(await h.ok('delete bgpconfig default'), "Successfully deleted 1 'BGPConfiguration' resource(s)\n");
    assert.equal(await h.ok('get bgpconfig'), 'NAME   LOGSEVERITY   MESHENABLED   ASNUMBER   \n\n');
  });

  it('the global peer to the switch, listed as (global), deleted by file', async () => {
    const f = join(h.dir, 'bgp_peer.yaml');
    writeFileSync(f, 'apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata:\n  name: 64511-peer-to-65001\nspec:\n  peerIP: 10.2.98.1\n  asNumber: 65001\n');
    assert.equal(await h.ok(['create', '-f', f]), "Successfully created 1 'BGPPeer' resource(s)\n");
    assert.equal(await h.ok('get bgppeer'), 'NAME                  PEERIP      NODE       ASN     \n64511-peer-to-65001   10.2.98.1   (global)   65001   \n\n');
    assert.equal(await h.ok(['delete', '-f', f]), "Successfully deleted 1 'BGPPeer' resource(s)\n");
  });

  it('the write-up as printed (indented YAML, typographic hyphens) fails with a clear error and stores nothing', async () => {
    // The blog indented every line after the first, which is not valid YAML.
    const bad = 'apiVersion: projectcalico.org/v3\n  kind: BGPConfiguration\n  metadata:\n    name: default\n';
    const r = await h.run('create -f -', bad);
    assert.equal(r.code, 1);
    assert.match(r.err, /^failed to execute command: error converting YAML to JSON: yaml: line 2, column \d+: /);
    // U+2010 hyphens in the name: the name rule names the field and the value.
    const r2 = await h.run('create -f -', 'apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata:\n  name: 64511\u2010peer\u2010to\u201065001\nspec:\n  peerIP: 10.2.98.1\n  asNumber: 65001\n');
    assert.equal(r2.code, 1);
    assert.equal(
      r2.err,
      "failed to create 'BGPPeer' resource: [BGPPeer(64511\u2010peer\u2010to\u201065001): error with field Metadata.Name = '64511\u2010peer\u2010to\u201065001' (name must consist of lower case alphanumeric characters, '-' or '.' (regex: [a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*))]\n",
    );
    assert.equal(JSON.parse(await h.ok('get bgppeer -o json')).items.length, 0);
  });
});

describe('seed 004: developers reach pods through a reflector, CrossSubnet', () => {
  const h = new CliHarness();
  after(() => h.cleanup());

  it('get bgpconfig default when missing, then create it from stdin', async () => {
    const r = await h.run('get bgpconfig default');
    assert.equal(r.code, 1);
    assert.equal(r.out, '');
    assert.equal(r.err, 'resource does not exist: BGPConfiguration(default) with error: <nil>\n');
    assert.equal(
      await h.ok('create -f -', 'apiVersion: projectcalico.org/v3\nkind: BGPConfiguration\nmetadata:\n  name: default\nspec:\n  logSeverityScreen: Info\n  nodeToNodeMeshEnabled: false\n  asNumber: 63400\n'),
      "Successfully created 1 'BGPConfiguration' resource(s)\n",
    );
  });

  it('the exported node with kube annotations, labels and a cluster id applies as shown', async () => {
    const nodeYaml = `apiVersion: projectcalico.org/v3
kind: Node
metadata:
  annotations:
    projectcalico.org/kube-labels: '{"beta.kubernetes.io/arch":"amd64","beta.kubernetes.io/os":"linux","kubernetes.io/hostname":"d13.node","node-role.kubernetes.io/k8s-master":"true"}'
  creationTimestamp: 2019-06-17T13:55:44Z
  labels:
    beta.kubernetes.io/arch: amd64
    beta.kubernetes.io/os: linux
    kubernetes.io/hostname: d13.node
    node-role.kubernetes.io/k8s-master: "true"
    route-reflector: "true"
  name: d13.node
  resourceVersion: "61822269"
  uid: 9a1897e0-9107-11e9-bc1c-90b11c53d1e3
spec:
  bgp:
    ipv4Address: 172.16.0.13/19
    ipv4IPIPTunnelAddr: 10.20.73.82
    routeReflectorClusterID: 172.16.20.1
  orchRefs:
  - nodeName: d13.node
    orchestrator: k8s
`;
    assert.equal(await h.ok('apply -f -', nodeYaml), "Successfully applied 1 'Node' resource(s)\n");
    const y = await h.ok('get node d13.node -o yaml');
    assert.match(y, /^    projectcalico\.org\/kube-labels: '\{"beta\.kubernetes\.io\/arch":"amd64",/m);
    assert.match(y, /^    route-reflector: "true"$/m);
    assert.match(y, /^    routeReflectorClusterID: 172\.16\.20\.1$/m);
    assert.match(y, /^  creationTimestamp: "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"$/m);
  });

  it('rr.yaml: two BGPPeers in one multi-document file', async () => {
    const f = join(h.dir, 'rr.yaml');
    writeFileSync(
      f,
      'kind: BGPPeer\napiVersion: projectcalico.org/v3\nmetadata:\n  name: peer-to-rrs\nspec:\n  nodeSelector: "!has(route-reflector)"\n  peerSelector: has(route-reflector)\n---\nkind: BGPPeer\napiVersion: projectcalico.org/v3\nmetadata:\n  name: rr-mesh\nspec:\n  nodeSelector: has(route-reflector)\n  peerSelector: has(route-reflector)\n',
    );
    assert.equal(await h.ok(['create', '-f', f]), "Successfully created 2 'BGPPeer' resource(s)\n");
    const again = await h.run(['create', '-f', f]);
    assert.equal(again.code, 1);
    assert.equal(
      again.err,
      "failed to create any 'BGPPeer' resources: [resource already exists: BGPPeer(peer-to-rrs) with error: <nil> resource already exists: BGPPeer(rr-mesh) with error: <nil>]\n",
    );
  });

  it('the pool exported from another cluster (stale metadata) applies, ipipMode CrossSubnet', async () => {
    const pool = `apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  creationTimestamp: 2019-06-17T13:55:44Z
  name: default-ipv4-ippool
  resourceVersion: "61858741"
  uid: 99a82055-9107-11e9-815b-b82a72dffa9f
spec:
  blockSize: 26
  cidr: 10.20.0.0/16
  ipipMode: CrossSubnet
  natOutgoing: true
  nodeSelector: all()
`;
    assert.equal(await h.ok('apply -f -', pool), "Successfully applied 1 'IPPool' resource(s)\n");
    assert.equal(await h.ok('get ippool -o custom-columns=NAME,CIDR,IPIPMODE'), 'NAME                  CIDR           IPIPMODE      \ndefault-ipv4-ippool   10.20.0.0/16   CrossSubnet   \n\n');
    const stored = JSON.parse(await h.ok('get ippool default-ipv4-ippool -o json'));
    assert.notEqual(stored.metadata.uid, '99a82055-9107-11e9-815b-b82a72dffa9f', 'create takes no uid from the input');
    assert.notEqual(stored.metadata.resourceVersion, '61858741');
  });

  it('yaml and json output apply again unchanged', async () => {
    for (const kind of ['ippool', 'bgppeer', 'bgpconfig', 'node']) {
      for (const fmt of ['yaml', 'json']) {
        const before = await h.ok(`get ${kind} -o ${fmt}`);
        const f = join(h.dir, `rt.${fmt}`);
        writeFileSync(f, before);
        const out = await h.ok(['apply', '-f', f]);
        assert.match(out, /^Successfully applied \d+ '\w+' resource\(s\)\n$/);
        const afterText = await h.ok(`get ${kind} -o ${fmt}`);
        const strip = (t: string) => t.replace(/resourceVersion: "\d+"|"resourceVersion": "\d+"/g, 'RV');
        assert.equal(strip(afterText), strip(before), `${kind} -o ${fmt} round trip`);
      }
    }
  });
});
