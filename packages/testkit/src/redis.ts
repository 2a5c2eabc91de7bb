/**
 * Redis master (+ replica) (+ Sentinels) from the Debian `redis-server`, on free loopback ports.
 *
 * Sentinels watch the master with `down-after-milliseconds 1000` (how long a failover takes here is
 * in docs/testing.md). Sentinel rewrites its config file, so each one gets its own writable copy.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { type Daemon, instanceDir, removeInstanceDir, restartable, secret, startDaemon, waitFor } from './daemon.ts';
import { HarnessError } from './errors.ts';

const redisBin = process.env.LUMEN_REDIS_BIN ?? '/usr/bin/redis-server';

export interface StartRedisOptions {
  /** Start a replica of the master. Default: true when sentinels > 0, else false. */
  replica?: boolean;
  /** How many Sentinels (0, or at least 3 for a quorum of 2). Default 0. */
  sentinels?: number;
  /** Name of the monitored master. Default `mymaster`. */
  masterName?: string;
  /** Require a password on the data nodes. Default true (generated). */
  password?: boolean;
}

/** One redis-server process. */
export interface RedisNode {
  readonly kind: 'data' | 'sentinel';
  readonly host: string;
  readonly port: number;
  /** `host:port`. */
  readonly addr: string;
  /** PID of the running redis-server; undefined while it is not running. */
  readonly pid: number | undefined;
  running(): boolean;
  /** SIGSTOP: connections stay open and nothing answers (a hung server; Sentinel sees it down after 1 s). */
  freeze(): void;
  /** SIGCONT after {@link freeze}; does nothing once the process has exited. */
  thaw(): void;
  /** Starts it again on the same port after stop()/kill(). */
  start(): Promise<void>;
  /** SIGTERM: a clean shutdown. */
  stop(): Promise<void>;
  /** SIGKILL: a crash. */
  kill(): Promise<void>;
}

export interface RedisCluster {
  /** The node that was master at start (after a failover it may be a replica). */
  readonly master: RedisNode;
  /** The node that was replica at start, if any. */
  readonly replica: RedisNode | undefined;
  readonly sentinels: RedisNode[];
  readonly masterName: string;
  /** Password of the data nodes, or undefined. */
  readonly password: string | undefined;
  /** `host:port,host:port,…` of the Sentinels (REDIS_SENTINEL_ADDRS). */
  readonly sentinelAddrs: string;
  /** Asks a Sentinel which node is master now. */
  currentMaster(): Promise<{ host: string; port: number }>;
  /** Waits until the Sentinels name a master other than `previousPort`; resolves with it. */
  waitForFailover(previousPort: number, timeoutMs?: number): Promise<{ host: string; port: number }>;
  close(): Promise<void>;
}

