/**
 * A carry-only use: an inventory with images and no charts.yaml (docs/inventory.md) is locked, bundled, verified
 * and pushed like any other, against real registries.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Registry } from '@lumen/oci';
import { startRegistry, type Registry as TestRegistry } from '@lumen/testkit';
import { seedImage } from './support/images.ts';
import { writeInventory } from './support/inventory.ts';
import { lumen } from './support/run.ts';

const work = mkdtempSync(join(tmpdir(), 'lumen-images-only-'));
const invDir = join(work, 'inventory');
const bundle = join(work, 'bundle');
let upstream: TestRegistry;
let airgap: TestRegistry;

before(async () => {
  [upstream, airgap] = await Promise.all([startRegistry(), startRegistry()]);
  await seedImage(new Registry({ host: upstream.host, plainHttp: true }), 'library/app', '1.0', {
    platforms: ['linux/amd64'],
  });
  writeInventory(invDir, {
    registry: airgap.host,
    images: [{ name: 'app', source: `${upstream.host}/library/app`, tag: '1.0', platforms: ['linux/amd64'] }],
  });
});
after(async () => {
  await Promise.allSettled([upstream?.close(), airgap?.close()]);
  rmSync(work, { recursive: true, force: true });
});

test('an images-only inventory locks, bundles, verifies and pushes', async () => {
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
