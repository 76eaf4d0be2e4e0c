/**
 * Selector AST: node types, evaluation and Calico's canonical printing (`parser/ast.go`).
 *
 * Nodes are plain readonly objects discriminated by `kind`; evaluation is a switch-based tree walk
 * with no allocation, so one parsed selector can be matched against many label maps cheaply.
 *
 * Tricky parts:
 * - Label lookup uses own properties only: label names such as `constructor` or `__proto__` are
 *   valid, and must not find Object.prototype members.
 * - `!=` and `not in` are true when the label is absent; `==`, `in`, `contains`, `starts with`,
 *   `ends with` all require presence.
 * - Printing follows ast.go: every `and`/`or` node is wrapped in parentheses, even at the root
 *   (`(has(a) && b == "c")`); `!` is printed directly before its operand (`!a == "b"` means
 *   `!(a == "b")`); a value is quoted with `"` unless it contains `"`, then with `'`.
 * - Set values are kept sorted in Go's byte order (UTF-8, i.e. code point order — not JS's UTF-16
 *   order) and de-duplicated; the parser does that with `toStringSet`.
 * - One deliberate departure: Calico prints nested negations one `!` each, so `!(!has(a))` prints
 *   `!!has(a)`, which re-parses (parity rule) as `has(a)` — its canonical form is not a fixed point.
 *   We print a chain of `not` nodes by parity instead (`has(a)` here), which is what Calico's form
 *   becomes after one more round trip; this keeps `print(parse(print(x))) === print(x)`.
 * - A value containing both quote characters cannot be written in the language; the parser never
 *   produces one, and the printer emits it with `'` as Calico does (not re-parseable).
 */

export type Labels = Readonly<Record<string, string>>;

export interface AllNode {
  readonly kind: 'all';
}
/** `global()`: matches everything; in a namespaceSelector it means "not namespaced". */
export interface GlobalNode {
  readonly kind: 'global';
}
export interface HasNode {
  readonly kind: 'has';
  readonly label: string;
}
export type ValueOperator = 'eq' | 'neq' | 'contains' | 'startsWith' | 'endsWith';
/** `label == "v"`, `label != "v"`, `label contains "v"`, `label starts with "v"`, `label ends with "v"`. */
export interface ValueNode {
  readonly kind: ValueOperator;
  readonly label: string;
  readonly value: string;
}
export type SetOperator = 'in' | 'notIn';
/** `label in {…}` / `label not in {…}`; `values` is sorted (UTF-8 byte order) and de-duplicated. */
export interface SetNode {
  readonly kind: SetOperator;
  readonly label: string;
  readonly values: readonly string[];
}
export interface AndNode {
  readonly kind: 'and';
  /** Two or more operands. */
  readonly operands: readonly SelectorNode[];
}
export interface OrNode {
  readonly kind: 'or';
  /** Two or more operands. */
  readonly operands: readonly SelectorNode[];
}
export interface NotNode {
  readonly kind: 'not';
  readonly operand: SelectorNode;
}

export type SelectorNode = AllNode | GlobalNode | HasNode | ValueNode | SetNode | AndNode | OrNode | NotNode;
export type SelectorNodeKind = SelectorNode['kind'];

const hasOwn = Object.prototype.hasOwnProperty;

/** The label's value if the map has it as an own string property, else undefined. */
function lookup(labels: Labels, label: string): string | undefined {
  const v = labels[label];
  if (typeof v !== 'string') return undefined;
  return hasOwn.call(labels, label) ? v : undefined;
}

/** True when `labels` satisfy the selector tree rooted at `node`. */
export function evaluateNode(node: SelectorNode, labels: Labels): boolean {
  switch (node.kind) {
    case 'all':
    case 'global':
      return true;
    case 'has':
      return lookup(labels, node.label) !== undefined;
    case 'eq':
      return lookup(labels, node.label) === node.value;
    case 'neq':
      return lookup(labels, node.label) !== node.value;
    case 'contains': {
      const v = lookup(labels, node.label);
      return v !== undefined && v.includes(node.value);
    }
    case 'startsWith': {
      const v = lookup(labels, node.label);
      return v !== undefined && v.startsWith(node.value);
    }
    case 'endsWith': {
      const v = lookup(labels, node.label);
      return v !== undefined && v.endsWith(node.value);
    }
    case 'in': {
      const v = lookup(labels, node.label);
      return v !== undefined && node.values.includes(v);
    }
    case 'notIn': {
      const v = lookup(labels, node.label);
      return v === undefined || !node.values.includes(v);
    }
    case 'and':
      for (const op of node.operands) if (!evaluateNode(op, labels)) return false;
      return true;
    case 'or':
      for (const op of node.operands) if (evaluateNode(op, labels)) return true;
      return false;
    case 'not':
      return !evaluateNode(node.operand, labels);
  }
}

/**
 * Compares strings the way Go compares them: by UTF-8 bytes, which is code point order. JS `<`
 * compares UTF-16 code units, which puts astral characters (surrogate pairs) before U+E000–U+FFFF.
 */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // Lift surrogates (D800–DFFF) above E000–FFFF so that the order is code point order.
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}

/** Calico's ConvertToStringSetInPlace: sorted (Go byte order) and de-duplicated copy. */
export function toStringSet(values: readonly string[]): string[] {
  const sorted = [...values].sort(compareUtf8);
  const out: string[] = [];
  for (const v of sorted) if (out.length === 0 || out[out.length - 1] !== v) out.push(v);
  return out;
}

const VALUE_OPERATOR_TEXT: Readonly<Record<ValueOperator, string>> = {
  eq: ' == ',
  neq: ' != ',
  contains: ' contains ',
  startsWith: ' starts with ',
  endsWith: ' ends with ',
};

function quote(value: string): string {
  const q = value.includes('"') ? "'" : '"';
  return q + value + q;
}

/** Calico's canonical text for the tree rooted at `node` (see the module comment). */
export function printNode(node: SelectorNode): string {
  const out: string[] = [];
  appendNode(node, out);
  return out.join('');
}

function appendNode(node: SelectorNode, out: string[]): void {
  switch (node.kind) {
    case 'all':
      out.push('all()');
      return;
    case 'global':
      out.push('global()');
      return;
    case 'has':
      out.push('has(', node.label, ')');
      return;
    case 'eq':
    case 'neq':
    case 'contains':
    case 'startsWith':
    case 'endsWith':
      out.push(node.label, VALUE_OPERATOR_TEXT[node.kind], quote(node.value));
      return;
    case 'in':
    case 'notIn':
      out.push(node.label, node.kind === 'in' ? ' in {' : ' not in {');
      node.values.forEach((v, i) => out.push(i === 0 ? '' : ', ', quote(v)));
      out.push('}');
      return;
    case 'and':
    case 'or': {
      const sep = node.kind === 'and' ? ' && ' : ' || ';
      out.push('(');
      node.operands.forEach((op, i) => {
        if (i > 0) out.push(sep);
        appendNode(op, out);
      });
      out.push(')');
      return;
    }
    case 'not': {
      let inner: SelectorNode = node;
      let negated = false;
      while (inner.kind === 'not') {
        negated = !negated;
        inner = inner.operand;
      }
      if (negated) out.push('!');
      appendNode(inner, out);
      return;
    }
  }
}
