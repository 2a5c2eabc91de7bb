/**
 * The Idempotency-Key contract on real PostgreSQL and Redis: a finished request is replayed (status, body,
 * Content-Type, Location, `Idempotency-Replayed: true`) for POST and DELETE; the same key with another body or on
 * another route → 422; a key that is not 1–255 visible ASCII → 400 before anything runs; validation failures are not
 * stored (a corrected retry under the same key executes); unkeyed requests are untouched; the policy is in /openapi.json.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { call, startApiStack } from './support/api.ts';

const { api, close } = await startApiStack({ redis: true });
after(close);
let n = 0;
const key = () => `key-${process.pid}-${++n}`;
const items = async () =>
  Number((await api.deps.db.primary.query<{ n: string }>('SELECT count(*) AS n FROM items')).rows[0]?.n);

describe('replay', () => {
  it('replays a POST with its status, body, Content-Type and Location, marked Idempotency-Replayed', async () => {
    const headers = { 'idempotency-key': key() };
    const first = await call(api.url, 'POST', '/items', { body: { name: 'once' }, headers });
    assert.equal(first.status, 201);
    assert.equal(first.headers.get('idempotency-replayed'), null);
    const before = await items();
    const second = await call(api.url, 'POST', '/items', { body: { name: 'once' }, headers });
    assert.equal(second.status, 201);
    assert.equal(second.headers.get('idempotency-replayed'), 'true');
    assert.equal(second.text, first.text);
    assert.equal(second.headers.get('content-type'), first.headers.get('content-type'));
    assert.equal(second.headers.get('location'), `/items/${first.body.id}`);
    assert.equal(await items(), before, 'the replay wrote nothing');
  });

  it('replays a DELETE (204) instead of answering 404 for the item it already deleted', async () => {
    const item = (await call(api.url, 'POST', '/items', { body: { name: 'doomed' } })).body;
    const headers = { 'idempotency-key': key() };
    const first = await call(api.url, 'DELETE', `/items/${item.id}`, { headers });
    assert.equal(first.status, 204);
    const second = await call(api.url, 'DELETE', `/items/${item.id}`, { headers });
    assert.equal(second.status, 204);
    assert.equal(second.headers.get('idempotency-replayed'), 'true');
    const deleted = await api.deps.db.primary.query(
      `SELECT 1 FROM events WHERE type = 'ItemDeleted' AND item_id = $1`,
      [item.id],
    );
    assert.equal(deleted.rowCount, 1, 'one ItemDeleted event');
  });

  it('stores a finished 4xx other than a validation failure (DELETE of a missing item → 404 replayed)', async () => {
    const headers = { 'idempotency-key': key() };
    const first = await call(api.url, 'DELETE', '/items/999999', { headers });
    assert.equal(first.status, 404);
    const second = await call(api.url, 'DELETE', '/items/999999', { headers });
    assert.equal(second.status, 404);
    assert.equal(second.headers.get('idempotency-replayed'), 'true');
    assert.equal(second.text, first.text);
  });

  it('leaves requests without the header alone: two unkeyed POSTs write two items', async () => {
    const before = await items();
    const a = await call(api.url, 'POST', '/items', { body: { name: 'same' } });
    const b = await call(api.url, 'POST', '/items', { body: { name: 'same' } });
    assert.equal(a.status, 201);
    assert.equal(b.status, 201);
    assert.notEqual(a.body.id, b.body.id);
    assert.equal(await items(), before + 2);
  });
});

describe('mismatch → 422', () => {
  it('refuses the same key with another body, and writes nothing', async () => {
    const headers = { 'idempotency-key': key() };
    assert.equal((await call(api.url, 'POST', '/items', { body: { name: 'first' }, headers })).status, 201);
    const before = await items();
    const other = await call(api.url, 'POST', '/items', { body: { name: 'second' }, headers });
    assert.equal(other.status, 422);
    assert.equal(other.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    assert.equal(other.body.code, 'idempotency_key_reused');
    assert.equal(await items(), before);
  });

  it('refuses the same bytes with different whitespace: the fingerprint is of the body as sent', async () => {
    const headers = { 'idempotency-key': key() };
    assert.equal((await call(api.url, 'POST', '/items', { body: '{"name":"ws"}', headers })).status, 201);
    assert.equal((await call(api.url, 'POST', '/items', { body: '{ "name": "ws" }', headers })).status, 422);
  });

  it('refuses the same key on another route or method', async () => {
    const a = (await call(api.url, 'POST', '/items', { body: { name: 'a' } })).body;
    const b = (await call(api.url, 'POST', '/items', { body: { name: 'b' } })).body;
    const headers = { 'idempotency-key': key() };
    assert.equal((await call(api.url, 'DELETE', `/items/${a.id}`, { headers })).status, 204);
    const otherTarget = await call(api.url, 'DELETE', `/items/${b.id}`, { headers });
    assert.equal(otherTarget.status, 422);
    const otherRoute = await call(api.url, 'POST', '/items', { body: { name: 'c' }, headers });
    assert.equal(otherRoute.status, 422);
    assert.equal((await call(api.url, 'GET', `/items/${b.id}`)).status, 200, 'b was not deleted');
  });
});

describe('invalid keys → 400', () => {
  for (const [what, value] of [
    ['empty', ''],
    ['256 characters', 'k'.repeat(256)],
    ['a space', 'has space'],
    ['non-ASCII', 'clé'],
    ['a control character', 'tab\there'],
  ] as const) {
    it(`rejects a key with ${what} before executing`, async () => {
      const before = await items();
      let response: { status: number; body: { code: string } };
      try {
        response = await call(api.url, 'POST', '/items', {
          body: { name: 'x' },
          headers: { 'idempotency-key': value },
        });
      } catch (error) {
        // fetch itself refuses header values it cannot send (non-Latin-1); use a raw request for those.
        response = await rawPost(value);
        void error;
      }
      assert.equal(response.status, 400);
      assert.equal(response.body.code, 'idempotency_key_invalid');
      assert.equal(await items(), before);
    });
  }

  it('accepts 255 visible ASCII characters', async () => {
    const value = `${'!~'.repeat(127)}k`;
    const response = await call(api.url, 'POST', '/items', {
      body: { name: 'x' },
      headers: { 'idempotency-key': value },
    });
    assert.equal(response.status, 201);
  });
});

describe('what is not stored', () => {
  it('does not store a validation failure: the corrected request under the same key executes', async () => {
    const headers = { 'idempotency-key': key() };
    const invalid = await call(api.url, 'POST', '/items', { body: { name: '' }, headers });
    assert.equal(invalid.status, 400);
    const unknownField = await call(api.url, 'POST', '/items', { body: { name: 'x', extra: 1 }, headers });
    assert.equal(unknownField.status, 400);
    const fixed = await call(api.url, 'POST', '/items', { body: { name: 'fixed' }, headers });
    assert.equal(fixed.status, 201);
    assert.equal(fixed.headers.get('idempotency-replayed'), null);
  });
});

it('documents the header and the 409/422/503 answers in /openapi.json on POST /items and DELETE /items/{id}', async () => {
  const doc = (await call(api.url, 'GET', '/openapi.json')).body;
  for (const operation of [doc.paths['/items'].post, doc.paths['/items/{id}'].delete]) {
    const header = operation.parameters.find((p: { in: string; name: string }) => p.in === 'header');
    assert.equal(header?.name, 'idempotency-key');
    assert.equal(header.required, false);
    assert.match(header.description, /Idempotency-Replayed/);
    for (const status of ['409', '422', '503']) assert.ok(operation.responses[status], `response ${status}`);
  }
  assert.equal(
    doc.paths['/items'].get.parameters.some((p: { in: string }) => p.in === 'header'),
    false,
    'GET has no idempotency',
  );
});

/** A POST with a header value fetch refuses to send. */
async function rawPost(keyValue: string): Promise<{ status: number; body: { code: string } }> {
  const { request } = await import('node:http');
  const url = new URL(`${api.url}/items`);
  const payload = JSON.stringify({ name: 'x' });
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method: 'POST',
        path: '/items',
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        let text = '';
        res.on('data', (c) => {
          text += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    // The UTF-8 bytes of the key, as a client that does not encode headers would send them.
    req.setHeader('idempotency-key', Buffer.from(keyValue, 'utf8').toString('latin1'));
    req.end(payload);
  });
}
