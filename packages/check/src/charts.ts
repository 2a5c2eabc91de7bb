/**
 * The chart stage of `lumen check`: every Helm chart of the platform rendered by the real helm,
 * exactly as Argo CD renders it (release name, destination namespace, the Application's values,
 * the K3s Kubernetes version, the API versions the platform's CRDs provide, CRDs included, hooks
 * kept as Argo CD keeps them), so that every proof runs on what the chart really deploys instead
 * of a hand-written description of it.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chartReference, formatReference, MediaType, parseManifest, Registry } from '@lumen/oci';
import { readBundle } from '@lumen/supply';
import { parse as parseYaml } from 'yaml';
import { isClusterScoped } from './cluster.ts';
import { findEngine, runEngine } from './engines.ts';
import { CheckError, CheckErrorCode } from './errors.ts';
import { apiGroup, objectId, parseManifests, servedCrdVersions } from './manifests.ts';
import { allContainers, podOf } from './pod-spec.ts';
import type { K8sObject, SourcedObject, Violation } from './types.ts';

/** Where the chart archives or sources come from. */
export type ChartSource =
  /** A directory of unpacked charts (`DIR/<chart>/Chart.yaml`) or archives (`DIR/<chart>-<version>.tgz`). */
  | { kind: 'dir'; dir: string }
  /** A bundle made by `lumen bundle create`. */
  | { kind: 'bundle'; dir: string }
  /** A registry holding the charts as Helm OCI artifacts (the airgap registry). */
  | { kind: 'registry'; host: string; plainHttp: boolean };

/** One chart source of an Argo CD Application. */
export interface HelmApplication {
  /** The Application object. */
  app: SourcedObject;
  /** Component (the Application's `lumen.dev/component` label, else its name). */
  component: string;
  releaseName: string;
  namespace: string;
  chart: string;
  version: string;
  repoURL: string;
  /** Values in the order Argo CD merges them: `values` text, then `valuesObject`. */
  values: unknown[];
  /** `--set` parameters. */
  parameters: Array<{ name: string; value: string; forceString?: boolean }>;
}

/** What a chart rendered to, for the summary. */
export interface RenderedChart {
  component: string;
  chart: string;
  version: string;
  objects: number;
  images: string[];
}

export interface ChartStageResult {
  objects: SourcedObject[];
  violations: Violation[];
  charts: RenderedChart[];
  /** `helm version --short` of the binary used. */
  helm: string;
}

interface HelmSourceSpec {
  chart?: string;
  repoURL?: string;
  targetRevision?: string;
  helm?: {
    releaseName?: string;
    values?: string;
    valuesObject?: unknown;
    parameters?: Array<{ name?: string; value?: string; forceString?: boolean }>;
  };
}

/** Every Helm chart source of the Argo CD Applications among `objects`. */
export function helmApplications(objects: readonly SourcedObject[]): HelmApplication[] {
  const out: HelmApplication[] = [];
  for (const src of objects) {
    const { obj } = src;
    if (obj.kind !== 'Application' || apiGroup(obj.apiVersion) !== 'argoproj.io') continue;
    const spec = (obj.spec ?? {}) as {
      source?: HelmSourceSpec;
      sources?: HelmSourceSpec[];
      destination?: { namespace?: string };
    };
    const name = obj.metadata?.name ?? '?';
    for (const s of [spec.source, ...(spec.sources ?? [])]) {
      if (!s?.chart) continue;
      const values: unknown[] = [];
      if (typeof s.helm?.values === 'string' && s.helm.values.trim() !== '') values.push(parseYaml(s.helm.values));
      if (s.helm?.valuesObject !== undefined) values.push(s.helm.valuesObject);
      out.push({
        app: src,
        component: obj.metadata?.labels?.['lumen.dev/component'] ?? name,
        releaseName: s.helm?.releaseName ?? name,
        namespace: spec.destination?.namespace ?? 'default',
        chart: s.chart,
        version: s.targetRevision ?? '',
        repoURL: s.repoURL ?? '',
        values,
        parameters: (s.helm?.parameters ?? []).flatMap((p) =>
          typeof p.name === 'string'
            ? [{ name: p.name, value: String(p.value ?? ''), forceString: p.forceString }]
            : [],
        ),
      });
    }
  }
  return out;
}

function chartYaml(dir: string): { name?: string; version?: string } | undefined {
  try {
    return parseYaml(readFileSync(join(dir, 'Chart.yaml'), 'utf8')) as { name?: string; version?: string };
  } catch {
    return undefined;
  }
}

