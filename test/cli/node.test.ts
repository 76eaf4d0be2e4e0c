/**
 * `tortie node status` against a fake agent (a real unix socket in a temp dir serving a canned
 * AgentStatus), with calicoctl v3.32's layout (commands/node/status.go) and
 * olekukonko/tablewriter v0.0.5's tables. The wrapped tables were checked against tablewriter
 * v0.0.5 itself (Go).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { memoryIO } from '../../src/cli/io.js';
import { renderTable } from '../../src/cli/asciitable.js';
import { formatSince, peerAddress, renderNodeStatus, renderTablewriter } from '../../src/cli/commands/node.js';
import { AgentClientError, queryAgent } from '../../src/agent/status-client.js';
import type { AgentPeerStatus, AgentStatus } from '../../src/agent/status-types.js';

// SINCE is local time, as BIRD prints it.
process.env.TZ = 'UTC';

const T0 = Date.UTC(2024, 0, 2, 3, 4, 5); // long ago: BIRD prints the date

function peer(p: Partial<AgentPeerStatus> & Pick<AgentPeerStatus, 'name' | 'address'>): AgentPeerStatus {
  return {
    type: p.name.startsWith('Mesh_') ? 'Mesh' : p.name.startsWith('Node_') ? 'Node' : 'Global',
    port: 179,
    family: p.address.includes(':') ? 'ipv6' : 'ipv4',
    asNumber: 64512,
    state: 'up',
    bgpState: 'Established',
    since: T0,
    info: 'Established',
    prefixes: { received: 0, accepted: 0, advertised: 0 },
    ...p,
  };
}

function agentStatus(peers: AgentPeerStatus[], extra: Partial<AgentStatus> = {}): AgentStatus {
  return {
    node: 'node-1',
    version: 'v0.1.0',
    pid: 4242,
    startedAt: T0,
    bgp: { enabled: true, routerId: '172.17.8.101', asNumber: 64512, peers },
    routes: { bgp: 2, vxlan: 0, blackhole: 1 },
    warnings: [],
    ...extra,
  };
}

/** A fake agent: answers every request line with `answer(request)` (a raw line, or an object to JSON). */
class FakeAgent {
  readonly dir = mkdtempSync(join(tmpdir(), 'tortie-node-'));
  readonly requests: unknown[] = [];
  private server?: net.Server;
  answer: (req: unknown) => unknown = () => ({ ok: false, error: 'no status set' });

  async start(): Promise<void> {
    this.server = net.createServer((sock) => {
      let buf = '';
      sock.setEncoding('utf8');
      sock.on('data', (c: string) => {
        buf += c;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const req = JSON.parse(buf.slice(0, nl)) as unknown;
          buf = buf.slice(nl + 1);
          this.requests.push(req);
          const a = this.answer(req);
          if (a === undefined) continue; // never answer
          sock.write(typeof a === 'string' ? a : JSON.stringify(a) + '\n');
        }
      });
      sock.on('error', () => {});
    });
    await new Promise<void>((resolve) => this.server!.listen(join(this.dir, 'agent.sock'), resolve));
  }

  serve(st: AgentStatus): void {
    this.answer = () => ({ ok: true, result: st });
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
    rmSync(this.dir, { recursive: true, force: true });
  }
}

async function run(argv: string[], opts: { uid?: number; env?: NodeJS.ProcessEnv } = {}) {
  const io = memoryIO({ env: opts.env ?? {}, uid: () => opts.uid ?? 0 });
  const code = await main(argv, io);
  return { out: io.out(), err: io.err(), code };
}

const MESH_TWO = [
  '+--------------+-------------------+-------+------------+-------------+',
  '| PEER ADDRESS |     PEER TYPE     | STATE |   SINCE    |    INFO     |',
  '+--------------+-------------------+-------+------------+-------------+',
  '| 172.17.8.102 | node-to-node mesh | up    | 2024-01-02 | Established |',
  '| 172.17.8.103 | node-to-node mesh | up    | 2024-01-02 | Established |',
  '+--------------+-------------------+-------+------------+-------------+',
];

