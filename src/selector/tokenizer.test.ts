// Tokenizer cases ported from libcalico-go/lib/selector/tokenizer/tokenizer_test.go (v3.32.0), plus
// the exact error texts and positions, which Calico's test only checks for "an error occurred".
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SelectorError } from './errors.js';
import { type Token, TokenKind as K, isValidLabel, tokenize, tokenToString } from './tokenizer.js';

type Tok = [kind: string, value?: string];

function kinds(input: string): Tok[] {
  const valued: string[] = [K.Label, K.StringLiteral, K.Has];
  return tokenize(input).map((t: Token): Tok => {
    if (!valued.includes(t.kind)) assert.equal(t.value, '', `${t.kind} carries no value`);
    return valued.includes(t.kind) ? [t.kind, t.value] : [t.kind];
  });
}

const a512 = 'a'.repeat(512);

const TOKEN_TESTS: Array<[string, Tok[]]> = [
  [`a=="b"`, [[K.Label, 'a'], [K.Eq], [K.StringLiteral, 'b'], [K.EOF]]],
  [`a!="b"`, [[K.Label, 'a'], [K.Ne], [K.StringLiteral, 'b'], [K.EOF]]],
  [`a != "b"`, [[K.Label, 'a'], [K.Ne], [K.StringLiteral, 'b'], [K.EOF]]],
  [`(a=="b")`, [[K.LParen], [K.Label, 'a'], [K.Eq], [K.StringLiteral, 'b'], [K.RParen], [K.EOF]]],
  [`label == "value"`, [[K.Label, 'label'], [K.Eq], [K.StringLiteral, 'value'], [K.EOF]]],
  [`label contains "value"`, [[K.Label, 'label'], [K.Contains], [K.StringLiteral, 'value'], [K.EOF]]],
  [`contains contains "contains"`, [[K.Label, 'contains'], [K.Contains], [K.StringLiteral, 'contains'], [K.EOF]]],
  [`contains contains 'contains'`, [[K.Label, 'contains'], [K.Contains], [K.StringLiteral, 'contains'], [K.EOF]]],
  [`label contains"value"`, [[K.Label, 'label'], [K.Contains], [K.StringLiteral, 'value'], [K.EOF]]],
  [`label startswith "value"`, [[K.Label, 'label'], [K.StartsWith], [K.StringLiteral, 'value'], [K.EOF]]],
  [`label endswith "value"`, [[K.Label, 'label'], [K.EndsWith], [K.StringLiteral, 'value'], [K.EOF]]],
  [`label starts with "value"`, [[K.Label, 'label'], [K.StartsWith], [K.StringLiteral, 'value'], [K.EOF]]],
  [`startswith starts with "value"`, [[K.Label, 'startswith'], [K.StartsWith], [K.StringLiteral, 'value'], [K.EOF]]],
  [`label ends with "value"`, [[K.Label, 'label'], [K.EndsWith], [K.StringLiteral, 'value'], [K.EOF]]],
  [`endswith ends with "value"`, [[K.Label, 'endswith'], [K.EndsWith], [K.StringLiteral, 'value'], [K.EOF]]],
  [`label starts  with "value"`, [[K.Label, 'label'], [K.StartsWith], [K.StringLiteral, 'value'], [K.EOF]]],
  [`label ends  with "value"`, [[K.Label, 'label'], [K.EndsWith], [K.StringLiteral, 'value'], [K.EOF]]],
  [`label ends\twith "value"`, [[K.Label, 'label'], [K.EndsWith], [K.StringLiteral, 'value'], [K.EOF]]],
  [`${a512} == "value"`, [[K.Label, a512], [K.Eq], [K.StringLiteral, 'value'], [K.EOF]]],
  [
    `a not in "bar" && !has(foo) || b in c`,
    [
      [K.Label, 'a'], [K.NotIn], [K.StringLiteral, 'bar'], [K.And], [K.Not], [K.Has, 'foo'],
      [K.Or], [K.Label, 'b'], [K.In], [K.Label, 'c'], [K.EOF],
    ],
  ],
  [`has(calico/k8s_ns)`, [[K.Has, 'calico/k8s_ns'], [K.EOF]]],
  [`has(calico/k8s_ns/role)`, [[K.Has, 'calico/k8s_ns/role'], [K.EOF]]],
  [`has(calico/k8s_NS-.1/role)`, [[K.Has, 'calico/k8s_NS-.1/role'], [K.EOF]]],
  [
    `calico/k8s_ns == "kube-system" && k8s-app == "kube-dns"`,
    [
      [K.Label, 'calico/k8s_ns'], [K.Eq], [K.StringLiteral, 'kube-system'], [K.And],
      [K.Label, 'k8s-app'], [K.Eq], [K.StringLiteral, 'kube-dns'], [K.EOF],
    ],
  ],
  [
    `a  not  in  "bar"  &&  ! has( foo )  ||  b  in  c `,
    [
      [K.Label, 'a'], [K.NotIn], [K.StringLiteral, 'bar'], [K.And], [K.Not], [K.Has, 'foo'],
      [K.Or], [K.Label, 'b'], [K.In], [K.Label, 'c'], [K.EOF],
    ],
  ],
  [
    `a notin"bar"&&!has(foo)||b in"c"`,
    [
      [K.Label, 'a'], [K.NotIn], [K.StringLiteral, 'bar'], [K.And], [K.Not], [K.Has, 'foo'],
      [K.Or], [K.Label, 'b'], [K.In], [K.StringLiteral, 'c'], [K.EOF],
    ],
  ],
  [`a not in {}`, [[K.Label, 'a'], [K.NotIn], [K.LBrace], [K.RBrace], [K.EOF]]],
  [`a not in {"a"}`, [[K.Label, 'a'], [K.NotIn], [K.LBrace], [K.StringLiteral, 'a'], [K.RBrace], [K.EOF]]],
  [
    `a not in {"a","B"}`,
    [[K.Label, 'a'], [K.NotIn], [K.LBrace], [K.StringLiteral, 'a'], [K.Comma], [K.StringLiteral, 'B'], [K.RBrace], [K.EOF]],
  ],
  [`global()`, [[K.Global], [K.EOF]]],
  [`global( )`, [[K.Global], [K.EOF]]],
  [`all()`, [[K.All], [K.EOF]]],
  [`all( )`, [[K.All], [K.EOF]]],
  // Our additions.
  [``, [[K.EOF]]],
  [` \t `, [[K.EOF]]],
  [`has(\tx\t)`, [[K.Has, 'x'], [K.EOF]]],
  // `has (` is a label followed by a parenthesis: tokenizes, the parser rejects it.
  [`has (x)`, [[K.Label, 'has'], [K.LParen], [K.Label, 'x'], [K.RParen], [K.EOF]]],
  // Keywords are labels unless they directly follow a label.
  [`in in {}`, [[K.Label, 'in'], [K.In], [K.LBrace], [K.RBrace], [K.EOF]]],
  [`a == "x" in`, [[K.Label, 'a'], [K.Eq], [K.StringLiteral, 'x'], [K.Label, 'in'], [K.EOF]]],
  [`all == "x"`, [[K.Label, 'all'], [K.Eq], [K.StringLiteral, 'x'], [K.EOF]]],
  // A quote of the other kind is an ordinary character inside a string; no escapes.
  [`a == "it's" || b == 'say "hi"'`, [
    [K.Label, 'a'], [K.Eq], [K.StringLiteral, "it's"], [K.Or], [K.Label, 'b'], [K.Eq], [K.StringLiteral, 'say "hi"'], [K.EOF],
  ]],
  [`a == "back\\slash"`, [[K.Label, 'a'], [K.Eq], [K.StringLiteral, 'back\\slash'], [K.EOF]]],
  [`a=="ü 🐈"`, [[K.Label, 'a'], [K.Eq], [K.StringLiteral, 'ü 🐈'], [K.EOF]]],
  [`a == ""`, [[K.Label, 'a'], [K.Eq], [K.StringLiteral, ''], [K.EOF]]],
];

