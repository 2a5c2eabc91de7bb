/**
 * Admission: the Gatekeeper ConstraintTemplates found among the checked objects (the very
 * ones that are deployed), their `K8sNativeValidation` CEL evaluated by a real CEL engine
 * against every object their Constraints match, as Gatekeeper would at admission.
 */
import { type Compiled, celText, compile, toCel } from './cel.ts';
import { type Cluster, namespaceOf } from './cluster.ts';
import { apiGroup, objectId } from './manifests.ts';
import { type LabelSelector, matchesSelector } from './selectors.ts';
import type { K8sObject, SourcedObject, Violation } from './types.ts';

interface CompiledTemplate {
  kind: string;
  variables: Array<{ name: string; run: Compiled }>;
  validations: Array<{ expression: string; run: Compiled; message?: string; messageRun?: Compiled }>;
}

interface Match {
  kinds?: Array<{ apiGroups?: string[]; kinds?: string[] }>;
  namespaces?: string[];
  excludedNamespaces?: string[];
  scope?: string;
  labelSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  name?: string;
}

function violation(src: SourcedObject, rule: Violation['rule'], reason: string): Violation {
  return { file: src.file, ...objectId(src.obj), rule, reason };
}

/** Gatekeeper namespace patterns allow a `*` prefix or suffix wildcard. */
function namespaceMatches(pattern: string, ns: string): boolean {
  if (pattern.endsWith('*')) return ns.startsWith(pattern.slice(0, -1));
  if (pattern.startsWith('*')) return ns.endsWith(pattern.slice(1));
  return pattern === ns;
}

/** Does a Constraint's `spec.match` select this object? (Gatekeeper match semantics.) */
export function constraintMatches(match: Match, obj: K8sObject, cluster: Cluster): boolean {
  const group = apiGroup(obj.apiVersion);
  if (match.kinds && match.kinds.length > 0) {
    const hit = match.kinds.some(
      (k) =>
        (k.apiGroups ?? ['*']).some((g) => g === '*' || g === group) &&
        (k.kinds ?? ['*']).some((kind) => kind === '*' || kind === obj.kind),
    );
    if (!hit) return false;
  }
  const ns = namespaceOf(obj);
  if (match.scope === 'Cluster' && ns !== undefined) return false;
  if (match.scope === 'Namespaced' && ns === undefined) return false;
  if (match.namespaces && match.namespaces.length > 0) {
    if (ns === undefined || !match.namespaces.some((p) => namespaceMatches(p, ns))) return false;
  }
  if (ns !== undefined && match.excludedNamespaces?.some((p) => namespaceMatches(p, ns))) return false;
  if (match.name !== undefined && !namespaceMatches(match.name, obj.metadata?.name ?? '')) return false;
  if (match.labelSelector && !matchesSelector(match.labelSelector, obj.metadata?.labels ?? {})) return false;
  if (match.namespaceSelector) {
    if (ns === undefined) return false;
    const labels = cluster.namespaces.get(ns)?.labels ?? { 'kubernetes.io/metadata.name': ns };
    if (!matchesSelector(match.namespaceSelector, labels)) return false;
  }
  return true;
}

/**
 * Compiles a ConstraintTemplate's CEL code. Returns violations (rule `admission/<Kind>`) for
 * templates whose CEL does not parse: a broken policy blocks nothing, so it is a failed proof.
 */
