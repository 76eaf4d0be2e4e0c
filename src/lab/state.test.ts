import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { datastoreEnv, isAlive, liveProcesses, newState, procStartTime, readState, removeLeftovers, signalRecorded, stopProcesses, teardown, writeState, type ProcPort } from './state.js';

describe('lab state', () => {
  it('round-trips through state.json (atomically written, nothing else left in the dir)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tortie-labstate-'));
    try {
      const st = newState('demo', dir, '/x/demo.yaml');
      st.namespaces.push('tl-demo-br-lan', 'tl-demo-a');
      st.processes.push({ pid: 123, startTime: '456', role: 'agent a' });
      st.nodes.push({ name: 'a', kind: 'host', netns: 'tl-demo-a', address: '10.0.0.1', runDir: join(dir, 'a/run') });
      writeState(st);
      assert.deepEqual(readState(dir), st);
      assert.ok(!existsSync(join(dir, 'state.json.tmp')));
      assert.equal(readState(join(dir, 'nope')), undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('never signals a recycled PID: the start time must match', () => {
    const killed: [number, string][] = [];
    const procs: ProcPort = { startTime: (pid) => (pid === 10 ? '1000' : pid === 11 ? '2000' : undefined), kill: (pid, sig) => void killed.push([pid, sig]) };
    const same = { pid: 10, startTime: '1000', role: 'agent a' };
    const recycled = { pid: 11, startTime: '1999', role: 'agent b' }; // PID 11 is someone else now
    const gone = { pid: 12, startTime: '3000', role: 'bird r' };
    assert.equal(isAlive(same, procs), true);
    assert.equal(isAlive(recycled, procs), false);
    assert.equal(isAlive(gone, procs), false);
    assert.equal(signalRecorded(recycled, 'SIGKILL', procs), false);
    assert.equal(signalRecorded(gone, 'SIGKILL', procs), false);
    assert.equal(signalRecorded(same, 'SIGTERM', procs), true);
    assert.deepEqual(killed, [[10, 'SIGTERM']]);
    const st = newState('x', '/nonexistent');
    st.processes.push(same, recycled, gone);
    assert.deepEqual(liveProcesses(st, procs), [same]);
  });

  it('stops real processes: TERM, then KILL for one that ignores TERM; a wrong start time is left alone', async () => {
    const polite = spawn('sleep', ['30'], { stdio: 'ignore' });
    const stubborn = spawn('sh', ['-c', 'trap "" TERM; while :; do sleep 0.1; done'], { stdio: 'ignore' });
    const bystander = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 100));
      const rec = (pid: number, role: string) => ({ pid, startTime: procStartTime(pid)!, role });
      const p1 = rec(polite.pid!, 'polite');
      const p2 = rec(stubborn.pid!, 'stubborn');
      // The bystander has the recorded PID but not the recorded start time: as if recycled.
      const p3 = { pid: bystander.pid!, startTime: String(Number(procStartTime(bystander.pid!)) - 1), role: 'old' };
      const t0 = Date.now();
      await stopProcesses([p1, p2, p3], 500);
      assert.ok(Date.now() - t0 < 4000);
      assert.equal(isAlive(p1), false);
      assert.equal(isAlive(p2), false);
      assert.equal(bystander.exitCode, null);
      assert.ok(procStartTime(bystander.pid!), 'the bystander still runs');
    } finally {
      for (const c of [polite, stubborn, bystander]) c.kill('SIGKILL');
    }
  });

  it('leftovers (FRR crash-log dirs) go only once no process has the PID', () => {
    const base = mkdtempSync(join(tmpdir(), 'tortie-labstate-'));
    try {
      const gone = join(base, 'bgpd.12'), reused = join(base, 'zebra.13');
      for (const d of [gone, reused]) mkdirSync(d);
      const procs: ProcPort = { startTime: (pid) => (pid === 13 ? '999' : undefined), kill: () => undefined };
      removeLeftovers([{ pid: 12, startTime: '1', role: 'bgpd r', leftovers: [gone] }, { pid: 13, startTime: '2', role: 'zebra r', leftovers: [reused] }], procs);
      assert.ok(!existsSync(gone), 'PID 12 is free: its directory goes');
      assert.ok(existsSync(reused), 'PID 13 is someone else now: its directory may be theirs');
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });

  it('the datastore environment: SQLite in the dir (also for old state files), or the etcd endpoint', () => {
    const st = newState('demo', '/x/lab');
    assert.deepEqual(datastoreEnv(st), { DATASTORE_TYPE: 'sqlite', SQLITE_PATH: '/x/lab/tortie.db' });
    st.datastore = { type: 'etcdv3', endpoint: 'http://10.2.98.254:2379', netns: 'tl-demo-etcd' };
    assert.deepEqual(datastoreEnv(st), { DATASTORE_TYPE: 'etcdv3', ETCD_ENDPOINTS: 'http://10.2.98.254:2379' });
  });

  it('teardown removes the directory and is safe to repeat', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tortie-labstate-'));
    const st = newState('demo', dir);
    writeState(st);
    await teardown(st);
    assert.ok(!existsSync(dir));
    await teardown(st);
  });
});
