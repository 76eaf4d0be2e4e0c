import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { wakeFileName, wakeTopics } from './wake.js';

const BLOCK = '/calico/ipam/v2/assignment/ipv4/block/10.0.0.0-26';
const block = (affinity: string | null, nodes: (string | null)[] = []) =>
  JSON.stringify({
    cidr: '10.0.0.0/26',
    affinity,
    allocations: nodes.map((_, i) => i),
    attributes: nodes.map((n) => ({ handle_id: 'h', secondary: n === null ? null : { node: n } })),
  });

describe('wake topics of a change', () => {
  it('routing resources, other resources, handles and unknown keys', () => {
    assert.deepEqual(wakeTopics('/calico/resources/v3/projectcalico.org/bgppeers/p', undefined, '{}'), ['routing']);
    assert.deepEqual(wakeTopics('/calico/resources/v3/projectcalico.org/somenewkinds/x', undefined, '{}'), ['routing']);
    assert.deepEqual(wakeTopics('/calico/resources/v3/projectcalico.org/caliconodestatuses/s', '{}', '{}'), ['other']);
    assert.deepEqual(wakeTopics('/calico/ipam/v2/handle/k8s-pod-network.c', undefined, '{}'), ['other']);
    assert.deepEqual(wakeTopics('/calico/ipam/v2/config', undefined, '{}'), ['routing']);
    assert.deepEqual(wakeTopics('/calico/felix/v2/whatever', undefined, '{}'), ['routing']);
  });
  it("affinities wake their node's topic; virtual ones nobody's", () => {
    assert.deepEqual(wakeTopics('/calico/ipam/v2/host/node-1.example/ipv4/block/10.0.0.0-26', undefined, '{}'), ['node.node-1.example']);
    assert.deepEqual(wakeTopics('/calico/ipam/v2/virtual/x/ipv4/block/10.0.0.0-26', undefined, '{}'), ['other']);
  });
  it('blocks: the owner and the holders before and after, and `blocks` when owner or borrowed addresses change', () => {
    assert.deepEqual(wakeTopics(BLOCK, undefined, block('host:a')).sort(), ['blocks', 'node.a']);
    assert.deepEqual(wakeTopics(BLOCK, block('host:a'), block('host:a', ['a'])), ['node.a']);
    assert.deepEqual(wakeTopics(BLOCK, block('host:a', ['a']), block('host:a', ['a', 'b'])).sort(), ['blocks', 'node.a', 'node.b']);
    assert.deepEqual(wakeTopics(BLOCK, block('host:a', ['b']), undefined).sort(), ['blocks', 'node.a', 'node.b']);
    assert.deepEqual(wakeTopics(BLOCK, block(null), block(null)), ['other']);
  });
  it('a block that cannot be read wakes everyone who routes (the full read judges it); odd shapes do not throw', () => {
    assert.deepEqual(wakeTopics(BLOCK, 'not json', block('host:a')), ['routing']);
    assert.deepEqual(wakeTopics(BLOCK, undefined, 'null'), ['routing']);
    assert.deepEqual(wakeTopics(BLOCK, undefined, '{"affinity":7,"allocations":"x","attributes":{}}'), ['blocks']);
    assert.deepEqual(wakeTopics(BLOCK, undefined, '{"affinity":"host:a","allocations":[0,5],"attributes":[null]}').sort(), ['blocks', 'node.a']);
  });
  it('file names: the topic itself when it is a plain name, a digest otherwise', () => {
    assert.equal(wakeFileName('node.a-1'), 'node.a-1');
    assert.match(wakeFileName('node.' + 'x'.repeat(250)), /^~[0-9a-f]{64}$/);
    assert.match(wakeFileName('node.a/b'), /^~[0-9a-f]{64}$/);
    assert.match(wakeFileName('..'), /^~[0-9a-f]{64}$/);
    assert.notEqual(wakeFileName('node.a/b'), wakeFileName('node.a/c'));
  });
});
