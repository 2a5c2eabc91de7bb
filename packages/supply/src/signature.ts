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
  OciExitCode,
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

/** Writes the `.sig` manifest of `layers` (config listing their payload digests) under `tag`. */
async function putSignatureManifest(
  registry: Registry,
  repo: string,
  tag: string,
  layers: Descriptor[],
  signal?: AbortSignal,
): Promise<void> {
  const config = signatureConfig(layers);
  const configDigest = await uploadSmall(registry, repo, config, signal);
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, size: config.length, digest: configDigest },
    layers,
  };
  await registry.putManifest(repo, tag, Buffer.from(JSON.stringify(manifest)), MediaType.ociManifest, signal);
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

/**
 * The digest of the image `tagOrDigest` names in `repo`; an image the registry does not have is
 * OCI_NOT_FOUND (exit 3, a remote answer), so nothing is signed or verified for it.
 */
export async function imageDigest(
  registry: Registry,
  repo: string,
  tagOrDigest: string,
  signal?: AbortSignal,
): Promise<string> {
  const head = await registry.headManifest(repo, tagOrDigest, signal);
  if (!head) {
    throw new OciError(
      OciErrorCode.notFound,
      `${registry.host}/${repo}${tagOrDigest.includes(':') ? '@' : ':'}${tagOrDigest}: image not found`,
      OciExitCode.remote,
    );
  }
  return head.digest;
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
  // A signature of an image the registry does not hold would be a dangling `.sig` tag.
  await imageDigest(registry, repo, digest, signal);
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
  await putSignatureManifest(registry, repo, tag, layers, signal);
  return { reference: `${reference}@${digest}`, digest, signatureTag: tag, added: true };
}

/**
 * Stores the signature manifest `incoming` (its blobs already in `repo`) under `tag` without losing
 * the signatures already there: as cosign does when it signs, the layers the registry holds stay
 * first and every signature layer of `incoming` it lacks is appended (a layer is the same when its
 * payload digest and its signature are). Returns whether the registry's manifest changed.
 */
export async function mergeSignatures(
  registry: Registry,
  repo: string,
  tag: string,
  incoming: Buffer,
  signal?: AbortSignal,
): Promise<boolean> {
  const existing = await registry.headManifest(repo, tag, signal);
  if (!existing) {
    await registry.putManifest(repo, tag, incoming, MediaType.ociManifest, signal);
    return true;
  }
  if (existing.digest === digestOf(incoming)) return false;
  const m = await registry.getManifest(repo, tag, signal);
  const held = parseManifest(m.bytes, m.mediaType).manifest;
  const layers: Descriptor[] = 'layers' in held ? [...held.layers] : [];
  const key = (l: Descriptor) => `${l.digest} ${l.annotations?.[signatureAnnotation] ?? ''}`;
  const have = new Set(layers.map(key));
  const offered = parseManifest(incoming).manifest;
  const added = ('layers' in offered ? offered.layers : []).filter((l) => !have.has(key(l)));
  if (added.length === 0) return false;
  layers.push(...added);
  await putSignatureManifest(registry, repo, tag, layers, signal);
  return true;
}

/** The outcome of verifying one image. */
export interface VerifyResult {
  reference: string;
  digest: string;
  /**
   * Signatures that verified with the key and name this digest: `legacy` (a `.sig` layer; its payload
   * names the image's reference) or `bundle` (a Sigstore bundle referrer; the statement names only
   * the digest, so `dockerReference` is empty).
   */
  verified: { format: 'legacy' | 'bundle'; dockerReference: string; payloadDigest: string }[];
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
  await imageDigest(registry, repo, digest, signal);
  const tag = signatureTag(digest);
  const bundles = await verifyBundles(registry, repo, digest, publicKey, signal);
  result.verified.push(...bundles.verified);
  result.rejected.push(...bundles.rejected);
  let manifest: ImageManifest;
  try {
    const m = await registry.getManifest(repo, tag, signal);
    manifest = parseManifest(m.bytes, m.mediaType).manifest as ImageManifest;
  } catch (err) {
    if (err instanceof OciError && err.code === OciErrorCode.notFound) {
      if (!bundles.found) result.rejected.push(`no signature (${tag} not found, and no Sigstore bundle refers to it)`);
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
      format: 'legacy',
      dockerReference: body.critical.identity?.['docker-reference'] ?? '',
      payloadDigest: layer.digest,
    });
  }
  if (result.verified.length === 0 && result.rejected.length === 0)
    result.rejected.push(`${tag} has no signature layers`);
  return result;
}

