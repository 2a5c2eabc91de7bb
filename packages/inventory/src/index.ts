/**
 * @lumen/inventory — the single source of truth: every image, chart and file of the platform with
 * its upstream source, version and pinned digest, plus the site settings. See docs/inventory.md.
 */

export { DIGEST_PATTERN, formatReference, looksLikeHost, TAG_PATTERN } from '@lumen/oci';
export { INVENTORY_EXIT_CODE, InventoryError, InventoryErrorCode, type InventoryErrorCodeValue } from './errors.ts';
export {
  type CarryInventory,
  type Chart,
  DEFAULT_INVENTORY_DIR,
  displayPath,
  formatPath,
  type Image,
  INVENTORY_FILES,
  type Inventory,
  type InventoryFile,
  type LoadOptions,
  loadInventory,
  unlockedEntries,
} from './load.ts';
export {
  type ChartRepository,
  type ChartSource,
  chartDigest,
  chartOciRef,
  chartRef,
  chartRepository,
  findChart,
  findFile,
  findImage,
  findImageByReference,
  type ImageReference,
  imageRef,
  mirrorHosts,
  parseReference,
  resolveAirgapPath,
  type UpstreamRefOptions,
  upstreamRef,
} from './resolve.ts';
export type {
  Action,
  CarrySite,
  ChartLock,
  ChartSpec,
  FileLock,
  FileSpec,
  ImageLock,
  ImageSpec,
  Lock,
  Site,
  SiteNode,
  Waiver,
} from './schema.ts';
export {
  type ImageLockUpdate,
  type LockUpdate,
  type LockUpdates,
  releaseBuildImage,
  type UpdateLockOptions,
  updateLock,
} from './write.ts';
