/**
 * The lumen-api process edge: environment → configuration, logger, dependencies, listeners, signals, exit.
 * Everything below takes its dependencies as arguments (see app.ts). Run with `node src/main.ts` (the
 * container runs node directly: npm does not forward SIGTERM).
 *
 * Exit codes: 0 after a clean shutdown · 1 start failed or the drain timed out · 2 invalid configuration.
 */
import { buildAdminApp, buildApp } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';
import { openDependencies } from './dependencies.ts';
import { createLifecycle } from './lifecycle.ts';
import { createLogger } from './logger.ts';
import { shutdown } from './shutdown.ts';
import { shutdownTracing } from './tracing.ts';

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`lumen-api: invalid configuration: ${error.message}\n`);
  process.exit(error.exitCode);
}

const logger = createLogger(config);

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
