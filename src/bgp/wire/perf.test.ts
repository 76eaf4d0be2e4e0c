/*
 * Throughput of the IPv4 hot paths on 1,000,000 unique /32s with one attribute set (bgp-anchors.md §7's feed:
 * about 800 prefixes per 4096-octet UPDATE). BIRD 2 ingests that feed in ~0.6 s including its RIB, so the
 * codec alone must be several times faster. The floors below are far under what this machine does (see the
 * diagnostics) so that a slow CI box passes, but a per-prefix allocation or a quadratic copy fails.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { p4, type PathAttributes } from '../types.js';
import { Framer } from './framer.js';
import { decodeMessage } from './message.js';
import type { WireContext } from './model.js';
import { encodeUpdates } from './update-encode.js';

const N = 1_000_000;
const ctx: WireContext = { fourOctetAs: true };
const attrs: PathAttributes = {
  origin: 0,
  asPath: [{ type: 2, asns: [65001] }],
  nextHop: '192.0.2.1',
  localPref: 100,
  communities: [65001 * 65536 + 1],
};

function best(runs: number, f: () => void): number {
  let ms = Infinity;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    f();
    ms = Math.min(ms, performance.now() - t0);
  }
  return ms;
}

test('1,000,000 /32s: encode into 4096-octet UPDATEs, frame and decode them', (t) => {
  const v4 = Array.from({ length: N }, (_, i) => p4(0x0a000000 + i, 32));
  let msgs: Buffer[] = [];
  const encMs = best(3, () => {
    msgs = encodeUpdates(attrs, { v4 }, ctx);
  });
  const stream = Buffer.concat(msgs);

  let count = 0;
  let sum = 0;
  const decMs = best(3, () => {
    count = 0;
    sum = 0;
    const f = new Framer();
    // 64 KiB chunks, as a socket delivers them: messages straddle chunk edges.
    for (let o = 0; o < stream.length; o += 65536) {
      f.push(stream.subarray(o, o + 65536));
      for (let m = f.next(); m !== undefined; m = f.next()) {
        const d = decodeMessage(m, ctx);
        if (d.type !== 'update' || d.attrs === undefined) throw new Error('not a clean UPDATE');
        const a = d.announced.v4;
        count += a.length;
        for (let i = 0; i < a.length; i++) sum += a[i]!;
      }
    }
    assert.equal(f.error, undefined);
  });

  assert.equal(count, N);
  assert.equal(sum, v4.reduce((s, p) => s + p, 0));
  const encRate = N / (encMs / 1000);
  const decRate = N / (decMs / 1000);
  t.diagnostic(`${msgs.length} UPDATEs, ${(stream.length / 1e6).toFixed(1)} MB, ${Math.round(N / msgs.length)} prefixes each`);
  t.diagnostic(`encode: ${encMs.toFixed(0)} ms, ${(encRate / 1e6).toFixed(1)} M prefixes/s`);
  t.diagnostic(`frame + decode: ${decMs.toFixed(0)} ms, ${(decRate / 1e6).toFixed(1)} M prefixes/s`);
  assert.ok(msgs.length <= Math.ceil(N / 800), `${msgs.length} messages`);
  assert.ok(encRate > 4e6, `encode ${encRate.toFixed(0)} prefixes/s`);
  assert.ok(decRate > 8e6, `decode ${decRate.toFixed(0)} prefixes/s`);
});
