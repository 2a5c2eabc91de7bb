/**
 * One file across the gap (docs/supply-chain.md): a finished bundle directory written into one uncompressed tar —
 * `oci-layout`, `index.json`, `lumen-bundle.json`, then every blob in digest order — that `bundle verify`, `ls`,
 * `push` and `serve` read in place. Streamed so the disk never holds the bundle twice: each blob is appended,
 * flushed to disk, and only then removed from the directory. Interrupted, it resumes: the partial archive
 * (`<file>.partial`) is cut back to its last whole member and continued where it stopped; the result is byte for
 * byte the archive an uninterrupted run writes.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { digestHex, indexTar, OciError, OciErrorCode, tarEnd, tarFileHeader, tarPadding } from '@lumen/oci';
import { bundleManifestFile } from './bundle.ts';
import { SupplyError, SupplyErrorCode } from './errors.ts';
import type { Progress } from './progress.ts';

/** The staging directory of an archive bundle: a directory bundle, resumable as any. */
export const archiveStage = (file: string) => `${file}.d`;
export const archivePartial = (file: string) => `${file}.partial`;

/** True when `out` names an archive bundle rather than a directory. */
export const isArchivePath = (out: string) => out.endsWith('.tar');

async function ioStep<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof SupplyError || err instanceof OciError) throw err;
    throw new SupplyError(SupplyErrorCode.io, `cannot ${what}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Writes the finished bundle directory `dir` into the archive `file` (resuming `<file>.partial`), then removes the
 * directory. Returns the archive's size.
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
    const { members, end } = await indexTar(handle);
    const names = new Set(members.keys());
    await ioStep(`cut ${partial} back to its last whole member`, () => handle.truncate(end));
    let position = end;
    const append = async (data: Uint8Array) => {
      await handle.write(data, 0, data.length, position);
      position += data.length;
    };
    // The blob list comes from the staging directory's manifest, which is never removed before the end.
    const manifestText = await ioStep(`read ${join(dir, bundleManifestFile)}`, () =>
      readFile(join(dir, bundleManifestFile)),
    );
    const blobs = Object.keys(JSON.parse(manifestText.toString('utf8')).blobs as Record<string, number>).sort();
    for (const name of ['oci-layout', 'index.json', bundleManifestFile]) {
      if (names.has(name)) continue;
      const data = await ioStep(`read ${join(dir, name)}`, () => readFile(join(dir, name)));
      await append(Buffer.concat([tarFileHeader(name, data.length), data, tarPadding(data.length)]));
    }
    for (const digest of blobs) {
      if (signal?.aborted) throw new OciError(OciErrorCode.aborted, 'archive interrupted', 130);
      const member = `blobs/sha256/${digestHex(digest)}`;
      if (names.has(member)) continue;
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
      // On disk before the directory's copy goes: a crash here loses nothing.
      await handle.sync();
      await rm(path, { force: true });
    }
    await append(tarEnd());
    await handle.sync();
    await handle.close();
    await ioStep(`rename ${partial}`, () => rename(partial, file));
    await rm(dir, { recursive: true, force: true });
    return { bytes: position, blobs: blobs.length };
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
