/**
 * Every write to the inventory: the lock (for `lumen inventory lock`) and a build image's release
 * (for `lumen release bump`). Edits go through the YAML document model so that the comments
 * recording where each digest came from survive, and every file is replaced atomically and durably
 * (`writeFileAtomicSync`: temp file, fsync, rename, fsync of the directory) so that neither an
 * interrupted write nor a power loss leaves half a lock behind.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DIGEST_PATTERN, TAG_PATTERN, writeFileAtomicSync } from '@lumen/oci';
import { type Document, isMap, parseDocument } from 'yaml';
import { InventoryError, InventoryErrorCode } from './errors.ts';
import { type CarryInventory, DEFAULT_INVENTORY_DIR, INVENTORY_FILES, type Inventory, loadInventory } from './load.ts';

/** How the inventory's YAML is written: long lines kept, flow sequences as the formatter (Biome) writes them. */
const yamlStyle = { lineWidth: 0, flowCollectionPadding: false } as const;

/** A digest to record for one entry: the version it pins and the digest, plus an optional provenance comment. */
export interface LockUpdate {
  /** Image tag, or chart/file version, the digest belongs to. */
  version: string;
  /** `sha256:<64 hex>`. */
  digest: string;
  /** Written as a comment above the entry (e.g. `resolved from docker.io on 2026-11-26`). */
  comment?: string;
}

/** A digest to record for an image: a {@link LockUpdate}, plus the upstream index digest when `digest` is of the filtered index. */
export interface ImageLockUpdate extends LockUpdate {
  /** `sha256:<64 hex>` of the upstream index, when `digest` is that index filtered to the inventory's platforms. */
  upstreamDigest?: string;
}

/** Entries to write into `lock.yaml`, by section and name. */
export interface LockUpdates {
  images?: Record<string, ImageLockUpdate>;
  charts?: Record<string, LockUpdate>;
  files?: Record<string, LockUpdate>;
}

/** Options of {@link updateLock}. */
export interface UpdateLockOptions {
  /** Remove lock entries whose name is no longer in the inventory. Default false (they make the load fail, loudly). */
  prune?: boolean;
}

/**
 * Records digests in `lock.yaml`, keeping every other entry and every comment; an entry recorded
 * again keeps its place, its style and the comment above it, and gets exactly the fields of the
 * update (a stale `upstreamDigest` goes). New entries are appended in the order given. Names must
 * exist in the inventory and versions must be the inventory's current ones (a digest for another
 * version would be ignored on load, so writing it is refused). The result is re-validated by loading it.
 *
 * @param dir inventory directory; default the repository's `inventory/`.
 * @returns the inventory as loaded after the write.
 * @throws {InventoryError} `INVENTORY_INVALID` for a bad digest or version mismatch, `INVENTORY_UNKNOWN_*` for a name not in the inventory.
 */
export function updateLock(
  updates: LockUpdates,
  dir: string = DEFAULT_INVENTORY_DIR,
  options: UpdateLockOptions = {},
): CarryInventory {
  const root = resolve(dir);
  // The lock needs no site settings: a carry-only inventory is locked too.
  const current = loadInventory(root, { ignoreStaleLock: options.prune === true, carry: true });
  const lockPath = join(root, INVENTORY_FILES.lock);
  const doc = readLock(lockPath);

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
      const upstreamDigest = section === 'images' ? (update as ImageLockUpdate).upstreamDigest : undefined;
      for (const digest of upstreamDigest === undefined ? [update.digest] : [update.digest, upstreamDigest]) {
        if (!DIGEST_PATTERN.test(digest))
          throw new InventoryError(
            InventoryErrorCode.invalid,
            `cannot lock ${section}.${name}: '${digest}' is not sha256:<64 hex>`,
          );
      }
      setEntry(doc, section, name, section === 'images' ? 'tag' : 'version', { ...update, upstreamDigest });
    }
    if (options.prune) {
      const map = doc.get(section, true);
      if (isMap(map))
        for (const item of [...map.items]) {
          const key = keyOf(item);
          if (!known[section].has(key)) map.delete(key);
        }
    }
  }
  writeFileAtomicSync(lockPath, doc.toString(yamlStyle));
  return loadInventory(root, { carry: true });
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
  const lockDoc = readLock(lockPath);
  setEntry(lockDoc, 'images', name, 'tag', release);
  // Lock first: if the second write fails, the old tag in images.yaml simply reads as unlocked
  // (the lock entry's tag differs), never as the old tag pinned to the new digest.
  writeFileAtomicSync(lockPath, lockDoc.toString(yamlStyle));
  writeFileAtomicSync(imagesPath, imagesDoc.toString(yamlStyle));
  return loadInventory(root);
}

/** What a lock.yaml that does not exist yet starts as: it says what its digests are. */
const newLock = `# Pinned digests, written by 'lumen inventory lock' (images: the index digest lumen carries,
# i.e. the upstream index filtered to the inventory's platforms, with upstreamDigest next to it;
# charts: SHA-256 of the chart archive; files: SHA-256 of the bytes).
lockVersion: 1
`;

function readLock(path: string): Document {
  if (existsSync(path)) return parseDocument(readFileSync(path, 'utf8'));
  const doc = parseDocument(newLock);
  // Block maps: entries written into a parsed `images: {}` would all stay on one flow-style line.
  for (const section of ['images', 'charts', 'files'] as const) doc.set(section, doc.createNode({}));
  return doc;
}

/** Sets one entry's fields to exactly those of `update`, keeping the entry's node (its place, style and comments). */
function setEntry(
  doc: Document,
  section: 'images' | 'charts' | 'files',
  name: string,
  versionKey: 'tag' | 'version',
  update: ImageLockUpdate,
): void {
  if (!isMap(doc.get(section, true))) doc.set(section, doc.createNode({}));
  const map = doc.get(section, true);
  if (!isMap(map)) return;
  const fields: Record<string, string> = { [versionKey]: update.version, digest: update.digest };
  if (update.upstreamDigest !== undefined) fields.upstreamDigest = update.upstreamDigest;
  const existing = map.get(name, true);
  if (isMap(existing)) {
    for (const item of [...existing.items]) {
      const key = keyOf(item);
      if (!(key in fields)) existing.delete(key);
    }
    for (const [key, value] of Object.entries(fields)) existing.set(key, value);
  } else {
    map.set(name, doc.createNode(fields));
  }
  if (update.comment) {
    const pair = map.items.find((p) => keyOf(p) === name);
    const key = pair?.key as { commentBefore?: string | null } | undefined;
    if (key && typeof key === 'object') key.commentBefore = ` ${update.comment.replaceAll('\n', ' ')}`;
  }
}

/** The name of a map entry, whatever node holds it. */
function keyOf(pair: { key: unknown }): string {
  return String((pair.key as { value?: unknown })?.value ?? pair.key);
}
