/**
 * TLS failures are answered at once, with what to do, never retried: HTTPS spoken to a plain-HTTP
 * registry (a real Distribution registry) and a registry whose certificate is not trusted (a real
 * HTTPS server with a self-signed certificate made at run time). Before, both were retried for
 * seconds and ended in OpenSSL's raw text.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Registry, selfSignedCertificate, startRegistry } from '@lumen/testkit';
import { lumen } from './support/run.ts';

const work = mkdtempSync(join(tmpdir(), 'lumen-tls-'));
let plain: Registry;
let untrusted: Server;
let untrustedHost: string;
let requests = 0;
let caFile: string;

before(async () => {
  plain = await startRegistry();
  const cert = selfSignedCertificate(work, { name: 'registry', commonName: 'registry', ipSan: '127.0.0.1' });
  caFile = cert.certFile;
  untrusted = createServer({ key: readFileSync(cert.keyFile), cert: readFileSync(cert.certFile) }, (_req, res) => {
    requests++;
    res.writeHead(200, { 'docker-distribution-api-version': 'registry/2.0' }).end('{}');
  });
  await new Promise<void>((resolve) => untrusted.listen(0, '127.0.0.1', resolve));
  untrustedHost = `127.0.0.1:${(untrusted.address() as AddressInfo).port}`;
  assert.equal((await lumen(['keygen', '--out', join(work, 'keys')])).code, 0);
});
after(async () => {
  await plain?.close();
  untrusted?.close();
  rmSync(work, { recursive: true, force: true });
});

/** One line on stderr, the last. */
const lastLine = (stderr: string) => stderr.trim().split('\n').at(-1) ?? '';

describe('TLS failures', () => {
  it('HTTPS to a plain-HTTP registry: exit 3 at once, naming --plain-http, not retried', async () => {
    const r = await lumen(['sign', '--key', join(work, 'keys', 'cosign.key'), `${plain.host}/apps/x:1`]);
    assert.equal(r.code, 3, r.stderr);
    const line = lastLine(r.stderr);
    assert.match(
      line,
      /^lumen: .*answered a TLS handshake in plain HTTP \(ERR_SSL_WRONG_VERSION_NUMBER\): .*--plain-http/,
    );
    assert.doesNotMatch(line, /attempts|SSL routines/);
  });

  it('an untrusted certificate: exit 3 at once, naming --ca-file, not retried', async () => {
    const before = requests;
    const r = await lumen(['sign', '--key', join(work, 'keys', 'cosign.key'), `${untrustedHost}/apps/x:1`]);
    assert.equal(r.code, 3, r.stderr);
    const line = lastLine(r.stderr);
    assert.match(
      line,
      /^lumen: .*TLS certificate is not trusted \((DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN)\): .*--ca-file ca\.pem/,
    );
    assert.doesNotMatch(line, /attempts/);
    assert.equal(requests, before, 'no request got through the handshake');
  });

  it('--ca-file naming the CA makes the certificate trusted: the requests reach the server', async () => {
    const before = requests;
    const r = await lumen([
      'sign',
      '--key',
      join(work, 'keys', 'cosign.key'),
      '--ca-file',
      caFile,
      `${untrustedHost}/apps/x:1`,
    ]);
    assert.doesNotMatch(r.stderr, /TLS certificate is not trusted/);
    assert.ok(requests > before, `the handshake succeeded and requests got through: ${r.stderr}`);
  });

  it('a --ca-file that cannot be read, or holds no certificate, is bad input: exit 2, naming it', async () => {
    const missing = await lumen([
      'sign',
      '--key',
      join(work, 'keys', 'cosign.key'),
      '--ca-file',
      join(work, 'nope.pem'),
      `${untrustedHost}/apps/x:1`,
    ]);
    assert.equal(missing.code, 2, missing.stderr);
    assert.match(lastLine(missing.stderr), /^lumen: sign: --ca-file .*nope\.pem: cannot read: ENOENT/);
    const notPem = await lumen([
      'bundle',
      'push',
      work,
      '--registry',
      untrustedHost,
      '--ca-file',
      join(work, 'keys', 'cosign.pub'),
    ]);
    assert.equal(notPem.code, 2, notPem.stderr);
    assert.match(lastLine(notPem.stderr), /^lumen: bundle push: --ca-file .*cosign\.pub: no PEM certificate in it/);
  });
});
