// Connection collisions (RFC 4271 §6.8): which connection survives, what the loser sends, and that both ends of
// a collision reach the same verdict.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { connectionDisposition, initialState, resolveCollision, secondConnection, step, winningDirection } from './fsm.js';
import type { BgpState, Direction, FsmConfig, FsmEvent, FsmState, OpenMessage } from './fsm.js';
import { v4Format } from '../net/index.js';

const LOCAL: FsmConfig = { localAs: 65001, routerId: '10.0.0.9', peerAs: 65002, holdTime: 90 };
const open = (bgpId: string, as = 65002): OpenMessage => ({
  version: 4,
  myAs: as,
  holdTime: 90,
  bgpId,
  capabilities: { multiprotocol: ['ipv4'], fourOctetAs: as },
});
const LOWER = open('10.0.0.2'); // the peer's identifier is below ours
const HIGHER = open('10.0.0.20');

function run(config: FsmConfig, s: FsmState, ...events: FsmEvent[]): FsmState {
  for (const e of events) s = step(config, s, e).state;
  return s;
}
/** An FSM holding a connection in `direction`, in OpenSent, OpenConfirm or Established. */
function holding(config: FsmConfig, direction: Direction, state: BgpState, peer: OpenMessage): FsmState {
  const evs: FsmEvent[] = [{ type: 'ManualStart' }, { type: direction === 'outgoing' ? 'Tcp_CR_Acked' : 'TcpConnectionConfirmed' }];
  if (state !== 'OpenSent') evs.push({ type: 'BGPOpen', open: peer });
  if (state === 'Established') evs.push({ type: 'KeepAliveMsg' });
  const s = run(config, initialState(), ...evs);
  assert.equal(s.state, state);
  return s;
}
const second = (config: FsmConfig, main: FsmState, d: Direction) => secondConnection(config, main, d).state;

describe('connectionDisposition', () => {
  it('Idle refuses, Connect and Active take, later states start a second FSM', () => {
    assert.equal(connectionDisposition(initialState()), 'refuse');
    assert.equal(connectionDisposition(run(LOCAL, initialState(), { type: 'ManualStart' })), 'take');
    assert.equal(connectionDisposition(run(LOCAL, initialState(), { type: 'ManualStart' }, { type: 'TcpConnectionFails' })), 'take');
    for (const st of ['OpenSent', 'OpenConfirm', 'Established'] as const) {
      assert.equal(connectionDisposition(holding(LOCAL, 'outgoing', st, LOWER)), 'second', st);
    }
  });
});

describe('secondConnection', () => {
  it('starts in OpenSent: sends its OPEN and runs the 4-minute hold timer', () => {
    const main = holding(LOCAL, 'outgoing', 'OpenSent', LOWER);
    const { state, effects } = secondConnection(LOCAL, main, 'incoming');
    assert.equal(state.state, 'OpenSent');
    assert.equal(state.connection, 'incoming');
    assert.equal(state.started, true);
    assert.deepEqual(state.timers, { hold: 240_000 });
    assert.deepEqual(effects.map((e) => (e.type === 'send' ? `send:${e.message.kind}` : e.type === 'startTimer' ? `start:${e.timer}:${e.ms}` : e.type)), [
      'send:open',
      'start:hold:240000',
    ]);
    assert.notEqual(state.seed, main.seed);
  });
});

