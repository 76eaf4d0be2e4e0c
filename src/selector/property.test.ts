// Property tests: random ASTs survive print → parse; random *source* renderings of those ASTs (random
// whitespace, quotes, redundant parentheses, `notin`/`startswith` spellings, shuffled sets with
// duplicates and trailing commas) parse to the same canonical form; and arbitrary junk either parses
// and round-trips or fails with a positioned SelectorError. Evaluation is checked against an
// independent reference evaluator built on Map.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  type Labels,
  type SelectorNode,
  SelectorError,
  parseSelector,
  printNode,
  toStringSet,
  validateSelector,
} from './index.js';

const LABEL_CHARS = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./-'];
const KEYWORD_LABELS = ['in', 'not', 'notin', 'contains', 'starts', 'with', 'ends', 'has', 'all', 'global'];
const POOL_LABELS = ['a', 'b', 'c', '__proto__', 'constructor', 'k8s.io/app-name_1', ...KEYWORD_LABELS];

const labelArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...POOL_LABELS) },
  { weight: 2, arbitrary: fc.string({ unit: fc.constantFrom(...LABEL_CHARS), minLength: 1, maxLength: 8 }) },
  { weight: 1, arbitrary: fc.constant('L'.repeat(512)) },
);

const VALUE_UNITS = ['x', 'y', ' ', '"', "'", '\t', '\n', '\\', '{', '}', ',', '(', ')', '&', '|', '!', '=', 'ü', '🐈', '\uff21'];
const POOL_VALUES = ['', 'x', 'y', 'xy', 'yx', 'x y', '"q', "'q", '🐈', '\uff21'];

/** Any string that does not contain both quote characters (the language cannot express that). */
const valueArb = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...POOL_VALUES) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.boolean(), fc.string({ unit: fc.constantFrom(...VALUE_UNITS), maxLength: 6 }))
      .map(([dropDouble, s]) => s.replaceAll(dropDouble ? '"' : "'", '')),
  },
);

const leafArb: fc.Arbitrary<SelectorNode> = fc.oneof(
  fc.constant<SelectorNode>({ kind: 'all' }),
  fc.constant<SelectorNode>({ kind: 'global' }),
  labelArb.map((label): SelectorNode => ({ kind: 'has', label })),
  fc
    .tuple(fc.constantFrom('eq', 'neq', 'contains', 'startsWith', 'endsWith' as const), labelArb, valueArb)
    .map(([kind, label, value]): SelectorNode => ({ kind, label, value })),
  fc
    .tuple(fc.constantFrom('in', 'notIn' as const), labelArb, fc.array(valueArb, { maxLength: 4 }))
    .map(([kind, label, values]): SelectorNode => ({ kind, label, values: toStringSet(values) })),
);

const { node: nodeArb } = fc.letrec<{ node: SelectorNode }>((tie) => ({
  node: fc.oneof(
    { maxDepth: 4, depthIdentifier: 'selector' },
    leafArb,
    fc.array(tie('node'), { minLength: 2, maxLength: 3 }).map((operands): SelectorNode => ({ kind: 'and', operands })),
    fc.array(tie('node'), { minLength: 2, maxLength: 3 }).map((operands): SelectorNode => ({ kind: 'or', operands })),
    tie('node').map((operand): SelectorNode => ({ kind: 'not', operand })),
  ),
}));

const labelsArb: fc.Arbitrary<Labels> = fc
  .array(fc.tuple(labelArb, valueArb), { maxLength: 6 })
  .map((entries) => Object.fromEntries(entries));

