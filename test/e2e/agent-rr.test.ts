/**
 * Agent acceptance 2 (issue 5; seed 002): moving a running mesh to a route reflector.
 *  - tortie's order — reflector peerings first (label a host, set its routeReflectorClusterID, add
 *    the selector BGPPeer), then the mesh off: sessions re-form (the reflector has two clients,
 *    the clients one peer each) and a continuous ping between pods on the two other hosts loses
 *    nothing through the whole change (make-before-break);
 *  - the seed's order — mesh off first: no peers ("No IPv4 peers found."), a warning naming the
 *    host, pods cut off; configuring the reflector brings the traffic back.
 */
import { after, afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AgentLab } from '../helpers/agent-lab.js';
import { cleanupAll, skipReason, sleep, waitFor } from '../helpers/netns.js';
import { main } from '../../src/cli/main.js';
import { memoryIO } from '../../src/cli/io.js';
import { meshOff, PEER_WITH_ROUTE_REFLECTORS as RR_PEER } from '../fixtures/seed-yaml.js';

const skip = skipReason();

const POOL = `apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: pool-rr
spec:
  cidr: 10.246.0.0/16
  blockSize: 26
  natOutgoing: false
`;
const MESH_OFF = meshOff(64512);

async function makeReflector(lab: AgentLab, host: string): Promise<void> {
  await lab.tortie(['label', 'nodes', host, 'route-reflector=true']);
  await lab.tortie(['patch', 'node', host, '-p', '{"spec":{"bgp":{"routeReflectorClusterID":"244.0.0.1"}}}']);
}

async function cluster(tag: string, net: number): Promise<AgentLab> {
  const lab = await AgentLab.create(tag, [
    { name: 'host-a', cidr: `10.${net}.0.1/24` },
    { name: 'host-b', cidr: `10.${net}.0.2/24` },
    { name: 'host-c', cidr: `10.${net}.0.3/24` },
  ]);
  await lab.apply(POOL);
  for (const h of lab.hosts) lab.startAgent(h, ['--metrics-port', '0']);
  for (const h of lab.hosts) await lab.waitEstablished(h, 2);
  return lab;
}

const peerNames = async (lab: AgentLab, host: string) =>
  (await lab.status(lab.host(host))).bgp.peers
    .filter((p) => p.bgpState === 'Established')
    .map((p) => p.name)
    .sort();

describe('agent: mesh to route reflector', { skip, timeout: 240_000 }, () => {
  let lab: AgentLab | undefined;
  afterEach(async () => {
    await lab?.close();
    await cleanupAll();
    lab = undefined;
  });
  after(() => cleanupAll());

  it('reflector first, then mesh off: sessions re-form and a continuous ping loses nothing', async () => {
    lab = await cluster('rr1', 42);
    const pa = await lab.addPod('host-a', 'r1a');
    const pb = await lab.addPod('host-b', 'r1b');
    await lab.waitPing(pa, pb.ip);
    const ping = lab.continuousPing(pa, pb.ip, 10);
    await sleep(500);

    await makeReflector(lab, 'host-c');
    await lab.apply(RR_PEER);
    // The reflector's clients are up before the mesh goes.
    await waitFor(async () => (await peerNames(lab!, 'host-c')).join() === 'Node_10_42_0_1,Node_10_42_0_2', 20_000, { what: 'reflector clients' });
    await waitFor(async () => (await peerNames(lab!, 'host-a')).includes('Node_10_42_0_3'), 20_000, { what: 'host-a peering with the reflector' });
    await lab.apply(MESH_OFF);
    await waitFor(
      async () =>
        (await peerNames(lab!, 'host-a')).join() === 'Node_10_42_0_3' &&
        (await peerNames(lab!, 'host-b')).join() === 'Node_10_42_0_3' &&
        (await lab!.status(lab!.host('host-a'))).bgp.peers.length === 1,
      30_000,
      { what: 'clients with one peer each (the reflector)' },
    );
    await sleep(1000);
    const r = await ping.stop();
    assert.ok(r.sent > 100, `ping ran (${r.sent} sent)`);
    assert.equal(r.lost, 0, `lost ${r.lost} of ${r.sent}: icmp_seq ${r.missing.slice(0, 20).join(',')}`);
    // The reflector reflects: host-a learned host-b's block with host-b as next hop.
    const routes = lab.routes(lab.host('host-a'));
    assert.ok(routes.some((x) => x.gateway === '10.42.0.2' && x.protocol === '93'), JSON.stringify(routes));
    const rrStatus = await lab.status(lab.host('host-c'));
    assert.equal(rrStatus.bgp.clusterId, '244.0.0.1');
  });

  it("the seed's order (mesh off first) cuts pods off with a warning, and the reflector brings them back", async () => {
    lab = await cluster('rr2', 43);
    const pa = await lab.addPod('host-a', 'r2a');
    const pb = await lab.addPod('host-b', 'r2b');
    await lab.waitPing(pa, pb.ip);
    await lab.apply(MESH_OFF);
    await waitFor(async () => (await lab!.status(lab!.host('host-a'))).bgp.peers.length === 0, 20_000, { what: 'no peers on host-a' });
    const io = memoryIO({ env: lab.env });
    assert.equal(await main(['node', 'status', '--run-dir', lab.host('host-a').runDir], io), 0, io.err());
    assert.match(io.out(), /IPv4 BGP status\nNo IPv4 peers found\./);
    await waitFor(() => /"level":"warning","msg":"node host-a has no BGP peers/.test(lab!.log(lab!.host('host-a'))), 10_000, { what: 'the no-peers warning' });
    // Routes learned from the mesh are gone: the pods are cut off.
    await waitFor(async () => !(await lab!.ping(pa, pb.ip, 1)), 20_000, { what: 'pods cut off' });

    await makeReflector(lab, 'host-c');
    await lab.apply(RR_PEER);
    await lab.waitPing(pa, pb.ip, 20_000);
  });
});
