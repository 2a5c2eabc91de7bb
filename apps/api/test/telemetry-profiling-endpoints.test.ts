/**
 * Profiling endpoints exist on the admin app only with LUMEN_PROFILING on: a CPU profile of N seconds through
 * node:inspector and a heap snapshot; without the flag both paths are 404 while /metrics still answers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { buildAdminApp } from '../src/app.ts';

const logger = pino({ level: 'silent' });

describe('LUMEN_PROFILING off (the default)', () => {
  let admin: FastifyInstance;
  before(async () => {
    admin = await buildAdminApp({ logger });
  });
  after(() => admin?.close());

  it('answers 404 on the profiling paths and still serves /metrics', async () => {
    assert.equal((await admin.inject('/debug/pprof/profile?seconds=1')).statusCode, 404);
    assert.equal((await admin.inject('/debug/pprof/heap')).statusCode, 404);
    assert.equal((await admin.inject('/metrics')).statusCode, 200);
  });
});

describe('LUMEN_PROFILING on', () => {
  let admin: FastifyInstance;
  let url: string;
  before(async () => {
    admin = await buildAdminApp({ logger, profiling: true });
    url = await admin.listen({ host: '127.0.0.1', port: 0 });
  });
  after(() => admin?.close());

  it('returns a V8 CPU profile covering the requested seconds', async () => {
    const busy = setInterval(() => JSON.stringify(Array.from({ length: 2000 }, (_, i) => ({ i }))), 5);
    try {
      const response = await fetch(`${url}/debug/pprof/profile?seconds=1`);
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-disposition') ?? '', /\.cpuprofile"/);
      const profile = (await response.json()) as { nodes: unknown[]; startTime: number; endTime: number };
      assert.ok(profile.nodes.length > 1, 'call tree nodes');
      const microseconds = profile.endTime - profile.startTime;
      assert.ok(microseconds >= 900_000, `profile spans about 1 s, got ${microseconds} µs`);
    } finally {
      clearInterval(busy);
    }
  });

  it('refuses a second profile while one runs (409) and bad durations (400)', async () => {
    const first = fetch(`${url}/debug/pprof/profile?seconds=1`);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal((await fetch(`${url}/debug/pprof/profile?seconds=1`)).status, 409);
    assert.equal((await first).status, 200);
    for (const seconds of ['0', '61', 'abc', '-1', '1.5']) {
      const response = await fetch(`${url}/debug/pprof/profile?seconds=${seconds}`);
      assert.equal(response.status, 400, `seconds=${seconds}`);
      assert.equal(response.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    }
  });

  it('streams a heap snapshot', async () => {
    const response = await fetch(`${url}/debug/pprof/heap`);
    assert.equal(response.status, 200);
    const snapshot = (await response.json()) as { snapshot: { node_count: number }; nodes: number[] };
    assert.ok(snapshot.snapshot.node_count > 1000);
    assert.ok(snapshot.nodes.length > 0);
  });
});
