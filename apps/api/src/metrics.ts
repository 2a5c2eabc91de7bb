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
