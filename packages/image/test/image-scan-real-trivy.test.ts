/**
 * `lumen image scan --sbom` runs the real Trivy (v0.74.0 from the tool cache) on a tiny vulnerability database this
 * test builds itself: tools/trivy-db-fixture writes trivy.db + metadata.json through trivy-db's own packages, the
 * test packages them as the OCI artifact ghcr.io/aquasecurity/trivy-db:2 is (one layer of media type
 * application/vnd.aquasec.trivy.db.layer.v1.tar+gzip titled db.tar.gz), pushes it into a real Distribution
 * registry, and Trivy pulls it from there with --db-repository. The SBOM is the one `lumen image build --sbom`
 * writes (cycloneDx of @lumen/image) for a base of Debian packages and npm packages.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startRegistry, type Registry as TestRegistry } from '@lumen/testkit';
import { copyInventory } from '@lumen/testkit/inventory';
import { runLumen } from '@lumen/testkit/lumen';
import { advisories, pushDatabase, writeSbom } from './support/trivy-db.ts';

const work = mkdtempSync(join(tmpdir(), 'lumen-trivy-'));
const inv = copyInventory();
let registry: TestRegistry;

let sbom: string;
let highDb: string;
let mediumDb: string;
const cache = join(work, 'cache');
const scan = (args: string[], env: Record<string, string> = {}) =>
  runLumen(['image', 'scan', '--inventory', inv.dir, ...args], { env });
const verdicts = (stdout: string) =>
  JSON.parse(stdout).findings.map(
    (f: { id: string; package: string; severity: string; verdict: string }) =>
      `${f.id} ${f.package} ${f.severity} ${f.verdict}`,
  );

before(async () => {
  registry = await startRegistry();
  // The site's airgap registry is the test's: `lumen image scan` takes the database from there by default.
  inv.edit('site.yaml', 'registry: 192.168.2.2:5000', `registry: ${registry.host}`);
  sbom = writeSbom(work);
  highDb = await pushDatabase(work, registry.host, 'aquasecurity/trivy-db', advisories('HIGH'));
  mediumDb = await pushDatabase(work, registry.host, 'lumen/trivy-db-medium', advisories('MEDIUM'));
});

after(async () => {
  await registry?.close();
  inv.remove();
  rmSync(work, { recursive: true, force: true });
});

describe('lumen image scan --sbom (the real Trivy on a tiny database the test builds)', () => {
  it('fails on a fixable HIGH in an npm package, naming it; the Debian findings are judged too', async () => {
    // No --db-repository: the airgap registry of site.yaml, at the path of ghcr.io/aquasecurity/trivy-db:2.
    assert.equal(highDb, `${registry.host}/aquasecurity/trivy-db:2`);
    const r = await scan(['--sbom', sbom, '--cache-dir', cache]);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stdout.trim(), 'fail: CVE-2026-41001 HIGH fastify 5.3.0 → 5.3.3 (Node.js): fixable, not waived');
    assert.match(r.stderr, /FAILED at HIGH: 1 failing, 0 waived, 1 unfixable, 1 below HIGH/);
    // The database now sits in the cache: the next runs use it as it is (--skip-db-update), offline.
    const json = await scan(['--sbom', sbom, '--cache-dir', cache, '--severity', 'LOW', '--json']);
    assert.equal(json.code, 1, json.stderr);
    assert.deepEqual(verdicts(json.stdout), [
      'CVE-2026-41002 libc6 CRITICAL unfixable',
      'CVE-2026-41001 fastify HIGH fail',
      'CVE-2026-41003 tzdata MEDIUM fail',
    ]);
  });

  it('the same finding at MEDIUM in the database passes the gate at HIGH (the severity is read from it)', async () => {
    const r = await scan(['--sbom', sbom, '--db-repository', mediumDb, '--cache-dir', join(work, 'cache-medium')]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /passed at HIGH: 0 failing, 0 waived, 1 unfixable, 2 below HIGH/);
  });

  it('an unfixed CRITICAL passes as unfixable', async () => {
    const r = await scan(['--sbom', sbom, '--cache-dir', cache, '--severity', 'CRITICAL']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /passed at CRITICAL: 0 failing, 0 waived, 1 unfixable, 2 below CRITICAL/);
  });

  it('an unexpired waiver in waivers.yaml lets it pass; a waiver that matched nothing is named stale', async () => {
    inv.write(
      'waivers.yaml',
      `waivers:
  - id: CVE-2026-41001
    package: fastify
    reason: "fastify 5.3.3 is not in the airgap npm mirror yet; reviewed"
    expires: "2999-12-31"
  - id: CVE-2026-40999
    reason: "fixed long ago"
    expires: "2999-12-31"
`,
    );
    try {
      const r = await scan(['--sbom', sbom, '--cache-dir', cache]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(
        r.stdout.trim(),
        'waived: CVE-2026-41001 HIGH fastify 5.3.0 → 5.3.3 (Node.js) until 2999-12-31: fastify 5.3.3 is not in the airgap npm mirror yet; reviewed',
      );
      assert.match(r.stderr, /note: waiver CVE-2026-40999 matched nothing: remove it/);
      assert.match(r.stderr, /passed at HIGH: 0 failing, 1 waived, 1 unfixable, 1 below HIGH/);
    } finally {
      inv.write('waivers.yaml', 'waivers: []\n');
    }
  });

  it('Trivy missing: exit 5 naming where it looked', async () => {
    const r = await scan(['--sbom', sbom, '--cache-dir', cache], { LUMEN_TRIVY: '/nonexistent' });
    assert.equal(r.code, 5, r.stderr);
    assert.match(r.stderr, /^lumen: LUMEN_TRIVY=\/nonexistent is not an executable file$/m);
  });

  it('the database repository unreachable: exit 3 naming it', async () => {
    await registry.stop();
    try {
      const r = await scan(['--sbom', sbom, '--cache-dir', join(work, 'cache-empty')]);
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr, new RegExp(`^lumen: trivy cannot fetch the vulnerability database from ${highDb}: `, 'm'));
      assert.match(r.stderr, /connection refused/, "the cause, in Trivy's words");
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      // A cache that holds the database needs no registry at all.
      const cached = await scan(['--sbom', sbom, '--cache-dir', cache]);
      assert.equal(cached.code, 1, cached.stderr);
    } finally {
      await registry.start();
    }
  });

  it('bad flags: exit 2 with one line', async () => {
    const both = await scan(['--sbom', sbom, '--report', sbom]);
    assert.equal(both.code, 2, both.stderr);
    assert.match(both.stderr, /give exactly one of --sbom FILE \(run Trivy\) and --report FILE/);
    const stray = await scan(['--report', sbom, '--db-repository', highDb]);
    assert.equal(stray.code, 2, stray.stderr);
    assert.match(stray.stderr, /--db-repository and --cache-dir go with --sbom, not --report/);
  });
});