/** Reference semantics, written independently of ast.ts (Map lookup, explicit presence checks). */
function refEval(node: SelectorNode, labels: Labels): boolean {
  const m = new Map(Object.entries(labels));
  const walk = (n: SelectorNode): boolean => {
    switch (n.kind) {
      case 'all':
      case 'global':
        return true;
      case 'has':
        return m.has(n.label);
      case 'eq':
        return m.has(n.label) && m.get(n.label) === n.value;
      case 'neq':
        return !(m.has(n.label) && m.get(n.label) === n.value);
      case 'contains':
        return m.has(n.label) && (m.get(n.label) ?? '').indexOf(n.value) >= 0;
      case 'startsWith':
        return m.has(n.label) && (m.get(n.label) ?? '').slice(0, n.value.length) === n.value;
      case 'endsWith': {
        const v = m.get(n.label) ?? '';
        return m.has(n.label) && v.length >= n.value.length && v.slice(v.length - n.value.length) === n.value;
      }
      case 'in':
        return m.has(n.label) && new Set(n.values).has(m.get(n.label) ?? '');
      case 'notIn':
        return !(m.has(n.label) && new Set(n.values).has(m.get(n.label) ?? ''));
      case 'and':
        return n.operands.every(walk);
      case 'or':
        return n.operands.some(walk);
      case 'not':
        return !walk(n.operand);
    }
  };
  return walk(node);
}

/** The tree the parser should build from print(node): negation chains reduced by parity. */
function reduceNots(node: SelectorNode): SelectorNode {
  switch (node.kind) {
    case 'and':
    case 'or':
      return { kind: node.kind, operands: node.operands.map(reduceNots) };
    case 'not': {
      let inner: SelectorNode = node;
      let negated = false;
      while (inner.kind === 'not') {
        negated = !negated;
        inner = inner.operand;
      }
      const reduced = reduceNots(inner);
      return negated ? { kind: 'not', operand: reduced } : reduced;
    }
    default:
      return node;
  }
}

/** Random decisions for the renderer, drawn from a fast-check array (cheap, and it shrinks). */
class Choices {
  private i = 0;
  constructor(private readonly draws: readonly number[]) {}
  /** An integer in [0, n). */
  int(n: number): number {
    const d = this.draws[this.i++ % this.draws.length] ?? 0;
    return d % n;
  }
}
type Gen = Choices;
const choicesArb = fc.array(fc.nat(), { minLength: 1, maxLength: 64 }).map((draws) => new Choices(draws));

const ws = (g: Gen, minLength = 0): string => {
  let out = '';
  const n = minLength + g.int(3 - minLength);
  for (let i = 0; i < n; i++) out += g.int(2) === 0 ? ' ' : '\t';
  return out;
};
const pick = <T>(g: Gen, ...items: T[]): T => items[g.int(items.length)]!;

function quoteAny(g: Gen, v: string): string {
  const q = v.includes('"') ? "'" : v.includes("'") ? '"' : pick(g, '"', "'");
  return q + v + q;
}

const OP_SPELLINGS: Record<string, (g: Gen) => string> = {
  eq: () => '==',
  neq: () => '!=',
  contains: () => 'contains',
  startsWith: (g) => 'starts' + ws(g) + 'with',
  endsWith: (g) => 'ends' + ws(g) + 'with',
  in: () => 'in',
  notIn: (g) => 'not' + ws(g) + 'in',
};

/** A random but faithful source text for `node`. */
function render(g: Gen, node: SelectorNode): string {
  const text = renderBare(g, node);
  return g.int(6) === 0 ? '(' + ws(g) + text + ws(g) + ')' : text;
}

