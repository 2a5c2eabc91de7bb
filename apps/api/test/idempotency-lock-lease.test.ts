/**
 * The idempotency lock is a lease (docs/idempotency.md "Lock"): 2 s, renewed while its request runs.
 * - A keyed request that runs longer than the lease (its PostgreSQL primary frozen) keeps its key: a duplicate sent
 *   after the lease would have lapsed still gets 409, and the key is written once.
 * - A process SIGKILLed mid-request stops renewing: once the lease has run out, the key is accepted at the first
 *   try by another instance, instead of 409 for as long as a fixed lock lasted (30 s before).
 */
import assert from 'node:assert/strict';
import { after, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startDatastores, waitFor, withClient } from '@lumen/testkit';
import { LOCK_TTL_MS } from '../src/idempotency/plugin.ts';
import { call, serverEnv, startApi } from './support/api.ts';
import { spawnEntry } from './support/entry.ts';

const { pg, redis, close } = await startDatastores({ redis: true });
after(async () => {
  pg.primary.thaw();
  await close();
});

const post = (url: string, key: string) =>
  call(url, 'POST', '/items', { body: { name: key }, headers: { 'idempotency-key': key } });
const rows = (name: string) =>
  withClient(
    pg.primary.dsn,
    async (c) => (await c.query('SELECT count(*)::int AS n FROM items WHERE name = $1', [name])).rows[0]?.n,
  );

it('renews the lock of a request that outlasts the lease, so a late duplicate still gets 409', async () => {
  const api = await startApi(serverEnv(pg, redis));
  try {
    assert.equal((await post(api.url, 'warm-up')).status, 201);
    pg.primary.freeze();
    const first = post(api.url, 'long-running');
    await sleep(LOCK_TTL_MS * 2);
    const duplicate = await post(api.url, 'long-running');
    assert.equal(duplicate.status, 409, `the key is still held after twice the lease: ${duplicate.text}`);
    assert.equal(duplicate.body.code, 'idempotency_in_flight');
    pg.primary.thaw();
    assert.equal((await first).status, 201);
    assert.equal(await rows('long-running'), 1);
  } finally {
    pg.primary.thaw();
    await api.close();
  }
});

it('frees the key of a process killed mid-request once the lease has run out', async () => {
  const dying = spawnEntry({ ...serverEnv(pg, redis), LOG_LEVEL: 'info' });
  const { url } = await dying.listening();
  assert.equal((await post(url, 'warm-up-2')).status, 201);
  pg.primary.freeze();
  const inFlight = post(url, 'orphaned').catch((error: Error) => error);
  // The request holds its key once Redis has it.
  await waitFor('the lock to be taken', async () => (await redisGet('idem:orphaned')) !== null);
  dying.child.kill('SIGKILL');
  await dying.exited;
  assert.ok((await inFlight) instanceof Error, 'the killed instance never answered');
  pg.primary.thaw();

  const other = await startApi(serverEnv(pg, redis));
  try {
    const held = await post(other.url, 'orphaned');
    assert.equal(held.status, 409, `right after the kill the lease still holds the key: ${held.text}`);
    await sleep(LOCK_TTL_MS + 200);
    const retried = await post(other.url, 'orphaned');
    assert.equal(retried.status, 201, `accepted once the lease ran out: ${retried.text}`);
    assert.equal(await rows('orphaned'), 1);
  } finally {
    await other.close();
  }
});

async function redisGet(key: string): Promise<string | null> {
  const { Redis } = await import('ioredis');
  const client = new Redis({
    host: redis.master.host,
    port: redis.master.port,
    password: redis.password,
    lazyConnect: true,
  });
  try {
    await client.connect();
    return await client.get(key);
  } finally {
    client.disconnect();
  }
}
