/**
 * `lumen image build`: lumen-api's OCI image, assembled without any daemon (docs/image.md). Three layers that change
 * at different rates — the base (Debian packages + Node.js, per platform), the production node_modules, the
 * application (sources and migrations) — each a deterministic tar (see @lumen/oci writeTar) compressed by pure-
 * JavaScript zlib (pako, the same bytes on every CPU), so the same inputs give the same digests on any machine.
 * Written into an OCI image layout as an index of one manifest per platform.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CarryInventory } from '@lumen/inventory';
import {
  type Descriptor,
  digestOf,
  formatPlatform,
  type ImageIndex,
  type ImageManifest,
  Layout,
  MediaType,
  type Platform,
  parsePlatform,
  refNameAnnotation,
  type TarInput,
  writeTar,
} from '@lumen/oci';
import type { Progress } from '@lumen/supply';
import { gzip } from 'pako';
import { ImageError, ImageErrorCode } from './errors.ts';
import { type InputSource, imageInputFiles, openInputs } from './inputs.ts';
import { LayerCache } from './layer-cache.ts';
import { nodeModulesEntries } from './node-modules.ts';
import { type BaseContents, baseContents, runtimeUser } from './rootfs.ts';
import { cycloneDx, sbomMediaType } from './sbom.ts';
import { treeEntries } from './tree.ts';

export const layerMediaType = 'application/vnd.oci.image.layer.v1.tar+gzip';

/** Where the application lives in the image, and how it starts (the `start` script of apps/api/package.json). */
const appRoot = 'app';
const workspace = 'apps/api';
const appDirs = ['src', 'migrations'];

export interface BuildOptions {
  inventory: CarryInventory;
  /** The repository root: package-lock.json, the installed node_modules, apps/api. */
  root: string;
  /** OCI image layout to write (created when missing). */
  out: string;
  source: InputSource;
  /** Keep compressed layers here and reuse them (docs/image.md); none: compress every layer. */
  layerCache?: string;
  /** Default linux/amd64 and linux/arm64. */
  platforms?: string[];
  /** Ref name in the layout. Default: the inventory's lumen-api tag. */
  tag?: string;
  /** Seconds since the epoch for every timestamp (SOURCE_DATE_EPOCH); default 0. */
  created?: number;
  /** `org.opencontainers.image.source` and `.revision`. */
  sourceUrl?: string;
  revision?: string;
  progress?: Progress;
}

export interface BuiltLayer {
  name: 'base' | 'node_modules' | 'app';
  digest: string;
  diffId: string;
  size: number;
  uncompressedSize: number;
}

export interface BuiltPlatform {
  platform: string;
  manifest: string;
  config: string;
  /** The base alone as an image (its manifest digest): `org.opencontainers.image.base.digest`. */
  base: string;
  layers: BuiltLayer[];
}

export interface BuildResult {
  tag: string;
  /** Digest of the index (what `lumen release bump` pins). */
  digest: string;
  /** The CycloneDX SBOM artifact: its manifest digest and cosign's tag for it. */
  sbom: { tag: string; digest: string };
  platforms: BuiltPlatform[];
  /** What went into the image, for the SBOM. */
  contents: {
    debs: Record<string, Array<{ name: string; version: string; architecture: string; source: string }>>;
    node: string;
    npm: Array<{ name: string; version: string; location: string }>;
  };
}

const goArch: Record<string, string> = { amd64: 'amd64', arm64: 'arm64' };

/** Adds every missing parent directory of the entries (root-owned, 0755). */
function withParents(entries: TarInput[]): TarInput[] {
  const have = new Set(entries.map((e) => e.path));
  const out = [...entries];
  for (const e of entries) {
    const parts = e.path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (!have.has(dir)) {
        have.add(dir);
        out.push({ path: dir, type: 'dir', mode: 0o755 });
      }
    }
  }
  return out;
}

function appEntries(root: string): TarInput[] {
  const entries: TarInput[] = [
    {
      path: `${appRoot}/${workspace}/package.json`,
      type: 'file',
      mode: 0o644,
      data: readFileSync(join(root, workspace, 'package.json')),
    },
  ];
  for (const dir of appDirs) {
    entries.push({ path: `${appRoot}/${workspace}/${dir}`, type: 'dir', mode: 0o755 });
    treeEntries(join(root, workspace, dir), `${appRoot}/${workspace}/${dir}`, entries);
  }
  return entries;
}

