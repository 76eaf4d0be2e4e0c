import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { natScript, normalizeNft, renderNat } from './nat.js';
import { diffByKey } from './diff.js';

describe('renderNat', () => {
  it('renders nft listing layout: sorted, de-duplicated, covered prefixes dropped, host prefixes bare', () => {
    const { tables, invalid } = renderNat(
      { masquerade: ['10.244.0.0/16', '10.244.1.0/26', '10.1.2.3/32'], pools: ['10.244.0.0/16', '10.10.0.0/16', '10.244.0.0/16', 'nonsense'] },
      { fullyRandom: true },
    );
    assert.deepEqual(invalid, ['nonsense']);
    assert.equal(
      tables.get('ip tortie'),
      [
        'table ip tortie {',
        '\tset masq-pools {',
        '\t\ttype ipv4_addr',
        '\t\tflags interval',
        '\t\telements = { 10.1.2.3, 10.244.0.0/16 }',
        '\t}',
        '',
        '\tset all-pools {',
        '\t\ttype ipv4_addr',
        '\t\tflags interval',
        '\t\telements = { 10.1.2.3, 10.10.0.0/16, 10.244.0.0/16 }',
        '\t}',
        '',
        '\tchain nat-postrouting {',
        '\t\ttype nat hook postrouting priority srcnat; policy accept;',
        '\t\tip saddr @masq-pools ip daddr != @all-pools masquerade fully-random',
        '\t}',
        '}',
        '',
      ].join('\n'),
    );
    assert.equal(tables.get('ip6 tortie'), undefined);
  });

  it('IPv6 gets its own table; fully-random can be left out', () => {
    const { tables } = renderNat({ masquerade: ['fd00:10::/48'], pools: ['fd00:10::/48', '10.0.0.0/8'] }, { fullyRandom: false });
    assert.equal(tables.get('ip tortie'), undefined, 'no IPv4 pool is masqueraded');
    const t = tables.get('ip6 tortie')!;
    assert.match(t, /type ipv6_addr/);
    assert.match(t, /elements = \{ fd00:10::\/48 \}/);
    assert.match(t, /ip6 saddr @masq-pools ip6 daddr != @all-pools masquerade\n/);
  });

  it('compares equal to what nft 1.0.6 lists (its own line wrapping and element order)', () => {
    const listed = `table ip tortie {
\tset masq-pools {
\t\ttype ipv4_addr
\t\tflags interval
\t\telements = { 10.244.0.0/16 }
\t}

\tset all-pools {
\t\ttype ipv4_addr
\t\tflags interval
\t\telements = { 10.10.0.0/16, 10.20.0.0/16,
\t\t\t     10.244.0.0/16 }
\t}

\tchain nat-postrouting {
\t\ttype nat hook postrouting priority srcnat; policy accept;
\t\tip saddr @masq-pools ip daddr != @all-pools masquerade fully-random
\t}
}
`;
    const { tables } = renderNat({ masquerade: ['10.244.0.0/16'], pools: ['10.244.0.0/16', '10.20.0.0/16', '10.10.0.0/16'] }, { fullyRandom: true });
    assert.equal(normalizeNft(listed), normalizeNft(tables.get('ip tortie')!));
  });

  it('natScript declares, deletes and redefines each table in one script', () => {
    const s = natScript(
      new Map([
        ['ip tortie', 'table ip tortie {\n}\n'],
        ['ip6 tortie', undefined],
      ]),
    );
    assert.equal(s, 'table ip tortie\ndelete table ip tortie\ntable ip tortie {\n}\ntable ip6 tortie\ndelete table ip6 tortie\n');
  });
});

describe('diffByKey', () => {
  it('adds, changes, removes, keeps the equal duplicate', () => {
    const d = diffByKey(
      [
        { k: 'a', v: 1 },
        { k: 'b', v: 2 },
        { k: 'c', v: 3 },
        { k: 'c', v: 9 }, // duplicate desired key: the first wins
      ],
      [
        { k: 'b', v: 0 },
        { k: 'c', v: 0 },
        { k: 'c', v: 3 },
        { k: 'z', v: 0 },
      ],
      (x) => x.k,
      (x) => x.k,
      (a, b) => a.v === b.v,
    );
    assert.deepEqual(d.add, [{ k: 'a', v: 1 }]);
    assert.deepEqual(d.change, [{ desired: { k: 'b', v: 2 }, actual: { k: 'b', v: 0 } }]);
    assert.deepEqual(d.remove, [
      { k: 'c', v: 0 },
      { k: 'z', v: 0 },
    ]);
    assert.equal(d.same, 1);
  });
});