/** Starts Redis: a master, optionally a replica and Sentinels. Call `close()` in `after()`. */
export async function startRedis(opts: StartRedisOptions = {}): Promise<RedisCluster> {
  if (!existsSync(redisBin))
    throw new HarnessError('HARNESS_MISSING', `${redisBin} not found (apt-get install redis-server)`);
  const sentinelCount = opts.sentinels ?? 0;
  if (sentinelCount > 0 && sentinelCount < 3) {
    throw new HarnessError('HARNESS_USAGE', 'Sentinel needs at least 3 instances for a quorum of 2');
  }
  const masterName = opts.masterName ?? 'mymaster';
  const password = opts.password === false ? undefined : secret();
  const dir = instanceDir('redis');
  const auth = password ? ['--requirepass', password, '--masterauth', password] : [];
  const common = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'];

  const master = dataNode('master', dir, (port) => [...common, ...auth, '--port', String(port)], password);
  await master.start();
  let replica: RedisNode | undefined;
  if (opts.replica ?? sentinelCount > 0) {
    replica = dataNode(
      'replica',
      dir,
      (port) => [...common, ...auth, '--port', String(port), '--replicaof', '127.0.0.1', String(master.port)],
      password,
    );
    await replica.start();
    const r = replica;
    await waitFor('redis replica to sync', async () => {
      const info = await command(r.port, password, (c) => c.info('replication'));
      return /master_link_status:up/.test(info);
    });
  }

  const sentinels: RedisNode[] = [];
  for (let i = 0; i < sentinelCount; i++) {
    const sdir = join(dir, `sentinel-${i}`);
    mkdirSync(sdir);
    const node = sentinelNode(i, sdir, dir, (port) =>
      [
        `port ${port}`,
        'bind 127.0.0.1',
        'protected-mode no',
        `dir ${sdir}`,
        `sentinel monitor ${masterName} 127.0.0.1 ${master.port} 2`,
        ...(password ? [`sentinel auth-pass ${masterName} ${password}`] : []),
        `sentinel down-after-milliseconds ${masterName} 1000`,
        `sentinel failover-timeout ${masterName} 5000`,
        `sentinel parallel-syncs ${masterName} 1`,
        '',
      ].join('\n'),
    );
    await node.start();
    sentinels.push(node);
  }
  // A failover needs every Sentinel to know the others (quorum) and the replica; they learn that
  // from hello messages every 2 s, so wait for it rather than let a test kill the master too early.
  for (const s of sentinels) {
    await waitFor(`sentinel ${s.addr} to see its peers and the replica`, async () =>
      command(s.port, undefined, async (c) => {
        const peers = (await c.call('SENTINEL', 'SENTINELS', masterName)) as unknown[];
        const replicas = (await c.call('SENTINEL', 'REPLICAS', masterName)) as unknown[];
        return peers.length === sentinelCount - 1 && replicas.length === (replica ? 1 : 0);
      }),
    );
  }

  const currentMaster = async () => {
    for (const s of sentinels.filter((n) => n.running())) {
      try {
        const [host, port] = (await command(s.port, undefined, (c) =>
          c.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', masterName),
        )) as [string, string];
        return { host, port: Number(port) };
      } catch {
        // try the next Sentinel
      }
    }
    if (sentinels.length === 0) return { host: master.host, port: master.port };
    throw new HarnessError('HARNESS_UNAVAILABLE', 'no Sentinel answered');
  };

  return {
    master,
    replica,
    sentinels,
    masterName,
    password,
    sentinelAddrs: sentinels.map((s) => s.addr).join(','),
    currentMaster,
    async waitForFailover(previousPort, timeoutMs = 15_000) {
      let found: { host: string; port: number } | undefined;
      await waitFor(
        'Sentinel failover',
        async () => {
          const now = await currentMaster();
          if (now.port === previousPort) return false;
          const role = await command(now.port, password, (c) => c.call('ROLE'));
          found = now;
          return Array.isArray(role) && role[0] === 'master';
        },
        timeoutMs,
      );
      return found as { host: string; port: number };
    },
    async close() {
      await Promise.all([...sentinels, replica, master].map((n) => n?.kill()));
      removeInstanceDir(dir);
    },
  };
}

/** Runs one command batch on a short-lived connection that never retries (an outage must surface, not hang). */
async function command<T>(port: number, password: string | undefined, fn: (c: Redis) => Promise<T>): Promise<T> {
  const client = new Redis({
    host: '127.0.0.1',
    port,
    ...(password ? { password } : {}),
    lazyConnect: true,
    connectTimeout: 1_000,
    commandTimeout: 2_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    return await fn(client);
  } finally {
    client.disconnect();
  }
}

function processNode(kind: 'data' | 'sentinel', launch: (port: number) => Promise<Daemon>): RedisNode {
  const server = restartable(launch);
  return {
    kind,
    host: '127.0.0.1',
    get port() {
      return server.port;
    },
    get addr() {
      return `127.0.0.1:${server.port}`;
    },
    get pid() {
      return server.pid;
    },
    running: server.running,
    freeze: server.freeze,
    thaw: server.thaw,
    start: server.start,
    stop: () => server.stop('SIGTERM'),
    kill: () => server.stop('SIGKILL'),
  };
}

function dataNode(
  name: string,
  dir: string,
  args: (port: number) => string[],
  password: string | undefined,
): RedisNode {
  return processNode('data', (port) =>
    startDaemon(
      { name: `redis ${name}`, bin: redisBin, args: [...args(port), '--dir', dir], dir, logName: `redis-${name}` },
      () => command(port, password, async (c) => (await c.ping()) === 'PONG'),
    ),
  );
}

function sentinelNode(i: number, sdir: string, dir: string, config: (port: number) => string): RedisNode {
  return processNode('sentinel', (port) => {
    const file = join(sdir, 'sentinel.conf');
    // Sentinel rewrites its file with what it learns; only write it on the first start.
    if (!existsSync(file)) writeFileSync(file, config(port));
    return startDaemon(
      { name: `redis sentinel ${i}`, bin: redisBin, args: [file, '--sentinel'], dir, logName: `sentinel-${i}` },
      () => command(port, undefined, async (c) => (await c.ping()) === 'PONG'),
    );
  });
}
