/**
 * The PostgreSQL pools are kept warm: their connections are opened at start and stay open when idle,
 * so a burst (or a latency spike, when every query takes longer and more run at once) finds them open
 * instead of paying each new connection's handshake on top of the delay. Before, a pool started empty
 * and grew from 2 to 10 connections exactly when latency arrived. Counted at a proxy in front of a
 * real PostgreSQL (testkit): connections, not timings.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type PgCluster, startPostgres, waitFor } from '@lumen/testkit';
import { type DelayProxy, startDelayProxy } from '@lumen/testkit/delay-proxy';
import pino from 'pino';
import { createPgPool } from '../src/db/postgres.ts';
import type { Pool } from '../src/db/types.ts';

let pg: PgCluster;
let proxy: DelayProxy;
let pool: Pool;

before(async () => {
  pg = await startPostgres();
  proxy = await startDelayProxy({ host: pg.primary.host, port: pg.primary.port }, 20);
  const dsn = pg.primary.dsn.replace(`${pg.primary.host}:${pg.primary.port}`, `${proxy.host}:${proxy.port}`);
  pool = createPgPool(
    'primary',
    dsn,
    { statementTimeoutMs: 5000, connectTimeoutMs: 5000, max: 6 },
    pino({ level: 'silent' }),
  );
});
after(async () => {
  await pool?.close();
  await proxy?.close();
  await pg?.close();
});

describe('a warm PostgreSQL pool', () => {
  it('opens its connections at start, and a burst of as many queries opens no new one', async () => {
    await waitFor('the pool to open its 6 connections', async () => proxy.connections === 6, 10_000, 50);
    const rows = await Promise.all(
      Array.from({ length: 6 }, () => pool.query<{ one: number }>('SELECT 1 AS one, pg_sleep(0.1)')),
    );
    assert.deepEqual(
      rows.map((r) => r.rows[0]?.one),
      [1, 1, 1, 1, 1, 1],
    );
    assert.equal(proxy.connections, 6, 'the burst used the open connections');
  });
});
