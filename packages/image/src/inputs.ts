/**
 * The pinned inputs of an image's base: the inventory's files marked `image: <name>` (docs/inventory.md), for one
 * platform (files without a platform serve every one). Their bytes come from a bundle that carries them (the
 * airgap) or from a cache directory, filled from each file's URL on first use (the connected zone) — in both
 * cases checked against the digest in lock.yaml.
 */
import type { CarryInventory, InventoryFile } from '@lumen/inventory';
import { type BlobSource, Layout } from '@lumen/oci';
import { fetchFile, type Progress, readBundle } from '@lumen/supply';
import { ImageError, ImageErrorCode } from './errors.ts';
import type { BaseInput } from './rootfs.ts';

/** Where the inputs' bytes come from. */
export type InputSource = { bundle: string } | { cache: string };

function kindOf(file: InventoryFile): BaseInput['kind'] {
  const where = file.url ?? file.path ?? '';
  if (where.endsWith('.deb')) return 'deb';
  if (/\/node-linux-[a-z0-9]+(-[^/]*)?\.tgz$/.test(where)) return 'node';
  throw new ImageError(
    ImageErrorCode.inputInvalid,
    `file ${file.name} is an input of an image but neither a Debian package (.deb) nor a node-linux-<arch> npm tarball`,
  );
}

/** The inventory files that are inputs of `image` for `platform`. */
export function imageInputFiles(inv: CarryInventory, image: string, platform: string): InventoryFile[] {
  const files = inv.files.filter((f) => f.image === image && (f.platform === undefined || f.platform === platform));
  if (!files.some((f) => kindOf(f) === 'node')) {
    throw new ImageError(
      ImageErrorCode.inputMissing,
      `the inventory has no Node.js input of image ${image} for ${platform} (files.yaml: a node-linux-<arch> tarball with image: ${image}, platform: ${platform})`,
    );
  }
  for (const f of files) {
    if (!f.digest) {
      throw new ImageError(
        ImageErrorCode.inputMissing,
        `file ${f.name} has no digest in lock.yaml (run 'lumen inventory lock')`,
      );
    }
  }
  return files;
}

/** Where each input's verified bytes come from: `read` gives them, `fetch` only makes sure the cache holds them. */
export interface Inputs {
  read(file: InventoryFile): Promise<BaseInput>;
  fetch(file: InventoryFile): Promise<void>;
}

/** Opens the source once. Every input is hashed once per use: a read verifies as it reads. */
export async function openInputs(source: InputSource, progress?: Progress): Promise<Inputs> {
  const cache = 'cache' in source ? await Layout.open(source.cache, { create: true }) : undefined;
  const layout: BlobSource = cache ?? (await readBundle((source as { bundle: string }).bundle)).layout;
  const input = (file: InventoryFile, bytes: Buffer): BaseInput => ({
    name: file.name,
    version: file.version,
    kind: kindOf(file),
    bytes,
  });
  const fetch = async (file: InventoryFile): Promise<void> => {
    if (cache === undefined) return;
    if (!file.url) throw new ImageError(ImageErrorCode.inputMissing, `file ${file.name} has no url to fetch it from`);
    const item = `input ${file.name}`;
    progress?.start(item);
    const { size, fetched } = await fetchFile(
      cache,
      { name: file.name, url: file.url, digest: file.digest as string },
      { onBytes: (n) => progress?.advance(item, n) },
    );
    progress?.done(item, `${file.version} ${fetched ? `fetched, ${size} bytes` : 'cached'}`);
  };
  const read = async (file: InventoryFile): Promise<BaseInput> => {
    const digest = file.digest as string;
    if ((await layout.blobSize(digest)) === undefined && cache === undefined) {
      throw new ImageError(
        ImageErrorCode.inputMissing,
        `the bundle ${layout.dir} does not carry file ${file.name} (${digest})`,
      );
    }
    // A cached copy that is missing or damaged is fetched again; a bundle's damaged copy fails (readBlob says so).
    const held = cache ? await layout.readBlob(digest).catch(() => undefined) : await layout.readBlob(digest);
    if (held) return input(file, held);
    await fetch(file);
    return input(file, await layout.readBlob(digest));
  };
  return { read, fetch };
}
