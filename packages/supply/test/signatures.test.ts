/**
 * Cosign-compatible signatures: keygen writes cosign's key formats, `sign` stores the legacy
 * layout of docs/supply-chain.md, Signature format (tag sha256-<hex>.sig, simple-signing layer, signature annotation),
 * `verify` accepts lumen's signatures and rejects a wrong key, a tampered payload and an
 * unsigned image; openssl verifies the payload independently, and `bundle push` carries the
 * signature tags across.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, scryptSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { digestOf, type ImageManifest, MediaType, Registry } from '@lumen/oci';
import { startRegistry, type Registry as TestRegistry } from '@lumen/testkit';
import { xsalsa20poly1305 } from '@noble/ciphers/salsa.js';
import { readBundle } from '../src/bundle.ts';
import { signatureTag } from '../src/signature.ts';
import { type Bundled, bundleOf } from './support/fixture.ts';
import { type SeededImage, seedImage } from './support/images.ts';
import { lumen } from './support/run.ts';

function pemBody(text: string, type: string): Buffer {
  const m = new RegExp(`-----BEGIN ${type}-----\\n([\\s\\S]*?)-----END ${type}-----`).exec(text);
  assert.ok(m?.[1], `a ${type} PEM block`);
  return Buffer.from(m[1].replace(/\s+/g, ''), 'base64');
}

describe('keygen, sign and verify', () => {
  const work = mkdtempSync(join(tmpdir(), 'lumen-sign-'));
  const password = randomBytes(9).toString('base64');
  let reg: TestRegistry;
  let airgap: TestRegistry;
  let client: Registry;
  let signed: SeededImage;
  let unsigned: SeededImage;
  let fx: Bundled;
  const plainKeys = join(work, 'plain');
  const encKeys = join(work, 'enc');
  const otherKeys = join(work, 'other');
  let ref: string;

  before(async () => {
    [reg, airgap] = await Promise.all([startRegistry(), startRegistry()]);
    client = new Registry({ host: reg.host, plainHttp: true });
    signed = await seedImage(client, 'apps/api', '1', { platforms: ['linux/amd64', 'linux/arm64'] });
    unsigned = await seedImage(client, 'apps/other', '1', { platforms: ['linux/amd64'] });
    ref = `${reg.host}/apps/api:1`;
  });

  after(async () => {
    await Promise.allSettled([reg?.close(), airgap?.close()]);
    rmSync(work, { recursive: true, force: true });
    if (fx) rmSync(fx.work, { recursive: true, force: true });
  });

  it('keygen writes an unencrypted PKCS#8 cosign.key (0600) and cosign.pub, and never overwrites', async () => {
    const r = await lumen(['keygen', '--out', plainKeys]);
    assert.equal(r.code, 0, r.stderr);
    const key = readFileSync(join(plainKeys, 'cosign.key'), 'utf8');
    assert.match(key, new RegExp(`^-----BEGIN ${'PRIVATE'} KEY-----\n`));
    assert.equal(statSync(join(plainKeys, 'cosign.key')).mode & 0o777, 0o600);
    const pub = createPublicKey(readFileSync(join(plainKeys, 'cosign.pub'), 'utf8'));
    assert.equal(pub.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.deepEqual(
      createPublicKey(createPrivateKey(key)).export({ format: 'der', type: 'spki' }),
      pub.export({ format: 'der', type: 'spki' }),
    );
    const again = await lumen(['keygen', '--out', plainKeys]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /^lumen: .*cosign\.key exists \(use --force/);
    assert.equal(readFileSync(join(plainKeys, 'cosign.key'), 'utf8'), key, 'the key is untouched');
    assert.equal((await lumen(['keygen', '--out', otherKeys])).code, 0);
  });

  it("keygen with COSIGN_PASSWORD writes cosign's encrypted format (scrypt + NaCl secretbox around PKCS#8)", async () => {
    const r = await lumen(['keygen', '--out', encKeys], { COSIGN_PASSWORD: password });
    assert.equal(r.code, 0, r.stderr);
    const text = readFileSync(join(encKeys, 'cosign.key'), 'utf8');
    const body = JSON.parse(pemBody(text, 'ENCRYPTED SIGSTORE PRIVATE KEY').toString());
    assert.equal(body.kdf.name, 'scrypt');
    assert.deepEqual(body.kdf.params, { N: 32768, r: 8, p: 1 });
    assert.equal(Buffer.from(body.kdf.salt, 'base64').length, 32);
    assert.equal(body.cipher.name, 'nacl/secretbox');
    // Decrypt with an independent secretbox implementation (@noble/ciphers).
    const key = scryptSync(password, Buffer.from(body.kdf.salt, 'base64'), 32, {
      N: 32768,
      r: 8,
      p: 1,
      maxmem: 64 << 20,
    });
    const der = xsalsa20poly1305(key, Buffer.from(body.cipher.nonce, 'base64')).decrypt(
      Buffer.from(body.ciphertext, 'base64'),
    );
    const priv = createPrivateKey({ key: Buffer.from(der), format: 'der', type: 'pkcs8' });
    assert.equal(
      createPublicKey(priv).export({ format: 'pem', type: 'spki' }),
      readFileSync(join(encKeys, 'cosign.pub'), 'utf8'),
    );
  });

  it('sign stores the cosign legacy layout, and the payload verifies with openssl', async () => {
    const r = await lumen(['sign', '--key', join(plainKeys, 'cosign.key'), '--plain-http', '--json', ref]);
    assert.equal(r.code, 0, r.stderr);
    const m = await client.getManifest('apps/api', signatureTag(signed.digest));
    const manifest = JSON.parse(m.bytes.toString()) as ImageManifest;
    assert.equal(m.mediaType, MediaType.ociManifest);
    assert.equal(manifest.config.mediaType, MediaType.ociConfig);
    assert.equal(manifest.layers.length, 1);
    const layer = manifest.layers[0];
    assert.ok(layer);
    assert.equal(layer.mediaType, MediaType.cosignSimpleSigning);
    const payload = await client.getBlob('apps/api', layer.digest);
    assert.equal(
      payload.toString(),
      `{"critical":{"identity":{"docker-reference":"${reg.host}/apps/api"},"image":{"docker-manifest-digest":"${signed.digest}"},"type":"cosign container image signature"},"optional":null}`,
    );
    const sig = Buffer.from(layer.annotations?.['dev.cosignproject.cosign/signature'] ?? '', 'base64');
    writeFileSync(join(work, 'payload.json'), payload);
    writeFileSync(join(work, 'sig.der'), sig);
    const out = execFileSync('openssl', [
      'dgst',
      '-sha256',
      '-verify',
      join(plainKeys, 'cosign.pub'),
      '-signature',
      join(work, 'sig.der'),
      join(work, 'payload.json'),
    ]).toString();
    assert.match(out, /Verified OK/);
  });

  it('verify accepts the signature and rejects a wrong key and an unsigned image', async () => {
    const ok = await lumen(['verify', '--key', join(plainKeys, 'cosign.pub'), '--plain-http', '--json', ref]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(JSON.parse(ok.stdout).results[0].verified[0].dockerReference, `${reg.host}/apps/api`);
    const wrong = await lumen(['verify', '--key', join(otherKeys, 'cosign.pub'), '--plain-http', ref]);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /^lumen: no valid signature: .*signature does not verify with the key/);
    const none = await lumen([
      'verify',
      '--key',
      join(plainKeys, 'cosign.pub'),
      '--plain-http',
      `${reg.host}/apps/other:1`,
    ]);
    assert.equal(none.code, 1);
    assert.match(
      none.stderr,
      new RegExp(`no signature \\(${signatureTag(unsigned.digest)} not found, and no Sigstore bundle refers to it\\)`),
    );
  });

  it('sign and verify of an image the registry does not have: exit 3, one line, no dangling .sig', async () => {
    const missing = `sha256:${'0'.repeat(64)}`;
    const sign = await lumen([
      'sign',
      '--key',
      join(plainKeys, 'cosign.key'),
      '--plain-http',
      `${reg.host}/apps/api@${missing}`,
    ]);
    assert.equal(sign.code, 3, sign.stderr);
    assert.match(sign.stderr, new RegExp(`^lumen: ${reg.host}/apps/api@${missing}: image not found$`, 'm'));
    assert.equal(await client.headManifest('apps/api', signatureTag(missing)), undefined, 'no .sig tag was written');
    const verify = await lumen([
      'verify',
      '--key',
      join(plainKeys, 'cosign.pub'),
      '--plain-http',
      `${reg.host}/apps/nope:1`,
    ]);
    assert.equal(verify.code, 3, verify.stderr);
    assert.match(verify.stderr, /^lumen: .*\/apps\/nope:1: image not found$/m);
    const byDigest = await lumen([
      'verify',
      '--key',
      join(plainKeys, 'cosign.pub'),
      '--plain-http',
      `${reg.host}/apps/api@${missing}`,
    ]);
    assert.equal(byDigest.code, 3, byDigest.stderr);
  });

  it('verify rejects a tampered payload and a signature moved to another image', async () => {
    const m = await client.getManifest('apps/api', signatureTag(signed.digest));
    const manifest = JSON.parse(m.bytes.toString()) as ImageManifest;
    const layer = manifest.layers[0];
    assert.ok(layer);
    // Same signature, payload altered to claim the unsigned image.
    const payload = Buffer.from(
      (await client.getBlob('apps/api', layer.digest)).toString().replace(signed.digest, unsigned.digest),
    );
    const payloadDigest = digestOf(payload);
    await client.uploadBlob('apps/other', payloadDigest, payload.length, (s, e) =>
      Readable.from([payload.subarray(s, e + 1)]),
    );
    const configBytes = await client.getBlob('apps/api', manifest.config.digest);
    if (!(await client.hasBlob('apps/other', manifest.config.digest))) {
      await client.uploadBlob('apps/other', manifest.config.digest, configBytes.length, (s, e) =>
        Readable.from([configBytes.subarray(s, e + 1)]),
      );
    }
    const tampered: ImageManifest = {
      ...manifest,
      layers: [{ ...layer, digest: payloadDigest, size: payload.length }],
    };
    await client.putManifest(
      'apps/other',
      signatureTag(unsigned.digest),
      Buffer.from(JSON.stringify(tampered)),
      MediaType.ociManifest,
    );
    const r = await lumen([
      'verify',
      '--key',
      join(plainKeys, 'cosign.pub'),
      '--plain-http',
      `${reg.host}/apps/other:1`,
    ]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /signature does not verify with the key/);
    // The untouched, valid signature of apps/api copied under apps/other's tag signs another digest.
    await client.uploadBlob('apps/other', layer.digest, layer.size, (s, e) =>
      Readable.from([Buffer.from(payload.toString().replace(unsigned.digest, signed.digest)).subarray(s, e + 1)]),
    );
    await client.putManifest('apps/other', signatureTag(unsigned.digest), m.bytes, MediaType.ociManifest);
    const moved = await lumen([
      'verify',
      '--key',
      join(plainKeys, 'cosign.pub'),
      '--plain-http',
      `${reg.host}/apps/other:1`,
    ]);
    assert.equal(moved.code, 1);
    assert.match(moved.stderr, new RegExp(`payload signs ${signed.digest}, not ${unsigned.digest}`));
  });

  it('signs with an encrypted cosign key (COSIGN_PASSWORD), adding a second signature layer', async () => {
    const wrong = await lumen(['sign', '--key', join(encKeys, 'cosign.key'), '--plain-http', ref], {
      COSIGN_PASSWORD: 'nope',
    });
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /^lumen: .*wrong password/);
    const r = await lumen(['sign', '--key', join(encKeys, 'cosign.key'), '--plain-http', ref], {
      COSIGN_PASSWORD: password,
    });
    assert.equal(r.code, 0, r.stderr);
    const m = JSON.parse(
      (await client.getManifest('apps/api', signatureTag(signed.digest))).bytes.toString(),
    ) as ImageManifest;
    assert.equal(m.layers.length, 2);
    for (const keys of [plainKeys, encKeys]) {
      const v = await lumen(['verify', '--key', join(keys, 'cosign.pub'), '--plain-http', ref]);
      assert.equal(v.code, 0, v.stderr);
    }
  });

  it('loads a key encrypted by an independent secretbox implementation', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const salt = randomBytes(32);
    const nonce = randomBytes(24);
    const pw = randomBytes(6).toString('hex');
    // N = 65536: what newer cosign releases write.
    const key = scryptSync(pw, salt, 32, { N: 65536, r: 8, p: 1, maxmem: 128 << 20 });
    const ciphertext = xsalsa20poly1305(key, nonce).encrypt(privateKey.export({ format: 'der', type: 'pkcs8' }));
    const body = JSON.stringify({
      kdf: { name: 'scrypt', params: { N: 65536, r: 8, p: 1 }, salt: salt.toString('base64') },
      cipher: { name: 'nacl/secretbox', nonce: nonce.toString('base64') },
      ciphertext: Buffer.from(ciphertext).toString('base64'),
    });
    const file = join(work, 'foreign.key');
    writeFileSync(
      file,
      `-----BEGIN ENCRYPTED COSIGN PRIVATE KEY-----\n${Buffer.from(body).toString('base64')}\n-----END ENCRYPTED COSIGN PRIVATE KEY-----\n`,
      { mode: 0o600 },
    );
    writeFileSync(join(work, 'foreign.pub'), createPublicKey(privateKey).export({ format: 'pem', type: 'spki' }));
    const r = await lumen(['sign', '--key', file, '--plain-http', `${reg.host}/apps/other:1`], { COSIGN_PASSWORD: pw });
    assert.equal(r.code, 0, r.stderr);
  });

  it('bundle create carries signatures and bundle push delivers them; verify passes in the airgap', async () => {
    fx = await bundleOf(reg, airgap.host, { images: 1 });
    const img = fx.images[0];
    assert.ok(img);
    const { manifest: before } = await readBundle(fx.bundle);
    assert.equal(before.images[0]?.signature, undefined);
    const carried = before.images[0]?.digest ?? '';
    const s = await lumen([
      'sign',
      '--key',
      join(plainKeys, 'cosign.key'),
      '--plain-http',
      `${reg.host}/${img.repo}@${carried}`,
    ]);
    assert.equal(s.code, 0, s.stderr);
    const c = await lumen([
      'bundle',
      'create',
      '--out',
      fx.bundle,
      '--inventory',
      fx.inventory,
      '--plain-http-registry',
      reg.host,
    ]);
    assert.equal(c.code, 0, c.stderr);
    const { manifest } = await readBundle(fx.bundle);
    assert.equal(manifest.images[0]?.signature?.tag, signatureTag(carried));
    const p = await lumen(['bundle', 'push', fx.bundle, '--registry', airgap.host, '--plain-http']);
    assert.equal(p.code, 0, p.stderr);
    const v = await lumen([
      'verify',
      '--key',
      join(plainKeys, 'cosign.pub'),
      '--plain-http',
      `${airgap.host}/${img.repo}:1`,
    ]);
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stderr, /verified \(1 signature\)/);
  });

  it('bundle push keeps the signatures made in the airgap: it adds its own beside them (as cosign does)', async () => {
    assert.ok(fx, 'the bundle of the previous test');
    const img = fx.images[0];
    assert.ok(img);
    const airgapRef = `${airgap.host}/${img.repo}:1`;
    // The site signs the pushed image with its own key, in the airgap.
    const site = await lumen(['sign', '--key', join(otherKeys, 'cosign.key'), '--plain-http', airgapRef]);
    assert.equal(site.code, 0, site.stderr);
    const bothBefore = await lumen(['verify', '--key', join(otherKeys, 'cosign.pub'), '--plain-http', airgapRef]);
    assert.equal(bothBefore.code, 0, bothBefore.stderr);
    // The same bundle pushed again (a re-run, or the next delivery carrying this image).
    const p = await lumen(['bundle', 'push', fx.bundle, '--registry', airgap.host, '--plain-http']);
    assert.equal(p.code, 0, p.stderr);
    for (const keys of [otherKeys, plainKeys]) {
      const v = await lumen(['verify', '--key', join(keys, 'cosign.pub'), '--plain-http', '--json', airgapRef]);
      assert.equal(v.code, 0, `${keys}: ${v.stderr}`);
    }
    const held = JSON.parse(
      (
        await new Registry({ host: airgap.host, plainHttp: true }).getManifest(
          img.repo,
          signatureTag((await readBundle(fx.bundle)).manifest.images[0]?.digest ?? ''),
        )
      ).bytes.toString(),
    ) as ImageManifest;
    assert.equal(held.layers.length, 2, 'the site signature and the carried one');
  });
});
