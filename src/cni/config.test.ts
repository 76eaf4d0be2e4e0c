/**
 * Reading a CNI invocation: the CNI_* environment per command, the network configuration, and the
 * settings derived from it. Every refusal must be a CniError with the spec's code — a runtime
 * acts on the code (11 = retry, 7 = give up), and a person reads the message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { addressRequest, datastoreOf, DEFAULT_MTU, nodeName, parseNetConf, podMtu, readInvocation, versionLess } from './config.js';
import { CNI_ERROR, CniError, type Command, type Invocation, type NetConf } from './types.js';

const full = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'abc123', CNI_NETNS: '/run/netns/x', CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin:/usr/lib/cni' };

/** Asserts `f` throws a CniError with `code` whose message matches `msg`. */
function throwsCni(f: () => unknown, code: number, msg: RegExp): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof CniError, `not a CniError: ${String(e)}`);
    assert.equal(e.cniCode, code, e.message);
    assert.match(e.message, msg);
    return true;
  });
}

test('readInvocation: a complete ADD environment', () => {
  const inv = readInvocation({ ...full, CNI_ARGS: 'K8S_POD_NAMESPACE=ns1;K8S_POD_NAME=web-1;IgnoreUnknown=1;EMPTY=' });
  assert.deepEqual(inv, {
    command: 'ADD',
    containerId: 'abc123',
    netns: '/run/netns/x',
    ifname: 'eth0',
    args: { K8S_POD_NAMESPACE: 'ns1', K8S_POD_NAME: 'web-1', IgnoreUnknown: '1', EMPTY: '' },
    path: ['/opt/cni/bin', '/usr/lib/cni'],
  });
});

test('readInvocation: CNI_COMMAND missing or unknown', () => {
  throwsCni(() => readInvocation({}), CNI_ERROR.INVALID_ENV, /CNI_COMMAND is not set/);
  throwsCni(() => readInvocation({ ...full, CNI_COMMAND: 'add' }), CNI_ERROR.INVALID_ENV, /"add" is unknown.*ADD, DEL/);
});

test('readInvocation: each command needs exactly its variables (spec §Parameters)', () => {
  const need: Record<Command, string[]> = {
    ADD: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_PATH'],
    CHECK: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_PATH'],
    // DEL may come after the namespace is gone, and from a runtime that does not pass CNI_PATH.
    DEL: ['CNI_CONTAINERID', 'CNI_IFNAME'],
    VERSION: [],
    STATUS: [],
    GC: [],
  };
  for (const [command, vars] of Object.entries(need) as [Command, string[]][]) {
    for (const v of ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_PATH']) {
      const env: NodeJS.ProcessEnv = { ...full, CNI_COMMAND: command, [v]: '' };
      if (vars.includes(v)) throwsCni(() => readInvocation(env), CNI_ERROR.INVALID_ENV, new RegExp(`${v} must be set for ${command}`));
      else assert.equal(readInvocation(env).command, command, `${command} without ${v}`);
    }
  }
  assert.deepEqual(readInvocation({ CNI_COMMAND: 'VERSION' }), { command: 'VERSION', containerId: '', netns: '', ifname: '', args: {}, path: [] });
});

test('readInvocation: bad CNI_ARGS, container IDs and interface names', () => {
  throwsCni(() => readInvocation({ ...full, CNI_ARGS: 'A=1;novalue' }), CNI_ERROR.INVALID_ENV, /CNI_ARGS: "novalue" is not KEY=VALUE/);
  throwsCni(() => readInvocation({ ...full, CNI_ARGS: '=x' }), CNI_ERROR.INVALID_ENV, /"=x" is not KEY=VALUE/);
  // A value may itself contain '=' (only the first one splits).
  assert.equal(readInvocation({ ...full, CNI_ARGS: 'IP=10.0.0.1;X=a=b' }).args.X, 'a=b');
  for (const id of ['-abc', 'a/b', 'a b', '../x']) throwsCni(() => readInvocation({ ...full, CNI_CONTAINERID: id }), CNI_ERROR.INVALID_ENV, /CNI_CONTAINERID .* is not valid/);
  for (const ifname of ['a'.repeat(16), 'eth/0', 'eth:0', 'et h0', '.', '..']) {
    throwsCni(() => readInvocation({ ...full, CNI_IFNAME: ifname }), CNI_ERROR.INVALID_ENV, /CNI_IFNAME .* is not a valid interface name/);
  }
  assert.equal(readInvocation({ ...full, CNI_IFNAME: 'a'.repeat(15) }).ifname.length, 15);
});

const base = { cniVersion: '1.0.0', name: 'k8s-pod-network', type: 'tortie', ipam: { type: 'tortie-ipam' } };
const parse = (o: object, command: Command = 'ADD') => parseNetConf(JSON.stringify(o), command);

