/**
 * Image references are parsed as the distribution spec reads them. The case that matters most:
 * a `host:port` registry is never mistaken for a tag, so `192.168.2.2:5000/lumen-api` is untagged
 * (the public implementation's "untagged" check was fooled by exactly that).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatReference, parseReference, resolveAirgapPath } from '../src/index.ts';
import { expectCoded } from './inventory-fixture.ts';

const D = `sha256:${'0123456789abcdef'.repeat(4)}`;

describe('parseReference', () => {
  test('host:port/repo without tag is untagged, the port is not a tag', () => {
    assert.deepEqual(parseReference('192.168.2.2:5000/lumen-api'), {
      host: '192.168.2.2:5000',
      path: 'lumen-api',
      tag: undefined,
      digest: undefined,
    });
    assert.equal(parseReference('localhost:5000/a/b').tag, undefined);
    assert.equal(parseReference('registry.example.com:443/team/app').tag, undefined);
  });

  test('host:port/repo:tag@digest keeps every part apart', () => {
    assert.deepEqual(parseReference(`192.168.2.2:5000/library/redis:8.6.2-alpine@${D}`), {
      host: '192.168.2.2:5000',
      path: 'library/redis',
      tag: '8.6.2-alpine',
      digest: D,
    });
  });

  test('a first component without dot, colon or localhost is a path, not a host', () => {
    assert.deepEqual(parseReference('library/redis:8'), {
      host: undefined,
      path: 'library/redis',
      tag: '8',
      digest: undefined,
    });
    assert.equal(parseReference('localhost/app').host, 'localhost');
    assert.equal(parseReference('redis').tag, undefined);
  });

  test('a digest without tag', () => {
    const ref = parseReference(`quay.io/argoproj/argocd@${D}`);
    assert.equal(ref.tag, undefined);
    assert.equal(ref.digest, D);
  });

  test('formatReference is the inverse of parseReference', () => {
    for (const text of [
      '192.168.2.2:5000/lumen-api',
      `docker.io/library/traefik:v3.7.9@${D}`,
      'redis:8',
      `ghcr.io/a/b@${D}`,
    ])
      assert.equal(formatReference(parseReference(text)), text);
  });

  test('malformed references are refused with a coded error', () => {
    for (const bad of [
      '',
      'Docker.io/Library/Redis:8',
      'docker.io/library/redis:',
      'docker.io/library/redis:8@sha256:abc',
      'docker.io//redis',
      'docker.io/library/redis:bad tag',
      `docker.io/library/redis:${'x'.repeat(129)}`,
    ]) {
      const err = expectCoded(() => parseReference(bad), 'INVENTORY_BAD_REFERENCE');
      assert.equal(err.exitCode, 2);
    }
  });
});

describe('resolveAirgapPath', () => {
  test('drops the upstream host and any tag or digest', () => {
    assert.equal(resolveAirgapPath('docker.io/library/redis'), 'library/redis');
    assert.equal(
      resolveAirgapPath(`quay.io/jetstack/cert-manager-controller:v1.21.1@${D}`),
      'jetstack/cert-manager-controller',
    );
    assert.equal(
      resolveAirgapPath('registry.k8s.io/kube-state-metrics/kube-state-metrics'),
      'kube-state-metrics/kube-state-metrics',
    );
  });

  test('refuses a reference without host: the airgap path would be ambiguous', () => {
    const err = expectCoded(() => resolveAirgapPath('library/redis'), 'INVENTORY_BAD_REFERENCE');
    assert.match(err.message, /write it fully qualified \(docker\.io\/library\/redis\)/);
  });
});
