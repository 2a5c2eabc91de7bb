/**
 * Builds the lumen-api Fastify apps from injected dependencies — the public app (port 8080) and the admin app
 * (port 9090, metrics) — without listening, so tests build them in-process. The process edge is main.ts.
 */
import swagger from '@fastify/swagger';
import { type TypeBoxTypeProvider, TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  LogController,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from 'fastify';
import type { Logger } from 'pino';
import type { Dependencies } from './dependencies.ts';
import { ApiError, sendProblem, toApiError } from './errors.ts';
import { idempotencyPlugin, kvIdempotencyStore } from './idempotency/index.ts';
import type { Lifecycle } from './lifecycle.ts';
import {
  collectProcessMetrics,
  idempotencyTotal,
  observeRequest,
  registry,
  trackDependencies,
  UNMATCHED_ROUTE,
} from './metrics.ts';
import { registerProfilingRoutes } from './profiling.ts';
import { registerEventRoutes } from './routes/events.ts';
import { registerHealthRoutes } from './routes/health.ts';
import { registerHelloRoutes } from './routes/hello.ts';
import { registerItemRoutes } from './routes/items.ts';
import { withTimeout } from './timeout.ts';

/** The public app with the TypeBox type provider. */
export type App = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/** Largest accepted request body: 1 MiB, answered 413 beyond. */
export const BODY_LIMIT = 1024 * 1024;

/**
 * Idle keep-alive timeout of the public server: 95 s, longer than Traefik's 90 s idle timeout for backend
 * connections (`serversTransport.idleConnTimeout`), so Traefik always closes an idle connection first and
 * never sends a request on a socket Node is closing (which clients see as 502).
 */
export const KEEP_ALIVE_TIMEOUT_MS = 95_000;

/** What {@link buildApp} needs. */
export interface AppOptions {
  deps: Pick<Dependencies, 'db' | 'reads' | 'kv'>;
  lifecycle: Lifecycle;
  logger: Logger;
  /** Timeout of each /health check, ms (default 1000). */
  healthTimeoutMs?: number;
  /** `IDEMPOTENCY_TTL_SECONDS`: how long answers to keyed requests are replayed (default 86400). */
  idempotencyTtlSeconds?: number;
}

/** Builds the public app: routes, validation, problem+json errors, metrics, OpenAPI. Call `ready()`/`listen()`. */
export async function buildApp(options: AppOptions): Promise<App> {
  const { lifecycle } = options;
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    // One access line per request from onResponse below instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    // During a drain, requests on connections that are still open must be served, not refused with 503:
    // they were accepted. Responses carry `Connection: close` instead (see onSend below).
    return503OnClosing: false,
  }).withTypeProvider<TypeBoxTypeProvider>();

  // TypeBox validates: bodies exactly as sent (Fastify's default Ajv would coerce `{"name": 42}` to "42" and
  // drop unknown fields), query strings and path parameters converted to the declared types first.
  app.setValidatorCompiler(TypeBoxValidatorCompiler);

  // Only JSON bodies: without this, Fastify's text/plain parser would accept `name=x` as a string body.
  app.removeContentTypeParser('text/plain');

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'lumen-api',
        version: '0.1.0',
        description: 'The lumen reference workload. Errors are application/problem+json (RFC 9457).',
      },
    },
  });

  const routes: { method: string; pattern: RegExp }[] = [];
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const segments = route.url
      .split('/')
      .map((s) => (s.startsWith(':') ? '[^/]+' : s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    const pattern = new RegExp(`^${segments.join('/')}/?$`);
    for (const method of methods) routes.push({ method, pattern });
  });

  // While draining, every response asks the client to close its connection (Node then closes it after the response),
  // so keep-alive clients move to other pods instead of racing the listener's close. Set on the raw response before
  // Fastify sees the request: Fastify's writeHead keeps it. An onSend hook did the same at ~1 µs per request more
  // (interleaved A/B, server CPU per GET /hello); app.inject() bypasses the server, so injected replies lack it.
  app.server.prependListener('request', (_req, res) => {
    if (lifecycle.draining) res.setHeader('connection', 'close');
  });

  // Callback-style: on every request, an async hook costs a promise and a microtask more.
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.is404 ? UNMATCHED_ROUTE : (request.routeOptions.url ?? UNMATCHED_ROUTE);
    observeRequest(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
    // Probes arrive every few seconds from every kubelet: keep them out of the info-level access log.
    const level = route === '/livez' || route === '/readyz' ? 'debug' : 'info';
    request.log[level](
      { method: request.method, url: request.url, route, status: reply.statusCode, ms: Math.round(reply.elapsedTime) },
      'request',
    );
    done();
  });

  app.setErrorHandler((thrown, request, reply) => {
    const error = toApiError(thrown);
    if (error.statusCode >= 500) {
      request.log[error.code === 'internal' ? 'error' : 'warn']({ err: thrown }, error.message);
    }
    return sendProblem(reply, error);
  });

  app.setNotFoundHandler(async (request) => {
    const path = request.url.split('?')[0] ?? '/';
    const allowed = new Set(routes.filter((r) => r.pattern.test(path)).map((r) => r.method));
    if (allowed.size > 0) {
      if (allowed.has('GET')) allowed.add('HEAD');
      const allow = [...allowed].sort().join(', ');
      throw new ApiError('method_not_allowed', `${request.method} is not allowed here; allowed: ${allow}`, {
        headers: { allow },
      });
    }
    throw new ApiError('not_found', `no route for ${request.method} ${path}`);
  });

  // Before the routes: it attaches to every POST/DELETE route as it is added (docs/idempotency.md).
  await app.register(idempotencyPlugin, {
    store: kvIdempotencyStore(options.deps.kv),
    ttlSeconds: options.idempotencyTtlSeconds,
    ledger: options.deps.db.primary,
    outcomes: idempotencyTotal,
  });
  trackDependencies({
    redis: (ms) => options.deps.kv.ping(ms),
    postgresRw: (ms) => withTimeout(options.deps.db.primary.query('SELECT 1'), ms),
    replica: () => ({
      configured: options.deps.db.replica !== undefined,
      up: options.deps.reads.state.status !== 'down',
      lagMs: options.deps.reads.state.lagMs,
    }),
  });

  registerHealthRoutes(app, options);
  registerHelloRoutes(app, options.deps);
  registerItemRoutes(app, options.deps);
  registerEventRoutes(app, options.deps);
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  return app;
}

/** Builds the admin app (`/metrics`). The telemetry and profiling endpoints are added here too. */
export async function buildAdminApp(options: {
  logger: Logger;
  /** `LUMEN_PROFILING`: adds /debug/pprof/profile and /debug/pprof/heap (profiling.ts). Default false. */
  profiling?: boolean;
}): Promise<FastifyInstance> {
  collectProcessMetrics();
  const admin = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
  });
  admin.get('/metrics', async (_request, reply) => {
    reply.type(registry.contentType);
    return registry.metrics();
  });
  registerProfilingRoutes(admin, { enabled: options.profiling ?? false });
  return admin;
}
