/**
 * Prometheus metrics on prom-client's default registry, served by the admin server. Created once per process
 * (prom-client refuses a second metric of the same name), so several apps built in one test process share
 * them. The label is `route` (the route pattern, e.g. `/items/:id`), never `endpoint`: the Prometheus Operator
 * sets its own `endpoint` target label, and the collision silently emptied the canary queries of the public
 * implementation.
 */
import client from 'prom-client';

/** The registry /metrics serves. */
export const registry = client.register;

/** Route label of requests that matched no route (404/405), so unknown URLs cannot explode cardinality. */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * Upper bounds of `http_request_duration_seconds`, around the SLO: most requests take a few ms; 0.25–1 s is where
 * p99 alerts live.
 */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

/** A value as prom-client's registry reads it; `sharedLabels` are printed after `labels` (histogram series). */
interface Sample {
  labels: Record<string, string | number>;
  sharedLabels?: Record<string, string>;
  value: number;
  metricName?: string;
}

/** One (method, route, status_code) series of the HTTP metrics. */
interface RequestSeries {
  labels: { method: string; route: string; status_code: string };
  count: number;
  sum: number;
  /** Observations per bucket, not cumulative; the last slot is beyond the largest bound (+Inf). */
  perBucket: number[];
}

/**
 * `http_requests_total` and `http_request_duration_seconds`, kept per series in a Map looked up by one string, and
 * exposed through prom-client's registry in exactly the text prom-client's Counter and Histogram produce.
 *
 * Why not prom-client's Counter and Histogram themselves: they hash the label object on every `inc`/`observe` (and
 * `labels()` children do not cache the hash), 1.7 µs per request for the pair against 0.04 µs here, on a GET /hello
 * that costs lumen-api about 30 µs of CPU in all (docs/telemetry.md, "Benchmark"). Everything else stays prom-client's.
 */
class RequestMetrics {
  private readonly series = new Map<string, RequestSeries>();

  observe(method: string, route: string, statusCode: number, seconds: number): void {
    const key = `${method} ${route} ${statusCode}`;
    let series = this.series.get(key);
    if (series === undefined) {
      series = {
        labels: { method, route, status_code: String(statusCode) },
        count: 0,
        sum: 0,
        perBucket: new Array<number>(DURATION_BUCKETS.length + 1).fill(0),
      };
      this.series.set(key, series);
    }
    series.count += 1;
    series.sum += seconds;
    let bucket = 0;
    while (bucket < DURATION_BUCKETS.length && seconds > (DURATION_BUCKETS[bucket] as number)) bucket += 1;
    (series.perBucket[bucket] as number) += 1;
  }

  /**
   * The metric objects prom-client's registry serves: `getForPromString()` for the text exposition, `get()` for
   * `getMetricsAsJSON()` (labels merged, as prom-client's Histogram does), `reset()` for `resetMetrics()`.
   */
  readonly requests = this.metric(
    'http_requests_total',
    'HTTP requests answered, by method, route pattern and status code',
    'counter',
    (s) => [{ labels: s.labels, value: s.count }],
  );
  readonly duration = this.metric(
    'http_request_duration_seconds',
    'HTTP request duration in seconds, by method, route pattern and status code',
    'histogram',
    (s) => this.histogramValues(s),
  );

  private metric(name: string, help: string, type: 'counter' | 'histogram', values: (s: RequestSeries) => Sample[]) {
    const getForPromString = async () => ({
      name,
      help,
      type,
      aggregator: 'sum',
      values: [...this.series.values()].flatMap(values),
    });
    return {
      name,
      help,
      type,
      getForPromString,
      get: async () => {
        const metric = await getForPromString();
        const merged = metric.values.map(({ sharedLabels, labels, ...rest }) => ({
          ...rest,
          labels: { ...labels, ...sharedLabels },
        }));
        return { ...metric, values: merged };
      },
      reset: () => this.series.clear(),
    };
  }

