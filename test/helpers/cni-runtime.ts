/**
 * Real CNI runtimes for tests: a libcni client (what containerd / CRI-O use under the hood) and
 * podman 4.3 with its CNI backend, both driving plugins from the NODE's network namespace (a
 * `Netns` from ./netns.ts), so the host side of a pod (veth, routes, sysctls) lands there and the
 * root namespace is never touched.
 *
 * libcni: `test/fixtures/cni/cniclient/main.go`, built once (GOPATH mode, offline, from Debian's
 * golang-github-appc-cni-dev) into `node_modules/.cache/tortie/cni/cniclient` (by
 * scripts/setup.sh, or here on first use; rebuilt when main.go changes). It runs through
 * `ip netns exec <node>` (so /sys also shows the node's interfaces, as on a real node). libcni
 * injects name/cniVersion/prevResult/runtimeConfig, passes CNI_ARGS from `args`, and caches results
 * for CHECK/DEL in a per-instance temp dir (not /var/lib/cni).
 *
 * podman: the settings lab-recipe.md §6 found necessary on this machine, all in a private
 * containers.conf + storage.conf under a temp dir (CONTAINERS_CONF / CONTAINERS_STORAGE_CONF, the
 * machine's podman state and /etc/containers are never read or written):
 * - `runtime = "runc"` (crun 1.8.1 fails: "cgroups in hybrid mode not supported");
 * - `default_ulimits = nofile=1024, nproc=1000` (root lacks CAP_SYS_RESOURCE: setrlimit EPERM);
 * - `cgroup_manager = "cgroupfs"`, `events_logger = "file"`, `lock_type = "file"` (no SHM lock
 *   segment shared with other podman users), `tmp_dir`, graphroot/runroot in the temp dir, `vfs`
 *   storage driver, runc's state dir (`--runtime-flag root=`) in the temp dir too;
 * - `network_backend = "cni"`, `cni_plugin_dirs`, `network_config_dir`;
 * - every podman command runs as `nsenter --net=/run/netns/<node> podman …`: `ip netns exec`
 *   remounts /sys and runc then fails with "no cgroup mount found in mountinfo";
 * - each runtime instance has its own `--cgroup-parent` (/tortie-pm-<pid>-<n>), so every process
 *   podman starts (conmon, the container, exec sessions) can be found and killed by cgroup.
 * No image: each container runs from its own copy of a busybox-static rootfs (`--rootfs <dir>`,
 * the tar cached beside the client, extracted in ~10 ms), so nothing is pulled, imported or cached
 * (a `podman import` would also write containers/image's blob-info cache in /var/lib/containers).
 *
 * What the plugins see (checked by test/integration/cni-runtime.test.ts):
 * - libcni: CNI_ARGS exactly as `args` (in order; `k8sPodArgs()` gives what containerd/CRI-O send:
 *   IgnoreUnknown=1;K8S_POD_NAMESPACE;K8S_POD_NAME;K8S_POD_INFRA_CONTAINER_ID), runtimeConfig only
 *   for capabilities a plugin declares, prevResult on CHECK/DEL from libcni's cache.
 * - podman 4.3: CNI_ARGS is only `IgnoreUnknown=1;K8S_POD_NAME=<container name>` (no
 *   K8S_POD_NAMESPACE, no K8S_POD_INFRA_CONTAINER_ID); CNI_CONTAINERID is the 64-hex container id;
 *   `-p` becomes runtimeConfig.portMappings. Under `nsenter --net=`, /sys still shows the ROOT
 *   namespace's interfaces (use netlink, not /sys/class/net, in a plugin).
 * - Reference portmap 1.1.1 fails CHECK for an IPv4-only pod ("could not check ipv6 dnat: chain
 *   CNI-DN-… not found", upstream containernetworking/plugins#819): a conflist with portmap cannot
 *   pass a libcni CHECK here whatever the main plugin does.
 *
 * Clean-up: `cleanupCniRuntimes()` (call it BEFORE netns.ts's `cleanupAll`, while the node
 * namespaces still exist, so CNI DEL runs in the node namespace) does `podman rm -f -t 0 --all`
 * in the node namespace, then the forced clean-up below. Forced clean-up (also run synchronously on
 * process exit, and by a detached watchdog if this process dies without either): SIGKILL every
 * process in the instance's cgroup parent, remove those cgroups, lazily unmount what is mounted
 * under the temp dir (per-container /dev/shm), `ip netns del` the containers' namespaces
 * (/run/netns/netns-<uuid>, podman's), remove podman's libcni cache entries
 * (/var/lib/cni/results/<network>-<container id>-*, podman 4.3 has no setting for that dir), the
 * temp dir, and /var/lib/cni/results and /var/lib/cni when this test run made them and they are empty.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
  copyFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IP_BIN, runAsync, skipReason as netnsSkipReason, type ExecResult, type Netns } from './netns.js';
import { BASELINE_ENV, type Snapshot } from './leftovers-diff.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Source of the libcni client. */
export const CNICLIENT_SRC = join(ROOT, 'test/fixtures/cni/cniclient');
/** Where the client binary and the image tar are cached (override: TORTIE_CNI_CACHE_DIR). */
export const CNI_CACHE_DIR = process.env.TORTIE_CNI_CACHE_DIR ?? join(ROOT, 'node_modules/.cache/tortie/cni');
/** Debian's reference plugins (containernetworking-plugins). */
export const REFERENCE_PLUGIN_DIR = '/usr/lib/cni';

