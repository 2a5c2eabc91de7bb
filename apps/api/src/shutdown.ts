/**
 * The graceful shutdown sequence (docs/api.md "Shutdown"): readiness 503 → wait `delayMs` so load balancers
 * stop sending → close the listeners and let in-flight requests finish, closing each kept-alive connection as soon
 * as it is idle (at most `timeoutMs`, then the remaining connections are cut) → close Redis and PostgreSQL.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Lifecycle } from './lifecycle.ts';

/** How often a draining server closes the connections that have become idle since the listener closed. */
export const IDLE_SWEEP_MS = 50;

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
  // Node closes the connections that are idle when the listener closes, once. A request in flight at that moment
  // was answered with keep-alive (it arrived before the drain), and its connection would then sit idle until the
  // client or KEEP_ALIVE_TIMEOUT_MS closed it — longer than any drain. So idle connections are closed as they appear.
  const sweep = setInterval(() => app.server.closeIdleConnections(), IDLE_SWEEP_MS);
  try {
    await app.close();
  } finally {
    clearTimeout(timer);
    clearInterval(sweep);
  }
  await admin.close();
  await options.closeDependencies();
  logger.info({ drained }, 'shutdown complete');
  return drained;
}
