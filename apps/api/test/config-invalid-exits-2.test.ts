/**
 * Invalid configuration: the real entry prints ONE line naming the variable on stderr and exits with code 2,
 * before opening anything. Secrets in a bad DSN are never echoed. Valid defaults are checked on loadConfig.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../src/config.ts';
import { spawnEntry } from './support/entry.ts';

const cases: [variable: string, env: Record<string, string>][] = [
  ['PORT', { PORT: 'eighty' }],
  ['PORT', { PORT: '70000' }],
  ['ADMIN_PORT', { ADMIN_PORT: '-1' }],
  ['PG_RW_DSN', { PG_RW_DSN: 'mysql://app:hunter2-secret@db/app' }],
  ['PG_RW_DSN', { PG_RW_DSN: 'not a url with hunter2-secret' }],
  ['PG_RO_DSN', { PG_RO_DSN: 'postgres://replica/app' }],
  ['PG_STATEMENT_TIMEOUT_MS', { PG_RW_DSN: 'postgres://db/app', PG_STATEMENT_TIMEOUT_MS: '5s' }],
  ['REDIS_MODE', { REDIS_MODE: 'cluster' }],
  ['REDIS_SENTINEL_ADDRS', { REDIS_MODE: 'sentinel' }],
  ['REDIS_SENTINEL_ADDRS', { REDIS_SENTINEL_ADDRS: '127.0.0.1:26379,nohostport' }],
  ['REDIS_ADDR', { REDIS_ADDR: 'localhost' }],
  ['REDIS_ADDR', { REDIS_MODE: 'standalone' }],
  ['LOG_LEVEL', { LOG_LEVEL: 'loud' }],
  ['SHUTDOWN_DELAY_MS', { SHUTDOWN_DELAY_MS: '1.5' }],
  ['SHUTDOWN_TIMEOUT_MS', { SHUTDOWN_TIMEOUT_MS: 'forever' }],
  ['IDEMPOTENCY_TTL_SECONDS', { IDEMPOTENCY_TTL_SECONDS: '0' }],
  ['LUMEN_PROFILING', { LUMEN_PROFILING: 'maybe' }],
  ['OTEL_EXPORTER_OTLP_ENDPOINT', { OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }],
];

/** Spawned through the real entry: one case per kind of check (the entry prints whatever loadConfig throws). */
const spawned = new Set([0, 3, 4, 5, 8, 10, 12, 17]);

describe('invalid configuration → one line naming the variable, exit code 2', { concurrency: 4 }, () => {
  cases.forEach(([variable, env], index) => {
    const value = Object.values(env).at(-1);
    if (spawned.has(index)) {
      it(`real entry: ${variable}=${value}`, async () => {
        const entry = spawnEntry(env);
        const code = await entry.exited;
        const stderr = entry.stderr();
        assert.equal(code, 2, stderr);
        const lines = stderr.split('\n').filter((l) => l !== '');
        assert.equal(lines.length, 1, `exactly one line on stderr, got:\n${stderr}`);
        assert.match(lines[0] as string, new RegExp(`^lumen-api: invalid configuration: ${variable} `));
        assert.ok(!stderr.includes('hunter2-secret'), 'a DSN is never echoed');
        assert.deepEqual(entry.logs, [], 'nothing was started or logged');
      });
    } else {
      it(`loadConfig: ${variable}=${value}`, () => {
        assert.throws(
          () => loadConfig(env),
          (error: unknown) =>
            error instanceof ConfigError &&
            error.variable === variable &&
            error.exitCode === 2 &&
            error.message.startsWith(`${variable} `) &&
            !error.message.includes('\n') &&
            !error.message.includes('hunter2-secret'),
        );
      });
    }
  });
});

describe('valid configuration', () => {
  it('has the documented defaults', () => {
    const config = loadConfig({}, '/srv/app');
    assert.deepEqual(config, {
      host: '0.0.0.0',
      port: 8080,
      adminPort: 9090,
      postgres: { mode: 'embedded', dataDir: '/srv/app/.lumen/data' },
      redis: { mode: 'memory' },
      logLevel: 'info',
      shutdownDelayMs: 5000,
      shutdownTimeoutMs: 30000,
      idempotencyTtlSeconds: 86400,
      profiling: false,
      otlpEndpoint: undefined,
    });
  });

  it('reads servers, Sentinel and the npm start directory', () => {
    const config = loadConfig(
      {
        PG_RW_DSN: 'postgres://u:p@primary:5432/app',
        REDIS_SENTINEL_ADDRS: 's1:26379, [::1]:26380',
        REDIS_PASSWORD: 'pw',
        LUMEN_PROFILING: 'on',
        LOG_LEVEL: 'DEBUG',
        INIT_CWD: '/repo',
      },
      '/repo/apps/api',
    );
    assert.deepEqual(config.postgres, {
      mode: 'server',
      rwDsn: 'postgres://u:p@primary:5432/app',
      roDsn: 'postgres://u:p@primary:5432/app',
      statementTimeoutMs: 5000,
      connectTimeoutMs: 2000,
      maxReplicaLagMs: 5000,
    });
    assert.deepEqual(config.redis, {
      mode: 'sentinel',
      sentinels: [
        { host: 's1', port: 26379 },
        { host: '::1', port: 26380 },
      ],
      masterName: 'mymaster',
      password: 'pw',
      sentinelPassword: undefined,
      timeoutMs: 1000,
    });
    assert.equal(config.profiling, true);
    assert.equal(config.logLevel, 'debug');
    assert.equal(loadConfig({ INIT_CWD: '/repo' }, '/repo/apps/api').postgres.mode, 'embedded');
    assert.deepEqual(loadConfig({ INIT_CWD: '/repo' }, '/repo/apps/api').postgres, {
      mode: 'embedded',
      dataDir: '/repo/.lumen/data',
    });
    assert.deepEqual(loadConfig({ REDIS_ADDR: 'cache:6379' }).redis, {
      mode: 'standalone',
      address: { host: 'cache', port: 6379 },
      password: undefined,
      timeoutMs: 1000,
    });
  });
});
