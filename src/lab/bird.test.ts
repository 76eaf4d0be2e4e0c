import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { birdRoutes, birdSessions, parseBirdProtocols, parseBirdRoutes, protocolAddress, protocolName, renderBird2 } from './bird.js';
import type { LabRouter } from './topology.js';

const router: LabRouter = {
  name: 'core-switch',
  kind: 'bird2',
  asNumber: 64512,
  interfaces: [
    { segment: 'lan', address: '192.168.83.1' },
    { segment: 'dc', address: '10.1.0.1' },
  ],
  peers: [
    { host: 'k8s-test-master-1', address: '192.168.83.36', asNumber: 64512 },
    { address: '10.1.0.9', asNumber: 65001 },
  ],
  subnets: [{ name: 'vms', cidr: '192.168.82.0/24', prefixLength: 24, address: '192.168.82.1' }],
};
const segCidr = (seg: string) => ({ contains: (ip: string) => (seg === 'lan' ? ip.startsWith('192.168.83.') : ip.startsWith('10.1.0.')) });

describe('lab BIRD 2 config', () => {
  it('renders one protocol per peer: iBGP direct, local address on the peer\'s segment, kernel export, lab timers', () => {
    const c = renderBird2(router, 'seed-000', segCidr);
    assert.match(c, /^router id 192\.168\.83\.1;$/m);
    assert.match(c, /protocol kernel \{\n {2}ipv4 \{ import none; export all; \};\n {2}learn off;/);
    assert.match(c, /connect retry time 1;/);
    assert.match(c, /hold time 9;/);
    assert.ok(c.includes(`protocol bgp p_192_168_83_36 from lab_peer {
  local 192.168.83.1 as 64512;
  neighbor 192.168.83.36 as 64512;
  direct;
  ipv4 { import all; export none; };
}`));
    assert.ok(c.includes(`protocol bgp p_10_1_0_9 from lab_peer {
  local 10.1.0.1 as 64512;
  neighbor 10.1.0.9 as 65001;
  ipv4 { import all; export none; };
}`), 'eBGP: no direct, the local address on the dc segment');
    assert.equal(protocolName('10.0.0.1'), 'p_10_0_0_1');
    assert.equal(protocolAddress('p_10_0_0_1'), '10.0.0.1');
    assert.equal(protocolAddress('static1'), undefined);
    assert.doesNotMatch(c, /protocol static/);
    const s = renderBird2({ ...router, staticRoutes: [{ cidr: '10.20.0.0/16', via: '192.168.83.36' }] }, 'seed-004', segCidr);
    assert.ok(s.includes('protocol static {\n  ipv4;\n  route 10.20.0.0/16 via 192.168.83.36;\n}'), s);
  });
});

describe('birdc output', () => {
  it('show protocols: BGP rows with state and info', () => {
    const text = `BIRD 2.0.12 ready.
Name       Proto      Table      State  Since         Info
device1    Device     ---        up     15:11:04.123  
kernel1    Kernel     master4    up     15:11:04.123  
p_192_168_83_36 BGP        ---        up     15:11:06.456  Established   
p_192_168_83_49 BGP        ---        start  2026-11-20 15:11:04  Active        Socket: Connection refused
`;
    assert.deepEqual(parseBirdProtocols(text), [
      { name: 'p_192_168_83_36', state: 'up', since: '15:11:06.456', info: 'Established', established: true },
      { name: 'p_192_168_83_49', state: 'start', since: '2026-11-20 15:11:04', info: 'Active Socket: Connection refused', established: false },
    ]);
    // The lab's common rows (router.ts), keyed by the neighbour's address.
    assert.deepEqual(birdSessions(text), [
      { address: '192.168.83.36', state: 'up', info: 'Established', established: true },
      { address: '192.168.83.49', state: 'start', info: 'Active Socket: Connection refused', established: false },
    ]);
  });

  it('show route: prefixes, protocols, next hops, several routes per prefix', () => {
    const text = `BIRD 2.0.12 ready.
Table master4:
172.15.12.0/26       unicast [p_192_168_83_36 15:11:07.000] * (100) [i]
	via 192.168.83.22 on eth0
                     unicast [p_192_168_83_49 15:11:07.100] (100) [i]
	via 192.168.83.22 on eth0
172.16.0.0/16        unicast [p_192_168_83_36 15:11:07.000] * (100) [i]
	via 192.168.83.36 on eth0
`;
    assert.deepEqual(parseBirdRoutes(text), [
      { prefix: '172.15.12.0/26', protocol: 'p_192_168_83_36', best: true, nextHop: '192.168.83.22' },
      { prefix: '172.15.12.0/26', protocol: 'p_192_168_83_49', best: false, nextHop: '192.168.83.22' },
      { prefix: '172.16.0.0/16', protocol: 'p_192_168_83_36', best: true, nextHop: '192.168.83.36' },
    ]);
    assert.deepEqual(birdRoutes(text + '10.20.0.0/16         unicast [static1 15:11:04.123] * (200)\n\tvia 192.168.83.13 on eth0\n'), [
      { prefix: '172.15.12.0/26', from: '192.168.83.36', best: true, nextHop: '192.168.83.22' },
      { prefix: '172.15.12.0/26', from: '192.168.83.49', best: false, nextHop: '192.168.83.22' },
      { prefix: '172.16.0.0/16', from: '192.168.83.36', best: true, nextHop: '192.168.83.36' },
      { prefix: '10.20.0.0/16', from: 'static1', best: true, nextHop: '192.168.83.13' },
    ]);
  });
});
