/**
 * go-yaml v2's decoder (decode.go) for a target of `interface{}`, in UnmarshalStrict mode,
 * followed by sigs.k8s.io/yaml's convertToJSONableObject — run over the `yaml` package's AST.
 *
 * What is reproduced, because calicoctl shows it to users:
 * - Scalars: quoted/block scalars are strings; plain ones go through goResolve; explicit tags
 *   are honoured (`!!float 1` is 1.0, `!!int "x"` fails, `!!binary` is base64-decoded).
 * - Aliases bind to the latest anchor *before* them (the anchored node counts from its start, so
 *   `&a [*a]` is self-reference → "anchor 'a' value contains itself"), and the billion-laughs
 *   guard ("document contains excessive aliasing") uses go-yaml's exact counters.
 * - Merge keys: `<<` (plain, or tagged !!merge) with a map, an alias to a map, or a sequence of
 *   them (applied last-to-first). In strict mode every key a merge brings in that is already
 *   present — including the usual "override" after the merge — is a duplicate: go-yaml v2's
 *   UnmarshalStrict rejects it, and so does calicoctl.
 * - Duplicates compare Go values: `1` and `01` (both int 1) clash, `1` and `"1"` do not — but
 *   they then collapse into one JSON key, where the later one wins.
 * - Key conversion: int → decimal, float → FormatFloat(k, 'g', -1, 32) (float32 precision!),
 *   bool → "true"/"false"; null and uint64 keys are errors, as are map/sequence keys.
 * - Error precedence: a fatal error stops at once; duplicate-key errors are collected and
 *   reported after decoding; key-conversion errors only after that.
 */

import type { Alias, Node, Pair, Scalar, YAMLMap, YAMLSeq } from 'yaml';
import { isAlias, isMap, isScalar, isSeq } from 'yaml';
import { ResolveError, YamlError, type YamlErrorCode } from './errors.js';
import { formatFloatG, yamlFloatText } from './gonum.js';
import type { YMapEntry, YNode } from './node.js';
import { goResolve, TAG, type Resolved } from './resolve.js';
import type { Pos } from './split.js';

type GoVal = Resolved | { kind: 'map' } | { kind: 'seq' };
interface Decoded { y: YNode; g: GoVal }

interface MapTarget {
  node: Extract<YNode, { kind: 'map' }>;
  goKeys: Set<string>;
  jsonIndex: Map<string, number>;
}

const ALIAS_RATIO_LOW = 400000;
const ALIAS_RATIO_HIGH = 4000000;

function allowedAliasRatio(decodeCount: number): number {
  if (decodeCount <= ALIAS_RATIO_LOW) return 0.99;
  if (decodeCount >= ALIAS_RATIO_HIGH) return 0.10;
  return 0.99 - 0.89 * ((decodeCount - ALIAS_RATIO_LOW) / (ALIAS_RATIO_HIGH - ALIAS_RATIO_LOW));
}

/** Go's %#v of a decoded key, as used in "key %#v already set in map". */
function goSharpV(g: GoVal): string {
  switch (g.kind) {
    case 'null': return '<nil>';
    case 'bool': return String(g.value);
    case 'int': return g.value.toString();
    case 'uint': return `0x${g.value.toString(16)}`;
    case 'float': return formatFloatG(g.value);
    case 'str': case 'timestamp': return JSON.stringify(g.value);
    case 'map': return 'map[interface {}]interface {}{…}';
    case 'seq': return '[]interface {}{…}';
  }
}

function goKeyId(g: Resolved, unique: () => string): string {
  switch (g.kind) {
    case 'null': return 'n';
    case 'bool': return `b:${g.value}`;
    case 'int': return `i:${g.value}`;
    case 'uint': return `u:${g.value}`;
    case 'float': return Number.isNaN(g.value) ? unique() : `f:${g.value === 0 ? 0 : g.value}`;
    case 'str': case 'timestamp': return `s:${g.value}`;
  }
}

/** Go's base64.StdEncoding.DecodeString (CR/LF ignored, padding required). */
function goBase64(s: string): Uint8Array | null {
  const t = s.replace(/[\r\n]/g, '');
  if (t.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(t)) return null;
  return Buffer.from(t, 'base64');
}

/** A Go string of arbitrary bytes, as encoding/json will see it: bad UTF-8 byte → U+FFFD each. */
export function goBytesToString(b: Uint8Array): string {
  let out = '';
  for (let i = 0; i < b.length;) {
    const c = b[i]!;
    let n = 0;
    let cp = 0;
    let min = 0;
    if (c < 0x80) { out += String.fromCharCode(c); i++; continue; }
    if (c >= 0xc2 && c <= 0xdf) { n = 1; cp = c & 0x1f; min = 0x80; }
    else if (c >= 0xe0 && c <= 0xef) { n = 2; cp = c & 0x0f; min = 0x800; }
    else if (c >= 0xf0 && c <= 0xf4) { n = 3; cp = c & 0x07; min = 0x10000; }
    let ok = n > 0 && i + n < b.length;
    for (let k = 1; ok && k <= n; k++) {
      const cc = b[i + k];
      if (cc === undefined || (cc & 0xc0) !== 0x80) ok = false;
      else cp = (cp << 6) | (cc & 0x3f);
    }
    if (ok && (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))) ok = false;
    if (!ok) { out += '\ufffd'; i++; continue; }
    out += String.fromCodePoint(cp);
    i += n + 1;
  }
  return out;
}

