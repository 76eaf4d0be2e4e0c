// Truth tables for every operator over absent / equal / different / partial label values, plus the
// lookup corner cases (prototype-named labels) and printing of hand-built trees.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Labels, type SelectorNode, parseSelector, printNode, selectorFromNode } from './index.js';

// Label maps, by name, that the tables below refer to.
const MAPS: Readonly<Record<string, Labels>> = {
  absent: {},
  other: { b: 'web' },
  exact: { a: 'web' },
  different: { a: 'db' },
  empty: { a: '' },
  prefix: { a: 'webserver' },
  suffix: { a: 'myweb' },
  inner: { a: 'xwebx' },
  caseDiff: { a: 'WEB' },
};
const NAMES = Object.keys(MAPS);

// selector → names of the maps it matches (every other map must not match).
const TRUTH: Array<[string, string[]]> = [
  [`a == "web"`, ['exact']],
  [`a != "web"`, ['absent', 'other', 'different', 'empty', 'prefix', 'suffix', 'inner', 'caseDiff']],
  [`a == ""`, ['empty']],
  [`a != ""`, ['absent', 'other', 'exact', 'different', 'prefix', 'suffix', 'inner', 'caseDiff']],
  [`a contains "web"`, ['exact', 'prefix', 'suffix', 'inner']],
  [`a contains ""`, ['exact', 'different', 'empty', 'prefix', 'suffix', 'inner', 'caseDiff']],
  [`a starts with "web"`, ['exact', 'prefix']],
  [`a starts with ""`, ['exact', 'different', 'empty', 'prefix', 'suffix', 'inner', 'caseDiff']],
  [`a ends with "web"`, ['exact', 'suffix']],
  [`a ends with ""`, ['exact', 'different', 'empty', 'prefix', 'suffix', 'inner', 'caseDiff']],
  [`a in {"web", "db"}`, ['exact', 'different']],
  [`a in {}`, []],
  [`a in {""}`, ['empty']],
  [`a not in {"web", "db"}`, ['absent', 'other', 'empty', 'prefix', 'suffix', 'inner', 'caseDiff']],
  [`a not in {}`, NAMES],
  [`has(a)`, ['exact', 'different', 'empty', 'prefix', 'suffix', 'inner', 'caseDiff']],
  [`!has(a)`, ['absent', 'other']],
  [`all()`, NAMES],
  [`!all()`, []],
  [`global()`, NAMES],
  [`!global()`, []],
  [``, NAMES],
  [`!a == "web"`, ['absent', 'other', 'different', 'empty', 'prefix', 'suffix', 'inner', 'caseDiff']],
  [`!a != "web"`, ['exact']],
  [`!a contains "web"`, ['absent', 'other', 'different', 'empty', 'caseDiff']],
  [`!a in {"web"}`, ['absent', 'other', 'different', 'empty', 'prefix', 'suffix', 'inner', 'caseDiff']],
  [`!a not in {"web"}`, ['exact']],
  [`has(a) && a != "web"`, ['different', 'empty', 'prefix', 'suffix', 'inner', 'caseDiff']],
  [`has(b) || a == "db"`, ['other', 'different']],
  [`a starts with "web" && a ends with "web"`, ['exact']],
  [`a starts with "web" || a ends with "web"`, ['exact', 'prefix', 'suffix']],
  [`!(a starts with "web" || a ends with "web") && has(a)`, ['different', 'empty', 'inner', 'caseDiff']],
  [`has(a) && has(b)`, []],
  [`has(a) || has(b)`, NAMES.filter((n) => n !== 'absent')],
];

describe('evaluate: operator truth tables', () => {
  for (const [text, matching] of TRUTH) {
    it(`${text || '(empty)'} matches exactly ${matching.join(', ') || 'nothing'}`, () => {
      const sel = parseSelector(text);
      const canon = parseSelector(sel.toString());
      const got = NAMES.filter((name) => sel.evaluate(MAPS[name] ?? {}));
      assert.deepEqual(got, matching);
      assert.deepEqual(NAMES.filter((name) => canon.evaluate(MAPS[name] ?? {})), matching);
    });
  }
});

