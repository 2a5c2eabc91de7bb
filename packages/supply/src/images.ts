import { digestOf, filterIndex, type ImageIndex, isIndexType, parseManifest, type Registry } from '@lumen/oci';

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
  if (!isIndexType(top.mediaType)) {
    return {
      upstreamDigest: top.digest,
      digest: top.digest,
      mediaType: top.mediaType,
      bytes: top.bytes,
      upstreamBytes: top.bytes,
    };
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
