/**
 * The lab's etcd (`datastore: { type: etcd }`): one etcd 3.4 member in a namespace of its own,
 * `tl-<lab>-etcd`, plugged into a segment like a host, so that every agent and CNI call reaches
 * it at http://<address>:2379. The root namespace does not (the lab never touches it), which is
 * why `tortie apply` of the topology's resources runs as a child process inside that namespace
 * (cli/commands/lab.ts) and why `lab exec` hands the datastore's environment to its command.
 *
 * Data dir and log in <lab dir>/etcd/, so `down` removes them with the lab; the peer URL stays
 * on the namespace's loopback (a one-member cluster has no peers to talk to). Health is asked
 * with etcdctl inside the namespace.
 */
import { join } from 'node:path';
import { IP_BIN, isAlive, type StateProcess } from './state.js';
import { LabError, poll, runAsync, tail } from './sys.js';

export const ETCD_BIN = process.env.ETCD_BIN ?? '/usr/bin/etcd';
export const ETCDCTL_BIN = process.env.ETCDCTL_BIN ?? '/usr/bin/etcdctl';
export const ETCD_CLIENT_PORT = 2379;

export function etcdEndpoint(address: string): string {
  return `http://${address}:${ETCD_CLIENT_PORT}`;
}

/** etcd's command line: clients on `address` and on the namespace's loopback. */
export function etcdArgv(name: string, address: string, dir: string): string[] {
  const peer = 'http://127.0.0.1:2380';
  return [
    ETCD_BIN,
    '--name', name,
    '--data-dir', join(dir, 'data'),
    '--listen-client-urls', `${etcdEndpoint(address)},http://127.0.0.1:${ETCD_CLIENT_PORT}`,
    '--advertise-client-urls', etcdEndpoint(address),
    '--listen-peer-urls', peer,
    '--initial-advertise-peer-urls', peer,
    '--initial-cluster', `${name}=${peer}`,
    '--log-level', 'warn',
    '--logger', 'zap',
  ];
}

/** Resolves once etcd in `netns` says it is healthy (about a second); throws with its log's end. */
export async function waitEtcd(netns: string, proc: StateProcess, log: string, signal?: AbortSignal): Promise<void> {
  const health = [IP_BIN, 'netns', 'exec', netns, ETCDCTL_BIN, '--endpoints', `http://127.0.0.1:${ETCD_CLIENT_PORT}`, '--dial-timeout', '1s', '--command-timeout', '2s', 'endpoint', 'health'];
  await poll(
    async () => {
      if (!isAlive(proc)) throw new LabError(`etcd exited; the end of ${log}:\n${tail(log)}`);
      return (await runAsync(health, { timeoutMs: 5000 })).status === 0;
    },
    { timeoutMs: 30_000, intervalMs: 100, signal, failure: () => `etcd was not healthy after 30 s; the end of ${log}:\n${tail(log)}` },
  );
}
