// Bundles the CNI plugin (dist/cni/main.js and what it imports) into dist/cni/bundle/: a runtime
// starts a fresh `tortie-cni` process for every pod, and loading one file instead of ~150 small
// ES modules takes most of the start-up time away. Dynamic imports stay separate chunks (the
// etcd client is loaded only with datastore_type etcdv3); native and gRPC packages stay external.
import { build } from 'esbuild';

await build({
  entryPoints: { main: 'dist/cni/main.js' },
  outdir: 'dist/cni/bundle',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['better-sqlite3', 'etcd3', 'netlink', 'tortie-native'],
  logLevel: 'warning',
});
