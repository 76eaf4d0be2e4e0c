/** delete: by `<KIND> <NAME>...` or `-f` (calicoctl `commands/delete.go`). */
import { invalidOption, parseArgs } from '../args.js';
import { describeError } from '../errors.js';
import { executeConfigCommand, errText } from '../execute.js';
import { DELETE_HELP } from '../help.js';
import { CommandError, type IO } from '../io.js';
import { CONFIG_OPTS, FILE_OPTS, NS_OPT } from './common.js';

export async function runDelete(args: string[], io: IO): Promise<void> {
  const p = parseArgs(args.slice(1), [...FILE_OPTS, ...CONFIG_OPTS, NS_OPT, { long: 'skip-not-exists', short: 's' }], args);
  if (p.help) {
    io.stdout.write(DELETE_HELP);
    return;
  }
  const byFile = p.opts.has('filename');
  if (byFile ? p.pos.length > 0 : p.pos.length < 2) throw invalidOption(args);
  const results = await executeConfigCommand(
    p,
    'delete',
    io,
    (rm, r) => rm.delete(r),
    byFile ? undefined : { kind: p.pos[0]!, names: p.pos.slice(1) },
  );
  if (results.fileInvalid) throw new CommandError(`failed to execute command: ${errText(results.err)}`);
  if (results.numResources === 0) {
    if (results.err) throw new CommandError(describeError(results.err));
    io.stdout.write('No resources specified\n');
    return;
  }
  const kind = results.singleKind;
  if (!results.err && results.numHandled > 0) {
    io.stdout.write(kind ? `Successfully deleted ${results.numHandled} '${kind}' resource(s)\n` : `Successfully deleted ${results.numHandled} resource(s)\n`);
  } else if (results.err) {
    throw new CommandError(`hit error: ${describeError(results.err)}`);
  }
  if (results.resErrs.length) {
    const lines = results.resErrs
      .map((e) => (kind ? `Failed to delete '${kind}' resource: ${describeError(e)}\n` : `Failed to delete resource: ${describeError(e)}\n`))
      .join('');
    // calicoctl returns these lines (each ending in a newline) as one error, and prints it with
    // another newline after it.
    throw new CommandError(lines);
  }
}
