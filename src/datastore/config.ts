/**
 * Connection configuration, as calicoctl reads it (libcalico-go `apiconfig`, calicoctl
 * `clientmgr`): a `CalicoAPIConfig` file given with `-c/--config`, or — when the default file
 * is absent — environment variables (`DATASTORE_TYPE`, `SQLITE_PATH`, `ETCD_ENDPOINTS`, …, each
 * also accepted with a `CALICO_` prefix, which wins).
 *
 * tortie's datastore types are `sqlite` (the default: one file on this host) and `etcdv3`
 * (Calico's key layout). `kubernetes` is recognised and refused with a clear line: tortie has no
 * Kubernetes API datastore.
 */
import { readFileSync, existsSync } from 'node:fs';
import { decodeStruct, DecodeError } from '../api/schema/decode.js';
import { JSON_ERROR_PREFIX } from '../api/codec.js';
import { bool, f, float, int, opt, str, struct } from '../api/schema/types.js';
import { objectMeta } from '../api/kinds/common.js';
import { parseDocuments, YamlError } from '../api/yaml/read.js';
import { ConfigError } from './errors.js';

export const DEFAULT_CONFIG_PATH = '/etc/tortie/tortie.cfg';
export const DEFAULT_SQLITE_PATH = '/var/lib/tortie/tortie.db';

export type DatastoreType = 'sqlite' | 'etcdv3';

export interface DatastoreConfig {
  datastoreType: DatastoreType;
  sqlitePath: string;
  etcdEndpoints: string[];
  etcdUsername?: string;
  etcdPassword?: string;
  etcdKeyFile?: string;
  etcdCertFile?: string;
  etcdCACertFile?: string;
  etcdKey?: string;
  etcdCert?: string;
  etcdCACert?: string;
}

/** [json name, env var] for every spec field that can come from the environment. */
const ENV_FIELDS: [string, string][] = [
  ['datastoreType', 'DATASTORE_TYPE'],
  ['sqlitePath', 'SQLITE_PATH'],
  ['etcdEndpoints', 'ETCD_ENDPOINTS'],
  ['etcdDiscoverySrv', 'ETCD_DISCOVERY_SRV'],
  ['etcdUsername', 'ETCD_USERNAME'],
  ['etcdPassword', 'ETCD_PASSWORD'],
  ['etcdKeyFile', 'ETCD_KEY_FILE'],
  ['etcdCertFile', 'ETCD_CERT_FILE'],
  ['etcdCACertFile', 'ETCD_CA_CERT_FILE'],
  ['kubeconfig', 'KUBECONFIG'],
  ['k8sAPIEndpoint', 'K8S_API_ENDPOINT'],
];

const s = () => str();
const specTy = struct('CalicoAPIConfigSpec', [
  f('datastoreType', s(), 'DatastoreType'),
  f('sqlitePath', s(), 'SQLitePath'),
  f('etcdEndpoints', s(), 'EtcdEndpoints'),
  f('etcdDiscoverySrv', s(), 'EtcdDiscoverySrv'),
  f('etcdUsername', s(), 'EtcdUsername'),
  f('etcdPassword', s(), 'EtcdPassword'),
  f('etcdKeyFile', s(), 'EtcdKeyFile'),
  f('etcdCertFile', s(), 'EtcdCertFile'),
  f('etcdCACertFile', s(), 'EtcdCACertFile'),
  f('etcdKey', s(), 'EtcdKey'),
  f('etcdCert', s(), 'EtcdCert'),
  f('etcdCACert', s(), 'EtcdCACert'),
  f('kubeconfig', s(), 'Kubeconfig'),
  f('k8sAPIEndpoint', s(), 'K8sAPIEndpoint'),
  f('k8sKeyFile', s(), 'K8sKeyFile'),
  f('k8sCertFile', s(), 'K8sCertFile'),
  f('k8sCAFile', s(), 'K8sCAFile'),
  f('k8sAPIToken', s(), 'K8sAPIToken'),
  f('k8sInsecureSkipTLSVerify', bool(), 'K8sInsecureSkipTLSVerify'),
  f('k8sDisableNodePoll', bool(), 'K8sDisableNodePoll'),
  f('usePodCIDR', bool(), 'K8sUsePodCIDR'),
  f('kubeconfigInline', s(), 'KubeconfigInline'),
  f('k8sClientQPS', float(), 'K8sClientQPS'),
  f('k8sClientBurst', int('int'), 'K8sClientBurst'),
  f('k8sCurrentContext', s(), 'K8sCurrentContext'),
  f('calicoAPIGroup', s(), 'CalicoAPIGroup'),
]);
const fileTy = struct('CalicoAPIConfig', [opt('kind', str()), opt('apiVersion', str(), 'APIVersion'), f('metadata', objectMeta, 'ObjectMeta', 'omit'), f('spec', specTy, 'Spec', 'omit')]);

