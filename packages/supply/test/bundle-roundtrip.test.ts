/**
 * create → verify → push → pull back: a fixture inventory names multi-arch images and two charts
 * (one from a classic Helm repository over HTTPS, one Helm OCI artifact) in a real "upstream"
 * Distribution registry; lumen locks it, bundles it, proves the bundle, pushes it into an
 * "airgap" registry and one behind basic auth, and skopeo reads what lumen pushed.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { digestOf, type ImageIndex, MediaType, parseManifest, Registry } from '@lumen/oci';
import { startRegistry, type Registry as TestRegistry } from '@lumen/testkit';
import { parse } from 'yaml';
import { chartArtifact } from '../src/charts.ts';
import { type ChartRepo, makeChart, startChartRepo } from './support/charts.ts';
import { type SeededImage, seedImage } from './support/images.ts';
import { writeInventory } from './support/inventory.ts';
import { type RecordingProxy, startProxy } from './support/proxy.ts';
import { lumen } from './support/run.ts';

describe('bundle create → verify → push → pull back', () => {
  const work = mkdtempSync(join(tmpdir(), 'lumen-roundtrip-'));
  const bundle = join(work, 'bundle');
  const invDir = join(work, 'inventory');
  const password = randomBytes(12).toString('hex');
  let upstream: TestRegistry;
  let airgap: TestRegistry;
  let locked: TestRegistry;
  let proxy: RecordingProxy;
  let repo: ChartRepo;
  let app: SeededImage;
  let cli: SeededImage;
  let ociChartDigest: string;
  let env: Record<string, string>;
  let k3s: Buffer;

  before(async () => {
    [upstream, airgap, locked] = await Promise.all([
      startRegistry(),
      startRegistry(),
      startRegistry({ auth: { username: 'ci', password } }),
    ]);
    proxy = await startProxy({ host: '127.0.0.1', port: airgap.port });
    const up = new Registry({ host: upstream.host, plainHttp: true });
    const shared = randomBytes(300 * 1024);
    // Upstream publishes more platforms than the inventory carries, plus an attestation entry.
    app = await seedImage(up, 'library/app', '1.0', {
      platforms: ['linux/amd64', 'linux/arm64', 'linux/s390x'],
      shared,
      attestation: true,
    });
    // A Docker manifest list with exactly the inventory's platforms keeps its upstream digest.
    cli = await seedImage(up, 'tools/cli', '2.1', { platforms: ['linux/amd64', 'linux/arm64'], docker: true, shared });
    const demo = makeChart(work, 'demo', '0.1.0');
    k3s = randomBytes(700 * 1024);
    repo = await startChartRepo(work, [{ name: 'demo', version: '0.1.0', archive: demo }], { '/files/k3s': k3s });
    const oci = chartArtifact(makeChart(work, 'ocichart', '1.2.3+build.1'), {
      chart: 'ocichart',
      version: '1.2.3+build.1',
    });
    for (const blob of [oci.config, oci.archive]) {
      await up.uploadBlob('charts/ocichart', digestOf(blob), blob.length, (s, e) =>
        Readable.from([blob.subarray(s, e + 1)]),
      );
    }
    ociChartDigest = await up.putManifest('charts/ocichart', '1.2.3_build.1', oci.manifest, MediaType.ociManifest);
    writeInventory(invDir, {
      registry: airgap.host,
      images: [
        { name: 'app', source: `${upstream.host}/library/app`, tag: '1.0', platforms: ['linux/amd64', 'linux/arm64'] },
        { name: 'cli', source: `${upstream.host}/tools/cli`, tag: '2.1', platforms: ['linux/amd64', 'linux/arm64'] },
      ],
      charts: [
        { name: 'demo', repo: repo.url, chart: 'demo', version: '0.1.0' },
        { name: 'ocichart', repo: `oci://${upstream.host}/charts`, chart: 'ocichart', version: '1.2.3+build.1' },
      ],
      files: [{ name: 'k3s', url: repo.url.replace('/charts', '/files/k3s'), version: 'v1.33.5+k3s1' }],
    });
    env = { NODE_EXTRA_CA_CERTS: repo.caFile, PW: password };
  });

  after(async () => {
    await Promise.allSettled([upstream?.close(), airgap?.close(), locked?.close(), proxy?.close(), repo?.close()]);
    rmSync(work, { recursive: true, force: true });
  });

  it('inventory lock pins the filtered index digest, and the upstream digest when nothing is filtered', async () => {
    // A hand-written entry with a comment: the re-lock replaces the digest and keeps the comment.
    writeFileSync(
      join(invDir, 'lock.yaml'),
      `lockVersion: 1\nimages:\n  # held at 1.0 until the vendor fixes CVE-0000\n  app: { tag: "1.0", digest: sha256:${'0'.repeat(64)} }\n`,
    );
    const r = await lumen(
      ['inventory', 'lock', '--inventory', invDir, '--plain-http-registry', upstream.host, '--json'],
      env,
    );
    assert.equal(r.code, 0, r.stderr);
    const lock = parse(readFileSync(join(invDir, 'lock.yaml'), 'utf8'));
    assert.notEqual(lock.images.app.digest, app.digest, 'app index is filtered to 2 of 4 entries');
    assert.equal(lock.images.app.upstreamDigest, app.digest, 'the upstream index is recorded next to the filtered one');
    assert.match(
      readFileSync(join(invDir, 'lock.yaml'), 'utf8'),
      /# held at 1\.0 until the vendor fixes CVE-0000\n\s+app:/,
    );
    assert.equal(lock.images.cli.digest, cli.digest);
    assert.equal(lock.images.cli.upstreamDigest, undefined);
    assert.equal(lock.images.app.tag, '1.0');
    assert.match(lock.charts.demo.digest, /^sha256:[a-f0-9]{64}$/);
    const json = JSON.parse(r.stdout);
    assert.equal(json.entries.length, 5);
    assert.equal(lock.files.k3s.digest, digestOf(k3s));
  });

  it('bundle create pulls every image, chart and blob once, with a manifest of digests', async () => {
    const r = await lumen(
      ['bundle', 'create', '--out', bundle, '--inventory', invDir, '--plain-http-registry', upstream.host, '--json'],
      env,
    );
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout);
    // Not a terminal: one line per image, chart and file, then the summary.
    const lines = r.stderr.trim().split('\n');
    assert.deepEqual(
      lines.map((l) => l.split(':')[0]).sort(),
      [`bundle ${bundle.split(':')[0]}`, 'chart demo', 'chart ocichart', 'file k3s', 'image app', 'image cli'].sort(),
    );
    assert.match(
      lines.at(-1) ?? '',
      /^bundle .*: 2 images, 2 charts, 1 files, \d+ blobs \(.*\); fetched \d+ .* in [\d.]+ s$/,
    );
    assert.equal(result.images, 2);
    assert.equal(result.charts, 2);
    assert.equal(result.files, 1);
    assert.equal(result.reused, 0);
    assert.deepEqual(
      readFileSync(join(bundle, 'blobs', 'sha256', digestOf(k3s).slice(7))),
      k3s,
      'the file is a blob named by its digest',
    );
    const manifest = JSON.parse(readFileSync(join(bundle, 'lumen-bundle.json'), 'utf8'));
    const lock = parse(readFileSync(join(invDir, 'lock.yaml'), 'utf8'));
    assert.equal(manifest.images.find((i: { name: string }) => i.name === 'app').digest, lock.images.app.digest);
    // Only the two wanted platforms' blobs were carried (s390x and the attestation were not).
    for (const d of app.platforms['linux/s390x']?.blobs.slice(2) ?? []) assert.equal(manifest.blobs[d], undefined);
    for (const d of app.platforms['linux/arm64']?.blobs ?? []) assert.ok(manifest.blobs[d] > 0);
    // The carried index lists exactly the inventory's platforms.
    const index = JSON.parse(
      readFileSync(join(bundle, 'blobs', 'sha256', lock.images.app.digest.slice(7)), 'utf8'),
    ) as ImageIndex;
    assert.deepEqual(
      index.manifests.map((m) => `${m.platform?.os}/${m.platform?.architecture}`),
      ['linux/amd64', 'linux/arm64'],
    );
    assert.ok(!readdirSafe(join(bundle, '.lumen-tmp')).length, 'no temporary files left');
  });

  it('a second bundle create re-verifies and reuses every blob', async () => {
    const r = await lumen(
      ['bundle', 'create', '--out', bundle, '--inventory', invDir, '--plain-http-registry', upstream.host, '--json'],
      env,
    );
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout);
    assert.equal(result.fetched, 0);
    assert.ok(result.reused > 0);
  });

  it('bundle verify proves the bundle against the inventory; bundle ls lists it', async () => {
    const v = await lumen(['bundle', 'verify', bundle, '--inventory', invDir, '--json']);
    assert.equal(v.code, 0, v.stderr);
    assert.equal(JSON.parse(v.stdout).ok, true);
    const ls = await lumen(['bundle', 'ls', bundle]);
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, /image {2}app {2}library\/app:1\.0 {2}linux\/amd64,linux\/arm64 {2}sha256:/);
    assert.match(ls.stdout, /chart {2}ocichart {2}charts\/ocichart:1\.2\.3_build\.1/);
  });

  it('bundle push → pull back gives identical digests', async () => {
    const r = await lumen(['bundle', 'push', bundle, '--registry', proxy.host, '--plain-http', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout);
    assert.ok(result.uploaded > 0);
    assert.ok(result.mounted > 0, 'the layer shared by app and cli is mounted, not sent twice');
    const bundleManifest = JSON.parse(readFileSync(join(bundle, 'lumen-bundle.json'), 'utf8'));
    const reg = new Registry({ host: airgap.host, plainHttp: true });
    for (const img of bundleManifest.images) {
      const top = await reg.getManifest(img.repository, img.tag);
      assert.equal(top.digest, img.digest, `${img.name} tag resolves to the bundle's digest`);
      const { manifest } = parseManifest(top.bytes, top.mediaType);
      for (const child of (manifest as ImageIndex).manifests) {
        const m = await reg.getManifest(img.repository, child.digest);
        const { manifest: pm } = parseManifest(m.bytes, m.mediaType);
        if (!('layers' in pm)) assert.fail('child is an image manifest');
        for (const b of [pm.config, ...pm.layers]) {
          const data = await reg.getBlob(img.repository, b.digest, { size: b.size });
          assert.deepEqual(data, readFileSync(join(bundle, 'blobs', 'sha256', b.digest.slice(7))));
        }
      }
    }
    const oci = await reg.getManifest('charts/ocichart', '1.2.3_build.1');
    assert.equal(oci.digest, ociChartDigest, 'an OCI chart keeps its upstream digest');
    const demo = await reg.getManifest('charts/demo', '0.1.0');
    const { manifest } = parseManifest(demo.bytes, demo.mediaType);
    if (!('layers' in manifest)) assert.fail('chart is an image manifest');
    assert.equal(manifest.config.mediaType, MediaType.helmConfig);
    assert.equal(manifest.layers[0]?.mediaType, MediaType.helmChart);
    const config = JSON.parse((await reg.getBlob('charts/demo', manifest.config.digest)).toString());
    assert.equal(config.name, 'demo');
    assert.equal(config.version, '0.1.0');
  });

  it('skopeo inspect and skopeo copy read what lumen pushed', async () => {
    const lock = parse(readFileSync(join(invDir, 'lock.yaml'), 'utf8'));
    const raw = execFileSync('skopeo', [
      'inspect',
      '--tls-verify=false',
      '--raw',
      `docker://${airgap.host}/library/app:1.0`,
    ]);
    // skopeo prints the raw bytes followed by a newline of its own.
    assert.equal(digestOf(raw.subarray(0, raw.at(-1) === 0x0a ? -1 : undefined)), lock.images.app.digest);
    const arm = JSON.parse(
      execFileSync('skopeo', [
        'inspect',
        '--tls-verify=false',
        '--override-os',
        'linux',
        '--override-arch',
        'arm64',
        `docker://${airgap.host}/library/app:1.0`,
      ]).toString(),
    );
    // skopeo reports the digest of what the tag names (the index) and the config of the chosen platform.
    assert.equal(arm.Digest, lock.images.app.digest);
    assert.equal(arm.Architecture, 'arm64');
    const out = join(work, 'skopeo-copy');
    execFileSync(
      'skopeo',
      ['copy', '--all', '--src-tls-verify=false', `docker://${airgap.host}/tools/cli:2.1`, `oci:${out}:cli`],
      {
        stdio: 'ignore',
      },
    );
    const copied = JSON.parse(readFileSync(join(out, 'index.json'), 'utf8')) as ImageIndex;
    assert.equal(copied.manifests.length, 1);
    // skopeo also reads lumen's bundle directly as an OCI layout (its oci: transport only lists
    // entries with OCI media types, so ask for the OCI-typed image).
    const fromBundle = execFileSync('skopeo', ['inspect', '--raw', `oci:${bundle}:library/app:1.0`]);
    assert.equal(digestOf(fromBundle.subarray(0, fromBundle.at(-1) === 0x0a ? -1 : undefined)), lock.images.app.digest);
  });

  it('a second push of the unchanged bundle uploads no blob', async () => {
    proxy.requests.length = 0;
    const r = await lumen(['bundle', 'push', bundle, '--registry', proxy.host, '--plain-http', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout);
    assert.equal(result.uploaded, 0);
    assert.equal(result.mounted, 0);
    const uploads = proxy.requests.filter(
      (q) => q.method === 'POST' || q.method === 'PATCH' || (q.method === 'PUT' && q.path.includes('/blobs/')),
    );
    assert.deepEqual(uploads, []);
    assert.equal(proxy.requests.filter((q) => q.method === 'PUT').length, 0, 'manifests already there are not re-put');
    assert.ok(proxy.requests.some((q) => q.method === 'HEAD'));
    // Each image and chart already served at its digest is complete there: no blob is even asked about.
    assert.deepEqual(
      proxy.requests.filter((q) => q.method === 'HEAD' && q.path.includes('/blobs/')),
      [],
    );
  });

  it('pushes to a registry behind basic auth with --username/--password-env, and refuses without', async () => {
    const denied = await lumen(['bundle', 'push', bundle, '--registry', locked.host, '--plain-http']);
    assert.equal(denied.code, 3);
    assert.equal(denied.stderr.trim().split('\n').length, 1, denied.stderr);
    assert.match(denied.stderr, /^lumen: .*requires credentials/);
    const ok = await lumen(
      ['bundle', 'push', bundle, '--registry', locked.host, '--plain-http', '--username', 'ci', '--password-env', 'PW'],
      env,
    );
    assert.equal(ok.code, 0, ok.stderr);
    const reg = new Registry({ host: locked.host, plainHttp: true, credentials: { username: 'ci', password } });
    const lock = parse(readFileSync(join(invDir, 'lock.yaml'), 'utf8'));
    assert.equal((await reg.getManifest('library/app', '1.0')).digest, lock.images.app.digest);
  });

  it('bundle create reads from a registry behind basic auth with credentials from REGISTRY_AUTH_FILE', async () => {
    const inv = writeInventory(join(work, 'inventory-auth'), {
      registry: airgap.host,
      images: [
        { name: 'app', source: `${locked.host}/library/app`, tag: '1.0', platforms: ['linux/amd64', 'linux/arm64'] },
      ],
      charts: [{ name: 'ocichart', repo: `oci://${locked.host}/charts`, chart: 'ocichart', version: '1.2.3+build.1' }],
    });
    const authFile = join(work, 'auth.json');
    writeFileSync(
      authFile,
      JSON.stringify({ auths: { [locked.host]: { auth: Buffer.from(`ci:${password}`).toString('base64') } } }),
    );
    const denied = await lumen(['inventory', 'lock', '--inventory', inv, '--plain-http-registry', locked.host]);
    assert.equal(denied.code, 3);
    assert.match(denied.stderr, /requires credentials/);
    const auth = { REGISTRY_AUTH_FILE: authFile };
    const lock = await lumen(['inventory', 'lock', '--inventory', inv, '--plain-http-registry', locked.host], auth);
    assert.equal(lock.code, 0, lock.stderr);
    const out = join(work, 'bundle-auth');
    const r = await lumen(
      ['bundle', 'create', '--out', out, '--inventory', inv, '--plain-http-registry', locked.host, '--json'],
      auth,
    );
    assert.equal(r.code, 0, r.stderr);
    const lockYaml = parse(readFileSync(join(inv, 'lock.yaml'), 'utf8'));
    const first = parse(readFileSync(join(invDir, 'lock.yaml'), 'utf8'));
    assert.equal(lockYaml.images.app.digest, first.images.app.digest, 'the pushed index kept its digest');
  });

  for (const name of ['bundle.tar', 'bundle.tar.zst']) {
    it(`the same round trip through a one-file bundle (${name}): create → verify → push → identical digests`, async () => {
      const file = join(work, name);
      const create = await lumen(
        ['bundle', 'create', '--out', file, '--inventory', invDir, '--plain-http-registry', upstream.host],
        env,
      );
      assert.equal(create.code, 0, create.stderr);
      const verify = await lumen(['bundle', 'verify', file, '--inventory', invDir]);
      assert.equal(verify.code, 0, verify.stderr);
      const target = await startRegistry();
      try {
        const push = await lumen(['bundle', 'push', file, '--registry', target.host, '--plain-http']);
        assert.equal(push.code, 0, push.stderr);
        const fromDir = new Registry({ host: airgap.host, plainHttp: true });
        const fromFile = new Registry({ host: target.host, plainHttp: true });
        for (const [repo, tag] of [
          ['library/app', '1.0'],
          ['tools/cli', '2.1'],
          ['charts/demo', '0.1.0'],
          ['charts/ocichart', '1.2.3_build.1'],
        ] as const) {
          assert.equal(
            (await fromFile.headManifest(repo, tag))?.digest,
            (await fromDir.headManifest(repo, tag))?.digest,
            repo,
          );
        }
      } finally {
        await target.close();
      }
    });
  }
});

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
