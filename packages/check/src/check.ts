/**
 * `lumen check` as a function: loads the rendered platform (and, for an admission dry run,
 * the manifests under test on top of it) and runs every proof. Takes all its inputs as
 * arguments so tests can run it on fixtures.
 */
import { resolve } from 'node:path';
import { checkAdmission } from './admission.ts';
import { buildCluster } from './cluster.ts';
import { checkImages, checkSecrets, checkSelectors, checkSyncWaves } from './consistency.ts';
import { loadManifests, manifestFiles, objectId } from './manifests.ts';
import { checkNetwork } from './network-check.ts';
import { checkPodSecurity } from './pod-security.ts';
import { checkSchema, prepareSchemas } from './schema.ts';
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
  /** Where the matrix is declared, for messages (default `platform/src/network-matrix.ts`). */
  matrixFile?: string;
  /** Directory file names are shown relative to (default `process.cwd()`). */
  cwd?: string;
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
}

/** The proofs that are not admission Constraints. */
export const builtinRules = [
  'schema',
  'pod-security',
  'network',
  'selector',
  'sync-wave',
  'plaintext-secret',
  'image-pinned',
];

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
    if (first) out.push({ file: src.file, ...id, rule: 'schema', reason: `duplicates the object in ${first.file}` });
    else seen.set(k, src);
  }
  return out;
}

/** Runs every proof over one set of objects. */
export async function proveAll(
  objects: SourcedObject[],
  options: Pick<CheckOptions, 'inventory' | 'facts' | 'matrix' | 'matrixFile'>,
): Promise<Violation[]> {
  await prepareSchemas(objects);
  const cluster = buildCluster(objects, options.facts);
  return [
    ...duplicates(objects),
    ...checkSchema(objects),
    ...checkAdmission(cluster),
    ...checkPodSecurity(cluster),
    ...checkNetwork(cluster, options.matrix, options.matrixFile ?? 'platform/src/network-matrix.ts'),
    ...checkSelectors(cluster),
    ...checkSyncWaves(cluster),
    ...checkSecrets(cluster),
    ...checkImages(cluster, options.inventory),
  ].sort(compare);
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
  const extra = dryRun ? loadManifests([...tested], true, cwd) : [];
  // Applying an object that exists replaces it: the dry run proves the updated platform.
  const replaced = new Set(extra.map((o) => identity(o)));
  const objects = [...base.filter((o) => !replaced.has(identity(o))), ...extra];
  let violations = await proveAll(objects, options);
  if (dryRun) {
    const before = new Set((await proveAll(base, options)).map(violationKey));
    violations = violations.filter((v) => !before.has(violationKey(v)));
  }
  const constraints = objects.filter((o) => o.obj.apiVersion?.startsWith('constraints.gatekeeper.sh/')).length;
  return {
    violations,
    objects: objects.length,
    rules: builtinRules.length + constraints,
    ms: performance.now() - started,
  };
}
