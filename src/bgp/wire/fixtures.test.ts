/*
 * Bytes that real daemons sent (BIRD 1.6, BIRD 2, FRR, GoBGP, ExaBGP), captured into test/fixtures/bgp/ by
 * test/helpers/capture-bgp.ts. For every file, the values an independent decoder read from it
 * (fixtures.json, described in the README there) must be what tortie decodes. Where the daemon made the same
 * encoding choices tortie makes (one capability parameter; MP_REACH first, then ascending type codes, short
 * lengths), tortie's encoder must reproduce the bytes exactly.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { p4, type AsPathSegment, type Family, type PathAttributes, type Prefix4 } from '../types.js';
import { v4Parse } from '../../net/index.js';
import { Framer } from './framer.js';
import { decodeMessage } from './message.js';
import type { Message, NotificationMessage, OpenMessage, UpdateMessage, WireContext } from './model.js';
import { encodeNotification } from './notification.js';
import { encodeOpen } from './open.js';
import { encodeCapability, type Capability } from './capabilities.js';
import { encodeEndOfRib, encodeUpdate } from './update-encode.js';

const dir = new URL('../../../test/fixtures/bgp/', import.meta.url);

interface Attr {
  type: number;
  name: string;
  flags: string;
  length: number;
  value: unknown;
}
interface Cap {
  code: number;
  name: string;
  hex: string;
  value?: unknown;
}
interface Decoded {
  type: 'OPEN' | 'UPDATE' | 'NOTIFICATION' | 'SESSION';
  length: number;
  [k: string]: unknown;
}
interface Entry {
  file: string;
  daemon: string;
  session: string;
  description: string;
  decoded: Decoded;
}

interface Capture {
  daemon: { v4: string; v6: string; as: number };
  v4Attrs: { communities: string[]; largeCommunities: string[]; med: number; localPref: number };
  v6Attrs: { communities: string[]; largeCommunities: string[]; med: number; localPref: number };
  v4Prefixes: string[];
  v6Prefixes: string[];
}

const index: { files: Entry[] } | undefined = existsSync(new URL('fixtures.json', dir))
  ? (JSON.parse(readFileSync(new URL('fixtures.json', dir), 'utf8')) as { files: Entry[] })
  : undefined;

const read = (file: string): Buffer[] =>
  readFileSync(new URL(file, dir), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => Buffer.from(l.trim(), 'hex'));

const family = (s: string): Family | undefined => (s === 'ipv4/unicast' ? 'ipv4' : s === 'ipv6/unicast' ? 'ipv6' : undefined);

function p4text(s: string): Prefix4 {
  const [a, l] = s.split('/');
  return p4(v4Parse(a!), Number(l));
}

const SEGMENT: Record<string, number> = { AS_SET: 1, AS_SEQUENCE: 2, AS_CONFED_SEQUENCE: 3, AS_CONFED_SET: 4 };
const ORIGIN: Record<string, number> = { IGP: 0, EGP: 1, INCOMPLETE: 2, Incomplete: 2 };
const community = (s: string): number => {
  const [a, b] = s.split(':').map(Number);
  return a! * 65536 + b!;
};

/** What tortie should decode, from the independent decoder's description. */
function expectedUpdate(d: Decoded): Pick<UpdateMessage, 'withdrawn' | 'announced' | 'attrs' | 'endOfRib'> {
  const withdrawn = { v4: (d.withdrawn as string[]).map(p4text), v6: [] as string[] };
  const announced = { v4: (d.nlri as string[]).map(p4text), v6: [] as string[] };
  const a: Partial<PathAttributes> & { unknown?: NonNullable<PathAttributes['unknown']>[number][] } = {};
  let mpReach = false;
  for (const x of d.attributes as Attr[]) {
    const v = x.value as never;
    switch (x.type) {
      case 1:
        a.origin = ORIGIN[v] as 0 | 1 | 2;
        break;
      case 2:
        a.asPath = (v as { type: string; asns: number[] }[]).map((s) => ({ type: SEGMENT[s.type], asns: s.asns }) as AsPathSegment);
        break;
      case 3:
        a.nextHop = v;
        break;
      case 4:
        a.med = v;
        break;
      case 5:
        a.localPref = v;
        break;
      case 8:
        a.communities = (v as string[]).map(community);
        break;
      case 32:
        a.largeCommunities = (v as string[]).map((s) => s.split(':').map(Number) as [number, number, number]);
        break;
      case 14: {
        const r = v as { family: string; nextHops: string[]; nlri: string[] };
        mpReach = true;
        a.mpNextHop = r.nextHops[1] !== undefined ? { global: r.nextHops[0]!, linkLocal: r.nextHops[1] } : { global: r.nextHops[0]! };
        if (family(r.family) === 'ipv6') announced.v6.push(...r.nlri);
        else announced.v4.push(...r.nlri.map(p4text));
        break;
      }
      case 15: {
        const u = v as { family: string; withdrawn: string[] };
        if (family(u.family) === 'ipv6') withdrawn.v6.push(...u.withdrawn);
        else withdrawn.v4.push(...u.withdrawn.map(p4text));
        break;
      }
      default:
        throw new Error(`fixture attribute ${x.type} ${x.name}: add it to this test`);
    }
  }
  if (mpReach && (d.nlri as string[]).length === 0) delete a.nextHop; // RFC 4760 §3: tortie ignores it
  const out: Pick<UpdateMessage, 'withdrawn' | 'announced' | 'attrs' | 'endOfRib'> = { withdrawn, announced };
  if (a.origin !== undefined && a.asPath !== undefined) out.attrs = a as PathAttributes;
  const eor = typeof d.endOfRib === 'string' ? family(d.endOfRib) : undefined;
  if (eor) out.endOfRib = eor;
  return out;
}

