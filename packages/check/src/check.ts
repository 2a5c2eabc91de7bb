/**
 * `lumen check` as a function: loads the rendered platform (and, for an admission dry run,
 * the manifests under test on top of it) and runs every proof. Takes all its inputs as
 * arguments so tests can run it on fixtures.
 */
import { resolve } from 'node:path';
import { type ChartSource, crdApiVersions, helmApplications, type RenderedChart, renderCharts } from './charts.ts';
import { buildCluster } from './cluster.ts';
import { findEngine } from './engines.ts';
import { CheckError, CheckErrorCode } from './errors.ts';
import { loadManifests, manifestFiles, objectId } from './manifests.ts';
import { rules } from './rules/index.ts';
import { beyondServer, prepareSchemas } from './rules/schema.ts';
import { ApiClient, proveOnServer, type ServerNote, type ServerStage } from './server.ts';
import type { InventoryView, NetworkMatrix, PlatformFacts, SourcedObject, Violation } from './types.ts';

/** Inputs of {@link runCheck}. */
export interface CheckOptions {
  /** The rendered platform (default `deploy`, relative to `cwd`). */
  deployDir?: string;
  /** Manifests to prove on top of the platform (admission dry run); none = prove the platform itself. */
  paths?: readonly string[];
  inventory: InventoryView;
  facts: PlatformFacts;
  matrix: NetworkMatrix;
  /** Where the matrix is declared, for messages (default `the network matrix`). */
  matrixFile?: string;
  /** Directory file names are shown relative to (default `process.cwd()`). */
  cwd?: string;
  /** Where the charts of deploy/'s Helm Applications come from; absent = chart internals not rendered. */
  charts?: ChartSource | undefined;
  /** Kubernetes version charts are rendered for (default: the inventory's K3s version). */
  kubeVersion?: string | undefined;
  /** Progress lines of long stages (the chart renders), e.g. to stderr. */
  onProgress?: ((line: string) => void) | undefined;
  /**
   * The server stage: every object applied in dry run on a real API server — the cluster of this
   * kubeconfig (YAML text), or, with `start`, a kube-apiserver + etcd started for the run.
   */
  server?: { kubeconfig: string } | { start: true } | undefined;
}

/** What the server stage did, for the report. */
export interface ServerSummary {
  server: string;
  /** Milliseconds to start kube-apiserver and etcd (absent for a given kubeconfig). */
  startupMs?: number | undefined;
  applyMs: number;
  judged: number;
  skipped: Array<{ file: string; kind: string; namespace: string; name: string; reason: string }>;
  notes: ServerNote[];
}

/** Outcome of {@link runCheck}. */
export interface CheckResult {
  violations: Violation[];
  /** Objects proven (the platform plus the manifests under test). */
  objects: number;
  /** Rules applied: the built-in proofs plus one per admission Constraint. */
  rules: number;
  /** Wall time in milliseconds. */
  ms: number;
  /** The chart stage: the helm used and what each chart rendered; absent when no charts were given. */
  charts?: { helm: string; rendered: RenderedChart[] } | undefined;
  /** Components whose chart workloads were taken from the platform model's hand-written description. */
  described: string[];
  /** The server stage; absent when it did not run (schema and Pod Security then rest on the offline models). */
  server?: ServerSummary | undefined;
}

/** The proofs that are not admission Constraints: the registry's rules and the chart stage. */
export const builtinRules = [...rules.map((r) => r.id).filter((id) => id !== 'admission'), 'chart'];

function compare(a: Violation, b: Violation): number {
  return (
    a.file.localeCompare(b.file) ||
    a.kind.localeCompare(b.kind) ||
    a.namespace.localeCompare(b.namespace) ||
    a.name.localeCompare(b.name) ||
    a.rule.localeCompare(b.rule) ||
    a.reason.localeCompare(b.reason)
  );
}

/** apiVersion group, kind, namespace and name: what the API server keys an object by. */
function identity(src: SourcedObject): string {
  const id = objectId(src.obj);
  return `${(src.obj.apiVersion ?? '').split('/')[0]}|${id.kind}|${id.namespace}|${id.name}`;
}

