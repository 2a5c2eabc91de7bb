/**
 * lumen-api under load, beside baselines measured in the same run on the same real PostgreSQL and Redis (from
 * @lumen/testkit), with autocannon in this process and each server in its own process (bench/server.ts):
 *
 * - GET /hello vs a bare node:http + ioredis server doing the same INCR        (goal ≥ 0.8×)
 * - keyed POST /items (a new Idempotency-Key per request) vs direct single-row INSERTs through pg at the same
 *   concurrency and pool size                                                  (goal ≥ 0.5×)
 * - floor: the same work as a keyed POST (hash, Redis lock, the one statement, Redis answer) on bare node:http +
 *   ioredis + pg, without validation, logging, metrics or error handling: how close to the insert baseline any
 *   implementation of that work gets on this machine (bench/server.ts `bare-keyed`);
 * - knobs: ioredis enableAutoPipelining on, LOG_LEVEL=warn, pino's asynchronous destination, tracing on (OTLP export to a
 *   local sink; all requests and 10% sampled), unkeyed POST (the cost of idempotency itself), PG pool sizes.
 *
 * Scenarios are interleaved: every server of a group is started first, then each round runs every scenario once,
 * and the table shows the median round. On a shared machine the load of other processes drifts by tens of percent
 * within a minute; interleaving spreads that drift over all scenarios instead of favouring whichever ran in a quiet
 * moment. The ratio is the median over rounds of the scenario's req/s over its baseline's in the same round, so each
 * ratio compares two measurements taken seconds apart. `cpu µs/req` is the server process's user + system CPU per
 * answered request (from /proc), steadier than req/s when the machine is shared.
 * `BENCH_SECONDS` (default 2) per scenario and round, `BENCH_ROUNDS` (default 5), `BENCH_CONNECTIONS`
 * (default 32), `BENCH_GROUPS` (default `hello,post`: which groups run), `BENCH_KNOBS=0` (leaves the knob rows out),
 * `BENCH_AB_DIR` (the `apps/api` folder of another checkout, e.g. `git archive HEAD~1 apps/api | tar -x -C /tmp/old`
 * with `/tmp/old/node_modules` linked to this checkout's: adds its GET /hello, keyed and unkeyed POST rows to the same
 * interleaved run, for before/after comparisons). Numbers depend on the machine: compare ratios, not absolutes.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { startPostgres, startRedis } from '@lumen/testkit';
import pg from 'pg';

interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  failed: number;
  /** CPU time of the server process per answered request, µs (user + system; none for in-process scenarios). */
  cpuUs?: number;
}
interface AutocannonResult {
  requests: { total: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
}
type Autocannon = (options: Record<string, unknown>) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

interface Scenario {
  name: string;
  /** Name of the scenario this one is divided by. */
  baseline?: string;
  goal?: number;
  /** Server env and node flags; none for a scenario that runs in this process. */
  server?: { env: Record<string, string>; flags?: string[]; dir?: string };
  run(url: string, seconds: number): Promise<LoadResult>;
  url?: string;
  child?: ChildProcess;
  results: LoadResult[];
}

const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const apiDir = join(import.meta.dirname, '..');

const [pgCluster, redis] = await Promise.all([startPostgres(), startRedis()]);
// Tracing scenarios export to this sink, which discards: the cost measured is the app's, not a collector's.
const sink = createServer((req, res) => req.resume().on('end', () => res.writeHead(200).end('{}')));
await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
const otlp = { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(sink.address() as { port: number }).port}` };
const traced = ['--import', './src/telemetry.ts'];

const hello = (url: string, seconds: number) => load({ url: `${url}/hello` }, seconds);
const post = (keyed: boolean) => (url: string, seconds: number) =>
  load(
    {
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
    },
    seconds,
  );

const BARE = 'baseline: bare node:http + ioredis GET /hello';
const INSERT = 'baseline: pg single-row INSERT (pool 10)';
const scenario = (s: Omit<Scenario, 'results'>): Scenario => ({ ...s, results: [] });
/** The row of lumen-api from the `BENCH_AB_DIR` checkout, when set: before/after in the same interleaved run. */
const ab = (what: string, baseline: string, run: Scenario['run']): Scenario[] =>
  process.env.BENCH_AB_DIR
    ? [
        scenario({
          name: `A/B: BENCH_AB_DIR ${what}`,
          baseline,
          server: { env: { BENCH_SERVER: 'api' }, dir: process.env.BENCH_AB_DIR },
          run,
        }),
      ]
    : [];
const allGroups: Record<string, Scenario[]> = {
  hello: [
    // Same ioredis options as lumen-api's kv/redis.ts (auto-pipelining off); the knob below shows it on.
    scenario({ name: BARE, server: { env: { BENCH_SERVER: 'bare' } }, run: hello }),
    scenario({
      name: 'knob: bare, enableAutoPipelining on',
      baseline: BARE,
      server: { env: { BENCH_SERVER: 'bare', BENCH_AUTO_PIPELINING: '1' } },
      run: hello,
    }),
    scenario({
      name: 'lumen-api GET /hello',
      baseline: BARE,
      goal: 0.8,
      server: { env: { BENCH_SERVER: 'api' } },
      run: hello,
    }),
    ...ab('GET /hello', BARE, hello),
    scenario({
      name: 'knob: GET /hello, LOG_LEVEL=warn',
      baseline: BARE,
      server: { env: { BENCH_SERVER: 'api', LOG_LEVEL: 'warn' } },
      run: hello,
    }),
    scenario({
      name: 'knob: GET /hello, async log writes per line',
      baseline: BARE,
      server: { env: { BENCH_SERVER: 'api', BENCH_LOG_ASYNC: '1' } },
      run: hello,
    }),
    scenario({
      name: 'knob: GET /hello, tracing on',
      baseline: BARE,
      server: { env: { BENCH_SERVER: 'api', ...otlp }, flags: traced },
      run: hello,
    }),
    scenario({
      name: 'knob: GET /hello, tracing on, 10% sampled',
      baseline: BARE,
      server: {
        env: {
          BENCH_SERVER: 'api',
          ...otlp,
          OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
          OTEL_TRACES_SAMPLER_ARG: '0.1',
        },
        flags: traced,
      },
      run: hello,
    }),
  ],
  post: [
    scenario({ name: INSERT, run: (_url, seconds) => inserts(10, seconds) }),
    scenario({
      name: 'lumen-api keyed POST /items',
      baseline: INSERT,
      goal: 0.5,
      server: { env: { BENCH_SERVER: 'api' } },
      run: post(true),
    }),
    ...ab('keyed POST /items', INSERT, post(true)),
    ...ab('unkeyed POST /items', INSERT, post(false)),
    scenario({
      name: 'floor: bare node:http keyed POST, same work',
      baseline: INSERT,
      server: { env: { BENCH_SERVER: 'bare-keyed' } },
      run: post(true),
    }),
    scenario({
      name: 'knob: unkeyed POST /items',
      baseline: INSERT,
      server: { env: { BENCH_SERVER: 'api' } },
      run: post(false),
    }),
    scenario({
      name: 'knob: keyed POST /items, PG pool 20',
      baseline: INSERT,
      server: { env: { BENCH_SERVER: 'api', BENCH_PG_POOL_MAX: '20' } },
      run: post(true),
    }),
    scenario({
      name: 'knob: keyed POST /items, PG pool 5',
      baseline: INSERT,
      server: { env: { BENCH_SERVER: 'api', BENCH_PG_POOL_MAX: '5' } },
      run: post(true),
    }),
  ],
};
const groups = (process.env.BENCH_GROUPS ?? 'hello,post').split(',').map((g) => {
  const group = allGroups[g.trim()];
  if (group === undefined) throw new Error(`BENCH_GROUPS: unknown group "${g}" (hello, post)`);
  return process.env.BENCH_KNOBS === '0' ? group.filter((s) => !s.name.startsWith('knob:')) : group;
});

try {
  for (const group of groups) {
    try {
      for (const s of group) if (s.server) await startServer(s);
      for (const s of group) await s.run(s.url ?? '', 1); // warm-up: JIT, pools, connections
      for (let round = 0; round < ROUNDS; round++) {
        for (const s of group) s.results.push(await measured(s));
      }
    } finally {
      await Promise.all(group.map((s) => (s.child ? stop(s.child) : undefined)));
    }
  }
} finally {
  sink.close();
  await Promise.all([pgCluster.close(), redis.close()]);
}
print(groups.flat());

async function startServer(s: Scenario): Promise<void> {
  const child = spawn(process.execPath, [...(s.server?.flags ?? []), 'bench/server.ts'], {
    cwd: s.server?.dir ?? apiDir,
    env: {
      PATH: process.env.PATH,
      PG_RW_DSN: pgCluster.primary.dsn,
      REDIS_ADDR: redis.master.addr,
      REDIS_PASSWORD: redis.password,
      LOG_LEVEL: 'info',
      ...s.server?.env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  s.child = child;
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`bench server for "${s.name}" exited with ${code}`)));
    child.stdout?.once('data', (chunk: Buffer) => resolve(JSON.parse(chunk.toString().split('\n')[0] ?? '').port));
  });
  s.url = `http://127.0.0.1:${port}`;
}

