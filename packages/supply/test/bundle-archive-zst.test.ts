/**
 * One compressed file across the gap, against real registries and the real zstd and GNU tar: `bundle create --out
 * b.tar.zst` writes the very tar `--out b.tar` writes, cut into zstd frames (each member starts one, none holds more
 * than 4 MiB) and ended by a seek table; zstd and `tar --zstd` read it as any .tar.zst; `bundle ls`, `verify`, `push`
 * and `lumen serve` read it in place; a corrupt frame is named by its blob; an archive interrupted while being
 * written, and torn mid-frame, resumes into the very bytes an uninterrupted run writes; a .tar.zst without a seek
 * table, or cut short, is refused in one line.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import {
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { digestOf, fileBytes, indexTar, LayoutArchive, Registry, readSeekTable, type ZstdFrame } from '@lumen/oci';
import { freePort, startRegistry, type Registry as TestRegistry } from '@lumen/testkit';
import { lumenBin } from '@lumen/testkit/lumen';
import { archiveBundle, archivePartial, Progress } from '../src/index.ts';
import { type Bundled, bundleOf } from './support/fixture.ts';
import { lumen } from './support/run.ts';

const run = promisify(execFile);
let upstream: TestRegistry;
let airgap: TestRegistry;
let fixture: Bundled;
let archive: string;
/** `tar --zstd -xf` of the archive. */
let extracted: string;
/** What `archiveBundle` writes uncompressed for the same bundle. */
let plain: string;

before(async () => {
  [upstream, airgap] = await Promise.all([startRegistry(), startRegistry()]);
  // 6 MiB layers span two frames each.
  fixture = await bundleOf(upstream, 'airgap.invalid:5000', { images: 2, layerSizes: [6 << 20, 1 << 20] });
  archive = join(fixture.work, 'b.tar.zst');
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
  // The same bundle (its lumen-bundle.json says when it was made) as the directory and as an uncompressed archive.
  extracted = join(fixture.work, 'extracted');
  mkdirSync(extracted);
  execFileSync('tar', ['--zstd', '-xf', archive, '-C', extracted]);
  plain = join(fixture.work, 'plain.tar');
  cpSync(extracted, `${plain}.d`, { recursive: true });
  await archiveBundle(`${plain}.d`, plain);
});
after(async () => {
  await Promise.allSettled([upstream?.close(), airgap?.close()]);
  rmSync(fixture.work, { recursive: true, force: true });
});

async function seekTableOf(file: string): Promise<ZstdFrame[]> {
  const handle = await open(file, 'r');
  try {
    const table = await readSeekTable(handle, (await handle.stat()).size);
    assert.equal(table.kind, 'frames');
    return table.kind === 'frames' ? table.frames : [];
  } finally {
    await handle.close();
  }
}

/** Where each member's header starts in a tar file. */
async function memberStarts(tar: string): Promise<Map<string, number>> {
  const handle = await open(tar, 'r');
  try {
    const { members } = await indexTar(fileBytes(handle, (await handle.stat()).size));
    return new Map([...members].map(([name, m]) => [name, m.offset - 512]));
  } finally {
    await handle.close();
  }
}

/** Flips one byte of `file` at `at` while `fn` runs. */
async function flipped(file: string, at: number, fn: () => Promise<void>): Promise<void> {
  const original = readFileSync(file).subarray(at, at + 1);
  const fd = openSync(file, 'r+');
  writeSync(fd, Buffer.from([(original[0] as number) ^ 0xff]), 0, 1, at);
  closeSync(fd);
  try {
    await fn();
  } finally {
    const restore = openSync(file, 'r+');
    writeSync(restore, original, 0, 1, at);
    closeSync(restore);
  }
}

