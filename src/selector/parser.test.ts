// Parser cases ported from libcalico-go/lib/selector/parser/parser_test.go (v3.32.0): canonical
// strings with their UniqueIDs, the bad-selector list (here with Calico's exact error texts, derived
// from parser.go/tokenizer.go), and the selector/match table.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_NESTING } from './parser.js';
import { type Labels, SelectorError, normaliseSelector, parseSelector, validateSelector } from './index.js';

// [input, canonical, Calico's UniqueID ('' = not given by Calico's test)]
const CANONICAL: Array<[string, string, string]> = [
  ['', 'all()', 's:5y5I3VdRZfDU01O--xXAPx2yxCQQqMf0M6IWug'],
  [' all() ', 'all()', 's:5y5I3VdRZfDU01O--xXAPx2yxCQQqMf0M6IWug'],
  [' (all() )', 'all()', 's:5y5I3VdRZfDU01O--xXAPx2yxCQQqMf0M6IWug'],
  ['! (has( b)||! has(a ))', '!(has(b) || !has(a))', 's:Iss0uCleLYv1GSv_pNm7hAO58kE9jAx1NKyG3Q'],
  ['! (a == "b"&&! c != "d")', '!(a == "b" && !c != "d")', 's:lh3haoY1ikTRkd4UZu0nWSaIBknYLPJLX16d-w'],
  [`a == "'"`, `a == "'"`, ''],
  [`a == '"'`, `a == '"'`, ''],
  [`a contains '"'`, `a contains '"'`, ''],
  [`a contains "'"`, `a contains "'"`, ''],
  [`a startswith '"'`, `a starts with '"'`, ''],
  [`a endswith "'"`, `a ends with "'"`, ''],
  [`a!='"'`, `a != '"'`, ''],
  [`a in {"d"}`, `a in {"d"}`, ''],
  [`a in {"a", "b"}`, `a in {"a", "b"}`, ''],
  [`a in {"d", "a", "b"}`, `a in {"a", "b", "d"}`, ''],
  [`a in {"z", "x", "y", "a"}`, `a in {"a", "x", "y", "z"}`, ''],
  [`a in {"z", "z", "x", "y", "x", "a"}`, `a in {"a", "x", "y", "z"}`, ''],
  // From Calico's visitor tests (with the prefixing visitor left out).
  [`k == 'v'`, `k == "v"`, ''],
  [`k != 'v'`, `k != "v"`, ''],
  [`k contains 'v'`, `k contains "v"`, ''],
  [`k starts with 'v'`, `k starts with "v"`, ''],
  [`k ends with 'v'`, `k ends with "v"`, ''],
  [`k == 'v' && x == 'y'`, `(k == "v" && x == "y")`, ''],
  [`k == 'v' || has(x)`, `(k == "v" || has(x))`, ''],
  [`!(k == 'v')`, `!k == "v"`, ''],
  [`k in {'v'}`, `k in {"v"}`, ''],
  [`k not in {'v'}`, `k not in {"v"}`, ''],
  [
    `!(!(k == 'v' && has(t) || all()) && (a in {'b', 'c'}))`,
    `!(!((k == "v" && has(t)) || all()) && a in {"b", "c"})`,
    '',
  ],
  // Our additions: precedence, grouping, sets, keywords, whitespace.
  [`a == "1" || b == "2" && c == "3"`, `(a == "1" || (b == "2" && c == "3"))`, ''],
  [`(a == "1" || b == "2") && c == "3"`, `((a == "1" || b == "2") && c == "3")`, ''],
  [`a == "1" && b == "2" && c == "3"`, `(a == "1" && b == "2" && c == "3")`, ''],
  [`(a == "1" && b == "2") && c == "3"`, `((a == "1" && b == "2") && c == "3")`, ''],
  [`((((has(x)))))`, `has(x)`, ''],
  [`!!has(a)`, `has(a)`, ''],
  [`!!!has(a)`, `!has(a)`, ''],
  [`! ! ! !has(a)`, `has(a)`, ''],
  [`!a in {"a"}`, `!a in {"a"}`, ''],
  [`a notin {}`, `a not in {}`, ''],
  [`a not   in {'x', }`, `a not in {"x"}`, ''],
  [`a in {"a",}`, `a in {"a"}`, ''],
  [`a in {'"', "'", "c"}`, `a in {'"', "'", "c"}`, ''],
  [`a in {"b", "B", "a", "_", "1", "~"}`, `a in {"1", "B", "_", "a", "b", "~"}`, ''],
  [`a in {"\u{1F408}", "\uFF21", "z"}`, `a in {"z", "\uFF21", "\u{1F408}"}`, ''], // Go byte order, not UTF-16
  [`global()`, `global()`, ''],
  [`\tglobal( ) `, `global()`, ''],
  [`has(a) && global()`, `(has(a) && global())`, ''],
  [`contains contains "contains"`, `contains contains "contains"`, ''],
  [`in in {"in"}`, `in in {"in"}`, ''],
  [`has(calico/k8s_NS-.1/role)`, `has(calico/k8s_NS-.1/role)`, ''],
  [`a==""`, `a == ""`, ''],
  [`a == "x y\\z"`, `a == "x y\\z"`, ''],
  [`!has(i-am-a-route-reflector)`, `!has(i-am-a-route-reflector)`, ''],
  [`route-reflector == 'true'`, `route-reflector == "true"`, ''],
  // Calico itself would print `!!has(a)` here (see ast.ts); we print the parity-reduced form.
  [`!(!has(a))`, `has(a)`, ''],
  [`!(!(!has(a)))`, `!has(a)`, ''],
  [`!(!a == "b" || c == "d")`, `!(!a == "b" || c == "d")`, ''],
];