const GOPATH = '/usr/share/gocode';
const LIBCNI_SRC = join(GOPATH, 'src/github.com/containernetworking/cni/libcni');
const NSENTER = '/usr/bin/nsenter';
const BUSYBOX = '/bin/busybox';

export type CniRuntimeKind = 'libcni' | 'podman';

// ---------------------------------------------------------------------------------------------
// Availability, build and image

function which(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    const p = join(dir || '.', cmd);
    if (existsSync(p)) return p;
  }
  return undefined;
}

let clientBuild: { path?: string; error?: string } | undefined;

/**
 * Path of the built libcni client; builds it first when missing or older than main.go (stamp =
 * sha256 of main.go, as scripts/setup.sh writes it). Throws with the build error.
 */
export function cniClientPath(): string {
  if (!clientBuild) clientBuild = buildClient();
  if (clientBuild.error) throw new Error(clientBuild.error);
  return clientBuild.path!;
}

function buildClient(): { path?: string; error?: string } {
  const src = join(CNICLIENT_SRC, 'main.go');
  const out = join(CNI_CACHE_DIR, 'cniclient');
  const stamp = join(CNI_CACHE_DIR, 'cniclient.sha256');
  let want: string;
  try {
    want = createHash('sha256').update(readFileSync(src)).digest('hex');
  } catch (e) {
    return { error: `libcni client source missing: ${(e as Error).message}` };
  }
  try {
    if (existsSync(out) && readFileSync(stamp, 'utf8').trim() === want) return { path: out };
  } catch {
    /* no stamp: build */
  }
  const go = which('go');
  if (!go) return { error: 'go not installed (apt-get install golang-go; scripts/setup.sh does it)' };
  if (!existsSync(LIBCNI_SRC)) {
    return { error: `libcni source missing (${LIBCNI_SRC}; apt-get install golang-github-appc-cni-dev; scripts/setup.sh does it)` };
  }
  mkdirSync(CNI_CACHE_DIR, { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  const r = spawnSync(go, ['build', '-o', tmp, '.'], {
    cwd: CNICLIENT_SRC,
    encoding: 'utf8',
    timeout: 180_000,
    env: {
      ...process.env,
      GO111MODULE: 'off',
      GOPATH,
      GOCACHE: join(CNI_CACHE_DIR, 'gocache'),
      GOFLAGS: '',
      CGO_ENABLED: '0',
    },
  });
  if (r.error || r.status !== 0) {
    rmSync(tmp, { force: true });
    return { error: `building the libcni client failed: ${r.error?.message ?? ''}${r.stderr ?? ''}`.trim() };
  }
  renameSync(tmp, out); // atomic: concurrent test processes may build at the same time
  writeFileSync(stamp, want + '\n');
  return { path: out };
}

/**
 * The busybox-static rootfs as a tar (cached; rebuilt when /bin/busybox is newer): /bin with
 * busybox and its applets (sh, sleep, ping, ip, nc, wget, …), /etc/passwd and /etc/group for root.
 * Throws when busybox-static is missing.
 */
export function busyboxRootfsTar(): string {
  const out = join(CNI_CACHE_DIR, 'busybox-rootfs.tar');
  if (!existsSync(BUSYBOX)) throw new Error(`${BUSYBOX} missing (apt-get install busybox-static; scripts/setup.sh does it)`);
  if (existsSync(out) && statSync(out).mtimeMs >= statSync(BUSYBOX).mtimeMs) return out;
  mkdirSync(CNI_CACHE_DIR, { recursive: true });
  const rootfs = mkdtempSync(join(tmpdir(), `tortie-rootfs-${process.pid}-`));
  try {
    for (const d of ['bin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'root', 'run', 'var']) mkdirSync(join(rootfs, d));
    copyFileSync(BUSYBOX, join(rootfs, 'bin/busybox'));
    chmodSync(join(rootfs, 'bin/busybox'), 0o755);
    const list = spawnSync(BUSYBOX, ['--list'], { encoding: 'utf8' });
    for (const applet of list.stdout.split('\n')) {
      if (applet && applet !== 'busybox' && !applet.includes('/')) symlinkSync('busybox', join(rootfs, 'bin', applet));
    }
    writeFileSync(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
    writeFileSync(join(rootfs, 'etc/group'), 'root:x:0:\n');
    const tmp = `${out}.${process.pid}.tmp`;
    const r = spawnSync('tar', ['-C', rootfs, '-cf', tmp, '.'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`tar failed: ${r.stderr}`);
    renameSync(tmp, out);
  } finally {
    rmSync(rootfs, { recursive: true, force: true });
  }
  return out;
}

const skipCache = new Map<CniRuntimeKind, string | undefined>();

/**
 * Why tests with this CNI runtime cannot run here (with the reason), or undefined when they can.
 * For 'libcni' this builds the client when needed (a build failure is a skip reason).
 */
export function cniRuntimeSkipReason(kind: CniRuntimeKind): string | undefined {
  if (skipCache.has(kind)) return skipCache.get(kind);
  const reason = computeSkipReason(kind);
  skipCache.set(kind, reason);
  return reason;
}

function computeSkipReason(kind: CniRuntimeKind): string | undefined {
  const ns = netnsSkipReason();
  if (ns) return ns;
  if (kind === 'libcni') {
    try {
      cniClientPath();
    } catch (e) {
      return (e as Error).message;
    }
    return undefined;
  }
  if (!existsSync(NSENTER)) return `${NSENTER} missing (util-linux)`;
  const podmanBin = which('podman');
  if (!podmanBin) return 'podman not installed (apt-get install podman runc; scripts/setup.sh does it)';
  if (!which('runc')) return 'runc not installed: podman 4.3 needs it here, crun fails on this cgroup setup (apt-get install runc)';
  if (!which('conmon')) return 'conmon not installed (comes with podman)';
  if (!existsSync('/sys/fs/cgroup/pids') && !existsSync('/sys/fs/cgroup/cgroup.procs')) return 'no cgroup hierarchy under /sys/fs/cgroup';
  const v = spawnSync(podmanBin, ['--version'], { encoding: 'utf8' });
  if (v.error || v.status !== 0) return `podman does not run: ${v.error?.message ?? v.stderr.trim()}`;
  try {
    busyboxRootfsTar();
  } catch (e) {
    return (e as Error).message;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Results and errors

export interface CniInterface {
  name: string;
  mac?: string;
  sandbox?: string;
}
export interface CniIpConfig {
  version?: string;
  interface?: number;
  address: string;
  gateway?: string;
}
export interface CniRoute {
  dst: string;
  gw?: string;
}
/** A CNI result as libcni prints it (converted to the conflist's cniVersion). */
export interface CniResult {
  cniVersion: string;
  interfaces?: CniInterface[];
  ips?: CniIpConfig[];
  routes?: CniRoute[];
  dns?: { nameservers?: string[]; domain?: string; search?: string[]; options?: string[] };
  [k: string]: unknown;
}

/** A failed CNI operation; `code`/`msg`/`details` when a plugin returned a CNI error object. */
export class CniError extends Error {
  readonly code?: number;
  readonly msg?: string;
  readonly details?: string;
  readonly stderr: string;
  readonly stdout: string;
  readonly status: number | null;

  constructor(what: string, r: ExecResult) {
    let obj: { code?: number; msg?: string; details?: string } | undefined;
    try {
      const o = JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as unknown;
      if (o && typeof o === 'object' && 'code' in o) obj = o as typeof obj;
    } catch {
      /* not a CNI error object */
    }
    super(`${what} failed (exit ${r.status ?? r.signal}): ${r.stderr.trim() || r.stdout.trim()}`);
    this.name = 'CniError';
    this.code = obj?.code;
    this.msg = obj?.msg;
    this.details = obj?.details;
    this.stderr = r.stderr;
    this.stdout = r.stdout;
    this.status = r.status;
  }
}

/** The CNI_ARGS a kubelet-driven runtime (containerd/CRI-O) passes for a pod. */
export function k8sPodArgs(namespace: string, pod: string, infraContainerId: string): Record<string, string> {
  return {
    IgnoreUnknown: '1',
    K8S_POD_NAMESPACE: namespace,
    K8S_POD_NAME: pod,
    K8S_POD_INFRA_CONTAINER_ID: infraContainerId,
  };
}

// ---------------------------------------------------------------------------------------------
// libcni

export interface LibcniOptions {
  /** The node's namespace: the client (and so every plugin) runs there. */
  hostNs: Netns;
  /** Conflist as JSON text or object (a single-plugin .conf is accepted too) … */
  conflist?: string | object;
  /** … or a directory of .conflist/.conf/.json files, with the network `name` to pick (may be omitted when the dir holds one file). */
  confDir?: string;
  network?: string;
  /** CNI_PATH: where plugins are looked up, in order. */
  pluginDirs: string[];
  /** The pod's namespace, e.g. `/run/netns/<name>`. */
  netnsPath: string;
  containerId: string;
  /** default eth0 */
  ifname?: string;
  /** RuntimeConf.Args → CNI_ARGS (see `k8sPodArgs`). Order is kept. */
  args?: Record<string, string>;
  /** RuntimeConf.CapabilityArgs, e.g. { portMappings: [{ hostPort, containerPort, protocol }] }. */
  capabilityArgs?: Record<string, unknown>;
  /** libcni's result cache; default: a temp dir per `libcni()` call, removed by cleanupCniRuntimes. */
  cacheDir?: string;
  /** Extra environment for the client and so for the plugins (e.g. the plugin's datastore settings). */
  env?: NodeJS.ProcessEnv;
  /** 'ip-netns-exec' (default: /sys shows the node's interfaces, as on a real node) or 'nsenter' (--net only, as podman). */
  enter?: 'ip-netns-exec' | 'nsenter';
  timeoutMs?: number;
}

export interface LibcniRuntime {
  /** The conflist file the client reads. */
  readonly conflistPath: string;
  readonly cacheDir: string;
  /** ADD the whole list; the result as libcni returns it. Throws CniError. */
  add(): Promise<CniResult>;
  /** CHECK (with the cached prevResult). Throws CniError. */
  check(): Promise<void>;
  /** DEL (with the cached prevResult when there is one). Throws CniError. */
  del(): Promise<void>;
  /** The result libcni cached after ADD (null when none). */
  cached(): Promise<CniResult | null>;
  /** Runs the client with any command (add|check|del|cached) and returns the raw outcome, never throws. */
  raw(command: 'add' | 'check' | 'del' | 'cached'): Promise<ExecResult>;
}

/** Looks a network up in a conf dir the way libcni.LoadConfList does (files sorted by name). */
export function findConflist(confDir: string, network?: string): string {
  const files = readdirSync(confDir)
    .filter((f) => /\.(conflist|conf|json)$/.test(f))
    .sort();
  if (!network) {
    if (files.length !== 1) throw new Error(`${confDir}: ${files.length} CNI config files; say which network`);
    return join(confDir, files[0]!);
  }
  for (const f of files) {
    try {
      const c = JSON.parse(readFileSync(join(confDir, f), 'utf8')) as { name?: string };
      if (c.name === network) return join(confDir, f);
    } catch {
      /* not JSON: libcni skips it too */
    }
  }
  throw new Error(`no CNI network ${JSON.stringify(network)} in ${confDir} (${files.join(', ') || 'no files'})`);
}

export function libcni(opts: LibcniOptions): LibcniRuntime {
  const client = cniClientPath();
  const work = makeCniTempDir('libcni');
  let conflistPath: string;
  if (opts.conflist !== undefined) {
    conflistPath = join(work, 'net.conflist');
    writeFileSync(conflistPath, typeof opts.conflist === 'string' ? opts.conflist : JSON.stringify(opts.conflist, null, 2));
  } else if (opts.confDir) {
    conflistPath = findConflist(opts.confDir, opts.network);
  } else {
    throw new Error('libcni: give conflist or confDir');
  }
  const cacheDir = opts.cacheDir ?? join(work, 'cache');
  const flags = ['-cache-dir', cacheDir];
  if (opts.args) flags.push('-args', Object.entries(opts.args).map(([k, v]) => `${k}=${v}`).join(';'));
  if (opts.capabilityArgs) flags.push('-capability-args', JSON.stringify(opts.capabilityArgs));
  const env = {
    ...process.env,
    ...opts.env,
    CNI_PATH: opts.pluginDirs.join(':'),
    // the client reads these only as defaults of its flags; make sure none leak in from the caller
    CNICLIENT_ARGS: '',
    CNICLIENT_CAPABILITY_ARGS: '',
  };
  const enter =
    (opts.enter ?? 'ip-netns-exec') === 'nsenter'
      ? [NSENTER, `--net=/run/netns/${opts.hostNs.name}`]
      : [IP_BIN, 'netns', 'exec', opts.hostNs.name];
  const raw = (command: 'add' | 'check' | 'del' | 'cached'): Promise<ExecResult> =>
    runAsync([...enter, client, ...flags, command, conflistPath, opts.netnsPath, opts.containerId, opts.ifname ?? 'eth0'], {
      check: false,
      env,
      timeoutMs: opts.timeoutMs ?? 60_000,
    });
  const must = async (command: 'add' | 'check' | 'del' | 'cached'): Promise<string> => {
    const r = await raw(command);
    if (r.status !== 0) throw new CniError(`libcni ${command} (${opts.containerId}, ${opts.netnsPath})`, r);
    return r.stdout;
  };
  return {
    conflistPath,
    cacheDir,
    raw,
    add: async () => JSON.parse(await must('add')) as CniResult,
    check: async () => void (await must('check')),
    del: async () => void (await must('del')),
    cached: async () => JSON.parse(await must('cached')) as CniResult | null,
  };
}

// ---------------------------------------------------------------------------------------------
// podman

export interface PodmanOptions {
  /** network_config_dir: holds the conflist named `network`. */
  cniConfigDir: string;
  /** cni_plugin_dirs, in order. */
  pluginDirs: string[];
  /** The CNI network every `run` joins (`--network <name>`); the conflist's "name". */
  network: string;
  /** Extra environment for podman, inherited by the CNI plugins it runs. */
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

export interface PodmanRunOptions {
  /** `-p` specs, e.g. '8080:80/tcp' (podman passes them to plugins declaring the portMappings capability). */
  publish?: string[];
  /** More `podman run` flags, e.g. ['--ip', '10.0.0.5']. */
  extraArgs?: string[];
}

export interface PodmanContainer {
  name: string;
  containerId: string;
  /** The container's network namespace (podman's bind mount, /run/netns/netns-<uuid>). */
  netnsPath: string;
  /** The container's init PID (on the host). */
  pid: number;
  /** What podman recorded from the CNI result for `network` (IPAddress, Gateway, MacAddress, …). */
  network: { IPAddress?: string; IPPrefixLen?: number; Gateway?: string; MacAddress?: string; [k: string]: unknown };
  /** Milliseconds `podman run -d` took (CNI ADD included). */
  runMs: number;
}

export interface PodmanRuntime {
  readonly hostNs: Netns;
  readonly dir: string;
  readonly cgroupParent: string;
  /** `podman run -d --name <name> --network <network> --rootfs <busybox copy> cmd…`, then inspect. */
  run(name: string, cmd: string[], opts?: PodmanRunOptions): Promise<PodmanContainer>;
  /** `podman exec <name> cmd…`; throws on a non-zero exit unless check is false. */
  exec(name: string, cmd: string[], opts?: { check?: boolean; timeoutMs?: number }): Promise<ExecResult>;
  /** `podman rm -f -t 0 <name>` (CNI DEL in the node namespace). */
  rm(name: string): Promise<void>;
  /** `podman inspect <name>` (first element). */
  inspect(name: string): Promise<Record<string, any>>;
  /** Any podman command with this instance's settings, in the node namespace. */
  podman(args: string[], opts?: { check?: boolean; timeoutMs?: number }): Promise<ExecResult>;
  /** rm -f every container (in the node namespace while it exists), then the forced clean-up. */
  cleanup(): Promise<void>;
}

interface PodmanState {
  dir: string;
  cgroupParent: string;
  /** container netns names (/run/netns/<name>) */
  netns: Set<string>;
  /** podman's libcni cache files to remove (prefixes under /var/lib/cni/results) */
  cniCache: Set<string>;
}

let runtimeSeq = 0;
const podmanStates = new Set<PodmanState>();

/** podman's libcni result cache (podman 4.3 has no setting for it); it and its parent appear on the first container. */
const CNI_RESULTS = '/var/lib/cni/results';
/** podman's libcni cache dirs, parent first. */
const CNI_CACHE_DIRS = [dirname(CNI_RESULTS), CNI_RESULTS];
/**
 * Those of CNI_CACHE_DIRS this test run made: absent from the run's baseline snapshot (scripts/test.sh),
 * or without one absent when this process first started podman. Removed, deepest first and only when
 * empty (another test file's podman may still be using them), at clean-up.
 */
let cniDirsMade: string[] | undefined;

function noteCniDirs(): void {
  if (cniDirsMade) return;
  let before: string[] | undefined;
  try {
    before = (JSON.parse(readFileSync(process.env[BASELINE_ENV] ?? '', 'utf8')) as Snapshot).files;
  } catch {
    /* no baseline: this process's own look */
  }
  cniDirsMade = CNI_CACHE_DIRS.filter((d) => (before ? !before.includes(d) : !existsSync(d))).reverse();
}

function removeCniDirsMade(): void {
  for (const d of cniDirsMade ?? []) {
    try {
      rmdirSync(d);
    } catch {
      /* not empty, or already gone */
    }
  }
}

export function podman(hostNs: Netns, opts: PodmanOptions): PodmanRuntime {
  const reason = cniRuntimeSkipReason('podman');
  if (reason) throw new Error(`podman unavailable: ${reason}`);
  // Short: conmon's socket paths live below it.
  const dir = mkdtempSync(join(tmpdir(), `tortie-pm-${process.pid}-`));
  const cgroupParent = `/tortie-pm-${process.pid}-${++runtimeSeq}`;
  const st: PodmanState = { dir, cgroupParent, netns: new Set(), cniCache: new Set() };
  noteCniDirs();
  podmanStates.add(st);
  writeCniState();
  for (const d of ['root', 'runroot', 'tmp', 'vartmp', 'runc', 'rootfs']) mkdirSync(join(dir, d));
  const q = (s: string): string => JSON.stringify(s);
  writeFileSync(
    join(dir, 'containers.conf'),
    `# written by test/helpers/cni-runtime.ts (settings from lab-recipe.md §6)
[containers]
# root lacks CAP_SYS_RESOURCE here (hard limits nofile=20000, nproc=96365); podman's defaults fail:
#   setrlimit \`RLIMIT_NOFILE\`: Operation not permitted: OCI permission denied
default_ulimits = ["nofile=1024:1024", "nproc=1000:1000"]

[engine]
# crun 1.8.1: "cgroups in hybrid mode not supported, drop all controllers from cgroupv2"
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = ${q(join(dir, 'events.log'))}
lock_type = "file"
tmp_dir = ${q(join(dir, 'tmp'))}
volume_path = ${q(join(dir, 'root/volumes'))}

[network]
network_backend = "cni"
cni_plugin_dirs = [${opts.pluginDirs.map(q).join(', ')}]
network_config_dir = ${q(opts.cniConfigDir)}
`,
  );
  writeFileSync(
    join(dir, 'storage.conf'),
    `[storage]
driver = "vfs"
runroot = ${q(join(dir, 'runroot'))}
graphroot = ${q(join(dir, 'root'))}
`,
  );
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...opts.env,
    CONTAINERS_CONF: join(dir, 'containers.conf'),
    CONTAINERS_STORAGE_CONF: join(dir, 'storage.conf'),
    CONTAINERS_REGISTRIES_CONF: join(dir, 'registries.conf'),
    TMPDIR: join(dir, 'vartmp'),
  };
  writeFileSync(join(dir, 'registries.conf'), 'unqualified-search-registries = []\n');
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const hostPath = `/run/netns/${hostNs.name}`;

  const pm = (args: string[], o: { check?: boolean; timeoutMs?: number } = {}): Promise<ExecResult> => {
    if (!existsSync(hostPath)) return Promise.reject(new Error(`node namespace ${hostNs.name} is gone`));
    // runc keeps its state under --root (default /run/runc): keep it in the instance dir.
    const global = ['--runtime-flag', `root=${join(dir, 'runc')}`];
    return runAsync([NSENTER, `--net=${hostPath}`, 'podman', ...global, ...args], { env, check: o.check ?? true, timeoutMs: o.timeoutMs ?? timeoutMs });
  };
  const rootfsOf = (name: string): string => join(dir, 'rootfs', name.replace(/[^A-Za-z0-9_.-]/g, '_'));

  const inspect = async (name: string): Promise<Record<string, any>> => {
    const r = await pm(['inspect', '--type', 'container', name]);
    const arr = JSON.parse(r.stdout) as Record<string, any>[];
    if (!arr[0]) throw new Error(`podman inspect ${name}: nothing`);
    return arr[0];
  };

  const runtime: PodmanRuntime = {
    hostNs,
    dir,
    cgroupParent,
    podman: pm,
    inspect,
    async run(name, cmd, o = {}) {
      const rootfs = rootfsOf(name);
      rmSync(rootfs, { recursive: true, force: true });
      mkdirSync(rootfs);
      const x = await runAsync(['tar', '-C', rootfs, '-xf', busyboxRootfsTar()], { check: false });
      if (x.status !== 0) throw new Error(`extracting the busybox rootfs failed: ${x.stderr.trim()}`);
      const args = ['run', '-d', '--name', name, '--network', opts.network, '--cgroup-parent', cgroupParent];
      for (const p of o.publish ?? []) args.push('-p', p);
      args.push(...(o.extraArgs ?? []), '--rootfs', rootfs, ...cmd);
      const t0 = performance.now();
      const r = await pm(args, { check: false });
      const runMs = performance.now() - t0;
      // Record what podman made even when run failed half-way (the container may exist).
      const info = await inspect(name).catch(() => undefined);
      if (info) remember(st, info, opts.network);
      if (r.status !== 0) {
        throw new Error(`podman run ${name} failed (exit ${r.status ?? r.signal}): ${r.stderr.trim() || r.stdout.trim()}`);
      }
      if (!info) throw new Error(`podman run ${name}: container not found afterwards`);
      const netnsPath = String(info.NetworkSettings?.SandboxKey ?? '');
      return {
        name,
        containerId: String(info.Id),
        netnsPath,
        pid: Number(info.State?.Pid ?? 0),
        network: (info.NetworkSettings?.Networks?.[opts.network] ?? {}) as PodmanContainer['network'],
        runMs,
      };
    },
    exec(name, cmd, o = {}) {
      return pm(['exec', name, ...cmd], o);
    },
    async rm(name) {
      await pm(['rm', '-f', '-t', '0', name]);
      rmSync(rootfsOf(name), { recursive: true, force: true });
    },
    async cleanup() {
      if (!podmanStates.has(st)) return;
      if (existsSync(hostPath)) {
        const r = await pm(['rm', '-f', '-t', '0', '--all'], { check: false });
        if (r.status !== 0) process.stderr.write(`cni-runtime: podman rm --all in ${hostNs.name}: ${r.stderr.trim()}\n`);
      }
      forceCleanup(st);
      podmanStates.delete(st);
      writeCniState();
    },
  };
  runtimes.add(runtime);
  return runtime;
}

function remember(st: PodmanState, info: Record<string, any>, network: string): void {
  const key = String(info.NetworkSettings?.SandboxKey ?? '');
  if (key.startsWith('/run/netns/')) st.netns.add(basename(key));
  st.cniCache.add(`${network}-${String(info.Id)}-`);
  writeCniState();
}

// ---------------------------------------------------------------------------------------------
// Clean-up: explicit, on exit, and by a watchdog

const runtimes = new Set<PodmanRuntime>();
const libcniDirs = new Set<string>();
let cniStateDir: string | undefined;
let watchdog: ChildProcess | undefined;

function makeCniTempDir(tag: string): string {
  const d = mkdtempSync(join(tmpdir(), `tortie-${tag}-${process.pid}-`));
  libcniDirs.add(d);
  writeCniState();
  return d;
}

function cgroupDirs(cgroupParent: string): string[] {
  const out: string[] = [];
  const base = '/sys/fs/cgroup';
  if (existsSync(join(base, cgroupParent))) out.push(join(base, cgroupParent)); // cgroup v2
  for (const c of readdirSafe(base)) {
    const d = join(base, c, cgroupParent);
    if (existsSync(d)) out.push(d);
  }
  return out;
}

function readdirSafe(d: string): string[] {
  try {
    return readdirSync(d);
  } catch {
    return [];
  }
}

function cgroupProcs(dirs: string[]): number[] {
  const pids = new Set<number>();
  const walk = (d: string, depth: number): void => {
    try {
      for (const s of readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n')) if (Number(s)) pids.add(Number(s));
    } catch {
      /* gone */
    }
    if (depth < 3) {
      for (const e of readdirSafe(d)) {
        const sub = join(d, e);
        try {
          if (statSync(sub).isDirectory()) walk(sub, depth + 1);
        } catch {
          /* gone */
        }
      }
    }
  };
  for (const d of dirs) walk(d, 0);
  return [...pids];
}

function rmdirTree(d: string): void {
  for (const e of readdirSafe(d)) {
    const sub = join(d, e);
    try {
      if (statSync(sub).isDirectory()) rmdirTree(sub);
    } catch {
      /* gone */
    }
  }
  spawnSync('rmdir', [d]);
}

/** Kills, unmounts and removes everything of one podman instance, without podman (synchronous). */
function forceCleanup(st: PodmanState): void {
  const dirs = cgroupDirs(st.cgroupParent);
  for (let i = 0; i < 50; i++) {
    const pids = cgroupProcs(dirs);
    if (pids.length === 0) break;
    for (const p of pids) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    spawnSync('sleep', ['0.05']);
  }
  for (const d of dirs) rmdirTree(d);
  // per-container /dev/shm tmpfs and anything else podman mounted below the instance dir
  try {
    const targets = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[4] ?? '')
      .filter((t) => t === st.dir || t.startsWith(st.dir + '/'))
      .reverse();
    for (const t of targets) spawnSync('umount', ['-l', t]);
  } catch {
    /* no mountinfo */
  }
  for (const n of st.netns) if (existsSync(`/run/netns/${n}`)) spawnSync(IP_BIN, ['netns', 'del', n]);
  for (const f of readdirSafe(CNI_RESULTS)) {
    for (const prefix of st.cniCache) if (f.startsWith(prefix)) rmSync(join(CNI_RESULTS, f), { force: true });
  }
  rmSync(st.dir, { recursive: true, force: true });
}

function syncCleanup(): void {
  for (const st of podmanStates) forceCleanup(st);
  podmanStates.clear();
  removeCniDirsMade();
  for (const d of libcniDirs) rmSync(d, { recursive: true, force: true });
  libcniDirs.clear();
  if (cniStateDir) rmSync(cniStateDir, { recursive: true, force: true });
  cniStateDir = undefined;
  if (watchdog?.pid) {
    try {
      process.kill(-watchdog.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  watchdog = undefined;
}
process.on('exit', syncCleanup);

/**
 * Removes every podman container (CNI DEL in its node namespace, which must still exist: call
 * this before netns.ts's cleanupAll), then everything else this module made. Idempotent.
 */
export async function cleanupCniRuntimes(): Promise<void> {
  for (const r of [...runtimes]) {
    await r.cleanup();
    runtimes.delete(r);
  }
  for (const d of libcniDirs) rmSync(d, { recursive: true, force: true });
  libcniDirs.clear();
  removeCniDirsMade();
  writeCniState();
}

/** State file read by the watchdog: `cg <parent>`, `netns <name>`, `cni <prefix>`, `dir <path>`, `rmdir <path>` lines. */
function writeCniState(): void {
  if (!cniStateDir) {
    if (podmanStates.size === 0 && libcniDirs.size === 0) return;
    cniStateDir = mkdtempSync(join(tmpdir(), `tortie-cni-state-${process.pid}-`));
    startWatchdog(cniStateDir);
  }
  const lines: string[] = [];
  for (const st of podmanStates) {
    lines.push(`cg ${st.cgroupParent}`);
    for (const n of st.netns) lines.push(`netns ${n}`);
    for (const c of st.cniCache) lines.push(`cni ${c}`);
    lines.push(`dir ${st.dir}`);
  }
  for (const d of libcniDirs) lines.push(`dir ${d}`);
  for (const d of cniDirsMade ?? []) lines.push(`rmdir ${d}`);
  writeFileSync(join(cniStateDir, 'state.tmp'), lines.map((l) => l + '\n').join(''));
  renameSync(join(cniStateDir, 'state.tmp'), join(cniStateDir, 'state'));
}

function startWatchdog(dir: string): void {
  // Same idea as netns.ts: when this process is gone without cleaning up, do the forced clean-up.
  const script = `
me=${process.pid}; d='${dir}'; f="$d/state"
while kill -0 $me 2>/dev/null && [ -d "$d" ]; do sleep 1; done
[ -f "$f" ] || { rm -rf "$d"; exit 0; }
for cg in $(sed -n 's/^cg //p' "$f"); do
  for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
    pids=$(cat /sys/fs/cgroup$cg/cgroup.procs /sys/fs/cgroup$cg/*/cgroup.procs /sys/fs/cgroup/*$cg/cgroup.procs /sys/fs/cgroup/*$cg/*/cgroup.procs 2>/dev/null | sort -u)
    [ -n "$pids" ] || break
    kill -9 $pids 2>/dev/null; sleep 0.1
  done
  for c in /sys/fs/cgroup$cg /sys/fs/cgroup/*$cg; do
    [ -d "$c" ] || continue
    for s in "$c"/*/; do [ -d "$s" ] && rmdir "$s" 2>/dev/null; done
    rmdir "$c" 2>/dev/null
  done
done
for t in $(sed -n 's/^dir //p' "$f"); do
  awk -v t="$t" '$5 == t || index($5, t "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m"; done
done
for n in $(sed -n 's/^netns //p' "$f"); do [ -e "/run/netns/$n" ] && ${IP_BIN} netns del "$n"; done
for c in $(sed -n 's/^cni //p' "$f"); do rm -f ${CNI_RESULTS}/"$c"*; done
for t in $(sed -n 's/^rmdir //p' "$f"); do rmdir "$t" 2>/dev/null; done
for t in $(sed -n 's/^dir //p' "$f"); do rm -rf "$t"; done
rm -rf "$d"`;
  watchdog = spawn('/bin/sh', ['-c', script], { stdio: 'ignore', detached: true });
  watchdog.unref();
}
