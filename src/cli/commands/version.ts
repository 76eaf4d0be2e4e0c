/** version (calicoctl `commands/version.go`): client version and commit, then the cluster's. */
import { parseGoDuration } from '../../api/schema/gofmt.js';
import { GIT_COMMIT, VERSION } from '../../version.js';
import { flag, invalidOption, parseArgs, str } from '../args.js';
import { VERSION_HELP } from '../help.js';
import { CommandError, type IO } from '../io.js';
import { ConnectError, openClient } from '../session.js';
import { ConfigError } from '../../datastore/errors.js';

export async function runVersion(args: string[], io: IO): Promise<void> {
  const p = parseArgs(
    args.slice(1),
    [{ long: 'config', short: 'c', value: true }, { long: 'poll', value: true }, { long: 'allow-version-mismatch' }, { long: 'client' }],
    args,
  );
  if (p.help) {
    io.stdout.write(VERSION_HELP);
    return;
  }
  if (p.pos.length) throw invalidOption(args);
  let pollMs = 0;
  const poll = str(p, 'poll');
  if (poll) {
    try {
      pollMs = Number(parseGoDuration(poll) / 1_000_000n);
    } catch {
      // version.go formats the zero Duration ParseDuration returned, not the input.
      throw new CommandError('invalid poll duration specified: 0s');
    }
  }
  io.stdout.write(`Client Version:    ${VERSION}\n`);
  io.stdout.write(`Git commit:        ${GIT_COMMIT}\n`);
  if (flag(p, 'client')) return;
  let client;
  try {
    client = await openClient(p, io);
  } catch (e) {
    if (e instanceof ConnectError) {
      // A bad or missing config file is returned as an error (exit 1); only a datastore that
      // cannot be opened is reported as undetectable (version.go: ErrorDatastoreError).
      if (e.cause instanceof ConfigError) throw new CommandError((e.cause as Error).message);
      io.stdout.write('Unable to detect installed Calico version\n');
      return;
    }
    throw e;
  }
  let pv = '';
  let pt = '';
  for (;;) {
    let err: Error | undefined;
    try {
      const ci = await client.get({ kind: 'ClusterInformation', name: 'default' });
      const spec = (ci.spec ?? {}) as Record<string, unknown>;
      const v = String(spec.calicoVersion || 'unknown');
      const t = String(spec.clusterType || 'unknown');
      if (pv !== v) io.stdout.write(`Cluster Version:   ${v}\n`);
      if (pt !== t) io.stdout.write(`Cluster Type:      ${t}\n`);
      [pv, pt] = [v, t];
    } catch (e) {
      err = new Error(`unable to retrieve Cluster Version or Type: ${(e as Error).message}`);
      [pv, pt] = ['', ''];
    }
    if (pollMs === 0) {
      if (err) throw new CommandError(err.message);
      return;
    }
    if (err) io.stderr.write(`${err.message}\n`);
    await (io.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms))))(pollMs);
  }
}
