// fast-check properties: text round trips, independent oracles (node:net isIP for acceptance, the WHATWG URL
// IPv6 serializer for RFC 5952 printing), and the prefix algebra IPAM relies on.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isIP } from 'node:net';
import fc from 'fast-check';
import { IP, MAC, Prefix, parseIPPort, v4Format, v4Mask, v4Parse, v6Mask } from './index.js';

const V6_MAX = (1n << 128n) - 1n;
const MAPPED = 0xffff00000000n;

const arbV4 = fc.integer({ min: 0, max: 0xffffffff });
/** 8 groups, zero-heavy so that "::" placement gets exercised. */
const arbGroups = fc.array(fc.oneof(fc.constant(0), fc.constant(0xffff), fc.integer({ min: 0, max: 0xffff })), {
  minLength: 8,
  maxLength: 8,
});
const groupsValue = (g: number[]) => g.reduce((acc, x) => (acc << 16n) | BigInt(x), 0n);
const arbV6Value = fc.oneof(fc.bigInt({ min: 0n, max: V6_MAX }), arbGroups.map(groupsValue));
const isMapped = (b: bigint) => b >> 32n === 0xffffn;
const arbIP = fc.oneof(arbV4.map(IP.fromV4), arbV6Value.map(IP.fromV6));

/** True for an IPv6 prefix covering ::ffff:0:0/96 (where addresses come out IPv4; see prefix.ts). */
const coversMapped = (p: Prefix) => p.version === 6 && p.length < 96 && (MAPPED & v6Mask(p.length)) === p.ip.v6;
const arbPrefix = fc.oneof(
  fc.tuple(arbV4, fc.integer({ min: 0, max: 32 })).map(([n, len]) => Prefix.of(IP.fromV4(n), len)),
  fc
    .tuple(arbV6Value.filter((b) => !isMapped(b)), fc.integer({ min: 0, max: 128 }))
    .map(([b, len]) => Prefix.of(IP.fromV6(b), len))
    .filter((p) => !coversMapped(p)),
);

const tryAdd = (ip: IP, d: number) => {
  try {
    return ip.add(d);
  } catch {
    return undefined; // off the end of the address space
  }
};

describe('properties: addresses', () => {
  it('IPv4: v4Parse(v4Format(n)) = n and IP text round trip', () => {
    fc.assert(
      fc.property(arbV4, (n) => {
        assert.equal(v4Parse(v4Format(n)), n);
        const ip = IP.parse(IP.fromV4(n).toString());
        assert.equal(ip.version, 4);
        assert.equal(ip.v4, n);
      }),
      { numRuns: 2000 },
    );
  });

  it('IPv6: parse(toString(x)) = x, and printing is canonical', () => {
    fc.assert(
      fc.property(arbV6Value, (b) => {
        const ip = IP.fromV6(b);
        const text = ip.toString();
        const back = IP.parse(text);
        assert.ok(back.equals(ip), `${text}`);
        assert.equal(back.toString(), text);
        assert.equal(back.v6, b);
        assert.equal(ip.version, isMapped(b) ? 4 : 6);
      }),
      { numRuns: 2000 },
    );
  });

  it('IPv6 printing agrees with the WHATWG URL serializer (RFC 5952) for non-mapped values', () => {
    fc.assert(
      fc.property(arbV6Value.filter((b) => !isMapped(b)), (b) => {
        const text = IP.fromV6(b).toString();
        assert.equal(`[${text}]`, new URL(`http://[${text}]/`).hostname);
      }),
      { numRuns: 2000 },
    );
  });

  it('the uncompressed form, any case and padding, parses to the same value', () => {
    const arbGroupText = fc.tuple(fc.integer({ min: 0, max: 0xffff }), fc.boolean(), fc.boolean()).map(([x, pad, upper]) => {
      const t = pad ? x.toString(16).padStart(4, '0') : x.toString(16);
      return { x, t: upper ? t.toUpperCase() : t };
    });
    fc.assert(
      fc.property(fc.array(arbGroupText, { minLength: 8, maxLength: 8 }), (gs) => {
        const ip = IP.parse(gs.map((g) => g.t).join(':'));
        assert.equal(ip.v6, groupsValue(gs.map((g) => g.x)));
      }),
      { numRuns: 1000 },
    );
  });

  it('acceptance agrees with node:net isIP (an independent grammar) on random strings', () => {
    const piece = fc.constantFrom(...'0123456789abcdefABF:.'.split(''), '::', '1.2.3.4', 'ffff:', '0:', '255', '00', '256');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 14 }).map((a) => a.join('')), (s) => {
        assert.equal(IP.tryParse(s) !== undefined, isIP(s) !== 0, JSON.stringify(s));
        if (isIP(s) === 4) assert.equal(v4Parse(s), IP.parse(s).v4);
        else assert.equal(v4Parse(s), -1);
      }),
      { numRuns: 20000 },
    );
  });

  it('bytes round trip', () => {
    fc.assert(
      fc.property(arbIP, (ip) => {
        const b = ip.toBytes();
        assert.equal(b.length, ip.version === 4 ? 4 : 16);
        assert.ok(IP.fromBytes(b).equals(ip));
      }),
    );
  });

  it('compare is a total order consistent with equals, IPv4 first', () => {
    fc.assert(
      fc.property(arbIP, arbIP, (a, b) => {
        assert.equal(Math.sign(a.compare(b)) + Math.sign(b.compare(a)), 0);
        assert.equal(a.compare(b) === 0, a.equals(b));
        if (a.version !== b.version) assert.equal(Math.sign(a.compare(b)), a.version === 4 ? -1 : 1);
        else assert.equal(Math.sign(a.compare(b)), Math.sign(Number(a.v6 - b.v6)));
      }),
      { numRuns: 1000 },
    );
  });
});

