/**
 * The process logger: pino JSON lines with the service name, secrets censored and the active span's
 * `trace_id`/`span_id` on every line. One definition for the entry (main.ts) and the benchmark, so the
 * bench measures exactly what production logs.
 */
import pino, { type DestinationStream, type Logger } from 'pino';
import type { Config } from './config.ts';
import { traceFields } from './tracing.ts';

/**
 * Property names whose values never reach a log line, at any depth up to {@link MAX_DEPTH} (DESIGN.md: secrets never
 * appear in logs). Belt and braces: nothing logs these, but a future `log.info(config)` or `log.warn({ headers })`
 * must not leak them.
 */
const SECRET_KEYS = new Set([
  'password',
  'sentinelPassword',
  'rwDsn',
  'roDsn',
  'dsn',
  'connectionString',
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'PG_RW_DSN',
  'PG_RO_DSN',
  'REDIS_PASSWORD',
  'REDIS_SENTINEL_PASSWORD',
]);
export const CENSORED = '[REDACTED]';
const MAX_DEPTH = 4;

/**
 * `value` with every {@link SECRET_KEYS} property censored, through plain objects, arrays and errors. Nothing is
 * mutated, and nothing is copied unless something is censored: the per-request access line (five primitive fields)
 * costs five set lookups. pino's own `redact` (path based, wildcards) cloned and walked every line and cost 10% of
 * GET /hello throughput (apps/api/bench, `LOG_LEVEL=warn` row against the default).
 */
export function censorSecrets<T>(value: T, depth = 0): T {
  if (typeof value !== 'object' || value === null || depth >= MAX_DEPTH) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item = censorSecrets(value[i], depth + 1);
      if (item !== value[i]) {
        copy ??= [...value];
        copy[i] = item;
      }
    }
    return (copy ?? value) as T;
  }
  const proto = Object.getPrototypeOf(value);
  // Class instances (a pg Client, a Buffer, a Date) are left to their serializers; errors are walked.
  if (proto !== Object.prototype && proto !== null && !(value instanceof Error)) return value;
  const source = value as Record<string, unknown>;
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(source)) {
    const current = source[key];
    const next = SECRET_KEYS.has(key) ? CENSORED : censorSecrets(current, depth + 1);
    if (next !== current) {
      copy ??= copyOf(source);
      copy[key] = next;
    }
  }
  return (copy ?? value) as T;
}

/** A shallow copy; an error stays an error of its class (its serializer reads the type, message and stack). */
function copyOf(value: Record<string, unknown>): Record<string, unknown> {
  if (!(value instanceof Error)) return { ...value };
  return Object.assign(Object.create(Object.getPrototypeOf(value)), value, {
    message: value.message,
    stack: value.stack,
  });
}

/**
 * pino's error serializer, censored, and without the `client` a pg error carries (the whole connection object: a
 * single idle-connection warning was 5 KB of connection state).
 */
function serializeError(error: Error): Record<string, unknown> {
  const { client: _client, ...serialized } = pino.stdSerializers.err(error) as Record<string, unknown>;
  return censorSecrets(serialized);
}

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
      formatters: { log: (object) => censorSecrets(object) },
      serializers: { err: serializeError },
      // trace_id/span_id of the active span on every line, so Grafana jumps from a log line to its trace (tracing.ts).
      mixin: traceFields,
    },
    destination,
  );
}
