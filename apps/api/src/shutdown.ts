/**
 * The graceful shutdown sequence (docs/api.md "Shutdown"): readiness 503 → wait `delayMs` so load balancers
 * stop sending → close the listeners and let in-flight requests finish (at most `timeoutMs`, then the
 * remaining connections are cut) → close Redis and PostgreSQL.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Lifecycle } from './lifecycle.ts';

/** What {@link shutdown} closes. */
export interface ShutdownOptions {
  lifecycle: Lifecycle;
  /** The public app first (it drains), then the admin app (kept up during the drain for scrapes). */
  app: FastifyInstance;
  admin: FastifyInstance;
  /** Closes the dependencies after the apps. */
  closeDependencies: () => Promise<void>;
  delayMs: number;
  timeoutMs: number;
  logger: Logger;
}

/**
 * Runs the sequence.
 * @returns `true` when every in-flight request finished, `false` when the drain hit `timeoutMs`.
 */
export async function shutdown(options: ShutdownOptions): Promise<boolean> {
  const { lifecycle, app, admin, logger } = options;
  lifecycle.draining = true;
  logger.info({ delay_ms: options.delayMs }, 'draining: /readyz answers 503; waiting before closing listeners');
  await sleep(options.delayMs);

  logger.info({ timeout_ms: options.timeoutMs }, 'closing listeners; finishing in-flight requests');
  let drained = true;
  const timer = setTimeout(() => {
    drained = false;
    logger.warn({ timeout_ms: options.timeoutMs }, 'drain timeout: closing remaining connections');
    app.server.closeAllConnections();
  }, options.timeoutMs);
  try {
    await app.close();
  } finally {
    clearTimeout(timer);
  }
  await admin.close();
  await options.closeDependencies();
  logger.info({ drained }, 'shutdown complete');
  return drained;
}