describe('evaluate: label lookup', () => {
  it('does not see Object.prototype members as labels', () => {
    for (const key of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf']) {
      assert.equal(parseSelector(`has(${key})`).evaluate({}), false, key);
      assert.equal(parseSelector(`${key} != "x"`).evaluate({}), true, key);
      assert.equal(parseSelector(`${key} not in {"x"}`).evaluate({}), true, key);
      assert.equal(parseSelector(`${key} contains ""`).evaluate({}), false, key);
    }
  });

  it('sees prototype-named labels when they are own properties', () => {
    const labels: Labels = JSON.parse('{"__proto__": "p", "constructor": "c"}');
    assert.equal(parseSelector(`__proto__ == "p"`).evaluate(labels), true);
    assert.equal(parseSelector(`constructor in {"c"}`).evaluate(labels), true);
    assert.equal(parseSelector(`has(toString)`).evaluate(labels), false);
  });

  it('ignores inherited string properties and works on null-prototype maps', () => {
    const inherited: Labels = Object.create({ a: 'web' });
    assert.equal(parseSelector('has(a)').evaluate(inherited), false);
    const bare = Object.assign(Object.create(null), { a: 'web' }) as Labels;
    assert.equal(parseSelector('a == "web"').evaluate(bare), true);
    assert.equal(parseSelector('has(b)').evaluate(bare), false);
  });

  it('matches case-sensitively and by UTF-16 content', () => {
    const labels = { app: 'Kätzchen 🐈 café' };
    assert.equal(parseSelector(`app contains "🐈"`).evaluate(labels), true);
    assert.equal(parseSelector(`app starts with "Kä"`).evaluate(labels), true);
    assert.equal(parseSelector(`app starts with "kä"`).evaluate(labels), false);
    assert.equal(parseSelector(`app ends with "café"`).evaluate(labels), true);
    assert.equal(parseSelector(`app == "Kätzchen 🐈 café"`).evaluate(labels), true);
  });

  it('evaluates the seed route-reflector selectors against node labels', () => {
    const rr = { 'kubernetes.io/hostname': 'master1', 'i-am-a-route-reflector': 'true', 'route-reflector': 'true' };
    const worker = { 'kubernetes.io/hostname': 'node1' };
    const peerToRrs = parseSelector('!has(i-am-a-route-reflector)');
    const rrs = parseSelector('has(i-am-a-route-reflector)');
    const byValue = parseSelector("route-reflector == 'true'");
    assert.deepEqual([peerToRrs.evaluate(rr), peerToRrs.evaluate(worker)], [false, true]);
    assert.deepEqual([rrs.evaluate(rr), rrs.evaluate(worker)], [true, false]);
    assert.deepEqual([byValue.evaluate(rr), byValue.evaluate(worker)], [true, false]);
    assert.equal(String(byValue), 'route-reflector == "true"');
  });
});

describe('hand-built trees', () => {
  it('print and evaluate through selectorFromNode', () => {
    const root: SelectorNode = {
      kind: 'or',
      operands: [
        { kind: 'and', operands: [{ kind: 'has', label: 'x' }, { kind: 'neq', label: 'y', value: 'say "hi"' }] },
        { kind: 'not', operand: { kind: 'not', operand: { kind: 'notIn', label: 'z', values: ['a', "b'c"] } } },
      ],
    };
    const sel = selectorFromNode(root);
    assert.equal(sel.toString(), `((has(x) && y != 'say "hi"') || z not in {"a", "b'c"})`);
    assert.equal(printNode(root), sel.toString());
    assert.equal(sel.evaluate({ x: '1' }), true);
    assert.equal(sel.evaluate({ x: '1', y: 'say "hi"', z: 'a' }), false);
    assert.equal(sel.evaluate({ z: "b'c" }), false);
    assert.equal(sel.evaluate({ z: 'q' }), true);
    assert.equal(parseSelector(sel.toString()).toString(), sel.toString());
  });

  it('uses single quotes when the value holds a double quote, as Calico does', () => {
    assert.equal(printNode({ kind: 'eq', label: 'a', value: `"` }), `a == '"'`);
    assert.equal(printNode({ kind: 'startsWith', label: 'a', value: `'` }), `a starts with "'"`);
    assert.equal(printNode({ kind: 'in', label: 'a', values: [] }), `a in {}`);
  });
});
