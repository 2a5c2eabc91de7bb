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

const LABELS = ['method', 'route', 'status_code'] as const;

function counter(name: string, help: string): client.Counter<(typeof LABELS)[number]> {
  const existing = registry.getSingleMetric(name);
  return (
    (existing as client.Counter<(typeof LABELS)[number]>) ?? new client.Counter({ name, help, labelNames: LABELS })
  );
}

function histogram(name: string, help: string): client.Histogram<(typeof LABELS)[number]> {
  const existing = registry.getSingleMetric(name);
  return (
    (existing as client.Histogram<(typeof LABELS)[number]>) ??
    new client.Histogram({
      name,
      help,
      labelNames: LABELS,
      // Around the SLO: most requests take a few ms; 0.25–1 s is where p99 alerts live.
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    })
  );
}

/** HTTP request metrics, recorded by the app's onResponse hook. */
export const httpMetrics = {
  requests: counter('http_requests_total', 'HTTP requests answered, by method, route pattern and status code'),
  duration: histogram(
    'http_request_duration_seconds',
    'HTTP request duration in seconds, by method, route pattern and status code',
  ),
};

let processMetricsStarted = false;

/** Starts Node process metrics (CPU, memory, event loop lag, GC) once per process. */
export function collectProcessMetrics(): void {
  if (processMetricsStarted) return;
  processMetricsStarted = true;
  client.collectDefaultMetrics({ register: registry });
}

/** Records one answered request. */
export function observeRequest(method: string, route: string, statusCode: number, seconds: number): void {
  const labels = { method, route, status_code: String(statusCode) };
  httpMetrics.requests.inc(labels);
  httpMetrics.duration.observe(labels, seconds);
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
