/**
 * The PostgreSQL side of idempotency: a row per key, written in the SAME transaction as the write it
 * protects, so "the write happened" and "the key is recorded" commit or roll back together. It is what
 * keeps a retry from executing twice when Redis has lost its record (asynchronous replication, failover).
 *
 * Claiming first (`INSERT … ON CONFLICT DO NOTHING`) makes a concurrent duplicate wait on the unique
 * index until the first transaction ends; it then sees the committed row and replays it instead of writing.
 */
import type { Queryable } from '../db/types.ts';
import type { StoredResponse } from './store.ts';

/** The outcome of {@link claim}. */
export type ClaimResult =
  | { kind: 'claimed' }
  | { kind: 'replay'; response: StoredResponse }
  | { kind: 'mismatch' }
  /** A row without a response: a write that recorded the key but not its answer (not done by lumen-api). */
  | { kind: 'in_flight' };

interface LedgerRow {
  fingerprint: string;
  status_code: number | null;
  headers: Record<string, string> | null;
  body: string | null;
  expired: boolean;
}

/**
 * Records `key` inside the caller's transaction, or reports what an earlier committed request stored.
 * A row older than `ttlSeconds` (not yet pruned) is taken over as if absent.
 */
export async function claim(tx: Queryable, key: string, fingerprint: string, ttlSeconds: number): Promise<ClaimResult> {
  const inserted = await tx.query(
    'INSERT INTO idempotency_keys (key, fingerprint) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING',
    [key, fingerprint],
  );
  if (inserted.rowCount === 1) return { kind: 'claimed' };
  const { rows } = await tx.query<LedgerRow>(
    `SELECT fingerprint, status_code, headers, body, created_at < now() - make_interval(secs => $2) AS expired
       FROM idempotency_keys WHERE key = $1 FOR UPDATE`,
    [key, ttlSeconds],
  );
  const row = rows[0];
  if (row === undefined || row.expired) {
    await tx.query(
      `INSERT INTO idempotency_keys (key, fingerprint) VALUES ($1, $2)
       ON CONFLICT (key) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, status_code = NULL, headers = NULL,
         body = NULL, created_at = now()`,
      [key, fingerprint],
    );
    return { kind: 'claimed' };
  }
  if (row.fingerprint !== fingerprint) return { kind: 'mismatch' };
  if (row.status_code === null || row.body === null) return { kind: 'in_flight' };
  const response: StoredResponse = { statusCode: row.status_code, headers: row.headers ?? {}, body: row.body };
  return { kind: 'replay', response };
}

/**
 * Claims and answers in one statement, last in the write's transaction: one round trip instead of two for writes
 * whose retry would otherwise repeat harmlessly up to this point (a concurrent duplicate then blocks here on the
 * unique index and, once the first commits, rolls its own write back and replays). Resolves `claimed` when recorded.
 */
export async function record(
  tx: Queryable,
  key: string,
  fingerprint: string,
  response: StoredResponse,
  ttlSeconds: number,
): Promise<ClaimResult> {
  const values = [key, fingerprint, response.statusCode, JSON.stringify(response.headers), response.body];
  const inserted = await tx.query(
    `INSERT INTO idempotency_keys (key, fingerprint, status_code, headers, body) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (key) DO NOTHING`,
    values,
  );
  if (inserted.rowCount === 1) return { kind: 'claimed' };
  const existing = await claim(tx, key, fingerprint, ttlSeconds);
  if (existing.kind === 'claimed') await complete(tx, key, response);
  return existing;
}

/** Stores the answer on the claimed row, in the same transaction as the write. */
export async function complete(tx: Queryable, key: string, response: StoredResponse): Promise<void> {
  await tx.query('UPDATE idempotency_keys SET status_code = $2, headers = $3, body = $4 WHERE key = $1', [
    key,
    response.statusCode,
    JSON.stringify(response.headers),
    response.body,
  ]);
}

/**
 * True for the unique violation on `idempotency_keys`' primary key: a write that records its key in its own statement
 * (db/items.ts `createItem`) found the key already recorded and wrote nothing. The caller then claims the key with
 * {@link claim} (replay, 422, or take over an expired row) before writing, as `begin` does.
 */
export function isLedgerConflict(error: unknown): boolean {
  const e = error as { code?: unknown; constraint?: unknown } | null;
  return typeof e === 'object' && e !== null && e.code === '23505' && e.constraint === 'idempotency_keys_pkey';
}

/** Deletes rows older than `ttlSeconds`; resolves how many. */
export async function prune(db: Queryable, ttlSeconds: number): Promise<number> {
  const result = await db.query('DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(secs => $1)', [
    ttlSeconds,
  ]);
  return result.rowCount;
}
