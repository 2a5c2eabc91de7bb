/**
 * The lumen-api Grafana dashboard: rate, errors, latency p50/p99 and saturation (the four
 * golden signals), as JSON for Grafana's dashboard sidecar. Every expression is evaluated
 * against a real Prometheus scraping a real lumen-api in platform/test/canary-analysis-prometheus.test.ts.
 */
import { apiMatchers, apiNamespace, errorRatio, metricsServiceName } from './promql.ts';

/** UID of the Prometheus datasource (set in the kube-prometheus-stack values). */
export const prometheusDatasourceUid = 'prometheus';

const target = `job="${metricsServiceName}",namespace="${apiNamespace}"`;

/** Panel title → PromQL expression. Fixed windows: `$__rate_interval` would need Grafana to expand it. */
export const dashboardQueries: Record<string, { expr: string; unit: string; legend: string }> = {
  'Request rate': {
    expr: `sum by (route) (rate(http_requests_total{${apiMatchers()}}[5m]))`,
    unit: 'reqps',
    legend: '{{route}}',
  },
  'Error ratio (5xx)': { expr: errorRatio('5m'), unit: 'percentunit', legend: '5xx ratio' },
  'Latency p50': {
    expr: `histogram_quantile(0.5, sum by (le) (rate(http_request_duration_seconds_bucket{${apiMatchers()}}[5m])))`,
    unit: 's',
    legend: 'p50',
  },
  'Latency p99': {
    expr: `histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{${apiMatchers()}}[5m])))`,
    unit: 's',
    legend: 'p99',
  },
  'Saturation: CPU (cores)': {
    expr: `sum by (pod, instance) (rate(process_cpu_seconds_total{${target}}[5m]))`,
    unit: 'short',
    legend: '{{pod}}{{instance}}',
  },
  'Saturation: event loop lag p99': {
    expr: `max by (pod, instance) (nodejs_eventloop_lag_p99_seconds{${target}})`,
    unit: 's',
    legend: '{{pod}}{{instance}}',
  },
  'Saturation: resident memory': {
    expr: `sum by (pod, instance) (process_resident_memory_bytes{${target}})`,
    unit: 'bytes',
    legend: '{{pod}}{{instance}}',
  },
};

/** The dashboard JSON model. */
export function lumenApiDashboard() {
  const panels = Object.entries(dashboardQueries).map(([title, q], i) => ({
    id: i + 1,
    type: 'timeseries',
    title,
    datasource: { type: 'prometheus', uid: prometheusDatasourceUid },
    gridPos: { h: 8, w: 12, x: (i % 2) * 12, y: Math.floor(i / 2) * 8 },
    fieldConfig: { defaults: { unit: q.unit }, overrides: [] },
    targets: [
      {
        refId: 'A',
        expr: q.expr,
        legendFormat: q.legend,
        datasource: { type: 'prometheus', uid: prometheusDatasourceUid },
      },
    ],
  }));
  return {
    uid: 'lumen-api',
    title: 'lumen-api',
    tags: ['lumen'],
    timezone: 'utc',
    schemaVersion: 39,
    refresh: '30s',
    time: { from: 'now-1h', to: 'now' },
    panels,
  };
}
