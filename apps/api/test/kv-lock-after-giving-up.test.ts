/**
 * A lock whose caller gave up never holds the key: with Redis frozen or down, `SET NX PX` outlives the
 * store's deadline in ioredis' queues and still takes effect once Redis answers again. Before the fix
 * that lock then held the idempotency key for its whole TTL (30 s then; a 2 s lease now, docs/idempotency.md), and every retry of
 * that key was refused `409 idempotency_in_flight`. Now the store undoes a lock that lands after its
 * caller gave up. Real Redis (testkit), frozen (SIGSTOP) and killed/restarted on the same port.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type RedisCluster, startRedis, waitFor } from '@lumen/testkit';
import pino from 'pino';
import { createRedisStore } from '../src/kv/redis.ts';
import type { KeyValueStore } from '../src/kv/store.ts';

let redis: RedisCluster;
let store: KeyValueStore;
const ttlMs = 30_000;

before(async () => {
  redis = await startRedis();
  store = createRedisStore(
    {
      mode: 'standalone',
      address: { host: redis.master.host, port: redis.master.port },
      password: redis.password,
      timeoutMs: 300,
    },
    pino({ level: 'silent' }),
  );
});
after(async () => {
  redis?.master.thaw();
  await store?.close();
  await redis?.close();
});

/** The key is free again (a SET NX of another value succeeds) within 1 s of Redis answering. */
async function freeWithinASecond(key: string): Promise<void> {
  await waitFor(`${key} free again`, async () => (await store.get(key)) === null, 1000, 50);
  assert.equal(await store.setIfAbsent(key, 'next-request', ttlMs), true);
}

describe('a lock that lands after its caller gave up', () => {
  it('with Redis frozen: the late SET NX is undone once Redis resumes', async () => {
    assert.equal(await store.setIfAbsent('warm', 'x', 1000), true);
    redis.master.freeze();
    await assert.rejects(store.setIfAbsent('frozen-key', 'request-a', ttlMs), /timed out/);
    redis.master.thaw();
    await freeWithinASecond('frozen-key');
  });

  it('with Redis killed and restarted: the queued SET NX is undone once Redis is back', async () => {
    await redis.master.kill();
    await assert.rejects(store.setIfAbsent('outage-key', 'request-b', ttlMs));
    await redis.master.start();
    await waitFor('the store reconnects', async () => (await store.incr('probe').catch(() => 0)) > 0, 10_000, 100);
    await freeWithinASecond('outage-key');
  });

  it('a lock its caller got is kept (the undo only follows a caller that gave up)', async () => {
    assert.equal(await store.setIfAbsent('held-key', 'request-c', ttlMs), true);
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(await store.get('held-key'), 'request-c');
  });
});
