/**
 * The references other parts of lumen write come from the inventory: pinned airgap image
 * references for manifests, chart sources for Argo CD, upstream references for the bundle.
 * Unknown names and missing digests fail with coded errors (exit code 2), never a bad reference.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import {
  chartDigest,
  chartOciRef,
  chartRef,
  chartRepository,
  findFile,
  findImage,
  findImageByReference,
  imageRef,
  loadInventory,
  mirrorHosts,
  upstreamRef,
} from '../src/index.ts';
import { copyInventory, expectCoded, unreleased } from './inventory-fixture.ts';

const copy = copyInventory();
after(() => copy.remove());
// A site with a registry on another port and a K3s-style '+' chart version, to see both flow through.
copy.edit('site.yaml', 'registry: 192.168.2.2:5000', 'registry: registry.airgap.local:5443');
copy.edit('site.yaml', 'chartsPath: charts', 'chartsPath: platform/charts');
copy.edit('charts.yaml', 'version: 0.15.2', 'version: 0.15.2+build.7');
// Before lumen-api's first release, to see what an unreleased build image says.
unreleased(copy);
const inv = loadInventory(copy.dir);

describe('imageRef', () => {
  test('is <registry>/<upstream path>:<tag>@<digest>', () => {
    const img = findImage(inv, 'cert-manager-controller');
    assert.equal(
      imageRef(inv, 'cert-manager-controller'),
      `registry.airgap.local:5443/jetstack/cert-manager-controller:v1.21.1@${img.digest}`,
    );
    assert.match(
      imageRef(inv, 'redis'),
      /^registry\.airgap\.local:5443\/library\/redis:8\.6\.2-alpine@sha256:[a-f0-9]{64}$/,
    );
  });

  test('an unknown name is INVENTORY_UNKNOWN_IMAGE with exit code 2', () => {
    const err = expectCoded(() => imageRef(inv, 'nginx'), 'INVENTORY_UNKNOWN_IMAGE');
    assert.equal(err.exitCode, 2);
    assert.match(err.message, /no image named 'nginx' in .*images\.yaml/);
  });

  test('the build image lumen-api has no digest until a release: INVENTORY_NOT_LOCKED says why', () => {
    const err = expectCoded(() => imageRef(inv, 'lumen-api'), 'INVENTORY_NOT_LOCKED');
    assert.match(
      err.message,
      /images\.lumen-api: no digest for tag 0\.1\.0: a build image is pinned by 'lumen release bump'/,
    );
  });

  test('an upstream image locked for another tag is not pinned to the old digest', () => {
    const c = copyInventory();
    try {
      c.edit('images.yaml', 'tag: v3.7.9', 'tag: v3.7.10');
      const moved = loadInventory(c.dir);
      const err = expectCoded(() => imageRef(moved, 'traefik'), 'INVENTORY_NOT_LOCKED');
      assert.match(err.message, /locked for tag v3\.7\.9 but the inventory says v3\.7\.10/);
    } finally {
      c.remove();
    }
  });
});

describe('upstreamRef and findImageByReference', () => {
  test('upstreamRef is pinned by default and can be asked for the bare tag', () => {
    const img = findImage(inv, 'argocd');
    assert.equal(upstreamRef(inv, 'argocd'), `quay.io/argoproj/argocd:v3.4.4@${img.digest}`);
    assert.equal(upstreamRef(inv, 'argocd', { pinned: false }), 'quay.io/argoproj/argocd:v3.4.4');
    expectCoded(() => upstreamRef(inv, 'lumen-api'), 'INVENTORY_INVALID');
  });

  test('finds the inventory image behind an airgap or upstream reference, and nothing for a wrong tag or digest', () => {
    const img = findImage(inv, 'grafana');
    assert.equal(
      findImageByReference(inv, `registry.airgap.local:5443/grafana/grafana:13.1.1@${img.digest}`)?.name,
      'grafana',
    );
    assert.equal(findImageByReference(inv, 'docker.io/grafana/grafana:13.1.1')?.name, 'grafana');
    assert.equal(findImageByReference(inv, 'registry.airgap.local:5443/grafana/grafana:13.0.0'), undefined);
    assert.equal(
      findImageByReference(inv, `registry.airgap.local:5443/grafana/grafana@sha256:${'f'.repeat(64)}`),
      undefined,
    );
    assert.equal(
      findImageByReference(inv, 'quay.io/grafana/grafana:13.1.1'),
      undefined,
      'another host is another image',
    );
    assert.equal(findImageByReference(inv, 'registry.airgap.local:5443/lumen/lumen-api:0.1.0')?.name, 'lumen-api');
  });

  test('mirrorHosts leaves out the airgap registry of build images', () => {
    assert.ok(!mirrorHosts(inv).includes('registry.airgap.local:5443'));
    assert.ok(mirrorHosts(inv).includes('quay.io'));
  });
});

describe('chart references', () => {
  test('chartRef is the Argo CD Helm-OCI source in the airgap registry', () => {
    assert.deepEqual(chartRef(inv, 'traefik'), {
      repoURL: 'registry.airgap.local:5443/platform/charts',
      chart: 'traefik',
      targetRevision: '41.1.0',
    });
    assert.deepEqual(chartRepository(inv), {
      url: 'registry.airgap.local:5443/platform/charts',
      ociUrl: 'oci://registry.airgap.local:5443/platform/charts',
      plainHttp: true,
    });
  });

  test('chartOciRef turns + into _ as OCI tags require', () => {
    assert.equal(chartOciRef(inv, 'metallb'), 'registry.airgap.local:5443/platform/charts/metallb:0.15.2_build.7');
  });

  test('chartDigest returns the locked archive digest, or INVENTORY_NOT_LOCKED', () => {
    assert.match(chartDigest(inv, 'chaos-mesh'), /^sha256:52c7858f/);
    const err = expectCoded(() => chartDigest(inv, 'traefik'), 'INVENTORY_NOT_LOCKED');
    assert.match(err.message, /charts\.traefik: no digest for version 41\.1\.0/);
  });

  test('unknown charts and files have their own codes', () => {
    expectCoded(() => chartRef(inv, 'nginx-ingress'), 'INVENTORY_UNKNOWN_CHART');
    expectCoded(() => findFile(inv, 'k3s-riscv64'), 'INVENTORY_UNKNOWN_FILE');
    assert.match(findFile(inv, 'k3s-amd64').digest ?? '', /^sha256:835873f3/);
  });
});
