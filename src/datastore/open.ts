/**
 * Opens the backend a DatastoreConfig names. The adapters (`sqlite.ts`, `etcd.ts`) are loaded
 * lazily so that a process using one never loads the other's native or gRPC modules.
 */
import type { DatastoreConfig } from './config.js';
import type { KVBackend } from './kv.js';

export async function openBackend(cfg: DatastoreConfig): Promise<KVBackend> {
  if (cfg.datastoreType === 'sqlite') {
    const { SqliteBackend } = await import('./sqlite.js');
    return SqliteBackend.open(cfg.sqlitePath);
  }
  const { EtcdBackend } = await import('./etcd.js');
  return EtcdBackend.connect(cfg.etcdEndpoints, {
    ...(cfg.etcdUsername ? { username: cfg.etcdUsername } : {}),
    ...(cfg.etcdPassword ? { password: cfg.etcdPassword } : {}),
    ...(cfg.etcdKeyFile ? { keyFile: cfg.etcdKeyFile } : {}),
    ...(cfg.etcdCertFile ? { certFile: cfg.etcdCertFile } : {}),
    ...(cfg.etcdCACertFile ? { caFile: cfg.etcdCACertFile } : {}),
  });
}
