/**
 * 50 Idempotency-Keys, each sent by 20 concurrent duplicates of the same POST /items: exactly 50 items (and 50
 * events) are written; every duplicate gets either the original answer replayed (same status and body, with
 * `Idempotency-Replayed: true`) or 409 with `Retry-After`; no request fails with a 5xx. Real PostgreSQL and Redis.
 */
import assert from 'node:assert/strict';
import { after, it } from 'node:test';
import { call, type Reply, startApiStack } from './support/api.ts';

const KEYS = 50;
const DUPLICATES = 20;

const { api, close } = await startApiStack({ redis: true });
after(close);

it('writes each key exactly once and answers every duplicate with a replay or 409, never a 5xx', async () => {
  const run = `run-${Date.now()}`;
  const send = (k: number) =>
    call(api.url, 'POST', '/items', { body: { name: `item ${k}` }, headers: { 'idempotency-key': `${run}-${k}` } });
  const requests: Promise<Reply>[] = [];
  for (let d = 0; d < DUPLICATES; d++) for (let k = 0; k < KEYS; k++) requests.push(send(k));
  const replies = await Promise.all(requests);

  const byKey = new Map<number, Reply[]>();
  replies.forEach((r, i) => {
    const k = i % KEYS;
    byKey.set(k, [...(byKey.get(k) ?? []), r]);
  });
  const statuses = new Map<number, number>();
  for (const r of replies) statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
  assert.deepEqual(
    [...statuses.keys()].filter((s) => s !== 201 && s !== 409),
    [],
    `only 201 and 409: ${JSON.stringify([...statuses])}`,
  );

  for (const [k, group] of byKey) {
    const executed = group.filter((r) => r.status === 201 && r.headers.get('idempotency-replayed') === null);
    assert.equal(executed.length, 1, `key ${k}: exactly one execution`);
    const original = executed[0] as Reply;
    assert.equal(original.body.name, `item ${k}`);
    for (const r of group) {
      if (r === original) continue;
      if (r.status === 409) {
        assert.match(r.headers.get('retry-after') ?? '', /^\d+$/, `key ${k}: 409 carries Retry-After`);
        assert.equal(r.body.code, 'idempotency_in_flight');
      } else {
        assert.equal(r.headers.get('idempotency-replayed'), 'true', `key ${k}: a duplicate 201 is a replay`);
        assert.equal(r.text, original.text, `key ${k}: replayed body is the original`);
        assert.equal(r.headers.get('location'), original.headers.get('location'));
        assert.equal(r.headers.get('content-type'), original.headers.get('content-type'));
      }
    }
  }

  const count = async (sql: string) => Number((await api.deps.db.primary.query<{ n: string }>(sql)).rows[0]?.n);
  assert.equal(await count(`SELECT count(*) AS n FROM items`), KEYS);
  assert.equal(await count(`SELECT count(*) AS n FROM events WHERE type = 'ItemCreated'`), KEYS);
  assert.equal(await count(`SELECT count(*) AS n FROM idempotency_keys WHERE status_code = 201`), KEYS);

  // Once all first requests have finished, every retry — including those that got 409 — is a replay.
  const retries = await Promise.all(Array.from({ length: KEYS }, (_, k) => send(k)));
  for (const [k, r] of retries.entries()) {
    assert.equal(r.status, 201);
    assert.equal(r.headers.get('idempotency-replayed'), 'true');
    const original = byKey.get(k)?.find((x) => x.status === 201 && x.headers.get('idempotency-replayed') === null);
    assert.equal(r.text, original?.text);
  }
  assert.equal(await count(`SELECT count(*) AS n FROM items`), KEYS);
});
