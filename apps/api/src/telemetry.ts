/**
 * OpenTelemetry bootstrap. It must run BEFORE the application's modules are imported, so it is loaded with
 * `node --import ./src/telemetry.ts src/main.ts` (the `start` script and the Dockerfile CMD do this).
 *
 * Why a separate entry: lumen-api is ESM run natively by Node, and instrumentation patches modules as they are
 * loaded. For ESM that needs the import-in-the-middle loader hook registered first; without it, instrumentation of
 * ESM imports silently does nothing (measured on these machines).
 *
 * What it sets up (when tracing is on): W3C trace context + baggage propagation; spans for every HTTP request
 * (server span, `traceparent` continued from the caller and sent on outgoing calls), Fastify's request and handler
 * spans, and a child span per PostgreSQL query and Redis command, with errors recorded; export over OTLP/HTTP
 * (`OTEL_EXPORTER_OTLP_PROTOCOL` http/protobuf, the default, or http/json) in batches.
 *
 * Off-by-default-safe: with no `OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` /
 * `OTEL_TRACES_EXPORTER`, or with `OTEL_SDK_DISABLED=true`, nothing is loaded or patched: no export attempts, no
 * error spam, no per-request cost. Export failures later (collector down) are dropped silently by the SDK's batch
 * processor and never delay a response; set `OTEL_LOG_LEVEL=debug` to see them.
 *
 * Probes and scrapes (`/livez`, `/readyz`, `/metrics`, `/debug/pprof/*`) are not traced: they would outnumber real
 * traffic in Tempo. Metrics and logs are not exported through OpenTelemetry (Prometheus scrapes prom-client; logs go
 * to stdout for Alloy).
 */
import { register } from 'node:module';
import { tracingEnabled } from './tracing.ts';

/** Paths never traced (exact, or with this prefix when ending in `/`). */
export const UNTRACED_PATHS = ['/livez', '/readyz', '/metrics', '/favicon.ico', '/debug/pprof/'];

function untraced(url: string | undefined): boolean {
  const path = (url ?? '/').split('?')[0] ?? '/';
  return UNTRACED_PATHS.some((p) => (p.endsWith('/') ? path.startsWith(p) : path === p));
}

if (tracingEnabled(process.env)) {
  // Imported only when tracing is on: with it off, not even the SDK's modules are loaded.
  const [{ FastifyOtelInstrumentation }, { HttpInstrumentation }, { IORedisInstrumentation }, { PgInstrumentation }] =
    await Promise.all([
      import('@fastify/otel'),
      import('@opentelemetry/instrumentation-http'),
      import('@opentelemetry/instrumentation-ioredis'),
      import('@opentelemetry/instrumentation-pg'),
    ]);
  const { NodeSDK } = await import('@opentelemetry/sdk-node');
  const { createAddHookMessageChannel } = await import('import-in-the-middle');
  const { registerOptions, waitForAllMessagesAcknowledged } = createAddHookMessageChannel();
  register('import-in-the-middle/hook.mjs', import.meta.url, registerOptions);

  const sdk = new NodeSDK({
    // OTEL_SERVICE_NAME (read by the SDK's env detector) wins; this is the default.
    ...(process.env.OTEL_SERVICE_NAME ? {} : { serviceName: 'lumen-api' }),
    // Traces only: metrics are scraped from prom-client, logs read from stdout.
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request) => untraced(request.url),
      }),
      new FastifyOtelInstrumentation({
        registerOnInitialization: true,
        ignorePaths: ({ url }) => untraced(url),
        // A span per lifecycle hook would double the spans per request and say little; handler spans stay.
        instrumentHooks: false,
      }),
      // Without a parent (pool probes, migrations, lag checks) there is no request to attach to: no span.
      new PgInstrumentation({ requireParentSpan: true }),
      new IORedisInstrumentation({ requireParentSpan: true }),
    ],
  });
  sdk.start();
  await waitForAllMessagesAcknowledged();
}