export class Decoder {
  private decodeCount = 1; // the document node
  private aliasCount = 0;
  private aliasDepth = 0;
  private readonly expanding = new Set<Alias>();
  private nanKeys = 0;
  private duplicate: YamlError | null = null;
  private conversion: YamlError | null = null;

  constructor(
    private readonly bindings: Map<Alias, Node>,
    private readonly pos: (offset: number) => Pos,
    private readonly strict: boolean,
  ) {}

  private fail(code: YamlErrorCode, problem: string, offset: number): never {
    const p = this.pos(offset);
    throw new YamlError(code, problem, p.line, p.col);
  }

  /** Decodes a document's root; throws the first error in go-yaml/sigs.k8s.io order. */
  decodeDocument(root: Node | null, fallbackOffset: number): YNode {
    const y = this.unmarshal(root, fallbackOffset).y;
    if (this.duplicate) throw this.duplicate;
    if (this.conversion) throw this.conversion;
    return y;
  }

  private unmarshal(n: Node | null, fallbackOffset: number, into?: MapTarget): Decoded {
    this.decodeCount++;
    if (this.aliasDepth > 0) this.aliasCount++;
    if (this.aliasCount > 100 && this.decodeCount > 1000 && this.aliasCount / this.decodeCount > allowedAliasRatio(this.decodeCount)) {
      this.fail('YAML_UNSUPPORTED', 'document contains excessive aliasing', n?.range?.[0] ?? fallbackOffset);
    }
    if (n === null) return this.scalar(null, fallbackOffset);
    if (isAlias(n)) return this.alias(n, into);
    if (isScalar(n)) return this.scalar(n, fallbackOffset);
    if (isMap(n)) {
      const target = into ?? this.newTarget(n.range![0]);
      this.mapping(n, target);
      return { y: target.node, g: { kind: 'map' } };
    }
    if (isSeq(n)) return this.sequence(n);
    return this.fail('YAML_SYNTAX', 'unexpected node', fallbackOffset);
  }

  private alias(n: Alias, into?: MapTarget): Decoded {
    const target = this.bindings.get(n);
    if (!target) this.fail('YAML_SYNTAX', `unknown anchor '${n.source}' referenced`, n.range![0]);
    if (this.expanding.has(n)) this.fail('YAML_SYNTAX', `anchor '${n.source}' value contains itself`, n.range![0]);
    this.expanding.add(n);
    this.aliasDepth++;
    try {
      return this.unmarshal(target, n.range![0], into);
    } finally {
      this.aliasDepth--;
      this.expanding.delete(n);
    }
  }

  private scalar(n: Scalar | null, fallbackOffset: number): Decoded {
    const offset = n?.range?.[0] ?? fallbackOffset;
    const pos = this.pos(offset);
    const text = n === null ? '' : typeof n.value === 'string' ? n.value : String(n.source ?? n.value ?? '');
    const tag = n?.tag ?? '';
    const plain = n === null || n.type === 'PLAIN' || n.type === undefined;
    const implicit = (plain && tag === '') || tag === '!';
    let g: Resolved;
    if (tag === '' && !implicit) {
      g = { kind: 'str', value: text };
    } else if (tag === TAG.binary) {
      const bytes = goBase64(text);
      if (!bytes) this.fail('YAML_SYNTAX', '!!binary value contains invalid base64 data', offset);
      g = { kind: 'str', value: goBytesToString(bytes) };
    } else {
      let r: Resolved | null;
      try {
        r = goResolve(tag, text);
      } catch (e) {
        if (e instanceof ResolveError) this.fail('YAML_SYNTAX', e.message, offset);
        throw e;
      }
      g = r ?? { kind: 'str', value: text };
    }
    return { y: this.scalarNode(g, pos, text, !plain), g };
  }

  private scalarNode(g: Resolved, pos: Pos, raw: string, quoted: boolean): YNode {
    switch (g.kind) {
      case 'null': return { kind: 'scalar', pos, value: null, raw, quoted };
      case 'bool': case 'float': case 'str': case 'timestamp':
        return { kind: 'scalar', pos, value: g.value, raw, quoted };
      case 'int': case 'uint': {
        const value = Number(g.value);
        return Number.isSafeInteger(value)
          ? { kind: 'scalar', pos, value, raw, quoted }
          : { kind: 'scalar', pos, value, raw, quoted, bigint: g.value };
      }
    }
  }

  private sequence(n: YAMLSeq): Decoded {
    const start = n.range![0];
    const items: YNode[] = [];
    for (const item of n.items) items.push(this.unmarshal(item as Node | null, start).y);
    return { y: { kind: 'seq', pos: this.pos(start), items }, g: { kind: 'seq' } };
  }

