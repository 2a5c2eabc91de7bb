/**
 * An OCI image layout inside one archive file, read in place: an uncompressed tar (`bundle.tar`), or a tar compressed
 * in the Zstandard seekable format (`bundle.tar.zst`, see zstd-seekable.ts; told apart by the zstd magic at byte 0,
 * not by the name). The archive is indexed once by walking its tar headers (no member is read; in a `.tar.zst` only
 * the frames holding headers are decompressed), and blobs are then read, hashed and streamed by offset — in a
 * `.tar.zst` by decompressing only the frames that cover them — as from the layout directory: nothing is extracted.
 * Members may be named with or without `./` (lumen's archives, or `tar -cf b.tar -C bundle .`).
 */
import { createReadStream } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { digestHex, digestOf } from './digest.ts';
import { OciError, OciErrorCode, OciExitCode } from './errors.ts';
import { type BlobCheck, type BlobSource, checkBlobOf } from './layout.ts';
import { normalizeTarPath, parseTarHeader, paxPath } from './tar.ts';
import { CorruptFrame, readFrames, readSeekTable, walkZstdFrames, type ZstdFrame, zstdMagic } from './zstd-seekable.ts';

interface Member {
  offset: number;
  size: number;
}

/** Random access to a tar stream: the tar file itself, or the content of a seekable `.tar.zst`. */
export interface TarBytes {
  /** Length of the tar stream. */
  readonly size: number;
  /** Up to `length` bytes from `position` (fewer only past the end). */
  read(position: number, length: number): Promise<Buffer>;
}

/** A tar stream that can also be streamed by range (`end` exclusive); `what` names the content in errors. */
export interface ArchiveBytes extends TarBytes {
  stream(start: number, end: number, what: string): Readable;
}

/** The bytes of an open file. */
export function fileBytes(handle: FileHandle, size: number): TarBytes {
  return {
    size,
    async read(position, length) {
      const data = Buffer.alloc(length);
      const { bytesRead } = await handle.read(data, 0, length, position);
      return data.subarray(0, bytesRead);
    },
  };
}

/** The decompressed content of a seekable zstd file whose frames are known (from its seek table, or a walk). */
export function seekableBytes(file: string, frames: readonly ZstdFrame[]): ArchiveBytes {
  const last = frames.at(-1);
  return {
    size: last ? last.contentOffset + last.contentSize : 0,
    async read(position, length) {
      const parts: Buffer[] = [];
      for await (const part of readFrames(file, frames, position, position + length)) parts.push(part);
      return Buffer.concat(parts);
    },
    stream: (start, end, what) =>
      Readable.from(guarded(readFrames(file, frames, start, end), what), { objectMode: false }),
  };
}

function tarFile(file: string, size: number): ArchiveBytes {
  return {
    size,
    async read(position, length) {
      const handle = await open(file, 'r');
      try {
        return await fileBytes(handle, size).read(position, length);
      } finally {
        await handle.close();
      }
    },
    stream: (start, end) => createReadStream(file, { start, end: end - 1, highWaterMark: 1024 * 1024 }),
  };
}

const damaged = (file: string, at: number) =>
  new OciError(OciErrorCode.layoutInvalid, `${file} is damaged or truncated at byte ${at}`, OciExitCode.io);

/** A corrupt frame met while reading `what` (a member or a blob) is that content's digest failing. */
function corruptAs(what: string, err: unknown): unknown {
  if (!(err instanceof CorruptFrame)) return err;
  return new OciError(OciErrorCode.digestMismatch, `digest mismatch for ${what}: ${err.message}`, OciExitCode.failed, {
    cause: err,
  });
}

async function* guarded(chunks: AsyncIterable<Buffer>, what: string): AsyncGenerator<Buffer> {
  try {
    yield* chunks;
  } catch (err) {
    throw corruptAs(what, err);
  }
}

/**
 * The tar stream of a `.tar.zst`: its frames from the seek table. A file whose frames walk cleanly to the end with no
 * table was compressed by something else (`tar --zstd -cf`), and reading it in place would mean decompressing it
 * whole for every read: it is refused with what to do instead.
 */
async function seekableArchive(file: string, handle: FileHandle, size: number): Promise<ArchiveBytes> {
  const table = await readSeekTable(handle, size);
  if (table.kind === 'damaged') throw damaged(file, table.at);
  if (table.kind === 'frames') return seekableBytes(file, table.frames);
  const walk = await walkZstdFrames(handle, size);
  if (walk.stop === 'torn') throw damaged(file, walk.end);
  throw new OciError(
    OciErrorCode.layoutInvalid,
    `${file} is a .tar.zst without a seek table, so it cannot be read in place: write it with 'lumen bundle create --out X.tar.zst', or 'zstd -d' it to a .tar`,
    OciExitCode.io,
  );
}

export class LayoutArchive implements BlobSource {
  /** The archive file. */
  readonly dir: string;
  private readonly members: Map<string, Member>;
  private readonly bytes: ArchiveBytes;