test('parseNetConf: JSON, an object, a supported version, a valid name', () => {
  assert.equal(parse(base).name, 'k8s-pod-network');
  throwsCni(() => parseNetConf('{', 'ADD'), CNI_ERROR.DECODE_FAILURE, /not JSON/);
  throwsCni(() => parseNetConf('[1]', 'ADD'), CNI_ERROR.DECODE_FAILURE, /must be a JSON object/);
  throwsCni(() => parse({ ...base, cniVersion: undefined }), CNI_ERROR.INVALID_CONFIG, /cniVersion must be set/);
  throwsCni(() => parse({ ...base, cniVersion: '0.2.0' }), CNI_ERROR.INCOMPATIBLE_VERSION, /0\.2\.0 is not supported/);
  throwsCni(() => parse({ ...base, cniVersion: '9.9.9' }), CNI_ERROR.INCOMPATIBLE_VERSION, /9\.9\.9 is not supported/);
  for (const v of ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0']) assert.equal(parse({ ...base, cniVersion: v }).cniVersion, v);
  throwsCni(() => parse({ ...base, name: 'bad name' }), CNI_ERROR.INVALID_CONFIG, /network name "bad name" is not valid/);
  throwsCni(() => parse({ ...base, name: undefined }), CNI_ERROR.INVALID_CONFIG, /network name undefined/);
  // VERSION needs only the version: a runtime probes with a bare {"cniVersion": …}.
  assert.equal(parseNetConf('{"cniVersion":"0.3.1"}', 'VERSION').cniVersion, '0.3.1');
});

test('parseNetConf: CHECK needs 0.4.0, STATUS and GC need 1.1.0', () => {
  throwsCni(() => parse({ ...base, cniVersion: '0.3.1' }, 'CHECK'), CNI_ERROR.INCOMPATIBLE_VERSION, /CHECK needs cniVersion 0\.4\.0.*0\.3\.1/);
  assert.ok(parse({ ...base, cniVersion: '0.4.0' }, 'CHECK'));
  for (const c of ['STATUS', 'GC'] as const) {
    throwsCni(() => parse({ ...base, cniVersion: '1.0.0' }, c), CNI_ERROR.INCOMPATIBLE_VERSION, new RegExp(`${c} needs cniVersion 1\\.1\\.0`));
    assert.ok(parse({ ...base, cniVersion: '1.1.0' }, c));
  }
});

test('parseNetConf: mtu range and integer; ipam.type required when ipam is given', () => {
  for (const mtu of [67, 65536, 1500.5, '1500', 0]) throwsCni(() => parse({ ...base, mtu }), CNI_ERROR.INVALID_CONFIG, /mtu .* is not valid/);
  for (const mtu of [68, 1450, 9000, 65535]) assert.equal(parse({ ...base, mtu }).mtu, mtu);
  throwsCni(() => parse({ ...base, ipam: {} }), CNI_ERROR.INVALID_CONFIG, /ipam\.type must be set/);
  throwsCni(() => parse({ ...base, ipam: { type: '' } }), CNI_ERROR.INVALID_CONFIG, /ipam\.type must be set/);
  throwsCni(() => parse({ ...base, ipam: 'calico-ipam' }), CNI_ERROR.INVALID_CONFIG, /ipam\.type must be set/);
  assert.equal(parse({ ...base, ipam: undefined }).ipam, undefined);
});

test('versionLess compares numerically, missing parts are 0', () => {
  assert.ok(versionLess('0.3.1', '0.4.0'));
  assert.ok(versionLess('0.9.0', '0.10.0'));
  assert.ok(!versionLess('1.1.0', '1.1.0'));
  assert.ok(!versionLess('1.1', '1.0.9'));
});

const inv = (args: Record<string, string> = {}): Invocation => ({ command: 'ADD', containerId: 'c1', netns: '/x', ifname: 'eth0', args, path: [] });
const conf = (o: Partial<NetConf> = {}): NetConf => ({ ...base, ...o }) as NetConf;

test('addressRequest: defaults are one IPv4 address from any pool', () => {
  assert.deepEqual(addressRequest(conf(), inv()), { v4: true, v6: false, ips: [] });
  assert.deepEqual(addressRequest(conf({ ipam: undefined }), inv()), { v4: true, v6: false, ips: [] });
  // Calico spells the switches as strings; booleans work too.
  const r = addressRequest(conf({ ipam: { type: 'tortie-ipam', assign_ipv4: 'false', assign_ipv6: true, ipv6_pools: ['p6'] } }), inv());
  assert.deepEqual(r, { v4: false, v6: true, pools6: ['p6'], ips: [] });
});

test('addressRequest: CNI_ARGS IP= (several, comma-separated; a prefix length is ignored)', () => {
  const r = addressRequest(conf(), inv({ IP: '10.0.0.5,fd00::5/128' }));
  assert.deepEqual(r.ips.map(String), ['10.0.0.5', 'fd00::5']);
  throwsCni(() => addressRequest(conf(), inv({ IP: '10.0.0.300' })), CNI_ERROR.INVALID_CONFIG, /requested address "10\.0\.0\.300" is not an IP address/);
});

test('addressRequest: ipAddrs and ipv4pools from runtimeConfig, args, args.cni (JSON text or lists)', () => {
  const a = addressRequest(conf({ runtimeConfig: { 'cni.projectcalico.org/ipAddrs': '["10.1.0.1"]', 'cni.projectcalico.org/ipv4pools': '["pool-a","10.9.0.0/16"]' } }), inv());
  assert.deepEqual(a.ips.map(String), ['10.1.0.1']);
  assert.deepEqual(a.pools4, ['pool-a', '10.9.0.0/16']);
  const b = addressRequest(conf({ args: { 'cni.projectcalico.org/ipv4pools': ['pool-b'] } }), inv());
  assert.deepEqual(b.pools4, ['pool-b']);
  // The conventional `args.cni.ips` (CONVENTIONS.md).
  const c = addressRequest(conf({ args: { cni: { ips: ['10.2.0.2/24'] } } }), inv());
  assert.deepEqual(c.ips.map(String), ['10.2.0.2']);
  // The per-pod annotation wins over the network's ipv4_pools.
  const d = addressRequest(conf({ ipam: { type: 'tortie-ipam', ipv4_pools: ['net-pool'] }, runtimeConfig: { 'cni.projectcalico.org/ipv4pools': 'pod-pool' } }), inv());
  assert.deepEqual(d.pools4, ['pod-pool']);
  assert.deepEqual(addressRequest(conf({ ipam: { type: 'tortie-ipam', ipv4_pools: ['net-pool'] } }), inv()).pools4, ['net-pool']);
  throwsCni(() => addressRequest(conf({ runtimeConfig: { 'cni.projectcalico.org/ipv4pools': [1, 2] } }), inv()), CNI_ERROR.INVALID_CONFIG, /ipv4pools must be a list of strings/);
  throwsCni(() => addressRequest(conf({ runtimeConfig: { 'cni.projectcalico.org/ipAddrs': '["x"]' } }), inv()), CNI_ERROR.INVALID_CONFIG, /"x" is not an IP address/);
});

test('datastoreOf: sqlite by default; configuration over environment; etcd needs endpoints; kubernetes refused', () => {
  assert.deepEqual(datastoreOf(conf(), {}), { datastoreType: 'sqlite', sqlitePath: '/var/lib/tortie/tortie.db', etcdEndpoints: [] });
  assert.equal(datastoreOf(conf(), { SQLITE_PATH: '/env.db' }).sqlitePath, '/env.db');
  assert.equal(datastoreOf(conf({ sqlite_path: '/conf.db' }), { SQLITE_PATH: '/env.db' }).sqlitePath, '/conf.db');
  const e = datastoreOf(conf({ datastore_type: 'etcdv3', etcd_endpoints: 'http://a:2379, http://b:2379,', etcd_ca_cert_file: '/ca', etcd_cert_file: '/crt', etcd_key_file: '/key', etcd_username: 'u', etcd_password: 'p' }), {});
  assert.deepEqual(e, { datastoreType: 'etcdv3', sqlitePath: '/var/lib/tortie/tortie.db', etcdEndpoints: ['http://a:2379', 'http://b:2379'], etcdCACertFile: '/ca', etcdCertFile: '/crt', etcdKeyFile: '/key', etcdUsername: 'u', etcdPassword: 'p' });
  assert.deepEqual(datastoreOf(conf(), { DATASTORE_TYPE: 'etcdv3', ETCD_ENDPOINTS: 'http://e:2379' }).etcdEndpoints, ['http://e:2379']);
  throwsCni(() => datastoreOf(conf({ datastore_type: 'etcdv3' }), {}), CNI_ERROR.INVALID_CONFIG, /etcdv3 needs etcd_endpoints/);
  throwsCni(() => datastoreOf(conf({ datastore_type: 'kubernetes' }), {}), CNI_ERROR.INVALID_CONFIG, /kubernetes is not supported/);
  throwsCni(() => datastoreOf(conf({ datastore_type: 'consul' }), {}), CNI_ERROR.INVALID_CONFIG, /"consul" is not valid/);
});

test('nodeName and podMtu: configuration, else the agent-written file, else the host name / 1500', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tortie-cni-config-'));
  try {
    const nf = join(dir, 'nodename');
    const mf = join(dir, 'mtu');
    const missing = join(dir, 'missing');
    assert.equal(nodeName(conf({ nodename: 'from-conf', nodename_file: nf })), 'from-conf');
    assert.equal(nodeName(conf({ nodename_file: missing })), hostname());
    writeFileSync(nf, '  node-7\n');
    assert.equal(nodeName(conf({ nodename_file: nf })), 'node-7');
    writeFileSync(nf, '\n'); // an empty file is no name
    assert.equal(nodeName(conf({ nodename_file: nf })), hostname());

    assert.equal(podMtu(conf({ mtu: 1400, mtu_file: mf })), 1400);
    assert.equal(podMtu(conf({ mtu_file: missing })), DEFAULT_MTU);
    writeFileSync(mf, '1440\n');
    assert.equal(podMtu(conf({ mtu_file: mf })), 1440);
    for (const junk of ['abc', '40', '1440.5', '']) {
      writeFileSync(mf, junk);
      assert.equal(podMtu(conf({ mtu_file: mf })), DEFAULT_MTU, `mtu file "${junk}"`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
