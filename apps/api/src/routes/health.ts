/**
 * Probes. `/livez` and `/readyz` never look at shared dependencies: a database outage must not restart or
 * de-list every pod at once (the public implementation used /health as liveness probe, and a Redis outage
 * restarted every pod). `/health` is the detailed view for humans and alerts.
 */
import type { App, AppOptions } from '../app.ts';

import { type Check, Health, Status } from '../schemas.ts';
import { withTimeout } from '../timeout.ts';

/** Default timeout of each /health check: a dependency slower than this counts as down. */
export const HEALTH_TIMEOUT_MS = 1000;

export function registerHealthRoutes(app: App, options: AppOptions): void {
  const { deps, lifecycle } = options;
  const timeoutMs = options.healthTimeoutMs ?? HEALTH_TIMEOUT_MS;

  app.get('/livez', { schema: { summary: 'The process is alive', response: { 200: Status } } }, async () => ({
    status: 'alive',
  }));

  app.get(
    '/readyz',
    { schema: { summary: '200 once started, 503 while draining', response: { 200: Status, 503: Status } } },
    async (_request, reply) => {
      if (lifecycle.draining) return reply.code(503).send({ status: 'draining' });
      return { status: 'ready' };
    },
  );

  app.get(
    '/health',
    { schema: { summary: 'Dependency checks; 200 healthy, 503 degraded', response: { 200: Health, 503: Health } } },
    async (_request, reply) => {
      const timed = async (fn: () => Promise<unknown>): Promise<Check> => {
        const started = performance.now();
        try {
          await withTimeout(fn(), timeoutMs);
          return { status: 'up', latency_ms: elapsed(started) };
        } catch (error) {
          return { status: 'down', latency_ms: elapsed(started), error: (error as Error).message };
        }
      };
      const [redis, primary, replica] = await Promise.all([
        timed(() => deps.kv.ping(timeoutMs)),
        timed(() => deps.db.primary.query('SELECT 1')),
        deps.db.replica === undefined ? undefined : deps.reads.probe(),
      ]);
      const postgresRo: Check =
        replica === undefined
          ? { ...primary, kind: 'primary' } // no replica configured: reads use the primary
          : {
              status: replica.status,
              ...(replica.latencyMs !== undefined && { latency_ms: replica.latencyMs }),
              ...(replica.lagMs !== undefined && { lag_ms: replica.lagMs }),
              ...(replica.error !== undefined && { error: replica.error }),
              kind: 'replica',
            };
      const body: Health = {
        status: 'healthy',
        checks: {
          redis: { ...redis, kind: deps.kv.kind },
          postgres_rw: { ...primary, kind: deps.db.embedded ? 'embedded' : 'primary' },
          postgres_ro: postgresRo,
        },
      };
      if (Object.values(body.checks).some((c) => c.status !== 'up')) body.status = 'degraded';
      return reply.code(body.status === 'healthy' ? 200 : 503).send(body);
    },
  );
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}
