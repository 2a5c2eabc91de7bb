import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Dispatcher } from 'undici';
import { basicAuthorization, type Challenge, type Credentials, causeOf, fetchToken, parseChallenge } from './auth.ts';
import { DigestCheck, digestOf, isDigest } from './digest.ts';
import { OciError, OciErrorCode } from './errors.ts';
import { manifestAccept, parseManifest } from './manifest.ts';
import { apiHost } from './reference.ts';

/** Options of a registry client; every field has a default. */
export interface RegistryOptions {
  /** Registry as written in references: `docker.io`, `ghcr.io`, `127.0.0.1:5000`. */
  host: string;
  /** Speak plain HTTP. Default false: HTTPS only, never a silent downgrade. */
  plainHttp?: boolean;
  /** Basic credentials, also sent to a bearer token service. Default: anonymous. */
  credentials?: Credentials;
  /** Retries after a connection error, 429 or 5xx. Default 4 (5 attempts). */
  retries?: number;
  /** First backoff delay, doubled per retry with ±25 % jitter. Default 250 ms (≈ 4 s for 4 retries). */
  retryBaseMs?: number;
  /** Bytes per PATCH of a chunked upload. Default 16 MiB. */
  chunkSize?: number;
  /** Called before every HTTP request (tests count requests). Default none. */
  onRequest?: (method: string, url: string) => void;
}

/**
 * undici's `request` rather than `fetch`: its bodies are Node streams, not WHATWG streams, which
 * halved the CPU time per byte of a bundle create (measured by packages/supply/bench). Plain
 * downloads let undici follow redirects (it drops Authorization when one leaves the origin); the
 * registry client follows them itself (see `Registry.request`).
 */
interface UndiciClient {
  request: typeof import('undici').request;
  /** Follows redirects (plain downloads). */
  redirecting: Dispatcher;
  /** Returns 3xx as they are: the registry client follows them itself, to authenticate per origin. */
  direct: Dispatcher;
}
let client: Promise<UndiciClient> | undefined;

/** undici, loaded on first use (≈ 0.1 s of start-up that commands without network never pay). */
function undici(): Promise<UndiciClient> {
  client ??= import('undici').then((u) => {
    const direct = new u.Agent({ connections: 32, keepAliveTimeout: 10_000 });
    return { request: u.request, direct, redirecting: direct.compose(u.interceptors.redirect({ maxRedirections: 5 })) };
  });
  return client;
}

/** An HTTP answer: status, headers and a Node stream body. */
export interface Answer {
  status: number;
  ok: boolean;
  headers: { get(name: string): string | null };
  body: Dispatcher.ResponseData['body'];
  text(): Promise<string>;
  bytes(): Promise<Buffer>;
}

/** One HTTP exchange through undici, as an {@link Answer}. */
export async function httpRequest(
  url: string,
  init: {
    method: string;
    headers?: Record<string, string>;
    body?: unknown;
    signal?: AbortSignal | undefined;
    /** Follow redirects (dropping Authorization when one leaves the origin). Default true. */
    followRedirects?: boolean;
  },
): Promise<Answer> {
  const { request, direct, redirecting } = await undici();
  const dispatcher = init.followRedirects === false ? direct : redirecting;
  const res = await request(url, {
    method: init.method as Dispatcher.HttpMethod,
    headers: init.headers ?? {},
    body: (init.body ?? null) as Dispatcher.DispatchOptions['body'],
    signal: init.signal ?? null,
    dispatcher,
  });
  const body = res.body;
  return {
    status: res.statusCode,
    ok: res.statusCode >= 200 && res.statusCode < 300,
    headers: {
      get(name) {
        const v = res.headers[name.toLowerCase()];
        return v === undefined ? null : Array.isArray(v) ? v.join(', ') : String(v);
      },
    },
    body,
    text: () => body.text(),
    bytes: async () => Buffer.from(await body.arrayBuffer()),
  };
}

/** A manifest as fetched: its exact bytes, media type and verified digest. */
export interface FetchedManifest {
  bytes: Buffer;
  mediaType: string;
  digest: string;
}

