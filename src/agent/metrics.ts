/**
 * A small Prometheus registry without dependencies: counters, gauges and histograms (fixed
 * buckets), all with optional labels, rendered in the text exposition format 0.0.4, and an HTTP
 * endpoint serving it (`GET /metrics`).
 *
 * Rendering follows client_golang's: families sorted by name, each with `# HELP` and `# TYPE`;
 * series sorted by label values; labels in declaration order (`le` last for buckets); a labelled
 * family with no series yet is left out. Label values escape `\`, `"` and newline; help text
 * escapes `\` and newline. Values print as JavaScript numbers (`0.25`, `3`, `1e+21`), `+Inf`,
 * `-Inf`, `NaN` — any float syntax Prometheus parses, though not always Go's `%g` spelling.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type Labels = Readonly<Record<string, string>>;

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return Object.is(v, -0) ? '0' : String(v);
}

export function escapeLabelValue(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

export interface MetricOptions {
  name: string;
  help: string;
  labelNames?: readonly string[];
}

type MetricType = 'counter' | 'gauge' | 'histogram';

abstract class Metric<S> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  abstract readonly type: MetricType;
  protected readonly series = new Map<string, { values: string[]; state: S }>();

  constructor(opts: MetricOptions, reserved: readonly string[] = []) {
    if (!METRIC_NAME.test(opts.name)) throw new Error(`invalid metric name ${JSON.stringify(opts.name)}`);
    const names = opts.labelNames ?? [];
    for (const l of names) {
      if (!LABEL_NAME.test(l) || l.startsWith('__') || reserved.includes(l)) throw new Error(`invalid label name ${JSON.stringify(l)} for ${opts.name}`);
    }
    if (new Set(names).size !== names.length) throw new Error(`duplicate label name for ${opts.name}`);
    this.name = opts.name;
    this.help = opts.help;
    this.labelNames = [...names];
  }

  protected abstract fresh(): S;

  /** The series for `labels` (exactly the declared label names), created on first use. */
  protected child(labels: Labels): S {
    const keys = Object.keys(labels);
    if (keys.length !== this.labelNames.length || !this.labelNames.every((l) => typeof labels[l] === 'string')) {
      throw new Error(`${this.name}: labels must be exactly {${this.labelNames.join(',')}}, got {${keys.join(',')}}`);
    }
    const values = this.labelNames.map((l) => labels[l]!);
    const key = JSON.stringify(values);
    let s = this.series.get(key);
    if (!s) {
      s = { values, state: this.fresh() };
      this.series.set(key, s);
    }
    return s.state;
  }

  /** Forgets every series (a labelled family then renders nothing until set again). */
  reset(): void {
    this.series.clear();
  }

  protected labelText(values: readonly string[], extra?: [string, string]): string {
    const parts = this.labelNames.map((l, i) => `${l}="${escapeLabelValue(values[i]!)}"`);
    if (extra) parts.push(`${extra[0]}="${escapeLabelValue(extra[1])}"`);
    return parts.length ? `{${parts.join(',')}}` : '';
  }

  protected sorted(): { values: string[]; state: S }[] {
    return [...this.series.values()].sort((a, b) => {
      for (let i = 0; i < a.values.length; i++) {
        if (a.values[i]! !== b.values[i]!) return a.values[i]! < b.values[i]! ? -1 : 1;
      }
      return 0;
    });
  }

  protected abstract samples(values: readonly string[], state: S): string;

  render(): string {
    // An unlabelled metric always has its one series (0 until used).
    if (!this.labelNames.length) this.child({});
    if (!this.series.size) return '';
    let out = `# HELP ${this.name} ${escapeHelp(this.help)}\n# TYPE ${this.name} ${this.type}\n`;
    for (const s of this.sorted()) out += this.samples(s.values, s.state);
    return out;
  }
}

/** Splits the `(labels?, n?)` arguments of inc/dec/set/observe. */
function args(a: Labels | number | undefined, b: number | undefined, dflt: number): [Labels, number] {
  return typeof a === 'number' || a === undefined ? [{}, a ?? dflt] : [a, b ?? dflt];
}

export class Counter extends Metric<{ v: number }> {
  readonly type = 'counter';
  protected fresh(): { v: number } {
    return { v: 0 };
  }
  inc(n?: number): void;
  inc(labels: Labels, n?: number): void;
  inc(a?: Labels | number, b?: number): void {
    const [labels, n] = args(a, b, 1);
    if (!(n >= 0)) throw new Error(`${this.name}: a counter only goes up (inc by ${n})`);
    this.child(labels).v += n;
  }
  get(labels: Labels = {}): number {
    return this.child(labels).v;
  }
  protected samples(values: readonly string[], s: { v: number }): string {
    return `${this.name}${this.labelText(values)} ${formatValue(s.v)}\n`;
  }
}

