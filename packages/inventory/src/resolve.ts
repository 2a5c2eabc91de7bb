/**
 * Turns inventory entries into the references other parts of lumen write: pinned airgap image
 * references for manifests, Argo CD chart sources, upstream references for the bundle, and the
 * upstream hosts the K3s mirror config must cover.
 */

import { join } from 'node:path';
import { chartReference, formatReference, OciError, parseReferenceParts, type ReferenceParts } from '@lumen/oci';
import { InventoryError, InventoryErrorCode } from './errors.ts';
import type { Chart, Image, Inventory, InventoryFile } from './load.ts';
import { displayPath, INVENTORY_FILES, notLockedReason } from './load.ts';

/** A parsed image reference, as written. `host`, `tag` and `digest` are undefined when absent. */
export type ImageReference = ReferenceParts;

/**
 * Parses `[host[:port]/]path[:tag][@digest]` with @lumen/oci's parser (the distribution-spec
 * grammar). Adds no defaults (no implicit `docker.io` or `latest`): callers that need a fully
 * qualified reference check `host` themselves.
 *
 * @throws {InventoryError} `INVENTORY_BAD_REFERENCE` when the text is not a reference.
 * @example parseReference('192.168.2.2:5000/lumen-api') // { host: '192.168.2.2:5000', path: 'lumen-api', tag: undefined, digest: undefined }
 */
export function parseReference(text: string): ImageReference {
  try {
    return parseReferenceParts(text);
  } catch (err) {
    if (err instanceof OciError) throw new InventoryError(InventoryErrorCode.badReference, err.message, { cause: err });
    throw err;
  }
}

/**
 * The image called `name`.
 * @throws {InventoryError} `INVENTORY_UNKNOWN_IMAGE` when there is none.
 */
export function findImage(inv: Inventory, name: string): Image {
  const img = inv.images.find((i) => i.name === name);
  if (!img)
    throw new InventoryError(
      InventoryErrorCode.unknownImage,
      `no image named '${name}' in ${displayPath(join(inv.dir, INVENTORY_FILES.images))}`,
    );
  return img;
}

/**
 * The chart called `name`.
 * @throws {InventoryError} `INVENTORY_UNKNOWN_CHART` when there is none.
 */
export function findChart(inv: Inventory, name: string): Chart {
  const chart = inv.charts.find((c) => c.name === name);
  if (!chart)
    throw new InventoryError(
      InventoryErrorCode.unknownChart,
      `no chart named '${name}' in ${displayPath(join(inv.dir, INVENTORY_FILES.charts))}`,
    );
  return chart;
}

/**
 * The file called `name`.
 * @throws {InventoryError} `INVENTORY_UNKNOWN_FILE` when there is none.
 */
export function findFile(inv: Inventory, name: string): InventoryFile {
  const file = inv.files.find((f) => f.name === name);
  if (!file)
    throw new InventoryError(
      InventoryErrorCode.unknownFile,
      `no file named '${name}' in ${displayPath(join(inv.dir, INVENTORY_FILES.files))}`,
    );
  return file;
}

function requireImageDigest(inv: Inventory, img: Image): string {
  if (img.digest) return img.digest;
  const lockFile = displayPath(join(inv.dir, INVENTORY_FILES.lock));
  const reason =
    img.origin === 'build'
      ? `no digest for tag ${img.tag}: a build image is pinned by 'lumen release bump' after CI pushed it`
      : notLockedReason(inv.lock.images[img.name]?.tag, img.tag, 'tag');
  throw new InventoryError(InventoryErrorCode.notLocked, `${lockFile}: images.${img.name}: ${reason}`);
}

/**
 * The pinned reference of an image in the airgap registry, for manifests:
 * `<site.registry>/<airgapPath>:<tag>@<digest>`.
 *
 * @throws {InventoryError} `INVENTORY_UNKNOWN_IMAGE` for an unknown name, `INVENTORY_NOT_LOCKED` when the
 *   image has no digest for its tag.
 * @example imageRef(inv, 'redis') // '192.168.2.2:5000/library/redis:8.2.2@sha256:…'
 */
export function imageRef(inv: Inventory, name: string): string {
  const img = findImage(inv, name);
  return `${inv.site.registry}/${img.airgapPath}:${img.tag}@${requireImageDigest(inv, img)}`;
}

/** Options of {@link upstreamRef}. */
export interface UpstreamRefOptions {
  /** Append `@<digest>` from the lock (throws `INVENTORY_NOT_LOCKED` when absent). Default true. */
  pinned?: boolean;
}

/**
 * The upstream reference to pull an image from: `<source>:<tag>[@<digest>]`.
 * @throws {InventoryError} `INVENTORY_UNKNOWN_IMAGE`; `INVENTORY_NOT_LOCKED` when pinned and unlocked;
 *   `INVENTORY_INVALID` for a `build` image, which has no upstream.
 */
export function upstreamRef(inv: Inventory, name: string, options: UpstreamRefOptions = {}): string {
  const img = findImage(inv, name);
  if (!img.source)
    throw new InventoryError(
      InventoryErrorCode.invalid,
      `image '${name}' is built by lumen's CI (origin: build) and has no upstream`,
    );
  const base = `${img.source}:${img.tag}`;
  return options.pinned === false ? base : `${base}@${requireImageDigest(inv, img)}`;
}

