/**
 * A carry-only inventory: images.yaml, charts.yaml and files.yaml are each optional, so an inventory may carry only
 * images, only charts or only files across the gap; one that names nothing at all is refused, saying so.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, beforeEach, test } from 'node:test';
import { loadInventory } from '../src/index.ts';
import { copyInventory, expectCoded, type InventoryCopy } from './inventory-fixture.ts';

const copies: InventoryCopy[] = [];
let inv: InventoryCopy;
beforeEach(() => {
  inv = copyInventory();
  copies.push(inv);
  // The lock names every entry; each case removes some, so the lock goes too (a stale lock entry is refused).
  rmSync(join(inv.dir, 'lock.yaml'));
});
after(() => {
  for (const c of copies) c.remove();
});

test('an images-only inventory loads: no charts.yaml, no files.yaml', () => {
  rmSync(join(inv.dir, 'charts.yaml'));
  rmSync(join(inv.dir, 'files.yaml'));
  const loaded = loadInventory(inv.dir);
  assert.ok(loaded.images.length > 0);
  assert.deepEqual([loaded.charts, loaded.files], [[], []]);
});

test('a charts-only inventory loads when its charts name no images', () => {
  rmSync(join(inv.dir, 'images.yaml'));
  rmSync(join(inv.dir, 'files.yaml'));
  inv.write(
    'charts.yaml',
    'charts:\n  - name: demo\n    repo: oci://registry.example/charts\n    chart: demo\n    version: 1.0.0\n    component: demo\n',
  );
  const loaded = loadInventory(inv.dir);
  assert.deepEqual(
    loaded.charts.map((c) => c.name),
    ['demo'],
  );
  assert.deepEqual(loaded.images, []);
});

test('an empty images.yaml is valid when another file names something; a chart naming a missing image is not', () => {
  inv.write('images.yaml', 'images: []\n');
  const err = expectCoded(() => loadInventory(inv.dir), 'INVENTORY_INVALID');
  assert.match(
    err.message,
    /charts\.yaml:\d+: charts\[\d+\]\.images\[\d+\]: no image named '[a-z0-9-]+' in images\.yaml/,
  );
});

test('an inventory that names nothing is refused, saying so', () => {
  for (const f of ['images.yaml', 'charts.yaml', 'files.yaml']) rmSync(join(inv.dir, f));
  const err = expectCoded(() => loadInventory(inv.dir), 'INVENTORY_INVALID');
  assert.equal(err.exitCode, 2);
  assert.match(err.message, /the inventory names nothing: add entries to images\.yaml, charts\.yaml or files\.yaml/);
});
