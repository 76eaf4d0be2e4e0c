/**
 * Reading a CNI invocation: the CNI_* environment (checked per command as the spec requires),
 * the network configuration on stdin, and the settings derived from it — node name, MTU,
 * datastore, requested pools and addresses — each refused with a CNI error naming what is wrong.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { DatastoreConfig } from '../datastore/config.js';
import { IP } from '../net/index.js';
import { CNI_ERROR, CniError, SUPPORTED_VERSIONS, type Command, type Invocation, type NetConf } from './types.js';

const COMMANDS: readonly Command[] = ['ADD', 'DEL', 'CHECK', 'VERSION', 'STATUS', 'GC'];

export const DEFAULT_NODENAME_FILE = '/var/lib/tortie/nodename';
export const DEFAULT_MTU_FILE = '/var/lib/tortie/mtu';
export const DEFAULT_MTU = 1500;

/** The environment of one invocation. */
export function readInvocation(env: NodeJS.ProcessEnv): Invocation {
  const cmd = env.CNI_COMMAND ?? '';
  if (!COMMANDS.includes(cmd as Command)) {
    throw new CniError(CNI_ERROR.INVALID_ENV, `CNI_COMMAND ${cmd === '' ? 'is not set' : `"${cmd}" is unknown`}: expected one of ${COMMANDS.join(', ')}`);
  }
  const command = cmd as Command;
  const need = (name: string, when: readonly Command[]) => {
    const v = env[name] ?? '';
    if (v === '' && when.includes(command)) throw new CniError(CNI_ERROR.INVALID_ENV, `${name} must be set for ${command}`);
    return v;
  };
  const containerId = need('CNI_CONTAINERID', ['ADD', 'DEL', 'CHECK']);
  if (containerId !== '' && !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(containerId)) {
    throw new CniError(CNI_ERROR.INVALID_ENV, `CNI_CONTAINERID "${containerId}" is not valid: letters, digits, '_', '.' and '-', starting with a letter or digit`);
  }
  const netns = need('CNI_NETNS', ['ADD', 'CHECK']);
  const ifname = need('CNI_IFNAME', ['ADD', 'DEL', 'CHECK']);
  if (ifname !== '' && (ifname.length > 15 || !/^[^\s/:]+$/.test(ifname) || ifname === '.' || ifname === '..')) {
    throw new CniError(CNI_ERROR.INVALID_ENV, `CNI_IFNAME "${ifname}" is not a valid interface name (at most 15 characters, no '/', ':' or spaces)`);
  }
  const path = need('CNI_PATH', ['ADD', 'CHECK']);
  const args: Record<string, string> = {};
  for (const kv of (env.CNI_ARGS ?? '').split(';')) {
    if (kv === '') continue;
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new CniError(CNI_ERROR.INVALID_ENV, `CNI_ARGS: "${kv}" is not KEY=VALUE`);
    args[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return { command, containerId, netns, ifname, args, path: path.split(':').filter(Boolean) };
}

/** Parses and checks the network configuration (stdin). */
export function parseNetConf(text: string, command: Command): NetConf {
  let c: unknown;
  try {
    c = JSON.parse(text);
  } catch (e) {
    throw new CniError(CNI_ERROR.DECODE_FAILURE, `the network configuration on stdin is not JSON: ${(e as Error).message}`);
  }
  if (typeof c !== 'object' || c === null || Array.isArray(c)) throw new CniError(CNI_ERROR.DECODE_FAILURE, 'the network configuration must be a JSON object');
  const conf = c as NetConf;
  if (typeof conf.cniVersion !== 'string' || conf.cniVersion === '') throw new CniError(CNI_ERROR.INVALID_CONFIG, 'cniVersion must be set');
  if (!(SUPPORTED_VERSIONS as readonly string[]).includes(conf.cniVersion)) {
    throw new CniError(CNI_ERROR.INCOMPATIBLE_VERSION, `cniVersion ${conf.cniVersion} is not supported`, `supported: ${SUPPORTED_VERSIONS.join(', ')}`);
  }
  if (command === 'VERSION') return conf;
  if (typeof conf.name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(conf.name)) {
    throw new CniError(CNI_ERROR.INVALID_CONFIG, `network name ${JSON.stringify(conf.name)} is not valid: letters, digits, '_', '.' and '-'`);
  }
  if (command === 'CHECK' && versionLess(conf.cniVersion, '0.4.0')) {
    throw new CniError(CNI_ERROR.INCOMPATIBLE_VERSION, `CHECK needs cniVersion 0.4.0 or later, the configuration says ${conf.cniVersion}`);
  }
  if ((command === 'STATUS' || command === 'GC') && versionLess(conf.cniVersion, '1.1.0')) {
    throw new CniError(CNI_ERROR.INCOMPATIBLE_VERSION, `${command} needs cniVersion 1.1.0, the configuration says ${conf.cniVersion}`);
  }
  if (conf.mtu !== undefined && (!Number.isInteger(conf.mtu) || conf.mtu < 68 || conf.mtu > 65535)) {
    throw new CniError(CNI_ERROR.INVALID_CONFIG, `mtu ${JSON.stringify(conf.mtu)} is not valid: an integer from 68 to 65535`);
  }
  if (conf.ipam !== undefined && (typeof conf.ipam !== 'object' || typeof conf.ipam.type !== 'string' || conf.ipam.type === '')) {
    throw new CniError(CNI_ERROR.INVALID_CONFIG, 'ipam.type must be set');
  }
  return conf;
}

export function versionLess(a: string, b: string): boolean {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) < (pb[i] ?? 0);
  return false;
}

function readTrimmed(path: string): string | undefined {
  try {
    const v = readFileSync(path, 'utf8').trim();
    return v === '' ? undefined : v;
  } catch {
    return undefined;
  }
}

/** `nodename`, else the agent's node-name file, else the host name (Calico's order). */
export function nodeName(conf: NetConf): string {
  return conf.nodename || readTrimmed(conf.nodename_file ?? DEFAULT_NODENAME_FILE) || hostname();
}

/** `mtu`, else what the agent computed (its MTU file), else 1500. */
export function podMtu(conf: NetConf): number {
  if (conf.mtu !== undefined) return conf.mtu;
  const n = Number(readTrimmed(conf.mtu_file ?? DEFAULT_MTU_FILE));
  return Number.isInteger(n) && n >= 68 ? n : DEFAULT_MTU;
}

/** The datastore as Calico's CNI configuration names it (`datastore_type`, `etcd_endpoints`, and `sqlite_path` for ours). */
export function datastoreOf(conf: NetConf, env: NodeJS.ProcessEnv): DatastoreConfig {
  const type = conf.datastore_type ?? env.DATASTORE_TYPE ?? 'sqlite';
  if (type === 'kubernetes') throw new CniError(CNI_ERROR.INVALID_CONFIG, 'datastore_type kubernetes is not supported by tortie: use sqlite or etcdv3');
  if (type !== 'sqlite' && type !== 'etcdv3') throw new CniError(CNI_ERROR.INVALID_CONFIG, `datastore_type "${type}" is not valid: expected sqlite or etcdv3`);
  const cfg: DatastoreConfig = {
    datastoreType: type,
    sqlitePath: conf.sqlite_path ?? env.SQLITE_PATH ?? '/var/lib/tortie/tortie.db',
    etcdEndpoints: (conf.etcd_endpoints ?? env.ETCD_ENDPOINTS ?? '').split(',').map((s) => s.trim()).filter(Boolean),
  };
  if (type === 'etcdv3' && cfg.etcdEndpoints.length === 0) throw new CniError(CNI_ERROR.INVALID_CONFIG, 'datastore_type etcdv3 needs etcd_endpoints');
  if (conf.etcd_key_file) cfg.etcdKeyFile = conf.etcd_key_file;
  if (conf.etcd_cert_file) cfg.etcdCertFile = conf.etcd_cert_file;
  if (conf.etcd_ca_cert_file) cfg.etcdCACertFile = conf.etcd_ca_cert_file;
  if (conf.etcd_username) cfg.etcdUsername = conf.etcd_username;
  if (conf.etcd_password) cfg.etcdPassword = conf.etcd_password;
  return cfg;
}

export interface AddressRequest {
  v4: boolean;
  v6: boolean;
  pools4?: string[];
  pools6?: string[];
  /** Specific addresses (CNI_ARGS `IP=`, `cni.projectcalico.org/ipAddrs`, conventional `args.cni.ips`). */
  ips: IP[];
}

const boolish = (v: unknown, dflt: boolean) => (v === undefined ? dflt : v === true || v === 'true');

function jsonList(v: unknown, what: string): string[] | undefined {
  if (v === undefined) return undefined;
  let list = v;
  if (typeof v === 'string') {
    try {
      list = JSON.parse(v);
    } catch {
      list = v.split(',').map((s) => s.trim());
    }
  }
  if (!Array.isArray(list) || !list.every((x) => typeof x === 'string')) throw new CniError(CNI_ERROR.INVALID_CONFIG, `${what} must be a list of strings`);
  return list as string[];
}

/** What addresses to ask IPAM for. */
export function addressRequest(conf: NetConf, inv: Invocation): AddressRequest {
  const ipam = conf.ipam ?? { type: 'tortie-ipam' };
  const fromArgs = (k: string) => conf.runtimeConfig?.[k] ?? conf.args?.[k] ?? (conf.args?.cni as Record<string, unknown> | undefined)?.[k];
  const req: AddressRequest = { v4: boolish(ipam.assign_ipv4, true), v6: boolish(ipam.assign_ipv6, false), ips: [] };
  const pools4 = jsonList(fromArgs('cni.projectcalico.org/ipv4pools'), 'cni.projectcalico.org/ipv4pools') ?? ipam.ipv4_pools;
  const pools6 = jsonList(fromArgs('cni.projectcalico.org/ipv6pools'), 'cni.projectcalico.org/ipv6pools') ?? ipam.ipv6_pools;
  if (pools4?.length) req.pools4 = pools4;
  if (pools6?.length) req.pools6 = pools6;
  const texts = [
    ...(inv.args.IP ? inv.args.IP.split(',') : []),
    ...(jsonList(fromArgs('cni.projectcalico.org/ipAddrs'), 'cni.projectcalico.org/ipAddrs') ?? []),
    ...(jsonList(fromArgs('ips'), 'args ips') ?? []),
  ];
  for (const t of texts) {
    const ip = IP.tryParse(t.trim().replace(/\/\d+$/, ''));
    if (!ip) throw new CniError(CNI_ERROR.INVALID_CONFIG, `requested address "${t}" is not an IP address`);
    req.ips.push(ip);
  }
  return req;
}
