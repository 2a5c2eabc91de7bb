import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import type { CarryInventory } from '@lumen/inventory';
import {
  chartReference,
  type Descriptor,
  formatPlatform,
  type ImageManifest,
  isIndexType,
  Layout,
  MediaType,
  OciError,
  OciErrorCode,
  parseManifest,
  parseReference,
  type Registry,
  referencedDescriptors,
  refNameAnnotation,
  retry,
} from '@lumen/oci';
import {
  Annotation,
  type BundleChart,
  type BundleFile,
  type BundleImage,
  type BundleManifest,
  bundleManifestFile,
} from './bundle.ts';
import { chartArtifact, fetchClassicChart, fetchOciChart } from './charts.ts';
import { limiter, mapLimit, once } from './concurrency.ts';
import { fetchFile } from './download.ts';
import { SupplyError, SupplyErrorCode } from './errors.ts';
import { resolveImage } from './images.ts';
import { formatBytes, type Progress } from './progress.ts';
import { type RegistryAccess, registryPool } from './registries.ts';
import { signatureTag } from './signature.ts';

/** Options of {@link createBundle}. */
export interface CreateOptions {
  /** Output directory (an OCI image layout; created if missing, resumed if present). */
  out: string;
  /** Platforms for every image instead of the inventory's; the lock check is then skipped. Default: the inventory's. */
  platforms?: string[];
  /** Parallel blob transfers (images are worked on as fast as transfers allow). Default 8. */
  concurrency?: number;
  access: RegistryAccess;
  progress: Progress;
  signal?: AbortSignal;
}

/** What a create run did. */
export interface CreateResult {
  images: number;
  charts: number;
  files: number;
  blobs: number;
  /** Blobs fetched in this run. */
  fetched: number;
  /** Blobs already in the bundle and re-verified (a resumed or repeated run). */
  reused: number;
  bytesFetched: number;
  bytesTotal: number;
  /** Blobs of earlier runs no longer referenced, removed. */
  pruned: number;
}

/**
 * Pulls every upstream image (the inventory's platforms), chart and file of a fully locked
 * inventory into an OCI image layout, verifying every digest and the lock. Resumable: blobs
 * already in the bundle are re-hashed and kept; a blob is written to a temporary file and renamed
 * under its digest only once proven; `index.json` and `lumen-bundle.json` are written last.
 */
