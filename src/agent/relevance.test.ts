import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { eventRelevant, vxlanInUse } from './relevance.js';
import type { WatchEvent } from '../datastore/watcher.js';

const BLOCK_KEY = '/calico/ipam/v2/assignment/ipv4/block/10.0.0.0-26';
/** A block JSON: `allocs` maps ordinal → node. */
function block(affinity: string | null, allocs: Record<number, string> = {}): string {
  const allocations: (number | null)[] = Array.from({ length: 64 }, () => null);
  const attributes: { handle_id: string; secondary: { node: string } }[] = [];
  for (const [ord, node] of Object.entries(allocs)) {
    allocations[Number(ord)] = attributes.length;
    attributes.push({ handle_id: `h${ord}`, secondary: { node } });
  }
  return JSON.stringify({ cidr: '10.0.0.0/26', affinity, allocations, unallocated: [], attributes, sequenceNumber: 1, deleted: false });
}
const ev = (key: string, old?: string, now?: string): WatchEvent => ({ type: old === undefined ? 'added' : now === undefined ? 'deleted' : 'modified', key, ...(old !== undefined ? { old } : {}), ...(now !== undefined ? { new: now } : {}), revision: '9' });

describe('which datastore changes wake the agent of node a', () => {
  const bgp = { node: 'a', vxlan: false };
  const vx = { node: 'a', vxlan: true };
  const cases: [string, WatchEvent, boolean, boolean][] = [
    // [what, event, relevant without VXLAN, relevant with VXLAN]
    ['a BGPPeer', ev('/calico/resources/v3/projectcalico.org/bgppeers/p1', undefined, '{}'), true, true],
    ['an IPPool', ev('/calico/resources/v3/projectcalico.org/ippools/p', '{}', '{}'), true, true],
    ['a Node', ev('/calico/resources/v3/projectcalico.org/nodes/b', '{}', '{}'), true, true],
    ['a status report', ev('/calico/resources/v3/projectcalico.org/caliconodestatuses/s', '{}', '{}'), false, false],
    ['a workload endpoint', ev('/calico/resources/v3/projectcalico.org/workloadendpoints/ns/w', undefined, '{}'), false, false],
    ['an IPAM handle', ev('/calico/ipam/v2/handle/k8s-pod-network.c1', undefined, '{}'), false, false],
    ['our affinity', ev('/calico/ipam/v2/host/a/ipv4/block/10.0.0.0-26', undefined, '{"state":"pending"}'), true, true],
    ["another node's affinity", ev('/calico/ipam/v2/host/b/ipv4/block/10.0.0.0-26', undefined, '{"state":"pending"}'), false, false],
    ['our new block', ev(BLOCK_KEY, undefined, block('host:a')), true, true],
    ['a pod in our block', ev(BLOCK_KEY, block('host:a'), block('host:a', { 1: 'a' })), true, true],
    ["another node's new block", ev(BLOCK_KEY, undefined, block('host:b')), false, true],
    ["a pod in another node's block", ev(BLOCK_KEY, block('host:b', { 1: 'b' }), block('host:b', { 1: 'b', 2: 'b' })), false, false],
    ["an address we borrow from b's block", ev(BLOCK_KEY, block('host:b', { 1: 'b' }), block('host:b', { 1: 'b', 2: 'a' })), true, true],
    ['our borrowed address released', ev(BLOCK_KEY, block('host:b', { 2: 'a' }), block('host:b')), true, true],
    ["c borrows from b's block", ev(BLOCK_KEY, block('host:b'), block('host:b', { 3: 'c' })), false, true],
    ["b's block released", ev(BLOCK_KEY, block('host:b'), undefined), false, true],
    ['our block taken over by b', ev(BLOCK_KEY, block('host:a'), block('host:b')), true, true],
    ['the IPAM configuration', ev('/calico/ipam/v2/config', undefined, '{}'), true, true],
  ];
  for (const [what, e, inBgp, inVxlan] of cases) {
    it(`${what}: ${inBgp ? 'wakes' : 'ignored'} (BGP), ${inVxlan ? 'wakes' : 'ignored'} (VXLAN)`, () => {
      assert.equal(eventRelevant(e, bgp), inBgp);
      assert.equal(eventRelevant(e, vx), inVxlan);
    });
  }
  it("the topics its writer recorded decide, when the event carries them (SQLite: its 'old' may be older than the change)", () => {
    // The values alone would say "b's block, nothing to do with a"; the writer saw a hold an address before.
    const e = { ...ev(BLOCK_KEY, block('host:b'), block('host:b', { 1: 'b' })), topics: ['node.b', 'node.a'] };
    assert.equal(eventRelevant(e, bgp), true);
    assert.equal(eventRelevant({ ...e, topics: ['node.b'] }, bgp), false);
    assert.equal(eventRelevant({ ...ev(BLOCK_KEY, undefined, block('host:a')), topics: ['other'] }, bgp), false);
  });
  it('an unreadable block is looked at (the full read decides)', () => {
    assert.equal(eventRelevant(ev(BLOCK_KEY, 'not json', 'not json either'), vx), true);
  });
  it('VXLAN in use: a VXLAN pool, or Felix forcing it', () => {
    assert.equal(vxlanInUse([{ spec: { vxlanMode: 'Never' } }]), false);
    assert.equal(vxlanInUse([{ spec: { vxlanMode: 'CrossSubnet' } }]), true);
    assert.equal(vxlanInUse([], [{ spec: { vxlanEnabled: true } }]), true);
  });
});