// [input, Calico's error message, position]
const BAD: Array<[string, string, number]> = [
  ['b == b', 'expected string', 5],
  ['b contains b', 'expected string', 11],
  ['b starts with b', 'expected operator after label "b"', 2],
  ['b ends with b', 'expected operator after label "b"', 2],
  ["'b1' == b", 'unexpected token: TokStringLiteral(b1)', 0],
  ['b', 'unexpected end of string looking for op', 1],
  ['a b', 'expected operator after label "a"', 2],
  ['!', 'unexpected token: TokEOF()', 1],
  ['foo == "bar" &', 'expected &&', 13],
  ['foo == "bar" |', 'expected ||', 13],
  ['foo != ||', 'expected string', 7],
  ['foo in {"", ||', 'expected }', 12],
  ['foo in ""', 'expected set literal', 7],
  ['"FOO', 'unterminated string', 0],
  [`"FOO'`, 'unterminated string', 0],
  ["'FOO", 'unterminated string', 0],
  ['(', 'unexpected token: TokEOF()', 1],
  ['(a == "foo"', 'expected )', 11],
  [')', 'unexpected token: TokRParen()', 0],
  ['()', 'unexpected token: TokRParen()', 1],
  ['%', 'expected identifier', 0],
  ['a == "b" && %', 'expected identifier', 12],
  ['a == "b" || %', 'expected identifier', 12],
  ['a ', 'unexpected end of string looking for op', 2],
  ['has(foo) &&', 'unexpected token: TokEOF()', 11],
  // Our additions.
  ['has (x)', 'expected == or != not: TokLParen()', 4],
  ['a && b', 'expected == or != not: TokAnd()', 2],
  ['(a)', 'expected == or != not: TokRParen()', 2],
  ['a "b"', 'expected == or != not: TokStringLiteral(b)', 2],
  ['a ==', 'expected string', 4],
  ['a contains', 'expected string', 10],
  ['a in {"a" "b"}', 'expected }', 10],
  ['a in {,}', 'expected }', 6],
  ['a in {"a",,}', 'expected }', 10],
  ['a in {"a"', 'expected }', 9],
  ['a notin "x"', 'expected set literal', 8],
  ['b in c', 'expected set literal', 5],
  ['a == "b" c == "d"', 'unexpected content at end of selector [TokLabel(c) TokEq() TokStringLiteral(d) TokEOF()]', 9],
  ['has(a))', 'unexpected content at end of selector [TokRParen() TokEOF()]', 6],
  ['a == "x" in', 'unexpected content at end of selector [TokLabel(in) TokEOF()]', 9],
  ['all() global()', 'unexpected content at end of selector [TokGlobal() TokEOF()]', 6],
  ['has(a) !has(b)', 'unexpected content at end of selector [TokNot() TokHas(b) TokEOF()]', 7],
  ['(has(a) || has(b)', 'expected )', 17],
  ['has(a) && || has(b)', 'unexpected token: TokOr()', 10],
  ['{}', 'unexpected token: TokLBrace()', 0],
  ['a == "b" &&\nhas(c)', 'expected identifier', 11],
  ['all()\n', 'expected identifier', 5],
];