/**
 * The airgap repository path of an upstream reference: its path without the registry host and
 * without tag or digest (`docker.io/library/redis:8` → `library/redis`). K3s mirrors with the
 * same path (no rewrite needed beyond the host), so images pulled by their upstream name resolve
 * in the airgap registry.
 *
 * @throws {InventoryError} `INVENTORY_BAD_REFERENCE` when `source` is not a reference or has no host.
 */
export function resolveAirgapPath(source: string): string {
  const ref = parseReference(source);
  if (!ref.host)
    throw new InventoryError(
      InventoryErrorCode.badReference,
      `'${source}' has no registry host: write it fully qualified (docker.io/${ref.path})`,
    );
  return ref.path;
}

/**
 * The upstream registry hosts of the inventory's images, sorted and unique (`docker.io`, `ghcr.io`,
 * `quay.io`, `registry.k8s.io`, …): exactly the hosts the K3s `registries.yaml` must mirror to the
 * airgap registry. Build images (already in the airgap registry) add none.
 */
export function mirrorHosts(inv: Pick<Inventory, 'images'>): string[] {
  return [...new Set(inv.images.flatMap((i) => (i.upstreamHost ? [i.upstreamHost] : [])))].sort();
}

/**
 * The inventory image an image reference points at, or undefined. Accepts the airgap form
 * (`<registry>/<path>:<tag>@<digest>`) and the upstream form (`docker.io/<path>:<tag>`); the tag
 * and digest, when the reference carries them, must match the inventory's. For `lumen check`:
 * "is this container image one the inventory carries?".
 */
export function findImageByReference(inv: Inventory, reference: string | ImageReference): Image | undefined {
  const ref = typeof reference === 'string' ? parseReference(reference) : reference;
  return inv.images.find(
    (img) =>
      img.airgapPath === ref.path &&
      (ref.host === inv.site.registry || (ref.host !== undefined && ref.host === img.upstreamHost)) &&
      (ref.tag === undefined || ref.tag === img.tag) &&
      (ref.digest === undefined || ref.digest === img.digest),
  );
}

/** An Argo CD Application `source` for a chart in the airgap registry. */
export interface ChartSource {
  /** The Helm OCI repository in the airgap registry, without scheme (`192.168.2.2:5000/charts`), as Argo CD's Helm-type OCI repositories are written. */
  repoURL: string;
  /** Chart name. */
  chart: string;
  /** Exact chart version. */
  targetRevision: string;
}

/**
 * The Argo CD source of a chart, served from the airgap registry as a Helm OCI artifact.
 * `repoURL` has no `oci://` scheme: with the `chart` field, Argo CD's Helm-type OCI repository form
 * wants the bare `host/path` (the repository Secret carries `enableOCI: "true"`, see {@link chartRepository}).
 *
 * @throws {InventoryError} `INVENTORY_UNKNOWN_CHART` for an unknown name.
 * @example chartRef(inv, 'traefik') // { repoURL: '192.168.2.2:5000/charts', chart: 'traefik', targetRevision: '37.1.2' }
 */
export function chartRef(inv: Inventory, name: string): ChartSource {
  const chart = findChart(inv, name);
  return { repoURL: chartRepository(inv).url, chart: chart.chart, targetRevision: chart.version };
}

/** The airgap registry's Helm OCI repository, for Argo CD's repository Secret and for `bundle push`. */
export interface ChartRepository {
  /** `host:port/chartsPath`, no scheme. */
  url: string;
  /** `oci://host:port/chartsPath`, as `helm pull` and `helm push` write it. */
  ociUrl: string;
  /** True when the registry speaks plain HTTP (Argo CD needs `insecureOCIForceHttp: "true"`). */
  plainHttp: boolean;
}

/** Where the airgap registry serves charts. */
export function chartRepository(inv: Inventory): ChartRepository {
  const url = `${inv.site.registry}/${inv.site.chartsPath}`;
  return { url, ociUrl: `oci://${url}`, plainHttp: inv.site.plainHttp };
}

/**
 * The OCI reference a chart is pushed to in the airgap registry: `<registry>/<chartsPath>/<chart>:<tag>`,
 * where `+` in the version becomes `_` (`chartReference` of @lumen/oci).
 * @throws {InventoryError} `INVENTORY_UNKNOWN_CHART`.
 */
export function chartOciRef(inv: Inventory, name: string): string {
  const chart = findChart(inv, name);
  const { registry, chartsPath: path } = inv.site;
  return formatReference(chartReference({ registry, path, chart: chart.chart, version: chart.version }));
}

/**
 * The digest of a chart archive.
 * @throws {InventoryError} `INVENTORY_UNKNOWN_CHART`, or `INVENTORY_NOT_LOCKED` when the lock has none for its version.
 */
export function chartDigest(inv: Inventory, name: string): string {
  const chart = findChart(inv, name);
  if (chart.digest) return chart.digest;
  throw new InventoryError(
    InventoryErrorCode.notLocked,
    `${displayPath(join(inv.dir, INVENTORY_FILES.lock))}: charts.${name}: ${notLockedReason(inv.lock.charts[name]?.version, chart.version, 'version')}`,
  );
}
