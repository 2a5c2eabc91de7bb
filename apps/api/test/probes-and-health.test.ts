/**
 * Probes: /livez and /readyz never depend on shared dependencies (a Redis outage must not restart or de-list
 * every pod); /readyz turns 503 while draining; /health reports each dependency and turns 503 degraded when
 * one is down. With Redis down, /hello answers 503 + Retry-After quickly instead of hanging, and recovers
 * when Redis is back. /openapi.json is generated from the route schemas.
 */
import assert from 'node:assert/strict';
import { after, it } from 'node:test';
import { waitFor } from '@lumen/testkit';
import { call, startApiStack } from './support/api.ts';

const { redis, api, close } = await startApiStack({ redis: true });
after(close);

it('reports healthy with every dependency up', async () => {
  assert.deepEqual((await call(api.url, 'GET', '/livez')).body, { status: 'alive' });
  assert.deepEqual((await call(api.url, 'GET', '/readyz')).body, { status: 'ready' });
  const health = await call(api.url, 'GET', '/health');
  assert.equal(health.status, 200);
  assert.equal(health.body.status, 'healthy');
  for (const name of ['redis', 'postgres_rw', 'postgres_ro']) {
    assert.equal(health.body.checks[name].status, 'up', name);
    assert.equal(typeof health.body.checks[name].latency_ms, 'number', name);
  }
  assert.equal(health.body.checks.redis.kind, 'redis');
  const hello = await call(api.url, 'GET', '/hello');
  assert.equal(hello.status, 200);
  assert.equal((await call(api.url, 'GET', '/hello')).body.counter, hello.body.counter + 1);
});

it('keeps liveness and readiness up, degrades /health and answers /hello 503 while Redis is down', async () => {
  await redis.master.stop();
  const started = Date.now();
  const hello = await call(api.url, 'GET', '/hello');
  assert.equal(hello.status, 503);
  assert.equal(hello.body.code, 'dependency_unavailable');
  assert.match(hello.headers.get('retry-after') ?? '', /^\d+$/);
  assert.ok(Date.now() - started < 5000, 'answered, not hung');

  const health = await call(api.url, 'GET', '/health');
  assert.equal(health.status, 503);
  assert.equal(health.body.status, 'degraded');
  assert.equal(health.body.checks.redis.status, 'down');
  assert.equal(health.body.checks.postgres_rw.status, 'up');
  assert.equal((await call(api.url, 'GET', '/livez')).status, 200);
  assert.equal((await call(api.url, 'GET', '/readyz')).status, 200);
  assert.equal((await call(api.url, 'POST', '/items', { body: { name: 'no redis needed' } })).status, 201);

  await redis.master.start();
  await waitFor('/hello to recover', async () => (await call(api.url, 'GET', '/hello')).status === 200, 10_000);
  assert.equal((await call(api.url, 'GET', '/health')).status, 200);
});

it('answers /readyz 503 while draining, and asks clients to close their connections', async () => {
  api.lifecycle.draining = true;
  try {
    const ready = await call(api.url, 'GET', '/readyz');
    assert.equal(ready.status, 503);
    assert.deepEqual(ready.body, { status: 'draining' });
    assert.equal(ready.headers.get('connection'), 'close');
    assert.equal((await call(api.url, 'GET', '/livez')).status, 200, 'a draining process is still alive');
  } finally {
    api.lifecycle.draining = false;
  }
  assert.equal((await call(api.url, 'GET', '/readyz')).status, 200);
});

it('generates /openapi.json from the route schemas', async () => {
  const doc = await call(api.url, 'GET', '/openapi.json');
  assert.equal(doc.status, 200);
  assert.equal(doc.body.openapi, '3.1.0');
  const paths = doc.body.paths;
  for (const path of ['/items', '/items/{id}', '/events', '/hello', '/health', '/livez', '/readyz']) {
    assert.ok(paths[path], `documents ${path}`);
  }
  assert.equal(paths['/openapi.json'], undefined);
  const create = paths['/items'].post;
  const body = create.requestBody.content['application/json'].schema;
  assert.equal(body.additionalProperties, false);
  assert.deepEqual(body.required, ['name']);
  assert.ok(create.responses['201'] && create.responses['413'] && create.responses['415']);
  const params = paths['/items/{id}'].get.parameters;
  assert.equal(params[0].name, 'id');
  assert.equal(params[0].in, 'path');
  const query = paths['/items'].get.parameters.map((p: { name: string }) => p.name).sort();
  assert.deepEqual(query, ['after', 'limit']);
});
