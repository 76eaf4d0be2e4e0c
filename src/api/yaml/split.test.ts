import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MAX_DOCUMENT_BYTES, splitDocuments, LineIndex } from './split.js';
import { parseDocuments, YamlError } from './read.js';

test('a leading --- stays in the first document (the separator needs a preceding newline)', () => {
  assert.deepEqual(splitDocuments('---\na: 1\n'), ['---\na: 1\n']);
  assert.deepEqual(splitDocuments('--- # c\na: 1\n---\nb: 2\n'), ['--- # c\na: 1', 'b: 2\n']);
});

test('a trailing separator ends the last document, with or without its newline', () => {
  assert.deepEqual(splitDocuments('a: 1\n---'), ['a: 1']);
  assert.deepEqual(splitDocuments('a: 1\n---\n'), ['a: 1']);
  assert.deepEqual(splitDocuments('a: 1\n---\n\n'), ['a: 1', '\n']);
});

test('the rest of the separator line is discarded unread', () => {
  assert.deepEqual(splitDocuments('a: 1\n--- # comment\nb: 2\n'), ['a: 1', 'b: 2\n']);
  assert.deepEqual(splitDocuments('a: 1\n---foo\nb: 2'), ['a: 1', 'b: 2']);
  assert.deepEqual(splitDocuments('a: 1\n----\nb: 2'), ['a: 1', 'b: 2']);
  assert.deepEqual(splitDocuments('a: |\n  x\n---y\n'), ['a: |\n  x']);
});

test('a separator line without newline at EOF drops the pending document (bufio.Scanner gives up)', () => {
  assert.deepEqual(splitDocuments('a: 1\n--- x'), []);
  assert.deepEqual(splitDocuments('a: 1\n---\nb: 2\n--- '), ['a: 1']);
});

test('empty and degenerate inputs', () => {
  assert.deepEqual(splitDocuments(''), []);
  assert.deepEqual(splitDocuments('\n'), ['\n']);
  assert.deepEqual(splitDocuments('\n---\na'), ['', 'a']);
  // The newline before the second "---" went with the first separator line.
  assert.deepEqual(splitDocuments('a\n---\n---\nb'), ['a', '---\nb']);
});

test('CRLF files: the \\r stays with the document, the \\r\\n after --- is discarded', () => {
  assert.deepEqual(splitDocuments('a: 1\r\n---\r\nb: 2\r\n'), ['a: 1\r', 'b: 2\r\n']);
});

test('documents joined with separators come back', () => {
  const doc = fc.string({ unit: fc.constantFrom('a', ':', ' ', '-', '\n', '#', 'x') }).filter((s) => !s.includes('\n---') && !s.startsWith('---') && !s.endsWith('\n') && s.length > 0);
  fc.assert(fc.property(fc.array(doc, { minLength: 1, maxLength: 5 }), (docs) => {
    assert.deepEqual(splitDocuments(docs.join('\n---\n')), docs);
  }));
});

test('10 MiB limit: needed bytes above the buffer size is "token too long"', () => {
  const fits = 'a'.repeat(MAX_DOCUMENT_BYTES - 6) + '\n---\n'; // needs exactly MAX - 1 bytes
  assert.equal(splitDocuments(fits + 'b').length, 2);
  const exact = 'a'.repeat(MAX_DOCUMENT_BYTES - 5) + '\n---\n'; // needs exactly MAX bytes
  assert.equal(splitDocuments(exact + 'b').length, 2);
  const over = 'a'.repeat(MAX_DOCUMENT_BYTES - 4) + '\n---\n';
  assert.throws(() => splitDocuments(over + 'b'), (e) => e instanceof YamlError && e.code === 'YAML_TOO_LARGE' && e.line === 1);
  // At EOF the scanner must see EOF with a non-full buffer.
  assert.equal(splitDocuments('x\n---\n' + 'a'.repeat(MAX_DOCUMENT_BYTES - 1)).length, 2);
  assert.throws(() => splitDocuments('x\n---\n' + 'a'.repeat(MAX_DOCUMENT_BYTES)), (e) => e instanceof YamlError && e.code === 'YAML_TOO_LARGE' && e.line === 3);
  // Bytes, not characters: 'é' is two bytes in UTF-8.
  assert.throws(() => splitDocuments('é'.repeat(MAX_DOCUMENT_BYTES / 2)), (e) => e instanceof YamlError && e.code === 'YAML_TOO_LARGE');
});

test('startLine and node positions of later documents count lines of the whole input', () => {
  const docs = parseDocuments('a: 1\n---\n# c\nb: 2\n--- # x\nc:\n  d: 3\n');
  assert.deepEqual(docs.map((d) => d.startLine), [1, 3, 6]);
  const n = docs[2]!.node;
  assert.ok(n && n.kind === 'map');
  const inner = n.entries[0]!.value;
  assert.ok(inner.kind === 'map');
  assert.deepEqual(inner.entries[0]!.keyPos, { line: 7, col: 3, offset: 'a: 1\n---\n# c\nb: 2\n--- # x\nc:\n  '.length });
  assert.equal(docs[1]!.node?.pos.line, 4);
});

test('LineIndex counts columns in code points', () => {
  const li = new LineIndex('ab\n😀x: 1');
  assert.deepEqual(li.pos(5), { line: 2, col: 2, offset: 5 });
  assert.deepEqual(li.pos(0), { line: 1, col: 1, offset: 0 });
});
