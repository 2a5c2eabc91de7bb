/**
 * The PromQL vocabulary of lumen-api, shared by the canary analysis, the SLO rules and the
 * dashboard, so the three can never filter on different labels. Metric names and labels are
 * lumen-api's real ones (apps/api/src/metrics.ts): `http_requests_total` and
 * `http_request_duration_seconds` with `{method, route, status_code}`. The target labels are the
 * ones the ServiceMonitor produces: `job` = the scraped Service's name, `namespace`, and
 * `rollouts_pod_template_hash` relabeled from the pod label Argo Rollouts sets.
 */

/** Namespace lumen-api runs in. */
export const apiNamespace = 'lumen';
/** The one Service the ServiceMonitor selects; Prometheus names the job after it. */
export const metricsServiceName = 'lumen-api-metrics';
/** Target label carrying the pod's `rollouts-pod-template-hash` (set by the ServiceMonitor relabeling). */
export const podTemplateHashLabel = 'rollouts_pod_template_hash';

/**
 * Probe routes are excluded from every ratio: kubelet probes them steadily, so counting them
 * would dilute the error rate and make an idle canary look busy (defeating the no-traffic guard).
 */
export const probeRoutes = '/livez|/readyz|/health';

/** Label matchers of lumen-api's request series, optionally narrowed further. */
export function apiMatchers(extra: string[] = []): string {
  return [`job="${metricsServiceName}"`, `namespace="${apiNamespace}"`, `route!~"${probeRoutes}"`, ...extra].join(',');
}

/** A server error: 5xx. 4xx are the client's fault and never burn the error budget. */
export const serverError = 'status_code=~"5.."';

/** Fraction of requests answered 5xx over `window`, from raw counters. Empty when there is no traffic. */
export function errorRatio(window: string, extra: string[] = []): string {
  const errors = `sum(rate(http_requests_total{${apiMatchers([...extra, serverError])}}[${window}]))`;
  const total = `sum(rate(http_requests_total{${apiMatchers(extra)}}[${window}]))`;
  // `or on() vector(0)`: no 5xx series yet means zero errors, not "no data".
  return `(${errors} or on() vector(0)) / ${total}`;
}
