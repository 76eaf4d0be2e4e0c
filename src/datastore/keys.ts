/**
 * Calico's etcd key layout (libcalico-go `model/resource.go`, `model/ipam_config.go`), shared by
 * every backend so that an etcd written by tortie reads like one written by Calico.
 */
import { KIND_INFO, type KindName } from '../api/kinds.js';

export const RESOURCE_ROOT = '/calico/resources/v3/projectcalico.org/';
export const IPAM_CONFIG_KEY = '/calico/ipam/v2/config';

export function resourcePrefix(kind: KindName, namespace?: string): string {
  if (kind === 'IPAMConfiguration') return IPAM_CONFIG_KEY;
  const base = `${RESOURCE_ROOT}${KIND_INFO[kind].plural}/`;
  return namespace ? `${base}${namespace}/` : base;
}

export function resourceKey(kind: KindName, name: string, namespace?: string): string {
  if (kind === 'IPAMConfiguration') return IPAM_CONFIG_KEY;
  return `${resourcePrefix(kind, KIND_INFO[kind].namespaced ? namespace : undefined)}${name}`;
}

/** The kind/namespace/name a resource key names, or undefined for keys outside the v3 layout. */
export function parseResourceKey(key: string): { kind: KindName; name: string; namespace?: string } | undefined {
  if (key === IPAM_CONFIG_KEY) return { kind: 'IPAMConfiguration', name: 'default' };
  if (!key.startsWith(RESOURCE_ROOT)) return undefined;
  const parts = key.slice(RESOURCE_ROOT.length).split('/');
  const kind = (Object.keys(KIND_INFO) as KindName[]).find((k) => KIND_INFO[k].plural === parts[0]);
  if (!kind) return undefined;
  if (KIND_INFO[kind].namespaced) {
    if (parts.length !== 3) return undefined;
    return { kind, namespace: parts[1]!, name: parts[2]! };
  }
  if (parts.length !== 2) return undefined;
  return { kind, name: parts[1]! };
}
