/**
 * A small, independent BGP message decoder used only to document captured fixtures (README,
 * fixtures.json) and to tell when a capture is complete. It is NOT tortie's codec and must not
 * import it: the fixtures exist to test that codec against bytes real daemons produced.
 *
 * Covers what the daemons send in the captures: OPEN with capabilities (RFC 5492) — MP 1,
 * route refresh 2/128, extended next hop 5, extended message 6, GR 64, 4-octet AS 65, ADD-PATH
 * 69, enhanced route refresh 70, LLGR 71, FQDN 73, software version 75; UPDATE with ORIGIN,
 * AS_PATH (4-octet ASNs: every capture negotiates RFC 6793), NEXT_HOP, MED, LOCAL_PREF,
 * ATOMIC_AGGREGATE, AGGREGATOR, COMMUNITIES, ORIGINATOR_ID, CLUSTER_LIST, MP_REACH/UNREACH
 * (IPv4/IPv6 unicast), extended and large communities; NOTIFICATION with RFC 8203/9003 shutdown
 * communication. Anything else is kept as hex.
 */

export const CAP_NAMES: Record<number, string> = {
  1: 'multiprotocol',
  2: 'route-refresh',
  5: 'extended-next-hop',
  6: 'extended-message',
  64: 'graceful-restart',
  65: 'four-octet-as',
  69: 'add-path',
  70: 'enhanced-route-refresh',
  71: 'long-lived-graceful-restart',
  73: 'fqdn',
  75: 'software-version',
  128: 'route-refresh-old-cisco',
};

export const ATTR_NAMES: Record<number, string> = {
  1: 'ORIGIN',
  2: 'AS_PATH',
  3: 'NEXT_HOP',
  4: 'MULTI_EXIT_DISC',
  5: 'LOCAL_PREF',
  6: 'ATOMIC_AGGREGATE',
  7: 'AGGREGATOR',
  8: 'COMMUNITIES',
  9: 'ORIGINATOR_ID',
  10: 'CLUSTER_LIST',
  14: 'MP_REACH_NLRI',
  15: 'MP_UNREACH_NLRI',
  16: 'EXTENDED_COMMUNITIES',
  32: 'LARGE_COMMUNITY',
};

const NOTIF: Record<number, [string, Record<number, string>]> = {
  1: ['Message Header Error', { 1: 'Connection Not Synchronized', 2: 'Bad Message Length', 3: 'Bad Message Type' }],
  2: ['OPEN Message Error', { 1: 'Unsupported Version Number', 2: 'Bad Peer AS', 3: 'Bad BGP Identifier', 4: 'Unsupported Optional Parameter', 6: 'Unacceptable Hold Time', 7: 'Unsupported Capability', 11: 'Role Mismatch' }],
  3: ['UPDATE Message Error', { 1: 'Malformed Attribute List', 2: 'Unrecognized Well-known Attribute', 3: 'Missing Well-known Attribute', 4: 'Attribute Flags Error', 5: 'Attribute Length Error', 6: 'Invalid ORIGIN Attribute', 8: 'Invalid NEXT_HOP Attribute', 9: 'Optional Attribute Error', 10: 'Invalid Network Field', 11: 'Malformed AS_PATH' }],
  4: ['Hold Timer Expired', {}],
  5: ['Finite State Machine Error', { 1: 'Unexpected Message in OpenSent', 2: 'Unexpected Message in OpenConfirm', 3: 'Unexpected Message in Established' }],
  6: ['Cease', { 1: 'Maximum Number of Prefixes Reached', 2: 'Administrative Shutdown', 3: 'Peer De-configured', 4: 'Administrative Reset', 5: 'Connection Rejected', 6: 'Other Configuration Change', 7: 'Connection Collision Resolution', 8: 'Out of Resources', 9: 'Hard Reset', 10: 'BFD Down' }],
};

export const afiName = (afi: number, safi: number) => `${afi === 1 ? 'ipv4' : afi === 2 ? 'ipv6' : `afi${afi}`}/${safi === 1 ? 'unicast' : safi === 2 ? 'multicast' : `safi${safi}`}`;

function ipv4(b: Buffer, off = 0): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

function ipv6(b: Buffer, off = 0): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(off + i).toString(16));
  // RFC 5952: compress the longest run (≥2) of zero groups.
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen && j - i >= 2) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

