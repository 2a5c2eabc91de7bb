/**
 * Idempotency for lumen-api's writes: the Fastify plugin, its stores and the PostgreSQL ledger.
 * Policy and operations: docs/idempotency.md.
 */
export { kvIdempotencyStore } from './kv-store.ts';
export { isLedgerConflict } from './ledger.ts';
export { idempotencyPlugin } from './plugin.ts';
export type { IdempotencyStore, StoredResponse } from './store.ts';
export type {
  IdempotencyContext,
  IdempotencyOptions,
  IdempotencyOutcome,
  OutcomeCounter,
  RouteResponse,
} from './types.ts';
