/**
 * Opens the backend a DatastoreConfig names. The adapters (`sqlite.ts`, `etcd.ts`) are loaded
 * lazily so that a process using one never loads the other's native or gRPC modules.
 */
import type { DatastoreConfig } from './config.js';
import type { KVBackend } from './kv.js';
import { ConfigError } from './errors.js';

export async function openBackend(cfg: DatastoreConfig): Promise<KVBackend> {
  if (cfg.datastoreType === 'sqlite') {
    const { SqliteBackend } = await import('./sqlite.js');
    return SqliteBackend.open(cfg.sqlitePath);
  }
  if (cfg.etcdKey || cfg.etcdCert || cfg.etcdCACert) {
    throw new ConfigError('inline etcdKey/etcdCert/etcdCACert are not supported: put the PEM in files and use etcdKeyFile/etcdCertFile/etcdCACertFile');
  }
  const { EtcdBackend } = await import('./etcd.js');
  return EtcdBackend.connect(cfg.etcdEndpoints, {
    ...(cfg.etcdUsername ? { username: cfg.etcdUsername } : {}),
    ...(cfg.etcdPassword ? { password: cfg.etcdPassword } : {}),
    ...(cfg.etcdKeyFile ? { keyFile: cfg.etcdKeyFile } : {}),
    ...(cfg.etcdCertFile ? { certFile: cfg.etcdCertFile } : {}),
    ...(cfg.etcdCACertFile ? { caCertFile: cfg.etcdCACertFile } : {}),
  });
}
