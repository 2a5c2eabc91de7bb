import { createHash } from 'node:crypto';
import { join } from 'node:path';
import {
  type CarryInventory,
  INVENTORY_FILES,
  InventoryError,
  type LockUpdate,
  type LockUpdates,
  updateLock,
} from '@lumen/inventory';
import { digestOf, parseReference } from '@lumen/oci';
import { fetchClassicChart, fetchOciChart } from './charts.ts';
import { mapLimit } from './concurrency.ts';
import { download } from './download.ts';
import { SupplyError, SupplyErrorCode } from './errors.ts';
import { resolveImage } from './images.ts';
import type { Progress } from './progress.ts';
import { type RegistryAccess, registryPool } from './registries.ts';

export interface LockOptions {
  access: RegistryAccess;
  progress: Progress;
  concurrency?: number;
  signal?: AbortSignal;
}

export interface LockChange {
  kind: 'image' | 'chart' | 'file';
  name: string;
  version: string;
  digest: string;
  /** The digest locked before, when it changed. */
  previous?: string;
}

/**
 * Resolves every upstream image tag (filtered to the inventory's platforms, see
 * `resolveImage`), chart archive and file of the inventory to a digest and writes `lock.yaml`
 * atomically through @lumen/inventory's `updateLock` (comments and layout kept, entries of names
 * no longer in the inventory removed). Entries of `build` images are kept as they are (`lumen
 * release bump` owns them). Nothing is written unless everything resolved.
 */
export async function lockInventory(inv: CarryInventory, options: LockOptions): Promise<LockChange[]> {
  const { progress, signal } = options;
  const concurrency = options.concurrency ?? 4;
  const pool = registryPool(options.access);
  const updates: Required<LockUpdates> = { images: {}, charts: {}, files: {} };
  const changes: LockChange[] = [];
  const upstream = inv.images.filter((i) => i.origin === 'upstream' && i.source);
  await mapLimit(upstream, concurrency, async (img) => {
    const ref = parseReference(img.source as string);
    const r = await resolveImage(pool(ref.registry), ref.repository, img.tag, img.platforms, signal);
    const previous = inv.lock.images[img.name]?.digest;
    updates.images[img.name] = {
      version: img.tag,
      digest: r.digest,
      ...(r.upstreamDigest !== r.digest ? { upstreamDigest: r.upstreamDigest } : {}),
    };
    changes.push({
      kind: 'image',
      name: img.name,
      version: img.tag,
      digest: r.digest,
      ...(previous && previous !== r.digest ? { previous } : {}),
    });
    progress.done(`image ${img.name}`, `${img.tag} ${r.digest}`);
  });
  await mapLimit(inv.charts, concurrency, async (chart) => {
    let digest: string;
    if (chart.repo.startsWith('oci://')) {
      const ref = parseReference(chart.repo.slice('oci://'.length));
      digest = (await fetchOciChart(pool(ref.registry), ref.repository, chart.chart, chart.version, signal))
        .archiveDigest;
    } else {
      digest = digestOf(await fetchClassicChart(chart.repo, chart.chart, chart.version, signal ? { signal } : {}));
    }
    const previous = inv.lock.charts[chart.name]?.digest;
    updates.charts[chart.name] = { version: chart.version, digest };
    changes.push({
      kind: 'chart',
      name: chart.name,
      version: chart.version,
      digest,
      ...(previous && previous !== digest ? { previous } : {}),
    });
    progress.done(`chart ${chart.name}`, `${chart.version} ${digest}`);
  });
  // Files built here (`path`) change with every commit; the bundle that carries them pins them instead.
  await mapLimit(
    inv.files.filter((f) => f.url !== undefined),
    concurrency,
    async (file) => {
      const res = await download(file.url as string, signal ? { signal } : {});
      const hash = createHash('sha256');
      for await (const c of res.body) hash.update(c as Buffer);
      const digest = `sha256:${hash.digest('hex')}`;
      const previous = inv.lock.files[file.name]?.digest;
      updates.files[file.name] = { version: file.version, digest };
      changes.push({
        kind: 'file',
        name: file.name,
        version: file.version,
        digest,
        ...(previous && previous !== digest ? { previous } : {}),
      });
      progress.done(`file ${file.name}`, `${file.version} ${digest}`);
    },
  );
  const lockPath = join(inv.dir, INVENTORY_FILES.lock);
  try {
    updateLock(
      { images: byName(updates.images), charts: byName(updates.charts), files: byName(updates.files) },
      inv.dir,
      { prune: true },
    );
  } catch (err) {
    if (err instanceof InventoryError) throw err;
    throw new SupplyError(SupplyErrorCode.io, `cannot write ${lockPath}: ${(err as Error).message}`);
  }
  return changes.sort((a, b) => `${a.kind}${a.name}`.localeCompare(`${b.kind}${b.name}`));
}

/** Entries in name order, so that new entries land in the lock in an order that does not depend on network timing. */
function byName<T extends LockUpdate>(entries: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(entries).sort(([a], [b]) => a.localeCompare(b)));
}
