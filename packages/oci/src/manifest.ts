import { OciError, OciErrorCode, OciExitCode } from './errors.ts';

/** Media types lumen reads and writes (OCI image-spec v1.1, Docker image manifest v2 schema 2, Helm). */
export const MediaType = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  helmConfig: 'application/vnd.cncf.helm.config.v1+json',
  helmChart: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip',
  cosignSimpleSigning: 'application/vnd.dev.cosign.simplesigning.v1+json',
} as const;

/** `Accept` for manifest requests: Distribution answers 404 for OCI manifests unless their type is listed. */
export const manifestAccept = [
  MediaType.ociIndex,
  MediaType.ociManifest,
  MediaType.dockerList,
  MediaType.dockerManifest,
].join(', ');

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
  urls?: string[];
  artifactType?: string;
}

/** An OCI image index or a Docker manifest list. */
export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

/** An OCI or Docker image manifest (also Helm charts and cosign signatures). */
export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export type Manifest = ImageIndex | ImageManifest;

export function isIndexType(mediaType: string): boolean {
  return mediaType === MediaType.ociIndex || mediaType === MediaType.dockerList;
}

export function isManifestType(mediaType: string): boolean {
  return mediaType === MediaType.ociManifest || mediaType === MediaType.dockerManifest;
}

/**
 * Parses manifest bytes and determines the media type from the body's `mediaType` field,
 * falling back to the server's Content-Type (OCI manifests may omit the field).
 */
export function parseManifest(bytes: Uint8Array, contentType?: string): { mediaType: string; manifest: Manifest } {
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new OciError(OciErrorCode.manifestUnsupported, 'manifest is not JSON', OciExitCode.remote);
  }
  if (typeof body !== 'object' || body === null) {
    throw new OciError(OciErrorCode.manifestUnsupported, 'manifest is not a JSON object', OciExitCode.remote);
  }
  const m = body as Partial<ImageIndex & ImageManifest>;
  let mediaType = typeof m.mediaType === 'string' ? m.mediaType : (contentType?.split(';')[0]?.trim() ?? '');
  if (!isIndexType(mediaType) && !isManifestType(mediaType)) {
    // Bare OCI manifests/indexes without mediaType are legal: tell them apart by shape.
    if (Array.isArray(m.manifests)) mediaType = MediaType.ociIndex;
    else if (m.config && Array.isArray(m.layers)) mediaType = MediaType.ociManifest;
    else
      throw new OciError(
        OciErrorCode.manifestUnsupported,
        `unsupported manifest media type '${mediaType}'`,
        OciExitCode.remote,
      );
  }
  if (m.schemaVersion !== 2) {
    throw new OciError(
      OciErrorCode.manifestUnsupported,
      `unsupported manifest schemaVersion ${String(m.schemaVersion)}`,
      OciExitCode.remote,
    );
  }
  if (isIndexType(mediaType) ? !Array.isArray(m.manifests) : !(m.config && Array.isArray(m.layers))) {
    throw new OciError(OciErrorCode.manifestUnsupported, `malformed ${mediaType}`, OciExitCode.remote);
  }
  return { mediaType, manifest: body as Manifest };
}

/** Every blob and child manifest a manifest references (config first, then layers / children). */
export function referencedDescriptors(manifest: Manifest): Descriptor[] {
  if ('manifests' in manifest) return manifest.manifests;
  return [manifest.config, ...manifest.layers];
}

/** `os/arch[/variant]`. */
export function formatPlatform(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}

/** Parses `linux/arm64`, `linux/arm/v7`. */
export function parsePlatform(s: string): Platform {
  const [os, architecture, variant, extra] = s.split('/');
  if (!os || !architecture || extra !== undefined || variant === '') {
    throw new OciError(
      OciErrorCode.platformMissing,
      `invalid platform '${s}' (expected os/arch[/variant])`,
      OciExitCode.usage,
    );
  }
  return variant ? { os, architecture, variant } : { os, architecture };
}

function matches(wanted: Platform, have: Platform | undefined): boolean {
  if (!have || have.os !== wanted.os || have.architecture !== wanted.architecture) return false;
  if (wanted.variant === undefined) return true;
  // arm64 images are published both with and without the implied `v8` variant.
  const variant = have.variant ?? (have.architecture === 'arm64' ? 'v8' : undefined);
  return variant === wanted.variant;
}

/**
 * Picks one child manifest per wanted platform from an index. Attestation manifests
 * (`unknown/unknown`) never match. Throws OCI_PLATFORM_MISSING naming the platforms the
 * index does have when one is absent.
 */
export function selectPlatforms(index: ImageIndex, platforms: string[]): Descriptor[] {
  const chosen: Descriptor[] = [];
  for (const p of platforms) {
    const wanted = parsePlatform(p);
    const candidates = index.manifests.filter((d) => matches(wanted, d.platform));
    // Prefer the entry without a variant when none was asked for (plain linux/arm64 over linux/arm64/v8 duplicates).
    const pick = candidates.find((d) => d.platform?.variant === undefined) ?? candidates[0];
    if (!pick) {
      const have = index.manifests
        .map((d) => (d.platform ? formatPlatform(d.platform) : '?'))
        .filter((x) => x !== 'unknown/unknown');
      throw new OciError(
        OciErrorCode.platformMissing,
        `platform ${p} not in the image index (it has ${have.join(', ') || 'none'})`,
        OciExitCode.remote,
      );
    }
    if (!chosen.includes(pick)) chosen.push(pick);
  }
  return chosen;
}

/**
 * The index lumen stores and pushes for `platforms`: the upstream bytes unchanged when every
 * platform entry of the upstream index is wanted (so the upstream digest stays valid), else
 * the same JSON with only the wanted entries, serialized compactly. The result is a pure
 * function of the upstream bytes and the platform list, so `inventory lock` and `bundle create`
 * compute the same digest independently.
 */
export function filterIndex(bytes: Uint8Array, index: ImageIndex, platforms: string[]): Uint8Array {
  const keep = selectPlatforms(index, platforms);
  if (keep.length === index.manifests.length) return bytes;
  const filtered: ImageIndex = { ...index, manifests: index.manifests.filter((d) => keep.includes(d)) };
  return Buffer.from(JSON.stringify(filtered));
}