/** Media type of a Sigstore bundle v0.3 (what cosign 3 signs into by default). */
export const sigstoreBundleType = 'application/vnd.dev.sigstore.bundle.v0.3+json';
/** The in-toto predicate cosign 3 signs for an image. */
const cosignSignPredicate = 'https://sigstore.dev/cosign/sign/v1';

/** The OCI 1.1 referrers fallback tag of a digest (`sha256-<hex>`), for registries without the referrers API. */
export function referrersTag(digest: string): string {
  return digest.replace(':', '-');
}

/** DSSE pre-authentication encoding: what a DSSE signature signs. */
function dssePae(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${payload.length} `), payload]);
}

interface SigstoreBundle {
  mediaType?: string;
  dsseEnvelope?: { payload?: string; payloadType?: string; signatures?: Array<{ sig?: string }> };
}

/**
 * Verifies the Sigstore bundles that refer to `digest` (cosign 3's default format), found through
 * the referrers fallback tag: each bundle's DSSE envelope must verify with the key, carry an
 * in-toto statement with cosign's sign predicate, and name this digest as its subject. The
 * referrers API itself is not asked (the site's Distribution registry has none); nothing else about
 * the bundle (a transparency-log entry, a certificate) is required: the key is the trust.
 */
async function verifyBundles(
  registry: Registry,
  repo: string,
  digest: string,
  publicKey: KeyObject,
  signal?: AbortSignal,
): Promise<Pick<VerifyResult, 'verified' | 'rejected'> & { found: boolean }> {
  const out: Pick<VerifyResult, 'verified' | 'rejected'> & { found: boolean } = {
    verified: [],
    rejected: [],
    found: false,
  };
  let index: { manifests?: Array<{ digest: string; artifactType?: string }> };
  try {
    const m = await registry.getManifest(repo, referrersTag(digest), signal);
    index = JSON.parse(m.bytes.toString('utf8')) as typeof index;
  } catch (err) {
    if (err instanceof OciError && err.code === OciErrorCode.notFound) return out;
    throw err;
  }
  for (const entry of index.manifests ?? []) {
    if (entry.artifactType !== sigstoreBundleType) continue;
    out.found = true;
    const m = await registry.getManifest(repo, entry.digest, signal);
    const manifest = JSON.parse(m.bytes.toString('utf8')) as ImageManifest & { subject?: { digest?: string } };
    if (manifest.subject?.digest !== digest) {
      out.rejected.push(`bundle ${entry.digest}: refers to ${String(manifest.subject?.digest)}, not ${digest}`);
      continue;
    }
    for (const layer of manifest.layers ?? []) {
      if (layer.mediaType !== sigstoreBundleType) continue;
      const why = checkBundle(
        await registry.getBlob(repo, layer.digest, { size: layer.size, ...(signal ? { signal } : {}) }),
        digest,
        publicKey,
      );
      if (why) out.rejected.push(`bundle ${layer.digest}: ${why}`);
      else out.verified.push({ format: 'bundle', dockerReference: '', payloadDigest: layer.digest });
    }
  }
  return out;
}

/** Why a Sigstore bundle does not prove `digest` with `publicKey`, or undefined when it does. */
function checkBundle(bytes: Buffer, digest: string, publicKey: KeyObject): string | undefined {
  let bundle: SigstoreBundle;
  try {
    bundle = JSON.parse(bytes.toString('utf8')) as SigstoreBundle;
  } catch {
    return 'not JSON';
  }
  const env = bundle.dsseEnvelope;
  if (!env?.payload || !env.payloadType) return 'no DSSE envelope (only DSSE-signed image bundles are read)';
  const payload = Buffer.from(env.payload, 'base64');
  const pae = dssePae(env.payloadType, payload);
  const ok = (env.signatures ?? []).some(
    (s) => s.sig && verify('sha256', pae, publicKey, Buffer.from(s.sig, 'base64')),
  );
  if (!ok) return 'signature does not verify with the key';
  if (env.payloadType !== 'application/vnd.in-toto+json') return `payload type ${env.payloadType} is not in-toto`;
  let statement: { predicateType?: string; subject?: Array<{ digest?: Record<string, string> }> };
  try {
    statement = JSON.parse(payload.toString('utf8')) as typeof statement;
  } catch {
    return 'statement is not JSON';
  }
  if (statement.predicateType !== cosignSignPredicate)
    return `predicate ${String(statement.predicateType)} is not ${cosignSignPredicate}`;
  const [algorithm, hex] = digest.split(':');
  if (!(statement.subject ?? []).some((s) => s.digest?.[algorithm as string] === hex))
    return `statement does not name ${digest}`;
  return undefined;
}
