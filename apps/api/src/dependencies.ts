/**
 * Opens what lumen-api depends on, from the configuration: PostgreSQL (pools or embedded PGlite, migrated) and
 * the key-value store (Redis or in-process). The entry file and the tests both build the app from this.
 */
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import { openEmbeddedDatabase } from './db/embedded.ts';
import { migrate } from './db/migrate.ts';
import { createPgDatabase } from './db/postgres.ts';
import { createReadRouter, type ReadRouter } from './db/reads.ts';
import type { Database } from './db/types.ts';
import { createMemoryStore } from './kv/memory.ts';
import { createRedisStore } from './kv/redis.ts';
import type { KeyValueStore } from './kv/store.ts';

/** The dependencies routes use. */
export interface Dependencies {
  db: Database;
  reads: ReadRouter;
  kv: KeyValueStore;
  /** Closes the store, then the database; safe to call once. */
  close(): Promise<void>;
}

/**
 * Opens the database, applies pending migrations, and connects the store.
 * Redis connects in the background: an unreachable Redis degrades /health and /hello, it does not stop the start.
 * A database that cannot be migrated does stop it (the error propagates).
 */
export async function openDependencies(config: Config, logger: Logger): Promise<Dependencies> {
  const embedded = config.postgres.mode === 'embedded' || config.redis.mode === 'memory';
  let db: Database;
  if (config.postgres.mode === 'embedded') {
    logger.info(
      { data_dir: config.postgres.dataDir },
      'embedded mode: PostgreSQL is PGlite in this process (PG_RW_DSN unset)',
    );
    db = await openEmbeddedDatabase(config.postgres.dataDir);
  } else {
    db = createPgDatabase(config.postgres, logger);
  }
  try {
    const applied = await migrate(db.primary);
    logger.info({ applied }, applied.length > 0 ? 'migrations applied' : 'schema up to date');
  } catch (error) {
    await db.close();
    throw error;
  }
  const reads = createReadRouter(db, logger);
  const kv = config.redis.mode === 'memory' ? createMemoryStore() : createRedisStore(config.redis, logger);
  if (config.redis.mode === 'memory') {
    logger.info('embedded mode: key-value store is in this process (REDIS_ADDR and REDIS_SENTINEL_ADDRS unset)');
  }
  if (embedded) logger.info('running embedded: data is local to this instance; for development only');
  return {
    db,
    reads,
    kv,
    async close() {
      reads.stop();
      await kv.close();
      await db.close();
    },
  };
}