export class Gauge extends Metric<{ v: number }> {
  readonly type = 'gauge';
  protected fresh(): { v: number } {
    return { v: 0 };
  }
  set(v: number): void;
  set(labels: Labels, v: number): void;
  set(a: Labels | number, b?: number): void {
    const [labels, v] = args(a, b, 0);
    this.child(labels).v = v;
  }
  inc(n?: number): void;
  inc(labels: Labels, n?: number): void;
  inc(a?: Labels | number, b?: number): void {
    const [labels, n] = args(a, b, 1);
    this.child(labels).v += n;
  }
  dec(n?: number): void;
  dec(labels: Labels, n?: number): void;
  dec(a?: Labels | number, b?: number): void {
    const [labels, n] = args(a, b, 1);
    this.child(labels).v -= n;
  }
  get(labels: Labels = {}): number {
    return this.child(labels).v;
  }
  protected samples(values: readonly string[], s: { v: number }): string {
    return `${this.name}${this.labelText(values)} ${formatValue(s.v)}\n`;
  }
}

interface HistogramState {
  /** Per-bucket (non-cumulative) counts; the last is the +Inf bucket. */
  counts: number[];
  sum: number;
  count: number;
}

export interface HistogramOptions extends MetricOptions {
  /** Upper bounds, strictly increasing; `+Inf` is implied. */
  buckets: readonly number[];
}

export class Histogram extends Metric<HistogramState> {
  readonly type = 'histogram';
  readonly buckets: readonly number[];

  constructor(opts: HistogramOptions) {
    const b = opts.buckets.filter((x) => x !== Infinity);
    if (!b.length || b.some((x, i) => !Number.isFinite(x) || (i > 0 && x <= b[i - 1]!))) {
      throw new Error(`${opts.name}: buckets must be finite and strictly increasing`);
    }
    super(opts, ['le']);
    this.buckets = b;
  }

  protected fresh(): HistogramState {
    return { counts: new Array<number>(this.buckets.length + 1).fill(0), sum: 0, count: 0 };
  }

  observe(v: number): void;
  observe(labels: Labels, v: number): void;
  observe(a: Labels | number, b?: number): void {
    const [labels, v] = args(a, b, 0);
    const s = this.child(labels);
    let i = this.buckets.findIndex((le) => v <= le);
    if (i < 0) i = this.buckets.length;
    s.counts[i]!++;
    s.sum += v;
    s.count++;
  }

  /** Starts a timer; calling the result observes the seconds elapsed (and returns them). */
  startTimer(labels: Labels = {}): () => number {
    const t0 = process.hrtime.bigint();
    return () => {
      const secs = Number(process.hrtime.bigint() - t0) / 1e9;
      this.observe(labels, secs);
      return secs;
    };
  }

  /** Cumulative counts per upper bound, `+Inf` last (what the `_bucket` lines say). */
  cumulative(labels: Labels = {}): { le: number; count: number }[] {
    const s = this.child(labels);
    let acc = 0;
    return [...this.buckets, Infinity].map((le, i) => ({ le, count: (acc += s.counts[i]!) }));
  }

  protected samples(values: readonly string[], s: HistogramState): string {
    let out = '';
    let acc = 0;
    [...this.buckets, Infinity].forEach((le, i) => {
      acc += s.counts[i]!;
      out += `${this.name}_bucket${this.labelText(values, ['le', formatValue(le)])} ${acc}\n`;
    });
    out += `${this.name}_sum${this.labelText(values)} ${formatValue(s.sum)}\n`;
    out += `${this.name}_count${this.labelText(values)} ${s.count}\n`;
    return out;
  }
}

export class Registry {
  private readonly metrics = new Map<string, Counter | Gauge | Histogram>();

  private add<M extends Counter | Gauge | Histogram>(m: M): M {
    if (this.metrics.has(m.name)) throw new Error(`metric ${m.name} is already registered`);
    this.metrics.set(m.name, m);
    return m;
  }

  counter(opts: MetricOptions): Counter {
    return this.add(new Counter(opts));
  }
  gauge(opts: MetricOptions): Gauge {
    return this.add(new Gauge(opts));
  }
  histogram(opts: HistogramOptions): Histogram {
    return this.add(new Histogram(opts));
  }
  get(name: string): Counter | Gauge | Histogram | undefined {
    return this.metrics.get(name);
  }

