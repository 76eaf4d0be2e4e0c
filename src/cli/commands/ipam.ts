/**
 * `tortie ipam`: calicoctl's `show`, `check`, `release`, `configure` (commands/ipam/*.go, v3.32
 * output), plus `assign` / `unassign` for addresses an operator hands to something that is not
 * a pod.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { IP } from '../../net/index.js';
import type { Client } from '../../datastore/client.js';
import { isDatastoreError } from '../../datastore/errors.js';
import { getIPAMConfig, setIPAMConfig, IPAMConfigError } from '../../ipam/config.js';
import { Ipam, IpamError, partialFulfillmentMessage, type ReleaseItem } from '../../ipam/ipam.js';
import { poolFromResource } from '../../ipam/pools.js';
import { MANUAL_TYPE, checkIPAM, checkReportJSON, utilization } from '../../ipam/report.js';
import { VERSION } from '../../version.js';
import { invalidOption, parseArgs, str, flag, type OptSpec, type Parsed } from '../args.js';
import { renderTable } from '../asciitable.js';
import { goF0, goG5 } from '../gofmt.js';
import { IPAM_ASSIGN_HELP, IPAM_CHECK_HELP, IPAM_CONFIGURE_HELP, IPAM_HELP, IPAM_RELEASE_HELP, IPAM_SHOW_HELP, IPAM_UNASSIGN_HELP } from '../help.js';
import { CommandError, type IO } from '../io.js';
import { checkVersionMismatch, openClient } from '../session.js';

const COMMON: OptSpec[] = [{ long: 'config', short: 'c', value: true }, { long: 'allow-version-mismatch' }];

export async function runIpam(args: string[], io: IO): Promise<void> {
  const sub = args[1];
  if (sub === '-h' || sub === '--help') {
    io.stdout.write(IPAM_HELP);
    return;
  }
  // calicoctl commands/ipam.go: docopt needs <command>; an unrecognised one prints the usage
  // (fmt.Println(doc)) and succeeds.
  if (sub === undefined) throw invalidOption(args);
  switch (sub) {
    case 'configure':
      return configure(args, io);
    case 'show':
      return show(args, io);
    case 'check':
      return check(args, io);
    case 'release':
      return release(args, io);
    case 'assign':
      return assign(args, io);
    case 'unassign':
      return unassign(args, io);
    case 'split':
      throw new CommandError(`unknown command: "split" (tortie has no 'ipam split'; create the smaller pools and delete the old one)\n${IPAM_HELP}`);
  }
  io.stdout.write(`${IPAM_HELP}\n`);
}

/** Parses a subcommand's options; undefined when it printed its help. */
async function begin(args: string[], io: IO, specs: OptSpec[], help: string): Promise<Parsed | undefined> {
  const p = parseArgs(args.slice(2), [...specs, ...COMMON], args);
  if (p.help) {
    io.stdout.write(help);
    return undefined;
  }
  if (p.pos.length) throw invalidOption(args);
  const mismatch = await checkVersionMismatch(p, io);
  if (mismatch) throw new CommandError(mismatch.message);
  return p;
}

function parseIP(s: string): IP {
  const ip = IP.tryParse(s);
  if (!ip) throw new CommandError(`Error executing command: invalid IP address specified: ${s}`);
  return ip;
}

/** IPAM errors are the user's to read; anything else from the datastore keeps its own words. */
function ipamFailure(e: unknown): never {
  if (e instanceof IpamError || e instanceof RangeError) throw new CommandError(`error: ${e.message.replace(/\n$/, '')}`);
  throw e;
}

// --- show ---------------------------------------------------------------------------------------

async function show(args: string[], io: IO): Promise<void> {
  const p = await begin(args, io, [{ long: 'ip', value: true }, { long: 'show-blocks' }, { long: 'show-borrowed' }, { long: 'show-configuration' }], IPAM_SHOW_HELP);
  if (!p) return;
  const modes = [str(p, 'ip') !== undefined, flag(p, 'show-blocks'), flag(p, 'show-borrowed'), flag(p, 'show-configuration')].filter(Boolean).length;
  if (modes > 1) throw invalidOption(args);
  const client = await openClient(p, io);
  const ipam = new Ipam(client);
  const ipArg = str(p, 'ip');
  if (ipArg !== undefined) return showIP(ipam, parseIP(ipArg), io);
  if (flag(p, 'show-borrowed')) return showBorrowed(ipam, io);
  if (flag(p, 'show-configuration')) return showConfiguration(client, io);
  return showUtilization(ipam, flag(p, 'show-blocks'), io);
}