describe('properties: prefixes', () => {
  it('text round trip, and parseCIDR(ip/len) = (ip, Prefix.of(ip, len)) containing ip', () => {
    fc.assert(
      fc.property(arbPrefix, arbIP, fc.nat(128), (p, ip, n) => {
        assert.ok(Prefix.parse(p.toString()).equals(p));
        const len = n % (ip.bits + 1);
        const r = Prefix.parseCIDR(`${ip}/${len}`);
        assert.ok(r.ip.equals(ip));
        assert.ok(r.prefix.equals(Prefix.of(ip, len)));
        assert.ok(r.prefix.contains(ip));
      }),
      { numRuns: 1000 },
    );
  });

  it('contains its first and last address, not last+1 nor first-1', () => {
    fc.assert(
      fc.property(arbPrefix, (p) => {
        assert.ok(p.contains(p.first()));
        assert.ok(p.contains(p.last()));
        const after = tryAdd(p.last(), 1);
        const before = tryAdd(p.first(), -1);
        if (after) assert.ok(!p.contains(after), `${p} contains ${after}`);
        if (before) assert.ok(!p.contains(before), `${p} contains ${before}`);
        if (p.size() <= 2n ** 53n) assert.equal(BigInt(p.ordinalOf(p.last())) + 1n, p.size());
      }),
      { numRuns: 1000 },
    );
  });

  it('an address is inside iff its masked value is the network (IPv4 numbers)', () => {
    fc.assert(
      fc.property(arbV4, fc.integer({ min: 0, max: 32 }), arbV4, (n, len, x) => {
        const p = Prefix.of(IP.fromV4(n), len);
        assert.equal(p.contains(IP.fromV4(x)), ((x & v4Mask(len)) >>> 0) === ((n & v4Mask(len)) >>> 0));
      }),
      { numRuns: 1000 },
    );
  });

  it('nth and ordinalOf are inverse', () => {
    fc.assert(
      fc.property(arbPrefix, fc.bigInt({ min: 0n, max: 2n ** 53n - 1n }), (p, i) => {
        const k = i % p.size();
        const ip = p.nth(k);
        assert.ok(p.contains(ip));
        assert.equal(BigInt(p.ordinalOf(ip)), k);
        assert.ok(ip.equals(p.first().add(k)));
      }),
      { numRuns: 1000 },
    );
  });

  it('overlaps is symmetric and means one contains the other', () => {
    // Pairs built to be related often: the second is a sub- or super-prefix of the first, or unrelated.
    const arbPair = fc.oneof(
      fc.tuple(arbPrefix, arbPrefix),
      fc.tuple(arbPrefix, fc.nat(128), arbIP).map(([p, n, ip]): [Prefix, Prefix] => {
        const len = n % (p.bits + 1);
        const inside = ip.version === p.version ? p.nth(ip.v6 % p.size()) : p.first();
        return [p, Prefix.of(inside, len)];
      }),
    );
    fc.assert(
      fc.property(arbPair, ([a, b]) => {
        assert.equal(a.overlaps(b), b.overlaps(a));
        assert.equal(a.overlaps(b), a.containsPrefix(b) || b.containsPrefix(a));
        if (a.containsPrefix(b) && b.containsPrefix(a)) assert.ok(a.equals(b));
        if (a.version !== b.version) assert.equal(a.overlaps(b), false);
      }),
      { numRuns: 2000 },
    );
  });

  it('subnets partition the prefix', () => {
    fc.assert(
      fc.property(arbPrefix, fc.integer({ min: 0, max: 6 }), (p, extra) => {
        const newLength = Math.min(p.bits, p.length + extra);
        const subs = [...p.subnets(newLength)];
        assert.equal(BigInt(subs.length), 1n << BigInt(newLength - p.length));
        assert.ok(subs[0]?.first().equals(p.first()));
        assert.ok(subs[subs.length - 1]?.last().equals(p.last()));
        let total = 0n;
        subs.forEach((s, i) => {
          assert.equal(s.length, newLength);
          assert.ok(p.containsPrefix(s), `${p} ⊉ ${s}`);
          total += s.size();
          const next = subs[i + 1];
          if (next) assert.ok(s.last().add(1).equals(next.first()), `${s} then ${next}`);
        });
        assert.equal(total, p.size());
      }),
      { numRuns: 500 },
    );
  });

  it('compare orders by family, network, then length, consistent with equals', () => {
    fc.assert(
      fc.property(arbPrefix, arbPrefix, (a, b) => {
        assert.equal(Math.sign(a.compare(b)) + Math.sign(b.compare(a)), 0);
        assert.equal(a.compare(b) === 0, a.equals(b));
        if (!a.ip.equals(b.ip)) assert.equal(Math.sign(a.compare(b)), Math.sign(a.ip.compare(b.ip)));
      }),
      { numRuns: 1000 },
    );
  });
});

