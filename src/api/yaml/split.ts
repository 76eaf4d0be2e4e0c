/**
 * calicoctl's document separator (calicoctl/util/yaml/separator.go, a bufio.Scanner with the
 * split function from k8s.io/apimachinery), reproduced byte for byte:
 *
 * - A document ends at the first "\n---" (so never at offset 0: a leading "---" line stays in
 *   the first document, as a YAML document-start marker). The document is the text *before*
 *   that "\n"; the rest of the separator line up to and including the next "\n" is discarded
 *   unread, so "--- # comment", "---foo" and "----" all separate.
 * - "\n---" at the very end of the input ends the last document.
 * - A separator whose line has no "\n" and is not at the very end (e.g. "a: 1\n--- x" at EOF)
 *   makes the scanner stop without a token: the pending document is silently dropped.
 * - The scanner buffer is 10 MiB: a document needing more bytes than that to be split off
 *   (at EOF: 10 MiB or more) is an error ("bufio.Scanner: token too long").
 *
 * Also here: the line index that turns input offsets into 1-based line/column positions.
 */

import { YamlError } from './errors.js';

export const MAX_DOCUMENT_BYTES = 10 * 1024 * 1024;

export interface Chunk { text: string; offset: number }

function utf8Length(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** The documents with their start offsets in `text`. Throws YAML_TOO_LARGE. */
export function splitChunks(text: string, lines?: LineIndex): Chunk[] {
  const out: Chunk[] = [];
  // Byte counts only matter when a document could reach 10 MiB (at most 3 bytes per UTF-16 unit).
  const mayBeLarge = text.length * 3 >= MAX_DOCUMENT_BYTES;
  const tooLarge = (start: number): YamlError => {
    const li = lines ?? new LineIndex(text);
    const p = li.pos(start);
    return new YamlError('YAML_TOO_LARGE', 'bufio.Scanner: token too long', p.line, p.col);
  };
  let start = 0;
  while (start < text.length) {
    const i = text.indexOf('\n---', start);
    if (i >= 0) {
      const afterSep = i + 4;
      if (afterSep === text.length) {
        if (mayBeLarge && utf8Length(text.slice(start)) >= MAX_DOCUMENT_BYTES) throw tooLarge(start);
        out.push({ text: text.slice(start, i), offset: start });
        break;
      }
      const nl = text.indexOf('\n', afterSep);
      if (nl >= 0) {
        if (mayBeLarge && utf8Length(text.slice(start, nl + 1)) > MAX_DOCUMENT_BYTES) throw tooLarge(start);
        out.push({ text: text.slice(start, i), offset: start });
        start = nl + 1;
        continue;
      }
      // Separator line without a newline at EOF: the scanner gives up, dropping the document.
      if (mayBeLarge && utf8Length(text.slice(start)) >= MAX_DOCUMENT_BYTES) throw tooLarge(start);
      break;
    }
    if (mayBeLarge && utf8Length(text.slice(start)) >= MAX_DOCUMENT_BYTES) throw tooLarge(start);
    out.push({ text: text.slice(start), offset: start });
    break;
  }
  return out;
}

/** calicoctl's document split: the text of each document, in order. */
export function splitDocuments(text: string): string[] {
  return splitChunks(text).map((c) => c.text);
}

export interface Pos { line: number; col: number; offset: number }

/** Offsets → 1-based line and column (columns in code points, lines split at "\n"). */
export class LineIndex {
  private readonly starts: number[] = [0];

  constructor(private readonly text: string) {
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) this.starts.push(i + 1);
  }

  pos(offset: number): Pos {
    const o = Math.max(0, Math.min(offset, this.text.length));
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= o) lo = mid;
      else hi = mid - 1;
    }
    const ls = this.starts[lo]!;
    let col = 1;
    for (let i = ls; i < o; i++) {
      const c = this.text.charCodeAt(i);
      if (c >= 0xdc00 && c <= 0xdfff && i > ls && this.text.charCodeAt(i - 1) >= 0xd800 && this.text.charCodeAt(i - 1) <= 0xdbff) continue;
      col++;
    }
    return { line: lo + 1, col, offset: o };
  }
}
