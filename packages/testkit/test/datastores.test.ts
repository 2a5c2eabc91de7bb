import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startDatastores, withClient } from '@lumen/testkit';
import { Redis } from 'ioredis';

describe('testkit: PostgreSQL and Redis started together', () => {
  it('closes the PostgreSQL it started when Redis fails to start', async () => {
    await assert.rejects(startDatastores({ redis: { sentinels: 2 } }), /quorum/);
    const left = readdirSync(join(tmpdir(), 'lumen-testkit')).filter((d) => d.startsWith(`${process.pid}-pg-`));
    assert.deepEqual(left, [], 'no PostgreSQL instance of this process is left');
  });

  it('starts a primary and a Redis master that answer, and close() stops both', async () => {
    const { pg, redis, close } = await startDatastores({ redis: true });
    try {
      const rows = await withClient(pg.primary.dsn, (c) => c.query('SELECT 1 AS one'));
      assert.deepEqual(rows.rows, [{ one: 1 }]);
      const client = new Redis({
        port: redis.master.port,
        password: redis.password as string,
        maxRetriesPerRequest: 1,
      });
      assert.equal(await client.ping(), 'PONG');
      client.disconnect();
    } finally {
      await close();
    }
    assert.equal(pg.primary.running(), false);
    assert.equal(redis.master.running(), false);
  });

  it('starts no Redis unless asked', async () => {
    const { pg, redis, close } = await startDatastores({ postgres: { replica: true } });
    await close();
    assert.equal(redis, undefined);
    assert.equal(pg.replica?.running(), false);
  });
});
