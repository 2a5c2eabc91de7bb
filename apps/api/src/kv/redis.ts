/**
 * Redis via ioredis, standalone or behind Sentinel. Every call of the store settles within `timeoutMs`,
 * whatever Redis or the Sentinels do (docs/redis.md: queued commands otherwise hang during an outage), and the
 * store follows a Sentinel failover within about a second, without restarting the API.
 *
 * ioredis' own `commandTimeout` is not enough for the first promise: it starts when ioredis hands the
 * command to its connection, so the time spent queued behind a pending auto-pipeline is not counted
 * (with the master frozen the wait grew past the timeout: docs/redis.md), and a command never handed over has no timer at
 * all. Each call therefore gets its own deadline, counted from the call (docs/redis.md).
 */
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import type { RedisConfig } from '../config.ts';
import { withTimeout } from '../timeout.ts';
import { type FailoverWatch, watchFailovers } from './failover-watch.ts';
import type { KeyValueStore } from './store.ts';

/** Reconnect backoff: 100 ms, 200 ms, … capped at 500 ms (a failover takes seconds: docs/testing.md). */
const retryStrategy = (attempt: number): number => Math.min(attempt * 100, 500);

/** Connects (in the background) to the Redis of `config`; commands fail fast until it is reachable. */
export function createRedisStore(config: Exclude<RedisConfig, { mode: 'memory' }>, logger: Logger): KeyValueStore {
  const { timeoutMs } = config;
  const common: RedisOptions = {
    password: config.password,
    connectTimeout: Math.max(timeoutMs, 1000),
    // No `commandTimeout`: every call has its own deadline (above), and the handshake has the watchdog below. Its
    // timer per command cost ~3% of the CPU of a GET /hello (docs/telemetry.md, "Benchmark").
    maxRetriesPerRequest: 1,
    retryStrategy,
    // A master demoted by Sentinel answers READONLY to writes while ioredis is still connected to it:
    // reconnect (asking the Sentinels for the new master) and resend the command (2).
    reconnectOnError: (error) => (error.message.startsWith('READONLY') ? 2 : false),
    // No auto-pipelining: it holds a command issued while the previous batch waits for its answer until
    // that answer arrives, so a latency of L on the way to Redis cost up to 2 L per command (test:
    // kv-latency-no-hold-back). What it buys in throughput on loopback is in docs/redis.md.
    enableAutoPipelining: false,
  };
  const redis =
    config.mode === 'sentinel'
      ? new Redis({
          ...common,
          sentinels: config.sentinels,
          name: config.masterName,
          sentinelPassword: config.sentinelPassword,
          sentinelRetryStrategy: retryStrategy,
          // Without it a Sentinel that accepts the connection but never answers (frozen, partitioned) stalls
          // every reconnection for good: the query asking it for the master has no timer.
          sentinelCommandTimeout: timeoutMs,
          // ioredis' failoverDetector could end the connection for good; failover-watch.ts replaces it.
          failoverDetector: false,
        })
      : new Redis({ ...common, host: config.address.host, port: config.address.port });
  const watch: FailoverWatch | undefined =
    config.mode === 'sentinel'
      ? watchFailovers(
          redis,
          {
            sentinels: config.sentinels,
            masterName: config.masterName,
            sentinelPassword: config.sentinelPassword,
            timeoutMs: Math.max(timeoutMs, 1000),
          },
          logger,
        )
      : undefined;

  // The handshake ioredis sends on each new connection (AUTH, INFO as the ready check) has no timer of its own: a
  // server that accepts the connection but never answers (frozen, or a dead master's address still answered by the
  // kernel) would hold the client in `connect` for good. Start over when it is not ready within the connect timeout.
  let handshake: NodeJS.Timeout | undefined;
  redis.on('connect', () => {
    clearTimeout(handshake);
    handshake = setTimeout(() => {
      if (redis.status !== 'connect') return;
      logger.warn(
        { redis: config.mode, timeoutMs: common.connectTimeout },
        'Redis handshake got no answer; reconnecting',
      );
      redis.disconnect(true);
    }, common.connectTimeout);
  });
  redis.on('ready', () => clearTimeout(handshake));
  redis.on('close', () => clearTimeout(handshake));

  // ioredis emits an error per failed reconnect attempt; log transitions, not every attempt.
  let healthy = true;
  redis.on('error', (error: Error) => {
    if (healthy) logger.warn({ err: error, redis: config.mode }, 'Redis connection failed; reconnecting');
    healthy = false;
  });
  redis.on('ready', () => {
    if (!healthy) logger.info({ redis: config.mode }, 'Redis connection ready');
    healthy = true;
  });

  // ioredis stops reconnecting for good (status `end`) when a connection attempt is aborted; nothing but
  // close() may leave the store without a connection, so start over.
  let closing = false;
  let restart: NodeJS.Timeout | undefined;
  redis.on('end', () => {
    if (closing || restart !== undefined) return;
    logger.warn({ redis: config.mode }, 'Redis client gave up reconnecting; starting over');
    restart = setTimeout(() => {
      restart = undefined;
      if (!closing && redis.status === 'end') redis.connect().catch(() => undefined);
    }, retryStrategy(5));
  });

  /** Deletes `key` if it still holds `value` (values are unique per caller: an idempotency lock's token). */
  const undoIfOurs = async (key: string, value: string): Promise<void> => {
    try {
      if ((await bounded(redis.get(key))) === value) await bounded(redis.del(key));
    } catch (error) {
      logger.warn({ err: error, key }, 'could not undo a lock that landed after its caller gave up');
    }
  };

  /** `call` bounded by the store's deadline, counted from now. */
  const bounded = <T>(call: Promise<T>): Promise<T> => withTimeout(call, timeoutMs);

  return {
    kind: config.mode === 'sentinel' ? 'sentinel' : 'redis',
    incr: (key) => bounded(redis.incr(key)),
    get: (key) => bounded(redis.get(key)),
    async set(key, value, ttlMs) {
      await bounded(redis.set(key, value, 'PX', ttlMs));
    },
    async setIfAbsent(key, value, ttlMs) {
      const setting = redis.set(key, value, 'PX', ttlMs, 'NX');
      try {
        return (await bounded(setting)) === 'OK';
      } catch (error) {
        // The caller gave up, but ioredis still delivers the command when Redis answers again (a frozen
        // server, the offline queue, resent commands): a SET NX landing then would hold the key for ttlMs
        // with nobody left to release it. Undo it when it lands, if the key still holds our value.
        setting.then(
          (answer) => (answer === 'OK' ? undoIfOurs(key, value) : undefined),
          () => undefined,
        );
        throw error;
      }
    },
    async del(key) {
      return (await bounded(redis.del(key))) > 0;
    },
    async ping(pingTimeoutMs) {
      await withTimeout(redis.ping(), pingTimeoutMs);
    },
    async close() {
      closing = true;
      clearTimeout(restart);
      clearTimeout(handshake);
      watch?.close();
      // QUIT lets pending commands finish; disconnect() then ends a connection attempt still in progress.
      await withTimeout(redis.quit(), 2000).catch(() => undefined);
      redis.disconnect();
    },
  };
}
