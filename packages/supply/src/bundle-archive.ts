/**
 * One file across the gap (docs/supply-chain.md): a finished bundle directory written into one tar —
 * `oci-layout`, `index.json`, `lumen-bundle.json`, then every blob in digest order — that `bundle verify`, `ls`,
 * `push` and `serve` read in place; uncompressed (`FILE.tar`) or compressed in the Zstandard seekable format
 * (`FILE.tar.zst`: every member starts a new zstd frame, no frame holds more than 4 MiB of the tar, and a seek table
 * ends the file, so a reader decompresses only the frames it needs). Streamed so the disk never holds the bundle
 * twice: each blob is appended, flushed to disk, and only then removed from the directory. Interrupted, it resumes:
 * the partial archive (`<file>.partial`) is cut back to its last whole member (in a `.tar.zst`, its last whole frame
 * first) and continued where it stopped; the result is byte for byte the archive an uninterrupted run writes.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { type FileHandle, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { constants, zstdCompress } from 'node:zlib';
import {
  CorruptFrame,
  contentFrames,
  digestHex,
  fileBytes,
  indexTar,
  OciError,
  OciErrorCode,
  seekableBytes,
  seekTable,
  type TarIndex,
  tarEnd,
  tarFileHeader,
  tarPadding,
  walkZstdFrames,
  type ZstdFrame,
} from '@lumen/oci';
import { bundleManifestFile } from './bundle.ts';
import { SupplyError, SupplyErrorCode } from './errors.ts';
import type { Progress } from './progress.ts';

/** The staging directory of an archive bundle: a directory bundle, resumable as any. */
export const archiveStage = (file: string) => `${file}.d`;
export const archivePartial = (file: string) => `${file}.partial`;

const isZstdPath = (out: string) => out.endsWith('.tar.zst');

/** True when `out` names an archive bundle (`.tar`, or `.tar.zst` compressed) rather than a directory. */
export const isArchivePath = (out: string) => out.endsWith('.tar') || isZstdPath(out);

async function ioStep<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof SupplyError || err instanceof OciError) throw err;
    throw new SupplyError(SupplyErrorCode.io, `cannot ${what}: ${(err as Error).message}`, { cause: err });
  }
}

/** Where the archive is written: the bytes of the tar stream go in member by member. */
interface ArchiveWriter {
  /** Members already whole in the partial archive, kept. */
  readonly done: ReadonlySet<string>;
  append(data: Uint8Array): Promise<void>;
  /** Ends the member being written (a `.tar.zst` starts the next one in a new frame). */
  endMember(): Promise<void>;
  /** Ends the archive; returns its size in bytes. */
  finish(): Promise<number>;
}

/** A `.tar`: the partial file cut back to its last whole member, and continued. */
async function tarWriter(handle: FileHandle, partial: string): Promise<ArchiveWriter> {
  const { members, end } = await indexTar(fileBytes(handle, (await handle.stat()).size));
  await ioStep(`cut ${partial} back to its last whole member`, () => handle.truncate(end));
  let position = end;
  const append = async (data: Uint8Array) => {
    await handle.write(data, 0, data.length, position);
    position += data.length;
  };
  return {
    done: new Set(members.keys()),
    append,
    endMember: async () => undefined,
    finish: async () => {
      await append(tarEnd());
      return position;
    },
  };
}

/** Most tar content a `.tar.zst` frame holds: a reader decompresses at most this much to reach any byte. */
const frameLimit = 4 * 1024 * 1024;
const compress = promisify(zstdCompress);
/**
 * zstd level 3 (zstd's default): on an uncompressed ELF binary 0.35 of its size at ~230 MB/s per core, where level
 * 1 gave 0.39 at ~430 MB/s (measured with Node 24's zstd, 4 MiB frames). Each frame carries its content size (what
 * the resume reads back) and checksum (what `zstd -t` proves). 1 MiB output chunks: zlib's default 16 KiB halved the
 * speed on incompressible layers. The bytes depend on all of these, so the same bundle always gives the same file.
 */
const frameOptions = (size: number) => ({
  pledgedSrcSize: size,
  chunkSize: 1024 * 1024,
  params: { [constants.ZSTD_c_compressionLevel]: 3, [constants.ZSTD_c_checksumFlag]: 1 },
});

/**
 * A `.tar.zst` in the seekable format: the partial file's frames walked by their headers, cut back to the last whole
 * frame and then to the start of the first member they do not hold whole (every member starts a frame), and
 * continued; the seek table is written last.
 */
