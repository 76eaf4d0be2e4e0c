import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeLeftovers, findLeftovers, isCandidate, ownerOf, ownerPid, type Context, type ProcInfo, type Snapshot } from './leftovers-diff.js';

const RUN = '/tmp/tortie-leftovers-abc123.json';
const ctx: Context = { repo: '/src/tortie', tmpDirs: ['/tmp'], marker: RUN, self: [500, 400], neutral: [1] };

const proc = (pid: number, ppid: number, cmd: string, extra: Partial<ProcInfo> = {}): ProcInfo => ({ pid, ppid, start: `${pid}00`, cmd: cmd.split(' '), ...extra });
// always there: init, a login shell, the runner (400) and this check (500)
const base = [proc(1, 0, '/sbin/init'), proc(300, 1, 'bash'), proc(400, 300, 'node --test a.test.ts', { marker: RUN }), proc(500, 400, 'node /src/tortie/test/zz-last/leftovers.check.ts', { marker: RUN })];
const snap = (s: Partial<Snapshot> = {}): Snapshot => ({ takenAt: '', namespaces: {}, interfaces: ['lo', 'eth0'], nftTables: [], files: [], processes: base, ...s });
const ids = (b: Snapshot | undefined, c: Snapshot, x: Context = ctx) => findLeftovers(b, c, x).map((l) => `${l.kind} ${l.id}`);