function compileTemplate(src: SourcedObject): { template?: CompiledTemplate; problems: Violation[] } {
  const spec = (src.obj.spec ?? {}) as {
    crd?: { spec?: { names?: { kind?: string } } };
    targets?: Array<{ code?: Array<{ engine?: string; source?: Record<string, unknown> }> }>;
  };
  const kind = spec.crd?.spec?.names?.kind ?? '?';
  const rule = `admission/${kind}` as const;
  const problems: Violation[] = [];
  const template: CompiledTemplate = { kind, variables: [], validations: [] };
  let sawCel = false;
  for (const target of spec.targets ?? []) {
    for (const code of target.code ?? []) {
      if (code.engine !== 'K8sNativeValidation') continue;
      sawCel = true;
      const source = (code.source ?? {}) as {
        variables?: Array<{ name: string; expression: string }>;
        validations?: Array<{ expression: string; message?: string; messageExpression?: string }>;
      };
      try {
        for (const v of source.variables ?? []) template.variables.push({ name: v.name, run: compile(v.expression) });
        for (const v of source.validations ?? []) {
          template.validations.push({
            expression: v.expression,
            run: compile(v.expression),
            ...(v.message !== undefined ? { message: v.message } : {}),
            ...(v.messageExpression !== undefined ? { messageRun: compile(v.messageExpression) } : {}),
          });
        }
      } catch (err) {
        problems.push(violation(src, rule, `CEL does not compile: ${(err as Error).message}`));
        return { problems };
      }
    }
  }
  if (!sawCel) problems.push(violation(src, rule, 'template has no K8sNativeValidation (CEL) code to prove'));
  return sawCel ? { template, problems } : { problems };
}

/** Evaluates one template with one Constraint's parameters against one object. */
function evaluate(template: CompiledTemplate, params: unknown, obj: unknown): string[] {
  const variables: Record<string, unknown> = { params, anyObject: obj };
  const bindings = { object: obj, oldObject: null, variables, request: { operation: 'CREATE' } };
  for (const v of template.variables) {
    const value = v.run(bindings);
    if (value instanceof Error) return [`CEL error in variable ${v.name}: ${value.message}`];
    variables[v.name] = value;
  }
  const failures: string[] = [];
  for (const v of template.validations) {
    const ok = v.run(bindings);
    if (ok === true) continue;
    if (ok instanceof Error) {
      // Gatekeeper fails closed on evaluation errors of a deny constraint.
      failures.push(`CEL error: ${ok.message}`);
      continue;
    }
    if (ok !== false) {
      failures.push(`expression did not yield a bool: ${v.expression}`);
      continue;
    }
    let message = v.message ?? `failed expression: ${v.expression}`;
    if (v.messageRun) {
      const m = v.messageRun(bindings);
      if (!(m instanceof Error)) message = celText(m);
    }
    failures.push(message);
  }
  return failures;
}

/**
 * Runs every Constraint (enforcementAction `deny`, the default) of every K8sNativeValidation
 * template over the objects it matches (a dry run keeps only the violations its manifests add:
 * see check.ts).
 */
export function checkAdmission(cluster: Cluster): Violation[] {
  const out: Violation[] = [];
  const templates = new Map<string, CompiledTemplate>();
  for (const src of cluster.objects) {
    if (src.obj.kind !== 'ConstraintTemplate' || apiGroup(src.obj.apiVersion) !== 'templates.gatekeeper.sh') continue;
    const { template, problems } = compileTemplate(src);
    out.push(...problems);
    if (template) templates.set(template.kind, template);
  }
  const celInputs = new Map<SourcedObject, unknown>();
  for (const constraint of cluster.objects) {
    if (apiGroup(constraint.obj.apiVersion) !== 'constraints.gatekeeper.sh') continue;
    const kind = constraint.obj.kind ?? '?';
    const template = templates.get(kind);
    if (!template) {
      out.push(violation(constraint, `admission/${kind}`, `no ConstraintTemplate defines kind ${kind}`));
      continue;
    }
    const spec = (constraint.obj.spec ?? {}) as { enforcementAction?: string; match?: Match; parameters?: unknown };
    // dryrun and warn do not block admission; only deny is a proof obligation.
    if ((spec.enforcementAction ?? 'deny') !== 'deny') continue;
    const params = toCel(spec.parameters ?? {});
    for (const src of cluster.objects) {
      if (!constraintMatches(spec.match ?? {}, src.obj, cluster)) continue;
      let input = celInputs.get(src);
      if (input === undefined) {
        input = toCel(src.obj);
        celInputs.set(src, input);
      }
      for (const reason of evaluate(template, params, input)) {
        out.push(violation(src, `admission/${kind}`, `${constraint.obj.metadata?.name ?? kind}: ${reason}`));
      }
    }
  }
  return out;
}