describe('tortie node status', () => {
  const agent = new FakeAgent();
  before(() => agent.start());
  after(() => agent.stop());

  it('two mesh peers up: calicoctl layout, asking the agent for its status', async () => {
    agent.serve(agentStatus([peer({ name: 'Mesh_172_17_8_102', address: '172.17.8.102' }), peer({ name: 'Mesh_172_17_8_103', address: '172.17.8.103' })]));
    const r = await run(['node', 'status', '--run-dir', agent.dir]);
    assert.equal(r.err, '');
    assert.equal(r.code, 0);
    assert.equal(r.out, ['tortie agent is running.', '', 'IPv4 BGP status', ...MESH_TWO, '', 'IPv6 BGP status', 'No IPv6 peers found.', '', ''].join('\n'));
    assert.deepEqual(agent.requests.at(-1), { cmd: 'status' });
  });

  it("the documented calicoctl example, state entered today (BIRD's %T)", () => {
    const since = Date.UTC(2024, 5, 1, 23, 30, 4);
    const st = agentStatus([peer({ name: 'Mesh_172_17_8_102', address: '172.17.8.102', since })]);
    assert.equal(
      renderNodeStatus(st, { now: since + 60_000 }),
      [
        'tortie agent is running.',
        '',
        'IPv4 BGP status',
        '+--------------+-------------------+-------+----------+-------------+',
        '| PEER ADDRESS |     PEER TYPE     | STATE |  SINCE   |    INFO     |',
        '+--------------+-------------------+-------+----------+-------------+',
        '| 172.17.8.102 | node-to-node mesh | up    | 23:30:04 | Established |',
        '+--------------+-------------------+-------+----------+-------------+',
        '',
        'IPv6 BGP status',
        'No IPv6 peers found.',
        '',
        '',
      ].join('\n'),
    );
  });

  it('a peer in start with a connect error: the 33-column INFO wraps as tablewriter wraps it', async () => {
    const since = Date.now() - 5_000;
    agent.serve(
      agentStatus([
        peer({ name: 'Node_10_0_0_9', address: '10.0.0.9', state: 'start', bgpState: 'Active', info: 'Active Socket: Connection refused', since }),
      ]),
    );
    const r = await run(['node', 'status', '--run-dir', agent.dir]);
    assert.equal(r.code, 0, r.err);
    const s = formatSince(since);
    assert.match(s, /^\d\d:\d\d:\d\d$/);
    assert.equal(
      r.out,
      [
        'tortie agent is running.',
        '',
        'IPv4 BGP status',
        '+--------------+---------------+-------+----------+--------------------------------+',
        '| PEER ADDRESS |   PEER TYPE   | STATE |  SINCE   |              INFO              |',
        '+--------------+---------------+-------+----------+--------------------------------+',
        `| 10.0.0.9     | node specific | start | ${s} | Active Socket: Connection      |`,
        '|              |               |       |          | refused                        |',
        '+--------------+---------------+-------+----------+--------------------------------+',
        '',
        'IPv6 BGP status',
        'No IPv6 peers found.',
        '',
        '',
      ].join('\n'),
    );
  });

  it('no peers at all', async () => {
    agent.serve(agentStatus([]));
    const r = await run(['node', 'status', '--run-dir', agent.dir]);
    assert.deepEqual(r, { out: 'tortie agent is running.\n\nIPv4 BGP status\nNo IPv4 peers found.\n\nIPv6 BGP status\nNo IPv6 peers found.\n\n', err: '', code: 0 });
  });

  it('IPv6 peers, a global peer and a peer on another port (the _port_N suffix leaks, as in calicoctl)', async () => {
    agent.serve(
      agentStatus([
        peer({ name: 'Node_10_0_0_9_port_1179', address: '10.0.0.9', port: 1179 }),
        peer({ name: 'Mesh_fd00__2', address: 'fd00::2' }),
        peer({ name: 'Global_2001_db8_1234_5678_9abc_def0_1_2_port_1179', address: '2001:db8:1234:5678:9abc:def0:1:2', port: 1179, state: 'start', bgpState: 'Connect', info: 'Connect' }),
      ]),
    );
    const r = await run(['node', 'status', '--run-dir', agent.dir]);
    assert.equal(r.code, 0, r.err);
    assert.equal(
      r.out,
      [
        'tortie agent is running.',
        '',
        'IPv4 BGP status',
        '+--------------------+---------------+-------+------------+-------------+',
        '|    PEER ADDRESS    |   PEER TYPE   | STATE |   SINCE    |    INFO     |',
        '+--------------------+---------------+-------+------------+-------------+',
        '| 10.0.0.9.port.1179 | node specific | up    | 2024-01-02 | Established |',
        '+--------------------+---------------+-------+------------+-------------+',
        '',
        'IPv6 BGP status',
        '+--------------------------------------------+-------------------+-------+------------+-------------+',
        '|                PEER ADDRESS                |     PEER TYPE     | STATE |   SINCE    |    INFO     |',
        '+--------------------------------------------+-------------------+-------+------------+-------------+',
        '| fd00::2                                    | node-to-node mesh | up    | 2024-01-02 | Established |',
        '| 2001:db8:1234:5678:9abc:def0:1:2:port:1179 | global            | start | 2024-01-02 | Connect     |',
        '+--------------------------------------------+-------------------+-------+------------+-------------+',
        '',
        '',
      ].join('\n'),
    );
  });

  it('-o json prints the agent status as sent (2-space indent)', async () => {
    const st = agentStatus([peer({ name: 'Mesh_172_17_8_102', address: '172.17.8.102' })], { lastConvergenceMs: 42 });
    agent.serve(st);
    const r = await run(['node', 'status', '--run-dir', agent.dir, '-o', 'json']);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, JSON.stringify(st, null, 2) + '\n');
    assert.deepEqual(JSON.parse(r.out), st);
  });

  it('-o wide adds RECEIVED, ADVERTISED and LAST ERROR (numbers right-aligned, long text wrapped)', async () => {
    agent.serve(
      agentStatus(
        [
          peer({ name: 'Mesh_172_17_8_102', address: '172.17.8.102', prefixes: { received: 12, accepted: 12, advertised: 3 } }),
          peer({
            name: 'Node_10_0_0_9',
            address: '10.0.0.9',
            state: 'start',
            bgpState: 'Active',
            info: 'Active Socket: Connection refused',
            lastError: 'Hold timer expired after ninety seconds of silence from the peer',
          }),
        ],
        { warnings: ['node-1 has no IPv6 address: IPv6 peers skipped'] },
      ),
    );
    const r = await run(['node', 'status', '--output=wide', '--run-dir', agent.dir]);
    assert.equal(r.code, 0, r.err);
    assert.equal(
      r.out,
      [
        'tortie agent is running.',
        '',
        'IPv4 BGP status',
        '+--------------+-------------------+-------+------------+--------------------------------+----------+------------+--------------------------------+',
        '| PEER ADDRESS |     PEER TYPE     | STATE |   SINCE    |              INFO              | RECEIVED | ADVERTISED |           LAST ERROR           |',
        '+--------------+-------------------+-------+------------+--------------------------------+----------+------------+--------------------------------+',
        '| 172.17.8.102 | node-to-node mesh | up    | 2024-01-02 | Established                    |       12 |          3 |                                |',
        '| 10.0.0.9     | node specific     | start | 2024-01-02 | Active Socket: Connection      |        0 |          0 | Hold timer expired after       |',
        '|              |                   |       |            | refused                        |          |            | ninety seconds of silence from |',
        '|              |                   |       |            |                                |          |            | the peer                       |',
        '+--------------+-------------------+-------+------------+--------------------------------+----------+------------+--------------------------------+',
        '',
        'IPv6 BGP status',
        'No IPv6 peers found.',
        '',
        'Warnings:',
        '  node-1 has no IPv6 address: IPv6 peers skipped',
        '',
        '',
      ].join('\n'),
    );
  });

  it('agent not running: no socket, or a socket nobody listens on', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'tortie-node-empty-'));
    try {
      assert.deepEqual(await run(['node', 'status', '--run-dir', empty]), { out: '', err: 'tortie agent is not running.\n', code: 1 });
      writeFileSync(join(empty, 'agent.sock'), ''); // not a socket: connect is refused
      assert.deepEqual(await run(['node', 'status', '--run-dir', empty]), { out: '', err: 'tortie agent is not running.\n', code: 1 });
      assert.deepEqual(await run(['node', 'status', '--run-dir', join(empty, 'missing')]), { out: '', err: 'tortie agent is not running.\n', code: 1 });
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('needs root (uid injected), unless TORTIE_SKIP_ROOT_CHECK=1', async () => {
    agent.serve(agentStatus([]));
    assert.deepEqual(await run(['node', 'status', '--run-dir', agent.dir], { uid: 1000 }), {
      out: '',
      err: 'Need super user privileges: Operation not permitted\n',
      code: 1,
    });
    const r = await run(['node', 'status', '--run-dir', agent.dir], { uid: 1000, env: { TORTIE_SKIP_ROOT_CHECK: '1' } });
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^tortie agent is running\.\n/);
  });

  it('an agent error, a bad answer and no answer are errors that say so', async () => {
    agent.answer = () => ({ ok: false, error: 'not ready: initial sync in progress' });
    assert.deepEqual(await run(['node', 'status', '--run-dir', agent.dir]), {
      out: '',
      err: 'Error querying the tortie agent: not ready: initial sync in progress\n',
      code: 1,
    });
    agent.answer = () => 'hello\n';
    const bad = await run(['node', 'status', '--run-dir', agent.dir]);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /^Error querying the tortie agent: the tortie agent at .* answered something that is not JSON\n$/);
    agent.answer = () => ({ ok: true, result: { node: 'x' } });
    assert.match((await run(['node', 'status', '--run-dir', agent.dir])).err, /without bgp\.peers/);
    agent.answer = () => undefined;
    await assert.rejects(queryAgent(agent.dir, { cmd: 'status' }, 100), (e: unknown) => e instanceof AgentClientError && e.code === 'TIMEOUT');
  });

  it('options: bad -o value, unknown option, extra argument, help', async () => {
    assert.deepEqual(await run(['node', 'status', '-o', 'yaml']), { out: '', err: "unrecognized output format 'yaml' (use wide or json)\n", code: 1 });
    assert.deepEqual(await run(['node', 'status', '--bogus']), {
      out: '',
      err: "invalid option: 'tortie node status --bogus'. Use flag '--help' to read about a specific subcommand\n",
      code: 1,
    });
    assert.equal((await run(['node', 'status', 'extra'])).code, 1);
    const help = await run(['node', 'status', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.out, /^Usage:\n {2}tortie node status \[--run-dir=<DIR>\] \[--output=<OUTPUT>\]/);
    const runHelp = await run(['node', 'run', '--name', 'n1', '--help']);
    assert.equal(runHelp.code, 0);
    assert.match(runHelp.out, /Usage:\n {2}tortie node run \[--name=<NAME>\]/);
    for (const argv of [['node'], ['node', '--help'], ['node', '-h']]) {
      const r = await run(argv);
      assert.equal(r.code, 0);
      assert.match(r.out, /^Usage:\n {2}tortie node <command> \[<args>\.\.\.\]\n\n {4}run .*\n {4}status /);
    }
  });

  it('the global --allow-version-mismatch is accepted (calicoctl does not check versions here)', async () => {
    agent.serve(agentStatus([]));
    assert.equal((await run(['--allow-version-mismatch', 'node', 'status', '--run-dir', agent.dir])).code, 0);
  });
});

