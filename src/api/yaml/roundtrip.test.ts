import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { emitYaml } from './emit.js';
import { emitJson } from './json.js';
import { parseDocument, toPlain } from './read.js';

// Characters and words that stress quoting: indicators, YAML 1.1 look-alikes, breaks, escapes.
// U+2028/U+2029 are left out: libyaml reads them as line breaks, the `yaml` package does not (see report).
const UNITS = [
  'a', 'b', 'z', 'é', ' ', ' ', ':', '#', "'", '"', '-', '!', '{', '}', '[', ']', ',', '?', '&', '*', '|', '>', '%', '@', '`',
  '\\', '\n', '\n', '\t', '\r', '0', '1', '9', '.', '_', '+', 'e', 'x', 'y', 'n', '~', '😀', '\u0000', '\u00a0', '\u0085', '\ufeff',
  'yes', 'no', 'No', 'null', 'true', 'on', 'off', '0x1F', '1e3', '.inf', '2019-01-01', '2019-06-17T13:55:44Z', '12:30', '<<',
  '---', '...', '# c', ': ', ' #', '- ', '0', '017', '1_0', '-.5',
];
const nasty = fc.oneof(
  fc.string({ unit: fc.constantFrom(...UNITS), maxLength: 12 }),
  fc.constantFrom('', ' ', 'y', 'n', '~', '-', 'yes', 'NO', '1', '01', '0.5', '1:20', '2019-02-30', '<<'),
  fc.string({ unit: fc.constantFrom('word', ' ', 'x', ': ', "'"), minLength: 30, maxLength: 60 }),
);
const key = nasty.filter((k) => k !== '<<'); // a plain "<<" key reads back as a merge key, in Go too

const json = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.constantFrom(2 ** 53 + 2, 2 ** 63, 2 ** 64, 1e21, 1234567.5, 1e-7, -0),
    nasty,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(key, tie('value'), { maxKeys: 4 }),
  ),
})).value;

/** Plain JSON objects (fast-check builds null-prototype ones); -0 becomes 0 unless kept. */
function normalize(v: unknown, keepNegativeZero = false): unknown {
  if (typeof v === 'number') return Object.is(v, -0) && !keepNegativeZero ? 0 : v;
  if (Array.isArray(v)) return v.map((x) => normalize(x, keepNegativeZero));
  if (v !== null && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const value = normalize(x, keepNegativeZero);
      if (k === '__proto__') Object.defineProperty(o, k, { value, enumerable: true, writable: true, configurable: true });
      else o[k] = value;
    }
    return o;
  }
  return v;
}

test('toPlain(parse(emitYaml(v))) equals v for random JSON with nasty strings', () => {
  fc.assert(fc.property(json, (v) => {
    const text = emitYaml(v);
    assert.ok(text.endsWith('\n'));
    assert.deepEqual(toPlain(parseDocument(text)), normalize(v), text);
  }), { numRuns: 1500 });
});

test('emitted YAML is stable: re-emitting the parsed value gives the same bytes', () => {
  fc.assert(fc.property(json, (v) => {
    const text = emitYaml(v);
    assert.equal(emitYaml(toPlain(parseDocument(text))), text);
  }), { numRuns: 500 });
});

test('emitJson is valid JSON for the same values', () => {
  fc.assert(fc.property(json, (v) => {
    assert.deepEqual(JSON.parse(emitJson(v)), normalize(v, true));
  }), { numRuns: 500 });
});
