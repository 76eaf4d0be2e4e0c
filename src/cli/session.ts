/**
 * Per-invocation connection handling: one client per command (opened lazily, closed by
 * `main`), calicoctl's connection error line, and the client/cluster version-mismatch guard.
 */
import type { Client } from '../datastore/client.js';
import { isDatastoreError } from '../datastore/errors.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { Ipam } from '../ipam/ipam.js';
import { Prefix } from '../net/index.js';
import { VERSION } from '../version.js';
import { flag, str, type Parsed } from './args.js';
import { connectClient } from './connect.js';
import type { IO } from './io.js';

/** Raised when the datastore client cannot be built; main prints it and exits 1. */
export class ConnectError extends Error {
  readonly code = 'CONNECT' as const;
}

const open = new Map<IO, Promise<Client>>();

/** The message of a `-c` path that does not exist (clientmgr `LoadClientConfig`). */
export const READ_CONFIG_ERROR = 'Error reading config file: ';

export async function openClient(p: Parsed, io: IO): Promise<Client> {
  let c = open.get(io);
  if (!c) {
    const configPath = str(p, 'config');
    c = (io.connect ?? connectClient)(configPath, io.env).then(withIpam, (e: unknown) => {
      open.delete(io);
      const msg = e instanceof Error ? e.message : String(e);
      // clientmgr LoadClientConfig prints this one alone and exits, before any client exists.
      if (msg.startsWith(READ_CONFIG_ERROR)) throw new ConnectError(msg, { cause: e });
      throw new ConnectError(`Failed to create Calico API client: ${msg}`, { cause: e });
    });
    open.set(io, c);
  }
  return c;
}

/**
 * IPAM's part in pool deletion: once the pool is disabled, give in-flight assignments a moment
 * (Calico waits 500 ms), then release its block affinities.
 */
function withIpam(client: Client): Client {
  client.poolDeleting ??= async (cidr, wasEnabled) => {
    if (wasEnabled) await sleep(POOL_DELETE_PAUSE_MS);
    await new Ipam(client).releasePoolAffinities(Prefix.parse(cidr));
  };
  return client;
}

export const POOL_DELETE_PAUSE_MS = 500;

/** Closes the client opened for this invocation, if any. */
export async function closeSession(io: IO): Promise<void> {
  const c = open.get(io);
  open.delete(io);
  if (c) await c.then((x) => x.close()).catch(() => {});
}

/** `strings.Split(strings.TrimPrefix(v, "v"), "-")[0]` */
function bare(v: string): string {
  return v.replace(/^v/, '').replace(/-.*$/s, '');
}

/**
 * calicoctl CheckVersionMismatch: refuse when ClusterInformation names another version. Skipped
 * with --allow-version-mismatch, or when the cluster can't be read or records no version.
 */
export async function checkVersionMismatch(p: Parsed, io: IO): Promise<Error | undefined> {
  if (flag(p, 'allow-version-mismatch')) return undefined;
  let cluster: string;
  try {
    const client = await openClient(p, io);
    const info = await client.get({ kind: 'ClusterInformation', name: 'default' });
    cluster = String((info.spec as Record<string, unknown> | undefined)?.calicoVersion ?? '');
  } catch (e) {
    if (e instanceof ConnectError || isDatastoreError(e)) return undefined;
    return undefined;
  }
  if (!cluster || bare(cluster) === bare(VERSION)) return undefined;
  // version_mismatch.go prints the client version as built and the cluster's stripped.
  return new Error(`version mismatch.\nClient Version:   ${VERSION}\nCluster Version:  ${bare(cluster)}\nUse --allow-version-mismatch to override`);
}
