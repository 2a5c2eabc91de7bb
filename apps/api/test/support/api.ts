/**
 * Test support: lumen-api built in-process from an environment (as main.ts does, minus signals and exit) and
 * listening on a free loopback port, plus a small HTTP client. Real HTTP, so content types, status codes and
 * headers are what a client sees.
 */
import {
  type Datastores,
  type PgCluster,
  type RedisCluster,
  type RedisOf,
  type StartDatastoresOptions,
  startDatastores,
} from '@lumen/testkit';
import pino from 'pino';
import { type App, buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { type Dependencies, openDependencies } from '../../src/dependencies.ts';
import { createLifecycle, type Lifecycle } from '../../src/lifecycle.ts';

/** A running in-process API. */
export interface RunningApi {
  url: string;
  app: App;
  deps: Dependencies;
  lifecycle: Lifecycle;
  close(): Promise<void>;
}

/**
 * lumen-api's environment for harness servers: the primary (and the replica, if started) as PG_RW_DSN/PG_RO_DSN;
 * Redis through its Sentinels when it has any, else its master directly.
 */
export function serverEnv(pg: PgCluster, redis?: RedisCluster): Record<string, string | undefined> {
  return {
    PG_RW_DSN: pg.primary.dsn,
    ...(pg.replica ? { PG_RO_DSN: pg.replica.dsn } : {}),
    ...(redis === undefined
      ? {}
      : redis.sentinels.length > 0
        ? {
            REDIS_MODE: 'sentinel',
            REDIS_SENTINEL_ADDRS: redis.sentinelAddrs,
            REDIS_MASTER_NAME: redis.masterName,
            REDIS_PASSWORD: redis.password,
          }
        : { REDIS_ADDR: redis.master.addr, REDIS_PASSWORD: redis.password }),
  };
}

/** Builds and starts the API from `env` (on top of loopback/port-0 defaults). LUMEN_TEST_LOG=debug shows its logs. */
export async function startApi(env: Record<string, string | undefined>): Promise<RunningApi> {
  const config = loadConfig({ HOST: '127.0.0.1', PORT: '0', ADMIN_PORT: '0', ...env });
  const logger = pino({ level: process.env.LUMEN_TEST_LOG ?? 'silent' });
  const deps = await openDependencies(config, logger);
  const lifecycle = createLifecycle();
  const app = await buildApp({ deps, lifecycle, logger });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as { port: number };
  let closed = false;
  return {
    url: `http://127.0.0.1:${port}`,
    app,
    deps,
    lifecycle,
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
      await deps.close();
    },
  };
}

/** What {@link startApiStack} starts: PostgreSQL and Redis as for `startDatastores`, and the API's own variables. */
export interface ApiStackOptions extends StartDatastoresOptions {
  /** Added to (or overriding) the {@link serverEnv} of the servers, e.g. `{ PG_REPLICA_MAX_LAG_MS: '500' }`. */
  env?: Record<string, string | undefined>;
}

/** The servers and the API on them; `close()` closes the API first, then the servers. */
export interface ApiStack<R extends RedisCluster | undefined> extends Datastores<R> {
  readonly api: RunningApi;
}

/**
 * PostgreSQL (and Redis, when asked) from the harness and the API on them, for one test file:
 *
 * ```ts
 * const { pg, redis, api, close } = await startApiStack({ redis: true });
 * after(close);
 * ```
 */
export async function startApiStack<const O extends ApiStackOptions = Record<never, never>>(
  options?: O,
): Promise<ApiStack<RedisOf<O>>> {
  const datastores = await startDatastores(options);
  let api: RunningApi;
  try {
    api = await startApi({ ...serverEnv(datastores.pg, datastores.redis), ...options?.env });
  } catch (error) {
    await datastores.close();
    throw error;
  }
  return {
    pg: datastores.pg,
    redis: datastores.redis,
    api,
    async close() {
      await api.close();
      await datastores.close();
    },
  };
}

/** A response with its body parsed when it is JSON. */
export interface Reply {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: test bodies are inspected field by field
  body: any;
  text: string;
}

/** Sends one request; `body` objects are sent as JSON unless a content-type header says otherwise. */
export async function call(
  base: string,
  method: string,
  path: string,
  options: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...options.headers };
  let body: string | undefined;
  if (options.body !== undefined) {
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type'))
      headers['content-type'] = 'application/json';
  }
  const response = await fetch(`${base}${path}`, { method, headers, body });
  const text = await response.text();
  const type = response.headers.get('content-type') ?? '';
  return {
    status: response.status,
    headers: response.headers,
    body: type.includes('json') && text ? JSON.parse(text) : text,
    text,
  };
}
