/**
 * `tortie lab up | down | status | exec | ping`: a whole cluster in network namespaces
 * (src/lab/, docs/lab.md). `up` builds and leaves it running; the others find it again through
 * its state file (`<dir>/state.json`, dir = --dir or /var/run/tortie/lab/<name>).
 *
 * Ctrl-C (SIGINT) or SIGTERM during `up` aborts the build, which removes what it made. The
 * handlers are installed only for the duration of `up`, so `main()` stays usable in-process.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildLab, buildMissing, PACKAGE_ROOT } from '../../lab/build.js';
import { DEFAULT_LAB_ROOT, IP_BIN, liveProcesses, readState, teardown, type LabState } from '../../lab/state.js';
import { LabError, runAsync } from '../../lab/sys.js';
import { checkLabName, parseTopology, TopologyError } from '../../lab/topology.js';
import { flag, invalidOption, parseArgs, str } from '../args.js';
import { LAB_HELP } from '../help.js';
import { CommandError, memoryIO, type IO } from '../io.js';
import { closeSession } from '../session.js';
import { runWrite } from './write.js';
import { labExec, labPing, labStatus, renderSummary } from './lab-status.js';

const LOCATE_OPTS = [
  { long: 'name', value: true },
  { long: 'dir', value: true },
];

export async function runLab(args: string[], io: IO): Promise<number | void> {
  const sub = args[1];
  if (sub === undefined || sub === '-h' || sub === '--help') {
    io.stdout.write(LAB_HELP);
    return;
  }
  try {
    switch (sub) {
      case 'up':
        return await up(args, io);
      case 'down':
        return await down(args, io);
      case 'status':
        return await status(args, io);
      case 'exec':
        return await labExec(args, io, locate);
      case 'ping':
        return await labPing(args, io, locate);
    }
  } catch (e) {
    // Lab and topology errors are for the user as they are: one line (or a few), no stack.
    if (e instanceof LabError || e instanceof TopologyError) throw new CommandError(e.message);
    throw e;
  }
  throw invalidOption(args);
}

/** A topology argument: a file, or the name of a shipped example (examples/lab/<name>.yaml). */
export function resolveTopology(arg: string): string {
  if (existsSync(arg)) return resolve(arg);
  const shipped = join(PACKAGE_ROOT, 'examples', 'lab', `${arg}.yaml`);
  if (/^[a-z0-9-]+$/.test(arg) && existsSync(shipped)) return shipped;
  const examples = existsSync(join(PACKAGE_ROOT, 'examples', 'lab'))
    ? readdirSync(join(PACKAGE_ROOT, 'examples', 'lab'))
        .filter((f) => f.endsWith('.yaml'))
        .map((f) => f.slice(0, -5))
    : [];
  throw new CommandError(`no topology file ${arg}, and no shipped example of that name (examples: ${examples.join(', ') || 'none'})`);
}

