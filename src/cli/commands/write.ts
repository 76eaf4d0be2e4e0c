/**
 * create, apply and replace: read resources from `-f`, write each, report as calicoctl does
 * (`commands/create.go`, `apply.go`, `replace.go`), partial-success quirks included.
 */
import { parseArgs, invalidOption, type OptSpec } from '../args.js';
import { executeConfigCommand, goErrList, errText, type Action } from '../execute.js';
import { APPLY_HELP, CREATE_HELP, REPLACE_HELP } from '../help.js';
import { CommandError, type IO } from '../io.js';
import { CONFIG_OPTS, FILE_OPTS, NS_OPT } from './common.js';
import { describeError } from '../errors.js';

interface Verb {
  name: 'create' | 'apply' | 'replace';
  action: Action;
  past: string;
  help: string;
  extra: OptSpec[];
}

const VERBS: Record<Verb['name'], Verb> = {
  create: { name: 'create', action: 'create', past: 'created', help: CREATE_HELP, extra: [{ long: 'skip-exists' }] },
  apply: { name: 'apply', action: 'apply', past: 'applied', help: APPLY_HELP, extra: [] },
  replace: { name: 'replace', action: 'update', past: 'replaced', help: REPLACE_HELP, extra: [] },
};

export async function runWrite(verbName: Verb['name'], args: string[], io: IO): Promise<void> {
  const verb = VERBS[verbName];
  const p = parseArgs(args.slice(1), [...FILE_OPTS, ...CONFIG_OPTS, NS_OPT, ...verb.extra], args);
  if (p.help) {
    io.stdout.write(verb.help);
    return;
  }
  if (p.pos.length > 0 || !p.opts.has('filename')) throw invalidOption(args);

  const results = await executeConfigCommand(p, verb.action, io, (rm, r) =>
    verb.name === 'create' ? rm.create(r) : verb.name === 'apply' ? rm.apply(r) : rm.replace(r),
  );

  if (results.fileInvalid) throw new CommandError(`failed to execute command: ${errText(results.err)}`);
  if (results.numResources === 0) {
    if (results.err) throw new CommandError(describeError(results.err));
    io.stdout.write('No resources specified\n');
    return;
  }
  const kind = results.singleKind;
  if (verb.name === 'replace') {
    if (results.numHandled === 0) {
      const msg =
        results.numResources === 1
          ? `failed to replace '${kind}' resource: ${describeError(results.err)}`
          : kind
            ? `failed to replace any '${kind}' resources: ${describeError(results.err)}`
            : `failed to replace any resources: ${describeError(results.err)}`;
      throw new CommandError(msg);
    }
    if (!results.err) {
      io.stdout.write(kind ? `Successfully replaced ${results.numHandled} '${kind}' resource(s)\n` : `Successfully replaced ${results.numHandled} resource(s)\n`);
      return;
    }
    io.stdout.write(
      kind
        ? `Partial success: replaced the first ${results.numHandled} out of ${results.numResources} '${kind}' resources:\n`
        : `Partial success: replaced the first ${results.numHandled} out of ${results.numResources} resources:\n`,
    );
    throw new CommandError(`hit error: ${describeError(results.err)}`);
  }

  if (results.err) throw new CommandError(describeError(results.err));
  const errs = results.resErrs.map(describeError);
  if (results.numHandled === 0) {
    const msg =
      results.numResources === 1
        ? `failed to ${verb.name} '${kind}' resource: ${goErrList(errs)}`
        : kind
          ? `failed to ${verb.name} any '${kind}' resources: ${goErrList(errs)}`
          : `failed to ${verb.name} any resources: ${goErrList(errs)}`;
    throw new CommandError(msg);
  }
  if (errs.length === 0) {
    io.stdout.write(
      kind ? `Successfully ${verb.past} ${results.numHandled} '${kind}' resource(s)\n` : `Successfully ${verb.past} ${results.numHandled} resource(s)\n`,
    );
    return;
  }
  if (results.numHandled - errs.length > 0) {
    io.stdout.write(
      kind
        ? `Partial success: ${verb.past} the first ${results.numHandled} out of ${results.numResources} '${kind}' resources:\n`
        : `Partial success: ${verb.past} the first ${results.numHandled} out of ${results.numResources} resources:\n`,
    );
  }
  // apply.go alone says `hit error(s):`; create.go says `hit error:`.
  throw new CommandError(`${verb.name === 'apply' ? 'hit error(s)' : 'hit error'}: ${goErrList(errs)}`);
}
