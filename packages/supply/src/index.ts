/**
 * @lumen/supply — what crosses the gap: bundles (create, verify, push), cosign-compatible
 * signatures, the inventory lock and the K3s mirror config. The `lumen` commands over it are in
 * packages/cli/src/commands/supply/.
 */
export type { BundleChart, BundleFile, BundleImage, BundleManifest } from './bundle.ts';
export { bundleManifestFile, readBundle } from './bundle.ts';
export { archiveBundle, archivePartial, archiveStage, archiveStarted, isArchivePath } from './bundle-archive.ts';
export type { CreateOptions, CreateResult } from './bundle-create.ts';
export { createBundle } from './bundle-create.ts';
export type { PushedItem, PushOptions, PushResult, PushTree } from './bundle-push.ts';
export { pushBundle, pushLayout } from './bundle-push.ts';
export type { VerifyBundleResult } from './bundle-verify.ts';
export { verifyBundle } from './bundle-verify.ts';
export { chartArtifact, chartTag, readChartYaml } from './charts.ts';
export type { DownloadOptions } from './download.ts';
export { download, fetchFile } from './download.ts';
export type { SupplyErrorCodeValue } from './errors.ts';
export { SupplyError, SupplyErrorCode } from './errors.ts';
export {
  decryptPrivateKey,
  encryptPrivateKey,
  generateKeys,
  loadPrivateKey,
  loadPublicKey,
  privateKeyFromPem,
} from './keys.ts';
export type { LockChange, LockOptions } from './lock.ts';
export { lockInventory } from './lock.ts';
export type { RegistriesYaml } from './mirror-config.ts';
export { mirrorConfig, mirrorConfigYaml } from './mirror-config.ts';
export { formatBytes, Progress } from './progress.ts';
export type { RegistryAccess } from './registries.ts';
export { registryPool } from './registries.ts';
export type { ServedBundle, ServeOptions } from './serve.ts';
export { serveBundle } from './serve.ts';
export type { SignResult, VerifyResult } from './signature.ts';
export {
  imageDigest,
  mergeSignatures,
  referrersTag,
  signatureAnnotation,
  signaturePayload,
  signatureTag,
  signImage,
  verifyImage,
} from './signature.ts';
