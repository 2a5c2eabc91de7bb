/**
 * @lumen/image — lumen-api's OCI image built without a daemon, reproducibly, from pinned inputs (docs/image.md).
 * The `lumen image` commands over it are in packages/cli/src/commands/image.ts.
 */
export type { BuildOptions, BuildResult, BuiltLayer, BuiltPlatform } from './build.ts';
export { buildImage, layerMediaType, sbomTag } from './build.ts';
export type { DebPackage } from './deb.ts';
export { parseControl, readDeb } from './deb.ts';
export type { ImageErrorCodeValue } from './errors.ts';
export { ImageError, ImageErrorCode } from './errors.ts';
export type { InputSource, Inputs } from './inputs.ts';
export { imageInputFiles, openInputs } from './inputs.ts';
export { nodeModulesEntries, productionClosure } from './node-modules.ts';
export type { PushImageOptions, PushImageResult } from './push.ts';
export { pushImage } from './push.ts';
export type { BaseContents, BaseInput } from './rootfs.ts';
export { baseContents, runtimeUser } from './rootfs.ts';
export { cycloneDx, sbomMediaType } from './sbom.ts';
export type { Finding, ScanVerdict, Severity } from './scan.ts';
export { describeFinding, judgeScan, parseTrivyReport, severities } from './scan.ts';
export type { TrivySbomScan } from './trivy.ts';
export { findTrivy, hasTrivyDatabase, scanSbomWithTrivy, trivyDbAirgapPath } from './trivy.ts';