/** Two objects with the same identity would overwrite each other in the cluster. */
function duplicates(objects: readonly SourcedObject[]): Violation[] {
  const seen = new Map<string, SourcedObject>();
  const out: Violation[] = [];
  for (const src of objects) {
    const id = objectId(src.obj);
    const k = identity(src);
    const first = seen.get(k);
    if (first) {
      const v: Violation = { file: src.file, ...id, rule: 'schema', reason: `duplicates the object in ${first.file}` };
      beyondServer.add(v);
      out.push(v);
    } else seen.set(k, src);
  }
  return out;
}

/** Runs every proof over one set of objects. */
export async function proveAll(
  objects: SourcedObject[],
  options: Pick<CheckOptions, 'inventory' | 'facts' | 'matrix' | 'matrixFile'>,
): Promise<Violation[]> {
  await prepareSchemas(objects);
  const context = {
    objects,
    cluster: buildCluster(objects, options.facts),
    inventory: options.inventory,
    matrix: options.matrix,
    matrixFile: options.matrixFile ?? 'the network matrix',
  };
  const verdicts = await Promise.all(rules.map((r) => r.prove(context)));
  return [...duplicates(objects), ...verdicts.flat()].sort(compare);
}

function violationKey(v: Violation): string {
  return `${v.file}\0${v.kind}\0${v.namespace}\0${v.name}\0${v.rule}\0${v.reason}`;
}

/**
 * Proves the platform, or — with `paths` — the given manifests applied on top of it: the
 * violations reported are those the manifests add to the platform's own (so a dry run blames
 * the manifests, including the platform objects they break, e.g. a second Service that a
 * ServiceMonitor now matches).
 */
export async function runCheck(options: CheckOptions): Promise<CheckResult> {
  const started = performance.now();
  const cwd = options.cwd ?? process.cwd();
  const deployDir = resolve(cwd, options.deployDir ?? 'deploy');
  const paths = (options.paths ?? []).map((p) => resolve(cwd, p));
  const dryRun = paths.length > 0;
  const tested = new Set(paths.flatMap((p) => manifestFiles(p)));
  const baseFiles = manifestFiles(deployDir).filter((f) => !tested.has(f));
  const base = loadManifests(baseFiles, !dryRun, cwd);
  let facts = options.facts;
  let stage: Awaited<ReturnType<typeof renderCharts>> | undefined;
  if (options.charts) {
    stage = await renderCharts(helmApplications(base), {
      source: options.charts,
      kubeVersion: options.kubeVersion ?? kubeVersionOf(options.inventory),
      apiVersions: crdApiVersions(base),
      underTest: !dryRun,
      onProgress: options.onProgress,
    });
    base.push(...stage.objects);
    facts = withRenderedCharts(facts, new Set(stage.charts.map((c) => c.component)));
  }
  const extra = dryRun ? loadManifests([...tested], true, cwd) : [];
  // Applying an object that exists replaces it: the dry run proves the updated platform.
  const replaced = new Set(extra.map((o) => identity(o)));
  const objects = [...base.filter((o) => !replaced.has(identity(o))), ...extra];
  const proof = { ...options, facts };
  let violations = await proveAll(objects, proof);
  if (dryRun) {
    const before = new Set((await proveAll(base, proof)).map(violationKey));
    violations = violations.filter((v) => !before.has(violationKey(v)));
  } else if (stage) {
    violations = [...stage.violations, ...violations].sort(compare);
  }
  let server: ServerSummary | undefined;
  if (options.server) {
    const stage = await serverStage(options.server, base, dryRun ? extra : objects, facts, options.onProgress);
    server = stage.summary;
    violations = mergeServerVerdicts(violations, stage.result).sort(compare);
  }
  const constraints = objects.filter((o) => o.obj.apiVersion?.startsWith('constraints.gatekeeper.sh/')).length;
  return {
    violations,
    objects: objects.length,
    rules: builtinRules.length + constraints,
    ms: performance.now() - started,
    ...(stage ? { charts: { helm: stage.helm, rendered: stage.charts } } : {}),
    described: facts.components
      .filter((c) => (c.workloads ?? []).some((w) => (w.origin ?? 'chart') === 'chart'))
      .map((c) => c.name),
    ...(server ? { server } : {}),
  };
}

