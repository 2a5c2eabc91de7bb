/**
 * lumen-api under load, beside baselines measured in the same run on the same real PostgreSQL and Redis (from
 * @lumen/testkit), with autocannon in this process and each server in its own process (bench/server.ts):
 *
 * - GET /hello vs a bare node:http + ioredis server doing the same INCR        (goal ≥ 0.8×)
 * - keyed POST /items (a new Idempotency-Key per request) vs direct single-row INSERTs through pg at the same
 *   concurrency and pool size                                                  (goal ≥ 0.5×)
 * - knobs: ioredis enableAutoPipelining (on the bare server), PG pool size, log level, tracing on (OTLP export to
 *   a local sink), unkeyed POST (the cost of idempotency itself).
 *
 * Prints req/s, p50 and p99 latency and the ratios. `BENCH_SECONDS` (default 5) per scenario, `BENCH_CONNECTIONS`
 * (default 32). Numbers depend on the machine: compare ratios, not absolutes.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { startPostgres, startRedis } from '@lumen/testkit';
import pg from 'pg';

interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}
interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  duration: number;
  non2xx: number;
  errors: number;
}
type Autocannon = (options: Record<string, unknown>) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const apiDir = join(import.meta.dirname, '..');

const [pgCluster, redis] = await Promise.all([startPostgres(), startRedis()]);
const env = {
  PATH: process.env.PATH,
  PG_RW_DSN: pgCluster.primary.dsn,
  REDIS_ADDR: redis.master.addr,
  REDIS_PASSWORD: redis.password,
  LOG_LEVEL: 'info',
};
const rows: { name: string; result: LoadResult; baseline?: string; goal?: number }[] = [];

try {
  const server = async (extra: Record<string, string>, fn: (url: string) => Promise<void>, flags: string[] = []) => {
    const child = spawn(process.execPath, [...flags, 'bench/server.ts'], {
      cwd: apiDir,
      env: { ...env, ...extra },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const port = await new Promise<number>((resolve, reject) => {
        child.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
        child.stdout?.once('data', (chunk: Buffer) => resolve(JSON.parse(chunk.toString().split('\n')[0] ?? '').port));
      });
      await fn(`http://127.0.0.1:${port}`);
    } finally {
      await stop(child);
    }
  };

  const hello = (url: string) => load({ url: `${url}/hello` });
  const post = (url: string, keyed: boolean) =>
    load({
      url: `${url}/items`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'bench item' }),
      ...(keyed && {
        requests: [
          {
            setupRequest: (request: { headers: Record<string, string> }) => {
              request.headers = { ...request.headers, 'idempotency-key': randomUUID() };
              return request;
            },
          },
        ],
      }),
    });

  // The baseline uses the ioredis options lumen-api uses (auto-pipelining on, kv/redis.ts); the knob shows it off.
  await server({ BENCH_SERVER: 'bare', BENCH_AUTO_PIPELINING: '1' }, async (url) => {
    rows.push({ name: 'baseline: bare node:http + ioredis GET /hello', result: await hello(url) });
  });
  await server({ BENCH_SERVER: 'bare' }, async (url) => {
    rows.push({ name: 'knob: bare, enableAutoPipelining off', result: await hello(url), baseline: rows[0]?.name });
  });
  await server({ BENCH_SERVER: 'api' }, async (url) => {
    rows.push({ name: 'lumen-api GET /hello', result: await hello(url), baseline: rows[0]?.name, goal: 0.8 });
  });
  await server({ BENCH_SERVER: 'api', LOG_LEVEL: 'warn' }, async (url) => {
    rows.push({
      name: 'knob: lumen-api GET /hello, LOG_LEVEL=warn',
      result: await hello(url),
      baseline: rows[0]?.name,
    });
  });
  await server({ BENCH_SERVER: 'api', BENCH_LOG_SYNC: '1' }, async (url) => {
    rows.push({
      name: 'knob: lumen-api GET /hello, synchronous log writes',
      result: await hello(url),
      baseline: rows[0]?.name,
    });
  });
  // Tracing on, exporting to an OTLP/HTTP sink that discards (the cost of spans and export, not of a collector).
  const sink = createServer((req, res) => req.resume().on('end', () => res.writeHead(200).end('{}')));
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  const otlp = { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(sink.address() as { port: number }).port}` };
  await server(
    { BENCH_SERVER: 'api', ...otlp },
    async (url) => {
      rows.push({ name: 'knob: lumen-api GET /hello, tracing on', result: await hello(url), baseline: rows[0]?.name });
    },
    ['--import', './src/telemetry.ts'],
  );
  await server(
    { BENCH_SERVER: 'api', ...otlp, OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' },
    async (url) => {
      rows.push({
        name: 'knob: GET /hello, tracing on, 10% sampled',
        result: await hello(url),
        baseline: rows[0]?.name,
      });
    },
    ['--import', './src/telemetry.ts'],
  );
  sink.close();

  const insertName = 'baseline: pg single-row INSERT (pool 10)';
  rows.push({ name: insertName, result: await inserts(10) });
  await server({ BENCH_SERVER: 'api' }, async (url) => {
    rows.push({ name: 'lumen-api keyed POST /items', result: await post(url, true), baseline: insertName, goal: 0.5 });
    rows.push({ name: 'knob: lumen-api unkeyed POST /items', result: await post(url, false), baseline: insertName });
  });
  await server({ BENCH_SERVER: 'api', BENCH_PG_POOL_MAX: '20' }, async (url) => {
    rows.push({ name: 'knob: keyed POST /items, PG pool 20', result: await post(url, true), baseline: insertName });
  });
  await server({ BENCH_SERVER: 'api', BENCH_PG_POOL_MAX: '5' }, async (url) => {
    rows.push({ name: 'knob: keyed POST /items, PG pool 5', result: await post(url, true), baseline: insertName });
  });
} finally {
  await Promise.all([pgCluster.close(), redis.close()]);
}

print();

async function load(options: Record<string, unknown>): Promise<LoadResult> {
  await autocannon({ ...options, connections: CONNECTIONS, duration: 1 }); // warm-up: JIT, pools, connections
  const r = await autocannon({ ...options, connections: CONNECTIONS, duration: SECONDS });
  return {
    rps: r.requests.total / SECONDS,
    p50: r.latency.p50,
    p99: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors,
  };
}

/** CONNECTIONS loops each doing one INSERT after another through a pool of `max`, for SECONDS. */
async function inserts(max: number): Promise<LoadResult> {
  const pool = new pg.Pool({ connectionString: pgCluster.primary.dsn, max });
  try {
    const run = async (seconds: number) => {
      const latencies: number[] = [];
      let errors = 0;
      const until = performance.now() + seconds * 1000;
      await Promise.all(
        Array.from({ length: CONNECTIONS }, async () => {
          while (performance.now() < until) {
            const started = performance.now();
            try {
              await pool.query('INSERT INTO items (name) VALUES ($1) RETURNING id, name, created_at', ['bench row']);
              latencies.push(performance.now() - started);
            } catch {
              errors++;
            }
          }
        }),
      );
      latencies.sort((a, b) => a - b);
      const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
      return { rps: latencies.length / seconds, p50: at(0.5), p99: at(0.99), non2xx: 0, errors };
    };
    await run(1);
    return await run(SECONDS);
  } finally {
    await pool.end();
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

function print(): void {
  const pad = (s: string, n: number) => s.padEnd(n);
  const num = (x: number, d = 0) => x.toFixed(d).padStart(9);
  console.log(
    `lumen-api bench: ${CONNECTIONS} connections, ${SECONDS} s per scenario, PostgreSQL 15 + Redis 7 on loopback\n`,
  );
  console.log(`${pad('scenario', 46)}    req/s   p50 ms   p99 ms   non-2xx  ratio`);
  for (const row of rows) {
    const base = rows.find((r) => r.name === row.baseline);
    const ratio = base === undefined ? '' : (row.result.rps / base.result.rps).toFixed(2);
    const goal = row.goal === undefined ? '' : ` (goal ≥ ${row.goal}: ${Number(ratio) >= row.goal ? 'met' : 'MISSED'})`;
    const bad = row.result.non2xx + row.result.errors;
    console.log(
      `${pad(row.name, 46)}${num(row.result.rps)}${num(row.result.p50, 1)}${num(row.result.p99, 1)}${String(bad).padStart(10)}  ${ratio}${goal}`,
    );
  }
}
