/**
 * `lumen image push`: a built image from its OCI layout into a registry by digest — the index with its platform
 * manifests and layers under the tag, then its SBOM artifact under cosign's `sha256-<hex>.sbom` tag (with the index
 * as `subject`, so a registry with the referrers API lists it as a referrer too). Uses the supply chain's push:
 * blobs the registry has are skipped, the rest uploaded in resumable chunks, manifests last.
 */
import { Layout, type Registry, refNameAnnotation } from '@lumen/oci';
import { type Progress, type PushResult, pushLayout } from '@lumen/supply';
import { sbomTag } from './build.ts';
import { ImageError, ImageErrorCode } from './errors.ts';

export interface PushImageOptions {
  registry: Registry;
  /** Repository in the registry (`lumen/lumen-api`). */
  repository: string;
  progress: Progress;
  concurrency?: number;
}

export interface PushImageResult {
  /** `<host>/<repository>:<tag>@<digest>`. */
  reference: string;
  digest: string;
  /** Digest of the SBOM manifest pushed under `sha256-<hex>.sbom`, when the layout has one. */
  sbom?: string;
  pushed: PushResult[];
}

/** Pushes the image the layout at `dir` holds under `tag`, and its SBOM. */
export async function pushImage(dir: string, tag: string, options: PushImageOptions): Promise<PushImageResult> {
  const layout = await Layout.open(dir);
  const refs = (await layout.readIndex()).manifests;
  const refOf = (name: string) => refs.find((d) => d.annotations?.[refNameAnnotation] === name)?.digest;
  const digest = refOf(tag);
  if (digest === undefined) {
    const names = refs.map((d) => d.annotations?.[refNameAnnotation]).filter((n) => n && !n.endsWith('.sbom'));
    throw new ImageError(
      ImageErrorCode.usage,
      `${dir} holds no image tagged ${tag} (it has: ${names.join(', ') || 'none'}; see 'lumen image build')`,
    );
  }
  const { registry, repository, progress } = options;
  const push = { registry, progress, ...(options.concurrency ? { concurrency: options.concurrency } : {}) };
  const pushed = [await pushLayout(layout, [{ kind: 'image', name: 'lumen-api', repository, digest, tag }], push)];
  const sbom = refOf(sbomTag(digest));
  if (sbom !== undefined) {
    pushed.push(
      await pushLayout(
        layout,
        [{ kind: 'artifact', name: 'lumen-api SBOM', repository, digest: sbom, tag: sbomTag(digest) }],
        push,
      ),
    );
  }
  return {
    reference: `${registry.host}/${repository}:${tag}@${digest}`,
    digest,
    ...(sbom ? { sbom } : {}),
    pushed,
  };
}
