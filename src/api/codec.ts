/**
 * From user files to typed resources and back, as calicoctl reads and prints them.
 *
 * Reading (calicoctl `resourcemgr.CreateResourcesFromFile`): split into documents; each
 * document is one resource, a `<Kind>List`, or a sequence of resources; the kind is looked up
 * from apiVersion/kind (`unknown resource type (X) and/or version (Y)`), then decoded strictly.
 * Any failure rejects the whole file before anything is written.
 *
 * Printing: `-o json` is Go's json.MarshalIndent of the canonical object, `-o yaml` is
 * sigs.k8s.io/yaml (sorted keys); both apply again unchanged.
 */
import { API_VERSION, type Resource } from './meta.js';
import { KIND_INFO, isKindName, kindFromListKind, type KindName } from './kinds.js';
import { KIND_DEFS } from './kinds/index.js';
import { listStruct } from './kinds/common.js';
import { canonicalStruct } from './schema/canonical.js';
import { DecodeError, decodeStruct } from './schema/decode.js';
import { parseDocuments, YamlError, type Pos, type YNode } from './yaml/read.js';
import { emitJson, emitYaml } from './yaml/emit.js';

/**
 * How sigs.k8s.io/yaml (v1.6, as calicoctl v3.32 pins it) wraps every error from the JSON
 * decoding step; calicoctl's massageError strips it again where a message starts with it.
 */
export const JSON_ERROR_PREFIX = 'error unmarshaling JSON: while decoding JSON: ';

/** A file could not be turned into resources. `message` is calicoctl's text; the rest locates it. */
export class ResourceFileError extends Error {
  readonly code = 'RESOURCE_FILE' as const;
  constructor(
    message: string,
    readonly detail: { path?: string; line?: number; col?: number; resource?: string } = {},
  ) {
    super(message);
    this.name = 'ResourceFileError';
  }
  /** calicoctl's message plus where it happened, for people. */
  describe(): string {
    const where: string[] = [];
    if (this.detail.resource) where.push(this.detail.resource);
    if (this.detail.path) where.push(`field ${this.detail.path}`);
    // A YAML syntax error already says where it is (`yaml: line 5, column 1: …`).
    if (this.detail.line && !this.message.includes(`line ${this.detail.line}, column ${this.detail.col}`)) where.push(`line ${this.detail.line}, column ${this.detail.col}`);
    return where.length ? `${this.message} (${where.join(', ')})` : this.message;
  }
}

export function parseResources(text: string): Resource[] {
  let docs;
  try {
    docs = parseDocuments(text);
  } catch (e) {
    if (e instanceof YamlError) {
      throw new ResourceFileError(`error converting YAML to JSON: ${e.message}`, { line: e.line, col: e.col });
    }
    throw e;
  }
  const out: Resource[] = [];
  for (const d of docs) if (d.node) out.push(...decodeDocument(d.node));
  return out;
}

function scalarField(n: YNode, key: string): string {
  if (n.kind !== 'map') return '';
  for (const e of n.entries) {
    if (e.key.toLowerCase() === key.toLowerCase() && e.value.kind === 'scalar' && e.value.value !== null) return String(e.value.value);
  }
  return '';
}

function decodeDocument(n: YNode): Resource[] {
  if (n.kind === 'seq') return n.items.map((it) => decodeOne(it));
  if (n.kind !== 'map') {
    throw new ResourceFileError(`${JSON_ERROR_PREFIX}json: cannot unmarshal ${n.value === null ? 'null' : typeof n.value === 'string' ? 'string' : typeof n.value === 'boolean' ? 'bool' : 'number'} into Go value of type unstructured.Unstructured`, posOf(n.pos));
  }
  const kind = scalarField(n, 'kind');
  const listOf = kindFromListKind(kind);
  if (listOf) return decodeList(n, listOf);
  return [decodeOne(n)];
}

function posOf(p: Pos | undefined): { line?: number; col?: number } {
  return p ? { line: p.line, col: p.col } : {};
}

function lookupKind(n: YNode): KindName {
  const kind = scalarField(n, 'kind');
  const apiVersion = scalarField(n, 'apiVersion');
  if (!kind) {
    throw new ResourceFileError(`${JSON_ERROR_PREFIX}Object 'Kind' is missing in the document`, posOf(n.pos));
  }
  if (apiVersion !== API_VERSION || !isKindName(kind)) {
    throw new ResourceFileError(`unknown resource type (${kind}) and/or version (${apiVersion})`, posOf(n.pos));
  }
  return kind;
}

function decodeOne(n: YNode): Resource {
  const kind = lookupKind(n);
  return decodeAs(n, kind);
}

function decodeAs(n: YNode, kind: KindName): Resource {
  const def = KIND_DEFS[kind];
  const name = scalarField(n.kind === 'map' ? (n.entries.find((e) => e.key.toLowerCase() === 'metadata')?.value ?? n) : n, 'name');
  try {
    const v = decodeStruct(n, def.schema) ?? {};
    return v as unknown as Resource;
  } catch (e) {
    if (e instanceof DecodeError) {
      throw new ResourceFileError(`${JSON_ERROR_PREFIX}${e.message}`, {
        path: e.path,
        ...posOf(e.pos),
        resource: `${kind}(${name})`,
      });
    }
    throw e;
  }
}

function decodeList(n: YNode, kind: KindName): Resource[] {
  const def = KIND_DEFS[kind];
  const apiVersion = scalarField(n, 'apiVersion');
  if (apiVersion !== API_VERSION) throw new ResourceFileError(`unknown resource type (${kind}List) and/or version (${apiVersion})`, posOf(n.pos));
  try {
    const lst = decodeStruct(n, listStruct(kind, def.schema)) ?? {};
    const items = (lst.items as Resource[] | undefined) ?? [];
    return items.map((it) => {
      it.kind ||= kind;
      it.apiVersion ||= API_VERSION;
      if (it.kind !== kind || it.apiVersion !== API_VERSION) {
        throw new ResourceFileError(`unknown resource type (${it.kind}) and/or version (${it.apiVersion})`, posOf(n.pos));
      }
      return it;
    });
  } catch (e) {
    if (e instanceof DecodeError) {
      throw new ResourceFileError(`${JSON_ERROR_PREFIX}${e.message}`, { path: e.path, ...posOf(e.pos), resource: `${kind}List` });
    }
    throw e;
  }
}

/** The canonical (Go json.Marshal) form of a resource of a known kind. */
export function canonicalResource(r: Resource): Resource {
  const def = KIND_DEFS[r.kind as KindName];
  return canonicalStruct(r as unknown as Record<string, unknown>, def.schema) as unknown as Resource;
}

/** `<Kind>List` as calicoctl prints it for a list query. */
export function listObject(kind: KindName, items: Resource[], revision: string): Record<string, unknown> {
  return {
    kind: KIND_INFO[kind].listKind,
    apiVersion: API_VERSION,
    metadata: { resourceVersion: revision },
    items: items.map(canonicalResource),
  };
}

export function toJson(v: unknown): string {
  return emitJson(v);
}

export function toYaml(v: unknown): string {
  return emitYaml(v);
}
