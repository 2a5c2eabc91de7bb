/**
 * The process logger: pino JSON lines with the service name, secrets redacted and the active span's
 * `trace_id`/`span_id` on every line. One definition for the entry (main.ts) and the benchmark, so the
 * bench measures exactly what production logs.
 */
import pino, { type DestinationStream, type Logger } from 'pino';
import type { Config } from './config.ts';
import { traceFields } from './tracing.ts';

/** Paths redacted from every line. Belt and braces: nothing logs these, but a future `log.info(config)` must not leak them. */
const redact = [
  'password',
  '*.password',
  'rwDsn',
  'roDsn',
  '*.rwDsn',
  '*.roDsn',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
];

/**
 * Creates the logger writing to `destination`. Default: asynchronous writes to stdout — written synchronously,
 * the per-request line cost 25-35% of GET /hello throughput (apps/api/bench, `synchronous log writes` row).
 * Lines stay in order, and pino flushes what is buffered on exit.
 */
export function createLogger(
  config: Pick<Config, 'logLevel'>,
  destination: DestinationStream = pino.destination({ dest: 1, sync: false }),
): Logger {
  return pino(
    {
      level: config.logLevel,
      base: { service: 'lumen-api' },
      redact,
      // trace_id/span_id of the active span on every line, so Grafana jumps from a log line to its trace (tracing.ts).
      mixin: traceFields,
    },
    destination,
  );
}