/** Decodes RFC 4271 §4.3 prefixes (length byte + minimal octets). */
export function decodePrefixes(b: Buffer, v6: boolean): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < b.length) {
    const len = b[i]!;
    const n = Math.ceil(len / 8);
    const addr = Buffer.alloc(v6 ? 16 : 4);
    b.copy(addr, 0, i + 1, i + 1 + n);
    out.push(`${v6 ? ipv6(addr) : ipv4(addr)}/${len}`);
    i += 1 + n;
  }
  return out;
}

export interface DecodedCapability {
  code: number;
  name: string;
  length: number;
  hex: string;
  value?: unknown;
}

export interface DecodedAttribute {
  type: number;
  name: string;
  flags: string;
  optional: boolean;
  transitive: boolean;
  partial: boolean;
  extendedLength: boolean;
  length: number;
  value: unknown;
}

export type Decoded =
  | {
      type: 'OPEN';
      length: number;
      version: number;
      myAs: number;
      holdTime: number;
      bgpId: string;
      optParamsLength: number;
      /** Optional parameters as sent: some daemons put all capabilities in one parameter, others one per parameter. */
      optionalParameters: { type: number; length: number; capabilityCodes?: number[]; hex?: string }[];
      /** All capabilities, flattened, in wire order. */
      capabilities: DecodedCapability[];
      otherParams: { type: number; hex: string }[];
    }
  | { type: 'UPDATE'; length: number; withdrawn: string[]; attributes: DecodedAttribute[]; nlri: string[]; endOfRib?: string }
  | { type: 'NOTIFICATION'; length: number; code: number; subcode: number; codeName: string; subcodeName: string; dataHex: string; shutdownMessage?: string }
  | { type: 'KEEPALIVE'; length: number }
  | { type: 'ROUTE-REFRESH'; length: number; family: string; subtype: number }
  | { type: string; length: number; hex: string };

function decodeCap(code: number, v: Buffer): unknown {
  switch (code) {
    case 1:
      return { family: afiName(v.readUInt16BE(0), v[3]!), afi: v.readUInt16BE(0), safi: v[3] };
    case 5: {
      const t = [];
      for (let i = 0; i + 6 <= v.length; i += 6) t.push({ nlri: afiName(v.readUInt16BE(i), v.readUInt16BE(i + 2)), nextHopAfi: v.readUInt16BE(i + 4) });
      return t;
    }
    case 64: {
      const w = v.readUInt16BE(0);
      const fams = [];
      for (let i = 2; i + 4 <= v.length; i += 4) fams.push({ family: afiName(v.readUInt16BE(i), v[i + 2]!), forwardingState: (v[i + 3]! & 0x80) !== 0 });
      return { restartState: (w & 0x8000) !== 0, notification: (w & 0x4000) !== 0, restartTime: w & 0x0fff, families: fams };
    }
    case 65:
      return { asNumber: v.readUInt32BE(0) };
    case 69: {
      const t = [];
      for (let i = 0; i + 4 <= v.length; i += 4) t.push({ family: afiName(v.readUInt16BE(i), v[i + 2]!), sendReceive: v[i + 3] });
      return t;
    }
    case 71: {
      const t = [];
      for (let i = 0; i + 7 <= v.length; i += 7) t.push({ family: afiName(v.readUInt16BE(i), v[i + 2]!), flags: v[i + 3], staleTime: v.readUIntBE(i + 4, 3) });
      return t;
    }
    case 73: {
      const hl = v[0]!;
      const host = v.subarray(1, 1 + hl).toString('utf8');
      const dl = v[1 + hl] ?? 0;
      return { hostname: host, domain: v.subarray(2 + hl, 2 + hl + dl).toString('utf8') };
    }
    case 75:
      return { version: v.subarray(1, 1 + v[0]!).toString('utf8') };
    default:
      return undefined;
  }
}

