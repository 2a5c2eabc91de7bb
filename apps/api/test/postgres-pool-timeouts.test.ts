/**
 * Every PostgreSQL pool bounds its calls: a server-side statement_timeout (visible in SHOW), a connect timeout
 * (pg's default waits forever) and an error handler that survives an idle connection being killed. All three
 * failures count as "dependency unavailable" (503), not as bugs.
 */
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { after, before, it } from 'node:test';
import { type PgCluster, startPostgres, withClient } from '@lumen/testkit';
import pino from 'pino';
import { createPgPool } from '../src/db/postgres.ts';
import type { Pool } from '../src/db/types.ts';
import { isUnavailableError } from '../src/errors.ts';

let pg: PgCluster;
const pools: Pool[] = [];
const warnings: unknown[] = [];
const logger = pino({ level: 'warn' }, { write: (line: string) => warnings.push(JSON.parse(line)) });

before(async () => {
  pg = await startPostgres();
});
after(async () => {
  await Promise.all(pools.map((p) => p.close()));
  await pg?.close();
});

const pool = (dsn: string, statementTimeoutMs: number, connectTimeoutMs = 2000): Pool => {
  const p = createPgPool('primary', dsn, { statementTimeoutMs, connectTimeoutMs }, logger);
  pools.push(p);
  return p;
};

it('sets statement_timeout on the server and cancels a longer statement', async () => {
  const p = pool(pg.primary.dsn, 300);
  const { rows } = await p.query<{ statement_timeout: string }>('SHOW statement_timeout');
  assert.equal(rows[0]?.statement_timeout, '300ms');
  const error = await p.query('SELECT pg_sleep(5)').then(
    () => assert.fail('pg_sleep(5) finished despite the timeout'),
    (e: unknown) => e,
  );
  assert.equal((error as { code?: string }).code, '57014');
  assert.equal(isUnavailableError(error), true);
});

it('gives up connecting after the connect timeout to a server that never answers', async () => {
  // Accepts TCP connections and never says a word, like a host behind a dropped route.
  const sockets: Socket[] = [];
  const silent = createServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const { port } = silent.address() as { port: number };
  try {
    const p = pool(`postgres://u:p@127.0.0.1:${port}/db`, 1000, 300);
    const started = Date.now();
    const error = await p.query('SELECT 1').then(
      () => assert.fail('connected to a silent server'),
      (e: unknown) => e,
    );
    assert.ok(Date.now() - started < 5000, 'did not wait forever');
    assert.equal(isUnavailableError(error), true, String(error));
  } finally {
    for (const s of sockets) s.destroy();
    silent.close();
  }
});

it('survives an idle connection being terminated and reconnects', async () => {
  const p = pool(pg.primary.dsn, 1000);
  await p.query("SELECT set_config('application_name', 'lumen-api-victim', false)");
  await withClient(pg.primary.superuserDsn, (c) =>
    c.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'lumen-api-victim'"),
  );
  // Without the pool's error handler, the idle client's error would have crashed this process by now.
  await new Promise((r) => setTimeout(r, 200));
  assert.ok(
    warnings.some((w) => (w as { msg?: string }).msg === 'idle PostgreSQL connection failed'),
    'the idle connection failure was logged',
  );
  const { rows } = await p.query<{ one: number }>('SELECT 1 AS one');
  assert.equal(rows[0]?.one, 1);
});
