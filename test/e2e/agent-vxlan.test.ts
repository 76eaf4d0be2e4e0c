/**
 * Agent acceptance 4 (issue 5; seed 001): VXLAN. Hosts on two subnets joined by a router
 * namespace: host-a and host-b on 10.47.1.0/24, host-c on 10.47.2.0/24.
 *  - Always: `vxlan.calico` (VNI 4096, port 4789, the node's VTEP MAC), a permanent neighbour and
 *    FDB entry per remote VTEP, block routes `via <remote tunnel IP> dev vxlan.calico onlink`;
 *    pods ping across both subnets.
 *  - CrossSubnet: same-subnet blocks go `via <node IP> dev eth0`, the other subnet stays on VXLAN.
 *  - Never: the device, its neighbours/FDB and every VXLAN route are gone; same-subnet traffic
 *    goes over plain BGP routes.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AgentLab, type LabHost } from '../helpers/agent-lab.js';
import { cleanupAll, skipReason, waitFor } from '../helpers/netns.js';
import { vxlanMac } from '../../src/routing/index.js';

const skip = skipReason();

const pool = (mode: string) => `apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: pool-vx
spec:
  cidr: 10.249.0.0/16
  blockSize: 26
  ipipMode: Never
  vxlanMode: ${mode}
  natOutgoing: false
`;

interface NodeInfo {
  name: string;
  ip: string;
  tunnel?: string;
  blocks: string[];
}

describe('agent: VXLAN Always and CrossSubnet across two subnets', { skip, timeout: 240_000 }, () => {
  after(() => cleanupAll());

  it('programs devices, neighbours, FDB and routes as specified; mode switches leave nothing stale', async () => {
    const lab = await AgentLab.create('vx', [
      { name: 'host-a', cidr: '10.47.1.1/24', segment: 's1' },
      { name: 'host-b', cidr: '10.47.1.2/24', segment: 's1' },
      { name: 'host-c', cidr: '10.47.2.1/24', segment: 's2' },
    ]);
    try {
      await lab.apply(pool('Always'));
      for (const h of lab.hosts) lab.startAgent(h, ['--metrics-port', '0']);
      for (const h of lab.hosts) await lab.waitEstablished(h, 2);
      const pods = { a: await lab.addPod('host-a', 'va'), b: await lab.addPod('host-b', 'vb'), c: await lab.addPod('host-c', 'vc') };

      const nodes = async (): Promise<Map<string, NodeInfo>> => {
        const client = await lab.datastore();
        const out = new Map<string, NodeInfo>();
        for (const n of (await client.list('Node')).items) {
          const spec = n.spec as { bgp?: { ipv4Address?: string }; ipv4VXLANTunnelAddr?: string };
          const info: NodeInfo = { name: n.metadata.name!, ip: spec.bgp!.ipv4Address!.split('/')[0]!, blocks: [] };
          if (spec.ipv4VXLANTunnelAddr) info.tunnel = spec.ipv4VXLANTunnelAddr;
          out.set(info.name, info);
        }
        for (const p of (await client.kv.list('/calico/ipam/v2/assignment/ipv4/block/')).pairs) {
          const b = JSON.parse(p.value) as { cidr: string; affinity: string };
          out.get(b.affinity.replace('host:', ''))?.blocks.push(b.cidr);
        }
        return out;
      };
      const vxlanLink = (h: LabHost) => {
        const links = JSON.parse(h.ns.ip('-d', '-j', 'link', 'show')) as { ifname: string; address: string; linkinfo?: { info_kind: string; info_data?: { id: number; port: number } } }[];
        return links.find((l) => l.ifname === 'vxlan.calico');
      };

      // --- Always ------------------------------------------------------------------------
      await waitFor(async () => [...(await nodes()).values()].every((n) => n.tunnel), 20_000, { what: 'VXLAN tunnel addresses' });
      const info = await nodes();
      for (const h of lab.hosts) {
        const me = info.get(h.name)!;
        await waitFor(() => vxlanLink(h), 20_000, { what: `vxlan.calico on ${h.name}` });
        const link = vxlanLink(h)!;
        assert.equal(link.linkinfo?.info_kind, 'vxlan');
        assert.equal(link.linkinfo?.info_data?.id, 4096);
        assert.equal(link.linkinfo?.info_data?.port, 4789);
        assert.equal(link.address, vxlanMac(h.name));
        assert.match(h.ns.ip('-4', 'addr', 'show', 'dev', 'vxlan.calico'), new RegExp(`inet ${me.tunnel!.replace(/\./g, '\\.')}/32`));
        for (const other of info.values()) {
          if (other.name === h.name) continue;
          const mac = vxlanMac(other.name);
          await waitFor(() => h.ns.ip('neigh', 'show', 'dev', 'vxlan.calico').includes(`${other.tunnel} lladdr ${mac} PERMANENT`), 10_000, {
            what: `neighbour ${other.tunnel} on ${h.name}: ${h.ns.ip('neigh', 'show', 'dev', 'vxlan.calico')}`,
          });
          assert.match(h.ns.exec(['bridge', 'fdb', 'show', 'dev', 'vxlan.calico']).stdout, new RegExp(`${mac} dst ${other.ip.replace(/\./g, '\\.')} self permanent`));
          for (const b of other.blocks) {
            await waitFor(
              () => lab.routes(h).some((r) => r.dst === b && r.gateway === other.tunnel && r.dev === 'vxlan.calico' && (r.flags ?? []).includes('onlink')),
              10_000,
              { what: `${b} via ${other.tunnel} dev vxlan.calico onlink on ${h.name}: ${JSON.stringify(lab.routes(h))}` },
            );
          }
        }
      }
      await lab.waitPing(pods.a, pods.b.ip);
      await lab.waitPing(pods.a, pods.c.ip);
      await lab.waitPing(pods.c, pods.b.ip);

      // --- CrossSubnet ---------------------------------------------------------------------
      await lab.apply(pool('CrossSubnet'));
      const a = lab.host('host-a');
      const bBlocks = info.get('host-b')!.blocks;
      const cInfo = info.get('host-c')!;
      await waitFor(() => bBlocks.every((b) => lab.routes(a).some((r) => r.dst === b && r.gateway === '10.47.1.2' && r.dev === 'eth0')), 15_000, {
        what: `same-subnet route to host-b's blocks via eth0: ${JSON.stringify(lab.routes(a))}`,
      });
      assert.ok(cInfo.blocks.every((b) => lab.routes(a).some((r) => r.dst === b && r.gateway === cInfo.tunnel && r.dev === 'vxlan.calico')), 'other subnet still on VXLAN');
      await lab.waitPing(pods.a, pods.b.ip);
      await lab.waitPing(pods.a, pods.c.ip);

      // --- Never ---------------------------------------------------------------------------
      await lab.apply(pool('Never'));
      for (const h of lab.hosts) {
        await waitFor(() => !vxlanLink(h), 15_000, { what: `vxlan.calico gone on ${h.name}` });
        assert.ok(!lab.routes(h).some((r) => r.dev === 'vxlan.calico'), 'no route left on the device');
      }
      await waitFor(async () => [...(await nodes()).values()].every((n) => !n.tunnel), 15_000, { what: 'tunnel addresses released' });
      await waitFor(() => bBlocks.every((b) => lab.routes(a).some((r) => r.dst === b && r.gateway === '10.47.1.2' && r.protocol === '93')), 15_000, {
        what: 'BGP route to host-b',
      });
      await lab.waitPing(pods.a, pods.b.ip);
    } finally {
      await lab.close();
    }
  });
});
