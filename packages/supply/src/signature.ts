import { type KeyObject, sign, verify } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  type Descriptor,
  digestHex,
  digestOf,
  type ImageManifest,
  MediaType,
  OciError,
  OciErrorCode,
  parseManifest,
  type Registry,
} from '@lumen/oci';

/** Annotation holding base64(DER ECDSA signature) on each signature layer (cosign legacy layout). */
export const signatureAnnotation = 'dev.cosignproject.cosign/signature';

/** Tag of the signatures of `digest`: `sha256-<hex>.sig` in the image's repository. */
export function signatureTag(digest: string): string {
  return `sha256-${digestHex(digest)}.sig`;
}

/**
 * The cosign "simple signing" payload, byte for byte as cosign writes it (field order matters:
 * the signature is over these exact bytes). `optional` must be present, as null.
 */
export function signaturePayload(dockerReference: string, digest: string): Buffer {
  return Buffer.from(
    JSON.stringify({
      critical: {
        identity: { 'docker-reference': dockerReference },
        image: { 'docker-manifest-digest': digest },
        type: 'cosign container image signature',
      },
      optional: null,
    }),
  );
}

/** Signs with ECDSA P-256 over SHA-256; DER signature, as cosign. */
export function signPayload(payload: Buffer, key: KeyObject): Buffer {
  return sign('sha256', payload, { key, dsaEncoding: 'der' });
}

/** The config blob of a signature manifest, as cosign writes it (no platform, payload digests as diff_ids). */
function signatureConfig(layers: Descriptor[]): Buffer {
  return Buffer.from(
    JSON.stringify({
      architecture: '',
      created: '0001-01-01T00:00:00Z',
      history: [{ created: '0001-01-01T00:00:00Z' }],
      os: '',
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
      config: {},
    }),
  );
}

async function uploadSmall(registry: Registry, repo: string, data: Buffer, signal?: AbortSignal): Promise<string> {
  const digest = digestOf(data);
  if (!(await registry.hasBlob(repo, digest, signal))) {
    await registry.uploadBlob(
      repo,
      digest,
      data.length,
      (s, e) => Readable.from([data.subarray(s, e + 1)]),
      signal ? { signal } : {},
    );
  }
  return digest;
}

/** What signing one image did. */
export interface SignResult {
  reference: string;
  digest: string;
  signatureTag: string;
  /** False when an identical payload already had a valid signature by this key. */
  added: boolean;
}

/**
 * Signs the manifest `digest` in `repo`: uploads the payload, appends a layer to the existing
 * `sha256-<hex>.sig` manifest (or creates it) and pushes it under that tag.
 */
export async function signImage(
  registry: Registry,
  repo: string,
  digest: string,
  key: KeyObject,
  publicKey: KeyObject,
  signal?: AbortSignal,
): Promise<SignResult> {
  const tag = signatureTag(digest);
  const reference = `${registry.host}/${repo}`;
  const payload = signaturePayload(reference, digest);
  const payloadDigest = digestOf(payload);
  let layers: Descriptor[] = [];
  const existing = await registry.headManifest(repo, tag, signal);
  if (existing) {
    const m = await registry.getManifest(repo, tag, signal);
    const { manifest } = parseManifest(m.bytes, m.mediaType);
    layers = 'layers' in manifest ? manifest.layers : [];
    for (const l of layers) {
      const sig = l.annotations?.[signatureAnnotation];
      if (l.digest === payloadDigest && sig && verify('sha256', payload, publicKey, Buffer.from(sig, 'base64'))) {
        return { reference: `${reference}@${digest}`, digest, signatureTag: tag, added: false };
      }
    }
  }
  const signature = signPayload(payload, key).toString('base64');
  await uploadSmall(registry, repo, payload, signal);
  layers = [
    ...layers,
    {
      mediaType: MediaType.cosignSimpleSigning,
      size: payload.length,
      digest: payloadDigest,
      annotations: { [signatureAnnotation]: signature },
    },
  ];
  const config = signatureConfig(layers);
  const configDigest = await uploadSmall(registry, repo, config, signal);
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, size: config.length, digest: configDigest },
    layers,
  };
  await registry.putManifest(repo, tag, Buffer.from(JSON.stringify(manifest)), MediaType.ociManifest, signal);
  return { reference: `${reference}@${digest}`, digest, signatureTag: tag, added: true };
}

/** The outcome of verifying one image. */
export interface VerifyResult {
  reference: string;
  digest: string;
  /** Signatures that verified with the key and name this digest. */
  verified: { dockerReference: string; payloadDigest: string }[];
  /** Why each other signature layer was rejected (or why there is none). */
  rejected: string[];
}

/**
 * Verifies the cosign signatures of `digest` in `repo` against `publicKey`: each
 * simple-signing layer's payload is fetched (digest-checked), its annotation signature verified
 * over the payload bytes, and the payload must name this manifest digest. The payload's
 * docker-reference is reported, not enforced: images signed upstream keep their upstream name
 * after crossing to a mirror (cosign does not enforce it either).
 */
export async function verifyImage(
  registry: Registry,
  repo: string,
  digest: string,
  publicKey: KeyObject,
  signal?: AbortSignal,
): Promise<VerifyResult> {
  const result: VerifyResult = { reference: `${registry.host}/${repo}@${digest}`, digest, verified: [], rejected: [] };
  const tag = signatureTag(digest);
  let manifest: ImageManifest;
  try {
    const m = await registry.getManifest(repo, tag, signal);
    manifest = parseManifest(m.bytes, m.mediaType).manifest as ImageManifest;
  } catch (err) {
    if (err instanceof OciError && err.code === OciErrorCode.notFound) {
      result.rejected.push(`no signature (${tag} not found)`);
      return result;
    }
    throw err;
  }
  for (const layer of manifest.layers ?? []) {
    if (layer.mediaType !== MediaType.cosignSimpleSigning) continue;
    const sig = layer.annotations?.[signatureAnnotation];
    if (!sig) {
      result.rejected.push(`layer ${layer.digest}: no ${signatureAnnotation} annotation`);
      continue;
    }
    const payload = await registry.getBlob(repo, layer.digest, { size: layer.size, ...(signal ? { signal } : {}) });
    if (!verify('sha256', payload, publicKey, Buffer.from(sig, 'base64'))) {
      result.rejected.push(`layer ${layer.digest}: signature does not verify with the key`);
      continue;
    }
    let body: {
      critical?: {
        identity?: { 'docker-reference'?: string };
        image?: { 'docker-manifest-digest'?: string };
        type?: string;
      };
    };
    try {
      body = JSON.parse(payload.toString('utf8')) as typeof body;
    } catch {
      result.rejected.push(`layer ${layer.digest}: payload is not JSON`);
      continue;
    }
    if (body.critical?.type !== 'cosign container image signature') {
      result.rejected.push(`layer ${layer.digest}: payload type is not 'cosign container image signature'`);
      continue;
    }
    if (body.critical.image?.['docker-manifest-digest'] !== digest) {
      result.rejected.push(
        `layer ${layer.digest}: payload signs ${String(body.critical.image?.['docker-manifest-digest'])}, not ${digest}`,
      );
      continue;
    }
    result.verified.push({
      dockerReference: body.critical.identity?.['docker-reference'] ?? '',
      payloadDigest: layer.digest,
    });
  }
  if (result.verified.length === 0 && result.rejected.length === 0)
    result.rejected.push(`${tag} has no signature layers`);
  return result;
}
