/**
 * `tortie bgp run|status|routes`: tortie's BGP engine as a small daemon.
 *  - `run --config FILE [--socket PATH]` runs a speaker from a YAML file, serves status on a
 *    unix socket, logs JSON lines on stderr; SIGTERM/SIGINT stop it (dropping sessions without a
 *    NOTIFICATION, so peers with graceful restart keep its routes), SIGHUP re-reads the file and
 *    converges (declarative: unchanged sessions are not reset).
 *  - `status` and `routes [PREFIX]` ask a running speaker over its socket; `-o json` for scripts.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadBgpConfig, BgpConfigFileError } from '../bgp-config.js';
import { Speaker, type PeerStatus, type RouteEntry } from '../../bgp/speaker.js';
import { queryControl, serveControl, ControlError } from '../../bgp/control.js';
import { BgpConfigError } from '../../bgp/errors.js';
import { invalidOption, parseArgs, str, BINARY } from '../args.js';
import { CommandError, type IO } from '../io.js';
import { tabwrite } from '../tabwriter.js';

export const DEFAULT_BGP_SOCKET = '/var/run/tortie/bgp.sock';

export const BGP_HELP = `Usage:
  ${BINARY} bgp run --config=<FILE> [--socket=<PATH>]
  ${BINARY} bgp status [--socket=<PATH>] [--output=<FMT>]
  ${BINARY} bgp routes [<PREFIX>] [--socket=<PATH>] [--output=<FMT>]

Examples:
  # Run a speaker from a file (foreground; Ctrl-C stops it).
  ${BINARY} bgp run --config /etc/tortie/bgp.yaml

  # Its peers, and the routes it knows, as tables or JSON.
  ${BINARY} bgp status
  ${BINARY} bgp routes 10.244.1.0/26 -o json

Options:
  -h --help               Show this screen.
  -c --config=<FILE>      The speaker's configuration (YAML or JSON; see docs/bgp.md).
  -s --socket=<PATH>      Control socket [default: ${DEFAULT_BGP_SOCKET}].
  -o --output=<FMT>       table (default) or json.

Description:
  tortie's BGP-4 engine on its own: sessions with BIRD, FRR, GoBGP, ExaBGP or other tortie
  speakers, route reflection, graceful restart, and the routes it originates. SIGHUP re-reads
  the configuration; SIGTERM stops it gracefully.
`;

export async function runBgp(args: string[], io: IO): Promise<void> {
  const sub = args[1];
  if (sub === undefined || sub === '-h' || sub === '--help') {
    io.stdout.write(BGP_HELP);
    return;
  }
  const p = parseArgs(
    args.slice(2),
    [
      { long: 'config', short: 'c', value: true },
      { long: 'socket', short: 's', value: true },
      { long: 'output', short: 'o', value: true },
    ],
    args,
  );
  if (p.help) {
    io.stdout.write(BGP_HELP);
    return;
  }
  const socket = str(p, 'socket') ?? DEFAULT_BGP_SOCKET;
  const output = str(p, 'output') ?? 'table';
  if (output !== 'table' && output !== 'json') throw new CommandError(`unrecognized output format '${output}' (use table or json)`);
  try {
    if (sub === 'run') {
      const config = str(p, 'config');
      if (!config || p.pos.length) throw invalidOption(args);
      await runDaemon(config, socket, io);
      return;
    }
    if (sub === 'status') {
      if (p.pos.length) throw invalidOption(args);
      const peers = (await queryControl(socket, { cmd: 'status' })) as PeerStatus[];
      io.stdout.write(output === 'json' ? JSON.stringify(peers, null, 2) + '\n' : statusTable(peers));
      return;
    }
    if (sub === 'routes') {
      if (p.pos.length > 1) throw invalidOption(args);
      const req: { cmd: 'routes'; prefix?: string } = { cmd: 'routes' };
      if (p.pos[0]) req.prefix = p.pos[0];
      const routes = (await queryControl(socket, req)) as RouteEntry[];
      io.stdout.write(output === 'json' ? JSON.stringify(routes, null, 2) + '\n' : routesTable(routes));
      return;
    }
  } catch (e) {
    if (e instanceof BgpConfigFileError || e instanceof BgpConfigError || e instanceof ControlError) throw new CommandError(e.message);
    throw e;
  }
  throw new CommandError(`unknown command: ${JSON.stringify(sub)}\n${BGP_HELP}`);
}

function log(io: IO, level: string, msg: string, fields: Record<string, unknown> = {}): void {
  io.stderr.write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }) + '\n');
}

/**
 * A graceful stop leaves `<socket>.restart`; a start within the restart time finds it and comes
 * back as a restarting speaker (RFC 4724: R bit, selection deferral), so peers that kept our
 * routes are not sent a half table.
 */