/** Index of a charts directory: `chart@version` → path, plus the versions seen per chart. */
function indexDir(dir: string): { paths: Map<string, string>; versions: Map<string, string[]> } {
  const paths = new Map<string, string>();
  const versions = new Map<string, string[]>();
  let entries: string[];
  try {
    entries = readdirSync(dir).sort();
  } catch (err) {
    throw new CheckError(CheckErrorCode.unreadable, `cannot read --charts ${dir}: ${(err as Error).message}`);
  }
  const add = (name: string, version: string, path: string) => {
    paths.set(`${name}@${version}`, path);
    versions.set(name, [...(versions.get(name) ?? []), version]);
  };
  for (const entry of entries) {
    const path = join(dir, entry);
    if (entry.endsWith('.tgz')) {
      const m = /^(.+)-(v?\d+\.\d+\.\d+.*)\.tgz$/.exec(entry);
      if (m?.[1] && m[2]) add(m[1], m[2], path);
      continue;
    }
    if (!statSync(path).isDirectory()) continue;
    const meta = chartYaml(path);
    if (meta?.name && meta.version) add(meta.name, String(meta.version), path);
  }
  return { paths, versions };
}

/** Hands out chart paths (a directory or a `.tgz`) for `chart@version` from one source. */
interface ChartFetcher {
  describe: string;
  get(app: HelmApplication): Promise<string | { missing: string }>;
  close(): void;
}

function dirFetcher(dir: string): ChartFetcher {
  const { paths, versions } = indexDir(dir);
  return {
    describe: dir,
    async get(app) {
      const found = paths.get(`${app.chart}@${app.version}`);
      if (found) return found;
      const other = versions.get(app.chart);
      return {
        missing: `chart ${app.chart} ${app.version} is not in ${dir}${other ? ` (it has ${other.join(', ')})` : ''}`,
      };
    },
    close() {},
  };
}

