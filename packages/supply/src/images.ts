import {
  digestOf,
  filterIndex,
  type ImageIndex,
  isIndexType,
  OciError,
  OciErrorCode,
  OciExitCode,
  parseManifest,
  type Registry,
} from '@lumen/oci';

/** The top-level manifest lumen carries for an image, resolved from upstream. */
export interface ResolvedImage {
  /** Digest of what the upstream tag points at. */
  upstreamDigest: string;
  /** Digest of what lumen carries: the upstream index filtered to the inventory's platforms. */
  digest: string;
  mediaType: string;
  bytes: Buffer;
  /** The upstream bytes, unfiltered. */
  upstreamBytes: Buffer;
}

/**
 * Resolves `repo:tag` upstream and filters an index to `platforms` (see `filterIndex`: the
 * upstream bytes are kept, and so its digest, when the index lists exactly those platforms).
 * No `platforms`: an artifact entry (Trivy's database), which must be one manifest, carried as it is.
 * `inventory lock` pins `digest`; `bundle create` recomputes it and refuses a difference.
 */
export async function resolveImage(
  registry: Registry,
  repo: string,
  ref: string,
  platforms: string[],
  signal?: AbortSignal,
): Promise<ResolvedImage> {
  const top = await registry.getManifest(repo, ref, signal);
  /** Carried exactly as upstream serves it. */
  const asIs: ResolvedImage = {
    upstreamDigest: top.digest,
    digest: top.digest,
    mediaType: top.mediaType,
    bytes: top.bytes,
    upstreamBytes: top.bytes,
  };
  if (platforms.length === 0) {
    if (isIndexType(top.mediaType))
      throw new OciError(
        OciErrorCode.platformMissing,
        `${registry.host}/${repo}:${ref} is an index of several manifests; an artifact entry carries exactly one (give the image its platforms instead)`,
        OciExitCode.remote,
      );
    return asIs;
  }
  if (!isIndexType(top.mediaType)) {
    // A single-platform image: it must be exactly the one platform the inventory asks for, or
    // nodes of the other architecture would fail to start it after crossing the gap.
    const { manifest } = parseManifest(top.bytes, top.mediaType);
    if ('config' in manifest) {
      const config = JSON.parse(
        (
          await registry.getBlob(repo, manifest.config.digest, {
            size: manifest.config.size,
            ...(signal ? { signal } : {}),
          })
        ).toString(),
      ) as { os?: string; architecture?: string; variant?: string };
      const have = `${config.os ?? '?'}/${config.architecture ?? '?'}${config.variant ? `/${config.variant}` : ''}`;
      const fits = platforms.length === 1 && [have, have.replace(/\/v8$/, '')].includes(platforms[0] ?? '');
      if (!fits) {
        throw new OciError(
          OciErrorCode.platformMissing,
          `${registry.host}/${repo}:${ref} is a single-platform image (${have}), the inventory asks for ${platforms.join(', ')}`,
          OciExitCode.remote,
        );
      }
    }
    return asIs;
  }
  const { manifest } = parseManifest(top.bytes, top.mediaType);
  const bytes = Buffer.from(filterIndex(top.bytes, manifest as ImageIndex, platforms));
  return {
    upstreamDigest: top.digest,
    digest: digestOf(bytes),
    mediaType: top.mediaType,
    bytes,
    upstreamBytes: top.bytes,
  };
}
