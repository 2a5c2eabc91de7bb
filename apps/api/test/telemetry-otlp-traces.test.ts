/**
 * Traces reach an OTLP/HTTP receiver (a real HTTP server in this test, JSON encoding) from the real entry
 * (`node --import ./src/telemetry.ts src/main.ts`, so the ESM instrumentation hook really loads), against real
 * PostgreSQL and Redis:
 * - an incoming W3C `traceparent` is continued: the server span is its child, in the caller's trace;
 * - the tree is server span → Fastify request → handler → Redis command / PostgreSQL queries;
 * - the request's JSON log line carries the same `trace_id`, and a `span_id` of that trace;
 * - a failing dependency call is recorded as an error on its span;
 * - no secret (database or Redis password) appears in any exported span.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { startDatastores, waitFor } from '@lumen/testkit';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: { key: string; value: Record<string, unknown> }[];
  status?: { code?: number; message?: string };
  events?: { name: string }[];
}

const SERVER = 2;
const ERROR = 2;

const { pg, redis, close } = await startDatastores({ redis: true });
let receiver: Server;
let api: ChildProcess | undefined;
const spans: OtlpSpan[] = [];
const bodies: string[] = [];
const logs: Record<string, unknown>[] = [];
let base = '';

before(async () => {
  receiver = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk) => {
      text += chunk;
    });
    req.on('end', () => {
      bodies.push(text);
      if (req.url === '/v1/traces') {
        const payload = JSON.parse(text) as {
          resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[];
        };
        for (const rs of payload.resourceSpans) for (const ss of rs.scopeSpans) spans.push(...ss.spans);
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const otlpPort = (receiver.address() as { port: number }).port;

  const apiDir = join(import.meta.dirname, '..');
  api = spawn(process.execPath, ['--import', './src/telemetry.ts', 'src/main.ts'], {
    cwd: apiDir,
    env: {
      PATH: process.env.PATH,
      HOST: '127.0.0.1',
      PORT: '0',
      ADMIN_PORT: '0',
      PG_RW_DSN: pg.primary.dsn,
      REDIS_ADDR: redis.master.addr,
      REDIS_PASSWORD: redis.password,
      LOG_LEVEL: 'info',
      SHUTDOWN_DELAY_MS: '0',
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${otlpPort}`,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '100',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  api.stderr?.on('data', (c) => {
    stderr += c;
  });
  let buffered = '';
  api.stdout?.on('data', (chunk) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line));
      } catch {
        // Not a log line (a warning from Node): ignored, the assertions look for specific log lines.
      }
    }
  });
  await waitFor(
    'lumen-api to listen',
    async () => {
      if (api?.exitCode !== null) throw new Error(`lumen-api exited: ${stderr}`);
      const line = logs.find((l) => l.msg === 'lumen-api listening');
      if (line !== undefined) base = `http://127.0.0.1:${line.port}`;
      return line !== undefined;
    },
    30_000,
  );
});

after(async () => {
  if (api?.exitCode === null) {
    const exited = new Promise((resolve) => api?.once('exit', resolve));
    api.kill('SIGTERM');
    await exited;
  }
  await new Promise((resolve) => receiver?.close(resolve));
  await close();
});

function traceparent(): { header: string; traceId: string; parentId: string } {
  const traceId = randomBytes(16).toString('hex');
  const parentId = randomBytes(8).toString('hex');
  return { header: `00-${traceId}-${parentId}-01`, traceId, parentId };
}

async function traceOf(traceId: string, done: (trace: OtlpSpan[]) => boolean): Promise<OtlpSpan[]> {
  await waitFor('the spans to be exported', async () => done(spans.filter((s) => s.traceId === traceId)), 15_000);
  return spans.filter((s) => s.traceId === traceId);
}

const childrenOf = (trace: OtlpSpan[], parent: OtlpSpan) => trace.filter((s) => s.parentSpanId === parent.spanId);
const attribute = (span: OtlpSpan, key: string) => span.attributes?.find((a) => a.key === key)?.value;

it('continues the caller trace: server → request → handler → Redis span, and the log line carries the trace', async () => {
  const tp = traceparent();
  const response = await fetch(`${base}/hello`, { headers: { traceparent: tp.header } });
  assert.equal(response.status, 200);

  const trace = await traceOf(
    tp.traceId,
    (t) => t.some((s) => /incr/i.test(s.name)) && t.some((s) => s.kind === SERVER),
  );
  const server = trace.find((s) => s.kind === SERVER) as OtlpSpan;
  assert.equal(server.parentSpanId, tp.parentId, 'the server span is a child of the incoming traceparent');
  const request = childrenOf(trace, server).find((s) => s.name === 'request');
  assert.ok(request, `a Fastify request span under the server span; got ${trace.map((s) => s.name).join(', ')}`);
  const handler = childrenOf(trace, request).find((s) => s.name.startsWith('handler'));
  assert.ok(handler, 'a handler span under the request span');
  const incr = childrenOf(trace, handler).find((s) => /incr/i.test(s.name));
  assert.ok(incr, 'the Redis INCR span under the handler span');
  assert.equal(attribute(incr, 'db.system')?.stringValue ?? attribute(incr, 'db.system.name')?.stringValue, 'redis');

  await waitFor('the request log line', async () => logs.some((l) => l.msg === 'request' && l.url === '/hello'));
  const line = logs.find((l) => l.msg === 'request' && l.url === '/hello') as Record<string, unknown>;
  assert.equal(line.trace_id, tp.traceId);
  assert.ok(
    trace.some((s) => s.spanId === line.span_id),
    'the log line span_id is a span of this trace',
  );
});

it('traces a keyed POST /items down to its PostgreSQL queries', async () => {
  const tp = traceparent();
  const response = await fetch(`${base}/items`, {
    method: 'POST',
    headers: { traceparent: tp.header, 'content-type': 'application/json', 'idempotency-key': tp.traceId },
    body: JSON.stringify({ name: 'traced' }),
  });
  assert.equal(response.status, 201);
  // The write is one statement (item + event + idempotency record, the prepared statement lumen_create_item).
  const trace = await traceOf(tp.traceId, (t) => t.some((s) => s.name.startsWith('pg.query')));
  const server = trace.find((s) => s.kind === SERVER) as OtlpSpan;
  const request = childrenOf(trace, server).find((s) => s.name === 'request') as OtlpSpan;
  const handler = childrenOf(trace, request).find((s) => s.name.startsWith('handler')) as OtlpSpan;
  assert.ok(handler, 'handler span');
  const below = new Set<string>();
  const walk = (span: OtlpSpan) => {
    for (const child of childrenOf(trace, span)) {
      below.add(child.name);
      walk(child);
    }
  };
  walk(handler);
  assert.ok(
    [...below].some((n) => n.startsWith('pg.query:lumen_create_item')),
    `the insert statement under the handler: ${[...below]}`,
  );
  assert.ok(
    trace.some((s) => s.name.startsWith('pg.query') && s.parentSpanId !== undefined),
    'queries are children, not roots',
  );
  // The idempotency lock and record are Redis commands of the same request.
  assert.ok(
    trace.some((s) => /^set$/i.test(s.name)),
    'SET (idempotency) spans',
  );
});

it('records a failing dependency call as an error on its span', async () => {
  await redis.master.stop();
  try {
    const tp = traceparent();
    const response = await fetch(`${base}/hello`, { headers: { traceparent: tp.header } });
    assert.equal(response.status, 503);
    const trace = await traceOf(tp.traceId, (t) => t.some((s) => s.kind === SERVER));
    const failed = trace.filter((s) => s.status?.code === ERROR).map((s) => s.name);
    assert.ok(
      failed.some((n) => /incr/i.test(n) || n.startsWith('handler')),
      `an errored Redis or handler span: ${trace.map((s) => `${s.name}:${s.status?.code}`).join(', ')}`,
    );
    const server = trace.find((s) => s.kind === SERVER) as OtlpSpan;
    assert.equal(server.status?.code, ERROR, 'a 5xx server span has status ERROR');
  } finally {
    await redis.master.start();
  }
});

it('exports no secret and does not trace probes or scrapes', async () => {
  await fetch(`${base}/livez`);
  await fetch(`${base}/readyz`);
  await new Promise((r) => setTimeout(r, 500));
  const all = bodies.join('\n');
  assert.ok(!all.includes(pg.password), 'no PostgreSQL password in spans');
  assert.ok(redis.password !== undefined && !all.includes(redis.password), 'no Redis password in spans');
  assert.equal(
    spans.filter((s) => s.kind === SERVER && /livez|readyz/.test(JSON.stringify(s.attributes))).length,
    0,
    'probes are not traced',
  );
});
