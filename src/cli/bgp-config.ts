/**
 * The configuration file of `tortie bgp run`: YAML (or JSON) read strictly, so a misspelt key is
 * an error naming it with its line and column, and turned into the speaker's options, peers and
 * originated routes. The keys are the ones scripts may rely on: `routerId`, `asNumber`,
 * `listen: {address, port}`, `peers: [{address, asNumber, port, passive, routeReflectorClient,
 * clusterId, nextHopMode, holdTime, gracefulRestart: {restartTime}, password, import, export}]`,
 * `originate: [{prefix, nextHop, communities}]`, plus a few more documented in docs/bgp.md.
 */
import { readFileSync } from 'node:fs';
import { IP, Prefix } from '../net/index.js';
import { DecodeError, decodeStruct } from '../api/schema/decode.js';
import { asn, bool, f, int, list, opt, str, struct } from '../api/schema/types.js';
import { parseDocuments, YamlError } from '../api/yaml/read.js';
import type { OriginatedRoute, PeerSpec, SpeakerOptions } from '../bgp/speaker.js';
import { parseCommunity, parseLargeCommunity } from '../bgp/speaker.js';
import type { Operation, PolicyDefinition, RuleMatch } from '../bgp/policy.js';
import type { Family } from '../bgp/types.js';

export class BgpConfigFileError extends Error {
  readonly code = 'BGP_CONFIG_FILE' as const;
}

const prefixMatch = struct('PrefixMatch', [f('cidr', str(), 'CIDR'), opt('exact', bool()), opt('minLength', int('int')), opt('maxLength', int('int')), opt('negate', bool())]);
const match = struct('Match', [
  opt('prefix', prefixMatch),
  opt('community', str()),
  opt('asPathContains', asn()),
  opt('asPathStartsWith', list(asn())),
  opt('peerType', str()),
  opt('source', str()),
  opt('family', str()),
]);
const operation = struct('Operation', [
  opt('addCommunity', str()),
  opt('prependAsPath', list(asn())),
  opt('times', int('int')),
  opt('setLocalPref', int('uint32')),
  opt('setMed', int('uint32')),
]);
const rule = struct('Rule', [opt('match', match), opt('operations', list(operation)), opt('action', str())]);
const policy = struct('Policy', [opt('defaultAction', str()), opt('rules', list(rule))]);
const gracefulRestart = struct('GracefulRestart', [opt('enabled', bool()), opt('restartTime', int('uint16'))]);
const peer = struct('Peer', [
  opt('address', str()),
  opt('asNumber', asn()),
  opt('port', int('uint16')),
  opt('localAddress', str()),
  opt('localAs', asn()),
  opt('passive', bool()),
  opt('routeReflectorClient', bool()),
  opt('clusterId', str()),
  opt('nextHopMode', str()),
  opt('holdTime', int('uint16')),
  opt('keepaliveTime', int('uint16')),
  opt('gracefulRestart', gracefulRestart),
  opt('password', str()),
  opt('families', list(str())),
  opt('import', policy),
  opt('export', policy),
  opt('maxPrefixes', struct('MaxPrefixes', [opt('limit', int('uint32')), opt('action', str())])),
  opt('allowLocalAs', int('uint8')),
  opt('name', str()),
]);
const route = struct('Route', [
  opt('prefix', str()),
  opt('nextHop', str()),
  opt('communities', list(str())),
  opt('largeCommunities', list(str())),
  opt('med', int('uint32')),
  opt('localPref', int('uint32')),
]);
const configTy = struct('BgpConfig', [
  opt('routerId', str()),
  opt('asNumber', asn()),
  opt('listen', struct('Listen', [opt('address', str()), opt('port', int('uint16'))])),
  opt('clusterId', str()),
  opt('gracefulRestart', gracefulRestart),
  opt('peers', list(peer)),
  opt('originate', list(route)),
]);

export interface BgpRunConfig {
  options: SpeakerOptions;
  peers: PeerSpec[];
  originate: OriginatedRoute[];
}

type Raw = Record<string, unknown>;

export function loadBgpConfig(path: string): BgpRunConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new BgpConfigFileError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  return parseBgpConfig(text, path);
}

