/**
 * The repository's own inventory: it loads, every upstream image is pinned, and it names every
 * component of the platform (docs/platform.md, Map) — so the bundle, the manifests and the mirror config all
 * start from complete, pinned data.
 */
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  chartRef,
  DIGEST_PATTERN,
  findImageByReference,
  imageRef,
  loadInventory,
  mirrorHosts,
  parseReference,
  unlockedEntries,
  upstreamRef,
} from '../src/index.ts';

const inv = loadInventory();

describe('the real inventory', () => {
  test('loads with the reference site of the seed architecture', () => {
    assert.equal(inv.site.registry, '192.168.2.2:5000');
    assert.equal(inv.site.plainHttp, true);
    assert.equal(inv.site.domain, 'airgap.local');
    assert.equal(inv.site.metallbPool, '192.168.2.100-192.168.2.120');
    assert.deepEqual(
      inv.site.nodes.map((n) => [n.name, n.ip, n.role, n.cpus, n.memoryGiB]),
      [
        ['node-1', '192.168.2.2', 'server', 4, 6],
        ['node-2', '192.168.2.3', 'agent', 2, 4],
      ],
    );
  });

  test('every upstream image is locked to a digest for its current tag (the moving Trivy database is not)', () => {
    const unlocked = inv.images.filter((i) => i.origin === 'upstream' && !i.digest).map((i) => i.name);
    assert.deepEqual(unlocked, ['trivy-db']);
    for (const img of inv.images.filter((i) => i.origin === 'upstream' && !i.artifact)) {
      assert.match(img.digest ?? '', DIGEST_PATTERN, img.name);
      assert.equal(inv.lock.images[img.name]?.tag, img.tag, `${img.name}: lock entry is for its tag`);
    }
  });

  test('what is not locked is exactly what docs/inventory.md says: charts without a found digest, arm64 K3s files', () => {
    // lumen-api is released: pinned to the digest `lumen image build` gave for the commit its comment names.
    const lumenApi = inv.images.find((i) => i.name === 'lumen-api');
    assert.equal(lumenApi?.origin, 'build');
    assert.match(lumenApi?.digest ?? '', DIGEST_PATTERN);
    const missing = unlockedEntries(inv);
    const charts = missing.filter((m) => m.includes(': charts.')).length;
    assert.equal(charts, inv.charts.length - 1, 'only chaos-mesh has a chart digest');
    assert.ok(missing.some((m) => m.includes('files.k3s-arm64:')));
    assert.ok(missing.some((m) => m.includes('files.k3s-airgap-images-arm64:')));
    assert.deepEqual(
      missing.filter((m) => m.includes(': images.')).map((m) => m.split(':')[1]?.trim()),
      ['images.trivy-db'],
      'no image is in the list, only the Trivy database (locked on the day the bundle is made)',
    );
    assert.ok(missing.every((m) => m.startsWith('inventory/lock.yaml: ') || m.includes('lock.yaml: ')));
  });

  test('names every component of the platform in docs/platform.md', () => {
    const components = new Set([...inv.images.map((i) => i.component), ...inv.charts.map((c) => c.component)]);
    for (const c of [
      'cert-manager',
      'gatekeeper',
      'metallb',
      'vault',
      'vault-secrets-operator',
      'cloudnative-pg',
      'lumen-db',
      'traefik',
      'argocd',
      'argo-rollouts',
      'chaos-mesh',
      'kyverno',
      'kube-prometheus-stack',
      'loki',
      'tempo',
      'alloy',
      'falco',
      'gitea',
      'redis',
      'lumen-api',
    ])
      assert.ok(components.has(c), `component ${c} is missing`);
    const names = new Set(inv.images.map((i) => i.name));
    for (const n of [
      'prometheus',
      'alertmanager',
      'grafana',
      'prometheus-operator',
      'node-exporter',
      'kube-state-metrics',
      'postgresql',
      'act-runner',
    ])
      assert.ok(names.has(n), `image ${n} is missing`);
    const files = new Set(inv.files.map((f) => f.name));
    for (const f of ['k3s-amd64', 'k3s-arm64', 'k3s-airgap-images-amd64', 'k3s-airgap-images-arm64'])
      assert.ok(files.has(f), `file ${f} is missing`);
  });

  test('every image carries linux/amd64 and linux/arm64 (the seed runs on arm64 Macs, CI on amd64)', () => {
    for (const img of inv.images.filter((i) => !i.artifact))
      assert.deepEqual([...img.platforms].sort(), ['linux/amd64', 'linux/arm64'], img.name);
  });

  test('the Trivy database is an artifact: one manifest, no platforms', () => {
    assert.deepEqual(
      inv.images.filter((i) => i.artifact).map((i) => [i.name, i.airgapPath, i.platforms]),
      [['trivy-db', 'aquasecurity/trivy-db', []]],
    );
  });

  test('every airgap reference is pinned, in the site registry, and parses back to its parts', () => {
    for (const img of inv.images.filter((i) => i.digest)) {
      const ref = imageRef(inv, img.name);
      const parsed = parseReference(ref);
      assert.equal(parsed.host, '192.168.2.2:5000');
      assert.equal(parsed.path, img.airgapPath);
      assert.equal(parsed.tag, img.tag);
      assert.equal(parsed.digest, img.digest);
      assert.equal(findImageByReference(inv, ref)?.name, img.name);
      if (img.origin === 'upstream') assert.equal(upstreamRef(inv, img.name), `${img.source}:${img.tag}@${img.digest}`);
    }
  });

  test('every chart names a repository, a version and only inventory images', () => {
    for (const chart of inv.charts) {
      const source = chartRef(inv, chart.name);
      assert.equal(source.repoURL, '192.168.2.2:5000/charts');
      assert.equal(source.chart, chart.chart);
      assert.equal(source.targetRevision, chart.version);
      assert.ok(chart.images.length > 0, `${chart.name} deploys images`);
    }
  });

  test('the mirror hosts are exactly the upstream registries of the images', () => {
    assert.deepEqual(mirrorHosts(inv), [
      'docker.gitea.com',
      'docker.io',
      'ghcr.io',
      'quay.io',
      'reg.kyverno.io',
      'registry.k8s.io',
    ]);
  });

  test('cosign.pub is an ECDSA P-256 public key, and no private key is anywhere in inventory/', () => {
    const pem = readFileSync(join(inv.dir, 'cosign.pub'), 'utf8');
    const key = createPublicKey(pem);
    assert.equal(key.asymmetricKeyType, 'ec');
    assert.equal(key.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    for (const file of readdirSync(inv.dir))
      assert.doesNotMatch(readFileSync(join(inv.dir, file), 'utf8'), /PRIVATE KEY/, `${file} holds a private key`);
  });
});