describe('resolveCollision', () => {
  // receiving = the connection the OPEN arrived on; other = the one already further along
  it('our identifier is higher: the connection we opened survives', () => {
    const mainOut = holding(LOCAL, 'outgoing', 'OpenConfirm', LOWER);
    assert.equal(resolveCollision(LOCAL, LOWER, second(LOCAL, mainOut, 'incoming'), mainOut), 'dumpReceiving');
    const mainIn = holding(LOCAL, 'incoming', 'OpenConfirm', LOWER);
    assert.equal(resolveCollision(LOCAL, LOWER, second(LOCAL, mainIn, 'outgoing'), mainIn), 'dumpOther');
  });

  it('the peer\'s identifier is higher: the connection it opened survives', () => {
    const mainOut = holding(LOCAL, 'outgoing', 'OpenConfirm', HIGHER);
    assert.equal(resolveCollision(LOCAL, HIGHER, second(LOCAL, mainOut, 'incoming'), mainOut), 'dumpOther');
    const mainIn = holding(LOCAL, 'incoming', 'OpenConfirm', HIGHER);
    assert.equal(resolveCollision(LOCAL, HIGHER, second(LOCAL, mainIn, 'outgoing'), mainIn), 'dumpReceiving');
  });

  it('compares identifiers as unsigned 32-bit numbers', () => {
    const config = { ...LOCAL, routerId: '200.0.0.1' }; // negative as an int32
    assert.equal(winningDirection(config, open('10.0.0.2')), 'outgoing');
    assert.equal(winningDirection({ ...LOCAL, routerId: '10.0.0.2' }, open('200.0.0.1')), 'incoming');
    assert.equal(winningDirection({ ...LOCAL, routerId: '255.255.255.255' }, open('127.255.255.255')), 'outgoing');
  });

  it('equal identifiers between ASes: the higher AS\'s connection survives (RFC 6286 §2.3)', () => {
    assert.equal(winningDirection(LOCAL, open('10.0.0.9', 65002)), 'incoming');
    assert.equal(winningDirection({ ...LOCAL, localAs: 65100, peerAs: 65002 }, open('10.0.0.9', 65002)), 'outgoing');
  });

  it('no collision while the other connection has not seen an OPEN', () => {
    const s = run(LOCAL, initialState(), { type: 'ManualStart' });
    const rcv = second(LOCAL, holding(LOCAL, 'outgoing', 'OpenSent', LOWER), 'incoming');
    assert.equal(resolveCollision(LOCAL, LOWER, rcv, s), 'none'); // Connect
    assert.equal(resolveCollision(LOCAL, LOWER, rcv, holding(LOCAL, 'outgoing', 'OpenSent', LOWER)), 'none');
    assert.equal(resolveCollision(LOCAL, LOWER, rcv, initialState()), 'none');
  });

  it('an OPEN that will be refused decides nothing', () => {
    const mainIn = holding(LOCAL, 'incoming', 'OpenConfirm', LOWER);
    assert.equal(resolveCollision(LOCAL, { ...LOWER, holdTime: 1 }, second(LOCAL, mainIn, 'outgoing'), mainIn), 'none');
  });

  it('against Established: the Established session wins by default, whatever the identifiers', () => {
    for (const peer of [LOWER, HIGHER]) {
      for (const d of ['outgoing', 'incoming'] as const) {
        const est = holding(LOCAL, d, 'Established', peer);
        const other: Direction = d === 'outgoing' ? 'incoming' : 'outgoing';
        assert.equal(resolveCollision(LOCAL, peer, second(LOCAL, est, other), est), 'dumpReceiving');
      }
    }
  });

  it('against Established with collisionDetectEstablishedState: the identifier rule', () => {
    const config = { ...LOCAL, collisionDetectEstablishedState: true };
    const estIn = holding(config, 'incoming', 'Established', LOWER);
    assert.equal(resolveCollision(config, LOWER, second(config, estIn, 'outgoing'), estIn), 'dumpOther');
    const estOut = holding(config, 'outgoing', 'Established', LOWER);
    assert.equal(resolveCollision(config, LOWER, second(config, estOut, 'incoming'), estOut), 'dumpReceiving');
  });

  it('against Established with graceful restart exchanged: the peer restarted, the new connection wins', () => {
    const gracefulRestart = { restartTime: 120, restarting: true, notification: false, families: [] };
    const config: FsmConfig = { ...LOCAL, capabilities: { gracefulRestart } };
    const peer: OpenMessage = { ...LOWER, capabilities: { ...LOWER.capabilities, gracefulRestart } };
    const est = holding(config, 'outgoing', 'Established', peer);
    assert.equal(resolveCollision(config, peer, second(config, est, 'incoming'), est), 'dumpOther');
    assert.equal(resolveCollision(config, peer, second(config, est, 'outgoing'), est), 'dumpOther');
    const out = step(config, est, { type: 'OpenCollisionDump' });
    assert.deepEqual(out.effects.find((e) => e.type === 'down'), {
      type: 'down',
      reason: 'collision',
      graceful: true,
      notification: { code: 6, subcode: 7, data: new Uint8Array(0) },
    });
  });

  it('against Established with graceful restart exchanged, a connection from before the session was up is an ordinary collision: Established wins', () => {
    // Both sides connected at once; the session came up on one connection while the peer's OPEN was
    // still on its way on the other. The peer (BIRD, FRR) sees its side Established too and dumps the
    // other connection: taking it for a restart would dump ours as well, and both would be lost.
    const gracefulRestart = { restartTime: 120, restarting: false, notification: true, families: [] };
    const config: FsmConfig = { ...LOCAL, capabilities: { gracefulRestart } };
    for (const peer of [LOWER, HIGHER].map((o): OpenMessage => ({ ...o, capabilities: { ...o.capabilities, gracefulRestart } }))) {
      for (const d of ['outgoing', 'incoming'] as const) {
        const pre = holding(config, d, 'OpenConfirm', peer);
        const sec = second(config, pre, d === 'outgoing' ? 'incoming' : 'outgoing'); // while the session was being set up
        const est = step(config, pre, { type: 'KeepAliveMsg' }).state;
        assert.equal(est.state, 'Established');
        assert.equal(resolveCollision(config, peer, sec, est), 'dumpReceiving', `${d}, peer ${peer.bgpId}`);
      }
    }
  });
});

