/**
 * Injected latency on Redis is paid once per round trip, never twice: a command issued while an
 * earlier one is still waiting for its answer goes out at once. With ioredis' auto-pipelining it
 * waited for that answer first (through a 100 ms delay at 120 commands/s: p99 201 ms instead of
 * 104 ms). Shown as an ordering through a delay proxy in front of a real Redis (testkit): the second
 * command reaches the proxy before the first answer comes back.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type RedisCluster, startRedis } from '@lumen/testkit';
import { type DelayProxy, startDelayProxy } from '@lumen/testkit/delay-proxy';
import pino from 'pino';
import { createRedisStore } from '../src/kv/redis.ts';
import type { KeyValueStore } from '../src/kv/store.ts';

let redis: RedisCluster;
let proxy: DelayProxy;
let store: KeyValueStore;

before(async () => {
  redis = await startRedis();
  proxy = await startDelayProxy({ host: redis.master.host, port: redis.master.port }, 150);
  store = createRedisStore(
    { mode: 'standalone', address: { host: proxy.host, port: proxy.port }, password: redis.password, timeoutMs: 5000 },
    pino({ level: 'silent' }),
  );
  await store.incr('warm');
});
after(async () => {
  await store?.close();
  await proxy?.close();
  await redis?.close();
});

describe('Redis commands under injected latency', () => {
  it('a command issued while another waits for its answer is sent at once, not after that answer', async () => {
    proxy.events.length = 0;
    const first = store.incr('first');
    await sleep(30);
    const second = store.incr('second');
    await Promise.all([first, second]);
    const order = proxy.events.map(
      (e) => `${e.direction}:${e.bytes.includes('second') ? 'second' : e.bytes.includes('first') ? 'first' : '-'}`,
    );
    const secondSent = order.indexOf('up:second');
    const firstAnswered = order.indexOf('down:-');
    assert.ok(secondSent >= 0 && firstAnswered >= 0, order.join(' '));
    assert.ok(secondSent < firstAnswered, `the second command waited for the first answer: ${order.join(' ')}`);
  });
});
