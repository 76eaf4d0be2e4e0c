/**
 * Driving CNI plugins the way a runtime does: exec with CNI_* in the environment and the network
 * configuration on stdin, inside the node's network namespace; a conflist is run plugin by plugin
 * (ADD in order with each result as the next `prevResult`, DEL in reverse), as libcni does.
 */
import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IP_BIN, type Netns } from './netns.js';

// Not agent-lab's REPO: importing it would load the CLI, and bench/cni.ts's worker imports this file.
const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export const REFERENCE_PLUGINS = '/usr/lib/cni';
/** A directory holding `tortie` and `tortie-ipam` (CNI finds plugins by their `type`). */
export const TORTIE_PLUGINS = join(REPO, 'test', 'fixtures', 'cni', 'bin');

export interface PluginRun {
  code: number;
  out: string;
  json: Record<string, any> | undefined;
  ms: number;
}

export interface Attachment {
  containerId: string;
  netns: string;
  ifname?: string;
  args?: Record<string, string>;
}

/** The environment a runtime gives a plugin (CNI spec §"Parameters"). */
export function cniEnv(command: string, a: Attachment, path: string[] = [TORTIE_PLUGINS, REFERENCE_PLUGINS]): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    CNI_COMMAND: command,
    CNI_CONTAINERID: a.containerId,
    CNI_NETNS: a.netns,
    CNI_IFNAME: a.ifname ?? 'eth0',
    CNI_PATH: path.join(':'),
    CNI_ARGS: Object.entries(a.args ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(';'),
  };
}

export function runPlugin(host: Netns, binary: string, command: string, conf: object, a: Attachment, extraEnv: NodeJS.ProcessEnv = {}): Promise<PluginRun> {
  const env: NodeJS.ProcessEnv = { ...cniEnv(command, a), ...extraEnv };
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(IP_BIN, ['netns', 'exec', host.name, binary], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.once('error', reject);
    child.once('close', (code) => {
      let json: Record<string, any> | undefined;
      try {
        json = out.trim() ? (JSON.parse(out) as Record<string, any>) : undefined;
      } catch {
        json = undefined;
      }
      resolve({ code: code ?? 1, out: out + err, json, ms: performance.now() - t0 });
    });
    child.stdin.end(JSON.stringify(conf));
  });
}

/** The plugin binary for a `type` (tortie's, else a reference plugin). */
export function pluginPath(type: string): string {
  return type === 'tortie' || type === 'tortie-ipam' ? join(TORTIE_PLUGINS, type) : join(REFERENCE_PLUGINS, type);
}

/** Runs a conflist as libcni does. ADD returns the last result; DEL/CHECK nothing. Throws with the failing plugin's output. */
export async function runConflist(host: Netns, command: 'ADD' | 'DEL' | 'CHECK', list: { cniVersion: string; name: string; plugins: object[] }, a: Attachment, prevResult?: object): Promise<Record<string, any> | undefined> {
  const plugins = command === 'DEL' ? [...list.plugins].reverse() : list.plugins;
  let prev = prevResult;
  for (const p of plugins) {
    const conf = { ...p, cniVersion: list.cniVersion, name: list.name, ...(prev ? { prevResult: prev } : {}) };
    const r = await runPlugin(host, pluginPath((p as { type: string }).type), command, conf, a);
    if (r.code !== 0) throw new Error(`${(p as { type: string }).type} ${command} failed (${r.code}): ${r.out}`);
    if (command === 'ADD') prev = r.json;
  }
  return command === 'ADD' ? (prev as Record<string, any>) : undefined;
}
