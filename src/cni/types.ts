/**
 * The CNI protocol (specification 1.1): what a runtime passes (CNI_* environment, network
 * configuration on stdin), what a plugin answers (a result or an error object on stdout), and
 * the spec's well-known error codes. Calico's network configuration shape (`type: calico`,
 * `ipam: {type: calico-ipam, …}`) is kept, with tortie's names.
 */

/** Versions whose result format we can produce (0.1.0/0.2.0 results have another shape). */
export const SUPPORTED_VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;
export const CURRENT_VERSION = '1.1.0';

/** CNI spec §"Error" well-known codes. */
export const CNI_ERROR = {
  INCOMPATIBLE_VERSION: 1,
  UNSUPPORTED_FIELD: 2,
  UNKNOWN_CONTAINER: 3,
  INVALID_ENV: 4,
  IO_FAILURE: 5,
  DECODE_FAILURE: 6,
  INVALID_CONFIG: 7,
  TRY_AGAIN_LATER: 11,
  NOT_AVAILABLE: 50,
  NOT_AVAILABLE_DAMAGED: 51,
} as const;

export class CniError extends Error {
  constructor(
    readonly cniCode: number,
    message: string,
    readonly details?: string,
  ) {
    super(message);
  }
}

export type Command = 'ADD' | 'DEL' | 'CHECK' | 'VERSION' | 'STATUS' | 'GC';

export interface IpamConf {
  type: string;
  ipv4_pools?: string[];
  ipv6_pools?: string[];
  /** Calico takes "true"/"false" strings; booleans are accepted too. */
  assign_ipv4?: string | boolean;
  assign_ipv6?: string | boolean;
  [k: string]: unknown;
}

export interface NetConf {
  cniVersion: string;
  name: string;
  type: string;
  ipam?: IpamConf;
  mtu?: number;
  nodename?: string;
  nodename_file?: string;
  /** tortie: where the agent writes the pod MTU (Calico's /var/lib/calico/mtu). */
  mtu_file?: string;
  datastore_type?: string;
  sqlite_path?: string;
  etcd_endpoints?: string;
  etcd_key_file?: string;
  etcd_cert_file?: string;
  etcd_ca_cert_file?: string;
  etcd_username?: string;
  etcd_password?: string;
  log_level?: string;
  log_file_path?: string;
  /** Conventional per-invocation args (CONVENTIONS.md): `{"cni": {"ips": [...]}}` and Calico's keys. */
  args?: Record<string, unknown>;
  runtimeConfig?: Record<string, unknown>;
  prevResult?: Result;
  /** GC (1.1): the attachments the runtime still knows. */
  'cni.dev/valid-attachments'?: { containerID: string; ifname: string }[];
  [k: string]: unknown;
}

export interface Interface {
  name: string;
  mac?: string;
  mtu?: number;
  sandbox?: string;
}

export interface IPConfig {
  address: string;
  gateway?: string;
  interface?: number;
  /** 0.3.x only */
  version?: '4' | '6';
}

export interface Route {
  dst: string;
  gw?: string;
}

export interface Result {
  cniVersion: string;
  interfaces?: Interface[];
  ips?: IPConfig[];
  routes?: Route[];
  dns?: { nameservers?: string[]; domain?: string; search?: string[]; options?: string[] };
}

/** The CNI_* environment, checked per command (spec §"Parameters"). */
export interface Invocation {
  command: Command;
  containerId: string;
  netns: string;
  ifname: string;
  /** CNI_ARGS as a map (`K8S_POD_NAMESPACE`, `K8S_POD_NAME`, `IP`, …). */
  args: Record<string, string>;
  path: string[];
}
