/**
 * SIGTERM during a steady load of concurrent requests (the real entry against real PostgreSQL and Redis):
 *  - /readyz turns 503 first, while requests keep being served for SHUTDOWN_DELAY_MS;
 *  - the load behaves like a load balancer: it stops opening requests shortly after readiness turned 503;
 *  - a request still in flight when the listener closes (its body is still being uploaded) completes;
 *  - every accepted request succeeds, every acknowledged write is stored, and the process exits 0.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, it } from 'node:test';
import { startDatastores, waitFor, withClient } from '@lumen/testkit';
import { type EntryProcess, spawnEntry } from './support/entry.ts';

const { pg, redis, close } = await startDatastores({ redis: true });
let entry: EntryProcess | undefined;
after(async () => {
  if (entry && entry.child.exitCode === null) entry.child.kill('SIGKILL');
  await close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts `POST /items` but sends only half of its body; `finish()` sends the rest and resolves the answer. */
function halfSentPost(url: string, name: string) {
  let resolveAnswer: (value: { status: number; body: string }) => void;
  let rejectAnswer: (error: Error) => void;
  const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
    resolveAnswer = resolve;
    rejectAnswer = reject;
  });
  const req = request(`${url}/items`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
    let body = '';
    res.on('data', (chunk) => {
      body += chunk;
    });
    res.on('end', () => resolveAnswer({ status: res.statusCode ?? 0, body }));
  });
  req.on('error', (error) => rejectAnswer(error));
  const json = JSON.stringify({ name });
  req.write(json.slice(0, 5));
  req.flushHeaders();
  return {
    finish() {
      req.end(json.slice(5));
      return answer;
    },
  };
}

it('drains: readiness 503 first, every accepted request succeeds, in-flight requests finish, exit 0', async (t) => {
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
  let signalledAt: number | undefined;
  // The load balancer takes the pod out of rotation this long after it saw readiness fail.
  const deregistrationMs = 300;
  const inRotation = () => notReadyAt === undefined || Date.now() < notReadyAt + deregistrationMs;

  // 12 workers in a closed loop over reads and writes, while the pod is in rotation.
  const worker = async (n: number) => {
    for (let i = 0; inRotation(); i++) {
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
        failures.push(`${(error as Error).message}: ${(error as { cause?: Error }).cause?.message}`);
      }
    }
  };
  // A probe like the kubelet's: /readyz every 100 ms until the listener is gone.
  const prober = (async () => {
    for (;;) {
      try {
        const response = await fetch(`${url}/readyz`);
        await response.arrayBuffer();
        if (response.status === 503) notReadyAt ??= Date.now();
        else assert.equal(response.status, 200);
      } catch (error) {
        // Once the listener closes, a probe is refused (or reset if it sat in the accept backlog): a failed
        // probe, as the kubelet would record it. Before the signal, nothing may fail.
        if (signalledAt !== undefined) return;
        throw error;
      }
      await sleep(100);
    }
  })();

  const workers = Array.from({ length: 12 }, (_, n) => worker(n));
  await sleep(1000);
  const okBeforeSignal = ok;
  const inFlight = halfSentPost(url, 'in flight across the close');
  await sleep(50);
  signalledAt = Date.now();
  running.child.kill('SIGTERM');

  await waitFor('the listener to close', async () =>
    running.logs.some((l) => l.msg === 'closing listeners; finishing in-flight requests'),
  );
  await waitFor('new connections to be refused', () =>
    fetch(`${url}/livez`).then(
      () => false,
      (error) => error.cause?.code === 'ECONNREFUSED',
    ),
  );
  const slow = await inFlight.finish();
  const code = await running.exited;
  await Promise.all([...workers, prober]);

  t.diagnostic(`${ok} requests succeeded (${okBeforeSignal} before SIGTERM, ${okAfterNotReady} after readiness 503)`);
  assert.deepEqual(failures, [], 'no accepted request failed');
  assert.equal(slow.status, 201, `the request in flight when the listener closed completed: ${slow.body}`);
  assert.equal(code, 0, running.stderr());
  assert.ok(okBeforeSignal > 50, 'there was steady load before the signal');
  assert.ok(notReadyAt !== undefined, '/readyz answered 503 while draining');
  assert.ok(okAfterNotReady > 0, 'requests were still served after readiness turned 503');

  const rows = await withClient(
    pg.primary.dsn,
    async (c) => (await c.query('SELECT count(*)::int AS n FROM items')).rows[0],
  );
  assert.equal(rows?.n, created + 1, 'every acknowledged write is in the database, and only those');
  const messages = running.logs.map((l) => l.msg);
  const order = ['shutdown requested', 'closing listeners; finishing in-flight requests', 'shutdown complete'];
  assert.deepEqual(
    messages.filter((m) => order.includes(m as string)),
    order,
  );
});