  /** One series as prom-client's Histogram exports it: cumulative buckets, +Inf, sum, count. */
  private histogramValues(series: RequestSeries) {
    const name = 'http_request_duration_seconds';
    const bucket = `${name}_bucket`;
    let cumulative = 0;
    const values: Sample[] = DURATION_BUCKETS.map((le, i) => {
      cumulative += series.perBucket[i] as number;
      return { labels: { le }, sharedLabels: series.labels, value: cumulative, metricName: bucket };
    });
    values.push(
      { labels: { le: '+Inf' }, sharedLabels: series.labels, value: series.count, metricName: bucket },
      { labels: {}, sharedLabels: series.labels, value: series.sum, metricName: `${name}_sum` },
      { labels: {}, sharedLabels: series.labels, value: series.count, metricName: `${name}_count` },
    );
    return values;
  }
}

/** HTTP request metrics, recorded by the app's onResponse hook. */
const httpMetrics = new RequestMetrics();
registry.registerMetric(httpMetrics.requests as unknown as client.Metric);
registry.registerMetric(httpMetrics.duration as unknown as client.Metric);

let processMetricsStarted = false;

/** Starts Node process metrics (CPU, memory, event loop lag, GC) once per process. */
export function collectProcessMetrics(): void {
  if (processMetricsStarted) return;
  processMetricsStarted = true;
  client.collectDefaultMetrics({ register: registry });
}

/** Records one answered request. */
export function observeRequest(method: string, route: string, statusCode: number, seconds: number): void {
  httpMetrics.observe(method, route, statusCode, seconds);
}

/** Events appended to the audit log, by type (`ItemCreated`, `ItemDeleted`); counted after the commit. */
export const eventsTotal: client.Counter<'type'> =
  (registry.getSingleMetric('lumen_events_total') as client.Counter<'type'> | undefined) ??
  new client.Counter({
    name: 'lumen_events_total',
    help: 'Events appended to the audit log, by type',
    labelNames: ['type'],
  });

/** Keyed requests by idempotency outcome (stored, replayed, recovered, conflict, mismatch, invalid, unavailable, …). */
export const idempotencyTotal: client.Counter<'outcome'> =
  (registry.getSingleMetric('lumen_idempotency_total') as client.Counter<'outcome'> | undefined) ??
  new client.Counter({
    name: 'lumen_idempotency_total',
    help: 'Requests with an Idempotency-Key, by outcome (docs/idempotency.md)',
    labelNames: ['outcome'],
  });

/** What the dependency gauges read at scrape time: the dependencies of the app being served. */
export interface DependencyProbes {
  /** Resolves when the dependency answers (bounded by `timeoutMs`), rejects otherwise. */
  redis(timeoutMs: number): Promise<unknown>;
  postgresRw(timeoutMs: number): Promise<unknown>;
  /** Replica state from the read router's background probe (no query at scrape time). */
  replica(): { configured: boolean; up: boolean; lagMs: number | undefined };
}

let probes: DependencyProbes | undefined;
/** Timeout of each dependency check made while answering a scrape. */
const SCRAPE_PROBE_TIMEOUT_MS = 500;

/**
 * Points the dependency gauges at `next` (the last app built in this process wins; one per process in production).
 * `lumen_dependency_up{dependency}` is 1/0 for redis, postgres_rw and postgres_ro (the replica; the primary when none
 * is configured); `lumen_pg_replica_lag_seconds` is the replica's lag (absent without a replica or when unknown).
 */
export function trackDependencies(next: DependencyProbes): void {
  probes = next;
  if (registry.getSingleMetric('lumen_dependency_up') !== undefined) return;
  new client.Gauge({
    name: 'lumen_dependency_up',
    help: 'Whether a dependency answered its check at scrape time (1) or not (0)',
    labelNames: ['dependency'],
    async collect() {
      if (probes === undefined) return;
      const current = probes;
      const check = (fn: (ms: number) => Promise<unknown>) =>
        fn(SCRAPE_PROBE_TIMEOUT_MS).then(
          () => 1,
          () => 0,
        );
      const [redis, rw] = await Promise.all([check(current.redis), check(current.postgresRw)]);
      const replica = current.replica();
      this.set({ dependency: 'redis' }, redis);
      this.set({ dependency: 'postgres_rw' }, rw);
      this.set({ dependency: 'postgres_ro' }, replica.configured ? Number(replica.up) : rw);
    },
  });
  new client.Gauge({
    name: 'lumen_pg_replica_lag_seconds',
    help: 'Replication lag of the read replica in seconds, from the read router probe',
    collect() {
      this.reset();
      const replica = probes?.replica();
      if (replica?.configured && replica.lagMs !== undefined) this.set(replica.lagMs / 1000);
    },
  });
}
