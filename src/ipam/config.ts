/**
 * The IPAM configuration (libcalico-go `ipam.GetIPAMConfig` / `SetIPAMConfig`): stored at
 * `/calico/ipam/v2/config`, read with defaults when absent (strictAffinity false,
 * autoAllocateBlocks true, maxBlocksPerHost 0 meaning 20), and written only when consistent.
 */
import { API_VERSION, type Resource } from '../api/meta.js';
import type { Client } from '../datastore/client.js';
import { isDatastoreError } from '../datastore/errors.js';

export interface IPAMConfig {
  strictAffinity: boolean;
  autoAllocateBlocks: boolean;
  maxBlocksPerHost: number;
  kubeVirtVMAddressPersistence?: 'Enabled' | 'Disabled';
}

export class IPAMConfigError extends Error {
  readonly code = 'IPAM_CONFIG' as const;
}

export const DEFAULT_IPAM_CONFIG: Readonly<IPAMConfig> = { strictAffinity: false, autoAllocateBlocks: true, maxBlocksPerHost: 0 };

export async function getIPAMConfig(client: Client): Promise<IPAMConfig> {
  try {
    return ipamConfigOf(await client.get({ kind: 'IPAMConfiguration', name: 'default' }));
  } catch (e) {
    if (isDatastoreError(e, 'NOT_FOUND')) return { ...DEFAULT_IPAM_CONFIG };
    throw e;
  }
}

/** The configuration an IPAMConfiguration resource holds; the defaults when there is none. */
export function ipamConfigOf(r: Resource | undefined): IPAMConfig {
  if (!r) return { ...DEFAULT_IPAM_CONFIG };
  {
    const s = (r.spec ?? {}) as Record<string, unknown>;
    const cfg: IPAMConfig = {
      strictAffinity: s.strictAffinity === true,
      autoAllocateBlocks: s.autoAllocateBlocks === true,
      maxBlocksPerHost: typeof s.maxBlocksPerHost === 'number' ? s.maxBlocksPerHost : 0,
    };
    if (s.kubeVirtVMAddressPersistence === 'Enabled' || s.kubeVirtVMAddressPersistence === 'Disabled') {
      cfg.kubeVirtVMAddressPersistence = s.kubeVirtVMAddressPersistence;
    }
    return cfg;
  }
}

export async function setIPAMConfig(client: Client, cfg: IPAMConfig): Promise<void> {
  const cur = await getIPAMConfig(client);
  if (
    cur.strictAffinity === cfg.strictAffinity &&
    cur.autoAllocateBlocks === cfg.autoAllocateBlocks &&
    cur.maxBlocksPerHost === cfg.maxBlocksPerHost &&
    cur.kubeVirtVMAddressPersistence === cfg.kubeVirtVMAddressPersistence
  ) {
    return;
  }
  if (!cfg.strictAffinity && !cfg.autoAllocateBlocks) {
    throw new IPAMConfigError("Cannot disable 'StrictAffinity' and 'AutoAllocateBlocks' at the same time");
  }
  if (cfg.maxBlocksPerHost > 0 && !cfg.strictAffinity) throw new IPAMConfigError('MaxBlocksPerHost requires StrictAffinity to be enabled');
  const spec: Record<string, unknown> = {
    strictAffinity: cfg.strictAffinity,
    autoAllocateBlocks: cfg.autoAllocateBlocks,
  };
  if (cfg.maxBlocksPerHost) spec.maxBlocksPerHost = cfg.maxBlocksPerHost;
  if (cfg.kubeVirtVMAddressPersistence) spec.kubeVirtVMAddressPersistence = cfg.kubeVirtVMAddressPersistence;
  const r: Resource = { apiVersion: API_VERSION, kind: 'IPAMConfiguration', metadata: { name: 'default' }, spec };
  await client.store.apply(r);
}
