/**
 * Writing the lock (`lumen inventory lock`) and releasing a build image (`lumen release bump`)
 * keep the provenance comments, refuse digests for versions the inventory does not name, and
 * leave a lock that loads.
 */
import assert from 'node:assert/strict';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, beforeEach, describe, test } from 'node:test';
import { imageRef, loadInventory, releaseBuildImage, updateLock } from '../src/index.ts';
import { copyInventory, expectCoded, type InventoryCopy, unreleased } from './inventory-fixture.ts';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const copies: InventoryCopy[] = [];
let inv: InventoryCopy;
beforeEach(() => {
  inv = copyInventory();
  copies.push(inv);
});
after(() => {
  for (const c of copies) c.remove();
});

describe('updateLock', () => {
  test('records new digests, keeps every other entry and the provenance comments', () => {
    inv.edit('images.yaml', 'tag: v3.7.9', 'tag: v3.7.10');
    const before = inv.read('lock.yaml');
    const after = updateLock(
      {
        images: { traefik: { version: 'v3.7.10', digest: D1, comment: 'resolved from docker.io' } },
        charts: { traefik: { version: '41.1.0', digest: D2 } },
      },
      inv.dir,
    );
    assert.equal(imageRef(loadInventory(inv.dir), 'traefik'), `192.168.2.2:5000/library/traefik:v3.7.10@${D1}`);
    assert.equal(after.charts.find((c) => c.name === 'traefik')?.digest, D2);
    const text = inv.read('lock.yaml');
    // Exactly two changes: the traefik image entry (new tag, digest and provenance comment) and a
    // new chart entry; every other byte, comments included, is as it was.
    const expected = before
      .replace(
        /(?: {2}# [^\n]*\n)+ {2}traefik:\n {4}tag: v3\.7\.9\n {4}digest: \S+\n/,
        `  # resolved from docker.io\n  traefik:\n    tag: v3.7.10\n    digest: ${D1}\n`,
      )
      .replace(
        /(\n {2}chaos-mesh:\n {4}version: 2\.8\.2\n {4}digest: \S+\n)/,
        `$1  traefik:\n    version: 41.1.0\n    digest: ${D2}\n`,
      );
    assert.notEqual(expected, before);
    assert.equal(text, expected);
    assert.deepEqual(
      readdirSync(inv.dir).filter((f) => f.endsWith('.tmp')),
      [],
      'no temp file is left behind',
    );
  });

  test("records an image's upstreamDigest next to its filtered digest, and drops it once the index is not filtered", () => {
    const before = inv.read('lock.yaml');
    updateLock({ images: { traefik: { version: 'v3.7.9', digest: D1, upstreamDigest: D2 } } }, inv.dir);
    const entry = (text: string) => /\n {2}traefik:\n((?: {4}.*\n)+)/.exec(text)?.[1];
    assert.equal(entry(inv.read('lock.yaml')), `    tag: v3.7.9\n    digest: ${D1}\n    upstreamDigest: ${D2}\n`);
    const after = updateLock({ images: { traefik: { version: 'v3.7.9', digest: D2 } } }, inv.dir);
    assert.equal(entry(inv.read('lock.yaml')), `    tag: v3.7.9\n    digest: ${D2}\n`);
    assert.equal(after.images.find((i) => i.name === 'traefik')?.upstreamDigest, undefined);
    assert.equal(
      inv.read('lock.yaml'),
      before.replace(/( {2}traefik:\n {4}tag: v3\.7\.9\n {4}digest: )\S+/, `$1${D2}`),
    );
    expectCoded(
      () => updateLock({ images: { traefik: { version: 'v3.7.9', digest: D1, upstreamDigest: 'sha256:1' } } }, inv.dir),
      'INVENTORY_INVALID',
    );
  });

  test('a lock that does not exist yet starts with what its digests are, in block style', () => {
    rmSync(join(inv.dir, 'lock.yaml'));
    updateLock({ images: { traefik: { version: 'v3.7.9', digest: D1 } } }, inv.dir);
    assert.equal(
      inv.read('lock.yaml'),
      `# Pinned digests, written by 'lumen inventory lock' (images: the index digest lumen carries,
# i.e. the upstream index filtered to the inventory's platforms, with upstreamDigest next to it;
# charts: SHA-256 of the chart archive; files: SHA-256 of the bytes).
lockVersion: 1
images:
  traefik:
    tag: v3.7.9
    digest: ${D1}
charts: {}
files: {}
`,
    );
  });

  test('refuses a digest for a version the inventory does not name, and writes nothing', () => {
    const before = inv.read('lock.yaml');
    const err = expectCoded(
      () => updateLock({ images: { traefik: { version: 'v3.6.0', digest: D1 } } }, inv.dir),
      'INVENTORY_INVALID',
    );
    assert.match(err.message, /cannot lock images\.traefik for v3\.6\.0: the inventory says v3\.7\.9/);
    assert.equal(inv.read('lock.yaml'), before);
  });

  test('refuses unknown names and malformed digests', () => {
    expectCoded(
      () => updateLock({ images: { nginx: { version: '1', digest: D1 } } }, inv.dir),
      'INVENTORY_UNKNOWN_IMAGE',
    );
    expectCoded(
      () => updateLock({ charts: { nginx: { version: '1.0.0', digest: D1 } } }, inv.dir),
      'INVENTORY_UNKNOWN_CHART',
    );
    const err = expectCoded(
      () => updateLock({ images: { redis: { version: '8.6.2-alpine', digest: 'sha256:12' } } }, inv.dir),
      'INVENTORY_INVALID',
    );
    assert.match(err.message, /'sha256:12' is not sha256:<64 hex>/);
  });

  test('prune removes entries for names no longer in the inventory', () => {
    inv.edit('images.yaml', / {2}- name: chaos-dashboard\n( {4}.*\n)+?(?= {2}- name:)/, '');
    inv.edit('charts.yaml', 'chaos-daemon, chaos-dashboard]', 'chaos-daemon]');
    expectCoded(() => loadInventory(inv.dir), 'INVENTORY_INVALID');
    updateLock({}, inv.dir, { prune: true });
    assert.ok(!inv.read('lock.yaml').includes('chaos-dashboard:'));
    assert.equal(
      loadInventory(inv.dir).images.some((i) => i.name === 'chaos-dashboard'),
      false,
    );
  });
});

describe('releaseBuildImage', () => {
  test('writes the new tag into images.yaml and its digest into lock.yaml; imageRef then pins it', () => {
    const after = releaseBuildImage('lumen-api', { version: 'git-3f2a9c1', digest: D1 }, inv.dir);
    assert.equal(imageRef(after, 'lumen-api'), `192.168.2.2:5000/lumen/lumen-api:git-3f2a9c1@${D1}`);
    assert.match(inv.read('images.yaml'), /# Built by lumen's CI[\s\S]*tag: git-3f2a9c1/);
    const next = releaseBuildImage('lumen-api', { version: 'git-77aa001', digest: D2 }, inv.dir);
    assert.equal(imageRef(next, 'lumen-api'), `192.168.2.2:5000/lumen/lumen-api:git-77aa001@${D2}`);
  });

  test('refuses upstream images, unknown names, latest and bad digests', () => {
    unreleased(inv);
    const err = expectCoded(
      () => releaseBuildImage('traefik', { version: 'v3.8.0', digest: D1 }, inv.dir),
      'INVENTORY_INVALID',
    );
    assert.match(err.message, /comes from upstream/);
    expectCoded(() => releaseBuildImage('lumen-web', { version: '1', digest: D1 }, inv.dir), 'INVENTORY_UNKNOWN_IMAGE');
    expectCoded(() => releaseBuildImage('lumen-api', { version: 'latest', digest: D1 }, inv.dir), 'INVENTORY_INVALID');
    expectCoded(
      () => releaseBuildImage('lumen-api', { version: '1.0.0', digest: 'sha256:x' }, inv.dir),
      'INVENTORY_INVALID',
    );
    expectCoded(() => imageRef(loadInventory(inv.dir), 'lumen-api'), 'INVENTORY_NOT_LOCKED');
  });
});
