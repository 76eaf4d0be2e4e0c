/**
 * One contending process for `test/integration/datastore-processes.test.ts`.
 *
 *   node --import tsx test/helpers/datastore-worker.ts <sqlite:PATH | etcd:ENDPOINT> <id> <increments> <applies>
 *
 * Talks JSON lines: prints {"event":"ready"}, then runs a phase for each command read on stdin
 * (`<phase> <epoch ms>`: the phase starts at that moment, so all workers start together):
 *   cas   — <increments> read-modify-write cycles on FelixConfiguration "contended" through
 *           ResourceStore.update (CAS on resourceVersion), retrying on UPDATE_CONFLICT: each cycle
 *           adds 1 to the counter annotation and appends "<id>:<n>" to the log annotation;
 *   apply — <applies> unconditional ResourceStore.apply of BGPConfiguration "contended";
 *   exit  — closes the backend and exits.
 * Each phase ends with one result line; any unexpected error prints {"event":"error"} and exits 1.
 */
import { createInterface } from 'node:readline';
import { EtcdBackend } from '../../src/datastore/etcd.js';
import { isDatastoreError } from '../../src/datastore/errors.js';
import type { KVBackend } from '../../src/datastore/kv.js';
import { ResourceStore } from '../../src/datastore/resources.js';
import { SqliteBackend } from '../../src/datastore/sqlite.js';

const [target = '', idArg = '0', incArg = '0', applyArg = '0'] = process.argv.slice(2);
const id = Number(idArg);
const increments = Number(incArg);
const applies = Number(applyArg);

const say = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(o)}\n`);

function open(t: string): KVBackend {
  if (t.startsWith('sqlite:')) return SqliteBackend.open(t.slice('sqlite:'.length));
  if (t.startsWith('etcd:')) return EtcdBackend.connect([t.slice('etcd:'.length)]);
  throw new Error(`unknown target ${t}`);
}

const kv = open(target);
const store = new ResourceStore(kv);

async function cas(): Promise<Record<string, unknown>> {
  let conflicts = 0;
  let lastRV = '';
  for (let n = 1; n <= increments; n++) {
    for (;;) {
      const cur = await store.get({ kind: 'FelixConfiguration', name: 'contended' });
      const ann = { ...(cur.metadata.annotations ?? {}) };
      ann['test/counter'] = String(Number(ann['test/counter'] ?? '0') + 1);
      ann['test/log'] = ann['test/log'] ? `${ann['test/log']},${id}:${n}` : `${id}:${n}`;
      try {
        const r = await store.update({ ...cur, metadata: { ...cur.metadata, annotations: ann } });
        lastRV = r.metadata.resourceVersion!;
        break;
      } catch (e) {
        if (!isDatastoreError(e, 'UPDATE_CONFLICT')) throw e;
        conflicts++;
      }
    }
  }
  return { event: 'cas', id, conflicts, lastRV };
}

async function apply(): Promise<Record<string, unknown>> {
  const uids = new Set<string>();
  for (let seq = 0; seq < applies; seq++) {
    const r = await store.apply({
      apiVersion: 'projectcalico.org/v3',
      kind: 'BGPConfiguration',
      metadata: { name: 'contended', annotations: { 'test/owner': String(id), 'test/seq': String(seq) } },
      spec: { asNumber: 64512 + id, logSeverityScreen: 'Info' },
    });
    uids.add(`${r.metadata.uid}@${r.metadata.creationTimestamp}`);
  }
  return { event: 'apply', id, uids: [...uids] };
}

const rl = createInterface({ input: process.stdin });
say({ event: 'ready', id, pid: process.pid });
for await (const line of rl) {
  const [cmd, at] = line.split(' ');
  if (at) await new Promise((r) => setTimeout(r, Math.max(0, Number(at) - Date.now())));
  try {
    if (cmd === 'cas') say(await cas());
    else if (cmd === 'apply') say(await apply());
    else if (cmd === 'exit') break;
  } catch (e) {
    say({ event: 'error', id, code: (e as { code?: string }).code, message: String((e as Error).message ?? e) });
    await kv.close();
    process.exit(1);
  }
}
rl.close();
await kv.close();
