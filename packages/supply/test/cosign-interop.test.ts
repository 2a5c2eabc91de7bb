/**
 * Signatures that the real cosign accepts, and the other way round: cosign v3.1.3, built from its
 * Go module into the tool cache (scripts/tools.sh), against a real Distribution registry.
 * - `cosign verify --key` accepts what `lumen sign` signed (legacy `sha256-<hex>.sig` tag);
 * - `lumen verify` accepts what `cosign sign --key` signed into that layout, and cosign 3's default: a
 *   Sigstore bundle (DSSE over an in-toto statement) stored as an OCI referrer, found through the
 *   referrers fallback tag on a registry without the referrers API;
 * - a key pair written by `cosign generate-key-pair` works with `lumen sign`, and lumen's
 *   encrypted key works with `cosign sign`.
 * Keys and passwords are generated at run time. No transparency log exists here: both sides
 * run with the tlog switched off, as an airgapped site does.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Registry } from '@lumen/oci';
import { startRegistry, type Registry as TestRegistry } from '@lumen/testkit';
import { toolPath } from '@lumen/testkit/tools';
import { type SeededImage, seedImage } from './support/images.ts';
import { lumen } from './support/run.ts';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cosign(args: string[], env: Record<string, string> = {}, cwd?: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      toolPath('cosign'),
      args,
      { cwd, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env }, timeout: 120_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout: `${stdout}`, stderr: `${stderr}` }),
    );
  });
}

/** cosign against a plain-HTTP loopback registry, with no transparency log (an airgapped site). */
const verifyFlags = ['--allow-http-registry', '--insecure-ignore-tlog=true'];
/** cosign 3's default: a Sigstore bundle (v0.3) as an OCI referrer. */
const bundleSignFlags = ['--allow-http-registry', '--tlog-upload=false', '--use-signing-config=false', '--yes'];
/** `--new-bundle-format=false` (deprecated in cosign 3) writes the legacy `.sig` layout. */
const signFlags = [
  '--allow-http-registry',
  '--tlog-upload=false',
  '--use-signing-config=false',
  '--new-bundle-format=false',
  '--yes',
];

