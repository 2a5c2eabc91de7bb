/**
 * The process logger: pino JSON lines with the service name, secrets censored and the active span's
 * `trace_id`/`span_id` on every line. One definition for the entry (main.ts) and the benchmark, so the
 * bench measures exactly what production logs.
 */
import pino, { type DestinationStream, type Logger } from 'pino';
import type { Config } from './config.ts';
import { traceFields, tracingEnabled } from './tracing.ts';

/**
 * Property names whose values never reach a log line, at any depth up to {@link MAX_DEPTH} (docs/telemetry.md, Logs: secrets never
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

/** How long an info line may wait for others before it is written, and how many bytes are written at once at most. */
export const LOG_BATCH = { maxDelayMs: 50, maxBytes: 16_384 } as const;

/**
 * Hands the lines written to `stream` in batches: one write when {@link LOG_BATCH} `maxBytes` are pending or
 * `maxDelayMs` after the first pending line, whichever comes first. A warn, error or fatal line is written at once,
 * with the lines before it, in order; so is whatever is pending at `flushSync()` and at process exit. On stdout
 * (synchronous, see {@link createLogger}) that is one `write(2)` per batch instead of one per line: under load a
 * batch holds hundreds of access lines. Only a process killed outright (SIGKILL, OOM) loses the info lines of its
 * last `maxDelayMs`.
 */
export function batched(stream: DestinationStream & { flushSync?(): void }): DestinationStream & {
  flushSync(): void;
  flush(cb?: (error?: Error) => void): void;
} {
  let pending: string[] = [];
  let bytes = 0;
  let timer: NodeJS.Timeout | undefined;
  const drain = () => {
    clearTimeout(timer);
    timer = undefined;
    if (pending.length === 0) return;
    const lines = pending.length === 1 ? (pending[0] as string) : pending.join('');
    pending = [];
    bytes = 0;
    stream.write(lines);
  };
  process.once('exit', drain);
  return {
    write(line: string) {
      pending.push(line);
      bytes += line.length;
      if (bytes >= LOG_BATCH.maxBytes || isWarnOrWorse(line)) drain();
      else if (timer === undefined) timer = setTimeout(drain, LOG_BATCH.maxDelayMs).unref();
    },
    flushSync() {
      drain();
      stream.flushSync?.();
    },
    flush(cb) {
      drain();
      cb?.();
    },
  };
}

/** Whether a pino line (`{"level":NN,…`, levels 40 warn, 50 error, 60 fatal) is a warning or worse. */
function isWarnOrWorse(line: string): boolean {
  return line.startsWith('{"level":') && line.charCodeAt(9) >= 52 /* '4' */ && line.charCodeAt(11) === 44 /* ',' */;
}

/**
 * Creates the logger writing to `destination`. Default: stdout, in synchronous batched writes ({@link batched}).
 * Synchronous means a slow log reader slows the process down instead of letting a buffer grow without bound.
 * Measured per GET /hello (apps/api/bench, docs/telemetry.md): pino's asynchronous destination (a write per line
 * through libuv's thread pool) cost 1.06x the server CPU of one write per event-loop turn, which cost 1.07x that of
 * these batches.
 */
export function createLogger(
  config: Pick<Config, 'logLevel'>,
  destination: DestinationStream = batched(pino.destination({ dest: 1, sync: true })),
): Logger {
  return pino(
    {
      level: config.logLevel,
      base: { service: 'lumen-api' },
      formatters: { log: (object) => censorSecrets(object) },
      serializers: { err: serializeError },
      // trace_id/span_id of the active span on every line, so Grafana jumps from a log line to its trace (tracing.ts);
      // without tracing there is no span, and looking for one on every line cost ~0.4 µs.
      ...(tracingEnabled(process.env) && { mixin: traceFields }),
    },
    destination,
  );
}
