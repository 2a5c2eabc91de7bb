/**
 * lumen-api configuration: every environment variable of the contract in docs/api.md (Configuration), parsed and validated once
 * at start. A bad value throws a {@link ConfigError} naming the variable; the entry file turns it into one
 * line on stderr and exit code 2. Nothing here exits or logs.
 */
import { isAbsolute, resolve } from 'node:path';

/** A `host:port` pair. */
export interface Address {
  host: string;
  port: number;
}

/** Where PostgreSQL lives: a real server pair, or PGlite embedded in the process. */
export type PostgresConfig =
  | {
      mode: 'server';
      /** `PG_RW_DSN`: the primary (all writes). */
      rwDsn: string;
      /** `PG_RO_DSN`: the replica for reads; defaults to `rwDsn` (then reads use the primary pool). */
      roDsn: string;
      /** `PG_STATEMENT_TIMEOUT_MS` (default 5000): sent as the server-side `statement_timeout`. */
      statementTimeoutMs: number;
      /** `PG_CONNECT_TIMEOUT_MS` (default 2000): pg's own default waits forever. */
      connectTimeoutMs: number;
      /** `PG_REPLICA_MAX_LAG_MS` (default 5000): beyond it reads go to the primary and /health is degraded. */
      maxReplicaLagMs: number;
    }
  | {
      mode: 'embedded';
      /** `LUMEN_DATA_DIR` (default `.lumen/data` under the directory npm was started in, else the cwd). */
      dataDir: string;
    };

/** Where the key-value store lives: Redis (standalone or Sentinel) or an in-process map. */
export type RedisConfig =
  | { mode: 'standalone'; address: Address; password: string | undefined; timeoutMs: number }
  | {
      mode: 'sentinel';
      sentinels: Address[];
      masterName: string;
      password: string | undefined;
      sentinelPassword: string | undefined;
      timeoutMs: number;
    }
  | { mode: 'memory' };

/** The validated configuration of one lumen-api process. */
export interface Config {
  /** `HOST` (default `0.0.0.0`): the interface both servers listen on. */
  host: string;
  /** `PORT` (default 8080): the public API. 0 picks a free port (logged). */
  port: number;
  /** `ADMIN_PORT` (default 9090): `/metrics` (and profiling). 0 picks a free port (logged). */
  adminPort: number;
  postgres: PostgresConfig;
  redis: RedisConfig;
  /** `LOG_LEVEL` (default `info`): a pino level. */
  logLevel: LogLevel;
  /** `SHUTDOWN_DELAY_MS` (default 5000): time between readiness 503 and closing the listeners. */
  shutdownDelayMs: number;
  /** `SHUTDOWN_TIMEOUT_MS` (default 30000): the longest in-flight requests may take to finish. */
  shutdownTimeoutMs: number;
  /** `IDEMPOTENCY_TTL_SECONDS` (default 86400): how long an idempotency record is kept. */
  idempotencyTtlSeconds: number;
  /** `LUMEN_PROFILING` (default off): enables the profiling endpoints on the admin port. */
  profiling: boolean;
  /** `OTEL_EXPORTER_OTLP_ENDPOINT` (default unset: no trace export). */
  otlpEndpoint: string | undefined;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A configuration value that cannot be used; `variable` names the environment variable. */
export class ConfigError extends Error {
  readonly code = 'LUMEN_API_CONFIG';
  readonly exitCode = 2;
  readonly variable: string;
  constructor(variable: string, reason: string) {
    super(`${variable} ${reason}`);
    this.name = 'ConfigError';
    this.variable = variable;
  }
}

type Env = Record<string, string | undefined>;

/**
 * Reads and validates the configuration from `env` (usually `process.env`).
 * Empty strings count as unset, so `PG_RW_DSN=` means embedded mode.
 * @throws {ConfigError} on the first invalid variable.
 */
export function loadConfig(env: Env, cwd: string = process.cwd()): Config {
  const get = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };

  const rwDsn = get('PG_RW_DSN');
  const roDsn = get('PG_RO_DSN');
  let postgres: PostgresConfig;
  if (rwDsn !== undefined) {
    postgres = {
      mode: 'server',
      rwDsn: dsn('PG_RW_DSN', rwDsn),
      roDsn: roDsn === undefined ? rwDsn : dsn('PG_RO_DSN', roDsn),
      statementTimeoutMs: integer(get, 'PG_STATEMENT_TIMEOUT_MS', 5000, 1, 3_600_000),
      connectTimeoutMs: integer(get, 'PG_CONNECT_TIMEOUT_MS', 2000, 1, 600_000),
      maxReplicaLagMs: integer(get, 'PG_REPLICA_MAX_LAG_MS', 5000, 0, 3_600_000),
    };
  } else {
    if (roDsn !== undefined)
      throw new ConfigError('PG_RO_DSN', 'is set but PG_RW_DSN is not (a replica needs a primary)');
    const base = get('INIT_CWD') ?? cwd;
    const dir = get('LUMEN_DATA_DIR') ?? '.lumen/data';
    postgres = { mode: 'embedded', dataDir: isAbsolute(dir) ? dir : resolve(base, dir) };
  }

