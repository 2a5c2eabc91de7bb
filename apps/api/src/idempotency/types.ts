/** The public types of idempotency: the plugin's options, its outcomes and `request.idempotency`. */
import type { Queryable } from '../db/types.ts';
import type { IdempotencyStore } from './store.ts';

/** What happened to one keyed request; the label of `lumen_idempotency_total{outcome}`. */
export type IdempotencyOutcome =
  /** Executed and its answer stored for replay. */
  | 'stored'
  /** Answered from the Redis (or in-process) record. */
  | 'replayed'
  /** Answered from the PostgreSQL record because the Redis record was missing (lost in a failover, or expired lock). */
  | 'recovered'
  /** 409: the first request with this key is still running. */
  | 'conflict'
  /** 422: the key was used with another method, target or body. */
  | 'mismatch'
  /** 400: the key is not 1–255 visible ASCII characters. */
  | 'invalid'
  /** 503: the store could not be reached; nothing executed. */
  | 'unavailable'
  /** Executed with a status that is never stored (5xx, validation failure); the lock was released. */
  | 'released'
  /** Executed, but the answer could not be written to the store (the PostgreSQL record still guards writes). */
  | 'store_failed';

/** Counts outcomes; a prom-client `Counter<'outcome'>` fits. */
export interface OutcomeCounter {
  inc(labels: { outcome: IdempotencyOutcome }): void;
}

/** Options of `idempotencyPlugin`. */
export interface IdempotencyOptions {
  /** Where records live (Redis in production, in-process in embedded mode). */
  store: IdempotencyStore;
  /** How long a finished answer is replayed: Redis PX and PostgreSQL row age. Default 86400 (24 h). */
  ttlSeconds?: number;
  /**
   * The lease of a running request on its key: the lock is set for this long and renewed every third of it while
   * the request runs, so a process that dies mid-request blocks the key (409) for at most this long. Default 2000:
   * the pod-kill drill (docs/drills.md) requires a killed instance's keys to be accepted within 1 s of its
   * replacement being in rotation; with the former 30 s lock they were refused for 30 s.
   */
  lockTtlMs?: number;
  /** Longest wait for one store call before answering 503. Default 1000 (REDIS_TIMEOUT_MS). */
  storeTimeoutMs?: number;
  /** `Retry-After` of a 409 (first request still running). Default 1. */
  conflictRetryAfterSeconds?: number;
  /** `Retry-After` of a 503 (store unreachable; a Sentinel failover takes 2-3 s). Default 2. */
  unavailableRetryAfterSeconds?: number;
  /** Counts every keyed request's outcome. */
  outcomes?: OutcomeCounter;
  /** The read-write pool: expired PostgreSQL records are deleted through it at start and every `pruneIntervalMs`. */
  ledger?: Queryable;
  /** Default 600000 (10 min). */
  pruneIntervalMs?: number;
}

/** The answer a write route will send, as recorded in PostgreSQL by {@link IdempotencyContext.finish}. */
export interface RouteResponse {
  statusCode: number;
  /** `location` (and `content-type`, default `application/json; charset=utf-8` when there is a body) are kept. */
  headers?: Record<string, string | number | undefined>;
  /** Serialized with `JSON.stringify`; omit for 204. */
  body?: unknown;
  /**
   * The body exactly as the route sends it (already serialized, e.g. JSON built by PostgreSQL); takes precedence over
   * `body`. Default: none.
   */
  payload?: string;
}

/**
 * `request.idempotency`: set on a keyed POST/DELETE request that holds its key, `null` otherwise.
 * A write route calls `finish` last inside its transaction:
 *
 * ```ts
 * const item = await withTransaction(async (tx) => {
 *   const item = await insertItem(tx, name);
 *   await request.idempotency?.finish(tx, { statusCode: 201, headers: { location: `/items/${item.id}` }, body: item });
 *   return item;
 * });
 * ```
 * `finish` throws (rolling the transaction back, write included) when PostgreSQL already has this key; the plugin
 * then answers with the recorded response (or 422) itself. A write whose repetition would answer differently
 * (a DELETE would find nothing and say 404) also calls `begin` first, which checks the key before the write.
 */
export interface IdempotencyContext {
  readonly key: string;
  readonly fingerprint: string;
  begin(tx: Queryable): Promise<void>;
  finish(tx: Queryable, response: RouteResponse): Promise<void>;
}

declare module 'fastify' {
  interface FastifyRequest {
    idempotency: IdempotencyContext | null;
  }
}
