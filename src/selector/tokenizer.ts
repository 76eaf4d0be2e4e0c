/**
 * Selector tokenizer — Calico's `libcalico-go/lib/selector/tokenizer/tokenizer.go` rules.
 *
 * Turns selector text into a flat token list that always ends with an EOF token. Every token carries
 * the index where it starts, so parse errors can point at it.
 *
 * Tricky parts, all deliberate copies of Calico's behaviour:
 * - Whitespace is only space and tab. A newline is not whitespace: it fails as `expected identifier`
 *   (or `expected operator after label "x"` right after a label).
 * - Operators spelled with letters (`contains`, `in`, `not in`, `starts with`, `ends with`) are only
 *   recognised directly after a label token; anywhere else those words are ordinary labels. So
 *   `contains contains "contains"` is valid, and `in` after a string is a label.
 * - A keyword operator needs a word boundary after it (`a inx` is an error). For the two-word ones the
 *   words may be separated by any number of spaces, or none (`notin`, `startswith`), and the boundary is
 *   checked after the whitespace that follows the last word: `a not in x` fails with
 *   `expected operator after label "a"` whereas `b in c` tokenizes (the parser then rejects it).
 * - `has(`, `all(` and `global(` must have no space before `(`; `has (x)` makes `has` a label.
 *   Inside the parentheses spaces are fine.
 * - Strings are '…' or "…" with no escapes: the value runs to the next identical quote.
 * - Token kinds are named like Go's stringer output (`TokLParen`) because Calico's error messages print
 *   tokens as `Kind(value)`, e.g. `unexpected token: TokRParen()`.
 */

import { SelectorError } from './errors.js';

export const TokenKind = {
  None: 'TokNone',
  Label: 'TokLabel',
  StringLiteral: 'TokStringLiteral',
  LBrace: 'TokLBrace',
  RBrace: 'TokRBrace',
  Comma: 'TokComma',
  Eq: 'TokEq',
  Ne: 'TokNe',
  In: 'TokIn',
  Not: 'TokNot',
  NotIn: 'TokNotIn',
  Contains: 'TokContains',
  StartsWith: 'TokStartsWith',
  EndsWith: 'TokEndsWith',
  All: 'TokAll',
  Has: 'TokHas',
  LParen: 'TokLParen',
  RParen: 'TokRParen',
  And: 'TokAnd',
  Or: 'TokOr',
  Global: 'TokGlobal',
  EOF: 'TokEOF',
} as const;
export type TokenKind = (typeof TokenKind)[keyof typeof TokenKind];

export interface Token {
  readonly kind: TokenKind;
  /** Label name, string-literal contents or has() label; '' for the other kinds. */
  readonly value: string;
  /** Index into the selector text where the token starts. */
  readonly pos: number;
}

/** Maximum label length (bytes in Go; labels are ASCII so also characters). */
export const MAX_LABEL_LENGTH = 512;

/** Calico's `Token.String()`: `Kind(value)`. */
export function tokenToString(t: Token): string {
  return `${t.kind}(${t.value})`;
}

/** True for the characters allowed in a label: [A-Za-z0-9_./-]. */
export function isIdentifierChar(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) || // a-z
    (c >= 0x41 && c <= 0x5a) || // A-Z
    (c >= 0x30 && c <= 0x39) || // 0-9
    c === 0x5f || // _
    c === 0x2e || // .
    c === 0x2f || // /
    c === 0x2d // -
  );
}

/** Calico's `tokenizer.ValidLabel`: 1–512 characters of [A-Za-z0-9_./-]. */
export function isValidLabel(label: string): boolean {
  if (label.length === 0 || label.length > MAX_LABEL_LENGTH) return false;
  for (let i = 0; i < label.length; i++) {
    if (!isIdentifierChar(label.charCodeAt(i))) return false;
  }
  return true;
}

function skipWhitespace(s: string, i: number): number {
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09) break;
    i++;
  }
  return i;
}

function isWordBoundary(s: string, i: number): boolean {
  return i >= s.length || !isIdentifierChar(s.charCodeAt(i));
}

/** Matches `word` at i followed by a word boundary; returns the end index or -1. */
function matchWord(s: string, i: number, word: string): number {
  if (!s.startsWith(word, i)) return -1;
  const end = i + word.length;
  return isWordBoundary(s, end) ? end : -1;
}

/**
 * Matches `first`, optional whitespace, `second`, optional whitespace, then a word boundary
 * (Calico's cutMultiWordPrefixCheckBreak). Returns the index after the trailing whitespace, or -1.
 */