export interface LoadOptions {
  /** `-c/--config` value; undefined means the default path. */
  configPath?: string;
  env?: NodeJS.ProcessEnv;
  defaultConfigPath?: string;
}

/**
 * Resolves the connection configuration. Throws ConfigError with calicoctl's messages
 * (`Error reading config file: <path>`, `invalid config file: …`, `syntax error in <file>: …`).
 */
export function loadDatastoreConfig(opts: LoadOptions = {}): DatastoreConfig {
  const env = opts.env ?? process.env;
  const defaultPath = opts.defaultConfigPath ?? DEFAULT_CONFIG_PATH;
  const path = opts.configPath ?? defaultPath;
  let raw: Record<string, unknown>;
  if (path === defaultPath && !existsSync(path)) {
    raw = fromEnv(env);
  } else {
    // clientmgr LoadClientConfig: a path that cannot be stat'ed is "Error reading config file";
    // one that exists but cannot be read is os.ReadFile's error.
    if (!existsSync(path)) throw new ConfigError(`Error reading config file: ${path}`);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EISDIR') throw new ConfigError(`read ${path}: is a directory`);
      if (code === 'EACCES') throw new ConfigError(`open ${path}: permission denied`);
      throw new ConfigError(`open ${path}: ${(e as Error).message}`);
    }
    raw = fromFile(text, path);
  }
  return resolve(raw);
}

function fromEnv(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, name] of ENV_FIELDS) {
    const v = env[`CALICO_${name}`] ?? env[name];
    if (v !== undefined && v !== '') out[key] = v;
  }
  return out;
}

/**
 * apiconfig LoadClientConfigFromFile: every problem with the content is
 * `syntax error in <file>: <err>`, parse failures being `failed to parse config as YAML/JSON: …`.
 */
function fromFile(text: string, path: string): Record<string, unknown> {
  const syntax = (msg: string) => new ConfigError(`syntax error in ${path}: ${msg}`);
  let doc;
  try {
    doc = parseDocuments(text)[0];
  } catch (e) {
    if (e instanceof YamlError) throw syntax(`failed to parse config as YAML/JSON: error converting YAML to JSON: ${e.message}`);
    throw e;
  }
  let v: Record<string, unknown>;
  try {
    v = decodeStruct(doc?.node ?? null, fileTy) ?? {};
  } catch (e) {
    if (e instanceof DecodeError) throw syntax(`failed to parse config as YAML/JSON: ${JSON_ERROR_PREFIX}${e.message}`);
    throw e;
  }
  if (v.apiVersion !== 'projectcalico.org/v3') throw syntax(`invalid config file: unknown APIVersion '${v.apiVersion ?? ''}'`);
  if (v.kind !== 'CalicoAPIConfig') throw syntax(`invalid config file: expected kind 'CalicoAPIConfig', got '${v.kind ?? ''}'`);
  return (v.spec as Record<string, unknown>) ?? {};
}

function resolve(spec: Record<string, unknown>): DatastoreConfig {
  const endpoints = String(spec.etcdEndpoints ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  let type = String(spec.datastoreType ?? '');
  if (type === '') type = endpoints.length ? 'etcdv3' : 'sqlite';
  if (type === 'kubernetes') {
    throw new ConfigError('datastoreType "kubernetes" is not supported by tortie: use "sqlite" (the default) or "etcdv3"');
  }
  if (type !== 'sqlite' && type !== 'etcdv3') {
    throw new ConfigError(`unknown datastoreType "${type}": use "sqlite" (the default) or "etcdv3"`);
  }
  if (type === 'etcdv3' && endpoints.length === 0) {
    throw new ConfigError('datastoreType "etcdv3" needs etcdEndpoints (or the ETCD_ENDPOINTS environment variable)');
  }
  for (const e of endpoints) {
    if (!/^https?:\/\/[^/\s]+/.test(e)) throw new ConfigError(`invalid etcd endpoint "${e}": expected a URL such as http://127.0.0.1:2379`);
  }
  const cfg: DatastoreConfig = {
    datastoreType: type,
    sqlitePath: String(spec.sqlitePath || DEFAULT_SQLITE_PATH),
    etcdEndpoints: endpoints,
  };
  for (const k of ['etcdUsername', 'etcdPassword', 'etcdKeyFile', 'etcdCertFile', 'etcdCACertFile', 'etcdKey', 'etcdCert', 'etcdCACert'] as const) {
    if (spec[k]) cfg[k] = String(spec[k]);
  }
  return cfg;
}
