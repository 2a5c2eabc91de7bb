/**
 * Telemetry is safe when it is not configured or when its collector is down: the real entry (the `start` script's
 * command line, with the telemetry `--import`) serves normally, writes nothing on stderr, and its log lines carry
 * no trace ids when tracing is off. With an endpoint whose collector is unreachable, requests still succeed and the
 * failed exports are not reported on stderr or in the logs (spans are dropped, never retried into the request path).
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, it } from 'node:test';
import { startDatastores, waitFor } from '@lumen/testkit';
import { type EntryProcess, spawnEntry } from './support/entry.ts';

const { pg, redis, close } = await startDatastores({ redis: true });
const running: EntryProcess[] = [];
after(async () => {
  for (const p of running) {
    if (p.child.exitCode === null) p.child.kill('SIGTERM');
    await p.exited;
  }
  await close();
});

function start(extra: Record<string, string>): EntryProcess {
  const p = spawnEntry({
    PG_RW_DSN: pg.primary.dsn,
    REDIS_ADDR: redis.master.addr,
    REDIS_PASSWORD: redis.password,
    SHUTDOWN_DELAY_MS: '0',
    OTEL_BSP_SCHEDULE_DELAY: '50',
    ...extra,
  });
  running.push(p);
  return p;
}

async function traffic(url: string): Promise<void> {
  for (let i = 0; i < 20; i++) {
    const response = await fetch(`${url}/hello`, {
      headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
    });
    assert.equal(response.status, 200);
    await response.arrayBuffer();
  }
  const item = await fetch(`${url}/items`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': `off-${Date.now()}` },
    body: '{"name":"quiet"}',
  });
  assert.equal(item.status, 201);
}

it('without an OTLP endpoint: serves, no stderr output, no trace ids in logs', async () => {
  const p = start({});
  const { url } = await p.listening();
  await traffic(url);
  await waitFor('one log line per request', async () => p.logs.filter((l) => l.msg === 'request').length >= 21, 10_000);
  assert.equal(p.stderr(), '');
  assert.ok(
    p.logs.filter((l) => l.msg === 'request').every((l) => l.trace_id === undefined && l.span_id === undefined),
    'no trace ids without tracing',
  );
});

it('with an unreachable collector: requests succeed, nothing is reported on stderr or in the logs', async () => {
  // A port that was free a moment ago: connection refused for every export.
  const port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
  const p = start({ OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}` });
  const { url } = await p.listening();
  await traffic(url);
  // Several export intervals pass with the collector down.
  await new Promise((r) => setTimeout(r, 500));
  await traffic(url);
  const lines = () => p.logs.filter((l) => l.msg === 'request');
  await waitFor('every request log line', async () => lines().length >= 42, 10_000);
  assert.equal(p.stderr(), '');
  assert.ok(
    lines().every((l) => l.trace_id === '0af7651916cd43dd8448eb211c80319c' || l.url !== '/hello'),
    'the caller trace is continued in logs even with export failing',
  );
  assert.equal(p.logs.filter((l) => Number(l.level) >= 40).length, 0, 'no warnings or errors logged');
});
