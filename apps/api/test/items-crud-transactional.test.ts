/**
 * Items CRUD against a real PostgreSQL, and the guarantee that each write and its event commit in ONE
 * transaction: a failure injected between the two (a trigger that makes the event insert fail) leaves neither.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { withClient } from '@lumen/testkit';
import { call, startApiStack } from './support/api.ts';

const { pg, api, close } = await startApiStack();
after(close);

const counts = () =>
  withClient(pg.primary.dsn, async (c) => {
    const { rows } = await c.query(
      'SELECT (SELECT count(*) FROM items)::int AS items, (SELECT count(*) FROM events)::int AS events',
    );
    return rows[0] as { items: number; events: number };
  });

describe('items CRUD', () => {
  it('creates, reads, lists and deletes an item, appending ItemCreated and ItemDeleted', async () => {
    const created = await call(api.url, 'POST', '/items', { body: { name: '  first item  ' } });
    assert.equal(created.status, 201);
    assert.equal(created.body.name, 'first item', 'name is trimmed');
    assert.equal(typeof created.body.id, 'number');
    assert.ok(!Number.isNaN(Date.parse(created.body.created_at)));
    assert.equal(created.headers.get('location'), `/items/${created.body.id}`);

    const got = await call(api.url, 'GET', created.headers.get('location') as string);
    assert.equal(got.status, 200);
    assert.deepEqual(got.body, created.body);

    const list = await call(api.url, 'GET', '/items');
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.items[0], created.body);
    assert.equal(list.body.next_after, null);

    const deleted = await call(api.url, 'DELETE', `/items/${created.body.id}`);
    assert.equal(deleted.status, 204);
    assert.equal(deleted.text, '');
    assert.equal((await call(api.url, 'GET', `/items/${created.body.id}`)).status, 404);
    const again = await call(api.url, 'DELETE', `/items/${created.body.id}`);
    assert.equal(again.status, 404);
    assert.equal(again.body.code, 'item_not_found');

    const events = await call(api.url, 'GET', '/events');
    assert.equal(events.status, 200);
    const mine = events.body.events.filter((e: { item_id: number }) => e.item_id === created.body.id);
    assert.deepEqual(
      mine.map((e: { type: string; payload: unknown }) => [e.type, e.payload]),
      [
        ['ItemDeleted', { name: 'first item' }],
        ['ItemCreated', { name: 'first item' }],
      ],
      'newest first; the failed second delete appended nothing',
    );
    const onlyCreated = await call(api.url, 'GET', '/events?type=ItemCreated');
    assert.ok(onlyCreated.body.events.every((e: { type: string }) => e.type === 'ItemCreated'));
  });

  it('refuses to update or delete events: the log is append-only', async () => {
    await call(api.url, 'POST', '/items', { body: { name: 'audit me' } });
    await withClient(pg.primary.dsn, async (c) => {
      await assert.rejects(c.query("UPDATE events SET type = 'X'"), /append-only/);
      await assert.rejects(c.query('DELETE FROM events'), /append-only/);
    });
  });
});

describe('a write and its event are one transaction', () => {
  before(async () => {
    // The injected failure: the event insert fails for marked items, after the item insert/delete succeeded.
    await withClient(pg.primary.dsn, (c) =>
      c.query(`
        CREATE FUNCTION fail_marked_events() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.payload->>'name' LIKE 'fail-event%' THEN
            RAISE EXCEPTION 'injected failure between the write and its event';
          END IF;
          RETURN NEW;
        END $$;
        CREATE TRIGGER fail_marked_events BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION fail_marked_events();`),
    );
  });

  it('a failing ItemCreated leaves no item and no event', async () => {
    const before = await counts();
    const response = await call(api.url, 'POST', '/items', { body: { name: 'fail-event on create' } });
    assert.equal(response.status, 500);
    assert.equal(response.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    assert.equal(response.body.code, 'internal');
    assert.ok(!response.text.includes('injected'), 'internal details are not sent to the client');
    assert.deepEqual(await counts(), before);
    const rows = await withClient(pg.primary.dsn, (c) => c.query("SELECT 1 FROM items WHERE name LIKE 'fail-event%'"));
    assert.equal(rows.rowCount, 0);
  });

  it('a failing ItemDeleted leaves the item in place and no event', async () => {
    // Created under a harmless name, then renamed so that only its ItemDeleted event trips the trigger.
    const created = await call(api.url, 'POST', '/items', { body: { name: 'to be kept' } });
    assert.equal(created.status, 201);
    await withClient(pg.primary.dsn, (c) =>
      c.query("UPDATE items SET name = 'fail-event on delete' WHERE id = $1", [created.body.id]),
    );
    const before = await counts();
    const response = await call(api.url, 'DELETE', `/items/${created.body.id}`);
    assert.equal(response.status, 500);
    assert.deepEqual(await counts(), before);
    assert.equal((await call(api.url, 'GET', `/items/${created.body.id}`)).status, 200, 'the delete rolled back');
  });

  it('unmarked writes still commit both rows', async () => {
    const before = await counts();
    const created = await call(api.url, 'POST', '/items', { body: { name: 'normal' } });
    assert.equal(created.status, 201);
    assert.deepEqual(await counts(), { items: before.items + 1, events: before.events + 1 });
  });
});
