/**
 * A bad inventory is refused with one coded error (exit code 2) whose message names the file,
 * the line and the field — never silently accepted, never a stack trace to decode. Each case is
 * the real inventory with exactly one mistake.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, beforeEach, describe, test } from 'node:test';
import { loadInventory } from '../src/index.ts';
import { copyInventory, expectCoded, type InventoryCopy } from './inventory-fixture.ts';

const copies: InventoryCopy[] = [];
let inv: InventoryCopy;
beforeEach(() => {
  inv = copyInventory();
  copies.push(inv);
});
after(() => {
  for (const c of copies) c.remove();
});

function invalid(): Error & { exitCode: number; issues?: string[] } {
  return expectCoded(() => loadInventory(inv.dir), 'INVENTORY_INVALID');
}

describe('a bad inventory is rejected, naming file and field', () => {
  test('an unknown field in images.yaml (a typo) names file, line and path', () => {
    inv.edit('images.yaml', '    component: traefik\n', '    component: traefik\n    platfroms: [linux/amd64]\n');
    const err = invalid();
    assert.equal(err.exitCode, 2);
    assert.match(err.message, /images\.yaml:\d+: images\[\d+\]\.platfroms: unknown field/);
    const line = Number(/images\.yaml:(\d+)/.exec(err.message)?.[1]);
    assert.equal(inv.read('images.yaml').split('\n')[line - 1]?.trim(), 'platfroms: [linux/amd64]');
  });

  test('an unknown field in site.yaml and in lock.yaml', () => {
    inv.edit('site.yaml', 'plainHttp: true', 'plainHttp: true\ninsecure: true');
    inv.edit('lock.yaml', / {2}traefik:\n {4}tag: (\S+)\n/, '  traefik:\n    tag: $1\n    size: 1\n');
    const err = invalid();
    assert.match(err.message, /site\.yaml:\d+: insecure: unknown field/);
    assert.match(err.message, /lock\.yaml:\d+: images\.traefik\.size: unknown field/);
    assert.equal(err.issues?.length, 2, 'both problems are reported at once');
  });

  test('an image without a tag (missing version)', () => {
    inv.edit('images.yaml', / {4}tag: v3\.7\.9\n/, '');
    assert.match(invalid().message, /images\.yaml:\d+: images\[\d+\]\.tag: required field is missing/);
  });

  test('a chart without a version', () => {
    inv.edit('charts.yaml', '    version: 41.1.0\n', '');
    assert.match(invalid().message, /charts\.yaml:\d+: charts\[\d+\]\.version: required field is missing/);
  });

  test('a chart version that is a range, not an exact version', () => {
    inv.edit('charts.yaml', '    version: 41.1.0\n', "    version: '^41.1.0'\n");
    assert.match(invalid().message, /charts\[\d+\]\.version: must be an exact SemVer version/);
  });

  test('an unquoted numeric tag YAML would read as a number', () => {
    inv.edit('images.yaml', 'tag: "1.30.0"', 'tag: 17.10');
    assert.match(invalid().message, /images\[\d+\]\.tag: must be a string: quote it \('17\.1'\)/);
  });

  test('the mutable tag latest', () => {
    inv.edit('images.yaml', 'tag: v3.7.9', 'tag: latest');
    assert.match(invalid().message, /images\[\d+\]\.tag: must not be "latest"/);
  });

  test('a source without registry host, or with a tag in it', () => {
    inv.edit('images.yaml', 'source: docker.io/library/traefik', 'source: library/traefik');
    inv.edit('images.yaml', 'source: docker.io/library/redis', 'source: docker.io/library/redis:8');
    const err = invalid();
    assert.match(
      err.message,
      /images\[\d+\]\.source: must start with the registry host \(e\.g\. docker\.io\/library\/traefik\)/,
    );
    assert.match(err.message, /images\[\d+\]\.source: must not carry a tag or digest/);
  });

  test('two images with the same name', () => {
    inv.edit('images.yaml', '  - name: chaos-dashboard\n', '  - name: chaos-daemon\n');
    assert.match(
      invalid().message,
      /images\.yaml:\d+: images\[\d+\]\.name: duplicate name 'chaos-daemon' \(first at images\[\d+\]\)/,
    );
  });

  test('two charts with the same name', () => {
    inv.edit('charts.yaml', '  - name: tempo\n', '  - name: loki\n');
    assert.match(invalid().message, /charts\[\d+\]\.name: duplicate name 'loki'/);
  });

  test('a name locked twice (duplicate YAML key)', () => {
    inv.edit(
      'lock.yaml',
      'images:\n',
      `images:\n  redis:\n    tag: 8.6.2-alpine\n    digest: sha256:${'a'.repeat(64)}\n`,
    );
    assert.match(invalid().message, /lock\.yaml:\d+: not valid YAML: Map keys must be unique/);
  });

  test('a lock entry for an image no longer in the inventory', () => {
    inv.edit('lock.yaml', 'images:\n', `images:\n  nginx:\n    tag: 1.29.0\n    digest: sha256:${'b'.repeat(64)}\n`);
    assert.match(invalid().message, /lock\.yaml:\d+: images\.nginx: locked but not in images\.yaml/);
  });

  test('a digest that is not sha256:<64 hex>', () => {
    inv.edit('lock.yaml', /( {2}traefik:\n {4}tag: \S+\n {4}digest: )sha256:[a-f0-9]{64}/, '$1sha256:abc');
    assert.match(invalid().message, /images\.traefik\.digest: must be sha256:<64 lowercase hex>/);
  });

  test('a chart listing an image the inventory does not have', () => {
    inv.edit('charts.yaml', 'images: [traefik]', 'images: [traefik, traefik-hub]');
    assert.match(invalid().message, /charts\[\d+\]\.images\[1\]: no image named 'traefik-hub' in images\.yaml/);
  });

  test('two upstream hosts that would collide on the same airgap path', () => {
    inv.edit('images.yaml', 'source: docker.io/library/redis', 'source: docker.io/library/traefik');
    inv.edit(
      'images.yaml',
      /source: docker\.io\/library\/traefik\n {4}tag: v3\.7\.9/,
      'source: ghcr.io/library/traefik\n    tag: v3.7.9',
    );
    assert.match(
      invalid().message,
      /'redis' and 'traefik' map to the same airgap path 'library\/traefik'|'traefik' and 'redis' map to the same airgap path/,
    );
  });

  test('a site with a registry URL instead of host:port, and a backwards MetalLB pool', () => {
    inv.edit('site.yaml', 'registry: 192.168.2.2:5000', 'registry: http://192.168.2.2:5000');
    inv.edit('site.yaml', 'metallbPool: 192.168.2.100-192.168.2.120', 'metallbPool: 192.168.2.120-192.168.2.100');
    const err = invalid();
    assert.match(err.message, /site\.yaml:\d+: registry: must be host\[:port\], without scheme or path/);
    assert.match(err.message, /site\.yaml:\d+: metallbPool: first address is after the last/);
  });

  test('a build image with an upstream source', () => {
    inv.edit('images.yaml', '    origin: build\n', '    origin: build\n    source: docker.io/lumen/lumen-api\n');
    assert.match(invalid().message, /images\[\d+\]\.source: a build image has no upstream source/);
  });

  test('a missing file and a file that is not YAML', () => {
    inv.write('charts.yaml', 'charts: [\n');
    rmSync(join(inv.dir, 'site.yaml'));
    const err = invalid();
    assert.match(err.message, /charts\.yaml:\d+: not valid YAML/);
    assert.match(err.message, /site\.yaml: file is missing/);
  });
});

describe('a tag without a digest where the lock is required', () => {
  test('requireLock refuses an image whose tag is not locked, naming the lock file and entry', () => {
    inv.edit('images.yaml', 'tag: v3.7.9', 'tag: v3.7.10');
    const err = expectCoded(() => loadInventory(inv.dir, { requireLock: true }), 'INVENTORY_NOT_LOCKED');
    assert.equal(err.exitCode, 2);
    assert.match(
      err.message,
      /lock\.yaml: images\.traefik: locked for tag v3\.7\.9 but the inventory says v3\.7\.10 \(run 'lumen inventory lock'\)/,
    );
  });

  test('requireLock refuses an image with no lock entry at all', () => {
    inv.edit('lock.yaml', / {2}redis:\n {4}tag: \S+\n {4}digest: \S+\n/, '');
    const err = expectCoded(() => loadInventory(inv.dir, { requireLock: true }), 'INVENTORY_NOT_LOCKED');
    assert.match(err.message, /images\.redis: no digest for tag 8\.6\.2-alpine/);
  });

  test('without requireLock the same inventory loads and the image simply has no digest', () => {
    inv.edit('images.yaml', 'tag: v3.7.9', 'tag: v3.7.10');
    const loaded = loadInventory(inv.dir);
    assert.equal(loaded.images.find((i) => i.name === 'traefik')?.digest, undefined);
  });
});
