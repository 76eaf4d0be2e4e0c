import { createServer } from 'node:net';
import { EtcdBackend } from '../../src/datastore/etcd.js';
const silent = createServer(() => {}).listen(0, '127.0.0.1');
await new Promise((r) => silent.once('listening', r));
const port = (silent.address() as { port: number }).port;
for (const [name, ep, o] of [['silent', `http://127.0.0.1:${port}`, { requestTimeoutMs: 500 }], ['dns', 'http://no-such-host.invalid:2379', {}], ['unroutable', 'http://192.0.2.1:2379', { requestTimeoutMs: 800 }]] as const) {
  const kv = EtcdBackend.connect([ep], o);
  const t0 = Date.now();
  try { await kv.get('/x'); } catch (e) { console.log(name, Date.now() - t0, 'ms', (e as Error).constructor.name, JSON.stringify((e as Error).message)); }
  await kv.close();
}
silent.close();
