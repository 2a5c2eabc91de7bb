/**
 * Writes to the inventory: the lock (for `lumen inventory lock`) and a build image's release
 * (for `lumen release bump`). Edits go through the YAML document model so that the comments
 * recording where each digest came from survive, and every file is replaced atomically
 * (temp file + rename) so an interrupted write never leaves half a lock behind.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Document, isMap, parseDocument } from 'yaml';
import { InventoryError, InventoryErrorCode } from './errors.ts';
import { DEFAULT_INVENTORY_DIR, INVENTORY_FILES, type Inventory, loadInventory } from './load.ts';
import { DIGEST_PATTERN, TAG_PATTERN } from './reference.ts';

/** A digest to record for one entry: the version it pins and the digest, plus an optional provenance comment. */
export interface LockUpdate {
  /** Image tag, or chart/file version, the digest belongs to. */
  version: string;
  /** `sha256:<64 hex>`. */
  digest: string;
  /** Written as a comment above the entry (e.g. `resolved from docker.io on 2026-11-26`). */
  comment?: string;
}

/** Entries to write into `lock.yaml`, by section and name. */
export interface LockUpdates {
  images?: Record<string, LockUpdate>;
  charts?: Record<string, LockUpdate>;
  files?: Record<string, LockUpdate>;
}

/** Options of {@link updateLock}. */
export interface UpdateLockOptions {
  /** Remove lock entries whose name is no longer in the inventory. Default false (they make the load fail, loudly). */
  prune?: boolean;
}

/**
 * Records digests in `lock.yaml`, keeping every other entry and every comment. Names must exist in
 * the inventory and versions must be the inventory's current ones (a digest for another version
 * would be ignored on load, so writing it is refused). The result is re-validated by loading it.
 *
 * @param dir inventory directory; default the repository's `inventory/`.
 * @returns the inventory as loaded after the write.
 * @throws {InventoryError} `INVENTORY_INVALID` for a bad digest or version mismatch, `INVENTORY_UNKNOWN_*` for a name not in the inventory.
 */
export function updateLock(
  updates: LockUpdates,
  dir: string = DEFAULT_INVENTORY_DIR,
  options: UpdateLockOptions = {},
): Inventory {
  const root = resolve(dir);
  const current = loadInventory(root, { ignoreStaleLock: options.prune === true });
  const lockPath = join(root, INVENTORY_FILES.lock);
  const doc = existsSync(lockPath)
    ? parseDocument(readFileSync(lockPath, 'utf8'))
    : parseDocument('lockVersion: 1\nimages: {}\ncharts: {}\nfiles: {}\n');

  const known = {
    images: new Map(current.images.map((i) => [i.name, i.tag])),
    charts: new Map(current.charts.map((c) => [c.name, c.version])),
    files: new Map(current.files.map((f) => [f.name, f.version])),
  };
  const unknownCode = {
    images: InventoryErrorCode.unknownImage,
    charts: InventoryErrorCode.unknownChart,
    files: InventoryErrorCode.unknownFile,
  } as const;
  for (const section of ['images', 'charts', 'files'] as const) {
    for (const [name, update] of Object.entries(updates[section] ?? {})) {
      const wanted = known[section].get(name);
      if (wanted === undefined)
        throw new InventoryError(
          unknownCode[section],
          `cannot lock ${section}.${name}: not in ${INVENTORY_FILES[section]}`,
        );
      if (update.version !== wanted)
        throw new InventoryError(
          InventoryErrorCode.invalid,
          `cannot lock ${section}.${name} for ${update.version}: the inventory says ${wanted}`,
        );
      if (!DIGEST_PATTERN.test(update.digest))
        throw new InventoryError(
          InventoryErrorCode.invalid,
          `cannot lock ${section}.${name}: '${update.digest}' is not sha256:<64 hex>`,
        );
      setEntry(doc, section, name, section === 'images' ? 'tag' : 'version', update);
    }
    if (options.prune) {
      const map = doc.get(section, true);
      if (isMap(map))
        for (const item of [...map.items]) {
          const key = String((item.key as { value?: unknown })?.value ?? item.key);
          if (!known[section].has(key)) map.delete(key);
        }
    }
  }
  writeAtomic(lockPath, doc.toString({ lineWidth: 0 }));
  return loadInventory(root);
}

/**
 * Releases a new build of a `build` image (lumen-api): writes its tag into `images.yaml` and its digest
 * into `lock.yaml`, comments preserved. This is what `lumen release bump` calls after CI pushed the image.
 *
 * @returns the inventory as loaded after the write.
 * @throws {InventoryError} `INVENTORY_UNKNOWN_IMAGE`; `INVENTORY_INVALID` for an upstream image, a bad tag or digest.
 */
export function releaseBuildImage(name: string, release: LockUpdate, dir: string = DEFAULT_INVENTORY_DIR): Inventory {
  const root = resolve(dir);
  const inv = loadInventory(root);
  const img = inv.images.find((i) => i.name === name);
  if (!img)
    throw new InventoryError(InventoryErrorCode.unknownImage, `no image named '${name}' in ${INVENTORY_FILES.images}`);
  if (img.origin !== 'build')
    throw new InventoryError(
      InventoryErrorCode.invalid,
      `image '${name}' comes from upstream: change its tag in ${INVENTORY_FILES.images} and run 'lumen inventory lock'`,
    );
  if (!TAG_PATTERN.test(release.version) || release.version === 'latest')
    throw new InventoryError(InventoryErrorCode.invalid, `'${release.version}' is not a valid release tag`);
  if (!DIGEST_PATTERN.test(release.digest))
    throw new InventoryError(InventoryErrorCode.invalid, `'${release.digest}' is not sha256:<64 hex>`);

  const imagesPath = join(root, INVENTORY_FILES.images);
  const imagesDoc = parseDocument(readFileSync(imagesPath, 'utf8'));
  const index = inv.images.indexOf(img);
  imagesDoc.setIn(['images', index, 'tag'], release.version);
  const lockPath = join(root, INVENTORY_FILES.lock);
  const lockDoc = existsSync(lockPath)
    ? parseDocument(readFileSync(lockPath, 'utf8'))
    : parseDocument('lockVersion: 1\nimages: {}\ncharts: {}\nfiles: {}\n');
  setEntry(lockDoc, 'images', name, 'tag', release);
  // Lock first: if the second write fails, the old tag in images.yaml simply reads as unlocked
  // (the lock entry's tag differs), never as the old tag pinned to the new digest.
  writeAtomic(lockPath, lockDoc.toString({ lineWidth: 0 }));
  writeAtomic(imagesPath, imagesDoc.toString({ lineWidth: 0 }));
  return loadInventory(root);
}

function setEntry(
  doc: Document,
  section: 'images' | 'charts' | 'files',
  name: string,
  versionKey: 'tag' | 'version',
  update: LockUpdate,
): void {
  if (!isMap(doc.get(section, true))) doc.set(section, doc.createNode({}));
  const map = doc.get(section, true);
  if (!isMap(map)) return;
  const existing = map.get(name, true);
  if (isMap(existing)) {
    existing.set(versionKey, update.version);
    existing.set('digest', update.digest);
  } else {
    map.set(name, doc.createNode({ [versionKey]: update.version, digest: update.digest }));
  }
  if (update.comment) {
    const pair = map.items.find((p) => String((p.key as { value?: unknown })?.value ?? p.key) === name);
    const key = pair?.key as { commentBefore?: string | null } | undefined;
    if (key && typeof key === 'object') key.commentBefore = ` ${update.comment.replaceAll('\n', ' ')}`;
  }
}

function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(tmp, text, { flag: 'wx' });
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}