  private newTarget(offset: number): MapTarget {
    return { node: { kind: 'map', pos: this.pos(offset), entries: [] }, goKeys: new Set(), jsonIndex: new Map() };
  }

  private mapping(n: YAMLMap, target: MapTarget): void {
    for (const pair of n.items as Pair<Node | null, Node | null>[]) {
      const k = pair.key;
      const keyOffset = k?.range?.[0] ?? n.range![0];
      const valueOffset = pair.value?.range?.[0] ?? k?.range?.[1] ?? keyOffset;
      if (k && isScalar(k) && isMergeKey(k)) {
        this.merge(pair.value, valueOffset, target);
        continue;
      }
      const key = this.unmarshal(k, keyOffset);
      if (key.g.kind === 'map' || key.g.kind === 'seq') {
        this.fail('YAML_UNSUPPORTED', `invalid map key: ${goSharpV(key.g)}`, keyOffset);
      }
      const value = this.unmarshal(pair.value, valueOffset);
      this.setMapIndex(target, key.g, key.y.pos, value.y, valueOffset);
    }
  }

  private setMapIndex(target: MapTarget, key: Resolved, keyPos: Pos, value: YNode, valueOffset: number): void {
    const id = goKeyId(key, () => `nan:${this.nanKeys++}`);
    if (this.strict && target.goKeys.has(id)) {
      if (!this.duplicate) {
        const p = this.pos(valueOffset);
        this.duplicate = new YamlError('YAML_DUPLICATE_KEY', `key ${goSharpV(key)} already set in map`, p.line, p.col);
      }
      return;
    }
    target.goKeys.add(id);
    const name = this.jsonKey(key, keyPos);
    if (name === null) return;
    const entry: YMapEntry = { key: name, keyPos, value };
    const at = target.jsonIndex.get(name);
    if (at === undefined) {
      target.jsonIndex.set(name, target.node.entries.length);
      target.node.entries.push(entry);
    } else {
      target.node.entries[at] = entry;
    }
  }

  /** sigs.k8s.io/yaml's key conversion; records (and returns null for) unsupported keys. */
  private jsonKey(key: Resolved, keyPos: Pos): string | null {
    switch (key.kind) {
      case 'str': case 'timestamp': return key.value;
      case 'int': return key.value.toString();
      case 'bool': return key.value ? 'true' : 'false';
      case 'float': return yamlFloatText(key.value, 32);
      case 'null': case 'uint': {
        if (!this.conversion) {
          const what = key.kind === 'null' ? 'unsupported map key of type: %!s(<nil>), key: <nil>' : `unsupported map key of type: uint64, key: ${goSharpV(key)}`;
          this.conversion = new YamlError('YAML_UNSUPPORTED', what, keyPos.line, keyPos.col);
        }
        return null;
      }
    }
  }

  private merge(v: Node | null, offset: number, target: MapTarget): void {
    const wantMap = (at: number): never => this.fail('YAML_SYNTAX', 'map merge requires map or sequence of maps as the value', at);
    const isMapOrAliasToMap = (n: Node | null): boolean =>
      n !== null && (isMap(n) || (isAlias(n) && (this.bindings.get(n) === undefined || isMap(this.bindings.get(n)))));
    if (v !== null && isMap(v)) {
      this.unmarshal(v, offset, target);
    } else if (v !== null && isAlias(v)) {
      if (!isMapOrAliasToMap(v)) wantMap(offset);
      this.unmarshal(v, offset, target);
    } else if (v !== null && isSeq(v)) {
      for (let i = v.items.length - 1; i >= 0; i--) {
        const item = v.items[i] as Node | null;
        if (!isMapOrAliasToMap(item)) wantMap(item?.range?.[0] ?? offset);
        this.unmarshal(item, offset, target);
      }
    } else {
      wantMap(offset);
    }
  }
}

/** go-yaml isMerge: the scalar `<<`, plain (implicit) or tagged !!merge. */
function isMergeKey(k: Scalar): boolean {
  const text = typeof k.value === 'string' ? k.value : String(k.source ?? '');
  if (text !== '<<') return false;
  const tag = k.tag ?? '';
  return ((k.type === 'PLAIN' || k.type === undefined) && tag === '') || tag === '!' || tag === TAG.merge;
}

/** Binds every alias to the latest anchor defined before it (pre-order, as go-yaml's parser). */
export function bindAliases(root: Node | null, onUnknown: (a: Alias) => void): Map<Alias, Node> {
  const anchors = new Map<string, Node>();
  const bindings = new Map<Alias, Node>();
  const walk = (n: Node | null | undefined): void => {
    if (!n) return;
    if (isAlias(n)) {
      const t = anchors.get(n.source);
      if (t) bindings.set(n, t);
      else onUnknown(n);
      return;
    }
    if (n.anchor) anchors.set(n.anchor, n);
    if (isMap(n)) {
      for (const p of n.items as Pair<Node | null, Node | null>[]) { walk(p.key); walk(p.value); }
    } else if (isSeq(n)) {
      for (const item of n.items) walk(item as Node | null);
    }
  };
  walk(root);
  return bindings;
}
