/**
 * An OCI image layout inside one uncompressed tar file (`bundle.tar`), read in place: the archive is indexed once by
 * walking its headers (no member is read), and blobs are then read, hashed and streamed by offset, as from the
 * layout directory — nothing is extracted. Members may be named with or without `./` (lumen's archives, or
 * `tar -cf b.tar -C bundle .`).
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DigestCheck, digestHex, digestOf } from './digest.ts';
import { OciError, OciErrorCode, OciExitCode } from './errors.ts';
import type { BlobCheck, BlobSource } from './layout.ts';
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

  /** Indexes the archive; OCI_LAYOUT_INVALID when it is not a tar with an `oci-layout` member. */
  static async open(file: string): Promise<LayoutArchive> {
    const members = new Map<string, Member>();
    let handle: Awaited<ReturnType<typeof open>>;
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
    try {
      const { size: length } = await handle.stat();
      const block = Buffer.alloc(512);
      let nextName: string | undefined;
      for (let off = 0; off + 512 <= length; ) {
        await handle.read(block, 0, 512, off);
        const header = parseTarHeader(block);
        if (header.kind === 'end') break;
        if (header.kind === 'invalid') {
          throw new OciError(
            OciErrorCode.layoutInvalid,
            `${file}: a damaged tar header at byte ${off}`,
            OciExitCode.io,
          );
        }
        const body = off + 512;
        if (body + header.size > length) {
          throw new OciError(OciErrorCode.layoutInvalid, `${file} is truncated inside ${header.name}`, OciExitCode.io);
        }
        if (header.flag === 'x' || header.flag === 'L') {
          const extension = Buffer.alloc(header.size);
          await handle.read(extension, 0, header.size, body);
          nextName = header.flag === 'x' ? paxPath(extension) : extension.toString('utf8').replace(/\0.*$/s, '');
        } else if (header.flag === '0' || header.flag === '' || header.flag === '7') {
          members.set(normalizeTarPath(nextName ?? header.name), { offset: body, size: header.size });
          nextName = undefined;
        } else {
          nextName = undefined;
        }
        off = body + Math.ceil(header.size / 512) * 512;
      }
    } finally {
      await handle.close();
    }
    if (!members.has('oci-layout')) {
      throw new OciError(
        OciErrorCode.layoutInvalid,
        `${file} is not an OCI image layout archive (no oci-layout member)`,
        OciExitCode.io,
      );
    }
    return new LayoutArchive(file, members);
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
    const m = this.blob(digest);
    if (!m) return { state: 'missing' };
    if (size !== undefined && m.size !== size) return { state: 'corrupt', detail: `${m.size} bytes, expected ${size}` };
    try {
      await pipeline(this.openBlob(digest), new DigestCheck(digest, { exitCode: 1 }), async (source) => {
        for await (const _ of source) {
          // Consume: DigestCheck hashes as data passes.
        }
      });
      return { state: 'ok' };
    } catch (err) {
      if (err instanceof OciError && err.code === OciErrorCode.digestMismatch) {
        return { state: 'corrupt', detail: err.message.replace(/^digest mismatch for [^:]+: /, '') };
      }
      throw new OciError(OciErrorCode.io, `cannot read ${this.dir}: ${(err as Error).message}`, OciExitCode.io, {
        cause: err,
      });
    }
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
