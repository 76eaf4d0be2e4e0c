import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PeerTransition, type PeerProgress } from './transition.js';
import type { PlannedPeer } from '../routing/types.js';

const peer = (address: string, extra: Partial<PlannedPeer> = {}): PlannedPeer => ({
  address,
  asNumber: 64512,
  name: `Mesh_${address.replace(/\./g, '_')}`,
  type: 'Mesh',
  ...extra,
});
const keys = (ps: PlannedPeer[]) => ps.map((p) => p.address).sort();

function rig() {
  let now = 1000;
  const progress = new Map<string, PeerProgress>();
  const t = new PeerTransition({ now: () => now, maxWaitMs: 10_000, graceMs: 1000 });
  return {
    t,
    advance: (ms: number) => (now += ms),
    up: (addr: string) => progress.set(`${addr}|179`, { established: true, routesIn: true }),
    half: (addr: string) => progress.set(`${addr}|179`, { established: true, routesIn: false }),
    update: (ps: PlannedPeer[]) => t.update(ps, (k) => progress.get(k)),
  };
}

describe('make-before-break peer transitions', () => {
  it('the first configuration is applied as is', () => {
    const r = rig();
    const res = r.update([peer('10.0.0.2'), peer('10.0.0.3')]);
    assert.deepEqual(keys(res.peers), ['10.0.0.2', '10.0.0.3']);
    assert.equal(res.recheckMs, undefined);
  });

  it('a removed peer lingers until the peer added by the same change has delivered its routes', () => {
    const r = rig();
    r.update([peer('10.0.0.2')]);
    r.up('10.0.0.2');
    // mesh peer .2 replaced by a reflector .9
    let res = r.update([peer('10.0.0.9', { type: 'Node', name: 'Node_10_0_0_9' })]);
    assert.deepEqual(keys(res.peers), ['10.0.0.2', '10.0.0.9']);
    assert.deepEqual(res.lingering, ['10.0.0.2|179']);
    assert.ok(res.recheckMs !== undefined);
    r.advance(2000);
    r.half('10.0.0.9'); // Established but no End-of-RIB yet: keep waiting
    res = r.update([peer('10.0.0.9', { type: 'Node', name: 'Node_10_0_0_9' })]);
    assert.deepEqual(keys(res.peers), ['10.0.0.2', '10.0.0.9']);
    r.up('10.0.0.9');
    res = r.update([peer('10.0.0.9', { type: 'Node', name: 'Node_10_0_0_9' })]);
    assert.deepEqual(keys(res.peers), ['10.0.0.9']);
    assert.equal(res.recheckMs, undefined);
  });

  it('a removal shortly after an addition that is still coming up waits for it', () => {
    const r = rig();
    r.update([peer('10.0.0.2'), peer('10.0.0.3')]);
    r.up('10.0.0.2');
    r.up('10.0.0.3');
    r.update([peer('10.0.0.2'), peer('10.0.0.3'), peer('10.0.0.9')]); // reflector peering added
    r.advance(300);
    const res = r.update([peer('10.0.0.9')]); // then the mesh goes
    assert.deepEqual(keys(res.peers), ['10.0.0.2', '10.0.0.3', '10.0.0.9']);
    r.up('10.0.0.9');
    r.advance(100);
    assert.deepEqual(keys(r.update([peer('10.0.0.9')]).peers), ['10.0.0.9']);
  });

  it('a removal with nothing added waits only the grace period for an addition', () => {
    const r = rig();
    r.update([peer('10.0.0.2'), peer('10.0.0.3')]);
    let res = r.update([peer('10.0.0.3')]);
    assert.deepEqual(keys(res.peers), ['10.0.0.2', '10.0.0.3']);
    r.advance(999);
    assert.deepEqual(keys(r.update([peer('10.0.0.3')]).peers), ['10.0.0.2', '10.0.0.3']);
    r.advance(1);
    res = r.update([peer('10.0.0.3')]);
    assert.deepEqual(keys(res.peers), ['10.0.0.3']);
  });

  it('an addition within the grace period (mesh off first, reflector right after) is waited for', () => {
    const r = rig();
    r.update([peer('10.0.0.2')]);
    r.up('10.0.0.2');
    r.update([]); // mesh off
    r.advance(500);
    let res = r.update([peer('10.0.0.9')]);
    assert.deepEqual(keys(res.peers), ['10.0.0.2', '10.0.0.9']);
    r.advance(5000);
    res = r.update([peer('10.0.0.9')]);
    assert.deepEqual(keys(res.peers), ['10.0.0.2', '10.0.0.9'], 'still waiting for the reflector');
    r.up('10.0.0.9');
    assert.deepEqual(keys(r.update([peer('10.0.0.9')]).peers), ['10.0.0.9']);
  });

  it('the wait is bounded: a new peer that never comes up releases the old ones after maxWait', () => {
    const r = rig();
    r.update([peer('10.0.0.2')]);
    r.update([peer('10.0.0.9')]);
    r.advance(9999);
    assert.deepEqual(keys(r.update([peer('10.0.0.9')]).peers), ['10.0.0.2', '10.0.0.9']);
    r.advance(1);
    assert.deepEqual(keys(r.update([peer('10.0.0.9')]).peers), ['10.0.0.9']);
  });

  it('a peer removed and added back is not lingering and not reset', () => {
    const r = rig();
    const p = peer('10.0.0.2');
    r.update([p]);
    r.up('10.0.0.2');
    r.update([]);
    const res = r.update([p]);
    assert.deepEqual(res.lingering, []);
    assert.deepEqual(res.waitingFor, [], 'unchanged spec: nothing new to wait for');
  });

  it('a changed peer (same address) counts as new: removals wait for it to come back', () => {
    const r = rig();
    r.update([peer('10.0.0.2'), peer('10.0.0.3')]);
    r.up('10.0.0.2');
    r.up('10.0.0.3');
    const changed = peer('10.0.0.3', { routeReflectorClient: true });
    const res = r.update([peer('10.0.0.4'), changed]);
    assert.deepEqual(res.waitingFor.sort(), ['10.0.0.3|179', '10.0.0.4|179']);
    assert.deepEqual(keys(res.peers), ['10.0.0.2', '10.0.0.3', '10.0.0.4']);
  });
});