async function zstdWriter(handle: FileHandle, partial: string): Promise<ArchiveWriter> {
  let frames = contentFrames(await walkZstdFrames(handle, (await handle.stat()).size));
  let index: TarIndex | undefined;
  while (index === undefined) {
    try {
      index = await indexTar(seekableBytes(partial, frames));
    } catch (err) {
      // A frame whole by its headers that does not decompress (a crash before its bytes reached the disk): it and
      // what follows it are written again.
      if (!(err instanceof CorruptFrame)) throw err;
      const bad = err.frame.offset;
      frames = frames.filter((f) => f.offset < bad);
    }
  }
  const { members, end } = index;
  // The tar stream continues at `end`, which starts a frame; a partial archive where it does not was not written
  // here, and is started over.
  const kept = end === 0 ? 0 : frames.findIndex((f) => f.contentOffset + f.contentSize === end) + 1;
  const table: Pick<ZstdFrame, 'size' | 'contentSize'>[] = frames.slice(0, kept);
  let position = table.reduce((sum, f) => sum + f.size, 0);
  await ioStep(`cut ${partial} back to its last whole member`, () => handle.truncate(position));
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const flushFrame = async () => {
    if (pendingBytes === 0) return;
    const content = Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    const frame = await compress(content, frameOptions(content.length));
    await handle.write(frame, 0, frame.length, position);
    position += frame.length;
    table.push({ size: frame.length, contentSize: content.length });
  };
  const append = async (data: Uint8Array) => {
    for (let at = 0; at < data.length; ) {
      const take = Math.min(frameLimit - pendingBytes, data.length - at);
      pending.push(Buffer.from(data.buffer, data.byteOffset + at, take));
      pendingBytes += take;
      at += take;
      if (pendingBytes === frameLimit) await flushFrame();
    }
  };
  return {
    done: new Set(kept === 0 ? [] : members.keys()),
    append,
    endMember: flushFrame,
    finish: async () => {
      await append(tarEnd());
      await flushFrame();
      const footer = seekTable(table);
      await handle.write(footer, 0, footer.length, position);
      return position + footer.length;
    },
  };
}

/**
 * Writes the finished bundle directory `dir` into the archive `file` (resuming `<file>.partial`), then removes the
 * directory. `file` ending in `.tar.zst` writes the seekable compressed form. Returns the archive's size.
 */
export async function archiveBundle(
  dir: string,
  file: string,
  options: { progress?: Progress; signal?: AbortSignal } = {},
): Promise<{ bytes: number; blobs: number }> {
  const { progress, signal } = options;
  const partial = archivePartial(file);
  const exists = (await stat(partial).catch(() => undefined)) !== undefined;
  const handle = await ioStep(`open ${partial}`, () => open(partial, exists ? 'r+' : 'w+'));
  try {
    const writer = await (isZstdPath(file) ? zstdWriter : tarWriter)(handle, partial);
    const { done, append, endMember } = writer;
    // The blob list comes from the staging directory's manifest, which is never removed before the end.
    const manifestText = await ioStep(`read ${join(dir, bundleManifestFile)}`, () =>
      readFile(join(dir, bundleManifestFile)),
    );
    const blobs = Object.keys(JSON.parse(manifestText.toString('utf8')).blobs as Record<string, number>).sort();
    for (const name of ['oci-layout', 'index.json', bundleManifestFile]) {
      if (done.has(name)) continue;
      const data = await ioStep(`read ${join(dir, name)}`, () => readFile(join(dir, name)));
      await append(Buffer.concat([tarFileHeader(name, data.length), data, tarPadding(data.length)]));
      await endMember();
    }
    for (const digest of blobs) {
      if (signal?.aborted) throw new OciError(OciErrorCode.aborted, 'archive interrupted', 130);
      const member = `blobs/sha256/${digestHex(digest)}`;
      if (done.has(member)) continue;
      const path = join(dir, member);
      const { size } = await ioStep(`read ${path}`, () => stat(path));
      await append(tarFileHeader(member, size));
      const hash = createHash('sha256');
      for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) {
        hash.update(chunk as Buffer);
        await append(chunk as Buffer);
        progress?.advance('archive', (chunk as Buffer).length);
      }
      if (`sha256:${hash.digest('hex')}` !== digest) {
        throw new SupplyError(
          SupplyErrorCode.bundleCorrupt,
          `blob ${digest} in ${dir} is corrupt: run 'lumen bundle create' again`,
        );
      }
      await append(tarPadding(size));
      await endMember();
      // On disk before the directory's copy goes: a crash here loses nothing.
      await handle.sync();
      await rm(path, { force: true });
    }
    const bytes = await writer.finish();
    await handle.sync();
    await handle.close();
    await ioStep(`rename ${partial}`, () => rename(partial, file));
    await rm(dir, { recursive: true, force: true });
    return { bytes, blobs: blobs.length };
  } catch (err) {
    await handle.close().catch(() => undefined);
    throw err;
  }
}

/** True when a previous run got as far as archiving (the staging bundle was finished). */
export async function archiveStarted(file: string): Promise<boolean> {
  const [partial, manifest] = await Promise.all([
    stat(archivePartial(file)).catch(() => undefined),
    stat(join(archiveStage(file), bundleManifestFile)).catch(() => undefined),
  ]);
  return partial !== undefined && manifest !== undefined;
}