/** Writes a chart archive into a private temporary directory (removed by `close`). */
function archiveWriter(): { write(name: string, bytes: Uint8Array): string; close(): void } {
  let dir: string | undefined;
  return {
    write(name, bytes) {
      dir ??= mkdtempSync(join(tmpdir(), 'lumen-charts-'));
      const path = join(dir, name);
      writeFileSync(path, bytes);
      return path;
    },
    close() {
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

function chartLayer(manifestBytes: Uint8Array, what: string): string {
  let manifest: ReturnType<typeof parseManifest>['manifest'];
  try {
    manifest = parseManifest(manifestBytes).manifest;
  } catch (err) {
    throw new CheckError(CheckErrorCode.chartSource, `${what}: ${(err as Error).message}`, { cause: err });
  }
  const layer = 'layers' in manifest ? manifest.layers.find((l) => l.mediaType === MediaType.helmChart) : undefined;
  if (!layer?.digest) throw new CheckError(CheckErrorCode.chartSource, `${what} is not a Helm chart artifact`);
  return layer.digest;
}

async function bundleFetcher(dir: string): Promise<ChartFetcher> {
  let opened: Awaited<ReturnType<typeof readBundle>>;
  try {
    opened = await readBundle(dir);
  } catch (err) {
    throw new CheckError(CheckErrorCode.unreadable, `cannot read --bundle ${dir}: ${(err as Error).message}`);
  }
  const { layout, manifest } = opened;
  const files = archiveWriter();
  return {
    describe: `bundle ${dir}`,
    async get(app) {
      const entry = manifest.charts.find((c) => c.chart === app.chart && c.version === app.version);
      if (!entry) {
        const other = manifest.charts.filter((c) => c.chart === app.chart).map((c) => c.version);
        return {
          missing: `chart ${app.chart} ${app.version} is not in bundle ${dir}${other.length ? ` (it has ${other.join(', ')})` : ''}`,
        };
      }
      const layer = chartLayer(await layout.readBlob(entry.digest), `bundle chart ${app.chart} ${app.version}`);
      return files.write(`${app.chart}-${app.version}.tgz`, await layout.readBlob(layer));
    },
    close: files.close,
  };
}

function registryFetcher(host: string, plainHttp: boolean): ChartFetcher {
  const registry = new Registry({ host, plainHttp, retries: 1 });
  const files = archiveWriter();
  return {
    describe: `registry ${host}`,
    async get(app) {
      // repoURL is `<registry>/<charts path>`: the chart lives at `<charts path>/<chart>:<version>`.
      const path = app.repoURL
        .replace(/^oci:\/\//, '')
        .split('/')
        .slice(1)
        .join('/');
      const ref = chartReference({ registry: host, path, chart: app.chart, version: app.version });
      const repo = ref.repository;
      let manifest: Awaited<ReturnType<Registry['getManifest']>>;
      try {
        manifest = await registry.getManifest(repo, ref.tag);
      } catch (err) {
        if ((err as { code?: string }).code === 'OCI_NOT_FOUND')
          return { missing: `chart ${app.chart} ${app.version} is not in ${host}/${repo}` };
        throw new CheckError(CheckErrorCode.chartSource, `registry ${host}: ${(err as Error).message}`, { cause: err });
      }
      const layer = chartLayer(manifest.bytes, formatReference(ref));
      try {
        return files.write(`${app.chart}-${app.version}.tgz`, await registry.getBlob(repo, layer));
      } catch (err) {
        throw new CheckError(CheckErrorCode.chartSource, `registry ${host}: ${(err as Error).message}`, { cause: err });
      }
    },
    close: files.close,
  };
}

async function openSource(source: ChartSource): Promise<ChartFetcher> {
  if (source.kind === 'dir') return dirFetcher(source.dir);
  if (source.kind === 'bundle') return bundleFetcher(source.dir);
  return registryFetcher(source.host, source.plainHttp);
}

/**
 * Helm hooks Argo CD runs (mapped to its sync hooks); objects whose hooks are all of the other
 * kinds (test, pre-delete, rollback) are skipped by Argo CD and never exist in the cluster.
 */
const argoHooks = new Set(['crd-install', 'pre-install', 'pre-upgrade', 'post-install', 'post-upgrade', 'post-delete']);

function runsUnderArgo(obj: K8sObject): boolean {
  const hook = obj.metadata?.annotations?.['helm.sh/hook'];
  if (hook === undefined) return true;
  return hook.split(',').some((h) => argoHooks.has(h.trim()));
}

/** Splits helm's output at its `---` separators, keeping each document's `# Source:` template path. */
function documents(stdout: string): Array<{ source: string; text: string }> {
  const out: Array<{ source: string; text: string }> = [];
  for (const text of stdout.split(/^---[ \t]*$/m)) {
    const source = /^# Source: (.+)$/m.exec(text)?.[1]?.trim();
    if (text.trim() === '' || /^(\s*#.*\n?)*\s*$/.test(text)) continue;
    out.push({ source: source ?? '?', text });
  }
  return out;
}

/** The first lines of helm's complaint, without its `Error:` prefix and the `Use --debug` hint. */
function helmError(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('Use --debug') && !l.startsWith('WARNING:'));
  return (
    lines
      .slice(0, 6)
      .join(' | ')
      .replace(/^Error: /, '') || 'helm failed without a message'
  );
}

/** `group/version` and `group/version/Kind` of every CRD among `objects`, as Argo CD passes them. */
export function crdApiVersions(objects: readonly SourcedObject[]): string[] {
  const out = new Set<string>();
  for (const { group, version, kind } of servedCrdVersions(objects)) {
    out.add(`${group}/${version}`);
    out.add(`${group}/${version}/${kind}`);
  }
  return [...out].sort();
}

function containerImages(obj: K8sObject): string[] {
  const pod = podOf(obj);
  return pod ? allContainers(pod.spec).flatMap(({ container }) => (container.image ? [container.image] : [])) : [];
}

/** Runs `helm template` for one Application source; the objects carry a file that names the chart and template. */
async function renderOne(
  helm: string,
  app: HelmApplication,
  chartPath: string,
  kubeVersion: string,
  apiVersions: readonly string[],
  workDir: string,
  underTest: boolean,
): Promise<{ objects: SourcedObject[]; error?: string }> {
  const args = ['template', app.releaseName, chartPath, '--namespace', app.namespace, '--include-crds', '--skip-tests'];
  args.push('--kube-version', kubeVersion);
  for (const v of apiVersions) args.push('--api-versions', v);
  app.values.forEach((values, i) => {
    const file = join(workDir, `${app.component}-${app.chart}-values-${i}.json`);
    writeFileSync(file, JSON.stringify(values ?? {}));
    args.push('--values', file);
  });
  for (const p of app.parameters) args.push(p.forceString ? '--set-string' : '--set', `${p.name}=${p.value}`);
  const run = await runEngine(helm, args);
  if (run.code !== 0) return { objects: [], error: helmError(run.stderr) };
  const objects: SourcedObject[] = [];
  const prefix = `${app.chart}/`;
  for (const doc of documents(run.stdout)) {
    const template = doc.source.startsWith(prefix) ? doc.source.slice(prefix.length) : doc.source;
    const file = `chart:${app.chart}@${app.version}/${template}`;
    let parsed: SourcedObject[];
    try {
      parsed = parseManifests(doc.text, file, underTest);
    } catch (err) {
      return { objects: [], error: `${file}: ${(err as Error).message}` };
    }
    for (const src of parsed) {
      if (!runsUnderArgo(src.obj)) continue;
      // Argo CD applies a namespaced object without a namespace into the Application's destination.
      if (!isClusterScoped(src.obj) && src.obj.kind !== 'CustomResourceDefinition') {
        src.obj.metadata ??= {};
        src.obj.metadata.namespace ??= app.namespace;
      }
      objects.push({ ...src, component: app.component, chart: `${app.chart}@${app.version}` });
    }
  }
  return { objects };
}

/** Options of {@link renderCharts}. */
export interface RenderChartsOptions {
  source: ChartSource;
  /** Kubernetes version the cluster reports (K3s: `v1.36.4+k3s1`). */
  kubeVersion: string;
  /** API versions known besides the built-ins (CRDs in deploy/); the charts' own CRDs are added. */
  apiVersions?: readonly string[];
  /** helm processes at once (default 2). */
  concurrency?: number;
  /** Marks the rendered objects as under test (a platform check), as deploy/'s objects are. */
  underTest?: boolean;
  /** Progress lines (one per chart), e.g. to stderr. */
  onProgress?: (line: string) => void;
}

/**
 * Renders the chart of every Helm Application with the real helm. A chart that is missing from
 * the source or fails to render is a violation (rule `chart`) on its Application; the others'
 * objects are returned for every proof to run on. Rendering is done twice when the charts bring
 * CRDs of their own, so that each chart sees the API versions of the whole platform, as Argo CD
 * does once every wave has synced.
 */
export async function renderCharts(
  apps: readonly HelmApplication[],
  options: RenderChartsOptions,
): Promise<ChartStageResult> {
  const helm = findEngine('helm');
  const version = await runEngine(helm, ['version', '--short']);
  const fetcher = await openSource(options.source);
  const workDir = mkdtempSync(join(tmpdir(), 'lumen-helm-'));
  const violations: Violation[] = [];
  try {
    const paths = new Map<HelmApplication, string>();
    for (const app of apps) {
      const got = await fetcher.get(app);
      if (typeof got === 'string') paths.set(app, got);
      else violations.push({ file: app.app.file, ...objectId(app.app.obj), rule: 'chart', reason: got.missing });
    }
    const renderAll = async (apiVersions: readonly string[]) => {
      const results = new Map<HelmApplication, Awaited<ReturnType<typeof renderOne>>>();
      const queue = [...paths.keys()];
      const worker = async () => {
        for (let app = queue.shift(); app; app = queue.shift()) {
          const started = performance.now();
          const r = await renderOne(
            helm,
            app,
            paths.get(app) as string,
            options.kubeVersion,
            apiVersions,
            workDir,
            options.underTest ?? true,
          );
          results.set(app, r);
          options.onProgress?.(
            `helm template ${app.chart} ${app.version}: ${r.error ? 'failed' : `${r.objects.length} objects`} (${Math.round(performance.now() - started)} ms)`,
          );
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 2) }, worker));
      return results;
    };
    const base = [...(options.apiVersions ?? [])];
    let results = await renderAll(base);
    const all = crdApiVersions([...results.values()].flatMap((r) => r.objects));
    const merged = [...new Set([...base, ...all])].sort();
    if (merged.length > new Set(base).size) results = await renderAll(merged);
    const objects: SourcedObject[] = [];
    const charts: RenderedChart[] = [];
    for (const app of apps) {
      const r = results.get(app);
      if (!r) continue;
      if (r.error) {
        violations.push({
          file: app.app.file,
          ...objectId(app.app.obj),
          rule: 'chart',
          reason: `helm template ${app.chart} ${app.version} failed: ${r.error}`,
        });
        continue;
      }
      objects.push(...r.objects);
      charts.push({
        component: app.component,
        chart: app.chart,
        version: app.version,
        objects: r.objects.length,
        images: [...new Set(r.objects.flatMap((o) => containerImages(o.obj)))].sort(),
      });
    }
    return { objects, violations, charts, helm: version.stdout.trim() || 'helm' };
  } finally {
    fetcher.close();
    rmSync(workDir, { recursive: true, force: true });
  }
}