/**
 * Runs the server stage, on the given cluster or on a kube-apiserver started for it (and stopped
 * after). `setup` holds the namespaces and CRDs to create, `objects` what is applied in dry run.
 */
async function serverStage(
  target: NonNullable<CheckOptions['server']>,
  setup: SourcedObject[],
  objects: SourcedObject[],
  facts: PlatformFacts,
  onProgress: CheckOptions['onProgress'],
): Promise<{ result: ServerStage; summary: ServerSummary }> {
  let started: Awaited<ReturnType<typeof startServer>> | undefined;
  let api: ApiClient | undefined;
  try {
    if ('start' in target) {
      onProgress?.('server: starting kube-apiserver and etcd from the tool cache');
      started = await startServer();
    }
    api = new ApiClient('start' in target ? (started?.kubeconfig ?? '') : target.kubeconfig);
    onProgress?.(`server: applying ${objects.length} objects in dry run on ${api.server}`);
    const result = await proveOnServer(api, setup, objects, facts.components);
    const summary: ServerSummary = {
      server: started ? `${result.server} (started for this run)` : `${result.server} at ${api.server}`,
      startupMs: started?.startupMs,
      applyMs: result.applyMs,
      judged: result.judged.size,
      skipped: result.skipped.map((s) => ({ file: s.object.file, ...objectId(s.object.obj), reason: s.reason })),
      notes: result.notes,
    };
    return { result, summary };
  } finally {
    api?.close();
    await started?.close();
  }
}

/** kube-apiserver and etcd from the tool cache (exit 5 when either is missing), via @lumen/testkit. */
async function startServer() {
  const apiserverBin = findEngine('kube-apiserver');
  const etcdBin = findEngine('etcd');
  const { startKubeApiserver } = await import('@lumen/testkit/kube-apiserver');
  try {
    return await startKubeApiserver({ apiserverBin, etcdBin });
  } catch (err) {
    throw new CheckError(CheckErrorCode.engineFailed, `kube-apiserver did not start: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/**
 * The server is the judge of schema and Pod Security for every object it judged: the offline
 * models' verdicts on those objects are replaced by the server's. What the server does not see
 * stays (duplicates, image-reference syntax, objects it could not be given).
 */
function mergeServerVerdicts(offline: Violation[], stage: ServerStage): Violation[] {
  const judged = new Set([...stage.judged].map((s) => identityOf(s.file, objectId(s.obj))));
  const replaced = (v: Violation) =>
    (v.rule === 'schema' || v.rule === 'pod-security') && !beyondServer.has(v) && judged.has(identityOf(v.file, v));
  return [...offline.filter((v) => !replaced(v)), ...stage.violations];
}

function identityOf(file: string, id: { kind: string; namespace: string; name: string }): string {
  return `${file}\0${id.kind}\0${id.namespace}\0${id.name}`;
}

/** The Kubernetes version of the inventory's K3s (`v1.36.4+k3s1`), which charts are rendered for. */
export function kubeVersionOf(inventory: InventoryView): string {
  const k3s = inventory.files?.find((f) => /^k3s(-|$)/.test(f.name) && /^v?\d+\.\d+\.\d+/.test(f.version));
  if (!k3s) {
    throw new CheckError(
      CheckErrorCode.usage,
      'the inventory carries no K3s binary (files.yaml k3s-*), so the Kubernetes version to render charts for is unknown',
    );
  }
  return k3s.version;
}

/** Drops the hand-written chart workloads of components whose chart was rendered (operator pods stay). */
function withRenderedCharts(facts: PlatformFacts, rendered: ReadonlySet<string>): PlatformFacts {
  return {
    ...facts,
    components: facts.components.map((c) =>
      rendered.has(c.name) ? { ...c, workloads: (c.workloads ?? []).filter((w) => w.origin === 'operator') } : c,
    ),
  };
}
