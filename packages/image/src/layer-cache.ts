/**
 * Compressed layers kept between builds, in the cache directory of the fetched inputs: a layer's gzip blob under
 * its digest (`blobs/sha256/<hex>`, as in an OCI layout) and `layers/<diff ID hex>` naming the blob that
 * uncompresses to that tar. A hit is re-checked before use (the blob re-hashes to its digest and gunzips to the
 * diff ID), so a corrupt cache costs a recompression, never a wrong layer. Writes are atomic (@lumen/oci
 * writeFileAtomic), so concurrent builds sharing the cache never see half a blob. Compression is deterministic,
 * so a hit gives the bytes a fresh compression would.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { digestHex, digestOf, isDigest, writeFileAtomic } from '@lumen/oci';

export class LayerCache {
  private readonly dir: string;

  private constructor(dir: string) {
    this.dir = dir;
  }

  static async open(dir: string): Promise<LayerCache> {
    await mkdir(join(dir, 'layers'), { recursive: true });
    await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
    return new LayerCache(dir);
  }

  /** The compressed blob of the tar with this diff ID, when cached and intact. */
  async get(diffId: string): Promise<Buffer | undefined> {
    const digest = (await readFile(this.mapPath(diffId), 'utf8').catch(() => '')).trim();
    if (!isDigest(digest)) return undefined;
    const blob = await readFile(join(this.dir, 'blobs', 'sha256', digestHex(digest))).catch(() => undefined);
    if (blob === undefined || digestOf(blob) !== digest) return undefined;
    try {
      return digestOf(gunzipSync(blob)) === diffId ? blob : undefined;
    } catch {
      return undefined;
    }
  }

  async put(diffId: string, blob: Uint8Array): Promise<void> {
    const digest = digestOf(blob);
    await writeFileAtomic(join(this.dir, 'blobs', 'sha256', digestHex(digest)), blob);
    await writeFileAtomic(this.mapPath(diffId), `${digest}\n`);
  }

  private mapPath(diffId: string): string {
    return join(this.dir, 'layers', digestHex(diffId));
  }
}