/** What an upload did, for resume accounting and progress. */
export interface UploadResult {
  /** Bytes sent in request bodies, including bytes re-sent after an interruption. */
  bytesSent: number;
  /** How many times the upload resumed (from the registry's Range) or restarted. */
  resumes: number;
}

interface RequestInit2 {
  method: string;
  headers?: Record<string, string>;
  body?: () => Buffer | AsyncIterable<Buffer> | undefined;
  /** Push scope (pull,push) instead of pull. */
  push?: boolean;
  /** Extra repository to pull from in the same token (cross-repository mount). */
  mountFrom?: string;
  /** Retry on connection errors and 5xx (false for streamed bodies: the caller resumes). */
  retry?: boolean;
  signal?: AbortSignal | undefined;
}

const maxManifestBytes = 4 * 1024 * 1024;

/**
 * A client for one registry over the OCI distribution API (distribution-spec v1.1):
 * manifests, blobs, cross-repository mount, chunked resumable uploads, token/basic auth,
 * retries with exponential backoff, and a digest check on everything it reads.
 */
export class Registry {
  readonly host: string;
  readonly base: string;
  private readonly creds: Credentials | undefined;
  private readonly retries: number;
  private readonly retryBaseMs: number;
  readonly chunkSize: number;
  private readonly onRequest: ((method: string, url: string) => void) | undefined;
  /** Authorization per scope key; `basic` once the registry asked for basic auth. */
  private readonly auth = new Map<string, string>();
  private basic = false;

  constructor(options: RegistryOptions) {
    this.host = options.host;
    this.base = `${options.plainHttp ? 'http' : 'https'}://${apiHost(options.host)}`;
    this.creds = options.credentials;
    this.retries = options.retries ?? 4;
    this.retryBaseMs = options.retryBaseMs ?? 250;
    this.chunkSize = options.chunkSize ?? 16 * 1024 * 1024;
    this.onRequest = options.onRequest;
  }

  /** `GET /v2/`: proves the registry is reachable and the credentials work. */
  async ping(signal?: AbortSignal): Promise<void> {
    const res = await this.request('/v2/', '', { method: 'GET', signal });
    await drain(res);
    if (!res.ok) throw this.httpError(res, 'GET /v2/');
  }

