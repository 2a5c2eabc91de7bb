/**
 * The distribution client against real Distribution registries: token auth as Docker Hub, ghcr
 * and quay do it (a registry configured for `auth: token` with a token service made here), basic
 * auth (testkit's htpasswd registry), chunked uploads and their status, cross-repository mount,
 * retries on 5xx, and the digest check on everything read (a server that lies is the only way to
 * test that one).
 */
import assert from 'node:assert/strict';
import { createPrivateKey, randomBytes, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { selfSignedCertificate, startRegistry, type Registry as TestRegistry } from '@lumen/testkit';
import { digestOf, MediaType, OciErrorCode, Registry } from '../src/index.ts';

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

async function listen(server: Server): Promise<number> {
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return (server.address() as AddressInfo).port;
}

function counting(log: string[]): (method: string, url: string) => void {
  return (method, url) => log.push(`${method} ${new URL(url).pathname}`);
}

async function pushBlob(reg: Registry, repo: string, data: Buffer): Promise<string> {
  const d = digestOf(data);
  await reg.uploadBlob(repo, d, data.length, (s, e) => Readable.from([data.subarray(s, e + 1)]));
  return d;
}

describe('registry client', () => {
  const work = mkdtempSync(join(tmpdir(), 'lumen-oci-'));
  let plain: TestRegistry;
  let tokenRegistry: TestRegistry | undefined;
  let tokenHost = '';
  let tokenServer: Server;
  const tokenRequests: string[] = [];
  /** Authorization header of each token request (undefined: anonymous). */
  const tokenAuth: (string | undefined)[] = [];
  const password = randomBytes(10).toString('hex');
  const servers: Server[] = [];

  before(async () => {
    plain = await startRegistry();
    // Token auth: a JWT service (ES256, x5c chain) and a registry that trusts its certificate.
    const { keyFile: key, certFile: cert } = selfSignedCertificate(work, { name: 'token', commonName: 'lumen-token' });
    const signingKey = createPrivateKey(readFileSync(key));
    const certDer = Buffer.from(readFileSync(cert, 'utf8').replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
    tokenServer = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      tokenRequests.push(url.searchParams.getAll('scope').join(' '));
      tokenAuth.push(req.headers.authorization);
      const scopes = url.searchParams.getAll('scope');
      const anonymousPublicPull = scopes.length > 0 && scopes.every((sc) => /^repository:public\/[^:]+:pull$/.test(sc));
      if (
        !anonymousPublicPull &&
        req.headers.authorization !== `Basic ${Buffer.from(`ci:${password}`).toString('base64')}`
      ) {
        res.writeHead(401).end();
        return;
      }
      const access = url.searchParams.getAll('scope').map((s) => {
        const [type, name, actions] = s.split(':');
        return { type, name, actions: (actions ?? '').split(',') };
      });
      const now = Math.floor(Date.now() / 1000);
      const header = b64url(JSON.stringify({ alg: 'ES256', typ: 'JWT', x5c: [certDer.toString('base64')] }));
      const claims = b64url(
        JSON.stringify({
          iss: 'lumen-test',
          sub: 'ci',
          aud: url.searchParams.get('service'),
          exp: now + 300,
          nbf: now - 10,
          iat: now,
          jti: randomBytes(8).toString('hex'),
          access,
        }),
      );
      const sig = sign('sha256', Buffer.from(`${header}.${claims}`), { key: signingKey, dsaEncoding: 'ieee-p1363' });
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ token: `${header}.${claims}.${b64url(sig)}` }));
    });
    const tokenPort = await listen(tokenServer);
    tokenRegistry = await startRegistry({
      token: {
        realm: `http://127.0.0.1:${tokenPort}/token`,
        service: 'lumen-registry',
        issuer: 'lumen-test',
        rootCertBundle: cert,
      },
    });
    tokenHost = tokenRegistry.host;
  });

  after(async () => {
    await Promise.allSettled([
      plain?.close(),
      tokenRegistry?.close(),
      new Promise((ok) => tokenServer?.close(ok)),
      ...servers.map((s) => new Promise((ok) => s.close(ok))),
    ]);
    rmSync(work, { recursive: true, force: true });
  });

  it('authenticates with bearer tokens from the realm of the challenge, reusing them per scope', async () => {
    const reg = new Registry({ host: tokenHost, plainHttp: true, credentials: { username: 'ci', password } });
    const data = randomBytes(50_000);
    const d = await pushBlob(reg, 'team/app', data);
    assert.deepEqual(await reg.getBlob('team/app', d), data);
    assert.ok(tokenRequests.some((s) => s.includes('repository:team/app:pull,push')));
    const before = tokenRequests.length;
    await reg.getBlob('team/app', d);
    await reg.hasBlob('team/app', d);
    assert.equal(tokenRequests.length, before, 'the pull token is cached');
    const anonymous = new Registry({ host: tokenHost, plainHttp: true, retries: 0 });
    await assert.rejects(anonymous.hasBlob('team/app', d), (err: { code?: string; exitCode?: number }) => {
      assert.equal(err.code, OciErrorCode.unauthorized);
      assert.equal(err.exitCode, 3);
      return true;
    });
  });

  it('switches to basic auth when the registry asks for it, naming the user it refuses', async () => {
    const basic = await startRegistry({ auth: { username: 'ci', password } });
    try {
      const reg = new Registry({ host: basic.host, plainHttp: true, credentials: { username: 'ci', password } });
      const data = randomBytes(5_000);
      const d = await pushBlob(reg, 'basic/app', data);
      assert.deepEqual(await reg.getBlob('basic/app', d), data);
      const wrong = new Registry({
        host: basic.host,
        plainHttp: true,
        credentials: { username: 'ci', password: 'no' },
      });
      await assert.rejects(wrong.hasBlob('basic/app', d), { code: OciErrorCode.unauthorized, exitCode: 3 });
      await assert.rejects(wrong.hasBlob('basic/app', d), /refused HEAD .* \(401\) for user 'ci'/);
      const anonymous = new Registry({ host: basic.host, plainHttp: true });
      await assert.rejects(anonymous.ping(), /requires credentials \(basic auth\)/);
    } finally {
      await basic.close();
    }
  });

  it('uploads in chunks (POST, PATCH…, PUT ?digest=) and reports an open session’s offset', async () => {
    const log: string[] = [];
    const reg = new Registry({ host: plain.host, plainHttp: true, chunkSize: 64 * 1024, onRequest: counting(log) });
    const data = randomBytes(300 * 1024);
    const d = await pushBlob(reg, 'chunks/a', data);
    assert.equal(log.filter((l) => l.startsWith('PATCH')).length, 5);
    assert.equal(log.filter((l) => l.startsWith('POST')).length, 1);
    assert.deepEqual(await reg.getBlob('chunks/a', d, { size: data.length }), data);
    // An open session: the registry's Range tells where to resume.
    const location = await reg.startUpload('chunks/b');
    const res = await fetch(new URL(location, plain.url), {
      method: 'PATCH',
      headers: { 'content-type': 'application/octet-stream', 'content-range': '0-999', 'content-length': '1000' },
      body: data.subarray(0, 1000),
    });
    await res.arrayBuffer();
    assert.equal(res.status, 202);
    const status = await reg.uploadStatus('chunks/b', res.headers.get('location') ?? location);
    assert.equal(status?.offset, 1000);
  });

  it('sends a blob of up to 64 MiB (the default chunk) in the closing PUT, with no PATCH', async () => {
    const log: string[] = [];
    const reg = new Registry({ host: plain.host, plainHttp: true, onRequest: counting(log) });
    assert.equal(reg.chunkSize, 64 * 1024 * 1024);
    const data = randomBytes(20 * 1024 * 1024);
    const d = await pushBlob(reg, 'whole/a', data);
    assert.deepEqual(
      log.map((l) => l.split(' ')[0]),
      ['POST', 'PUT'],
    );
    assert.equal(await reg.hasBlob('whole/a', d), true);
  });

  it('mounts a blob from another repository instead of uploading it', async () => {
    const reg = new Registry({ host: plain.host, plainHttp: true });
    const d = await pushBlob(reg, 'mount/src', randomBytes(10_000));
    assert.equal(await reg.hasBlob('mount/dst', d), false);
    assert.equal(await reg.mountBlob('mount/dst', d, 'mount/src'), true);
    assert.equal(await reg.hasBlob('mount/dst', d), true);
    assert.equal(await reg.mountBlob('mount/dst2', digestOf('absent'), 'mount/src'), false);
  });

  it('needs the OCI media type in Accept for OCI manifests, and sends it', async () => {
    const reg = new Registry({ host: plain.host, plainHttp: true });
    const config = Buffer.from('{}');
    const cd = await pushBlob(reg, 'oci/m', config);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.ociManifest,
        config: { mediaType: MediaType.ociConfig, digest: cd, size: 2 },
        layers: [],
      }),
    );
    await reg.putManifest('oci/m', 'v1', manifest, MediaType.ociManifest);
    const bare = await fetch(`${plain.url}/v2/oci/m/manifests/v1`);
    await bare.arrayBuffer();
    assert.equal(bare.status, 404, 'Distribution hides OCI manifests from clients that do not ask for them');
    const got = await reg.getManifest('oci/m', 'v1');
    assert.equal(got.digest, digestOf(manifest));
    assert.equal(got.mediaType, MediaType.ociManifest);
  });

  it('retries 5xx with backoff, then succeeds', async () => {
    let failures = 2;
    const flaky = createServer((req, res) => {
      if (failures-- > 0) {
        res.writeHead(503).end();
        return;
      }
      fetch(`${plain.url}${req.url}`, {
        method: req.method ?? 'GET',
        headers: { accept: String(req.headers.accept ?? '') },
      }).then(async (r) => {
        res.writeHead(r.status, Object.fromEntries(r.headers)).end(Buffer.from(await r.arrayBuffer()));
      });
    });
    servers.push(flaky);
    const port = await listen(flaky);
    const reg = new Registry({ host: `127.0.0.1:${port}`, plainHttp: true, retryBaseMs: 5 });
    const got = await reg.getManifest('oci/m', 'v1');
    assert.equal(got.mediaType, MediaType.ociManifest);
    assert.equal(failures, -1);
    const gone = new Registry({ host: `127.0.0.1:${port}`, plainHttp: true, retries: 1, retryBaseMs: 5 });
    failures = 5;
    await assert.rejects(gone.getManifest('oci/m', 'v1'), /HTTP 503/);
    await assert.rejects(gone.getManifest('oci/m', 'v1'), {
      status: 503,
      attempts: 2,
      message: /HTTP 503 \(after 2 attempts\)$/,
    });
  });

  it('refuses content that does not hash to its digest', async () => {
    const real = randomBytes(1000);
    const d = digestOf(real);
    const liar = createServer((req, res) => {
      if (req.url?.includes('/blobs/')) res.writeHead(200, { 'content-length': '1000' }).end(randomBytes(1000));
      else
        res
          .writeHead(200, { 'content-type': MediaType.ociManifest, 'docker-content-digest': d })
          .end('{"schemaVersion":2,"config":{},"layers":[]}');
    });
    servers.push(liar);
    const port = await listen(liar);
    const reg = new Registry({ host: `127.0.0.1:${port}`, plainHttp: true });
    await assert.rejects(reg.getBlob('x/y', d), (err: { code?: string }) => err.code === OciErrorCode.digestMismatch);
    await assert.rejects(
      reg.getManifest('x/y', 'v1'),
      (err: { code?: string }) => err.code === OciErrorCode.digestMismatch,
    );
    await assert.rejects(reg.getManifest('x/y', d), /hashes to sha256:.*expected/);
  });

  it('follows a redirect to another registry and takes an anonymous token there, never sending our credentials', async () => {
    const pusher = new Registry({ host: tokenHost, plainHttp: true, credentials: { username: 'ci', password } });
    const data = randomBytes(20_000);
    const d = await pushBlob(pusher, 'public/app', data);
    const seen: string[] = [];
    // Like registry.k8s.io: blob GETs answered with a redirect to a registry elsewhere.
    const front = createServer((req, res) => {
      seen.push(req.url ?? '');
      if (req.url === '/v2/') {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="front"' }).end();
        return;
      }
      res.writeHead(307, { location: `http://${tokenHost}/v2/public/app/blobs/${d}` }).end();
    });
    servers.push(front);
    const port = await listen(front);
    const reg = new Registry({
      host: `127.0.0.1:${port}`,
      plainHttp: true,
      credentials: { username: 'front-user', password: 'front-secret' },
    });
    const before = tokenRequests.length;
    assert.deepEqual(await reg.getBlob('mirror/app', d, { size: data.length }), data);
    assert.equal(tokenRequests.length, before + 1, 'one anonymous token for the other registry');
    assert.equal(tokenRequests.at(-1), 'repository:public/app:pull');
    assert.equal(tokenAuth.at(-1), undefined, 'the token service of the other registry never sees our credentials');
    assert.ok(seen.includes(`/v2/mirror/app/blobs/${d}`));
  });
});
