/** Output of `lumen check`: one line per violation, or JSON for machines. */
import type { CheckResult } from './check.ts';
import type { Violation } from './types.ts';

/** `file: kind/namespace/name: rule: reason` — grep-able and stable. */
export function formatViolation(v: Violation): string {
  return `${v.file}: ${v.kind}/${v.namespace}/${v.name}: ${v.rule}: ${v.reason}`;
}

/** The one-line summary printed when every proof holds (or after the violations). */
export function formatSummary(result: CheckResult): string {
  const verdict = result.violations.length === 0 ? 'ok' : `${result.violations.length} violation(s)`;
  return `lumen check: ${verdict}: ${result.objects} objects, ${result.rules} rules, ${Math.round(result.ms)} ms`;
}

/** Which description of the charts' workloads the proofs used. */
export function formatCharts(result: CheckResult): string {
  const described = result.described.length;
  const fallback = `hand-declared chart workloads of the platform model used for ${described} component(s)`;
  if (!result.charts) {
    return `chart internals not rendered (no --charts, --bundle or --registry): ${fallback}`;
  }
  const objects = result.charts.rendered.reduce((n, c) => n + c.objects, 0);
  const images = new Set(result.charts.rendered.flatMap((c) => c.images)).size;
  return `charts rendered by helm ${result.charts.helm}: ${result.charts.rendered.length} chart(s), ${objects} objects, ${images} images${described > 0 ? `; ${fallback}` : ''}`;
}

/** The `--json` document. */
export function formatJson(result: CheckResult): string {
  return JSON.stringify(
    {
      ok: result.violations.length === 0,
      objects: result.objects,
      rules: result.rules,
      ms: Math.round(result.ms),
      charts: result.charts ?? null,
      described: result.described,
      violations: result.violations,
    },
    null,
    2,
  );
}