  return {
    host: get('HOST') ?? '0.0.0.0',
    port: integer(get, 'PORT', 8080, 0, 65535),
    adminPort: integer(get, 'ADMIN_PORT', 9090, 0, 65535),
    postgres,
    redis: redisConfig(get),
    logLevel: oneOf(get, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    shutdownDelayMs: integer(get, 'SHUTDOWN_DELAY_MS', 5000, 0, 600_000),
    shutdownTimeoutMs: integer(get, 'SHUTDOWN_TIMEOUT_MS', 30000, 0, 3_600_000),
    idempotencyTtlSeconds: integer(get, 'IDEMPOTENCY_TTL_SECONDS', 86400, 1, 31_536_000),
    profiling: flag(get, 'LUMEN_PROFILING', false),
    otlpEndpoint: url(get, 'OTEL_EXPORTER_OTLP_ENDPOINT'),
  };
}

function redisConfig(get: (name: string) => string | undefined): RedisConfig {
  const addr = get('REDIS_ADDR');
  const sentinelAddrs = get('REDIS_SENTINEL_ADDRS');
  const inferred = sentinelAddrs !== undefined ? 'sentinel' : 'standalone';
  const mode = oneOf(get, 'REDIS_MODE', ['standalone', 'sentinel'] as const, inferred);
  const password = get('REDIS_PASSWORD');
  const timeoutMs = integer(get, 'REDIS_TIMEOUT_MS', 1000, 1, 600_000);
  if (mode === 'sentinel') {
    if (sentinelAddrs === undefined)
      throw new ConfigError('REDIS_SENTINEL_ADDRS', 'is required when REDIS_MODE=sentinel');
    const sentinels = sentinelAddrs.split(',').map((part) => address('REDIS_SENTINEL_ADDRS', part.trim()));
    return {
      mode,
      sentinels,
      masterName: get('REDIS_MASTER_NAME') ?? 'mymaster',
      password,
      sentinelPassword: get('REDIS_SENTINEL_PASSWORD'),
      timeoutMs,
    };
  }
  if (addr === undefined) {
    if (get('REDIS_MODE') !== undefined) throw new ConfigError('REDIS_ADDR', 'is required when REDIS_MODE=standalone');
    return { mode: 'memory' };
  }
  return { mode, address: address('REDIS_ADDR', addr), password, timeoutMs };
}

function integer(
  get: (name: string) => string | undefined,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = get(name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be an integer from ${min} to ${max}, got ${quote(raw)}`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(name, `must be from ${min} to ${max}, got ${raw}`);
  return value;
}

function oneOf<const T extends readonly string[]>(
  get: (name: string) => string | undefined,
  name: string,
  allowed: T,
  fallback: T[number],
): T[number] {
  const raw = get(name);
  if (raw === undefined) return fallback;
  const value = raw.toLowerCase();
  if (!allowed.includes(value)) throw new ConfigError(name, `must be one of ${allowed.join('|')}, got ${quote(raw)}`);
  return value as T[number];
}

function flag(get: (name: string) => string | undefined, name: string, fallback: boolean): boolean {
  const raw = get(name);
  if (raw === undefined) return fallback;
  const value = raw.toLowerCase();
  if (['1', 'on', 'true', 'yes'].includes(value)) return true;
  if (['0', 'off', 'false', 'no'].includes(value)) return false;
  throw new ConfigError(name, `must be on|off (or 1|0, true|false), got ${quote(raw)}`);
}

function address(name: string, raw: string): Address {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^\s:/[\]]+):(\d{1,5})$/.exec(raw);
  const port = Number(match?.[2]);
  if (match?.[1] === undefined || !(port >= 1 && port <= 65535)) {
    throw new ConfigError(name, `must be host:port (port 1-65535), got ${quote(raw)}`);
  }
  return { host: match[1].replace(/^\[|\]$/g, ''), port };
}

/** Validates a PostgreSQL URL without ever echoing it: it may carry a password. */
function dsn(name: string, raw: string): string {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(name, 'must be a postgres:// or postgresql:// URL (value not shown: it may hold a password)');
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new ConfigError(name, `must use the postgres:// or postgresql:// scheme, got ${quote(parsed.protocol)}`);
  }
  if (parsed.hostname === '' && !parsed.searchParams.has('host')) throw new ConfigError(name, 'must name a host');
  return raw;
}

function url(get: (name: string) => string | undefined, name: string): string | undefined {
  const raw = get(name);
  if (raw === undefined) return undefined;
  if (!URL.canParse(raw) || !/^https?:$/.test(new URL(raw).protocol)) {
    throw new ConfigError(name, `must be an http:// or https:// URL, got ${quote(raw)}`);
  }
  return raw;
}

function quote(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
}