interface Layer extends BuiltLayer {
  blob: Uint8Array;
}

async function layer(
  name: BuiltLayer['name'],
  entries: TarInput[],
  mtime: number,
  cache: LayerCache | undefined,
  progress: Progress | undefined,
): Promise<Layer> {
  const tar = writeTar(withParents(entries), mtime);
  const diffId = digestOf(tar);
  let blob: Uint8Array | undefined = await cache?.get(diffId);
  if (blob === undefined) {
    const started = Date.now();
    // pako: zlib's deflate in JavaScript, level 6 (zlib's default); the output does not depend on the CPU, unlike
    // Node's bundled zlib, whose hash function follows the CPU's CRC instructions.
    blob = gzip(tar, { level: 6 });
    await cache?.put(diffId, blob);
    progress?.note(`image: ${name} layer compressed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  return { name, blob, digest: digestOf(blob), diffId, size: blob.length, uncompressedSize: tar.length };
}

const json = (value: unknown) => Buffer.from(JSON.stringify(value));

function imageConfig(platform: Platform, layers: Layer[], created: string, labels: Record<string, string>) {
  return {
    created,
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    config: {
      User: `${runtimeUser}:${runtimeUser}`,
      ExposedPorts: { '8080/tcp': {}, '9090/tcp': {} },
      Env: [
        'PATH=/usr/local/bin:/usr/bin:/bin',
        'NODE_ENV=production',
        'LUMEN_DATA_DIR=/data',
        'SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt',
      ],
      // node itself, never npm (npm does not forward SIGTERM, which would break the graceful drain).
      Entrypoint: ['node'],
      Cmd: ['--import', './src/telemetry.ts', 'src/main.ts'],
      WorkingDir: `/${appRoot}/${workspace}`,
      Volumes: { '/data': {} },
      Labels: labels,
    },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    history: layers.map((l) => ({ created, created_by: `lumen image build: ${l.name}` })),
  };
}

async function writeImage(
  layout: Layout,
  platform: Platform,
  layers: Layer[],
  created: string,
  annotations: Record<string, string>,
): Promise<{ manifest: Descriptor; config: string }> {
  for (const l of layers) await layout.writeBlob(l.blob);
  const config = await layout.writeBlob(json(imageConfig(platform, layers, created, annotations)));
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, ...config },
    layers: layers.map((l) => ({ mediaType: layerMediaType, digest: l.digest, size: l.size })),
    annotations,
  };
  const written = await layout.writeBlob(json(manifest));
  return { manifest: { mediaType: MediaType.ociManifest, ...written, platform }, config: config.digest };
}

/** Builds the image for every platform into `options.out`; the index is tagged `tag` in the layout. */
export async function buildImage(options: BuildOptions): Promise<BuildResult> {
  const { inventory, root, progress } = options;
  const platforms = (options.platforms ?? ['linux/amd64', 'linux/arm64']).map(parsePlatform);
  for (const p of platforms) {
    if (p.os !== 'linux' || !goArch[p.architecture]) {
      throw new ImageError(
        ImageErrorCode.usage,
        `platform ${formatPlatform(p)} is not built (linux/amd64, linux/arm64)`,
      );
    }
  }
  const image = inventory.images.find((i) => i.name === 'lumen-api');
  const tag = options.tag ?? image?.tag;
  if (!tag) throw new ImageError(ImageErrorCode.usage, 'no --tag given and the inventory has no lumen-api image');
  const epoch = options.created ?? 0;
  const created = new Date(epoch * 1000).toISOString().replace('.000Z', 'Z');
  // Every platform's inputs are named and locked, and every base can be assembled, before any layer is compressed.
  const { read } = await openInputs(options.source, progress);
  const inputFiles = platforms.map((p) => imageInputFiles(inventory, 'lumen-api', formatPlatform(p)));
  const bases: BaseContents[] = [];
  for (const files of inputFiles) {
    const inputs = [];
    for (const f of files) inputs.push(await read(f));
    bases.push(await baseContents(inputs));
  }

  const npm = nodeModulesEntries(root, workspace, appRoot);
  const cache = options.layerCache ? await LayerCache.open(options.layerCache) : undefined;
  const shared = [
    await layer('node_modules', npm.entries, epoch, cache, progress),
    await layer('app', appEntries(root), epoch, cache, progress),
  ];
  progress?.note(`image: node_modules ${npm.packages.length} packages, app layer ${shared[1]?.digest}`);

  const layout = await Layout.open(options.out, { create: true });
  const common: Record<string, string> = {
    'org.opencontainers.image.created': created,
    'org.opencontainers.image.title': 'lumen-api',
    'org.opencontainers.image.version': tag,
    'org.opencontainers.image.base.name': 'lumen-base (Debian 12 packages + Node.js from npm)',
    ...(options.sourceUrl ? { 'org.opencontainers.image.source': options.sourceUrl } : {}),
    ...(options.revision ? { 'org.opencontainers.image.revision': options.revision } : {}),
  };
  const built: BuiltPlatform[] = [];
  const descriptors: Descriptor[] = [];
  const debs: BuildResult['contents']['debs'] = {};
  let nodeVersion = '';
  for (const [i, platform] of platforms.entries()) {
    const name = formatPlatform(platform);
    const contents = bases[i] as BaseContents;
    debs[name] = contents.debs;
    nodeVersion = contents.node.version;
    const base = await layer('base', contents.entries, epoch, cache, progress);
    const baseImage = await writeImage(layout, platform, [base], created, {
      'org.opencontainers.image.created': created,
      'org.opencontainers.image.title': 'lumen-base',
    });
    const annotations = { ...common, 'org.opencontainers.image.base.digest': baseImage.manifest.digest };
    const { manifest, config } = await writeImage(layout, platform, [base, ...shared], created, annotations);
    descriptors.push(manifest);
    built.push({
      platform: name,
      manifest: manifest.digest,
      config,
      base: baseImage.manifest.digest,
      layers: [base, ...shared].map(({ blob: _, ...l }) => l),
    });
    progress?.note(`image: ${name} ${manifest.digest} (base ${base.digest}, ${base.size} bytes)`);
  }
  const index: ImageIndex = {
    schemaVersion: 2,
    mediaType: MediaType.ociIndex,
    manifests: descriptors,
    annotations: common,
  };
  const indexBlob = await layout.writeBlob(json(index));
  const indexDescriptor: Descriptor = { mediaType: MediaType.ociIndex, ...indexBlob };
  const result: BuildResult = {
    tag,
    digest: indexBlob.digest,
    sbom: { tag: sbomTag(indexBlob.digest), digest: '' },
    platforms: built,
    contents: { debs, node: nodeVersion, npm: npm.packages },
  };
  const sbom = await writeSbom(layout, indexDescriptor, json(cycloneDx(result, created)), created);
  result.sbom.digest = sbom.digest;
  await layout.setRefs([
    { ...indexDescriptor, annotations: { [refNameAnnotation]: tag } },
    { mediaType: MediaType.ociManifest, ...sbom, annotations: { [refNameAnnotation]: result.sbom.tag } },
  ]);
  return result;
}

/** cosign's tag for an image's SBOM: `sha256-<hex>.sbom`. */
export const sbomTag = (digest: string) => `${digest.replace(':', '-')}.sbom`;

/** The empty config of OCI 1.1 artifacts (`{}`). */
const emptyConfig = Buffer.from('{}');

/** Writes the SBOM as an OCI artifact whose subject is the image index; returns its manifest's digest and size. */
async function writeSbom(
  layout: Layout,
  subject: Descriptor,
  document: Buffer,
  created: string,
): Promise<{ digest: string; size: number }> {
  const layer = await layout.writeBlob(document);
  const config = await layout.writeBlob(emptyConfig);
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    artifactType: sbomMediaType,
    config: { mediaType: 'application/vnd.oci.empty.v1+json', ...config },
    layers: [
      { mediaType: sbomMediaType, ...layer, annotations: { 'org.opencontainers.image.title': 'sbom.cdx.json' } },
    ],
    subject,
    annotations: { 'org.opencontainers.image.created': created },
  };
  return layout.writeBlob(json(manifest));
}