describe('parser: canonical form', () => {
  for (const [input, canonical, uid] of CANONICAL) {
    it(`canonicalises ${JSON.stringify(input)} as ${canonical}`, () => {
      const sel = parseSelector(input);
      assert.equal(sel.toString(), canonical);
      assert.equal(String(sel), canonical);
      const again = parseSelector(canonical);
      assert.equal(again.toString(), canonical, 'canonical form re-parses to itself');
      assert.equal(again.uniqueId(), sel.uniqueId());
      if (uid !== '') assert.equal(sel.uniqueId(), uid);
      assert.equal(validateSelector(input), undefined);
    });
  }

  it('keeps the AST shape Calico builds', () => {
    assert.deepEqual(parseSelector(`!(a == "1" || !has(b)) && c in {"y", "x", "y"}`).root, {
      kind: 'and',
      operands: [
        {
          kind: 'not',
          operand: {
            kind: 'or',
            operands: [
              { kind: 'eq', label: 'a', value: '1' },
              { kind: 'not', operand: { kind: 'has', label: 'b' } },
            ],
          },
        },
        { kind: 'in', label: 'c', values: ['x', 'y'] },
      ],
    });
    assert.deepEqual(parseSelector('').root, { kind: 'all' });
    // Parentheses around a negation keep both negations in the tree; only printing reduces them.
    assert.deepEqual(parseSelector('!(!has(a))').root, {
      kind: 'not',
      operand: { kind: 'not', operand: { kind: 'has', label: 'a' } },
    });
  });
});

describe('parser: invalid selectors', () => {
  for (const [input, message, position] of BAD) {
    it(`rejects ${JSON.stringify(input)} with "${message}"`, () => {
      const err = validateSelector(input);
      assert.ok(err instanceof SelectorError);
      assert.equal(err.message, message);
      assert.equal(err.position, position);
      assert.equal(err.selector, input);
      assert.equal(err.code, 'SELECTOR_SYNTAX');
      assert.throws(() => parseSelector(input), { name: 'SelectorError', message });
    });
  }

  it('accepts labels of 512 characters and rejects 513', () => {
    assert.equal(validateSelector(`has(${'x'.repeat(512)})`), undefined);
    assert.equal(validateSelector(`has(${'x'.repeat(513)})`)?.message, `label too long: ${'x'.repeat(513)}`);
  });

  it(`refuses nesting deeper than ${MAX_NESTING} instead of overflowing the stack`, () => {
    const ok = '('.repeat(MAX_NESTING) + 'has(a)' + ')'.repeat(MAX_NESTING);
    assert.equal(parseSelector(ok).toString(), 'has(a)');
    const deep = '('.repeat(MAX_NESTING + 1) + 'has(a)' + ')'.repeat(MAX_NESTING + 1);
    const err = validateSelector(deep);
    assert.equal(err?.message, `selector nested more than ${MAX_NESTING} deep`);
    assert.equal(err?.position, MAX_NESTING);
    assert.equal(validateSelector('!('.repeat(100_000))?.code, 'SELECTOR_SYNTAX');
  });
});

