import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type PgCluster, startPostgres, withClient } from '@lumen/testkit';

describe('testkit: PostgreSQL primary + streaming replica', () => {
  let pg: PgCluster;
  before(async () => {
    pg = await startPostgres({ replica: true });
  });
  after(() => pg?.close());

  it('runs on a loopback port other than the machine default, with generated credentials', () => {
    assert.notEqual(pg.primary.port, 5432);
    assert.ok(pg.password.length >= 16);
    assert.match(pg.primary.dsn, /^postgres:\/\/lumen:.+@127\.0\.0\.1:\d+\/lumen$/);
  });

  it('streams a row written on the primary to the replica', async () => {
    await withClient(pg.primary.dsn, (c) => c.query('CREATE TABLE t (v int); INSERT INTO t VALUES (42)'));
    await pg.replica?.caughtUp();
    const rows = await withClient(pg.replica?.dsn as string, (c) => c.query('SELECT v FROM t'));
    assert.deepEqual(rows.rows, [{ v: 42 }]);
  });

  it('rejects a wrong password', async () => {
    const bad = pg.primary.dsn.replace(/:[^:@]+@/, ':wrong@');
    await assert.rejects(
      withClient(bad, (c) => c.query('SELECT 1')),
      /password authentication failed/,
    );
  });

  it('freezes the primary with its backends: an open connection gets no answer until it is thawed', async () => {
    assert.ok(Number.isInteger(pg.primary.pid), 'the running primary has a PID');
    await withClient(pg.primary.dsn, async (c) => {
      pg.primary.freeze();
      const query = c.query('SELECT 1 AS one');
      const early = await Promise.race([query.then(() => 'answered'), sleep(500, 'no answer')]);
      pg.primary.thaw();
      assert.equal(early, 'no answer');
      assert.deepEqual((await query).rows, [{ one: 1 }]);
    });
  });

  it('restarts a killed primary on the same port, and the replica is read-only until promoted', async () => {
    const port = pg.primary.port;
    await pg.primary.kill();
    assert.equal(pg.primary.running(), false);
    await assert.rejects(
      withClient(pg.replica?.dsn as string, (c) => c.query('INSERT INTO t VALUES (1)')),
      /read-only/,
    );
    await pg.primary.start();
    assert.equal(pg.primary.port, port);
    const rows = await withClient(pg.primary.dsn, (c) => c.query('SELECT count(*)::int AS n FROM t'));
    assert.equal(rows.rows[0].n, 1);
  });

  it('promotes the replica to accept writes', async () => {
    await pg.primary.stop();
    await pg.replica?.promote();
    await withClient(pg.replica?.dsn as string, (c) => c.query('INSERT INTO t VALUES (7)'));
    const rows = await withClient(pg.replica?.dsn as string, (c) => c.query('SELECT count(*)::int AS n FROM t'));
    assert.equal(rows.rows[0].n, 2);
  });
});