function renderBare(g: Gen, node: SelectorNode): string {
  switch (node.kind) {
    case 'all':
    case 'global':
      return node.kind + '(' + ws(g) + ')';
    case 'has':
      return 'has(' + ws(g) + node.label + ws(g) + ')';
    case 'eq':
    case 'neq':
    case 'contains':
    case 'startsWith':
    case 'endsWith': {
      const symbolic = node.kind === 'eq' || node.kind === 'neq';
      return node.label + ws(g, symbolic ? 0 : 1) + OP_SPELLINGS[node.kind]!(g) + ws(g) + quoteAny(g, node.value);
    }
    case 'in':
    case 'notIn': {
      // Every value once or twice, in a shuffled order.
      const items = [...node.values, ...node.values.filter(() => g.int(2) === 0)];
      for (let i = items.length - 1; i > 0; i--) {
        const j = g.int(i + 1);
        [items[i], items[j]] = [items[j]!, items[i]!];
      }
      const body = items.map((v) => ws(g) + quoteAny(g, v) + ws(g)).join(',');
      const trailing = items.length > 0 && g.int(2) === 0 ? ',' : '';
      return node.label + ws(g, 1) + OP_SPELLINGS[node.kind]!(g) + ws(g) + '{' + body + trailing + ws(g) + '}';
    }
    case 'and':
    case 'or': {
      const sep = ws(g) + (node.kind === 'and' ? '&&' : '||') + ws(g);
      // Same-kind children and `or` under `and` need parentheses; `and` under `or` may go bare.
      return node.operands
        .map((op) => {
          const mustWrap = op.kind === node.kind || (node.kind === 'and' && op.kind === 'or');
          return mustWrap ? '(' + ws(g) + render(g, op) + ws(g) + ')' : render(g, op);
        })
        .join(sep);
    }
    case 'not': {
      const op = node.operand;
      const mustWrap = op.kind === 'and' || op.kind === 'or';
      const inner = mustWrap ? '(' + ws(g) + render(g, op) + ws(g) + ')' : render(g, op);
      return '!' + ws(g) + inner;
    }
  }
}

const RUNS = { numRuns: 400 };

describe('selector properties', () => {
  it('print → parse gives the same canonical text, tree and truth values', () => {
    fc.assert(
      fc.property(nodeArb, fc.array(labelsArb, { minLength: 1, maxLength: 6 }), (node, labelMaps) => {
        const text = printNode(node);
        const parsed = parseSelector(text);
        assert.equal(parsed.toString(), text);
        assert.deepEqual(parsed.root, reduceNots(node));
        for (const labels of labelMaps) {
          const expected = refEval(node, labels);
          assert.equal(parsed.evaluate(labels), expected);
        }
      }),
      RUNS,
    );
  });

  it('random source renderings parse to the canonical form of their tree, which is a fixed point', () => {
    fc.assert(
      fc.property(nodeArb, choicesArb, fc.array(labelsArb, { maxLength: 4 }), (node, g, labelMaps) => {
        const source = ws(g) + render(g, node) + ws(g);
        const first = parseSelector(source);
        assert.equal(first.toString(), printNode(node));
        const second = parseSelector(first.toString());
        assert.equal(second.toString(), first.toString());
        assert.equal(second.uniqueId(), first.uniqueId());
        for (const labels of labelMaps) {
          const expected = refEval(node, labels);
          assert.equal(first.evaluate(labels), expected);
          assert.equal(second.evaluate(labels), expected);
        }
      }),
      RUNS,
    );
  });

  it('junk input either round-trips or fails with a positioned SelectorError', () => {
    const junkUnits = fc.constantFrom(
      'a', 'b', ' ', '\t', '"', "'", '(', ')', '{', '}', ',', '!', '=', '&', '|', '%', '\n',
      'in', 'not', 'has(', 'all(', 'global(', 'contains', 'starts', 'with', '==', '!=', '&&', '||',
    );
    fc.assert(
      fc.property(fc.array(junkUnits, { maxLength: 14 }).map((parts) => parts.join('')), (text) => {
        const err = validateSelector(text);
        if (err === undefined) {
          const canon = parseSelector(text).toString();
          assert.equal(parseSelector(canon).toString(), canon);
          return;
        }
        assert.ok(err instanceof SelectorError);
        assert.equal(err.selector, text);
        assert.ok(err.position !== undefined && err.position >= 0 && err.position <= text.length);
        assert.throws(() => parseSelector(text), { message: err.message });
      }),
      { numRuns: 2000 },
    );
  });
});
