import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type RedisCluster, startRedis } from '@lumen/testkit';
import { Redis } from 'ioredis';

describe('testkit: Redis master + replica + 3 Sentinels', () => {
  let redis: RedisCluster;
  before(async () => {
    redis = await startRedis({ sentinels: 3 });
  });
  after(() => redis?.close());

  it('requires the generated password and never uses the machine port 6379', async () => {
    assert.notEqual(redis.master.port, 6379);
    // Speak RESP directly: an unauthenticated PING must be refused.
    const socket = connect(redis.master.port, '127.0.0.1');
    socket.write('PING\r\n');
    const [reply] = await once(socket, 'data');
    socket.destroy();
    assert.match(String(reply), /^-NOAUTH/);
  });

  it('freezes a node: its open connection gets no answer until it is thawed', async () => {
    // A Sentinel, not the master: a master frozen for a second would be failed over.
    const sentinel = redis.sentinels[0];
    assert.ok(sentinel !== undefined && Number.isInteger(sentinel.pid), 'the running Sentinel has a PID');
    const client = new Redis({ port: sentinel.port, maxRetriesPerRequest: 1 });
    try {
      assert.equal(await client.ping(), 'PONG');
      sentinel.freeze();
      const ping = client.ping();
      const early = await Promise.race([ping, sleep(500, 'no answer')]);
      sentinel.thaw();
      assert.equal(early, 'no answer');
      assert.equal(await ping, 'PONG');
    } finally {
      client.disconnect();
    }
  });

  it('fails over to the replica when the master is killed', async () => {
    const before = await redis.currentMaster();
    assert.equal(before.port, redis.master.port);
    await redis.master.kill();
    const now = await redis.waitForFailover(before.port);
    assert.equal(now.port, redis.replica?.port);
    const client = new Redis({ port: now.port, password: redis.password as string, maxRetriesPerRequest: 1 });
    assert.equal(await client.set('after-failover', '1'), 'OK');
    client.disconnect();
  });
});