export async function createBundle(inv: CarryInventory, options: CreateOptions): Promise<CreateResult> {
  const { progress, signal } = options;
  const concurrency = options.concurrency ?? 8;
  const transfer = limiter(concurrency);
  const pool = registryPool(options.access);
  const upstream = inv.images.filter((i) => i.origin === 'upstream' && i.source);

  // Phase 1, before anything is written: every upstream manifest resolves and matches the lock.
  // An unreachable registry or a moved tag fails here and leaves no bundle directory behind.
  const resolved = await mapLimit(upstream, concurrency, async (img) => {
    const ref = parseReference(img.source as string);
    const registry = pool(ref.registry);
    // --platform narrows images; an artifact has none and is carried whole.
    const narrowed = options.platforms !== undefined && !img.artifact;
    const platforms = narrowed ? (options.platforms as string[]) : img.platforms;
    const r = await resolveImage(registry, ref.repository, img.tag, platforms, signal);
    if (!narrowed && img.digest !== undefined && r.digest !== img.digest) {
      if (img.digest === r.upstreamDigest) {
        // The lock pins the full upstream index: carry all of it, so the pinned digest is what the
        // airgap registry serves (Distribution refuses an index whose manifests are absent).
        const { manifest } = parseManifest(r.upstreamBytes, r.mediaType);
        const all = referencedDescriptors(manifest).map((d) => (d.platform ? formatPlatform(d.platform) : 'unknown'));
        progress.note(
          `image ${img.name}: lock.yaml pins the full upstream index: carrying every platform (${all.join(', ')}); 'lumen inventory lock' pins the index filtered to ${platforms.join(', ')}`,
        );
        return { img, ref, registry, ...r, platforms: all, digest: r.upstreamDigest, bytes: r.upstreamBytes };
      }
      const upstream = img.upstreamDigest
        ? ` (upstream index ${r.upstreamDigest}, locked from ${img.upstreamDigest})`
        : '';
      throw new SupplyError(
        SupplyErrorCode.lockMismatch,
        `image ${img.name}: ${img.source}:${img.tag} now resolves to ${r.digest}${upstream}, lock.yaml pins ${img.digest} (the tag moved upstream: review and run 'lumen inventory lock')`,
      );
    }
    return { img, ref, registry, platforms, ...r };
  });

  const existed = await stat(options.out).then(
    () => true,
    () => false,
  );
  const layout = await Layout.open(options.out, { create: true });
  const result: CreateResult = {
    images: 0,
    charts: 0,
    files: 0,
    blobs: 0,
    fetched: 0,
    reused: 0,
    bytesFetched: 0,
    bytesTotal: 0,
    pruned: 0,
  };
  const blobs: Record<string, number> = {};
  /** Bytes fetched per image/chart, for its progress line (shared blobs count for the first). */
  const fetchedBy = new Map<string, number>();
  const fetchOnce = once<void>();

  /** Makes sure the bundle holds a verified blob, fetching it with `fetchIt` when missing or corrupt. */
  const ensureBlob = (item: string, desc: { digest: string; size: number }, fetchIt: () => Promise<Readable>) =>
    fetchOnce(desc.digest, async () => {
      blobs[desc.digest] = desc.size;
      result.bytesTotal += desc.size;
      progress.expect(desc.size);
      const have = await layout.checkBlob(desc.digest, desc.size);
      if (have.state === 'ok') {
        result.reused++;
        return;
      }
      if (have.state === 'corrupt')
        progress.note(`${item}: blob ${desc.digest} in the bundle is corrupt (${have.detail}): fetching again`);
      // A connection lost in mid-body fails the stream (the request itself was already retried
      // by the client): download the blob again, with the same policy, before giving up.
      const fetchAndWrite = async (): Promise<void> => {
        let got = 0;
        try {
          const source = await fetchIt();
          await layout.writeBlobStream(desc.digest, source, desc.size, (n) => {
            got += n;
            progress.advance(item, n);
          });
        } catch (err) {
          progress.advance(item, -got);
          throw err;
        }
      };
      await transfer(() =>
        retry(fetchAndWrite, {
          retries: options.access.retries,
          baseMs: options.access.retryBaseMs,
          signal,
          retryable: (err) => err instanceof OciError && err.code === OciErrorCode.unreachable,
        }),
      );
      result.fetched++;
      result.bytesFetched += desc.size;
      fetchedBy.set(item, (fetchedBy.get(item) ?? 0) + desc.size);
    });
  const putSmall = async (data: Buffer) => {
    const d = await layout.writeBlob(data);
    if (blobs[d.digest] === undefined) result.bytesTotal += d.size;
    blobs[d.digest] = d.size;
    return d;
  };

  const entries: Descriptor[] = [];
  const images: BundleImage[] = [];
  try {
    await mapLimit(resolved, concurrency, async (r) => {
      const { img, ref, registry } = r;
      const item = `image ${img.name}`;
      progress.start(item);
      await putSmall(r.bytes);
      const repo = ref.repository;
      const manifests: { bytes: Buffer; mediaType: string }[] = [];
      if (isIndexType(r.mediaType)) {
        const { manifest } = parseManifest(r.bytes, r.mediaType);
        const children = await mapLimit(referencedDescriptors(manifest), concurrency, (child) =>
          registry.getManifest(repo, child.digest, signal),
        );
        for (const m of children) {
          await putSmall(m.bytes);
          manifests.push(m);
        }
      } else {
        manifests.push({ bytes: r.bytes, mediaType: r.mediaType });
      }
      // Carry the cosign signature along when upstream has one for the digest lumen carries. It is looked up and
      // copied beside the image's blobs, not after them: one round trip less per image on the way to the end.
      const sigTag = signatureTag(r.digest);
      const copySignature = async () => {
        if (!(await registry.headManifest(repo, sigTag, signal))) return undefined;
        const m = await registry.getManifest(repo, sigTag, signal);
        await putSmall(m.bytes);
        await copyBlobsOf([m], registry, repo, item, ensureBlob, signal);
        return m;
      };
      // Both settle before an error is thrown, so no write is left running behind it.
      const [copied, signed] = await Promise.allSettled([
        copyBlobsOf(manifests, registry, repo, item, ensureBlob, signal),
        copySignature(),
      ]);
      if (copied.status === 'rejected') throw copied.reason;
      if (signed.status === 'rejected') throw signed.reason;
      const sig = signed.value;

      const entry: BundleImage = {
        name: img.name,
        source: img.source as string,
        repository: img.airgapPath,
        tag: img.tag,
        platforms: r.platforms,
        digest: r.digest,
        upstreamDigest: r.upstreamDigest,
        mediaType: r.mediaType,
      };
      if (sig) {
        entry.signature = { tag: sigTag, digest: sig.digest };
        entries.push(
          indexEntry(sig.mediaType, sig.digest, sig.bytes.length, `${img.airgapPath}:${sigTag}`, 'signature', img.name),
        );
      }
      entries.push(
        indexEntry(r.mediaType, r.digest, r.bytes.length, `${img.airgapPath}:${img.tag}`, 'image', img.name),
      );
      images.push(entry);
      result.images++;
      progress.done(
        item,
        `${r.digest} (${r.platforms.join(', ') || 'artifact'}), ${formatBytes(fetchedBy.get(item) ?? 0)} fetched${entry.signature ? ', signed' : ''}`,
      );
    });

    const charts: BundleChart[] = [];
    await mapLimit(inv.charts, concurrency, async (chart) => {
      const item = `chart ${chart.name}`;
      progress.start(item);
      let artifact: Awaited<ReturnType<typeof fetchOciChart>>;
      if (chart.repo.startsWith('oci://')) {
        const ref = parseReference(chart.repo.slice('oci://'.length));
        artifact = await fetchOciChart(pool(ref.registry), ref.repository, chart.chart, chart.version, signal);
      } else {
        const archive = await fetchClassicChart(chart.repo, chart.chart, chart.version, {
          ...(signal ? { signal } : {}),
        });
        artifact = chartArtifact(archive, { chart: chart.chart, version: chart.version });
      }
      if (chart.digest !== undefined && artifact.archiveDigest !== chart.digest) {
        throw new SupplyError(
          SupplyErrorCode.lockMismatch,
          `chart ${chart.name} ${chart.version}: archive hashes to ${artifact.archiveDigest}, lock.yaml pins ${chart.digest}`,
        );
      }
      await putSmall(artifact.config);
      await putSmall(artifact.archive);
      await putSmall(artifact.manifest);
      progress.advance(item, artifact.archive.length);
      result.bytesFetched += artifact.archive.length;
      const { repository, tag } = chartReference({
        // The reference's host is not recorded (push targets its own registry): only the path and tag are.
        registry: inv.site.registry ?? '',
        path: inv.site.chartsPath,
        chart: chart.chart,
        version: chart.version,
      });
      entries.push(
        indexEntry(
          MediaType.ociManifest,
          artifact.manifestDigest,
          artifact.manifest.length,
          `${repository}:${tag}`,
          'chart',
          chart.name,
        ),
      );
      charts.push({
        name: chart.name,
        chart: chart.chart,
        version: chart.version,
        repo: chart.repo,
        repository,
        tag,
        digest: artifact.manifestDigest,
        archiveDigest: artifact.archiveDigest,
      });
      result.charts++;
      progress.done(item, `${chart.version} ${artifact.archiveDigest}`);
    });

    const files: BundleFile[] = [];
    await mapLimit(inv.files, concurrency, async (file) => {
      const item = `file ${file.name}`;
      if (file.path !== undefined) {
        // Built here (lumen's own executables): pinned by this bundle, from the bytes on disk now.
        progress.start(item);
        const source = join(dirname(inv.dir), file.path);
        const { digest, size } = await hashFile(source, file.name);
        if ((await layout.checkBlob(digest)).state !== 'ok') {
          await layout.writeBlobStream(digest, createReadStream(source));
          result.fetched++;
          result.bytesFetched += size;
        } else {
          result.reused++;
        }
        blobs[digest] = size;
        result.bytesTotal += size;
        files.push({
          name: file.name,
          path: file.path,
          version: file.version,
          ...(file.platform ? { platform: file.platform } : {}),
          digest,
          size,
        });
        result.files++;
        progress.done(item, `${file.version} ${digest}`);
        return;
      }
      if (!file.digest) {
        throw new SupplyError(
          SupplyErrorCode.lockMismatch,
          `file ${file.name} has no digest in lock.yaml (run 'lumen inventory lock')`,
        );
      }
      progress.start(item);
      const { size, fetched } = await fetchFile(
        layout,
        { ...file, url: file.url as string, digest: file.digest },
        {
          ...(signal ? { signal } : {}),
          onBytes: (n) => progress.advance(item, n),
        },
      );
      if (fetched) {
        result.fetched++;
        result.bytesFetched += size;
      } else {
        result.reused++;
      }
      blobs[file.digest] = size;
      result.bytesTotal += size;
      files.push({
        name: file.name,
        url: file.url as string,
        version: file.version,
        ...(file.platform ? { platform: file.platform } : {}),
        digest: file.digest,
        size,
      });
      result.files++;
      progress.done(item, `${file.version} ${file.digest}`);
    });

    result.blobs = Object.keys(blobs).length;
    const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
    entries.sort((a, b) =>
      (a.annotations?.[refNameAnnotation] ?? '').localeCompare(b.annotations?.[refNameAnnotation] ?? ''),
    );
    await layout.writeIndex({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: entries });
    const manifest: BundleManifest = {
      bundleVersion: 1,
      created: new Date().toISOString(),
      images: images.sort(byName),
      charts: charts.sort(byName),
      files: files.sort(byName),
      blobs: Object.fromEntries(Object.entries(blobs).sort(([a], [b]) => a.localeCompare(b))),
    };
    await layout.atomicWrite(
      join(options.out, bundleManifestFile),
      Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`),
    );
    await rm(join(options.out, '.lumen-tmp'), { recursive: true, force: true });
    // Blobs of earlier runs that this bundle no longer references (an image upgraded, a platform
    // dropped) would only make the bundle heavier to carry across the gap.
    for (const digest of await layout.listBlobs()) {
      if (blobs[digest] === undefined) {
        await rm(layout.blobPath(digest), { force: true });
        result.pruned++;
      }
    }
    return result;
  } catch (err) {
    // Nothing half-written stays: blobs are whole by construction; a new directory with no blob goes.
    await rm(join(options.out, '.lumen-tmp'), { recursive: true, force: true });
    if (!existed && (await layout.listBlobs()).length === 0) await rm(options.out, { recursive: true, force: true });
    throw err;
  }
}

function indexEntry(
  mediaType: string,
  digest: string,
  size: number,
  refName: string,
  kind: string,
  name: string,
): Descriptor {
  return {
    mediaType,
    digest,
    size,
    annotations: { [refNameAnnotation]: refName, [Annotation.kind]: kind, [Annotation.name]: name },
  };
}

async function copyBlobsOf(
  manifests: { bytes: Buffer; mediaType: string }[],
  registry: Registry,
  repo: string,
  item: string,
  ensureBlob: (item: string, desc: { digest: string; size: number }, fetchIt: () => Promise<Readable>) => Promise<void>,
  signal: AbortSignal | undefined,
): Promise<void> {
  const descs = new Map<string, Descriptor>();
  for (const m of manifests) {
    const { manifest } = parseManifest(m.bytes, m.mediaType);
    for (const d of referencedDescriptors(manifest as ImageManifest)) {
      if (d.urls?.length) continue; // foreign layers (Windows) are not distributable
      descs.set(d.digest, d);
    }
  }
  await mapLimit([...descs.values()], descs.size, (d) =>
    ensureBlob(item, d, () => registry.fetchBlob(repo, d.digest, { size: d.size, ...(signal ? { signal } : {}) })),
  );
}

/** SHA-256 and size of a file this repository built; a missing one says how to build it. */
async function hashFile(path: string, name: string): Promise<{ digest: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  try {
    for await (const chunk of createReadStream(path)) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    throw new SupplyError(
      SupplyErrorCode.io,
      `file ${name}: ${path} ${missing ? "not found (build it first: 'npm run build:cli' for lumen's executables)" : `unreadable: ${(err as Error).message}`}`,
    );
  }
  return { digest: `sha256:${hash.digest('hex')}`, size };
}