describe('a one-file compressed bundle', () => {
  it('is the .tar an uncompressed create writes, in zstd frames that each member starts, none over 4 MiB', async () => {
    assert.ok(statSync(archive).isFile());
    assert.ok(!existsSync(`${archive}.d`) && !existsSync(archivePartial(archive)));
    const tar = execFileSync('zstd', ['-dc', archive], { maxBuffer: 1 << 30 });
    assert.ok(tar.equals(readFileSync(plain)), 'zstd -d gives the bytes of --out b.tar');
    const frames = await seekTableOf(archive);
    assert.ok(frames.every((f) => f.contentSize <= 4 << 20));
    assert.ok(
      frames.some((f) => f.contentSize === 4 << 20),
      'a large blob spans several frames',
    );
    const starts = new Set(frames.map((f) => f.contentOffset));
    const members = await memberStarts(plain);
    for (const [name, at] of members) assert.ok(starts.has(at), `${name} starts a frame`);
    // The end-of-archive blocks are the last frame; the seek table follows the last frame.
    const last = frames.at(-1) as ZstdFrame;
    assert.equal(last.contentOffset + last.contentSize, tar.length);
    assert.ok(statSync(archive).size < tar.length);
  });

  it('zstd -t and tar --zstd read it; tar --zstd -xf gives back the directory form', () => {
    execFileSync('zstd', ['-q', '-t', archive]);
    const names = execFileSync('tar', ['--zstd', '-tf', archive], { encoding: 'utf8' }).trim().split('\n');
    assert.deepEqual(names.slice(0, 3), ['oci-layout', 'index.json', 'lumen-bundle.json']);
    const blobs = readdirSync(join(fixture.bundle, 'blobs', 'sha256')).sort();
    assert.deepEqual(readdirSync(join(extracted, 'blobs', 'sha256')).sort(), blobs);
    for (const name of ['oci-layout', 'index.json', ...blobs.map((b) => `blobs/sha256/${b}`)]) {
      assert.ok(readFileSync(join(extracted, name)).equals(readFileSync(join(fixture.bundle, name))), name);
    }
    const manifest = (dir: string) => JSON.parse(readFileSync(join(dir, 'lumen-bundle.json'), 'utf8'));
    assert.deepEqual({ ...manifest(extracted), created: '' }, { ...manifest(fixture.bundle), created: '' });
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

  it('reads any byte range of a blob, across frame boundaries, as the directory holds it', async () => {
    const layer = fixture.images[0]?.platforms['linux/amd64']?.blobs[1] as string;
    const bytes = readFileSync(join(fixture.bundle, 'blobs', 'sha256', layer.slice(7)));
    const layout = await LayoutArchive.open(archive);
    assert.equal(await layout.blobSize(layer), bytes.length);
    for (const [start, end] of [
      [0, 511],
      [(4 << 20) - 600, (4 << 20) + 600],
      [1, bytes.length - 2],
      [bytes.length - 1, bytes.length - 1],
    ] as const) {
      const parts: Buffer[] = [];
      for await (const part of layout.openBlob(layer, start, end)) parts.push(part as Buffer);
      assert.ok(Buffer.concat(parts).equals(bytes.subarray(start, end + 1)), `${start}-${end}`);
    }
    assert.deepEqual(await layout.checkBlob(layer, bytes.length), { state: 'ok' });
  });

  it('lumen serve serves its blobs by range of frames; skopeo copies an image from it', async () => {
    const host = `127.0.0.1:${await freePort()}`;
    const server: ChildProcess = spawn(process.execPath, [lumenBin, 'serve', archive, '--listen', host], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    try {
      let stderr = '';
      server.stderr?.setEncoding('utf8');
      await new Promise<void>((resolve, reject) => {
        server.stderr?.on('data', (chunk: string) => {
          stderr += chunk;
          if (stderr.includes('serving ')) resolve();
        });
        server.once('exit', (code) => reject(new Error(`lumen serve exited ${code}: ${stderr}`)));
      });
      const image = fixture.images[0];
      const layer = image?.platforms['linux/amd64']?.blobs[1] as string;
      const res = await fetch(`http://${host}/v2/${image?.repo}/blobs/${layer}`);
      assert.equal(res.status, 200);
      assert.equal(digestOf(Buffer.from(await res.arrayBuffer())), layer);
      const copy = join(fixture.work, 'served');
      await run('skopeo', [
        'copy',
        '--all',
        '--preserve-digests',
        '--src-tls-verify=false',
        `docker://${host}/${image?.repo}:1`,
        `oci:${copy}:1`,
      ]);
      assert.equal(JSON.parse(readFileSync(join(copy, 'index.json'), 'utf8')).manifests[0].digest, image?.digest);
      for (const blob of image?.blobs ?? []) assert.ok(existsSync(join(copy, 'blobs', 'sha256', blob.slice(7))), blob);
    } finally {
      server.kill('SIGKILL');
    }
  });

  it('names the blob of a corrupt frame inside the archive (exit 1)', async () => {
    // The 6 MiB layer's second frame: flip a byte in the middle of its compressed bytes.
    const layer = fixture.images[0]?.platforms['linux/amd64']?.blobs[1] as string;
    const at = (await memberStarts(plain)).get(`blobs/sha256/${layer.slice(7)}`) as number;
    const frames = await seekTableOf(archive);
    const second = frames[frames.findIndex((f) => f.contentOffset === at) + 1] as ZstdFrame;
    assert.ok(second.contentOffset > at && second.contentOffset < at + (6 << 20), 'inside the layer');
    await flipped(archive, second.offset + Math.floor(second.size / 2), async () => {
      const verify = await lumen(['bundle', 'verify', archive, '--no-inventory']);
      assert.equal(verify.code, 1, verify.stderr);
      assert.match(
        verify.stderr,
        new RegExp(`blob ${layer} \\(image img0 .*\\) is corrupt: .*zstd frame at byte \\d+ does not decompress`),
      );
      assert.doesNotMatch(verify.stderr, /at .*\.ts:\d+/, 'no stack trace');
    });
  });

  it('resumes an interrupted archive torn mid-frame into the bytes an uninterrupted run writes', async () => {
    const stage = join(fixture.work, 'r.tar.zst.d');
    cpSync(fixture.bundle, stage, { recursive: true });
    const twin = join(fixture.work, 'twin.tar.zst');
    cpSync(fixture.bundle, `${twin}.d`, { recursive: true });
    await archiveBundle(`${twin}.d`, twin);
    const target = join(fixture.work, 'r.tar.zst');
    const stop = new AbortController();
    const progress = new Progress({ quiet: true });
    let seen = 0;
    progress.advance = (_item: string, n: number) => {
      seen += n;
      if (seen > 1 << 20) stop.abort();
    };
    await assert.rejects(archiveBundle(stage, target, { progress, signal: stop.signal }), /archive interrupted/);
    const partial = archivePartial(target);
    assert.ok(existsSync(partial) && !existsSync(target));
    // A crash mid-frame: the next member's first frame on disk whole, its second cut in half.
    const whole = readFileSync(twin);
    const written = statSync(partial).size;
    assert.ok(whole.subarray(0, written).equals(readFileSync(partial)), 'the partial is a prefix of the archive');
    const frames = await seekTableOf(twin);
    const next = frames.findIndex((f) => f.offset === written);
    const torn = frames[next + 1] as ZstdFrame;
    assert.ok(next >= 0 && torn.contentOffset > (frames[next] as ZstdFrame).contentOffset);
    writeFileSync(partial, whole.subarray(0, torn.offset + Math.floor(torn.size / 2)));

    const resumed = await lumen(['bundle', 'create', '--out', target, '--inventory', fixture.inventory]);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stderr, /resumed writing the archive/);
    assert.ok(readFileSync(target).equals(whole), 'byte for byte the uninterrupted archive');
    assert.ok(!existsSync(stage) && !existsSync(partial));
  });

  it('refuses a .tar.zst without a seek table (tar --zstd -cf) in one line (exit 4)', async () => {
    const foreign = join(fixture.work, 'foreign.tar.zst');
    execFileSync('tar', ['--zstd', '-cf', foreign, '-C', fixture.bundle, '.']);
    const ls = await lumen(['bundle', 'ls', foreign]);
    assert.equal(ls.code, 4, ls.stderr);
    assert.equal(ls.stderr.trim().split('\n').length, 1, ls.stderr);
    assert.match(
      ls.stderr,
      /foreign\.tar\.zst is a \.tar\.zst without a seek table, so it cannot be read in place: write it with 'lumen bundle create --out X\.tar\.zst', or 'zstd -d' it to a \.tar/,
    );
  });

  it('refuses a .tar.zst cut short as damaged or truncated (exit 4)', async () => {
    const cut = join(fixture.work, 'cut.tar.zst');
    cpSync(archive, cut);
    for (const size of [statSync(archive).size - 3, Math.floor(statSync(archive).size / 2)]) {
      truncateSync(cut, size);
      const ls = await lumen(['bundle', 'ls', cut]);
      assert.equal(ls.code, 4, ls.stderr);
      assert.match(ls.stderr, /cut\.tar\.zst is damaged or truncated at byte \d+/);
    }
  });

  it('refuses to overwrite an existing archive (exit 2)', async () => {
    const r = await lumen(['bundle', 'create', '--out', archive, '--inventory', fixture.inventory]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /b\.tar\.zst exists: remove it, or choose another --out/);
  });
});
