/**
 * Reading user YAML the way calicoctl v3.32 does: split the file with calicoctl's separator,
 * then read each piece as sigs.k8s.io/yaml.UnmarshalStrict does (go-yaml v2, YAML 1.1 scalars,
 * strict duplicate keys, then the YAML→JSON conversion).
 *
 * Structure comes from the `yaml` package (parsed with the failsafe schema so every scalar stays
 * text); syntax.ts adds libyaml's extra strictness and wording; decode.ts does go-yaml's value
 * resolution, aliases, merges and key conversion. Only the first YAML document of each piece
 * counts — go-yaml's Unmarshal reads no further (so text after a `...` line is ignored).
 *
 * Positions are 1-based lines and code-point columns in the *whole* input; offsets are UTF-16
 * indexes into it. A UTF-8 BOM at the start of a piece is skipped like libyaml does, and a lone
 * CR is a line break as in libyaml (CRLF files leave one at the end of every piece).
 */

import { isScalar, parseAllDocuments } from 'yaml';
import { bindAliases, Decoder } from './decode.js';
import { YamlError } from './errors.js';
import type { YamlDocument, YNode } from './node.js';
import { LineIndex, splitChunks } from './split.js';
import { directivesOnlyProblem, documentProblems, findBadCharacter, type Problem } from './syntax.js';

export { YamlError, type YamlErrorCode } from './errors.js';
export type { Pos, YamlDocument, YMapEntry, YNode } from './node.js';
export { splitDocuments } from './split.js';

export interface ParseOptions {
  /** go-yaml UnmarshalStrict (the default, as calicoctl): duplicate keys are errors. */
  strict?: boolean;
}

const PARSE_OPTIONS = {
  version: '1.1',
  schema: 'failsafe',
  uniqueKeys: false,
  merge: false,
  keepSourceTokens: false,
  prettyErrors: false,
} as const;

/** libyaml reads a lone CR as a line break; the `yaml` package does not. Same length, same offsets. */
const LONE_CR = /\r(?!\n)/g;
const normalizeBreaks = (s: string): string => s.replace(LONE_CR, '\n');

function parseChunk(original: string, base: number, lines: LineIndex, strict: boolean): YNode | null {
  // A CRLF file's documents end in a lone CR (the separator cut before "\n---"): it must not
  // become part of the last scalar.
  const text = normalizeBreaks(original);
  const fail = (p: Problem): never => {
    const pos = lines.pos(base + p.offset);
    throw new YamlError('YAML_SYNTAX', p.problem, pos.line, pos.col);
  };
  const bad = findBadCharacter(text);
  const docs = parseAllDocuments(text, PARSE_OPTIONS);
  const doc = Array.isArray(docs) ? docs[0] : undefined;
  const problems: Problem[] = bad ? [bad] : [];
  if (!doc) {
    const d = directivesOnlyProblem(text);
    if (d) problems.push(d);
    problems.sort((a, b) => a.offset - b.offset);
    if (problems[0]) fail(problems[0]);
    return null;
  }
  problems.push(...documentProblems(doc, text));
  let unknown: Problem | null = null;
  const bindings = bindAliases(doc.contents, (a) => {
    unknown ??= { offset: a.range?.[0] ?? 0, problem: `unknown anchor '${a.source}' referenced` };
  });
  if (unknown) problems.push(unknown);
  problems.sort((a, b) => a.offset - b.offset);
  if (problems[0]) fail(problems[0]);
  const root = doc.contents;
  if (root === null) return null;
  // An explicit but empty document ("---" alone): go-yaml decodes its empty scalar to nil.
  if (isScalar(root) && root.type === 'PLAIN' && root.value === '' && !root.tag && !root.anchor) return null;
  const decoder = new Decoder(bindings, (o) => lines.pos(base + o), strict);
  return decoder.decodeDocument(root, doc.range[0]);
}

/** Splits `text` like calicoctl and parses every document. Throws YamlError on the first problem. */
export function parseDocuments(text: string, options: ParseOptions = {}): YamlDocument[] {
  const strict = options.strict ?? true;
  const lines = new LineIndex(normalizeBreaks(text));
  return splitChunks(text, lines).map((c) => ({
    node: parseChunk(c.text, c.offset, lines, strict),
    startLine: lines.pos(c.offset).line,
    text: c.text,
    offset: c.offset,
  }));
}

/** Parses a single YAML document (no separator handling). */
export function parseDocument(text: string, options: ParseOptions = {}): YNode | null {
  return parseChunk(text, 0, new LineIndex(normalizeBreaks(text)), options.strict ?? true);
}

function setKey(o: Record<string, unknown>, k: string, v: unknown): void {
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  else o[k] = v;
}

/**
 * The JSON value sigs.k8s.io/yaml's YAMLToJSON gives for a node (null for an empty document).
 * Keys keep document order (Go's JSON would sort them); integers beyond 2^53 become rounded
 * numbers (use YNode.bigint for the exact digits). NaN and ±Inf have no JSON form: YAML_UNSUPPORTED.
 */
export function toPlain(node: YNode | null): unknown {
  if (node === null) return null;
  switch (node.kind) {
    case 'map': {
      const o: Record<string, unknown> = {};
      for (const e of node.entries) setKey(o, e.key, toPlain(e.value));
      return o;
    }
    case 'seq':
      return node.items.map(toPlain);
    case 'scalar': {
      const v = node.value;
      if (typeof v === 'number' && !Number.isFinite(v)) {
        const what = Number.isNaN(v) ? 'NaN' : v > 0 ? '+Inf' : '-Inf';
        throw new YamlError('YAML_UNSUPPORTED', `json: unsupported value: ${what}`, node.pos.line, node.pos.col);
      }
      return v;
    }
  }
}
