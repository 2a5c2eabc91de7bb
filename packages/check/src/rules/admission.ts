/**
 * Admission: the Gatekeeper ConstraintTemplates and Constraints found among the checked objects
 * (the very ones that are deployed) judged by Gatekeeper's own engine, `gator test`, built from
 * Gatekeeper's Go module at the version the inventory deploys (scripts/tools.sh). gator compiles
 * each template with Gatekeeper's drivers (K8sNativeValidation CEL and Rego), validates each
 * Constraint against its template, applies Gatekeeper's match semantics (namespaceSelector reads
 * the Namespace objects among the input) and reviews every object. lumen only maps its verdicts
 * back to files; it evaluates no policy itself.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { Cluster } from '../cluster.ts';
import { findEngine, runEngine } from '../engines.ts';
import { CheckError, CheckErrorCode } from '../errors.ts';
import { apiGroup, objectId, withoutNulls } from '../manifests.ts';
import type { K8sObject, SourcedObject, Violation } from '../types.ts';
import { violationOf } from '../violation.ts';

const templateGroup = 'templates.gatekeeper.sh';
const constraintGroup = 'constraints.gatekeeper.sh';

/** One entry of `gator test -o json`: Gatekeeper's `types.Result` plus the violating object. */
interface GatorResult {
  msg?: string;
  enforcementAction?: string;
  constraint?: K8sObject;
  violatingObject?: K8sObject;
}

/** What the API server keys an object by (group, kind, namespace, name). */
function identity(obj: K8sObject | undefined): string {
  const id = objectId(obj ?? {});
  return `${apiGroup(obj?.apiVersion)}|${id.kind}|${id.namespace}|${id.name}`;
}

function templateKind(src: SourcedObject): string {
  const spec = src.obj.spec as { crd?: { spec?: { names?: { kind?: string } } } } | undefined;
  return spec?.crd?.spec?.names?.kind ?? '?';
}

const isTemplate = (src: SourcedObject) =>
  src.obj.kind === 'ConstraintTemplate' && apiGroup(src.obj.apiVersion) === templateGroup;
const isConstraint = (src: SourcedObject) => apiGroup(src.obj.apiVersion) === constraintGroup;

/** The gator binary: LUMEN_GATOR, the tool cache, PATH (exit 5 when missing). */
export function gatorBin(): string {
  return findEngine('gator');
}

/** A fatal gator error that names the template or Constraint it could not load. */
function failedPolicy(stderr: string): { kind: 'template' | 'constraint'; name: string; reason: string } | undefined {
  const m = /adding (template|constraint) "([^"]+)": (.*)/.exec(stderr);
  if (!m) return undefined;
  return { kind: m[1] as 'template' | 'constraint', name: m[2] as string, reason: (m[3] as string).trim() };
}

/**
 * Runs every deny Constraint over the objects it matches, by gator. A template gator cannot
 * compile or a Constraint it refuses (parameters that break the template's schema) is a violation
 * of its own and is left out of a second run, so one broken policy does not hide the others.
 */
export async function checkAdmission(cluster: Cluster, bin = gatorBin()): Promise<Violation[]> {
  const out: Violation[] = [];
  const templates = cluster.objects.filter(isTemplate);
  const kinds = new Set(templates.map(templateKind));
  const policy = new Set<SourcedObject>(templates);
  for (const c of cluster.objects.filter(isConstraint)) {
    const kind = c.obj.kind ?? '?';
    if (kinds.has(kind)) policy.add(c);
    else out.push(violationOf(c, `admission/${kind}`, `no ConstraintTemplate defines kind ${kind}`));
  }
  if (![...policy].some(isConstraint)) return out;
  const byIdentity = new Map<string, SourcedObject>();
  for (const src of cluster.objects) if (!byIdentity.has(identity(src.obj))) byIdentity.set(identity(src.obj), src);
  const data = cluster.objects.filter((o) => !isTemplate(o) && !isConstraint(o));

  const dir = mkdtempSync(join(tmpdir(), 'lumen-gator-'));
  try {
    for (let attempt = 0; attempt <= policy.size; attempt++) {
      const input = join(dir, `input-${attempt}.yaml`);
      // Each object as the API server would hand it to Gatekeeper's webhook (see withoutNulls).
      const docs = [...policy, ...data].map((o) => stringify(withoutNulls(o.obj), { lineWidth: 0 }));
      writeFileSync(input, docs.join('---\n'));
      const run = await runEngine(bin, ['test', '--filename', input, '--output', 'json']);
      const results = parseResults(run.stdout);
      if (results) {
        for (const r of results) {
          // dryrun and warn do not block admission; only deny is a proof obligation.
          if ((r.enforcementAction ?? 'deny') !== 'deny') continue;
          const src = byIdentity.get(identity(r.violatingObject));
          const kind = r.constraint?.kind ?? '?';
          const name = r.constraint?.metadata?.name ?? kind;
          if (src) out.push(violationOf(src, `admission/${kind}`, `${name}: ${(r.msg ?? '').trim()}`));
        }
        return out;
      }
      const failed = failedPolicy(run.stderr);
      if (!failed) {
        throw new CheckError(CheckErrorCode.engineFailed, `gator test failed (exit ${run.code}): ${run.stderr.trim()}`);
      }
      const culprits = [...policy].filter((p) =>
        failed.kind === 'template'
          ? isTemplate(p) && p.obj.metadata?.name === failed.name
          : isConstraint(p) && p.obj.metadata?.name === failed.name,
      );
      if (culprits.length === 0) {
        throw new CheckError(
          CheckErrorCode.engineFailed,
          `gator test failed on ${failed.kind} ${failed.name}: ${failed.reason}`,
        );
      }
      for (const p of culprits) {
        policy.delete(p);
        const kind = failed.kind === 'template' ? templateKind(p) : (p.obj.kind ?? '?');
        out.push(violationOf(p, `admission/${kind}`, `gator refuses the ${failed.kind}: ${failed.reason}`));
        if (failed.kind === 'template') {
          for (const c of [...policy].filter((q) => isConstraint(q) && q.obj.kind === kind)) {
            policy.delete(c);
            out.push(violationOf(c, `admission/${kind}`, `its ConstraintTemplate ${failed.name} does not load`));
          }
        }
      }
      if (![...policy].some(isConstraint)) return out;
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** gator prints a JSON array (or `null` when nothing was violated); anything else is a failure. */
function parseResults(stdout: string): GatorResult[] | undefined {
  const text = stdout.trim();
  if (text === '' || text === 'null') return text === 'null' ? [] : undefined;
  try {
    const parsed = JSON.parse(text) as unknown;
    return Array.isArray(parsed) ? (parsed as GatorResult[]) : parsed === null ? [] : undefined;
  } catch {
    return undefined;
  }
}
