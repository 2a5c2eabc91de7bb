/**
 * Redis behind Sentinel: after the master is killed, Sentinel promotes the replica and `/hello` works again
 * within the failover time + 1 s, without restarting the API. While there is no master, `/hello` answers
 * 503 quickly (commands have a timeout) instead of hanging. With the master and a Sentinel frozen (SIGSTOP:
 * the connections stay open and nothing answers), every call of the store still settles within its timeout
 * and the store follows the failover; a store closed while it connects leaves nothing behind on the Sentinels.
 *
 * Every wait here is bounded: a regression fails with a message naming what did not settle, never hangs the
 * run (CI once lost a whole run to this file hanging for 10 minutes; docs/redis.md).
 */
import assert from 'node:assert/strict';
import { after, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type RedisCluster, type RedisNode, startRedis, waitFor } from '@lumen/testkit';
import { Redis } from 'ioredis';
import pino from 'pino';
import { createRedisStore } from '../src/kv/redis.ts';
import type { KeyValueStore } from '../src/kv/store.ts';
import { call, type Reply, startApiStack } from './support/api.ts';

/** The second Redis + Sentinels is for the store-level tests, so they do not depend on the API test's failover. */
const [{ redis, api, close }, spare] = await Promise.all([
  startApiStack({ redis: { sentinels: 3 } }),
  startRedis({ sentinels: 3 }),
]);
const frozen = new Set<RedisNode>();
after(async () => {
  for (const node of frozen) thaw(node);
  await bounded(api.close(), 15_000, 'closing the API').catch((error) => {
    console.error(error);
  });
  // The API is closed (or given up on) already; this closes the servers.
  await Promise.all([close(), spare.close()]);
});

it('serves /hello again within failover time + 1 s after the master is killed', async (t) => {
  const first = await hello();
  assert.equal(first.status, 200, first.text);
  const second = await hello();
  assert.equal(second.body.counter, first.body.counter + 1);
  assert.equal(api.deps.kv.kind, 'sentinel');

  const oldMaster = await bounded(redis.currentMaster(), 10_000, 'asking Sentinel for the master');
  const killedAt = Date.now();
  await bounded(redis.master.kill(), 10_000, 'killing the master');

  // Poll /hello throughout; every answer must come back (200 or 503), none may hang.
  let polling = true;
  let firstOkAt: number | undefined;
  const timeline: string[] = [];
  const poller = (async () => {
    while (polling) {
      const started = Date.now();
      const response = await hello();
      timeline.push(`+${started - killedAt}ms ${response.status} in ${Date.now() - started}ms`);
      if (response.status === 503) {
        assert.equal(response.body.code, 'dependency_unavailable');
        assert.match(response.headers.get('retry-after') ?? '', /^\d+$/);
      } else {
        assert.equal(response.status, 200, response.text);
        if (started > killedAt) firstOkAt ??= Date.now();
      }
      await sleep(50);
    }
  })();
  // Surfaces a failed assertion of the poller now, instead of when it is awaited below.
  poller.catch(() => undefined);

  try {
    const newMaster = await bounded(redis.waitForFailover(oldMaster.port, 20_000), 25_000, 'Sentinel failover');
    const failedOverAt = Date.now();
    assert.notEqual(newMaster.port, oldMaster.port);
    await waitFor('/hello to answer 200 again', async () => firstOkAt !== undefined, 10_000, 20).catch(() => undefined);
    polling = false;
    await bounded(poller, 10_000, 'the /hello poller');

    const failover = failedOverAt - killedAt;
    t.diagnostic(`failover ${failover} ms after the kill; /hello 200 again after ${(firstOkAt ?? 0) - killedAt} ms`);
    assert.ok(
      timeline.some((line) => / 503 /.test(line)),
      'the outage was visible as 503, not as hanging requests',
    );
    assert.ok(firstOkAt !== undefined, `/hello never recovered: ${timeline.join(', ')}`);
    const recovery = firstOkAt - killedAt;
    assert.ok(
      recovery <= failover + 1000,
      `/hello recovered ${recovery} ms after the kill; Sentinel's failover took ${failover} ms: ${timeline.join(', ')}`,
    );
  } finally {
    polling = false;
  }
  const afterwards = await hello();
  assert.equal(afterwards.status, 200);
  assert.ok(afterwards.body.counter >= 1);
  const health = await bounded(call(api.url, 'GET', '/health'), 5000, 'GET /health');
  assert.equal(health.body.checks.redis.status, 'up');
});

it('a store closed while it connects leaves no subscription behind on the Sentinels', async () => {
  // ioredis' failoverDetector subscribed to every Sentinel from a connection that completed after
  // disconnect(), and those subscribers reconnected forever, keeping the process alive.
  for (let delay = 0; delay < 25; delay++) {
    const store = sentinelStore(spare);
    await sleep(delay);
    await bounded(store.close(), 5000, `closing a store ${delay} ms after creating it`);
  }
  let left = Number.POSITIVE_INFINITY;
  await waitFor(
    'the Sentinel subscriptions of closed stores to end',
    async () => {
      left = await subscribersOn(spare);
      return left === 0;
    },
    5000,
  ).catch(() => undefined);
  assert.equal(left, 0, `${left} Sentinel subscriptions of closed stores are still open`);
});