async function up(args: string[], io: IO): Promise<void> {
  const p = parseArgs(args.slice(2), [...LOCATE_OPTS, { long: 'replace' }, { long: 'timeout', value: true }, { long: 'keep-on-error' }], args);
  if (p.help) return void io.stdout.write(LAB_HELP);
  if (p.pos.length !== 1) throw invalidOption(args);
  const missing = buildMissing();
  if (missing) throw new CommandError(missing);
  const file = resolveTopology(p.pos[0]!);
  const topo = parseTopology(readFileSync(file, 'utf8'), file);
  const name = str(p, 'name') !== undefined ? checkLabName(str(p, 'name')!) : topo.name;
  const dir = resolve(str(p, 'dir') ?? join(DEFAULT_LAB_ROOT, name));
  const timeout = str(p, 'timeout');
  if (timeout !== undefined && !/^\d+$/.test(timeout)) throw new CommandError(`invalid --timeout ${JSON.stringify(timeout)}: seconds expected`);

  // What a previous lab in this directory left: refuse while it runs, else clean it.
  const old = readState(dir);
  if (old) {
    const live = liveProcesses(old);
    if (live.length && !flag(p, 'replace')) {
      throw new CommandError(`lab ${old.name} is running in ${dir} (${live.map((x) => `${x.role} pid ${x.pid}`).join(', ')}): run \`tortie lab down ${old.name}\` first, or pass --replace`);
    }
    io.stderr.write(live.length ? `replacing the running lab ${old.name}…\n` : `removing what the dead lab ${old.name} left…\n`);
    await teardown(old);
  } else if (existsSync(dir) && readdirSync(dir).length) {
    throw new CommandError(`${dir} is not empty and holds no lab (state.json): choose another --dir`);
  }

  const ac = new AbortController();
  const onSignal = (sig: NodeJS.Signals): void => ac.abort(new CommandError(`interrupted by ${sig}: the lab was removed`));
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const t0 = Date.now();
  let st: LabState;
  try {
    st = await buildLab({
      topo,
      name,
      dir,
      topologyPath: file,
      apply: applyYaml,
      progress: (line) => io.stderr.write(`${line}\n`),
      signal: ac.signal,
      keepOnError: flag(p, 'keep-on-error'),
      ...(timeout !== undefined ? { bgpTimeoutMs: Number(timeout) * 1000 } : {}),
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  io.stderr.write(`lab ${name} up in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  io.stdout.write(await renderSummary(st));
}

/**
 * `tortie apply -f -` against the lab's datastore: in-process, or — for an etcd only reachable
 * from the lab's namespaces — as a child process inside `netns`.
 */
async function applyYaml(yaml: string, env: NodeJS.ProcessEnv, netns?: string): Promise<void> {
  if (netns) {
    const argv = [IP_BIN, 'netns', 'exec', netns, process.execPath, join(PACKAGE_ROOT, 'bin', 'tortie.js'), 'apply', '-f', '-'];
    const r = await runAsync(argv, { input: yaml, env: { ...process.env, ...env }, timeoutMs: 60_000 });
    if (r.status !== 0) throw new LabError(`applying the topology's resources failed: ${(r.stderr || r.stdout).trim()}`);
    return;
  }
  const aio = memoryIO({ stdin: yaml, env: { ...process.env, ...env } });
  try {
    await runWrite('apply', ['apply', '-f', '-'], aio);
  } catch (e) {
    throw new LabError(`applying the topology's resources failed: ${(e as Error).message}${aio.out() ? `\n${aio.out().trim()}` : ''}`);
  } finally {
    await closeSession(aio);
  }
}

/**
 * The lab a command means: --dir, else --name / the positional NAME under the default root, else
 * the only lab there is.
 */
export function locate(p: { opts: Map<string, unknown> }, positional?: string): LabState {
  const dirOpt = p.opts.get('dir');
  const nameOpt = (p.opts.get('name') as string | undefined) ?? positional;
  let dir: string;
  if (typeof dirOpt === 'string') dir = resolve(dirOpt);
  else if (nameOpt) dir = join(DEFAULT_LAB_ROOT, checkLabName(nameOpt));
  else {
    const labs = existsSync(DEFAULT_LAB_ROOT) ? readdirSync(DEFAULT_LAB_ROOT).filter((d) => existsSync(join(DEFAULT_LAB_ROOT, d, 'state.json'))) : [];
    if (labs.length !== 1) throw new CommandError(labs.length ? `several labs exist (${labs.join(', ')}): name one` : `no lab found in ${DEFAULT_LAB_ROOT} (tortie lab up <topology>, or give --dir)`);
    dir = join(DEFAULT_LAB_ROOT, labs[0]!);
  }
  const st = readState(dir);
  if (!st) throw new CommandError(`no lab in ${dir} (no state.json)`);
  return st;
}

async function down(args: string[], io: IO): Promise<void> {
  const p = parseArgs(args.slice(2), LOCATE_OPTS, args);
  if (p.help) return void io.stdout.write(LAB_HELP);
  if (p.pos.length > 1) throw invalidOption(args);
  const st = locate(p, p.pos[0]);
  await teardown(st);
  io.stdout.write(`lab ${st.name} removed (${st.namespaces.length} namespaces, ${st.processes.length} processes, ${st.dir})\n`);
}

async function status(args: string[], io: IO): Promise<void> {
  const p = parseArgs(args.slice(2), LOCATE_OPTS, args);
  if (p.help) return void io.stdout.write(LAB_HELP);
  if (p.pos.length > 1) throw invalidOption(args);
  io.stdout.write(await labStatus(locate(p, p.pos[0])));
}
