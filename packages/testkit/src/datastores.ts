/**
 * PostgreSQL and, optionally, Redis started together: what an application under test stores its data in.
 *
 * ```ts
 * const { pg, redis, close } = await startDatastores({ postgres: { replica: true }, redis: true });
 * after(close);
 * ```
 */
import { type PgCluster, type StartPostgresOptions, startPostgres } from './postgres.ts';
import { type RedisCluster, type StartRedisOptions, startRedis } from './redis.ts';

export interface StartDatastoresOptions {
  /** The PostgreSQL cluster. Default: a primary alone. */
  postgres?: StartPostgresOptions;
  /** Also start Redis: `true` for a master alone, or its options. Default: no Redis. */
  redis?: true | StartRedisOptions;
}

/** `RedisCluster` when the options ask for Redis, else `undefined`. */
export type RedisOf<O extends StartDatastoresOptions> = O extends { redis: true | StartRedisOptions }
  ? RedisCluster
  : undefined;

export interface Datastores<R extends RedisCluster | undefined = RedisCluster | undefined> {
  readonly pg: PgCluster;
  readonly redis: R;
  /** Stops every server and removes its data. */
  close(): Promise<void>;
}

/**
 * Starts PostgreSQL and Redis in parallel. When one fails to start, the other is closed before the error is thrown,
 * so a failed set-up leaves nothing running.
 */
export async function startDatastores<const O extends StartDatastoresOptions = Record<never, never>>(
  options?: O,
): Promise<Datastores<RedisOf<O>>> {
  const redisOptions = options?.redis === true ? {} : options?.redis;
  const [pg, redis] = await Promise.allSettled([
    startPostgres(options?.postgres),
    redisOptions === undefined ? Promise.resolve(undefined) : startRedis(redisOptions),
  ]);
  if (pg.status === 'rejected' || redis.status === 'rejected') {
    await Promise.all([
      pg.status === 'fulfilled' ? pg.value.close() : undefined,
      redis.status === 'fulfilled' ? redis.value?.close() : undefined,
    ]);
    throw pg.status === 'rejected' ? pg.reason : (redis as PromiseRejectedResult).reason;
  }
  return {
    pg: pg.value,
    redis: redis.value as RedisOf<O>,
    async close() {
      await Promise.all([pg.value.close(), redis.value?.close()]);
    },
  };
}
