import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { DigestCheck, digestOf, Layout, OciErrorCode } from '../src/index.ts';

describe('OCI image layout', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lumen-layout-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('creates oci-layout and an empty index.json', async () => {
    await Layout.open(dir, { create: true });
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'oci-layout'), 'utf8')), { imageLayoutVersion: '1.0.0' });
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')).manifests, []);
  });

  it('renames a streamed blob under its digest only when the digest holds', async () => {
    const layout = await Layout.open(dir, { create: true });
    const data = randomBytes(100_000);
    const digest = digestOf(data);
    await assert.rejects(
      layout.writeBlobStream(digest, Readable.from([data.subarray(0, 50_000), randomBytes(50_000)])),
      (err: { code?: string }) => err.code === OciErrorCode.digestMismatch,
    );
    assert.equal(await layout.blobSize(digest), undefined, 'nothing under the digest name');
    assert.deepEqual(readdirSync(join(dir, '.lumen-tmp')), [], 'no temporary file left');
    assert.equal(await layout.writeBlobStream(digest, Readable.from([data])), data.length);
    assert.deepEqual((await layout.checkBlob(digest)).state, 'ok');
  });

  it('writes a blob of many small chunks whole, reporting every byte', async () => {
    const layout = await Layout.open(dir, { create: true });
    // 512-byte chunks: a 1 MiB write gathers more buffers than one writev takes (IOV_MAX 1024).
    const data = randomBytes(3 * 1024 * 1024 + 100);
    const chunks = Array.from({ length: Math.ceil(data.length / 512) }, (_, i) =>
      data.subarray(i * 512, (i + 1) * 512),
    );
    let seen = 0;
    const n = await layout.writeBlobStream(digestOf(data), Readable.from(chunks), data.length, (b) => {
      seen += b;
    });
    assert.equal(n, data.length);
    assert.equal(seen, data.length);
    assert.deepEqual(readFileSync(layout.blobPath(digestOf(data))), data);
  });

  it('relies on a source that is the digest check of the blob: wrong content still stays out of place', async () => {
    const layout = await Layout.open(dir, { create: true });
    const data = randomBytes(200_000);
    const digest = digestOf(data);
    const wrong = Readable.from([data.subarray(0, 100_000), randomBytes(100_000)]).pipe(
      new DigestCheck(digest, { size: data.length }),
    );
    await assert.rejects(
      layout.writeBlobStream(digest, wrong, data.length),
      (err: { code?: string }) => err.code === OciErrorCode.digestMismatch,
    );
    await assert.rejects(
      layout.writeBlobStream(digest, Readable.from([data, data.subarray(0, 1)]), data.length),
      /more than the expected 200000 bytes/,
    );
    assert.equal(await layout.blobSize(digest), undefined, 'nothing under the digest name');
    assert.deepEqual(readdirSync(join(dir, '.lumen-tmp')), [], 'no temporary file left');
    const right = Readable.from([data]).pipe(new DigestCheck(digest, { size: data.length }));
    assert.equal(await layout.writeBlobStream(digest, right, data.length), data.length);
    assert.equal((await layout.checkBlob(digest, data.length)).state, 'ok');
  });

  it('a source that fails before its first byte is read (a connection cut at once) rejects; nothing is left', async () => {
    const layout = await Layout.open(dir, { create: true });
    const data = randomBytes(10_000);
    const source = new DigestCheck(digestOf(data), { size: data.length });
    const written = layout.writeBlobStream(digestOf(data), source, data.length);
    // While the temporary file is being opened, before anything reads the source: unheard, this error would be an
    // uncaught exception, and the CLI would exit 70 instead of 3.
    source.destroy(new Error('other side closed'));
    await assert.rejects(written, /other side closed/);
    assert.equal(await layout.blobSize(digestOf(data)), undefined, 'nothing under the digest name');
    assert.deepEqual(readdirSync(join(dir, '.lumen-tmp')), [], 'no temporary file left');
  });

  it('tells a missing blob from a corrupt one', async () => {
    const layout = await Layout.open(dir);
    const data = Buffer.from('config');
    const { digest } = await layout.writeBlob(data);
    assert.equal((await layout.checkBlob(digestOf('absent'))).state, 'missing');
    writeFileSync(layout.blobPath(digest), 'conFig');
    const bad = await layout.checkBlob(digest);
    assert.equal(bad.state, 'corrupt');
    assert.match(bad.detail ?? '', /hashes to sha256:/);
  });

  it('refuses a directory that is not a layout', async () => {
    await assert.rejects(Layout.open(join(dir, 'nope')), (err: { code?: string; exitCode?: number }) => {
      assert.equal(err.code, OciErrorCode.layoutInvalid);
      assert.equal(err.exitCode, 4);
      return true;
    });
  });
});
