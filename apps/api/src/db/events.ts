/** The events repository: the append-only audit log written in the same transaction as each item write. */
import type { Queryable } from './types.ts';

/** The event types lumen-api writes. */
export const EVENT_TYPES = ['ItemCreated', 'ItemDeleted'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** One audit log entry as the API returns it. */
export interface Event {
  id: number;
  type: EventType;
  item_id: number | null;
  payload: Record<string, unknown>;
  created_at: string;
}

interface EventRow {
  id: string | number | bigint;
  type: EventType;
  item_id: string | number | bigint | null;
  payload: Record<string, unknown>;
  created_at: Date | string;
}

function toEvent(row: EventRow): Event {
  return {
    id: Number(row.id),
    type: row.type,
    item_id: row.item_id === null ? null : Number(row.item_id),
    payload: row.payload,
    created_at: new Date(row.created_at).toISOString(),
  };
}

/** Appends an event; call it with the transaction of the write it records. */
export async function appendEvent(
  tx: Queryable,
  type: EventType,
  itemId: string | number,
  payload: Record<string, unknown>,
): Promise<Event> {
  const { rows } = await tx.query<EventRow>(
    'INSERT INTO events (type, item_id, payload) VALUES ($1, $2, $3) RETURNING id, type, item_id, payload, created_at',
    [type, String(itemId), JSON.stringify(payload)],
  );
  return toEvent(rows[0] as EventRow);
}

/**
 * Events newest first, strictly below `after` (an event id) when given; `limit` rows at most.
 * Keyset pagination: stable under concurrent appends (no duplicates, no gaps).
 */
export async function listEvents(
  q: Queryable,
  options: { type?: EventType | undefined; after?: string | undefined; limit: number },
): Promise<Event[]> {
  const { rows } = await q.query<EventRow>(
    `SELECT id, type, item_id, payload, created_at FROM events
     WHERE ($1::text IS NULL OR type = $1) AND ($2::bigint IS NULL OR id < $2)
     ORDER BY id DESC LIMIT $3`,
    [options.type ?? null, options.after ?? null, options.limit],
  );
  return rows.map(toEvent);
}
