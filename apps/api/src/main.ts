/**
 * The lumen-api process edge: environment → configuration, logger, dependencies, listeners, signals, exit.
 * Everything below takes its dependencies as arguments (see app.ts). Run with `node src/main.ts` (the
 * container runs node directly: npm does not forward SIGTERM).
 *
 * Exit codes: 0 after a clean shutdown · 1 start failed or the drain timed out · 2 invalid configuration.
 */
import pino from 'pino';
import { buildAdminApp, buildApp } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';
import { openDependencies } from './dependencies.ts';
import { createLifecycle } from './lifecycle.ts';
import { shutdown } from './shutdown.ts';
import { shutdownTracing, traceFields } from './tracing.ts';

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`lumen-api: invalid configuration: ${error.message}\n`);
  process.exit(error.exitCode);
}

const logger = pino(
  {
    level: config.logLevel,
    base: { service: 'lumen-api' },
    // Belt and braces: nothing logs these, but a future `log.info(config)` must not leak them.
    redact: [
      'password',
      '*.password',
      'rwDsn',
      'roDsn',
      '*.rwDsn',
      '*.roDsn',
      'req.headers.authorization',
      'req.headers.cookie',
      'headers.authorization',
    ],
    // trace_id/span_id of the active span on every line, so Grafana jumps from a log line to its trace (tracing.ts).
    mixin: traceFields,
  },
  // Asynchronous writes to stdout: written synchronously, the per-request line cost 25-35% of GET /hello throughput
  // (apps/api/bench, `async log writes` row). Lines stay in order, and pino flushes what is buffered on exit.
  pino.destination({ dest: 1, sync: false }),
);

try {
  const deps = await openDependencies(config, logger);
  const lifecycle = createLifecycle();
  const app = await buildApp({ deps, lifecycle, logger, idempotencyTtlSeconds: config.idempotencyTtlSeconds });
  const admin = await buildAdminApp({ logger, profiling: config.profiling });
  await app.listen({ host: config.host, port: config.port });
  await admin.listen({ host: config.host, port: config.adminPort });
  const port = (app.server.address() as { port: number }).port;
  const adminPort = (admin.server.address() as { port: number }).port;
  logger.info(
    { port, admin_port: adminPort, postgres: config.postgres.mode, redis: config.redis.mode },
    'lumen-api listening',
  );

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn({ signal }, 'already shutting down');
      return;
    }
    stopping = true;
    logger.info({ signal }, 'shutdown requested');
    // Ctrl-C in a terminal has no load balancer to wait for: skip the delay.
    const delayMs = signal === 'SIGINT' ? 0 : config.shutdownDelayMs;
    shutdown({
      lifecycle,
      app,
      admin,
      // Traces are flushed last, so the spans of the drained requests are exported too.
      closeDependencies: () => deps.close().finally(() => shutdownTracing()),
      delayMs,
      timeoutMs: config.shutdownTimeoutMs,
      logger,
    }).then(
      (drained) => process.exit(drained ? 0 : 1),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} catch (error) {
  logger.fatal({ err: error }, 'lumen-api failed to start');
  process.exit(1);
}
