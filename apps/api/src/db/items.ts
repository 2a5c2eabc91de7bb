/**
 * The items repository. Writes take the transaction they run in and append their event through it, so an
 * item and its event commit (or roll back) together; callers may add statements of their own to the same
 * transaction (see {@link withTransaction}).
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

/** Inserts an item and its `ItemCreated` event. */
export async function createItem(tx: Queryable, name: string): Promise<Item> {
  const { rows } = await tx.query<ItemRow>('INSERT INTO items (name) VALUES ($1) RETURNING id, name, created_at', [
    name,
  ]);
  const item = toItem(rows[0] as ItemRow);
  await appendEvent(tx, 'ItemCreated', item.id, { name: item.name });
  return item;
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
