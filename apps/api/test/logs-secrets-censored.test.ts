/**
 * Secrets never appear in logs (docs/telemetry.md, Logs), and an error logs as an error, not as the object graph around it:
 * - the logger censors secret properties at any depth (config, headers, errors) without touching what was logged;
 * - the real entry, run against PostgreSQL and Redis with passwords generated for this run, is sent credentials in
 *   headers and then loses its PostgreSQL primary (stopped): every line it wrote is JSON, none contains a password
 *   or the credentials sent, and the warnings about the lost connections carry the error without pg's client object.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { after, it } from 'node:test';
import { startDatastores, waitFor } from '@lumen/testkit';
import { CENSORED, censorSecrets, createLogger } from '../src/logger.ts';
import { type EntryProcess, spawnEntry } from './support/entry.ts';

function capture(): { lines: Record<string, unknown>[]; stream: Writable } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, stream };
}

it('censors secret properties at any depth, leaves the logged object unchanged', () => {
  const { lines, stream } = capture();
  const logger = createLogger({ logLevel: 'info' }, stream);
  const config = {
    postgres: { mode: 'server', rwDsn: 'postgres://app:s3cret@db/app', roDsn: 'postgres://app:s3cret@ro/app' },
    redis: { mode: 'sentinel', password: 'r3dis', sentinelPassword: 'sent1nel', sentinels: [{ host: 'a', port: 1 }] },
  };
  logger.info({ config, req: { headers: { authorization: 'Bearer t0ken', cookie: 'sid=c00kie', host: 'x' } } }, 'm');
  logger.info({ password: 'top', list: [{ password: 'in-array' }, 'plain'] }, 'n');

  const text = JSON.stringify(lines);
  for (const secret of ['s3cret', 'r3dis', 'sent1nel', 't0ken', 'c00kie', 'top', 'in-array']) {
    assert.ok(!text.includes(secret), `"${secret}" must not be logged: ${text}`);
  }
  const first = lines[0] as { config: typeof config; req: { headers: Record<string, string> } };
  assert.equal(first.config.postgres.rwDsn, CENSORED);
  assert.equal(first.config.redis.sentinelPassword, CENSORED);
  assert.equal(first.config.postgres.mode, 'server', 'other fields are kept');
  assert.deepEqual(first.config.redis.sentinels, [{ host: 'a', port: 1 }]);
  assert.equal(first.req.headers.host, 'x');
  assert.equal(first.req.headers.authorization, CENSORED);
  assert.deepEqual((lines[1] as { list: unknown[] }).list, [{ password: CENSORED }, 'plain']);
  assert.equal(config.redis.password, 'r3dis', 'the caller’s object is not mutated');

  const access = { method: 'GET', url: '/hello', status: 200 };
  assert.equal(censorSecrets(access), access, 'nothing to censor: the same object, no copy');
});

it('logs an error with its message and code, censored, without a pg client attached to it', () => {
  const { lines, stream } = capture();
  const logger = createLogger({ logLevel: 'info' }, stream);
  const error = Object.assign(new Error('connection lost'), {
    code: '57P01',
    client: { connectionParameters: { user: 'app', host: 'db' }, huge: 'x'.repeat(10_000) },
    password: 'pw-on-error',
  });
  logger.warn({ err: error }, 'idle PostgreSQL connection failed');
  const err = (lines[0] as { err: Record<string, unknown> }).err;
  assert.equal(err.message, 'connection lost');
  assert.equal(err.code, '57P01');
  assert.equal(err.type, 'Error');
  assert.match(String(err.stack), /connection lost/);
  assert.equal(err.client, undefined);
  assert.equal(err.password, CENSORED);
});

const { pg, redis, close } = await startDatastores({ redis: true });
let entry: EntryProcess | undefined;
after(async () => {
  if (entry && entry.child.exitCode === null) {
    entry.child.kill('SIGTERM');
    await entry.exited;
  }
  await close();
});

it('real entry: no password or credential in any line, also while PostgreSQL fails', async () => {
  const pgPassword = new URL(pg.primary.dsn).password;
  const redisPassword = redis.password ?? '';
  assert.ok(pgPassword.length >= 8 && redisPassword.length >= 8, 'the harness generated passwords for this run');
  const token = randomBytes(12).toString('hex');
  entry = spawnEntry({
    PG_RW_DSN: pg.primary.dsn,
    REDIS_ADDR: redis.master.addr,
    REDIS_PASSWORD: redis.password,
    SHUTDOWN_DELAY_MS: '0',
    LOG_LEVEL: 'debug',
  });
  const { url } = await entry.listening();
  const created = await fetch(`${url}/items`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, cookie: `sid=${token}` },
    body: '{"name":"with credentials"}',
  });
  assert.equal(created.status, 201);
  await created.arrayBuffer();

  await pg.primary.stop();
  await waitFor(
    'a warning about the lost idle connections',
    async () => entry?.logs.some((line) => line.msg === 'idle PostgreSQL connection failed') ?? false,
    15_000,
  );
  const failed = await fetch(`${url}/items`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"name":"primary down"}',
  });
  assert.equal(failed.status, 503);
  await failed.arrayBuffer();
  await pg.primary.start();
  entry.child.kill('SIGTERM');
  assert.equal(await entry.exited, 0);

  assert.equal(entry.logs.filter((line) => 'raw' in line).length, 0, 'every stdout line is JSON');
  const text = JSON.stringify(entry.logs);
  for (const [what, secret] of [
    ['the PostgreSQL password', pgPassword],
    ['the Redis password', redisPassword],
    ['the credentials sent', token],
  ] as const) {
    assert.ok(!text.includes(secret), `${what} appears in the logs`);
  }
  const warning = entry.logs.find((line) => line.msg === 'idle PostgreSQL connection failed') as {
    err: Record<string, unknown>;
  };
  assert.equal(warning.err.client, undefined, 'the warning carries the error, not pg’s client object');
  assert.ok(JSON.stringify(warning).length < 2000, `a short line: ${JSON.stringify(warning).length} bytes`);
});
