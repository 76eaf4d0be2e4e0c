/**
 * Snapshots of what a test run could leave behind, for the check at the end of the suite
 * (test/zz-last/leftovers.check.ts; the comparison itself is ./leftovers-diff.ts):
 * - network namespaces (/run/netns, with their inode), interfaces and nftables tables of the root
 *   namespace (the tests never add any there — checked anyway);
 * - every process: pid, parent, start time (field 22 of /proc/<pid>/stat), command line, the run's
 *   marker from its environment, its network namespace, and its cwd / open files under the watched
 *   paths — which processes count is decided by the comparison;
 * - paths: test temp dirs (`tl-*`, `tortie-*` under os.tmpdir() and /tmp), /var/run/tortie and its
 *   lab/, /var/lib/tortie, FRR's crash-log dirs /var/tmp/frr/*, /var/lib/cni (podman's libcni
 *   cache) and `tortie-pm-*` cgroups (podman instances of cni-runtime.ts). A mount left below a temp
 *   dir keeps that dir, which is reported. Podman's containers live in those per-instance temp dirs
 *   and cgroups (cni-runtime.ts never uses the machine's podman storage): no `podman ps` needed.
 *
 *   node --import tsx test/helpers/leftovers.ts snapshot <file>    # the baseline (scripts/test.sh)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BASELINE_ENV, isTestTmpName, type ProcInfo, type Snapshot } from './leftovers-diff.js';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Where the tests make temp dirs: os.tmpdir(), and /tmp literally (lab dirs are /tmp/tl-*). */
export const TMP_DIRS = [...new Set([tmpdir(), '/tmp'])];
const SYSTEM_DIRS = ['/var/run/tortie', '/run/tortie', '/var/lib/tortie', '/var/tmp/frr', '/var/lib/cni'];
const CGROUP = '/sys/fs/cgroup';

function list(dir: string): string[] {
  try {
    return readdirSync(dir).map((e) => join(dir, e));
  } catch {
    return [];
  }
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function link(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

/** Under a test temp dir or one of the system dirs the tests may write to? */
function watched(path: string): boolean {
  if (SYSTEM_DIRS.some((d) => path === d || path.startsWith(d + '/'))) return true;
  return TMP_DIRS.some((t) => path.startsWith(t + '/') && isTestTmpName(path.slice(t.length + 1).split('/')[0]!));
}

/** pid, parent and start time from /proc/<pid>/stat (comm, field 2, may hold spaces and parentheses). */
export function procStat(pid: number): { ppid: number; start: string } | undefined {
  const stat = read(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { ppid: Number(rest[1]), start: rest[19] ?? '' };
}

function procInfo(pid: number): ProcInfo | undefined {
  const st = procStat(pid);
  if (!st) return undefined;
  const cmd = (read(`/proc/${pid}/cmdline`) ?? '').split('\0');
  if (cmd.at(-1) === '') cmd.pop();
  const p: ProcInfo = { pid, ppid: st.ppid, start: st.start, cmd };
  const env = read(`/proc/${pid}/environ`);
  const m = env === undefined ? null : new RegExp(`(?:^|\\0)${BASELINE_ENV}=([^\\0]*)`).exec(env);
  if (m) p.marker = m[1];
  const ns = link(`/proc/${pid}/ns/net`);
  if (ns) p.netns = ns;
  const paths = [link(`/proc/${pid}/cwd`), ...list(`/proc/${pid}/fd`).map(link)].filter((x): x is string => !!x && watched(x));
  if (paths.length) p.paths = [...new Set(paths)];
  return p;
}

export function processes(): ProcInfo[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map((d) => procInfo(Number(d)))
    .filter((p): p is ProcInfo => !!p);
}

function namespaces(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of list('/run/netns')) {
    let ino = '';
    try {
      ino = `net:[${statSync(p).ino}]`;
    } catch {
      /* being deleted */
    }
    out[p.slice('/run/netns/'.length)] = ino;
  }
  return out;
}

function nftTables(): string[] {
  if (!existsSync('/usr/sbin/nft') || process.getuid?.() !== 0) return [];
  const r = spawnSync('/usr/sbin/nft', ['list', 'tables'], { encoding: 'utf8', timeout: 10_000 });
  return (r.stdout ?? '').split('\n').flatMap((l) => (l.startsWith('table ') ? [l.slice(6).trim()] : []));
}

function files(): string[] {
  const out: string[] = [];
  for (const t of TMP_DIRS) out.push(...list(t).filter((p) => isTestTmpName(p.slice(t.length + 1))));
  for (const d of ['/var/run/tortie', '/var/run/tortie/lab', '/var/lib/tortie', '/var/tmp/frr']) out.push(...list(d));
  // The dir itself too: podman makes it on its first container, and the CNI runtime helper removes it if the run did.
  if (existsSync('/var/lib/cni')) out.push('/var/lib/cni');
  for (const d of list('/var/lib/cni')) out.push(d, ...list(d));
  // cgroup v2 (/sys/fs/cgroup/tortie-pm-…) and v1 (/sys/fs/cgroup/<controller>/tortie-pm-…)
  for (const c of list(CGROUP)) out.push(...[c, ...list(c)].filter((p) => /\/tortie-pm-[^/]*$/.test(p)));
  return [...new Set(out)].sort();
}

export function takeSnapshot(): Snapshot {
  return {
    takenAt: new Date().toISOString(),
    namespaces: namespaces(),
    interfaces: list('/sys/class/net').map((p) => p.slice('/sys/class/net/'.length)).sort(),
    nftTables: nftTables(),
    files: files(),
    processes: processes(),
  };
}

/** The process that adopts orphans here (pid 1, or a subreaper), found by making an orphan. */
export function findReaper(): number {
  const r = spawnSync('/bin/sh', ['-c', 'sleep 30 </dev/null >/dev/null 2>&1 & echo $!'], { encoding: 'utf8', timeout: 5000 });
  const pid = Number(r.stdout.trim());
  if (!pid) return 1;
  const reaper = procStat(pid)?.ppid ?? 1;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* gone */
  }
  // gone or a zombie (empty cmdline) before anyone takes a snapshot
  for (let i = 0; i < 100 && read(`/proc/${pid}/cmdline`); i++) spawnSync('sleep', ['0.01']);
  return reaper;
}

/** `pid` and its ancestors (parent first), up to but not including pid 1. */
export function ancestry(pid: number): number[] {
  const out: number[] = [];
  for (let p: number | undefined = pid; p && p > 1 && out.length < 64; p = procStat(p)?.ppid) out.push(p);
  return out;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const [verb, file] = process.argv.slice(2);
  if (verb !== 'snapshot' || !file) {
    process.stderr.write('usage: node --import tsx test/helpers/leftovers.ts snapshot <file>\n');
    process.exit(2);
  }
  writeFileSync(file, JSON.stringify(takeSnapshot(), null, 1) + '\n');
}