/** One round of `s`, with the CPU its server process spent on it. */
async function measured(s: Scenario): Promise<LoadResult> {
  const pid = s.child?.pid;
  const before = pid === undefined ? 0 : await cpuSeconds(pid);
  const result = await s.run(s.url ?? '', SECONDS);
  if (pid === undefined || result.rps === 0) return result;
  return { ...result, cpuUs: (((await cpuSeconds(pid)) - before) * 1e6) / (result.rps * SECONDS) };
}

/** User + system CPU seconds of a process so far, from /proc (clock ticks of 10 ms: USER_HZ is 100 on Linux). */
async function cpuSeconds(pid: number): Promise<number> {
  // Fields after the command name, which is in parentheses and may contain spaces: utime and stime are the 12th and 13th.
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function load(options: Record<string, unknown>, seconds: number): Promise<LoadResult> {
  const r = await autocannon({ ...options, connections: CONNECTIONS, duration: seconds });
  return { rps: r.requests.total / seconds, p50: r.latency.p50, p99: r.latency.p99, failed: r.non2xx + r.errors };
}

/** CONNECTIONS loops each doing one INSERT after another through a pool of `max`, for `seconds`. */
async function inserts(max: number, seconds: number): Promise<LoadResult> {
  const pool = new pg.Pool({ connectionString: pgCluster.primary.dsn, max });
  try {
    const latencies: number[] = [];
    let failed = 0;
    const until = performance.now() + seconds * 1000;
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        while (performance.now() < until) {
          const started = performance.now();
          try {
            await pool.query('INSERT INTO items (name) VALUES ($1) RETURNING id, name, created_at', ['bench row']);
            latencies.push(performance.now() - started);
          } catch {
            failed++;
          }
        }
      }),
    );
    latencies.sort((a, b) => a - b);
    const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
    return { rps: latencies.length / seconds, p50: at(0.5), p99: at(0.99), failed };
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

