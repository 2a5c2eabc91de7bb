/**
 * Idempotency in embedded mode (PGlite + the in-process store, what `npm start` runs): replay, 422 and the
 * PostgreSQL ledger work the same as against real servers.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { call, type RunningApi, startApi } from './support/api.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'lumen-idem-embedded-'));
let api: RunningApi;

before(async () => {
  api = await startApi({ LUMEN_DATA_DIR: dataDir });
});
after(async () => {
  await api?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

it('replays POST and DELETE, refuses another body, and records keys in PGlite', async () => {
  assert.equal(api.deps.kv.kind, 'memory');
  assert.equal(api.deps.db.embedded, true);
  const headers = { 'idempotency-key': 'embedded-1' };
  const first = await call(api.url, 'POST', '/items', { body: { name: 'embedded' }, headers });
  assert.equal(first.status, 201);
  const again = await call(api.url, 'POST', '/items', { body: { name: 'embedded' }, headers });
  assert.equal(again.headers.get('idempotency-replayed'), 'true');
  assert.equal(again.text, first.text);
  assert.equal((await call(api.url, 'POST', '/items', { body: { name: 'other' }, headers })).status, 422);

  const ledger = await api.deps.db.primary.query<{ status_code: number; body: string }>(
    'SELECT status_code, body FROM idempotency_keys WHERE key = $1',
    ['embedded-1'],
  );
  assert.equal(ledger.rows[0]?.status_code, 201);
  assert.equal(ledger.rows[0]?.body, first.text);

  const del = { 'idempotency-key': 'embedded-2' };
  assert.equal((await call(api.url, 'DELETE', `/items/${first.body.id}`, { headers: del })).status, 204);
  const replayed = await call(api.url, 'DELETE', `/items/${first.body.id}`, { headers: del });
  assert.equal(replayed.status, 204);
  assert.equal(replayed.headers.get('idempotency-replayed'), 'true');
});
