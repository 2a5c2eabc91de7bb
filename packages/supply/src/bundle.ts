import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type BlobSource, Layout, LayoutArchive } from '@lumen/oci';
import { SupplyError, SupplyErrorCode } from './errors.ts';

/**
 * The bundle's own manifest, next to the OCI layout's index.json: every image, chart and file
 * it carries with their digests, and the size of every blob, so `bundle verify` can prove the
 * bundle complete and intact without a network. Written last (atomically) by `bundle create`:
 * a bundle without it is unfinished.
 */
export const bundleManifestFile = 'lumen-bundle.json';

/** Annotations lumen puts on index.json entries (besides `org.opencontainers.image.ref.name`). */
export const Annotation = {
  kind: 'io.lumen.kind',
  name: 'io.lumen.name',
} as const;

export interface BundleImage {
  /** Inventory name. */
  name: string;
  /** Upstream repository with host (`docker.io/library/redis`). */
  source: string;
  /** Repository path in the airgap registry (`library/redis`). */
  repository: string;
  tag: string;
  platforms: string[];
  /** Digest of the top-level manifest carried (what `lock.yaml` pins). */
  digest: string;
  /** What the upstream tag pointed at (differs from `digest` when the index was filtered to `platforms`). */
  upstreamDigest: string;
  mediaType: string;
  /** The cosign signature manifest carried along (`sha256-<hex>.sig`), when upstream had one. */
  signature?: { tag: string; digest: string };
}

export interface BundleChart {
  name: string;
  chart: string;
  version: string;
  /** Where it came from (`https://…` classic repository or `oci://…`). */
  repo: string;
  /** Repository path in the airgap registry (`charts/traefik`). */
  repository: string;
  /** OCI tag (`+` → `_`). */
  tag: string;
  /** Digest of the Helm OCI manifest. */
  digest: string;
  /** SHA-256 of the chart archive (what `lock.yaml` pins). */
  archiveDigest: string;
}

export interface BundleFile {
  name: string;
  /** Where it was downloaded from, or (`path`) where this repository built it. */
  url?: string;
  path?: string;
  version: string;
  platform?: string;
  digest: string;
  size: number;
}

export interface BundleManifest {
  bundleVersion: 1;
  created: string;
  images: BundleImage[];
  charts: BundleChart[];
  files: BundleFile[];
  /** Every blob of the bundle (manifests included) and its size. */
  blobs: Record<string, number>;
}

/**
 * Opens a finished bundle — a directory, or one archive file of it (`bundle.tar`, read in place) — : its blobs and
 * lumen-bundle.json.
 */
export async function readBundle(path: string): Promise<{ layout: BlobSource; manifest: BundleManifest }> {
  const isFile = (await stat(path).catch(() => undefined))?.isFile() === true;
  const layout: BlobSource = isFile ? await LayoutArchive.open(path) : await Layout.open(path);
  const text = isFile
    ? (await (layout as LayoutArchive).readMember(bundleManifestFile))?.toString('utf8')
    : await readFile(join(path, bundleManifestFile), 'utf8').catch(() => undefined);
  if (text === undefined) {
    throw new SupplyError(
      SupplyErrorCode.bundleInvalid,
      `${path} has no ${bundleManifestFile}: the bundle is unfinished (re-run 'lumen bundle create')`,
    );
  }
  const dir = path;
  let manifest: BundleManifest;
  try {
    manifest = JSON.parse(text) as BundleManifest;
  } catch {
    throw new SupplyError(SupplyErrorCode.bundleInvalid, `${join(dir, bundleManifestFile)} is not JSON`);
  }
  if (
    manifest?.bundleVersion !== 1 ||
    !Array.isArray(manifest.images) ||
    !Array.isArray(manifest.charts) ||
    typeof manifest.blobs !== 'object'
  ) {
    throw new SupplyError(SupplyErrorCode.bundleInvalid, `${join(dir, bundleManifestFile)}: unsupported bundle format`);
  }
  manifest.files ??= [];
  return { layout, manifest };
}