// [input, message, position]
const TOKEN_ERRORS: Array<[string, string, number]> = [
  [`${'a'.repeat(513)} == "value"`, `label too long: ${'a'.repeat(513)}`, 0],
  [`has(${'a'.repeat(513)})`, `label too long: ${'a'.repeat(513)}`, 4],
  [`label == "value`, 'unterminated string', 9],
  [`label == 'value`, 'unterminated string', 9],
  [`label == 'value"`, 'unterminated string', 9],
  [`label = "value"`, 'expected ==', 6],
  [`a ! = "b"`, 'expected ==', 4],
  [`all(`, "no closing ')' after all(", 4],
  [`global(`, "no closing ')' after global(", 7],
  [`global(x)`, "no closing ')' after global(", 7],
  [`all( x)`, "no closing ')' after all(", 5],
  [`has()`, 'expected identifier', 4],
  [`has(foo`, "no closing ')' after has(", 7],
  [`has( foo `, "no closing ')' after has(", 9],
  [`has(a b)`, "no closing ')' after has(", 6],
  [`a == "b" & has(foo)`, 'expected &&', 9],
  [`a == "b" | has(foo)`, 'expected ||', 9],
  [`label starts foo "value"`, 'expected operator after label "label"', 6],
  [`label inf "value"`, 'expected operator after label "label"', 6],
  [`label ends foo "value"`, 'expected operator after label "label"', 6],
  [`label ends withs "value"`, 'expected operator after label "label"', 6],
  [`label squiggles "value"`, 'expected operator after label "label"', 6],
  [`a in-x {}`, 'expected operator after label "a"', 2],
  [`a containsx "b"`, 'expected operator after label "a"', 2],
  // Two-word operators check the word boundary after the whitespace that follows them.
  [`a not in x`, 'expected operator after label "a"', 2],
  [`a starts with b`, 'expected operator after label "a"', 2],
  [`k8s/app has(x)`, 'expected operator after label "k8s/app"', 8],
  [`%`, 'expected identifier', 0],
  [`a == "b" && %`, 'expected identifier', 12],
  // Newlines and other whitespace are not whitespace to Calico.
  [`\nall()`, 'expected identifier', 0],
  [`a\n== "b"`, 'expected operator after label "a"', 1],
  [`a ==\r"b"`, 'expected identifier', 4],
  [`a\u00a0== "b"`, 'expected operator after label "a"', 1],
];

