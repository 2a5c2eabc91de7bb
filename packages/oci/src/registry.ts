import type { Readable } from 'node:stream';
import { DigestCheck, digestOf, isDigest } from './digest.ts';
import { networkError, OciError, OciErrorCode, OciExitCode } from './errors.ts';
import { manifestAccept, parseManifest } from './manifest.ts';
import { type Answer, drain, RegistryTransport, type TransportOptions } from './transport.ts';
import * as upload from './upload.ts';

/** Options of a registry client; every field has a default. */
export interface RegistryOptions extends TransportOptions {
  /**
   * Bytes per PATCH of a chunked upload; a blob of at most one chunk goes in one PUT. Default 64 MiB: Distribution
   * fsyncs the upload and its hash state at the end of every request, so each PATCH costs a round of disk waits
   * (16 MiB chunks made a 160 MiB push ~15 % slower than 64 MiB ones, which upload as fast as one PATCH). Smaller
   * chunks bound what a cut re-sends only on registries that keep a session cut in mid-chunk; Distribution drops
   * it and the blob starts over whatever the chunk size.
   */
  chunkSize?: number;
}

/** A manifest as fetched: its exact bytes, media type and verified digest. */
export interface FetchedManifest {
  bytes: Buffer;
  mediaType: string;
  digest: string;
}

const maxManifestBytes = 4 * 1024 * 1024;

/**
 * A client for one registry over the OCI distribution API (distribution-spec v1.1):
 * manifests, blobs and tags here; cross-repository mount and chunked resumable uploads in
 * upload.ts; token/basic auth, redirects and retries in transport.ts; a digest check on
 * everything it reads.
 */
export class Registry {
  readonly host: string;
  readonly base: string;
  readonly chunkSize: number;
  private readonly transport: RegistryTransport;

  constructor(options: RegistryOptions) {
    this.transport = new RegistryTransport(options);
    this.host = options.host;
    this.base = this.transport.base;
    this.chunkSize = options.chunkSize ?? 64 * 1024 * 1024;
  }

  /** `GET /v2/`: proves the registry is reachable and the credentials work. */
  async ping(signal?: AbortSignal): Promise<void> {
    const res = await this.transport.request('/v2/', '', { method: 'GET', signal });
    await drain(res);
    if (!res.ok) throw this.transport.error(res, 'GET /v2/');
  }

  /** Digest, media type and size of a manifest by tag or digest, or undefined when absent. */
  async headManifest(
    repo: string,
    ref: string,
    signal?: AbortSignal,
  ): Promise<{ digest: string; mediaType: string; size: number } | undefined> {
    const res = await this.transport.request(`/v2/${repo}/manifests/${ref}`, repo, {
      method: 'HEAD',
      headers: { accept: manifestAccept },
      signal,
    });
    await drain(res);
    if (res.status === 404) return undefined;
    if (!res.ok) throw this.transport.error(res, `HEAD ${repo}:${ref}`);
    const digest = res.headers.get('docker-content-digest');
    if (!digest || !isDigest(digest)) {
      // Some registries omit the header on HEAD: fall back to fetching and hashing.
      const m = await this.getManifest(repo, ref, signal);
      return { digest: m.digest, mediaType: m.mediaType, size: m.bytes.length };
    }
    return {
      digest,
      mediaType: (res.headers.get('content-type') ?? '').split(';')[0] ?? '',
      size: Number(res.headers.get('content-length') ?? 0),
    };
  }

  /**
   * Fetches a manifest and verifies it: against `ref` when it is a digest, else against the
   * registry's `Docker-Content-Digest`. Throws OCI_NOT_FOUND when absent.
   */
  async getManifest(repo: string, ref: string, signal?: AbortSignal): Promise<FetchedManifest> {
    const res = await this.transport.request(`/v2/${repo}/manifests/${ref}`, repo, {
      method: 'GET',
      headers: { accept: manifestAccept },
      signal,
    });
    if (res.status === 404) {
      await drain(res);
      throw new OciError(OciErrorCode.notFound, `manifest ${this.host}/${repo}:${ref} not found`, OciExitCode.remote, {
        status: 404,
      });
    }
    if (!res.ok) {
      await drain(res);
      throw this.transport.error(res, `GET manifest ${repo}:${ref}`);
    }
    const bytes = await readLimited(res, maxManifestBytes, `${this.host}/${repo}:${ref}`);
    const digest = digestOf(bytes);
    const expected = isDigest(ref) ? ref : res.headers.get('docker-content-digest');
    if (expected && isDigest(expected) && expected !== digest) {
      throw new OciError(
        OciErrorCode.digestMismatch,
        `manifest ${this.host}/${repo}:${ref} hashes to ${digest}, expected ${expected}`,
        OciExitCode.remote,
      );
    }
    const { mediaType } = parseManifest(bytes, res.headers.get('content-type') ?? undefined);
    return { bytes, mediaType, digest };
  }

  /** Uploads a manifest under a tag or its digest; returns its digest. */
  async putManifest(
    repo: string,
    ref: string,
    bytes: Uint8Array,
    mediaType: string,
    signal?: AbortSignal,
  ): Promise<string> {
    const res = await this.transport.request(`/v2/${repo}/manifests/${ref}`, repo, {
      method: 'PUT',
      headers: { 'content-type': mediaType },
      body: () => Buffer.from(bytes),
      push: true,
      signal,
    });
    const text = await res.text().catch(() => '');
    if (res.status !== 201 && res.status !== 200) {
      throw this.transport.error(res, `PUT manifest ${repo}:${ref}`, text);
    }
    return digestOf(bytes);
  }

