/**
 * Keyset pagination (`after` = last id, newest first) stays correct while rows are inserted concurrently:
 * every row that existed when the traversal began is returned exactly once, nothing twice, in order.
 */
import assert from 'node:assert/strict';
import { after, it } from 'node:test';
import { withClient } from '@lumen/testkit';
import { call, startApiStack } from './support/api.ts';

const { pg, api, close } = await startApiStack();
after(close);

it('pages through every pre-existing item exactly once while others insert concurrently', async () => {
  await withClient(pg.primary.dsn, (c) =>
    c.query("INSERT INTO items (name) SELECT 'seed ' || g FROM generate_series(1, 500) AS g"),
  );
  const seeded = await withClient(pg.primary.dsn, async (c) =>
    (await c.query('SELECT id FROM items ORDER BY id')).rows.map((r) => Number(r.id)),
  );
  assert.equal(seeded.length, 500);

  let writing = true;
  let inserted = 0;
  const writers = Array.from({ length: 4 }, async () => {
    while (writing) {
      const r = await call(api.url, 'POST', '/items', { body: { name: 'concurrent' } });
      assert.equal(r.status, 201);
      inserted++;
    }
  });

  const seen: number[] = [];
  let path: string | null = '/items?limit=7';
  let pages = 0;
  try {
    while (path !== null) {
      const page = await call(api.url, 'GET', path);
      assert.equal(page.status, 200);
      pages++;
      seen.push(...page.body.items.map((i: { id: number }) => i.id));
      const link = page.headers.get('link');
      if (page.body.next_after === null) {
        assert.equal(link, null, 'the last page has no rel="next"');
        path = null;
      } else {
        const match = /^<([^>]+)>; rel="next"$/.exec(link ?? '');
        assert.ok(match?.[1], `Link header missing or malformed: ${link}`);
        assert.equal(match[1], `/items?limit=7&after=${page.body.next_after}`);
        path = match[1];
      }
    }
  } finally {
    writing = false;
    await Promise.all(writers);
  }

  assert.ok(
    inserted > 0 && pages > 70,
    `the traversal overlapped concurrent inserts (${inserted} inserts, ${pages} pages)`,
  );
  assert.equal(new Set(seen).size, seen.length, 'no item appears twice');
  for (let i = 1; i < seen.length; i++)
    assert.ok((seen[i] as number) < (seen[i - 1] as number), 'strictly newest first');
  const seenSet = new Set(seen);
  const missing = seeded.filter((id) => !seenSet.has(id));
  assert.deepEqual(missing, [], 'no pre-existing item is skipped');
});

it('uses 100 items per page by default and at most 1000', async () => {
  const page = await call(api.url, 'GET', '/items');
  assert.equal(page.body.items.length, 100);
  assert.match(page.headers.get('link') ?? '', /limit=100&after=\d+>; rel="next"$/);
  const big = await call(api.url, 'GET', '/items?limit=1000');
  assert.equal(big.status, 200);
  assert.ok(big.body.items.length > 100 && big.body.items.length <= 1000);
  assert.equal((await call(api.url, 'GET', '/items?limit=1001')).status, 400);
});

it('paginates /events the same way, with the type filter kept in the next link', async () => {
  const first = await call(api.url, 'GET', '/events?type=ItemCreated&limit=3');
  assert.equal(first.status, 200);
  assert.equal(first.body.events.length, 3);
  const link = first.headers.get('link') ?? '';
  assert.equal(link, `</events?type=ItemCreated&limit=3&after=${first.body.next_after}>; rel="next"`);
  const second = await call(api.url, 'GET', link.slice(1, link.indexOf('>')));
  assert.ok(second.body.events.every((e: { id: number }) => e.id < first.body.next_after));
});