// Calico's selectorTests: [selector, labels that match, labels that do not].
const MATCH_TABLE: Array<[string, Labels[], Labels[]]> = [
  [`a == "b"`, [{ a: 'b' }, { a: 'b', c: 'd' }], [{}, { a: 'c' }, { c: 'd' }]],
  [`a == "b" && c == "d"`, [{ a: 'b', c: 'd' }], [{}, { a: 'b', c: 'e' }, { a: 'c', c: 'd' }, { c: 'd' }, { a: 'b' }]],
  [`a == "b" || c == "d"`, [{ a: 'b', c: 'd' }, { a: 'b' }, { c: 'd' }], [{}, { a: 'e', c: 'e' }, { c: 'e' }, { a: 'e' }]],
  [`a in {"'", '"', "c"}`, [{ a: 'c' }, { a: '"' }, { a: "'" }], [{}, { a: 'e' }]],
  [`a not in {"'", '"', "c"}`, [{}, { a: 'e' }], [{ a: 'c' }, { a: '"' }, { a: "'" }]],
  [`a == 'a'`, [{ a: 'a' }], []],
  [`a == "a"`, [{ a: 'a' }], []],
  [`a != "b"`, [{ a: 'a' }], []],
  [`a != "a"`, [{}], []],
  [`a contains "a"`, [{ a: 'a' }, { a: 'bab' }, { a: 'aaa', b: 'c' }], [{}, { a: 'b' }, { b: 'aaa' }]],
  [`a starts with "a"`, [{ a: 'a' }, { a: 'abb' }, { a: 'aaa', b: 'c' }], [{}, { a: 'b' }, { a: 'baa' }, { b: 'aaa' }]],
  [`a ends with "a"`, [{ a: 'a' }, { a: 'bba' }, { a: 'aaa', b: 'c' }], [{}, { a: 'b' }, { a: 'aab' }, { b: 'aaa' }]],
  [`a in {"a"}`, [{ a: 'a' }], []],
  [`!a in {"a"}`, [{ a: 'b' }], []],
  [`a in {"a", "b"}`, [{ a: 'a' }, { a: 'b' }], []],
  [`a not in {"d", "e"}`, [{ a: 'a' }], []],
  [`has(a)`, [{ a: 'b' }], []],
  [`!has(a)`, [{ b: 'b' }], []],
  [``, [{}, { a: 'b' }], []],
  [` `, [{}], []],
  [`all()`, [{}], []],
  [` all()`, [{}, { a: 'b' }], []],
  [`global()`, [{}], []],
  [` global()`, [{}, { a: 'b' }], []],
  [`a == 'a'`, [], [{ a: 'b' }, {}]],
  [`a != "a"`, [], [{ a: 'a' }]],
  [`a != 'a'`, [], [{ a: 'a' }]],
  [`a in {"a"}`, [], [{ a: 'b' }]],
  [`a not in {"a"}`, [], [{ a: 'a' }]],
  [`a in {"a", "b"}`, [], [{ a: 'c' }]],
  [`has(b)`, [], [{ a: 'b' }]],
  [`!!has(b)`, [], [{ a: 'b' }]],
  [`! has(a)`, [], [{ a: 'b' }]],
  [`!has(a)`, [], [{ a: 'b' }]],
  [`!!! has(a)`, [], [{ a: 'b' }]],
  [`!!!has(a)`, [], [{ a: 'b' }]],
  [`!! ! has(a)`, [], [{ a: 'b' }]],
  [`! !!has(a)`, [], [{ a: 'b' }]],
  [`a == 'a1' && b == 'b1'`, [{ a: 'a1', b: 'b1' }], []],
  [`a == 'a1' && b != 'b1'`, [], [{ a: 'a1', b: 'b1' }]],
  [`a != 'a1' && b == 'b1'`, [], [{ a: 'a1', b: 'b1' }]],
  [`a != 'a1' && b != 'b1'`, [], [{ a: 'a1', b: 'b1' }]],
  [`a != 'a1' && !b == 'b1'`, [], [{ a: 'a1', b: 'b1' }]],
  [`!a == 'a1' && b == 'b1'`, [], [{ a: 'a1', b: 'b1' }]],
  [`has(a) && !has(b)`, [{ a: 'a' }], []],
  [`!has(b) && has(a)`, [{ a: 'a' }], []],
  [`!(!has(a) || has(b))`, [{ a: 'a' }], []],
  [`!(has(b) || !has(a))`, [{ a: 'a' }], []],
  [`a == 'a1' || b == 'b1'`, [{ a: 'a1', b: 'b1' }], []],
  [`a == 'a1' || b != 'b1'`, [{ a: 'a1', b: 'b1' }], []],
  [`a != 'a1' || b == 'b1'`, [{ a: 'a1', b: 'b1' }], []],
  [`a != 'a1' || b != 'b1'`, [], [{ a: 'a1', b: 'b1' }]],
  [`! a == 'a1' || ! b == 'b1'`, [], [{ a: 'a1', b: 'b1' }]],
];

describe('parser: Calico match table', () => {
  for (const [text, matches, nonMatches] of MATCH_TABLE) {
    it(`evaluates ${JSON.stringify(text)} (and its canonical form) as Calico does`, () => {
      const sel = parseSelector(text);
      const canon = parseSelector(sel.toString());
      for (const labels of matches) {
        assert.equal(sel.evaluate(labels), true, `${text} should match ${JSON.stringify(labels)}`);
        assert.equal(canon.evaluate(labels), true, `${canon} should match ${JSON.stringify(labels)}`);
      }
      for (const labels of nonMatches) {
        assert.equal(sel.evaluate(labels), false, `${text} should not match ${JSON.stringify(labels)}`);
        assert.equal(canon.evaluate(labels), false, `${canon} should not match ${JSON.stringify(labels)}`);
      }
    });
  }
});

describe('normaliseSelector (selector.Normalise)', () => {
  it('trims Go whitespace and canonicalises', () => {
    assert.equal(normaliseSelector(''), 'all()');
    assert.equal(normaliseSelector('\n  has(a)&&b=="c"\r\n'), '(has(a) && b == "c")');
    assert.equal(normaliseSelector('\u0085has(a)\u00a0'), 'has(a)');
  });
  it('returns an unparseable selector trimmed but otherwise unchanged', () => {
    assert.equal(normaliseSelector('  a ==  b \n'), 'a ==  b');
    assert.equal(normaliseSelector('\ufeffhas(a)'), '\ufeffhas(a)'); // U+FEFF is not a Go space
  });
});
