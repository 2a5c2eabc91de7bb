/**
 * One flipped byte in any blob of a bundle makes `bundle verify` fail, naming the blob; so do a
 * missing blob, a truncated one, and a bundle that no longer matches the inventory's lock.
 */
import assert from 'node:assert/strict';
import { readFileSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startRegistry, type Registry as TestRegistry } from '@lumen/testkit';
import { readBundle } from '../src/bundle.ts';
import { type Bundled, bundleOf } from './support/fixture.ts';
import { lumen, runCommand } from './support/run.ts';

describe('bundle verify', () => {
  let upstream: TestRegistry;
  let fx: Bundled;
  let blobs: [string, number][];

  before(async () => {
    upstream = await startRegistry();
    fx = await bundleOf(upstream, '127.0.0.1:5999', { images: 1, layerSizes: [4096, 70 * 1024] });
    blobs = Object.entries((await readBundle(fx.bundle)).manifest.blobs);
  });

  after(async () => {
    await upstream?.close();
    if (fx) rmSync(fx.work, { recursive: true, force: true });
  });

  const path = (digest: string) => join(fx.bundle, 'blobs', 'sha256', digest.slice('sha256:'.length));

  it('passes on an intact bundle, against the inventory', async () => {
    const r = await runCommand('bundle verify', [fx.bundle, '--inventory', fx.inventory]);
    assert.equal(r.code, 0, r.message);
  });

  it('fails naming the blob when one byte of any blob is flipped', async () => {
    assert.ok(blobs.length >= 8, `the bundle has manifests, configs, layers and chart blobs (${blobs.length})`);
    for (const [digest, size] of blobs) {
      const file = path(digest);
      const original = readFileSync(file);
      const flipped = Buffer.from(original);
      const at = Math.floor(size / 2);
      flipped[at] = (flipped[at] ?? 0) ^ 0x01;
      writeFileSync(file, flipped);
      try {
        const r = await runCommand('bundle verify', [fx.bundle, '--no-inventory']);
        assert.equal(r.code, 1, `flipped byte in ${digest} went unnoticed`);
        assert.equal(r.errorCode, 'SUPPLY_BUNDLE_CORRUPT');
        assert.match(r.message ?? '', new RegExp(`blob ${digest} .*is corrupt`));
        // The message names what the blob belongs to (an image's layer, config or manifest; a chart; a file).
        assert.match(r.message ?? '', new RegExp(`blob ${digest} \\((image|chart|file) [^)]+\\) is corrupt`));
        // …and names the blob once: the check's own "digest mismatch for <digest>" prefix is not repeated.
        assert.equal((r.message ?? '').split(digest).length - 1, 1, r.message);
      } finally {
        writeFileSync(file, original);
      }
    }
  });

  it('fails for a missing and for a truncated blob, through the lumen binary', async () => {
    const [layer] = [...blobs].sort((a, b) => b[1] - a[1])[0] ?? [];
    assert.ok(layer);
    const file = path(layer);
    const original = readFileSync(file);
    renameSync(file, `${file}.away`);
    try {
      const r = await lumen(['bundle', 'verify', fx.bundle, '--no-inventory']);
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        new RegExp(`^lumen: bundle .* failed verification: blob ${layer} \\(.*\\) is missing$`, 'm'),
      );
    } finally {
      renameSync(`${file}.away`, file);
    }
    // bundle push refuses the incomplete bundle before sending anything.
    renameSync(file, `${file}.away`);
    try {
      const push = await lumen(['bundle', 'push', fx.bundle, '--registry', '127.0.0.1:1', '--plain-http']);
      assert.equal(push.code, 1);
      assert.match(push.stderr, new RegExp(`^lumen: bundle .* is incomplete: blob ${layer} is missing`, 'm'));
    } finally {
      renameSync(`${file}.away`, file);
    }
    truncateSync(file, 100);
    try {
      const r = await lumen(['bundle', 'verify', fx.bundle, '--no-inventory', '--json']);
      assert.equal(r.code, 1);
      const json = JSON.parse(r.stdout);
      assert.equal(json.ok, false);
      assert.match(json.problems[0], new RegExp(`blob ${layer} .*100 bytes, expected ${original.length}`));
    } finally {
      writeFileSync(file, original);
    }
  });

  it('fails when the lock pins another digest than the bundle carries', async () => {
    const lockFile = join(fx.inventory, 'lock.yaml');
    const lock = readFileSync(lockFile, 'utf8');
    writeFileSync(lockFile, lock.replace(/digest: sha256:[a-f0-9]{64}/, `digest: sha256:${'0'.repeat(64)}`));
    try {
      const r = await runCommand('bundle verify', [fx.bundle, '--inventory', fx.inventory]);
      assert.equal(r.code, 1);
      assert.match(r.message ?? '', /lock\.yaml pins sha256:0{64}/);
    } finally {
      writeFileSync(lockFile, lock);
    }
  });

  it('refuses a directory that is not a bundle', async () => {
    const r = await lumen(['bundle', 'verify', fx.work, '--no-inventory']);
    assert.equal(r.code, 4);
    assert.match(r.stderr, /^lumen: .* is not an OCI image layout/);
  });
  it('bundle push of a blob whose content no longer hashes to its digest: exit 1 (a failed proof), the registry keeps nothing', async () => {
    const [layer] = [...blobs].sort((a, b) => b[1] - a[1])[0] ?? [];
    assert.ok(layer);
    const file = path(layer);
    const original = readFileSync(file);
    const flipped = Buffer.from(original);
    flipped[10] = (flipped[10] ?? 0) ^ 0x01;
    writeFileSync(file, flipped);
    const airgap = await startRegistry();
    try {
      const r = await lumen(['bundle', 'push', fx.bundle, '--registry', airgap.host, '--plain-http']);
      assert.equal(r.code, 1, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(`^lumen: .*does not hash to ${layer} \\(the registry refused it: DIGEST_INVALID\\)`, 'm'),
      );
      const stored = await fetch(`${airgap.url}/v2/${fx.images[0]?.repo}/blobs/${layer}`, { method: 'HEAD' });
      assert.equal(stored.status, 404, 'the corrupt blob is not in the registry');
    } finally {
      writeFileSync(file, original);
      await airgap.close();
    }
  });
});
