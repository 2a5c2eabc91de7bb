/**
 * With the replica stopped, reads keep answering 200 through the primary and /health reports degraded;
 * when the replica is back, reads return to it and /health is healthy again — no restart of the API.
 */
import assert from 'node:assert/strict';
import { after, it } from 'node:test';
import { waitFor } from '@lumen/testkit';
import { call, startApiStack } from './support/api.ts';

const { pg, api, close } = await startApiStack({ postgres: { replica: true } });
after(close);

it('serves reads from the primary while the replica is down, and reports degraded', async () => {
  const ids: number[] = [];
  for (let i = 0; i < 5; i++)
    ids.push((await call(api.url, 'POST', '/items', { body: { name: `kept ${i}` } })).body.id);
  await pg.replica?.caughtUp();
  // Warm the replica pool so that stopping it also breaks pooled connections, not only new ones.
  assert.equal((await call(api.url, 'GET', '/items')).status, 200);
  assert.equal((await call(api.url, 'GET', '/health')).status, 200);

  await pg.replica?.stop();

  for (const id of ids) {
    const read = await call(api.url, 'GET', `/items/${id}`);
    assert.equal(read.status, 200, `GET /items/${id} with the replica down`);
  }
  const list = await call(api.url, 'GET', '/items');
  assert.equal(list.status, 200);
  assert.deepEqual(
    list.body.items.map((i: { id: number }) => i.id),
    [...ids].reverse(),
  );
  assert.equal((await call(api.url, 'GET', '/events')).status, 200);
  assert.equal((await call(api.url, 'POST', '/items', { body: { name: 'write still works' } })).status, 201);

  const health = await call(api.url, 'GET', '/health');
  assert.equal(health.status, 503);
  assert.equal(health.body.status, 'degraded');
  assert.equal(health.body.checks.postgres_ro.status, 'down');
  assert.equal(health.body.checks.postgres_rw.status, 'up');
  assert.equal((await call(api.url, 'GET', '/readyz')).status, 200, 'readiness does not follow dependencies');

  await pg.replica?.start();
  await waitFor('health to recover', async () => (await call(api.url, 'GET', '/health')).status === 200, 15_000);
  assert.equal(api.deps.reads.state.usable, true, 'reads prefer the replica again');
});
