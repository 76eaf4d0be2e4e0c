/** ipam: `configure` for now (calicoctl `commands/ipam/configure.go`); show/check/release come with IPAM. */
import { getIPAMConfig, setIPAMConfig, IPAMConfigError } from '../../ipam/config.js';
import { invalidOption, parseArgs, str } from '../args.js';
import { IPAM_CONFIGURE_HELP, IPAM_HELP } from '../help.js';
import { CommandError, type IO } from '../io.js';
import { checkVersionMismatch, openClient } from '../session.js';

export async function runIpam(args: string[], io: IO): Promise<void> {
  const sub = args[1];
  if (sub === '-h' || sub === '--help') {
    io.stdout.write(IPAM_HELP);
    return;
  }
  // calicoctl commands/ipam.go: docopt needs <command>; an unrecognised one prints the usage
  // (fmt.Println(doc)) and succeeds.
  if (sub === undefined) throw invalidOption(args);
  if (sub === 'configure') return configure(args, io);
  // calicoctl's other ipam commands, not in tortie yet: say so rather than print the usage.
  if (['check', 'release', 'show', 'split'].includes(sub)) throw new CommandError(`unknown command: ${JSON.stringify(sub)}\n${IPAM_HELP}`);
  io.stdout.write(`${IPAM_HELP}\n`);
}

async function configure(args: string[], io: IO): Promise<void> {
  const p = parseArgs(
    args.slice(2),
    [
      { long: 'strictaffinity', value: true },
      { long: 'max-blocks-per-host', value: true },
      { long: 'kubevirt-ip-persistence', value: true },
      { long: 'config', short: 'c', value: true },
      { long: 'allow-version-mismatch' },
    ],
    args,
  );
  if (p.help) {
    io.stdout.write(IPAM_CONFIGURE_HELP);
    return;
  }
  if (p.pos.length) throw invalidOption(args);
  const mismatch = await checkVersionMismatch(p, io);
  if (mismatch) throw new CommandError(mismatch.message);

  let strict: boolean | undefined;
  const sa = str(p, 'strictaffinity');
  if (sa) {
    const b = parseGoBool(sa);
    if (b === undefined) throw new CommandError('invalid value. Use true or false to set strictaffinity');
    strict = b;
  }
  let maxBlocks: number | undefined;
  const mb = str(p, 'max-blocks-per-host');
  if (mb) {
    if (!/^[+-]?\d+$/.test(mb)) throw new CommandError('invalid value for maxblockhost. Use a valid number');
    maxBlocks = Number(mb);
  }
  let persistence: 'Enabled' | 'Disabled' | undefined;
  const kv = str(p, 'kubevirt-ip-persistence');
  if (kv) {
    if (kv !== 'Enabled' && kv !== 'Disabled') throw new CommandError('invalid value for --kubevirt-ip-persistence. Use Enabled or Disabled');
    persistence = kv;
  }
  if (strict === undefined && maxBlocks === undefined && persistence === undefined) {
    throw new CommandError('at least one configuration option must be specified');
  }
  const client = await openClient(p, io);
  const cfg = await getIPAMConfig(client).catch((e: Error) => {
    throw new CommandError(`error: ${e.message}`);
  });
  if (strict !== undefined) cfg.strictAffinity = strict;
  if (maxBlocks !== undefined) cfg.maxBlocksPerHost = maxBlocks;
  if (persistence !== undefined) cfg.kubeVirtVMAddressPersistence = persistence;
  try {
    await setIPAMConfig(client, cfg);
  } catch (e) {
    if (e instanceof IPAMConfigError || e instanceof Error) throw new CommandError(`error: ${e.message}`);
    throw e;
  }
  if (strict !== undefined) io.stdout.write(`Successfully set StrictAffinity to: ${strict}\n`);
  if (maxBlocks !== undefined) io.stdout.write(`Successfully set MaxBlocksPerHost to: ${maxBlocks}\n`);
  if (persistence !== undefined) io.stdout.write(`Successfully set KubeVirtVMAddressPersistence to: ${persistence}\n`);
}

/** strconv.ParseBool. */
function parseGoBool(s: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false;
  return undefined;
}