  /** Digest, media type and size of a manifest by tag or digest, or undefined when absent. */
  async headManifest(
    repo: string,
    ref: string,
    signal?: AbortSignal,
  ): Promise<{ digest: string; mediaType: string; size: number } | undefined> {
    const res = await this.request(`/v2/${repo}/manifests/${ref}`, repo, {
      method: 'HEAD',
      headers: { accept: manifestAccept },
      signal,
    });
    await drain(res);
    if (res.status === 404) return undefined;
    if (!res.ok) throw this.httpError(res, `HEAD ${repo}:${ref}`);
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
    const res = await this.request(`/v2/${repo}/manifests/${ref}`, repo, {
      method: 'GET',
      headers: { accept: manifestAccept },
      signal,
    });
    if (res.status === 404) {
      await drain(res);
      throw new OciError(OciErrorCode.notFound, `manifest ${this.host}/${repo}:${ref} not found`, 3, { status: 404 });
    }
    if (!res.ok) {
      await drain(res);
      throw this.httpError(res, `GET manifest ${repo}:${ref}`);
    }
    const bytes = await readLimited(res, maxManifestBytes, `${this.host}/${repo}:${ref}`);
    const digest = digestOf(bytes);
    const expected = isDigest(ref) ? ref : res.headers.get('docker-content-digest');
    if (expected && isDigest(expected) && expected !== digest) {
      throw new OciError(
        OciErrorCode.digestMismatch,
        `manifest ${this.host}/${repo}:${ref} hashes to ${digest}, expected ${expected}`,
        3,
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
    const res = await this.request(`/v2/${repo}/manifests/${ref}`, repo, {
      method: 'PUT',
      headers: { 'content-type': mediaType },
      body: () => Buffer.from(bytes),
      push: true,
      signal,
    });
    const text = await res.text().catch(() => '');
    if (res.status !== 201 && res.status !== 200) {
      throw this.httpError(res, `PUT manifest ${repo}:${ref}`, text);
    }
    return digestOf(bytes);
  }

  /** True when the repository has the blob (`HEAD /v2/<repo>/blobs/<digest>`). */
  async hasBlob(repo: string, digest: string, signal?: AbortSignal): Promise<boolean> {
    const res = await this.request(`/v2/${repo}/blobs/${digest}`, repo, { method: 'HEAD', signal });
    await drain(res);
    if (res.status === 404) return false;
    if (!res.ok) throw this.httpError(res, `HEAD blob ${repo}@${digest}`);
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
    const res = await this.request(`/v2/${repo}/blobs/${digest}`, repo, { method: 'GET', signal: options.signal });
    if (res.status === 404) {
      await drain(res);
      throw new OciError(OciErrorCode.notFound, `blob ${this.host}/${repo}@${digest} not found`, 3, { status: 404 });
    }
    if (!res.ok) {
      await drain(res);
      throw this.httpError(res, `GET blob ${repo}@${digest}`);
    }
    const check = new DigestCheck(digest, { what: `blob ${this.host}/${repo}@${digest}`, ...sizeOpt(options.size) });
    const body = res.body;
    body.on('error', (err) => check.destroy(wrapNetwork(err, `reading blob ${digest}`)));
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
  async mountBlob(repo: string, digest: string, from: string, signal?: AbortSignal): Promise<boolean> {
    const res = await this.request(
      `/v2/${repo}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`,
      repo,
      { method: 'POST', push: true, mountFrom: from, signal },
    );
    await drain(res);
    if (res.status === 201) return true;
    if (res.status === 202) {
      const location = res.headers.get('location');
      if (location) {
        const cancel = await this.request(location, repo, { method: 'DELETE', push: true, signal }).catch(
          () => undefined,
        );
        if (cancel) await drain(cancel);
      }
      return false;
    }
    throw this.httpError(res, `mount ${digest} from ${from} into ${repo}`);
  }

  /** Starts an upload session; returns its location. */
  async startUpload(repo: string, signal?: AbortSignal): Promise<string> {
    const res = await this.request(`/v2/${repo}/blobs/uploads/`, repo, { method: 'POST', push: true, signal });
    await drain(res);
    const location = res.headers.get('location');
    if (res.status !== 202 || !location) throw this.httpError(res, `start upload to ${repo}`);
    return location;
  }

  /**
   * Where an upload session stands (`GET <location>` → 204 with `Range: 0-<last>`): the next
   * offset and the new location, or undefined when the registry no longer accepts the session
   * (Distribution refuses a session whose stored size differs from the offset signed into its
   * location, which is what a connection cut in mid-chunk leaves behind).
   */
  async uploadStatus(
    repo: string,
    location: string,
    signal?: AbortSignal,
  ): Promise<{ offset: number; location: string } | undefined> {
    const res = await this.request(location, repo, { method: 'GET', push: true, signal });
    await drain(res);
    if (res.status !== 204 && res.status !== 200) return undefined;
    const range = /^(?:bytes=)?0-(\d+)$/.exec(res.headers.get('range') ?? '');
    const last = range?.[1] !== undefined ? Number(range[1]) : -1;
    // Distribution reports "0-0" for an empty session: treat it as empty (re-sending 1 byte of a
    // fresh session is the only cost of the ambiguity, and chunk boundaries are never 1 byte).
    const offset = last <= 0 ? 0 : last + 1;
    return { offset, location: res.headers.get('location') ?? location };
  }

  /**
   * Uploads a blob in chunks: POST, then PATCH chunks with `Content-Range`, then
   * `PUT ?digest=`. After a connection error or 5xx in mid-chunk it asks the registry where
   * the session stands and continues from there (or starts a fresh session for this blob when
   * the registry refuses the old one); a blob is never re-sent once complete.
   *
   * @param open returns the blob's bytes from `start` to `end` inclusive (a file read stream).
   */
  async uploadBlob(
    repo: string,
    digest: string,
    size: number,
    open: (start: number, end: number) => Readable,
    options: { onProgress?: (bytes: number) => void; signal?: AbortSignal } = {},
  ): Promise<UploadResult> {
    const { signal, onProgress } = options;
    let location = await this.startUpload(repo, signal);
    if (size <= this.chunkSize) {
      // One chunk: send it with the closing PUT (POST, then PUT ?digest= with the body), one
      // request less per blob. A failure restarts the blob, which is at most one chunk.
      const done = await this.putUpload(repo, location, digest, size, open, options).catch(async (err) => {
        if (signal?.aborted || !isTransient(err)) throw err;
        onProgress?.(-size);
        return undefined;
      });
      if (done) return done;
      location = await this.startUpload(repo, signal);
    }
    let offset = 0;
    let failures = 0;
    const result: UploadResult = { bytesSent: 0, resumes: size <= this.chunkSize ? 1 : 0 };
    while (offset < size) {
      const end = Math.min(offset + this.chunkSize, size) - 1;
      const length = end - offset + 1;
      let sent = 0;
      try {
        const stream = open(offset, end);
        // Count bytes as undici pulls them, so progress and resume accounting see partial chunks.
        const counted = async function* (): AsyncGenerator<Buffer> {
          for await (const c of stream) {
            sent += (c as Buffer).length;
            onProgress?.((c as Buffer).length);
            yield c as Buffer;
          }
        };
        const res = await this.request(location, repo, {
          method: 'PATCH',
          headers: {
            'content-type': 'application/octet-stream',
            'content-range': `${offset}-${end}`,
            'content-length': String(length),
          },
          body: () => counted(),
          push: true,
          retry: false,
          signal,
        });
        await drain(res);
        if (res.status !== 202) throw this.httpError(res, `PATCH upload of ${digest}`);
        result.bytesSent += sent;
        location = res.headers.get('location') ?? location;
        offset = end + 1;
        failures = 0;
      } catch (err) {
        result.bytesSent += sent;
        onProgress?.(-sent);
        if (signal?.aborted) throw aborted(signal);
        if (!isTransient(err) || ++failures > this.retries) throw err;
        await sleep(this.backoff(failures), undefined, { signal: signal ?? undefined }).catch(() => {
          throw aborted(signal);
        });
        result.resumes++;
        const status = await this.uploadStatus(repo, location, signal).catch(() => undefined);
        if (status) {
          location = status.location;
          onProgress?.(status.offset - offset);
          offset = status.offset;
        } else {
          onProgress?.(-offset);
          location = await this.startUpload(repo, signal);
          offset = 0;
        }
      }
    }
    const url = new URL(location, this.base);
    url.searchParams.set('digest', digest);
    const res = await this.request(url.toString(), repo, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream', 'content-length': '0' },
      push: true,
      signal,
    });
    const text = await res.text().catch(() => '');
    if (res.status !== 201) throw this.httpError(res, `finish upload of ${digest}`, text);
    return result;
  }

  /** Monolithic finish of an upload session: `PUT <location>?digest=` carrying the whole blob. */
  private async putUpload(
    repo: string,
    location: string,
    digest: string,
    size: number,
    open: (start: number, end: number) => Readable,
    options: { onProgress?: (bytes: number) => void; signal?: AbortSignal },
  ): Promise<UploadResult> {
    const url = new URL(location, this.base);
    url.searchParams.set('digest', digest);
    let sent = 0;
    const stream = size > 0 ? open(0, size - 1) : Readable.from([]);
    const counted = async function* (): AsyncGenerator<Buffer> {
      for await (const c of stream) {
        sent += (c as Buffer).length;
        options.onProgress?.((c as Buffer).length);
        yield c as Buffer;
      }
    };
    const res = await this.request(url.toString(), repo, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
      body: () => counted(),
      push: true,
      retry: false,
      signal: options.signal,
    });
    const text = await res.text().catch(() => '');
    if (res.status !== 201) throw this.httpError(res, `upload of ${digest}`, text);
    return { bytesSent: sent, resumes: 0 };
  }

  /** Tags of a repository (`GET /v2/<repo>/tags/list`), following `Link` pagination. */
  async listTags(repo: string, signal?: AbortSignal): Promise<string[]> {
    const tags: string[] = [];
    let path: string | undefined = `/v2/${repo}/tags/list?n=1000`;
    while (path) {
      const res = await this.request(path, repo, { method: 'GET', signal });
      if (res.status === 404) {
        await drain(res);
        return tags;
      }
      if (!res.ok) {
        await drain(res);
        throw this.httpError(res, `list tags of ${repo}`);
      }
      const body = JSON.parse(await res.text()) as { tags?: string[] | null };
      tags.push(...(body.tags ?? []));
      const link = /<([^>]+)>;\s*rel="?next"?/.exec(res.headers.get('link') ?? '');
      path = link?.[1];
    }
    return tags;
  }

  private backoff(attempt: number): number {
    const base = this.retryBaseMs * 2 ** (attempt - 1);
    return Math.round(base * (0.75 + Math.random() * 0.5));
  }

  private scopeKey(repo: string, init: RequestInit2): string {
    return `${repo}|${init.push ? 'push' : 'pull'}|${init.mountFrom ?? ''}`;
  }

  /**
   * One API call with authentication and retries. `path` is an API path or an absolute
   * upload location. A 401 is answered once per call by fetching a token (Bearer) or switching
   * to basic auth; connection errors, 429 and 5xx are retried with exponential backoff when
   * the call is replayable.
   */
  private async request(path: string, repo: string, init: RequestInit2): Promise<Answer> {
    const home = new URL(this.base).origin;
    const key = this.scopeKey(repo, init);
    const retry = init.retry ?? true;
    // Registries redirect blob (and some manifest) GETs to storage or another registry
    // (registry.k8s.io → a cloud registry that wants its own anonymous token). Followed here,
    // not by undici, so each origin gets its own credentials and ours never leave our origin.
    const followable = init.method === 'GET' || init.method === 'HEAD';
    let url = new URL(path, this.base).toString();
    let redirects = 0;
    const authRetried = new Set<string>();
    let attempt = 0;
    for (;;) {
      const origin = new URL(url).origin;
      const foreign = origin !== home;
      const headers: Record<string, string> = { ...init.headers };
      const authorization = foreign
        ? this.auth.get(`${origin}|${key}`)
        : this.basic && this.creds
          ? basicAuthorization(this.creds)
          : this.auth.get(key);
      if (authorization) headers.authorization = authorization;
      let res: Answer;
      try {
        this.onRequest?.(init.method, url);
        res = await httpRequest(url, {
          method: init.method,
          headers,
          body: init.body?.(),
          signal: init.signal,
          followRedirects: false,
        });
      } catch (err) {
        if (init.signal?.aborted) throw aborted(init.signal);
        const wrapped = wrapNetwork(err, `${init.method} ${url}`);
        if (!retry || attempt >= this.retries) throw wrapped;
        attempt++;
        await sleep(this.backoff(attempt), undefined, { signal: init.signal ?? undefined }).catch(() => {
          throw aborted(init.signal);
        });
        continue;
      }
      const location = res.headers.get('location');
      if (followable && location && [301, 302, 303, 307, 308].includes(res.status)) {
        await drain(res);
        if (++redirects > 5) throw this.httpError(res, `${init.method} ${path}: too many redirects`);
        url = new URL(location, url).toString();
        continue;
      }
      if (res.status === 401 && !authRetried.has(origin)) {
        authRetried.add(origin);
        const challenge = parseChallenge(res.headers.get('www-authenticate') ?? '');
        await drain(res);
        if (foreign) await this.authenticateElsewhere(challenge, origin, key, init);
        else await this.authenticate(challenge, repo, init, key);
        continue;
      }
      if ((res.status >= 500 || res.status === 429) && retry && attempt < this.retries) {
        attempt++;
        await drain(res);
        await sleep(this.backoff(attempt), undefined, { signal: init.signal ?? undefined }).catch(() => {
          throw aborted(init.signal);
        });
        continue;
      }
      if (res.status === 401 || res.status === 403) {
        await drain(res);
        throw new OciError(
          OciErrorCode.unauthorized,
          `${foreign ? origin : this.host} refused ${init.method} ${new URL(url).pathname} (${res.status})${this.creds && !foreign ? ` for user '${this.creds.username}'` : ': credentials needed'}`,
          3,
          { status: res.status },
        );
      }
      return res;
    }
  }

  /**
   * A 401 from the origin a redirect led to: an anonymous bearer token for the scope it names.
   * Our credentials are for our registry only and are never sent elsewhere.
   */
  private async authenticateElsewhere(
    challenge: Challenge | undefined,
    origin: string,
    key: string,
    init: RequestInit2,
  ): Promise<void> {
    if (challenge?.scheme !== 'bearer') {
      throw new OciError(
        OciErrorCode.unauthorized,
        `${origin} (redirected from ${this.host}) asks for credentials`,
        3,
        {
          status: 401,
        },
      );
    }
    const scopes = challenge.params.scope ? challenge.params.scope.split(' ') : [];
    const token = await fetchToken(challenge, scopes, undefined, httpRequest, init.signal);
    this.auth.set(`${origin}|${key}`, `Bearer ${token}`);
  }

  private async authenticate(
    challenge: Challenge | undefined,
    repo: string,
    init: RequestInit2,
    key: string,
  ): Promise<void> {
    if (challenge?.scheme === 'basic') {
      if (!this.creds) {
        throw new OciError(OciErrorCode.unauthorized, `${this.host} requires credentials (basic auth)`, 3, {
          status: 401,
        });
      }
      this.basic = true;
      return;
    }
    if (challenge?.scheme === 'bearer') {
      const scopes = new Set<string>();
      if (challenge.params.scope) for (const s of challenge.params.scope.split(' ')) scopes.add(s);
      if (repo) scopes.add(`repository:${repo}:${init.push ? 'pull,push' : 'pull'}`);
      if (init.mountFrom) scopes.add(`repository:${init.mountFrom}:pull`);
      const token = await fetchToken(challenge, [...scopes], this.creds, httpRequest, init.signal);
      this.auth.set(key, `Bearer ${token}`);
      return;
    }
    throw new OciError(OciErrorCode.unauthorized, `${this.host} answered 401 without a usable challenge`, 3, {
      status: 401,
    });
  }

  private httpError(res: Answer, what: string, body?: string): OciError {
    const detail = body ? registryErrorText(body) : '';
    const code = res.status === 404 ? OciErrorCode.notFound : OciErrorCode.http;
    return new OciError(code, `${this.host}: ${what} failed: HTTP ${res.status}${detail ? ` (${detail})` : ''}`, 3, {
      status: res.status,
    });
  }
}

function sizeOpt(size: number | undefined): { size?: number } {
  return size === undefined ? {} : { size };
}

/** The `errors[].code: message` of a distribution error body, if it is one. */
function registryErrorText(body: string): string {
  try {
    const parsed = JSON.parse(body) as { errors?: { code?: string; message?: string }[] };
    return (parsed.errors ?? []).map((e) => `${e.code ?? ''}: ${e.message ?? ''}`).join('; ');
  } catch {
    return body.slice(0, 200);
  }
}

async function drain(res: Answer): Promise<void> {
  // undici's dump() reads a small rest so the connection returns to the pool, and quietly
  // closes it past 128 KiB (a HEAD has no body whatever its Content-Length says).
  try {
    await res.body.dump();
  } catch {
    // An aborted or finished body needs nothing more.
  }
}

async function readLimited(res: Answer, limit: number, what: string): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length') ?? 0);
  if (declared > limit) {
    await drain(res);
    throw new OciError(OciErrorCode.manifestUnsupported, `${what}: manifest larger than ${limit} bytes`, 3);
  }
  const buf = await res.bytes();
  if (buf.length > limit) {
    throw new OciError(OciErrorCode.manifestUnsupported, `${what}: manifest larger than ${limit} bytes`, 3);
  }
  return buf;
}

function wrapNetwork(err: unknown, what: string): OciError {
  if (err instanceof OciError) return err;
  return new OciError(OciErrorCode.unreachable, `${what}: ${causeOf(err)}`, 3, { cause: err });
}

function aborted(signal: AbortSignal | undefined): OciError {
  return new OciError(OciErrorCode.aborted, 'aborted', 130, { cause: signal?.reason });
}

/** Connection failures and 5xx are worth a retry; 4xx and digest mismatches are not. */
function isTransient(err: unknown): boolean {
  if (err instanceof OciError) {
    if (err.code === OciErrorCode.unreachable) return true;
    return err.status !== undefined && (err.status >= 500 || err.status === 429);
  }
  return true;
}