describe('a collision, played out', () => {
  it('both connections complete; the loser sends Cease/Connection Collision Resolution and is finished', () => {
    // We (10.0.0.9) outrank the peer (10.0.0.2): our outgoing connection must survive.
    let main = run(LOCAL, initialState(), { type: 'ManualStart' }, { type: 'TcpConnectionConfirmed' }); // the peer's, first
    assert.equal(main.connection, 'incoming');
    assert.equal(connectionDisposition(main), 'second'); // then ours completes
    let sec = second(LOCAL, main, 'outgoing');
    // the OPEN on the incoming connection arrives first: nothing to compare yet
    assert.equal(resolveCollision(LOCAL, LOWER, main, sec), 'none');
    main = step(LOCAL, main, { type: 'BGPOpen', open: LOWER }).state;
    // the OPEN on our connection: it wins, the incoming one is dumped
    assert.equal(resolveCollision(LOCAL, LOWER, sec, main), 'dumpOther');
    const dumped = step(LOCAL, main, { type: 'OpenCollisionDump' });
    assert.deepEqual(
      dumped.effects.map((e) => e.type + (e.type === 'send' && e.message.kind === 'notification' ? `:${e.message.code}/${e.message.subcode}` : '')),
      ['stopTimer', 'stopTimer', 'send:6/7', 'close'],
    );
    assert.equal(dumped.state.state, 'Idle');
    assert.equal(dumped.state.started, false);
    assert.deepEqual(dumped.state.timers, {});
    sec = run(LOCAL, sec, { type: 'BGPOpen', open: LOWER }, { type: 'KeepAliveMsg' });
    assert.equal(sec.state, 'Established');
    assert.equal(sec.connection, 'outgoing');
  });

  it('both ends pick the same physical connection (property)', () => {
    const arbSpeaker = fc.record({ id: fc.integer({ min: 1, max: 0xffffffff }), as: fc.integer({ min: 1, max: 0xffffffff }) });
    fc.assert(
      fc.property(arbSpeaker, arbSpeaker, (a, b) => {
        fc.pre(a.id !== b.id || a.as !== b.as);
        const cfg = (me: typeof a, peer: typeof a): FsmConfig => ({ localAs: me.as, routerId: v4Format(me.id), peerAs: peer.as, holdTime: 90 });
        const fromA = winningDirection(cfg(a, b), open(v4Format(b.id), b.as));
        const fromB = winningDirection(cfg(b, a), open(v4Format(a.id), a.as));
        // a connection A opened is outgoing at A and incoming at B
        assert.ok(fromA !== undefined && fromB !== undefined);
        assert.notEqual(fromA, fromB);
      }),
      { numRuns: 2000 },
    );
  });
});
