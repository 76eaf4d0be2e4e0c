/**
 * calicoctl's ExecuteConfigCommand (`commands/common/resources.go`), the engine behind create,
 * apply, replace, delete, get and patch: load resources from `-f` (or build one from
 * `<KIND> <NAME>…`), check namespaces, connect, make sure the datastore is initialised before
 * writes, then run the action on each resource in order.
 *
 * Counting follows calicoctl exactly, quirks included: for create/apply/delete/get a failure is
 * recorded and processing continues (NumHandled counts successes); for replace/patch the last
 * error is kept and the failed item still counts as handled.
 */
import { KIND_INFO, kindFromAlias, type KindName } from '../api/kinds.js';
import { API_VERSION, type Resource } from '../api/meta.js';
import type { Client } from '../datastore/client.js';
import { isDatastoreError } from '../datastore/errors.js';
import { flag, str, type Parsed } from './args.js';
import { FileError, loadResourceFiles } from './files.js';
import type { IO } from './io.js';
import { ResourceManager } from './resourcemgr.js';
import { checkVersionMismatch, openClient } from './session.js';
import { withResource } from './errors.js';

export type Action = 'apply' | 'create' | 'update' | 'delete' | 'get' | 'patch';

export interface Results {
  numResources: number;
  numHandled: number;
  singleKind: string;
  resources: Resource[];
  /** Per-resource errors (create/apply/delete/get). */
  resErrs: unknown[];
  /** The command-level error (replace/patch per-resource, or a setup failure). */
  err?: unknown;
  /** The input file could not be read or parsed (`failed to execute command: …`). */
  fileInvalid?: boolean;
  client?: Client;
  /** For get: whether the query named objects (else it listed a kind). */
  named: boolean;
}

function emptyResults(): Results {
  return { numResources: 0, numHandled: 0, singleKind: '', resources: [], resErrs: [], named: false };
}

export class UnsupportedKindError extends Error {
  readonly code = 'UNSUPPORTED_KIND' as const;
}

/** Resources named on the command line: `<KIND> [<NAME>...]`. Empty names mean "list". */
export function resourcesFromArgs(kindArg: string, names: string[], ns: string | undefined): Resource[] {
  const kind = kindFromAlias(kindArg);
  if (!kind) throw new UnsupportedKindError(`resource type '${kindArg}' is not supported`);
  const mk = (name: string): Resource => {
    const r: Resource = { apiVersion: API_VERSION, kind, metadata: { name } };
    if (ns && KIND_INFO[kind].namespaced) r.metadata.namespace = ns;
    return r;
  };
  return names.length ? names.map(mk) : [mk('')];
}

export async function executeConfigCommand(
  p: Parsed,
  action: Action,
  io: IO,
  perform: (rm: ResourceManager, r: Resource) => Promise<Resource | Resource[]>,
  kindAndNames?: { kind: string; names: string[] },
): Promise<Results> {
  const results = emptyResults();
  const filename = str(p, 'filename');
  const ns = str(p, 'namespace');
  const allNs = flag(p, 'all-namespaces');
  let resources: Resource[];
  let singleKind = false;

  const mismatch = await checkVersionMismatch(p, io);
  if (mismatch) {
    results.err = mismatch;
    return results;
  }

  if (filename !== undefined) {
    try {
      resources = await loadResourceFiles(filename, {
        recursive: flag(p, 'recursive'),
        skipEmpty: flag(p, 'skip-empty'),
        readStdin: () => io.readStdin(),
      });
    } catch (e) {
      if (e instanceof FileError) {
        results.err = e;
        results.fileInvalid = e.fileInvalid;
        return results;
      }
      throw e;
    }
    if (resources.length === 0) return results;
  } else {
    singleKind = true;
    try {
      resources = resourcesFromArgs(kindAndNames!.kind, kindAndNames!.names, ns);
    } catch (e) {
      results.err = e;
      return results;
    }
  }

  const client = await openClient(p, io);
  results.client = client;
  const counts = new Map<string, number>();
  for (const r of resources) counts.set(r.kind, (counts.get(r.kind) ?? 0) + 1);
  results.numResources = resources.length;
  if (counts.size === 1 || singleKind) results.singleKind = resources[resources.length - 1]!.kind;

  if (action === 'apply' || action === 'create' || action === 'update') {
    try {
      await client.ensureInitialized();
    } catch {
      // calicoctl does not fail the user's action when initialisation fails.
    }
  }

  const names = kindAndNames?.names ?? [];
  if (names.some((n) => n === '')) {
    // calicoctl returns a fresh CommandResults{Err}: no resources counted, so delete and patch
    // print the bare error.
    return { ...emptyResults(), err: new Error('resource name may not be empty') };
  }
  // calicoctl's nameSpecified: <NAME> arguments were given (never with -f, so --export does
  // not apply to objects read from a file).
  results.named = names.length > 0;

  const rm = new ResourceManager(client, io.sleep);
  for (const r of resources) {
    try {
      handleNamespace(r, ns, allNs);
    } catch (e) {
      // ExecuteResourceAction returns no object with a namespace error, so even for
      // replace/patch it is not counted as handled.
      if (action === 'update' || action === 'patch') results.err = e;
      else results.resErrs.push(e);
      continue;
    }
    try {
      const out = await perform(rm, r);
      const outs = Array.isArray(out) ? out : [out];
      results.resources.push(...outs);
      results.numHandled += outs.length;
    } catch (caught) {
      const e = withResource(caught, r);
      const skip =
        (isDatastoreError(e, 'ALREADY_EXISTS') && flag(p, 'skip-exists')) || (isDatastoreError(e, 'NOT_FOUND') && flag(p, 'skip-not-exists'));
      if (skip) {
        results.resources.push(r);
        results.numHandled++;
        continue;
      }
      if (action === 'update' || action === 'patch') {
        results.err = e;
        results.numHandled++;
        continue;
      }
      results.resErrs.push(e);
    }
  }
  return results;
}

export class NamespaceError extends Error {
  readonly code = 'NAMESPACE' as const;
}

/** calicoctl handleNamespace: fill, check and refuse namespaces as the kind requires. */
function handleNamespace(r: Resource, cliNs: string | undefined, allNs: boolean): void {
  const kind = r.kind as KindName;
  const resNs = r.metadata.namespace ?? '';
  const cli = cliNs ?? '';
  if (KIND_INFO[kind].namespaced) {
    if (allNs && cli !== '') throw new NamespaceError('cannot use both --namespace and --all-namespaces flags at the same time');
    else if (resNs === '' && cli !== '') r.metadata.namespace = cli;
    else if (resNs !== '' && allNs) delete r.metadata.namespace;
    else if (resNs === '' && allNs) {
      /* list across namespaces */
    } else if (resNs === '' && cli === '') r.metadata.namespace = 'default';
    else if (resNs !== '' && cli === '') {
      /* keep the resource's own */
    } else if (resNs !== cli) throw new NamespaceError(`resource namespace does not match client namespace. ${resNs} != ${cli}`);
  } else if (resNs !== '') {
    throw new NamespaceError(`namespace should not be specified for a non-namespaced resource. ${kind} is not a namespaced resource`);
  } else if (allNs || cli !== '') {
    throw new NamespaceError(`${kind} is not namespaced`);
  }
}

/** Go's `%v` of a []error: `[e1 e2]`. */
export function goErrList(errs: unknown[]): string {
  return `[${errs.map(errText).join(' ')}]`;
}

export function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
