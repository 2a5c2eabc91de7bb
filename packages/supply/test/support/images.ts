/**
 * Builds small multi-arch images in a real registry for the tests: random layer blobs, image
 * configs, one manifest per platform and an index (OCI) or manifest list (Docker), plus an
 * attestation-like `unknown/unknown` entry as BuildKit publishes them.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { digestOf, type ImageIndex, type ImageManifest, MediaType, type Registry } from '@lumen/oci';

export interface SeededImage {
  repo: string;
  tag: string;
  /** Digest of the upstream index / manifest list. */
  digest: string;
  /** Per platform: manifest digest and its blobs (config first). */
  platforms: Record<string, { digest: string; blobs: string[] }>;
  /** Every blob digest of the image (all platforms). */
  blobs: string[];
}

async function putBlob(reg: Registry, repo: string, data: Buffer): Promise<string> {
  const digest = digestOf(data);
  if (!(await reg.hasBlob(repo, digest))) {
    await reg.uploadBlob(repo, digest, data.length, (s, e) => Readable.from([data.subarray(s, e + 1)]));
  }
  return digest;
}

/**
 * Seeds `repo:tag`. `layerSizes` are per platform (random content, so nothing dedupes unless
 * `shared` is given: a layer put first in every platform, to exercise deduplication and mounts).
 */
export async function seedImage(
  reg: Registry,
  repo: string,
  tag: string,
  options: { platforms: string[]; layerSizes?: number[]; shared?: Buffer; docker?: boolean; attestation?: boolean },
): Promise<SeededImage> {
  const docker = options.docker ?? false;
  const layerType = docker
    ? 'application/vnd.docker.image.rootfs.diff.tar.gzip'
    : 'application/vnd.oci.image.layer.v1.tar+gzip';
  const seeded: SeededImage = { repo, tag, digest: '', platforms: {}, blobs: [] };
  const entries: ImageIndex['manifests'] = [];
  const platforms = [...options.platforms, ...(options.attestation ? ['unknown/unknown'] : [])];
  for (const p of platforms) {
    const [os, architecture, variant] = p.split('/') as [string, string, string | undefined];
    const layers = [
      ...(options.shared ? [options.shared] : []),
      ...(options.layerSizes ?? [64 * 1024, 200 * 1024]).map((n) => randomBytes(n)),
    ];
    const layerDescs = [];
    for (const l of layers)
      layerDescs.push({ mediaType: layerType, digest: await putBlob(reg, repo, l), size: l.length });
    const config = Buffer.from(
      JSON.stringify({
        architecture,
        os,
        ...(variant ? { variant } : {}),
        created: '2026-01-01T00:00:00Z',
        config: { Cmd: ['/app'] },
        rootfs: { type: 'layers', diff_ids: layerDescs.map((l) => l.digest) },
      }),
    );
    const configDigest = await putBlob(reg, repo, config);
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: docker ? MediaType.dockerManifest : MediaType.ociManifest,
      config: {
        mediaType: docker ? MediaType.dockerConfig : MediaType.ociConfig,
        digest: configDigest,
        size: config.length,
      },
      layers: layerDescs,
    };
    const bytes = Buffer.from(JSON.stringify(manifest));
    const mediaType = manifest.mediaType as string;
    const digest = await reg.putManifest(repo, digestOf(bytes), bytes, mediaType);
    const blobs = [configDigest, ...layerDescs.map((l) => l.digest)];
    seeded.platforms[p] = { digest, blobs };
    seeded.blobs.push(...blobs);
    entries.push({
      mediaType,
      digest,
      size: bytes.length,
      platform: variant ? { os, architecture, variant } : { os, architecture },
      ...(p === 'unknown/unknown'
        ? {
            annotations: {
              'vnd.docker.reference.type': 'attestation-manifest',
              'vnd.docker.reference.digest': entries[0]?.digest ?? '',
            },
          }
        : {}),
    });
  }
  const index: ImageIndex = {
    schemaVersion: 2,
    mediaType: docker ? MediaType.dockerList : MediaType.ociIndex,
    manifests: entries,
  };
  const bytes = Buffer.from(JSON.stringify(index));
  seeded.digest = await reg.putManifest(repo, tag, bytes, index.mediaType as string);
  seeded.blobs = [...new Set(seeded.blobs)];
  return seeded;
}
