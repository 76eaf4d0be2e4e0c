/**
 * The README's main job, until the agent and the lab exist: the seeds' configuration applied to
 * tortie's embedded datastore through the real CLI, printed as a terminal transcript — what a
 * Calico user would type, and what calicoctl would answer. The datastore file stays behind for
 * exploring; its path is printed at the end.
 *
 * Usage: node dist/cli/demo.js [--sqlite PATH]
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from './main.js';
import type { IO } from './io.js';

const examples = fileURLToPath(new URL('../../examples/seeds/', import.meta.url));

async function run(io: IO, line: string, argv: string[]): Promise<number> {
  process.stdout.write(`\n$ tortie ${line}\n`);
  return main(argv, io);
}

async function demo(): Promise<number> {
  const i = process.argv.indexOf('--sqlite');
  const dbPath = i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : join(mkdtempSync(join(tmpdir(), 'tortie-demo-')), 'tortie.db');
  const env: NodeJS.ProcessEnv = { ...process.env, DATASTORE_TYPE: 'sqlite', SQLITE_PATH: dbPath };
  delete env.CALICO_DATASTORE_TYPE;
  delete env.CALICO_SQLITE_PATH;
  const io: IO = {
    stdout: { write: (s) => void process.stdout.write(s) },
    stderr: { write: (s) => void process.stdout.write(s) },
    readStdin: async () => '',
    env,
  };
  const f = (name: string) => join(examples, name);
  const steps: [string, string[], boolean?][] = [
    ['apply -f 000-nodes.yaml', ['apply', '-f', f('000-nodes.yaml')]],
    ['version', ['version']],
    ['get node -o wide', ['get', 'node', '-o', 'wide']],
    ['label node k8s-test-master-1 i-am-a-route-reflector=true', ['label', 'node', 'k8s-test-master-1', 'i-am-a-route-reflector=true']],
    ['label node k8s-test-master-2 i-am-a-route-reflector=true', ['label', 'node', 'k8s-test-master-2', 'i-am-a-route-reflector=true']],
    [
      `patch node k8s-test-master-1 -p '{"spec":{"bgp":{"routeReflectorClusterID":"224.0.0.1"}}}'`,
      ['patch', 'node', 'k8s-test-master-1', '-p', '{"spec":{"bgp":{"routeReflectorClusterID":"224.0.0.1"}}}'],
    ],
    [
      `patch node k8s-test-master-2 -p '{"spec":{"bgp":{"routeReflectorClusterID":"224.0.0.1"}}}'`,
      ['patch', 'node', 'k8s-test-master-2', '-p', '{"spec":{"bgp":{"routeReflectorClusterID":"224.0.0.1"}}}'],
    ],
    ['get node k8s-test-master-1 -o yaml', ['get', 'node', 'k8s-test-master-1', '-o', 'yaml']],
    ['apply -f 000-reflector-peers.yaml', ['apply', '-f', f('000-reflector-peers.yaml')]],
    ['get bgppeer', ['get', 'bgppeer']],
    ['apply -f 002-ippool.yaml', ['apply', '-f', f('002-ippool.yaml')]],
    ['get ippool -o wide', ['get', 'ippool', '-o', 'wide']],
    ['apply -f 000-service-ips.yaml', ['apply', '-f', f('000-service-ips.yaml')]],
    ['get bgpconfig', ['get', 'bgpconfig']],
    ['get bgpconfig default -o yaml', ['get', 'bgpconfig', 'default', '-o', 'yaml']],
    ['apply -f 003-global-peer.yaml', ['apply', '-f', f('003-global-peer.yaml')]],
    ['get bgppeer -o wide', ['get', 'bgppeer', '-o', 'wide']],
  ];
  process.stdout.write(`tortie demo: the seeds' resources in an embedded SQLite datastore (${dbPath})\n`);
  for (const [line, argv] of steps) {
    const code = await run(io, line, argv);
    if (code !== 0) {
      process.stdout.write(`\ndemo: step failed: tortie ${line}\n`);
      return 1;
    }
  }
  // Bad input is part of the story: a clear line, and nothing stored.
  process.stdout.write(`\n# An IP pool with both IPIP and VXLAN is refused, and nothing is stored:`);
  await run({ ...io, readStdin: async () => 'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: both\nspec:\n  cidr: 10.99.0.0/16\n  ipipMode: Always\n  vxlanMode: Always\n' }, "apply -f - <<EOF ... ipipMode: Always, vxlanMode: Always ... EOF", ['apply', '-f', '-']);
  await run(io, 'get ippool', ['get', 'ippool']);
  process.stdout.write(
    `\nThe datastore stays at ${dbPath}. Explore it with, for example:\n` +
      `  SQLITE_PATH=${dbPath} node bin/tortie.js get bgppeer -o yaml\n` +
      `  SQLITE_PATH=${dbPath} node bin/tortie.js get node -o wide\n`,
  );
  return 0;
}

demo().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`demo: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
