import type { Dispatcher } from 'undici';
import { type Credentials, RegistryAuth } from './auth.ts';
import { networkError, OciError, OciErrorCode, OciExitCode } from './errors.ts';
import { apiHost } from './reference.ts';
import { isTransientStatus, retry, retryDefaults } from './retry.ts';

/**
 * undici's `request` rather than `fetch`: its bodies are Node streams, not WHATWG streams, which cost
 * less CPU per byte of a bundle create (docs/supply-chain.md, Speed). Plain
 * downloads let undici follow redirects (it drops Authorization when one leaves the origin); the
 * registry client follows them itself (see `RegistryTransport.request`).
 */
interface UndiciClient {
  request: typeof import('undici').request;
  /** Follows redirects (plain downloads). */
  redirecting: Dispatcher;
  /** Returns 3xx as they are: the registry client follows them itself, to authenticate per origin. */
  direct: Dispatcher;
}
let client: Promise<UndiciClient> | undefined;
/** CA certificates (PEM) trusted beside Node's own roots: a site's private CA (`--ca-file`). */
let extraCas: readonly string[] = [];

/**
 * Trusts these CA certificates (PEM) for every HTTPS connection from now on, beside Node's bundled roots (and
 * NODE_EXTRA_CA_CERTS): a registry or chart repository behind the site's private CA. Call before the first request.
 */
export function trustCertificates(pems: readonly string[]): void {
  extraCas = [...pems];
  client = undefined;
}

/** undici, loaded on first use (start-up that commands without network never pay). */
function undici(): Promise<UndiciClient> {
  client ??= Promise.all([import('undici'), import('node:tls')]).then(([u, tls]) => {
    // `ca` replaces the default store: start from it (bundled roots and NODE_EXTRA_CA_CERTS), then add ours.
    const connect = extraCas.length > 0 ? { ca: [...tls.getCACertificates('default'), ...extraCas] } : undefined;
    const direct = new u.Agent({ connections: 32, keepAliveTimeout: 10_000, ...(connect ? { connect } : {}) });
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

/** Options of a registry's HTTP layer; every field but `host` has a default. */
export interface TransportOptions {
  /** Registry as written in references: `docker.io`, `ghcr.io`, `127.0.0.1:5000`. */
  host: string;
  /** Speak plain HTTP. Default false: HTTPS only, never a silent downgrade. */
  plainHttp?: boolean;
  /** Basic credentials, also sent to a bearer token service. Default: anonymous. */
  credentials?: Credentials;
  /** Retries after a connection error, 429 or 5xx. Default 4 (5 attempts). */
  retries?: number;
  /**
   * Window of the first backoff, doubled per retry, each wait uniform in [0, window] (full jitter).
   * Default 250 ms (at most 3.75 s of waiting over 4 retries).
   */
  retryBaseMs?: number;
  /** Called before every HTTP request (tests count requests). Default none. */
  onRequest?: (method: string, url: string) => void;
}

/** One API call of {@link RegistryTransport.request}. */
export interface CallInit {
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

/** A registry's answer and how many attempts it took, which the error built from it names. */
export interface RegistryAnswer extends Answer {
  attempts: number;
}

const redirectStatuses = new Set([301, 302, 303, 307, 308]);

/**
 * The HTTP layer of one registry: every API call authenticated (a token per scope, or basic),
 * its redirects followed per origin, and retried with the one retry policy of @lumen/oci.
 */
export class RegistryTransport {
  readonly host: string;
  /** `https://<api host>` (`http://` with `plainHttp`). */
  readonly base: string;
  readonly retries: number;
  readonly retryBaseMs: number;
  private readonly auth: RegistryAuth;
  private readonly onRequest: ((method: string, url: string) => void) | undefined;

  constructor(options: TransportOptions) {
    this.host = options.host;
    this.base = `${options.plainHttp ? 'http' : 'https'}://${apiHost(options.host)}`;
    this.retries = options.retries ?? retryDefaults.retries;
    this.retryBaseMs = options.retryBaseMs ?? retryDefaults.baseMs;
    this.auth = new RegistryAuth(options.host, new URL(this.base).origin, options.credentials, httpRequest);
    this.onRequest = options.onRequest;
  }

  /**
   * One API call with authentication and retries. `path` is an API path or an absolute upload
   * location. A 401 is answered once per origin and call by fetching a token (Bearer) or switching
   * to basic auth; connection errors, 429 and 5xx are retried with backoff when the call is
   * replayable, and the last 5xx is returned for the caller to turn into its error.
   */
  async request(path: string, repo: string, init: CallInit): Promise<RegistryAnswer> {
    const scope = { repo, push: init.push ?? false, mountFrom: init.mountFrom };
    const retries = init.retry === false ? 0 : this.retries;
    // Registries redirect blob (and some manifest) GETs to storage or another registry
    // (registry.k8s.io → a cloud registry that wants its own anonymous token). Followed here,
    // not by undici, so each origin gets its own credentials and ours never leave our origin.
    // Where a redirect led and which origins were answered a 401 hold across attempts.
    const followable = init.method === 'GET' || init.method === 'HEAD';
    let url = new URL(path, this.base).toString();
    let redirects = 0;
    const authRetried = new Set<string>();
    const attempt = async (n: number): Promise<RegistryAnswer> => {
      for (;;) {
        const origin = new URL(url).origin;
        const headers: Record<string, string> = { ...init.headers };
        const authorization = this.auth.header(origin, scope);
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
          throw networkError(err, `${init.method} ${url}`);
        }
        const location = res.headers.get('location');
        if (followable && location && redirectStatuses.has(res.status)) {
          await drain(res);
          if (++redirects > 5) throw this.error(res, `${init.method} ${path}: too many redirects`);
          url = new URL(location, url).toString();
          continue;
        }
        if (res.status === 401 && !authRetried.has(origin)) {
          authRetried.add(origin);
          const challenge = res.headers.get('www-authenticate') ?? '';
          await drain(res);
          await this.auth.answer(challenge, origin, scope, init.signal);
          continue;
        }
        if (isTransientStatus(res.status) && n <= retries) {
          await drain(res);
          throw this.error(res, `${init.method} ${new URL(url).pathname}`);
        }
        if (res.status === 401 || res.status === 403) {
          await drain(res);
          throw this.auth.refused(origin, init.method, new URL(url).pathname, res.status);
        }
        return Object.assign(res, { attempts: n });
      }
    };
    return retry(attempt, { retries, baseMs: this.retryBaseMs, signal: init.signal });
  }

  /** The error for an answer `what` did not expect, with the registry's own error text when it sent one. */
  error(res: Answer & { attempts?: number }, what: string, body?: string): OciError {
    const detail = body ? registryErrorText(body) : '';
    const code = res.status === 404 ? OciErrorCode.notFound : OciErrorCode.http;
    const attempts = res.attempts ?? 1;
    return new OciError(
      code,
      `${this.host}: ${what} failed: HTTP ${res.status}${detail ? ` (${detail})` : ''}${attempts > 1 ? ` (after ${attempts} attempts)` : ''}`,
      OciExitCode.remote,
      { status: res.status, attempts },
    );
  }
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

/** Lets go of an answer's body so its connection returns to the pool. */
export async function drain(res: Answer): Promise<void> {
  // undici's dump() reads a small rest so the connection returns to the pool, and quietly
  // closes it past 128 KiB (a HEAD has no body whatever its Content-Length says).
  try {
    await res.body.dump();
  } catch {
    // An aborted or finished body needs nothing more.
  }
}
