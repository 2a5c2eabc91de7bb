/**
 * A carry-only use: an inventory with images and no charts.yaml (docs/inventory.md) is locked, bundled, verified
 * and pushed like any other, against real registries.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { oneImageCarry } from './support/one-image.ts';
import { lumen } from './support/run.ts';

const fx = oneImageCarry('lumen-images-only-');

test('an images-only inventory locks, bundles, verifies and pushes', async () => {
  const { invDir, bundle, upstream } = fx;
  assert.ok(!existsSync(join(invDir, 'charts.yaml')));
  const plain = ['--inventory', invDir, '--plain-http-registry', upstream.host];
  const lock = await lumen(['inventory', 'lock', ...plain]);
  assert.equal(lock.code, 0, lock.stderr);
  const create = await lumen(['bundle', 'create', '--out', bundle, ...plain, '--json']);
  assert.equal(create.code, 0, create.stderr);
  assert.deepEqual([JSON.parse(create.stdout).images, JSON.parse(create.stdout).charts], [1, 0]);
  const verify = await lumen(['bundle', 'verify', bundle, '--inventory', invDir]);
  assert.equal(verify.code, 0, verify.stderr);
  const push = await lumen(['bundle', 'push', bundle, '--inventory', invDir]);
  assert.equal(push.code, 0, push.stderr);
});
