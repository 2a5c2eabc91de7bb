/**
 * Versioned migrations applied at start are safe for instances starting together (advisory lock: one applies,
 * the others find the versions recorded), and a failing migration leaves the schema as it was.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { type PgCluster, startPostgres, withClient } from '@lumen/testkit';
import pino from 'pino';
import { migrate, readMigrations } from '../src/db/migrate.ts';
import { createPgPool } from '../src/db/postgres.ts';
import type { Pool } from '../src/db/types.ts';

let pg: PgCluster;
const pools: Pool[] = [];
const scratch = mkdtempSync(join(tmpdir(), 'lumen-migrations-'));

before(async () => {
  pg = await startPostgres();
});
after(async () => {
  await Promise.all(pools.map((p) => p.close()));
  await pg?.close();
  rmSync(scratch, { recursive: true, force: true });
});

const pool = (): Pool => {
  const p = createPgPool(
    'primary',
    pg.primary.dsn,
    { statementTimeoutMs: 10_000, connectTimeoutMs: 2000 },
    pino({ level: 'silent' }),
  );
  pools.push(p);
  return p;
};

it('applies each migration exactly once when six instances start at the same time', async () => {
  const migrations = await readMigrations();
  assert.ok(migrations.length >= 1);
  assert.deepEqual(
    migrations.map((m) => m.version),
    [...migrations.map((m) => m.version)].sort((a, b) => a - b),
    'ordered by version',
  );
  const results = await Promise.all(Array.from({ length: 6 }, () => migrate(pool(), migrations)));
  const appliers = results.filter((r) => r.length > 0);
  assert.equal(appliers.length, 1, `exactly one instance applied: ${JSON.stringify(results)}`);
  assert.deepEqual(
    appliers[0],
    migrations.map((m) => m.version),
  );
  const recorded = await withClient(pg.primary.dsn, async (c) =>
    (await c.query('SELECT version FROM schema_migrations ORDER BY version')).rows.map((r) => r.version),
  );
  assert.deepEqual(
    recorded,
    migrations.map((m) => m.version),
  );
  assert.deepEqual(await migrate(pool(), migrations), [], 'a later start applies nothing');
});

it('rolls a failing migration back completely, and applies it once fixed', async () => {
  const existing = await readMigrations();
  const broken = {
    version: 900,
    name: 'broken',
    sql: 'CREATE TABLE half_done (id int); ALTER TABLE items ADD COLUMN note text; SELECT no_such_function();',
  };
  await assert.rejects(migrate(pool(), [...existing, broken]), /no_such_function/);
  const state = await withClient(pg.primary.dsn, async (c) => ({
    table: (await c.query("SELECT to_regclass('half_done') AS t")).rows[0]?.t,
    column: (
      await c.query("SELECT 1 FROM information_schema.columns WHERE table_name = 'items' AND column_name = 'note'")
    ).rowCount,
    version: (await c.query('SELECT 1 FROM schema_migrations WHERE version = 900')).rowCount,
  }));
  assert.deepEqual(state, { table: null, column: 0, version: 0 });

  const fixed = { ...broken, sql: 'CREATE TABLE half_done (id int); ALTER TABLE items ADD COLUMN note text;' };
  assert.deepEqual(await migrate(pool(), [...existing, fixed]), [900]);
});

it('rejects migration files that are not named NNN_name.sql', async () => {
  writeFileSync(join(scratch, '001_ok.sql'), 'SELECT 1;');
  writeFileSync(join(scratch, '2_bad.sql'), 'SELECT 1;');
  await assert.rejects(readMigrations(scratch), /NNN_name\.sql: 2_bad\.sql/);
});
