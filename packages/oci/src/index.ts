export type { TarBytes, TarIndex } from './archive.ts';
export { fileBytes, indexTar, LayoutArchive, seekableBytes } from './archive.ts';
export { type AtomicWriteOptions, writeFileAtomic, writeFileAtomicSync } from './atomic-write.ts';
export type { Challenge, Credentials } from './auth.ts';
export { basicAuthorization, credentialsFromAuthFiles, fetchToken, parseChallenge } from './auth.ts';
export { DIGEST_PATTERN, DigestCheck, digestHex, digestOf, isDigest } from './digest.ts';
export type { OciErrorCodeValue, OciExitCodeValue } from './errors.ts';
export { causeOf, networkError, OciError, OciErrorCode, OciExitCode } from './errors.ts';
export type { BlobCheck, BlobSource } from './layout.ts';
export { Layout, refNameAnnotation } from './layout.ts';
export type { Descriptor, ImageIndex, ImageManifest, Manifest, Platform } from './manifest.ts';
export {
  filterIndex,
  formatPlatform,
  isIndexType,
  isManifestType,
  MediaType,
  manifestAccept,
  parseManifest,
  parsePlatform,
  referencedDescriptors,
  selectPlatforms,
} from './manifest.ts';
export type { Reference, ReferenceParts } from './reference.ts';
export {
  apiHost,
  chartReference,
  chartTag,
  dockerHub,
  formatReference,
  looksLikeHost,
  manifestReference,
  parseReference,
  parseReferenceParts,
  TAG_PATTERN,
} from './reference.ts';
export type { FetchedManifest, RegistryOptions } from './registry.ts';
export { Registry } from './registry.ts';
export type { RetryOptions, RetryPolicy } from './retry.ts';
export { backoffMs, isTransient, isTransientStatus, retry, retryDefaults } from './retry.ts';
export type { TarEntry, TarEntryType, TarHeader, TarInput } from './tar.ts';
export {
  normalizeTarPath,
  parseTarHeader,
  paxPath,
  readTar,
  tarEnd,
  tarFileHeader,
  tarPadding,
  writeTar,
} from './tar.ts';
export type { Answer } from './transport.ts';
export { httpRequest, trustCertificates } from './transport.ts';
export type { UploadResult } from './upload.ts';
export type { FrameWalk, SeekTableRead, WalkedFrame, ZstdFrame } from './zstd-seekable.ts';
export {
  CorruptFrame,
  contentFrames,
  readSeekTable,
  seekTable,
  walkZstdFrames,
} from './zstd-seekable.ts';
