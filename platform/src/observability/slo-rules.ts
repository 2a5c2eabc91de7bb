/**
 * lumen-api's availability SLO as multi-window, multi-burn-rate alerts (Google SRE workbook,
 * "Alerting on SLOs", table 5-8): each alert needs a long window (is the budget really burning?)
 * AND a short window (is it still burning now?), so it fires fast and resets fast.
 */
import { errorRatio } from './promql.ts';

/** Defaults of the SLO; documented in docs/platform.md. */
export const slo = {
  /** Fraction of non-probe requests that must not answer 5xx, over 30 days. */
  objective: 0.999,
} as const;

/** Error budget: the fraction of requests allowed to fail. */
export const errorBudget = Number((1 - slo.objective).toFixed(6));

/** Windows a recording rule is kept for. */
export const windows = ['5m', '30m', '1h', '2h', '6h', '1d', '3d'] as const;

/** Name of the recorded 5xx ratio over `window`. */
export function ratioRecord(window: string): string {
  return `lumen_api:http_request_errors:ratio_rate${window}`;
}

/** [long window, short window, burn rate, `for`, severity] per alert condition. */
const burns = {
  LumenApiErrorBudgetBurnFast: {
    severity: 'page',
    for: '2m',
    pairs: [
      ['1h', '5m', 14.4],
      ['6h', '30m', 6],
    ],
    summary: 'lumen-api is burning its error budget fast: 2% (1h) or 5% (6h) of the 30-day budget gone',
  },
  LumenApiErrorBudgetBurnSlow: {
    severity: 'ticket',
    for: '15m',
    pairs: [
      ['1d', '2h', 3],
      ['3d', '6h', 1],
    ],
    summary: 'lumen-api is burning its error budget steadily: 10% (1d) or 10% (3d) of the 30-day budget gone',
  },
} as const;

/** The rule groups (`spec.groups` of the PrometheusRule; also a plain Prometheus rule file). */
export function sloRuleGroups() {
  return [
    {
      name: 'lumen-api-slo-recording',
      rules: windows.map((w) => ({ record: ratioRecord(w), expr: errorRatio(w) })),
    },
    {
      name: 'lumen-api-slo-alerts',
      rules: Object.entries(burns).map(([alert, b]) => ({
        alert,
        expr: b.pairs
          .map(
            ([long, short, rate]) =>
              `(${ratioRecord(long)} > (${rate} * ${errorBudget}) and ${ratioRecord(short)} > (${rate} * ${errorBudget}))`,
          )
          .join(' or '),
        for: b.for,
        labels: { severity: b.severity, service: 'lumen-api' },
        annotations: {
          summary: b.summary,
          description: `5xx ratio of lumen-api above the burn-rate threshold of its ${slo.objective * 100}% availability SLO.`,
        },
      })),
    },
  ];
}
