/**
 * Idempotency when dependencies fail, on real PostgreSQL and Redis:
 * - a 5xx (primary stopped) is not stored: the retry after recovery executes, once;
 * - Redis stopped: a keyed POST is refused with 503 + Retry-After (fail closed), an unkeyed POST still writes;
 * - the Redis record lost (as in an asynchronous-replication failover) and the request retried: PostgreSQL's record
 *   is replayed, no second row is written; with another body the key is still refused (422).
 */
import assert from 'node:assert/strict';
import { after, it } from 'node:test';
import { waitFor } from '@lumen/testkit';
import { Redis } from 'ioredis';
import { call, startApiStack } from './support/api.ts';

const { pg, redis, api, close } = await startApiStack({ redis: true });
after(close);
let n = 0;
const key = () => `fail-${process.pid}-${++n}`;
const count = async (sql: string, params: unknown[] = []) =>
  Number((await api.deps.db.primary.query<{ n: string }>(sql, params)).rows[0]?.n);
const itemsNamed = (name: string) => count('SELECT count(*) AS n FROM items WHERE name = $1', [name]);

it('does not store a 5xx: after the primary recovers, the retry executes exactly once', async () => {
  const headers = { 'idempotency-key': key() };
  const body = { name: 'through an outage' };
  assert.equal((await call(api.url, 'POST', '/items', { body: { name: 'warm' } })).status, 201);

  await pg.primary.stop();
  const failed = await call(api.url, 'POST', '/items', { body, headers });
  assert.equal(failed.status, 503);
  assert.match(failed.headers.get('retry-after') ?? '', /^\d+$/);
  // The lock was released: the same key is not "in flight" (409) during the outage either.
  const again = await call(api.url, 'POST', '/items', { body, headers });
  assert.equal(again.status, 503);

  await pg.primary.start();
  let retry = await call(api.url, 'POST', '/items', { body, headers });
  await waitFor(
    'the retry to succeed',
    async () => {
      if (retry.status === 201) return true;
      assert.equal(retry.status, 503, 'only 503 while the pool reconnects');
      retry = await call(api.url, 'POST', '/items', { body, headers });
      return retry.status === 201;
    },
    15_000,
  );
  assert.equal(retry.headers.get('idempotency-replayed'), null, 'executed, not replayed');
  const replay = await call(api.url, 'POST', '/items', { body, headers });
  assert.equal(replay.status, 201);
  assert.equal(replay.headers.get('idempotency-replayed'), 'true');
  assert.equal(replay.text, retry.text);
  assert.equal(await itemsNamed(body.name), 1);
});

it('replays the PostgreSQL record when Redis lost its record, writing no second row', async () => {
  const k = key();
  const headers = { 'idempotency-key': k };
  const body = { name: 'survives a failover' };
  const first = await call(api.url, 'POST', '/items', { body, headers });
  assert.equal(first.status, 201);

  const client = new Redis({ host: redis.master.host, port: redis.master.port, password: redis.password });
  try {
    assert.equal(await client.del(`idem:${k}`), 1, 'the Redis record existed and is now gone');
    const retried = await call(api.url, 'POST', '/items', { body, headers });
    assert.equal(retried.status, 201);
    assert.equal(retried.headers.get('idempotency-replayed'), 'true');
    assert.equal(retried.text, first.text, 'the original answer, byte for byte');
    assert.equal(retried.headers.get('location'), first.headers.get('location'));
    assert.equal(await itemsNamed(body.name), 1, 'no second row');
    assert.notEqual(await client.get(`idem:${k}`), null, 'the Redis record was restored from PostgreSQL');

    // Everything lost (FLUSHALL, as a promoted replica that never received the key), concurrent retries.
    await client.flushall();
    const concurrent = await Promise.all(
      Array.from({ length: 10 }, () => call(api.url, 'POST', '/items', { body, headers })),
    );
    for (const r of concurrent) {
      assert.ok(r.status === 201 || r.status === 409, `201 or 409, got ${r.status}`);
      if (r.status === 201) assert.deepEqual(r.body, first.body);
    }
    assert.equal(await itemsNamed(body.name), 1, 'still one row');

    await client.flushall();
    const other = await call(api.url, 'POST', '/items', { body: { name: 'another body' }, headers });
    assert.equal(other.status, 422, 'the PostgreSQL record also keeps the fingerprint');
    assert.equal(await itemsNamed('another body'), 0);
  } finally {
    client.disconnect();
  }
});

it('refuses keyed requests with 503 + Retry-After while Redis is down; unkeyed requests still write', async () => {
  await redis.master.stop();
  try {
    const headers = { 'idempotency-key': key() };
    const keyed = await call(api.url, 'POST', '/items', { body: { name: 'keyed during outage' }, headers });
    assert.equal(keyed.status, 503);
    assert.match(keyed.headers.get('retry-after') ?? '', /^\d+$/);
    assert.equal(keyed.body.code, 'idempotency_unavailable');
    assert.equal(await itemsNamed('keyed during outage'), 0, 'nothing executed');

    const deleteKeyed = await call(api.url, 'DELETE', '/items/1', { headers: { 'idempotency-key': key() } });
    assert.equal(deleteKeyed.status, 503);

    const unkeyed = await call(api.url, 'POST', '/items', { body: { name: 'unkeyed during outage' } });
    assert.equal(unkeyed.status, 201);
    assert.equal(await itemsNamed('unkeyed during outage'), 1);
  } finally {
    await redis.master.start();
  }
  const headers = { 'idempotency-key': key() };
  await waitFor(
    'keyed requests to work again',
    async () => (await call(api.url, 'POST', '/items', { body: { name: 'after redis' }, headers })).status === 201,
    15_000,
  );
  assert.equal(await itemsNamed('after redis'), 1);
});
