/**
 * `tortie bgp run|status|routes` as a user runs them: two speaker processes on loopback peering
 * with each other, queried over their control sockets; SIGHUP reloads the file; SIGTERM stops
 * the process; bad configuration files are refused with a line that names the problem.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliHarness } from './harness.js';
import { parseBgpConfig } from '../../src/cli/bgp-config.js';

const dir = mkdtempSync(join(tmpdir(), 'tortie-bgpd-'));
const procs: ChildProcess[] = [];
const h = new CliHarness();

function startDaemon(name: string, yaml: string): { proc: ChildProcess; socket: string; file: string } {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, yaml);
  const socket = join(dir, `${name}.sock`);
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/cli/bin.ts', 'bgp', 'run', '--config', file, '--socket', socket], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  procs.push(proc);
  return { proc, socket, file };
}

async function until<T>(f: () => Promise<T | undefined | false>, ms = 20_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v) return v;
    if (Date.now() - t0 > ms) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const base = (n: number) => 17900 + ((process.pid * 7 + n) % 900);

describe('tortie bgp run / status / routes', () => {
  after(() => {
    for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    h.cleanup();
  });

  let a: ReturnType<typeof startDaemon>;
  let b: ReturnType<typeof startDaemon>;
  const aPort = base(1);
  const bPort = base(2);
  const aYaml = (extra = '') => `routerId: 10.0.0.1
asNumber: 65001
listen: {address: 127.0.0.51, port: ${aPort}}
peers:
- address: 127.0.0.52
  port: ${bPort}
  asNumber: 65002
  localAddress: 127.0.0.51
  holdTime: 9
originate:
- prefix: 10.244.1.0/26
  communities: ["65001:100"]
${extra}`;

  before(() => {
    a = startDaemon('a', aYaml());
    b = startDaemon(
      'b',
      `routerId: 10.0.0.2
asNumber: 65002
listen: {address: 127.0.0.52, port: ${bPort}}
peers:
- {address: 127.0.0.51, port: ${aPort}, asNumber: 65001, localAddress: 127.0.0.52, passive: true}
`,
    );
  });

  it('status shows the peer Established, routes shows the received route (table and JSON)', async () => {
    await until(async () => {
      const r = await h.run(['bgp', 'status', '--socket', b.socket, '-o', 'json']);
      // Established, and the peer's UPDATE in (it follows the OPEN exchange by a few ms).
      return r.code === 0 && JSON.parse(r.out)[0]?.state === 'Established' && JSON.parse(r.out)[0]?.prefixes?.received === 1;
    });
    const table = await h.ok(['bgp', 'status', '--socket', b.socket]);
    assert.match(table, /^PEER\s+AS\s+STATE\s+SINCE\s+RECEIVED\s+ACCEPTED\s+ADVERTISED\s+INFO\s*$/m);
    assert.match(table, /^127\.0\.0\.51:\d+\s+65001\s+Established\s+\d\d:\d\d:\d\d\s+1\s+1\s+\d+/m);
    const routes = JSON.parse(await h.ok(['bgp', 'routes', '--socket', b.socket, '-o', 'json']));
    assert.equal(routes.length, 1);
    assert.deepEqual(
      { prefix: routes[0].prefix, nextHop: routes[0].nextHop, asPath: routes[0].asPath, communities: routes[0].communities, best: routes[0].best },
      { prefix: '10.244.1.0/26', nextHop: '127.0.0.51', asPath: [65001], communities: ['65001:100'], best: true },
    );
    const one = await h.ok(['bgp', 'routes', '10.244.1.0/26', '--socket', b.socket]);
    assert.match(one, /^10\.244\.1\.0\/26\s+127\.0\.0\.51\s+65001\s+IGP\s+65001:100\s+\* only-path\s+127\.0\.0\.51\s*$/m);
  });

  it('SIGHUP re-reads the file: a new prefix is announced without resetting the session', async () => {
    const before = JSON.parse(await h.ok(['bgp', 'status', '--socket', b.socket, '-o', 'json']))[0].since;
    writeFileSync(a.file, aYaml('- prefix: 10.244.2.0/26\n'));
    a.proc.kill('SIGHUP');
    await until(async () => {
      const r = JSON.parse(await h.ok(['bgp', 'routes', '--socket', b.socket, '-o', 'json']));
      return r.some((x: { prefix: string }) => x.prefix === '10.244.2.0/26');
    });
    assert.equal(JSON.parse(await h.ok(['bgp', 'status', '--socket', b.socket, '-o', 'json']))[0].since, before);
  });

  it('SIGTERM stops the speaker; status then says no speaker is running', async () => {
    const exited = new Promise<number | null>((r) => a.proc.once('exit', (code) => r(code)));
    a.proc.kill('SIGTERM');
    assert.equal(await exited, 0);
    const r = await h.run(['bgp', 'status', '--socket', a.socket]);
    assert.equal(r.code, 1);
    assert.match(r.err, /^no speaker is running at .*a\.sock \((ENOENT|ECONNREFUSED)\)\n$/);
  });

  it('started again after a graceful stop, the speaker comes back as restarting (R bit, deferral)', async () => {
    const again = startDaemon('a', aYaml());
    let log = '';
    again.proc.stderr!.on('data', (c: Buffer) => (log += c.toString()));
    await until(async () => /"msg":"speaker running".*"restarting":true/.test(log) || undefined);
    await until(async () => {
      const r = await h.run(['bgp', 'status', '--socket', b.socket, '-o', 'json']);
      const st = r.code === 0 ? JSON.parse(r.out)[0] : undefined;
      return st?.state === 'Established' && st.negotiated?.gracefulRestart?.restarting === true;
    });
    await until(async () => /selection deferral over/.test(log) || undefined);
    const exited = new Promise((r) => again.proc.once('exit', r));
    again.proc.kill('SIGTERM');
    await exited;
  });

  it('bad configuration files are refused with one line naming the problem', async () => {
    const bad = (yaml: string) => {
      try {
        parseBgpConfig(yaml, 'bgp.yaml');
        return 'accepted';
      } catch (e) {
        return (e as Error).message;
      }
    };
    assert.equal(bad('routerId: 10.0.0.1\nasNumber: 65001\npeers:\n- address: 10.0.0.2\n  asNumber: 65002\n  holdtime2: 9\n'), 'bgp.yaml: unknown key "holdtime2" at peers.holdtime2 (line 6, column 3)');
    assert.equal(bad('asNumber: 65001\n'), 'bgp.yaml: routerId: is required');
    assert.equal(bad('routerId: 10.0.0.1\nasNumber: 65001\noriginate:\n- prefix: 10.244.1.1/26\n'), 'bgp.yaml: originate[0].prefix: "10.244.1.1/26" has host bits set (did you mean 10.244.1.0/26?)');
    assert.equal(bad('routerId: 10.0.0.1\nasNumber: 65001\npeers:\n- {address: 10.0.0.2, asNumber: 65002, nextHopMode: myself}\n'), 'bgp.yaml: peers[0].nextHopMode: "myself" is not one of auto, self, keep');
    assert.equal(bad('routerId: 10.0.0.1\nasNumber: 65001\npeers:\n- {address: 10.0.0.2, asNumber: x}\n'), 'bgp.yaml: invalid AS Number format (x) at peers.asNumber (line 4, column 33)');
    assert.equal(bad('routerId: 10.0.0.1\nasNumber: "1.10"\n'), 'accepted', 'asdot form');
    assert.equal(
      bad('routerId: 10.0.0.1\nasNumber: 1.10\n'),
      'bgp.yaml: expected a string, got a number (an AS number in asdot form must be quoted, e.g. "1.10") at asNumber (line 2, column 11)',
    );
    const r = await h.run(['bgp', 'run', '--config', join(dir, 'missing.yaml'), '--socket', join(dir, 'x.sock')]);
    assert.equal(r.code, 1);
    assert.match(r.err, /^cannot read .*missing\.yaml: no such file\n$/);
  });
});
