/**
 * `tortie` entry point: `main(argv, io)` parses the global options, dispatches to a verb and
 * turns every failure into one line on stderr with exit status 1 — never a stack trace
 * (set TORTIE_DEBUG=1 to see one). argv excludes the node and script paths.
 */
import { UsageError, BINARY, parseArgs } from './args.js';
import { runBgp } from './commands/bgp.js';
import { runDelete } from './commands/delete.js';
import { runGet } from './commands/get.js';
import { runIpam } from './commands/ipam.js';
import { runLab } from './commands/lab.js';
import { runLabel } from './commands/label.js';
import { runNode } from './commands/node.js';
import { runPatch } from './commands/patch.js';
import { runVersion } from './commands/version.js';
import { runWrite } from './commands/write.js';
import { TOP_HELP } from './help.js';
import { CommandError, type IO } from './io.js';
import { closeSession, ConnectError } from './session.js';

const LOG_LEVELS = ['panic', 'fatal', 'error', 'warn', 'warning', 'info', 'debug', 'trace'];

/** A verb; a number it returns is the exit status (`lab exec` passes its command's on). */
type Runner = (args: string[], io: IO) => Promise<void | number>;

const COMMANDS: Record<string, Runner> = {
  create: (a, io) => runWrite('create', a, io),
  apply: (a, io) => runWrite('apply', a, io),
  replace: (a, io) => runWrite('replace', a, io),
  delete: runDelete,
  get: runGet,
  patch: runPatch,
  label: runLabel,
  version: runVersion,
  ipam: runIpam,
  bgp: runBgp,
  node: runNode,
  lab: runLab,
};

export async function main(argv: readonly string[], io: IO): Promise<number> {
  // Global options come before the command (docopt OptionsFirst).
  let i = 0;
  const globals: string[] = [];
  while (i < argv.length && argv[i]!.startsWith('-')) {
    globals.push(argv[i]!);
    if ((argv[i] === '-l' || argv[i] === '--log-level' || argv[i] === '--context') && i + 1 < argv.length) globals.push(argv[++i]!);
    i++;
  }
  let gp;
  try {
    gp = parseArgs(globals, [{ long: 'log-level', short: 'l', value: true }, { long: 'context', value: true }, { long: 'allow-version-mismatch' }], argv);
  } catch {
    io.stderr.write(`Invalid option: '${argv.join(' ')}'. Use flag '--help' to read about a specific subcommand.\n`);
    return 1;
  }
  if (gp.help || i >= argv.length) {
    (gp.help ? io.stdout : io.stderr).write(TOP_HELP);
    return gp.help ? 0 : 1;
  }
  const level = gp.opts.get('log-level');
  if (typeof level === 'string' && !LOG_LEVELS.includes(level.toLowerCase())) {
    io.stderr.write(`Unknown log level: ${level}, expected one of: \npanic, fatal, error, warn, info, debug.\n`);
    return 1;
  }
  const command = argv[i]!;
  const args = [...argv.slice(i)];
  if (gp.opts.get('allow-version-mismatch') === true) args.push('--allow-version-mismatch');
  const run = COMMANDS[command];
  if (!run) {
    io.stderr.write(`unknown command: ${JSON.stringify(command)}\n${TOP_HELP}\n`);
    return 1;
  }
  try {
    return (await run(args, io)) ?? 0;
  } catch (e) {
    io.stderr.write(`${messageOf(e)}\n`);
    if (io.env.TORTIE_DEBUG && e instanceof Error && !(e instanceof CommandError || e instanceof UsageError)) io.stderr.write(`${e.stack}\n`);
    return 1;
  } finally {
    await closeSession(io);
  }
}

function messageOf(e: unknown): string {
  if (e instanceof ConnectError) return e.message;
  if (e instanceof CommandError || e instanceof UsageError) return massageError(e.message);
  if (e instanceof Error) return massageError(e.message || e.name);
  return String(e);
}

const UNKNOWN_FIELD = /unknown field "([^"]+)"/;

/**
 * calicoctl's massageError (`calicoctl/calicoctl.go`), applied to every error a command
 * returns: drop the JSON-decoding prefix, and replace a message about an unknown field by
 * `field in document is not recognized or is in the wrong location: <field>`. tortie keeps the
 * location it appends in parentheses (resource, field path, line and column).
 */
export function massageError(msg: string): string {
  const prefix = 'error unmarshaling JSON: while decoding JSON: json: ';
  if (msg.startsWith(prefix)) msg = msg.slice(prefix.length);
  const m = UNKNOWN_FIELD.exec(msg);
  if (m) {
    const rest = msg.slice(m.index + m[0].length);
    const where = /^ \(.*\)$/.test(rest) ? rest : '';
    msg = `field in document is not recognized or is in the wrong location: ${m[1]}${where}`;
  }
  return msg;
}

export { BINARY };
