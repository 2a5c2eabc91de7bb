/**
 * Embedded PostgreSQL (PGlite, PostgreSQL compiled to WebAssembly) behind the same {@link Pool} interface as
 * node-postgres, so `npm start` works with no database installed. PGlite is single-connection: it queues
 * queries and runs transactions exclusively, which is fine for a development instance. One process per data
 * directory — two PGlite instances on the same directory corrupt it.
 */
import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import type { Database, Pool, Queryable, QueryResult } from './types.ts';

type Runner = Pick<PGlite, 'query' | 'exec'>;

function wrap(runner: Runner): Queryable {
  return {
    async query<R>(text: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
      const result = await runner.query<R>(text, params as unknown[] | undefined);
      return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length };
    },
    async exec(sql: string): Promise<void> {
      await runner.exec(sql);
    },
  };
}

/**
 * Opens (creating if needed) a PGlite database in `dataDir`. A first start runs initdb in WebAssembly,
 * which takes seconds; reopening an existing directory is fast (figures in docs/testing.md).
 */
export async function openEmbeddedDatabase(dataDir: string): Promise<Database> {
  await mkdir(dataDir, { recursive: true });
  const db = await PGlite.create(dataDir);
  const primary: Pool = {
    role: 'primary',
    ...wrap(db),
    transaction: (fn) => db.transaction((tx) => fn(wrap(tx))),
    close: () => db.close(),
  };
  return {
    primary,
    replica: undefined,
    maxReplicaLagMs: 0,
    embedded: true,
    close: () => primary.close(),
  };
}
