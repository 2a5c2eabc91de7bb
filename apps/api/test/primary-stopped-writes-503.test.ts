/**
 * With the primary stopped, writes answer 503 + `Retry-After` (problem+json) while reads keep working from
 * the replica; once the primary is back, writes succeed again without restarting the API.
 */
import assert from 'node:assert/strict';
import { after, it } from 'node:test';
import { waitFor } from '@lumen/testkit';
import { call, startApiStack } from './support/api.ts';

const { pg, api, close } = await startApiStack({ postgres: { replica: true } });
after(close);

it('answers writes 503 with Retry-After and serves reads from the replica while the primary is down', async () => {
  const item = (await call(api.url, 'POST', '/items', { body: { name: 'survives' } })).body;
  await pg.replica?.caughtUp();
  // Warm the primary pool so that stopping it breaks pooled connections too.
  assert.equal((await call(api.url, 'POST', '/items', { body: { name: 'warm' } })).status, 201);

  await pg.primary.stop();

  for (const [method, path, body] of [
    ['POST', '/items', { name: 'refused' }],
    ['DELETE', `/items/${item.id}`, undefined],
  ] as const) {
    const response = await call(api.url, method, path, body === undefined ? {} : { body });
    assert.equal(response.status, 503, `${method} ${path}`);
    assert.match(response.headers.get('retry-after') ?? '', /^\d+$/);
    assert.equal(response.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    assert.equal(response.body.code, 'dependency_unavailable');
  }

  const read = await call(api.url, 'GET', `/items/${item.id}`);
  assert.equal(read.status, 200);
  assert.deepEqual(read.body, item);
  const list = await call(api.url, 'GET', '/items');
  assert.equal(list.status, 200);
  assert.ok(list.body.items.some((i: { id: number }) => i.id === item.id));
  assert.equal((await call(api.url, 'GET', '/events')).status, 200);

  const health = await call(api.url, 'GET', '/health');
  assert.equal(health.status, 503);
  assert.equal(health.body.checks.postgres_rw.status, 'down');
  assert.equal(health.body.checks.postgres_ro.status, 'up');
  assert.equal((await call(api.url, 'GET', '/readyz')).status, 200);
  assert.equal((await call(api.url, 'GET', '/livez')).status, 200);

  await pg.primary.start();
  await waitFor(
    'writes to work again',
    async () => (await call(api.url, 'POST', '/items', { body: { name: 'after recovery' } })).status === 201,
    15_000,
  );
  const deleted = await call(api.url, 'DELETE', `/items/${item.id}`);
  assert.equal(deleted.status, 204, 'the refused delete did not happen; this one does');
});
