// The OPEN exchange: the OPEN we send, and every refusal of the peer's OPEN with its exact code, subcode and
// data (RFC 4271 §6.2, RFC 5492 §5, RFC 6286, RFC 6793, RFC 7607), then what is negotiated.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { initialState, isNotificationSpec, localOpen, negotiate, step } from './fsm.js';
import type { FsmConfig, FsmState, NotificationSpec, OpenMessage } from './fsm.js';
import type { Negotiated } from './types.js';

const CONFIG: FsmConfig = { localAs: 65001, routerId: '10.0.0.1', peerAs: 65002, holdTime: 90 };
const PEER: OpenMessage = {
  version: 4,
  myAs: 65002,
  holdTime: 90,
  bgpId: '10.0.0.2',
  capabilities: { multiprotocol: ['ipv4'], fourOctetAs: 65002, routeRefresh: true },
};

const check = (peer: Partial<OpenMessage>, config: FsmConfig = CONFIG) => negotiate(config, localOpen(config), { ...PEER, ...peer });
const refusal = (peer: Partial<OpenMessage>, config: FsmConfig = CONFIG): [number, number, number[]] => {
  const r = check(peer, config);
  assert.ok(isNotificationSpec(r), 'expected a NOTIFICATION');
  return [r.code, r.subcode, [...(r.data ?? [])]];
};
const ok = (peer: Partial<OpenMessage>, config: FsmConfig = CONFIG): Negotiated => {
  const r = check(peer, config);
  assert.ok(!isNotificationSpec(r), `refused: ${JSON.stringify(r)}`);
  return r;
};

describe('localOpen', () => {
  it('announces version 4, our AS, hold time, identifier and the 4-octet AS capability', () => {
    assert.deepEqual(localOpen(CONFIG), {
      version: 4,
      myAs: 65001,
      holdTime: 90,
      bgpId: '10.0.0.1',
      capabilities: { multiprotocol: ['ipv4'], fourOctetAs: 65001, routeRefresh: true },
    });
  });
  it('puts AS_TRANS in the 2-octet field for a 4-octet AS (RFC 6793 §9)', () => {
    const o = localOpen({ ...CONFIG, localAs: 4_200_000_001 });
    assert.equal(o.myAs, 23456);
    assert.equal(o.capabilities.fourOctetAs, 4_200_000_001);
  });
  it('announces the configured capabilities', () => {
    const gracefulRestart = { restartTime: 120, restarting: false, notification: true, families: [] };
    const o = localOpen({
      ...CONFIG,
      capabilities: { families: ['ipv4', 'ipv6'], routeRefresh: false, enhancedRouteRefresh: true, extendedMessage: true, gracefulRestart },
    });
    assert.deepEqual(o.capabilities, {
      multiprotocol: ['ipv4', 'ipv6'],
      fourOctetAs: 65001,
      routeRefresh: false,
      enhancedRouteRefresh: true,
      extendedMessage: true,
      gracefulRestart,
    });
  });
});