function decodeAttr(type: number, v: Buffer): unknown {
  switch (type) {
    case 1:
      return ['IGP', 'EGP', 'INCOMPLETE'][v[0]!] ?? v[0];
    case 2: {
      const segs = [];
      for (let i = 0; i < v.length; ) {
        const st = v[i]!;
        const n = v[i + 1]!;
        const asns = [];
        for (let k = 0; k < n; k++) asns.push(v.readUInt32BE(i + 2 + 4 * k));
        segs.push({ type: st === 1 ? 'AS_SET' : st === 2 ? 'AS_SEQUENCE' : `type${st}`, asns });
        i += 2 + 4 * n;
      }
      return segs;
    }
    case 3:
      return ipv4(v);
    case 4:
    case 5:
      return v.readUInt32BE(0);
    case 6:
      return true;
    case 7:
      return v.length === 8 ? { asNumber: v.readUInt32BE(0), address: ipv4(v, 4) } : { asNumber: v.readUInt16BE(0), address: ipv4(v, 2) };
    case 8: {
      const out = [];
      for (let i = 0; i + 4 <= v.length; i += 4) out.push(`${v.readUInt16BE(i)}:${v.readUInt16BE(i + 2)}`);
      return out;
    }
    case 9:
      return ipv4(v);
    case 10: {
      const out = [];
      for (let i = 0; i + 4 <= v.length; i += 4) out.push(ipv4(v, i));
      return out;
    }
    case 14: {
      const afi = v.readUInt16BE(0);
      const safi = v[2]!;
      const nhLen = v[3]!;
      const nh = v.subarray(4, 4 + nhLen);
      const nextHops: string[] = [];
      if (nhLen === 4) nextHops.push(ipv4(nh));
      else for (let i = 0; i + 16 <= nhLen; i += 16) nextHops.push(ipv6(nh, i));
      const reserved = v[4 + nhLen];
      const nlri = decodePrefixes(v.subarray(5 + nhLen), afi === 2);
      return { family: afiName(afi, safi), nextHopLength: nhLen, nextHops, reserved, nlri };
    }
    case 15: {
      const afi = v.readUInt16BE(0);
      return { family: afiName(afi, v[2]!), withdrawn: decodePrefixes(v.subarray(3), afi === 2) };
    }
    case 16: {
      const out = [];
      for (let i = 0; i + 8 <= v.length; i += 8) out.push(v.subarray(i, i + 8).toString('hex'));
      return out;
    }
    case 32: {
      const out = [];
      for (let i = 0; i + 12 <= v.length; i += 12) out.push(`${v.readUInt32BE(i)}:${v.readUInt32BE(i + 4)}:${v.readUInt32BE(i + 8)}`);
      return out;
    }
    default:
      return v.toString('hex');
  }
}

export function decodeMessage(hex: string): Decoded {
  const b = Buffer.from(hex, 'hex');
  const length = b.readUInt16BE(16);
  const type = b[18]!;
  const body = b.subarray(19, length);
  switch (type) {
    case 1: {
      const optLen = body[9]!;
      const caps: DecodedCapability[] = [];
      const other: { type: number; hex: string }[] = [];
      const params: { type: number; length: number; capabilityCodes?: number[]; hex?: string }[] = [];
      for (let i = 10; i < 10 + optLen; ) {
        const pt = body[i]!;
        const pl = body[i + 1]!;
        const pv = body.subarray(i + 2, i + 2 + pl);
        if (pt === 2) {
          const codes: number[] = [];
          params.push({ type: pt, length: pl, capabilityCodes: codes });
          for (let k = 0; k < pv.length; ) {
            const code = pv[k]!;
            const cl = pv[k + 1]!;
            const cv = pv.subarray(k + 2, k + 2 + cl);
            const c: DecodedCapability = { code, name: CAP_NAMES[code] ?? `cap${code}`, length: cl, hex: cv.toString('hex') };
            const value = decodeCap(code, cv);
            if (value !== undefined) c.value = value;
            caps.push(c);
            codes.push(code);
            k += 2 + cl;
          }
        } else {
          params.push({ type: pt, length: pl, hex: pv.toString('hex') });
          other.push({ type: pt, hex: pv.toString('hex') });
        }
        i += 2 + pl;
      }
      return {
        type: 'OPEN',
        length,
        version: body[0]!,
        myAs: body.readUInt16BE(1),
        holdTime: body.readUInt16BE(3),
        bgpId: ipv4(body, 5),
        optParamsLength: optLen,
        optionalParameters: params,
        capabilities: caps,
        otherParams: other,
      };
    }
    case 2: {
      const wl = body.readUInt16BE(0);
      const withdrawn = decodePrefixes(body.subarray(2, 2 + wl), false);
      const al = body.readUInt16BE(2 + wl);
      const attrs: DecodedAttribute[] = [];
      const ab = body.subarray(4 + wl, 4 + wl + al);
      for (let i = 0; i < ab.length; ) {
        const flags = ab[i]!;
        const t = ab[i + 1]!;
        const ext = (flags & 0x10) !== 0;
        const len = ext ? ab.readUInt16BE(i + 2) : ab[i + 2]!;
        const start = i + (ext ? 4 : 3);
        attrs.push({
          type: t,
          name: ATTR_NAMES[t] ?? `ATTR${t}`,
          flags: `0x${flags.toString(16).padStart(2, '0')}`,
          optional: (flags & 0x80) !== 0,
          transitive: (flags & 0x40) !== 0,
          partial: (flags & 0x20) !== 0,
          extendedLength: ext,
          length: len,
          value: decodeAttr(t, ab.subarray(start, start + len)),
        });
        i = start + len;
      }
      const nlri = decodePrefixes(body.subarray(4 + wl + al), false);
      const d: Decoded = { type: 'UPDATE', length, withdrawn, attributes: attrs, nlri };
      if (!withdrawn.length && !attrs.length && !nlri.length) d.endOfRib = 'ipv4/unicast';
      else if (!withdrawn.length && !nlri.length && attrs.length === 1 && attrs[0]!.type === 15) {
        const u = attrs[0]!.value as { family: string; withdrawn: string[] };
        if (!u.withdrawn.length) d.endOfRib = u.family;
      }
      return d;
    }
    case 3: {
      const code = body[0]!;
      const subcode = body[1]!;
      const data = body.subarray(2);
      const [codeName, subs] = NOTIF[code] ?? [`code ${code}`, {}];
      const d: Decoded = { type: 'NOTIFICATION', length, code, subcode, codeName, subcodeName: subs[subcode] ?? (subcode === 0 ? 'Unspecific' : `subcode ${subcode}`), dataHex: data.toString('hex') };
      if (code === 6 && (subcode === 2 || subcode === 4) && data.length > 0 && data[0]! === data.length - 1) {
        d.shutdownMessage = data.subarray(1).toString('utf8');
      }
      return d;
    }
    case 4:
      return { type: 'KEEPALIVE', length };
    case 5:
      return { type: 'ROUTE-REFRESH', length, family: afiName(body.readUInt16BE(0), body[3]!), subtype: body[2]! };
    default:
      return { type: `TYPE${type}`, length, hex };
  }
}

