/**
 * Go's text/tabwriter as calicoctl sets it up (`tabwriter.NewWriter(os.Stdout, 5, 1, 3, ' ', 0)`
 * in `commands/common/printer.go`), with every cell tab-terminated by the table templates:
 * a column is as wide as its widest cell plus 3 padding, never less than 5 (minwidth), cells
 * are left-aligned and padded with spaces (the last one too), and widths count runes
 * (`utf8.RuneCount`), not bytes or display columns.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tabwrite } from './tabwriter.js';

test('a column is the widest cell plus 3', () => {
  assert.equal(
    tabwrite([
      ['NAME', 'CIDR'],
      ['x', '10.0.0.0/8'],
    ]),
    'NAME   CIDR' + ' '.repeat(9) + '\n' + 'x      10.0.0.0/8   \n',
  );
});

test('minwidth 5: one-character cells still take 5 columns', () => {
  assert.equal(tabwrite([['a', 'b']]), 'a    b    \n');
  assert.equal(tabwrite([['ab', 'c']]), 'ab   c    \n');
  // 2 + 3 = 5 exactly, 3 + 3 = 6
  assert.equal(tabwrite([['abc']]), 'abc   \n');
});

test('empty cells are padded to the column width', () => {
  assert.equal(
    tabwrite([
      ['A', ''],
      ['', 'B'],
    ]),
    'A    ' + '     ' + '\n' + '     ' + 'B    ' + '\n',
  );
});

test('multi-byte runes count once each', () => {
  // "ñandú" is 5 runes (7 bytes): width 8, not 10.
  assert.equal(
    tabwrite([
      ['NAME', 'X'],
      ['ñandú', 'y'],
    ]),
    'NAME    X    \n' + 'ñandú   y    \n',
  );
  // Two CJK runes: 2 + 3 = 5 (runes, not terminal cells).
  assert.equal(tabwrite([['日本'], ['a']]), '日本   \n' + 'a    \n');
  // An astral-plane rune is one rune (two UTF-16 code units in JS).
  assert.equal(tabwrite([['\u{1F431}'], ['ab']]), '\u{1F431}    \n' + 'ab   \n');
});

test('options: padding and minwidth can be changed', () => {
  assert.equal(tabwrite([['a', 'bb']], { minwidth: 0, padding: 1 }), 'a bb \n');
});

test('no rows, no output', () => {
  assert.equal(tabwrite([]), '');
});
