/**
 * SIGTERM during a steady load of concurrent requests (the real entry against real PostgreSQL and Redis):
 * /readyz turns 503 first while requests keep being served during SHUTDOWN_DELAY_MS, then the listener
 * closes; every request the server accepted completes successfully, and the process exits 0.
 * A request counts as "not accepted" only when its connection failed while connecting: refused once the
 * listener is closed, or reset when it sat in the kernel's accept backlog as the listener closed (the
 * request was never sent, so a load balancer retries it on another pod).
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { type PgCluster, type RedisCluster, startPostgres, startRedis, withClient } from '@lumen/testkit';
import { type EntryProcess, spawnEntry } from './support/entry.ts';

let pg: PgCluster;
let redis: RedisCluster;
let entry: EntryProcess | undefined;

before(async () => {
  [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
});
after(async () => {
  if (entry && entry.child.exitCode === null) entry.child.kill('SIGKILL');
  await Promise.all([redis?.close(), pg?.close()]);
});

function refused(error: unknown): boolean {
  const cause = (error as { cause?: { code?: string; syscall?: string } }).cause;
  return cause?.code === 'ECONNREFUSED' || (cause?.code === 'ECONNRESET' && cause.syscall === 'connect');
}

it('drains: readiness 503 first, every accepted request succeeds, exit 0', async (t) => {
  entry = spawnEntry({
    PG_RW_DSN: pg.primary.dsn,
    REDIS_ADDR: redis.master.addr,
    REDIS_PASSWORD: redis.password,
    SHUTDOWN_DELAY_MS: '1500',
    SHUTDOWN_TIMEOUT_MS: '10000',
    LOG_LEVEL: 'info',
  });
  const { url } = await entry.listening();
  const running = entry;

  const failures: string[] = [];
  let ok = 0;
  let created = 0;
  let okAfterNotReady = 0;
  let notReadyAt: number | undefined;
  let firstRefusedAt: number | undefined;

  // 12 workers in a closed loop over reads and writes, until their connection is refused.
  const worker = async (n: number) => {
    for (let i = 0; ; i++) {
      const kind = (n + i) % 3;
      const started = Date.now();
      try {
        const response =
          kind === 0
            ? await fetch(`${url}/hello`)
            : kind === 1
              ? await fetch(`${url}/items`, {
                  method: 'POST',
                  headers: { 'content-type': 'application/json' },
                  body: JSON.stringify({ name: `load ${n}-${i}` }),
                })
              : await fetch(`${url}/items?limit=5`);
        await response.arrayBuffer();
        if (response.status >= 200 && response.status < 300) {
          ok++;
          if (kind === 1) created++;
          if (notReadyAt !== undefined && started > notReadyAt) okAfterNotReady++;
        } else {
          failures.push(`${response.status} on request kind ${kind}`);
        }
      } catch (error) {
        if (refused(error)) {
          firstRefusedAt ??= Date.now();
          return;
        }
        failures.push(`${(error as Error).message}: ${(error as { cause?: Error }).cause?.message}`);
      }
    }
  };
  // A probe like the kubelet's: /readyz every 100 ms.
  const prober = (async () => {
    for (;;) {
      try {
        const response = await fetch(`${url}/readyz`);
        await response.arrayBuffer();
        if (response.status === 503) {
          notReadyAt ??= Date.now();
        } else {
          assert.equal(response.status, 200);
        }
      } catch (error) {
        if (refused(error)) return;
        throw error;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();

  const workers = Array.from({ length: 12 }, (_, n) => worker(n));
  await new Promise((r) => setTimeout(r, 1000));
  const okBeforeSignal = ok;
  running.child.kill('SIGTERM');
  const code = await running.exited;
  await Promise.all([...workers, prober]);

  t.diagnostic(`${ok} requests succeeded (${okBeforeSignal} before SIGTERM, ${okAfterNotReady} after readiness 503)`);
  assert.deepEqual(failures, [], 'no accepted request failed');
  assert.equal(code, 0, running.stderr());
  assert.ok(okBeforeSignal > 50, 'there was steady load before the signal');
  assert.ok(notReadyAt !== undefined, '/readyz answered 503 while draining');
  assert.ok(firstRefusedAt !== undefined && notReadyAt < firstRefusedAt, 'readiness turned 503 before the listener closed');
  assert.ok(okAfterNotReady > 0, 'requests were still served during the shutdown delay');

  const rows = await withClient(pg.primary.dsn, async (c) => (await c.query('SELECT count(*)::int AS n FROM items')).rows[0]);
  assert.equal(rows?.n, created, 'every acknowledged write is in the database, and only those');
  const messages = running.logs.map((l) => l.msg);
  for (const step of ['shutdown requested', 'closing listeners; finishing in-flight requests', 'shutdown complete']) {
    assert.ok(messages.includes(step), `logged "${step}"`);
  }
});
