/**
 * `/items`: create, get, list (keyset pagination), delete. Handlers stay thin: validation is in the schemas,
 * SQL in the repository. Every write is atomic with its event and its idempotency record: a create is one
 * statement, a delete runs through {@link withTransaction}.
 */
import type { App } from '../app.ts';
import { type CreatedItem, createItem, deleteItem, getItem, ITEM_CONTENT_TYPE, listItems } from '../db/items.ts';
import { withTransaction } from '../db/transaction.ts';
import type { Dependencies } from '../dependencies.ts';
import { ApiError } from '../errors.ts';
import { isLedgerConflict } from '../idempotency/index.ts';
import { checkedId } from '../ids.ts';
import { eventsTotal } from '../metrics.ts';
import {
  CreateItemBody,
  IdParams,
  Item,
  ItemList,
  LIMIT_DEFAULT,
  ListItemsQuery,
  NAME_MAX,
  NAME_MIN,
  problems,
} from '../schemas.ts';

export function registerItemRoutes(app: App, deps: Pick<Dependencies, 'db' | 'reads'>): void {
  const { db, reads } = deps;

  app.post(
    '/items',
    {
      schema: {
        summary: 'Create an item (appends ItemCreated)',
        body: CreateItemBody,
        response: { 201: Item, ...problems(400, 413, 415, 503) },
      },
    },
    async (request, reply) => {
      const name = validName(request.body.name);
      const idempotency = request.idempotency;
      let created: CreatedItem;
      try {
        // One statement: item, event and (keyed) the idempotency record with this exact answer (docs/idempotency.md).
        created = await createItem(db.primary, name, idempotency ?? undefined);
      } catch (error) {
        if (idempotency === null || !isLedgerConflict(error)) throw error;
        // PostgreSQL already has this key while Redis had no record (lost in a failover, expired lock, expired row):
        // claim it first — `begin` answers with the recorded response or 422 itself, or takes over an expired row.
        created = await withTransaction(db, async (tx) => {
          await idempotency.begin(tx);
          const item = await createItem(tx, name);
          const headers = { location: `/items/${item.item.id}`, 'content-type': ITEM_CONTENT_TYPE };
          await idempotency.finish(tx, { statusCode: 201, headers, payload: item.body });
          return item;
        });
      }
      eventsTotal.inc({ type: 'ItemCreated' });
      // A string is sent as is (no serializer runs; the schema still documents it): the JSON PostgreSQL built,
      // byte-identical to the recorded answer.
      return reply
        .code(201)
        .header('location', `/items/${created.item.id}`)
        .type(ITEM_CONTENT_TYPE)
        .send(created.body as unknown as typeof created.item);
    },
  );

  app.get(
    '/items',
    {
      schema: {
        summary: 'List items, newest first (keyset pagination)',
        querystring: ListItemsQuery,
        response: { 200: ItemList, ...problems(400, 503) },
      },
    },
    async (request, reply) => {
      const limit = request.query.limit ?? LIMIT_DEFAULT;
      const after = request.query.after === undefined ? undefined : checkedId(request.query.after, 'after');
      // One row more than asked tells whether a next page exists without a COUNT.
      const { value: rows } = await reads.read((q) => listItems(q, { after, limit: limit + 1 }));
      const items = rows.slice(0, limit);
      const next = rows.length > limit ? (items.at(-1)?.id ?? null) : null;
      if (next !== null) reply.header('link', `</items?limit=${limit}&after=${next}>; rel="next"`);
      return { items, next_after: next };
    },
  );

  app.get(
    '/items/:id',
    {
      schema: {
        summary: 'Get one item (falls back to the primary when the replica has not seen it yet)',
        params: IdParams,
        response: { 200: Item, ...problems(400, 404, 503) },
      },
    },
    async (request) => {
      const id = checkedId(request.params.id, 'id');
      const { value, from } = await reads.read((q) => getItem(q, id));
      // The replica may not have replayed a write acknowledged a moment ago: ask the primary before a 404.
      const item = value ?? (from === 'replica' ? await getItem(db.primary, id) : undefined);
      if (item === undefined) throw new ApiError('item_not_found', `no item with id ${id}`);
      return item;
    },
  );

  app.delete(
    '/items/:id',
    {
      schema: {
        summary: 'Delete an item (appends ItemDeleted)',
        params: IdParams,
        response: { 204: { type: 'null', description: 'Deleted' }, ...problems(400, 404, 503) },
      },
    },
    async (request, reply) => {
      const id = checkedId(request.params.id, 'id');
      await withTransaction(db, async (tx) => {
        // Checked before the delete: a repeated DELETE must replay its 204, not find nothing and answer 404.
        await request.idempotency?.begin(tx);
        // Thrown inside, so a keyed 404 rolls its idempotency record back too.
        if (!(await deleteItem(tx, id))) throw new ApiError('item_not_found', `no item with id ${id}`);
        await request.idempotency?.finish(tx, { statusCode: 204 });
      });
      eventsTotal.inc({ type: 'ItemDeleted' });
      return reply.code(204).send(null);
    },
  );
}

/**
 * Trims and checks the length in characters (code points, as PostgreSQL's char_length counts them).
 * U+0000 is refused: PostgreSQL's text cannot hold it (it answered 500 before), and storing it altered
 * would not be faithful (docs/api.md).
 */
function validName(raw: string): string {
  if (raw.includes('\u0000')) {
    throw new ApiError('validation_failed', 'name contains U+0000 (NUL)', {
      errors: [{ path: 'body/name', message: 'contains U+0000 (NUL), which text cannot hold' }],
    });
  }
  const name = raw.trim();
  const length = [...name].length;
  if (length < NAME_MIN || length > NAME_MAX) {
    throw new ApiError('validation_failed', `name must be ${NAME_MIN}-${NAME_MAX} characters after trimming`, {
      errors: [{ path: 'body/name', message: `has ${length} characters after trimming` }],
    });
  }
  return name;
}
