/**
 * A server process for api.bench.ts, so the load generator and the server never share a core:
 * - `BENCH_SERVER=bare`: the baseline — node:http + ioredis answering GET /hello with INCR, nothing else;
 * - `BENCH_SERVER=bare-keyed`: the floor of keyed POST /items — its round trips on node:http + ioredis + pg, nothing else;
 * - `BENCH_SERVER=api`: lumen-api built exactly as main.ts builds it (same logger options, same dependencies),
 *   with the knobs the bench varies: `BENCH_PG_POOL_MAX`, `LOG_LEVEL` (logs go to /dev/null: the cost of
 *   serializing and writing them is measured, not a terminal's).
 * Prints `{"port":N}` on stdout once listening. Env: PG_RW_DSN, REDIS_ADDR, REDIS_PASSWORD,
 * BENCH_AUTO_PIPELINING=1 (bare only: ioredis enableAutoPipelining on; lumen-api's kv/redis.ts leaves it off),
 * BENCH_LOG_ASYNC=1 (api only: pino's asynchronous destination, a write per line; main.ts writes batches, logger.ts `batched`).
 */
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { Redis } from 'ioredis';
import pg from 'pg';
import pino from 'pino';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { CREATE_ITEM, ITEM_CONTENT_TYPE } from '../src/db/items.ts';
import { migrate } from '../src/db/migrate.ts';
import { createPgDatabase } from '../src/db/postgres.ts';
import { createReadRouter } from '../src/db/reads.ts';
import { createRedisStore } from '../src/kv/redis.ts';
import { createLifecycle } from '../src/lifecycle.ts';
import { batched, createLogger } from '../src/logger.ts';

const config = loadConfig(process.env);
const ready = (port: number) => process.stdout.write(`${JSON.stringify({ port })}\n`);

if (process.env.BENCH_SERVER === 'bare') {
  if (config.redis.mode !== 'standalone') throw new Error('bench: REDIS_ADDR required');
  const redis = new Redis({
    host: config.redis.address.host,
    port: config.redis.address.port,
    password: config.redis.password,
    enableAutoPipelining: process.env.BENCH_AUTO_PIPELINING === '1',
  });
  const server = createServer(async (req, res) => {
    if (req.url !== '/hello') {
      res.writeHead(404).end();
      return;
    }
    const counter = await redis.incr('hello_counter');
    const body = JSON.stringify({ message: 'hello from lumen-api', counter });
    res.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  });
  server.keepAliveTimeout = 95_000;
  server.listen(0, '127.0.0.1', () => ready((server.address() as { port: number }).port));
} else if (process.env.BENCH_SERVER === 'bare-keyed') {
  // The work of a keyed POST /items without lumen-api around it: read and hash the body, SET NX PX the key in Redis,
  // the same single statement (item, event, ledger row), SET PX the answer, respond. A floor, not a baseline: what
  // the same round trips cost on bare node:http + ioredis + pg, no validation, logging, metrics or error handling.
  if (config.redis.mode !== 'standalone' || config.postgres.mode !== 'server') throw new Error('bench: real servers');
  const redis = new Redis({
    host: config.redis.address.host,
    port: config.redis.address.port,
    password: config.redis.password,
    // As lumen-api's kv/redis.ts: no auto-pipelining.
    enableAutoPipelining: false,
  });
  const pool = new pg.Pool({ connectionString: config.postgres.rwDsn, max: 10 });
  await migrate(createPgDatabase({ ...config.postgres, max: 1 }, createLogger({ logLevel: 'warn' })).primary);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      const { name } = JSON.parse(body.toString()) as { name: string };
      const key = String(req.headers['idempotency-key']);
      const fingerprint = `POST ${req.url} ${createHash('sha256').update(body).digest('hex')}`;
      await redis.set(`idem:${key}`, JSON.stringify({ state: 'pending', fingerprint }), 'PX', 30_000, 'NX');
      const { rows } = await pool.query({
        name: 'create_item',
        text: CREATE_ITEM,
        values: [name, key, fingerprint, ITEM_CONTENT_TYPE],
      });
      const answer = (rows[0] as { id: string; body: string }).body;
      await redis.set(`idem:${key}`, JSON.stringify({ state: 'done', fingerprint, body: answer }), 'PX', 86_400_000);
      res.writeHead(201, {
        'content-type': ITEM_CONTENT_TYPE,
        'content-length': Buffer.byteLength(answer),
        location: `/items/${(rows[0] as { id: string }).id}`,
      });
      res.end(answer);
    });
  });
  server.keepAliveTimeout = 95_000;
  server.listen(0, '127.0.0.1', () => ready((server.address() as { port: number }).port));
} else {
  if (config.postgres.mode !== 'server' || config.redis.mode === 'memory') throw new Error('bench: real servers only');
  // main.ts's logger (redaction and trace fields are part of what is measured; docs/telemetry.md), writing to /dev/null.
  const logger = createLogger(
    config,
    process.env.BENCH_LOG_ASYNC === '1'
      ? pino.destination({ dest: '/dev/null', sync: false })
      : batched(pino.destination({ dest: '/dev/null', sync: true })),
  );

  const db = createPgDatabase({ ...config.postgres, max: Number(process.env.BENCH_PG_POOL_MAX ?? 10) }, logger);
  await migrate(db.primary);
  const deps = { db, reads: createReadRouter(db, logger), kv: createRedisStore(config.redis, logger) };
  const app = await buildApp({ deps, lifecycle: createLifecycle(), logger });
  await app.listen({ host: '127.0.0.1', port: 0 });
  ready((app.server.address() as { port: number }).port);
}
