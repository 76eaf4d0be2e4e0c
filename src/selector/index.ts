/**
 * Calico's label-selector language: parse, evaluate, print.
 *
 *   const sel = parseSelector(`role == "rr" && !has(edge)`);
 *   sel.evaluate({ role: 'rr' });   // true
 *   String(sel);                    // `(role == "rr" && !has(edge))`
 *
 * The grammar, semantics, error texts and canonical string are libcalico-go's
 * (`lib/selector/{tokenizer,parser}`); see the module comments of tokenizer.ts, parser.ts and ast.ts
 * for the corner cases. A parsed Selector is immutable and cheap to evaluate many times.
 */

import { createHash } from 'node:crypto';
import { type Labels, type SelectorNode, evaluateNode, printNode } from './ast.js';
import { SelectorError } from './errors.js';
import { parseSelectorNode } from './parser.js';

export type {
  AllNode,
  AndNode,
  GlobalNode,
  HasNode,
  Labels,
  NotNode,
  OrNode,
  SelectorNode,
  SelectorNodeKind,
  SetNode,
  SetOperator,
  ValueNode,
  ValueOperator,
} from './ast.js';
export { evaluateNode, printNode, toStringSet } from './ast.js';
export { SelectorError, type SelectorErrorCode } from './errors.js';
export { MAX_LABEL_LENGTH, isValidLabel } from './tokenizer.js';

export interface Selector {
  /** true when the labels satisfy the selector */
  evaluate(labels: Labels): boolean;
  /** Calico's canonical string form, e.g. `(has(a) && b == "c")` — parse(String(s)) is equivalent */
  toString(): string;
  /** Calico's `Selector.UniqueID()`: "s:" + unpadded base64url SHA-224 of "s:" + toString(). */
  uniqueId(): string;
  /** the AST root, for tooling */
  readonly root: SelectorNode;
}

class ParsedSelector implements Selector {
  readonly root: SelectorNode;
  private readonly canonical: string;
  private id: string | undefined;

  constructor(root: SelectorNode) {
    this.root = root;
    this.canonical = printNode(root);
  }

  evaluate(labels: Labels): boolean {
    return evaluateNode(this.root, labels);
  }

  toString(): string {
    return this.canonical;
  }

  uniqueId(): string {
    this.id ??= 's:' + createHash('sha224').update('s:' + this.canonical, 'utf8').digest('base64url');
    return this.id;
  }
}

/** Parses a selector; throws SelectorError (Calico's message, plus position) when it is invalid. */
export function parseSelector(text: string): Selector {
  return new ParsedSelector(parseSelectorNode(text));
}

/** Wraps an AST (e.g. one built by tooling) as a Selector. */
export function selectorFromNode(root: SelectorNode): Selector {
  return new ParsedSelector(root);
}

/** The error parseSelector would throw, or undefined when the selector is valid. */
export function validateSelector(text: string): SelectorError | undefined {
  try {
    parseSelectorNode(text);
    return undefined;
  } catch (err) {
    if (err instanceof SelectorError) return err;
    throw err;
  }
}

// Go's unicode.IsSpace set, which strings.TrimSpace uses (JS trim() differs: it strips U+FEFF, keeps U+0085).
const GO_SPACE = '[\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
const GO_TRIM = new RegExp(`^${GO_SPACE}+|${GO_SPACE}+$`, 'g');

/**
 * Calico's `selector.Normalise`: trims surrounding whitespace, then returns the canonical form
 * ("" becomes "all()"); a selector that does not parse comes back trimmed but otherwise unaltered.
 */
export function normaliseSelector(text: string): string {
  const trimmed = text.replace(GO_TRIM, '');
  try {
    return parseSelector(trimmed).toString();
  } catch (err) {
    if (err instanceof SelectorError) return trimmed;
    throw err;
  }
}
