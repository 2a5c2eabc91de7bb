/**
 * Store calls bounded by the plugin's store timeout (`timeout.ts`): an unreachable store answers 503 within it
 * instead of holding the request, and calls after the route ran only cost a log line when they fail.
 */
import type { FastifyRequest } from 'fastify';
import { withTimeout } from '../timeout.ts';
import type { IdempotencyStore } from './store.ts';

/** The store calls the hooks make, each bounded by `timeoutMs`. */
export interface BoundedStore {
  /** `store.acquire` for `lockTtlMs`; rejects on timeout, and a lock that lands after we gave up is released again. */
  acquire(key: string, lock: string): Promise<string | null>;
  /** Takes over a record that cannot be read (`previous`); resolves false when that failed or timed out. */
  replaceUnreadable(key: string, previous: string, lock: string): Promise<boolean>;
  /** `store.replace` for `ttlMs`; resolves undefined (and logs) when it failed or timed out. */
  replace(
    request: FastifyRequest,
    key: string,
    lock: string,
    next: string,
    ttlMs: number,
  ): Promise<boolean | undefined>;
  /** `store.release`; a failure or timeout is logged, never thrown. */
  release(request: FastifyRequest, key: string, lock: string): Promise<unknown>;
  /**
   * Keeps `lock` alive while its request runs: renewed for `lockTtlMs` every third of it while `held()`. A process
   * that dies mid-request stops renewing, so its lock is gone `lockTtlMs` later. Returns the function that stops it.
   */
  keepAlive(request: FastifyRequest, key: string, lock: string, held: () => boolean): () => void;
}

export function boundedStore(store: IdempotencyStore, timeoutMs: number, lockTtlMs: number): BoundedStore {
  return {
    async acquire(key, lock) {
      const acquiring = store.acquire(key, lock, lockTtlMs);
      try {
        return await storeDeadline(acquiring, timeoutMs);
      } catch (error) {
        acquiring.then(
          (previous) => {
            if (previous === null) store.release(key, lock).catch(() => {});
          },
          () => {},
        );
        throw error;
      }
    },
    async replaceUnreadable(key, previous, lock) {
      return storeDeadline(store.replace(key, previous, lock, lockTtlMs), timeoutMs).catch(() => false);
    },
    replace(request, key, lock, next, ttlMs) {
      return guarded(request, store.replace(key, lock, next, ttlMs), timeoutMs, 'storing an idempotency answer');
    },
    release(request, key, lock) {
      return guarded(request, store.release(key, lock), timeoutMs, 'releasing an idempotency key');
    },
    keepAlive(request, key, lock, held) {
      const timer = setInterval(
        () => {
          if (held())
            void guarded(request, store.renew(key, lock, lockTtlMs, held), timeoutMs, 'renewing an idempotency lock');
        },
        Math.max(1, Math.floor(lockTtlMs / 3)),
      );
      timer.unref();
      return () => clearInterval(timer);
    },
  };
}

function storeDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  return withTimeout(promise, ms, `idempotency store did not answer within ${ms} ms`);
}

async function guarded<T>(
  request: FastifyRequest,
  promise: Promise<T>,
  ms: number,
  what: string,
): Promise<T | undefined> {
  try {
    return await storeDeadline(promise, ms);
  } catch (error) {
    request.log.warn({ err: error }, `${what} failed`);
    return undefined;
  }
}
