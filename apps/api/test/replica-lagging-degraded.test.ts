/**
 * A replica that lags beyond PG_REPLICA_MAX_LAG_MS is not read from: reads go to the primary (so a list shows
 * a write at once) and /health reports degraded with the lag.
 */
import assert from 'node:assert/strict';
import { after, it } from 'node:test';
import { waitFor } from '@lumen/testkit';
import { call, startApiStack } from './support/api.ts';

const { pg, api, close } = await startApiStack({
  postgres: { replica: true, settings: { recovery_min_apply_delay: '3s' } },
  env: { PG_REPLICA_MAX_LAG_MS: '500' },
});
after(close);

it('routes reads to the primary and reports degraded while the replica is behind the bound', async () => {
  const created = await call(api.url, 'POST', '/items', { body: { name: 'behind' } });
  assert.equal(created.status, 201);
  await waitFor('the probe to see the lag', async () => (await api.deps.reads.probe()).status === 'lagging', 10_000);
  const health = await call(api.url, 'GET', '/health');
  assert.equal(health.status, 503);
  assert.equal(health.body.checks.postgres_ro.status, 'lagging');
  assert.ok(health.body.checks.postgres_ro.lag_ms > 500);

  const second = await call(api.url, 'POST', '/items', { body: { name: 'visible at once' } });
  const list = await call(api.url, 'GET', '/items?limit=1');
  assert.equal(list.body.items[0]?.id, second.body.id, 'the list came from the primary');

  await pg.replica?.caughtUp(15_000);
  await waitFor('the replica to catch up', async () => (await call(api.url, 'GET', '/health')).status === 200, 15_000);
});
