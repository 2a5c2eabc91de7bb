/**
 * node-postgres pools for real servers. pg's defaults are unsafe for a service: it waits forever for a
 * connection and has no statement timeout, and an idle client's socket error crashes the process unless
 * the pool has an `error` listener. Every pool here has all three.
 */

import pg from 'pg';
import type { Logger } from 'pino';
import type { Database, Pool, Queryable, QueryOptions, QueryResult } from './types.ts';

/** Options for {@link createPgPool}. */
export interface PgPoolOptions {
  /** Server-side `statement_timeout` in ms (sent in the startup packet, so it holds for every statement). */
  statementTimeoutMs: number;
  /** How long to wait for a TCP connection + authentication, in ms. */
  connectTimeoutMs: number;
  /** Pool size (default 10). */
  max?: number;
  /**
   * Connections kept open even when idle (default: `max`), opened at start and again after a lost one: a
   * latency spike then finds them open instead of paying the connection handshake again on top of it.
   */
  min?: number;
}

/** A pool on `dsn`; `role` only names it in logs and health. */
export function createPgPool(role: Pool['role'], dsn: string, options: PgPoolOptions, logger: Logger): Pool {
  const max = options.max ?? 10;
  const min = Math.min(options.min ?? max, max);
  const pool = new pg.Pool({
    connectionString: dsn,
    max,
    // Idle connections above `min` are closed after 30 s; `min` of them stay.
    min,
    connectionTimeoutMillis: options.connectTimeoutMs,
    statement_timeout: options.statementTimeoutMs,
    // A transaction left open by a crashed handler must not hold locks for long.
    idle_in_transaction_session_timeout: options.statementTimeoutMs * 2,
    // Client-side guard for when the server stops answering entirely (statement_timeout cannot fire then).
    query_timeout: options.statementTimeoutMs + 1000,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    application_name: 'lumen-api',
  });
  // Opens connections up to `min` (concurrently: each waits while the others are taken); a server that is
  // down now is retried by the next warm-up, after the next lost connection, or lazily by a query.
  let warming = false;
  let closed = false;
  const warm = () => {
    if (warming || closed || min === 0) return;
    warming = true;
    const want = Math.max(0, min - pool.totalCount);
    Promise.allSettled(Array.from({ length: want }, () => pool.connect().then((client) => client.release()))).finally(
      () => {
        warming = false;
      },
    );
  };
  warm();
  pool.on('error', (error) => {
    // An idle client lost its connection (server restart, failover); the pool drops it: open another.
    logger.warn({ err: error, pool: role }, 'idle PostgreSQL connection failed');
    setTimeout(warm, 1000).unref();
  });

  const wrap = (runner: pg.Pool | pg.PoolClient): Queryable => ({
    async query<R>(text: string, params?: readonly unknown[], options?: QueryOptions): Promise<QueryResult<R>> {
      const values = params as unknown[] | undefined;
      const result = await (options?.name === undefined
        ? runner.query(text, values)
        : runner.query({ name: options.name, text, values }));
      return { rows: result.rows as R[], rowCount: result.rowCount ?? result.rows.length };
    },
    async exec(sql: string): Promise<void> {
      await runner.query(sql);
    },
  });

  return {
    role,
    ...wrap(pool),
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const result = await fn(wrap(client));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        try {
          await client.query('ROLLBACK');
        } catch (rollbackError) {
          // The connection is unusable; release(error) destroys it instead of returning it to the pool.
          broken = rollbackError as Error;
        }
        throw error;
      } finally {
        client.release(broken);
      }
    },
    async close(): Promise<void> {
      closed = true;
      await pool.end();
    },
  };
}

/** Pools for `rwDsn` and, when it differs, `roDsn`. */
export function createPgDatabase(
  settings: PgPoolOptions & { rwDsn: string; roDsn: string; maxReplicaLagMs: number },
  logger: Logger,
): Database {
  const primary = createPgPool('primary', settings.rwDsn, settings, logger);
  const replica =
    settings.roDsn === settings.rwDsn ? undefined : createPgPool('replica', settings.roDsn, settings, logger);
  return {
    primary,
    replica,
    maxReplicaLagMs: settings.maxReplicaLagMs,
    embedded: false,
    async close(): Promise<void> {
      await Promise.allSettled([primary.close(), replica?.close()]);
    },
  };
}
