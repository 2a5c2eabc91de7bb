/**
 * What a drill runs against: real PostgreSQL (primary + streaming replica) and Redis (standalone, or a master,
 * a replica and three Sentinels) from the harness, lumen-api instances as real processes (`node src/main.ts`,
 * as the container runs it), and the round-robin balancer in front of them. For the latency drills a delay proxy
 * sits between the instances and Redis and between the instances and the primary, with no delay until a drill
 * sets one.
 */
import {
  type Datastores,
  type PgCluster,
  type RedisCluster,
  type StartRedisOptions,
  startDatastores,
} from '@lumen/testkit';
import { type Backend, type Balancer, startBalancer } from '@lumen/testkit/balancer';
import { type DelayProxy, startDelayProxy } from '@lumen/testkit/delay-proxy';
import { serverEnv } from '../test/support/api.ts';
import { type EntryProcess, spawnEntry } from '../test/support/entry.ts';

export interface StackOptions {
  /** `sentinel`: a master, a replica and three Sentinels, which the instances follow. Default `standalone`. */
  redis?: 'standalone' | 'sentinel';
  /** Delay proxies in front of Redis and the primary (standalone Redis only). Default false. */
  proxies?: boolean;
  /** Instances behind the balancer. Default 2. */
  instances?: number;
}

/** One lumen-api process behind the balancer. */
export interface Instance {
  readonly entry: EntryProcess;
  readonly backend: Backend;
  /** Set by the drill that SIGKILLs it, so the final check does not expect a clean exit. */
  killed: boolean;
}

export interface Stack {
  readonly pg: PgCluster;
  readonly redis: RedisCluster;
  readonly balancer: Balancer;
  readonly redisProxy: DelayProxy | undefined;
  readonly pgProxy: DelayProxy | undefined;
  /** Every instance started, in order, including those stopped since. */
  readonly instances: Instance[];
  /** Starts one more instance and waits until the balancer has it in rotation. */
  spawnInstance(): Promise<Instance>;
  /**
   * SIGTERMs every instance still running and closes everything.
   * @returns the exit code (or signal) of every instance, in start order.
   */
  close(): Promise<(number | string)[]>;
}

/** Readiness drain the instances use: the balancer probes every 100 ms, so 1 s takes an instance out with margin. */
export const SHUTDOWN_DELAY_MS = 1000;

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const redisOptions: StartRedisOptions = options.redis === 'sentinel' ? { sentinels: 3 } : {};
  const datastores: Datastores<RedisCluster> = await startDatastores({
    postgres: { replica: true },
    redis: redisOptions,
  });
  const { pg, redis } = datastores;
  const closers: (() => Promise<void>)[] = [() => datastores.close()];
  const instances: Instance[] = [];
  try {
    let env = serverEnv(pg, redis);
    let redisProxy: DelayProxy | undefined;
    let pgProxy: DelayProxy | undefined;
    if (options.proxies) {
      if (options.redis === 'sentinel') throw new Error('drills: delay proxies need standalone Redis');
      redisProxy = await startDelayProxy({ host: redis.master.host, port: redis.master.port });
      pgProxy = await startDelayProxy({ host: pg.primary.host, port: pg.primary.port });
      closers.unshift(redisProxy.close, pgProxy.close);
      const viaProxy = new URL(pg.primary.dsn);
      viaProxy.port = String(pgProxy.port);
      env = { ...env, REDIS_ADDR: `${redisProxy.host}:${redisProxy.port}`, PG_RW_DSN: viaProxy.toString() };
    }
    const balancer = await startBalancer([]);
    closers.unshift(balancer.close);

    const spawnInstance = async (): Promise<Instance> => {
      const entry = spawnEntry({
        ...env,
        SHUTDOWN_DELAY_MS: String(SHUTDOWN_DELAY_MS),
        SHUTDOWN_TIMEOUT_MS: '10000',
        LOG_LEVEL: 'info',
      });
      const instance: Instance = { entry, backend: { host: '127.0.0.1', port: 0 }, killed: false };
      instances.push(instance);
      const { url } = await entry.listening();
      const backend = { host: '127.0.0.1', port: Number(new URL(url).port) };
      Object.assign(instance, { backend });
      balancer.add(backend);
      await balancer.inRotation(backend);
      return instance;
    };
    for (let i = 0; i < (options.instances ?? 2); i++) await spawnInstance();

    return {
      pg,
      redis,
      balancer,
      redisProxy,
      pgProxy,
      instances,
      spawnInstance,
      async close() {
        for (const instance of instances) {
          if (instance.entry.child.exitCode === null && instance.entry.child.signalCode === null)
            instance.entry.child.kill('SIGTERM');
        }
        // Bounded: an instance that does not finish its drain in time is killed, and its code says so.
        const killer = setTimeout(() => {
          for (const instance of instances) instance.entry.child.kill('SIGKILL');
        }, 20_000);
        const codes = await Promise.all(instances.map((i) => i.entry.exited));
        clearTimeout(killer);
        for (const close of closers) await close();
        return codes;
      },
    };
  } catch (error) {
    for (const instance of instances) instance.entry.child.kill('SIGKILL');
    for (const close of closers) await close().catch(() => undefined);
    throw error;
  }
}
