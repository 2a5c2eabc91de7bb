/**
 * `Idempotency-Key` for every POST and DELETE route, as docs/idempotency.md (Policy) specifies:
 *
 * - key: 1–255 visible ASCII characters, else 400 (checked before the body is read);
 * - fingerprint: method + request target (path and query) + SHA-256 of the raw body bytes; the same key
 *   with another fingerprint → 422, also when the key was first used on another route;
 * - the first request takes a short lock in the store (`SET NX PX`); a duplicate while it runs → 409 with
 *   `Retry-After`; once it finished → the stored status, body, `Content-Type` and `Location` are replayed
 *   with `Idempotency-Replayed: true`;
 * - 5xx and validation failures (400, 408, 409, 413, 415, 422, 429) are never stored: the lock is released
 *   and a retry executes again;
 * - store unreachable → 503 with `Retry-After` (fail closed: never a silent second execution);
 * - writes record the key, fingerprint and answer in PostgreSQL in their own transaction
 *   (`request.idempotency.begin(tx)` / `.finish(tx, response)`), so a retry whose Redis record was lost
 *   (asynchronous replication, failover) replays the PostgreSQL record instead of writing again.
 *
 * Unkeyed requests only pay for a header lookup: no store call, no body hashing.
 *
 * This file wires the pieces: hooks.ts (the request lifecycle), hash.ts (fingerprint), deadline.ts (store
 * timeouts), context.ts (`request.idempotency`), openapi.ts (the route documentation), ledger.ts (pruning).
 */
import type { FastifyInstance, RouteOptions } from 'fastify';
import { boundedStore } from './deadline.ts';
import { hashJsonBodies } from './hash.ts';
import { idempotencyHooks } from './hooks.ts';
import { prune } from './ledger.ts';
import { documentIdempotency } from './openapi.ts';
import type { IdempotencyOptions } from './types.ts';

/** Default lease of a running request on its key, ms (types.ts `lockTtlMs`). */
export const LOCK_TTL_MS = 2000;

/** The Fastify plugin. Register it BEFORE the routes: it attaches to POST/DELETE routes as they are added. */
export async function idempotencyPlugin(app: FastifyInstance, options: IdempotencyOptions): Promise<void> {
  const ttlSeconds = options.ttlSeconds ?? 86_400;
  const { ledger } = options;
  const hooks = idempotencyHooks({
    store: boundedStore(options.store, options.storeTimeoutMs ?? 1000, options.lockTtlMs ?? LOCK_TTL_MS),
    outcomes: options.outcomes,
    ttlSeconds,
    conflictRetryAfter: String(options.conflictRetryAfterSeconds ?? 1),
    unavailableRetryAfter: String(options.unavailableRetryAfterSeconds ?? 2),
  });

  app.decorateRequest('idempotency', null);

  if (ledger !== undefined) {
    let timer: NodeJS.Timeout | undefined;
    const run = () => {
      prune(ledger, ttlSeconds).then(
        (n) => n > 0 && app.log.info({ deleted: n }, 'pruned expired idempotency records'),
        (error: unknown) => app.log.warn({ err: error }, 'pruning idempotency records failed; retrying later'),
      );
    };
    app.addHook('onReady', async () => {
      run();
      timer = setInterval(run, options.pruneIntervalMs ?? 600_000);
      timer.unref();
    });
    app.addHook('onClose', async () => clearInterval(timer));
  }

  hashJsonBodies(app);

  app.addHook('onRoute', (route: RouteOptions) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (!methods.some((m) => m === 'POST' || m === 'DELETE')) return;
    route.onRequest = [...list(route.onRequest), hooks.onRequest];
    route.preHandler = [...list(route.preHandler), hooks.preHandler];
    route.onSend = [...list(route.onSend), hooks.onSend as never];
    route.onResponse = [...list(route.onResponse), hooks.onResponse];
    route.handler = hooks.answerLedger(route.handler);
    documentIdempotency(route, ttlSeconds);
  });
}
// Not encapsulated (what fastify-plugin does): the onRoute hook must see routes registered in sibling plugins.
Object.assign(idempotencyPlugin, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'lumen-idempotency',
});

/** A route's hooks of one kind as an array (Fastify accepts one or many). */
function list<T>(value: T | T[] | undefined): T[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}
