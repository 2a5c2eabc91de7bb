import { gunzipSync } from 'node:zlib';
import {
  chartReference,
  digestOf,
  type ImageManifest,
  MediaType,
  parseManifest,
  type Registry,
  readTar,
  type TarEntry,
} from '@lumen/oci';
import { parse as parseYaml } from 'yaml';
import { type DownloadOptions, downloadBytes } from './download.ts';
import { SupplyError, SupplyErrorCode } from './errors.ts';

/** A chart as lumen stores and pushes it: a Helm OCI artifact (manifest, config, archive). */
export interface ChartArtifact {
  manifest: Buffer;
  manifestDigest: string;
  config: Buffer;
  archive: Buffer;
  /** SHA-256 of the `.tgz` archive: what lock.yaml pins. */
  archiveDigest: string;
}

/** How a chart version is written as an OCI tag (`chartTag` of @lumen/oci), for the users of @lumen/supply. */
export { chartTag } from '@lumen/oci';

/**
 * Fetches `chart` at exactly `version` from a classic Helm repository: `<repo>/index.yaml`,
 * then the archive URL it lists (relative URLs resolve against the repository). When the
 * index carries a `digest` for the entry, the archive must match it.
 */
export async function fetchClassicChart(
  repo: string,
  chart: string,
  version: string,
  options: DownloadOptions = {},
): Promise<Buffer> {
  const base = repo.endsWith('/') ? repo : `${repo}/`;
  const indexText = (await downloadBytes(new URL('index.yaml', base).toString(), options)).toString('utf8');
  let index: { entries?: Record<string, { version?: string; urls?: string[]; digest?: string }[]> };
  try {
    index = parseYaml(indexText, { maxAliasCount: 100 }) as typeof index;
  } catch (err) {
    throw new SupplyError(SupplyErrorCode.chartInvalid, `${base}index.yaml is not YAML: ${(err as Error).message}`);
  }
  const entries = index?.entries?.[chart] ?? [];
  const entry = entries.find((e) => e.version === version);
  if (!entry) {
    const near = entries
      .map((e) => e.version)
      .slice(0, 5)
      .join(', ');
    throw new SupplyError(
      SupplyErrorCode.chartNotFound,
      `chart ${chart} ${version} not in ${base}index.yaml${near ? ` (newest: ${near})` : ''}`,
    );
  }
  const url = entry.urls?.[0];
  if (!url)
    throw new SupplyError(SupplyErrorCode.chartInvalid, `chart ${chart} ${version} in ${base}index.yaml has no urls`);
  const archive = await downloadBytes(new URL(url, base).toString(), options);
  if (entry.digest && /^[a-f0-9]{64}$/.test(entry.digest) && digestOf(archive) !== `sha256:${entry.digest}`) {
    throw new SupplyError(
      SupplyErrorCode.lockMismatch,
      `chart ${chart} ${version}: archive hashes to ${digestOf(archive)}, index.yaml says sha256:${entry.digest}`,
    );
  }
  return archive;
}

/**
 * Fetches a chart stored as a Helm OCI artifact (`oci://host/path` + chart + version), keeping
 * the upstream manifest bytes (and so its digest).
 */
export async function fetchOciChart(
  registry: Registry,
  repoPath: string,
  chart: string,
  version: string,
  signal?: AbortSignal,
): Promise<ChartArtifact> {
  const { repository: repo, tag } = chartReference({ registry: registry.host, path: repoPath, chart, version });
  const m = await registry.getManifest(repo, tag, signal);
  const { manifest } = parseManifest(m.bytes, m.mediaType);
  if (!('layers' in manifest) || manifest.config.mediaType !== MediaType.helmConfig) {
    throw new SupplyError(
      SupplyErrorCode.chartInvalid,
      `${registry.host}/${repo}:${version} is not a Helm chart artifact`,
    );
  }
  const layer = manifest.layers.find((l) => l.mediaType === MediaType.helmChart);
  if (!layer) {
    throw new SupplyError(
      SupplyErrorCode.chartInvalid,
      `${registry.host}/${repo}:${version} has no chart content layer`,
    );
  }
  const opts = signal ? { signal } : {};
  const config = await registry.getBlob(repo, manifest.config.digest, { size: manifest.config.size, ...opts });
  const archive = await registry.getBlob(repo, layer.digest, { size: layer.size, ...opts });
  return { manifest: m.bytes, manifestDigest: m.digest, config, archive, archiveDigest: layer.digest };
}

/** Field order of Helm's `chart.Metadata` JSON, which is what `helm push` writes as the config blob. */
const metadataFields = [
  'name',
  'home',
  'sources',
  'version',
  'description',
  'keywords',
  'maintainers',
  'icon',
  'apiVersion',
  'condition',
  'tags',
  'appVersion',
  'deprecated',
  'annotations',
  'kubeVersion',
  'dependencies',
  'type',
] as const;

/**
 * Wraps a chart archive as a Helm OCI artifact the way `helm push` does: config = the chart's
 * Chart.yaml as JSON, one `chart.content` layer. Deterministic (no creation time), so the same
 * archive always gives the same manifest digest.
 */
export function chartArtifact(archive: Buffer, expected: { chart: string; version: string }): ChartArtifact {
  const meta = readChartYaml(archive);
  if (meta.name !== expected.chart || String(meta.version) !== expected.version) {
    throw new SupplyError(
      SupplyErrorCode.chartInvalid,
      `chart archive holds ${String(meta.name)} ${String(meta.version)}, expected ${expected.chart} ${expected.version}`,
    );
  }
  const ordered: Record<string, unknown> = {};
  for (const f of metadataFields) if (meta[f] !== undefined && meta[f] !== null && meta[f] !== '') ordered[f] = meta[f];
  const config = Buffer.from(JSON.stringify(ordered));
  const archiveDigest = digestOf(archive);
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.helmConfig, digest: digestOf(config), size: config.length },
    layers: [{ mediaType: MediaType.helmChart, digest: archiveDigest, size: archive.length }],
    annotations: {
      'org.opencontainers.image.title': expected.chart,
      'org.opencontainers.image.version': expected.version,
    },
  };
  const bytes = Buffer.from(JSON.stringify(manifest));
  return { manifest: bytes, manifestDigest: digestOf(bytes), config, archive, archiveDigest };
}

/** Reads `<chart>/Chart.yaml` out of a chart `.tgz` (a gzip'd ustar archive). */
export function readChartYaml(archive: Buffer): Record<string, unknown> {
  let tar: Buffer;
  try {
    tar = gunzipSync(archive);
  } catch {
    throw new SupplyError(SupplyErrorCode.chartInvalid, 'chart archive is not gzip');
  }
  let entries: TarEntry[];
  try {
    entries = [...readTar(tar)];
  } catch (err) {
    throw new SupplyError(SupplyErrorCode.chartInvalid, `chart archive: ${(err as Error).message}`);
  }
  for (const entry of entries) {
    if (entry.type === 'file' && /^[^/]+\/Chart\.yaml$/.test(entry.path)) {
      try {
        const meta = parseYaml(Buffer.from(entry.data).toString('utf8')) as unknown;
        if (typeof meta === 'object' && meta !== null) return meta as Record<string, unknown>;
      } catch {
        // fall through to the error below
      }
      throw new SupplyError(SupplyErrorCode.chartInvalid, `${entry.path} in the chart archive is not a YAML mapping`);
    }
  }
  throw new SupplyError(SupplyErrorCode.chartInvalid, 'chart archive has no <chart>/Chart.yaml');
}