it('every store call settles within its timeout while the master and a Sentinel are frozen, and the store follows the failover', async (t) => {
  const timeoutMs = 1000;
  const store = sentinelStore(spare, timeoutMs);
  try {
    await waitFor('the store to reach the master', async () => (await store.incr('warm')) > 0, 10_000, 50);

    // Frozen, not killed: connections stay open and nothing answers, so only client-side timers help.
    const oldMaster = await bounded(spare.currentMaster(), 10_000, 'asking Sentinel for the master');
    const sentinel = spare.sentinels[0] as RedisNode;
    const master = dataNodeOn(spare, oldMaster.port);
    const load = startLoad(store, 8);
    await sleep(300);
    freeze(sentinel);
    freeze(master);
    const frozenAt = Date.now();

    await bounded(spare.waitForFailover(oldMaster.port, 40_000), 45_000, 'Sentinel failover');
    const failedOverAt = Date.now();
    const recovered = await waitFor(
      'the store to work on the new master',
      async () => load.lastOkAt > failedOverAt,
      15_000,
      50,
    ).then(
      () => true,
      () => false,
    );
    const calls = await bounded(load.stop(), 5000, 'the store calls in flight');
    thaw(master);
    thaw(sentinel);

    const slowest = calls.reduce((max, c) => Math.max(max, c.ms), 0);
    const failures = calls.filter((c) => c.error !== undefined);
    t.diagnostic(
      `${calls.length} calls, ${failures.length} failed; slowest ${slowest} ms; failover ${failedOverAt - frozenAt} ms after the freeze`,
    );
    assert.ok(failures.length > 0, 'the frozen master was noticed');
    // The deadline plus scheduling slack; auto-pipelined calls used to take up to twice the timeout.
    const late = calls.filter((c) => c.ms > timeoutMs + 500);
    assert.deepEqual(late.slice(0, 5), [], `${late.length} calls took longer than their ${timeoutMs} ms timeout`);
    for (const failure of failures) {
      assert.match(failure.error ?? '', /timed out|max retries|Connection is closed|READONLY/i, failure.error);
    }
    assert.ok(recovered, 'the store never reached the new master');
  } finally {
    await bounded(store.close(), 5000, 'closing the store');
  }
});

/** GET /hello, failing (not hanging) when no answer comes within 5 s. */
function hello(): Promise<Reply> {
  return bounded(call(api.url, 'GET', '/hello'), 5000, 'GET /hello');
}

function sentinelStore(cluster: RedisCluster, timeoutMs = 1000): KeyValueStore {
  return createRedisStore(
    {
      mode: 'sentinel',
      sentinels: cluster.sentinels.map((s) => ({ host: s.host, port: s.port })),
      masterName: cluster.masterName,
      password: cluster.password,
      sentinelPassword: undefined,
      timeoutMs,
    },
    pino({ level: process.env.LUMEN_TEST_LOG ?? 'silent' }),
  );
}

interface Call {
  ms: number;
  error?: string;
}

/** `workers` loops of INCR/SET NX/GET/SET/DEL, each call timed from its start to its settlement. */
function startLoad(store: KeyValueStore, workers: number) {
  const calls: Call[] = [];
  let running = true;
  const state = { lastOkAt: 0 };
  const ops = [
    () => store.incr('load'),
    (w: number) => store.setIfAbsent(`lock:${w}`, 'x', 5000),
    (w: number) => store.get(`lock:${w}`),
    (w: number) => store.set(`lock:${w}`, 'y', 5000),
    (w: number) => store.del(`lock:${w}`),
  ];
  const loops = Array.from({ length: workers }, async (_, w) => {
    for (let i = 0; running; i++) {
      const started = Date.now();
      try {
        await ops[(i + w) % ops.length]?.(w);
        calls.push({ ms: Date.now() - started });
        state.lastOkAt = Date.now();
      } catch (error) {
        calls.push({ ms: Date.now() - started, error: (error as Error).message });
        await sleep(10);
      }
    }
  });
  return {
    get lastOkAt() {
      return state.lastOkAt;
    },
    async stop(): Promise<Call[]> {
      running = false;
      await Promise.all(loops);
      return calls;
    },
  };
}

/** How many Pub/Sub clients each Sentinel of `cluster` has, summed. */
async function subscribersOn(cluster: RedisCluster): Promise<number> {
  let total = 0;
  for (const sentinel of cluster.sentinels) {
    const client = new Redis({ host: sentinel.host, port: sentinel.port, lazyConnect: true, commandTimeout: 2000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      const list = String(await client.call('CLIENT', 'LIST'));
      total += list.split('\n').filter((line) => /\bflags=\S*P/.test(line)).length;
    } finally {
      client.disconnect();
    }
  }
  return total;
}

/** `promise`, or a rejection naming `what` once `ms` have passed. */
function bounded<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([promise, guard]).finally(() => clearTimeout(timer));
}

/** The data node of `cluster` listening on `port` (the master now may be the replica at start). */
function dataNodeOn(cluster: RedisCluster, port: number): RedisNode {
  const node = [cluster.master, cluster.replica].find((n) => n?.port === port);
  if (node === undefined) throw new Error(`no data node of the cluster listens on port ${port}`);
  return node;
}

function freeze(node: RedisNode): void {
  node.freeze();
  frozen.add(node);
}

function thaw(node: RedisNode): void {
  frozen.delete(node);
  node.thaw();
}
