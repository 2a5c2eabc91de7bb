/**
 * Trivy's vulnerability database travels like everything else: an `artifact: true` entry of images.yaml is locked,
 * carried by `bundle create`, proven by `bundle verify`, pushed by `bundle push`, and the real Trivy behind
 * `lumen image scan --sbom` then reads it from the airgap registry, where the scan gate looks by default. Two real
 * Distribution registries stand for upstream (ghcr.io) and the airgap registry; the database is a tiny one the test
 * builds (support/trivy-db.ts).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startRegistry, type Registry as TestRegistry } from '@lumen/testkit';
import { runLumen } from '@lumen/testkit/lumen';
import { stringify } from 'yaml';
import { advisories, pushDatabase, writeSbom } from './support/trivy-db.ts';

const work = mkdtempSync(join(tmpdir(), 'lumen-trivy-gap-'));
const invDir = join(work, 'inventory');
const bundle = join(work, 'bundle');
let upstream: TestRegistry;
let airgap: TestRegistry;
let sbom: string;

function writeImages(entry: Record<string, unknown>): void {
  writeFileSync(
    join(invDir, 'images.yaml'),
    stringify({ images: [{ name: 'trivy-db', component: 'gitea', ...entry }] }),
  );
}

const lumen = (args: string[]) => runLumen([...args, '--inventory', invDir]);
const fromUpstream = () => ['--plain-http-registry', upstream.host];

before(async () => {
  [upstream, airgap] = await Promise.all([startRegistry(), startRegistry()]);
  await pushDatabase(work, upstream.host, 'aquasecurity/trivy-db', advisories('HIGH'));
  mkdirSync(invDir, { recursive: true });
  // A carry-only site: the airgap registry is all the scan gate and the push need.
  writeFileSync(join(invDir, 'site.yaml'), stringify({ registry: airgap.host, plainHttp: true }));
  writeImages({ source: `${upstream.host}/aquasecurity/trivy-db`, tag: '2', artifact: true });
  sbom = writeSbom(work);
});

after(async () => {
  await Promise.allSettled([upstream?.close(), airgap?.close()]);
  rmSync(work, { recursive: true, force: true });
});

describe("Trivy's database crosses the gap as an inventory artifact", () => {
  it('is locked, bundled, verified and pushed; the real Trivy then finds the planted advisory from the airgap registry', async () => {
    const lock = await lumen(['inventory', 'lock', ...fromUpstream()]);
    assert.equal(lock.code, 0, lock.stderr);
    assert.match(
      readFileSync(join(invDir, 'lock.yaml'), 'utf8'),
      /trivy-db:\n\s+tag: "?2"?\n\s+digest: sha256:[0-9a-f]{64}/,
    );

    const create = await lumen(['bundle', 'create', '--out', bundle, ...fromUpstream(), '--json']);
    assert.equal(create.code, 0, create.stderr);
    const made = JSON.parse(create.stdout) as { images: number; blobs: number };
    assert.equal(made.images, 1);
    assert.equal(made.blobs, 3, 'manifest, config and the database layer');
    const ls = await runLumen(['bundle', 'ls', bundle]);
    assert.match(ls.stdout, /^image {2}trivy-db {2}aquasecurity\/trivy-db:2 {2}artifact {2}sha256:/m);
    const verify = await lumen(['bundle', 'verify', bundle]);
    assert.equal(verify.code, 0, verify.stderr);
    const push = await lumen(['bundle', 'push', bundle]);
    assert.equal(push.code, 0, push.stderr);

    // No --db-repository: the scan gate reads <site registry>/aquasecurity/trivy-db:2, where the push put it.
    const scan = await lumen(['image', 'scan', '--sbom', sbom, '--cache-dir', join(work, 'cache')]);
    assert.equal(scan.code, 1, scan.stderr);
    assert.equal(scan.stdout.trim(), 'fail: CVE-2026-41001 HIGH fastify 5.3.0 → 5.3.3 (Node.js): fixable, not waived');
  });

  it('a database that moved upstream after the lock is refused by bundle create (exit 1), naming the fix', async () => {
    // Trivy publishes a new database under the same tag several times a day.
    await pushDatabase(work, upstream.host, 'aquasecurity/trivy-db', advisories('MEDIUM'));
    const create = await lumen(['bundle', 'create', '--out', join(work, 'bundle-moved'), ...fromUpstream()]);
    assert.equal(create.code, 1, create.stderr);
    assert.match(
      create.stderr,
      /image trivy-db: .* now resolves to sha256:.*lock\.yaml pins sha256:.*run 'lumen inventory lock'/,
    );
    const relock = await lumen(['inventory', 'lock', ...fromUpstream()]);
    assert.equal(relock.code, 0, relock.stderr);
    const again = await lumen(['bundle', 'create', '--out', join(work, 'bundle-moved'), ...fromUpstream()]);
    assert.equal(again.code, 0, again.stderr);
  });

  it('an artifact entry with platforms, or an image entry without them, is bad input (exit 2)', async () => {
    const source = `${upstream.host}/aquasecurity/trivy-db`;
    try {
      writeImages({ source, tag: '2', artifact: true, platforms: ['linux/amd64'] });
      const withPlatforms = await lumen(['inventory', 'lock', ...fromUpstream()]);
      assert.equal(withPlatforms.code, 2, withPlatforms.stderr);
      assert.match(withPlatforms.stderr, /platforms.*an artifact is one manifest: it has no platforms/);
      writeImages({ source, tag: '2' });
      const without = await lumen(['inventory', 'lock', ...fromUpstream()]);
      assert.equal(without.code, 2, without.stderr);
      assert.match(without.stderr, /platforms.*required: at least one platform to carry/);
    } finally {
      writeImages({ source, tag: '2', artifact: true });
    }
  });
});