function expectedCapabilities(caps: Cap[]): Capability[] {
  return caps.map((c): Capability => {
    const v = c.value as Record<string, unknown> | undefined;
    switch (c.code) {
      case 1:
        return { kind: 'multiprotocol', afi: v!.afi as number, safi: v!.safi as number };
      case 2:
        return { kind: 'route-refresh' };
      case 128:
        return { kind: 'route-refresh-cisco' };
      case 70:
        return { kind: 'enhanced-route-refresh' };
      case 6:
        return { kind: 'extended-message' };
      case 65:
        return { kind: 'four-octet-as', asn: v!.asNumber as number };
      case 64:
        return {
          kind: 'graceful-restart',
          restarting: v!.restartState as boolean,
          notification: v!.notification as boolean,
          restartTime: v!.restartTime as number,
          families: (v!.families as { family: string; forwardingState: boolean }[]).map((f) => {
            const [afi, safi] = f.family === 'ipv4/unicast' ? [1, 1] : f.family === 'ipv6/unicast' ? [2, 1] : [NaN, NaN];
            return { afi: afi!, safi: safi!, forwardingPreserved: f.forwardingState };
          }),
        };
      default:
        return { kind: 'unknown', code: c.code, value: Uint8Array.from(Buffer.from(c.hex, 'hex')) };
    }
  });
}

const ctxOf = (e: Entry): WireContext => ({ fourOctetAs: true, ebgp: e.session.startsWith('eBGP') });

/** MP attributes first, then ascending type codes, Extended Length only above 255 octets: tortie's choices. */
function encodedAsTortieWould(attrs: Attr[]): boolean {
  const order = attrs.map((a) => (a.type === 14 || a.type === 15 ? -1 : a.type));
  const sorted = order.every((t, i) => i === 0 || order[i - 1]! <= t);
  return sorted && attrs.every((a) => ((parseInt(a.flags, 16) & 0x10) !== 0) === a.length > 255);
}

function check(e: Entry, m: Buffer, d: Message | { type: 'error' }): void {
  const dec = e.decoded;
  const ctx = ctxOf(e);
  assert.notEqual(d.type, 'error', JSON.stringify(d));
  switch (dec.type) {
    case 'OPEN': {
      const o = d as OpenMessage;
      const caps = expectedCapabilities(dec.capabilities as Cap[]);
      assert.deepEqual(o, { type: 'open', version: dec.version, myAs: dec.myAs, holdTime: dec.holdTime, routerId: dec.bgpId, capabilities: caps });
      for (const c of dec.capabilities as Cap[]) {
        assert.equal(Buffer.from(encodeCapability(caps[(dec.capabilities as Cap[]).indexOf(c)]!).value).toString('hex'), c.hex, `capability ${c.code}`);
      }
      if ((dec.optionalParameters as unknown[]).length === 1) {
        assert.deepEqual(encodeOpen({ myAs: o.myAs, holdTime: o.holdTime, routerId: o.routerId, capabilities: o.capabilities }), m);
      }
      break;
    }
    case 'UPDATE': {
      const u = d as UpdateMessage;
      assert.deepEqual(u.problems, []);
      const want = expectedUpdate(dec);
      assert.deepEqual({ withdrawn: u.withdrawn, announced: u.announced, attrs: u.attrs, endOfRib: u.endOfRib }, { attrs: undefined, endOfRib: undefined, ...want });
      if (encodedAsTortieWould(dec.attributes as Attr[])) {
        const again = u.endOfRib ? encodeEndOfRib(u.endOfRib) : encodeUpdate({ withdrawn: u.withdrawn, announced: u.announced, ...(u.attrs ? { attrs: u.attrs } : {}) }, ctx);
        assert.deepEqual(again, m, 'tortie encodes the same bytes');
      }
      break;
    }
    case 'NOTIFICATION': {
      const n = d as NotificationMessage;
      assert.deepEqual([n.code, n.subcode, Buffer.from(n.data).toString('hex')], [dec.code, dec.subcode, dec.dataHex]);
      assert.equal(n.shutdownCommunication, dec.shutdownMessage);
      assert.deepEqual(encodeNotification({ code: n.code, subcode: n.subcode, data: n.data }), m);
      break;
    }
    default:
      assert.fail(`unexpected fixture type ${dec.type}`);
  }
}

