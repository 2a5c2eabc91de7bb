/**
 * `/metrics` on the admin app after known traffic against real PostgreSQL (primary + replica) and Redis: the names
 * and label sets docs/telemetry.md fixes (`route`, never `endpoint`), exact counts — replays and 409s counted under their
 * route —, `lumen_events_total{type}`, `lumen_idempotency_total{outcome}`, the dependency gauges, and Node's
 * default process metrics.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, it } from 'node:test';
import { Redis } from 'ioredis';
import pino from 'pino';
import { buildAdminApp } from '../src/app.ts';
import { call, startApiStack } from './support/api.ts';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const { redis, api, close } = await startApiStack({ postgres: { replica: true }, redis: true });
const admin = await buildAdminApp({ logger: pino({ level: 'silent' }) });
after(async () => {
  await admin.close();
  await close();
});

async function scrape(): Promise<{ text: string; samples: Sample[] }> {
  const response = await admin.inject('/metrics');
  assert.equal(response.statusCode, 200);
  const samples: Sample[] = [];
  for (const line of response.body.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g))
      labels[pair[1] as string] = pair[2] as string;
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) });
  }
  return { text: response.body, samples };
}

/** Sum of the samples of `name` whose labels include `labels`. */
function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

it('counts requests by method, route and status code, with replays, 409s and idempotency outcomes', async () => {
  const before = (await scrape()).samples;
  const delta = (after: Sample[], name: string, labels: Record<string, string> = {}) =>
    value(after, name, labels) - value(before, name, labels);

  // Known traffic.
  for (let i = 0; i < 3; i++) assert.equal((await call(api.url, 'GET', '/hello')).status, 200);
  const headers = { 'idempotency-key': `metrics-${process.pid}` };
  const body = JSON.stringify({ name: 'counted' });
  assert.equal((await call(api.url, 'POST', '/items', { body, headers })).status, 201);
  assert.equal((await call(api.url, 'POST', '/items', { body, headers })).status, 201);
  assert.equal((await call(api.url, 'POST', '/items', { body, headers })).status, 201);
  assert.equal((await call(api.url, 'POST', '/items', { body: { name: 'other' }, headers })).status, 422);
  assert.equal(
    (await call(api.url, 'POST', '/items', { body, headers: { 'idempotency-key': 'bad key' } })).status,
    400,
  );
  // A request "still in flight": the pending record a first request holds while it runs.
  const pendingKey = `pending-${process.pid}`;
  const fingerprint = `POST /items ${createHash('sha256').update(body).digest('hex')}`;
  const client = new Redis({ host: redis.master.host, port: redis.master.port, password: redis.password });
  try {
    await client.set(
      `idem:${pendingKey}`,
      JSON.stringify({ v: 1, state: 'pending', fingerprint, token: 'test' }),
      'PX',
      60_000,
    );
  } finally {
    client.disconnect();
  }
  const conflict = await call(api.url, 'POST', '/items', { body, headers: { 'idempotency-key': pendingKey } });
  assert.equal(conflict.status, 409);
  const created = await call(api.url, 'POST', '/items', { body: { name: 'unkeyed' } });
  assert.equal((await call(api.url, 'DELETE', `/items/${created.body.id}`)).status, 204);
  assert.equal((await call(api.url, 'GET', '/no/such/route')).status, 404);

  const { text, samples } = await scrape();

  // Names and label sets exactly as docs/telemetry.md names them.
  for (const name of ['http_requests_total', 'http_request_duration_seconds_count']) {
    const keys = new Set(samples.filter((s) => s.name === name).map((s) => Object.keys(s.labels).sort().join(',')));
    assert.deepEqual([...keys], ['method,route,status_code'], `${name} label set`);
  }
  assert.doesNotMatch(text, /endpoint="/, 'no endpoint label anywhere');
  const buckets = samples.filter((s) => s.name === 'http_request_duration_seconds_bucket');
  assert.ok(buckets.every((s) => 'le' in s.labels && 'route' in s.labels));

  const requests = (method: string, route: string, status: string) =>
    delta(samples, 'http_requests_total', { method, route, status_code: status });
  assert.equal(requests('GET', '/hello', '200'), 3);
  assert.equal(requests('POST', '/items', '201'), 4, 'executed + 2 replays + unkeyed, all under /items');
  assert.equal(requests('POST', '/items', '409'), 1, 'the conflict keeps its route');
  assert.equal(requests('POST', '/items', '422'), 1);
  assert.equal(requests('POST', '/items', '400'), 1);
  assert.equal(requests('DELETE', '/items/:id', '204'), 1, 'the route pattern, not the URL');
  assert.equal(requests('GET', 'unmatched', '404'), 1);
  assert.equal(
    delta(samples, 'http_request_duration_seconds_count', { method: 'POST', route: '/items', status_code: '201' }),
    4,
  );

  const outcome = (o: string) => delta(samples, 'lumen_idempotency_total', { outcome: o });
  assert.equal(outcome('stored'), 1);
  assert.equal(outcome('replayed'), 2);
  assert.equal(outcome('mismatch'), 1);
  assert.equal(outcome('invalid'), 1);
  assert.equal(outcome('conflict'), 1);
  assert.equal(outcome('unavailable'), 0);

  assert.equal(delta(samples, 'lumen_events_total', { type: 'ItemCreated' }), 2, 'replays append no event');
  assert.equal(delta(samples, 'lumen_events_total', { type: 'ItemDeleted' }), 1);

  for (const dependency of ['redis', 'postgres_rw', 'postgres_ro']) {
    assert.equal(value(samples, 'lumen_dependency_up', { dependency }), 1, `${dependency} up`);
  }
  assert.ok(
    samples.some((s) => s.name === 'lumen_pg_replica_lag_seconds'),
    'replica lag gauge',
  );
  for (const name of [
    'process_cpu_user_seconds_total',
    'process_resident_memory_bytes',
    'nodejs_eventloop_lag_seconds',
  ]) {
    assert.ok(
      samples.some((s) => s.name === name),
      `default metric ${name}`,
    );
  }
});

it('reports a stopped dependency as 0 at scrape time', async () => {
  await redis.master.stop();
  try {
    const { samples } = await scrape();
    assert.equal(value(samples, 'lumen_dependency_up', { dependency: 'redis' }), 0);
    assert.equal(value(samples, 'lumen_dependency_up', { dependency: 'postgres_rw' }), 1);
    const refused = await call(api.url, 'POST', '/items', {
      body: { name: 'x' },
      headers: { 'idempotency-key': `down-${process.pid}` },
    });
    assert.equal(refused.status, 503);
    assert.equal(value((await scrape()).samples, 'lumen_idempotency_total', { outcome: 'unavailable' }), 1);
  } finally {
    await redis.master.start();
  }
});