describe('signatures interoperate with the real cosign', () => {
  const work = mkdtempSync(join(tmpdir(), 'lumen-cosign-'));
  const password = randomBytes(12).toString('base64url');
  let reg: TestRegistry;
  let lumenSigned: SeededImage;
  let cosignSigned: SeededImage;
  let crossSigned: SeededImage;
  let bundleSigned: SeededImage;
  const lumenKeys = join(work, 'lumen');
  const cosignKeys = join(work, 'cosign');
  const at = (image: SeededImage, repo: string) => `${reg.host}/${repo}@${image.digest}`;

  before(async () => {
    reg = await startRegistry();
    const client = new Registry({ host: reg.host, plainHttp: true });
    [lumenSigned, cosignSigned, crossSigned, bundleSigned] = await Promise.all([
      seedImage(client, 'apps/by-lumen', '1', { platforms: ['linux/amd64', 'linux/arm64'] }),
      seedImage(client, 'apps/by-cosign', '1', { platforms: ['linux/amd64'] }),
      seedImage(client, 'apps/cross', '1', { platforms: ['linux/amd64'] }),
      seedImage(client, 'apps/bundle', '1', { platforms: ['linux/amd64', 'linux/arm64'] }),
    ]);
    assert.equal((await lumen(['keygen', '--out', lumenKeys], { COSIGN_PASSWORD: password })).code, 0);
    mkdirSync(cosignKeys, { recursive: true });
    const gen = await cosign(['generate-key-pair'], { COSIGN_PASSWORD: password }, cosignKeys);
    assert.equal(gen.code, 0, gen.stderr);
  });

  after(async () => {
    await reg?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('cosign verify accepts what lumen sign signed', async () => {
    const ref = at(lumenSigned, 'apps/by-lumen');
    const signed = await lumen(['sign', '--key', join(lumenKeys, 'cosign.key'), '--plain-http', ref], {
      COSIGN_PASSWORD: password,
    });
    assert.equal(signed.code, 0, signed.stderr);
    const ok = await cosign(['verify', '--key', join(lumenKeys, 'cosign.pub'), ...verifyFlags, ref]);
    assert.equal(ok.code, 0, ok.stderr);
    const claims = JSON.parse(ok.stdout) as Array<{ critical: { image: { 'docker-manifest-digest': string } } }>;
    assert.equal(claims[0]?.critical.image['docker-manifest-digest'], lumenSigned.digest);
    // The same verification with another key fails: cosign really checked the signature.
    const wrong = await cosign(['verify', '--key', join(cosignKeys, 'cosign.pub'), ...verifyFlags, ref]);
    assert.notEqual(wrong.code, 0);
  });

  it('lumen verify accepts what cosign sign signed (with cosign generate-key-pair keys)', async () => {
    const ref = at(cosignSigned, 'apps/by-cosign');
    const signed = await cosign(['sign', '--key', join(cosignKeys, 'cosign.key'), ...signFlags, ref], {
      COSIGN_PASSWORD: password,
    });
    assert.equal(signed.code, 0, signed.stderr);
    const ok = await lumen(['verify', '--key', join(cosignKeys, 'cosign.pub'), '--plain-http', '--json', ref]);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.equal(JSON.parse(ok.stdout).results[0].verified.length > 0, true);
    const wrong = await lumen(['verify', '--key', join(lumenKeys, 'cosign.pub'), '--plain-http', ref]);
    assert.equal(wrong.code, 1, wrong.stderr);
  });

  it("each side signs with the other's encrypted private key", async () => {
    const ref = at(crossSigned, 'apps/cross');
    const byLumen = await lumen(['sign', '--key', join(cosignKeys, 'cosign.key'), '--plain-http', ref], {
      COSIGN_PASSWORD: password,
    });
    assert.equal(byLumen.code, 0, byLumen.stderr);
    const ok = await cosign(['verify', '--key', join(cosignKeys, 'cosign.pub'), ...verifyFlags, ref]);
    assert.equal(ok.code, 0, ok.stderr);
    const byCosign = await cosign(['sign', '--key', join(lumenKeys, 'cosign.key'), ...signFlags, ref], {
      COSIGN_PASSWORD: password,
    });
    assert.equal(byCosign.code, 0, byCosign.stderr);
    const both = await lumen(['verify', '--key', join(lumenKeys, 'cosign.pub'), '--plain-http', ref]);
    assert.equal(both.code, 0, both.stdout + both.stderr);
  });

  it("lumen verify accepts cosign 3's default format, a Sigstore bundle referrer, and only with the right key", async () => {
    const ref = at(bundleSigned, 'apps/bundle');
    const signed = await cosign(['sign', '--key', join(cosignKeys, 'cosign.key'), ...bundleSignFlags, ref], {
      COSIGN_PASSWORD: password,
    });
    assert.equal(signed.code, 0, signed.stderr);
    // cosign itself accepts it (its own format), so the bundle is what cosign 3 really writes.
    assert.equal((await cosign(['verify', '--key', join(cosignKeys, 'cosign.pub'), ...verifyFlags, ref])).code, 0);
    const ok = await lumen(['verify', '--key', join(cosignKeys, 'cosign.pub'), '--plain-http', '--json', ref]);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    const result = JSON.parse(ok.stdout).results[0];
    assert.deepEqual(
      result.verified.map((v: { format: string }) => v.format),
      ['bundle'],
    );
    const wrong = await lumen(['verify', '--key', join(lumenKeys, 'cosign.pub'), '--plain-http', ref]);
    assert.equal(wrong.code, 1, wrong.stderr);
    assert.match(wrong.stderr, /bundle sha256:[0-9a-f]{64}: signature does not verify with the key/);
  });
});
