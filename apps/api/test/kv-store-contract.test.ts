/**
 * The KeyValueStore contract, run against both implementations — real Redis and the in-process store of
 * embedded mode — so the two cannot drift apart.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type RedisCluster, startRedis } from '@lumen/testkit';
import pino from 'pino';
import { createMemoryStore } from '../src/kv/memory.ts';
import { createRedisStore } from '../src/kv/redis.ts';
import type { KeyValueStore } from '../src/kv/store.ts';

let redis: RedisCluster;
const stores: Record<string, KeyValueStore> = {};

before(async () => {
  redis = await startRedis();
  stores.redis = createRedisStore(
    {
      mode: 'standalone',
      address: { host: redis.master.host, port: redis.master.port },
      password: redis.password,
      timeoutMs: 1000,
    },
    pino({ level: 'silent' }),
  );
  stores.memory = createMemoryStore();
});
after(async () => {
  await Promise.all(Object.values(stores).map((s) => s.close()));
  await redis?.close();
});

for (const kind of ['redis', 'memory'] as const) {
  describe(`${kind} store`, () => {
    const store = () => stores[kind] as KeyValueStore;

    it('INCR counts from 1', async () => {
      assert.equal(await store().incr('counter'), 1);
      assert.equal(await store().incr('counter'), 2);
    });

    it('SET NX PX sets only an absent key, and the key expires', async () => {
      assert.equal(await store().setIfAbsent('lock', 'a', 200), true);
      assert.equal(await store().setIfAbsent('lock', 'b', 200), false);
      assert.equal(await store().get('lock'), 'a');
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(await store().get('lock'), null);
      assert.equal(await store().setIfAbsent('lock', 'c', 10_000), true);
    });

    it('SET overwrites, GET reads, DEL removes once', async () => {
      await store().set('k', 'v1', 10_000);
      await store().set('k', 'v2', 10_000);
      assert.equal(await store().get('k'), 'v2');
      assert.equal(await store().del('k'), true);
      assert.equal(await store().del('k'), false);
      assert.equal(await store().get('k'), null);
    });

    it('PING answers', async () => {
      await store().ping(1000);
    });
  });
}