describe('properties: other forms', () => {
  it('parseIPPort reads back "<IPv4>:<port>", "[<IPv6>]:<port>" and bare IPs', () => {
    fc.assert(
      fc.property(arbIP, fc.integer({ min: 1, max: 65535 }), fc.boolean(), (ip, port, withPort) => {
        const text = !withPort ? ip.toString() : ip.version === 4 ? `${ip}:${port}` : `[${ip}]:${port}`;
        const r = parseIPPort(text);
        assert.ok(r.ip.equals(ip));
        assert.equal(r.port, withPort ? port : undefined);
      }),
      { numRuns: 1000 },
    );
  });

  it('MAC text round trip in every separator style', () => {
    fc.assert(
      fc.property(fc.constantFrom(6, 8, 20).chain((n) => fc.uint8Array({ minLength: n, maxLength: n })), fc.constantFrom(':', '-', '.'), (bytes, sep) => {
        const hex = Array.from(bytes, (x) => x.toString(16).padStart(2, '0').toUpperCase());
        const text =
          sep === '.'
            ? hex.reduce<string[]>((acc, h, i) => (i % 2 ? [...acc.slice(0, -1), acc[acc.length - 1] + h] : [...acc, h]), []).join('.')
            : hex.join(sep);
        const m = MAC.parse(text);
        assert.deepEqual([...m.toBytes()], [...bytes]);
        assert.equal(m.toString(), hex.join(':').toLowerCase());
      }),
      { numRuns: 500 },
    );
  });
});