describe('negotiate: refusals', () => {
  it('unsupported version: OPEN/1 with data = 2-octet version 4 (whether the bid is above or below)', () => {
    assert.deepEqual(refusal({ version: 5 }), [2, 1, [0, 4]]);
    assert.deepEqual(refusal({ version: 3 }), [2, 1, [0, 4]]);
  });
  it('bad peer AS: OPEN/2, no data', () => {
    assert.deepEqual(refusal({ myAs: 65003, capabilities: { ...PEER.capabilities, fourOctetAs: 65003 } }), [2, 2, []]);
    assert.deepEqual(refusal({ myAs: 65002, capabilities: { ...PEER.capabilities, fourOctetAs: 65003 } }), [2, 2, []]); // the capability decides
    assert.deepEqual(refusal({ myAs: 0, capabilities: { multiprotocol: ['ipv4'] } }, { ...CONFIG, acceptAnyPeerAs: true }), [2, 2, []]); // RFC 7607
    assert.deepEqual(refusal({ myAs: 23456, capabilities: { multiprotocol: ['ipv4'] } }, { ...CONFIG, acceptAnyPeerAs: true }), [2, 2, []]); // RFC 6793 §9
  });
  it('the peer AS comes from the 4-octet capability, else the 2-octet field; acceptAnyPeerAs takes any', () => {
    assert.equal(ok({ myAs: 23456, capabilities: { fourOctetAs: 4_200_000_001 } }, { ...CONFIG, peerAs: 4_200_000_001 }).peerAs, 4_200_000_001);
    assert.equal(ok({ myAs: 65002, capabilities: {} }).peerAs, 65002);
    assert.equal(ok({ myAs: 64999, capabilities: { fourOctetAs: 64999 } }, { ...CONFIG, acceptAnyPeerAs: true }).peerAs, 64999);
  });
  it('unacceptable hold time 1 or 2: OPEN/6, no data; 0 and 3 are fine', () => {
    assert.deepEqual(refusal({ holdTime: 1 }), [2, 6, []]);
    assert.deepEqual(refusal({ holdTime: 2 }), [2, 6, []]);
    assert.equal(ok({ holdTime: 0 }).holdTime, 0);
    assert.equal(ok({ holdTime: 3 }).holdTime, 3);
  });
  it('bad BGP identifier: OPEN/3 for 0, for garbage, and for our own identifier from an internal peer', () => {
    assert.deepEqual(refusal({ bgpId: '0.0.0.0' }), [2, 3, []]);
    assert.deepEqual(refusal({ bgpId: 'nonsense' }), [2, 3, []]);
    const ibgp = { ...CONFIG, peerAs: 65001 };
    assert.deepEqual(refusal({ myAs: 65001, bgpId: '10.0.0.1', capabilities: { fourOctetAs: 65001 } }, ibgp), [2, 3, []]);
    // between ASes an equal identifier is allowed (RFC 6286 §2.2)
    assert.equal(ok({ bgpId: '10.0.0.1' }).peerRouterId, '10.0.0.1');
  });
  it('no common family: OPEN/7 with our multiprotocol capabilities as data', () => {
    assert.deepEqual(refusal({ capabilities: { multiprotocol: ['ipv6'], fourOctetAs: 65002 } }), [2, 7, [1, 4, 0, 1, 0, 1]]);
    const dual = { ...CONFIG, capabilities: { families: ['ipv4', 'ipv6'] as const } };
    assert.deepEqual(refusal({ capabilities: { multiprotocol: [], fourOctetAs: 65002 } }, dual), [2, 7, [1, 4, 0, 1, 0, 1, 1, 4, 0, 2, 0, 1]]);
  });
  it('a required capability missing: OPEN/7 with that capability as data', () => {
    const req = (...r: FsmConfig['requireCapabilities'] & {}) => ({ ...CONFIG, requireCapabilities: r });
    assert.deepEqual(refusal({ capabilities: { multiprotocol: ['ipv4'] } }, req('fourOctetAs')), [2, 7, [65, 4, 0, 0, 0xfd, 0xe9]]);
    assert.deepEqual(refusal({ capabilities: { fourOctetAs: 65002 } }, req('routeRefresh', 'extendedMessage')), [2, 7, [2, 0, 6, 0]]);
    assert.deepEqual(refusal({ capabilities: { fourOctetAs: 65002 } }, req('enhancedRouteRefresh')), [2, 7, [70, 0]]);
    ok({}, req('fourOctetAs', 'routeRefresh'));
  });
  it('checks in the order of RFC 4271 §6.2: version, AS, hold time, identifier, capabilities', () => {
    const bad: Partial<OpenMessage> = { version: 3, myAs: 1, holdTime: 1, bgpId: '0.0.0.0', capabilities: { multiprotocol: ['ipv6'] } };
    assert.deepEqual(refusal(bad), [2, 1, [0, 4]]);
    assert.deepEqual(refusal({ ...bad, version: 4 }), [2, 2, []]);
    assert.deepEqual(refusal({ ...bad, version: 4, myAs: 65002 }), [2, 6, []]);
    assert.deepEqual(refusal({ ...bad, version: 4, myAs: 65002, holdTime: 90 }), [2, 3, []]);
    assert.deepEqual(refusal({ ...bad, version: 4, myAs: 65002, holdTime: 90, bgpId: '1.1.1.1' }), [2, 7, [1, 4, 0, 1, 0, 1]]);
  });
  it('the FSM sends the refusal from OpenSent and goes to Idle', () => {
    let s: FsmState = initialState();
    for (const type of ['ManualStart', 'Tcp_CR_Acked'] as const) s = step(CONFIG, s, { type }).state;
    const out = step(CONFIG, s, { type: 'BGPOpen', open: { ...PEER, version: 5 } });
    assert.equal(out.state.state, 'Idle');
    assert.deepEqual(
      out.effects.find((e) => e.type === 'send'),
      { type: 'send', message: { kind: 'notification', code: 2, subcode: 1, data: Uint8Array.of(0, 4) } },
    );
    assert.deepEqual(out.state.lastError?.notification, { code: 2, subcode: 1, data: Uint8Array.of(0, 4) } satisfies NotificationSpec);
  });
});

describe('negotiate: the result', () => {
  it('intersects families; no multiprotocol capability means IPv4 unicast', () => {
    const dual = { ...CONFIG, capabilities: { families: ['ipv4', 'ipv6'] as const } };
    assert.deepEqual(ok({ capabilities: { multiprotocol: ['ipv6', 'ipv4'], fourOctetAs: 65002 } }, dual).families, ['ipv4', 'ipv6']);
    assert.deepEqual(ok({ capabilities: { multiprotocol: ['ipv6'], fourOctetAs: 65002 } }, dual).families, ['ipv6']);
    assert.deepEqual(ok({ capabilities: { fourOctetAs: 65002 } }, dual).families, ['ipv4']);
  });
  it('a capability counts only when both sides announced it; GR is the peer\'s own', () => {
    const gracefulRestart = { restartTime: 90, restarting: true, notification: false, families: [{ family: 'ipv4' as const, forwardingPreserved: false }] };
    const n = ok({ capabilities: { multiprotocol: ['ipv4'], routeRefresh: true, enhancedRouteRefresh: true, extendedMessage: true, gracefulRestart } });
    assert.deepEqual(n, {
      holdTime: 90,
      keepaliveTime: 30,
      peerAs: 65002,
      peerRouterId: '10.0.0.2',
      fourOctetAs: false,
      families: ['ipv4'],
      routeRefresh: true,
      enhancedRouteRefresh: false,
      extendedMessage: false,
      gracefulRestart,
    });
  });
});
