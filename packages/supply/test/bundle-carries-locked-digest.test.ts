/**
 * `bundle create` carries exactly what lock.yaml pins: the upstream index filtered to the
 * inventory's platforms when the lock pins that, the whole upstream index (every platform and
 * attestation) when the lock pins the upstream digest, and nothing when the tag moved.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { digestOf, MediaType, Registry } from '@lumen/oci';
import { startRegistry, type Registry as TestRegistry } from '@lumen/testkit';
import { parse, stringify } from 'yaml';
import { readBundle } from '../src/bundle.ts';
import { seedChart } from './support/fixture.ts';
import { type SeededImage, seedImage } from './support/images.ts';
import { writeInventory } from './support/inventory.ts';
import { lumen } from './support/run.ts';

describe('bundle create carries what the lock pins', () => {
  const work = mkdtempSync(join(tmpdir(), 'lumen-pins-'));
  let upstream: TestRegistry;
  let airgap: TestRegistry;
  let multi: SeededImage;
  let inventory: string;
  let lock: { images: Record<string, { tag: string; digest: string }> };

  before(async () => {
    [upstream, airgap] = await Promise.all([startRegistry(), startRegistry()]);
    const up = new Registry({ host: upstream.host, plainHttp: true });
    multi = await seedImage(up, 'library/multi', '1', {
      platforms: ['linux/amd64', 'linux/arm64', 'linux/s390x'],
      attestation: true,
      layerSizes: [20_000],
    });
    await seedChart(up, work);
    inventory = writeInventory(join(work, 'inventory'), {
      registry: airgap.host,
      images: [
        {
          name: 'multi',
          source: `${upstream.host}/library/multi`,
          tag: '1',
          platforms: ['linux/amd64', 'linux/arm64'],
        },
      ],
      charts: [{ name: 'fixture', repo: `oci://${upstream.host}/charts`, chart: 'fixture', version: '0.1.0' }],
    });
    const r = await lumen(['inventory', 'lock', '--inventory', inventory, '--plain-http-registry', upstream.host]);
    assert.equal(r.code, 0, r.stderr);
    lock = parse(readFileSync(join(inventory, 'lock.yaml'), 'utf8'));
  });

  after(async () => {
    await Promise.allSettled([upstream?.close(), airgap?.close()]);
    rmSync(work, { recursive: true, force: true });
  });

  const pin = (digest: string) =>
    writeFileSync(join(inventory, 'lock.yaml'), stringify({ ...lock, images: { multi: { tag: '1', digest } } }));

  it('the whole upstream index, every platform and attestation, when the lock pins the upstream digest', async () => {
    pin(multi.digest);
    const out = join(work, 'full');
    const r = await lumen([
      'bundle',
      'create',
      '--out',
      out,
      '--inventory',
      inventory,
      '--plain-http-registry',
      upstream.host,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /lock\.yaml pins the full upstream index: carrying every platform/);
    const { manifest } = await readBundle(out);
    assert.equal(manifest.images[0]?.digest, multi.digest);
    assert.deepEqual(manifest.images[0]?.platforms, ['linux/amd64', 'linux/arm64', 'linux/s390x', 'unknown/unknown']);
    for (const d of multi.blobs) assert.ok(manifest.blobs[d], `blob ${d} carried`);
    const v = await lumen(['bundle', 'verify', out, '--inventory', inventory]);
    assert.equal(v.code, 0, v.stderr);
    const p = await lumen(['bundle', 'push', out, '--inventory', inventory]);
    assert.equal(p.code, 0, p.stderr);
    const reg = new Registry({ host: airgap.host, plainHttp: true });
    assert.equal((await reg.getManifest('library/multi', '1')).digest, multi.digest, 'the pinned digest is served');
  });

  it('a lock that pins another digest: the tag moved, exit 1, nothing written', async () => {
    pin(`sha256:${'c'.repeat(64)}`);
    const out = join(work, 'moved');
    const r = await lumen([
      'bundle',
      'create',
      '--out',
      out,
      '--inventory',
      inventory,
      '--plain-http-registry',
      upstream.host,
    ]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^lumen: image multi: .* now resolves to sha256:[a-f0-9]{64}, lock\.yaml pins sha256:c{64} \(the tag moved upstream/m,
    );
    assert.equal(existsSync(out), false);
  });

  it('re-running into a bundle with fewer platforms keeps the shared blobs and prunes the rest', async () => {
    pin(multi.digest);
    const out = join(work, 'full');
    const r = await lumen([
      'bundle',
      'create',
      '--out',
      out,
      '--inventory',
      inventory,
      '--plain-http-registry',
      upstream.host,
      '--platform',
      'linux/amd64',
      '--json',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout);
    assert.ok(result.reused > 0 && result.fetched === 0, 'everything was already there');
    assert.ok(result.pruned > 0);
    const present = new Set(readdirSync(join(out, 'blobs', 'sha256')).map((h) => `sha256:${h}`));
    for (const d of multi.platforms['linux/s390x']?.blobs ?? []) assert.equal(present.has(d), false, `${d} pruned`);
    assert.equal((await lumen(['bundle', 'verify', out, '--no-inventory'])).code, 0);
  });

  it('--platform overrides the inventory; bundle verify then reports the difference from the lock', async () => {
    pin(multi.digest);
    const out = join(work, 'amd64');
    const r = await lumen([
      'bundle',
      'create',
      '--out',
      out,
      '--inventory',
      inventory,
      '--plain-http-registry',
      upstream.host,
      '--platform',
      'linux/amd64',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const { manifest } = await readBundle(out);
    assert.deepEqual(manifest.images[0]?.platforms, ['linux/amd64']);
    for (const d of multi.platforms['linux/arm64']?.blobs ?? []) assert.equal(manifest.blobs[d], undefined);
    const v = await lumen(['bundle', 'verify', out, '--inventory', inventory]);
    assert.equal(v.code, 1);
    assert.match(v.stderr, new RegExp(`image multi: bundle has sha256:[a-f0-9]{64}, lock\\.yaml pins ${multi.digest}`));
  });

  it('a single-platform image must be exactly the platform the inventory asks for', async () => {
    const up = new Registry({ host: upstream.host, plainHttp: true });
    const layer = Buffer.from('single-platform layer');
    const config = Buffer.from(
      JSON.stringify({ os: 'linux', architecture: 'amd64', rootfs: { type: 'layers', diff_ids: [digestOf(layer)] } }),
    );
    for (const b of [layer, config])
      await up.uploadBlob('library/single', digestOf(b), b.length, (x, y) => Readable.from([b.subarray(x, y + 1)]));
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.ociManifest,
        config: { mediaType: MediaType.ociConfig, digest: digestOf(config), size: config.length },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: digestOf(layer), size: layer.length }],
      }),
    );
    await up.putManifest('library/single', '1', manifest, MediaType.ociManifest);
    const inv = (platforms: string[], name: string) =>
      writeInventory(join(work, name), {
        registry: airgap.host,
        images: [{ name: 'single', source: `${upstream.host}/library/single`, tag: '1', platforms }],
        charts: [{ name: 'fixture', repo: `oci://${upstream.host}/charts`, chart: 'fixture', version: '0.1.0' }],
      });
    const both = await lumen([
      'inventory',
      'lock',
      '--inventory',
      inv(['linux/amd64', 'linux/arm64'], 'single-both'),
      '--plain-http-registry',
      upstream.host,
    ]);
    assert.equal(both.code, 3);
    assert.match(
      both.stderr,
      /library\/single:1 is a single-platform image \(linux\/amd64\), the inventory asks for linux\/amd64, linux\/arm64/,
    );
    const amd = inv(['linux/amd64'], 'single-amd64');
    assert.equal(
      (await lumen(['inventory', 'lock', '--inventory', amd, '--plain-http-registry', upstream.host])).code,
      0,
    );
    const out = join(work, 'single');
    const r = await lumen([
      'bundle',
      'create',
      '--out',
      out,
      '--inventory',
      amd,
      '--plain-http-registry',
      upstream.host,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await readBundle(out)).manifest.images[0]?.digest, digestOf(manifest));
  });
  it('inventory lock drops the entry of an image removed from the inventory instead of refusing to load', async () => {
    const gone = `sha256:${'9'.repeat(64)}`;
    writeFileSync(
      join(inventory, 'lock.yaml'),
      stringify({ ...lock, images: { ...lock.images, removed: { tag: '2', digest: gone } } }),
    );
    const r = await lumen(['inventory', 'lock', '--inventory', inventory, '--plain-http-registry', upstream.host]);
    assert.equal(r.code, 0, r.stderr);
    const after = parse(readFileSync(join(inventory, 'lock.yaml'), 'utf8'));
    assert.equal(after.images.removed, undefined, 'the stale entry is gone');
    assert.equal(after.images.multi.digest, lock.images.multi?.digest, 'the live entry is kept');
    assert.doesNotMatch(readFileSync(join(inventory, 'lock.yaml'), 'utf8'), new RegExp(gone.slice(7)));
  });
});