export function parseBgpConfig(text: string, source = 'config'): BgpRunConfig {
  let raw: Raw;
  try {
    const docs = parseDocuments(text).filter((d) => d.node);
    if (docs.length !== 1) throw new BgpConfigFileError(`${source}: expected one YAML document, found ${docs.length}`);
    raw = decodeStruct(docs[0]!.node, configTy) ?? {};
  } catch (e) {
    if (e instanceof YamlError) throw new BgpConfigFileError(`${source}: ${e.message}`);
    if (e instanceof DecodeError) {
      const unknown = /^json: unknown field "(.*)"$/.exec(e.message);
      const typed = /cannot unmarshal (\w+)(?: \S+)? into Go (?:struct field \S+|value) of type (\S+)$/.exec(e.message);
      let what = unknown ? `unknown key "${unknown[1]}"` : e.message.replace(/^json: /, '');
      if (typed) {
        const want = { string: 'a string', bool: 'true or false', int: 'a number', uint8: 'a number', uint16: 'a number', uint32: 'a number' }[typed[2]!] ?? typed[2];
        what = `expected ${want}, got ${typed[1] === 'array' ? 'a list' : typed[1] === 'object' ? 'a mapping' : `a ${typed[1]}`}`;
        if (/asNumber$|localAs$|asPath/.test(e.path)) what += ' (an AS number in asdot form must be quoted, e.g. "1.10")';
      }
      const at = e.pos ? ` (line ${e.pos.line}, column ${e.pos.col})` : '';
      throw new BgpConfigFileError(`${source}: ${what} at ${e.path}${at}`);
    }
    throw e;
  }
  const bad = (where: string, msg: string): never => {
    throw new BgpConfigFileError(`${source}: ${where}: ${msg}`);
  };
  const routerId = need(raw.routerId, 'routerId', bad) as string;
  if (IP.tryParse(routerId)?.version !== 4) bad('routerId', `"${routerId}" is not an IPv4 address`);
  const asNumber = need(raw.asNumber, 'asNumber', bad) as number;
  if (asNumber === 0) bad('asNumber', 'must not be 0');
  const options: SpeakerOptions = { routerId, asNumber };
  const listen = raw.listen as Raw | undefined;
  if (listen) {
    const address = (listen.address as string | undefined) ?? '0.0.0.0';
    if (!IP.tryParse(address)) bad('listen.address', `"${address}" is not an IP address`);
    options.listen = { address, port: (listen.port as number | undefined) ?? 179 };
  }
  const gr = raw.gracefulRestart as Raw | undefined;
  if (gr) options.gracefulRestart = gr.enabled === false ? false : { restartTime: (gr.restartTime as number | undefined) ?? 120 };
  let clusterId = raw.clusterId as string | undefined;
  if (clusterId !== undefined && IP.tryParse(clusterId)?.version !== 4) bad('clusterId', `"${clusterId}" is not in IPv4 form`);

  const peers: PeerSpec[] = [];
  ((raw.peers as Raw[] | undefined) ?? []).forEach((p, i) => {
    const w = `peers[${i}]`;
    const address = need(p.address, `${w}.address`, bad) as string;
    if (!IP.tryParse(address)) bad(`${w}.address`, `"${address}" is not an IP address`);
    const spec: PeerSpec = { address, asNumber: need(p.asNumber, `${w}.asNumber`, bad) as number };
    if (p.port !== undefined) spec.port = p.port as number;
    if (p.localAddress !== undefined) {
      if (!IP.tryParse(p.localAddress as string)) bad(`${w}.localAddress`, `"${p.localAddress}" is not an IP address`);
      spec.localAddress = p.localAddress as string;
    }
    if (p.localAs !== undefined) spec.localAs = p.localAs as number;
    if (p.passive !== undefined) spec.passive = p.passive as boolean;
    if (p.routeReflectorClient !== undefined) spec.routeReflectorClient = p.routeReflectorClient as boolean;
    if (p.clusterId !== undefined) {
      const c = p.clusterId as string;
      if (IP.tryParse(c)?.version !== 4) bad(`${w}.clusterId`, `"${c}" is not in IPv4 form`);
      if (clusterId !== undefined && clusterId !== c) bad(`${w}.clusterId`, `"${c}" differs from the speaker's cluster id "${clusterId}" (one cluster id per speaker)`);
      clusterId = c;
    }
    if (p.nextHopMode !== undefined) {
      const m = p.nextHopMode as string;
      if (!['auto', 'self', 'keep'].includes(m)) bad(`${w}.nextHopMode`, `"${m}" is not one of auto, self, keep`);
      spec.nextHopMode = m as PeerSpec['nextHopMode'];
    }
    if (p.holdTime !== undefined) {
      const h = p.holdTime as number;
      if (h !== 0 && h < 3) bad(`${w}.holdTime`, 'must be 0 or at least 3 seconds');
      spec.holdTime = h;
    }
    if (p.keepaliveTime !== undefined) spec.keepaliveTime = p.keepaliveTime as number;
    const pgr = p.gracefulRestart as Raw | undefined;
    if (pgr) spec.gracefulRestart = pgr.enabled === false ? false : { restartTime: (pgr.restartTime as number | undefined) ?? 120 };
    if (p.password !== undefined) spec.password = p.password as string;
    if (p.families !== undefined) {
      const fams = p.families as string[];
      for (const fam of fams) if (fam !== 'ipv4' && fam !== 'ipv6') bad(`${w}.families`, `"${fam}" is not ipv4 or ipv6`);
      spec.families = fams as Family[];
    }
    if (p.import) spec.import = toPolicy(p.import as Raw, `${w}.import`, bad);
    if (p.export) spec.export = toPolicy(p.export as Raw, `${w}.export`, bad);
    const mp = p.maxPrefixes as Raw | undefined;
    if (mp) {
      const action = (mp.action as string | undefined) ?? 'teardown';
      if (action !== 'reject' && action !== 'teardown') bad(`${w}.maxPrefixes.action`, `"${action}" is not reject or teardown`);
      spec.maxPrefixes = { limit: need(mp.limit, `${w}.maxPrefixes.limit`, bad) as number, action: action as 'reject' | 'teardown' };
    }
    if (p.allowLocalAs !== undefined) spec.allowLocalAs = p.allowLocalAs as number;
    if (p.name !== undefined) spec.name = p.name as string;
    peers.push(spec);
  });
  if (clusterId !== undefined) options.clusterId = clusterId;

  const originate: OriginatedRoute[] = [];
  ((raw.originate as Raw[] | undefined) ?? []).forEach((r, i) => {
    const w = `originate[${i}]`;
    const prefix = need(r.prefix, `${w}.prefix`, bad) as string;
    const pfx = Prefix.tryParseCIDR(prefix);
    if (!pfx) bad(`${w}.prefix`, `"${prefix}" is not a CIDR`);
    if (pfx!.prefix.ip.toString() !== pfx!.ip.toString()) bad(`${w}.prefix`, `"${prefix}" has host bits set (did you mean ${pfx!.prefix}?)`);
    const route: OriginatedRoute = { prefix };
    if (r.nextHop !== undefined) {
      const nh = IP.tryParse(r.nextHop as string);
      if (!nh) bad(`${w}.nextHop`, `"${r.nextHop}" is not an IP address`);
      if (nh!.version !== pfx!.prefix.version) bad(`${w}.nextHop`, `"${r.nextHop}" is not of the prefix's address family`);
      route.nextHop = r.nextHop as string;
    }
    try {
      if (r.communities) route.communities = (r.communities as string[]).map((c) => (parseCommunity(c, prefix), c));
      if (r.largeCommunities) route.largeCommunities = (r.largeCommunities as string[]).map((c) => (parseLargeCommunity(c, prefix), c));
    } catch (e) {
      bad(w, (e as Error).message.replace(/^originate [^:]*: /, ''));
    }
    if (r.med !== undefined) route.med = r.med as number;
    if (r.localPref !== undefined) route.localPref = r.localPref as number;
    originate.push(route);
  });
  return { options, peers, originate };
}