function matchTwoWords(s: string, i: number, first: string, second: string): number {
  if (!s.startsWith(first, i)) return -1;
  let j = skipWhitespace(s, i + first.length);
  if (!s.startsWith(second, j)) return -1;
  j = skipWhitespace(s, j + second.length);
  return isWordBoundary(s, j) ? j : -1;
}

/** Tokenizes `input`; throws SelectorError with Calico's message on the first lexical error. */
export function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  const emit = (kind: TokenKind, pos: number, value: string): void => {
    tokens.push({ kind, value, pos });
  };
  const fail = (message: string, pos: number): never => {
    throw new SelectorError(message, input, pos);
  };

  /** Scans a label at i; returns its end index. */
  const cutIdentifier = (i: number): number => {
    let end = i;
    while (end < input.length && isIdentifierChar(input.charCodeAt(end))) end++;
    if (end - i > MAX_LABEL_LENGTH) fail(`label too long: ${input.slice(i, end)}`, i);
    if (end === i) fail('expected identifier', i);
    return end;
  };

  /** `all(` / `global(` already matched up to `i`; expects optional spaces then `)`. */
  const closeEmptyCall = (i: number, name: string): number => {
    const j = skipWhitespace(input, i);
    if (input.charCodeAt(j) !== 0x29) fail(`no closing ')' after ${name}(`, j);
    return j + 1;
  };

  let i = 0;
  for (;;) {
    i = skipWhitespace(input, i);
    if (i >= input.length) {
      tokens.push({ kind: TokenKind.EOF, value: '', pos: i });
      return tokens;
    }
    const start = i;
    const push = (kind: TokenKind, value = ''): void => emit(kind, start, value);
    const c = input[i];
    switch (c) {
      case '(':
        push(TokenKind.LParen);
        i++;
        break;
      case ')':
        push(TokenKind.RParen);
        i++;
        break;
      case '{':
        push(TokenKind.LBrace);
        i++;
        break;
      case '}':
        push(TokenKind.RBrace);
        i++;
        break;
      case ',':
        push(TokenKind.Comma);
        i++;
        break;
      case '"':
      case "'": {
        const close = input.indexOf(c, i + 1);
        if (close < 0) fail('unterminated string', start);
        push(TokenKind.StringLiteral, input.slice(i + 1, close));
        i = close + 1;
        break;
      }
      case '=':
        if (!input.startsWith('==', i)) fail('expected ==', start);
        push(TokenKind.Eq);
        i += 2;
        break;
      case '!':
        if (input.startsWith('!=', i)) {
          push(TokenKind.Ne);
          i += 2;
        } else {
          push(TokenKind.Not);
          i++;
        }
        break;
      case '&':
        if (!input.startsWith('&&', i)) fail('expected &&', start);
        push(TokenKind.And);
        i += 2;
        break;
      case '|':
        if (!input.startsWith('||', i)) fail('expected ||', start);
        push(TokenKind.Or);
        i += 2;
        break;
      default:
        i = scanWordish(start);
    }
  }

  /** Everything that starts with a letter-like character: keyword operators, has/all/global, labels. */
  function scanWordish(start: number): number {
    const last = tokens[tokens.length - 1];
    const push = (kind: TokenKind, value = ''): void => emit(kind, start, value);
    let end: number;
    if (last?.kind === TokenKind.Label) {
      // Directly after a label only an operator may follow.
      if ((end = matchWord(input, start, 'contains')) >= 0) push(TokenKind.Contains);
      else if ((end = matchTwoWords(input, start, 'starts', 'with')) >= 0) push(TokenKind.StartsWith);
      else if ((end = matchTwoWords(input, start, 'ends', 'with')) >= 0) push(TokenKind.EndsWith);
      else if ((end = matchTwoWords(input, start, 'not', 'in')) >= 0) push(TokenKind.NotIn);
      else if ((end = matchWord(input, start, 'in')) >= 0) push(TokenKind.In);
      else return fail(`expected operator after label ${JSON.stringify(last.value)}`, start);
      return end;
    }
    if (input.startsWith('has(', start)) {
      const identStart = skipWhitespace(input, start + 4);
      const identEnd = cutIdentifier(identStart);
      const close = skipWhitespace(input, identEnd);
      if (input.charCodeAt(close) !== 0x29) fail("no closing ')' after has(", close);
      push(TokenKind.Has, input.slice(identStart, identEnd));
      return close + 1;
    }
    if (input.startsWith('all(', start)) {
      end = closeEmptyCall(start + 4, 'all');
      push(TokenKind.All);
      return end;
    }
    if (input.startsWith('global(', start)) {
      end = closeEmptyCall(start + 7, 'global');
      push(TokenKind.Global);
      return end;
    }
    end = cutIdentifier(start);
    push(TokenKind.Label, input.slice(start, end));
    return end;
  }
}
