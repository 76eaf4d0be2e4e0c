/**
 * The decoded tree the reader hands out: what go-yaml v2 decodes into `interface{}` (aliases
 * expanded, merge keys applied, keys already turned into the strings sigs.k8s.io/yaml's
 * YAMLToJSON uses), with source positions kept for error messages.
 */

import type { Pos } from './split.js';

export type { Pos };

export interface YMapEntry { key: string; keyPos: Pos; value: YNode }

export type YNode =
  | { kind: 'map'; pos: Pos; entries: YMapEntry[] }
  | { kind: 'seq'; pos: Pos; items: YNode[] }
  | {
    kind: 'scalar';
    pos: Pos;
    /** The YAML 1.1 value as go-yaml v2 resolves it (timestamps and !!binary stay strings). */
    value: string | number | boolean | null;
    /** The scalar's text after unquoting/folding: what go-yaml resolved (for !!binary, the base64). */
    raw: string;
    /** True unless the scalar was plain (quoted or block scalars are always strings). */
    quoted: boolean;
    /** Exact value of an integer outside ±2^53 (number `value` is then rounded). */
    bigint?: bigint;
  };

export interface YamlDocument {
  /** null for an empty or comment-only document. */
  node: YNode | null;
  /** 1-based line of the whole input where this document's text starts. */
  startLine: number;
  /** The document's text as calicoctl's separator cut it. */
  text: string;
  /** Offset (UTF-16 units) of `text` in the whole input. */
  offset: number;
}