async function showIP(ipam: Ipam, ip: IP, io: IO): Promise<void> {
  const a = await ipam.assignment(ip);
  if (!a) {
    io.stdout.write(`${ip.toString()} is not assigned\n`);
    return;
  }
  let out = `IP ${ip.toString()} is in use\n`;
  out += a.attrs.handle_id !== undefined ? `Handle ID: ${a.attrs.handle_id}\n` : 'Handle ID: <none>\n';
  const owner = (title: string, m: Record<string, string> | undefined): string =>
    m && Object.keys(m).length
      ? `${title}:\n${Object.keys(m)
          .sort()
          .map((k) => `  ${k}: ${m[k]}\n`)
          .join('')}`
      : '';
  out += owner('Active Owner Attributes', a.attrs.secondary) || 'No Active Owner attributes defined\n';
  out += owner('Alternate Owner Attributes', a.attrs.alternateOwnerAttrs);
  io.stdout.write(out);
}

async function showUtilization(ipam: Ipam, showBlocks: boolean, io: IO): Promise<void> {
  const [pools, blocks] = await Promise.all([ipam.pools(), ipam.store.listBlocks()]);
  const rows: string[][] = [];
  const row = (kind: string, cidr: string, inUse: bigint, capacity: bigint): string[] => {
    const free = capacity - inUse;
    const pct = (n: bigint): string => goF0((100 * Number(n)) / Number(capacity));
    return [kind, cidr, goG5(capacity), `${goG5(inUse)} (${pct(inUse)}%)`, `${goG5(free)} (${pct(free)}%)`];
  };
  for (const use of utilization(pools, blocks.map((b) => b.value))) {
    const blockRows = use.blocks.map((b) => row('Block', b.cidr.toString(), BigInt(b.capacity - b.available), BigInt(b.capacity)));
    if (use.cidr && use.cidr.length > 0) {
      const inUse = use.blocks.reduce((n, b) => n + BigInt(b.capacity - b.available), 0n);
      rows.push(row('IP Pool', use.cidr.toString(), inUse, 1n << BigInt(use.cidr.bits - use.cidr.length)));
    }
    if (showBlocks) rows.push(...blockRows);
  }
  io.stdout.write(renderTable(['GROUPING', 'CIDR', 'IPS TOTAL', 'IPS IN USE', 'IPS FREE'], rows));
}

async function showBorrowed(ipam: Ipam, io: IO): Promise<void> {
  const rows: string[][] = [];
  let unclassified = 0;
  for (const { value: b } of await ipam.store.listBlocks()) {
    const aff = b.data.affinity;
    const owner = aff === null ? '' : aff.includes(':') ? aff.slice(aff.indexOf(':') + 1) : aff;
    for (const ord of b.allocatedOrdinals()) {
      const s = b.data.attributes[b.data.allocations[ord]!]?.secondary ?? {};
      if (s.node === undefined) {
        unclassified++;
        continue;
      }
      if (owner === s.node) continue;
      let type = '';
      let to = '';
      if (s['vmi-name'] !== undefined) [type, to] = ['vmi', `${s.namespace ?? ''}/${s['vmi-name']}`];
      else if (s.pod !== undefined) [type, to] = ['pod', `${s.namespace ?? ''}/${s.pod}`];
      else if (s.type !== undefined) type = s.type;
      rows.push([b.ip(ord).toString(), s.node, b.cidr, owner, type, to]);
    }
  }
  let out = renderTable(['IP', 'BORROWING-NODE', 'BLOCK', 'BLOCK OWNER', 'TYPE', 'ALLOCATED-TO'], rows);
  if (unclassified) out += `\nNote: found ${unclassified} IP allocations without an explicit node association. Unable to determine if they are borrowed.\n`;
  io.stdout.write(out);
}