function takeRestartMarker(socketPath: string, restartTime: number): boolean {
  const marker = `${socketPath}.restart`;
  try {
    const m = JSON.parse(readFileSync(marker, 'utf8')) as { stoppedAt: number };
    rmSync(marker, { force: true });
    return Date.now() - m.stoppedAt < restartTime * 1000;
  } catch {
    return false;
  }
}

async function runDaemon(configPath: string, socketPath: string, io: IO): Promise<void> {
  let cfg = loadBgpConfig(configPath);
  const gr = cfg.options.gracefulRestart;
  const restartTime = gr === false ? 0 : (gr?.restartTime ?? 120);
  const restarting = restartTime > 0 && takeRestartMarker(socketPath, restartTime);
  const speaker = new Speaker({ ...cfg.options, ...(restarting ? { restarting: true } : {}) });
  speaker.on('peer', (e: { address: string; state: string }) => log(io, 'info', 'peer state', e));
  const port = await speaker.start().catch((e: Error) => {
    throw new CommandError(`cannot listen on ${cfg.options.listen ? `${cfg.options.listen.address}:${cfg.options.listen.port}` : '0.0.0.0:179'}: ${e.message}`);
  });
  const control = await serveControl(socketPath, speaker);
  speaker.setPeers(cfg.peers);
  speaker.setOriginated(cfg.originate);
  log(io, 'info', 'speaker running', {
    routerId: cfg.options.routerId,
    asNumber: cfg.options.asNumber,
    port,
    peers: cfg.peers.length,
    socket: socketPath,
    restarting,
  });
  speaker.on('deferralEnd', (reason: string) => log(io, 'info', 'selection deferral over', { reason }));

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log(io, 'info', 'stopping', { signal });
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      process.off('SIGHUP', onHup);
      void speaker.close({ graceful: true }).then(() => {
        control.close();
        if (restartTime > 0) writeFileSync(`${socketPath}.restart`, JSON.stringify({ stoppedAt: Date.now() }));
        resolve();
      });
    };
    const onTerm = () => stop('SIGTERM');
    const onInt = () => stop('SIGINT');
    const onHup = () => {
      try {
        cfg = loadBgpConfig(configPath);
        speaker.setPeers(cfg.peers);
        speaker.setOriginated(cfg.originate);
        log(io, 'info', 'configuration reloaded', { peers: cfg.peers.length, originate: cfg.originate.length });
      } catch (e) {
        log(io, 'warn', 'configuration not reloaded', { error: (e as Error).message });
      }
    };
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
    process.on('SIGHUP', onHup);
  });
}

/** BIRD-style `since`: the time today, else the date. */
function since(ms: number, now = Date.now()): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  const sameDay = new Date(now).toDateString() === d.toDateString();
  return sameDay ? `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}` : `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

export function statusTable(peers: PeerStatus[]): string {
  const rows = [['PEER', 'AS', 'STATE', 'SINCE', 'RECEIVED', 'ACCEPTED', 'ADVERTISED', 'INFO']];
  for (const p of peers) {
    rows.push([
      p.port === 179 ? p.address : `${p.address}:${p.port}`,
      String(p.asNumber),
      p.state,
      since(p.since),
      String(p.prefixes.received),
      String(p.prefixes.accepted),
      String(p.prefixes.advertised),
      p.established ? '' : (p.lastError ?? ''),
    ]);
  }
  return tabwrite(rows);
}

export function routesTable(routes: RouteEntry[]): string {
  const rows = [['PREFIX', 'NEXTHOP', 'ASPATH', 'ORIGIN', 'LOCALPREF', 'MED', 'COMMUNITIES', 'BEST', 'FROM']];
  for (const r of routes) {
    rows.push([
      r.prefix,
      r.nextHop,
      r.asPath.join(' '),
      r.origin,
      r.localPref === undefined ? '' : String(r.localPref),
      r.med === undefined ? '' : String(r.med),
      [...r.communities, ...r.largeCommunities].join(','),
      r.best ? `* ${r.reason ?? ''}`.trim() : '',
      r.from,
    ]);
  }
  return tabwrite(rows);
}
