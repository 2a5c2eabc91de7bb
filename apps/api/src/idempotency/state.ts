/** What the plugin keeps on a keyed request between its hooks. */
import type { Hash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { storeKey } from './store.ts';
import type { IdempotencyOutcome } from './types.ts';

/** A symbol, not a decorated property: unkeyed requests never get the field. */
export const STATE = Symbol('lumen.idempotency');

export interface RequestState {
  key: string;
  storeKey: string;
  /** The body hash while the body is read (hash.ts); undefined once digested into `fingerprint`. */
  hash: Hash | undefined;
  fingerprint: string;
  /** Our lock's exact value while we hold it; undefined when not (or no longer) held. */
  lock: string | undefined;
  /** Stops renewing the lock (deadline.ts `keepAlive`); set while `lock` is. */
  stopRenewing: (() => void) | undefined;
  /** Set when the answer is a replay from PostgreSQL: store it in Redis again, count it as recovered. */
  recovered: boolean;
  outcome: IdempotencyOutcome | undefined;
}

export type WithState = FastifyRequest & { [STATE]?: RequestState };

export function requestState(key: string, outcome: IdempotencyOutcome | undefined): RequestState {
  return {
    key,
    storeKey: storeKey(key),
    hash: undefined,
    fingerprint: '',
    lock: undefined,
    stopRenewing: undefined,
    recovered: false,
    outcome,
  };
}
