/**
 * label (calicoctl `commands/label.go`): set, overwrite or remove one label, then update the
 * resource with the resourceVersion it was read at. `<kind>` is echoed as typed.
 */
import { flag, invalidOption, parseArgs } from '../args.js';
import { describeError } from '../errors.js';
import { executeConfigCommand, errText } from '../execute.js';
import { LABEL_HELP } from '../help.js';
import { CommandError, type IO } from '../io.js';
import { ResourceManager } from '../resourcemgr.js';
import { CONFIG_OPTS, NS_OPT } from './common.js';

export async function runLabel(args: string[], io: IO): Promise<void> {
  const p = parseArgs(args.slice(1), [...CONFIG_OPTS, NS_OPT, { long: 'overwrite' }, { long: 'remove' }], args);
  if (p.help) {
    io.stdout.write(LABEL_HELP);
    return;
  }
  const remove = flag(p, 'remove');
  if (p.pos.length !== 3 || (remove && flag(p, 'overwrite'))) throw invalidOption(args);
  const [kind, name, kv] = p.pos as [string, string, string];
  let key: string;
  let value = '';
  // docopt binds the third word to `<key>` with --remove and to `<key>=<value>` without it,
  // whatever it contains: `k=v --remove` removes the key "k=v", `k` alone is an invalid label.
  if (remove) {
    key = kv;
  } else {
    const parts = kv.split('=');
    if (parts.length !== 2) throw new CommandError(`invalid label ${kv}`);
    [key, value] = parts as [string, string];
  }

  const results = await executeConfigCommand(p, 'get', io, (rm, r) => rm.get(r), { kind, names: [name] });
  if (results.fileInvalid) throw new CommandError(`failed to execute command: ${errText(results.err)}`);
  if (results.err) throw new CommandError(`failed to get ${kind} ${name}, error ${describeError(results.err)}`);
  const res = results.resources[0];
  if (!res) throw new CommandError(`${kind} ${name} not found`);

  const labels = { ...(res.metadata.labels ?? {}) };
  let overwritten = false;
  if (remove) {
    if (!(key in labels)) throw new CommandError(`cannot remove label of ${kind} ${name}, key ${key} does not exist`);
    delete labels[key];
  } else if (key in labels) {
    if (flag(p, 'overwrite') || labels[key] === value) {
      labels[key] = value;
      overwritten = true;
    } else {
      throw new CommandError(`failed to update label of ${kind} ${name}, key ${key} is already present. please use '--overwrite' to set a new value`);
    }
  } else labels[key] = value;

  res.metadata.labels = labels;
  if (Object.keys(labels).length === 0) delete res.metadata.labels;
  try {
    await new ResourceManager(results.client!, io.sleep).replace(res);
  } catch (e) {
    // calicoctl says only "label not changed"; tortie adds why.
    throw new CommandError(`failed to update ${kind} ${name}, label not changed: ${describeError(e)}`);
  }
  if (remove) io.stdout.write(`Successfully removed label ${key} from ${kind} ${name}\n`);
  else if (overwritten) io.stdout.write(`Successfully updated label ${key} on ${kind} ${name}\n`);
  else io.stdout.write(`Successfully set label ${key} on ${kind} ${name}\n`);
}