describe('findLeftovers', () => {
  it('reports what is new: namespace, interface, nft table, process, path', () => {
    const baseline = snap({ namespaces: { old: 'net:[1]' }, files: ['/tmp/tl-keep12'] });
    const current = snap({
      namespaces: { old: 'net:[1]', 'tt-leak-test': 'net:[2]' },
      interfaces: ['lo', 'eth0', 'cali0123'],
      nftTables: ['inet tortie'],
      files: ['/tmp/tl-keep12', '/tmp/tortie-etcd-Ab12Cd', '/var/tmp/frr/bgpd.777'],
      processes: [...base, proc(900, 1, '/usr/sbin/bird -c /tmp/tortie-bird2-123-Xy12Zz/bird.conf')],
    });
    assert.deepEqual(ids(baseline, current), ['namespace tt-leak-test', 'interface cali0123', 'nft inet tortie', 'process 900', 'path /tmp/tortie-etcd-Ab12Cd', 'path /var/tmp/frr/bgpd.777']);
    const msg = describeLeftovers(findLeftovers(baseline, current, ctx), RUN);
    assert.match(msg, /left 6 thing\(s\) behind \(compared with the baseline \/tmp\/tortie-leftovers-abc123\.json\)/);
    assert.match(msg, /- process: process 900 \(parent 1\): \/usr\/sbin\/bird -c \/tmp\/tortie-bird2-123-Xy12Zz\/bird\.conf/);
    assert.match(msg, /- namespace: network namespace tt-leak-test \(\/run\/netns\/tt-leak-test\)/);
  });

  it('nothing new, nothing reported; the check, its runner and their children never count', () => {
    const current = snap({ processes: [...base, proc(501, 500, 'ip netns list', { marker: RUN }), proc(502, 500, 'sleep 1')] });
    assert.deepEqual(ids(snap(), current), []);
  });

  it('a process is known by pid AND start time: a recycled pid is new', () => {
    const baseline = snap({ processes: [...base, proc(900, 1, '/usr/bin/etcd --data-dir /var/lib/etcd')] });
    assert.deepEqual(ids(baseline, baseline), []);
    const reused = snap({ processes: [...base, { ...proc(900, 1, '/usr/bin/etcd --data-dir /tmp/tortie-etcd-Zz9Yy8'), start: '99999' }] });
    assert.deepEqual(ids(baseline, reused), ['process 900']);
  });

  it('processes: test daemons, the run marker, tortie by path; not unrelated ones', () => {
    const mk = (cmd: string, extra: Partial<ProcInfo> = {}) => ids(snap(), snap({ processes: [...base, proc(900, 1, cmd, extra)] }));
    for (const cmd of ['/usr/lib/frr/bgpd -d', '/opt/bird16/usr/sbin/bird -c x', 'python3 /usr/sbin/exabgp x.conf', 'conmon --api-version 1', 'ip -o monitor link', 'sleep 3600', 'node /src/tortie/bin/tortie.js node run', 'cat /tmp/tl-AbCdEf/state.json']) {
      assert.deepEqual(mk(cmd), ['process 900'], cmd);
    }
    assert.deepEqual(mk('cat', { marker: RUN }), ['process 900'], 'anything with the run marker');
    assert.deepEqual(mk('/usr/sbin/sshd -D'), []);
    assert.deepEqual(mk('cat /tmp/tortie-bench-build/x'), [], 'bench/ files are not the tests');
  });

  it('processes held by a live process outside the run are not blamed on it', () => {
    const other = [proc(600, 1, 'bash'), proc(601, 600, 'node --import tsx bench/convergence.ts')];
    const current = snap({
      processes: [
        ...base,
        ...other,
        proc(602, 601, '/usr/bin/node /src/tortie/bin/tortie.js node run --run-dir /tmp/tortie-bench-cv0-601-Ab12Cd'),
        proc(603, 601, '/usr/sbin/bird -c /tmp/tortie-bird2-601-Xy12Zz/bird.conf'),
        proc(604, 1, 'bird -c x', { marker: '/tmp/tortie-leftovers-other1.json' }),
        // orphans of this run: a podman container under its (leaked) conmon
        proc(700, 1, 'conmon -c abc --exit-dir /tmp/tortie-pm-123-AbCdEf/x'),
        proc(701, 700, 'sleep 3600'),
      ],
    });
    assert.deepEqual(ids(snap(), current), ['process 700', 'process 701']);
    const procs = new Map(current.processes.map((p) => [p.pid, p]));
    assert.equal(ownerOf(procs.get(603)!, procs, ctx), 'foreign');
    assert.equal(ownerOf(procs.get(604)!, procs, ctx), 'foreign', 'another run of the suite');
    assert.equal(ownerOf(procs.get(502) ?? proc(502, 500, 'x'), procs, ctx), 'self');
    // a subreaper that adopts orphans is where the walk stops
    const sub = { ...ctx, neutral: [300, 1] };
    assert.equal(ownerOf(proc(800, 300, 'bird -c y'), new Map([...procs, [800, proc(800, 300, 'bird -c y')]]), sub), 'ours');
  });

  it('names tagged with a live foreign owner are not blamed on the run; a dead owner is', () => {
    const bench = [proc(600, 1, 'bash'), proc(601, 600, 'node --import tsx bench/rr.ts'), proc(610, 600, 'bash'), proc(611, 610, '/usr/lib/frr/bgpd -A 127.0.0.1')];
    const current = snap({
      namespaces: { 't601-rr1': 'net:[5]', 't999-lan': 'net:[6]', 'tl-seed-r1': 'net:[7]', 'tl-bench-r1': 'net:[8]' },
      files: ['/tmp/tortie-netns-601-QE33xh', '/tmp/tortie-netns-999-QE33xh', '/sys/fs/cgroup/memory/tortie-pm-601-1', '/sys/fs/cgroup/memory/tortie-pm-999-1', '/var/tmp/frr/bgpd.611', '/var/tmp/frr/zebra.612', '/tmp/tl-Held12', '/tmp/tl-Free12'],
      processes: [...base, ...bench, proc(620, 601, 'node x', { netns: 'net:[8]', paths: ['/tmp/tl-Held12/r1/bird.ctl'] })],
    });
    assert.deepEqual(ids(snap(), current), [
      'namespace t999-lan',
      'namespace tl-seed-r1',
      'path /sys/fs/cgroup/memory/tortie-pm-999-1',
      'path /tmp/tl-Free12',
      'path /tmp/tortie-netns-999-QE33xh',
      'path /var/tmp/frr/zebra.612',
    ]);
  });

  it('without a baseline: tortie-owned names only', () => {
    const current = snap({
      namespaces: { 't999-lan': '', 'tl-seed-r1': '', 'netns-1234-abcd': '', docker1: '' },
      interfaces: ['lo', 'eth0', 'docker0'],
      nftTables: ['inet filter'],
      files: ['/tmp/tortie-etcd-Ab12Cd', '/tmp/tl-Free12', '/tmp/tortie-ingest-Ab12Cd', '/var/tmp/frr/bgpd.777', '/var/lib/cni/results', '/var/lib/tortie/tortie.db', '/sys/fs/cgroup/tortie-pm-999-1'],
      processes: [...base, proc(900, 1, '/usr/sbin/bird -c /etc/bird.conf'), proc(901, 1, 'node /src/tortie/bin/tortie.js node run'), proc(902, 1, 'sleep 100')],
    });
    const alone = { ...ctx, marker: undefined };
    assert.deepEqual(ids(undefined, current, alone), ['namespace t999-lan', 'namespace tl-seed-r1', 'process 901', 'path /sys/fs/cgroup/tortie-pm-999-1', 'path /tmp/tl-Free12', 'path /tmp/tortie-etcd-Ab12Cd']);
    assert.match(describeLeftovers(findLeftovers(undefined, current, alone)), /no baseline \(run on its own\): tortie-owned names only/);
  });
});

describe('helpers', () => {
  it('ownerPid reads the pid tags of netns.ts, cni-runtime.ts and FRR', () => {
    assert.equal(ownerPid('namespace', 't1234-r1-lan'), 1234);
    assert.equal(ownerPid('namespace', 'tl-seed-r1'), undefined);
    assert.equal(ownerPid('path', '/tmp/tortie-cni-state-77-Ab12Cd'), 77);
    assert.equal(ownerPid('path', '/tmp/tortie-pm-77-Ab12Cd/root/x'), 77);
    assert.equal(ownerPid('path', '/sys/fs/cgroup/pids/tortie-pm-77-3'), 77);
    assert.equal(ownerPid('path', '/var/tmp/frr/bgpd.88'), 88);
    assert.equal(ownerPid('path', '/tmp/tortie-etcd-123456'), undefined);
  });

  it('isCandidate looks at the script an interpreter runs', () => {
    assert.ok(isCandidate(proc(9, 1, '/usr/bin/python3 /usr/sbin/exabgp c'), ctx));
    assert.ok(!isCandidate(proc(9, 1, '/usr/bin/python3 /usr/bin/pip'), ctx));
    assert.ok(isCandidate(proc(9, 1, 'node --run-dir=/tmp/tl-AbCdEf/h1'), ctx), '--opt=path');
  });
});