/** One-paragraph human summary of a decoded message (for the fixtures README). */
export function summarize(d: Decoded): string[] {
  const lines: string[] = [];
  if (d.type === 'OPEN' && 'capabilities' in d) {
    lines.push(`OPEN, length ${d.length}: version ${d.version}, My AS ${d.myAs}${d.myAs === 23456 ? ' (AS_TRANS)' : ''}, hold time ${d.holdTime}, BGP identifier ${d.bgpId}, optional parameters length ${d.optParamsLength}`);
    const capParams = d.optionalParameters.filter((p) => p.type === 2);
    lines.push(
      capParams.length === 1
        ? `one Capabilities optional parameter (type 2, length ${capParams[0]!.length}) holding all ${d.capabilities.length} capabilities`
        : `${capParams.length} Capabilities optional parameters (type 2): ${capParams.map((p) => `[${(p.capabilityCodes ?? []).join(',')}]`).join(' ')} (capability codes per parameter)`,
    );
    for (const c of d.capabilities) lines.push(`capability ${c.code} ${c.name} (length ${c.length})${c.value !== undefined ? `: ${JSON.stringify(c.value)}` : c.length ? `: 0x${c.hex}` : ''}`);
    for (const p of d.otherParams) lines.push(`optional parameter type ${p.type}: 0x${p.hex}`);
  } else if (d.type === 'UPDATE' && 'attributes' in d) {
    lines.push(`UPDATE, length ${d.length}${d.endOfRib ? ` — End-of-RIB marker for ${d.endOfRib}` : ''}`);
    lines.push(`withdrawn routes: ${d.withdrawn.length ? d.withdrawn.join(' ') : 'none'}`);
    for (const a of d.attributes) lines.push(`attribute ${a.type} ${a.name}, flags ${a.flags}${a.extendedLength ? ' (extended length)' : ''}, length ${a.length}: ${JSON.stringify(a.value)}`);
    lines.push(`NLRI: ${d.nlri.length ? d.nlri.join(' ') : 'none'}`);
  } else if (d.type === 'NOTIFICATION' && 'code' in d) {
    lines.push(`NOTIFICATION, length ${d.length}: code ${d.code} (${d.codeName}), subcode ${d.subcode} (${d.subcodeName}), data ${d.dataHex ? `0x${d.dataHex}` : 'empty'}${d.shutdownMessage !== undefined ? `; shutdown communication (RFC 9003) ${JSON.stringify(d.shutdownMessage)}` : ''}`);
  } else {
    lines.push(`${d.type}, length ${d.length}`);
  }
  return lines;
}
