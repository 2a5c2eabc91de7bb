import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { OciError, OciErrorCode } from './errors.ts';

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

/**
 * Asks a token service for a bearer token, as Docker Hub, ghcr.io and quay.io expect:
 * `GET realm?service=…&scope=…` with basic credentials when there are any (anonymous
 * otherwise); the answer carries `token` or `access_token`.
 */
export async function fetchToken(
  challenge: Challenge,
  scopes: string[],
  creds: Credentials | undefined,
  send: (
    url: string,
    init: { method: string; headers: Record<string, string>; signal?: AbortSignal | undefined },
  ) => Promise<{ status: number; ok: boolean; text(): Promise<string> }>,
  signal?: AbortSignal,
): Promise<string> {
  const realm = challenge.params.realm;
  if (!realm) {
    throw new OciError(OciErrorCode.unauthorized, 'bearer challenge without a realm', 3);
  }
  let url: URL;
  try {
    url = new URL(realm);
  } catch {
    throw new OciError(OciErrorCode.unauthorized, `bearer realm is not a URL: '${realm}'`, 3);
  }
  if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
  for (const scope of scopes) url.searchParams.append('scope', scope);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (creds) headers.authorization = basicAuthorization(creds);
  let res: Awaited<ReturnType<typeof send>>;
  try {
    res = await send(url.toString(), { method: 'GET', headers, signal });
  } catch (err) {
    throw new OciError(OciErrorCode.unreachable, `token service ${url.origin} unreachable: ${causeOf(err)}`, 3, {
      cause: err,
    });
  }
  if (!res.ok) {
    await res.text().catch(() => '');
    throw new OciError(
      OciErrorCode.unauthorized,
      `token service ${url.origin} refused (${res.status})${creds ? ` for user '${creds.username}'` : ''}`,
      3,
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
    throw new OciError(OciErrorCode.unauthorized, `token service ${url.origin} answered without a token`, 3);
  }
  return token;
}

/** The most useful line of a network failure (fetch hides the errno in `cause`, undici sets `code`). */
export function causeOf(err: unknown): string {
  if (err instanceof Error) {
    const own = (err as { code?: unknown }).code;
    if (typeof own === 'string' && own !== 'UND_ERR_SOCKET') return `${own} ${err.message}`.trim();
    const cause = (err as { cause?: unknown }).cause;
    if (cause instanceof Error) {
      const code = (cause as { code?: unknown }).code;
      return typeof code === 'string' ? `${code} ${cause.message}`.trim() : cause.message;
    }
    return err.message;
  }
  return String(err);
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