  /** True when the repository has the blob (`HEAD /v2/<repo>/blobs/<digest>`). */
  async hasBlob(repo: string, digest: string, signal?: AbortSignal): Promise<boolean> {
    const res = await this.transport.request(`/v2/${repo}/blobs/${digest}`, repo, { method: 'HEAD', signal });
    await drain(res);
    if (res.status === 404) return false;
    if (!res.ok) throw this.transport.error(res, `HEAD blob ${repo}@${digest}`);
    return true;
  }

  /**
   * A stream of the blob's bytes that errors with OCI_DIGEST_MISMATCH at the end unless they
   * hash to `digest` (and have `size` bytes when given). Pipe it to a temporary file and
   * rename only after the stream finished without error.
   */
  async fetchBlob(
    repo: string,
    digest: string,
    options: { size?: number; signal?: AbortSignal } = {},
  ): Promise<Readable> {
    const res = await this.transport.request(`/v2/${repo}/blobs/${digest}`, repo, {
      method: 'GET',
      signal: options.signal,
    });
    if (res.status === 404) {
      await drain(res);
      throw new OciError(OciErrorCode.notFound, `blob ${this.host}/${repo}@${digest} not found`, OciExitCode.remote, {
        status: 404,
      });
    }
    if (!res.ok) {
      await drain(res);
      throw this.transport.error(res, `GET blob ${repo}@${digest}`);
    }
    const check = new DigestCheck(digest, { what: `blob ${this.host}/${repo}@${digest}`, ...sizeOpt(options.size) });
    const body = res.body;
    body.on('error', (err) => check.destroy(networkError(err, `reading blob ${digest}`)));
    return body.pipe(check);
  }

  /** Reads a small blob (configs, signature payloads) fully, verified. */
  async getBlob(repo: string, digest: string, options: { size?: number; signal?: AbortSignal } = {}): Promise<Buffer> {
    const stream = await this.fetchBlob(repo, digest, options);
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  /**
   * Asks the registry to link a blob from another repository of the same registry
   * (`POST /v2/<repo>/blobs/uploads/?mount=<digest>&from=<other>`). True when mounted (201);
   * false when the registry started an ordinary upload instead (202), which is cancelled.
   */
  mountBlob(repo: string, digest: string, from: string, signal?: AbortSignal): Promise<boolean> {
    return upload.mountBlob(this.transport, repo, digest, from, signal);
  }

  /** Starts an upload session; returns its location. */
  startUpload(repo: string, signal?: AbortSignal): Promise<string> {
    return upload.startUpload(this.transport, repo, signal);
  }

  /**
   * Where an upload session stands: the next offset and the new location, or undefined when the
   * registry no longer accepts the session (then start a new one).
   */
  uploadStatus(
    repo: string,
    location: string,
    signal?: AbortSignal,
  ): Promise<{ offset: number; location: string } | undefined> {
    return upload.uploadStatus(this.transport, repo, location, signal);
  }

  /**
   * Uploads a blob in chunks of `chunkSize`, resuming after a connection error or 5xx in
   * mid-chunk from where the registry says the session stands; a blob is never re-sent once complete.
   *
   * @param open returns the blob's bytes from `start` to `end` inclusive (a file read stream).
   */
  uploadBlob(
    repo: string,
    digest: string,
    size: number,
    open: (start: number, end: number) => Readable,
    options: { onProgress?: (bytes: number) => void; signal?: AbortSignal } = {},
  ): Promise<upload.UploadResult> {
    return upload.uploadBlob(this.transport, repo, digest, size, open, { ...options, chunkSize: this.chunkSize });
  }

  /** Tags of a repository (`GET /v2/<repo>/tags/list`), following `Link` pagination. */
  async listTags(repo: string, signal?: AbortSignal): Promise<string[]> {
    const tags: string[] = [];
    let path: string | undefined = `/v2/${repo}/tags/list?n=1000`;
    while (path) {
      const res = await this.transport.request(path, repo, { method: 'GET', signal });
      if (res.status === 404) {
        await drain(res);
        return tags;
      }
      if (!res.ok) {
        await drain(res);
        throw this.transport.error(res, `list tags of ${repo}`);
      }
      const body = JSON.parse(await res.text()) as { tags?: string[] | null };
      tags.push(...(body.tags ?? []));
      const link = /<([^>]+)>;\s*rel="?next"?/.exec(res.headers.get('link') ?? '');
      path = link?.[1];
    }
    return tags;
  }
}

function sizeOpt(size: number | undefined): { size?: number } {
  return size === undefined ? {} : { size };
}

async function readLimited(res: Answer, limit: number, what: string): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length') ?? 0);
  if (declared > limit) {
    await drain(res);
    throw new OciError(
      OciErrorCode.manifestUnsupported,
      `${what}: manifest larger than ${limit} bytes`,
      OciExitCode.remote,
    );
  }
  const buf = await res.bytes();
  if (buf.length > limit) {
    throw new OciError(
      OciErrorCode.manifestUnsupported,
      `${what}: manifest larger than ${limit} bytes`,
      OciExitCode.remote,
    );
  }
  return buf;
}
