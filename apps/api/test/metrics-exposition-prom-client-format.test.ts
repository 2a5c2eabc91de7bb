/**
 * The HTTP metrics are kept by lumen's own per-series map (metrics.ts, for speed) but must read, byte for byte, as
 * prom-client's Counter and Histogram would print them for the same observations: dashboards, alerts and the
 * canary analysis query these series, and Prometheus parses this text.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import client from 'prom-client';
import { observeRequest, registry } from '../src/metrics.ts';

const LABELS = ['method', 'route', 'status_code'];
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

it('prints http_requests_total and http_request_duration_seconds exactly as prom-client does', async () => {
  const reference = new client.Registry();
  const counter = new client.Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status code',
    labelNames: LABELS,
    registers: [reference],
  });
  const histogram = new client.Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration in seconds, by method, route pattern and status code',
    labelNames: LABELS,
    buckets: BUCKETS,
    registers: [reference],
  });
  // On a bound (counted in that bucket), between bounds, beyond the largest (only +Inf), zero, several series.
  const observations = [
    ['GET', '/hello', 200, 0.001],
    ['GET', '/hello', 200, 0.005],
    ['POST', '/items', 201, 0.3],
    ['GET', '/hello', 200, 12],
    ['GET', 'unmatched', 404, 0.0051],
    ['POST', '/items', 201, 0],
    ['DELETE', '/items/:id', 409, 10],
  ] as const;
  for (const [method, route, status, seconds] of observations) {
    observeRequest(method, route, status, seconds);
    counter.inc({ method, route, status_code: String(status) });
    histogram.observe({ method, route, status_code: String(status) }, seconds);
  }

  for (const name of ['http_requests_total', 'http_request_duration_seconds']) {
    assert.equal(await registry.getSingleMetricAsString(name), await reference.getSingleMetricAsString(name));
  }
  // The JSON form (getMetricsAsJSON, e.g. for cluster aggregation): the same samples with their labels merged.
  const samples = async (r: client.Registry) =>
    (await r.getMetricsAsJSON())
      .filter((m) => m.name.startsWith('http_request'))
      .map((m) => ({ ...m, values: m.values.map((v) => ({ ...v, exemplar: undefined })) }))
      .map((m) => JSON.parse(JSON.stringify(m)));
  assert.deepEqual(await samples(registry), await samples(reference));

  const served = await registry.metrics();
  assert.match(
    served,
    /^http_request_duration_seconds_bucket\{le="\+Inf",method="GET",route="\/hello",status_code="200"\} 3$/m,
  );
  assert.match(served, /^http_requests_total\{method="DELETE",route="\/items\/:id",status_code="409"\} 1$/m);
});

it('resetMetrics() empties them, as it empties prom-client metrics', async () => {
  observeRequest('GET', '/hello', 200, 0.001);
  registry.resetMetrics();
  assert.doesNotMatch(await registry.metrics(), /^http_requests_total\{/m);
  observeRequest('GET', '/hello', 200, 0.001);
  assert.match(await registry.metrics(), /^http_requests_total\{method="GET",route="\/hello",status_code="200"\} 1$/m);
});