describe('tokenizer', () => {
  for (const [input, expected] of TOKEN_TESTS) {
    it(`tokenizes ${JSON.stringify(input)}`, () => {
      assert.deepEqual(kinds(input), expected);
    });
  }

  for (const [input, message, position] of TOKEN_ERRORS) {
    it(`rejects ${JSON.stringify(input.length > 40 ? input.slice(0, 40) + '…' : input)}: ${message.slice(0, 40)}`, () => {
      assert.throws(
        () => tokenize(input),
        (err: unknown) => {
          assert.ok(err instanceof SelectorError);
          assert.equal(err.message, message);
          assert.equal(err.position, position);
          assert.equal(err.selector, input);
          assert.equal(err.code, 'SELECTOR_SYNTAX');
          return true;
        },
      );
    });
  }

  it('records where each token starts', () => {
    const toks = tokenize(`  a  not  in {"x",'y'} || !has( b )`);
    assert.deepEqual(
      toks.map((t) => [t.kind, t.pos]),
      [
        [K.Label, 2], [K.NotIn, 5], [K.LBrace, 13], [K.StringLiteral, 14], [K.Comma, 17],
        [K.StringLiteral, 18], [K.RBrace, 21], [K.Or, 23], [K.Not, 26], [K.Has, 27], [K.EOF, 35],
      ],
    );
  });

  it('prints tokens the way Go prints them', () => {
    assert.equal(tokenToString({ kind: K.RParen, value: '', pos: 0 }), 'TokRParen()');
    assert.equal(tokenToString({ kind: K.StringLiteral, value: 'a b', pos: 0 }), 'TokStringLiteral(a b)');
  });

  it('validates labels like tokenizer.ValidLabel', () => {
    for (const ok of ['a', 'A-z_0.9/x', 'calico/k8s_ns', a512, '__proto__', 'constructor']) assert.equal(isValidLabel(ok), true, ok);
    for (const bad of ['', 'a'.repeat(513), 'a b', 'a:b', 'ü', 'a\n', 'a=b']) assert.equal(isValidLabel(bad), false, bad);
  });
});
