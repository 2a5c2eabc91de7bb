/**
 * The items repository. Every write appends its event atomically with it: a create is one statement (item, event
 * and, for a keyed request, the idempotency record); a delete takes the transaction it runs in and appends its event
 * through it, so callers may add statements of their own to the same transaction (see {@link withTransaction}).
 */
import { appendEvent } from './events.ts';
import type { Queryable } from './types.ts';

/** An item as the API returns it. */
export interface Item {
  id: number;
  name: string;
  created_at: string;
}

interface ItemRow {
  id: string | number | bigint;
  name: string;
  created_at: Date | string;
}

function toItem(row: ItemRow): Item {
  return { id: Number(row.id), name: row.name, created_at: new Date(row.created_at).toISOString() };
}

/** An inserted item and its JSON answer. */
export interface CreatedItem {
  item: Item;
  /**
   * The item as JSON, built by PostgreSQL in the insert itself: `{"id":…,"name":…,"created_at":"…Z"}` (milliseconds,
   * UTC, as `toISOString` renders `created_at`). It is what the route sends and what the idempotency ledger row
   * stores, so a replay from PostgreSQL is byte-identical to the original answer by construction.
   */
  body: string;
}

/** The `Content-Type` the route sends {@link CreatedItem.body} with; recorded with it in the ledger row. */
export const ITEM_CONTENT_TYPE = 'application/json; charset=utf-8';

/** The idempotency key a keyed create records in the same statement (see {@link createItem}). */
export interface LedgerKey {
  key: string;
  fingerprint: string;
}

// One statement, so atomic by itself without BEGIN/COMMIT round trips: the item, its ItemCreated event and, for a
// keyed request ($2 not null), the idempotency ledger row (idempotency/ledger.ts) with the exact answer — all commit
// or none does. The ledger insert has no ON CONFLICT on purpose: a key already recorded fails the whole statement
// with a unique violation (a concurrent duplicate first waits for the holder's commit), and nothing is written.
// Measured against BEGIN + 3 INSERTs + COMMIT: 4 round trips fewer per keyed write (docs/telemetry.md#benchmark).
export const CREATE_ITEM = `WITH item AS (
    INSERT INTO items (name) VALUES ($1) RETURNING id, name, created_at
  ), answer AS (
    SELECT id, name, created_at,
           '{"id":' || id || ',"name":' || to_json(name)::text || ',"created_at":"'
             || to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') || '"}' AS body
      FROM item
  ), event AS (
    INSERT INTO events (type, item_id, payload) SELECT 'ItemCreated', id, jsonb_build_object('name', name) FROM item
  ), ledger AS (
    INSERT INTO idempotency_keys (key, fingerprint, status_code, headers, body)
    SELECT $2, $3, 201, jsonb_build_object('content-type', $4::text, 'location', '/items/' || id), body
      FROM answer WHERE $2::text IS NOT NULL
  )
  SELECT id, name, created_at, body FROM answer`;

/**
 * Inserts an item and its `ItemCreated` event in one statement; with `ledger`, also records the idempotency key with
 * this answer (status 201, `Location`, {@link ITEM_CONTENT_TYPE}, the body). When the key is already recorded the
 * statement fails as a whole with the unique violation {@link isLedgerConflict} recognises, and nothing is written.
 */
export async function createItem(q: Queryable, name: string, ledger?: LedgerKey): Promise<CreatedItem> {
  const { rows } = await q.query<ItemRow & { body: string }>(
    CREATE_ITEM,
    [name, ledger?.key ?? null, ledger?.fingerprint ?? null, ITEM_CONTENT_TYPE],
    { name: 'lumen_create_item' },
  );
  const row = rows[0] as ItemRow & { body: string };
  return { item: toItem(row), body: row.body };
}

/** The item with `id` (a decimal string, already range-checked), if any. */
export async function getItem(q: Queryable, id: string): Promise<Item | undefined> {
  const { rows } = await q.query<ItemRow>('SELECT id, name, created_at FROM items WHERE id = $1', [id]);
  return rows[0] === undefined ? undefined : toItem(rows[0]);
}

/** Items newest first, strictly below `after` (an item id) when given; `limit` rows at most. */
export async function listItems(q: Queryable, options: { after?: string | undefined; limit: number }): Promise<Item[]> {
  const { rows } = await q.query<ItemRow>(
    'SELECT id, name, created_at FROM items WHERE ($1::bigint IS NULL OR id < $1) ORDER BY id DESC LIMIT $2',
    [options.after ?? null, options.limit],
  );
  return rows.map(toItem);
}

/** Deletes the item and appends `ItemDeleted`; false (and no event) when it did not exist. */
export async function deleteItem(tx: Queryable, id: string): Promise<boolean> {
  const { rows } = await tx.query<ItemRow>('DELETE FROM items WHERE id = $1 RETURNING id, name, created_at', [id]);
  if (rows[0] === undefined) return false;
  await appendEvent(tx, 'ItemDeleted', id, { name: rows[0].name });
  return true;
}
