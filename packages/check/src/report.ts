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

/** The `--json` document. */
export function formatJson(result: CheckResult): string {
  return JSON.stringify(
    {
      ok: result.violations.length === 0,
      objects: result.objects,
      rules: result.rules,
      ms: Math.round(result.ms),
      violations: result.violations,
    },
    null,
    2,
  );
}
