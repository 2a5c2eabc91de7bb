import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { causeOf, OciError, OciErrorCode, OciExitCode } from './errors.ts';

/** Username and password (or token) for one registry. */
export interface Credentials {
  username: string;
  password: string;
}

/** A parsed `WWW-Authenticate` challenge. */
export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/**
 * Parses `WWW-Authenticate: Bearer realm="…",service="…",scope="repository:a:pull,push"`.
 * Values may be quoted and contain commas (the scope does), so this is a small tokenizer,
 * not a split on ','.
 */
export function parseChallenge(header: string): Challenge | undefined {
  const m = /^\s*([A-Za-z]+)\s*(.*)$/s.exec(header);
  if (!m?.[1]) return undefined;
  const params: Record<string, string> = {};
  const re = /([A-Za-z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*,?\s*/gy;
  const rest = m[2] ?? '';
  re.lastIndex = 0;
  let p: RegExpExecArray | null = re.exec(rest);
  while (p !== null && p[0] !== '') {
    const key = (p[1] ?? '').toLowerCase();
    params[key] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : (p[3] ?? '');
    p = re.exec(rest);
  }
  return { scheme: m[1].toLowerCase(), params };
}

/** `Authorization` header value for basic auth. */
export function basicAuthorization(creds: Credentials): string {
  return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
}

/** An HTTP GET as a token service is asked (`httpRequest` of @lumen/oci; tests may pass another). */
export type Send = (
  url: string,
  init: { method: string; headers: Record<string, string>; signal?: AbortSignal | undefined },
) => Promise<{ status: number; ok: boolean; text(): Promise<string> }>;

/**
 * Asks a token service for a bearer token, as Docker Hub, ghcr.io and quay.io expect:
 * `GET realm?service=…&scope=…` with basic credentials when there are any (anonymous
 * otherwise); the answer carries `token` or `access_token`.
 */
export async function fetchToken(
  challenge: Challenge,
  scopes: string[],
  creds: Credentials | undefined,
  send: Send,
  signal?: AbortSignal,
): Promise<string> {
  const realm = challenge.params.realm;
  if (!realm) {
    throw new OciError(OciErrorCode.unauthorized, 'bearer challenge without a realm', OciExitCode.remote);
  }
  let url: URL;
  try {
    url = new URL(realm);
  } catch {
    throw new OciError(OciErrorCode.unauthorized, `bearer realm is not a URL: '${realm}'`, OciExitCode.remote);
  }
  if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
  for (const scope of scopes) url.searchParams.append('scope', scope);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (creds) headers.authorization = basicAuthorization(creds);
  let res: Awaited<ReturnType<typeof send>>;
  try {
    res = await send(url.toString(), { method: 'GET', headers, signal });
  } catch (err) {
    throw new OciError(
      OciErrorCode.unreachable,
      `token service ${url.origin} unreachable: ${causeOf(err)}`,
      OciExitCode.remote,
      {
        cause: err,
      },
    );
  }
  if (!res.ok) {
    await res.text().catch(() => '');
    throw new OciError(
      OciErrorCode.unauthorized,
      `token service ${url.origin} refused (${res.status})${creds ? ` for user '${creds.username}'` : ''}`,
      OciExitCode.remote,
      { status: res.status },
    );
  }
  let body: { token?: unknown; access_token?: unknown } = {};
  try {
    body = JSON.parse(await res.text()) as typeof body;
  } catch {
    // handled below: no token
  }
  const token = typeof body.token === 'string' ? body.token : body.access_token;
  if (typeof token !== 'string' || token === '') {
    throw new OciError(
      OciErrorCode.unauthorized,
      `token service ${url.origin} answered without a token`,
      OciExitCode.remote,
    );
  }
  return token;
}

/**
 * Credentials for `registry` from a Docker/containers auth file: `REGISTRY_AUTH_FILE`, then
 * `$DOCKER_CONFIG/config.json`, then `~/.docker/config.json` (the `auths` map, `auth` =
 * base64 `user:password`, as written by `docker login` / `skopeo login`). Undefined if none.
 */
export function credentialsFromAuthFiles(
  registry: string,
  env: NodeJS.ProcessEnv = process.env,
): Credentials | undefined {
  const files = [
    env.REGISTRY_AUTH_FILE,
    env.DOCKER_CONFIG ? join(env.DOCKER_CONFIG, 'config.json') : undefined,
    join(homedir(), '.docker', 'config.json'),
  ].filter((f): f is string => typeof f === 'string' && f !== '');
  const names =
    registry === 'docker.io'
      ? ['docker.io', 'index.docker.io', 'https://index.docker.io/v1/', 'registry-1.docker.io']
      : [registry, `https://${registry}`, `http://${registry}`];
  for (const file of files) {
    let auths: Record<string, { auth?: string; username?: string; password?: string }>;
    try {
      auths = (JSON.parse(readFileSync(file, 'utf8')) as { auths?: typeof auths }).auths ?? {};
    } catch {
      continue;
    }
    for (const name of names) {
      const entry = auths[name];
      if (!entry) continue;
      if (entry.username && entry.password) return { username: entry.username, password: entry.password };
      if (entry.auth) {
        const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
        const i = decoded.indexOf(':');
        if (i > 0) return { username: decoded.slice(0, i), password: decoded.slice(i + 1) };
      }
    }
  }
  return undefined;
}

/** What one API call needs access to: a repository, to pull or push, and one to mount from. */
export interface Scope {
  repo: string;
  push: boolean;
  mountFrom?: string | undefined;
}

/**
 * The authorization state of one registry client: a bearer token per scope (and per origin a
 * redirect led to), or basic auth once the registry asked for it. Our credentials are for our
 * registry only and never leave its origin (`home`).
 */
export class RegistryAuth {
  private readonly host: string;
  private readonly home: string;
  private readonly creds: Credentials | undefined;
  private readonly send: Send;
  /** Authorization per `origin|scope` key. */
  private readonly tokens = new Map<string, string>();
  private basic = false;

  constructor(host: string, home: string, creds: Credentials | undefined, send: Send) {
    this.host = host;
    this.home = home;
    this.creds = creds;
    this.send = send;
  }

  /** The `Authorization` header for a request to `origin` in `scope`, if there is one yet. */
  header(origin: string, scope: Scope): string | undefined {
    if (origin === this.home && this.basic && this.creds) return basicAuthorization(this.creds);
    return this.tokens.get(key(origin, scope));
  }

  /**
   * Answers a 401 from `origin` (its `WWW-Authenticate` header): a token for the scope, or basic
   * auth. Elsewhere (where a redirect led) only an anonymous bearer token for the scope it names.
   */
  async answer(header: string, origin: string, scope: Scope, signal: AbortSignal | undefined): Promise<void> {
    const challenge = parseChallenge(header);
    if (origin !== this.home) {
      if (challenge?.scheme !== 'bearer') {
        throw new OciError(
          OciErrorCode.unauthorized,
          `${origin} (redirected from ${this.host}) asks for credentials`,
          OciExitCode.remote,
          { status: 401 },
        );
      }
      const scopes = challenge.params.scope ? challenge.params.scope.split(' ') : [];
      this.tokens.set(
        key(origin, scope),
        `Bearer ${await fetchToken(challenge, scopes, undefined, this.send, signal)}`,
      );
      return;
    }
    if (challenge?.scheme === 'basic') {
      if (!this.creds) {
        throw new OciError(
          OciErrorCode.unauthorized,
          `${this.host} requires credentials (basic auth)`,
          OciExitCode.remote,
          { status: 401 },
        );
      }
      this.basic = true;
      return;
    }
    if (challenge?.scheme === 'bearer') {
      const scopes = new Set<string>();
      if (challenge.params.scope) for (const s of challenge.params.scope.split(' ')) scopes.add(s);
      if (scope.repo) scopes.add(`repository:${scope.repo}:${scope.push ? 'pull,push' : 'pull'}`);
      if (scope.mountFrom) scopes.add(`repository:${scope.mountFrom}:pull`);
      this.tokens.set(
        key(origin, scope),
        `Bearer ${await fetchToken(challenge, [...scopes], this.creds, this.send, signal)}`,
      );
      return;
    }
    throw new OciError(
      OciErrorCode.unauthorized,
      `${this.host} answered 401 without a usable challenge`,
      OciExitCode.remote,
      { status: 401 },
    );
  }

  /** OCI_UNAUTHORIZED for a 401 or 403 that {@link answer} could not fix. */
  refused(origin: string, method: string, pathname: string, status: number): OciError {
    const home = origin === this.home;
    return new OciError(
      OciErrorCode.unauthorized,
      `${home ? this.host : origin} refused ${method} ${pathname} (${status})${this.creds && home ? ` for user '${this.creds.username}'` : ': credentials needed'}`,
      OciExitCode.remote,
      { status },
    );
  }
}

function key(origin: string, scope: Scope): string {
  return `${origin}|${scope.repo}|${scope.push ? 'push' : 'pull'}|${scope.mountFrom ?? ''}`;
}
