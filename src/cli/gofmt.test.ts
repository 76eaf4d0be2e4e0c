import { test } from 'node:test';
import assert from 'node:assert/strict';
import { goF0, goG5 } from './gofmt.js';
import { renderTable } from './asciitable.js';

test('%.5g as Go prints it', () => {
  const cases: [bigint | number, string][] = [
    [0, '0'],
    [5, '5'],
    [65531, '65531'],
    [99999, '99999'],
    [100000, '1e+05'],
    [100005, '1e+05'],
    [100015, '1.0002e+05'],
    [131072, '1.3107e+05'],
    [999995, '1e+06'],
    [16777216, '1.6777e+07'],
    [4294967296, '4.295e+09'],
    [1n << 64n, '1.8447e+19'],
    [1n << 80n, '1.2089e+24'],
    [(1n << 80n) - 2n, '1.2089e+24'],
    [9223372036854775807n, '9.2234e+18'],
    [-9223372036854775807n, '-9.2234e+18'],
  ];
  for (const [v, want] of cases) assert.equal(goG5(v), want, String(v));
});

test('%.f rounds ties to even', () => {
  assert.deepEqual([12.5, 37.5, 62.5, 0.5, 1.5, 99.99, 7.8125, 0, 100].map(goF0), ['12', '38', '62', '0', '2', '100', '8', '0', '100']);
});

test('tablewriter layout: centred header, numbers right, the rest left', () => {
  const t = renderTable(
    ['GROUPING', 'CIDR', 'IPS TOTAL', 'IPS IN USE', 'IPS FREE'],
    [
      ['IP Pool', '192.168.0.0/16', '65536', '5 (0%)', '65531 (100%)'],
      ['Block', '192.168.0.0/26', '64', '5 (8%)', '59 (92%)'],
      ['IP Pool', 'fd00::/48', '1.2089e+24', '2 (0%)', '1.2089e+24 (100%)'],
    ],
  );
  assert.equal(
    t,
    [
      '+----------+----------------+------------+------------+-------------------+',
      '| GROUPING |      CIDR      | IPS TOTAL  | IPS IN USE |     IPS FREE      |',
      '+----------+----------------+------------+------------+-------------------+',
      '| IP Pool  | 192.168.0.0/16 |      65536 | 5 (0%)     | 65531 (100%)      |',
      '| Block    | 192.168.0.0/26 |         64 | 5 (8%)     | 59 (92%)          |',
      '| IP Pool  | fd00::/48      | 1.2089e+24 | 2 (0%)     | 1.2089e+24 (100%) |',
      '+----------+----------------+------------+------------+-------------------+',
      '',
    ].join('\n'),
  );
  assert.equal(renderTable(['GROUPING', 'CIDR'], []), '+----------+------+\n| GROUPING | CIDR |\n+----------+------+\n+----------+------+\n');
});