function need(v: unknown, where: string, bad: (w: string, m: string) => never): unknown {
  if (v === undefined || v === null || v === '') bad(where, 'is required');
  return v;
}

function toPolicy(raw: Raw, where: string, bad: (w: string, m: string) => never): PolicyDefinition {
  const def: { name: string; rules: PolicyDefinition['rules']; defaultAction?: 'accept' | 'reject' } = { name: where, rules: [] };
  if (raw.defaultAction !== undefined) {
    if (raw.defaultAction !== 'accept' && raw.defaultAction !== 'reject') bad(`${where}.defaultAction`, `"${raw.defaultAction}" is not accept or reject`);
    def.defaultAction = raw.defaultAction as 'accept' | 'reject';
  }
  const rules: PolicyDefinition['rules'][number][] = [];
  ((raw.rules as Raw[] | undefined) ?? []).forEach((r, i) => {
    const w = `${where}.rules[${i}]`;
    const action = (r.action as string | undefined) ?? 'accept';
    if (!['accept', 'reject', 'continue'].includes(action)) bad(`${w}.action`, `"${action}" is not accept, reject or continue`);
    const m = r.match as Raw | undefined;
    const matchOut: RuleMatch = {};
    if (m) {
      const pm = m.prefix as Raw | undefined;
      if (pm) {
        const cidr = pm.cidr as string | undefined;
        if (!cidr || !Prefix.tryParse(cidr)) bad(`${w}.match.prefix.cidr`, `"${cidr ?? ''}" is not a CIDR`);
        matchOut.prefix = { cidr: cidr!, ...(pm.exact !== undefined ? { exact: pm.exact as boolean } : {}), ...(pm.minLength !== undefined ? { minLength: pm.minLength as number } : {}), ...(pm.maxLength !== undefined ? { maxLength: pm.maxLength as number } : {}), ...(pm.negate !== undefined ? { negate: pm.negate as boolean } : {}) };
      }
      if (m.community !== undefined) {
        const c = m.community as string;
        try {
          matchOut.community = c.split(':').length === 3 ? parseLargeCommunity(c, w) : parseCommunity(c, w);
        } catch {
          bad(`${w}.match.community`, `"${c}" is not aa:nn or aa:bb:cc`);
        }
      }
      if (m.asPathContains !== undefined) matchOut.asPathContains = m.asPathContains as number;
      if (m.asPathStartsWith !== undefined) matchOut.asPathStartsWith = m.asPathStartsWith as number[];
      if (m.peerType !== undefined) {
        if (m.peerType !== 'ibgp' && m.peerType !== 'ebgp') bad(`${w}.match.peerType`, `"${m.peerType}" is not ibgp or ebgp`);
        matchOut.peerType = m.peerType as 'ibgp' | 'ebgp';
      }
      if (m.source !== undefined) {
        if (m.source !== 'bgp' && m.source !== 'local') bad(`${w}.match.source`, `"${m.source}" is not bgp or local`);
        matchOut.source = m.source as 'bgp' | 'local';
      }
      if (m.family !== undefined) {
        if (m.family !== 'ipv4' && m.family !== 'ipv6') bad(`${w}.match.family`, `"${m.family}" is not ipv4 or ipv6`);
        matchOut.family = m.family as Family;
      }
    }
    const ops: Operation[] = [];
    ((r.operations as Raw[] | undefined) ?? []).forEach((o, j) => {
      const ow = `${w}.operations[${j}]`;
      const keys = Object.keys(o).filter((k) => k !== 'times');
      if (keys.length !== 1) bad(ow, 'needs exactly one of addCommunity, prependAsPath, setLocalPref, setMed');
      if (o.addCommunity !== undefined) {
        const c = o.addCommunity as string;
        try {
          ops.push(c.split(':').length === 3 ? { addLargeCommunity: parseLargeCommunity(c, ow) } : { addCommunity: parseCommunity(c, ow) });
        } catch {
          bad(`${ow}.addCommunity`, `"${c}" is not aa:nn or aa:bb:cc`);
        }
      } else if (o.prependAsPath !== undefined) ops.push({ prependAsPath: o.prependAsPath as number[], ...(o.times !== undefined ? { times: o.times as number } : {}) });
      else if (o.setLocalPref !== undefined) ops.push({ setLocalPref: o.setLocalPref as number });
      else if (o.setMed !== undefined) ops.push({ setMed: o.setMed as number });
    });
    rules.push({ ...(m ? { match: matchOut } : {}), ...(ops.length ? { operations: ops } : {}), action: action as 'accept' | 'reject' | 'continue' });
  });
  def.rules = rules;
  return def;
}
