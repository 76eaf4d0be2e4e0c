/**
 * `tortie node run`: parses the options and hands over to the agent (`src/agent/index.ts`),
 * which runs until SIGTERM/SIGINT. Loaded on demand so that other commands never load the agent.
 */
import { parseArgs, str, flag, invalidOption } from '../args.js';
import { CommandError, type IO } from '../io.js';

export async function runNodeRun(args: string[], io: IO): Promise<void> {
  // args[0] is 'run'
  const p = parseArgs(
    args.slice(1),
    [
      { long: 'name', value: true },
      { long: 'run-dir', value: true },
      { long: 'ip', value: true },
      { long: 'ip6', value: true },
      { long: 'ip-autodetection-method', value: true },
      { long: 'ip6-autodetection-method', value: true },
      { long: 'as', value: true },
      { long: 'metrics-port', value: true },
      { long: 'log-level', value: true },
      { long: 'config', short: 'c', value: true },
      { long: 'secrets-dir', value: true },
      { long: 'state-dir', value: true },
      { long: 'no-dataplane' },
      { long: 'allow-version-mismatch' },
    ],
    args,
  );
  if (p.pos.length) throw invalidOption(args);
  const { runAgent } = await import('../../agent/index.js');
  const { parseLogLevel } = await import('../../agent/log.js');
  let logLevel;
  try {
    logLevel = parseLogLevel(str(p, 'log-level') ?? io.env.LOG_LEVEL);
  } catch (e) {
    throw new CommandError((e as Error).message);
  }
  const mp = str(p, 'metrics-port');
  if (mp !== undefined && !/^\d+$/.test(mp)) throw new CommandError(`invalid --metrics-port ${JSON.stringify(mp)}: expected a port number (0 disables metrics)`);
  const metricsPort = mp === undefined ? undefined : Number(mp);
  if (metricsPort !== undefined && metricsPort > 65535) throw new CommandError(`invalid --metrics-port ${mp}: expected 0–65535`);
  const opt = (k: string) => str(p, k);
  try {
    await runAgent({
      ...(opt('name') ? { name: opt('name')! } : {}),
      ...(opt('run-dir') ? { runDir: opt('run-dir')! } : {}),
      ...(opt('ip') ? { ip: opt('ip')! } : {}),
      ...(opt('ip6') ? { ip6: opt('ip6')! } : {}),
      ...(opt('ip-autodetection-method') ? { ipAutodetectionMethod: opt('ip-autodetection-method')! } : {}),
      ...(opt('ip6-autodetection-method') ? { ip6AutodetectionMethod: opt('ip6-autodetection-method')! } : {}),
      ...(opt('as') ? { as: opt('as')! } : {}),
      ...(metricsPort !== undefined ? { metricsPort } : {}),
      ...(opt('config') ? { configPath: opt('config')! } : {}),
      ...(opt('secrets-dir') ? { secretsDir: opt('secrets-dir')! } : {}),
      ...(opt('state-dir') ? { stateDir: opt('state-dir')! } : {}),
      dataplane: !flag(p, 'no-dataplane'),
      logLevel,
      env: io.env,
      logWrite: (line) => io.stderr.write(line),
    });
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'STARTUP' || code === 'AUTODETECT') throw new CommandError((e as Error).message);
    throw e;
  }
}
