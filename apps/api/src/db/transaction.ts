/** The write path: every write runs in a transaction on the primary. */
import type { Database, Queryable } from './types.ts';

/**
 * Runs `fn` in one transaction on the primary. Anything done through `tx` — the repository write, its event,
 * and whatever else a caller adds (an idempotency record, say) — commits together or not at all.
 * @example
 * const item = await withTransaction(db, (tx) => createItem(tx, 'name'));
 */
export function withTransaction<T>(db: Database, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  return db.primary.transaction(fn);
}