function medianOf(values: number[]): number | undefined {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
}

/** The round with the median req/s of a scenario. */
function median(s: Scenario): LoadResult {
  const sorted = [...s.results].sort((a, b) => a.rps - b.rps);
  return sorted[Math.floor(sorted.length / 2)] as LoadResult;
}

function print(scenarios: Scenario[]): void {
  const num = (x: number, d = 0) => x.toFixed(d).padStart(9);
  console.log(
    `lumen-api bench: ${CONNECTIONS} connections, median of ${ROUNDS} interleaved rounds of ${SECONDS} s ` +
      '(ratio: median of the per-round ratios to the baseline), ' +
      'PostgreSQL 15 + Redis 7 on loopback\n',
  );
  console.log(`${'scenario'.padEnd(46)}    req/s   p50 ms   p99 ms  cpu µs/req   failed  ratio   (rounds: req/s)`);
  for (const s of scenarios) {
    const m = median(s);
    const base = scenarios.find((b) => b.name === s.baseline);
    // Paired: each round's req/s over its baseline's in the same round (seconds apart), then the median of those.
    const ratio =
      base === undefined
        ? ''
        : (medianOf(s.results.map((r, i) => r.rps / (base.results[i]?.rps ?? Number.NaN))) ?? Number.NaN).toFixed(2);
    const goal = s.goal === undefined ? '' : ` goal ≥ ${s.goal}: ${Number(ratio) >= s.goal ? 'met' : 'MISSED'}`;
    const failed = s.results.reduce((n, r) => n + r.failed, 0);
    const rounds = s.results.map((r) => Math.round(r.rps)).join(' ');
    const cpu = medianOf(s.results.flatMap((r) => (r.cpuUs === undefined ? [] : [r.cpuUs])));
    console.log(
      `${s.name.padEnd(46)}${num(m.rps)}${num(m.p50, 1)}${num(m.p99, 1)}${(cpu === undefined ? '' : cpu.toFixed(1)).padStart(12)}${String(failed).padStart(9)}  ${ratio.padEnd(6)}  (${rounds})${goal}`,
    );
  }
}
