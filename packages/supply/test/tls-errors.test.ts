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

before(async () => {
  plain = await startRegistry();
  const cert = selfSignedCertificate(work, { name: 'registry', commonName: 'registry', ipSan: '127.0.0.1' });
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

  it('an untrusted certificate: exit 3 at once, naming the CA setting, not retried', async () => {
    const before = requests;
    const r = await lumen(['sign', '--key', join(work, 'keys', 'cosign.key'), `${untrustedHost}/apps/x:1`]);
    assert.equal(r.code, 3, r.stderr);
    const line = lastLine(r.stderr);
    assert.match(
      line,
      /^lumen: .*TLS certificate is not trusted \((DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN)\): .*NODE_EXTRA_CA_CERTS/,
    );
    assert.doesNotMatch(line, /attempts/);
    assert.equal(requests, before, 'no request got through the handshake');
  });
});
