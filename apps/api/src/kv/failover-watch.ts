/**
 * Follows Sentinel failovers for the store's Redis connection, in place of ioredis' `failoverDetector`.
 *
 * Why our own: ioredis' detector (6.0.0) had two defects, both reproduced by the failover tests (docs/redis.md):
 * - when `+switch-master` arrived while the connection was still asking the Sentinels for the master, it
 *   ended that attempt, and ioredis then gave up for good (status `end`): every command failed with
 *   "Connection is closed." until the process restarted;
 * - a detector started by a connection that completed after `disconnect()` was never cleaned up: its Sentinel
 *   subscribers reconnected every minute forever and kept the process alive (a test file that never exits).
 *
 * This watcher only drops a connection that is established (`connect`/`ready`) to another node than the
 * announced master; an attempt in progress asks the Sentinels anyway. Its subscribers belong to the store and
 * are closed with it.
 */
import { Redis } from 'ioredis';
import type { Logger } from 'pino';

/** Where a Sentinel can be reached. */
export interface SentinelAddress {
  host: string;
  port: number;
}

/** Options of {@link watchFailovers}. */
export interface FailoverWatchOptions {
  sentinels: SentinelAddress[];
  masterName: string;
  sentinelPassword: string | undefined;
  /** Connect timeout towards each Sentinel. */
  timeoutMs: number;
}

/** A running watcher; `close()` ends every subscription. */
export interface FailoverWatch {
  close(): void;
}

/** Resubscribe delay after a Sentinel connection drops: 200 ms, 400 ms, … capped at 2 s. */
const resubscribeDelay = (attempt: number): number => Math.min(attempt * 200, 2000);

/** Subscribes to `+switch-master` on every Sentinel and moves `redis` to the announced master. */
export function watchFailovers(redis: Redis, options: FailoverWatchOptions, logger: Logger): FailoverWatch {
  const subscribers = options.sentinels.map(({ host, port }) => {
    const subscriber = new Redis({
      host,
      port,
      password: options.sentinelPassword,
      connectTimeout: options.timeoutMs,
      retryStrategy: resubscribeDelay,
      // Only SUBSCRIBE is ever sent, and autoResubscribe repeats it after each reconnect.
      maxRetriesPerRequest: null,
    });
    // The store's own connection reports outages; a Sentinel that is down only costs its announcements.
    subscriber.on('error', () => undefined);
    subscriber.subscribe('+switch-master').catch(() => undefined);
    subscriber.on('message', (_channel: string, message: string) => {
      // `<master-name> <old-ip> <old-port> <new-ip> <new-port>`
      const [name, , , newHost, newPort] = message.split(' ');
      if (name !== options.masterName || newHost === undefined || newPort === undefined) return;
      follow(redis, newHost, Number(newPort), logger);
    });
    return subscriber;
  });
  return {
    close() {
      for (const subscriber of subscribers) subscriber.disconnect();
    },
  };
}

function follow(redis: Redis, host: string, port: number, logger: Logger): void {
  // Disconnecting an attempt that is still resolving the master would make ioredis give up; an attempt in
  // progress asks the Sentinels, who already name the new master.
  if (redis.status !== 'ready' && redis.status !== 'connect') return;
  const stream = redis.stream;
  // Every Sentinel announces the switch: only the first announcement (or a connection that went to the old
  // master) needs a reconnect.
  if (stream?.remoteAddress === host && stream.remotePort === port) return;
  logger.info({ master: `${host}:${port}` }, 'Sentinel switched the Redis master; reconnecting');
  redis.disconnect(true);
}
