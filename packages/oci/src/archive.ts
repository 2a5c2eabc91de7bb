/**
 * An OCI image layout inside one uncompressed tar file (`bundle.tar`), read in place: the archive is indexed once by
 * walking its headers (no member is read), and blobs are then read, hashed and streamed by offset, as from the
 * layout directory — nothing is extracted. Members may be named with or without `./` (lumen's archives, or
 * `tar -cf b.tar -C bundle .`).
 */
import { createReadStream } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { digestHex, digestOf } from './digest.ts';
import { OciError, OciErrorCode, OciExitCode } from './errors.ts';
import { type BlobCheck, type BlobSource, checkBlobOf } from './layout.ts';
import { normalizeTarPath, parseTarHeader, paxPath } from './tar.ts';

interface Member {
  offset: number;
  size: number;
}

export class LayoutArchive implements BlobSource {
  /** The archive file. */
  readonly dir: string;
  private readonly members: Map<string, Member>;

  private constructor(file: string, members: Map<string, Member>) {
    this.dir = file;
    this.members = members;
  }

  /** Indexes the archive; OCI_LAYOUT_INVALID when it is not a whole tar with an `oci-layout` member. */
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
    let index: TarIndex;
    try {
      index = await indexTar(handle);
    } finally {
      await handle.close();
    }
    if (index.stop === 'torn') {
      throw new OciError(
        OciErrorCode.layoutInvalid,
        `${file} is damaged or truncated at byte ${index.end}`,
        OciExitCode.io,
      );
    }
    if (!index.members.has('oci-layout')) {
      throw new OciError(
        OciErrorCode.layoutInvalid,
        `${file} is not an OCI image layout archive (no oci-layout member)`,
        OciExitCode.io,
      );
    }
    return new LayoutArchive(file, index.members);
  }

  /** A member's bytes (`index.json`, `lumen-bundle.json`), or undefined when absent. */
  async readMember(name: string): Promise<Buffer | undefined> {
    const m = this.members.get(name);
    if (!m) return undefined;
    const handle = await open(this.dir, 'r');
    try {
      const data = Buffer.alloc(m.size);
      await handle.read(data, 0, m.size, m.offset);
      return data;
    } finally {
      await handle.close();
    }
  }

  private blob(digest: string): Member | undefined {
    return this.members.get(`blobs/sha256/${digestHex(digest)}`);
  }

  async blobSize(digest: string): Promise<number | undefined> {
    return this.blob(digest)?.size;
  }

  async checkBlob(digest: string, size?: number): Promise<BlobCheck> {
    return checkBlobOf(this, digest, size);
  }

  async readBlob(digest: string): Promise<Buffer> {
    const m = this.blob(digest);
    if (!m) {
      throw new OciError(OciErrorCode.layoutInvalid, `blob ${digest} missing from ${this.dir}`, OciExitCode.failed);
    }
    const data = (await this.readMember(`blobs/sha256/${digestHex(digest)}`)) as Buffer;
    if (digestOf(data) !== digest) {
      throw new OciError(OciErrorCode.digestMismatch, `blob ${digest} in ${this.dir} is corrupt`, OciExitCode.failed);
    }
    return data;
  }

  openBlob(digest: string, start = 0, end?: number): Readable {
    const m = this.blob(digest);
    if (!m)
      throw new OciError(OciErrorCode.layoutInvalid, `blob ${digest} missing from ${this.dir}`, OciExitCode.failed);
    const last = m.offset + (end ?? m.size - 1);
    return createReadStream(this.dir, { start: m.offset + start, end: last, highWaterMark: 1024 * 1024 });
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
export async function indexTar(handle: FileHandle): Promise<TarIndex> {
  const members = new Map<string, Member>();
  const { size: length } = await handle.stat();
  const block = Buffer.alloc(512);
  let nextName: string | undefined;
  let off = 0;
  while (off + 512 <= length) {
    await handle.read(block, 0, 512, off);
    const header = parseTarHeader(block);
    if (header.kind === 'end') return { members, end: off, stop: 'end' };
    if (header.kind === 'invalid') return { members, end: off, stop: 'torn' };
    const body = off + 512;
    const next = body + Math.ceil(header.size / 512) * 512;
    if (next > length) return { members, end: off, stop: 'torn' };
    if (header.flag === 'x' || header.flag === 'L') {
      const extension = Buffer.alloc(header.size);
      await handle.read(extension, 0, header.size, body);
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
