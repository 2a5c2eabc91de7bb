/**
 * The KeyValueStore contract, run against both implementations — real Redis and the in-process store of
 * embedded mode — so the two cannot drift apart. For Redis also: every call settles within the store's
 * timeout while the server is frozen (SIGSTOP: the connection stays open and nothing answers), including
 * calls queued behind an auto-pipeline still waiting for its answers.
 */
import assert from 'node:assert/strict';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type RedisCluster, startRedis, waitFor } from '@lumen/testkit';
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
  redis?.master.thaw();
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

describe('redis store with the server frozen', () => {
  it('every call settles within the timeout, and the store works again once the server resumes', async (t) => {
    const store = stores.redis as KeyValueStore;
    const timeoutMs = 1000; // the store's timeout (before())
    assert.equal(await store.incr('frozen'), 1);
    redis.master.freeze();
    // Waves 300 ms apart: each is sent while the wave before still waits for its answers.
    const calls: Promise<{ ms: number; error: string }>[] = [];
    for (let wave = 0; wave < 6; wave++) {
      for (let i = 0; i < 5; i++) {
        const started = Date.now();
        const op = [
          () => store.incr('frozen'),
          () => store.get('frozen'),
          () => store.set('k', 'v', 1000),
          () => store.setIfAbsent('lock', 'v', 1000),
          () => store.del('k'),
        ][i] as () => Promise<unknown>;
        calls.push(
          op().then(
            () => ({ ms: Date.now() - started, error: 'answered by a frozen server' }),
            (error: Error) => ({ ms: Date.now() - started, error: error.message }),
          ),
        );
      }
      await sleep(300);
    }
    const settled = await Promise.race([
      Promise.all(calls),
      sleep(10 * timeoutMs).then(() => assert.fail(`store calls did not settle within ${10 * timeoutMs} ms`)),
    ]);
    redis.master.thaw();

    const slowest = Math.max(...settled.map((c) => c.ms));
    t.diagnostic(`${settled.length} calls against the frozen server; slowest settled after ${slowest} ms`);
    for (const call of settled) assert.match(call.error, /timed out/);
    // The deadline plus scheduling slack; without a per-call deadline, queued calls took up to twice the timeout.
    assert.ok(slowest <= timeoutMs + 500, `a call settled after ${slowest} ms; the timeout is ${timeoutMs} ms`);
    await waitFor(
      'the store to work again after the server resumes',
      async () => (await store.get('frozen')) !== undefined,
      20_000,
    );
  });
});

describe('redis store connecting to a frozen server', () => {
  it('drops a connection whose handshake gets no answer and connects again, then works once the server resumes', async (t) => {
    // A counting TCP relay in front of the real server: each connection the store opens is one accepted here.
    let accepted = 0;
    const sockets = new Set<Socket>();
    const relay = createServer((client) => {
      accepted++;
      const upstream = connect(redis.master.port, redis.master.host);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('error', () => s.destroy()).on('close', () => sockets.delete(s));
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    redis.master.freeze();
    const store = createRedisStore(
      {
        mode: 'standalone',
        address: { host: '127.0.0.1', port: (relay.address() as AddressInfo).port },
        password: redis.password,
        timeoutMs: 500,
      },
      pino({ level: 'silent' }),
    );
    try {
      // The kernel accepts the connections of a stopped process, so AUTH and the ready check simply get no answer.
      // The handshake deadline is the connect timeout (at least 1 s): within 3.5 s, at least a second attempt.
      await sleep(3500);
      t.diagnostic(`${accepted} connections in 3.5 s while the server was frozen`);
      assert.ok(accepted >= 2, `the store waited on its first connection for good (${accepted} connection)`);
      await assert.rejects(store.incr('frozen-handshake'), /timed out/);
      redis.master.thaw();
      await waitFor(
        'the store to work once the server resumes',
        async () => (await store.incr('frozen-handshake')) > 0,
        20_000,
      );
    } finally {
      await store.close();
      for (const s of sockets) s.destroy();
      relay.close();
    }
  });
});