describe('node status pieces', () => {
  it("SINCE is BIRD's default protocol timeformat: %T under 20 hours, else %F (local time)", () => {
    const t = Date.UTC(2024, 5, 1, 23, 30, 4);
    assert.equal(formatSince(t, t), '23:30:04');
    assert.equal(formatSince(t, t + 19 * 3600_000), '23:30:04'); // next day, still under 20 h
    assert.equal(formatSince(t, t + 20 * 3600_000 - 1), '23:30:04');
    assert.equal(formatSince(t, t + 20 * 3600_000), '2024-06-01');
    assert.equal(formatSince(t, t - 5_000), '23:30:04'); // clock went back: BIRD's delta < limit
  });

  it('peer address from the protocol name, as calicoctl derives it', () => {
    assert.equal(peerAddress({ name: 'Mesh_192_168_56_101', family: 'ipv4', address: '192.168.56.101' }), '192.168.56.101');
    assert.equal(peerAddress({ name: 'Mesh_fd80_24e2_f998_72d7__2', family: 'ipv6', address: 'fd80:24e2:f998:72d7::2' }), 'fd80:24e2:f998:72d7::2');
    assert.equal(peerAddress({ name: 'Node_10_0_0_9_port_1179', family: 'ipv4', address: '10.0.0.9' }), '10.0.0.9.port.1179');
    assert.equal(peerAddress({ name: 'custom', family: 'ipv4', address: '10.1.1.1' }), '10.1.1.1');
  });

  it('BGP disabled on the node', () => {
    const st = agentStatus([]);
    st.bgp.enabled = false;
    assert.equal(renderNodeStatus(st), 'tortie agent is running.\n\nBGP is disabled on this node.\n\n');
  });

  it('the tablewriter renderer agrees with asciitable.renderTable when nothing wraps', () => {
    const header = ['GROUPING', 'CIDR', 'IPS TOTAL', 'IPS IN USE', 'IPS FREE'];
    const rows = [
      ['IP Pool', '192.168.0.0/16', '65536', '5 (0%)', '65531 (100%)'],
      ['IP Pool', 'fd00::/48', '1.2089e+24', '2 (0%)', '1.2089e+24 (100%)'],
      ['Block', '192.168.3.0/26', '64', '5 (8%)', '59 (92%)'],
    ];
    assert.equal(renderTablewriter(header, rows), renderTable(header, rows));
  });

  it('tablewriter wrapping: at 30 columns, long words widen the column, lines reflow at the widest line', () => {
    assert.equal(
      renderTablewriter(['A'], [['one two three four five six seven eight'], ['x'.repeat(35)], ['a\nb'], ['ab\nc d']]),
      [
        '+-------------------------------------+',
        '|                  A                  |',
        '+-------------------------------------+',
        '| one two three four five six         |',
        '| seven eight                         |',
        '| xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx |',
        '| a                                   |',
        '| b                                   |',
        '| ab                                  |',
        '| c d                                 |',
        '+-------------------------------------+',
        '',
      ].join('\n'),
    );
  });
});