if (index === undefined) {
  test('real-daemon fixtures', { skip: 'test/fixtures/bgp/fixtures.json is absent (test/helpers/capture-bgp.ts makes it)' }, () => {});
} else {
  for (const e of index.files) {
    test(`${e.file}: ${e.description}`, () => {
      const ctx = ctxOf(e);
      const msgs = read(e.file);
      if (e.decoded.type === 'SESSION') {
        // The whole session as one TCP stream, cut into 7-octet chunks: framing and decoding of every message.
        const types = /\(([^)]*)\)/.exec(e.description)![1]!.split(', ').map((t) => t.toLowerCase().replace('_', '-'));
        const stream = Buffer.concat(msgs);
        const f = new Framer();
        const got: string[] = [];
        for (let o = 0; o < stream.length; o += 7) {
          for (const m of f.feed(stream.subarray(o, o + 7))) {
            const d = decodeMessage(m, ctx);
            assert.notEqual(d.type, 'error', JSON.stringify(d));
            if (d.type === 'update') assert.deepEqual(d.problems, []);
            got.push(d.type);
          }
        }
        assert.equal(f.error, undefined);
        assert.deepEqual(got, types);
        assert.equal(msgs.length, e.decoded.length);
        return;
      }
      assert.equal(msgs.length, 1);
      const m = msgs[0]!;
      assert.equal(m.length, e.decoded.length);
      check(e, m, decodeMessage(m, ctx));
    });
  }

  test('fixtures: the UPDATEs of every daemon carry what the capture configured (fixtures.json "capture")', () => {
    const cap = (JSON.parse(readFileSync(new URL('fixtures.json', dir), 'utf8')) as { capture: Capture }).capture;
    let n = 0;
    for (const e of index.files.filter((x) => /-update-v[46](-ebgp)?\.hex$/.test(x.file))) {
      const u = decodeMessage(read(e.file)[0]!, ctxOf(e)) as UpdateMessage;
      const v6 = e.file.includes('-v6');
      const want = v6 ? cap.v6Attrs : cap.v4Attrs;
      const ebgp = ctxOf(e).ebgp;
      assert.deepEqual(v6 ? [...u.announced.v6].sort() : u.announced.v4.map((p) => p).sort(), v6 ? [...cap.v6Prefixes].sort() : cap.v4Prefixes.map(p4text).sort(), e.file);
      assert.equal(u.attrs?.med, want.med, e.file);
      assert.equal(u.attrs?.localPref, ebgp ? undefined : want.localPref, e.file);
      assert.deepEqual(u.attrs?.communities, want.communities.map(community), e.file);
      assert.deepEqual(u.attrs?.largeCommunities?.map((c) => c.join(':')), want.largeCommunities, e.file);
      assert.deepEqual(u.attrs?.asPath, ebgp ? [{ type: 2, asns: [cap.daemon.as] }] : [], e.file);
      if (v6) assert.equal(u.attrs?.mpNextHop?.global, cap.daemon.v6, e.file);
      else assert.equal(u.attrs?.nextHop, cap.daemon.v4, e.file);
      n++;
    }
    assert.ok(n >= 12, `${n} UPDATE fixtures`);
  });

  test('fixtures: the capture covers every daemon and message kind', () => {
    const daemons = new Set(index.files.map((e) => e.daemon));
    for (const d of ['bird16', 'bird2', 'frr', 'gobgp']) assert.ok(daemons.has(d), d);
    const kinds = new Set<string>(index.files.map((e) => e.decoded.type));
    for (const k of ['OPEN', 'UPDATE', 'NOTIFICATION', 'SESSION']) assert.ok(kinds.has(k), k);
  });
}
