import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { agentMetrics, CONTENT_TYPE, CONVERGENCE_BUCKETS, Registry, serveMetrics } from './metrics.js';

function get(port: number, path: string, method = 'GET'): Promise<{ status: number; type: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('metrics registry', () => {
  it('renders the text exposition format 0.0.4 exactly', () => {
    const r = new Registry();
    const c = r.counter({ name: 'demo_events_total', help: 'Events seen.' });
    const g = r.gauge({ name: 'demo_peers', help: 'Peers by state,\nwith a \\ in the help.', labelNames: ['state', 'family'] });
    const h = r.histogram({ name: 'demo_seconds', help: 'Latency.', buckets: [0.1, 1, 2.5] });
    r.gauge({ name: 'demo_unused', help: 'A labelled family with no series is left out.', labelNames: ['x'] });
    c.inc();
    c.inc(2);
    g.set({ state: 'up', family: 'ipv4' }, 3);
    g.set({ family: 'ipv6', state: 'start' }, 1);
    g.set({ state: 'odd "one"\\\n', family: 'ipv4' }, -0.5);
    h.observe(0.05);
    h.observe(1);
    h.observe(7);
    assert.equal(
      r.render(),
      [
        '# HELP demo_events_total Events seen.',
        '# TYPE demo_events_total counter',
        'demo_events_total 3',
        '# HELP demo_peers Peers by state,\\nwith a \\\\ in the help.',
        '# TYPE demo_peers gauge',
        'demo_peers{state="odd \\"one\\"\\\\\\n",family="ipv4"} -0.5',
        'demo_peers{state="start",family="ipv6"} 1',
        'demo_peers{state="up",family="ipv4"} 3',
        '# HELP demo_seconds Latency.',
        '# TYPE demo_seconds histogram',
        'demo_seconds_bucket{le="0.1"} 1',
        'demo_seconds_bucket{le="1"} 2',
        'demo_seconds_bucket{le="2.5"} 2',
        'demo_seconds_bucket{le="+Inf"} 3',
        'demo_seconds_sum 8.05',
        'demo_seconds_count 3',
        '',
      ].join('\n'),
    );
  });

  it('histogram buckets count v <= le, cumulatively, per label set', () => {
    const r = new Registry();
    const h = r.histogram({ name: 'h', help: 'h', buckets: [1, 2, 5], labelNames: ['op'] });
    for (const v of [0, 1, 1.0001, 2, 4.9, 5, 5.1, 100]) h.observe({ op: 'a' }, v);
    h.observe({ op: 'b' }, 3);
    assert.deepEqual(h.cumulative({ op: 'a' }), [
      { le: 1, count: 2 },
      { le: 2, count: 4 },
      { le: 5, count: 6 },
      { le: Infinity, count: 8 },
    ]);
    const text = r.render();
    assert.match(text, /^h_bucket\{op="a",le="\+Inf"\} 8$/m);
    assert.match(text, /^h_bucket\{op="b",le="2"\} 0$/m);
    assert.match(text, /^h_bucket\{op="b",le="5"\} 1$/m);
    assert.match(text, /^h_count\{op="b"\} 1$/m);
    assert.match(text, /^h_sum\{op="a"\} 119\.0001$/m);
  });

  it('refuses bad names, wrong labels, duplicate metrics, decreasing counters and bad buckets', () => {
    const r = new Registry();
    assert.throws(() => r.counter({ name: 'bad-name', help: '' }));
    assert.throws(() => r.gauge({ name: 'g', help: '', labelNames: ['__x'] }));
    assert.throws(() => r.histogram({ name: 'h', help: '', buckets: [1], labelNames: ['le'] }));
    assert.throws(() => r.histogram({ name: 'h2', help: '', buckets: [2, 1] }));
    const c = r.counter({ name: 'c_total', help: '', labelNames: ['result'] });
    assert.throws(() => r.counter({ name: 'c_total', help: '' }), /already registered/);
    assert.throws(() => c.inc({ result: 'ok' }, -1), /only goes up/);
    assert.throws(() => c.inc({}), /labels must be exactly/);
    assert.throws(() => c.inc({ result: 'ok', extra: 'x' }), /labels must be exactly/);
  });

  it('the agent metrics: names, types, all label values present from the start', () => {
    const m = agentMetrics();
    m.setPeerStates([{ bgpState: 'Established' }, { bgpState: 'Established' }, { bgpState: 'Active' }]);
    m.setRoutes({ bgp: 4, blackhole: 1 });
    m.datastoreEvents.inc(5);
    m.dataplaneApply.inc({ result: 'ok' });
    m.convergence.observe(0.03);
    const text = m.registry.render();
    assert.match(text, /^# TYPE tortie_bgp_peers gauge$/m);
    assert.match(text, /^tortie_bgp_peers\{state="Established"\} 2$/m);
    assert.match(text, /^tortie_bgp_peers\{state="Active"\} 1$/m);
    assert.match(text, /^tortie_bgp_peers\{state="Idle"\} 0$/m);
    assert.match(text, /^tortie_routes\{source="bgp"\} 4$/m);
    assert.match(text, /^tortie_routes\{source="originated"\} 0$/m);
    assert.match(text, /^# TYPE tortie_convergence_seconds histogram$/m);
    assert.match(text, /^tortie_convergence_seconds_bucket\{le="0.025"\} 0$/m);
    assert.match(text, /^tortie_convergence_seconds_bucket\{le="0.05"\} 1$/m);
    assert.equal((text.match(/^tortie_convergence_seconds_bucket/gm) ?? []).length, CONVERGENCE_BUCKETS.length + 1);
    assert.match(text, /^# TYPE tortie_datastore_events_total counter$/m);
    assert.match(text, /^tortie_datastore_events_total 5$/m);
    assert.match(text, /^tortie_dataplane_apply_total\{result="error"\} 0$/m);
    assert.match(text, /^tortie_dataplane_apply_total\{result="ok"\} 1$/m);
    m.setPeerStates([]);
    assert.match(m.registry.render(), /^tortie_bgp_peers\{state="Established"\} 0$/m);
  });
});

describe('serveMetrics', () => {
  it('GET /metrics answers the registry with the 0.0.4 content type; other paths 404', async () => {
    const r = new Registry();
    r.counter({ name: 'x_total', help: 'X.' }).inc(7);
    const srv = await serveMetrics({ port: 0 }, r);
    try {
      assert.ok(srv.port > 0);
      const ok = await get(srv.port, '/metrics');
      assert.equal(ok.status, 200);
      assert.equal(ok.type, CONTENT_TYPE);
      assert.equal(ok.type, 'text/plain; version=0.0.4; charset=utf-8');
      assert.equal(ok.body, '# HELP x_total X.\n# TYPE x_total counter\nx_total 7\n');
      assert.equal((await get(srv.port, '/metrics?name[]=x_total')).status, 200);
      assert.equal((await get(srv.port, '/')).status, 404);
      assert.equal((await get(srv.port, '/metricsx')).status, 404);
      assert.equal((await get(srv.port, '/metrics', 'POST')).status, 405);
    } finally {
      await srv.close();
    }
  });
});
