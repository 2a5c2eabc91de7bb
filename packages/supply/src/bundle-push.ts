import {
  type BlobSource,
  type Descriptor,
  isIndexType,
  parseManifest,
  type Registry,
  referencedDescriptors,
} from '@lumen/oci';
import { readBundle } from './bundle.ts';
import { limiter, mapLimit } from './concurrency.ts';
import { SupplyError, SupplyErrorCode } from './errors.ts';
import { formatBytes, type Progress } from './progress.ts';
import { mergeSignatures } from './signature.ts';

/** Options of {@link pushBundle}. */
export interface PushOptions {
  registry: Registry;
  /** Parallel blob uploads. Default 8. */
  concurrency?: number;
  progress: Progress;
  signal?: AbortSignal;
}

/** Per image or chart: what the push did. */
export interface PushedItem {
  kind: PushTree['kind'];
  name: string;
  reference: string;
  uploaded: number;
  mounted: number;
  skipped: number;
  bytes: number;
  resumes: number;
  signature?: string;
}

export interface PushResult {
  items: PushedItem[];
  uploaded: number;
  mounted: number;
  skipped: number;
  bytes: number;
  resumes: number;
}

/**
 * Pushes a bundle into a registry: images (with their signatures) into their airgap paths,
 * charts as Helm OCI artifacts under the charts path. Blobs the repository has are skipped
 * (HEAD); a blob pushed to another repository in the same run is mounted, not re-sent;
 * the rest is uploaded in chunks that resume after an interruption. Manifests go last, children
 * before their index, so the registry never holds a tag whose content is incomplete.
 */
export async function pushBundle(dir: string, options: PushOptions): Promise<PushResult> {
  const { layout, manifest } = await readBundle(dir);
  // Fail before the first byte leaves when a blob is missing or truncated (a stat each; the
  // registry checks every digest on upload anyway): no half-pushed bundle.
  const broken: string[] = [];
  await mapLimit(Object.entries(manifest.blobs), 16, async ([digest, size]) => {
    const have = await layout.blobSize(digest);
    if (have !== size)
      broken.push(`blob ${digest} ${have === undefined ? 'is missing' : `has ${have} bytes, expected ${size}`}`);
  });
  if (broken.length > 0) {
    throw new SupplyError(
      SupplyErrorCode.bundleCorrupt,
      `bundle ${dir} is incomplete: ${broken.sort()[0]}${broken.length > 1 ? ` (and ${broken.length - 1} more)` : ''}; run 'lumen bundle verify'`,
      { issues: broken },
    );
  }
  return pushLayout(
    layout,
    [
      ...manifest.images.map((img) => ({
        kind: 'image' as const,
        name: img.name,
        repository: img.repository,
        digest: img.digest,
        tag: img.tag,
        ...(img.signature ? { signature: img.signature } : {}),
      })),
      ...manifest.charts.map((c) => ({
        kind: 'chart' as const,
        name: c.name,
        repository: c.repository,
        digest: c.digest,
        tag: c.tag,
      })),
    ],
    options,
  );
}

/** One tree of an OCI layout to push: a manifest (or index) with everything it references, tagged. */
export interface PushTree {
  kind: 'image' | 'chart' | 'artifact';
  name: string;
  repository: string;
  digest: string;
  tag: string;
  /** A cosign signature manifest of the layout, merged with the ones the registry holds. */
  signature?: { digest: string; tag: string };
}

/**
 * Pushes trees of an OCI layout into a registry (what {@link pushBundle} does for a bundle's images and charts):
 * blobs the repository has are skipped, blobs pushed to another repository in the same run are mounted, the rest
 * uploaded in resumable chunks; manifests last, children before their index.
 */