  private constructor(file: string, members: Map<string, Member>, bytes: ArchiveBytes) {
    this.dir = file;
    this.members = members;
    this.bytes = bytes;
  }

  /**
   * Indexes the archive; OCI_LAYOUT_INVALID when it is not a whole tar (or seekable `.tar.zst` of one) with an
   * `oci-layout` member.
   */
  static async open(file: string): Promise<LayoutArchive> {
    let handle: FileHandle;
    try {
      handle = await open(file, 'r');
    } catch (err) {
      throw new OciError(
        OciErrorCode.io,
        `cannot open ${file}: ${(err as NodeJS.ErrnoException).code}`,
        OciExitCode.io,
        {
          cause: err,
        },
      );
    }
    let bytes: ArchiveBytes;
    let index: TarIndex;
    try {
      const { size } = await handle.stat();
      const magic = await fileBytes(handle, size).read(0, 4);
      const compressed = magic.length === 4 && magic.readUInt32LE(0) === zstdMagic;
      bytes = compressed ? await seekableArchive(file, handle, size) : tarFile(file, size);
      index = await indexTar(compressed ? bytes : fileBytes(handle, size));
    } catch (err) {
      if (err instanceof CorruptFrame) throw damaged(file, err.frame.offset);
      throw err;
    } finally {
      await handle.close();
    }
    if (index.stop === 'torn') throw damaged(file, index.end);
    if (!index.members.has('oci-layout')) {
      throw new OciError(
        OciErrorCode.layoutInvalid,
        `${file} is not an OCI image layout archive (no oci-layout member)`,
        OciExitCode.io,
      );
    }
    return new LayoutArchive(file, index.members, bytes);
  }

  /** A member's bytes (`index.json`, `lumen-bundle.json`), or undefined when absent. */
  async readMember(name: string): Promise<Buffer | undefined> {
    const m = this.members.get(name);
    if (!m) return undefined;
    try {
      return await this.bytes.read(m.offset, m.size);
    } catch (err) {
      throw corruptAs(`${name} in ${this.dir}`, err);
    }
  }

  private blob(digest: string): Member {
    const m = this.members.get(`blobs/sha256/${digestHex(digest)}`);
    if (!m) {
      throw new OciError(OciErrorCode.layoutInvalid, `blob ${digest} missing from ${this.dir}`, OciExitCode.failed);
    }
    return m;
  }

  async blobSize(digest: string): Promise<number | undefined> {
    return this.members.get(`blobs/sha256/${digestHex(digest)}`)?.size;
  }

  async checkBlob(digest: string, size?: number): Promise<BlobCheck> {
    return checkBlobOf(this, digest, size);
  }

  async readBlob(digest: string): Promise<Buffer> {
    const m = this.blob(digest);
    let data: Buffer;
    try {
      data = await this.bytes.read(m.offset, m.size);
    } catch (err) {
      throw corruptAs(digest, err);
    }
    if (digestOf(data) !== digest) {
      throw new OciError(OciErrorCode.digestMismatch, `blob ${digest} in ${this.dir} is corrupt`, OciExitCode.failed);
    }
    return data;
  }

  openBlob(digest: string, start = 0, end?: number): Readable {
    const m = this.blob(digest);
    return this.bytes.stream(m.offset + start, m.offset + (end ?? m.size - 1) + 1, digest);
  }
}

/** The whole regular-file members of a tar file, where the last whole member ends, and why the walk stopped. */
export interface TarIndex {
  members: Map<string, Member>;
  /** Offset just after the last whole member (where an interrupted writer continues). */
  end: number;
  /** `end`: the end-of-archive blocks; `eof`: the file ends between members; `torn`: a damaged header or a cut member. */
  stop: 'end' | 'eof' | 'torn';
}

/**
 * Walks a tar file's headers without reading the members (PAX `path` and GNU long names applied), as `bundle`
 * readers index an archive and as the archive writer finds where an interrupted run stopped.
 */
export async function indexTar(bytes: TarBytes): Promise<TarIndex> {
  const members = new Map<string, Member>();
  const length = bytes.size;
  let nextName: string | undefined;
  let off = 0;
  while (off + 512 <= length) {
    const block = await bytes.read(off, 512);
    const header = parseTarHeader(block);
    if (header.kind === 'end') return { members, end: off, stop: 'end' };
    if (header.kind === 'invalid') return { members, end: off, stop: 'torn' };
    const body = off + 512;
    const next = body + Math.ceil(header.size / 512) * 512;
    if (next > length) return { members, end: off, stop: 'torn' };
    if (header.flag === 'x' || header.flag === 'L') {
      const extension = await bytes.read(body, header.size);
      nextName = header.flag === 'x' ? paxPath(extension) : extension.toString('utf8').replace(/\0.*$/s, '');
    } else {
      if (header.flag === '0' || header.flag === '' || header.flag === '7') {
        members.set(normalizeTarPath(nextName ?? header.name), { offset: body, size: header.size });
      }
      nextName = undefined;
    }
    off = next;
  }
  return { members, end: off, stop: off === length ? 'eof' : 'torn' };
}
