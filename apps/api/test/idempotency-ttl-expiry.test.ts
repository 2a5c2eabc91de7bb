/**
 * The replay window: Redis records expire after IDEMPOTENCY_TTL_SECONDS (PX), PostgreSQL records older than it are
 * pruned, and a key whose record has expired may be used again — even when an expired PostgreSQL row has not been
 * pruned yet. Real PostgreSQL and Redis.
 */
import assert from 'node:assert/strict';
import { after, it } from 'node:test';
import { Redis } from 'ioredis';
import { prune } from '../src/idempotency/ledger.ts';
import { call, startApiStack } from './support/api.ts';

const { redis, api, close } = await startApiStack({ redis: true });
const client = new Redis({ host: redis.master.host, port: redis.master.port, password: redis.password });
after(async () => {
  client.disconnect();
  await close();
});

it('keeps the Redis record for the TTL (24 h by default)', async () => {
  const key = `ttl-${process.pid}`;
  const created = await call(api.url, 'POST', '/items', { body: { name: 'ttl' }, headers: { 'idempotency-key': key } });
  assert.equal(created.status, 201);
  const pttl = await client.pttl(`idem:${key}`);
  assert.ok(pttl > 86_000_000 && pttl <= 86_400_000, `PX about 24 h, got ${pttl} ms`);
});

it('lets a key be reused once its PostgreSQL record is older than the TTL, pruned or not', async () => {
  const key = `expired-${process.pid}`;
  await api.deps.db.primary.query(
    `INSERT INTO idempotency_keys (key, fingerprint, status_code, headers, body, created_at)
     VALUES ($1, 'POST /items 00', 201, '{}', '{}', now() - interval '2 days')`,
    [key],
  );
  const reused = await call(api.url, 'POST', '/items', {
    body: { name: 'new use' },
    headers: { 'idempotency-key': key },
  });
  assert.equal(reused.status, 201, 'executed, not 422 against the expired record');
  assert.equal(reused.headers.get('idempotency-replayed'), null);
  const row = await api.deps.db.primary.query<{ fresh: boolean }>(
    `SELECT created_at > now() - interval '1 minute' AS fresh FROM idempotency_keys WHERE key = $1`,
    [key],
  );
  assert.equal(row.rows[0]?.fresh, true, 'the record now belongs to the new request');
});

it('prunes PostgreSQL records older than the TTL and keeps the others', async () => {
  await api.deps.db.primary.query(
    `INSERT INTO idempotency_keys (key, fingerprint, status_code, headers, body, created_at)
     VALUES ('old-1', 'f', 201, '{}', '{}', now() - interval '25 hours'),
            ('old-2', 'f', 201, '{}', '{}', now() - interval '30 days'),
            ('young', 'f', 201, '{}', '{}', now() - interval '23 hours')`,
  );
  assert.equal(await prune(api.deps.db.primary, 86_400), 2);
  const left = await api.deps.db.primary.query<{ key: string }>(
    `SELECT key FROM idempotency_keys WHERE key IN ('old-1', 'old-2', 'young')`,
  );
  assert.deepEqual(
    left.rows.map((r) => r.key),
    ['young'],
  );
});
