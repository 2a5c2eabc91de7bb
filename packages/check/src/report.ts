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

/**
 * What the server stage did: which server, how long, what it judged, what it could not be given
 * and the warnings that are not violations (one line each). Without the stage, one line saying
 * that schema and Pod Security rest on the offline models.
 */
export function formatServer(result: CheckResult): string[] {
  const s = result.server;
  if (!s)
    return ['server stage not run (no --server or --kubeconfig): schema and Pod Security judged by the offline models'];
  const startup = s.startupMs === undefined ? '' : `, started in ${Math.round(s.startupMs)} ms`;
  // One line per distinct warning or reason (the full lists are in --json).
  const grouped = (items: Array<{ key: string; what: string }>, prefix: string) => {
    const groups = new Map<string, string[]>();
    for (const { key, what } of items) groups.set(key, [...(groups.get(key) ?? []), what]);
    return [...groups].map(([key, whats]) => {
      const shown = whats.slice(0, 3).join(', ');
      return `${prefix} (${whats.length}): ${key}: ${shown}${whats.length > 3 ? `, … ${whats.length - 3} more` : ''}`;
    });
  };
  return [
    ...grouped(
      s.notes.map((n) => ({ key: n.warning, what: `${n.kind}/${n.namespace}/${n.name}` })),
      'server warning',
    ),
    ...grouped(
      s.skipped.map((k) => ({ key: k.reason, what: `${k.kind}/${k.namespace}/${k.name}` })),
      'not applied',
    ),
    `server: ${s.server}${startup}: ${s.judged} objects judged in dry run in ${Math.round(s.applyMs)} ms, ${s.skipped.length} not applied`,
  ];
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
      server: result.server ?? null,
      violations: result.violations,
    },
    null,
    2,
  );
}
