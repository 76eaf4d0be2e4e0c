/**
 * Opens the datastore the CLI was pointed at: `-c FILE`, the default config file, or the
 * environment. Problems become one clear line (`Failed to create Calico API client: …`), never
 * a stack trace.
 */
import { Client } from '../datastore/client.js';
import { loadDatastoreConfig, type DatastoreConfig } from '../datastore/config.js';
import type { KVBackend } from '../datastore/kv.js';
import { openBackend } from '../datastore/open.js';

export async function connectClient(configPath: string | undefined, env: NodeJS.ProcessEnv): Promise<Client> {
  const cfg: DatastoreConfig = loadDatastoreConfig({ ...(configPath !== undefined ? { configPath } : {}), env });
  const kv: KVBackend = await openBackend(cfg);
  return new Client(kv);
}
