/**
 * Bad input gets the right 4xx as application/problem+json (RFC 9457) with a stable code, and nothing is
 * stored: malformed JSON, unknown fields, empty or 257-character names, an oversized body, non-numeric or huge
 * ids, a wrong content type, unknown routes and wrong methods (405 with `Allow`).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { withClient } from '@lumen/testkit';
import { call, startApiStack } from './support/api.ts';

const { pg, api, close } = await startApiStack();
after(close);
const existingId: number = (await call(api.url, 'POST', '/items', { body: { name: 'existing' } })).body.id;

const stored = () =>
  withClient(pg.primary.dsn, async (c) => {
    const { rows } = await c.query(
      'SELECT (SELECT count(*) FROM items)::int AS items, (SELECT count(*) FROM events)::int AS events',
    );
    return rows[0] as { items: number; events: number };
  });

interface Case {
  name: string;
  method: string;
  path: string;
  body?: string;
  headers?: Record<string, string>;
  status: number;
  code: string;
  allow?: string;
}

const json = { 'content-type': 'application/json' };
const cases = (): Case[] => [
  {
    name: 'a name holding U+0000 (PostgreSQL cannot store NUL in text)',
    method: 'POST',
    path: '/items',
    body: JSON.stringify({ name: 'before\u0000after' }),
    headers: json,
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'malformed JSON',
    method: 'POST',
    path: '/items',
    body: '{"name": "x"',
    headers: json,
    status: 400,
    code: 'malformed_json',
  },
  {
    name: 'empty JSON body',
    method: 'POST',
    path: '/items',
    body: '',
    headers: json,
    status: 400,
    code: 'malformed_json',
  },
  {
    name: 'unknown field',
    method: 'POST',
    path: '/items',
    body: '{"name":"x","color":"red"}',
    headers: json,
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'missing name',
    method: 'POST',
    path: '/items',
    body: '{}',
    headers: json,
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'name not a string',
    method: 'POST',
    path: '/items',
    body: '{"name":42}',
    headers: json,
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'name null',
    method: 'POST',
    path: '/items',
    body: '{"name":null}',
    headers: json,
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'body is an array',
    method: 'POST',
    path: '/items',
    body: '[{"name":"x"}]',
    headers: json,
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'empty name',
    method: 'POST',
    path: '/items',
    body: '{"name":""}',
    headers: json,
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'whitespace-only name',
    method: 'POST',
    path: '/items',
    body: '{"name":" \\t\\n "}',
    headers: json,
    status: 400,
    code: 'validation_failed',
  },
  {
    name: '257-character name',
    method: 'POST',
    path: '/items',
    body: JSON.stringify({ name: 'n'.repeat(257) }),
    headers: json,
    status: 400,
    code: 'validation_failed',
  },
  {
    name: '257 characters after trimming',
    method: 'POST',
    path: '/items',
    body: JSON.stringify({ name: `  ${'é'.repeat(257)}  ` }),
    headers: json,
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'oversized body (1 MiB + 1)',
    method: 'POST',
    path: '/items',
    body: JSON.stringify({ name: 'x'.repeat(1024 * 1024) }),
    headers: json,
    status: 413,
    code: 'body_too_large',
  },
  {
    name: 'text/plain body',
    method: 'POST',
    path: '/items',
    body: 'name=x',
    headers: { 'content-type': 'text/plain' },
    status: 415,
    code: 'unsupported_media_type',
  },
  {
    name: 'form body',
    method: 'POST',
    path: '/items',
    body: 'name=x',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    status: 415,
    code: 'unsupported_media_type',
  },
  {
    name: 'no content type',
    method: 'POST',
    path: '/items',
    body: '{"name":"x"}',
    headers: { 'content-type': '' },
    status: 415,
    code: 'unsupported_media_type',
  },
  { name: 'non-numeric id', method: 'GET', path: '/items/abc', status: 400, code: 'invalid_id' },
  { name: 'zero id', method: 'GET', path: '/items/0', status: 400, code: 'invalid_id' },
  { name: 'negative id', method: 'GET', path: '/items/-1', status: 400, code: 'invalid_id' },
  { name: 'fractional id', method: 'GET', path: '/items/1.5', status: 400, code: 'invalid_id' },
  {
    name: 'id beyond bigint (19 digits)',
    method: 'GET',
    path: '/items/9223372036854775808',
    status: 400,
    code: 'invalid_id',
  },
  { name: 'huge id (30 digits)', method: 'DELETE', path: `/items/${'9'.repeat(30)}`, status: 400, code: 'invalid_id' },
  { name: 'non-numeric id on delete', method: 'DELETE', path: '/items/one', status: 400, code: 'invalid_id' },
  { name: 'limit 0', method: 'GET', path: '/items?limit=0', status: 400, code: 'validation_failed' },
  { name: 'limit 1001', method: 'GET', path: '/items?limit=1001', status: 400, code: 'validation_failed' },
  { name: 'limit not a number', method: 'GET', path: '/items?limit=ten', status: 400, code: 'validation_failed' },
  { name: 'after not a number', method: 'GET', path: '/items?after=abc', status: 400, code: 'validation_failed' },
  {
    name: 'after beyond bigint',
    method: 'GET',
    path: '/items?after=9999999999999999999',
    status: 400,
    code: 'validation_failed',
  },
  { name: 'unknown query parameter', method: 'GET', path: '/items?limt=5', status: 400, code: 'validation_failed' },
  {
    name: 'unknown event type',
    method: 'GET',
    path: '/events?type=ItemRenamed',
    status: 400,
    code: 'validation_failed',
  },
  { name: 'unknown route', method: 'GET', path: '/nope', status: 404, code: 'not_found' },
  { name: 'unknown route resembling one', method: 'PUT', path: '/openapi-json', status: 404, code: 'not_found' },
  {
    name: 'unknown nested route',
    method: 'POST',
    path: '/items/1/children',
    body: '{}',
    headers: json,
    status: 404,
    code: 'not_found',
  },
  {
    name: 'PUT on an item',
    method: 'PUT',
    path: `/items/${existingId}`,
    body: '{"name":"x"}',
    headers: json,
    status: 405,
    code: 'method_not_allowed',
    allow: 'DELETE, GET, HEAD',
  },
  {
    name: 'PATCH on an item',
    method: 'PATCH',
    path: `/items/${existingId}`,
    body: '{"name":"x"}',
    headers: json,
    status: 405,
    code: 'method_not_allowed',
    allow: 'DELETE, GET, HEAD',
  },
  {
    name: 'DELETE on the collection',
    method: 'DELETE',
    path: '/items',
    status: 405,
    code: 'method_not_allowed',
    allow: 'GET, HEAD, POST',
  },
  {
    name: 'POST on /hello',
    method: 'POST',
    path: '/hello',
    body: '{}',
    headers: json,
    status: 405,
    code: 'method_not_allowed',
    allow: 'GET, HEAD',
  },
  {
    name: 'POST on /events',
    method: 'POST',
    path: '/events',
    body: '{}',
    headers: json,
    status: 405,
    code: 'method_not_allowed',
    allow: 'GET, HEAD',
  },
];

describe('bad input → 4xx problem+json, nothing stored', () => {
  it('has a table that covers every category of the contract', () => {
    assert.ok(cases().length >= 30);
  });

  for (const c of cases()) {
    it(`${c.name}: ${c.method} ${c.path.slice(0, 40)} → ${c.status} ${c.code}`, async () => {
      const before = await stored();
      const response = await fetch(`${api.url}${c.path}`, { method: c.method, headers: c.headers, body: c.body });
      const text = await response.text();
      assert.equal(response.status, c.status, text);
      assert.equal(response.headers.get('content-type'), 'application/problem+json; charset=utf-8');
      const problem = JSON.parse(text);
      assert.equal(problem.status, c.status);
      assert.equal(problem.code, c.code);
      assert.equal(problem.type, `urn:lumen:problem:${c.code}`);
      assert.equal(typeof problem.title, 'string');
      assert.equal(problem.instance, c.path);
      if (c.allow !== undefined) assert.equal(response.headers.get('allow'), c.allow);
      assert.deepEqual(await stored(), before, 'nothing stored');
    });
  }

  it('names the offending field for unknown fields and bad names', async () => {
    const unknown = await call(api.url, 'POST', '/items', { body: { name: 'x', color: 'red' } });
    assert.deepEqual(unknown.body.errors, [{ path: 'body/color', message: 'unknown field' }]);
    const long = await call(api.url, 'POST', '/items', { body: { name: 'n'.repeat(257) } });
    assert.equal(long.body.errors[0].path, 'body/name');
    const nul = await call(api.url, 'POST', '/items', { body: { name: 'a\u0000b' } });
    assert.deepEqual(nul.body.errors, [
      { path: 'body/name', message: 'contains U+0000 (NUL), which text cannot hold' },
    ]);
  });

  it('accepts the limits themselves: 256 characters after trimming, JSON with a charset', async () => {
    const before = await stored();
    const ok = await call(api.url, 'POST', '/items', {
      body: JSON.stringify({ name: `  ${'é'.repeat(256)}  ` }),
      headers: { 'content-type': 'application/json; charset=utf-8' },
    });
    assert.equal(ok.status, 201, ok.text);
    assert.equal(ok.body.name, 'é'.repeat(256));
    assert.deepEqual(await stored(), { items: before.items + 1, events: before.events + 1 });
    assert.equal(
      (await call(api.url, 'GET', '/items/9223372036854775807')).status,
      404,
      'the largest bigint is a valid id',
    );
  });
});
