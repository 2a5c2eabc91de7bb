/**
 * Reads go to the replica, yet `GET /items/{id}` right after `POST /items` never 404s: on a replica miss the
 * primary is asked. The replica is made to lag on purpose (`recovery_min_apply_delay`), so every read right
 * after a write really misses on the replica — the fallback is exercised, not hoped for.
 */
import assert from 'node:assert/strict';
import { after, it } from 'node:test';
import { call, startApiStack } from './support/api.ts';

// Only the replica applies it (it is a recovery setting); 1 s is well within the 5 s lag bound.
const { pg, api, close } = await startApiStack({
  postgres: { replica: true, settings: { recovery_min_apply_delay: '1s' } },
});
after(close);
await pg.replica?.caughtUp();
await api.deps.reads.probe();

it('reads an item right after creating it, 100 times in a row, while the replica has not replayed it', async () => {
  assert.equal(api.deps.reads.state.usable, true, 'reads prefer the replica');
  let listMissed = 0;
  for (let i = 0; i < 100; i++) {
    const created = await call(api.url, 'POST', '/items', { body: { name: `raw ${i}` } });
    assert.equal(created.status, 201);
    const read = await call(api.url, 'GET', `/items/${created.body.id}`);
    assert.equal(read.status, 200, `read ${i} after write`);
    assert.deepEqual(read.body, created.body);
    // The list is served by the (delayed) replica alone: it proves reads really go there.
    if (i % 10 === 0) {
      const list = await call(api.url, 'GET', '/items?limit=1');
      if (list.body.items[0]?.id !== created.body.id) listMissed++;
    }
  }
  assert.ok(listMissed >= 5, `lists came from the lagging replica (${listMissed}/10 did not show the new item yet)`);
  await pg.replica?.caughtUp();
  const health = await call(api.url, 'GET', '/health');
  assert.equal(health.status, 200, JSON.stringify(health.body));
  assert.equal(health.body.checks.postgres_ro.status, 'up');
  assert.equal(typeof health.body.checks.postgres_ro.lag_ms, 'number');
});

it('still answers 404 for an id that exists nowhere', async () => {
  const read = await call(api.url, 'GET', '/items/987654321');
  assert.equal(read.status, 404);
  assert.equal(read.body.code, 'item_not_found');
});
