/**
 * The SLO burn-rate rules pass `promtool check rules`, and `promtool test rules` proves they fire on
 * a fast burn (10% errors), on a slow burn (0.5% errors over a day), and stay silent within budget
 * (0.05%) and when only probe routes fail. The rule file is written from the rendered PrometheusRule.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadInventory } from '@lumen/inventory';
import { promtoolBin } from '@lumen/testkit';
import { stringify } from 'yaml';
import { render } from '../src/index.ts';
import { fixtureInventory } from './fixture-inventory.ts';

const fixture = fixtureInventory();
const dir = mkdtempSync(join(tmpdir(), 'lumen-slo-'));
after(() => {
  fixture.remove();
  rmSync(dir, { recursive: true, force: true });
});

const lumenApi = render(loadInventory(fixture.dir)).components.find((c) => c.name === 'lumen-api');
const rule = lumenApi?.manifests.find((o) => o.kind === 'PrometheusRule');
assert.ok(rule, 'lumen-api renders a PrometheusRule');
const groups = (rule.spec as { groups: Array<{ rules: Array<Record<string, unknown>> }> }).groups;
const alertRule = (name: string) =>
  groups.flatMap((g) => g.rules).find((r) => r.alert === name) as {
    labels: Record<string, string>;
    annotations: Record<string, string>;
  };

const rulesFile = join(dir, 'lumen-api-slo.yaml');
writeFileSync(rulesFile, stringify({ groups }));

const target = 'job="lumen-api-metrics",namespace="lumen"';
/** A counter growing by `perStep` every interval for `steps` intervals. */
const series = (labels: string, perStep: number, steps: number) => ({
  series: `http_requests_total{${target},${labels}}`,
  values: `0+${perStep}x${steps}`,
});
const firing = (name: string) => ({
  exp_labels: alertRule(name).labels,
  exp_annotations: alertRule(name).annotations,
});

function promtool(args: string[]) {
  return spawnSync(promtoolBin, args, { encoding: 'utf8', cwd: dir });
}

describe('SLO burn-rate rules', () => {
  it('pass promtool check rules', () => {
    const r = promtool(['check', 'rules', rulesFile]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /SUCCESS: 9 rules found/);
  });

  it('fire on a fast burn and a slow burn, and not within budget or on failing probes (promtool test rules)', () => {
    const tests = [
      {
        // 10% of requests fail for two hours: 100× the budget.
        name: 'fast burn pages',
        interval: '1m',
        input_series: [
          series('method="GET",route="/items",status_code="200"', 540, 180),
          series('method="POST",route="/items",status_code="503"', 60, 180),
        ],
        alert_rule_test: [
          {
            eval_time: '70m',
            alertname: 'LumenApiErrorBudgetBurnFast',
            exp_alerts: [firing('LumenApiErrorBudgetBurnFast')],
          },
          // Two minutes in, the `for: 2m` has not elapsed yet.
          { eval_time: '1m', alertname: 'LumenApiErrorBudgetBurnFast', exp_alerts: [] },
        ],
      },
      {
        // 0.5% for 26 hours: 5× the budget, under both fast thresholds (14.4×, 6×).
        name: 'slow burn opens a ticket, does not page',
        interval: '5m',
        input_series: [
          series('method="GET",route="/items",status_code="200"', 995, 320),
          series('method="GET",route="/items/:id",status_code="500"', 5, 320),
        ],
        alert_rule_test: [
          {
            eval_time: '25h',
            alertname: 'LumenApiErrorBudgetBurnSlow',
            exp_alerts: [firing('LumenApiErrorBudgetBurnSlow')],
          },
          { eval_time: '25h', alertname: 'LumenApiErrorBudgetBurnFast', exp_alerts: [] },
        ],
      },
      {
        // 0.05% errors: half the budget.
        name: 'within budget stays silent',
        interval: '5m',
        input_series: [
          series('method="GET",route="/items",status_code="200"', 1999, 320),
          series('method="POST",route="/items",status_code="500"', 1, 320),
        ],
        alert_rule_test: [
          { eval_time: '25h', alertname: 'LumenApiErrorBudgetBurnSlow', exp_alerts: [] },
          { eval_time: '25h', alertname: 'LumenApiErrorBudgetBurnFast', exp_alerts: [] },
        ],
      },
      {
        // /health answers 503 while a dependency is degraded: probes are not user traffic.
        name: 'failing probe routes do not burn the budget',
        interval: '1m',
        input_series: [
          series('method="GET",route="/items",status_code="200"', 100, 180),
          series('method="GET",route="/health",status_code="503"', 100, 180),
          series('method="GET",route="/readyz",status_code="503"', 100, 180),
        ],
        alert_rule_test: [{ eval_time: '70m', alertname: 'LumenApiErrorBudgetBurnFast', exp_alerts: [] }],
        promql_expr_test: [
          {
            expr: 'lumen_api:http_request_errors:ratio_rate5m',
            eval_time: '70m',
            exp_samples: [{ labels: 'lumen_api:http_request_errors:ratio_rate5m', value: 0 }],
          },
        ],
      },
    ];
    const testFile = join(dir, 'slo-test.yaml');
    writeFileSync(testFile, stringify({ rule_files: [rulesFile], evaluation_interval: '1m', tests }));
    const r = promtool(['test', 'rules', testFile]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /SUCCESS/);
  });

  it('promtool test rules fails when an expectation is wrong (the harness can fail)', () => {
    const testFile = join(dir, 'slo-wrong.yaml');
    writeFileSync(
      testFile,
      stringify({
        rule_files: [rulesFile],
        evaluation_interval: '1m',
        tests: [
          {
            interval: '1m',
            input_series: [series('method="GET",route="/items",status_code="200"', 100, 180)],
            alert_rule_test: [
              {
                eval_time: '70m',
                alertname: 'LumenApiErrorBudgetBurnFast',
                exp_alerts: [firing('LumenApiErrorBudgetBurnFast')],
              },
            ],
          },
        ],
      }),
    );
    const r = promtool(['test', 'rules', testFile]);
    assert.equal(r.status, 1, r.stdout + r.stderr);
  });
});
