/**
 * Redis behind Sentinel: after the master is killed, Sentinel promotes the replica and `/hello` works again
 * within the failover time + 1 s, without restarting the API. While there is no master, `/hello` answers
 * 503 quickly (commands have a timeout) instead of hanging.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { type PgCluster, type RedisCluster, startPostgres, startRedis } from '@lumen/testkit';
import { call, type RunningApi, startApi } from './support/api.ts';

let pg: PgCluster;
let redis: RedisCluster;
let api: RunningApi;

before(async () => {
  [pg, redis] = await Promise.all([startPostgres(), startRedis({ sentinels: 3 })]);
  api = await startApi({
    PG_RW_DSN: pg.primary.dsn,
    REDIS_MODE: 'sentinel',
    REDIS_SENTINEL_ADDRS: redis.sentinelAddrs,
    REDIS_MASTER_NAME: redis.masterName,
    REDIS_PASSWORD: redis.password,
  });
});
after(async () => {
  await api?.close();
  await Promise.all([redis?.close(), pg?.close()]);
});

it('serves /hello again within failover time + 1 s after the master is killed', async (t) => {
  const first = await call(api.url, 'GET', '/hello');
  assert.equal(first.status, 200, first.text);
  const second = await call(api.url, 'GET', '/hello');
  assert.equal(second.body.counter, first.body.counter + 1);
  assert.equal(api.deps.kv.kind, 'sentinel');

  const oldMaster = await redis.currentMaster();
  const killedAt = Date.now();
  await redis.master.kill();

  // Poll /hello throughout; every answer must come back (200 or 503), none may hang.
  let polling = true;
  let firstOkAt: number | undefined;
  const statuses: number[] = [];
  const poller = (async () => {
    while (polling) {
      const started = Date.now();
      const response = await call(api.url, 'GET', '/hello');
      statuses.push(response.status);
      if (response.status === 503) {
        assert.equal(response.body.code, 'dependency_unavailable');
        assert.match(response.headers.get('retry-after') ?? '', /^\d+$/);
      } else {
        assert.equal(response.status, 200, response.text);
        if (started > killedAt) firstOkAt ??= Date.now();
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  })();

  const newMaster = await redis.waitForFailover(oldMaster.port, 20_000);
  const failedOverAt = Date.now();
  assert.notEqual(newMaster.port, oldMaster.port);
  while (firstOkAt === undefined && Date.now() - failedOverAt < 10_000) await new Promise((r) => setTimeout(r, 20));
  polling = false;
  await poller;

  assert.ok(statuses.includes(503), 'the outage was visible as 503, not as hanging requests');
  assert.ok(firstOkAt !== undefined, '/hello never recovered');
  const failover = failedOverAt - killedAt;
  const recovery = firstOkAt - killedAt;
  t.diagnostic(`failover ${failover} ms after the kill; /hello 200 again after ${recovery} ms`);
  assert.ok(
    recovery <= failover + 1000,
    `/hello recovered ${recovery} ms after the kill; Sentinel's failover took ${failover} ms`,
  );
  const after = await call(api.url, 'GET', '/hello');
  assert.equal(after.status, 200);
  assert.ok(after.body.counter >= 1);
  const health = await call(api.url, 'GET', '/health');
  assert.equal(health.body.checks.redis.status, 'up');
});
