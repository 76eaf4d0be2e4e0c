/*
 * fast-check arbitraries for the wire codec's property tests: prefixes, AS paths, path attribute sets and
 * capabilities, constrained to values the codec maps back to themselves (see each comment).
 */

import fc from 'fast-check';
import { v4Format, v6Format, v6Mask } from '../../../net/index.js';
import { AS_PATH_SEGMENT, p4, type AsPathSegment, type PathAttributes, type Prefix4, type Prefix6 } from '../../types.js';
import type { Capability } from '../capabilities.js';

export const NN = { noNullPrototype: true } as const;

export const uint32 = fc.integer({ min: 0, max: 0xffffffff });
export const asn = fc.integer({ min: 1, max: 0xffffffff }); // AS 0 is malformed (RFC 7607)
export const asn2 = fc.integer({ min: 1, max: 0xffff });

/** Canonical packed IPv4 prefixes (host bits zero). */
export const prefix4: fc.Arbitrary<Prefix4> = fc.tuple(uint32, fc.integer({ min: 0, max: 32 })).map(([a, l]) => {
  const mask = l === 0 ? 0 : (0xffffffff << (32 - l)) >>> 0;
  return p4((a & mask) >>> 0, l);
});

const v6value = fc.bigInt({ min: 0n, max: (1n << 128n) - 1n });

/** Canonical IPv6 prefix text. */
export const prefix6: fc.Arbitrary<Prefix6> = fc
  .tuple(v6value, fc.integer({ min: 0, max: 128 }))
  .map(([v, l]) => `${v6Format(v & v6Mask(l))}/${l}`);

export const ip4 = uint32.map(v4Format);
/** A valid NEXT_HOP host address: first octet 1..223. */
export const hostIp4 = fc.tuple(fc.integer({ min: 1, max: 223 }), fc.integer({ min: 0, max: 0xffffff })).map(([a, r]) => v4Format(a * 2 ** 24 + r));
export const ip6 = v6value.map(v6Format);
const ip6NonZero = fc.bigInt({ min: 1n, max: (1n << 128n) - 1n }).map(v6Format);

const segType = fc.constantFrom(AS_PATH_SEGMENT.SET, AS_PATH_SEGMENT.SEQUENCE);
const confedType = fc.constantFrom(AS_PATH_SEGMENT.CONFED_SEQUENCE, AS_PATH_SEGMENT.CONFED_SET);

/**
 * AS paths. Confederation segments only in front (where real paths have them), and -- for 2-octet sessions --
 * with 2-octet members: RFC 6793 leaves them out of AS4_PATH, so larger ones could not come back.
 */
export function asPath(fourOctet: boolean): fc.Arbitrary<AsPathSegment[]> {
  const seg = (t: fc.Arbitrary<AsPathSegment['type']>, a: fc.Arbitrary<number>) =>
    fc.record({ type: t, asns: fc.array(a, { minLength: 1, maxLength: 8 }) }, NN);
  return fc
    .tuple(fc.array(seg(confedType, fourOctet ? asn : asn2), { maxLength: 2 }), fc.array(seg(segType, asn), { maxLength: 4 }))
    .map(([c, p]) => [...c, ...p]);
}

const largeCommunity = fc.tuple(uint32, uint32, uint32);
const UNKNOWN_TYPES = [11, 12, 13, ...Array.from({ length: 13 }, (_, i) => 19 + i), ...Array.from({ length: 223 }, (_, i) => 33 + i)];

/** Path attributes for an UPDATE with IPv4 NLRI (`v4`) and/or IPv6 NLRI (`v6`). */
export function pathAttributes(opts: { v4: boolean; v6: boolean; fourOctet: boolean }): fc.Arbitrary<PathAttributes> {
  return fc
    .record(
      {
        origin: fc.constantFrom(0 as const, 1 as const, 2 as const),
        asPath: asPath(opts.fourOctet),
        nextHop: hostIp4,
        mpNextHop: fc.record({ global: ip6, linkLocal: ip6NonZero }, { requiredKeys: ['global'], noNullPrototype: true }),
        med: uint32,
        localPref: uint32,
        atomicAggregate: fc.constant(true),
        aggregator: fc.record({ asn, address: ip4 }, NN),
        communities: fc.array(uint32, { minLength: 1, maxLength: 6 }),
        originatorId: ip4,
        clusterList: fc.array(ip4, { minLength: 1, maxLength: 4 }),
        extCommunities: fc.array(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), { minLength: 1, maxLength: 4 }),
        largeCommunities: fc.uniqueArray(largeCommunity, { minLength: 1, maxLength: 4, selector: (c) => c.join(':') }),
        unknown: fc
          .uniqueArray(
            fc.record({ flags: fc.constant(0xe0), type: fc.constantFrom(...UNKNOWN_TYPES), value: fc.uint8Array({ maxLength: 300 }) }, NN),
            { minLength: 1, maxLength: 3, selector: (u) => u.type },
          )
          .map((us) => us.sort((a, b) => a.type - b.type)),
      },
      { requiredKeys: ['origin', 'asPath'], noNullPrototype: true },
    )
    .map((a) => {
      const out: PathAttributes = { ...a };
      if (opts.v4 && out.nextHop === undefined) out.nextHop = '192.0.2.1';
      if (!opts.v4) delete out.nextHop;
      if (opts.v6 && out.mpNextHop === undefined) out.mpNextHop = { global: '2001:db8::1' };
      if (!opts.v6) delete out.mpNextHop;
      return out;
    });
}

const afiSafi = { afi: fc.integer({ min: 0, max: 0xffff }), safi: fc.integer({ min: 0, max: 255 }) };
const KNOWN_CAP_CODES = new Set([1, 2, 6, 64, 65, 70, 128]);

export const capability: fc.Arbitrary<Capability> = fc.oneof(
  fc.record({ kind: fc.constant('multiprotocol' as const), ...afiSafi }, NN),
  fc.constant({ kind: 'route-refresh' as const }),
  fc.constant({ kind: 'route-refresh-cisco' as const }),
  fc.constant({ kind: 'enhanced-route-refresh' as const }),
  fc.constant({ kind: 'extended-message' as const }),
  fc.record({ kind: fc.constant('four-octet-as' as const), asn }, NN),
  fc.record({
    kind: fc.constant('graceful-restart' as const),
    restarting: fc.boolean(),
    notification: fc.boolean(),
    restartTime: fc.integer({ min: 0, max: 4095 }),
    families: fc.array(fc.record({ ...afiSafi, forwardingPreserved: fc.boolean() }, NN), { maxLength: 4 }),
  }, NN),
  fc.record({
    kind: fc.constant('unknown' as const),
    code: fc.integer({ min: 0, max: 255 }).filter((c) => !KNOWN_CAP_CODES.has(c)),
    value: fc.uint8Array({ maxLength: 40 }),
  }, NN),
);
