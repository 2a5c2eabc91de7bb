/**
 * `lumen release bump`: CI pushed and signed a new lumen-api image; pin its digest (and tag) in the
 * inventory and re-render deploy/, so the commit CI pushes to Gitea changes exactly the Rollout's
 * image and Argo CD starts the canary.
 */
import {
  DEFAULT_INVENTORY_DIR,
  DIGEST_PATTERN,
  findImage,
  loadInventory,
  releaseBuildImage,
  TAG_PATTERN,
} from '@lumen/inventory';
import { writeDeploy } from './deploy-dir.ts';
import { PlatformError, PlatformErrorCode } from './errors.ts';
import { render } from './render.ts';

/** Options of {@link bumpRelease}. */
export interface BumpOptions {
  /** `sha256:<64 hex>` of the pushed image (its multi-arch index). */
  digest: string;
  /** New tag; default: keep the current tag of the image. */
  tag?: string;
  /** Inventory image to bump. Default `lumen-api`. */
  image?: string;
  /** Inventory directory. Default: the repository's `inventory/`. */
  inventoryDir?: string;
  /** Where to render. Default `deploy/` next to the inventory. */
  outDir: string;
}

/**
 * Pins the digest and re-renders.
 *
 * @throws {PlatformError} `PLATFORM_USAGE` for a malformed digest or tag; InventoryError for an unknown image.
 */
export function bumpRelease(options: BumpOptions): { tag: string; digest: string; written: number; removed: number } {
  if (!DIGEST_PATTERN.test(options.digest))
    throw new PlatformError(PlatformErrorCode.usage, `--digest '${options.digest}' is not sha256:<64 lowercase hex>`);
  if (options.tag !== undefined && (!TAG_PATTERN.test(options.tag) || options.tag === 'latest'))
    throw new PlatformError(
      PlatformErrorCode.usage,
      `--tag '${options.tag}' is not a valid release tag (and never latest)`,
    );
  const dir = options.inventoryDir ?? DEFAULT_INVENTORY_DIR;
  const name = options.image ?? 'lumen-api';
  const tag = options.tag ?? findImage(loadInventory(dir), name).tag;
  const inv = releaseBuildImage(name, { version: tag, digest: options.digest }, dir);
  const { written, removed } = writeDeploy(options.outDir, render(inv).files);
  return { tag, digest: options.digest, written, removed };
}
