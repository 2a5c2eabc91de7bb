import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { credentialsFromAuthFiles, parseChallenge } from '../src/index.ts';

describe('WWW-Authenticate challenges', () => {
  it('parses Docker Hub bearer challenges, with commas inside quoted scopes', () => {
    assert.deepEqual(
      parseChallenge(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/redis:pull,push"',
      ),
      {
        scheme: 'bearer',
        params: {
          realm: 'https://auth.docker.io/token',
          service: 'registry.docker.io',
          scope: 'repository:library/redis:pull,push',
        },
      },
    );
  });

  it('parses basic challenges and unquoted values', () => {
    assert.deepEqual(parseChallenge('Basic realm="Registry Realm"'), {
      scheme: 'basic',
      params: { realm: 'Registry Realm' },
    });
    assert.deepEqual(parseChallenge('Bearer realm=https://ghcr.io/token, service=ghcr.io'), {
      scheme: 'bearer',
      params: { realm: 'https://ghcr.io/token', service: 'ghcr.io' },
    });
    assert.equal(parseChallenge(''), undefined);
  });
});

describe('credentials from auth files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lumen-auth-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads docker/skopeo auth files, with Docker Hub aliases', () => {
    const file = join(dir, 'auth.json');
    const secret = `p:${Math.random().toString(36).slice(2)}`;
    writeFileSync(
      file,
      JSON.stringify({
        auths: {
          'https://index.docker.io/v1/': { auth: Buffer.from(`hub:${secret}`).toString('base64') },
          '127.0.0.1:5000': { username: 'ci', password: secret },
        },
      }),
    );
    const env = { REGISTRY_AUTH_FILE: file, HOME: dir };
    assert.deepEqual(credentialsFromAuthFiles('docker.io', env), { username: 'hub', password: secret });
    assert.deepEqual(credentialsFromAuthFiles('127.0.0.1:5000', env), { username: 'ci', password: secret });
    assert.equal(
      credentialsFromAuthFiles('ghcr.io', { REGISTRY_AUTH_FILE: file, DOCKER_CONFIG: join(dir, 'none') }),
      undefined,
    );
  });
});