  /** The text exposition format 0.0.4. */
  render(): string {
    return [...this.metrics.keys()]
      .sort()
      .map((n) => this.metrics.get(n)!.render())
      .join('');
  }
}

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export interface MetricsServer {
  /** The port listened on (the chosen one when asked for port 0). */
  port: number;
  close(): Promise<void>;
}

/** Serves `GET /metrics` (and HEAD) on `host:port`; any other path is 404, another method 405. */
export async function serveMetrics(opts: { port: number; host?: string }, registry: Registry): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('404 page not found\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { 'content-type': 'text/plain; charset=utf-8', allow: 'GET, HEAD' }).end('method not allowed\n');
      return;
    }
    let body: string;
    try {
      body = registry.render();
    } catch (e) {
      res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`${(e as Error).message}\n`);
      return;
    }
    res.writeHead(200, { 'content-type': CONTENT_TYPE, 'content-length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

// --- the agent's metrics ------------------------------------------------------------------------

export const BGP_PEERS = 'tortie_bgp_peers';
export const ROUTES = 'tortie_routes';
export const CONVERGENCE_SECONDS = 'tortie_convergence_seconds';
export const DATASTORE_EVENTS_TOTAL = 'tortie_datastore_events_total';
export const DATAPLANE_APPLY_TOTAL = 'tortie_dataplane_apply_total';

export const CONVERGENCE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;
export const BGP_STATES = ['Idle', 'Connect', 'Active', 'OpenSent', 'OpenConfirm', 'Established'] as const;
export const ROUTE_SOURCES = ['bgp', 'vxlan', 'blackhole', 'originated'] as const;
export const APPLY_RESULTS = ['ok', 'error'] as const;

export interface AgentMetrics {
  registry: Registry;
  /** `tortie_bgp_peers{state}`: sessions by BGP FSM state (all six states always present). */
  bgpPeers: Gauge;
  /** `tortie_routes{source}`: kernel routes tortie programs (bgp, vxlan, blackhole) and prefixes it originates. */
  routes: Gauge;
  /** `tortie_convergence_seconds`: datastore change → kernel programmed. */
  convergence: Histogram;
  /** `tortie_datastore_events_total`: datastore watch events received. */
  datastoreEvents: Counter;
  /** `tortie_dataplane_apply_total{result}`: dataplane passes, `ok` or `error`. */
  dataplaneApply: Counter;
  /** Sets `tortie_bgp_peers` from the sessions' FSM states (states without a session read 0). */
  setPeerStates(peers: readonly { bgpState: string }[]): void;
  /** Sets `tortie_routes` for the sources given. */
  setRoutes(counts: Partial<Record<(typeof ROUTE_SOURCES)[number], number>>): void;
}

export function agentMetrics(registry: Registry = new Registry()): AgentMetrics {
  const bgpPeers = registry.gauge({ name: BGP_PEERS, help: 'BGP sessions by BGP state.', labelNames: ['state'] });
  const routes = registry.gauge({ name: ROUTES, help: 'Routes tortie programs into the kernel, and the prefixes it originates, by source.', labelNames: ['source'] });
  const convergence = registry.histogram({
    name: CONVERGENCE_SECONDS,
    help: 'Seconds from a datastore change to the kernel routes being programmed.',
    buckets: CONVERGENCE_BUCKETS,
  });
  const datastoreEvents = registry.counter({ name: DATASTORE_EVENTS_TOTAL, help: 'Datastore watch events received.' });
  const dataplaneApply = registry.counter({ name: DATAPLANE_APPLY_TOTAL, help: 'Dataplane programming passes, by result.', labelNames: ['result'] });
  for (const s of BGP_STATES) bgpPeers.set({ state: s }, 0);
  for (const s of ROUTE_SOURCES) routes.set({ source: s }, 0);
  for (const r of APPLY_RESULTS) dataplaneApply.inc({ result: r }, 0);
  return {
    registry,
    bgpPeers,
    routes,
    convergence,
    datastoreEvents,
    dataplaneApply,
    setPeerStates(peers) {
      const n = new Map<string, number>(BGP_STATES.map((s) => [s, 0]));
      for (const p of peers) n.set(p.bgpState, (n.get(p.bgpState) ?? 0) + 1);
      bgpPeers.reset();
      for (const [state, v] of n) bgpPeers.set({ state }, v);
    },
    setRoutes(counts) {
      for (const [source, v] of Object.entries(counts)) if (v !== undefined) routes.set({ source }, v);
    },
  };
}
