/**
 * Syntax checks of one document, before decoding: the `yaml` package parses the structure, and
 * this module turns its errors into go-yaml v2's problem texts and adds the checks where
 * libyaml is stricter than the `yaml` package:
 *
 * - characters libyaml's reader refuses ("control characters are not allowed": anything but
 *   TAB, LF, CR, 0x20–0x7E, NEL, 0xA0–0xD7FF, 0xE000–0xFFFD, astral planes);
 * - double-quoted escapes: libyaml knows `\0 \a \b \t \<TAB> \n \v \f \r \e \<SP> \" \' \\ \N
 *   \_ \L \P \xXX \uXXXX \UXXXXXXXX` and an escaped line break — no `\/`, and a `\u` escape of
 *   a surrogate is an error (no JSON-style pairs);
 * - a `%YAML` directive other than 1.1 ("found incompatible YAML document").
 *
 * The earliest problem in the document wins, as the streaming libyaml would stop there.
 * Mapping the `yaml` package's error codes to libyaml's wording is approximate (see report).
 */

import type { Document, YAMLError } from 'yaml';
import { isScalar, visit } from 'yaml';

export interface Problem { offset: number; problem: string }

function isAllowedChar(cp: number): boolean {
  return cp === 0x09 || cp === 0x0a || cp === 0x0d || (cp >= 0x20 && cp <= 0x7e) || cp === 0x85 ||
    (cp >= 0xa0 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

/** libyaml's reader check over a whole document. */
export function findBadCharacter(text: string): Problem | null {
  for (let i = 0; i < text.length; i++) {
    const cp = text.codePointAt(i)!;
    if (cp >= 0xd800 && cp <= 0xdfff) return { offset: i, problem: 'invalid Unicode character' };
    if (!isAllowedChar(cp)) {
      // A UTF-8 BOM is only special at the start; elsewhere U+FEFF is an ordinary allowed char.
      return { offset: i, problem: 'control characters are not allowed' };
    }
    if (cp > 0xffff) i++;
  }
  return null;
}

const SIMPLE_ESCAPES = new Set(['0', 'a', 'b', 't', '\t', 'n', 'v', 'f', 'r', 'e', ' ', '"', "'", '\\', 'N', '_', 'L', 'P']);
const ESCAPE_LENGTH: Record<string, number> = { x: 2, u: 4, U: 8 };
const isBreakChar = (c: string | undefined): boolean =>
  c === '\n' || c === '\r' || c === '\u0085' || c === '\u2028' || c === '\u2029';

/** Validates the escapes of a double-quoted scalar's source text (quotes included). */
export function checkDoubleQuotedEscapes(src: string, base: number): Problem | null {
  for (let i = 1; i < src.length - 1; i++) {
    if (src[i] !== '\\') continue;
    const c = src[i + 1];
    if (isBreakChar(c)) { i++; continue; }
    if (c !== undefined && SIMPLE_ESCAPES.has(c)) { i++; continue; }
    const n = c === undefined ? undefined : ESCAPE_LENGTH[c];
    if (n === undefined) return { offset: base + i, problem: 'found unknown escape character' };
    const hex = src.slice(i + 2, i + 2 + n);
    if (!new RegExp(`^[0-9A-Fa-f]{${n}}$`).test(hex)) return { offset: base + i, problem: 'did not find expected hexdecimal number' };
    const v = parseInt(hex, 16);
    if ((v >= 0xd800 && v <= 0xdfff) || v > 0x10ffff) return { offset: base + i, problem: 'found invalid Unicode character escape code' };
    i += 1 + n;
  }
  return null;
}

/** Finds the next `:` that a YAML scanner would take as a value indicator, from `from`. */
function nextValueIndicator(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    if (text[i] === ':' && (i + 1 >= text.length || ' \t\r\n'.includes(text[i + 1]!))) return i;
  }
  return from;
}

/** One `yaml` package error as go-yaml would word it. */
export function translateError(e: YAMLError, text: string): Problem {
  const offset = e.pos[0];
  const msg = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
  switch (e.code) {
    case 'BLOCK_AS_IMPLICIT_KEY':
      return { offset: nextValueIndicator(text, offset), problem: 'mapping values are not allowed in this context' };
    case 'MULTILINE_IMPLICIT_KEY':
    case 'KEY_OVER_1024_CHARS':
      return { offset, problem: "could not find expected ':'" };
    case 'TAB_AS_INDENT':
    case 'BAD_SCALAR_START':
      return { offset, problem: 'found character that cannot start any token' };
    case 'BAD_DQ_ESCAPE':
      return { offset, problem: 'found unknown escape character' };
    case 'BAD_INDENT':
      if (/flow sequence/i.test(msg)) return { offset, problem: "did not find expected ',' or ']'" };
      if (/flow map/i.test(msg)) return { offset, problem: "did not find expected ',' or '}'" };
      if (/sequence/i.test(msg)) return { offset, problem: "did not find expected '-' indicator" };
      return { offset, problem: 'did not find expected key' };
    case 'MISSING_CHAR':
      if (/quote/i.test(msg)) return { offset, problem: 'found unexpected end of stream' };
      if (/followed by map values/.test(msg)) return { offset, problem: "could not find expected ':'" };
      if (msg.includes(']')) return { offset, problem: "did not find expected ',' or ']'" };
      if (msg.includes('}')) return { offset, problem: "did not find expected ',' or '}'" };
      return { offset, problem: msg };
    case 'UNEXPECTED_TOKEN':
      if (msg.includes('block-seq-ind')) return { offset, problem: 'block sequence entries are not allowed in this context' };
      if (msg.includes('map-value-ind')) return { offset, problem: 'mapping values are not allowed in this context' };
      if (/flow sequence/i.test(msg)) return { offset, problem: "did not find expected ',' or ']'" };
      if (/flow map/i.test(msg)) return { offset, problem: "did not find expected ',' or '}'" };
      return { offset, problem: 'did not find expected key' };
    case 'TAG_RESOLVE_FAILED':
      return { offset, problem: 'found undefined tag handle' };
    case 'BLOCK_IN_FLOW':
      return { offset, problem: 'did not find expected node content' };
    default:
      return { offset, problem: msg.charAt(0).toLowerCase() + msg.slice(1) };
  }
}

/** A document holding only directives: libyaml wants the `---` that must follow them. */
export function directivesOnlyProblem(text: string): Problem | null {
  const m = /^%.*$/m.exec(text);
  if (!m) return null;
  const y = /^%YAML[ \t]+([0-9]+)\.([0-9]+)/m.exec(text);
  if (y && (y[1] !== '1' || y[2] !== '1')) return { offset: y.index, problem: 'found incompatible YAML document' };
  return { offset: text.length, problem: 'did not find expected <document start>' };
}

/** All syntax problems of a parsed document (offsets relative to `text`), earliest first. */
export function documentProblems(doc: Document.Parsed, text: string): Problem[] {
  const out: Problem[] = [];
  const nested = new Set(doc.errors.filter((e) => e.code === 'BLOCK_AS_IMPLICIT_KEY').map((e) => e.pos[0]));
  for (const e of doc.errors) {
    // libyaml accepts a block collection right after "---" on the same line ("--- a: 1").
    if (e.code === 'MISSING_CHAR' && /same line with directives-end marker/.test(e.message)) continue;
    // Escapes are checked by checkDoubleQuotedEscapes, with libyaml's rules and wording.
    if (e.code === 'BAD_DQ_ESCAPE') continue;
    // "a: b\n  c: d": libyaml only complains about the ':' (the key spanning lines is the same error).
    if (e.code === 'MULTILINE_IMPLICIT_KEY' && nested.has(e.pos[0])) continue;
    out.push(translateError(e, text));
  }
  for (const w of doc.warnings) {
    if (w.code === 'BAD_DIRECTIVE' && /YAML version/.test(w.message)) out.push({ offset: w.pos[0], problem: 'found incompatible YAML document' });
  }
  const y = doc.directives?.yaml;
  if (y?.explicit && y.version !== '1.1') {
    const at = text.indexOf('%YAML');
    out.push({ offset: at >= 0 ? at : 0, problem: 'found incompatible YAML document' });
  }
  visit(doc, {
    Scalar(_k, node) {
      if (isScalar(node) && node.type === 'QUOTE_DOUBLE' && node.range) {
        const p = checkDoubleQuotedEscapes(text.slice(node.range[0], node.range[1]), node.range[0]);
        if (p) out.push(p);
      }
    },
  });
  return out.sort((a, b) => a.offset - b.offset);
}
