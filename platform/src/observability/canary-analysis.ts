/**
 * The canary gate: an AnalysisTemplate measuring the error rate of the canary pods only
 * (selected by their pod-template hash, which the ServiceMonitor relabels onto every series),
 * with a guard for no traffic. The public implementation filtered on a label the series did not
 * carry: the query was empty and the canary always passed. Here an empty result is never a pass.
 */
import { apiMatchers, errorRatio, podTemplateHashLabel } from './promql.ts';

/** Name of the AnalysisTemplate. */
export const analysisTemplateName = 'lumen-api-canary-error-rate';
/** Argument carrying the canary's pod-template hash (`valueFrom.podTemplateHashValue: Latest`). */
export const canaryHashArg = 'canary-hash';

/** Defaults of the gate; documented in docs/platform.md. */
export const canaryGate = {
  /** Highest tolerated fraction of 5xx among the canary's requests (seed: 1%). */
  maxErrorRatio: 0.01,
  /** Window of each measurement. */
  window: '2m',
  /** Fewer requests than this in the window = not enough traffic to judge: inconclusive, never a pass. */
  minRequests: 20,
  /** Prometheus inside the cluster (kube-prometheus-stack's Service). */
  prometheusAddress: 'http://kube-prometheus-stack-prometheus.monitoring.svc.cluster.local:9090',
  /** Measurements per analysis step, one per interval. */
  count: 3,
  interval: '1m',
} as const;

/**
 * The query with `{{args.canary-hash}}` left for Argo Rollouts to fill. It returns one sample (the
 * canary's 5xx ratio) when the canary served at least `minRequests` requests in the window, and an
 * empty vector otherwise.
 */
export function canaryQuery(): string {
  const hash = `${podTemplateHashLabel}="{{args.${canaryHashArg}}}"`;
  const requests = `sum(increase(http_requests_total{${apiMatchers([hash])}}[${canaryGate.window}]))`;
  return `${errorRatio(canaryGate.window, [hash])} and on() (${requests} >= ${canaryGate.minRequests})`;
}

/** Pass: there was traffic and the ratio is under the bound. */
export const successCondition = `len(result) > 0 && result[0] < ${canaryGate.maxErrorRatio}`;
/** Fail: there was traffic and the ratio is at or over the bound. No traffic matches neither: inconclusive. */
export const failureCondition = `len(result) > 0 && result[0] >= ${canaryGate.maxErrorRatio}`;

/** The AnalysisTemplate spec (validated by the Rollouts model in the component). */
export function analysisTemplateSpec() {
  return {
    args: [{ name: canaryHashArg }],
    metrics: [
      {
        name: 'canary-error-ratio',
        interval: canaryGate.interval,
        count: canaryGate.count,
        // One failed measurement aborts: a canary serving ≥1% errors must not reach 80%.
        failureLimit: 0,
        // An inconclusive measurement (no traffic) pauses the rollout for a human instead of promoting.
        inconclusiveLimit: 0,
        successCondition,
        failureCondition,
        provider: { prometheus: { address: canaryGate.prometheusAddress, query: canaryQuery() } },
      },
    ],
  };
}