export async function pushLayout(layout: BlobSource, trees: PushTree[], options: PushOptions): Promise<PushResult> {
  const { registry, progress, signal } = options;
  const concurrency = options.concurrency ?? 8;
  const transfer = limiter(concurrency);
  await registry.ping(signal);
  const sig = signal ? { signal } : {};
  /** A repository known to hold each blob (found by HEAD or uploaded there), to mount from. */
  const holderOf = new Map<string, string>();
  /** The repositories of these trees whose images or charts use each blob: where an earlier push left it. */
  const usersOf = await blobUsers(layout, trees);
  /**
   * Work on one digest is serialized (different digests run in parallel): the second image that
   * needs a shared layer then finds it in the first one's repository and mounts it.
   */
  const chains = new Map<string, Promise<unknown>>();

  const ensureBlob = (item: PushedItem, repo: string, d: Descriptor): Promise<void> => {
    const run = (chains.get(d.digest) ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => ensureBlobNow(item, repo, d));
    chains.set(d.digest, run);
    return run;
  };

  const ensureBlobNow = async (item: PushedItem, repo: string, d: Descriptor): Promise<void> => {
    if (await registry.hasBlob(repo, d.digest, signal)) {
      holderOf.set(d.digest, repo);
      item.skipped++;
      return;
    }
    if (!holderOf.has(d.digest)) {
      // Not seen in this run yet (another image's tree may not have got there): ask the other repositories
      // that use it, so a layer an earlier push left there is mounted, not uploaded again.
      for (const other of usersOf.get(d.digest) ?? []) {
        if (other !== repo && (await registry.hasBlob(other, d.digest, signal))) {
          holderOf.set(d.digest, other);
          break;
        }
      }
    }
    const holder = holderOf.get(d.digest);
    if (holder !== undefined && holder !== repo && (await registry.mountBlob(repo, d.digest, holder, signal))) {
      item.mounted++;
      return;
    }
    progress.expect(d.size);
    const r = await transfer(() =>
      registry.uploadBlob(repo, d.digest, d.size, (start, end) => layout.openBlob(d.digest, start, end), {
        ...sig,
        onProgress: (n) => progress.advance(`${item.kind} ${item.name}`, n),
      }),
    );
    holderOf.set(d.digest, repo);
    item.resumes += r.resumes;
    item.uploaded++;
    item.bytes += d.size;
  };

  /** Pushes the blobs and child manifests of a manifest, then the manifest itself under `ref`. */
  const pushTree = async (item: PushedItem, repo: string, digest: string, ref: string): Promise<void> => {
    // A manifest the registry already serves under this reference with this digest is complete there (registries
    // refuse a manifest whose blobs they lack): an unchanged push then costs one HEAD per image, not one per blob.
    if ((await registry.headManifest(repo, ref, signal))?.digest === digest) {
      item.skipped++;
      return;
    }
    const bytes = await layout.readBlob(digest);
    const { mediaType, manifest: m } = parseManifest(bytes);
    if (isIndexType(mediaType)) {
      // Platforms in parallel (the transfer limiter bounds the uploads); the index waits for all.
      await Promise.all(referencedDescriptors(m).map((child) => pushTree(item, repo, child.digest, child.digest)));
    } else {
      const blobs = referencedDescriptors(m).filter((d) => !d.urls?.length);
      // The shared limiter bounds uploads; HEADs and mounts of one manifest all go at once.
      await mapLimit(blobs, blobs.length, (d) => ensureBlob(item, repo, d));
    }
    // It was not there (the HEAD above): PUT it, children before their index.
    await registry.putManifest(repo, ref, bytes, mediaType, signal);
  };

  /**
   * The bundle's signature manifest joins the signatures the registry already holds for the image
   * (made in the airgap with the site key, say) instead of replacing them.
   */
  const pushSignatures = async (item: PushedItem, repo: string, digest: string, tag: string): Promise<void> => {
    const bytes = await layout.readBlob(digest);
    const blobs = referencedDescriptors(parseManifest(bytes).manifest);
    await mapLimit(blobs, blobs.length, (d) => ensureBlob(item, repo, d));
    await mergeSignatures(registry, repo, tag, bytes, signal);
  };

  const work = trees.map((tree) => async (): Promise<PushedItem> => {
    const item = newItem(tree.kind, tree.name, `${registry.host}/${tree.repository}:${tree.tag}@${tree.digest}`);
    progress.start(`${tree.kind} ${tree.name}`);
    await pushTree(item, tree.repository, tree.digest, tree.tag);
    if (tree.signature) {
      await pushSignatures(item, tree.repository, tree.signature.digest, tree.signature.tag);
      item.signature = tree.signature.tag;
    }
    progress.done(`${tree.kind} ${tree.name}`, summary(item));
    return item;
  });
  const items = await mapLimit(work, concurrency, (fn) => fn());
  const total = (k: 'uploaded' | 'mounted' | 'skipped' | 'bytes' | 'resumes') => items.reduce((n, i) => n + i[k], 0);
  return {
    items,
    uploaded: total('uploaded'),
    mounted: total('mounted'),
    skipped: total('skipped'),
    bytes: total('bytes'),
    resumes: total('resumes'),
  };
}

/** For every blob of the trees, the repositories whose trees reference it. */
async function blobUsers(layout: BlobSource, trees: PushTree[]): Promise<Map<string, Set<string>>> {
  const users = new Map<string, Set<string>>();
  const walk = async (digest: string, repo: string): Promise<void> => {
    const { manifest: m } = parseManifest(await layout.readBlob(digest));
    for (const d of referencedDescriptors(m)) {
      const set = users.get(d.digest) ?? new Set<string>();
      set.add(repo);
      users.set(d.digest, set);
      if ('manifests' in m) await walk(d.digest, repo);
    }
  };
  for (const tree of trees) await walk(tree.digest, tree.repository);
  return users;
}

function newItem(kind: PushTree['kind'], name: string, reference: string): PushedItem {
  return { kind, name, reference, uploaded: 0, mounted: 0, skipped: 0, bytes: 0, resumes: 0 };
}

function summary(i: PushedItem): string {
  return `${i.uploaded} uploaded (${formatBytes(i.bytes)}), ${i.mounted} mounted, ${i.skipped} already there${i.resumes ? `, ${i.resumes} resumed` : ''}`;
}