async function showConfiguration(client: Client, io: IO): Promise<void> {
  const cfg = await getIPAMConfig(client).catch((e: Error) => {
    throw new CommandError(`error: ${e.message}`);
  });
  // calicoctl prints Go's %#v of each field; the persistence setting is a pointer there (an
  // address), its value here.
  io.stdout.write(
    renderTable(
      ['PROPERTY', 'VALUE'],
      [
        ['StrictAffinity', String(cfg.strictAffinity)],
        ['AutoAllocateBlocks', String(cfg.autoAllocateBlocks)],
        ['MaxBlocksPerHost', String(cfg.maxBlocksPerHost)],
        ['KubeVirtVMAddressPersistence', JSON.stringify(cfg.kubeVirtVMAddressPersistence ?? 'Enabled')],
      ],
    ),
  );
}

// --- check --------------------------------------------------------------------------------------

async function check(args: string[], io: IO): Promise<void> {
  const p = await begin(args, io, [{ long: 'output', short: 'o', value: true }, { long: 'show-all-ips' }, { long: 'show-problem-ips' }], IPAM_CHECK_HELP);
  if (!p) return;
  const client = await openClient(p, io);
  const ipam = new Ipam(client);
  const info = await client.get({ kind: 'ClusterInformation', name: 'default' }).catch((e: unknown) => {
    if (isDatastoreError(e, 'NOT_FOUND')) return undefined;
    throw e;
  });
  const [blocks, poolRes, nodes, weps, handles] = await Promise.all([
    ipam.store.listBlocks(),
    client.list('IPPool'),
    client.list('Node'),
    client.list('WorkloadEndpoint'),
    ipam.store.listHandles(),
  ]);
  const r = checkIPAM(
    { blocks: blocks.map((b) => b.value), pools: poolRes.items.map(poolFromResource), nodes: nodes.items, workloadEndpoints: weps.items, handles },
    { showAllIPs: flag(p, 'show-all-ips'), showProblemIPs: flag(p, 'show-problem-ips') },
  );
  io.stdout.write(r.lines.map((l) => `${l}\n`).join(''));
  const outFile = str(p, 'output');
  if (outFile) {
    const spec = (info?.spec ?? {}) as Record<string, unknown>;
    const json = checkReportJSON(r, {
      version: VERSION,
      clusterGUID: String(spec.clusterGUID ?? ''),
      datastoreLocked: spec.datastoreReady === false,
      clusterInformationRevision: info?.metadata.resourceVersion ?? '',
      clusterType: String(spec.clusterType ?? ''),
    });
    try {
      writeFileSync(outFile, json, { mode: 0o644 });
    } catch (e) {
      throw new CommandError(`failed to write the report to ${outFile}: ${(e as Error).message}`);
    }
  }
}

// --- release ------------------------------------------------------------------------------------

async function release(args: string[], io: IO): Promise<void> {
  const p = await begin(args, io, [{ long: 'ip', value: true }, { long: 'from-report', value: true, repeat: true }, { long: 'force' }], IPAM_RELEASE_HELP);
  if (!p) return;
  const reports = (p.opts.get('from-report') as string[] | undefined) ?? [];
  const ipArg = str(p, 'ip');
  const client = await openClient(p, io);
  const ipam = new Ipam(client);
  if (reports.length) return releaseFromReports(client, ipam, reports, flag(p, 'force'), io);
  if (ipArg === undefined) return;
  const ip = parseIP(ipArg);
  const not = await ipam.releaseIPs([{ ip }]).catch(ipamFailure);
  if (not.length) throw new CommandError(`IP address ${ip.toString()} is not assigned`);
  io.stdout.write(`Successfully released IP address ${ip.toString()}\n`);
}

interface ReportDoc {
  version?: string;
  clusterGUID?: string;
  clusterInformationRevision?: string;
  allocations?: Record<string, { ip: string; handle?: string; sequenceNumber?: string; inUse?: boolean }[]>;
  leakedHandles?: { ID: string; Revision: string }[];
}

