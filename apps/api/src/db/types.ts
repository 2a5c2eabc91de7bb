/**
 * The small query interface every database backend implements: node-postgres pools against real servers and
 * PGlite in embedded mode. Repositories and migrations only see these types, so the same SQL runs on both.
 */

/** Rows and the number of rows the statement returned or changed. */
export interface QueryResult<R> {
  rows: R[];
  rowCount: number;
}

/** Per-statement options of {@link Queryable.query}. */
export interface QueryOptions {
  /**
   * Prepared statement name: node-postgres parses and plans `text` once per connection under this name and then
   * only binds and executes it (hot statements). One name, one text. Ignored by PGlite. Default: unnamed.
   */
  name?: string;
}

/** Something that runs SQL: a pool, or the connection of an open transaction. */
export interface Queryable {
  /** One statement with `$1…` parameters (extended protocol). */
  query<R = Record<string, unknown>>(
    text: string,
    params?: readonly unknown[],
    options?: QueryOptions,
  ): Promise<QueryResult<R>>;
  /** Several `;`-separated statements without parameters (simple protocol), e.g. a migration file. */
  exec(sql: string): Promise<void>;
}

/** A connection pool (or PGlite instance) with transactions. */
export interface Pool extends Queryable {
  /** `primary` or `replica`; logged and reported by /health. */
  readonly role: 'primary' | 'replica';
  /**
   * Runs `fn` inside BEGIN … COMMIT on one connection; any throw rolls back and is rethrown.
   * Everything `fn` does through `tx` commits or rolls back together.
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** The PostgreSQL side of lumen-api: a primary for writes and, optionally, a replica for reads. */
export interface Database {
  readonly primary: Pool;
  /** Undefined when reads share the primary (no `PG_RO_DSN`, or embedded mode). */
  readonly replica: Pool | undefined;
  /** Replica lag beyond which reads go to the primary and /health reports degraded. */
  readonly maxReplicaLagMs: number;
  /** True on PGlite. */
  readonly embedded: boolean;
  close(): Promise<void>;
}
