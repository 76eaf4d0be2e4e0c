/**
 * One contending IPAM client for `test/integration/ipam-processes.test.ts` and the IPAM benchmark.
 *
 *   node --import tsx test/helpers/ipam-worker.ts <sqlite:PATH | etcd:ENDPOINT> <id> <count> <hostname>
 *
 * JSON lines: prints {"event":"ready"}; then for each stdin command `<phase> <epoch ms>` waits for
 * that moment (so all workers start together) and runs the phase:
 *   assign  — <count> one-address assignments, handle `w<id>-<n>`, attributes {node, type: manual},
 *             as `tortie ipam assign` records them; prints {"event":"assign", ips, ms};
 *   release — releases each of those handles; prints {"event":"release", released, ms};
 *   exit    — closes the datastore and exits.
 * An unexpected error prints {"event":"error", message} and exits 1.
 */
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from '../../src/datastore/client.js';
import { EtcdBackend } from '../../src/datastore/etcd.js';
import type { KVBackend } from '../../src/datastore/kv.js';
import { SqliteBackend } from '../../src/datastore/sqlite.js';
import { Ipam, partialFulfillmentMessage } from '../../src/ipam/ipam.js';
import { MANUAL_TYPE } from '../../src/ipam/report.js';

const [target = '', idArg = '0', countArg = '0', hostname = 'host'] = process.argv.slice(2);
const id = Number(idArg);
const count = Number(countArg);
const say = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ id, ...o })}\n`);

function open(t: string): KVBackend {
  if (t.startsWith('sqlite:')) return SqliteBackend.open(t.slice('sqlite:'.length));
  if (t.startsWith('etcd:')) return EtcdBackend.connect([t.slice('etcd:'.length)]);
  throw new Error(`unknown target ${t}`);
}

const client = new Client(open(target));
const ipam = new Ipam(client);

async function assign(): Promise<Record<string, unknown>> {
  const t0 = performance.now();
  const ips: string[] = [];
  for (let n = 0; n < count; n++) {
    const r = await ipam.autoAssign({ num4: 1, handle: `w${id}-${n}`, attrs: { node: hostname, type: MANUAL_TYPE }, hostname });
    const partial = partialFulfillmentMessage(r.v4);
    if (partial) throw new Error(partial);
    ips.push(r.v4.ips[0]!.ip.toString());
  }
  return { event: 'assign', ips, ms: performance.now() - t0 };
}

async function release(): Promise<Record<string, unknown>> {
  const t0 = performance.now();
  let released = 0;
  for (let n = 0; n < count; n++) released += await ipam.releaseByHandle(`w${id}-${n}`);
  return { event: 'release', released, ms: performance.now() - t0 };
}

say({ event: 'ready' });
for await (const line of createInterface({ input: process.stdin })) {
  const [phase, at] = line.trim().split(' ');
  if (phase === 'exit') break;
  const wait = Number(at ?? 0) - Date.now();
  if (wait > 0) await sleep(wait);
  try {
    if (phase === 'assign') say(await assign());
    else if (phase === 'release') say(await release());
    else throw new Error(`unknown phase ${phase}`);
  } catch (e) {
    say({ event: 'error', message: (e as Error).stack ?? String(e) });
    process.exit(1);
  }
}
await client.close();
process.exit(0);