/** Reads a check report, keeping uint64 sequence numbers exact. */
function readReport(file: string): ReportDoc {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new CommandError(`failed to read report ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    return JSON.parse(text.replace(/"sequenceNumber"(\s*):(\s*)(\d+)/g, '"sequenceNumber"$1:$2"$3"')) as ReportDoc;
  } catch (e) {
    throw new CommandError(`failed to parse report ${file}: ${(e as Error).message}`);
  }
}

async function releaseFromReports(client: Client, ipam: Ipam, files: string[], force: boolean, io: IO): Promise<void> {
  const info = await client.get({ kind: 'ClusterInformation', name: 'default' });
  const spec = (info.spec ?? {}) as Record<string, unknown>;
  const out = (s: string): void => {
    io.stdout.write(`${s}\n`);
  };
  const docs = files.map((f) => ({ f, r: readReport(f) }));
  for (const { f, r } of docs) {
    if (r.clusterGUID !== spec.clusterGUID) throw new CommandError(`cluster does not match the provided report (${f}): mismatched cluster GUID. Refusing to release`);
    if (r.version !== VERSION) {
      if (!force) throw new CommandError(`the provided report (${f}) was produced using a different version (${r.version ?? ''}) of ${'tortie'}. Refusing to release`);
      out('WARNING: Report was produced using a different version of tortie. Ignoring due to --force option');
    }
  }
  if (!docs.some(({ r }) => r.clusterInformationRevision === info.metadata.resourceVersion)) {
    throw new CommandError('the provided reports are all stale - at least one should be up-to-date. Please generate a new report while the data store is locked and try again');
  }
  if (spec.datastoreReady !== false) {
    if (!force) throw new CommandError('data store is not locked. Either lock the data store, or re-run with --force');
    out('WARNING: Data store is not locked. Ignoring due to --force option');
  }
  // Leaked = not in use in every report; the last report's handle and sequence number must still hold.
  const leakedIn = (r: ReportDoc): Map<string, ReleaseItem> => {
    const m = new Map<string, ReleaseItem>();
    for (const [ip, list] of Object.entries(r.allocations ?? {})) {
      for (const a of list) {
        if (a.inUse) continue;
        const parsed = IP.tryParse(a.ip ?? ip);
        if (!parsed) continue;
        m.set(ip, { ip: parsed, ...(a.handle ? { handle: a.handle } : {}), ...(a.sequenceNumber !== undefined ? { sequenceNumber: String(a.sequenceNumber) } : {}) });
      }
    }
    return m;
  };
  let ips = leakedIn(docs[0]!.r);
  for (const { r } of docs.slice(1)) {
    const next = leakedIn(r);
    ips = new Map([...next].filter(([k]) => ips.has(k)));
  }
  if (ips.size === 0) out("Report didn't contain any leaked IPs to clean up.");
  else {
    out(`Releasing ${ips.size} old IPs...`);
    try {
      const not = await ipam.releaseIPs([...ips.values()]);
      out(`Released ${ips.size - not.length} IPs successfully`);
      if (not.length) out(`${not.length} addresses marked as leaked in the report had already been cleaned up.`);
    } catch (e) {
      out(`An error occurred while releasing some IPs: ${(e as Error).message}.  Problems are often caused by an out-of-date IPAM report.  Try regenerating the IPAM report and retry.`);
    }
  }
  let handles = new Map((docs[0]!.r.leakedHandles ?? []).map((h) => [h.ID, h.Revision]));
  for (const { r } of docs.slice(1)) {
    const next = new Map((r.leakedHandles ?? []).map((h) => [h.ID, h.Revision]));
    handles = new Map([...handles].filter(([id, rev]) => next.get(id) === rev));
  }
  if (handles.size === 0) out("Report didn't contain any handles to clean up.");
  else {
    out(`Deleting ${handles.size} handles...`);
    out("Key: '.' = Deleted OK; 'x' = skip, handle missing/changed.");
    let ok = 0;
    let skipped = 0;
    let errors = 0;
    let marks = '';
    for (const [id, rev] of handles) {
      try {
        const cur = await ipam.store.getHandle(id);
        if (!cur || cur.revision !== rev) {
          marks += 'x';
          skipped++;
          continue;
        }
        await ipam.store.deleteHandle(cur);
        marks += '.';
        ok++;
      } catch (e) {
        if (isDatastoreError(e, 'UPDATE_CONFLICT') || isDatastoreError(e, 'NOT_FOUND')) {
          marks += 'x';
          skipped++;
        } else {
          marks += `\nDeleting handle ${id} failed: ${(e as Error).message}.\n`;
          errors++;
        }
      }
    }
    out(marks);
    out(`Released ${ok} handles; ${skipped} skipped; ${errors} errors.`);
  }
  out('You may now unlock the data store.');
}

// --- assign / unassign --------------------------------------------------------------------------

async function assign(args: string[], io: IO): Promise<void> {
  const p = await begin(
    args,
    io,
    [{ long: 'node', value: true }, { long: 'handle', value: true }, { long: 'ip', value: true }, { long: 'count', value: true }, { long: 'ipv6' }, { long: 'pool', value: true, repeat: true }],
    IPAM_ASSIGN_HELP,
  );
  if (!p) return;
  const node = str(p, 'node');
  const handle = str(p, 'handle');
  if (!node) throw new CommandError('--node is required: the node whose blocks the addresses come from');
  if (!handle) throw new CommandError('--handle is required: the handle to record the addresses under');
  const ipArg = str(p, 'ip');
  const countArg = str(p, 'count');
  if (ipArg !== undefined && countArg !== undefined) throw new CommandError('--ip and --count cannot be used together');
  const attrs = { node, type: MANUAL_TYPE };
  const client = await openClient(p, io);
  const ipam = new Ipam(client);
  if (ipArg !== undefined) {
    const ip = parseIP(ipArg);
    await ipam.assignIP({ ip, handle, attrs, hostname: node }).catch(ipamFailure);
    io.stdout.write(`${ip.toString()}\n`);
    return;
  }
  const count = countArg === undefined ? 1 : Number(countArg);
  if (!/^\d+$/.test(countArg ?? '1') || !Number.isSafeInteger(count) || count < 1) throw new CommandError(`invalid --count ${JSON.stringify(countArg)}: use a positive whole number`);
  const pools = (p.opts.get('pool') as string[] | undefined) ?? [];
  const v6 = flag(p, 'ipv6');
  const r = await ipam.autoAssign({ ...(v6 ? { num6: count, pools6: pools } : { num4: count, pools4: pools }), handle, attrs, hostname: node }).catch((e: unknown) => {
    if (isDatastoreError(e, 'NOT_FOUND') && (e as Error).message.includes('Node(')) throw new CommandError(`error: node ${node} does not exist`);
    return ipamFailure(e);
  });
  const got = v6 ? r.v6 : r.v4;
  io.stdout.write(got.ips.map((x) => `${x.ip.toString()}\n`).join(''));
  const partial = partialFulfillmentMessage(got);
  if (partial) throw new CommandError(`error: ${partial}`);
}

async function unassign(args: string[], io: IO): Promise<void> {
  const p = await begin(args, io, [{ long: 'handle', value: true }], IPAM_UNASSIGN_HELP);
  if (!p) return;
  const handle = str(p, 'handle');
  if (!handle) throw new CommandError('--handle is required: the handle whose addresses to release');
  const ipam = new Ipam(await openClient(p, io));
  const ips = await ipam.ipsByHandle(handle).catch(ipamFailure);
  const exists = await ipam.store.getHandle(handle);
  if (!exists && ips.length === 0) throw new CommandError(`handle ${handle} does not exist`);
  const n = await ipam.releaseByHandle(handle).catch(ipamFailure);
  io.stdout.write(`Successfully released ${n} IP address${n === 1 ? '' : 'es'} of handle ${handle}\n`);
}

// --- configure ----------------------------------------------------------------------------------

async function configure(args: string[], io: IO): Promise<void> {
  const p = await begin(args, io, [{ long: 'strictaffinity', value: true }, { long: 'max-blocks-per-host', value: true }, { long: 'kubevirt-ip-persistence', value: true }], IPAM_CONFIGURE_HELP);
  if (!p) return;
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


