/**
 * Selector parser — Calico's `libcalico-go/lib/selector/parser/parser.go` grammar.
 *
 *   selector  := <empty> | orExpr                       (empty means all())
 *   orExpr    := andExpr ( "||" andExpr )*
 *   andExpr   := operation ( "&&" operation )*
 *   operation := "!"* ( has(l) | all() | global() | "(" orExpr ")"
 *                     | l ("==" | "!=" | contains | starts with | ends with) string
 *                     | l ("in" | "not in") "{" [ string ("," string)* [","] ] "}" )
 *
 * Tricky parts:
 * - Leading `!`s collapse by parity; `!` binds to a whole operation, so `!a == "b"` is `!(a == "b")`.
 * - Parentheses make no node of their own; a single operand of `&&`/`||` is returned bare, so
 *   `((a == "b"))` is just the comparison.
 * - A set may be empty and may end with a comma (`{"a",}`); its values are sorted and de-duplicated.
 * - Error texts are Calico's, including the Go rendering of tokens (`unexpected token: TokEOF()`,
 *   `unexpected content at end of selector [TokLabel(c) TokEOF()]`). The message for a label followed
 *   by a non-operator token really says `expected == or != not: TokLParen()`.
 * - Go's stack grows without limit; ours does not, so nesting deeper than MAX_NESTING (parentheses
 *   plus negations of parentheses) is refused with a tortie-specific message rather than a crash.
 */

import type { SelectorNode, ValueOperator } from './ast.js';
import { toStringSet } from './ast.js';
import { SelectorError } from './errors.js';
import { type Token, TokenKind, tokenize, tokenToString } from './tokenizer.js';

/** How many levels of parentheses we accept (Calico has no limit; real selectors use a handful). */
export const MAX_NESTING = 1000;

const VALUE_OPERATORS: Partial<Record<TokenKind, ValueOperator>> = {
  [TokenKind.Eq]: 'eq',
  [TokenKind.Ne]: 'neq',
  [TokenKind.Contains]: 'contains',
  [TokenKind.StartsWith]: 'startsWith',
  [TokenKind.EndsWith]: 'endsWith',
};

/** Parses selector text into its AST; the empty (or all-whitespace) selector is `all()`. */
export function parseSelectorNode(text: string): SelectorNode {
  return new Parser(text, tokenize(text)).parseRoot();
}

class Parser {
  private pos = 0;
  private depth = 0;

  constructor(
    private readonly text: string,
    private readonly tokens: readonly Token[],
  ) {}

  parseRoot(): SelectorNode {
    if (this.peek().kind === TokenKind.EOF) return { kind: 'all' };
    const node = this.parseOr();
    if (this.pos !== this.tokens.length - 1) {
      const rest = this.tokens.slice(this.pos).map(tokenToString).join(' ');
      this.fail(`unexpected content at end of selector [${rest}]`, this.peek());
    }
    return node;
  }

  /** The token at pos+offset; the trailing EOF stands in for anything past the end. */
  private peek(offset = 0): Token {
    const t = this.tokens[Math.min(this.pos + offset, this.tokens.length - 1)];
    if (t === undefined) throw new Error('selector parser: empty token list'); // tokenize always adds EOF
    return t;
  }

  private fail(message: string, at: Token): never {
    throw new SelectorError(message, this.text, at.pos);
  }

  private parseOr(): SelectorNode {
    const first = this.parseAnd();
    if (this.peek().kind !== TokenKind.Or) return first;
    const operands = [first];
    while (this.peek().kind === TokenKind.Or) {
      this.pos++;
      operands.push(this.parseAnd());
    }
    return { kind: 'or', operands };
  }

  private parseAnd(): SelectorNode {
    const first = this.parseOperation();
    if (this.peek().kind !== TokenKind.And) return first;
    const operands = [first];
    while (this.peek().kind === TokenKind.And) {
      this.pos++;
      operands.push(this.parseOperation());
    }
    return { kind: 'and', operands };
  }

  private parseOperation(): SelectorNode {
    let negated = false;
    while (this.peek().kind === TokenKind.Not) {
      negated = !negated;
      this.pos++;
    }
    const node = this.parseBareOperation();
    return negated ? { kind: 'not', operand: node } : node;
  }

  private parseBareOperation(): SelectorNode {
    const t = this.peek();
    switch (t.kind) {
      case TokenKind.Has:
        this.pos++;
        return { kind: 'has', label: t.value };
      case TokenKind.All:
        this.pos++;
        return { kind: 'all' };
      case TokenKind.Global:
        this.pos++;
        return { kind: 'global' };
      case TokenKind.Label:
        return this.parseLabelOperation(t);
      case TokenKind.LParen: {
        if (++this.depth > MAX_NESTING) this.fail(`selector nested more than ${MAX_NESTING} deep`, t);
        this.pos++;
        const inner = this.parseOr();
        if (this.peek().kind !== TokenKind.RParen) this.fail('expected )', this.peek());
        this.pos++;
        this.depth--;
        return inner;
      }
      default:
        return this.fail(`unexpected token: ${tokenToString(t)}`, t);
    }
  }

  /** `label <op> "value"` or `label [not] in {…}`; the current token is the label. */
  private parseLabelOperation(labelTok: Token): SelectorNode {
    // Calico needs at least label, operator and operand tokens (counting the final EOF).
    if (this.tokens.length - this.pos < 3) this.fail('unexpected end of string looking for op', this.peek(1));
    const label = labelTok.value;
    const op = this.peek(1);
    const operand = this.peek(2);
    const valueOp = VALUE_OPERATORS[op.kind];
    if (valueOp !== undefined) {
      if (operand.kind !== TokenKind.StringLiteral) this.fail('expected string', operand);
      this.pos += 3;
      return { kind: valueOp, label, value: operand.value };
    }
    if (op.kind !== TokenKind.In && op.kind !== TokenKind.NotIn) {
      this.fail(`expected == or != not: ${tokenToString(op)}`, op);
    }
    if (operand.kind !== TokenKind.LBrace) this.fail('expected set literal', operand);
    this.pos += 3;
    const values: string[] = [];
    while (this.peek().kind === TokenKind.StringLiteral) {
      values.push(this.peek().value);
      this.pos++;
      if (this.peek().kind !== TokenKind.Comma) break;
      this.pos++;
    }
    if (this.peek().kind !== TokenKind.RBrace) this.fail('expected }', this.peek());
    this.pos++;
    return { kind: op.kind === TokenKind.In ? 'in' : 'notIn', label, values: toStringSet(values) };
  }
}
