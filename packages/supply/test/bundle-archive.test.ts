/**
 * One file across the gap, against real registries: `bundle create --out b.tar` writes one archive (GNU tar reads it:
 * metadata first, blobs in digest order) and leaves no staging behind; `bundle ls`, `verify`, `push` and `serve`
 * read it in place; a corrupt blob inside it is named; an archive interrupted while being written (and torn at its
 * end) resumes into the very bytes an uninterrupted run writes.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import {
  closeSync,
  cpSync,
  existsSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Registry } from '@lumen/oci';
import { startRegistry, type Registry as TestRegistry } from '@lumen/testkit';
import { archiveBundle, archivePartial, Progress } from '../src/index.ts';
import { type Bundled, bundleOf } from './support/fixture.ts';
import { lumen } from './support/run.ts';

const run = promisify(execFile);
let upstream: TestRegistry;
let airgap: TestRegistry;
let fixture: Bundled;
let archive: string;

before(async () => {
  [upstream, airgap] = await Promise.all([startRegistry(), startRegistry()]);
  fixture = await bundleOf(upstream, 'airgap.invalid:5000', { images: 2, layerSizes: [3 << 20, 1 << 20] });
  archive = join(fixture.work, 'b.tar');
  const r = await lumen([
    'bundle',
    'create',
    '--out',
    archive,
    '--inventory',
    fixture.inventory,
    '--plain-http-registry',
    upstream.host,
  ]);
  assert.equal(r.code, 0, r.stderr);
});
after(async () => {
  await Promise.allSettled([upstream?.close(), airgap?.close()]);
  rmSync(fixture.work, { recursive: true, force: true });
});

const blobsOf = (bundle: string) =>
  Object.keys(JSON.parse(readFileSync(join(bundle, 'lumen-bundle.json'), 'utf8')).blobs as object).sort();

describe('a one-file bundle', () => {
  it('is one tar file, metadata first and blobs in digest order, with no staging left', () => {
    assert.ok(statSync(archive).isFile());
    assert.ok(!existsSync(`${archive}.d`) && !existsSync(archivePartial(archive)));
    const names = execFileSync('tar', ['-tf', archive], { encoding: 'utf8' }).trim().split('\n');
    assert.deepEqual(names.slice(0, 3), ['oci-layout', 'index.json', 'lumen-bundle.json']);
    const blobs = names.slice(3);
    assert.deepEqual(blobs, [...blobs].sort());
    assert.deepEqual(
      blobs.map((b) => `sha256:${b.slice('blobs/sha256/'.length)}`),
      blobsOf(fixture.bundle),
    );
  });

  it('ls, verify and push read it in place; the airgap registry serves the same digests', async () => {
    const ls = await lumen(['bundle', 'ls', archive]);
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, /^2 images, 1 charts, 0 files, \d+ blobs/m);
    const verify = await lumen(['bundle', 'verify', archive, '--inventory', fixture.inventory]);
    assert.equal(verify.code, 0, verify.stderr);
    const push = await lumen(['bundle', 'push', archive, '--registry', airgap.host, '--plain-http']);
    assert.equal(push.code, 0, push.stderr);
    const reg = new Registry({ host: airgap.host, plainHttp: true });
    for (const img of fixture.images) assert.equal((await reg.headManifest(img.repo, '1'))?.digest, img.digest);
    const { stdout } = await run('skopeo', [
      'inspect',
      '--raw',
      '--tls-verify=false',
      `docker://${airgap.host}/${fixture.images[0]?.repo}:1`,
    ]);
    assert.ok(stdout.length > 0);
  });

  it('names a corrupt blob inside the archive (exit 1)', async () => {
    const names = execFileSync('tar', ['-tvf', archive], { encoding: 'utf8' });
    assert.ok(names.length > 0);
    // The largest blob (the 3 MiB layer): find its bytes by content and flip one.
    const bytes = readFileSync(archive);
    const layer = fixture.images[0]?.platforms['linux/amd64']?.blobs.at(-1) as string;
    const blob = readFileSync(join(fixture.bundle, 'blobs', 'sha256', layer.slice(7)));
    const at = bytes.indexOf(blob.subarray(0, 4096));
    assert.ok(at > 0, 'the layer is in the archive');
    const fd = openSync(archive, 'r+');
    writeSync(fd, Buffer.from([bytes[at + 100] === 0 ? 1 : 0]), 0, 1, at + 100);
    closeSync(fd);
    try {
      const verify = await lumen(['bundle', 'verify', archive, '--no-inventory']);
      assert.equal(verify.code, 1, verify.stderr);
      assert.match(verify.stderr, new RegExp(`blob ${layer} \\(image img0 .*\\) is corrupt`));
    } finally {
      const restore = openSync(archive, 'r+');
      writeSync(restore, bytes, at + 100, 1, at + 100);
      closeSync(restore);
    }
  });

  it('resumes an interrupted, torn archive into the bytes an uninterrupted run writes', async () => {
    const stage = join(fixture.work, 'r.tar.d');
    cpSync(fixture.bundle, stage, { recursive: true });
    const twin = join(fixture.work, 'twin.tar.d');
    cpSync(fixture.bundle, twin, { recursive: true });
    await archiveBundle(twin, join(fixture.work, 'twin.tar'));

    const target = join(fixture.work, 'r.tar');
    const stop = new AbortController();
    const progress = new Progress({ quiet: true });
    let seen = 0;
    progress.advance = (_item: string, n: number) => {
      seen += n;
      if (seen > 1 << 20) stop.abort();
    };
    await assert.rejects(archiveBundle(stage, target, { progress, signal: stop.signal }), /archive interrupted/);
    assert.ok(existsSync(archivePartial(target)) && !existsSync(target));
    // A crash mid-member leaves a torn tail: half a header and some bytes.
    writeFileSync(archivePartial(target), Buffer.concat([readFileSync(archivePartial(target)), Buffer.alloc(700, 7)]));

    const resumed = await lumen(['bundle', 'create', '--out', target, '--inventory', fixture.inventory]);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stderr, /resumed writing the archive/);
    assert.deepEqual(readFileSync(target), readFileSync(join(fixture.work, 'twin.tar')));
    assert.ok(!existsSync(stage) && !existsSync(archivePartial(target)));
  });

  it('refuses to overwrite an existing archive (exit 2)', async () => {
    const r = await lumen(['bundle', 'create', '--out', archive, '--inventory', fixture.inventory]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /b\.tar exists: remove it, or choose another --out/);
  });
});
