import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  chartReference,
  formatReference,
  type ImageIndex,
  OciErrorCode,
  parseReference,
  parseReferenceParts,
  selectPlatforms,
} from '../src/index.ts';

const digest = `sha256:${'a'.repeat(64)}`;

describe('parseReference', () => {
  it('takes host:port as the registry, never as a tag', () => {
    assert.deepEqual(parseReference('192.168.2.2:5000/library/redis'), {
      registry: '192.168.2.2:5000',
      repository: 'library/redis',
    });
    assert.deepEqual(parseReference('127.0.0.1:5000/app:1.2'), {
      registry: '127.0.0.1:5000',
      repository: 'app',
      tag: '1.2',
    });
    assert.deepEqual(parseReference(`localhost:5000/a/b:v1@${digest}`), {
      registry: 'localhost:5000',
      repository: 'a/b',
      tag: 'v1',
      digest,
    });
  });

  it('defaults to Docker Hub with library/ for one-component names', () => {
    assert.deepEqual(parseReference('redis:8'), { registry: 'docker.io', repository: 'library/redis', tag: '8' });
    assert.deepEqual(parseReference('grafana/grafana'), { registry: 'docker.io', repository: 'grafana/grafana' });
    assert.deepEqual(parseReference(`ghcr.io/org/app@${digest}`), {
      registry: 'ghcr.io',
      repository: 'org/app',
      digest,
    });
  });

  it('round-trips through formatReference', () => {
    const s = `quay.io/jetstack/cert-manager-controller:v1.18.2@${digest}`;
    assert.equal(formatReference(parseReference(s)), s);
  });

  it('rejects malformed references with a coded error', () => {
    for (const bad of [
      '',
      'UPPER/case',
      'a b',
      'https://ghcr.io/x',
      'ghcr.io/x@sha256:123',
      'ghcr.io/x:bad tag',
      'ghcr.io/x:-lead',
    ]) {
      assert.throws(
        () => parseReference(bad),
        (err: { code?: string; exitCode?: number }) => {
          assert.equal(err.code, OciErrorCode.referenceInvalid);
          assert.equal(err.exitCode, 2);
          return true;
        },
      );
    }
  });
});

describe('parseReferenceParts', () => {
  it('reads a reference as written, implying no registry and no library/', () => {
    assert.deepEqual(parseReferenceParts('redis:8'), { host: undefined, path: 'redis', tag: '8', digest: undefined });
    assert.deepEqual(parseReferenceParts(`[::1]:5000/a/b@${digest}`), {
      host: '[::1]:5000',
      path: 'a/b',
      tag: undefined,
      digest,
    });
    assert.equal(formatReference(parseReferenceParts('lumen/lumen-api:1.0')), 'lumen/lumen-api:1.0');
  });

  it('refuses registry hosts outside the grammar, and untrimmed text', () => {
    for (const bad of ['-ghcr.io/x', 'ghcr..io/x', 'ghcr.io-/x', 'ghcr.io:port/x', ' ghcr.io/x']) {
      assert.throws(() => parseReferenceParts(bad), { code: OciErrorCode.referenceInvalid, exitCode: 2 }, bad);
    }
    assert.deepEqual(parseReference(' ghcr.io/x '), { registry: 'ghcr.io', repository: 'x' }, 'parseReference trims');
  });
});

describe('chartReference', () => {
  it('stores a chart at <registry>/<path>/<chart>:<version>, + written as _', () => {
    const ref = chartReference({
      registry: '127.0.0.1:5000',
      path: 'platform/charts',
      chart: 'metallb',
      version: '0.15.2+b.7',
    });
    assert.deepEqual(ref, { registry: '127.0.0.1:5000', repository: 'platform/charts/metallb', tag: '0.15.2_b.7' });
    assert.equal(formatReference(ref), '127.0.0.1:5000/platform/charts/metallb:0.15.2_b.7');
    assert.equal(chartReference({ registry: 'ghcr.io', path: '', chart: 'app', version: '1.0.0' }).repository, 'app');
  });
});

describe('selectPlatforms', () => {
  const d = (n: string) => `sha256:${n.repeat(64)}`;
  const index: ImageIndex = {
    schemaVersion: 2,
    manifests: [
      { mediaType: 'm', digest: d('1'), size: 1, platform: { os: 'linux', architecture: 'amd64' } },
      { mediaType: 'm', digest: d('2'), size: 1, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
      { mediaType: 'm', digest: d('3'), size: 1, platform: { os: 'linux', architecture: 'arm', variant: 'v7' } },
      { mediaType: 'm', digest: d('4'), size: 1, platform: { os: 'unknown', architecture: 'unknown' } },
    ],
  };

  it('matches arm64 with and without the v8 variant, and arm/v7 exactly', () => {
    assert.deepEqual(
      selectPlatforms(index, ['linux/amd64', 'linux/arm64']).map((m) => m.digest),
      [d('1'), d('2')],
    );
    assert.deepEqual(
      selectPlatforms(index, ['linux/arm64/v8', 'linux/arm/v7']).map((m) => m.digest),
      [d('2'), d('3')],
    );
  });

  it('names the platforms the index has when one is missing', () => {
    assert.throws(
      () => selectPlatforms(index, ['linux/s390x']),
      /platform linux\/s390x not in the image index \(it has linux\/amd64, linux\/arm64\/v8, linux\/arm\/v7\)/,
    );
  });
});
