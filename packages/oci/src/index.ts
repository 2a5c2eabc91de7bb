export type { Challenge, Credentials } from './auth.ts';
export { basicAuthorization, credentialsFromAuthFiles, fetchToken, parseChallenge } from './auth.ts';
export { DigestCheck, digestHex, digestOf, isDigest } from './digest.ts';
export type { OciErrorCodeValue } from './errors.ts';
export { OciError, OciErrorCode } from './errors.ts';
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
export type { Reference } from './reference.ts';
export { apiHost, dockerHub, formatReference, manifestReference, parseReference } from './reference.ts';
export type { Answer, FetchedManifest, RegistryOptions, UploadResult } from './registry.ts';
export { httpRequest, Registry } from './registry.ts';
